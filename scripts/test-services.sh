#!/usr/bin/env bash
# Installs and starts what the tests need beyond Python packages, then writes
# var/test-env.sh with the environment the tests read. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
: > var/test-env.sh
