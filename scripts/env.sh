# The project's virtual environment, safe to source from an interactive shell:
#
#   source scripts/env.sh   # create or update .venv, then activate it here
#   bash scripts/env.sh     # only create or update .venv
#
# Creates (or reuses) the virtual environment in .venv (ALBERT_VENV overrides
# the path, PYTHON the interpreter that creates it) and installs what
# requirements*.txt ask for, again only when a requirements file changed
# (the stamp file .venv/.albert-requirements holds their hash), so a second
# run starts at once. Sourced, it then activates the environment: its bin/
# first on PATH, VIRTUAL_ENV, the repository on PYTHONPATH, ALBERT_ROOT set.
#
# Sourcing leaves the shell's options and working directory as they were:
# the strict part (set -euo pipefail) runs as a child `bash scripts/env.sh`,
# a process of its own, so neither its options nor a failure reach the
# caller's shell (a failed install returns 1 instead of closing a terminal).
# Scripts that source this set their own options and `cd "$ALBERT_ROOT"`.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Run as a script: the set-up, strict.
  set -euo pipefail
  ALBERT_ROOT="$(CDPATH='' cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
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
  exit 0
fi

# Sourced: set up in a child process, then activate here. No `set`, no `cd`
# (the command substitution's cd stays in its subshell); -P resolves a
# symlinked scripts/ to the real repository.
# zsh names the sourced file differently (eval: bash cannot parse it).
ALBERT_ENV_SCRIPT_="${BASH_SOURCE[0]:-}"
[ -n "$ALBERT_ENV_SCRIPT_" ] || [ -z "${ZSH_VERSION:-}" ] ||
  eval 'ALBERT_ENV_SCRIPT_="${(%):-%x}"'
ALBERT_ROOT="$(CDPATH='' cd -P "$(dirname "$ALBERT_ENV_SCRIPT_")/.." && pwd)" &&
  unset ALBERT_ENV_SCRIPT_ &&
  "${BASH:-bash}" "$ALBERT_ROOT/scripts/env.sh" || return

ALBERT_VENV_DIR_="${ALBERT_VENV:-$ALBERT_ROOT/.venv}"
export VIRTUAL_ENV="$ALBERT_VENV_DIR_"
# Prepended once: sourcing twice does not grow PATH or PYTHONPATH.
case "$PATH" in
  "$ALBERT_VENV_DIR_/bin:"*) ;;
  *) export PATH="$ALBERT_VENV_DIR_/bin:$PATH" ;;
esac
case ":${PYTHONPATH:-}:" in
  *":$ALBERT_ROOT:"*) ;;
  *) export PYTHONPATH="$ALBERT_ROOT${PYTHONPATH:+:$PYTHONPATH}" ;;
esac
unset ALBERT_VENV_DIR_
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# An interactive shell may have remembered where `python` was before.
hash -r 2>/dev/null || true
