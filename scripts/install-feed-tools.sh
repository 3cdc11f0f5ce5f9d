#!/usr/bin/env bash
# Debian's jing (RELAX NG validator) and newsboat (a real feed reader) for the feed tests
# (tests/test_feed_validity.py, tests/test_feed_reader.py). `make test` runs this.
set -euo pipefail

missing=()
command -v jing >/dev/null 2>&1 || missing+=(jing)
command -v newsboat >/dev/null 2>&1 || missing+=(newsboat)
if [ "${#missing[@]}" -eq 0 ]; then
    echo "feed tools: $(command -v jing) $(command -v newsboat)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    cat >&2 <<MSG
The feed tests need ${missing[*]}, and this script can only install them as root (or with
password-less sudo). Install them yourself, then run \`make test\` again:

    sudo apt-get update && sudo apt-get install -y ${missing[*]}
MSG
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "No apt-get here: install ${missing[*]} yourself." >&2
    exit 1
fi

echo "installing Debian's ${missing[*]} for the feed tests (apt-get)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}"
command -v jing && command -v newsboat
