// The instrument (SPEC §9) in the browser, used as a person uses it: several seeds with their
// bands and the verdict's interval, a pinned baseline drawn beside the run with a table of
// differences, "What would fix this?" and the hysteresis picture.
//
// usage: node tests/e2e/instrument.test.mjs [distDir] [--only SUBSTRING]
// Screenshots go to tests/e2e/screenshots/instrument-*.png: look at them.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { runSuite } from './suite.mjs';
import { withApps, waitForVerdict, nextFrames, chartInk, assert, MIN_INK } from './browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = path.join(HERE, 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is. */
async function axe(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
  });
}

const tests = [];
const test = (name, fn, timeoutMs = 5 * 60_000) => tests.push({ name, fn, timeoutMs });
const withApp = (ctx, fn, options = {}) => withApps(ctx.browser, async (open) => fn(await open(ctx.url, options)));

/** Pixels of a chart's canvas whose colour is near `rgb` but lighter (a translucent band). */
function bandPixels(id, rgb) {
  return (page) =>
    page.evaluate(
      ({ id, rgb }) => {
        const canvas = document.querySelector(`figure[data-chart="${id}"] canvas`);
        const ctx = canvas.getContext('2d');
        const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
        // A band of alpha 0.22 over white: 0.22·c + 0.78·255 per channel.
        const want = rgb.map((c) => 0.22 * c + 0.78 * 255);
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (Math.abs(data[i] - want[0]) < 12 && Math.abs(data[i + 1] - want[1]) < 12 && Math.abs(data[i + 2] - want[2]) < 12) n++;
        }
        return n;
      },
      { id, rgb },
    );
}

/** Waits until every seed is in and the banner speaks for all of them. */
async function waitForSeeds(page, k, timeout = 60_000) {
  await page.waitForFunction(
    (k) => {
      const text = document.querySelector('[data-testid=verdict]')?.textContent ?? '';
      return new RegExp(`in \\d+ of ${k} seeds \\(95% CI`).test(text) && !document.querySelector('[data-testid=seeds-progress]');
    },
    k,
    { timeout, polling: 50 },
  );
  await nextFrames(page, 3);
}

test('ten seeds of the default preset draw bands and say how sure the verdict is', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    const blue = [0x00, 0x72, 0xb2]; // throughput's band
    const before = await bandPixels('traffic', blue)(page);
    await page.locator('#seeds').selectOption('10');
    await waitForSeeds(page, 10);
    const text = await page.locator('[data-testid=verdict]').textContent();
    assert(/Metastable in (9|10) of 10 seeds \(95% CI \d+–\d+%\)/.test(text), `banner: ${text}`);
    assert(/goodput after [\d.]+ ± [\d.]+ requests\/s/.test(text), `the figures carry intervals: ${text}`);
    assert((await page.locator('[data-testid=verdict]').getAttribute('data-verdict')) === 'metastable');
    const after = await bandPixels('traffic', blue)(page);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'instrument-seeds-1440.png') });
    assert(after > before + 200, `the traffic chart shades a band (${before} → ${after} band-coloured pixels)`);
    const ink = await chartInk(page);
    for (const [id, n] of Object.entries(ink)) assert(n > MIN_INK, `chart ${id} has ink ${n}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'instrument-seeds-1440.png') });

    // A slider-like edit re-runs every seed: the band follows the new scenario.
    const runId = await page.locator('[data-testid=status]').getAttribute('data-run-id');
    await page.locator('#seed').click();
    await page.keyboard.press('Control+A');
    await page.locator('#seed').pressSequentially('8', { delay: 120 });
    await page.keyboard.press('Enter');
    await waitForVerdict(page, { notRunId: runId, what: 'seed 8' });
    await waitForSeeds(page, 10);
    const again = await page.locator('[data-testid=verdict]').textContent();
    assert(/The first seed:/.test(again), again);

    // Back to one seed: no band, the plain verdict.
    await page.locator('#seeds').selectOption('1');
    await nextFrames(page, 4);
    const one = await page.locator('[data-testid=verdict]').textContent();
    assert(!/of 10 seeds/.test(one), `one seed: ${one}`);
    const plain = await bandPixels('traffic', blue)(page);
    assert(plain < after, `the band goes with the seeds (${after} → ${plain})`);
  }));

test('a pinned baseline is drawn beside the run, with a table of differences', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    await page.locator('[data-testid=pin]').click();
    await page.waitForSelector('[data-testid=baseline]', { timeout: 5000 });
    // Open the fixed storm: the storm stays as the baseline.
    const runId = await page.locator('[data-testid=status]').getAttribute('data-run-id');
    await page.locator('#preset-picker').selectOption('retry-storm-budget');
    await waitForVerdict(page, { notRunId: runId, what: 'the budget preset' });
    await page.waitForFunction(() => /→/.test(document.querySelector('[data-testid=baseline-line]')?.textContent ?? ''), null, { timeout: 30_000 });
    const line = await page.locator('[data-testid=baseline-line]').textContent();
    assert(/Baseline “Retry storm” \(dashed\): goodput after 0 → [\d.]+ requests\/s \(\+[\d.]+\); metastable in 1 → 0 of 1 seeds/.test(line), `line: ${line}`);
    // The details open with the keyboard.
    await page.locator('[data-testid=baseline-line]').focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=baseline-table]', { state: 'visible', timeout: 5000 });
    const table = await page.locator('[data-testid=baseline-table]').innerText();
    assert(/metastable seeds\s+1 of 1\s+0 of 1\s+-100%/.test(table), `table: ${table}`);
    assert(/goodput after \(requests\/s\)\s+0\s+[\d.]+\s+\+[\d.]+/.test(table), `table: ${table}`);
    await nextFrames(page, 3);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'instrument-baseline-1280.png') });
    // Unpin: the table goes.
    await page.locator('[data-testid=unpin]').click();
    await page.waitForSelector('[data-testid=baseline]', { state: 'detached', timeout: 5000 });
  }, { viewport: { width: 1280, height: 720 } }));

test('"What would fix this?" ranks the catalogue over seeds, and a row opens its scenario against the original', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    await page.locator('[data-testid=fix]').click();
    await page.waitForSelector('#fix-dialog', { timeout: 5000 });
    assert(await page.evaluate(() => document.activeElement?.id === 'fix-dialog'), 'the dialog takes the focus');
    await page.waitForSelector('[data-testid=fix-table]', { timeout: 60_000 });
    const rows = await page.locator('[data-testid=fix-table] tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ name: tr.dataset.fix, recovered: tr.querySelector('[data-recovered]').dataset.recovered })),
    );
    const names = rows.map((r) => r.name);
    assert(names.includes('original') && names.length >= 10, `rows: ${names.join(', ')}`);
    // Seeds 7–9: the storm as given never recovers, the limiters always do, more workers never.
    const of = (name) => rows.find((r) => r.name === name);
    assert(of('original').recovered === '0', JSON.stringify(of('original')));
    assert(of('more-workers').recovered === '0', JSON.stringify(of('more-workers')));
    const recovering = rows.filter((r) => r.recovered === '3').map((r) => r.name);
    assert(recovering.length >= 3, `fixes that recover on all 3 seeds: ${recovering.join(', ')}`);
    // Ranked: every row that recovers on all seeds comes before the original.
    assert(names.indexOf('original') > Math.max(...recovering.map((n) => names.indexOf(n))), `order: ${names.join(', ')}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'instrument-fix-1440.png') });

    // The best row, opened against the original: the fix runs, the storm is the baseline.
    const best = names[0];
    const runId = await page.locator('[data-testid=status]').getAttribute('data-run-id');
    await page.locator(`[data-fix-pin="${best}"]`).click();
    await page.waitForSelector('#fix-dialog', { state: 'detached', timeout: 5000 });
    const state = await waitForVerdict(page, { notRunId: runId, what: `the fix ${best}` });
    assert(state.verdict === 'recovered' || state.verdict === 'stable', `the fix ${best} gives ${state.verdict}`);
    await page.waitForFunction(() => /Baseline “Retry storm”/.test(document.querySelector('[data-testid=baseline-line]')?.textContent ?? ''), null, { timeout: 30_000 });
    const title = await page.locator('[data-testid=title]').textContent();
    assert(/with/.test(title), `the fixed scenario says what it is: ${title}`);

    // Escape closes the dialog; a scenario without retries offers no retry fix.
    await page.locator('button[data-preset="stale-queue"]').click();
    await waitForVerdict(page, { what: 'the stale queue' });
    await page.locator('[data-testid=fix]').click();
    await page.waitForSelector('[data-testid=fix-table]', { timeout: 60_000 });
    const stale = await page.locator('[data-testid=fix-table] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.fix));
    for (const retryFix of ['no-retries', 'retry-budget', 'deadline-aware', 'backoff-jitter']) {
      assert(!stale.includes(retryFix), `${retryFix} offered without a retry block: ${stale.join(', ')}`);
    }
    await page.keyboard.press('Escape');
    await page.waitForSelector('#fix-dialog', { state: 'detached', timeout: 5000 });
  }));

test('on a phone, by keyboard, in both themes: seeds, the baseline and the fixes are usable and axe finds nothing serious', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    const found = [];
    // By keyboard: focus the seed count and choose 5 with the arrows.
    await page.locator('#seeds').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await waitForSeeds(page, 5);
    await page.locator('[data-testid=pin]').focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=baseline]', { timeout: 5000 });
    // The phone has the preset picker, not the gallery.
    await page.locator('#preset-picker').selectOption('retry-storm-budget');
    await page.waitForFunction(() => /→/.test(document.querySelector('[data-testid=baseline-line]')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.locator('[data-testid=baseline-line]').click();
    await nextFrames(page, 3);
    for (const theme of ['light', 'dark']) {
      if (theme === 'dark') await page.locator('#theme').click();
      await nextFrames(page, 2);
      found.push(...(await axe(page)).map((v) => `${theme} playground with seeds and a baseline: ${v}`));
      await page.screenshot({ path: path.join(SCREENSHOTS, `instrument-phone-${theme}.png`), fullPage: false });
      await page.locator('[data-testid=fix]').click();
      await page.waitForSelector('[data-testid=fix-table]', { timeout: 60_000 });
      found.push(...(await axe(page)).map((v) => `${theme} fix dialog: ${v}`));
      await page.screenshot({ path: path.join(SCREENSHOTS, `instrument-phone-fix-${theme}.png`) });
      // Tab stays inside the dialog; Escape closes it.
      for (let i = 0; i < 40; i++) await page.keyboard.press('Tab');
      assert(await page.evaluate(() => document.getElementById('fix-dialog').contains(document.activeElement)), 'the focus left the dialog');
      await page.keyboard.press('Escape');
      await page.waitForSelector('#fix-dialog', { state: 'detached', timeout: 5000 });
    }
    // Nothing on the phone is wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
    assert(found.length === 0, `accessibility violations:\n${found.join('\n')}`);
  }, { viewport: { width: 390, height: 844 } }));

runSuite('instrument', tests);
