# coding=utf-8
"""scripts/env.sh is safe to source from a user's shell.

Sourced, it must activate the virtual environment (python, PATH,
VIRTUAL_ENV) and leave the shell's options and working directory as they
were: the strict set-up runs in a child bash. These tests source it with
ALBERT_VENV pointing at the virtual environment running them, whose stamp
file already matches the requirements, so nothing is installed (a test
skips rather than install when the stamp does not match).
"""

import hashlib
import os
import subprocess
import sys

import pytest

import quickstart_test

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV_SH = os.path.join(ROOT, "scripts", "env.sh")
# What a shell prints about itself before and after sourcing.
SNAPSHOT = ('echo "options=$(set +o | tr "\\n" " ")"; echo "pwd=$PWD"; '
            'echo "shopt=$(shopt -p | tr "\\n" " ")"')


def venv_ready():
  """The running virtual environment, or skip if env.sh would install."""
  if sys.prefix == sys.base_prefix:
    pytest.skip("not running in a virtual environment")
  wanted = hashlib.sha256()
  for name in ("requirements.txt", "requirements-test.txt"):
    with open(os.path.join(ROOT, name), "rb") as f:
      wanted.update(f.read())
  try:
    with open(os.path.join(sys.prefix, ".albert-requirements")) as f:
      stamp = f.read().strip()
  except OSError:
    stamp = None
  if stamp != wanted.hexdigest():
    pytest.skip("%s's requirements stamp is not current: sourcing env.sh "
                "would install" % sys.prefix)
  return sys.prefix


def clean_env(venv, **extra):
  """The environment of a new login: no venv on PATH, no VIRTUAL_ENV."""
  env = {k: v for k, v in os.environ.items()
         if k not in ("VIRTUAL_ENV", "PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL",
                      "BASH_ENV", "ENV", "CDPATH")}
  env["PATH"] = os.pathsep.join(
      p for p in env.get("PATH", "").split(os.pathsep)
      if p and os.path.realpath(p) != os.path.realpath(
          os.path.join(venv, "bin")))
  env["ALBERT_VENV"] = venv
  env.update(extra)
  return env


def run_bash(script, cwd, env, interactive=False):
  # -i: an interactive shell, as a user's terminal (--norc: not this
  # machine's bashrc). Its job-control warnings go to stderr.
  args = ["bash", "--norc", "-i", "-c", script] if interactive else [
      "bash", "-c", script]
  return subprocess.run(args, cwd=cwd, env=env, capture_output=True,
                        text=True, timeout=120, check=False,
                        stdin=subprocess.DEVNULL)


def values(stdout, key):
  return [line[len(key) + 1:] for line in stdout.splitlines()
          if line.startswith(key + "=")]


@pytest.mark.slow
@pytest.mark.parametrize("interactive,setup", [
    (False, ""),
    (False, "set -u"),  # a caller's own option stays on
    (True, ""),
])
def test_sourcing_keeps_options_and_directory_and_activates(
    tmp_path, interactive, setup):
  venv = venv_ready()
  script = "%s\n%s\nsource %s\n%s\n" % (setup, SNAPSHOT, ENV_SH, SNAPSHOT) + (
      'echo "status=$?"; echo "python=$(command -v python)"; '
      'echo "prefix=$(python -c "import sys; print(sys.prefix)")"; '
      'echo "virtual_env=$VIRTUAL_ENV"; echo "root=$ALBERT_ROOT"\n')
  result = run_bash(script, str(tmp_path), clean_env(venv), interactive)
  out = result.stdout
  assert result.returncode == 0, out + result.stderr
  before, after = values(out, "options")
  assert before == after
  for option in ("errexit", "nounset", "pipefail"):
    assert ("set -o %s" % option in after) == (
        option == "nounset" and setup == "set -u"), after
  assert values(out, "pwd") == [str(tmp_path)] * 2
  shopt_before, shopt_after = values(out, "shopt")
  assert shopt_before == shopt_after
  assert values(out, "status") == ["0"]
  assert values(out, "python") == [os.path.join(venv, "bin", "python")]
  assert os.path.realpath(values(out, "prefix")[0]) == os.path.realpath(venv)
  assert values(out, "virtual_env") == [venv]
  assert values(out, "root") == [ROOT]
  assert "[env]" not in out  # nothing created or installed


@pytest.mark.slow
def test_sourcing_twice_adds_the_venv_and_repository_once(tmp_path):
  venv = venv_ready()
  script = ("source {0}; source {0}\n"
            'echo "path=$PATH"; echo "pythonpath=$PYTHONPATH"\n').format(
                ENV_SH)
  result = run_bash(script, str(tmp_path), clean_env(venv))
  assert result.returncode == 0, result.stdout + result.stderr
  path = values(result.stdout, "path")[0].split(os.pathsep)
  assert path[0] == os.path.join(venv, "bin")
  assert path.count(os.path.join(venv, "bin")) == 1
  assert values(result.stdout, "pythonpath") == [ROOT]


def broken_venv(tmp_path):
  """A venv whose pip installs nothing and whose tensorflow fails."""
  venv = quickstart_test.fake_venv(tmp_path)
  shadow = tmp_path / "shadow"
  shadow.mkdir()
  (shadow / "tensorflow.py").write_text("raise ImportError('sentinel')\n")
  return str(venv), str(shadow)


@pytest.mark.slow
def test_a_failed_setup_returns_to_the_shell_instead_of_exiting(tmp_path):
  venv, shadow = broken_venv(tmp_path)
  script = "%s\nsource %s\necho \"status=$?\"\n%s\n" % (SNAPSHOT, ENV_SH,
                                                         SNAPSHOT)
  result = run_bash(script, str(tmp_path),
                    clean_env(venv, PYTHONPATH=shadow))
  assert result.returncode == 0, result.stdout + result.stderr
  assert values(result.stdout, "status") == ["1"]
  assert "error: installing requirements into %s failed" % venv in (
      result.stderr)
  before, after = values(result.stdout, "options")
  assert before == after
  assert len(set(values(result.stdout, "pwd"))) == 1
  assert not os.path.exists(os.path.join(venv, ".albert-requirements"))


@pytest.mark.slow
def test_run_as_a_script_it_sets_up_and_stops_on_errors(tmp_path):
  venv, shadow = broken_venv(tmp_path)
  result = subprocess.run(
      ["bash", ENV_SH], cwd=str(tmp_path), capture_output=True, text=True,
      env=clean_env(venv, PYTHONPATH=shadow), timeout=120, check=False)
  assert result.returncode == 1
  assert "[env] installing requirements" in result.stdout
  assert result.stderr.rstrip("\n").endswith("failed (see above)")
