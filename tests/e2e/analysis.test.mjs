// End-to-end tests of the analysis view in headless Chromium: a phase grid and a tipping curve
// computed in Web Workers (compared with the CLI's `sweep` and `tip` on the same scenario),
// clicking a cell to open that exact run, cancelling, bad settings, and the view's place in
// the address and the history.
//
// usage: node tests/e2e/analysis.test.mjs [distDir] [--prefix /sub/path/] [--only SUBSTRING]
// Needs the native CLI (target/debug/metastable or target/release/metastable).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSuite } from './suite.mjs';
import { withApps, waitForVerdict, waitForUrl, assert, downloadOf } from './browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const TEST_TIMEOUT_MS = 120_000;

function cli(args) {
  const bin = ['target/debug/metastable', 'target/release/metastable']
    .map((p) => path.join(ROOT, p))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!bin) throw new Error('the metastable CLI is not built (cargo build -p metastable-cli)');
  try {
    return execFileSync(bin, args, { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
  } catch (e) {
    throw new Error(`metastable ${args.join(' ')} failed (${e.status}): ${String(e.stderr ?? e.message).trim()}`);
  }
}

/** The retry storm's link on this server, with the analysis view's settings in front. */
function analysisUrl(base, query) {
  const link = cli(['url', 'retry-storm', '--base', base]).trim();
  const payload = new URL(link).searchParams.get('s');
  return `${base}?${query}&s=${payload}`;
}

async function openAnalysis(open, url) {
  const app = await open(url, { waitForApp: false });
  await app.page.waitForSelector('[data-testid=analysis]', { timeout: 30_000 });
  return app;
}

const statusOf = (page) => page.locator('[data-testid=analysis-status]').textContent();

async function waitForDone(page, timeout = 90_000) {
  await page
    .waitForFunction(() => /^(Done|Stopped|Cancelled)/.test(document.querySelector('[data-testid=analysis-status]')?.textContent ?? ''), null, {
      timeout,
    })
    .catch(async () => {
      throw new Error(`the analysis did not finish within ${timeout / 1000} s: ${await statusOf(page)}`);
    });
  const status = await statusOf(page);
  assert(status.startsWith('Done'), `the analysis should finish: ${status}`);
  return status;
}

const cellsOf = (page) =>
  page.$$eval('[data-testid=phase-diagram] rect.cell', (cells) =>
    cells.map((c) => ({ point: Number(c.dataset.point), verdict: c.dataset.verdict, seeds: Number(c.dataset.seeds), label: c.getAttribute('aria-label') })),
  );

/** The figure's title (a heading above the picture saying what it shows). */
const titleOf = async (page) => ((await page.locator('.analysis-figure [data-testid=figure-title]').textContent({ timeout: 5000 })) ?? '').trim();

/** With ANALYSIS_SCREENSHOTS=1, a picture of the view at /tmp/analysis-NAME.png. */
async function screenshot(page, name) {
  if (process.env.ANALYSIS_SCREENSHOTS) await page.screenshot({ path: `/tmp/analysis-${name}.png`, fullPage: true });
}

const PHASE = 'view=phase&x=users.rate%3D40..100:4&y=triggers.0.factor%3D1..4:3&seeds=1&steps=5';

const tests = [
  {
    name: 'a phase grid computes in workers, draws every cell, and agrees with the CLI sweep',
    timeoutMs: TEST_TIMEOUT_MS,
    fn: ({ browser, url }) =>
      withApps(browser, async (open) => {
        const { page } = await openAnalysis(open, analysisUrl(url, PHASE));
        const status = await waitForDone(page);
        assert(/on [1-8] workers?\./.test(status), `the status names the workers: ${status}`);
        const cells = await cellsOf(page);
        assert(cells.length === 12, `4 × 3 cells, got ${cells.length}`);
        const csv = cli(['sweep', 'retry-storm', '--x', 'users.rate=40..100:4', '--y', 'triggers.0.factor=1..4:3', '--seeds', '1'])
          .trim()
          .split('\n');
        // The page's CSV is the CLI's first twelve columns (values, seeds, verdict, agreement,
        // the share of each verdict), row for row.
        const download = await downloadOf(page, () => page.click('[data-testid=analysis-csv]'), { what: 'the CSV' });
        const pageCsv = download.bytes.toString('utf8').trim().split('\n');
        const prefix = csv.map((row) => row.split(',').slice(0, 12).join(','));
        assert(download.name === 'retry-storm-phase.csv', `file name ${download.name}`);
        assert(JSON.stringify(pageCsv) === JSON.stringify(prefix), `page CSV\n${pageCsv.join('\n')}\nCLI\n${prefix.join('\n')}`);
        const column = csv[0].split(',').indexOf('verdict');
        const expected = csv.slice(1).map((row) => row.split(',')[column]);
        const got = cells.sort((a, b) => a.point - b.point).map((c) => c.verdict);
        assert(JSON.stringify(got) === JSON.stringify(expected), `browser ${got.join(' ')}\n      CLI     ${expected.join(' ')}`);
        assert(got.includes('metastable') && got.includes('recovered'), `the grid should cross the boundary: ${got.join(' ')}`);
        const legend = await page.locator('[data-testid=phase-legend]').textContent();
        assert(/metastable \(\d+\)/.test(legend), `the legend counts verdicts: ${legend}`);
        const title = await titleOf(page);
        assert(title === 'Verdict by users.rate and triggers.0.factor (one seed)', `the phase diagram's title: ${title}`);
        const xTicks = await page.$$eval('[data-testid=phase-diagram] .ticks text', (ts) => ts.map((t) => t.textContent));
        assert(JSON.stringify(xTicks) === '["40","60","80","100","1","2.5","4"]', `ticks for people: ${xTicks}`);
        await screenshot(page, 'phase');
        await page.hover('[data-testid=phase-diagram] rect.cell[data-point="11"]');
        const readout = await page.locator('[data-testid=analysis-readout]').textContent();
        assert(readout.startsWith('users.rate = 100, triggers.0.factor = 4: '), `the readout names the point: ${readout}`);
        // By keyboard: one tab stop; arrows move between cells; Enter opens the cell.
        const stops = await page.$$eval('[data-testid=phase-diagram] rect.cell[tabindex="0"]', (cs) => cs.length);
        assert(stops === 1, `one tab stop in the grid, got ${stops}`);
        await page.focus('[data-testid=phase-diagram] rect.cell[data-point="0"]');
        for (const key of ['ArrowRight', 'ArrowRight', 'ArrowUp', 'ArrowUp', 'ArrowUp', 'ArrowLeft']) await page.keyboard.press(key);
        const focused = await page.evaluate(() => document.activeElement?.dataset.point);
        assert(focused === '9', `arrows reach rate 60, ×4 (point 9): ${focused}`);
        await page.keyboard.press('Enter');
        await page.waitForSelector('[data-testid=verdict]', { timeout: 20_000 });
        await waitForUrl(page, (u) => !u.includes('view='), { what: 'the playground address after Enter' });
        return `${status}\n${got.join(' ')}`;
      }),
  },
  {
    name: 'clicking a cell opens that exact scenario in the playground, and back returns to the diagram',
    timeoutMs: TEST_TIMEOUT_MS,
    fn: ({ browser, url }) =>
      withApps(browser, async (open) => {
        const { page } = await openAnalysis(open, analysisUrl(url, PHASE));
        await waitForDone(page);
        // Rate 80 with a ×4 spike (the top row, third column): metastable.
        await page.click('[data-testid=phase-diagram] rect.cell[data-point="10"]');
        await page.waitForSelector('[data-testid=verdict]', { timeout: 20_000 });
        const opened = await waitForUrl(page, (u) => !u.includes('view='), { what: 'the playground address' });
        await waitForVerdict(page, { what: 'the opened point' });
        const csv = await page.evaluate(() => window.wasmBindings.current_csv());
        const expected = cli(['run', 'retry-storm', '--set', 'users.rate=80', '--set', 'triggers.0.factor=4']);
        assert(csv === expected, `the opened run's CSV (${csv.length} bytes) should equal the CLI's (${expected.length} bytes)`);
        const summary = JSON.parse(cli(['run', opened, '--summary']));
        assert(summary.verdict === 'metastable', `the opened link is the metastable point: ${summary.verdict}`);
        await page.goBack();
        await page.waitForSelector('[data-testid=analysis]', { timeout: 10_000 });
        await waitForDone(page);
        return `opened ${opened.length}-character link; CSV ${csv.length} bytes equal to the CLI's`;
      }),
  },
  {
    name: 'the tipping curve computes per load and matches the CLI tip search',
    timeoutMs: TEST_TIMEOUT_MS,
    fn: ({ browser, url }) =>
      withApps(browser, async (open) => {
        const query = 'view=tip&x=users.rate%3D50..100:3&y=&trigger=triggers.0.factor%3D1..4:2&seeds=1&steps=3';
        const { page } = await openAnalysis(open, analysisUrl(url, query));
        const status = await waitForDone(page);
        const marks = await page.$$eval('[data-testid=tipping-curve] circle.mark', (ms) => ms.map((m) => [m.dataset.load, m.dataset.min]));
        const csv = cli(['tip', 'retry-storm', '--load', 'users.rate=50..100:3', '--trigger', 'triggers.0.factor=1..4', '--seeds', '1', '--steps', '3'])
          .trim()
          .split('\n')
          .slice(1)
          .map((row) => row.split(',').slice(0, 2));
        assert(JSON.stringify(marks) === JSON.stringify(csv), `browser ${JSON.stringify(marks)}\n      CLI     ${JSON.stringify(csv)}`);
        const download = await downloadOf(page, () => page.click('[data-testid=analysis-csv]'), { what: 'the CSV' });
        const cliCsv = cli(['tip', 'retry-storm', '--load', 'users.rate=50..100:3', '--trigger', 'triggers.0.factor=1..4', '--seeds', '1', '--steps', '3']);
        assert(download.bytes.toString('utf8') === cliCsv, `the page's CSV is the CLI's:\n${download.bytes}\n${cliCsv}`);
        const mins = marks.slice(0, 2).map(([, m]) => Number(m));
        assert(mins[1] < mins[0], `the threshold should fall as load rises: ${mins}`);
        // At capacity (100 requests/s) no spike leaves it metastable: it is overloaded anyway,
        // drawn hollow on the top edge and off the curve.
        const never = page.locator('[data-testid=tipping-curve] circle.mark[data-load="100"]');
        assert((await never.getAttribute('data-kind')) === 'never', 'the load at capacity is never tipped');
        const label = await never.getAttribute('aria-label');
        assert(label.endsWith('(with triggers.0.factor = 4: overloaded)'), label);
        const onCurve = (await page.locator('[data-testid=tipping-curve] polyline.curve').getAttribute('points')).trim().split(/\s+/).length;
        assert(onCurve === 2, `the curve joins the two loads that tip: ${onCurve} points`);
        assert((await page.locator('[data-testid=tipping-curve] polygon.vulnerable').count()) === 1, 'the vulnerable region is shaded');
        const title = await titleOf(page);
        assert(title.startsWith('Smallest trigger that tips the system, by load'), `the tipping curve's title: ${title}`);
        // The legend names every kind of mark drawn, each keyed as drawn.
        const legend = await page.$$eval('[data-testid=tipping-legend] li', (lis) =>
          Object.fromEntries(lis.map((li) => [li.dataset.mark, { text: li.textContent, key: li.querySelector('svg')?.innerHTML ?? '' }])),
        );
        assert(legend.never && /no trigger tips/.test(legend.never.text) && /class="mark never"/.test(legend.never.key), `the legend lists the hollow mark: ${JSON.stringify(legend.never)}`);
        assert(legend.bracket && /bracket/.test(legend.bracket.text) && /class="bracket"/.test(legend.bracket.key), `the legend lists the bracket: ${JSON.stringify(legend.bracket)}`);
        assert(legend.curve && /class="curve"/.test(legend.curve.key), `the legend lists the curve: ${JSON.stringify(legend.curve)}`);
        assert(legend.vulnerable && /class="vulnerable"/.test(legend.vulnerable.key), `the legend lists the shaded region: ${JSON.stringify(legend.vulnerable)}`);
        const drawn = await page.$$eval('[data-testid=tipping-curve] .bracket', (bs) => bs.length);
        assert(drawn >= 1, `brackets are drawn: ${drawn}`);
        await screenshot(page, 'tip');
        return `${status}\nminimum factor ${mins.join(' → ')}`;
      }),
  },
  {
    name: 'the fluid model view draws the state space, its equilibria and the simulated path',
    timeoutMs: TEST_TIMEOUT_MS,
    fn: ({ browser, url }) =>
      withApps(browser, async (open) => {
        const { page } = await openAnalysis(open, analysisUrl(url, 'view=model'));
        await waitForDone(page);
        const kinds = await page.$$eval('[data-testid=state-space] circle.equilibrium', (cs) => cs.map((c) => c.dataset.stability));
        const title = await titleOf(page);
        assert(title.startsWith('Fluid model: calls at the server × requests in orbit'), `the fluid model's title: ${title}`);
        // The equilibria's labels sit inside the frame, off its edges; the axis titles outside it.
        const placement = await page.evaluate(() => {
          const svg = document.querySelector('[data-testid=state-space]');
          const frame = svg.querySelector('rect.plot-frame').getBoundingClientRect();
          const box = (e) => e.getBoundingClientRect();
          const inside = (b) => b.left > frame.left && b.right < frame.right && b.top > frame.top && b.bottom < frame.bottom;
          const apart = (b) => b.right < frame.left || b.left > frame.right || b.bottom < frame.top || b.top > frame.bottom;
          return {
            labels: [...svg.querySelectorAll('text.analysis-label')].map((t) => ({ text: t.textContent, inside: inside(box(t)) })),
            titles: [...svg.querySelectorAll('.axis-title text')].map((t) => ({ text: t.textContent, apart: apart(box(t)) })),
          };
        });
        assert(placement.labels.length === 2 && placement.labels.every((l) => l.inside), `equilibrium labels inside the frame: ${JSON.stringify(placement.labels)}`);
        assert(placement.titles.length === 2 && placement.titles.every((t) => t.apart), `axis titles outside the frame: ${JSON.stringify(placement.titles)}`);
        await screenshot(page, 'model');
        assert(JSON.stringify(kinds) === '["stable","saddle"]', `a stable point and a saddle: ${kinds}`);
        const points = Number(await page.locator('[data-testid=state-space] polyline.sim-path').getAttribute('data-points'));
        assert(points === 300, `the simulated path has a point per bucket of the 300 s run: ${points}`);
        const arrows = (await page.locator('[data-testid=state-space] path.field').getAttribute('d')).split('M').length - 1;
        assert(arrows >= 2 * 26 * 16 - 20, `the vector field is drawn (${arrows / 2} arrows)`);
        const path = (await downloadOf(page, () => page.click('[data-testid=analysis-csv]'), { what: 'the CSV' })).bytes.toString('utf8').trim().split('\n');
        assert(path.length === 301 && path[0] === 't,q,r' && path[300].startsWith('300,'), `the path as CSV: ${path.length} lines, last ${path[300]}`);
        const facts = await page.locator('[data-testid=model-facts]').textContent();
        for (const expected of ['q = 8.00, r = 0.000 (stable)', '(saddle)', 'from 25.5 to 99.5 requests/s', 'Verdict of the model: metastable', 'simulated run (seed 7): metastable']) {
          assert(facts.includes(expected), `the facts say ${JSON.stringify(expected)}: ${facts}`);
        }
        // A scenario outside the model's reach says why, and runs nothing.
        const cache = cli(['url', 'cold-cache', '--base', url]).trim();
        const other = await openAnalysis(open, cache.replace('?s=', '?view=model&s='));
        const problem = await other.page.locator('[data-testid=analysis-problem]').textContent();
        assert(problem.includes('block "cache"'), `the problem names the block: ${problem}`);
        assert(await other.page.locator('[data-testid=analysis-run]').isDisabled(), 'nothing to run');
        return facts;
      }),
  },
  {
    name: 'choosing another picture never shows the previous one under it: each computes its own',
    timeoutMs: TEST_TIMEOUT_MS,
    fn: ({ browser, url }) =>
      withApps(browser, async (open) => {
        const query = 'view=phase&x=users.rate%3D50..100:3&y=triggers.0.factor%3D1..4:2&trigger=triggers.0.factor%3D1..4:2&seeds=1&steps=3';
        const { page } = await openAnalysis(open, analysisUrl(url, query));
        await waitForDone(page);
        assert((await cellsOf(page)).length === 6, 'the phase grid is drawn first');
        // From the switch on, record every moment a picture of another kind is on the page.
        await page.evaluate(() => {
          window.__wrongPicture = [];
          const check = () => {
            const chosen = document.querySelector('input[name=analysis-mode]:checked')?.value;
            const shown = [
              ['phase', '[data-testid=phase-diagram] rect.cell'],
              ['tip', '[data-testid=tipping-curve]'],
              ['model', '[data-testid=state-space]'],
            ].filter(([, sel]) => document.querySelector(sel)).map(([k]) => k);
            for (const kind of shown) if (kind !== chosen) window.__wrongPicture.push(`${kind} under ${chosen}`);
          };
          new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true });
        });
        await page.click('input[name=analysis-mode][value=tip]');
        const cellsAfter = await page.$$eval('[data-testid=phase-diagram] rect.cell', (cs) => cs.length);
        assert(cellsAfter === 0, `the phase grid's ${cellsAfter} cells stay under the tipping heading`);
        const status = await waitForDone(page);
        assert(/loads/.test(await statusOf(page)) || /Done/.test(status), status);
        assert((await page.locator('[data-testid=tipping-curve] circle.mark').count()) === 3, 'the tipping curve computes its three loads');
        assert((await titleOf(page)).startsWith('Smallest trigger'), `the title follows the picture: ${await titleOf(page)}`);
        await page.click('input[name=analysis-mode][value=model]');
        await waitForDone(page);
        assert((await page.locator('[data-testid=state-space]').count()) === 1, 'the fluid model is drawn');
        assert((await titleOf(page)).startsWith('Fluid model'), `the title follows the picture: ${await titleOf(page)}`);
        await page.click('input[name=analysis-mode][value=phase]');
        await waitForDone(page);
        assert((await cellsOf(page)).length === 6, 'back to the phase grid, computed again');
        const wrong = await page.evaluate(() => window.__wrongPicture);
        assert(wrong.length === 0, `a picture of another kind was shown: ${[...new Set(wrong)].join(', ')}`);
        return status;
      }),
  },
  {
    name: 'cancel stops the workers at once and keeps what was computed; Run starts again',
    timeoutMs: TEST_TIMEOUT_MS,
    fn: ({ browser, url }) =>
      withApps(browser, async (open) => {
        const query = 'view=phase&x=users.rate%3D40..100:30&y=triggers.0.factor%3D1..4:30&seeds=1';
        const { page } = await openAnalysis(open, analysisUrl(url, query));
        await page.waitForFunction(() => Number(document.querySelector('.analysis-settings progress')?.value) >= 4, null, { timeout: 30_000 });
        await page.click('[data-testid=analysis-cancel]');
        const status = await statusOf(page);
        assert(/^Cancelled after \d+ of 900 runs in /.test(status), `the status says so: ${status}`);
        const done = Number(await page.locator('.analysis-settings progress').getAttribute('value'));
        await page.waitForTimeout(1000);
        const later = Number(await page.locator('.analysis-settings progress').getAttribute('value'));
        assert(done === later && done < 900, `nothing arrives after cancelling (${done} then ${later} of 900)`);
        const drawn = (await cellsOf(page)).filter((c) => c.verdict !== 'pending').length;
        assert(drawn === done, `the ${done} runs done stay drawn (${drawn})`);
        assert(await page.locator('[data-testid=analysis-cancel]').isDisabled(), 'nothing left to cancel');
        await page.click('[data-testid=analysis-run]');
        await page.waitForFunction(() => /^Computing/.test(document.querySelector('[data-testid=analysis-status]')?.textContent), null, { timeout: 5000 });
        await page.click('[data-testid=analysis-cancel]');
        return status;
      }),
  },
  {
    name: 'the settings live in the address; a bad range is named and not run; back returns to the playground',
    timeoutMs: TEST_TIMEOUT_MS,
    fn: ({ browser, url }) =>
      withApps(browser, async (open) => {
        const { page } = await open(url);
        await waitForVerdict(page, { what: 'the default scenario' });
        await page.click('[data-testid=view-analysis]');
        await page.waitForSelector('[data-testid=analysis]');
        await waitForUrl(page, (u) => u.includes('view=phase&x=users.rate'), { what: 'the analysis address' });
        await waitForDone(page);
        const seeds = page.locator('[data-testid=analysis-seeds]');
        await seeds.fill('2');
        await seeds.dispatchEvent('change');
        const withSeeds = await waitForUrl(page, (u) => u.includes('&seeds=2'), { what: 'the address after setting seeds' });
        const lo = page.locator('[data-testid=x-lo]');
        await lo.fill('-5');
        await lo.dispatchEvent('change');
        const problem = await page.locator('[data-testid=analysis-problem]').textContent();
        assert(problem.includes('users.rate = -5'), `the problem names the point: ${problem}`);
        assert(await page.locator('[data-testid=analysis-run]').isDisabled(), 'Run waits for a valid range');
        // The link reopens the same settings, and computes them.
        const again = await openAnalysis(open, withSeeds);
        await waitForDone(again.page);
        const cells = await cellsOf(again.page);
        assert(cells.length > 0 && cells.every((c) => c.seeds === 2), 'every cell has its 2 seeds');
        await page.goBack();
        await page.waitForSelector('[data-testid=verdict]', { timeout: 10_000 });
        await waitForUrl(page, (u) => !u.includes('view='), { what: 'the playground address after back' });
        return `${problem}`;
      }),
  },
];

runSuite('analysis', tests);
