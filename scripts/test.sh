#!/usr/bin/env bash
# Runs the whole test suite in the project's virtual environment.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k tokenization`.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec python -m pytest "$@"
