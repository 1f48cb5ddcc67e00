// End-to-end tests of sharing in the playground, in headless Chromium: share links (the
// scenario in the address, history, broken links, hostile names), the share dialog and its
// embed code, embed mode (in a host page of another origin and in the example blog post),
// exports (CSV equal to the CLI's, PNG, JSON) and imports (file picker, drag-and-drop).
//
// usage: node tests/e2e/share.test.mjs [distDir] [--prefix /sub/path/] [--only SUBSTRING]
//   distDir   the built site (default: dist, from `trunk build --release`)
//   --prefix  serve the site under this URL path (sub-path deployment), default "/"
//   --only    run only the tests whose name contains SUBSTRING (repeatable)
// Needs the native CLI (target/debug/metastable or target/release/metastable: `cargo build -p
// metastable-cli`) for the CLI comparisons and to make links. Prints each test with ok/FAIL and
// its time; exits 1 if any test fails.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './server.mjs';
import { runSuite } from './suite.mjs';
import {
  withApps,
  waitForAppReady,
  waitForVerdict,
  runState,
  expectInk,
  assert,
  downloadOf,
  dropFile,
  waitForUrl,
  FINAL_VERDICTS,
  MIN_INK,
} from './browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SCREENSHOTS = path.join(HERE, 'screenshots');
const ALWAYS_CHARTS = ['traffic', 'outcomes', 'latency', 'backlog', 'amplification', 'useful'];
const TEST_TIMEOUT_MS = 90_000;
const NOTICE_START = 'The link could not be opened';
const NOTICE_END = 'Showing the default scenario instead.';

const presetText = (name) => readFileSync(path.join(ROOT, 'crates/sim-core/src/presets', `${name}.json`), 'utf8');
const preset = (name) => JSON.parse(presetText(name));
const STORM = preset('retry-storm');

// ---------------------------------------------------------------------------------------------
// The native CLI.

/** The CLI binary: the newer of target/{debug,release}/metastable; throws if neither exists. */
function cliPath() {
  const found = ['target/debug/metastable', 'target/release/metastable']
    .map((p) => path.join(ROOT, p))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (found.length === 0) {
    throw new Error(
      'the metastable CLI is not built: neither target/debug/metastable nor target/release/metastable exists ' +
        '(build it with `cargo build -p metastable-cli`)',
    );
  }
  return found[0];
}

/** Runs the CLI; resolves to its standard output as a Buffer (throws with its stderr on failure). */
function cli(args) {
  const bin = cliPath();
  try {
    return execFileSync(bin, args, { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${path.relative(ROOT, bin)} ${args.join(' ')} failed (${e.status}): ${String(e.stderr ?? e.message).trim()}`);
  }
}

/** A share link from the CLI: `metastable url SCENARIO --base BASE [extra…]`. */
const cliLink = (scenario, base, ...extra) => cli(['url', scenario, '--base', base, ...extra]).toString('utf8').trim();

// ---------------------------------------------------------------------------------------------
// Page helpers.

/** Where two texts first differ, as "line N: A | B" (or a length difference). */
function firstDifference(a, b) {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}:\n  ${JSON.stringify(la[i])}\n  ${JSON.stringify(lb[i])}`;
  }
  return `same lines, lengths ${a.length} and ${b.length}`;
}

/** JSON text with every object's keys sorted: equal for equal documents. */
function canonical(value) {
  const sort = (v) =>
    Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v;
  return JSON.stringify(sort(value));
}

const currentCsv = (page) => page.evaluate(() => window.wasmBindings.current_csv());
const titleOf = async (page) => (await page.locator('[data-testid=title]').textContent())?.trim();
const payloadOf = (url) => new URL(url).searchParams.get('s');

/** Types a seed into #seed and commits it (Enter). */
async function setSeed(page, seed) {
  const input = page.locator('#seed');
  await input.fill(String(seed));
  await input.press('Enter');
}

/** Sets a range input (an embed's slider) as a drag would: the value, then an input event. */
async function setSlider(frame, knob, value) {
  const found = await frame.evaluate(
    ({ knob, value }) => {
      const input = document.querySelector(`input[type=range][data-knob="${knob}"]`);
      if (!input) return false;
      input.value = String(value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      return input.value;
    },
    { knob, value },
  );
  assert(found !== false, `no slider input[data-knob="${knob}"]`);
  return found;
}

/** Waits until the status shows a run other than `runId` (started, not necessarily finished). */
async function waitForNewRun(frame, runId, what) {
  await frame
    .waitForFunction((id) => document.querySelector('[data-testid=status]')?.dataset.runId !== id, runId, { timeout: 5000 })
    .catch(() => {
      throw new Error(`${what} did not start a new run (run id stayed ${runId})`);
    });
}

async function waitForTitle(page, title, what) {
  await page
    .waitForFunction((t) => document.querySelector('[data-testid=title]')?.textContent.trim() === t, title, { timeout: 10_000 })
    .catch(async () => {
      throw new Error(`${what}: the title should become ${JSON.stringify(title)}, it is ${JSON.stringify(await titleOf(page))}`);
    });
}

async function noticeText(page, what, timeout = 5000) {
  const notice = page.locator('[data-testid=notice]');
  await notice.waitFor({ timeout }).catch(() => {
    throw new Error(`${what}: no [data-testid=notice] appeared`);
  });
  // The notice holds a dismiss button (✕) after its text.
  return (await notice.evaluate((e) => [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join(''))).trim();
}

/** Selects a block in the editor and waits for the inspector to show it. */
async function selectBlock(page, id) {
  const block = page.locator(`svg#editor g[data-block="${id}"]`);
  await block.scrollIntoViewIfNeeded();
  await block.locator('.block-id').click();
  await page.waitForFunction((id) => document.querySelector('#inspector h2 code')?.textContent === id, id, { timeout: 5000 }).catch(async () => {
    const h2 = await page.locator('#inspector h2').first().textContent().catch(() => '?');
    throw new Error(`clicking block ${id} did not select it; the inspector shows ${JSON.stringify(h2)}`);
  });
}

async function openShare(page) {
  await page.locator('#share').click();
  await page.locator('#share-dialog').waitFor({ timeout: 5000 }).catch(() => {
    throw new Error('clicking #share did not open #share-dialog');
  });
}

async function expectDialogClosed(page, how) {
  await page.locator('#share-dialog').waitFor({ state: 'detached', timeout: 3000 }).catch(() => {
    throw new Error(`the share dialog did not close on ${how}`);
  });
}

/** The share link the dialog offers (opens and closes the dialog). */
async function shareLink(page) {
  await openShare(page);
  const url = await page.locator('#share-url').inputValue();
  await page.locator('#share-close').click();
  await expectDialogClosed(page, '#share-close');
  return url;
}

const figures = (frame) => frame.locator('figure[data-chart]').evaluateAll((els) => els.map((e) => e.dataset.chart));
const sliders = (frame) => frame.locator('input[type=range][data-knob]').evaluateAll((els) => els.map((e) => e.dataset.knob));

/** The ink of every chart canvas in the frame (a figure may hold more than one). */
const canvasInk = (frame) =>
  frame.evaluate(() =>
    [...document.querySelectorAll('figure[data-chart] canvas')].map((canvas) => {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2] || data[i + 3] !== data[3]) ink++;
      }
      return { chart: canvas.closest('figure').dataset.chart, ink };
    }),
  );

// ---------------------------------------------------------------------------------------------
// The tests, run by suite.mjs.
const tests = [];
const test = (name, fn, timeoutMs = TEST_TIMEOUT_MS) => tests.push({ name, fn, timeoutMs });

// ---------------------------------------------------------------------------------------------
// The tests.

test('link round trip: an edited seed goes into the address, and the address opens the same run elsewhere', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const { page } = await open(ctx.url);
    const first = await waitForVerdict(page, { what: 'the default scenario' });
    await setSeed(page, 4242);
    const edited = await waitForVerdict(page, { notRunId: first.runId, what: 'seed 4242' });
    const url = await waitForUrl(page, (u) => payloadOf(u) !== null, { what: 'the address after the seed edit' });
    assert(payloadOf(url).startsWith('1.'), `the address's payload should start "1.", it is ${payloadOf(url).slice(0, 20)}…`);
    const title = await titleOf(page);
    const csv = await currentCsv(page);

    const other = await open(url);
    const reopened = await waitForVerdict(other.page, { what: 'the shared link' });
    const seed = await other.page.locator('#seed').inputValue();
    assert(seed === '4242', `the link opened with seed ${seed}, expected 4242`);
    const otherTitle = await titleOf(other.page);
    assert(otherTitle === title, `the link's title is ${JSON.stringify(otherTitle)}, the original's ${JSON.stringify(title)}`);
    const otherCsv = await currentCsv(other.page);
    assert(otherCsv === csv, `current_csv() differs between the original and the opened link, at ${firstDifference(csv, otherCsv)}`);
    assert(reopened.verdict === edited.verdict, `verdict ${edited.verdict} there, ${reopened.verdict} here`);
    return `${url.length}-character link; seed 4242, ${csv.split('\n').length - 2} rows, verdict ${reopened.verdict} in both`;
  }));

test("the CLI's CSV for a share link equals the CSV the page exports for it, byte for byte", async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const { page } = await open(ctx.url);
    const first = await waitForVerdict(page, { what: 'the default scenario' });
    await setSeed(page, 99);
    await waitForVerdict(page, { notRunId: first.runId, what: 'seed 99' });
    const link = await shareLink(page);
    assert(payloadOf(link)?.startsWith('1.'), `#share-url does not hold a link with ?s=1.…: ${link}`);
    const fromCli = cli(['run', link]);
    const csv = await downloadOf(page, () => page.locator('#export-csv').click(), { what: 'the CSV export' });
    assert(csv.name === 'retry-storm-seed99.csv', `the CSV is named ${csv.name}, expected retry-storm-seed99.csv`);
    if (!csv.bytes.equals(fromCli)) {
      throw new Error(
        `the exported CSV (${csv.bytes.length} bytes) differs from \`metastable run LINK\` (${fromCli.length} bytes) at ` +
          firstDifference(fromCli.toString('utf8'), csv.bytes.toString('utf8')) +
          `\n(first: the CLI, second: the page)`,
      );
    }
    const inPage = await currentCsv(page);
    assert(inPage === fromCli.toString('utf8'), `current_csv() differs from the CLI at ${firstDifference(fromCli.toString('utf8'), inPage)}`);
    return `${path.relative(ROOT, cliPath())} run LINK: ${fromCli.length} bytes, identical to ${csv.name}`;
  }));

test('history: a preset adds an entry, an edit rewrites it, back and forward reopen each scenario', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const { page } = await open(ctx.url);
    const first = await waitForVerdict(page, { what: 'the default scenario' });
    // The plain address is left alone until the first edit.
    await page.waitForTimeout(400);
    assert(page.url() === ctx.url, `the plain address should stay as it is, it became ${page.url()}`);
    const length0 = await page.evaluate(() => history.length);

    await page.locator('button[data-preset="cold-cache"]').click();
    const cold = await waitForVerdict(page, { notRunId: first.runId, what: 'the cold cache preset' });
    await waitForTitle(page, 'Cold cache', 'after the cold-cache preset');
    const coldUrl = await waitForUrl(page, (u) => payloadOf(u) !== null, { what: 'the address after opening a preset' });
    const length1 = await page.evaluate(() => history.length);
    assert(length1 === length0 + 1, `opening a preset should add a history entry: history.length ${length0} → ${length1}`);

    await setSeed(page, 31);
    await waitForVerdict(page, { notRunId: cold.runId, what: 'seed 31' });
    const editedUrl = await waitForUrl(page, (u) => u !== coldUrl, { what: 'the address after the seed edit' });
    const length2 = await page.evaluate(() => history.length);
    assert(length2 === length1, `an edit should replace the entry, not add one: history.length ${length1} → ${length2}`);

    let before = (await runState(page)).runId;
    await page.goBack();
    await waitForTitle(page, 'Retry storm', 'after going back');
    const back = await waitForVerdict(page, { notRunId: before, what: 'the retry storm after going back' });
    assert(back.verdict === 'metastable', `after going back the verdict is ${back.verdict}, expected metastable`);
    assert(page.url() === ctx.url, `going back should return to the plain address, it is ${page.url()}`);
    const backSeed = await page.locator('#seed').inputValue();
    assert(backSeed === String(STORM.seed), `after going back the seed is ${backSeed}, expected ${STORM.seed}`);
    await expectInk(page, ALWAYS_CHARTS, 'after going back: ');

    before = back.runId;
    await page.goForward();
    await waitForTitle(page, 'Cold cache', 'after going forward');
    const forward = await waitForVerdict(page, { notRunId: before, what: 'the cold cache after going forward' });
    const seed = await page.locator('#seed').inputValue();
    assert(seed === '31', `going forward should reopen the edited entry (seed 31), the seed is ${seed}`);
    assert(page.url() === editedUrl, `after going forward the address is ${page.url()}, expected ${editedUrl}`);

    // An edit followed at once by another preset (before the address settles) is not lost:
    // the entry being left keeps it.
    await setSeed(page, 32);
    await page.locator('button[data-preset="stale-queue"]').click();
    await waitForTitle(page, 'Stale queue', 'after the stale-queue preset');
    await waitForUrl(page, (u) => u !== editedUrl && payloadOf(u) !== null, { what: 'the stale-queue address' });
    await page.goBack();
    await waitForTitle(page, 'Cold cache', 'after going back from stale queue');
    const kept = await page.locator('#seed').inputValue();
    assert(kept === '32', `the quick edit before opening a preset should stay in its entry: seed ${kept}, expected 32`);
    return `history.length ${length0} → ${length1} (preset) → ${length2} (edit); back: ${back.verdict}; forward: ${forward.verdict}, seed ${seed}; a quick edit before a preset kept (seed ${kept})`;
  }));

test('a broken link (truncated, one character changed, garbage, a newer format, a zip bomb, not DEFLATE) opens the default scenario with a message', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const app = await open(ctx.url);
    const { page } = app;
    const first = await waitForVerdict(page, { what: 'the default scenario' });
    await setSeed(page, 11);
    await waitForVerdict(page, { notRunId: first.runId, what: 'seed 11' });
    const good = payloadOf(await waitForUrl(page, (u) => payloadOf(u) !== null));
    const middle = Math.floor(good.length / 2);
    const flipped = good.slice(0, middle) + (good[middle] === 'A' ? 'B' : 'A') + good.slice(middle + 1);
    const cases = {
      truncated: good.slice(0, Math.floor(good.length * 0.6)),
      'one character changed': flipped,
      garbage: 'garbage',
      'newer format 9.abc': '9.abc',
      // Read by the browser's DecompressionStream: a "zip bomb" stops at 1 MiB, and data
      // that is not DEFLATE is named as such.
      'zip bomb (8 MiB of spaces)': `1.${Buffer.concat([Buffer.alloc(5), zlib.deflateRawSync(Buffer.alloc(8 << 20, 32), { level: 9 })]).toString('base64url')}`,
      'not DEFLATE': `1.${Buffer.concat([Buffer.alloc(5), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x13])]).toString('base64url')}`,
    };
    const lines = [];
    for (const [what, payload] of Object.entries(cases)) {
      await page.goto(`${ctx.url}?s=${payload}`, { waitUntil: 'load' });
      await waitForAppReady(page);
      const state = await waitForVerdict(page, { what: `the ${what} link` });
      const notice = await noticeText(page, `the ${what} link`);
      assert(
        notice.startsWith(NOTICE_START) && notice.endsWith(NOTICE_END),
        `the ${what} link: the notice should start "${NOTICE_START}" and end "${NOTICE_END}", it says ${JSON.stringify(notice)}`,
      );
      assert(state.verdict === 'metastable', `the ${what} link: the default scenario should be metastable, the banner says ${state.verdict}`);
      const title = await titleOf(page);
      assert(title === STORM.name, `the ${what} link: the title is ${JSON.stringify(title)}, expected ${JSON.stringify(STORM.name)}`);
      const seed = await page.locator('#seed').inputValue();
      assert(seed === String(STORM.seed), `the ${what} link: seed ${seed}, the default scenario's is ${STORM.seed}`);
      await expectInk(page, ALWAYS_CHARTS, `the ${what} link: `);
      app.check();
      lines.push(`${what}: ${notice}`);
    }
    return lines.join('\n');
  }));

/** CRC-32 (IEEE) of the flags byte then `data`: the checksum of a format-1 link. */
function crc32(flags, data) {
  let crc = ~0 >>> 0;
  for (const byte of [flags, ...data]) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** A well-formed format-1 payload (flags 0) for any JSON text, valid or not. */
function forgePayload(json) {
  const bytes = Buffer.from(json, 'utf8');
  const header = Buffer.alloc(5);
  header.writeUInt32BE(crc32(0, bytes), 1);
  return `1.${Buffer.concat([header, zlib.deflateRawSync(bytes, { level: 9 })]).toString('base64url')}`;
}

test('a forged link (a balancer listing one block 262,000 times) opens the default scenario with a message and adds no long task', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const doc = {
      version: 1,
      duration_s: 10,
      blocks: [
        { id: 'users', kind: 'client', rate: 10, to: 'lb' },
        { id: 'lb', kind: 'balancer', to: Array(262_000).fill('a') },
        { id: 'a', kind: 'server', workers: 1, service: { dist: 'exponential', mean_s: 0.1 } },
      ],
    };
    const json = JSON.stringify(doc);
    const payload = forgePayload(json);
    const href = `${ctx.url}?s=${payload}`;
    const initScript = () => {
      window.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration, name: e.name });
      }).observe({ type: 'longtask', buffered: true });
    };
    // The link is inflated by the browser's DecompressionStream before the page first renders,
    // then checked and refused inside the first render's task. What the link itself costs is
    // measured in the page (`open_link_ms`: decode, check and refuse, five times, the median).
    // The page's own start is long whatever the address says: the first render (150–500 ms on
    // the loaded 2-core host, the first visit's cost of issue 15) and then frames of the first
    // run that reach 100–120 ms there. So the long tasks are compared with the same page opened
    // without the link, in turns: a link that froze the tab (the seconds this list once cost)
    // shows in every turn, a busy host in one.
    const longest = async (page) => {
      const tasks = (await page.evaluate(() => window.__longTasks)).map((t) => t.duration).sort((a, b) => b - a);
      return { first: tasks[0] ?? 0, others: tasks[1] ?? 0 };
    };
    const turns = [];
    let notice = '';
    let costs = [];
    for (let turn = 0; turn < 2; turn++) {
      const plain = await open(ctx.url, { initScript });
      await waitForVerdict(plain.page, { what: 'the page without a link' });
      await expectInk(plain.page, ALWAYS_CHARTS, 'without a link: ');
      const without = await longest(plain.page);
      await plain.close();

      const app = await open(href, { initScript });
      const { page } = app;
      const state = await waitForVerdict(page, { what: 'the forged link' });
      notice = await noticeText(page, 'the forged link');
      assert(notice.startsWith(NOTICE_START) && notice.endsWith(NOTICE_END), `the notice says ${JSON.stringify(notice)}`);
      assert(/more than 1000 entries/.test(notice), `the notice should name the list's limit: ${notice}`);
      assert(/blocks\[1\]/.test(notice) && /`to`/.test(notice), `the notice should name the block and field: ${notice}`);
      assert(state.verdict === 'metastable', `the default scenario opens instead, the banner says ${state.verdict}`);
      await expectInk(page, ALWAYS_CHARTS, 'after the forged link: ');
      const withLink = await longest(page);
      if (turn === 0) costs = await page.evaluate((href) => [0, 1, 2, 3, 4].map(() => window.wasmBindings.open_link_ms(href)), href);
      await app.close();
      turns.push({ without, withLink });
    }
    const cost = [...costs].sort((a, b) => a - b)[2];
    const ms = (x) => x.toFixed(0);
    const detail =
      `refusing the link takes ${cost.toFixed(1)} ms in the page (${costs.map((c) => c.toFixed(1)).join(', ')}); ` +
      turns
        .map(
          ({ without, withLink }, i) =>
            `turn ${i + 1}: longest task ${ms(withLink.first)} ms with the link, ${ms(without.first)} without; ` +
            `next longest ${ms(withLink.others)} with, ${ms(without.others)} without`,
        )
        .join('; ');
    assert(cost <= 50, `refusing the forged link took ${cost.toFixed(1)} ms in the page (${detail})`);
    // A turn passes when the link's page has no task over 100 ms besides its first render, or
    // none longer than the page without the link had in the same turn, with 25 ms for noise.
    const passes = ({ without, withLink }) =>
      withLink.others <= Math.max(100, without.others + 25) && withLink.first <= without.first + 250;
    assert(turns.some(passes), `the forged link adds a long task in every turn (${detail})`);
    return `${json.length.toLocaleString('en')} bytes of JSON in a ${payload.length}-character link; notice: ${notice}; ${detail}`;
  }));

test('a hostile scenario name and caption are shown as text, never run, and escaped in the embed code', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const name = '<img src=x onerror="window.__pwned=1">';
    const caption = '<script>window.__pwned=2</script>';
    const file = path.join(ctx.tmp, 'hostile.json');
    writeFileSync(file, JSON.stringify({ ...STORM, name, caption }, null, 2));
    const link = cliLink(file, ctx.url);
    const { page } = await open(link);
    await waitForVerdict(page, { what: 'the hostile scenario' });
    const check = async (page, where) => {
      const found = await page.evaluate(() => ({
        pwned: window.__pwned,
        imgs: document.querySelectorAll('img[src=x], img[src="x"]').length,
        scripts: [...document.querySelectorAll('script')].filter((s) => s.textContent.includes('__pwned')).length,
        title: document.querySelector('[data-testid=title]')?.textContent,
        docTitle: document.title,
      }));
      assert(found.pwned === undefined, `${where}: window.__pwned = ${found.pwned}: the name or caption ran as HTML`);
      assert(found.imgs === 0, `${where}: the document holds ${found.imgs} img[src=x] element(s)`);
      assert(found.scripts === 0, `${where}: the document holds a <script> with the caption's code`);
      assert(found.title === name, `${where}: the title element reads ${JSON.stringify(found.title)}, expected the literal ${JSON.stringify(name)}`);
      return found;
    };
    const found = await check(page, 'the playground');
    assert(found.docTitle.includes(name), `document.title is ${JSON.stringify(found.docTitle)}, it should hold the literal name`);
    const shownCaption = await page.locator('[data-testid=caption]').textContent();
    assert(shownCaption === caption, `the caption reads ${JSON.stringify(shownCaption)}, expected the literal ${JSON.stringify(caption)}`);

    await openShare(page);
    const code = await page.locator('#embed-code').inputValue();
    const escaped = 'title="&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;"';
    assert(code.includes(escaped), `#embed-code should hold the escaped name ${escaped}; it is:\n${code}`);
    assert(!code.includes('<img'), `#embed-code holds a raw "<img":\n${code}`);
    const preview = await page.locator('#embed-preview').getAttribute('href');
    await page.keyboard.press('Escape');

    const csv = await downloadOf(page, () => page.locator('#export-csv').click(), { what: 'the CSV export' });
    assert(/^[a-z0-9-]+-seed7\.csv$/.test(csv.name), `the CSV's file name is not a safe name: ${JSON.stringify(csv.name)}`);

    // The same scenario in embed mode.
    const embed = await open(preview);
    await waitForVerdict(embed.page, { what: 'the hostile scenario embedded' });
    await check(embed.page, 'embed mode');
    return `title, caption and document.title hold the literal text; embed code: …${escaped}…; export ${csv.name}`;
  }));

test("embed mode shows the author's charts and sliders; a slider re-runs it, and its playground link carries the value", async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const link = cliLink('retry-storm', `${ctx.url}?embed&charts=traffic,amplification&knobs=users.rate,retries.max_attempts&autoplay=1`);
    const { page } = await open(link);
    const first = await waitForVerdict(page, { what: 'the embedded retry storm' });
    assert((await page.locator('.embed[data-embed]').count()) === 1, 'no .embed[data-embed] root: the page is not in embed mode');
    assert((await page.locator('#editor, #inspector, button[data-preset]').count()) === 0, 'embed mode shows the editor, inspector or gallery');
    assert(first.verdict === 'metastable', `the embedded retry storm is ${first.verdict}, expected metastable`);
    const shown = await figures(page);
    assert(JSON.stringify(shown) === '["traffic","amplification"]', `charts shown: ${shown.join(', ')}; expected traffic, amplification`);
    await expectInk(page, ['traffic', 'amplification']);
    const knobs = await sliders(page);
    assert(JSON.stringify(knobs) === '["users.rate","retries.max_attempts"]', `sliders: ${knobs.join(', ')}; expected users.rate, retries.max_attempts`);
    const csv1 = await currentCsv(page);

    await setSlider(page, 'retries.max_attempts', 1);
    await waitForNewRun(page, first.runId, 'moving the max_attempts slider');
    const second = await waitForVerdict(page, { notRunId: first.runId, what: 'the run after the slider' });
    assert(second.verdict !== 'metastable', `with max_attempts = 1 the embed still says metastable: ${second.text}`);
    assert(second.verdict === 'recovered', `with max_attempts = 1 the verdict is ${second.verdict}, expected recovered: ${second.text}`);
    const csv2 = await currentCsv(page);
    assert(csv2 !== csv1, 'the CSV did not change after the slider moved');
    await expectInk(page, ['traffic', 'amplification'], 'after the slider: ');

    const href = await page.locator('#open-playground').getAttribute('href');
    assert(payloadOf(href) !== null, `#open-playground has no scenario in it: ${href}`);
    const params = [...new URL(href).searchParams.keys()];
    assert(JSON.stringify(params) === '["s"]', `#open-playground should carry only s=, it has ${params.join(', ')}: ${href}`);
    const playground = await open(href);
    const there = await waitForVerdict(playground.page, { what: 'the playground opened from the embed' });
    assert((await playground.page.locator('svg#editor').count()) === 1, 'the #open-playground link did not open the playground (no editor)');
    await selectBlock(playground.page, 'retries');
    const value = await playground.page.locator('#inspector input[data-field="max_attempts"]').inputValue();
    assert(value === '1', `the playground opened from the embed has max_attempts = ${value}, expected the slider's 1`);
    const csv3 = await currentCsv(playground.page);
    assert(csv3 === csv2, `the playground's CSV differs from the embed's after the slider, at ${firstDifference(csv2, csv3)}`);
    assert(there.verdict === second.verdict, `the playground says ${there.verdict}, the embed ${second.verdict}`);
    return `metastable → slider max_attempts = 1 → ${second.verdict}; the playground link opens max_attempts = 1 with the same CSV`;
  }));

test('an embed with autoplay=0 waits at t = 0 until Play', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const link = cliLink('retry-storm', `${ctx.url}?embed&charts=traffic&autoplay=0`);
    const { page } = await open(link);
    await page.locator('[data-testid=status]').waitFor({ timeout: 5000 });
    await page.waitForTimeout(1000);
    const waiting = await runState(page);
    assert(/^t = 0 \//.test(waiting.status), `before Play the status should show t = 0, it shows ${JSON.stringify(waiting.status)}`);
    assert(!waiting.finished, 'before Play the run is already finished');
    assert(!FINAL_VERDICTS.includes(waiting.verdict), `before Play the banner shows a verdict: ${waiting.verdict}`);
    const pressed = await page.locator('#play').getAttribute('aria-pressed');
    assert(pressed === 'false', `#play should not be pressed before Play, aria-pressed=${pressed}`);
    await page.locator('#play').click();
    const state = await waitForVerdict(page, { what: 'the embed after Play' });
    assert(state.verdict === 'metastable', `after Play the verdict is ${state.verdict}, expected metastable`);
    await expectInk(page, ['traffic']);
    return `before Play: ${waiting.status} (banner ${waiting.verdict}); after: ${state.verdict}`;
  }));

test("the share dialog's embed code works in a page of another origin: its charts, its slider, no autoplay, resized", async (ctx) => {
  const hostDir = mkdtempSync(path.join(ctx.tmp, 'host-'));
  const host = await serve(hostDir);
  try {
    return await withApps(ctx.browser, async (open) => {
      const { page } = await open(ctx.url);
      await waitForVerdict(page, { what: 'the default scenario' });
      await openShare(page);
      const offered = await page.locator('input[data-embed-chart]').evaluateAll((els) => els.map((e) => e.dataset.embedChart));
      assert(offered.includes('latency'), `the dialog offers no latency chart: ${offered.join(', ')}`);
      for (const id of offered) await page.locator(`input[data-embed-chart="${id}"]`).setChecked(id === 'latency');
      await page.locator('select[data-knob-slot="0"]').selectOption('users.rate');
      await page.locator('#embed-autoplay').setChecked(false);
      const code = await page.locator('#embed-code').inputValue();
      const src = code.match(/<iframe src="([^"]*)"/)?.[1]?.replaceAll('&amp;', '&');
      assert(src, `#embed-code holds no <iframe src="…">:\n${code}`);
      for (const part of ['?embed&', 'charts=latency&', 'knobs=users.rate&', 'autoplay=0&', 's=1.']) {
        assert(src.includes(part), `the embed URL lacks "${part}": ${src}`);
      }
      const preview = await page.locator('#embed-preview').getAttribute('href');
      assert(preview === src, `#embed-preview is ${preview}, the snippet's src ${src}`);
      const initial = Number(code.match(/height="(\d+)"/)?.[1]);
      assert(initial > 0, `the snippet's iframe has no height attribute:\n${code}`);

      // A blog post on another origin, with the snippet pasted in; it records the heights posted.
      writeFileSync(
        path.join(hostDir, 'host.html'),
        `<!doctype html><meta charset="utf-8"><title>A post</title><link rel="icon" href="data:,">\n` +
          `<script>window.__heights = []; addEventListener("message", (e) => { if (e.data && e.data.type === "metastable:height") __heights.push(e.data.height); });</script>\n` +
          `<h1>A post</h1>\n${code}\n<p>The end.</p>\n`,
      );
      const { page: post } = await open(`${host.url}host.html`, { waitForApp: false });
      const iframe = await post.waitForSelector('iframe[data-metastable]');
      const frame = await iframe.contentFrame();
      await frame.waitForURL(/[?&]embed/, { timeout: 10_000 }).catch(() => {
        throw new Error(`the snippet's iframe did not load the embed (its frame is at ${frame.url()})`);
      });
      await waitForAppReady(frame);
      const shown = await figures(frame);
      assert(JSON.stringify(shown) === '["latency"]', `the embedded page shows charts ${shown.join(', ')}; expected latency only`);
      const knobs = await sliders(frame);
      assert(JSON.stringify(knobs) === '["users.rate"]', `the embedded page has sliders ${knobs.join(', ')}; expected users.rate`);
      await frame.waitForTimeout(500);
      const waiting = await runState(frame);
      assert(!waiting.finished && /^t = 0 \//.test(waiting.status), `with autoplay off the embed should wait at t = 0: ${JSON.stringify(waiting.status)}`);
      await frame.locator('#play').click();
      const state = await waitForVerdict(frame, { what: 'the embedded scenario' });
      await expectInk(frame, ['latency'], 'in the host page: ');
      // The snippet's script sets the iframe's height to the last height the embed posted.
      await post
        .waitForFunction(
          () => {
            const f = document.querySelector('iframe[data-metastable]');
            return window.__heights.length > 0 && f.style.height === `${window.__heights[window.__heights.length - 1]}px`;
          },
          null,
          { timeout: 5000 },
        )
        .catch(async () => {
          const seen = await post.evaluate(() => ({ heights: window.__heights, style: document.querySelector('iframe[data-metastable]').style.height }));
          throw new Error(`the iframe was not resized to the posted height: posted ${JSON.stringify(seen.heights)}, style.height ${JSON.stringify(seen.style)}`);
        });
      const { heights, style, box } = await post.evaluate(() => {
        const f = document.querySelector('iframe[data-metastable]');
        return { heights: window.__heights, style: f.style.height, box: f.getBoundingClientRect().height };
      });
      assert(style !== `${initial}px`, `the iframe kept its initial height ${initial}px`);
      assert(Math.abs(box - parseFloat(style)) < 2, `the iframe's box is ${box}px high, its style says ${style}`);
      return `src ${src.slice(0, src.indexOf('&s=') + 6)}…; verdict ${state.verdict}; heights posted ${heights.join(', ')} → iframe ${style} (attribute ${initial})`;
    });
  } finally {
    await host.close();
  }
});

test('the example blog post: both embeds run to metastable, draw, re-run on their sliders and are resized', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const { page } = await open(`${ctx.url}example-post.html`, { waitForApp: false });
    const iframes = page.locator('iframe[data-metastable]');
    const count = await iframes.count();
    assert(count === 2, `the example post has ${count} iframe[data-metastable], expected 2`);
    const moves = { storm: ['retries.max_attempts', 1], cache: ['users.rate', 40] };
    const lines = [];
    for (let i = 0; i < count; i++) {
      const element = iframes.nth(i);
      const id = await element.getAttribute('id');
      await element.scrollIntoViewIfNeeded();
      const frame = await (await element.elementHandle()).contentFrame();
      await frame.waitForURL(/[?&]embed/, { timeout: 10_000 }).catch(() => {
        throw new Error(`iframe #${id} did not load its embed (its frame is at ${frame.url()})`);
      });
      await waitForAppReady(frame);
      const first = await waitForVerdict(frame, { what: `iframe #${id}` });
      assert(first.verdict === 'metastable', `iframe #${id}: verdict ${first.verdict}, expected metastable: ${first.text}`);
      const inks = await canvasInk(frame);
      assert(inks.length > 0, `iframe #${id} has no chart canvas`);
      const dry = inks.filter((c) => !(c.ink >= MIN_INK));
      assert(dry.length === 0, `iframe #${id}: canvases without ink: ${dry.map((c) => `${c.chart}=${c.ink}`).join(', ')}`);
      const knobs = await sliders(frame);
      assert(knobs.length === 2, `iframe #${id} has ${knobs.length} sliders (${knobs.join(', ')}), expected 2`);
      const [knob, value] = moves[id] ?? [knobs[0], null];
      assert(knobs.includes(knob), `iframe #${id} has no ${knob} slider (it has ${knobs.join(', ')})`);
      await setSlider(frame, knob, value);
      await waitForNewRun(frame, first.runId, `iframe #${id}: moving ${knob}`);
      const second = await waitForVerdict(frame, { notRunId: first.runId, what: `iframe #${id} after ${knob} = ${value}` });
      lines.push(`#${id}: ${first.verdict}, charts ${inks.map((c) => `${c.chart}=${c.ink}`).join(' ')}; ${knob} = ${value} → ${second.verdict}`);
    }
    // Each iframe was resized by the post's script to the height its embed reported.
    await page
      .waitForFunction(() => [...document.querySelectorAll('iframe[data-metastable]')].every((f) => /^\d+(\.\d+)?px$/.test(f.style.height)), null, { timeout: 5000 })
      .catch(() => {});
    const heights = await iframes.evaluateAll((els) => els.map((f) => ({ id: f.id, style: f.style.height, attr: f.getAttribute('height') })));
    for (const h of heights) {
      assert(/^\d+(\.\d+)?px$/.test(h.style), `iframe #${h.id} was not resized by its postMessage (style.height ${JSON.stringify(h.style)})`);
      assert(parseFloat(h.style) < 1400, `iframe #${h.id} was resized to ${h.style} (≥ 1400px)`);
    }
    lines.push(`heights: ${heights.map((h) => `#${h.id} ${h.style} (attribute ${h.attr})`).join(', ')}`);
    return lines.join('\n');
  }));

test('the dialogs load on first use: a failed download is said in words and closes; the next try opens the dialog', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const app = await open(ctx.url);
    const { page } = app;
    await waitForVerdict(page, { what: 'the default scenario' });
    const fetched = () => page.evaluate(() => performance.getEntriesByType('resource').filter((r) => /\/dialogs-/.test(r.name)).length);
    assert((await fetched()) === 0, 'the first visit fetched the dialogs');
    // The network drops the dialogs' binary: the click says so, in words, and Escape closes.
    await page.route(/\/dialogs-[0-9a-f]+_bg\.wasm$/, (route) => route.abort('internetdisconnected'));
    await page.locator('#share').click();
    const alert = page.locator('[data-testid=dialog-loading] [role=alert]');
    await alert.waitFor({ timeout: 10_000 }).catch(() => {
      throw new Error('a failed download of the dialogs left no message');
    });
    const said = (await alert.textContent()).trim();
    assert(/^The dialog could not be downloaded \(the browser says: .+\)\. Check the connection and try again\.$/.test(said), `the message: ${JSON.stringify(said)}`);
    assert((await page.locator('[data-testid=dialog-loading] button').textContent()) === 'Close', 'the message has a Close button');
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'share-dialog-failed.png') });
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=dialog-loading]').waitFor({ state: 'detached', timeout: 3000 }).catch(() => {
      throw new Error('Escape did not close the message');
    });
    const back = await page.evaluate(() => document.activeElement?.id);
    assert(back === 'share', `closing gives the focus back to Share…, not #${back}`);
    // The network is back: the loader tries again, and the dialog opens.
    await page.unroute(/\/dialogs-[0-9a-f]+_bg\.wasm$/);
    await openShare(page);
    const url = await page.locator('#share-url').inputValue();
    assert(payloadOf(url)?.startsWith('1.'), `the dialog opened after the failure holds no link: ${url}`);
    await page.keyboard.press('Escape');
    await expectDialogClosed(page, 'Escape');
    // What the failed download reported is expected; nothing else may be.
    const expected = (p) => /dialogs-[0-9a-f]+_bg\.wasm/.test(p) || /dialogs-[0-9a-f]+\.js/.test(p) || /ERR_INTERNET_DISCONNECTED|Failed to fetch/.test(p);
    const other = app.problems.filter((p) => !expected(p));
    app.problems.length = 0;
    assert(other.length === 0, `unexpected problems: ${other.join('; ')}`);
    return `the failure said ${JSON.stringify(said)}; the second try opened the dialog`;
  }));

test('exports: the CSV is current_csv(), the PNG holds the charts, the JSON is the scenario and imports back to the same run', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const { page } = await open(ctx.url);
    const first = await waitForVerdict(page, { what: 'the default scenario' });
    const stem = 'retry-storm';
    const csv = await currentCsv(page);

    const csvFile = await downloadOf(page, () => page.locator('#export-csv').click(), { what: 'the CSV export' });
    assert(csvFile.name === `${stem}-seed${STORM.seed}.csv`, `the CSV is named ${csvFile.name}, expected ${stem}-seed${STORM.seed}.csv`);
    assert(csvFile.bytes.toString('utf8') === csv, `the exported CSV differs from current_csv() at ${firstDifference(csv, csvFile.bytes.toString('utf8'))}`);

    const png = await downloadOf(page, () => page.locator('#export-png').click(), { what: 'the PNG export' });
    assert(png.name === `${stem}-seed${STORM.seed}.png`, `the PNG is named ${png.name}, expected ${stem}-seed${STORM.seed}.png`);
    const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert(png.bytes.subarray(0, 8).equals(signature), `the PNG does not start with the PNG signature: ${png.bytes.subarray(0, 8).toString('hex')}`);
    assert(png.bytes.subarray(12, 16).toString('latin1') === 'IHDR', 'the PNG has no IHDR chunk first');
    const width = png.bytes.readUInt32BE(16);
    const height = png.bytes.readUInt32BE(20);
    assert(width >= 400 && height >= 2 * 190, `the PNG is ${width}×${height}, expected at least 400 wide and 380 high`);
    const canvases = await page.evaluate(() => [...document.querySelectorAll('canvas[data-chart-canvas]')].map((c) => [c.width, c.height]));
    const expectH = 32 + canvases.reduce((s, [, h]) => s + h, 0);
    const expectW = Math.max(...canvases.map(([w]) => w));
    assert(width === expectW && height === expectH, `the PNG is ${width}×${height}; the ${canvases.length} chart canvases stacked under the title are ${expectW}×${expectH}`);

    const json = await downloadOf(page, () => page.locator('#export-json').click(), { what: 'the JSON export' });
    assert(json.name === `${stem}.json`, `the JSON is named ${json.name}, expected ${stem}.json`);
    let doc;
    try {
      doc = JSON.parse(json.bytes.toString('utf8'));
    } catch (e) {
      throw new Error(`the exported JSON does not parse: ${e.message}`);
    }
    assert(doc.name === STORM.name && doc.seed === STORM.seed, `the JSON is ${JSON.stringify(doc.name)} seed ${doc.seed}, expected ${STORM.name} seed ${STORM.seed}`);
    const blocks = (d) => JSON.stringify(d.blocks.map((b) => [b.id, b.kind, b.to ?? null]));
    assert(blocks(doc) === blocks(STORM), `the JSON's blocks are ${blocks(doc)}, the preset's ${blocks(STORM)}`);
    // The same document (key order aside: it is not part of JSON's meaning).
    assert(canonical(doc) === canonical(STORM), `the exported JSON is not the preset's document:\n${canonical(doc)}\n${canonical(STORM)}`);

    // Open something else, then import the file back.
    await page.locator('button[data-preset="cold-cache"]').click();
    const cold = await waitForVerdict(page, { notRunId: first.runId, what: 'the cold cache preset' });
    await waitForTitle(page, 'Cold cache', 'after the cold-cache preset');
    await page.locator('#import-file').setInputFiles({ name: json.name, mimeType: 'application/json', buffer: json.bytes });
    await waitForTitle(page, STORM.name, 'after importing the exported JSON');
    await waitForVerdict(page, { notRunId: cold.runId, what: 'the imported scenario' });
    const again = await currentCsv(page);
    assert(again === csv, `importing the exported JSON gives another CSV, at ${firstDifference(csv, again)}`);
    return `${csvFile.name} (${csvFile.bytes.length} bytes) = current_csv(); ${png.name} ${width}×${height}; ${json.name} re-imported → same CSV`;
  }));

test('imports: bad JSON and a scenario with a problem are named in a notice; drag-and-drop and a link in a .txt open scenarios', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const { page } = await open(ctx.url);
    const first = await waitForVerdict(page, { what: 'the default scenario' });
    const lines = [];

    await page.locator('#import-file').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"version": 1,') });
    const bad = await noticeText(page, 'importing bad.json');
    assert(bad.startsWith('bad.json is not valid JSON: '), `the notice for bad.json says ${JSON.stringify(bad)}`);
    lines.push(`bad.json: ${bad}`);

    const withProblem = { ...STORM, name: 'Broken storm', blocks: STORM.blocks.map((b) => (b.id === 'api' ? { ...b, workers: 0 } : b)) };
    await page.locator('#import-file').setInputFiles({ name: 'problem.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(withProblem)) });
    const problem = await noticeText(page, 'importing problem.json');
    assert(problem.startsWith('Imported problem.json with 1 problem; the first: '), `the notice for problem.json says ${JSON.stringify(problem)}`);
    await waitForTitle(page, 'Broken storm', 'after importing problem.json');
    await selectBlock(page, 'api');
    const error = page.locator('#inspector [data-field-row="workers"] .field-error');
    await error.first().waitFor({ timeout: 5000 }).catch(() => {
      throw new Error('after importing problem.json, the api block shows no .field-error in its workers row');
    });
    lines.push(`problem.json: ${problem} | inspector: ${(await error.first().textContent()).trim()}`);

    const before = (await runState(page)).runId;
    let hint = false;
    await dropFile(page, '.app', { name: 'cold-cache.json', text: presetText('cold-cache') }, {
      afterDragover: async () => {
        await page.locator('.app.dropping .drop-hint').waitFor({ timeout: 2000 }).catch(() => {});
        hint = (await page.locator('.drop-hint').count()) === 1;
      },
    });
    await waitForTitle(page, 'Cold cache', 'after dropping cold-cache.json on the page');
    const cold = await waitForVerdict(page, { notRunId: before, what: 'the dropped cold cache' });
    assert(cold.verdict === 'metastable', `the dropped cold cache is ${cold.verdict}, expected metastable`);
    assert(hint, 'dragging a file over the page showed no drop hint (.drop-hint)');
    assert((await page.locator('.drop-hint').count()) === 0, 'the drop hint stayed after the drop');
    lines.push(`dropped cold-cache.json: ${cold.verdict}`);

    const link = cliLink('stale-queue', ctx.url, '--seed', '5');
    await page.locator('#import-file').setInputFiles({ name: 'link.txt', mimeType: 'text/plain', buffer: Buffer.from(`${link}\n`) });
    await waitForTitle(page, 'Stale queue', 'after importing link.txt');
    const stale = await waitForVerdict(page, { notRunId: cold.runId, what: 'the scenario of link.txt' });
    const seed = await page.locator('#seed').inputValue();
    assert(seed === '5', `link.txt's scenario has seed 5, the page shows ${seed}`);
    lines.push(`link.txt: Stale queue, seed ${seed}, ${stale.verdict}`);
    assert(first.runId !== stale.runId, 'no new run');
    return lines.join('\n');
  }));

test('the share dialog copies its link, closes by Escape, ✕ and the backdrop, and refuses to share a scenario with a problem', async (ctx) =>
  withApps(ctx.browser, async (open) => {
    const app = await open(ctx.url);
    const { page } = app;
    await app.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(ctx.url).origin });
    await waitForVerdict(page, { what: 'the default scenario' });
    const lines = [];
    const failures = [];

    await openShare(page);
    const url = await page.locator('#share-url').inputValue();
    assert(payloadOf(url)?.startsWith('1.'), `#share-url does not hold a share link: ${url}`);
    const focused = await page.evaluate(() => document.activeElement?.id);
    assert(focused === 'share-url', `the link should have the focus when the dialog opens, #${focused} has it`);
    await page.locator('#copy-link').click();
    // The note under the link's copy row says what the copy did.
    const note = page.locator('.copy-row:has(#copy-link) + .copy-note');
    await page.waitForFunction(() => document.querySelector('.copy-row:has(#copy-link) + .copy-note')?.textContent.trim(), null, { timeout: 3000 }).catch(() => {
      throw new Error('clicking #copy-link left no note under it');
    });
    const said = (await note.textContent()).trim();
    if (said === 'Link copied.') {
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert(copied === url, `the clipboard holds ${JSON.stringify(copied.slice(0, 80))}, not the link`);
      lines.push('copy link: copied, the clipboard holds the link');
    } else {
      assert(/refused the clipboard/.test(said), `after #copy-link the note says ${JSON.stringify(said)}`);
      lines.push(`copy link: the browser refused; the note says ${JSON.stringify(said)}`);
    }

    await page.keyboard.press('Escape');
    await expectDialogClosed(page, 'Escape');
    await openShare(page);
    await page.locator('#share-close').click();
    await expectDialogClosed(page, '#share-close');
    lines.push('closes on Escape (focus on the link) and on ✕');

    // The checks below run even if one fails: their failures are reported at the end.
    /** Resolves to whether the dialog closed within 2 s; if not, closes it with ✕. */
    const closed = async () => {
      const ok = await page
        .locator('#share-dialog')
        .waitFor({ state: 'detached', timeout: 2000 })
        .then(() => true, () => false);
      if (!ok) {
        await page.locator('#share-close').click();
        await expectDialogClosed(page, '#share-close');
      }
      return ok;
    };
    // A click on the dialog's own text keeps it open, and Escape still closes it.
    await openShare(page);
    await page.locator('#share-title').click();
    assert((await page.locator('#share-dialog').count()) === 1, 'a click inside the dialog (on its title) closed it');
    const focusAfterClick = await page.evaluate(() => document.activeElement?.tagName.toLowerCase());
    await page.keyboard.press('Escape');
    if (await closed()) lines.push('a click inside keeps it; Escape then closes it');
    else {
      failures.push(
        'APP BUG: after a click on the dialog\'s title (#share-title, inside the open dialog) Escape does not close the ' +
          `share dialog (the focus moved to <${focusAfterClick}>, outside the dialog)`,
      );
    }
    // A click on the backdrop, outside the dialog, closes it.
    await openShare(page);
    const hit = await page.evaluate(() => document.elementFromPoint(5, 5)?.className);
    assert(hit === 'dialog-backdrop', `the point (5, 5) is not on the backdrop but on ${JSON.stringify(hit)}`);
    await page.mouse.click(5, 5);
    if (await closed()) lines.push('closes on a backdrop click');
    else {
      failures.push(
        'APP BUG: a click on the backdrop (.dialog-backdrop at (5, 5), outside #share-dialog; the click event reaches the ' +
          'backdrop as its target) does not close the share dialog',
      );
    }

    await selectBlock(page, 'api');
    await page.locator('#inspector input[data-field="workers"]').fill('0');
    await page.locator('#inspector [data-field-row="workers"] .field-error').first().waitFor({ timeout: 5000 });
    await openShare(page);
    const blocked = page.locator('[data-testid=share-blocked]');
    await blocked.waitFor({ timeout: 2000 }).catch(() => {
      throw new Error('with workers = 0 the share dialog does not say the scenario has a problem ([data-testid=share-blocked])');
    });
    const text = (await blocked.textContent()).trim();
    assert(/1 problem\b/.test(text), `the blocked note should count 1 problem: ${JSON.stringify(text)}`);
    const offered = await page.locator('#share-url, #embed-code, #copy-link').count();
    assert(offered === 0, `with a problem the dialog still offers a link or embed code (${offered} element(s))`);
    lines.push(`with workers = 0: ${text}`);
    const focusBlocked = await page.evaluate(() => {
      const e = document.activeElement;
      return `<${e?.tagName.toLowerCase()}${e?.id ? ` id=${e.id}` : ''}${e?.dataset?.field ? ` data-field=${e.dataset.field}` : ''}>`;
    });
    await page.keyboard.press('Escape');
    if (!(await closed())) {
      failures.push(`APP BUG: the share dialog opened on a scenario with a problem does not close on Escape (the focus stayed on ${focusBlocked}, outside the dialog)`);
    }
    if (failures.length) throw new Error(`${failures.join('\n')}\n(the other checks passed:\n${lines.join('\n')})`);
    return lines.join('\n');
  }));

// ---------------------------------------------------------------------------------------------
// Main.

runSuite('e2e share', tests, {
  setup: () => ({ tmp: mkdtempSync(path.join(os.tmpdir(), 'metastable-share-')) }),
  teardown: ({ tmp }) => tmp && rmSync(tmp, { recursive: true, force: true }),
});
