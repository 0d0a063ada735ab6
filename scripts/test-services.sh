#!/usr/bin/env bash
# Installs and starts what the tests need beyond Python packages, then writes
# var/test-env.sh with the environment the tests read. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
: > var/test-env.sh

# --- Chromium for the browser tests (tests/browser, marked `browser`) -------------------
# Debian's package; Playwright drives it by its path and never downloads a browser.
# A CJK font so Chinese pages and PDFs render (no web fonts are ever loaded).
if [ ! -x /usr/bin/chromium ]; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null
fi
echo "export DUALCONTROL_CHROMIUM=/usr/bin/chromium" >> var/test-env.sh
