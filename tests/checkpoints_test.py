# coding=utf-8
"""Tests for albert/checkpoints.py: evaluating every checkpoint, keeping the
best (never trusting an interrupted update of it), and naming a corrupt
checkpoint file."""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import file_io
from albert import input_pipeline

from estimator_fixtures import SPEC
from estimator_fixtures import make_estimator
from estimator_fixtures import records  # pylint: disable=unused-import


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


def write_checkpoint(path, value, step):
  with tf.Graph().as_default():
    tf.get_variable("w", initializer=np.full([3], value, np.float32))
    tf.train.get_or_create_global_step().assign(step)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(tf.train.get_global_step().assign(step))
      tf.train.Saver().save(sess, path, write_meta_graph=False,
                            write_state=False)


def write_record(out, step):
  file_io.write_results(os.path.join(out, "best_checkpoint.txt"), {
      "checkpoint": os.path.join(out, "model.ckpt-%d" % step),
      "global_step": step, "f1": 1.0})


def test_an_interrupted_best_update_is_repaired_not_trusted(tmp_path):
  out = str(tmp_path)
  best = os.path.join(out, checkpoints.BEST_CHECKPOINT_NAME)
  write_checkpoint(os.path.join(out, "model.ckpt-1"), 1.0, 1)
  write_checkpoint(os.path.join(out, "model.ckpt-2"), 2.0, 2)
  write_checkpoint(best, 1.0, 1)
  # The record says step 2, the copy still holds step 1 (the release's
  # order, killed between the two).
  write_record(out, 2)
  assert checkpoints.best_or_latest_checkpoint(out) == best
  np.testing.assert_allclose(tf.train.load_variable(best, "w"), [2.0] * 3)
  # A copy killed half-way: no .index; repaired the same way.
  os.remove(best + ".index")
  assert checkpoints.best_or_latest_checkpoint(out) == best
  assert checkpoints.checkpoint_global_step(best) == 2
  # Nothing to repair from: an error, not a prediction from old weights.
  write_checkpoint(best, 1.0, 1)
  for name in os.listdir(out):
    if name.startswith("model.ckpt-2."):
      os.remove(os.path.join(out, name))
  with pytest.raises(ValueError, match=r"does not match .*best_checkpoint"
                                       r".txt \(step 2\) and .*model.ckpt-2 "
                                       r"is gone"):
    checkpoints.best_or_latest_checkpoint(out)


def test_best_copy_never_leaves_an_index_over_other_data(tmp_path,
                                                         monkeypatch):
  out = str(tmp_path)
  best = os.path.join(out, checkpoints.BEST_CHECKPOINT_NAME)
  write_checkpoint(best, 1.0, 1)
  write_checkpoint(os.path.join(out, "model.ckpt-2"), 2.0, 2)
  renames = []
  original = tf.gfile.Rename

  def dying_rename(source, target, overwrite=False):
    if target.endswith(".index"):
      raise KeyboardInterrupt  # Killed just before the last rename.
    renames.append(target)
    return original(source, target, overwrite)

  monkeypatch.setattr(tf.gfile, "Rename", dying_rename)
  with pytest.raises(KeyboardInterrupt):
    checkpoints.copy_checkpoint(os.path.join(out, "model.ckpt-2"), best)
  monkeypatch.undo()
  assert renames and not os.path.exists(best + ".index")
