#!/usr/bin/env bash
# Runs the whole test suite in the project's virtual environment.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k tokenization`.
# Tests run in ALBERT_TEST_PROCESSES processes (default 2; pytest-xdist):
# building TensorFlow graphs is single-threaded Python, so two processes on
# two cores take half the time. `-n 0` after it runs everything in one.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec python -m pytest -n "${ALBERT_TEST_PROCESSES:-2}" "$@"
