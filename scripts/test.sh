#!/usr/bin/env bash
# Sets up what the tests need on a bare machine (idempotently) and runs every test:
# formatting, lints, the native test suite (slow statistical runs included), a wasm32 build
# of the simulation core, and a check that wasm32 and native runs give byte-identical CSV.
#
# METASTABLE_SLOW=0 skips the long statistical runs (for a quick local loop).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust with rustup first (https://rustup.rs)" >&2
  exit 1
fi
installed_components=$(rustup component list --installed 2>/dev/null || true)
for component in rustfmt clippy; do
  if ! grep -q "^$component" <<<"$installed_components"; then
    rustup component add "$component"
  fi
done
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo --version

step "format"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (METASTABLE_SLOW=${METASTABLE_SLOW:-1})"
METASTABLE_SLOW="${METASTABLE_SLOW:-1}" cargo test --workspace --locked

step "sim-core for wasm32"
cargo build -p sim-core --target wasm32-unknown-unknown --locked

step "wasm32 and native give byte-identical CSV"
if ! command -v node >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq nodejs >/dev/null
  else
    echo "node is needed for the wasm determinism check" >&2
    exit 1
  fi
fi
cargo build -p sim-core --release --example wasm_csv --target wasm32-unknown-unknown --locked
cargo build -p metastable-cli --locked
node tests/wasm/determinism.mjs \
  target/wasm32-unknown-unknown/release/examples/wasm_csv.wasm \
  target/debug/metastable \
  tests/scenarios/*.json

step "all checks passed"
