#!/usr/bin/env bash
# Runs tflstm's libFuzzer targets (tests/fuzz) for a given time, both at once (one per core).
#
#   bash bench/fuzz.sh [--seconds N] [--out DIR] [--keep-going] [--target T]   # the long run
#   bash bench/fuzz.sh --smoke [--seconds N]                      # CI: tests/run_all.sh
#
# The long run builds the `fuzz` preset: tflstm and TFLite itself with ASan + UBSan and
# libFuzzer coverage (TFLite into its own cached prefix, ~10 minutes once), seeds the model
# fuzzer with TFLite's test models, tests/fuzz/reproducers and the test suite's LSTMs converted
# in every mode (bench/fuzz_seeds.py, when TensorFlow is there), and keeps the corpus in DIR
# (default build/fuzz-run) so that a later run goes on from it. --keep-going records crashes and
# goes on (libFuzzer's fork mode) instead of stopping at the first one.
# --smoke links the ordinary TFLite prefix of the native build (so CI builds no sanitized
# TFLite): only tflstm's own code is instrumented; 20 s per target by default.
# Either way it prints executions and findings per target and fails if there is any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

smoke=0 seconds="" out="" keep_going=0 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --seconds) seconds="$2"; shift ;;
    --out) out="$2"; shift ;;
    --keep-going) keep_going=1 ;;
    --target) only="$2"; shift ;;
    *) echo "usage: bash bench/fuzz.sh [--smoke] [--seconds N] [--out DIR] [--keep-going] [--target model_fuzzer|api_fuzzer]" >&2; exit 2 ;;
  esac
  shift
done

san="fuzzer-no-link,address,undefined"
if [ "$smoke" = 1 ]; then
  seconds=${seconds:-20}
  out=${out:-$root/build/fuzz-smoke/run}
  build=$root/build/fuzz-smoke
  # The native build's TFLite prefix (tests/run_all.sh builds it first).
  prefix_cfg=$(sed -n 's/^tflstm-tflite_DIR:PATH=//p' build/cpp/CMakeCache.txt 2>/dev/null || true)
  if [ -z "$prefix_cfg" ]; then
    echo "fuzz.sh --smoke: configure the native build first (cmake --workflow --preset native)" >&2
    exit 1
  fi
  prefix=${prefix_cfg%/lib/cmake/tflstm-tflite}
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DTFLSTM_WERROR=ON \
    -DTFLSTM_TFLITE_PREFIX="$prefix" -DTFLSTM_SANITIZE="$san" -DTFLSTM_BUILD_FUZZ=ON \
    -DTFLSTM_BUILD_TESTS=OFF -DTFLSTM_BUILD_EXAMPLES=OFF -DTFLSTM_BUILD_BENCH=OFF > "$build.configure.log" \
    || { cat "$build.configure.log"; exit 1; }
  cmake --build "$build" -j2 --target model_fuzzer api_fuzzer
else
  seconds=${seconds:-600}
  out=${out:-$root/build/fuzz-run}
  build=$root/build/fuzz
  cmake --preset fuzz > /dev/null
  cmake --build "$build" -j2 --target model_fuzzer api_fuzzer
  prefix_cfg=$(sed -n 's/^tflstm-tflite_DIR:PATH=//p' "$build/CMakeCache.txt")
  prefix=${prefix_cfg%/lib/cmake/tflstm-tflite}
fi
testdata=$prefix/share/tflstm-tflite/testdata

mkdir -p "$out/seeds" "$out/models"
# Not the two models TFLite tests huge im2col buffers with: they need gigabytes by design.
find "$testdata" -name '*.bin' ! -name '*huge*' -exec cp {} "$out/seeds/" \;
cp "$root"/tests/fuzz/reproducers/*.bin "$out/seeds/" 2>/dev/null || true
if [ "$smoke" = 0 ] && [ -z "$(ls "$out/models")" ]; then
  python3 bench/fuzz_seeds.py "$out/models" > /dev/null || echo "fuzz.sh: no converted seed models (needs tflstm and TensorFlow)"
fi
cp "$out"/models/*.tflite "$out/seeds/" 2>/dev/null || true
TFLSTM_FUZZ_MODELS=$(find "$out/models" -name '*.tflite' | sort | paste -sd: -)
export TFLSTM_FUZZ_MODELS
# Leaks are findings, and so is a request for more than 4 GB (a plan past the runner's budget is refused before TFLite allocates it).
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
# Which targets run. The CI smoke runs api_fuzzer only for now: model_fuzzer still finds open
# bugs within seconds (tried 2026-12-02 with -seed=1 on an empty corpus: TFLite's own arena asks
# for 29 GB at 8.9 k executions, since TFLite's arena has no budget; see the README), and would
# fail every CI run until they are fixed. It is still built, and the long runs run it.
targets=(model_fuzzer api_fuzzer)
[ "$smoke" = 1 ] && targets=(api_fuzzer)
[ -n "$only" ] && targets=("$only")
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

pids=()
rm -rf "$out/artifacts"  # findings of this run only; the corpus carries over
for f in "${targets[@]}"; do
  mkdir -p "$out/corpus/$f" "$out/artifacts/$f"
  args=(-max_total_time="$seconds" -rss_limit_mb=4096 -malloc_limit_mb=4096 -timeout=30 -print_final_stats=1
        -artifact_prefix="$out/artifacts/$f/" "$out/corpus/$f")
  [ "$f" = model_fuzzer ] && args+=("$out/seeds")
  [ "$smoke" = 1 ] && args=(-seed=1 "${args[@]}")  # CI: the same mutations on every run
  [ "$keep_going" = 1 ] && args=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 "${args[@]}")
  "$build/tests/fuzz/$f" "${args[@]}" > "$out/$f.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done

findings=0
for f in "${targets[@]}"; do
  # Plain mode prints stat::number_of_executed_units; fork mode its progress lines "#N: ...".
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$f.log" | tail -1)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$out/$f.log" | tail -1 | tr -d '#')
  n=$(find "$out/artifacts/$f" -type f | wc -l)
  findings=$((findings + n))
  echo "$f: ${execs:-0} executions in ${seconds} s, corpus $(ls "$out/corpus/$f" | wc -l) inputs, $n findings (log $out/$f.log)"
  find "$out/artifacts/$f" -type f -printf '  %p\n'
done
if [ "$findings" -gt 0 ] || [ "$status" != 0 ]; then
  echo "fuzz.sh: findings or a fuzzer failure; see the logs above" >&2
  exit 1
fi
