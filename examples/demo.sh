#!/usr/bin/env bash
# The main job: install tflstm from this checkout (with the conversion extra) and run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check ".[convert]"
python3 examples/demo.py
