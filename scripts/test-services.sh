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

# --- Spark (issue 8): Java for PySpark local mode -------------------------------------
# The Spark-marked tests run the monitoring pipeline on a local[2] session; they are
# skipped where Java is missing. Java 17 comes from Debian's openjdk-17-jre-headless.
if ! command -v java >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    else
        echo "test-services: java not found; Spark tests will be skipped" >&2
    fi
fi
if command -v java >/dev/null 2>&1; then
    {
        echo "export SPARK_LOCAL_IP=127.0.0.1"
        echo "export DUALCONTROL_SPARK_PARTITIONS=1"  # tiny test data: one shuffle partition
    } >> var/test-env.sh
fi
# --- end Spark ------------------------------------------------------------------------
