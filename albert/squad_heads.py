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
"""The SQuAD heads of the released ALBERT: v1 (span) and v2 (XLNet style).

v1 scores every position as an answer start and end with one [2, H]
projection (`cls/squad/output_weights`, `cls/squad/output_bias`).

v2 adds what SQuAD 2.0 needs: positions that cannot be part of an answer
(`p_mask` = 1) are masked out, the end is scored conditioned on a start
(the gold start in training, a beam of the `start_n_top` best starts at
prediction) and `answer_class` gives one logit per window that the question
has no answer there. Its variables are top level, next to `bert/...`:

  start_logits/dense/{kernel [H, 1], bias [1]}
  end_logits/dense_0/{kernel [2H, H], bias [H]}
  end_logits/LayerNorm/{gamma [H], beta [H]}
  end_logits/dense_1/{kernel [H, 1], bias [1]}
  answer_class/dense_0/{kernel [2H, H], bias [H]}
  answer_class/dense_1/kernel [H, 1]

The release works in [S, B, H]; this module works in [B, S, H] with the
same arithmetic, so released fine-tuned checkpoints load and give the same
outputs.

Both heads plug into `task_model.model_fn_builder` through
`v1_model_fn_builder` and `v2_model_fn_builder`.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import tensorflow.compat.v1 as tf

from albert import fine_tuning_utils
from albert import modeling
from albert import task_model

# Name prefixes of the head variables a pretrained checkpoint lacks.
V1_VARIABLE_PREFIXES = ("cls/squad/",)
V2_VARIABLE_PREFIXES = ("start_logits/", "end_logits/", "answer_class/")

# The release's mask constant. It overflows float16 (max 65504) to -inf,
# and -inf * 0 in `x * (1 - p)` style arithmetic or a fully masked row
# turns into NaN, so narrower types get a finite constant instead.
_FLOAT32_MASK_VALUE = 1e30


def masking_value(dtype):
  """The large positive constant subtracted from masked logits.

  Args:
    dtype: the logits' floating dtype.

  Returns:
    1e30 (as released) for float32/float64; half the largest finite value
    for float16 and bfloat16, so that the masked logit minus a normal
    logit (as log_softmax computes) stays finite.
  """
  dtype = tf.as_dtype(dtype)
  if dtype in (tf.float32, tf.float64):
    return _FLOAT32_MASK_VALUE
  if not dtype.is_floating:
    raise ValueError("masking_value needs a floating dtype, got %s" % dtype)
  return float(dtype.max) / 2.0


def mask_logits(logits, p_mask):
  """Pushes the logits of impossible answer positions towards -infinity.

  Args:
    logits: float Tensor [..., S].
    p_mask: int or float Tensor broadcastable to `logits`; 1 where the
      position cannot be (part of) an answer, 0 where it can.

  Returns:
    `logits * (1 - p_mask) - BIG * p_mask`, same shape and dtype as logits,
    with BIG = `masking_value(logits.dtype)`.
  """
  p_mask = tf.cast(p_mask, logits.dtype)
  big = tf.constant(masking_value(logits.dtype), dtype=logits.dtype)
  return logits * (1.0 - p_mask) - big * p_mask


def derive_p_mask(input_mask, segment_ids):
  """The p_mask of the standard SQuAD layout, from the serving inputs.

  A SavedModel request carries only input_ids, input_mask and segment_ids.
  For `[CLS] question [SEP] paragraph [SEP] padding` the training features'
  p_mask is 1 on the question, both [SEP]s and padding and 0 on [CLS] and
  the paragraph; this rebuilds it: 1 where segment_ids == 0 or
  input_mask == 0, also 1 at the last real token (the final [SEP], which is
  in segment 1), and 0 at position 0 ([CLS], the null answer).

  Args:
    input_mask: int Tensor [B, S]; 1 for real tokens.
    segment_ids: int Tensor [B, S]; 1 for the paragraph and final [SEP].

  Returns:
    int32 Tensor [B, S].
  """
  input_mask = tf.cast(input_mask, tf.int32)
  segment_ids = tf.cast(segment_ids, tf.int32)
  seq_length = modeling.get_shape_list(input_mask, expected_rank=2)[1]
  not_paragraph = tf.logical_or(tf.equal(segment_ids, 0),
                                tf.equal(input_mask, 0))
  last_real = tf.one_hot(tf.reduce_sum(input_mask, axis=1) - 1,
                         depth=seq_length, dtype=tf.int32)
  is_cls = tf.one_hot(tf.zeros_like(input_mask[:, 0]), depth=seq_length,
                      dtype=tf.int32)
  p_mask = tf.maximum(tf.cast(not_paragraph, tf.int32), last_real)
  return p_mask * (1 - is_cls)


def _initializer_range(albert_config):
  # A hub module comes without a config; 0.02 is every released config's.
  if albert_config is None:
    return 0.02
  return albert_config.initializer_range


def _static_width(tensor):
  width = tensor.shape[-1]
  width = getattr(width, "value", width)
  if width is None:
    raise ValueError("The last dimension of %s must be known statically" %
                     tensor.name)
  return int(width)


def _dense(input_tensor, units, name, initializer, activation=None,
           use_bias=True):
  """A dense layer over the last axis, named like `tf.layers.dense`.

  Written with get_variable and a 2-D matmul (no Keras, no einsum, so the
  graph converts to TFLite) and the variable names the release's
  `tf.layers.dense(name=...)` produced: `<name>/kernel`, `<name>/bias`.

  Args:
    input_tensor: float Tensor [..., W].
    units: output width U.
    name: variable scope of the layer.
    initializer: kernel initializer (the bias starts at zero, like
      tf.layers.dense's).
    activation: (optional) elementwise function applied last.
    use_bias: add a bias.

  Returns:
    float Tensor [..., U].
  """
  width = _static_width(input_tensor)
  shape = modeling.get_shape_list(input_tensor)
  with tf.variable_scope(name):
    kernel = tf.get_variable("kernel", [width, units],
                             dtype=input_tensor.dtype,
                             initializer=initializer)
    output = tf.matmul(tf.reshape(input_tensor, [-1, width]), kernel)
    if use_bias:
      bias = tf.get_variable("bias", [units], dtype=input_tensor.dtype,
                             initializer=tf.zeros_initializer())
      output = tf.nn.bias_add(output, bias)
    if activation is not None:
      output = activation(output)
  return tf.reshape(output, shape[:-1] + [units])


# SQuAD v1 -------------------------------------------------------------------


def create_v1_model(albert_config, is_training, input_ids, input_mask,
                    segment_ids, use_one_hot_embeddings, use_einsum=True,
                    hub_module=None):
  """The released SQuAD v1 head: start and end logits for every position.

  Variables: `cls/squad/output_weights` [2, H] and `cls/squad/output_bias`
  [2]. Nothing is masked (as released): post-processing keeps only spans
  inside the paragraph.

  Args:
    albert_config: `AlbertConfig` (None with a hub module).
    is_training: enables dropout in the encoder.
    input_ids: int32 Tensor [B, S].
    input_mask: int32 Tensor [B, S].
    segment_ids: int32 Tensor [B, S].
    use_one_hot_embeddings: one-hot embedding lookups (TPU).
    use_einsum: einsum or matmul-only dense layers in the encoder (False
      for TFLite).
    hub_module: (optional) TF-Hub module handle or path.

  Returns:
    (start_logits [B, S], end_logits [B, S]). Their ops are named
    "start_logits" and "end_logits" (at the caller's name scope): the
    TFLite export looks the outputs up by these names.
  """
  _, sequence_output = fine_tuning_utils.create_albert(
      albert_config=albert_config,
      is_training=is_training,
      input_ids=input_ids,
      input_mask=input_mask,
      segment_ids=segment_ids,
      use_one_hot_embeddings=use_one_hot_embeddings,
      use_einsum=use_einsum,
      hub_module=hub_module)
  shape = modeling.get_shape_list(sequence_output, expected_rank=3)
  batch_size, seq_length, hidden_size = shape[0], shape[1], shape[2]

  with tf.variable_scope("cls/squad"):
    output_weights = tf.get_variable(
        "output_weights", [2, hidden_size],
        initializer=tf.truncated_normal_initializer(stddev=0.02))
    output_bias = tf.get_variable(
        "output_bias", [2], initializer=tf.zeros_initializer())

  # A 2-D matmul rather than an einsum keeps the head TFLite-convertible.
  flat = tf.reshape(sequence_output, [-1, hidden_size])
  logits = tf.matmul(flat, output_weights, transpose_b=True)
  logits = tf.nn.bias_add(logits, output_bias)
  logits = tf.reshape(logits, [batch_size, seq_length, 2])
  start_logits, end_logits = tf.unstack(logits, axis=-1)
  return (tf.identity(start_logits, name="start_logits"),
          tf.identity(end_logits, name="end_logits"))


def _position_cross_entropy(log_probs, positions, seq_length):
  """Batch mean of -log p(gold position).

  Args:
    log_probs: float Tensor [B, S] of log-probabilities.
    positions: int Tensor [B] (or [B, 1]) of gold positions.
    seq_length: S.

  Returns:
    float scalar.
  """
  positions = tf.reshape(positions, [-1])
  one_hot = tf.one_hot(positions, depth=seq_length, dtype=log_probs.dtype)
  return tf.reduce_mean(-tf.reduce_sum(one_hot * log_probs, axis=-1))


def v1_loss(start_logits, end_logits, start_positions, end_positions,
            seq_length):
  """The v1 training loss: mean of the start and end cross-entropies.

  Args:
    start_logits: float Tensor [B, S].
    end_logits: float Tensor [B, S].
    start_positions: int Tensor [B] of gold starts.
    end_positions: int Tensor [B] of gold ends.
    seq_length: S.

  Returns:
    float scalar: (CE_start + CE_end) / 2, each the batch mean of
    -sum(one_hot * log_softmax(logits)).
  """
  start_loss = _position_cross_entropy(
      tf.nn.log_softmax(start_logits, axis=-1), start_positions, seq_length)
  end_loss = _position_cross_entropy(
      tf.nn.log_softmax(end_logits, axis=-1), end_positions, seq_length)
  return (start_loss + end_loss) / 2.0


def _with_unique_ids(features, predictions):
  # A SavedModel request has no unique_ids; a TFRecord input has them.
  if "unique_ids" in features:
    predictions["unique_ids"] = features["unique_ids"]
  return predictions


def v1_model_fn_builder(albert_config, init_checkpoint, learning_rate,
                        num_train_steps, num_warmup_steps, use_tpu,
                        use_one_hot_embeddings, use_einsum=True,
                        hub_module=None, optimizer="adamw",
                        log_every_n_steps=100):
  """The TPUEstimator model_fn of SQuAD v1.

  Args:
    albert_config: `AlbertConfig` (None with a hub module).
    init_checkpoint: (optional) pretrained checkpoint; `cls/squad/*` is new.
    learning_rate: peak learning rate.
    num_train_steps: total optimizer steps.
    num_warmup_steps: linear warmup steps.
    use_tpu: running on TPU.
    use_one_hot_embeddings: one-hot embedding lookups (TPU).
    use_einsum: einsum or matmul-only dense layers (False for TFLite).
    hub_module: (optional) TF-Hub module handle or path.
    optimizer: "adamw" or "lamb".
    log_every_n_steps: loss/throughput logging interval (CPU/GPU).

  Returns:
    model_fn(features, labels, mode, params). TRAIN and EVAL need the
    features start_positions and end_positions; PREDICT gives
    "start_log_prob" and "end_log_prob" [B, S] (raw logits, named as
    released) and "unique_ids" [B] when the features have them.
  """

  def build_head(features, mode, params):  # pylint: disable=unused-argument
    """`task_model.HeadOutputs` of the v1 head."""
    start_logits, end_logits = create_v1_model(
        albert_config=albert_config,
        is_training=(mode == tf.estimator.ModeKeys.TRAIN),
        input_ids=features["input_ids"],
        input_mask=features["input_mask"],
        segment_ids=features["segment_ids"],
        use_one_hot_embeddings=use_one_hot_embeddings,
        use_einsum=use_einsum,
        hub_module=hub_module)
    if mode == tf.estimator.ModeKeys.PREDICT:
      predictions = _with_unique_ids(features, {
          "start_log_prob": start_logits,
          "end_log_prob": end_logits,
      })
      return task_model.HeadOutputs(None, predictions, None)
    seq_length = modeling.get_shape_list(features["input_ids"])[1]
    loss = v1_loss(start_logits, end_logits, features["start_positions"],
                   features["end_positions"], seq_length)
    return task_model.HeadOutputs(loss, None, None)

  return task_model.model_fn_builder(
      build_head, init_checkpoint, learning_rate, num_train_steps,
      num_warmup_steps, use_tpu, optimizer=optimizer, hub_module=hub_module,
      new_variable_prefixes=V1_VARIABLE_PREFIXES,
      log_every_n_steps=log_every_n_steps)


# SQuAD v2 -------------------------------------------------------------------


def _end_logits(sequence_output, start_features, initializer):
  """The end scorer given start states: dense_0 (tanh), LayerNorm, dense_1.

  Args:
    sequence_output: float Tensor [..., S, H]; the candidate end states.
    start_features: float Tensor [..., H], one start state per leading
      index, paired with every end position.
    initializer: kernel initializer.

  Returns:
    float Tensor [..., S] of unmasked end logits.
  """
  seq_length = modeling.get_shape_list(sequence_output)[-2]
  tiled_start = tf.tile(tf.expand_dims(start_features, -2),
                        [1] * (start_features.shape.ndims - 1) +
                        [seq_length, 1])
  # [end state, start state]: the release's order, which the kernel's
  # row layout depends on.
  end_input = tf.concat([sequence_output, tiled_start], axis=-1)
  hidden_size = _static_width(sequence_output)
  hidden = _dense(end_input, hidden_size, "dense_0", initializer,
                  activation=tf.tanh)
  hidden = modeling.layer_norm(hidden, name="LayerNorm")
  logits = _dense(hidden, 1, "dense_1", initializer)
  return tf.squeeze(logits, -1)


def _build_v2_head(sequence_output, p_mask, gold_start_positions,
                   max_seq_length, start_n_top, end_n_top, dropout_prob,
                   is_training, initializer):
  """The v2 head on top of the encoder's sequence output.

  Args:
    sequence_output: float Tensor [B, S, H].
    p_mask: int Tensor [B, S]; 1 = cannot be an answer.
    gold_start_positions: int Tensor [B] to condition the end on the gold
      start (training outputs), or None for the start beam (prediction
      outputs).
    max_seq_length: S.
    start_n_top: K, beam size of starts.
    end_n_top: E, ends kept per start.
    dropout_prob: dropout in answer_class when training.
    is_training: apply dropout.
    initializer: kernel initializer.

  Returns:
    dict; see `create_v2_model`.
  """
  outputs = {}
  with tf.variable_scope("start_logits"):
    start_logits = tf.squeeze(
        _dense(sequence_output, 1, "dense", initializer), -1)
    start_logits_masked = mask_logits(start_logits, p_mask)
    start_log_probs = tf.nn.log_softmax(start_logits_masked, axis=-1)

  with tf.variable_scope("end_logits"):
    if gold_start_positions is not None:
      start_index = tf.one_hot(tf.reshape(gold_start_positions, [-1]),
                               depth=max_seq_length,
                               dtype=sequence_output.dtype)
      # [B, S] x [B, S, H] -> [B, H]: the hidden state at the gold start.
      start_features = tf.squeeze(
          tf.matmul(start_index[:, None, :], sequence_output), 1)
      end_logits = _end_logits(sequence_output, start_features, initializer)
      end_log_probs = tf.nn.log_softmax(mask_logits(end_logits, p_mask),
                                        axis=-1)
      outputs["start_log_probs"] = start_log_probs
      outputs["end_log_probs"] = end_log_probs
    else:
      start_top_log_probs, start_top_index = tf.nn.top_k(
          start_log_probs, k=start_n_top)
      start_index = tf.one_hot(start_top_index, depth=max_seq_length,
                               dtype=sequence_output.dtype)
      # [B, K, S] x [B, S, H] -> [B, K, H]: one state per candidate start.
      start_features = tf.matmul(start_index, sequence_output)
      candidate_ends = tf.tile(sequence_output[:, None],
                               [1, start_n_top, 1, 1])
      end_logits = _end_logits(candidate_ends, start_features, initializer)
      end_log_probs = tf.nn.log_softmax(
          mask_logits(end_logits, p_mask[:, None]), axis=-1)
      end_top_log_probs, end_top_index = tf.nn.top_k(end_log_probs,
                                                     k=end_n_top)
      # Flattened [B, K, E] -> [B, K*E]: entry i*E + j is the j-th best
      # end for the i-th best start.
      outputs["start_top_log_probs"] = start_top_log_probs
      outputs["start_top_index"] = start_top_index
      outputs["end_top_log_probs"] = tf.reshape(
          end_top_log_probs, [-1, start_n_top * end_n_top])
      outputs["end_top_index"] = tf.reshape(
          end_top_index, [-1, start_n_top * end_n_top])

  with tf.variable_scope("answer_class"):
    # The expected start state under the start distribution, then [CLS]:
    # no end dependence, so each window gets exactly one cls logit.
    start_p = tf.nn.softmax(start_logits_masked, axis=-1)
    start_feature = tf.squeeze(
        tf.matmul(start_p[:, None, :], sequence_output), 1)
    cls_feature = sequence_output[:, 0]
    ans_feature = tf.concat([start_feature, cls_feature], axis=-1)
    hidden_size = _static_width(sequence_output)
    ans_feature = _dense(ans_feature, hidden_size, "dense_0", initializer,
                         activation=tf.tanh)
    if is_training:
      ans_feature = modeling.dropout(ans_feature, dropout_prob)
    cls_logits = _dense(ans_feature, 1, "dense_1", initializer,
                        use_bias=False)
    outputs["cls_logits"] = tf.squeeze(cls_logits, -1)
  return outputs


def _v2_outputs(albert_config, is_training, input_ids, input_mask,
                segment_ids, use_one_hot_embeddings, features,
                max_seq_length, start_n_top, end_n_top, dropout_prob,
                hub_module, use_einsum, condition_on_gold):
  """Encoder + v2 head; `create_v2_model` with the end mode chosen apart.

  Args:
    (as `create_v2_model`), and
    condition_on_gold: True for the training outputs (needs
      features["start_positions"]), False for the beam outputs.

  Returns:
    dict; see `create_v2_model`.
  """
  _, sequence_output = fine_tuning_utils.create_albert(
      albert_config=albert_config,
      is_training=is_training,
      input_ids=input_ids,
      input_mask=input_mask,
      segment_ids=segment_ids,
      use_one_hot_embeddings=use_one_hot_embeddings,
      use_einsum=use_einsum,
      hub_module=hub_module)
  seq_length = modeling.get_shape_list(sequence_output, expected_rank=3)[1]
  if isinstance(seq_length, int) and seq_length != max_seq_length:
    raise ValueError("max_seq_length is %d but the inputs have length %d" %
                     (max_seq_length, seq_length))
  if "p_mask" in features:
    p_mask = features["p_mask"]
  else:
    p_mask = derive_p_mask(input_mask, segment_ids)
  gold_start = None
  if condition_on_gold:
    if "start_positions" not in features:
      raise ValueError("The SQuAD v2 training head needs the feature "
                       "start_positions (got %s)" % sorted(features))
    gold_start = features["start_positions"]
  return _build_v2_head(
      sequence_output, p_mask, gold_start, max_seq_length, start_n_top,
      end_n_top, dropout_prob, is_training,
      modeling.create_initializer(_initializer_range(albert_config)))


def create_v2_model(albert_config, is_training, input_ids, input_mask,
                    segment_ids, use_one_hot_embeddings, features,
                    max_seq_length, start_n_top, end_n_top, dropout_prob,
                    hub_module=None, use_einsum=True):
  """The released SQuAD v2 head (XLNet style) on the ALBERT encoder.

  Start logits come from `start_logits/dense`; end logits from
  `end_logits/{dense_0, LayerNorm, dense_1}` applied to [end state, start
  state]; both are masked with p_mask before log_softmax. `answer_class`
  scores "no answer in this window" from the expected start state and the
  [CLS] state.

  Args:
    albert_config: `AlbertConfig` (None with a hub module).
    is_training: training outputs (end conditioned on the gold start) and
      dropout; otherwise the beam outputs.
    input_ids: int32 Tensor [B, S].
    input_mask: int32 Tensor [B, S].
    segment_ids: int32 Tensor [B, S].
    use_one_hot_embeddings: one-hot embedding lookups (TPU).
    features: dict of feature Tensors: "p_mask" [B, S] (1 = cannot be an
      answer; derived with `derive_p_mask` when absent, as in a
      SavedModel request) and, when training, "start_positions" [B].
    max_seq_length: S.
    start_n_top: K, the number of best starts kept at prediction.
    end_n_top: E, the number of best ends kept per start.
    dropout_prob: dropout in answer_class, when training.
    hub_module: (optional) TF-Hub module handle or path.
    use_einsum: einsum or matmul-only dense layers in the encoder.

  Returns:
    dict. Training: "start_log_probs" [B, S], "end_log_probs" [B, S],
    "cls_logits" [B]. Prediction: "start_top_log_probs" [B, K],
    "start_top_index" [B, K], "end_top_log_probs" [B, K*E],
    "end_top_index" [B, K*E] (entry i*E + j: the j-th end for start i),
    "cls_logits" [B].
  """
  return _v2_outputs(albert_config, is_training, input_ids, input_mask,
                     segment_ids, use_one_hot_embeddings, features,
                     max_seq_length, start_n_top, end_n_top, dropout_prob,
                     hub_module, use_einsum, condition_on_gold=is_training)


def v2_loss(outputs, features, seq_length):
  """The v2 training loss.

  Args:
    outputs: training outputs of `create_v2_model` ("start_log_probs",
      "end_log_probs" [B, S], "cls_logits" [B]).
    features: dict with "start_positions", "end_positions" and
      "is_impossible" [B] (per window).
    seq_length: S.

  Returns:
    float scalar: 0.5 * (CE_start + CE_end) + 0.5 * mean sigmoid
    cross-entropy of cls_logits against is_impossible.
  """
  start_loss = _position_cross_entropy(outputs["start_log_probs"],
                                       features["start_positions"],
                                       seq_length)
  end_loss = _position_cross_entropy(outputs["end_log_probs"],
                                     features["end_positions"], seq_length)
  cls_logits = outputs["cls_logits"]
  is_impossible = tf.cast(tf.reshape(features["is_impossible"], [-1]),
                          cls_logits.dtype)
  cls_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
      labels=is_impossible, logits=cls_logits))
  return 0.5 * (start_loss + end_loss) + 0.5 * cls_loss


_V2_PREDICTION_KEYS = ("start_top_log_probs", "start_top_index",
                       "end_top_log_probs", "end_top_index", "cls_logits")


def v2_model_fn_builder(albert_config, init_checkpoint, learning_rate,
                        num_train_steps, num_warmup_steps, use_tpu,
                        use_one_hot_embeddings, max_seq_length, start_n_top,
                        end_n_top, dropout_prob, hub_module=None,
                        use_einsum=True, optimizer="adamw",
                        log_every_n_steps=100):
  """The TPUEstimator model_fn of SQuAD v2.

  Args:
    albert_config: `AlbertConfig` (None with a hub module).
    init_checkpoint: (optional) pretrained checkpoint; start_logits/,
      end_logits/ and answer_class/ are new.
    learning_rate: peak learning rate.
    num_train_steps: total optimizer steps.
    num_warmup_steps: linear warmup steps.
    use_tpu: running on TPU.
    use_one_hot_embeddings: one-hot embedding lookups (TPU).
    max_seq_length: S.
    start_n_top: K, starts kept at prediction.
    end_n_top: E, ends kept per start.
    dropout_prob: dropout in answer_class, when training.
    hub_module: (optional) TF-Hub module handle or path.
    use_einsum: einsum or matmul-only dense layers in the encoder.
    optimizer: "adamw" or "lamb".
    log_every_n_steps: loss/throughput logging interval (CPU/GPU).

  Returns:
    model_fn(features, labels, mode, params). TRAIN and EVAL (the training
    outputs without dropout) need start_positions, end_positions and
    is_impossible; PREDICT gives the beam outputs of `create_v2_model`,
    plus "unique_ids" when the features have them.
  """

  def build_head(features, mode, params):  # pylint: disable=unused-argument
    """`task_model.HeadOutputs` of the v2 head."""
    is_training = (mode == tf.estimator.ModeKeys.TRAIN)
    predicting = (mode == tf.estimator.ModeKeys.PREDICT)
    outputs = _v2_outputs(
        albert_config, is_training, features["input_ids"],
        features["input_mask"], features["segment_ids"],
        use_one_hot_embeddings, features, max_seq_length, start_n_top,
        end_n_top, dropout_prob, hub_module, use_einsum,
        condition_on_gold=not predicting)
    if predicting:
      predictions = _with_unique_ids(
          features, {key: outputs[key] for key in _V2_PREDICTION_KEYS})
      return task_model.HeadOutputs(None, predictions, None)
    loss = v2_loss(outputs, features, max_seq_length)
    return task_model.HeadOutputs(loss, None, None)

  return task_model.model_fn_builder(
      build_head, init_checkpoint, learning_rate, num_train_steps,
      num_warmup_steps, use_tpu, optimizer=optimizer, hub_module=hub_module,
      new_variable_prefixes=V2_VARIABLE_PREFIXES,
      log_every_n_steps=log_every_n_steps)
