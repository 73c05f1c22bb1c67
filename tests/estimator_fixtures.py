# coding=utf-8
"""A tiny linear regression trained through the estimators (for tests).

Records whose target a linear model over the ids learns exactly, the model_fn
and a CPU estimator around it, and the `records` fixture (64 such records):
shared by checkpoints_test, estimators_test and driver_test. Test files use
the fixture by importing it (`from estimator_fixtures import records`).
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import estimators
from albert import input_pipeline

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
