#!/usr/bin/env bash
# The main job: install tflstm from this checkout with the conversion extra, then run the whole
# pipeline on BasicMotions (train, convert in four modes, profile natively, table and plot).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check ".[convert]"
tflstm demo --out tflstm-demo "$@"
