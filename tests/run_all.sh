#!/usr/bin/env bash
# Every test: the C++ core and its GoogleTest suite under ctest, then the Python package
# installed from this checkout and its pytest suite. The first run builds TFLite 2.14.1 from
# Debian's sources into ~/.cache/tflstm (a few minutes); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== C++: configure and build"
cmake -S . -B build/cpp -G Ninja -DTFLSTM_WERROR=ON
cmake --build build/cpp --parallel "$jobs"

echo "== C++: ctest"
ctest --test-dir build/cpp --output-on-failure --parallel "$jobs"

echo "== Python: install tflstm from this checkout"
python3 -m pip install --quiet --disable-pip-version-check ".[test]"

echo "== Python: pytest"
python3 -m pytest tests/python -p no:cacheprovider
