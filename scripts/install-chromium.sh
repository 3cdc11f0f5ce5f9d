#!/usr/bin/env bash
# Browser mode (render = "browser") and its tests need a Chromium. Playwright's own download
# (`playwright install chromium`) is used when present; otherwise Debian's package, installed
# here when we are root on a Debian/Ubuntu machine. See README, "JavaScript pages".
set -euo pipefail
for exe in "${POLICYWATCH_CHROMIUM:-}" chromium chromium-browser; do
  if [ -n "$exe" ] && command -v "$exe" >/dev/null 2>&1; then
    echo "chromium: $(command -v "$exe")"
    exit 0
  fi
done
if ls "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"/chromium* >/dev/null 2>&1; then
  echo "chromium: Playwright's own"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  echo "chromium: $(command -v chromium)"
  exit 0
fi
echo "warning: no Chromium, so render = \"browser\" documents cannot be fetched. Install one" >&2
echo "  (sudo apt-get install chromium), or run .venv/bin/playwright install chromium," >&2
echo "  or set POLICYWATCH_CHROMIUM=/path/to/chrome." >&2
