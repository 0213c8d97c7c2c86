#!/usr/bin/env bash
# Runs tflstm's thread tests and its stress program (bench/stress.cc) under ThreadSanitizer.
#
#   bash bench/tsan.sh [--threads N] [--calls N]          # the long run
#   bash bench/tsan.sh --smoke [--threads N] [--calls N]  # CI: tests/run_all.sh
#
# The long run builds the `tsan` preset: tflstm and TFLite itself with -fsanitize=thread (TFLite
# into its own cached prefix, ~10 minutes once), then runs every ctest test there and the stress
# program, 8 threads and 100000 calls by default. --smoke links the ordinary TFLite prefix of the
# native build (so CI builds no sanitized TFLite): only tflstm's own code is instrumented, and
# the stress program runs 4 threads, 5000 calls.
# Interpreters run one thread each (the default num_threads=1): Debian's ruy and its thread pool
# are not instrumented, so TSan could not see their synchronisation.
# Then the Python API from threads (bench/tsan_threads.py) with a TSan build of the extension.
# Any TSan report fails the run (halt_on_error); it prints the stress program's counts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

smoke=0 threads="" calls=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --threads) threads="$2"; shift ;;
    --calls) calls="$2"; shift ;;
    *) echo "usage: bash bench/tsan.sh [--smoke] [--threads N] [--calls N]" >&2; exit 2 ;;
  esac
  shift
done

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 exitcode=66 ${TSAN_OPTIONS:-}"
if [ "$smoke" = 1 ]; then
  threads=${threads:-4} calls=${calls:-5000}
  build=$root/build/tsan-smoke
  prefix_cfg=$(sed -n 's/^tflstm-tflite_DIR:PATH=//p' build/cpp/CMakeCache.txt 2>/dev/null || true)
  if [ -z "$prefix_cfg" ]; then
    echo "tsan.sh --smoke: configure the native build first (cmake --workflow --preset native)" >&2
    exit 1
  fi
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DTFLSTM_WERROR=ON \
    -DTFLSTM_TFLITE_PREFIX="${prefix_cfg%/lib/cmake/tflstm-tflite}" -DTFLSTM_SANITIZE=thread \
    -DTFLSTM_BUILD_EXAMPLES=OFF -DTFLSTM_BUILD_PYTHON=ON -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" \
    > "$build.configure.log" || { cat "$build.configure.log"; exit 1; }
  cmake --build "$build" -j2 --target tflstm_stress resize_test fuzz_regression_test _core python_embed
  # The tests that run a second thread: cancellation.
  for t in resize_test fuzz_regression_test; do "$build/tests/cpp/$t" --gtest_filter='*Cancel*' --gtest_brief=1; done
else
  threads=${threads:-8} calls=${calls:-100000}
  build=$root/build/tsan
  cmake --preset tsan -DTFLSTM_BUILD_PYTHON=ON -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" > /dev/null
  cmake --build --preset tsan -j2
  # install.consumer builds a program of its own, without the sanitizer.
  ctest --test-dir "$build" -j2 --output-on-failure -E '^install\.'
fi
echo "tsan.sh: tflstm_stress --threads $threads --calls $calls"
"$build/bench/tflstm_stress" --threads "$threads" --calls "$calls"

# The Python API from threads: the package with the TSan extension, run inside python_embed.
pkg=$build/python-package
rm -rf "$pkg" && mkdir -p "$pkg" && cp -r python/tflstm "$pkg/"
cp "$build"/python/_core*.so "$build/python/_build_config.py" "$pkg/tflstm/"
prefix_cfg=$(sed -n 's/^tflstm-tflite_DIR:PATH=//p' "$build/CMakeCache.txt")
echo "tsan.sh: bench/tsan_threads.py --rounds $((calls / 25))"
PYTHONPATH=$pkg "$build/bench/python_embed" bench/tsan_threads.py \
  "${prefix_cfg%/lib/cmake/tflstm-tflite}/share/tflstm-tflite/testdata" --rounds $((calls / 25))
