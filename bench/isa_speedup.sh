#!/usr/bin/env bash
# Measures what the x86-64 ISA level buys: builds tflstm (and TFLite, once per level, into the
# cache) for each level and runs the same model with tflstm_benchmark in each build.
#   bash bench/isa_speedup.sh MODEL.tflite [LEVEL ...]      (default levels: x86-64 x86-64-v3)
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1; shift
if [ $# -gt 0 ]; then levels=("$@"); else levels=(x86-64 x86-64-v3); fi
printf '%-12s %12s %10s\n' level median_us p90_us
for level in "${levels[@]}"; do
  dir=build/bench-$level
  cmake -S . -B "$dir" -G Ninja -DTFLSTM_ISA="$level" -DTFLSTM_BUILD_TESTS=OFF -DTFLSTM_BUILD_BENCH=ON >"$dir.log" 2>&1 \
    || { echo "configure failed, see $dir.log"; exit 1; }
  cmake --build "$dir" --target tflstm_benchmark >>"$dir.log" 2>&1 || { echo "build failed, see $dir.log"; exit 1; }
  out=$("$dir/bench/tflstm_benchmark" "$model" --runs 1000)
  med=$(awk '$1 == "median_us" {print $2}' <<<"$out")
  p90=$(awk '$1 == "p90_us" {print $2}' <<<"$out")
  printf '%-12s %12s %10s\n' "$level" "$med" "$p90"
done
