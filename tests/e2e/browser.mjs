// Browser helpers for the end-to-end tests and the benchmark: launching Chromium through
// playwright-core, opening the app with error collection, waiting for runs and verdicts, and
// checking that charts have ink.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  // Without these Chromium keeps trying to reach outside hosts.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-extensions',
];

export const VIEWPORT = { width: 1440, height: 900 };

/** The verdicts a finished run can have. */
export const FINAL_VERDICTS = ['stable', 'recovered', 'degraded', 'recovering', 'metastable', 'overloaded', 'undefined'];

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Opens the app in a fresh browser context and waits until the wasm app has rendered.
 * Collects console errors, uncaught page errors, failed requests and HTTP ≥ 400 responses in
 * `problems`; `check()` throws if there are any. Options: `initScript` (a function or source
 * run before any page script), `waitForApp` (default true).
 */
export async function openApp(browser, url, { initScript = null, waitForApp = true, viewport = VIEWPORT } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems = [];
  const warnings = [];
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error') problems.push(`console error: ${text}`);
    else if (msg.type() === 'warning') {
      // A chart that failed to draw is a user-visible failure.
      if (/^chart /.test(text)) problems.push(`chart warning: ${text}`);
      else warnings.push(text);
    }
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });
  if (initScript) await page.addInitScript(initScript);
  await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  if (waitForApp) await waitForAppReady(page);
  const app = {
    page,
    context,
    problems,
    warnings,
    check() {
      if (problems.length > 0) throw new Error(`the page reported problems:\n  ${problems.join('\n  ')}`);
    },
    close: () => context.close(),
  };
  return app;
}

/** Waits until the app has rendered its banner and the wasm exports are reachable. */
export async function waitForAppReady(page, timeout = 30_000) {
  try {
    await page.waitForFunction(
      () => !!document.querySelector('[data-testid=verdict]') && !!window.wasmBindings,
      null,
      { timeout },
    );
  } catch (e) {
    const body = await page.evaluate(() => document.body?.innerText?.slice(0, 300) ?? '').catch(() => '?');
    throw new Error(`the app did not start within ${timeout / 1000} s; the page shows: ${JSON.stringify(body)}`);
  }
}

/** The banner's and the status line's state. */
export async function runState(page) {
  return page.evaluate(() => {
    const banner = document.querySelector('[data-testid=verdict]');
    const status = document.querySelector('[data-testid=status]');
    return {
      verdict: banner?.getAttribute('data-verdict') ?? null,
      // The explanation sentence (the banner also shows the verdict's label before it).
      text: (banner?.querySelector('.verdict-text, .verdict-note') ? [...banner.querySelectorAll('.verdict-text, .verdict-note')].map((e) => e.textContent.trim()).join(' ') : banner?.textContent?.trim()) ?? null,
      runId: status?.getAttribute('data-run-id') ?? null,
      finished: status?.getAttribute('data-finished') === 'true',
      simMs: Number(status?.getAttribute('data-sim-ms') ?? NaN),
      events: Number(status?.getAttribute('data-events') ?? NaN),
      status: status?.innerText?.trim() ?? null,
    };
  });
}

/**
 * Waits until a run is finished and shows a final verdict (or "stopped"). With `notRunId`, the
 * finished run must be a different one (the run an action started). Resolves to `runState`.
 */
export async function waitForVerdict(page, { notRunId = null, timeout = 60_000, what = 'the run' } = {}) {
  try {
    await page.waitForFunction(
      ({ notRunId, finals }) => {
        const banner = document.querySelector('[data-testid=verdict]');
        const status = document.querySelector('[data-testid=status]');
        if (!banner || !status) return false;
        if (notRunId !== null && status.getAttribute('data-run-id') === notRunId) return false;
        const v = banner.getAttribute('data-verdict');
        return status.getAttribute('data-finished') === 'true' && (finals.includes(v) || v === 'stopped');
      },
      { notRunId, finals: FINAL_VERDICTS },
      { timeout, polling: 50 },
    );
  } catch (e) {
    if (!/Timeout/i.test(e.message)) throw e;
    const s = await runState(page).catch(() => ({}));
    throw new Error(
      `verdict for ${what} not shown within ${timeout / 1000} s; banner says ${s.verdict}: ` +
        `${JSON.stringify(s.text)}; status: run ${s.runId}, finished ${s.finished}, ${JSON.stringify(s.status)}`,
    );
  }
  // Let the charts' effects and the next frame happen.
  await nextFrames(page, 2);
  return runState(page);
}

/** Waits for `n` animation frames in the page. */
export async function nextFrames(page, n = 1) {
  await page.evaluate(
    (n) =>
      new Promise((resolve) => {
        let left = n;
        const tick = () => (--left <= 0 ? resolve() : requestAnimationFrame(tick));
        requestAnimationFrame(tick);
      }),
    n,
  );
}

/**
 * In-page function (pass to page.evaluate or call inside one): counts the pixels of a canvas
 * that differ from its top-left pixel (the background). -1 when there is no such canvas.
 */
export function inkOf(selector) {
  const canvas = document.querySelector(selector);
  if (!canvas || canvas.width === 0 || canvas.height === 0) return -1;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const [r, g, b, a] = [data[0], data[1], data[2], data[3]];
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] !== r || data[i + 1] !== g || data[i + 2] !== b || data[i + 3] !== a) ink++;
  }
  return ink;
}

/** The ink of every chart on the page: { traffic: pixels, latency: pixels, ... }. */
export async function chartInk(page) {
  return page.evaluate((inkSource) => {
    const inkOf = new Function(`return (${inkSource})`)();
    const out = {};
    for (const figure of document.querySelectorAll('figure[data-chart]')) {
      const id = figure.getAttribute('data-chart');
      out[id] = inkOf(`figure[data-chart="${id}"] canvas`);
    }
    return out;
  }, inkOf.toString());
}

/** Pixels a chart needs to count as drawn (axes alone have a few thousand; data adds more). */
export const MIN_INK = 3000;

/** Throws unless each chart in `ids` exists and has at least MIN_INK pixels of ink. */
export async function expectInk(page, ids, label = '') {
  const ink = await chartInk(page);
  const bad = ids.filter((id) => !(ink[id] >= MIN_INK));
  if (bad.length > 0) {
    throw new Error(`${label}charts without ink (need ≥ ${MIN_INK} pixels): ${bad.map((id) => `${id}=${ink[id] ?? 'missing'}`).join(', ')}`);
  }
  return ink;
}

/** Throws with `message` unless `cond`. */
export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/**
 * Runs `action` (e.g. a click) and resolves to the download it starts:
 * `{ name: suggested file name, bytes: Buffer }`. Throws if no download starts or it fails.
 */
export async function downloadOf(page, action, { timeout = 10_000, what = 'the download' } = {}) {
  let download;
  try {
    [download] = await Promise.all([page.waitForEvent('download', { timeout }), action()]);
  } catch (e) {
    if (/Timeout/i.test(e.message)) throw new Error(`${what} did not start within ${timeout / 1000} s`);
    throw e;
  }
  const failure = await download.failure();
  if (failure) throw new Error(`${what} (${download.suggestedFilename()}) failed: ${failure}`);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

/**
 * Drags a file onto the element `selector` and drops it there: `dragover`, then `drop`, with a
 * DataTransfer holding `new File([text], name, { type })` made in the page. `afterDragover`
 * (optional) runs between the two events, e.g. to check a drop hint.
 */
export async function dropFile(page, selector, { name, text, type = 'application/json' }, { afterDragover = null } = {}) {
  const dataTransfer = await page.evaluateHandle(
    ({ name, text, type }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], name, { type }));
      return dt;
    },
    { name, text, type },
  );
  try {
    await page.dispatchEvent(selector, 'dragover', { dataTransfer });
    if (afterDragover) await afterDragover();
    await page.dispatchEvent(selector, 'drop', { dataTransfer });
  } finally {
    await dataTransfer.dispose().catch(() => {});
  }
}

/** Polls `page.url()` until `predicate(url)` holds; resolves to the URL. */
export async function waitForUrl(page, predicate, { timeout = 5000, what = 'the address' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const url = page.url();
    if (predicate(url)) return url;
    if (Date.now() > deadline) throw new Error(`${what} did not change as expected within ${timeout / 1000} s; it is ${url}`);
    await page.waitForTimeout(25);
  }
}

/**
 * Runs `fn(open)`, where `open(url, options)` opens the app (see `openApp`) in a fresh
 * context; then checks that no opened page reported a problem, and always closes them all.
 */
export async function withApps(browser, fn) {
  const apps = [];
  const open = async (url, options) => {
    const app = await openApp(browser, url, options);
    apps.push(app);
    return app;
  };
  try {
    const result = await fn(open);
    for (const app of apps) app.check();
    return result;
  } finally {
    for (const app of apps) await app.close().catch(() => {});
  }
}
