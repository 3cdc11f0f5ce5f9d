#!/usr/bin/env bash
# axe-core (npm) for the accessibility checks of the browser tests (tests/test_site_browser.py).
# `make test` runs this. It installs the pinned version into a cache folder (never into the
# project's sources); the tests inject its axe.min.js into the pages they open.
set -euo pipefail

version="4.14.1"
dir="${POLICYWATCH_AXE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/policywatch/axe-core-$version}"
if [ -f "$dir/node_modules/axe-core/axe.min.js" ]; then
    echo "axe-core: $dir/node_modules/axe-core/axe.min.js"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "The accessibility tests need npm to install axe-core $version (sudo apt-get install -y npm)." >&2
    exit 1
fi
mkdir -p "$dir"
echo "installing axe-core $version for the accessibility tests (npm, into $dir)"
npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "axe-core@$version"
test -f "$dir/node_modules/axe-core/axe.min.js"
echo "axe-core: $dir/node_modules/axe-core/axe.min.js"
