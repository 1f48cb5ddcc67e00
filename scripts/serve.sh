#!/usr/bin/env bash
# Serves the playground on http://127.0.0.1:8080/ (a release build, rebuilt on change),
# installing what it needs on a bare machine first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
exec trunk serve --release "$@"
