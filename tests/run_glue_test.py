# coding=utf-8
"""Tests for run_glue.sh: the commands it builds, and what it refuses."""

import os
import shlex
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "run_glue.sh")

# The ALBERT release's run_glue.sh settings, in its order:
# (warmup_step, learning_rate, train_step, save_checkpoints_steps,
#  train_batch_size).
RELEASE = [
    ("SST-2", ("1256", "1e-5", "20935", "100", "32")),
    ("MNLI", ("1000", "3e-5", "10000", "100", "128")),
    ("CoLA", ("320", "1e-5", "5336", "100", "16")),
    ("QNLI", ("1986", "1e-5", "33112", "200", "32")),
    ("QQP", ("1000", "5e-5", "14000", "100", "128")),
    ("RTE", ("200", "3e-5", "800", "100", "32")),
    ("STS-B", ("214", "2e-5", "3598", "100", "16")),
    ("MRPC", ("200", "2e-5", "800", "100", "32")),
]
HYPERPARAMETERS = ("warmup_step", "learning_rate", "train_step",
                   "save_checkpoints_steps", "train_batch_size")


@pytest.fixture
def inputs(tmp_path):
  """Local files for every variable; a space in the path tests quoting."""
  base = tmp_path / "glue inputs"
  glue = base / "glue"
  for task, _ in RELEASE:
    (glue / task).mkdir(parents=True)
  config = base / "albert_config.json"
  config.write_text("{}")
  spm_model = base / "30k-clean.model"
  spm_model.write_text("model")
  (base / "model.ckpt-best.index").write_text("index")
  hub_dir = base / "hub"
  hub_dir.mkdir()
  return {
      "GLUE_DIR": str(glue),
      "OUTPUT_DIR": str(base / "out"),
      "ALBERT_CONFIG": str(config),
      "SPM_MODEL": str(spm_model),
      "INIT_CHECKPOINT": str(base / "model.ckpt-best"),
      "HUB": str(hub_dir),
  }


def run_script(env_vars, *args):
  env = {k: v for k, v in os.environ.items()
         if k not in ("GLUE_DIR", "OUTPUT_DIR", "ALBERT_CONFIG", "SPM_MODEL",
                      "INIT_CHECKPOINT", "ALBERT_HUB_MODULE_HANDLE", "TASKS",
                      "DRY_RUN", "ALLOW_RANDOM_INIT", "PYTHON")}
  env.update({k: v for k, v in env_vars.items() if k != "HUB"})
  return subprocess.run(["bash", SCRIPT] + list(args), env=env,
                        capture_output=True, text=True, timeout=60)


def parse_commands(stdout):
  """Each printed line -> (argv list, {flag: value or True})."""
  commands = []
  for line in stdout.splitlines():
    if not line.strip():
      continue
    argv = shlex.split(line)
    flags = {}
    for arg in argv[3:]:
      assert arg.startswith("--"), arg
      name, eq, value = arg[2:].partition("=")
      assert name not in flags, "flag given twice: " + name
      flags[name] = value if eq else True
    commands.append((argv, flags))
  return commands


def dry_run(env_vars, use_flag=True):
  if use_flag:
    proc = run_script(env_vars, "--dry-run")
  else:
    proc = run_script(dict(env_vars, DRY_RUN="1"))
  assert proc.returncode == 0, proc.stderr
  return parse_commands(proc.stdout), proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("use_flag", [True, False])
def test_all_tasks_with_release_hyperparameters(inputs, use_flag):
  commands, stderr = dry_run(inputs, use_flag)
  assert stderr == ""
  assert len(commands) == 16
  for index, (task, values) in enumerate(RELEASE):
    train_argv, train = commands[2 * index]
    eval_argv, evaluate = commands[2 * index + 1]
    for argv in (train_argv, eval_argv):
      assert argv[:3] == ["python", "-m", "albert.run_classifier"]
    # Train, then eval + predict, as the release did.
    assert train["do_train"] is True
    assert train["nodo_eval"] is True and train["nodo_predict"] is True
    assert "do_eval" not in train and "do_predict" not in train
    assert evaluate["do_eval"] is True and evaluate["do_predict"] is True
    assert evaluate["nodo_train"] is True and "do_train" not in evaluate
    for flags in (train, evaluate):
      assert flags["task_name"] == task
      assert tuple(flags[name] for name in HYPERPARAMETERS) == values
      assert flags["max_seq_length"] == "512"
      assert flags["optimizer"] == "adamw"
      assert flags["do_lower_case"] is True
      assert flags["data_dir"] == inputs["GLUE_DIR"]
      assert flags["output_dir"] == os.path.join(inputs["OUTPUT_DIR"], task)
      assert flags["init_checkpoint"] == inputs["INIT_CHECKPOINT"]
      assert "albert_hub_module_handle" not in flags
      assert flags["albert_config_file"] == inputs["ALBERT_CONFIG"]
      assert flags["spm_model_file"] == inputs["SPM_MODEL"]
      assert flags["vocab_file"] == inputs["SPM_MODEL"]
    # Apart from the mode flags, both commands of a task are the same.
    mode = ("do_train", "nodo_train", "do_eval", "nodo_eval", "do_predict",
            "nodo_predict")
    assert ({k: v for k, v in train.items() if k not in mode} ==
            {k: v for k, v in evaluate.items() if k not in mode})
  # Nothing is created or run by a dry run.
  assert not os.path.exists(inputs["OUTPUT_DIR"])


@pytest.mark.slow
def test_hub_module_and_python(inputs):
  env = dict(inputs, ALBERT_HUB_MODULE_HANDLE=inputs["HUB"],
             PYTHON="/opt/py/bin/python3", TASKS="MRPC")
  del env["INIT_CHECKPOINT"]
  commands, _ = dry_run(env)
  assert len(commands) == 2
  for argv, flags in commands:
    assert argv[0] == "/opt/py/bin/python3"
    assert flags["albert_hub_module_handle"] == inputs["HUB"]
    assert "init_checkpoint" not in flags

  # With a hub module, the config and tokenizer may come from the module.
  del env["ALBERT_CONFIG"], env["SPM_MODEL"]
  env["ALBERT_HUB_MODULE_HANDLE"] = "https://tfhub.dev/google/albert_base/3"
  commands, _ = dry_run(env)
  for _, flags in commands:
    assert flags["albert_hub_module_handle"] == env[
        "ALBERT_HUB_MODULE_HANDLE"]
    for name in ("albert_config_file", "spm_model_file", "vocab_file"):
      assert name not in flags


@pytest.mark.slow
def test_tasks_subset(inputs):
  commands, _ = dry_run(dict(inputs, TASKS="rte  sts-b RTE CoLA"))
  tasks = [flags["task_name"] for _, flags in commands]
  assert tasks == ["RTE", "RTE", "STS-B", "STS-B", "CoLA", "CoLA"]
  _, flags = commands[2]
  assert tuple(flags[n] for n in HYPERPARAMETERS) == dict(RELEASE)["STS-B"]

  proc = run_script(dict(inputs, TASKS="RTE WNLI"), "--dry-run")
  assert proc.returncode != 0
  assert "WNLI" in proc.stderr and "SST-2" in proc.stderr
  assert proc.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize("variable", ["GLUE_DIR", "OUTPUT_DIR",
                                      "ALBERT_CONFIG", "SPM_MODEL"])
def test_missing_variable(inputs, variable):
  for value in (None, ""):
    env = dict(inputs)
    if value is None:
      del env[variable]
    else:
      env[variable] = value
    proc = run_script(env, "--dry-run")
    assert proc.returncode != 0
    assert variable + " is not set" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.slow
def test_init_source_must_be_exactly_one(inputs):
  proc = run_script(dict(inputs, ALBERT_HUB_MODULE_HANDLE=inputs["HUB"]),
                    "--dry-run")
  assert proc.returncode != 0
  assert "INIT_CHECKPOINT" in proc.stderr
  assert "ALBERT_HUB_MODULE_HANDLE" in proc.stderr
  assert "both" in proc.stderr

  neither = dict(inputs)
  del neither["INIT_CHECKPOINT"]
  proc = run_script(neither, "--dry-run")
  assert proc.returncode != 0
  assert "INIT_CHECKPOINT" in proc.stderr
  assert "ALLOW_RANDOM_INIT" in proc.stderr
  assert proc.stdout == ""

  commands, stderr = dry_run(dict(neither, ALLOW_RANDOM_INIT="1",
                                  TASKS="RTE"))
  assert "RANDOM weights" in stderr
  for _, flags in commands:
    assert "init_checkpoint" not in flags
    assert "albert_hub_module_handle" not in flags

  # Random init does not excuse giving both.
  proc = run_script(dict(inputs, ALBERT_HUB_MODULE_HANDLE=inputs["HUB"],
                         ALLOW_RANDOM_INIT="1"), "--dry-run")
  assert proc.returncode != 0


@pytest.mark.slow
def test_missing_files(inputs):
  os.remove(inputs["INIT_CHECKPOINT"] + ".index")
  os.rmdir(os.path.join(inputs["GLUE_DIR"], "QQP"))
  # A dry run warns and still prints the commands...
  commands, stderr = dry_run(inputs)
  assert len(commands) == 16
  assert "INIT_CHECKPOINT not found: " + inputs["INIT_CHECKPOINT"] in stderr
  assert os.path.join(inputs["GLUE_DIR"], "QQP") in stderr
  # ...a real run stops before running anything.
  proc = run_script(dict(inputs, PYTHON="false"))
  assert proc.returncode != 0
  assert proc.stdout == ""
  assert "error: INIT_CHECKPOINT not found" in proc.stderr
  assert "error: GLUE_DIR has no QQP folder" in proc.stderr


@pytest.mark.slow
def test_bad_arguments(inputs):
  proc = run_script(inputs, "--dryrun")
  assert proc.returncode != 0
  assert "unexpected argument" in proc.stderr
  proc = run_script(dict(inputs, DRY_RUN="yes"))
  assert proc.returncode != 0
  assert "DRY_RUN" in proc.stderr
  proc = run_script({}, "--help")
  assert proc.returncode == 0
  assert "GLUE_DIR" in proc.stdout and "--dry-run" in proc.stdout


@pytest.mark.slow
def test_real_run_executes_in_order_and_stops_on_failure(inputs, tmp_path):
  log = tmp_path / "calls.log"
  fake = tmp_path / "fake_python"
  fake.write_text(
      "#!/usr/bin/env bash\n"
      "echo \"$PYTHONPATH|$*\" >> %s\n"
      "case \"$*\" in *--task_name=CoLA*--do_eval*) exit 3 ;; esac\n" %
      shlex.quote(str(log)))
  fake.chmod(0o755)
  proc = run_script(dict(inputs, PYTHON=str(fake), TASKS="RTE CoLA MRPC"))
  assert proc.returncode != 0
  calls = log.read_text().splitlines()
  assert len(calls) == 4  # RTE train, RTE eval, CoLA train, CoLA eval.
  assert all(c.split("|")[0].split(":")[0] == ROOT for c in calls)
  assert "--task_name=RTE" in calls[0] and "--do_train" in calls[0]
  assert "--task_name=CoLA" in calls[3] and "--do_eval" in calls[3]
  assert "MRPC" not in log.read_text()
  # Commands are echoed to stderr; output folders exist for the tasks run.
  assert proc.stderr.count("+ ") == 4
  assert sorted(os.listdir(inputs["OUTPUT_DIR"])) == ["CoLA", "RTE"]
