#!/usr/bin/env bash
# Builds the tflstm runtime wheels (numpy is their only dependency) for CPython 3.11, as on
# Debian 12 and Raspberry Pi OS bookworm, into dist/:
#
#   bash tools/build_wheels.sh                  # x86_64, aarch64 and armhf
#   bash tools/build_wheels.sh aarch64 armhf    # some of them
#
# x86_64 is built natively. The ARM wheels are cross-built with the toolchain files of the
# CMake presets (cmake/toolchains/), against the same cached TFLite prefixes, and the Python
# headers of the target's own libpython3.11-dev, from a Debian userland that
# tools/debian_userland.py unpacks into the tflstm cache. auditwheel then checks each wheel
# against the manylinux policies and gives it the most compatible platform tag it meets.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x86_64 aarch64 armhf)

py=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
if [ "$py" != "3.11" ]; then
  echo "tools/build_wheels.sh: needs CPython 3.11 to tag cp311 wheels; this python3 is $py" >&2
  exit 1
fi
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
raw=build/wheels/raw
mkdir -p "$raw" dist

for target in "${targets[@]}"; do
  # Not pyproject's build folder: `pip install .` configures that one in its isolated build env.
  args=(-C "build-dir=build/wheel-$target")
  case "$target" in
    x86_64) suffix=x86_64 ;;
    aarch64) arch=arm64 triple=aarch64-linux-gnu suffix=aarch64 ;;
    armhf) arch=armhf triple=arm-linux-gnueabihf suffix=armv7l ;;
    *) echo "tools/build_wheels.sh: unknown target '$target' (x86_64, aarch64, armhf)" >&2; exit 1 ;;
  esac
  echo "== wheel for $target"
  rm -f "$raw"/tflstm-*.whl
  cross=()
  if [ "$target" != x86_64 ]; then
    root=$(python3 tools/debian_userland.py --arch "$arch")
    args+=(-C "cmake.define.CMAKE_TOOLCHAIN_FILE=$PWD/cmake/toolchains/$triple.cmake"
           -C "cmake.define.Python_INCLUDE_DIR=$(dirname "$root")/include/python3.11"
           -C "cmake.define.PYBIND11_USE_CROSSCOMPILING=ON"
           # The toolchain confines package searches to the target's root: pybind11 is the host's.
           -C "cmake.define.pybind11_DIR=$(python3 -m pybind11 --cmakedir)")
    # The extension's file name and the wheel's platform, as the target's Python names them.
    cross=(SETUPTOOLS_EXT_SUFFIX=".cpython-311-$triple.so" _PYTHON_HOST_PLATFORM="linux-$suffix")
  fi
  env "${cross[@]}" python3 -m pip wheel --quiet --no-deps --no-build-isolation -w "$raw" "${args[@]}" .
  rm -f dist/tflstm-*_"$suffix".whl
  log=build/wheels/auditwheel-$target.log
  if ! auditwheel repair -w dist "$raw"/tflstm-*.whl > "$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
  grep -o "Fixed-up wheel written to .*" "$log"
done
ls -l dist/
