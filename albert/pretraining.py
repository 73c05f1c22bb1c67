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
"""Pretraining: masked-LM and sentence-order heads, input and model_fn.

`run_pretraining` is the command line over these. The heads' variables are
the released ones: `cls/predictions/transform/dense`,
`cls/predictions/transform/LayerNorm`, `cls/predictions/output_bias` (the
decoder reuses the word-embedding table), `cls/seq_relationship/...`.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import dropout_seeds
from albert import estimators
from albert import input_pipeline
from albert import modeling
from albert import optimization

# The data files keep BERT's feature name `next_sentence_labels`; for ALBERT
# it holds sentence-order labels (1 = the two segments were swapped).
PRETRAINING_FEATURES = ("input_ids", "input_mask", "segment_ids",
                        "masked_lm_positions", "masked_lm_ids",
                        "masked_lm_weights", "next_sentence_labels")


def gather_indexes(sequence_tensor, positions):
  """Gathers the vectors at `positions` of every sequence in the batch.

  Args:
    sequence_tensor: float Tensor [B, S, W].
    positions: int Tensor [B, P] of positions within each sequence.

  Returns:
    float Tensor [B * P, W].
  """
  sequence_shape = modeling.get_shape_list(sequence_tensor, expected_rank=3)
  batch_size = sequence_shape[0]
  seq_length = sequence_shape[1]
  width = sequence_shape[2]
  # Offsets turn per-sequence positions into rows of the flattened batch.
  flat_offsets = tf.reshape(
      tf.range(0, batch_size, dtype=tf.int32) * seq_length, [-1, 1])
  flat_positions = tf.reshape(tf.cast(positions, tf.int32) + flat_offsets,
                              [-1])
  flat_sequence_tensor = tf.reshape(sequence_tensor,
                                    [batch_size * seq_length, width])
  return tf.gather(flat_sequence_tensor, flat_positions)


def get_masked_lm_logits(albert_config, input_tensor, output_weights,
                         positions):
  """The masked-LM head: logits over the vocabulary at masked positions.

  Hidden states at `positions` go through a dense layer to the embedding
  width E and a LayerNorm, then are scored against the word embedding table
  (tied decoder) plus a per-token output bias. The pretraining loss and the
  hub module's "mlm" signature both use this, under the released names
  cls/predictions/{transform/dense, transform/LayerNorm, output_bias}.

  Args:
    albert_config: `AlbertConfig`.
    input_tensor: float Tensor [B, S, H], the encoder output.
    output_weights: float Tensor [V, E], the word-embedding table.
    positions: int Tensor [B, P] of masked positions.

  Returns:
    float Tensor [B * P, V] of logits.
  """
  input_tensor = gather_indexes(input_tensor, positions)  # [B*P, H]
  with tf.variable_scope("cls/predictions"):
    with tf.variable_scope("transform"):
      input_tensor = modeling.dense(
          input_tensor,
          albert_config.embedding_size,
          activation=modeling.get_activation(albert_config.hidden_act),
          initializer=modeling.create_initializer(
              albert_config.initializer_range),
          name="dense")  # [B*P, E]
      input_tensor = modeling.layer_norm(input_tensor)
    output_bias = tf.get_variable(
        "output_bias",
        shape=[albert_config.vocab_size],
        initializer=tf.zeros_initializer())
    logits = tf.matmul(input_tensor, output_weights, transpose_b=True)
    return tf.nn.bias_add(logits, output_bias)  # [B*P, V]


def get_masked_lm_output(albert_config, input_tensor, output_weights,
                         positions, label_ids, label_weights):
  """The masked-LM head and its loss.

  Args:
    albert_config: `AlbertConfig`.
    input_tensor: float Tensor [B, S, H], the encoder output.
    output_weights: float Tensor [V, E], the word-embedding table.
    positions: int Tensor [B, P] of masked positions.
    label_ids: int Tensor [B, P] of the original token ids.
    label_weights: float Tensor [B, P]; 1 for real predictions, 0 padding.

  Returns:
    (masked_lm_loss scalar, per-prediction loss [B * P],
     log_probs [B * P, V]).
  """
  logits = get_masked_lm_logits(albert_config, input_tensor, output_weights,
                                positions)  # [B*P, V]
  log_probs = tf.nn.log_softmax(logits, axis=-1)
  label_ids = tf.reshape(label_ids, [-1])
  label_weights = tf.reshape(tf.cast(label_weights, tf.float32), [-1])
  one_hot_labels = tf.one_hot(label_ids, depth=albert_config.vocab_size,
                              dtype=tf.float32)
  per_example_loss = -tf.reduce_sum(log_probs * one_hot_labels, axis=[-1])
  # Padding predictions (weight 0) must not count; the epsilon keeps a batch
  # without predictions finite.
  numerator = tf.reduce_sum(label_weights * per_example_loss)
  denominator = tf.reduce_sum(label_weights) + 1e-5
  loss = numerator / denominator
  return (loss, per_example_loss, log_probs)


def get_sentence_order_log_probs(albert_config, input_tensor):
  """The sentence-order prediction head (cls/seq_relationship).

  Args:
    albert_config: `AlbertConfig`.
    input_tensor: float Tensor [B, H], the pooled output.

  Returns:
    float Tensor [B, 2]: log-probabilities of in order (0) and swapped (1).
  """
  with tf.variable_scope("cls/seq_relationship"):
    output_weights = tf.get_variable(
        "output_weights",
        shape=[2, albert_config.hidden_size],
        initializer=modeling.create_initializer(
            albert_config.initializer_range))
    output_bias = tf.get_variable(
        "output_bias", shape=[2], initializer=tf.zeros_initializer())
    logits = tf.matmul(input_tensor, output_weights, transpose_b=True)
    logits = tf.nn.bias_add(logits, output_bias)  # [B, 2]
    return tf.nn.log_softmax(logits, axis=-1)


def get_sentence_order_output(albert_config, input_tensor, labels):
  """The sentence-order prediction head and its loss.

  Args:
    albert_config: `AlbertConfig`.
    input_tensor: float Tensor [B, H], the pooled output.
    labels: int Tensor [B] or [B, 1]; 1 when the segments were swapped.

  Returns:
    (sentence_order_loss scalar, per-example loss [B], log_probs [B, 2]).
  """
  log_probs = get_sentence_order_log_probs(albert_config, input_tensor)
  with tf.variable_scope("cls/seq_relationship"):
    labels = tf.reshape(labels, [-1])
    one_hot_labels = tf.one_hot(labels, depth=2, dtype=tf.float32)
    per_example_loss = -tf.reduce_sum(one_hot_labels * log_probs, axis=-1)
    loss = tf.reduce_mean(per_example_loss)
  return (loss, per_example_loss, log_probs)


def metric_fn(masked_lm_example_loss, masked_lm_log_probs, masked_lm_ids,
              masked_lm_weights, sentence_order_example_loss,
              sentence_order_log_probs, sentence_order_labels):
  """Eval metrics: MLM and SOP accuracy and mean loss.

  Args:
    masked_lm_example_loss: [B * P] per-prediction loss.
    masked_lm_log_probs: [B * P, V].
    masked_lm_ids: [B, P] labels.
    masked_lm_weights: [B, P] weights.
    sentence_order_example_loss: [B].
    sentence_order_log_probs: [B, 2].
    sentence_order_labels: [B] or [B, 1].

  Returns:
    dict of metric name to (value, update_op).
  """
  masked_lm_log_probs = tf.reshape(
      masked_lm_log_probs, [-1, masked_lm_log_probs.shape[-1]])
  masked_lm_predictions = tf.argmax(masked_lm_log_probs, axis=-1,
                                    output_type=tf.int32)
  masked_lm_example_loss = tf.reshape(masked_lm_example_loss, [-1])
  masked_lm_ids = tf.reshape(masked_lm_ids, [-1])
  masked_lm_weights = tf.reshape(masked_lm_weights, [-1])
  masked_lm_accuracy = tf.metrics.accuracy(
      labels=masked_lm_ids, predictions=masked_lm_predictions,
      weights=masked_lm_weights)
  masked_lm_mean_loss = tf.metrics.mean(
      values=masked_lm_example_loss, weights=masked_lm_weights)

  sentence_order_predictions = tf.argmax(
      sentence_order_log_probs, axis=-1, output_type=tf.int32)
  sentence_order_labels = tf.reshape(sentence_order_labels, [-1])
  sentence_order_accuracy = tf.metrics.accuracy(
      labels=sentence_order_labels, predictions=sentence_order_predictions)
  sentence_order_mean_loss = tf.metrics.mean(
      values=sentence_order_example_loss)
  return {
      "masked_lm_accuracy": masked_lm_accuracy,
      "masked_lm_loss": masked_lm_mean_loss,
      "sentence_order_accuracy": sentence_order_accuracy,
      "sentence_order_loss": sentence_order_mean_loss,
  }


def model_fn_builder(albert_config, init_checkpoint, learning_rate,
                     num_train_steps, num_warmup_steps, use_tpu,
                     use_one_hot_embeddings, optimizer="lamb",
                     poly_power=1.0, start_warmup_step=0,
                     init_from_group0=False, log_every_n_steps=100):
  """Returns a TPUEstimator model_fn for MLM + SOP pretraining.

  Args:
    albert_config: `AlbertConfig`.
    init_checkpoint: (optional) checkpoint to start from.
    learning_rate: peak learning rate.
    num_train_steps: total steps (the schedule decays to 0 there).
    num_warmup_steps: linear warmup steps.
    use_tpu: whether running on TPU.
    use_one_hot_embeddings: one-hot embedding lookups (TPU).
    optimizer: "lamb" or "adamw".
    poly_power: power of the polynomial decay.
    start_warmup_step: step at which warmup starts.
    init_from_group0: initialise every group from the checkpoint's group_0.
    log_every_n_steps: throughput/loss logging interval (CPU/GPU).

  Returns:
    model_fn(features, labels, mode, params); params (see
    `estimators.model_params`) carry --precision, --use_xla and
    --gradient_accumulation_steps.
  """

  def model_fn(features, labels, mode, params):
    """The `model_fn` for TPUEstimator."""
    del labels  # Everything is in `features`.
    tf.logging.info("*** Features ***")
    for name in sorted(features.keys()):
      tf.logging.info("  name = %s, shape = %s", name, features[name].shape)

    is_training = (mode == tf.estimator.ModeKeys.TRAIN)
    precision = params.get("precision", "fp32")
    use_xla = params.get("use_xla", False)
    with estimators.compilation_scope(use_xla), dropout_seeds.for_training(
        is_training, params):
      model = modeling.AlbertModel(
          config=albert_config,
          is_training=is_training,
          input_ids=features["input_ids"],
          input_mask=features["input_mask"],
          token_type_ids=features["segment_ids"],
          use_one_hot_embeddings=use_one_hot_embeddings,
          compute_dtype=modeling.compute_dtype_of(precision),
          hand_written_gradients=True)

      (masked_lm_loss, masked_lm_example_loss,
       masked_lm_log_probs) = get_masked_lm_output(
           albert_config, model.get_sequence_output(),
           model.get_embedding_table(), features["masked_lm_positions"],
           features["masked_lm_ids"], features["masked_lm_weights"])
      (sentence_order_loss, sentence_order_example_loss,
       sentence_order_log_probs) = get_sentence_order_output(
           albert_config, model.get_pooled_output(),
           features["next_sentence_labels"])
      total_loss = masked_lm_loss + sentence_order_loss

    tvars = tf.trainable_variables()
    num_of_group = albert_config.num_hidden_groups if init_from_group0 else 0
    scaffold_fn, initialized = checkpoints.init_from_checkpoint(
        init_checkpoint, tvars, use_tpu=use_tpu, num_of_group=num_of_group)
    checkpoints.log_variables(tvars, initialized)

    if mode == tf.estimator.ModeKeys.TRAIN:
      accumulation_steps = params.get("gradient_accumulation_steps", 1)
      with estimators.compilation_scope(use_xla):
        train_op = optimization.create_optimizer(
            total_loss, learning_rate, num_train_steps, num_warmup_steps,
            use_tpu, optimizer, poly_power, start_warmup_step,
            gradient_accumulation_steps=accumulation_steps,
            precision=precision)
      return estimators.train_spec(total_loss, train_op,
                                   estimators.train_batch_size_of(params),
                                   num_train_steps, use_tpu, log_every_n_steps,
                                   scaffold_fn, accumulation_steps)
    if mode == tf.estimator.ModeKeys.EVAL:
      eval_metrics = (metric_fn, [
          masked_lm_example_loss, masked_lm_log_probs,
          features["masked_lm_ids"], features["masked_lm_weights"],
          sentence_order_example_loss, sentence_order_log_probs,
          features["next_sentence_labels"]
      ])
      return tf.estimator.tpu.TPUEstimatorSpec(
          mode=mode, loss=total_loss, eval_metrics=eval_metrics,
          scaffold_fn=scaffold_fn)
    raise ValueError("Only TRAIN and EVAL modes are supported: %s" % mode)

  return model_fn


def name_to_features(max_seq_length, max_predictions_per_seq):
  """The parsing spec of a pretraining tf.train.Example."""
  return {
      "input_ids": tf.FixedLenFeature([max_seq_length], tf.int64),
      "input_mask": tf.FixedLenFeature([max_seq_length], tf.int64),
      "segment_ids": tf.FixedLenFeature([max_seq_length], tf.int64),
      "masked_lm_positions":
          tf.FixedLenFeature([max_predictions_per_seq], tf.int64),
      "masked_lm_ids": tf.FixedLenFeature([max_predictions_per_seq], tf.int64),
      "masked_lm_weights":
          tf.FixedLenFeature([max_predictions_per_seq], tf.float32),
      "next_sentence_labels": tf.FixedLenFeature([1], tf.int64),
  }


def input_fn_builder(input_files, max_seq_length, max_predictions_per_seq,
                     is_training, num_cpu_threads=4, record_counts=None):
  """Returns an input_fn reading pretraining TFRecords for TPUEstimator.

  Training reads epoch after epoch from the params' `DataPosition` (see
  `input_pipeline.epochs_dataset`), each epoch's files and records
  shuffled as released; eval reads the files once in order. Batches drop
  the remainder, as TPUs need static shapes.

  Args:
    input_files: list of TFRecord paths.
    max_seq_length: length of the int features.
    max_predictions_per_seq: length of the masked-LM features.
    is_training: read epochs and shuffle.
    num_cpu_threads: files read in parallel.
    record_counts: (optional) records of each input file, when the caller
      counted them (`check_pretraining_file`); else counted when training.

  Returns:
    input_fn(params) -> tf.data.Dataset of feature dicts.
  """
  spec = name_to_features(max_seq_length, max_predictions_per_seq)

  def input_fn(params):
    """The actual input function."""
    batch_size = input_pipeline.batch_size_of(params)
    if is_training:
      counts = record_counts or [input_pipeline.record_count(path)
                                 for path in input_files]
      d = _training_records(input_files, counts, params, num_cpu_threads)
    else:
      d = tf.data.TFRecordDataset(input_files)
    # Batching the serialized records first parses a whole batch per op.
    d = d.batch(batch_size, drop_remainder=True)
    d = d.map(lambda records: input_pipeline.decode_batch(records, spec),
              num_parallel_calls=tf.data.experimental.AUTOTUNE)
    return d.prefetch(tf.data.experimental.AUTOTUNE)

  return input_fn


def _training_records(input_files, record_counts, params, num_cpu_threads):
  """This machine's endless stream of serialized pretraining records.

  With at least as many files as machines each machine reads its share of
  the files, in an order shuffled each epoch, `num_cpu_threads` at a time
  interleaved (deterministically: a resumed run must see the same order);
  with fewer, each reads every file and keeps its share of the records.
  Either way the records then go through a 100-record shuffle buffer.
  """
  what = "input_file (%d files)" % len(input_files)
  if len(input_files) < input_pipeline.num_shards_of(params):
    return input_pipeline.training_records(input_files, params, 100, what)
  index, count = params.get(input_pipeline.INPUT_SHARD, (0, 1))
  files = input_files[index::count]
  cycle_length = min(num_cpu_threads, len(files))

  def epoch_fn(epoch):
    d = tf.data.Dataset.from_tensor_slices(tf.constant(files))
    d = input_pipeline.shuffle_epoch(d, len(files), epoch, 0)
    d = d.interleave(tf.data.TFRecordDataset, cycle_length=cycle_length,
                     num_parallel_calls=tf.data.experimental.AUTOTUNE,
                     deterministic=True)
    return input_pipeline.shuffle_epoch(d, 100, epoch, 1)

  return input_pipeline.epochs_dataset(
      epoch_fn, sum(record_counts[index::count]),
      input_pipeline.position_of(params), what)


def expand_input_files(patterns):
  """Comma-separated globs -> sorted file list; error naming empty globs.

  Hidden files and temporary names (`*.tmp-<pid>`, left by a killed
  writer) are skipped with a warning: they are never complete data.
  """
  input_files = []
  for pattern in patterns.split(","):
    pattern = pattern.strip()
    if not pattern:
      continue
    matches = tf.gfile.Glob(pattern)
    skipped = [m for m in matches if input_pipeline.is_temporary_name(m)]
    if skipped:
      tf.logging.warning("input_file %s: skipping %d temporary or hidden "
                         "file(s), e.g. %s", pattern, len(skipped), skipped[0])
    matches = [m for m in matches if m not in skipped]
    if not matches:
      raise ValueError("input_file pattern %s matches no file" % pattern)
    input_files.extend(sorted(matches))
  if not input_files:
    raise ValueError("input_file is empty: give one or more TFRecord files")
  return input_files


def check_pretraining_file(path, max_seq_length, max_predictions_per_seq,
                           albert_config=None):
  """Fails clearly if a TFRecord does not fit the flags (and the config).

  Reads the first record and compares its features with what the model
  will parse, so a mismatch is reported by name before training starts
  instead of as a parse error deep inside the input pipeline.

  Args:
    path: TFRecord file.
    max_seq_length: expected length of the sequence features.
    max_predictions_per_seq: expected length of the masked-LM features.
    albert_config: (optional) `AlbertConfig`: the first record's token and
      segment ids must fit its vocab_size and type_vocab_size (an id past
      the embedding table fails deep in a session on CPU and silently reads
      zeros on GPU/TPU).

  Returns:
    The file's number of records.

  Raises:
    ValueError: the file is empty, unreadable, truncated, or
      lengths/features differ.
  """
  if tf.io.gfile.isdir(path):
    raise ValueError("input_file %s is a directory; give files or a glob "
                     "such as %s/*.tfrecord" % (path, path))
  num_records = input_pipeline.check_tfrecord_framing(path)
  try:
    record = next(iter(tf.io.tf_record_iterator(path)), None)
  except tf.errors.OpError as e:
    raise ValueError("input_file %s is not a readable TFRecord file: %s" %
                     (path, e.message))
  if record is None:
    raise ValueError("input_file %s holds no records" % path)
  example = tf.train.Example.FromString(record)
  feature_map = example.features.feature
  expected = {
      "input_ids": ("max_seq_length", max_seq_length),
      "input_mask": ("max_seq_length", max_seq_length),
      "segment_ids": ("max_seq_length", max_seq_length),
      "masked_lm_positions":
          ("max_predictions_per_seq", max_predictions_per_seq),
      "masked_lm_ids": ("max_predictions_per_seq", max_predictions_per_seq),
      "masked_lm_weights":
          ("max_predictions_per_seq", max_predictions_per_seq),
      "next_sentence_labels": (None, 1),
  }
  for name, (flag, length) in expected.items():
    if name not in feature_map:
      raise ValueError("input_file %s has no feature %r; is it pretraining "
                       "data from create_pretraining_data? It has: %s" %
                       (path, name, sorted(feature_map.keys())))
    feature = feature_map[name]
    values = (feature.int64_list.value or feature.float_list.value)
    if len(values) != length:
      raise ValueError(
          "input_file %s: feature %s has length %d but %s is %d; pass the "
          "value the data was created with" %
          (path, name, len(values), flag or "the released format", length))
  if albert_config is not None:
    ids = (list(feature_map["input_ids"].int64_list.value) +
           list(feature_map["masked_lm_ids"].int64_list.value))
    albert_config.check_num_token_ids(max(ids) + 1, "input_file %s" % path,
                                      exact=False)
    segments = feature_map["segment_ids"].int64_list.value
    if segments and max(segments) >= albert_config.type_vocab_size:
      raise ValueError(
          "input_file %s holds segment id %d but the config's "
          "type_vocab_size is %d" %
          (path, max(segments), albert_config.type_vocab_size))
  return num_records
