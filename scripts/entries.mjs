// Trunk post_build hook: one page, two entries. index.html starts the playground, or embed mode
// when the address asks for it (`?embed&…`), and each is its own wasm binary, so that a blog
// post's embedded chart does not download the editor, the analysis view and the dialogs.
//
// Trunk builds the playground as the page's main binary (hashed names, its own inline loader)
// and the `embed` binary as a "worker" (wasm-bindgen `--target web`, unhashed `embed.js` and
// `embed_bg.wasm`, nothing in the page). This hook
//   1. names the embed's two files after a hash of their content, as Trunk names the
//      playground's, so a cached old file can never meet a new one;
//   2. replaces Trunk's loader with one that reads the address and loads one binary: the
//      .wasm fetched in parallel with its JS (what Trunk's preload links did for the
//      playground alone; they are removed, since they would download the playground's files
//      in embed mode too);
//   3. leaves window.wasmBindings and the TrunkApplicationStarted event as Trunk had them.
//
//   node scripts/entries.mjs            # as the hook (before csp.mjs): on $TRUNK_STAGING_DIR
//   node scripts/entries.mjs DIR        # by hand, on a built site
//
// Exits 1 with a message when Trunk's loader or the embed's files are not where expected (a
// Trunk upgrade changed their shape): the page must never silently lose an entry.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

function fail(message) {
  console.error(`entries.mjs: ${message}`);
  process.exit(1);
}

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) fail('no directory: run as a Trunk hook (TRUNK_STAGING_DIR) or pass one');
const index = path.join(dir, 'index.html');
if (!existsSync(index)) fail(`no index.html in ${dir}`);
let html = readFileSync(index, 'utf8');

// Already rewritten (the hook run twice by hand): nothing to do.
if (html.includes('data-entries')) {
  console.log('entries.mjs: index.html already has the two-entry loader');
  process.exit(0);
}

// Trunk's loader: `import init, * as bindings from '<js>'; … init({ module_or_path: '<wasm>' })`.
const LOADER = /<script type="module">\s*import init, \* as bindings from '([^']+)';[\s\S]*?module_or_path: '([^']+)'[\s\S]*?<\/script>/;
const loader = html.match(LOADER);
if (!loader) fail("index.html has no Trunk loader of the usual shape (import init, * as bindings from '…')");
const [, webJs, webWasm] = loader;
const prefix = webJs.slice(0, webJs.lastIndexOf('/') + 1);

// The embed's files, renamed after their content.
const embedJs = path.join(dir, 'embed.js');
const embedWasm = path.join(dir, 'embed_bg.wasm');
for (const file of [embedJs, embedWasm]) {
  if (!existsSync(file)) fail(`no ${path.basename(file)} in ${dir}: index.html must build the embed binary (data-bin="embed")`);
}
const hash = createHash('sha256').update(readFileSync(embedJs)).update(readFileSync(embedWasm)).digest('hex').slice(0, 16);
const names = { js: `embed-${hash}.js`, wasm: `embed-${hash}_bg.wasm` };
renameSync(embedJs, path.join(dir, names.js));
renameSync(embedWasm, path.join(dir, names.wasm));

// Embed mode exactly when EmbedConfig::from_query (crates/web/src/embed.rs) finds `embed`: a
// query pair whose key is `embed`, with or without a value.
const script = `<script type="module" data-entries>
const embed = location.search.replace(/^\\?/, '').split('&').some((pair) => pair.split('=')[0] === 'embed');
const [js, wasm] = embed ? ['${prefix}${names.js}', '${prefix}${names.wasm}'] : ['${webJs}', '${webWasm}'];
const code = fetch(wasm);
const bindings = await import(js);
const instance = await bindings.default({ module_or_path: code });
window.wasmBindings = bindings;
dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm: instance } }));
</script>`;
html = html.replace(LOADER, () => script);

// Trunk's preloads of the playground's files: they would load them in embed mode too.
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
for (const file of [webJs, webWasm]) {
  const link = new RegExp(`<link rel="(?:modulepreload|preload)" href="${escape(file)}"[^>]*>`, 'g');
  html = html.replace(link, '');
}
writeFileSync(index, html);
console.log(`entries.mjs: index.html loads ${path.basename(webJs)} or, in embed mode, ${names.js}`);
