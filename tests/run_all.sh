#!/usr/bin/env bash
# Every test: the style checks and the docs site (mkdocs --strict); the C++ core and its
# GoogleTest suite under ctest, here and cross-compiled for aarch64 and armhf (run under
# qemu-user); then the Python package installed from this checkout and its pytest suite. The
# first run builds TFLite 2.14.1 from Debian's sources for each architecture into
# ~/.cache/tflstm (minutes); later runs reuse those builds. It installs its apt and pip
# prerequisites first (tests/setup.sh), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh

echo "== Style: ruff and clang-format-14 (tools/lint.sh; --fix rewrites)"
bash tools/lint.sh

# Reads the .pyi stubs and docstrings from the source: needs no build. 2 s of CPU. (No --quiet:
# it hides the warnings that --strict counts.)
# NO_MKDOCS_2_WARNING silences the theme's notice about MkDocs 2.0, which is no warning about the docs.
echo "== Docs: mkdocs build --strict (a broken link, anchor or API reference fails)"
NO_MKDOCS_2_WARNING=1 python3 -m mkdocs build --strict

echo "== C++ on this machine: configure, build, ctest"
cmake --workflow --preset native

echo "== C++ fuzzers: a short libFuzzer run with ASan+UBSan on tflstm's code (bench/fuzz.sh --smoke)"
bash bench/fuzz.sh --smoke

echo "== C++ threads: the cancel tests and a short stress run under ThreadSanitizer (bench/tsan.sh --smoke)"
bash bench/tsan.sh --smoke

for target in aarch64 armhf; do
  echo "== C++ for $target: cross-build, ctest under qemu"
  cmake --workflow --preset "$target"
done

echo "== Python wheels: x86_64, and aarch64 and armhf cross-built on the TFLite prefixes above"
bash tools/build_wheels.sh

echo "== Python: install tflstm from this checkout"
python3 -m pip install --quiet --disable-pip-version-check ".[test]"

echo "== ARM cost smoke: counted instructions of a float32 and an int8 inference under qemu-user (bench/arm_cost/run.py --smoke)"
python3 bench/arm_cost/run.py --smoke

# test_wheels.py runs the runtime tests (tests/device) with each wheel on its target's own Python:
# Debian 12's python3 and python3-numpy under qemu-user for aarch64 and armhf.
echo "== Python: pytest (including ARM against x86 results, and the wheels on each target)"
TFLSTM_REQUIRE_ARM=1 TFLSTM_REQUIRE_WHEELS=1 python3 -m pytest tests/python -p no:cacheprovider
