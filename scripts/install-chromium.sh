#!/usr/bin/env bash
# Make sure a Chromium is there for the browser tests (tests/test_site_browser.py).
# `make test` runs this; `make demo` does not need it. Playwright never downloads a browser:
# the tests drive Debian's chromium, or the binary POLICYWATCH_CHROMIUM names.
set -euo pipefail

chromium="${POLICYWATCH_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
    echo "chromium: $chromium"
    exit 0
fi
if [ -n "${POLICYWATCH_CHROMIUM:-}" ]; then
    echo "POLICYWATCH_CHROMIUM=$chromium is not an executable file." >&2
    echo "Point it at a Chromium binary, or unset it to use /usr/bin/chromium." >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    cat >&2 <<'MSG'
The browser tests need Chromium at /usr/bin/chromium, and this script can only install it
as root (or with password-less sudo). Install it yourself, then run `make test` again:

    sudo apt-get update && sudo apt-get install -y chromium

or set POLICYWATCH_CHROMIUM to a Chromium binary you already have.
MSG
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "No apt-get here: install Chromium yourself and set POLICYWATCH_CHROMIUM to it." >&2
    exit 1
fi

echo "installing Debian's chromium for the browser tests (apt-get)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y chromium
test -x /usr/bin/chromium
echo "chromium: /usr/bin/chromium"
