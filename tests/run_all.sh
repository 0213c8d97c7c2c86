#!/usr/bin/env bash
# Every test: the C++ core and its GoogleTest suite under ctest, here and cross-compiled for
# aarch64 and armhf (run under qemu-user); then the Python package installed from this
# checkout and its pytest suite. The first run builds TFLite 2.14.1 from Debian's sources for
# each architecture into ~/.cache/tflstm (minutes); later runs reuse those builds. It installs
# its apt and pip prerequisites first (tests/setup.sh), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh

echo "== C++ on this machine: configure, build, ctest"
cmake --workflow --preset native

echo "== C++ fuzzers: a short libFuzzer run with ASan+UBSan on tflstm's code (bench/fuzz.sh --smoke)"
bash bench/fuzz.sh --smoke

for target in aarch64 armhf; do
  echo "== C++ for $target: cross-build, ctest under qemu"
  cmake --workflow --preset "$target"
done

echo "== Python: install tflstm from this checkout"
python3 -m pip install --quiet --disable-pip-version-check ".[test]"

echo "== Python: pytest (including ARM against x86 results)"
TFLSTM_REQUIRE_ARM=1 python3 -m pytest tests/python -p no:cacheprovider
