#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test with ctest.
# Exit 0 only when all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 600
