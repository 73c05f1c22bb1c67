#!/usr/bin/env bash
# The main job: sets up the virtual environment and runs the quickstart.
# Extra arguments go to `python -m albert.quickstart` (see --help).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec python -m albert.quickstart "$@"
