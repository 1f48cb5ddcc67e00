// End-to-end tests of the built site as a static host serves it: the Content-Security-Policy
// that scripts/csp.mjs puts in every page (present, matching the page, and enforced),
// deployment under a sub-path, and pages that embed the app. docs/deploy.md describes them.
//
// usage: node tests/e2e/site.test.mjs [distDir] [--prefix /sub/path/]
//   distDir   the built site (default: dist, from `trunk build --release`)
//   --prefix  serve the site under this URL path, default "/" (the sub-path test always uses
//             /metastable/ on a server of its own)
// Prints each test with ok/FAIL and its time; exits 1 if any test fails.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { serve } from './server.mjs';
import { openApp, withApps, waitForVerdict, expectInk, assert } from './browser.mjs';
import { runSuite } from './suite.mjs';

const ALWAYS_CHARTS = ['traffic', 'outcomes', 'latency', 'backlog', 'amplification', 'useful'];
const SUB_PATH = '/metastable/';
const TEST_TIMEOUT_MS = 60_000;

// Run before any page script: records every CSP violation the page reports, so a test can
// tell "blocked by the policy" from "did not run for another reason".
function recordViolations() {
  window.__cspViolations = [];
  document.addEventListener(
    'securitypolicyviolation',
    (e) => window.__cspViolations.push({ directive: e.effectiveDirective, blocked: e.blockedURI }),
    true,
  );
}

const violations = (page) => page.evaluate(() => window.__cspViolations);

/** Opens the app with violation recording, runs `fn(app)`, checks the page, always closes. */
const withApp = (browser, url, fn) =>
  withApps(browser, async (open) => fn(await open(url, { initScript: recordViolations })));

/** Waits for the default scenario's verdict and its charts; throws on any CSP violation. */
async function expectDefaultRun(page) {
  const state = await waitForVerdict(page, { what: 'the default scenario' });
  assert(state.verdict === 'metastable', `default verdict is ${state.verdict}, expected metastable: ${state.text}`);
  const ink = await expectInk(page, ALWAYS_CHARTS);
  const seen = await violations(page);
  assert(seen.length === 0, `CSP violations: ${JSON.stringify(seen)}`);
  return ink;
}

/** Inline <script> and <style> texts of a page, as the browser hashes them (CR LF → LF). */
function inlineTexts(html, tag) {
  return [...html.matchAll(new RegExp(`<${tag}\\b([^>]*)>([\\s\\S]*?)</${tag}>`, 'gi'))]
    .filter(([, attrs]) => !/(?:^|\s)src\s*=/i.test(attrs))
    .map(([, , text]) => text.replace(/\r\n?/g, '\n'));
}

const sha256 = (text) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Checks a built page's CSP meta tag: exactly one, before every script, link and style, and its
 * script-src and style-src list the hash of each inline script and style element of the page
 * (and script-src has no 'unsafe-inline'). Returns the policy and the number of hashes.
 */
function checkPolicy(file) {
  const name = path.basename(file);
  const html = readFileSync(file, 'utf8');
  const metas = [...html.matchAll(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/g)];
  assert(metas.length === 1, `${name}: expected one CSP meta tag, found ${metas.length}`);
  assert(!/<(script|link|style)\b/i.test(html.slice(0, metas[0].index)), `${name}: the CSP meta tag must come before every script, link and style`);
  const csp = metas[0][1];
  const directive = (wanted) => csp.split(';').map((d) => d.trim().split(/\s+/)).find(([n]) => n === wanted) ?? [];
  const scriptSrc = directive('script-src');
  assert(!scriptSrc.includes("'unsafe-inline'"), `${name}: script-src allows any inline script: ${scriptSrc.join(' ')}`);
  let hashed = 0;
  for (const [tag, sources] of [['script', scriptSrc], ['style', directive('style-src')]]) {
    for (const text of inlineTexts(html, tag)) {
      assert(sources.includes(sha256(text)), `${name}: the policy lacks ${sha256(text)} of the inline ${tag} ${JSON.stringify(text.slice(0, 60))}…`);
      hashed++;
    }
  }
  return { csp, hashed, scripts: inlineTexts(html, 'script').length };
}

/** The site's pages other than index.html (e.g. the example blog post with embeds). */
const otherPages = (dist) => readdirSync(dist).filter((f) => f.endsWith('.html') && f !== 'index.html');

// ---------------------------------------------------------------------------------------------
// A small runner (as in app.test.mjs).
const tests = [];
const test = (name, fn) => tests.push({ name, fn, timeoutMs: TEST_TIMEOUT_MS });

// The tests.

test('every page carries a CSP whose hashes match its inline scripts; index.html runs with no violation', async (ctx) => {
  const index = checkPolicy(path.join(ctx.dist, 'index.html'));
  assert(index.scripts > 0, 'index.html has no inline script (Trunk emits its loader inline)');
  const others = otherPages(ctx.dist).map((f) => `${f}: ${checkPolicy(path.join(ctx.dist, f)).hashed} hash(es)`);
  const ink = await withApp(ctx.browser, ctx.url, (app) => expectDefaultRun(app.page));
  return [`index.html: ${index.hashed} hash(es); traffic ink ${ink.traffic}`, ...others, index.csp].join('\n');
});

test('the policy is enforced: an injected inline script does not run and is reported', async (ctx) => {
  return withApp(ctx.browser, ctx.url, async (app) => {
    const { page } = app;
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__csp_broken = 1';
      document.body.append(script);
    });
    // The violation event is queued as a task: wait for it rather than for a fixed time.
    await page.waitForFunction(() => window.__cspViolations.length > 0, null, { timeout: 5000 }).catch(() => {});
    const broken = await page.evaluate(() => window.__csp_broken);
    assert(broken === undefined, 'the injected inline script ran: the policy is not enforced');
    const seen = await violations(page);
    assert(
      seen.length === 1 && /^script-src/.test(seen[0].directive) && seen[0].blocked === 'inline',
      `expected one script-src violation for an inline script, got ${JSON.stringify(seen)}`,
    );
    // Chromium also logs the refusal as a console error: that one is expected, nothing else.
    // (Its wording changes between versions: "Refused to execute inline script…", "Executing
    // inline script violates…".)
    const refused = app.problems.filter((p) => /inline script/i.test(p) && /Content Security Policy/.test(p));
    assert(refused.length === 1, `expected Chromium's one error about the blocked script, got ${JSON.stringify(app.problems)}`);
    app.problems.splice(app.problems.indexOf(refused[0]), 1);
    return `blocked and reported: ${seen[0].directive} ${seen[0].blocked}`;
  });
});

test(`served under ${SUB_PATH}, the site loads, runs the default scenario and draws, its share dialog opens and its analysis workers run`, async (ctx) => {
  const server = await serve(ctx.dist, { prefix: SUB_PATH });
  try {
    await withApp(ctx.browser, server.url, async (app) => {
      await expectDefaultRun(app.page);
      // The dialogs' binary is not part of the first visit; it loads from beside the page,
      // under the policy, when the pointer comes to Share, and its links point under the
      // prefix.
      const early = server.requests.filter(([, url]) => url.includes('/dialogs-'));
      assert(early.length === 0, `the first visit fetched the dialogs: ${JSON.stringify(early)}`);
      await app.page.click('#share');
      await app.page.waitForFunction(() => document.querySelector('#share-url')?.value, null, { timeout: 20_000 }).catch(() => {
        throw new Error('the share dialog did not show its link');
      });
      const link = await app.page.locator('#share-url').inputValue();
      assert(link.startsWith(server.url), `the share link ${link} is not under ${server.url}`);
      await app.page.keyboard.press('Escape');
      await app.page.waitForSelector('#share-dialog', { state: 'detached', timeout: 5000 });
      // The analysis view's Web Workers load from beside the page, under the policy.
      await app.page.click('[data-testid=view-analysis]');
      await app.page
        .waitForFunction(() => /^Done/.test(document.querySelector('[data-testid=analysis-status]')?.textContent ?? ''), null, { timeout: 60_000 })
        .catch(async () => {
          throw new Error(`the analysis did not finish: ${await app.page.locator('[data-testid=analysis-status]').textContent()}`);
        });
      const seen = await violations(app.page);
      assert(seen.length === 0, `CSP violations: ${JSON.stringify(seen)}`);
    });
    const workers = server.requests.filter(([, url]) => url.includes('worker'));
    assert(workers.length >= 3, `the worker's loader, glue and wasm are fetched: ${JSON.stringify(workers)}`);
    const dialogs = server.requests.filter(([, url]) => /\/dialogs-[0-9a-f]+(\.js|_bg\.wasm)$/.test(url));
    assert(dialogs.length === 2, `the dialogs' glue and wasm are fetched once each: ${JSON.stringify(dialogs)}`);
    const outside = server.requests.filter(([status, url]) => status !== 200 || !url.startsWith(SUB_PATH));
    assert(outside.length === 0, `requests outside ${SUB_PATH} or not 200: ${JSON.stringify(outside)}`);
    return `${server.requests.length} requests, all under ${server.url}`;
  } finally {
    await server.close();
  }
});

test('other pages (the example blog post) run their embedded apps with no violation', async (ctx) => {
  const lines = [];
  for (const file of otherPages(ctx.dist)) {
    const app = await openApp(ctx.browser, new URL(file, ctx.url).href, { initScript: recordViolations, waitForApp: false });
    try {
      const frames = app.page.locator('iframe');
      const count = await frames.count();
      for (let i = 0; i < count; i++) {
        // Embeds load lazily: bring each into view, then wait for its run's verdict.
        await frames.nth(i).scrollIntoViewIfNeeded();
        const frame = await (await frames.nth(i).elementHandle()).contentFrame();
        await frame
          .waitForFunction(() => document.querySelector('[data-testid=status]')?.getAttribute('data-finished') === 'true', null, {
            timeout: 20_000,
          })
          .catch(() => {
            throw new Error(`${file}: embed ${i + 1} (${frame.url()}) did not finish a run within 20 s`);
          });
      }
      for (const frame of app.page.frames()) {
        const seen = await frame.evaluate(() => window.__cspViolations);
        assert(seen.length === 0, `${file}: CSP violations in ${frame.url()}: ${JSON.stringify(seen)}`);
      }
      app.check();
      lines.push(`${file}: ${count} embed(s) ran`);
    } finally {
      await app.close().catch(() => {});
    }
  }
  return lines.join('\n') || 'no other pages';
});

// ---------------------------------------------------------------------------------------------
// Main.

runSuite('site', tests);
