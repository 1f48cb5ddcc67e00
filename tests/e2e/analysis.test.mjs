// End-to-end tests of the analysis view in headless Chromium: a phase grid, a tipping curve and
// a hysteresis staircase computed in Web Workers (compared with the CLI's `sweep`, `tip` and
// `hysteresis` on the same scenario), clicking a cell to open that exact run, cancelling, bad
// settings, and the view's place in the address and the history.
//
// usage: node tests/e2e/analysis.test.mjs [distDir] [--prefix /sub/path/] [--only SUBSTRING]
// Needs the native CLI (target/debug/metastable or target/release/metastable).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSuite } from './suite.mjs';
import { withApps, waitForVerdict, waitForUrl, assert, downloadOf } from './browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const TEST_TIMEOUT_MS = 120_000;

function cli(args) {
  return cliRun(args).stdout;
}

/** The CLI's standard output and standard error. */
function cliRun(args) {
  const bin = ['target/debug/metastable', 'target/release/metastable']
    .map((p) => path.join(ROOT, p))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!bin) throw new Error('the metastable CLI is not built (cargo build -p metastable-cli)');
  const run = spawnSync(bin, args, { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status !== 0) throw new Error(`metastable ${args.join(' ')} failed (${run.status}): ${String(run.stderr ?? run.error).trim()}`);
  return { stdout: run.stdout.toString('utf8'), stderr: run.stderr.toString('utf8') };
}

/** The retry storm's link on this server, with the analysis view's settings in front. */
function analysisUrl(base, query) {
  const link = cli(['url', 'retry-storm', '--base', base]).trim();
  const payload = new URL(link).searchParams.get('s');
  return `${base}?${query}&s=${payload}`;
}

async function openAnalysis(open, url, options = {}) {
  const app = await open(url, { waitForApp: false, ...options });
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

/** Waits until a computation has stopped with a failure; its status. */
async function waitForStopped(page, timeout = 60_000) {
  await page.waitForFunction(() => /^(Done|Stopped|Cancelled)/.test(document.querySelector('[data-testid=analysis-status]')?.textContent ?? ''), null, { timeout });
  return statusOf(page);
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

const PHONE = { width: 390, height: 844 };

/** The hysteresis figure's marks: direction, load, goodput and state, in time order. */
const stepsOf = (page) =>
  page.$$eval('[data-testid=hysteresis-figure] [data-step]', (ms) =>
    ms
      .map((m) => ({ step: Number(m.dataset.step), direction: m.dataset.direction, load: Number(m.dataset.load), goodput: Number(m.dataset.goodput), state: m.dataset.state }))
      .sort((a, b) => a.step - b.step),
  );

/** The centre of an element on the page. */
const centreOf = (page, selector) =>
  page.$eval(selector, (e) => {
    const b = e.getBoundingClientRect();
    return { x: b.left + b.width / 2, y: b.top + b.height / 2, left: b.left, right: b.right };
  });

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
    name: 'the hysteresis picture draws both paths and the band',
    timeoutMs: TEST_TIMEOUT_MS,
    fn: ({ browser, url }) =>
      withApps(browser, async (open) => {
        // The retry storm, from the gallery; then the analysis view, as a person gets there.
        const app = await open(url);
        const { page } = app;
        await page.click('[data-preset=retry-storm]');
        await waitForVerdict(page, { what: 'the retry storm' });
        await page.click('[data-testid=view-analysis]');
        await page.waitForSelector('[data-testid=analysis]');
        // The phase diagram starts computing; choosing the hysteresis picture replaces it.
        const started = Date.now();
        await page.getByLabel('Hysteresis', { exact: true }).click();
        await waitForUrl(page, (u) => u.includes('view=hysteresis&x=users.rate%3D10..120:12&') && u.includes('&hold=60&'), {
          what: 'the hysteresis address with its own first staircase',
        });
        const status = await waitForDone(page);
        const tookMs = Date.now() - started;
        assert(/^Done: 1 seed in [\d.]+ s on 1 worker\.$/.test(status), `the status counts seeds: ${status}`);
        const title = await titleOf(page);
        assert(title === 'Hysteresis of users.rate: band 20 to 100 (60 s a step, one seed)', `the title states the band: ${title}`);

        // Both paths: twelve steps up (the top included), eleven down, in time order.
        const steps = await stepsOf(page);
        const up = steps.filter((s) => s.direction === 'up');
        const down = steps.filter((s) => s.direction === 'down');
        assert(up.length === 12 && down.length === 11, `12 marks up and 11 down, got ${up.length} and ${down.length}`);
        assert(JSON.stringify(up.map((s) => s.load)) === JSON.stringify([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]), `up ${up.map((s) => s.load)}`);
        assert(JSON.stringify(down.map((s) => s.load)) === JSON.stringify([110, 100, 90, 80, 70, 60, 50, 40, 30, 20, 10]), `down ${down.map((s) => s.load)}`);
        assert((await page.locator('[data-testid=hysteresis-figure] polyline.path-up').getAttribute('points')).trim().split(/\s+/).length === 12, 'the way up is one line through its marks');
        assert((await page.locator('[data-testid=hysteresis-figure] polyline.path-down').getAttribute('points')).trim().split(/\s+/).length === 12, 'the way down starts at the top');
        // Inside the band the two paths part: served on the way up, not on the way down.
        for (const load of [30, 50, 70, 90]) {
          const [u, d] = [up, down].map((path) => path.find((s) => s.load === load));
          assert(u.goodput > 0.8 * load && d.goodput < 0.5 * load, `at ${load}: up ${u.goodput}, down ${d.goodput}`);
        }
        // The numbers are the CLI's: the CSV the page downloads is what `metastable hysteresis` prints.
        const args = ['hysteresis', 'retry-storm', '--load', 'users.rate=10..120:12', '--hold-s', '60', '--seeds', '1'];
        const cliCsv = cli(args);
        const download = await downloadOf(page, () => page.click('[data-testid=analysis-csv]'), { what: 'the CSV' });
        assert(download.name === 'retry-storm-hysteresis.csv', `file name ${download.name}`);
        assert(download.bytes.toString('utf8') === cliCsv, `the page's CSV is the CLI's:\n${download.bytes}\n${cliCsv}`);
        const fromCsv = cliCsv.trim().split('\n').slice(1).map((row) => row.split(','));
        assert(JSON.stringify(steps.map((s) => s.goodput)) === JSON.stringify(fromCsv.map((r) => Number(r[2]))), 'each mark at its step\'s goodput');

        // The band is shaded from the recovery load to the tipping load.
        const band = page.locator('[data-testid=hysteresis-band]');
        assert((await band.count()) === 1, 'the band is shaded');
        assert((await band.getAttribute('data-from')) === '20' && (await band.getAttribute('data-to')) === '100', 'the band runs from 20 to 100');
        const box = await centreOf(page, '[data-testid=hysteresis-band]');
        const at20 = await centreOf(page, '[data-testid=hysteresis-figure] [data-direction=up][data-load="20"]');
        const at100 = await centreOf(page, '[data-testid=hysteresis-figure] [data-direction=up][data-load="100"]');
        assert(Math.abs(box.left - at20.x) < 1.5 && Math.abs(box.right - at100.x) < 1.5, `the band's edges at the marks of 20 and 100: ${JSON.stringify({ box, at20, at100 })}`);
        // The fluid model's bistable loads, labelled, over it.
        const fluid = await page.$$eval('[data-testid=fluid-label]', (ls) => ls.map((l) => l.textContent.trim()));
        assert(JSON.stringify(fluid) === '["25.5","99.5"]', `the fluid band is labelled with its loads: ${fluid}`);
        const legend = await page.$$eval('[data-testid=hysteresis-legend] li', (lis) =>
          Object.fromEntries(lis.map((li) => [li.dataset.mark, { text: li.textContent, key: li.querySelector('svg')?.innerHTML ?? '' }])),
        );
        for (const [mark, drawn] of [['up', 'class="mark-up"'], ['down', 'class="mark-down"'], ['band', 'class="band"'], ['fluid', 'class="fluid"'], ['offered', 'class="offered"'], ['draining', 'class="draining-ring"']]) {
          assert(legend[mark]?.key.includes(drawn), `the legend keys ${mark} as drawn: ${JSON.stringify(legend[mark])}`);
        }
        assert(legend.fluid.text.includes('bistable from 25.5 to 99.5'), legend.fluid.text);
        // The steps down that count as back because the backlog drains are ringed.
        const rings = await page.locator('[data-testid=hysteresis-figure] circle.draining-ring').count();
        assert(rings === 2 && down.filter((s) => s.state === 'draining').map((s) => s.load).join() === '20,10', `20 and 10 drain: ${rings} rings`);
        const facts = await page.locator('[data-testid=hysteresis-facts]').textContent();
        for (const says of ['Tipping load: users.rate = 100', 'Recovery load: users.rate = 20', 'Band: users.rate from 20 to 100 (80 wide)', 'from 25.5 to 99.5', `metastable ${args.join(' ').replace('retry-storm', 'SCENARIO')}`]) {
          assert(facts.includes(says), `the words say ${JSON.stringify(says)}: ${facts}`);
        }
        await screenshot(page, 'hysteresis');

        // Reading a step: hover, then the keyboard (one tab stop; arrows walk the staircase).
        await page.hover('[data-testid=hysteresis-figure] [data-direction=down][data-load="50"]');
        const hovered = await page.locator('[data-testid=analysis-readout]').textContent();
        assert(hovered.startsWith('users.rate = 50, on the way down (step 19 of 23): goodput 0 of ') && hovered.endsWith('— collapsed'), `the readout: ${hovered}`);
        await page.focus('[data-testid=analysis-csv]');
        await page.keyboard.press('Tab');
        const focused = () => page.evaluate(() => document.activeElement?.dataset?.step ?? null);
        assert((await focused()) === '18', `Tab reaches the mark last pointed at: ${await focused()}`);
        await page.keyboard.press('End');
        await page.keyboard.press('ArrowLeft');
        assert((await focused()) === '21', `End, then back one step: ${await focused()}`);
        const read = await page.locator('[data-testid=analysis-readout]').textContent();
        assert(read.startsWith('users.rate = 20, on the way down (step 22 of 23)') && read.includes('draining') && read.endsWith('counts as back'), `the readout follows the focus: ${read}`);
        const label = await page.locator('[data-testid=hysteresis-figure] [data-step="21"]').getAttribute('aria-label');
        assert(label === read, `the mark's label is its readout: ${label}`);
        app.check();

        // On a phone: the same picture, within the screen.
        const phone = await openAnalysis(open, analysisUrl(url, 'view=hysteresis'), { viewport: PHONE });
        await waitForDone(phone.page);
        assert((await titleOf(phone.page)).includes('band 20 to 100'), 'the phone shows the band');
        const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert(overflow <= 0, `nothing wider than the phone's screen (${overflow} px over)`);
        const svgWidth = await phone.page.$eval('[data-testid=hysteresis-figure]', (s) => s.getBoundingClientRect().width);
        assert(svgWidth <= PHONE.width, `the figure fits the phone: ${svgWidth} px`);
        // Drawn for the narrow screen: its words are not scaled down past reading.
        const tickPx = await phone.page.$eval('[data-testid=hysteresis-figure] .ticks text', (t) => t.getBoundingClientRect().height);
        assert(tickPx >= 10, `the tick labels are ${tickPx.toFixed(1)} px high on the phone`);
        await screenshot(phone.page, 'hysteresis-phone');
        phone.check();
        return `${status} (${tookMs} ms from the click to the figure)\n${title}`;
      }),
  },
  {
    name: 'hysteresis over several seeds: a job per seed on the workers, then one adding them up, as the CLI does',
    timeoutMs: TEST_TIMEOUT_MS,
    fn: ({ browser, url }) =>
      withApps(browser, async (open) => {
        const { page } = await openAnalysis(open, analysisUrl(url, 'view=phase&seeds=3'));
        // By keyboard: the picture switch is a radio group; left from the first picture is the last.
        await page.focus('input[name=analysis-mode][value=phase]');
        await page.keyboard.press('ArrowLeft');
        await waitForUrl(page, (u) => u.includes('view=hysteresis&x=users.rate%3D10..120:12&') && u.includes('&seeds=3&'), { what: 'the hysteresis address' });
        const status = await waitForDone(page);
        assert(/^Done: 3 seeds in [\d.]+ s on [1-8] workers?\.$/.test(status), status);
        const title = await titleOf(page);
        assert(title === 'Hysteresis of users.rate: band 20 to 100 (60 s a step, mean of 3 seeds)', `the title: ${title}`);
        const args = ['hysteresis', 'retry-storm', '--load', 'users.rate=10..120:12', '--hold-s', '60', '--seeds', '3'];
        const { stdout, stderr } = cliRun(args);
        const download = await downloadOf(page, () => page.click('[data-testid=analysis-csv]'), { what: 'the CSV' });
        assert(download.bytes.toString('utf8') === stdout, `the page's CSV is the CLI's:\n${download.bytes}\n${stdout}`);
        // Each seed's own edges, as the CLI lists them.
        const perSeed = stderr.match(/per seed \(seed: tipping→recovery\): (.*)/)[1];
        const facts = await page.locator('[data-testid=hysteresis-facts] [data-fact=per-seed]').textContent();
        assert(facts === `Each seed (seed: tipping→recovery): ${perSeed}.`, `${facts}\nCLI: ${perSeed}`);
        await page.hover('[data-testid=hysteresis-figure] [data-direction=up][data-load="100"]');
        const readout = await page.locator('[data-testid=analysis-readout]').textContent();
        assert(/; healthy in \d of 3 seeds$/.test(readout), `the readout counts seeds: ${readout}`);
        return `${status}\n${facts}`;
      }),
  },
  {
    name: 'hysteresis settings from a link are refused in words naming the setting; the experiment lives in the worker',
    timeoutMs: TEST_TIMEOUT_MS,
    fn: ({ browser, url, dist }) =>
      withApps(browser, async (open) => {
        // What the page can read: refused before anything runs.
        const { page } = await openAnalysis(open, analysisUrl(url, 'view=hysteresis&hold=0'));
        const problem = await page.locator('[data-testid=analysis-problem]').textContent();
        assert(problem === 'Hold time must be 1 to 3600 seconds a step (got 0).', `the problem names the hold time: ${problem}`);
        assert(await page.locator('[data-testid=analysis-run]').isDisabled(), 'nothing to run');
        // Typed as a person types (key by key), a hold time in range runs; 0 again is refused.
        const hold = page.locator('[data-testid=analysis-hold]');
        const typeHold = async (text) => {
          await hold.click();
          await page.keyboard.press('Control+A');
          await hold.pressSequentially(text, { delay: 140 });
          await page.keyboard.press('Enter');
        };
        await typeHold('30');
        await waitForUrl(page, (u) => u.includes('&hold=30&'), { what: 'the address after typing 30' });
        assert((await page.locator('[data-testid=analysis-problem]').count()) === 0, 'no problem with 30 s');
        await page.click('[data-testid=analysis-run]');
        await waitForDone(page);
        const title = await titleOf(page);
        assert(title.endsWith('(30 s a step, one seed)'), `the picture is of 30 s steps: ${title}`);
        await typeHold('0');
        const again = await page.locator('[data-testid=analysis-problem]').textContent({ timeout: 5000 });
        assert(again === problem, `typed 0: ${again}`);
        // What needs the experiment: the worker refuses, in words naming the load.
        const other = await openAnalysis(open, analysisUrl(url, 'view=hysteresis&x=api.workers%3D1..10:3'));
        const status = await waitForStopped(other.page);
        assert(status.startsWith('Stopped: The load `api.workers=1..10:3`: `api` is a server, not a client'), `the status names the load: ${status}`);
        assert((await other.page.locator('[data-testid=hysteresis-figure]').count()) === 0, 'no figure');
        // The page's own binaries (the playground, embed mode, the analysis view, the
        // dialogs) do not carry the experiment: only the worker's does.
        const wasm = readdirSync(dist).filter((f) => f.endsWith('_bg.wasm'));
        const has = (file, text) => readFileSync(path.join(dist, file)).includes(Buffer.from(text));
        const pages = wasm.filter((f) => f !== 'worker_bg.wasm');
        assert(pages.length === 4, `four page binaries (playground, embed, analysis view, dialogs): ${pages.join(', ')}`);
        for (const text of ['the staircase needs at least 2 loads', 'is not a load', 'a rate must be 0 or more']) {
          assert(has('worker_bg.wasm', text), `the worker has the experiment's words ${JSON.stringify(text)}`);
          for (const page_ of pages) assert(!has(page_, text), `a page binary (${page_}) carries the experiment: ${JSON.stringify(text)}`);
        }
        return `${problem}\n${status}`;
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
              ['hysteresis', '[data-testid=hysteresis-figure]'],
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
        await page.click('input[name=analysis-mode][value=hysteresis]');
        await waitForDone(page);
        assert((await page.locator('[data-testid=hysteresis-figure] [data-direction=up]').count()) === 3, 'the staircase over the chosen loads (50, 75, 100)');
        assert((await titleOf(page)).startsWith('Hysteresis of users.rate'), `the title follows the picture: ${await titleOf(page)}`);
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
