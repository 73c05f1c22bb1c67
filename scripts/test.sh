#!/usr/bin/env bash
# Runs the whole test suite in the project's virtual environment.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k tokenization`.
# `--fast` first skips the tests marked slow (notebook, subprocesses,
# several workers): the quick inner loop; CI runs everything.
# Tests run in ALBERT_TEST_PROCESSES processes (default 2; pytest-xdist):
# building TensorFlow graphs is single-threaded Python, so two processes on
# two cores take half the time. `-n 0` after it runs everything in one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ALBERT_ROOT"  # pytest's configuration and tests/ are found from here
selection=()
if [ "${1:-}" = "--fast" ]; then
  shift
  selection=(-m "not slow")
fi
exec python -m pytest -n "${ALBERT_TEST_PROCESSES:-2}" "${selection[@]}" "$@"
