// End-to-end tests of the playground in headless Chromium: each test is one user-visible
// behaviour of the built site.
//
// usage: node tests/e2e/app.test.mjs [distDir] [--prefix /sub/path/] [--only SUBSTRING]
//   distDir   the built site (default: dist, from `trunk build --release`)
//   --prefix  serve the site under this URL path (sub-path deployment), default "/"
//   --only    run only the tests whose name contains SUBSTRING (repeatable)
// Prints each test with ok/FAIL and its time; exits 1 if any test fails.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSuite } from './suite.mjs';
import {
  withApps,
  waitForVerdict,
  runState,
  nextFrames,
  chartInk,
  expectInk,
  assert,
  MIN_INK,
} from './browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SCREENSHOTS = path.join(HERE, 'screenshots');
const ALWAYS_CHARTS = ['traffic', 'outcomes', 'latency', 'backlog', 'amplification', 'useful'];
const TEST_TIMEOUT_MS = 5 * 60_000;

// ---------------------------------------------------------------------------------------------
// The presets, in gallery order (the core's `presets!` list), and the verdict each caption
// promises: `expect` in each preset's own file, which the core's tests read too.
function presetPromises() {
  const list = readFileSync(path.join(ROOT, 'crates/sim-core/src/presets/mod.rs'), 'utf8');
  const names = [...list.slice(list.indexOf('presets![')).matchAll(/^\s*"([a-z0-9-]+)",$/gm)].map((m) => m[1]);
  assert(names.length > 0, 'no presets found in crates/sim-core/src/presets/mod.rs');
  return Object.fromEntries(names.map((name) => {
    const expect = presetJson(name)?.expect;
    assert(expect, `preset ${name} has no "expect": what does its caption promise?`);
    return [name, expect];
  }));
}

function presetJson(name) {
  const file = path.join(ROOT, 'crates/sim-core/src/presets', `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

/** The charts a scenario must show (SPEC §6; `charts_for` in crates/web/src/charts.rs). */
function expectedCharts(scenario) {
  const blocks = scenario?.blocks ?? [];
  const ids = [...ALWAYS_CHARTS];
  if (blocks.some((b) => b.kind === 'cache')) ids.push('cache');
  if (blocks.some((b) => b.kind === 'retry' && b.budget != null)) ids.push('tokens');
  if (blocks.some((b) => b.kind === 'breaker')) ids.push('breaker');
  if (blocks.some((b) => b.kind === 'limiter')) ids.push('limiter');
  if (blocks.some((b) => b.kind === 'retry' && b.hedge_after_s != null)) ids.push('hedges');
  if (blocks.some((b) => b.kind === 'server' && b.autoscale != null)) ids.push('workers');
  return ids;
}

// ---------------------------------------------------------------------------------------------
// A small runner.
const tests = [];
const test = (name, fn, timeoutMs = TEST_TIMEOUT_MS) => tests.push({ name, fn, timeoutMs });

/** Opens the app, runs `fn(app)`, checks the page reported no problems, and always closes. */
const withApp = (ctx, fn, options = {}) => withApps(ctx.browser, async (open) => fn(await open(ctx.url, options)));

/** Clicks a point of the editor's empty background (selects the scenario). */
async function clickEditorBackground(page) {
  await page.locator('svg#editor').scrollIntoViewIfNeeded();
  await page.locator('rect.editor-bg').click({ position: { x: 4, y: 4 } });
  await page.waitForFunction(() => /Scenario/.test(document.querySelector('#inspector h2')?.textContent ?? ''), null, {
    timeout: 5000,
  });
}

/** Selects a block in the editor and waits for the inspector to show it. */
async function selectBlock(page, id) {
  const block = page.locator(`svg#editor g[data-block="${id}"]`);
  await block.scrollIntoViewIfNeeded();
  // Press on the block's label area, away from its ports.
  await block.locator('.block-id').click();
  try {
    await page.waitForFunction((id) => document.querySelector('#inspector h2 code')?.textContent === id, id, {
      timeout: 5000,
    });
  } catch {
    const h2 = await page.locator('#inspector h2').first().textContent().catch(() => '?');
    throw new Error(`clicking block ${id} did not select it; the inspector shows ${JSON.stringify(h2)}`);
  }
}

/** Fills an inspector field and commits it with Enter (typing at a person's pace is
 * person.test.mjs's business; these tests want the edit at once). */
async function fillField(page, field, value) {
  const input = page.locator(`#inspector input[data-field="${field}"]`);
  if ((await input.count()) !== 1) throw new Error(`inspector field ${field}: ${await input.count()} inputs found`);
  await input.fill(String(value));
  await input.press('Enter');
}

async function runId(page) {
  return (await runState(page)).runId;
}

// ---------------------------------------------------------------------------------------------
// The tests.

test('the page loads with no console errors; the retry storm draws charts and is metastable', async (ctx) => {
  return withApp(ctx, async (app) => {
    const { page } = app;
    const state = await waitForVerdict(page, { what: 'the default scenario' });
    assert(state.verdict === 'metastable', `default verdict is ${state.verdict}, expected metastable: ${state.text}`);
    assert(state.text && state.text.length > 20, `the banner should explain the verdict, it says ${JSON.stringify(state.text)}`);
    const title = await page.locator('[data-testid=title]').textContent();
    assert(/retry storm/i.test(title), `title is ${JSON.stringify(title)}`);
    const pressed = await page.locator('button[data-preset="retry-storm"]').getAttribute('aria-pressed');
    assert(pressed === 'true', `the retry storm's gallery card should be selected (aria-pressed=${pressed})`);
    const charts = await page.locator('figure[data-chart]').evaluateAll((els) => els.map((e) => e.dataset.chart));
    assert(
      JSON.stringify(charts) === JSON.stringify(ALWAYS_CHARTS),
      `charts shown: ${charts.join(', ')}; expected ${ALWAYS_CHARTS.join(', ')}`,
    );
    const ink = await expectInk(page, ALWAYS_CHARTS);
    return `ink ${Object.entries(ink).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  });
});

test('each preset runs to the verdict its caption promises (screenshots in tests/e2e/screenshots)', async (ctx) => {
  const promises = presetPromises();
  mkdirSync(SCREENSHOTS, { recursive: true });
  return withApp(ctx, async (app) => {
    const { page } = app;
    await waitForVerdict(page, { what: 'the default scenario' });
    const gallery = await page.locator('button[data-preset]').evaluateAll((els) => els.map((e) => e.dataset.preset));
    const names = Object.keys(promises);
    const failures = [];
    const missing = names.filter((n) => !gallery.includes(n));
    const extra = gallery.filter((n) => !names.includes(n));
    if (missing.length) failures.push(`presets missing from the gallery: ${missing.join(', ')}`);
    if (extra.length) failures.push(`gallery presets without a promised verdict: ${extra.join(', ')}`);
    const lines = [];
    for (const name of names.filter((n) => gallery.includes(n))) {
      const started = Date.now();
      try {
        const before = await runId(page);
        await page.locator(`button[data-preset="${name}"]`).click();
        const state = await waitForVerdict(page, { notRunId: before, what: `preset ${name}` });
        // Park the pointer off the gallery so no card shows its hover style in the picture.
        await page.mouse.move(1, 1);
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
        const problems = [];
        if (state.verdict !== promises[name]) {
          problems.push(`verdict ${state.verdict}, caption promises ${promises[name]} (banner: ${JSON.stringify(state.text)})`);
        }
        const scenario = presetJson(name);
        const wanted = expectedCharts(scenario);
        const shown = await page.locator('figure[data-chart]').evaluateAll((els) => els.map((e) => e.dataset.chart));
        if (JSON.stringify(shown) !== JSON.stringify(wanted)) problems.push(`charts ${shown.join(',')}, expected ${wanted.join(',')}`);
        const ink = await chartInk(page);
        const dry = wanted.filter((id) => !(ink[id] >= MIN_INK));
        if (dry.length) problems.push(`charts without ink: ${dry.map((id) => `${id}=${ink[id]}`).join(', ')}`);
        if (scenario) {
          const csvRows = await page.evaluate(() => window.wasmBindings.current_csv().trim().split('\n').length - 1);
          const rows = Math.round(scenario.duration_s / (scenario.bucket_s ?? 1));
          if (Math.abs(csvRows - rows) > 1) problems.push(`current_csv() has ${csvRows} rows, expected ${rows}`);
        }
        const pressed = await page.locator(`button[data-preset="${name}"]`).getAttribute('aria-pressed');
        if (pressed !== 'true') problems.push(`its gallery card is not marked selected (aria-pressed=${pressed})`);
        const ms = Date.now() - started;
        if (problems.length) failures.push(`${name}: ${problems.join('; ')}`);
        lines.push(`${problems.length ? 'FAIL' : 'ok  '} ${name.padEnd(30)} ${state.verdict.padEnd(11)} ${String(ms).padStart(5)} ms (sim ${state.simMs} ms, ${state.events} events)`);
      } catch (e) {
        failures.push(`${name}: ${e.message}`);
        lines.push(`FAIL ${name.padEnd(30)} ${e.message.split('\n')[0]}`);
      }
    }
    if (failures.length) throw new Error(`${failures.length} preset problem(s):\n${failures.join('\n')}\n${lines.join('\n')}`);
    return lines.join('\n');
  });
});

test('a new empty scenario shows an empty editor and "nothing to run"', async (ctx) => {
  return withApp(ctx, async (app) => {
    const { page } = app;
    await waitForVerdict(page, { what: 'the default scenario' });
    await page.locator('#new-scenario').click();
    await page.waitForFunction(() => document.querySelectorAll('svg#editor g[data-block]').length === 0, null, { timeout: 5000 }).catch(() => {
      throw new Error('after "New empty scenario" the editor still shows blocks');
    });
    const title = await page.locator('[data-testid=title]').textContent();
    await nextFrames(page, 3);
    const s = await runState(page);
    assert(
      s.verdict === 'none',
      `an empty scenario has nothing to run: the banner should say "none", it says ${s.verdict}: ${JSON.stringify(s.text)} ` +
        `(title ${JSON.stringify(title)}, status run ${s.runId} ${JSON.stringify(s.status)})`,
    );
    return `banner: ${s.text}`;
  });
});

test('building client → retry → server by hand (palette + dragging a port) runs to a stable verdict', async (ctx) => {
  return withApp(ctx, async (app) => {
    const { page } = app;
    await waitForVerdict(page, { what: 'the default scenario' });
    await page.locator('#new-scenario').click();
    await page.waitForFunction(() => document.querySelectorAll('svg#editor g[data-block]').length === 0, null, { timeout: 5000 });

    await page.locator('button[data-add="client"]').click();
    await page.locator('svg#editor g[data-block="client"][data-kind="client"]').waitFor({ timeout: 5000 });
    // The client is selected, so the retry hangs off its free output.
    await page.locator('button[data-add="retry"]').click();
    await page.locator('svg#editor g[data-block="retry"][data-kind="retry"]').waitFor({ timeout: 5000 });
    await page.locator('svg#editor g[data-link="client->retry"]').waitFor({ state: 'attached', timeout: 5000 });

    // Deselect, so the server is added unconnected; then connect it by dragging.
    await clickEditorBackground(page);
    await page.locator('button[data-add="server"]').click();
    await page.locator('svg#editor g[data-block="server"][data-kind="server"]').waitFor({ timeout: 5000 });
    const links = await page.locator('svg#editor g[data-link]').evaluateAll((els) => els.map((e) => e.dataset.link));
    assert(
      JSON.stringify(links) === JSON.stringify(['client->retry']),
      `before the drag the links should be client->retry only, they are ${JSON.stringify(links)}`,
    );
    const before = await runId(page);

    await page.locator('svg#editor').scrollIntoViewIfNeeded();
    const port = await page.locator('circle[data-port="out"][data-block-port="retry"]').boundingBox();
    const target = await page.locator('svg#editor g[data-block="server"] rect.block-box').boundingBox();
    assert(port && target, 'the retry port or the server block has no box on screen');
    await page.mouse.move(port.x + port.width / 2, port.y + port.height / 2);
    await page.mouse.down();
    await page.mouse.move(port.x + 30, port.y + 10, { steps: 3 });
    await page.locator('svg#editor line.link-pending').waitFor({ timeout: 2000 }).catch(() => {
      throw new Error('pressing the retry output port and moving did not start a pending link (line.link-pending)');
    });
    await page.mouse.move(target.x + target.width / 2, target.y + target.height / 2, { steps: 10 });
    await page.mouse.up();
    await page.locator('svg#editor g[data-link="retry->server"]').waitFor({ state: 'attached', timeout: 5000 }).catch(() => {
      throw new Error('dragging from the retry output onto the server did not create the link retry->server');
    });

    const state = await waitForVerdict(page, { notRunId: before, what: 'the hand-built scenario' });
    assert(state.verdict === 'stable', `hand-built client → retry → server gives ${state.verdict}, expected stable: ${state.text}`);
    await expectInk(page, ALWAYS_CHARTS);
    const problems = await page.locator('[data-testid=problems]').count();
    assert(problems === 0, 'the problems list should be gone once the scenario is valid');
    return `verdict ${state.verdict}: ${state.text}`;
  });
});

test('max_attempts = 1 on the retry storm turns the verdict to recovered', async (ctx) => {
  return withApp(ctx, async (app) => {
    const { page } = app;
    const first = await waitForVerdict(page, { what: 'the default scenario' });
    assert(first.verdict === 'metastable', `the retry storm starts metastable, got ${first.verdict}`);
    await selectBlock(page, 'retries');
    await fillField(page, 'max_attempts', 1);
    const state = await waitForVerdict(page, { notRunId: first.runId, what: 'the edited retry storm' });
    assert(state.verdict === 'recovered', `with max_attempts = 1 the verdict is ${state.verdict}, expected recovered: ${state.text}`);
    const summary = await page.locator('svg#editor g[data-block="retries"] .block-summary').textContent();
    assert(/\b1 attempt/.test(summary), `the block should show its new value, it shows ${JSON.stringify(summary)}`);
    await expectInk(page, ALWAYS_CHARTS);
    return `recovered: ${state.text}`;
  });
});

test('a bad inspector value (service.mean_s = -1) shows a message naming the field and keeps the charts', async (ctx) => {
  return withApp(ctx, async (app) => {
    const { page } = app;
    const first = await waitForVerdict(page, { what: 'the default scenario' });
    await selectBlock(page, 'api');
    await fillField(page, 'service.mean_s', -1);
    const error = page.locator('#inspector [data-field-row="service.mean_s"] .field-error');
    await error.first().waitFor({ timeout: 5000 }).catch(() => {
      throw new Error('no .field-error appeared in the service.mean_s row after typing -1');
    });
    const message = await error.first().textContent();
    await page.waitForFunction(() => /problem/.test(document.querySelector('[data-testid=verdict]')?.textContent ?? ''), null, { timeout: 5000 })
      .catch(() => {});
    assert(/^Mean service must be .*-1/.test(message), `the message should name the field and the value typed, it says ${JSON.stringify(message)}`);
    await nextFrames(page, 3);
    const state = await runState(page);
    assert(state.runId === first.runId, `an invalid edit must not start a run (run id ${first.runId} → ${state.runId})`);
    assert(state.verdict === first.verdict, `the banner should keep the last valid verdict (${first.verdict}), it says ${state.verdict}`);
    assert(/problem/.test(state.text), `the banner should mention the scenario's problem, it says ${JSON.stringify(state.text)}`);
    const invalid = await page.locator('svg#editor g[data-block="api"]').getAttribute('class');
    assert(/\binvalid\b/.test(invalid), `the api block should be marked invalid, its class is ${JSON.stringify(invalid)}`);
    await expectInk(page, ALWAYS_CHARTS, 'after the bad edit: ');
    // Fixing the value clears the message and runs the fixed scenario (the same as before).
    await fillField(page, 'service.mean_s', 0.1);
    await page.waitForFunction(() => !document.querySelector('#inspector [data-field-row="service.mean_s"] .field-error'), null, {
      timeout: 5000,
    }).catch(() => {
      throw new Error('the message stayed after the value was fixed back to 0.1');
    });
    return `message: ${message}`;
  });
});

test('a long run (3600 s, 10000 requests/s) keeps the page responsive: no long task > 100 ms, clicks answer < 200 ms', async (ctx) => {
  const initScript = () => {
    window.__longTasks = [];
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
      window.__longTaskObserver = true;
    } catch (e) {
      window.__longTaskObserver = String(e);
    }
    // Click latency: from the click event's timestamp to the theme attribute changing.
    window.__clicks = [];
    window.__themeChanges = [];
    document.addEventListener('click', (e) => window.__clicks.push(e.timeStamp), true);
    // The init script runs before <html> exists: observe the document's whole subtree.
    new MutationObserver((records) => {
      if (records.some((r) => r.target === document.documentElement)) window.__themeChanges.push(performance.now());
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-theme'] });
  };
  return withApp(
    ctx,
    async (app) => {
      const { page } = app;
      assert((await page.evaluate(() => window.__longTaskObserver)) === true, 'the longtask PerformanceObserver could not be installed');
      await waitForVerdict(page, { what: 'the default scenario' });
      await clickEditorBackground(page);
      await fillField(page, 'duration_s', 3600);
      await selectBlock(page, 'users');
      await fillField(page, 'rate', 10000);
      await selectBlock(page, 'api');
      const before = await runId(page);
      const t0 = await page.evaluate(() => performance.now());
      await fillField(page, 'workers', 2000);
      await page.waitForFunction((before) => document.querySelector('[data-testid=status]')?.dataset.runId !== before, before, {
        timeout: 5000,
      });
      const start = await runState(page);
      const samples = [start];
      const clickMs = [];
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        await page.waitForTimeout(2000);
        const n = await page.evaluate(() => window.__themeChanges.length);
        await page.locator('#theme').click();
        await page.waitForFunction((n) => window.__themeChanges.length > n, n, { timeout: 5000 }).catch(() => {
          throw new Error('clicking #theme during the run did not change the theme within 5 s');
        });
        clickMs.push(
          await page.evaluate(() => window.__themeChanges[window.__themeChanges.length - 1] - window.__clicks[window.__clicks.length - 1]),
        );
        samples.push(await runState(page));
      }
      const end = samples[samples.length - 1];
      const tasks = await page.evaluate((t0) => window.__longTasks.filter((t) => t.start >= t0), t0);
      const worst = tasks.reduce((m, t) => Math.max(m, t.duration), 0);
      const sameRun = samples.every((s) => s.runId === start.runId);
      assert(sameRun, `the run restarted during the test: run ids ${samples.map((s) => s.runId).join(', ')}`);
      assert(
        end.events > start.events || end.finished,
        `the run did not progress: events ${start.events} → ${end.events}; status ${JSON.stringify(end.status)}`,
      );
      // Charts draw while the run is in progress.
      await expectInk(page, ALWAYS_CHARTS, 'during the long run: ');
      const progress = samples.map((s) => s.status.match(/t = (\d+)/)?.[1] ?? '?').join(' → ');
      const detail =
        `t ${progress} s; ${end.events} events in ${end.simMs} ms of simulation; ` +
        `${tasks.length} long task(s) since the edit, longest ${worst.toFixed(0)} ms; ` +
        `#theme click → effect ${clickMs.map((m) => m.toFixed(0)).join(', ')} ms; banner ${end.verdict}`;
      assert(worst <= 100, `a long task of ${worst.toFixed(0)} ms (> 100 ms) during the run: ${JSON.stringify(tasks)}\n${detail}`);
      assert(Math.max(...clickMs) < 200, `a click took ${Math.max(...clickMs).toFixed(0)} ms (≥ 200 ms) to take effect\n${detail}`);
      return detail;
    },
    { initScript },
  );
});

test("a run over the browser's work budget stops with a message and Go on; the page answers throughout", async (ctx) => {
  const initScript = () => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  };
  return withApp(
    ctx,
    async (app) => {
      const { page } = app;
      await waitForVerdict(page, { what: 'the default scenario' });
      // Typed as a person types: 3600 s at 10,000 requests/s is about 150 million units of
      // work, three times the tab's budget.
      const type = async (field, text) => {
        const input = page.locator(`#inspector input[data-field="${field}"]`);
        await input.click();
        await input.press('Control+A');
        await input.pressSequentially(text, { delay: 100 });
        await input.press('Enter');
      };
      await clickEditorBackground(page);
      await type('duration_s', '3600');
      await selectBlock(page, 'users');
      await type('rate', '10000');
      await selectBlock(page, 'api');
      const t0 = await page.evaluate(() => performance.now());
      await type('workers', '2000');
      const stopped = await page
        .waitForFunction(() => document.querySelector('[data-testid=go-on]') !== null, null, { timeout: 60_000 })
        .then(() => runState(page))
        .catch(async () => {
          throw new Error(`no Go on button within 60 s; the banner says ${JSON.stringify((await runState(page)).text)}`);
        });
      assert(/budget of work/.test(stopped.text), `the banner should say which budget stopped the run: ${stopped.text}`);
      assert(/Go on/.test(stopped.text) && /t = /.test(stopped.text), `the banner should say how far the run got and how to go on: ${stopped.text}`);
      const tasks = await page.evaluate((t0) => window.__longTasks.filter((t) => t.start >= t0), t0);
      const worst = tasks.reduce((m, t) => Math.max(m, t.duration), 0);
      assert(worst <= 100, `a long task of ${worst.toFixed(0)} ms (> 100 ms) before the budget stopped the run`);
      // The page answers: the theme switch works at once.
      const theme = await page.evaluate(() => document.documentElement.dataset.theme);
      await page.locator('#theme').click();
      await page.waitForFunction((theme) => document.documentElement.dataset.theme !== theme, theme, { timeout: 1000 });
      await page.locator('[data-testid=go-on]').click();
      await page.waitForFunction((before) => {
        const status = document.querySelector('[data-testid=status]');
        return status && Number(status.dataset.events) > before;
      }, stopped.events, { timeout: 10_000 }).catch(() => {
        throw new Error('after Go on the run did not advance');
      });
      const after = await runState(page);
      return `stopped after ${stopped.events} events: "${stopped.text}"; longest task ${worst.toFixed(0)} ms; Go on → ${after.events} events`;
    },
    { initScript },
  );
});

test('pause, step and reset at 1× speed', async (ctx) => {
  return withApp(ctx, async (app) => {
    const { page } = app;
    await waitForVerdict(page, { what: 'the default scenario' });
    await page.locator('select#speed').selectOption('1');
    const before = await runId(page);
    await page.locator('#reset').click();
    await page.waitForFunction((before) => document.querySelector('[data-testid=status]')?.dataset.runId !== before, before, {
      timeout: 5000,
    });
    const playing = await page.locator('#play').getAttribute('aria-pressed');
    assert(playing === 'true', `#play should be pressed while playing, aria-pressed=${playing}`);
    await page.waitForTimeout(1500);
    const s1 = await runState(page);
    assert(s1.verdict === 'running', `at 1× the run should show running, banner says ${s1.verdict}: ${s1.text}`);
    assert(!s1.finished, 'at 1× the run cannot be finished after 1.5 s');
    assert(s1.events > 0, `after 1.5 s at 1× the run should have advanced, events = ${s1.events}`);

    await page.locator('#play').click();
    await page.waitForFunction(() => document.querySelector('#play')?.getAttribute('aria-pressed') === 'false', null, { timeout: 2000 });
    await nextFrames(page, 2);
    const paused = await runState(page);
    await page.waitForTimeout(800);
    const still = await runState(page);
    assert(still.events === paused.events, `paused, the run kept going: events ${paused.events} → ${still.events}`);
    assert(still.verdict === 'running', `paused, the banner should still say running, it says ${still.verdict}`);

    await page.locator('#step').click();
    await page.waitForFunction((e) => Number(document.querySelector('[data-testid=status]')?.dataset.events) > e, still.events, {
      timeout: 5000,
    }).catch(() => {
      throw new Error(`step did not advance the run (events stayed ${still.events})`);
    });
    const stepped = await runState(page);
    const tOf = (s) => Number(s.status.match(/t = (\d+)/)?.[1]);
    assert(tOf(stepped) > tOf(still), `step should advance t: ${still.status} → ${stepped.status}`);
    assert((await page.locator('#play').getAttribute('aria-pressed')) === 'false', 'after a step the run stays paused');

    await page.locator('#reset').click();
    await page.waitForFunction((id) => document.querySelector('[data-testid=status]')?.dataset.runId !== id, stepped.runId, {
      timeout: 5000,
    }).catch(() => {
      throw new Error(`reset did not start a new run (run id stayed ${stepped.runId})`);
    });
    await nextFrames(page, 2);
    const reset = await runState(page);
    assert(reset.events < stepped.events, `after reset the run starts again: events ${stepped.events} → ${reset.events}`);
    assert(tOf(reset) < tOf(stepped), `after reset t goes back: ${stepped.status} → ${reset.status}`);
    return `t ${tOf(s1)} → paused ${tOf(still)} → step ${tOf(stepped)} → reset ${tOf(reset)}; run ${stepped.runId} → ${reset.runId}`;
  });
});

test('hovering a chart shows a readout of values', async (ctx) => {
  return withApp(ctx, async (app) => {
    const { page } = app;
    await waitForVerdict(page, { what: 'the default scenario' });
    const canvas = page.locator('figure[data-chart="traffic"] canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    assert(box, 'the traffic chart has no box on screen');
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 5 });
    const items = page.locator('figure[data-chart="traffic"] .readout-item');
    await items.first().waitFor({ timeout: 5000 }).catch(() => {
      throw new Error('hovering the traffic chart showed no .readout-item');
    });
    const texts = await items.allTextContents();
    const t = await page.locator('figure[data-chart="traffic"] .readout-t').textContent().catch(() => '');
    assert(/t = \d+ s/.test(t), `the readout should name the time, it shows ${JSON.stringify(t)}`);
    // The cursor is shared: the other charts show their values at the same time.
    const latency = await page.locator('figure[data-chart="latency"] .readout-item').count();
    assert(latency > 0, 'the latency chart should show a readout at the shared cursor');
    await page.mouse.move(box.x + box.width * 0.5, box.y - 40, { steps: 3 });
    await page.locator('figure[data-chart="traffic"] .readout-item').first().waitFor({ state: 'detached', timeout: 3000 }).catch(() => {
      throw new Error('the readout stayed after the pointer left the chart');
    });
    return `${t}: ${texts.map((s) => s.trim()).join(' | ')}`;
  });
});

// ---------------------------------------------------------------------------------------------
// Main.

runSuite('e2e', tests);
