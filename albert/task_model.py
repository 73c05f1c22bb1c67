# coding=utf-8
# Copyright 2026 The ALBERT Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""The model_fn every fine-tuning task's head plugs into.

A task's head (classifier_utils, race_utils, squad_heads) builds the
encoder and returns its loss, predictions and eval metrics as
`HeadOutputs`; `model_fn_builder` adds what is the same for every task:
checkpoint initialisation, the optimizer, XLA and precision scopes, and the
estimator specs. `labels_and_weights` reads a classification head's labels
and example weights, also when serving (no labels).

Not here: the heads themselves, the data, and the run's sequence (driver,
fine_tuning), which builds the estimator around this model_fn.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections

import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import dropout_seeds
from albert import estimators
from albert import modeling
from albert import optimization

# What a task's head gives the model_fn.
#   loss: scalar loss (None where the mode has no labels, e.g. PREDICT).
#   predictions: dict of output tensors for PREDICT and the SavedModel.
#   eval_metrics: (metric_fn, tensors) for TPUEstimatorSpec, or None.
HeadOutputs = collections.namedtuple(
    "HeadOutputs", ["loss", "predictions", "eval_metrics"])


def model_fn_builder(build_head, init_checkpoint, learning_rate,
                     num_train_steps, num_warmup_steps, use_tpu,
                     optimizer="adamw", hub_module=None,
                     new_variable_prefixes=(), log_every_n_steps=100):
  """The TPUEstimator model_fn of a fine-tuning task.

  Args:
    build_head: fn(features, mode, params) -> `HeadOutputs`; builds the
      encoder (fine_tuning_utils.create_albert) and the task's head.
    init_checkpoint: (optional) checkpoint to warm-start from; ignored
      with a hub module, which carries its own weights.
    learning_rate: peak learning rate.
    num_train_steps: total optimizer steps (the schedule decays to 0).
    num_warmup_steps: linear warmup steps.
    use_tpu: running on TPU.
    optimizer: "adamw" or "lamb".
    hub_module: (optional) TF-Hub module handle.
    new_variable_prefixes: name prefixes of the head's variables, which a
      pretrained checkpoint does not have (no warning for them).
    log_every_n_steps: loss/throughput logging interval (CPU/GPU).

  Returns:
    model_fn(features, labels, mode, params); params (see
    `estimators.model_params`) carry --precision, --use_xla and
    --gradient_accumulation_steps.
  """

  def model_fn(features, labels, mode, params):  # pylint: disable=unused-argument
    """The `model_fn` for TPUEstimator."""
    tf.logging.info("*** Features ***")
    for name in sorted(features.keys()):
      tf.logging.info("  name = %s, shape = %s", name, features[name].shape)
    precision = params.get("precision", "fp32")
    compiled = estimators.compilation_scope(params.get("use_xla", False))
    with compiled, modeling.compute_dtype_scope(
        modeling.compute_dtype_of(precision)), dropout_seeds.for_training(
            mode == tf.estimator.ModeKeys.TRAIN, params):
      head = build_head(features, mode, params)
    tvars = tf.trainable_variables()
    scaffold_fn, initialized = None, {}
    # Only training starts from init_checkpoint: evaluation, prediction and
    # export restore output_dir's checkpoints over every variable anyway.
    if (init_checkpoint and not hub_module and
        mode == tf.estimator.ModeKeys.TRAIN):
      scaffold_fn, initialized = checkpoints.init_from_checkpoint(
          init_checkpoint, tvars, use_tpu=use_tpu,
          expected_unmatched=tuple(new_variable_prefixes))
    checkpoints.log_variables(tvars, initialized)

    if mode == tf.estimator.ModeKeys.TRAIN:
      accumulation_steps = params.get("gradient_accumulation_steps", 1)
      with estimators.compilation_scope(params.get("use_xla", False)):
        train_op = optimization.create_optimizer(
            head.loss, learning_rate, num_train_steps, num_warmup_steps,
            use_tpu, optimizer,
            gradient_accumulation_steps=accumulation_steps,
            precision=precision)
      return estimators.train_spec(head.loss, train_op,
                                   estimators.train_batch_size_of(params),
                                   num_train_steps, use_tpu, log_every_n_steps,
                                   scaffold_fn, accumulation_steps)
    if mode == tf.estimator.ModeKeys.EVAL:
      return tf.estimator.tpu.TPUEstimatorSpec(
          mode=mode, loss=head.loss, eval_metrics=head.eval_metrics,
          scaffold_fn=scaffold_fn)
    serving_key = (
        tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY)
    return tf.estimator.tpu.TPUEstimatorSpec(
        mode=mode,
        predictions=head.predictions,
        export_outputs={
            serving_key: tf.estimator.export.PredictOutput(head.predictions)
        },
        scaffold_fn=scaffold_fn)

  return model_fn


def labels_and_weights(features, label_dtype=tf.int32):
  """A classification head's labels and example weights.

  Args:
    features: the model_fn's features.
    label_dtype: of the zero labels made when serving (no "label_ids").

  Returns:
    (label_ids [B], is_real_example float32 [B]): a SavedModel's inputs
    carry neither, so serving gets zero labels and weight 1 everywhere.
  """
  batch_shape = tf.shape(features["input_ids"])[:1]
  label_ids = features.get("label_ids")
  if label_ids is None:
    label_ids = tf.zeros(batch_shape, label_dtype)
  if "is_real_example" in features:
    is_real_example = tf.cast(features["is_real_example"], tf.float32)
  else:
    is_real_example = tf.ones(batch_shape, tf.float32)
  return label_ids, is_real_example
