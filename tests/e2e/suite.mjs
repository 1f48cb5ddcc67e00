// The runner the end-to-end suites share: arguments, the static server, one browser, each test
// in turn with its time limit, ok/FAIL lines with times and details, and the exit code.
//
//   node tests/e2e/SUITE.test.mjs [distDir] [--prefix /sub/path/] [--only SUBSTRING]...
//     distDir   the built site (default: dist, from `trunk build --release`)
//     --prefix  serve the site under this URL path (sub-path deployment), default "/"
//     --only    run only the tests whose name contains SUBSTRING (repeatable)
import { existsSync } from 'node:fs';
import path from 'node:path';
import { serve } from './server.mjs';
import { launch } from './browser.mjs';

function parseArgs(argv) {
  const opts = { dist: 'dist', prefix: '/', only: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--prefix') opts.prefix = argv[++i];
    else if (argv[i] === '--only') opts.only.push(argv[++i]);
    else opts.dist = argv[i];
  }
  return opts;
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`test did not finish within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}

/**
 * Runs `tests` (a list of `{ name, fn(ctx), timeoutMs }`) and exits the process: 0 when all
 * pass, 1 otherwise, 2 when there is no built site. `ctx` is `{ browser, url, dist }` plus
 * whatever `setup()` returns; `teardown(extra)` runs at the end whatever happened.
 */
export async function runSuite(label, tests, { setup = () => ({}), teardown = () => {} } = {}) {
  const opts = parseArgs(process.argv.slice(2));
  const dist = path.resolve(opts.dist);
  if (!existsSync(path.join(dist, 'index.html'))) {
    console.error(`no index.html in ${dist}: build the site first (trunk build --release)`);
    process.exit(2);
  }
  const selected = tests.filter((t) => opts.only.length === 0 || opts.only.some((s) => t.name.includes(s)));
  let server = null;
  let browser = null;
  let extra = {};
  let failed = 0;
  const startedAll = Date.now();
  try {
    extra = await setup();
    server = await serve(dist, { prefix: opts.prefix });
    browser = await launch();
    console.log(`${label}: ${selected.length} test(s) against ${dist} served at ${server.url} (Chromium ${browser.version()})`);
    const ctx = { browser, url: server.url, dist, ...extra };
    for (const t of selected) {
      const started = Date.now();
      try {
        const detail = await withTimeout(Promise.resolve().then(() => t.fn(ctx)), t.timeoutMs);
        console.log(`ok    ${String(Date.now() - started).padStart(6)} ms  ${t.name}`);
        if (detail) console.log(indent(String(detail)));
      } catch (e) {
        failed++;
        console.log(`FAIL  ${String(Date.now() - started).padStart(6)} ms  ${t.name}`);
        console.log(indent(String(e?.message ?? e)));
      }
    }
  } catch (e) {
    console.error(e);
    failed++;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.close().catch(() => {});
    await teardown(extra);
  }
  const passed = selected.length - failed;
  console.log(`${label}: ${Math.max(passed, 0)} passed, ${failed} failed in ${((Date.now() - startedAll) / 1000).toFixed(1)} s`);
  process.exit(failed === 0 ? 0 : 1);
}
