#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (address+undefined sanitizers) into ${FUZZ_BUILD_DIR:-build-fuzz}
# and fuzzes each for ${FUZZ_SECONDS:-60} seconds over a copy of its seed corpus tests/fuzz/corpus/<target>/.
# Exits 1 on any finding (crash, leak, timeout, out of memory) and prints the reproducer's path.
# Usage: scripts/fuzz.sh [target ...]    targets: csv expression graphql json (default: all four)
# Env: FUZZ_SECONDS (per target), FUZZ_MAX_LEN (bytes, default 4096), FUZZ_BUILD_DIR, FUZZ_JOBS (build).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh clang libclang-rt-14-dev

build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
max_len=${FUZZ_MAX_LEN:-4096}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv expression graphql json)
for target in "${targets[@]}"; do
  [ -d "tests/fuzz/corpus/$target" ] || { echo "error: unknown fuzz target '$target'" >&2; exit 2; }
done

# Warnings are not errors here: this build is for finding crashes, and clang warns differently from g++.
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DONBOARD_FUZZ=ON -DONBOARD_WERROR=OFF >/dev/null
cmake --build "$build_dir" -j "${FUZZ_JOBS:-$(nproc)}" --target "${targets[@]/%/_fuzz}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
found=0
for target in "${targets[@]}"; do
  work="$build_dir/fuzz-run/$target"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp tests/fuzz/corpus/"$target"/* "$work/corpus/"
  options=(-max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048
           -artifact_prefix="$work/artifacts/" -print_final_stats=1)
  [ -f "tests/fuzz/$target.dict" ] && options+=(-dict="tests/fuzz/$target.dict")
  echo "fuzz: $target for ${seconds}s: $build_dir/tests/${target}_fuzz $work/corpus ${options[*]}"
  status=0
  "$build_dir/tests/${target}_fuzz" "$work/corpus" "${options[@]}" >"$work/log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$work/log")
  echo "fuzz: $target: exit $status, ${execs:-?} execs, ${rate:-?} execs/s, peak rss ${rss:-?} MB," \
       "corpus $(ls "$work/corpus" | wc -l) inputs, log $work/log"
  reproducers=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
                -o -name 'oom-*' \) | sort)
  if [ "$status" -ne 0 ] || [ -n "$reproducers" ]; then
    found=1
    grep -m 5 -E 'ERROR: |SUMMARY: |broken promise|runtime error' "$work/log" >&2 || true
    for file in $reproducers; do
      echo "fuzz: $target: FINDING, reproducer: $file (replay: $build_dir/tests/${target}_fuzz $file)" >&2
    done
    [ -n "$reproducers" ] || echo "fuzz: $target: FINDING without reproducer, see $work/log" >&2
  fi
done
[ "$found" -eq 0 ] && echo "fuzz: no finding in ${targets[*]}"
exit "$found"
