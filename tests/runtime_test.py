# coding=utf-8
"""Tests for the shared plumbing: runtime, input_pipeline, fine_tuning_utils."""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import estimators
from albert import fine_tuning_utils
from albert import input_pipeline
from albert import modeling
from albert import progress
from albert import tokenization

tf.disable_v2_behavior()

SEQ = 4


def write_regression_records(path, n, seed):
  """y = sum(input_ids) / 10: a target a linear model learns exactly."""
  rng = np.random.RandomState(seed)
  examples = []
  for _ in range(n):
    ids = rng.randint(0, 10, size=SEQ)
    features = {
        "input_ids": input_pipeline.int64_feature(ids),
        "input_mask": input_pipeline.int64_feature([1] * SEQ),
        "segment_ids": input_pipeline.int64_feature([0] * SEQ),
        "label": input_pipeline.float_feature([ids.sum() / 10.0]),
    }
    examples.append(tf.train.Example(
        features=tf.train.Features(feature=features)).SerializeToString())
  return input_pipeline.write_examples(path, examples, key={"seed": seed})


SPEC = {
    "input_ids": tf.FixedLenFeature([SEQ], tf.int64),
    "input_mask": tf.FixedLenFeature([SEQ], tf.int64),
    "segment_ids": tf.FixedLenFeature([SEQ], tf.int64),
    "label": tf.FixedLenFeature([1], tf.float32),
}


def linear_model_fn(features, labels, mode, params):
  """A linear regressor over the ids, as a TPUEstimator model_fn."""
  del labels, params
  x = tf.cast(features["input_ids"], tf.float32)  # [B, S]
  w = tf.get_variable("w", [SEQ, 1], initializer=tf.zeros_initializer())
  prediction = tf.matmul(x, w)  # [B, 1]
  if mode == tf.estimator.ModeKeys.PREDICT:
    return tf.estimator.tpu.TPUEstimatorSpec(
        mode=mode, predictions={"score": tf.squeeze(prediction, 1)})
  loss = tf.reduce_mean(tf.square(prediction - features["label"]))
  if mode == tf.estimator.ModeKeys.TRAIN:
    step = tf.train.get_or_create_global_step()
    train_op = tf.group(
        tf.train.GradientDescentOptimizer(0.003).minimize(loss),
        step.assign_add(1))
    return tf.estimator.tpu.TPUEstimatorSpec(mode=mode, loss=loss,
                                             train_op=train_op)

  def metric_fn(prediction, label):
    return {"eval_mse": tf.metrics.mean_squared_error(label, prediction)}
  return tf.estimator.tpu.TPUEstimatorSpec(
      mode=mode, loss=loss,
      eval_metrics=(metric_fn, [prediction, features["label"]]))


def make_estimator(output_dir, save_every):
  config = estimators.make_run_config(
      output_dir, save_checkpoints_steps=save_every,
      iterations_per_loop=save_every, keep_checkpoint_max=10)
  return estimators.make_estimator(linear_model_fn, config, use_tpu=False,
                                   train_batch_size=8, eval_batch_size=8,
                                   predict_batch_size=8)


@pytest.fixture(scope="module")
def records(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("records") / "data.tf_record")
  assert write_regression_records(path, 64, seed=0) == 64
  return path


def test_write_examples_is_atomic_and_describes_its_key(tmp_path):
  path = str(tmp_path / "cache" / "x.tf_record")

  def failing():
    yield b"one"
    raise RuntimeError("interrupted")

  with pytest.raises(RuntimeError):
    input_pipeline.write_examples(path, failing(), key={"a": 1})
  assert os.listdir(tmp_path / "cache") == []
  assert input_pipeline.write_examples(path, [b"x", b"y"], key={"a": 1}) == 2
  assert sorted(os.listdir(tmp_path / "cache")) == ["x.tf_record",
                                                    "x.tf_record.json"]
  assert list(tf.io.tf_record_iterator(path)) == [b"x", b"y"]


def test_cache_path_changes_with_every_key_field(tmp_path):
  vocab = tmp_path / "v.txt"
  vocab.write_text("a\nb\n")
  key = {"task": "sst-2", "split": "train", "max_seq_length": 128,
         "do_lower_case": True,
         "vocab": input_pipeline.file_fingerprint(str(vocab))}
  base = input_pipeline.cached_features_path("/c", "sst-2_train", key)
  assert base == input_pipeline.cached_features_path("/c", "sst-2_train",
                                                     dict(key))
  assert os.path.basename(base).startswith("sst-2_train_")
  for field, value in (("max_seq_length", 64), ("do_lower_case", False),
                       ("split", "dev")):
    assert input_pipeline.cached_features_path(
        "/c", "sst-2_train", dict(key, **{field: value})) != base
  vocab.write_text("a\nb\nc\n")  # the tokenizer file changed
  changed = dict(key, vocab=input_pipeline.file_fingerprint(str(vocab)))
  assert input_pipeline.cached_features_path("/c", "sst-2_train",
                                             changed) != base


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


def test_export_saved_model_predicts_like_the_estimator(records, tmp_path):
  out = str(tmp_path / "model")
  estimator = make_estimator(out, save_every=10)
  estimator.train(input_pipeline.file_based_input_fn_builder(
      records, SPEC, True, True), max_steps=10)
  path = estimators.export_saved_model(estimator, str(tmp_path / "export"),
                                       SEQ)
  ids = np.array([[1, 2, 3, 4], [9, 9, 0, 0]], np.int32)
  with tf.Graph().as_default(), tf.Session() as sess:
    meta = tf.saved_model.loader.load(sess, ["serve"], path)
    signature = meta.signature_def["serving_default"]
    feed = {signature.inputs[k].name: v for k, v in (
        ("input_ids", ids), ("input_mask", np.ones_like(ids)),
        ("segment_ids", np.zeros_like(ids)))}
    exported = sess.run(signature.outputs["score"].name, feed)
  w = tf.train.load_variable(out, "w")
  np.testing.assert_allclose(exported, ids.dot(w)[:, 0], rtol=1e-5)
  assert np.abs(exported).max() > 0  # trained, not the zero initialiser


def test_check_init_source():
  with pytest.raises(ValueError, match="either --init_checkpoint or "
                                       "--albert_hub_module_handle"):
    fine_tuning_utils.check_init_source("a.ckpt", "/hub", "job")
  assert fine_tuning_utils.check_init_source("a.ckpt", None, "job") is None
  assert fine_tuning_utils.check_init_source(None, "/hub", "job") is None
  messages = []
  original = tf.logging.warning
  tf.logging.warning = lambda msg, *args: messages.append(msg % args)
  try:
    note = fine_tuning_utils.check_init_source(None, None, "GLUE MRPC")
  finally:
    tf.logging.warning = original
  assert "random" in note
  assert len(messages) == 1 and "GLUE MRPC" in messages[0]
  assert "RANDOM" in messages[0]


def test_check_vocab_matches_config(tmp_path):
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n")
  tokenizer = tokenization.FullTokenizer(str(vocab))
  fine_tuning_utils.check_vocab_matches_config(
      tokenizer, modeling.AlbertConfig(vocab_size=6), "vocab.txt")
  with pytest.raises(ValueError, match="vocab.txt has 6 token ids but the "
                                       "config's vocab_size is 5"):
    fine_tuning_utils.check_vocab_matches_config(
        tokenizer, modeling.AlbertConfig(vocab_size=5), "vocab.txt")
  # A padded embedding table is legitimate: a warning with both sizes.
  warnings = []
  original = tf.logging.warning
  tf.logging.warning = lambda message, *args: warnings.append(message % args)
  try:
    fine_tuning_utils.check_vocab_matches_config(
        tokenizer, modeling.AlbertConfig(vocab_size=128), "vocab.txt")
  finally:
    tf.logging.warning = original
  assert len(warnings) == 1
  assert ("vocab.txt has 6 token ids, fewer than the config's vocab_size "
          "128" in warnings[0])


def test_create_albert_builds_the_released_encoder():
  config = modeling.AlbertConfig(vocab_size=20, embedding_size=8,
                                 hidden_size=16, num_hidden_layers=2,
                                 num_attention_heads=2, intermediate_size=32)
  with tf.Graph().as_default():
    ids = tf.constant([[1, 2, 3], [4, 5, 0]])
    pooled, sequence = fine_tuning_utils.create_albert(
        config, False, ids, tf.ones_like(ids), tf.zeros_like(ids),
        use_one_hot_embeddings=False)
    assert pooled.shape.as_list() == [2, 16]
    assert sequence.shape.as_list() == [2, 3, 16]
    names = {v.name for v in tf.global_variables()}
    assert "bert/pooler/dense/kernel:0" in names


def test_cpu_rate_logging_is_not_every_step(records, tmp_path):
  """TPUEstimator's own examples/sec lines come every N steps on CPU too."""
  import logging  # pylint: disable=g-import-not-at-top

  class Count(logging.Handler):

    def __init__(self):
      super(Count, self).__init__()
      self.lines = 0

    def emit(self, record):
      if "examples/sec" in record.getMessage():
        self.lines += 1

  counter = Count()
  logger = logging.getLogger("tensorflow")
  old_level = logger.level
  logger.addHandler(counter)
  logger.setLevel(logging.INFO)
  try:
    estimator = make_estimator(str(tmp_path / "model"), save_every=5)
    estimator.train(input_pipeline.file_based_input_fn_builder(
        records, SPEC, True, True), max_steps=20)
  finally:
    logger.removeHandler(counter)
    logger.setLevel(old_level)
  # Every 5 steps (iterations_per_loop) over 20 steps; every step was 20.
  assert 1 <= counter.lines <= 5


def test_show_only_own_logs_filters_inside_and_restores_after():
  import logging  # pylint: disable=g-import-not-at-top
  seen = []

  class Keep(logging.Handler):

    def emit(self, record):
      seen.append(record.getMessage())

  logger = logging.getLogger("tensorflow")
  handler = Keep()
  logger.addHandler(handler)
  before = tf.logging.get_verbosity()
  try:
    tf.logging.set_verbosity(tf.logging.INFO)
    with progress.show_only_own_logs():
      tf.logging.info("foreign chatter")      # from this test file: hidden
      progress.log_progress("step %d", 7)       # a progress line: shown
    tf.logging.info("after the block")        # filter gone again
  finally:
    logger.removeHandler(handler)
    tf.logging.set_verbosity(before)
  assert seen == ["step 7", "after the block"]


def test_throughput_hook_reports_steps_rate_and_eta():
  lines = []
  original = progress.log_progress
  progress.log_progress = lambda msg, *args: lines.append(msg % args)
  try:
    with tf.Graph().as_default():
      step = tf.train.get_or_create_global_step()
      loss = tf.constant(2.5)
      train_op = step.assign_add(1)
      hook = progress.ThroughputHook(batch_size=8, num_train_steps=6,
                                     every_n_steps=2, loss=loss)
      with tf.train.MonitoredSession(hooks=[hook]) as sess:
        for _ in range(6):
          sess.run(train_op)
  finally:
    progress.log_progress = original
  steps = [l for l in lines if l.startswith("step ")]
  assert [l.split()[1] for l in steps] == ["2/6", "4/6", "6/6"]
  assert all("loss 2.5000" in l and "examples/s" in l and "ETA" in l
             for l in steps)
  assert lines[-1].startswith("trained 6 steps (to step 6)")


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


def test_error_line_skips_the_graph_frames_of_other_errors():
  error = tf.errors.NotFoundError(
      None, None, "Graph execution error:\n\nDetected at node 'x' defined "
      "at (most recent call last):\n  File \"a.py\", line 1\nNode: 'x'\n"
      "Key output_bias not found in checkpoint\n\t [[{{node x}}]]")
  assert command_line.error_line(error) == (
      "Key output_bias not found in checkpoint (TensorFlow NotFoundError; is "
      "the checkpoint complete and made for this config?)")


def test_own_lines_read_the_same_in_a_file_or_a_pipe():
  """TensorFlow's handler printed "INFO:tensorflow:step ..." wherever the
  output went; our lines are plain text, others' keep their format."""
  import io  # pylint: disable=g-import-not-at-top
  import logging  # pylint: disable=g-import-not-at-top
  logger = logging.getLogger("tensorflow")
  stream = io.StringIO()
  handler = logging.StreamHandler(stream)
  handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
  logger.addHandler(handler)
  verbosity = tf.logging.get_verbosity()
  tf.logging.set_verbosity(tf.logging.INFO)
  try:
    progress.log_each_line_once()
    progress.log_each_line_once()  # Idempotent: not wrapped twice.
    progress.log_progress("step %d/%d  loss %.4f", 10, 20, 0.5)
    checkpoints.warn_random_initialisation("run_classifier SST-2")
    tf.logging.info("Saving checkpoints for 10")  # Not this package's.
  finally:
    logger.removeHandler(handler)
    tf.logging.set_verbosity(verbosity)
  lines = stream.getvalue().splitlines()
  assert lines[0] == "step 10/20  loss 0.5000"
  assert lines[1].startswith("WARNING: *** run_classifier SST-2: neither")
  assert lines[2] == "INFO:tensorflow:Saving checkpoints for 10"
