// Trunk post_build hook: gives every page of the built site a Content-Security-Policy.
//
// Static hosts (GitHub Pages among them) cannot be relied on to send headers, so the policy
// travels with the page as a <meta http-equiv> tag, inserted first in <head> (right after
// <meta charset>) so that it governs every script and stylesheet the page loads. Inline scripts
// and <style> elements are allowed by their SHA-256 hash, never by 'unsafe-inline': Trunk's
// loader, for one, is an inline module script, and a hash allows exactly that text and nothing
// an attacker injects.
//
//   node scripts/csp.mjs            # as the hook: works on $TRUNK_STAGING_DIR
//   node scripts/csp.mjs DIR        # by hand, on a built site (e.g. dist)
//
// Idempotent: an existing CSP meta tag is replaced. Exits 1 with a message if a page cannot get
// a policy, or if index.html has no inline script (then Trunk's loader changed shape and the
// policy needs a look).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// The policy for a page, given the extra script-src and style-src sources its inline elements
// need, directive by directive, with the reason each one is there. What is not listed falls
// back to default-src: nothing.
function policy({ scriptSrc, styleSrc }) {
  return [
    // Deny by default: every kind of resource the site needs is allowed explicitly below.
    ['default-src', "'none'"],
    // The site's own files (Trunk's modulepreload of the wasm-bindgen JS, the loader's import
    // of it), 'wasm-unsafe-eval' to compile the WebAssembly module (and nothing else: no
    // eval(), no new Function()), and the hash of each inline script of the page.
    ['script-src', ["'self'", "'wasm-unsafe-eval'", ...scriptSrc].join(' ')],
    // Trunk's <link rel="stylesheet"> for web/style.css, and the hash of each <style> element
    // of the page (the app has none; a page such as the example blog post may).
    ['style-src', ["'self'", ...styleSrc].join(' ')],
    // Yew renders style="…" attributes (chart legend swatches, timeline bars, the progress
    // marker). This allows attributes only, not <style> elements or foreign stylesheets.
    ['style-src-attr', "'unsafe-inline'"],
    // data: for index.html's favicon (`data:,`, so browsers do not ask for /favicon.ico);
    // 'self' for any image file of the site's own. (The CSV and PNG exports are downloads
    // through <a download>, which img-src does not govern: no blob: needed.)
    ['img-src', "'self' data:"],
    // wasm-bindgen's loader fetch()es the .wasm, and Trunk preloads it with
    // <link rel="preload" as="fetch">: both are connections. 'self' also covers the
    // live-reload WebSocket of `trunk serve` (same host and port).
    ['connect-src', "'self'"],
    // Embeds: a page of this site (e.g. an example blog post) shows the app in <iframe>s.
    ['frame-src', "'self'"],
    // The site's URLs are relative: injected markup must not re-base them elsewhere.
    ['base-uri', "'self'"],
    // The app has no form that submits anywhere.
    ['form-action', "'none'"],
    // No plugins. default-src 'none' implies it; stated because policy checkers look for it.
    ['object-src', "'none'"],
  ]
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');
}

// `trunk serve` fills in this placeholder of its live-reload script on every request (with the
// request's Host), so that script's final text, and hence its hash, is not known here.
const TRUNK_SERVE_PLACEHOLDER = '{{__TRUNK_ADDRESS__}}';

// With the white space before it, which withPolicy puts back: a second run changes nothing.
const CSP_META = /\s*<meta\s[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>/gi;
const SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
const STYLE = /<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi;
const HAS_SRC = /(?:^|\s)src\s*=/i;
const META_CHARSET = /<meta\s+charset\s*=\s*["']?[\w-]+["']?\s*\/?>/i;
const HEAD = /<head\b[^>]*>/i;

function fail(message) {
  console.error(`csp.mjs: ${message}`);
  process.exit(1);
}

// The HTML parser turns CR LF and lone CR into LF before a script or style sees its text.
const asParsed = (text) => text.replace(/\r\n?/g, '\n');

/** The text of each inline <script> of `html`, as the browser hashes it. */
function inlineScripts(html) {
  return [...html.matchAll(SCRIPT)].filter(([, attrs]) => !HAS_SRC.test(attrs)).map(([, , text]) => asParsed(text));
}

/** The text of each <style> element of `html`, as the browser hashes it. */
function inlineStyles(html) {
  return [...html.matchAll(STYLE)].map(([, text]) => asParsed(text));
}

const sha256 = (text) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const hashes = (texts) => [...new Set(texts.map(sha256))];

/** The script-src sources for a page with these inline scripts. */
function inlineScriptSources(scripts) {
  // A page of `trunk serve` (only the dev server injects the placeholder): allow inline
  // scripts rather than block live reload. Every other directive stays as in the build.
  if (scripts.some((s) => s.includes(TRUNK_SERVE_PLACEHOLDER))) return ["'unsafe-inline'"];
  return hashes(scripts);
}

/** `html` with its CSP meta tag (re)placed first in <head>; throws if there is no place. */
function withPolicy(html) {
  const page = html.replace(CSP_META, '');
  const sources = { scriptSrc: inlineScriptSources(inlineScripts(page)), styleSrc: hashes(inlineStyles(page)) };
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy(sources)}">`;
  const anchor = page.match(META_CHARSET) ?? page.match(HEAD);
  if (!anchor) throw new Error('no <meta charset> and no <head> to put the policy after');
  const at = anchor.index + anchor[0].length;
  return page.slice(0, at) + '\n  ' + meta + page.slice(at);
}

function htmlFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.html'))
    .map((e) => path.join(e.parentPath, e.name));
}

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) fail('no directory: run as a Trunk hook (TRUNK_STAGING_DIR) or pass one');
const files = htmlFiles(dir);
const index = path.join(dir, 'index.html');
if (!files.includes(index)) fail(`no index.html in ${dir}`);
if (inlineScripts(readFileSync(index, 'utf8')).length === 0) {
  fail(`${index} has no inline <script>: Trunk's loader is no longer inline, so the policy needs a new look`);
}
for (const file of files) {
  try {
    writeFileSync(file, withPolicy(readFileSync(file, 'utf8')));
  } catch (e) {
    fail(`${file}: ${e.message}`);
  }
  console.log(`csp.mjs: policy set in ${path.relative(dir, file)}`);
}
