#!/usr/bin/env bash
# Sets up what the tests need on a bare machine (idempotently, via scripts/setup.sh) and runs
# every test: formatting, lints (native and wasm32), the API docs, the native test suite
# (slow statistical runs included), a check that wasm32 and native runs give byte-identical CSV, the release
# build of the playground, its component tests in headless Chromium, the end-to-end suite,
# and the browser benchmark (which prints figures and asserts nothing about time).
#
# METASTABLE_SLOW=0 skips the long statistical runs (for a quick local loop).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain and tools"
bash scripts/setup.sh --browser
export PATH="$PWD/node_modules/.bin:$PATH"
cargo --version

step "format"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p web --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
# The API docs build without warnings (no link to a private or wasm-only item).
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "tests (METASTABLE_SLOW=${METASTABLE_SLOW:-1})"
METASTABLE_SLOW="${METASTABLE_SLOW:-1}" cargo test --workspace --locked

step "fuzz: scenario documents and --set edits (a short run; docs/limits.md has the long one)"
cargo run -p sim-core --release --locked --example fuzz_scenario -- --iterations 30000 --seed 1

step "sim-core for wasm32"
cargo build -p sim-core --target wasm32-unknown-unknown --locked

step "wasm32 and native give byte-identical CSV"
cargo build -p sim-core --release --example wasm_csv --target wasm32-unknown-unknown --locked
cargo build -p metastable-cli --locked
node tests/wasm/determinism.mjs \
  target/wasm32-unknown-unknown/release/examples/wasm_csv.wasm \
  target/debug/metastable \
  tests/scenarios/*.json

step "playground: release build"
trunk build --release

step "playground: component tests in headless Chromium"
CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=180 \
  cargo test -p web --target wasm32-unknown-unknown --test browser --locked

step "playground: end-to-end"
node tests/e2e/app.test.mjs dist
node tests/e2e/person.test.mjs dist
node tests/e2e/site.test.mjs dist
node tests/e2e/share.test.mjs dist
node tests/e2e/analysis.test.mjs dist
node tests/e2e/instrument.test.mjs dist

step "playground: browser benchmark (figures only; the native CLI runs the same scenario)"
cargo build --release -p metastable-cli --locked
node tests/e2e/bench.mjs dist

step "all checks passed"
