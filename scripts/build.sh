#!/usr/bin/env bash
# Configures and builds onboard and prismatic-sim into ${BUILD_DIR:-build} (Release with debug info).
# Usage: scripts/build.sh [extra cmake -D options]; BUILD_TARGETS="onboard prismatic-sim" builds only those.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
build_type=${BUILD_TYPE:-RelWithDebInfo}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "$@" >/dev/null
targets=()
for target in ${BUILD_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
