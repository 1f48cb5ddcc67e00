#!/usr/bin/env bash
# Installs what building and serving the playground needs, idempotently: each tool is
# skipped when it is already there at the right version. Only the package registries are
# used (crates.io, npm, Debian): Trunk is pinned to tools on PATH and never downloads.
#
#   bash scripts/setup.sh            Rust components, the wasm target, Trunk, wasm-bindgen,
#                                    wasm-opt (npm binaryen), playwright-core and GNU parallel
#                                    (the sharded sweeps' test runs the shards under it)
#   bash scripts/setup.sh --browser  the same, plus Debian's Chromium and ChromeDriver (tests)
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# wasm-bindgen's CLI must be exactly the version of the crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)

say() { printf '  setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust with rustup first (https://rustup.rs)" >&2
  exit 1
fi
installed_components=$(rustup component list --installed 2>/dev/null || true)
for component in rustfmt clippy; do
  grep -q "^$component" <<<"$installed_components" || rustup component add "$component"
done
rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (a few minutes, once)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: its lock file pins a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! command -v npm >/dev/null 2>&1; then
  say "installing node and npm"
  apt_install nodejs npm
fi
# wasm-opt (npm binaryen; Debian's is too old for current rustc output) and playwright-core.
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# GNU parallel: crates/cli/tests/cli.rs runs a sharded sweep under it (docs/distributed.md).
# (moreutils has a `parallel` of its own: the GNU one says so in its version.)
if [[ "$(parallel --version 2>/dev/null || true)" != "GNU parallel"* ]]; then
  say "installing GNU parallel"
  apt_install parallel
fi

if [ "${1:-}" = "--browser" ]; then
  if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
    say "installing Debian's chromium and chromium-driver"
    apt_install chromium chromium-driver
  fi
fi
