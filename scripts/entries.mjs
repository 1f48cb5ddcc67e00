// Trunk post_build hook: one page, several binaries. index.html starts the playground, or embed
// mode when the address asks for it (`?embed&…`); the analysis view and the dialogs (share,
// "What would fix this?") are binaries of their own, fetched the first time they open. So a
// blog post's embedded chart does not download the editor, and the playground's first visit
// does not download the analysis view or the dialogs.
//
// Trunk builds the playground as the page's main binary (hashed names, its own inline loader)
// and the others (ENTRIES) as "workers" (wasm-bindgen `--target web`, unhashed `NAME.js` and
// `NAME_bg.wasm`, nothing in the page). This hook
//   1. names each entry's two files (and its stylesheet, web/NAME.css, if it has one) after a
//      hash of their content, as Trunk names the playground's, so a cached old file can never
//      meet a new one;
//   2. replaces Trunk's loader with one that offers `metastableEntry(name)` (a promise of an
//      entry's exports, each fetched and started once (again after a failed download), its
//      .wasm fetched in parallel with its JS) and starts the playground or embed mode by the address. Trunk's preload links are
//      removed: they would download the playground's files in embed mode too;
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
  console.log("entries.mjs: index.html already has the entries' loader");
  process.exit(0);
}

// Trunk's loader: `import init, * as bindings from '<js>'; … init({ module_or_path: '<wasm>' })`.
const LOADER = /<script type="module">\s*import init, \* as bindings from '([^']+)';[\s\S]*?module_or_path: '([^']+)'[\s\S]*?<\/script>/;
const loader = html.match(LOADER);
if (!loader) fail("index.html has no Trunk loader of the usual shape (import init, * as bindings from '…')");
const [, webJs, webWasm] = loader;
const prefix = webJs.slice(0, webJs.lastIndexOf('/') + 1);

// The entries Trunk builds as "workers" with `--target web`, each renamed after its content.
const ENTRIES = ['embed', 'analysis', 'dialogs'];
const entries = {};
for (const name of ENTRIES) {
  const js = path.join(dir, `${name}.js`);
  const wasm = path.join(dir, `${name}_bg.wasm`);
  for (const file of [js, wasm]) {
    if (!existsSync(file)) fail(`no ${path.basename(file)} in ${dir}: index.html must build the ${name} binary (data-bin="${name}")`);
  }
  const hash = createHash('sha256').update(readFileSync(js)).update(readFileSync(wasm)).digest('hex').slice(0, 16);
  entries[name] = [`${prefix}${name}-${hash}.js`, `${prefix}${name}-${hash}_bg.wasm`];
  renameSync(js, path.join(dir, `${name}-${hash}.js`));
  renameSync(wasm, path.join(dir, `${name}-${hash}_bg.wasm`));
  // An entry's own stylesheet (web/NAME.css, copied by Trunk), linked when it starts.
  const css = path.join(dir, `${name}.css`);
  if (existsSync(css)) {
    const cssHash = createHash('sha256').update(readFileSync(css)).digest('hex').slice(0, 16);
    entries[name].push(`${prefix}${name}-${cssHash}.css`);
    renameSync(css, path.join(dir, `${name}-${cssHash}.css`));
  }
}

// Embed mode exactly when EmbedConfig::from_query (crates/web/src/embed.rs) finds `embed`: a
// query pair whose key is `embed`, with or without a value.
const script = `<script type="module" data-entries>
const entries = ${JSON.stringify(entries)};
const styled = (css) =>
  new Promise((resolve, reject) => {
    const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: css });
    link.onload = resolve;
    link.onerror = () => reject(new Error(\`\${css} did not load\`));
    document.head.append(link);
  });
const start = async ([js, wasm, css]) => {
  const code = fetch(wasm);
  const style = css ? styled(css) : null;
  const bindings = await import(js);
  await bindings.default({ module_or_path: code });
  await style;
  return bindings;
};
const started = {};
window.metastableEntry = (name) =>
  (started[name] ??= start(entries[name]).catch((error) => {
    delete started[name];
    throw error;
  }));
const embed = location.search.replace(/^\\?/, '').split('&').some((pair) => pair.split('=')[0] === 'embed');
window.wasmBindings = await (embed ? window.metastableEntry('embed') : start(['${webJs}', '${webWasm}']));
dispatchEvent(new CustomEvent('TrunkApplicationStarted'));
</script>`;
html = html.replace(LOADER, () => script);

// Trunk's preloads of the playground's files: they would load them in embed mode too.
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
for (const file of [webJs, webWasm]) {
  const link = new RegExp(`<link rel="(?:modulepreload|preload)" href="${escape(file)}"[^>]*>`, 'g');
  html = html.replace(link, '');
}
writeFileSync(index, html);
console.log(`entries.mjs: index.html loads ${path.basename(webJs)}, or ${Object.values(entries).map(([js]) => path.basename(js)).join(' and ')}`);
