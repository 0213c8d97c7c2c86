#!/usr/bin/env bash
# The style checks CI runs: ruff (lint and format) on the Python, clang-format-14 on the C++.
# With --fix it rewrites the files instead of failing on them.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t cxx < <(git ls-files '*.cc' '*.h' '*.cpp')
if [ "${1:-}" = "--fix" ]; then
  ruff check --fix .
  ruff format .
  clang-format-14 -i "${cxx[@]}"
else
  ruff check .
  ruff format --check .
  clang-format-14 --dry-run --Werror "${cxx[@]}"
  echo "lint: ${#cxx[@]} C++ files and the Python are clean"
fi
