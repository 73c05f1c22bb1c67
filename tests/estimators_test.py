# coding=utf-8
"""Tests for albert/estimators.py: the SavedModel export and how often the
estimator logs its rate on CPU."""

import numpy as np
import tensorflow.compat.v1 as tf

from albert import estimators
from albert import input_pipeline

from estimator_fixtures import make_estimator
from estimator_fixtures import records  # pylint: disable=unused-import
from estimator_fixtures import SEQ
from estimator_fixtures import SPEC

tf.disable_v2_behavior()


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
