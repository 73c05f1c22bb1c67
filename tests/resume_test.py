# coding=utf-8
"""Tests of exact resumption (albert/training_position.py, the training
streams of albert/input_pipeline.py and albert/pretraining.py, and the
seeded dropout of albert/dropout_seeds.py).

A run of N steps and the same run killed (kill -9) after its checkpoint at
step k and resumed to N must read the same examples in the same order and
end with the same weights. The killed run stops at a deterministic point:
tests/resume_child.py writes a marker right after the checkpoint of step k
and waits to be killed.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import time
import types

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import distributed_test
import hub_fixtures
import run_classifier_test
import run_pretraining_test
from albert import dropout_seeds
from albert import input_pipeline
from albert import optimization
from albert import pretraining
from albert import run_classifier
from albert import training_position

tf.disable_v2_behavior()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD = os.path.join(ROOT, "tests", "resume_child.py")
# Seconds a killed or resumed command may take before the test gives up.
RUN_TIMEOUT = 300


# --- The streams, in-process. -----------------------------------------------


def _id_records(path, ids):
  """A TFRecord of examples whose one feature "id" is its id."""
  input_pipeline.write_examples(path, [
      tf.train.Example(features=tf.train.Features(feature={
          "id": input_pipeline.int64_feature([i])})).SerializeToString()
      for i in ids])
  return path


ID_SPEC = {"id": tf.FixedLenFeature([], tf.int64)}


def _ids(dataset, count, key="id"):
  """The first `count` batches' values of feature `key`, flattened."""
  with tf.Graph().as_default():
    batch = tf.data.make_one_shot_iterator(dataset()).get_next()
    with tf.Session() as session:
      return np.concatenate([session.run(batch)[key] for _ in range(count)
                             ]).tolist()


def _params(position, batch_size=4, shard=None):
  params = {"batch_size": batch_size,
            input_pipeline.DATA_POSITION: position}
  if shard:
    params[input_pipeline.INPUT_SHARD] = shard
  return params


@pytest.mark.parametrize("shard", [None, (0, 2), (1, 2)])
def test_file_stream_resumes_where_it_was_across_epochs(tmp_path, shard):
  path = _id_records(str(tmp_path / "f.tf_record"), range(23))
  input_fn = input_pipeline.file_based_input_fn_builder(path, ID_SPEC, True,
                                                        True)

  def stream(examples, batches):
    position = input_pipeline.DataPosition(seed=7, examples=examples)
    return _ids(lambda: input_fn(_params(position, shard=shard)), batches)

  whole = stream(0, 15)
  mine = [i for i in range(23) if shard is None or i % shard[1] == shard[0]]
  # Every epoch is a permutation of this machine's share, each its own.
  epochs = [whole[e * len(mine):(e + 1) * len(mine)] for e in range(2)]
  assert sorted(epochs[0]) == sorted(epochs[1]) == mine
  assert epochs[0] != epochs[1]
  assert stream(0, 15) == whole  # A function of the seed.
  for examples in (4, 8, 12, 24, 36):
    assert stream(examples, 15 - examples // 4) == whole[examples:]
  other = input_pipeline.DataPosition(seed=8, examples=0)
  assert _ids(lambda: input_fn(_params(other, shard=shard)), 15) != whole


@pytest.mark.parametrize("num_files,shard", [(3, None), (3, (1, 2)),
                                             (2, (2, 3))])
def test_pretraining_stream_resumes_where_it_was(tmp_path, num_files, shard):
  files = [_id_records(str(tmp_path / ("p%d" % n)),
                       range(100 * n, 100 * n + 7 + n))
           for n in range(num_files)]
  builder = pretraining.input_fn_builder(files, 1, 1, is_training=True)
  # The parsing spec is pretraining's; feed the ids through "input_ids".
  input_fn = _with_spec(builder, files)

  def stream(examples, batches):
    position = input_pipeline.DataPosition(seed=3, examples=examples)
    return _ids(lambda: input_fn(_params(position, shard=shard)), batches)

  whole = stream(0, 20)
  for examples in (4, 20, 44):
    assert stream(examples, 20 - examples // 4) == whole[examples:]


def _with_spec(builder, files):
  """pretraining's training stream, parsed with ID_SPEC."""
  del builder  # The stream below is the builder's, without its parsing.

  def input_fn(params):
    counts = [input_pipeline.record_count(path) for path in files]
    d = pretraining._training_records(files, counts, params, 4)  # pylint: disable=protected-access
    d = d.batch(params["batch_size"], drop_remainder=True)
    return d.map(lambda r: input_pipeline.decode_batch(r, ID_SPEC))

  return input_fn


def test_record_count_is_cached_beside_the_file(tmp_path):
  path = _id_records(str(tmp_path / "c.tf_record"), range(5))
  assert input_pipeline.record_count(path) == 5
  assert json.load(open(path + ".records.json"))["records"] == 5
  _id_records(path, range(9))  # Rewritten: the cached count is stale.
  assert input_pipeline.record_count(path) == 9


# --- The recorded position. -------------------------------------------------


def _checkpoint_at(output_dir, step):
  with tf.Graph().as_default():
    global_step = tf.train.get_or_create_global_step()
    with tf.Session() as session:
      session.run(global_step.assign(step))
      tf.train.Saver().save(session, os.path.join(output_dir, "model.ckpt"),
                            global_step=step)


class _Cluster(object):
  multi_worker = True
  devices_per_worker = 1

  def __init__(self, num_workers):
    self.num_replicas = num_workers


def test_every_worker_of_a_new_run_takes_the_same_seed(tmp_path,
                                                      monkeypatch):
  """Without --random_seed, workers cannot agree on a fresh seed, and the
  non-chief ones would resume with the chief's recorded one: the seed
  comes from the cluster every worker is given."""
  cluster = {"worker": ["127.0.0.1:2001", "127.0.0.1:2002"]}
  seeds = []
  for index in (0, 1):
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": cluster, "task": {"type": "worker", "index": index}}))
    options = types.SimpleNamespace(
        output_dir=str(tmp_path / str(index)), random_seed=None,
        strategy="multi_worker_mirrored")
    seeds.append(training_position.run_seed(options))
  assert seeds[0] == seeds[1]
  other = {"worker": ["127.0.0.1:2001", "127.0.0.1:2003"]}
  assert training_position.cluster_seed(json.dumps(
      {"cluster": other, "task": {"type": "worker", "index": 0}})) != seeds[0]
  # One machine: a fresh seed each new run.
  options = types.SimpleNamespace(output_dir=str(tmp_path / "one"),
                                  random_seed=None, strategy="none")
  assert len({training_position.run_seed(options) for _ in range(3)}) > 1


def test_position_follows_the_checkpoint_and_changed_batches(tmp_path,
                                                             caplog):
  out = str(tmp_path)
  options = types.SimpleNamespace(
      output_dir=out, random_seed=None, train_batch_size=8,
      gradient_accumulation_steps=2)
  seed = training_position.run_seed(options)
  assert training_position.resume_position(options, seed) == (seed, 0)
  _checkpoint_at(out, 5)
  # A killed run's record never runs ahead: step 5 at 16 records a step.
  assert training_position.run_seed(options) == seed
  assert training_position.resume_position(options, seed).examples == 80
  # Another batch: the position carries over exactly, said loudly.
  options.train_batch_size = 4
  with caplog.at_level(logging.WARNING):
    assert training_position.resume_position(options, seed).examples == 80
  assert "train_batch_size 8 -> 4 since step 5" in caplog.text
  _checkpoint_at(out, 9)
  assert training_position.resume_position(options, seed).examples == 112
  # Another number of machines: approximate, and said so.
  caplog.clear()
  with caplog.at_level(logging.WARNING):
    position = training_position.resume_position(options, seed, _Cluster(2))
  assert position.examples == 56 and "IS APPROXIMATE" in caplog.text
  segments = training_position.read_segments(out)
  assert [s["from_step"] for s in segments] == [0, 5, 9]


# --- Dropout. ---------------------------------------------------------------


def _masks(seed, steps, rate=0.5, sites=2, accumulation=1):
  """Dropout of ones at `sites` call sites for each global step."""
  with tf.Graph().as_default():
    global_step = tf.train.get_or_create_global_step()
    counter = optimization.batch_counter(accumulation)
    with dropout_seeds.seeded(seed, counter):
      outputs = [dropout_seeds.dropout(tf.ones([64, 32]), rate)
                 for _ in range(sites)]
    with tf.Session() as session:
      session.run([tf.global_variables_initializer(),
                   tf.local_variables_initializer()])
      results = []
      for step in steps:
        session.run(global_step.assign(step))
        results.append(session.run(outputs))
      return np.array(results)


def test_dropout_masks_follow_seed_site_and_step():
  masks = _masks(5, [0, 1, 7])
  again = _masks(5, [7, 0])
  np.testing.assert_array_equal(again[0], masks[2])  # Any order of steps.
  np.testing.assert_array_equal(again[1], masks[0])
  assert not np.array_equal(masks[0, 0], masks[0, 1])  # Sites differ.
  assert not np.array_equal(masks[0], masks[1])  # Steps differ.
  assert not np.array_equal(_masks(6, [0])[0], masks[0])  # Seeds differ.
  # tf.nn.dropout's semantics: drop with the rate, scale the rest.
  assert set(np.unique(masks)) == {0.0, 2.0}
  assert abs((masks == 0).mean() - 0.5) < 0.02


def test_dropout_without_a_seed_is_tensorflows():
  with tf.Graph().as_default() as graph:
    with dropout_seeds.seeded(None, tf.constant(0, tf.int64)):
      ones = tf.ones([4])
      dropout_seeds.dropout(ones, 0.5)
      assert dropout_seeds.dropout(ones, 0.0) is ones
  types_ = {op.type for op in graph.get_operations()}
  assert "RandomUniform" in types_
  assert not any(t.startswith("Stateless") for t in types_)


# --- Killed and resumed commands. -------------------------------------------


def _run(module, flags, env=None):
  """`python -m module flags` to the end; its output."""
  result = subprocess.run(
      [sys.executable, "-m", module] + _argv(flags), cwd=ROOT,
      env=_env(env), capture_output=True, text=True, timeout=RUN_TIMEOUT)
  assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
  return result.stderr


def _argv(flags):
  return ["--%s=%s" % item for item in sorted(flags.items())]


def _env(extra=None):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(extra or {}))
  env["PYTHONPATH"] = os.path.join(ROOT, "tests") + os.pathsep + ROOT
  return env


def _start_killable(module, flags, marker, step, env=None):
  return subprocess.Popen(
      [sys.executable, CHILD, marker, str(step), module] + _argv(flags),
      cwd=ROOT, env=_env(env), stdout=subprocess.DEVNULL,
      stderr=subprocess.PIPE, text=True)


def _kill_at_marker(processes, marker):
  """Waits for `marker` (the first process's checkpoint), then kill -9."""
  deadline = time.time() + RUN_TIMEOUT
  try:
    while not os.path.exists(marker):
      for process in processes:
        if process.poll() is not None:
          raise AssertionError("ended before its checkpoint: " +
                               process.stderr.read()[-3000:])
      assert time.time() < deadline, "no checkpoint in %ds" % RUN_TIMEOUT
      time.sleep(0.2)  # Polling the marker, not guessing a duration.
  finally:
    for process in processes:
      if process.poll() is None:
        process.send_signal(signal.SIGKILL)
      process.wait()
      process.stderr.close()


def _killed_then_resumed(module, flags, out, kill_step):
  marker = out + ".marker"
  _kill_at_marker([_start_killable(module, dict(flags, output_dir=out),
                                   marker, kill_step)], marker)
  assert tf.train.latest_checkpoint(out).endswith("-%d" % kill_step)
  return _run(module, dict(flags, output_dir=out))


def _assert_same_weights(a, b, at_step):
  ckpt_a, ckpt_b = (tf.train.latest_checkpoint(d) for d in (a, b))
  assert ckpt_a.endswith("-%d" % at_step) and ckpt_b.endswith(
      "-%d" % at_step)
  names = [name for name, _ in tf.train.list_variables(ckpt_a)
           if not name.startswith("global_step")]
  assert len(names) > 10
  for name in names:
    np.testing.assert_allclose(tf.train.load_variable(ckpt_a, name),
                               tf.train.load_variable(ckpt_b, name),
                               atol=1e-5, rtol=0, err_msg=name)


def _consumed(out, input_fn, batch, steps, key):
  """The example keys a run consumed: its recorded segments replayed
  through the input_fn it trained with."""
  segments = training_position.read_segments(out) + [{"from_step": steps}]
  consumed = []
  for segment, end in zip(segments, segments[1:]):
    position = input_pipeline.DataPosition(segment["seed"],
                                           segment["examples"])
    count = (end["from_step"] - segment["from_step"]) * segment[
        "gradient_accumulation_steps"]
    consumed += _ids(lambda p=position: input_fn(_params(p, batch)), count,
                     key) if count else []
  return consumed


@pytest.fixture(scope="module")
def tiny_glue(tmp_path_factory):
  """A tiny model without dropout, and SST-2 with 10 training sentences."""
  root = str(tmp_path_factory.mktemp("resume_glue"))
  pretrained = hub_fixtures.make_tiny_albert_dir(
      os.path.join(root, "albert"), dropout_prob=0.0)
  run_classifier_test.write_sst2(root, num_train=10, num_dev=4, num_test=2)
  return pretrained, root


def _classifier_flags(tiny_glue, **extra):
  pretrained, data_dir = tiny_glue
  flags = dict(
      task_name="SST-2", data_dir=data_dir,
      albert_config_file=pretrained.config_file,
      spm_model_file=pretrained.spm_model_file,
      init_checkpoint=pretrained.init_checkpoint,
      max_seq_length=run_classifier_test.SEQ, train_batch_size=4,
      learning_rate=5e-3, train_step=7, warmup_step=1,
      save_checkpoints_steps=3, iterations_per_loop=3, do_train=True,
      do_eval=False, classifier_dropout_prob=0.0, random_seed=11)
  flags.update(extra)
  return flags


@pytest.mark.slow
def test_killed_classifier_resumes_with_the_same_examples(tiny_glue,
                                                          tmp_path):
  flags = _classifier_flags(tiny_glue)
  whole, resumed = str(tmp_path / "whole"), str(tmp_path / "resumed")
  _run("albert.run_classifier", dict(flags, output_dir=whole))
  log = _killed_then_resumed("albert.run_classifier", flags, resumed, 3)
  assert "Resuming the data at step 3: 12 records consumed" in log
  _assert_same_weights(whole, resumed, 7)
  # 28 sentences in all: the 10-sentence epoch ends twice on the way.
  feature_file = [name for name in os.listdir(whole)
                  if name.startswith("sst-2_train_") and
                  name.endswith(".tf_record")][0]
  input_fn = run_classifier_test.classifier_utils.file_based_input_fn_builder(
      os.path.join(whole, feature_file), run_classifier_test.SEQ, True,
      True, "sst-2", False, 4)
  ids_whole = _consumed(whole, input_fn, 4, 7, "input_ids")
  ids_resumed = _consumed(resumed, input_fn, 4, 7, "input_ids")
  assert len(ids_whole) == 28 and ids_whole == ids_resumed
  assert training_position.read_segments(resumed)[-1]["examples"] == 12


def _pretraining_files(directory):
  paths = []
  for n in range(3):
    path = os.path.join(directory, "part-%d.tfrecord" % n)
    run_pretraining_test.write_synthetic_records(path, 9 + n, seed=n)
    paths.append(path)
  return paths


def _pretraining_flags(directory, **extra):
  flags = dict(
      albert_config_file=run_pretraining_test.tiny_config_file(directory),
      input_file=",".join(_pretraining_files(directory)),
      max_seq_length=run_pretraining_test.SEQ,
      max_predictions_per_seq=run_pretraining_test.PRED,
      train_batch_size=4, learning_rate=5e-3, num_train_steps=6,
      num_warmup_steps=1, save_checkpoints_steps=3, iterations_per_loop=3,
      gradient_accumulation_steps=2, do_train=True, random_seed=5)
  flags.update(extra)
  return flags


@pytest.mark.slow
def test_killed_pretraining_resumes_with_the_same_examples(tmp_path):
  flags = _pretraining_flags(str(tmp_path))
  whole, resumed = str(tmp_path / "whole"), str(tmp_path / "resumed")
  _run("albert.run_pretraining", dict(flags, output_dir=whole))
  log = _killed_then_resumed("albert.run_pretraining", flags, resumed, 3)
  # 3 steps of 2 accumulated batches of 4: 24 of the epoch's 30 records;
  # the resumed run crosses into the second epoch.
  assert "Resuming the data at step 3: 24 records consumed" in log
  _assert_same_weights(whole, resumed, 6)
  input_fn = pretraining.input_fn_builder(
      flags["input_file"].split(","), run_pretraining_test.SEQ,
      run_pretraining_test.PRED, is_training=True)
  ids_whole = _consumed(whole, input_fn, 4, 6, "input_ids")
  assert len(ids_whole) == 48
  assert ids_whole == _consumed(resumed, input_fn, 4, 6, "input_ids")


@pytest.mark.slow
def test_killed_run_draws_the_same_dropout_masks(tmp_path):
  directory = str(tmp_path)
  flags = _pretraining_flags(directory)
  flags["albert_config_file"] = run_pretraining_test.tiny_config_file(
      directory, hidden_dropout_prob=0.3, attention_probs_dropout_prob=0.3)
  whole, resumed = str(tmp_path / "whole"), str(tmp_path / "resumed")
  _run("albert.run_pretraining", dict(flags, output_dir=whole))
  _killed_then_resumed("albert.run_pretraining", flags, resumed, 3)
  _assert_same_weights(whole, resumed, 6)
  # Another seed draws other masks (and orders the data otherwise).
  other = str(tmp_path / "other")
  _run("albert.run_pretraining", dict(flags, output_dir=other, random_seed=6))
  with pytest.raises(AssertionError):
    _assert_same_weights(whole, other, 6)


@pytest.mark.slow
def test_two_killed_workers_resume_with_the_same_examples(tmp_path):
  directory = str(tmp_path)
  flags = _pretraining_flags(directory, strategy="multi_worker_mirrored",
                             worker_timeout_secs=60,
                             gradient_accumulation_steps=1, train_batch_size=8)
  whole, resumed = str(tmp_path / "whole"), str(tmp_path / "resumed")
  _run_cluster(dict(flags, output_dir=whole))
  marker = resumed + ".marker"
  _kill_at_marker(_run_cluster(dict(flags, output_dir=resumed), marker, 3),
                  marker + ".0")
  assert tf.train.latest_checkpoint(resumed).endswith("-3")
  _run_cluster(dict(flags, output_dir=resumed))
  _assert_same_weights(whole, resumed, 6)
  assert training_position.read_segments(resumed)[-1]["examples"] == 12


def _run_cluster(flags, marker=None, kill_step=None):
  """Two workers on 127.0.0.1: run to the end, or (marker) started to be
  killed after step `kill_step`; returns the processes then."""
  addresses = ["127.0.0.1:%d" % p for p in distributed_test._free_ports(2)]  # pylint: disable=protected-access
  processes = []
  for index in range(2):
    env = {"TF_CONFIG": json.dumps({
        "cluster": {"worker": addresses},
        "task": {"type": "worker", "index": index}})}
    if marker:
      processes.append(_start_killable("albert.run_pretraining", flags,
                                       "%s.%d" % (marker, index), kill_step,
                                       env))
    else:
      processes.append(subprocess.Popen(
          [sys.executable, "-m", "albert.run_pretraining"] + _argv(flags),
          cwd=ROOT, env=_env(env), stdout=subprocess.DEVNULL,
          stderr=subprocess.PIPE, text=True))
  if marker:
    return processes
  try:
    for process in processes:
      _, err = process.communicate(timeout=RUN_TIMEOUT)
      assert process.returncode == 0, err[-3000:]
  finally:
    for process in processes:
      if process.poll() is None:
        process.kill()
        process.wait()
  return processes
