# coding=utf-8
"""Tests for albert.preemption: SIGTERM finishes the step, saves it, exits 75.

The signal comes at a deterministic point: in-process, a `StopHook`
subclass sends it to its own process just before step k runs; in the
subprocess and multi-worker tests, the run (preemption_launch.py) writes a
marker file after step k and waits there until the test, which polls for
the marker, sends it.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import cli_errors
from albert import driver
from albert import estimators
from albert import preemption
from albert import pretraining
from albert import run_classifier
from albert import run_pretraining

import distributed_test
import hub_fixtures
import resume_test
import run_classifier_test
import run_pretraining_test

tf.disable_v2_behavior()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCH = os.path.join(ROOT, "tests", "preemption_launch.py")

STATUS = preemption.EXIT_STATUS

# Seconds a subprocess run may take before the test gives up on it.
RUN_TIMEOUT = 300


def _line(step):
  return ("preempted at step %d; saved model.ckpt-%d; rerun the same "
          "command to continue" % (step, step))


def _signalling_hook(at_step, first_steps, signum=signal.SIGTERM,
                     again_in_end=False):
  """A `StopHook` that sends `signum` to this process before step at_step.

  It records the global step each session starts from in `first_steps`;
  with again_in_end, it sends a second SIGTERM as the session closes,
  before the checkpoint is saved.
  """

  class SignallingHook(preemption.StopHook):

    def after_create_session(self, session, coord):
      super(SignallingHook, self).after_create_session(session, coord)
      self.step = int(session.run(tf.train.get_global_step()))
      first_steps.append(self.step)

    def before_run(self, run_context):
      if self.step + 1 == at_step:
        os.kill(os.getpid(), signum)
      return super(SignallingHook, self).before_run(run_context)

    def after_run(self, run_context, run_values):
      self.step += 1
      super(SignallingHook, self).after_run(run_context, run_values)

    def end(self, session):
      if again_in_end:
        os.kill(os.getpid(), signal.SIGTERM)
      super(SignallingHook, self).end(session)

  return SignallingHook


@pytest.fixture(scope="module")
def data(tmp_path_factory):
  directory = str(tmp_path_factory.mktemp("pretrain_data"))
  path = os.path.join(directory, "train.tfrecord")
  run_pretraining_test.write_synthetic_records(path, 64, seed=0)
  return directory, path


def _pretraining_options(data, out, **overrides):
  directory, path = data
  values = dict(do_train=True, do_eval=True, num_train_steps=8,
                num_warmup_steps=2, save_checkpoints_steps=100,
                iterations_per_loop=4, log_every_n_steps=4, max_eval_steps=2)
  values.update(overrides)
  return run_pretraining_test.options_for(directory, path, out, **values)


def _latest(out):
  return os.path.basename(tf.train.latest_checkpoint(out))


def test_sigterm_saves_the_step_and_resuming_pretraining_finishes(
    data, tmp_path, monkeypatch):
  out = str(tmp_path / "model")
  first_steps = []
  monkeypatch.setattr(preemption, "StopHook",
                      _signalling_hook(3, first_steps))
  previous = signal.getsignal(signal.SIGTERM)
  with pytest.raises(preemption.Preempted) as raised:
    run_pretraining.run(_pretraining_options(data, out))
  assert str(raised.value) == _line(3)
  assert (raised.value.step, raised.value.exit_status) == (3, STATUS)
  assert raised.value.checkpoint == os.path.join(out, "model.ckpt-3")
  # The step in flight finished and was saved; the state file lists it.
  assert _latest(out) == "model.ckpt-3"
  assert tf.train.load_variable(out, "global_step") == 3
  assert not os.path.exists(os.path.join(out, "eval_results.txt"))
  assert signal.getsignal(signal.SIGTERM) is previous

  # The same command continues from step 3 to the end, then evaluates.
  result = run_pretraining.run(_pretraining_options(data, out))
  assert first_steps == [0, 3]
  assert result["global_step"] == 8 and _latest(out) == "model.ckpt-8"


def test_sigterm_stops_fine_tuning_before_evaluation_and_predictions(
    tmp_path, monkeypatch):
  pretrained = hub_fixtures.make_tiny_albert_dir(
      str(tmp_path / "albert"), dropout_prob=0.0)
  glue = str(tmp_path / "glue")
  run_classifier_test.write_sst2(glue, num_train=48, num_dev=16, num_test=8)
  out = str(tmp_path / "sst2")
  first_steps = []
  monkeypatch.setattr(preemption, "StopHook",
                      _signalling_hook(2, first_steps))
  options = run_classifier_test.options_for(
      pretrained, glue, out, do_train=True, do_eval=True, do_predict=True,
      train_step=5, warmup_step=1, save_checkpoints_steps=100,
      iterations_per_loop=5)
  with pytest.raises(preemption.Preempted) as raised:
    run_classifier.run(options)
  assert str(raised.value) == _line(2)
  assert _latest(out) == "model.ckpt-2"
  written = set(os.listdir(out))
  assert not [name for name in written if name.startswith(
      ("eval_results", "test_results", "model.ckpt-best"))], written

  run_classifier.run(options)
  assert first_steps == [0, 2]
  blocks = run_classifier_test.read_blocks(os.path.join(out,
                                                        "eval_results.txt"))
  assert int(blocks[-1]["global_step"]) == 5
  assert os.path.exists(os.path.join(out, "test_results.tsv"))


def test_a_second_sigterm_while_saving_changes_nothing(data, tmp_path,
                                                       monkeypatch):
  out = str(tmp_path / "model")
  monkeypatch.setattr(preemption, "StopHook",
                      _signalling_hook(2, [], again_in_end=True))
  with pytest.raises(preemption.Preempted) as raised:
    run_pretraining.run(_pretraining_options(data, out, do_eval=False))
  assert str(raised.value) == _line(2)
  assert _latest(out) == "model.ckpt-2"
  assert tf.train.load_variable(os.path.join(out, "model.ckpt-2"),
                                "global_step") == 2


@pytest.mark.slow
def test_sigterm_under_the_mirrored_strategy_saves_the_step(data, tmp_path,
                                                           monkeypatch):
  """Two replicas in one process: its flag stops them together."""
  out = str(tmp_path / "model")
  monkeypatch.setattr(preemption, "StopHook", _signalling_hook(3, []))
  with pytest.raises(preemption.Preempted) as raised:
    run_pretraining.run(_pretraining_options(
        data, out, strategy="mirrored", num_devices=2))
  assert str(raised.value) == _line(3)
  assert _latest(out) == "model.ckpt-3"
  assert not os.path.exists(os.path.join(out, "eval_results.txt"))


def test_sigint_still_interrupts_at_once_without_saving(data, tmp_path,
                                                        monkeypatch):
  """Ctrl-C: KeyboardInterrupt mid-training, as before (the CLI: exit 130,
  command_line_test); nothing is saved for the step."""
  out = str(tmp_path / "model")
  monkeypatch.setattr(preemption, "StopHook",
                      _signalling_hook(3, [], signum=signal.SIGINT))
  with pytest.raises(KeyboardInterrupt) as raised:
    run_pretraining.run(_pretraining_options(data, out, do_eval=False))
  assert not isinstance(raised.value, preemption.Preempted)
  latest = tf.train.latest_checkpoint(out)
  assert latest is None or latest.endswith("model.ckpt-0")


def test_sigterm_outside_training_ends_the_run_at_once(tmp_path):
  out = str(tmp_path / "model")
  with preemption.handling_sigterm(out):
    with pytest.raises(preemption.Preempted) as raised:
      os.kill(os.getpid(), signal.SIGTERM)
      time.sleep(30)  # The handler interrupts this at once.
  assert str(raised.value) == ("preempted before the first checkpoint; "
                               "rerun the same command to start")
  assert raised.value.exit_status == STATUS
  with preemption.handling_sigterm(out), preemption.while_training():
    os.kill(os.getpid(), signal.SIGTERM)  # Only noted while training.
    assert preemption.requested()


def test_the_command_line_prints_the_line_and_exits_75(capsys):
  def preempted():
    raise preemption.Preempted(7, "/out/model.ckpt-7")

  with pytest.raises(SystemExit) as raised:
    cli_errors.run_command("run_pretraining", preempted)
  assert raised.value.code == STATUS == 75
  assert capsys.readouterr().err == "run_pretraining: %s\n" % _line(7)
  assert STATUS not in (0, 1, 2, 128 + signal.SIGINT, 128 + signal.SIGTERM)


def test_every_training_spec_carries_the_stop_hook():
  """All five commands train through estimators.train_spec (pretraining.py
  and task_model.py, which run_classifier, run_race and run_squad_v1/v2
  share) under driver.run (driver_test checks every command runs on it)."""
  with tf.Graph().as_default():
    tf.train.get_or_create_global_step()
    loss = tf.constant(1.0)
    for use_tpu in (False, True):
      spec = estimators.train_spec(loss, tf.no_op(), 8, 10, use_tpu=use_tpu)
      assert [type(hook) for hook in spec.training_hooks if isinstance(
          hook, preemption.StopHook)] == [preemption.StopHook]
  sources = {}
  for name in ("pretraining", "task_model", "driver"):
    with open(os.path.join(ROOT, "albert", name + ".py")) as f:
      sources[name] = f.read()
  assert "estimators.train_spec(" in sources["pretraining"]
  assert "estimators.train_spec(" in sources["task_model"]
  assert "preemption.handling_sigterm(" in sources["driver"]
  assert driver.run.__module__ == "albert.driver"


# --- Command lines, in subprocesses. -----------------------------------------

def _env(tf_config=None):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  env.pop("ALBERT_TRACEBACK", None)
  env.pop("TF_CONFIG", None)
  if tf_config is not None:
    env["TF_CONFIG"] = json.dumps(tf_config)
  env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
  return env


def _start(step, marker, module, args, log, tf_config=None):
  """Starts MODULE through preemption_launch.py, logging to `log`."""
  with open(log, "w") as f:
    return subprocess.Popen(
        [sys.executable, LAUNCH, str(step), marker,
         module] + args, env=_env(tf_config), cwd=ROOT, stdout=f,
        stderr=subprocess.STDOUT)


def _read(path):
  with open(path) as f:
    return f.read()


def _wait_for(path, process, log):
  deadline = time.time() + RUN_TIMEOUT
  while not os.path.exists(path):
    assert process.poll() is None and time.time() < deadline, (
        _read(log)[-3000:])
    time.sleep(0.1)


def _pretraining_args(data, out, steps, **extra):
  directory, path = data
  args = dict(
      albert_config_file=run_pretraining_test.tiny_config_file(directory),
      input_file=path, output_dir=out,
      max_seq_length=run_pretraining_test.SEQ,
      max_predictions_per_seq=run_pretraining_test.PRED,
      train_batch_size=16, eval_batch_size=16, learning_rate=5e-3,
      num_train_steps=steps, num_warmup_steps=2, save_checkpoints_steps=100,
      iterations_per_loop=4, log_every_n_steps=1, max_eval_steps=2,
      do_train=True, do_eval=True, random_seed=1)
  args.update(extra)
  return ["--%s=%s" % item for item in sorted(args.items())]


@pytest.mark.slow
def test_the_command_line_exits_75_and_the_rerun_finishes(data, tmp_path):
  out = str(tmp_path / "model")
  marker, log = str(tmp_path / "at_step"), str(tmp_path / "run.log")
  args = _pretraining_args(data, out, 12)
  process = _start(4, marker, "albert.run_pretraining", args, log)
  try:
    _wait_for(marker, process, log)
    sent = time.time()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=RUN_TIMEOUT)
    seconds = time.time() - sent
  finally:
    if process.poll() is None:
      process.kill()
      process.wait()
  output = _read(log)
  assert process.returncode == STATUS, output[-3000:]
  assert output.strip().splitlines()[-1] == "run_pretraining: " + _line(4)
  assert "Traceback" not in output
  assert _latest(out) == "model.ckpt-4"
  assert not os.path.exists(os.path.join(out, "eval_results.txt"))
  print("SIGTERM to exit: %.2f s" % seconds)
  assert seconds < 30  # The notice's usual grace period.

  rerun = subprocess.run(
      [sys.executable, "-m", "albert.run_pretraining"] + args, env=_env(),
      cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT)
  assert rerun.returncode == 0, rerun.stderr[-3000:]
  assert "Restoring parameters from %s" % os.path.join(
      out, "model.ckpt-4") in rerun.stderr
  # The first step after a restart is untimed (start-up), so unlogged.
  logged = [line.split()[1] for line in rerun.stderr.splitlines()
            if line.startswith("step ")]
  assert logged[:2] == ["6/12", "7/12"], logged
  assert _latest(out) == "model.ckpt-12"
  assert os.path.exists(os.path.join(out, "eval_results.txt"))


@pytest.mark.slow
def test_two_workers_stop_after_the_same_step_and_resume(data, tmp_path):
  """SIGTERM to worker 1 (not the chief) while it waits after step 4: it
  feeds its stop request into step 5's all-reduce, so both workers stop
  after step 5; the chief saves model.ckpt-5."""
  out = str(tmp_path / "cluster")
  addresses = ["127.0.0.1:%d" % port
               for port in distributed_test._free_ports(2)]  # pylint: disable=protected-access
  args = _pretraining_args(data, out, 12, strategy="multi_worker_mirrored",
                           worker_timeout_secs=120)
  marker = str(tmp_path / "worker1_at_step")
  logs = [str(tmp_path / ("worker%d.log" % i)) for i in range(2)]
  processes = []
  try:
    for index in range(2):
      processes.append(_start(
          4 if index else 0, marker, "albert.run_pretraining", args,
          logs[index], {"cluster": {"worker": addresses},
                        "task": {"type": "worker", "index": index}}))
    _wait_for(marker, processes[1], logs[1])
    sent = time.time()
    processes[1].send_signal(signal.SIGTERM)
    for process in processes:
      process.wait(timeout=RUN_TIMEOUT)
    seconds = time.time() - sent
  finally:
    for process in processes:
      if process.poll() is None:
        process.kill()
        process.wait()
  outputs = [_read(log) for log in logs]
  for process, output in zip(processes, outputs):
    assert process.returncode == STATUS, output[-3000:]
    assert output.strip().splitlines()[-1] == "run_pretraining: " + _line(5)
  assert "preempted (SIGTERM on another worker): stopped after step 5" in (
      outputs[0])
  assert "preempted (SIGTERM): stopped after step 5" in outputs[1]
  assert _latest(out) == "model.ckpt-5"
  assert not os.path.exists(os.path.join(out, "eval_results.txt"))
  print("multi-worker SIGTERM to both exits: %.2f s" % seconds)

  # Relaunched, the pair resumes from step 5 and ends where a pair that
  # was never stopped ends.
  outputs, _, _ = distributed_test._run_workers(args)  # pylint: disable=protected-access
  for returncode, output in outputs:
    assert returncode == 0, output[-3000:]
    assert "Restoring parameters from %s" % os.path.join(
        out, "model.ckpt-5") in output
  assert _latest(out) == "model.ckpt-12"
  whole = str(tmp_path / "whole")
  outputs, _, _ = distributed_test._run_workers(_pretraining_args(  # pylint: disable=protected-access
      data, whole, 12, strategy="multi_worker_mirrored",
      worker_timeout_secs=120))
  assert [returncode for returncode, _ in outputs] == [0, 0]
  _assert_same_weights(whole, out)


# --- Resuming gives the weights of an uninterrupted run. ---------------------

def test_k_steps_sigterm_and_resume_equal_one_run(data, tmp_path, monkeypatch):
  """Issue 23 item 3: with dropout off and a fixed seed, 6 steps in one run
  and 2 + SIGTERM + 4 give the same weights (the resumed input must skip
  the examples the first 2 steps consumed)."""
  whole = str(tmp_path / "whole")
  run_pretraining.run(_pretraining_options(data, whole, num_train_steps=6,
                                           do_eval=False))
  resumed = str(tmp_path / "resumed")
  monkeypatch.setattr(preemption, "StopHook", _signalling_hook(2, []))
  with pytest.raises(preemption.Preempted):
    run_pretraining.run(_pretraining_options(data, resumed,
                                             num_train_steps=6,
                                             do_eval=False))
  monkeypatch.undo()
  run_pretraining.run(_pretraining_options(data, resumed, num_train_steps=6,
                                           do_eval=False))
  assert _latest(resumed) == _latest(whole) == "model.ckpt-6"
  _assert_same_weights(whole, resumed)
  # The examples too: each run's recorded positions, replayed through the
  # input it trained with, give the same 6 batches of 16.
  input_fn = pretraining.input_fn_builder(
      [data[1]], run_pretraining_test.SEQ, run_pretraining_test.PRED,
      is_training=True)
  ids_whole = resume_test._consumed(whole, input_fn, 16, 6, "input_ids")  # pylint: disable=protected-access
  assert len(ids_whole) == 6 * 16
  assert ids_whole == resume_test._consumed(  # pylint: disable=protected-access
      resumed, input_fn, 16, 6, "input_ids")


def _assert_same_weights(whole, resumed):
  """Every variable of the two latest checkpoints within 1e-5."""
  for name, _ in tf.train.list_variables(whole):
    np.testing.assert_allclose(tf.train.load_variable(resumed, name),
                               tf.train.load_variable(whole, name),
                               rtol=0, atol=1e-5, err_msg=name)
