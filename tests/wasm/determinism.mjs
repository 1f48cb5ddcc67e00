// Same scenario + seed ⇒ byte-identical CSV in wasm32 and natively.
//
// usage: node tests/wasm/determinism.mjs WASM_MODULE METASTABLE_BINARY [SCENARIO.json ...]
// Runs every preset (from the wasm module itself) and every scenario file given, each with a
// few seeds, in the wasm build of sim-core (examples/wasm_csv.rs) and in the native CLI, and
// compares the CSV byte for byte.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const [wasmPath, cliPath, ...files] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const wasm = instance.exports;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const output = () => decoder.decode(new Uint8Array(wasm.memory.buffer, wasm.output_ptr(), wasm.output_len()).slice());

function runWasm(json) {
  const bytes = encoder.encode(json);
  const ptr = wasm.input_buffer(bytes.length);
  new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
  const status = wasm.run_input();
  const text = output();
  if (status !== 0) throw new Error(`wasm refused the scenario: ${text}`);
  return text;
}

function runNative(json) {
  return execFileSync(cliPath, ['run', '-'], { input: json, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
}

const scenarios = [];
for (let i = 0; i < wasm.preset_count(); i++) {
  wasm.preset_json(i);
  scenarios.push(['preset ' + JSON.parse(output()).name, output()]);
}
for (const file of files) scenarios.push([file, readFileSync(file, 'utf8')]);

let passed = 0;
let failed = 0;
for (const [label, json] of scenarios) {
  for (const seed of [null, 1, 2 ** 40 + 3]) {
    const doc = JSON.parse(json);
    if (seed !== null) doc.seed = seed;
    const text = JSON.stringify(doc);
    const a = runWasm(text);
    const b = runNative(text);
    if (a === b && a.length > 0) {
      passed++;
    } else {
      failed++;
      const line = a.split('\n').findIndex((l, i) => l !== b.split('\n')[i]);
      console.error(`FAILED ${label}, seed ${doc.seed}: wasm and native CSV differ first at line ${line + 1}`);
    }
  }
}
console.log(`wasm determinism: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
