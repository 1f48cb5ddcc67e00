// The playground used as a person uses it: typing at human speed (≥ 100 ms a key, with the
// half-typed and invalid values people pass through), the pointer and the keyboard, the sizes
// people have (1280×720, 1440×900, a 390×844 phone), and an accessibility scan (axe-core).
//
// usage: node tests/e2e/person.test.mjs [distDir] [--only SUBSTRING]
// Screenshots go to tests/e2e/screenshots/person-*.png: look at them.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { runSuite } from './suite.mjs';
import { withApps, waitForVerdict, runState, nextFrames, chartInk, assert, MIN_INK } from './browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = path.join(HERE, 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** A person's typing speed: about 7 keys a second. */
const KEY_DELAY_MS = 140;
const PHONE = { width: 390, height: 844 };
const SIZES = [
  { width: 1280, height: 720 },
  { width: 1440, height: 900 },
];

const tests = [];
const test = (name, fn, timeoutMs = 5 * 60_000) => tests.push({ name, fn, timeoutMs });
const withApp = (ctx, fn, options = {}) => withApps(ctx.browser, async (open) => fn(await open(ctx.url, options)));

/** Clicks into a field, selects what it holds and types `text` key by key, as a person does. */
async function typeInto(page, selector, text) {
  const field = page.locator(selector);
  await field.click();
  await page.keyboard.press('Control+A');
  if (text === '') {
    await page.keyboard.press('Backspace');
  } else {
    await field.pressSequentially(text, { delay: KEY_DELAY_MS });
  }
  return field;
}

/** The id of the focused element. */
const focusedId = (page) => page.evaluate(() => document.activeElement?.id ?? null);

/** Waits for the typing to settle (the field commits after a pause) and the run to follow. */
async function settle(page) {
  await page.waitForTimeout(800);
  await nextFrames(page, 2);
}

async function selectBlock(page, id) {
  await page.locator(`svg#editor g[data-block="${id}"] .block-id`).click();
  await page.waitForFunction((id) => document.querySelector('#inspector h2 code')?.textContent === id, id, { timeout: 5000 });
}

async function selectScenario(page) {
  await page.locator('rect.editor-bg').click({ position: { x: 3, y: 3 } });
  await page.waitForFunction(() => /Scenario/.test(document.querySelector('#inspector h2')?.textContent ?? ''), null, { timeout: 5000 });
}

const blockIds = (page) => page.locator('svg#editor g[data-block]').evaluateAll((els) => els.map((e) => e.dataset.block));

test('typing at human speed keeps every keystroke, half-typed and invalid values included', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    await selectScenario(page);

    // Duration: "0" is invalid on the way to "0.5"; nothing may take the field away.
    const duration = '#inspector input[data-field="duration_s"]';
    await typeInto(page, duration, '0.5');
    assert((await page.locator(duration).inputValue()) === '0.5', `duration shows ${await page.locator(duration).inputValue()}`);
    assert((await focusedId(page)) === (await page.locator(duration).getAttribute('id')), 'the duration field lost focus while typing');
    await settle(page);
    assert((await page.locator(duration).inputValue()) === '0.5', 'the committed duration was re-formatted while focused');
    await typeInto(page, duration, '300');
    await page.keyboard.press('Enter');
    await settle(page);

    // The scenario's name, at a normal pace.
    await typeInto(page, '#inspector input[data-field="name"]', 'My checkout service');
    await page.keyboard.press('Tab');
    await page.waitForFunction(() => document.querySelector('[data-testid=title]')?.textContent === 'My checkout service', null, { timeout: 5000 })
      .catch(async () => { throw new Error(`title is ${JSON.stringify(await page.locator('[data-testid=title]').textContent())}`); });

    // A block's id: one rename on Enter, links and triggers follow.
    await selectBlock(page, 'users');
    await typeInto(page, '#block-id', 'shoppers');
    assert((await page.locator('#block-id').inputValue()) === 'shoppers', 'the id field lost keys');
    assert(!(await blockIds(page)).includes('s'), 'a rename happened while typing');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !!document.querySelector('svg#editor g[data-block="shoppers"]'), null, { timeout: 5000 });
    assert(await page.locator('svg#editor g[data-link="shoppers->retries"]').count() === 1, 'the link did not follow the rename');

    // Workers: cleared then 7; then -5 and 1.5, each shown as typed with the reason beneath.
    await selectBlock(page, 'api');
    const workers = '#inspector input[data-field="workers"]';
    const before = (await runState(page)).runId;
    await typeInto(page, workers, '7');
    await settle(page);
    assert((await page.locator(workers).inputValue()) === '7', 'workers does not show 7');
    assert((await runState(page)).runId !== before, 'typing 7 workers did not re-run');
    await typeInto(page, workers, '-5');
    await settle(page);
    assert((await page.locator(workers).inputValue()) === '-5', `workers shows ${await page.locator(workers).inputValue()} after typing -5`);
    const message = await page.locator('[data-field-row="workers"] .field-error').first().textContent();
    assert(/Workers must be a whole number from 1 to 1,000,000 — you typed -5/.test(message), `message: ${message}`);
    assert(await page.locator('[data-field-row="workers"] input.slider').count() === 1, 'the slider disappeared');
    await typeInto(page, workers, '1.5');
    await page.keyboard.press('Tab');
    await settle(page);
    const after = await page.locator('[data-field-row="workers"] .field-error').first().textContent();
    assert(/Workers must be a whole number.*1\.5/.test(after), `an invalid value left the field without its message: ${after}`);
    assert((await page.locator(workers).inputValue()) === '1.5', 'the invalid value is not shown as typed after leaving the field');
    assert(!/u32|invalid type/.test(await page.locator('#inspector').textContent()), 'developer words leak into the inspector');

    // The seed in the top bar and a trigger's field.
    await typeInto(page, '#seed', '42');
    await page.keyboard.press('Enter');
    await settle(page);
    assert((await page.locator('#seed').inputValue()) === '42', 'the seed field lost keys');
    await page.locator('[data-trigger="0"]').first().click();
    await typeInto(page, '#inspector input[data-field="factor"]', '2.5');
    await settle(page);
    assert((await page.locator('#inspector input[data-field="factor"]').inputValue()) === '2.5', 'the factor lost keys');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'person-typing.png') });
  }));

test('undo and redo by keyboard and buttons; delete offers Undo; copy, paste and duplicate', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    const original = await blockIds(page);

    // Delete by keyboard on a focused block, then undo from the notice.
    await page.locator('svg#editor g[data-block="api"]').focus();
    await page.keyboard.press('Delete');
    await page.waitForFunction(() => !document.querySelector('svg#editor g[data-block="api"]'), null, { timeout: 5000 });
    const notice = await page.locator('[data-testid=notice]').textContent();
    assert(/Deleted the server "api"/.test(notice), `notice: ${notice}`);
    await page.locator('[data-testid=notice-undo]').click();
    await page.waitForFunction(() => !!document.querySelector('svg#editor g[data-block="api"]'), null, { timeout: 5000 });
    assert(await page.locator('svg#editor g[data-link="retries->api"]').count() === 1, 'undo did not bring the link back');

    // Redo and undo with the keys, outside any field.
    await page.locator('body').click({ position: { x: 5, y: 5 } }).catch(() => {});
    await page.keyboard.press('Control+Shift+Z');
    await page.waitForFunction(() => !document.querySelector('svg#editor g[data-block="api"]'), null, { timeout: 5000 });
    await page.keyboard.press('Control+Z');
    await page.waitForFunction(() => !!document.querySelector('svg#editor g[data-block="api"]'), null, { timeout: 5000 });

    // Move a block with the pointer; undo puts it back.
    const box = page.locator('svg#editor g[data-block="api"] rect.block-box');
    const start = await box.boundingBox();
    await page.mouse.move(start.x + 40, start.y + 20);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(start.x + 40 + i * 6, start.y + 20 + i * 8);
    await page.mouse.up();
    const moved = await box.boundingBox();
    assert(Math.abs(moved.y - start.y) > 20, `the drag did not move the block (${start.y} → ${moved.y})`);
    await page.keyboard.press('Control+Z');
    await nextFrames(page, 2);
    const back = await box.boundingBox();
    assert(Math.abs(back.y - start.y) < 2 && Math.abs(back.x - start.x) < 2, `undo of a drag: ${start.x},${start.y} → ${back.x},${back.y}`);

    // Duplicate, copy and paste: ids made unique, never on top of another block.
    await page.locator('svg#editor g[data-block="api"] .block-id').click();
    await page.keyboard.press('Control+D');
    await page.waitForFunction(() => !!document.querySelector('svg#editor g[data-block="api2"]'), null, { timeout: 5000 });
    await page.locator('svg#editor g[data-block="retries"] .block-id').click();
    await page.keyboard.press('Control+C');
    await page.keyboard.press('Control+V');
    await page.waitForFunction(() => !!document.querySelector('svg#editor g[data-block="retries2"]'), null, { timeout: 5000 })
      .catch(() => { throw new Error('Ctrl+C, Ctrl+V did not paste a copy of "retries"'); });
    const rects = await page.locator('svg#editor g[data-block] rect.block-box').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
    for (let i = 0; i < rects.length; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const [a, b] = [rects[i], rects[j]];
        const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        assert(!overlap, `blocks ${i} and ${j} overlap`);
      }
    }
    // Undo both by the button, back to the preset.
    await page.locator('#undo').click();
    await page.locator('#undo').click();
    await page.waitForFunction((n) => document.querySelectorAll('svg#editor g[data-block]').length === n, original.length, { timeout: 5000 });
    assert(JSON.stringify(await blockIds(page)) === JSON.stringify(original), 'undo did not return to the original blocks');
  }));

test('the canvas zooms by wheel and buttons, pans by dragging, fits; box and shift select; insert into a link; live figures', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    const view = async () => (await page.locator('svg#editor').getAttribute('data-view')).split(' ').map(Number);
    const fit = await view();
    const canvas = await page.locator('svg#editor').boundingBox();
    const centre = { x: canvas.x + canvas.width / 2, y: canvas.y + canvas.height / 2 };
    await page.mouse.move(centre.x, centre.y);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((w) => Number(document.querySelector('svg#editor').dataset.view.split(' ')[2]) < w, fit[2], { timeout: 3000 })
      .catch(() => { throw new Error('the wheel did not zoom in'); });
    const zoomed = await view();
    // Pan: drag the background 120 px to the right; the view moves left.
    const empty = { x: canvas.x + 12, y: canvas.y + canvas.height - 12 };
    await page.mouse.move(empty.x, empty.y);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(empty.x + i * 15, empty.y);
    await page.mouse.up();
    const panned = await view();
    assert(panned[0] < zoomed[0] - 10, `dragging the background did not pan: ${zoomed} → ${panned}`);
    await page.locator('#zoom-out').click();
    assert((await view())[2] > panned[2], 'the zoom-out button did not zoom out');
    await page.locator('#zoom-fit').click();
    await nextFrames(page, 2);
    assert(JSON.stringify(await view()) === JSON.stringify(fit), `Fit did not return to the whole scenario: ${await view()} vs ${fit}`);

    // A box drawn with shift held selects the blocks it touches.
    const retries = await page.locator('svg#editor g[data-block="retries"] rect.block-box').boundingBox();
    const api = await page.locator('svg#editor g[data-block="api"] rect.block-box').boundingBox();
    await page.keyboard.down('Shift');
    await page.mouse.move(retries.x + 10, retries.y + retries.height + 12);
    await page.mouse.down();
    for (let i = 1; i <= 6; i++) await page.mouse.move(retries.x + 10 + ((api.x + 20 - retries.x) * i) / 6, retries.y + retries.height - 10);
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await page.waitForFunction(() => /2 blocks selected/.test(document.querySelector('#inspector h2')?.textContent ?? ''), null, { timeout: 3000 })
      .catch(async () => { throw new Error(`the box selected: ${await page.locator('#inspector h2').textContent()}`); });
    // Delete removes both; undo brings both back, still selected.
    await page.keyboard.press('Delete');
    await page.waitForFunction(() => !document.querySelector('svg#editor g[data-block="api"]') && !document.querySelector('svg#editor g[data-block="retries"]'), null, { timeout: 3000 })
      .catch(() => { throw new Error('Delete did not remove the two selected blocks'); });
    await page.keyboard.press('Control+Z');
    await page.waitForFunction(() => /2 blocks selected/.test(document.querySelector('#inspector h2')?.textContent ?? ''), null, { timeout: 3000 })
      .catch(() => { throw new Error('undo did not bring back the two blocks selected'); });
    // Shift+click takes one out again.
    await page.locator('svg#editor g[data-block="api"] .block-id').click({ modifiers: ['Shift'] });
    await page.waitForFunction(() => document.querySelector('#inspector h2 code')?.textContent === 'retries', null, { timeout: 3000 });

    // A block added while a link is selected goes into the link.
    await page.locator('svg#editor g[data-link="retries->api"] path.link-hit').dispatchEvent('pointerdown');
    await page.locator('button[data-add="cache"]').click();
    await page.waitForFunction(() => !!document.querySelector('svg#editor g[data-link="retries->cache"]') && !!document.querySelector('svg#editor g[data-link="cache->api"]'), null, { timeout: 3000 })
      .catch(() => { throw new Error('the cache did not go into the link retries → api'); });
    await waitForVerdict(page, { what: 'the run with a cache' });
    const hint = await page.locator('svg#editor g[data-block="api"] .block-hint').textContent();
    assert(/^q [\d,]+ · \d+%$/.test(hint), `the server's live figure reads ${JSON.stringify(hint)}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'person-canvas.png') });
    return `fit ${fit.map((v) => v.toFixed(0)).join(' ')}, zoomed width ${zoomed[2].toFixed(0)}, api shows "${hint}"`;
  }));

test('analysis ranges typed key by key keep every key (a half-typed "4." and "-" included) and commit on Enter', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    await page.locator('[data-testid=view-analysis]').click();
    await page.waitForSelector('[data-testid=analysis]');
    const lo = '[data-testid=x-lo]';
    await typeInto(page, lo, '42.5');
    assert((await page.locator(lo).inputValue()) === '42.5', `the range's low end shows ${await page.locator(lo).inputValue()}`);
    assert((await focusedId(page)) === (await page.locator(lo).getAttribute('id')), 'the field lost focus while typing');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /x=users\.rate%3D42\.5|x=users\.rate=42\.5/.test(location.href), null, { timeout: 5000 })
      .catch(() => { throw new Error(`the address did not take 42.5: ${page.url()}`); });
    await typeInto(page, lo, '-5');
    assert((await page.locator(lo).inputValue()) === '-5', 'the minus sign was lost');
    await page.keyboard.press('Enter');
    const problem = await page.locator('[data-testid=analysis-problem]').textContent({ timeout: 5000 });
    assert(/-5/.test(problem), `the problem does not name the value: ${problem}`);
    return `42.5 committed; -5: ${problem.trim().slice(0, 90)}`;
  }));

test('a run stopped by the memory limit says why in words and gives the verdict its rows prove', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    const before = await waitForVerdict(page, { what: 'the default scenario' });
    // A spike into one slow worker: the queue grows by thousands of calls a second until the
    // page's state limit stops the run.
    const doc = {
      version: 1, name: 'Runaway queue', seed: 1, duration_s: 3600, bucket_s: 1,
      blocks: [
        { id: 'users', kind: 'client', rate: 20000, to: 'api', ui: { x: 30, y: 30 } },
        { id: 'api', kind: 'server', workers: 1, service: { dist: 'exponential', mean_s: 1 }, ui: { x: 240, y: 30 } },
      ],
      triggers: [{ kind: 'load_spike', target: 'users', at_s: 5, for_s: 5, factor: 2 }],
    };
    // Opened as a file, as a person would drop it.
    await page.locator('#import-file').setInputFiles({ name: 'runaway.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(doc)) });
    // The file is read asynchronously: wait for the run it starts, not the default's verdict.
    const state = await waitForVerdict(page, { notRunId: before.runId, what: 'the runaway queue', timeout: 120_000 });
    const banner = await page.locator('[data-testid=verdict]').textContent();
    assert(/stopped at t = /.test(banner), `the banner does not say where the run stopped: ${banner}`);
    assert(/Shorten the duration or lower the load/.test(banner), `the banner offers no remedy: ${banner}`);
    assert(!/\d{7,}/.test(banner), `a long number without separators: ${banner}`);
    assert(state.verdict === 'overloaded' || state.verdict === 'metastable', `the verdict is ${state.verdict}: ${banner}`);
    return banner.trim().slice(0, 200);
  }));

test('pause freezes the run and step advances one bucket, at every speed', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    // A long run: an hour at a higher load, so it takes many frames at any speed.
    await page.locator('rect.editor-bg').click({ position: { x: 3, y: 3 } });
    await typeInto(page, '#inspector input[data-field="duration_s"]', '3600');
    await page.keyboard.press('Enter');
    await settle(page);
    const report = [];
    for (const speed of ['max', '100', '10', '1']) {
      await page.locator('select#speed').selectOption(speed);
      await page.locator('#reset').click();
      if ((await page.locator('#play').getAttribute('aria-pressed')) !== 'true') await page.locator('#play').click();
      await page.waitForTimeout(300);
      await page.locator('#play').click();
      await page.waitForFunction(() => document.querySelector('#play')?.getAttribute('aria-pressed') === 'false', null, { timeout: 2000 });
      await nextFrames(page, 3);
      const paused = await runState(page);
      await page.waitForTimeout(700);
      const still = await runState(page);
      assert(!still.finished, `at speed ${speed} the run ran to its end although paused`);
      assert(still.events === paused.events, `speed ${speed}: paused, the run kept going (${paused.events} → ${still.events} events)`);
      const tBefore = Number(await page.locator('[data-testid=status]').evaluate((e) => e.innerText.match(/t = ([\d,]+)/)[1].replace(/,/g, '')));
      await page.locator('#step').click();
      await page.waitForFunction((e) => Number(document.querySelector('[data-testid=status]')?.dataset.events) > e, still.events, { timeout: 5000 });
      await nextFrames(page, 2);
      const tAfter = Number(await page.locator('[data-testid=status]').evaluate((e) => e.innerText.match(/t = ([\d,]+)/)[1].replace(/,/g, '')));
      assert(tAfter - tBefore >= 0 && tAfter - tBefore <= 2, `speed ${speed}: a step went from t = ${tBefore} to ${tAfter}, not one bucket`);
      report.push(`${speed}: paused at ${paused.events} events, step ${tBefore} → ${tAfter} s`);
    }
    // A finished run says so and offers Replay.
    await page.locator('select#speed').selectOption('max');
    await typeInto(page, '#inspector input[data-field="duration_s"]', '300');
    await page.keyboard.press('Enter');
    await page.locator('#play').click().catch(() => {});
    await waitForVerdict(page, { what: 'the 300 s run' });
    await page.waitForFunction(() => /Replay/.test(document.querySelector('#play')?.textContent ?? ''), null, { timeout: 5000 })
      .catch(async () => { throw new Error(`a finished run shows ${JSON.stringify(await page.locator('#play').textContent())}`); });
    const done = await runState(page);
    await page.locator('#play').click();
    await page.waitForFunction((id) => document.querySelector('[data-testid=status]')?.dataset.runId !== id, done.runId, { timeout: 5000 });
    return report.join('\n');
  }));

for (const size of SIZES) {
  test(`at ${size.width}×${size.height} the verdict and a chart with ink are in the first viewport`, async (ctx) =>
    withApp(ctx, async ({ page }) => {
      await waitForVerdict(page, { what: 'the default scenario' });
      const inView = (selector) => page.locator(selector).first().evaluate((el) => {
        const r = el.getBoundingClientRect();
        return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, inside: r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth };
      });
      const banner = await inView('[data-testid=verdict]');
      assert(banner.inside, `the verdict is outside the first viewport: ${JSON.stringify(banner)}`);
      const chart = await inView('figure[data-chart] canvas');
      assert(chart.inside, `the first chart is outside the first viewport: ${JSON.stringify(chart)}`);
      const ink = await chartInk(page);
      const first = Object.keys(ink)[0];
      assert(ink[first] >= MIN_INK, `the first chart (${first}) has ${ink[first]} pixels of ink`);
      const topbar = await page.locator('header.topbar').evaluate((el) => el.getBoundingClientRect().height);
      assert(topbar <= 48, `the top bar is ${topbar} px tall: it wraps`);
      await page.screenshot({ path: path.join(SCREENSHOTS, `person-default-${size.width}x${size.height}.png`) });
      if (await page.locator('#preset-picker').isVisible()) await page.locator('#preset-picker').selectOption('cold-cache');
      else await page.locator('button[data-preset="cold-cache"]').click();
      await waitForVerdict(page, { what: 'the cold cache' });
      await page.screenshot({ path: path.join(SCREENSHOTS, `person-cache-${size.width}x${size.height}.png`) });
      return `banner bottom ${banner.bottom.toFixed(0)} px, first chart bottom ${chart.bottom.toFixed(0)} px, top bar ${topbar} px`;
    }, { viewport: size }));
}

test('on a 390×844 phone: no sideways scroll, a compact picker, the inspector opens as a sheet', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert(wide <= 0, `the page scrolls sideways by ${wide} px`);
    assert(await page.locator('#preset-picker').isVisible(), 'no preset picker on the phone');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'person-phone.png') });
    await page.locator('svg#editor g[data-block="api"] .block-id').tap().catch(() => page.locator('svg#editor g[data-block="api"] .block-id').click());
    await page.waitForFunction(() => document.querySelector('#inspector h2 code')?.textContent === 'api', null, { timeout: 5000 });
    const sheet = await page.locator('#inspector').evaluate((el) => {
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom };
    });
    assert(sheet.top < 844 && sheet.top > 0, `the inspector is not on screen after a tap: ${JSON.stringify(sheet)}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'person-phone-inspector.png') });
  }, { viewport: PHONE }));

test('by keyboard: a chart reads out values with the arrows; the share dialog keeps Tab inside', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    const figure = page.locator('figure[data-chart="traffic"]');
    await figure.focus();
    await page.keyboard.press('End');
    await page.keyboard.press('Shift+ArrowLeft');
    const t = await figure.locator('.readout-t').textContent().catch(() => null);
    assert(t === 't = 289 s', `End then Shift+← should read t = 289 s, the readout says ${JSON.stringify(t)}`);
    const items = await figure.locator('.readout-item').count();
    assert(items >= 3, `the readout lists ${items} values`);
    await page.locator('#share').click();
    await page.waitForSelector('#share-dialog', { timeout: 5000 });
    const outside = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press(i % 7 === 6 ? 'Shift+Tab' : 'Tab');
      const inside = await page.evaluate(() => !!document.activeElement?.closest('#share-dialog'));
      if (!inside) outside.push(i);
    }
    assert(outside.length === 0, `Tab left the share dialog at presses ${outside.join(', ')}`);
    await page.keyboard.press('Escape');
    return `readout ${t} with ${items} values; 40 Tab presses stayed in the dialog`;
  }));

test('an embed at 600×500: the slider stays under the pointer while dragged, no debug figures, the band named', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await page.goto(`${ctx.url}?embed&charts=traffic,backlog&knobs=users.rate&autoplay=1`);
    await waitForVerdict(page, { what: 'the embedded retry storm' });
    const slider = page.locator('input[data-knob="users.rate"]');
    const before = await slider.boundingBox();
    const ys = [];
    await page.mouse.move(before.x + before.width * 0.16, before.y + before.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) {
      await page.mouse.move(before.x + before.width * (0.16 - i * 0.01), before.y + before.height / 2);
      await page.waitForTimeout(60);
      ys.push((await slider.boundingBox()).y);
    }
    await page.mouse.up();
    const moved = ys.filter((y) => Math.abs(y - before.y) > 0.5);
    assert(moved.length === 0, `the slider moved under the pointer while dragged: ${before.y} → ${ys.join(', ')}`);
    const status = await page.locator('[data-testid=status]').textContent();
    assert(!/events|ms/.test(status), `readers see debug figures: ${status}`);
    const output = await page.locator('.embed-knob output').textContent();
    assert(!/\d\.\d{4,}/.test(output), `the slider's value is not formatted: ${output}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'person-embed-600x500.png') });
    return `status "${status}", slider reads "${output}"`;
  }, { viewport: { width: 600, height: 500 } }));

/** Runs axe-core in the page and returns its serious and critical violations. */
async function axe(page) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
  });
  return violations;
}

test('axe-core finds no serious or critical violation (playground, share dialog, analysis, hysteresis, embed; both themes)', async (ctx) =>
  withApp(ctx, async ({ page }) => {
    await waitForVerdict(page, { what: 'the default scenario' });
    const found = [];
    for (const theme of ['light', 'dark']) {
      if (theme === 'dark') await page.locator('#theme').click();
      await nextFrames(page, 2);
      found.push(...(await axe(page)).map((v) => `${theme} playground: ${v}`));
      await page.locator('#share').click();
      await page.waitForSelector('.dialog', { timeout: 5000 });
      found.push(...(await axe(page)).map((v) => `${theme} share dialog: ${v}`));
      await page.keyboard.press('Escape');
      await page.locator('[data-testid=view-analysis]').click();
      await page.waitForSelector('.analysis', { timeout: 5000 });
      found.push(...(await axe(page)).map((v) => `${theme} analysis: ${v}`));
      // The hysteresis picture: its marks, band, fluid labels and legend.
      await page.getByLabel('Hysteresis', { exact: true }).click();
      await page.waitForSelector('[data-testid=hysteresis-figure]', { timeout: 60_000 });
      await page.locator('[data-testid=hysteresis-figure] [data-step="9"]').hover();
      found.push(...(await axe(page)).map((v) => `${theme} hysteresis: ${v}`));
      await page.screenshot({ path: path.join(SCREENSHOTS, `person-hysteresis-${theme}.png`) });
      // Back to the phase diagram for the other theme (its workers finish before the view closes).
      await page.getByLabel('Phase diagram', { exact: true }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid=phase-diagram]') && /^Done/.test(document.querySelector('[data-testid=analysis-status]')?.textContent ?? ''), null, { timeout: 120_000 });
      await page.locator('[data-testid=view-playground]').click();
      await waitForVerdict(page, { what: 'back in the playground' }).catch(() => {});
    }
    const embed = await page.evaluate(() => location.href.replace(/\?.*$/, '') + '?embed&charts=traffic,backlog&knobs=users.rate&autoplay=1');
    await page.goto(embed);
    await page.waitForSelector('[data-testid=verdict]', { timeout: 30000 });
    found.push(...(await axe(page)).map((v) => `embed: ${v}`));
    assert(found.length === 0, `accessibility violations:\n${found.join('\n')}`);
  }));

runSuite('person', tests);
