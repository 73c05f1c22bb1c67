# coding=utf-8
"""The package installs with its pins and refuses unsupported platforms."""

import email
import os
import subprocess
import sys
import zipfile

import pytest
from packaging.requirements import Requirement

import albert

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse(requirement):
  """(name, frozenset of specifier clauses): order-insensitive."""
  req = Requirement(requirement)
  return req.name.lower(), frozenset(str(s) for s in req.specifier)


def requirement_lines():
  with open(os.path.join(ROOT, "requirements.txt")) as f:
    lines = (line.split("#", 1)[0].strip() for line in f)
    return sorted(line for line in lines if line)


@pytest.mark.slow
def test_wheel_holds_package_and_pinned_requirements(tmp_path):
  subprocess.run(
      [sys.executable, "-m", "pip", "wheel", "--no-deps",
       "--no-build-isolation", "--quiet", "-w", str(tmp_path), ROOT],
      check=True, capture_output=True)
  (wheel,) = [p for p in os.listdir(tmp_path) if p.endswith(".whl")]
  assert wheel.startswith("albert-%s-" % albert.__version__)
  with zipfile.ZipFile(os.path.join(tmp_path, wheel)) as zf:
    names = set(zf.namelist())
    for module in ("__init__", "modeling", "tokenization", "optimization",
                   "lamb_optimizer"):
      assert "albert/%s.py" % module in names
    assert not any(n.startswith("tests/") for n in names)
    (metadata_name,) = [n for n in names if n.endswith("/METADATA")]
    metadata = email.message_from_bytes(zf.read(metadata_name))
  requires = {parse(r) for r in metadata.get_all("Requires-Dist")
              if "extra ==" not in r}
  assert requires == {parse(r) for r in requirement_lines()}
  assert metadata["Requires-Python"].replace(" ", "") in (">=3.9,<3.12",
                                                          "<3.12,>=3.9")


def test_requirements_pin_the_decided_platform():
  reqs = requirement_lines()
  assert "tensorflow==2.15.*" in reqs
  assert "tensorflow-hub==0.15.0" in reqs
  assert any(r.startswith("numpy") and "<2" in r for r in reqs)


@pytest.mark.parametrize("python,tf_version,message", [
    ((3, 8), "2.15.1", "Python 3.9-3.11.*this is Python 3.8"),
    ((3, 12), "2.15.1", "Python 3.9-3.11.*this is Python 3.12"),
    ((3, 11), None, r"pip install 'tensorflow==2.15.\*'"),
    ((3, 11), "2.16.1", r"found 2.16.1: pip install 'tensorflow==2.15.\*'"),
    ((3, 10), "2.1.0", "found 2.1.0"),
])
def test_unsupported_platform_fails_with_one_line(python, tf_version,
                                                   message):
  with pytest.raises(ImportError, match=message) as info:
    albert.check_platform(python, tf_version)
  assert "\n" not in str(info.value)


@pytest.mark.parametrize("python,tf_version", [
    ((3, 9), "2.15.0"), ((3, 11), "2.15.1"), ((3, 10), "2.15")])
def test_supported_platform_passes(python, tf_version):
  albert.check_platform(python, tf_version)


@pytest.mark.slow
def test_import_fails_without_tensorflow(tmp_path):
  """A real interpreter with TensorFlow hidden gets the one-line error."""
  blocker = tmp_path / "sitecustomize.py"
  blocker.write_text(
      "import importlib.metadata as m\n"
      "_real = m.version\n"
      "def version(name):\n"
      "  if name.startswith('tensorflow') or name == 'tf-nightly':\n"
      "    raise m.PackageNotFoundError(name)\n"
      "  return _real(name)\n"
      "m.version = version\n")
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
  proc = subprocess.run([sys.executable, "-c", "import albert"], env=env,
                        capture_output=True, text=True)
  assert proc.returncode != 0
  last_line = proc.stderr.strip().splitlines()[-1]
  assert last_line.startswith("ImportError: albert needs TensorFlow 2.15")


@pytest.mark.parametrize("module,flags", [
    ("albert.run_pretraining", ["--albert_config_file", "--use_tpu",
                                "--num_train_steps"]),
    ("albert.run_classifier", ["--task_name", "--use_tpu",
                               "--classifier_dropout_prob"]),
    ("albert.export_to_tfhub", ["--albert_directory", "--export_path"]),
    ("albert.create_pretraining_data", ["--input_file", "--dupe_factor",
                                        "--num_workers"]),
    ("albert.run_squad_v1", ["--predict_file", "--doc_stride",
                             "--use_einsum"]),
    ("albert.run_squad_v2", ["--start_n_top", "--null_score_diff_threshold"]),
    ("albert.run_race", ["--max_qa_length", "--high_only"]),
    ("albert.export_checkpoints", ["--albert_directory",
                                   "--allow_random_heads"]),
    ("albert.export_to_hf", ["--albert_directory", "--export_path"]),
    ("albert.import_from_hf", ["--hf_directory", "--export_path"]),
])
@pytest.mark.slow
def test_cli_help_lists_the_scripts_flags(module, flags):
  """--help shows the main module's flags; shared definitions must count."""
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  proc = subprocess.run([sys.executable, "-m", module, "--help"], env=env,
                        capture_output=True, text=True, timeout=120)
  listed = (proc.stdout + proc.stderr).replace("--[no]", "--")
  for flag in flags:
    assert flag in listed, (module, flag)


@pytest.mark.slow
def test_cli_bad_input_is_one_clear_line(tmp_path):
  bad = tmp_path / "albert_config.json"
  bad.write_text("{oops")
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("ALBERT_TRACEBACK", None)
  args = [sys.executable, "-m", "albert.run_pretraining",
          "--input_file=%s" % (tmp_path / "none.tfrecord"),
          "--output_dir=%s" % (tmp_path / "out"),
          "--albert_config_file=%s" % bad, "--do_train"]
  proc = subprocess.run(args, env=env, capture_output=True, text=True,
                        timeout=120)
  assert proc.returncode == 1
  assert "Traceback" not in proc.stderr
  assert proc.stderr.strip().splitlines()[-1] == (
      "run_pretraining: error: albert_config_file %s is not valid JSON: "
      "Expecting property name enclosed in double quotes: line 1 column 2 "
      "(char 1)" % bad)
  env["ALBERT_TRACEBACK"] = "1"
  proc = subprocess.run(args, env=env, capture_output=True, text=True,
                        timeout=120)
  assert proc.returncode != 0 and "Traceback" in proc.stderr
