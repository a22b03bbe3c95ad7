#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan, in build-fuzz/) and runs each over
# its corpus for a bounded time. Usage: scripts/fuzz.sh [seconds] (default 120, split 3:1
# between the ONNX model target and the tensor-file target).
#
# Seeds come from fuzz/corpus/<target>/ (committed, read only); new inputs go to
# build-fuzz/corpus/<target>/ and findings to build-fuzz/artifacts/. An input allocating
# over 512 MB at once, or a process over 2 GB, is a finding: files must not be able to
# ask for memory they do not back with bytes. Exits non-zero on any finding.
# Reproduce one: build-fuzz/fuzz_onnx_model build-fuzz/artifacts/fuzz_onnx_model-crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh  # clang and libclang-rt for libFuzzer
total="${1:-120}"
dir="${XCEPT_FUZZ_DIR:-build-fuzz}"
cxx="${CXX_FUZZ:-clang++}"
command -v "$cxx" > /dev/null || { echo "fuzz.sh: $cxx not found (install clang and libclang-rt-14-dev)" >&2; exit 1; }

cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DXCEPT_FUZZ=ON -DXCEPT_BUILD_TESTS=OFF -DXCEPT_BUILD_BENCH=OFF > /dev/null
cmake --build "$dir" --target fuzz_onnx_model fuzz_tensor_file

mkdir -p "$dir/artifacts"
status=0
run() { # target seconds
  local target="$1" secs="$2"
  mkdir -p "$dir/corpus/$target"
  echo "== $target for ${secs}s"
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
    "$dir/$target" "$dir/corpus/$target" "fuzz/corpus/${target#fuzz_}" \
      -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=20 \
      -artifact_prefix="$dir/artifacts/$target-" -print_final_stats=1 \
      > "$dir/$target.log" 2>&1 || status=1
  grep -E "^#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|==[0-9]+==" \
    "$dir/$target.log" | head -20 || true
}
run fuzz_onnx_model $(( total * 3 / 4 ))
run fuzz_tensor_file $(( total - total * 3 / 4 ))
if [ "$status" != 0 ]; then
  echo "fuzz.sh: findings; see $dir/*.log and $dir/artifacts/" >&2
fi
exit "$status"
