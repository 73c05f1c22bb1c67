# coding=utf-8
"""Tests for albert/checkpoints.py: evaluating every checkpoint, keeping the
best, and naming a corrupt checkpoint file."""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import input_pipeline

from estimator_fixtures import make_estimator
from estimator_fixtures import records  # pylint: disable=unused-import
from estimator_fixtures import SPEC

tf.disable_v2_behavior()


def test_evaluate_checkpoints_appends_blocks_and_keeps_the_best(
    records, tmp_path):
  out = str(tmp_path / "model")
  estimator = make_estimator(out, save_every=5)
  train_fn = input_pipeline.file_based_input_fn_builder(records, SPEC, True,
                                                        True)
  eval_fn = input_pipeline.file_based_input_fn_builder(records, SPEC, False,
                                                       True)
  estimator.train(train_fn, max_steps=15)
  history, best = checkpoints.evaluate_checkpoints(
      checkpoints.estimator_evaluate_fn(estimator, eval_fn), out, "eval_mse",
      higher_is_better=False, extra_results={"note": "x"})
  # The estimator also saves the initial state as model.ckpt-0.
  assert sorted(history) == [0, 5, 10, 15]
  # Gradient descent on a convex loss: the last checkpoint is the best.
  assert best["global_step"] == 15
  assert best["eval_mse"] == min(h["eval_mse"] for h in history.values())
  with open(os.path.join(out, "eval_results.txt")) as f:
    text = f.read()
  assert text.count("global_step = ") == len(history)
  assert "note = x" in text and "eval_mse = " in text
  with open(os.path.join(out, "best_checkpoint.txt")) as f:
    best_file = dict(l.strip().split(" = ") for l in f if l.strip())
  assert int(best_file["global_step"]) == 15
  assert checkpoints.best_or_latest_checkpoint(out).endswith("model.ckpt-best")
  np.testing.assert_allclose(
      tf.train.load_variable(os.path.join(out, "model.ckpt-best"), "w"),
      tf.train.load_variable(os.path.join(out, "model.ckpt-15"), "w"))

  # A second call evaluates only new checkpoints.
  estimator.train(train_fn, max_steps=20)
  history2, best2 = checkpoints.evaluate_checkpoints(
      checkpoints.estimator_evaluate_fn(estimator, eval_fn), out, "eval_mse",
      higher_is_better=False)
  assert set(history2) - set(history) == {20}
  assert best2["global_step"] == 20
  with open(os.path.join(out, "eval_results.txt")) as f:
    assert f.read().count("global_step = ") == len(history2)


def test_evaluate_checkpoints_without_checkpoints_fails_at_once(records,
                                                                tmp_path):
  out = str(tmp_path / "empty")
  eval_fn = input_pipeline.file_based_input_fn_builder(records, SPEC, False,
                                                       True)
  with pytest.raises(ValueError, match="no checkpoint to evaluate"):
    checkpoints.evaluate_checkpoints(
        checkpoints.estimator_evaluate_fn(make_estimator(out, 5), eval_fn), out,
        "eval_mse")


def _corrupt_checkpoint(directory):
  """A checkpoint whose data file has flipped bytes (its size unchanged)."""
  prefix = os.path.join(directory, "model.ckpt-1")
  with tf.Graph().as_default():
    tf.get_variable("weights", [1000], initializer=tf.ones_initializer())
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      tf.train.Saver().save(session, prefix, write_meta_graph=False)
  data_file = prefix + ".data-00000-of-00001"
  with open(data_file, "rb") as f:
    raw = bytearray(f.read())
  for i in range(100, 120):
    raw[i] ^= 0xFF
  with open(data_file, "wb") as f:
    f.write(raw)
  return prefix, data_file


def test_error_line_names_a_corrupt_checkpoint_file(tmp_path):
  """TensorFlow's first line is only "Graph execution error:"; the cause
  (a failed checksum) and the file must reach the one-line error."""
  prefix, data_file = _corrupt_checkpoint(str(tmp_path))
  checkpoints.check_checkpoint_files(prefix)  # Same size: not truncated.
  with tf.Graph().as_default():
    tf.get_variable("weights", [1000])
    with tf.Session() as session:
      with pytest.raises(tf.errors.DataLossError) as raised:
        tf.train.Saver().restore(session, prefix)
  assert raised.value.message.startswith("Graph execution error:")
  line = command_line.error_line(raised.value)
  assert "\n" not in line
  assert line == (
      "checkpoint %s is corrupt: its data file %s fails its checksum (a "
      "4000-byte tensor differs from what was saved); copy or download the "
      "checkpoint again (TensorFlow DataLossError)" % (prefix, data_file))
