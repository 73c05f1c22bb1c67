#!/usr/bin/env bash
# The quickstart: sets up the virtual environment (.venv) and runs
# `python -m albert.quickstart` from the repository's root, so its output
# goes to <repository>/quickstart_output unless --output_dir says otherwise.
# Extra arguments go to the quickstart; --help (or -h) prints them with
# their defaults at once, without creating anything.
set -euo pipefail
ALBERT_ROOT="$(CDPATH='' cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

for arg in "$@"; do
  case "$arg" in
    -h|--help)
      echo "bash scripts/quickstart.sh [options]: creates or updates .venv (the first"
      echo "run installs TensorFlow: a few minutes), then runs the quickstart from"
      echo "the repository's root (relative paths, such as the default output_dir,"
      echo "are under it) with these options."
      echo
      # albert/quickstart_flags.py imports only the standard library, so any
      # Python 3 prints the options before .venv exists; no bytecode is
      # written, so nothing is created.
      python="${PYTHON:-python3}"
      [ ! -x "${ALBERT_VENV:-$ALBERT_ROOT/.venv}/bin/python" ] ||
        python="${ALBERT_VENV:-$ALBERT_ROOT/.venv}/bin/python"
      PYTHONDONTWRITEBYTECODE=1 exec "$python" \
          "$ALBERT_ROOT/albert/quickstart_flags.py" --help ;;
    --) break ;;
  esac
done

source "$ALBERT_ROOT/scripts/env.sh"
cd "$ALBERT_ROOT"
exec python -m albert.quickstart "$@"
