# Sourced by the other scripts: create (or reuse) the project's virtual
# environment in .venv and install what requirements*.txt ask for. Re-installs
# only when a requirements file changed, so a second run starts at once.
set -euo pipefail

ALBERT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ALBERT_VENV:-$ALBERT_ROOT/.venv}"

pick_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.11 python3.10 python3.9 python3; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    # stderr hidden: a pyenv shim for a version that is not activated
    # complains, and that only means "try the next one".
    if "$candidate" -c 'import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] <= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "error: ALBERT needs Python 3.9, 3.10 or 3.11 (TensorFlow 2.15 supports no other);" \
       "install one or point PYTHON at it." >&2
  return 1
}

# TensorFlow's C++ start-up chatter hides the output people came for. Set
# before anything here imports TensorFlow.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

# Whether the installed requirements import. TensorFlow 2.15 prints
# "Unable to register cuDNN/cuFFT/cuBLAS factory" at ERROR level on every
# import (TF_CPP_MIN_LOG_LEVEL=2 keeps them), so what the check prints is
# shown only when it fails, and then all of it.
albert_check_install() {
  local output
  if ! output="$("$VENV/bin/python" -c "import tensorflow, tensorflow_hub, sentencepiece, pytest" 2>&1)"; then
    printf '%s\n' "$output" >&2
    echo "error: installing requirements into $VENV failed (see above)" >&2
    return 1
  fi
}

if [ ! -x "$VENV/bin/python" ]; then
  py="$(pick_python)"
  echo "[env] creating virtual environment $VENV with $($py --version)"
  "$py" -m venv "$VENV"
fi

stamp="$VENV/.albert-requirements"
wanted="$(cat "$ALBERT_ROOT/requirements.txt" "$ALBERT_ROOT/requirements-test.txt" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  echo "[env] installing requirements into $VENV (first run takes a few minutes)"
  # This machine's pip.conf names local indexes that may not exist; pip's
  # warnings about them are noise, real errors still show.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r "$ALBERT_ROOT/requirements-test.txt" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
  albert_check_install || exit 1
  # Under a temporary name first: a stamp cut short by a kill would only
  # mean a reinstall, but no file is left half-written.
  echo "$wanted" > "$stamp.tmp-$$"
  mv -f "$stamp.tmp-$$" "$stamp"
fi

export PATH="$VENV/bin:$PATH"
export PYTHONPATH="$ALBERT_ROOT${PYTHONPATH:+:$PYTHONPATH}"
cd "$ALBERT_ROOT"
