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
"""The ALBERT model: factorized embeddings and a cross-layer-shared encoder.

Variable names and shapes are those of the released ALBERT checkpoints
(`bert/embeddings/...`, `bert/encoder/transformer/group_g/inner_group_k/...`,
`bert/pooler/...`), so released checkpoints load unchanged and converters
written for them read ours.

Shape letters used in comments:
  B = batch size, F = "from" (query) length, T = "to" (key) length,
  S = sequence length, V = vocab size, E = embedding size, H = hidden size,
  N = attention heads, D = size per head (H / N), I = intermediate size.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import contextlib
import copy
import difflib
import json
import math
import re

import numpy as np
import six
import tensorflow.compat.v1 as tf

from albert import dropout_seeds
from albert import layer_ops


class AlbertConfigError(ValueError):
  """An albert_config.json (or dict) that cannot describe the model."""


def load_albert_config(albert_config_file, max_seq_length):
  """The validated `AlbertConfig` of a file, checked against max_seq_length.

  Raises:
    ValueError: the config is invalid, or max_seq_length exceeds its
      max_position_embeddings.
  """
  albert_config = AlbertConfig.from_json_file(albert_config_file)
  albert_config.validate()
  if max_seq_length > albert_config.max_position_embeddings:
    raise ValueError(
        "--max_seq_length=%d is longer than max_position_embeddings=%d of "
        "--albert_config_file=%s" %
        (max_seq_length, albert_config.max_position_embeddings,
         albert_config_file))
  tf.logging.info("Effective config (%s): %s", albert_config_file,
                  albert_config.describe())
  return albert_config


class VocabSizeMismatchError(ValueError):
  """A vocabulary or data whose token ids do not fit the config's vocab_size."""


# Keys every released albert_config.json sets that fix the architecture and
# the shapes of the checkpoint's variables. A file without one of them would
# otherwise get the ALBERT-xxlarge default and train or load a model of
# another size without a word.
REQUIRED_KEYS = ("vocab_size", "embedding_size", "hidden_size",
                 "num_hidden_layers", "num_attention_heads",
                 "intermediate_size", "max_position_embeddings",
                 "type_vocab_size")

# The JSON type of every key the model reads; the ones not in REQUIRED_KEYS
# take the release's value when absent.
_KEY_TYPES = collections.OrderedDict([
    ("vocab_size", "integer"),
    ("embedding_size", "integer"),
    ("hidden_size", "integer"),
    ("num_hidden_layers", "integer"),
    ("num_hidden_groups", "integer"),
    ("num_attention_heads", "integer"),
    ("intermediate_size", "integer"),
    ("inner_group_num", "integer"),
    ("down_scale_factor", "integer"),
    ("hidden_act", "string"),
    ("hidden_dropout_prob", "number"),
    ("attention_probs_dropout_prob", "number"),
    ("max_position_embeddings", "integer"),
    ("type_vocab_size", "integer"),
    ("initializer_range", "number"),
    ("net_structure_type", "integer"),
    ("gap_size", "integer"),
    ("num_memory_blocks", "integer"),
])

# Keys of released configs that this model does not use; kept without a
# warning.
_KNOWN_UNUSED_KEYS = ("layers_to_keep",)


def _json_type_name(value):
  """How a JSON reader would name value's type, for messages."""
  if value is None:
    return "null"
  if isinstance(value, bool):
    return "the boolean %s" % ("true" if value else "false")
  if isinstance(value, six.string_types):
    return "the string %s" % json.dumps(value)
  if isinstance(value, (list, tuple)):
    return "a list"
  if isinstance(value, dict):
    return "an object"
  return "%r" % (value,)


def _has_json_type(value, expected):
  """True if value is of the JSON type expected (bools are no numbers)."""
  if isinstance(value, bool):
    return False
  if expected == "integer":
    return isinstance(value, six.integer_types)
  if expected == "number":
    return (isinstance(value, six.integer_types + (float,)) and
            math.isfinite(value))
  return isinstance(value, six.string_types)


def _unknown_key_message(key):
  """'unknown key ...', with the closest known key when one is close."""
  close = difflib.get_close_matches(
      key, list(_KEY_TYPES) + list(_KNOWN_UNUSED_KEYS), n=1, cutoff=0.7)
  return "unknown key %r%s" % (
      key, " (did you mean %r?)" % close[0] if close else "")


def _warn_unknown_keys(extra, source):
  """Logs one warning naming each key the model does not read."""
  for key in sorted(extra):
    if key not in _KNOWN_UNUSED_KEYS:
      tf.logging.warning("%s: %s; it is kept but the model does not use it",
                         source, _unknown_key_message(key))


class _RepeatedKeyError(ValueError):
  """A JSON object sets the same key twice."""


def _no_repeated_keys(pairs):
  """json object_pairs_hook: a dict, or _RepeatedKeyError on a repeat."""
  result = {}
  for key, value in pairs:
    if key in result:
      raise _RepeatedKeyError(key)
    result[key] = value
  return result


class AlbertConfig(object):
  """Configuration of an `AlbertModel`: the keys of `albert_config.json`.

  Read from a file or dict (`from_json_file`, `from_dict`), a config must set
  every key in `REQUIRED_KEYS`, with values of the right JSON type; the
  other known keys default to the release's values. Keys the model does not
  know are warned about by name and kept (in `extra`), and `to_dict` writes
  them back, so a config read and re-written loses nothing.
  """

  def __init__(self,
               vocab_size,
               embedding_size=128,
               hidden_size=4096,
               num_hidden_layers=12,
               num_hidden_groups=1,
               num_attention_heads=64,
               intermediate_size=16384,
               inner_group_num=1,
               down_scale_factor=1,
               hidden_act="gelu",
               hidden_dropout_prob=0,
               attention_probs_dropout_prob=0,
               max_position_embeddings=512,
               type_vocab_size=2,
               initializer_range=0.02,
               net_structure_type=0,
               gap_size=0,
               num_memory_blocks=0,
               **extra):
    """Constructs an AlbertConfig; defaults are those of ALBERT-xxlarge.

    Args:
      vocab_size: V, the number of token ids.
      embedding_size: E, the width of the (factorized) token embeddings.
      hidden_size: H, the width of the encoder.
      num_hidden_layers: L, how many times the shared layers are applied.
      num_hidden_groups: G, how many distinct parameter groups the L layers
        share; layer l uses group int(l * G / L).
      num_attention_heads: N; must divide hidden_size.
      intermediate_size: I, the width of the feed-forward layer.
      inner_group_num: how many attention+FFN blocks one group holds.
      down_scale_factor: kept for compatibility with released configs.
      hidden_act: "gelu", "relu", "linear", "tanh" or "swish".
      hidden_dropout_prob: dropout on embeddings and sublayer outputs.
      attention_probs_dropout_prob: dropout on attention probabilities.
      max_position_embeddings: P, the longest sequence the model accepts.
      type_vocab_size: T, the number of segment (token type) ids.
      initializer_range: stddev of the truncated-normal initializer.
      net_structure_type: kept for compatibility with released configs.
      gap_size: kept for compatibility with released configs.
      num_memory_blocks: kept for compatibility with released configs.
      **extra: any other keys; kept and written back unchanged, with a
        warning naming each one the release did not have (a typo such as
        `hiddne_size` would otherwise leave hidden_size at its default).
    """
    self.vocab_size = vocab_size
    self.embedding_size = embedding_size
    self.hidden_size = hidden_size
    self.num_hidden_layers = num_hidden_layers
    self.num_hidden_groups = num_hidden_groups
    self.num_attention_heads = num_attention_heads
    self.intermediate_size = intermediate_size
    self.inner_group_num = inner_group_num
    self.down_scale_factor = down_scale_factor
    self.hidden_act = hidden_act
    self.hidden_dropout_prob = hidden_dropout_prob
    self.attention_probs_dropout_prob = attention_probs_dropout_prob
    self.max_position_embeddings = max_position_embeddings
    self.type_vocab_size = type_vocab_size
    self.initializer_range = initializer_range
    self.net_structure_type = net_structure_type
    self.gap_size = gap_size
    self.num_memory_blocks = num_memory_blocks
    _warn_unknown_keys(extra, "AlbertConfig")
    self.extra = dict(extra)

  @classmethod
  def from_dict(cls, json_object, source="ALBERT config"):
    """Constructs an `AlbertConfig` from a dict of albert_config.json keys.

    Args:
      json_object: dict of config keys; must hold every key in
        `REQUIRED_KEYS`.
      source: what the dict came from, to start messages with.

    Returns:
      `AlbertConfig`.

    Raises:
      AlbertConfigError: not a dict, a required key missing, or a value of
        the wrong type (e.g. the string "768" for hidden_size).
    """
    if not isinstance(json_object, dict):
      raise AlbertConfigError(
          "%s must be a JSON object of config keys, got %s" %
          (source, _json_type_name(json_object)))
    missing = [key for key in REQUIRED_KEYS if key not in json_object]
    if missing:
      unknown = [key for key in json_object if key not in _KEY_TYPES]
      typos = ["%r for %r" % (close[0], key) for key, close in (
          (key, difflib.get_close_matches(key, unknown, n=1, cutoff=0.7))
          for key in missing) if close]
      raise AlbertConfigError(
          "%s is missing required key(s) %s%s; every released "
          "albert_config.json sets %s" %
          (source, ", ".join(missing),
           " (a typo? it has %s)" % ", ".join(typos) if typos else "",
           ", ".join(REQUIRED_KEYS)))
    known, extra = {}, {}
    for key, value in json_object.items():
      expected = _KEY_TYPES.get(key)
      if expected is None:
        extra[key] = value
        continue
      if not _has_json_type(value, expected):
        raise AlbertConfigError(
            "%s: key %r must be %s %s, got %s" %
            (source, key, "an" if expected == "integer" else "a", expected,
             _json_type_name(value)))
      known[key] = value
    _warn_unknown_keys(extra, source)
    config = cls(**known)
    config.extra = copy.deepcopy(extra)
    return config

  @classmethod
  def from_json_file(cls, json_file):
    """Constructs a validated `AlbertConfig` from an albert_config.json.

    Raises:
      AlbertConfigError: one line naming the file and what is wrong: it is
        missing, not UTF-8 JSON, not an object, repeats a key, lacks a
        required key, has a value of the wrong type, or describes no
        working model (see `validate`).
    """
    source = "albert_config_file %s" % json_file
    if not tf.gfile.Exists(json_file):
      raise AlbertConfigError("albert_config_file not found: %s" % json_file)
    if tf.gfile.IsDirectory(json_file):
      raise AlbertConfigError("%s is a directory; expected the "
                              "albert_config.json file in it" % source)
    with tf.gfile.GFile(json_file, "rb") as reader:
      data = reader.read()
    try:
      text = data.decode("utf-8")
    except UnicodeDecodeError as e:
      raise AlbertConfigError("%s is not a UTF-8 JSON file (byte 0x%02x at "
                              "offset %d)" % (source, data[e.start], e.start))
    if not text.strip():
      raise AlbertConfigError("%s is empty; expected a JSON object of config "
                              "keys" % source)
    try:
      json_object = json.loads(text, object_pairs_hook=_no_repeated_keys)
    except _RepeatedKeyError as e:
      raise AlbertConfigError("%s: key %r is set twice; only one value can "
                              "be meant" % (source, e.args[0]))
    except ValueError as e:
      raise AlbertConfigError("%s is not valid JSON: %s" % (source, e))
    config = cls.from_dict(json_object, source=source)
    try:
      config.validate()
    except ValueError as e:
      raise AlbertConfigError("%s: %s" % (source, e))
    return config

  def to_dict(self):
    """Serializes this instance to a Python dictionary (extra keys kept)."""
    output = copy.deepcopy(self.__dict__)
    extra = output.pop("extra")
    output.update(extra)
    return output

  def to_json_string(self):
    """The full effective config (defaults included) as indented JSON."""
    return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

  def describe(self):
    """The full effective config as one log-friendly line of JSON."""
    return json.dumps(self.to_dict(), sort_keys=True)

  def check_num_token_ids(self, num_ids, source, exact=True):
    """Raises VocabSizeMismatchError if num_ids ids do not fit vocab_size.

    The embedding table has vocab_size rows. An id past its end has no row:
    on CPU the lookup fails deep in a session with an error that names no
    file; on GPU and TPU it silently reads zeros. A vocabulary smaller than
    the table is legitimate (tables are often padded, e.g. to a multiple
    of 128, and the release accepts it); it only leaves rows unused, so it
    gets a warning with both sizes.

    Args:
      num_ids: how many ids a vocabulary has (exact=True), or the largest id
        in some data plus one (exact=False).
      source: what the ids come from, for the message, e.g.
        "--spm_model_file=30k-clean.model".
      exact: num_ids is a whole vocabulary (warn when it is smaller than
        vocab_size) rather than the ids some data happen to use.
    """
    if num_ids > self.vocab_size:
      if exact:
        raise VocabSizeMismatchError(
            "%s has %d token ids but the config's vocab_size is %d; the "
            "vocabulary and the model do not belong together" %
            (source, num_ids, self.vocab_size))
      raise VocabSizeMismatchError(
          "%s holds token id %d but the config's vocab_size is %d (ids 0 to "
          "%d); was it made with another vocabulary?" %
          (source, num_ids - 1, self.vocab_size, self.vocab_size - 1))
    if exact and num_ids < self.vocab_size:
      tf.logging.warning(
          "%s has %d token ids, fewer than the config's vocab_size %d: the "
          "last %d rows of the embedding table are never used (fine for a "
          "padded table; otherwise check that this is the model's own "
          "vocabulary)", source, num_ids, self.vocab_size,
          self.vocab_size - num_ids)

  def validate(self):
    """Raises ValueError if the config cannot describe a working model."""
    for key in ("vocab_size", "embedding_size", "hidden_size",
                "num_hidden_layers", "num_hidden_groups", "inner_group_num",
                "num_attention_heads", "intermediate_size",
                "max_position_embeddings", "type_vocab_size"):
      value = getattr(self, key)
      # bool is an int to Python, but `true` is no size.
      if (isinstance(value, bool) or
          not isinstance(value, six.integer_types) or value <= 0):
        raise ValueError("config key %s must be a positive integer, got %r" %
                         (key, value))
    for key in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
      value = getattr(self, key)
      if (isinstance(value, bool) or
          not isinstance(value, six.integer_types + (float,)) or
          not 0 <= value < 1):
        raise ValueError("config key %s must be a probability in [0, 1), "
                         "got %r" % (key, value))
    get_activation(self.hidden_act)  # Raises on an unknown name.
    if self.hidden_size % self.num_attention_heads != 0:
      raise ValueError(
          "hidden_size (%d) is not a multiple of num_attention_heads (%d)" %
          (self.hidden_size, self.num_attention_heads))
    if self.num_hidden_groups > self.num_hidden_layers:
      raise ValueError(
          "num_hidden_groups (%d) > num_hidden_layers (%d): some groups "
          "would never be used" % (self.num_hidden_groups,
                                   self.num_hidden_layers))


# --precision names and the compute dtype each one means. Variables are
# always float32; only the encoder's compute changes.
PRECISIONS = collections.OrderedDict([
    ("fp32", tf.float32), ("bf16", tf.bfloat16), ("fp16", tf.float16)])

_compute_dtype_stack = []


def compute_dtype_of(precision):
  """The tf.DType that --precision=`precision` computes in.

  Raises:
    ValueError: `precision` is not one of PRECISIONS.
  """
  if precision not in PRECISIONS:
    raise ValueError("--precision=%s: expected one of %s" %
                     (precision, ", ".join(PRECISIONS)))
  return PRECISIONS[precision]


@contextlib.contextmanager
def compute_dtype_scope(compute_dtype):
  """Models built inside compute in `compute_dtype` unless told otherwise.

  The model_fns wrap their heads in this, so that every task's encoder
  follows --precision without each head passing it down.

  Args:
    compute_dtype: tf.float32, tf.bfloat16 or tf.float16.
  """
  _compute_dtype_stack.append(tf.as_dtype(compute_dtype))
  try:
    yield
  finally:
    _compute_dtype_stack.pop()


def current_compute_dtype():
  """The innermost `compute_dtype_scope`'s dtype, else tf.float32."""
  return _compute_dtype_stack[-1] if _compute_dtype_stack else tf.float32


def is_half(dtype):
  """Whether `dtype` is a 16-bit float (bfloat16 or float16)."""
  return tf.as_dtype(dtype).base_dtype in (tf.bfloat16, tf.float16)


def float32_variables_getter(getter, *args, **kwargs):
  """A custom getter that stores 16-bit float variables as float32.

  Layers ask for their variables in the dtype of their input; under mixed
  precision that is 16-bit. The variable itself is created (or found) in
  float32 under its usual name, so checkpoints keep the released names,
  shapes and dtypes and optimizer state stays float32, and what the layer
  gets is a 16-bit cast of it.

  Every use casts again instead of sharing one cast per variable: ALBERT
  applies the same weights in every layer, and separate casts make the
  per-layer gradients meet (and add up) in float32 rather than in 16 bits.
  """
  requested = tf.as_dtype(kwargs.get("dtype") or tf.float32)
  if not is_half(requested):
    return getter(*args, **kwargs)
  kwargs["dtype"] = tf.float32
  variable = getter(*args, **kwargs)
  return tf.cast(variable, requested)


class AlbertModel(object):
  """ALBERT encoder: factorized embeddings and cross-layer-shared layers.

  Example:

  ```python
  input_ids = tf.constant([[31, 51, 99], [15, 5, 0]])   # [B, S]
  input_mask = tf.constant([[1, 1, 1], [1, 1, 0]])
  token_type_ids = tf.constant([[0, 0, 1], [0, 2, 0]])
  config = AlbertConfig(vocab_size=32000, hidden_size=512,
                        num_hidden_layers=8, num_attention_heads=8,
                        intermediate_size=1024)
  model = AlbertModel(config, is_training=True, input_ids=input_ids,
                      input_mask=input_mask, token_type_ids=token_type_ids)
  pooled_output = model.get_pooled_output()             # [B, H]
  ```
  """

  def __init__(self,
               config,
               is_training,
               input_ids,
               input_mask=None,
               token_type_ids=None,
               use_one_hot_embeddings=False,
               use_einsum=True,
               scope=None,
               compute_dtype=None,
               hand_written_gradients=False):
    """Builds the model graph.

    Args:
      config: `AlbertConfig`.
      is_training: bool; dropout is applied only when True.
      input_ids: int32 Tensor [B, S].
      input_mask: (optional) int32 Tensor [B, S]; 1 for real tokens.
      token_type_ids: (optional) int32 Tensor [B, S] of segment ids.
      use_one_hot_embeddings: look embeddings up by one-hot matmul (faster on
        TPU) instead of gather.
      use_einsum: the attention projections as einsums (the release's);
        False: 2-D matmuls, which exporters without Einsum need. The
        feed-forward layers are 2-D matmuls either way.
      scope: (optional) variable scope; defaults to "bert".
      compute_dtype: (optional) dtype of the encoder's compute: tf.float32,
        or tf.bfloat16 / tf.float16 for mixed precision (variables stay
        float32; embeddings, LayerNorm statistics and softmax are computed
        in float32). Defaults to `current_compute_dtype()`. Outputs are
        float32 either way, so heads and losses need no change.
      hand_written_gradients: in training, GELU's gradient is
        layer_ops.gelu_for_training's (faster); not for graphs that leave
        this package (TF-Hub modules, SavedModels), since a gradient
        written in Python does not travel with the graph.

    Raises:
      ValueError: the config is invalid, or the sequence is longer than
        `max_position_embeddings`.
    """
    config = copy.deepcopy(config)
    config.validate()
    compute_dtype = tf.as_dtype(compute_dtype or current_compute_dtype())
    if not is_training:
      config.hidden_dropout_prob = 0.0
      config.attention_probs_dropout_prob = 0.0

    input_shape = get_shape_list(input_ids, expected_rank=2)
    batch_size = input_shape[0]
    seq_length = input_shape[1]

    if input_mask is None:
      input_mask = tf.ones(shape=[batch_size, seq_length], dtype=tf.int32)
    if token_type_ids is None:
      token_type_ids = tf.zeros(shape=[batch_size, seq_length], dtype=tf.int32)

    with tf.variable_scope(scope, default_name="bert"):
      with tf.variable_scope("embeddings"):
        # [B, S, E]
        (self.word_embedding_output,
         self.output_embedding_table) = embedding_lookup(
             input_ids=input_ids,
             vocab_size=config.vocab_size,
             embedding_size=config.embedding_size,
             initializer_range=config.initializer_range,
             word_embedding_name="word_embeddings",
             use_one_hot_embeddings=use_one_hot_embeddings)

        # [B, S, E]
        self.embedding_output = embedding_postprocessor(
            input_tensor=self.word_embedding_output,
            use_token_type=True,
            token_type_ids=token_type_ids,
            token_type_vocab_size=config.type_vocab_size,
            token_type_embedding_name="token_type_embeddings",
            use_position_embeddings=True,
            position_embedding_name="position_embeddings",
            initializer_range=config.initializer_range,
            max_position_embeddings=config.max_position_embeddings,
            dropout_prob=config.hidden_dropout_prob,
            use_one_hot_embeddings=use_one_hot_embeddings)

      # Under mixed precision only the encoder computes in 16 bits: the
      # embeddings are lookups and additions with nothing to gain, and the
      # heads (the losses) read float32 outputs.
      encoder_getter = (float32_variables_getter if is_half(compute_dtype)
                        else None)
      activation = get_activation(
          config.hidden_act, hand_written_gradients and is_training)
      with tf.variable_scope("encoder", custom_getter=encoder_getter):
        # [B, S, T] float mask, shared by every layer.
        attention_mask = create_attention_mask_from_input_mask(
            input_ids, input_mask)
        # One [B, S, H] tensor per applied inner block.
        self.all_encoder_layers = transformer_model(
            input_tensor=tf.cast(self.embedding_output, compute_dtype),
            attention_mask=attention_mask,
            hidden_size=config.hidden_size,
            num_hidden_layers=config.num_hidden_layers,
            num_hidden_groups=config.num_hidden_groups,
            num_attention_heads=config.num_attention_heads,
            intermediate_size=config.intermediate_size,
            inner_group_num=config.inner_group_num,
            intermediate_act_fn=activation,
            hidden_dropout_prob=config.hidden_dropout_prob,
            attention_probs_dropout_prob=config.attention_probs_dropout_prob,
            initializer_range=config.initializer_range,
            do_return_all_layers=True,
            use_einsum=use_einsum)
        self.all_encoder_layers = [
            tf.cast(layer, tf.float32) for layer in self.all_encoder_layers]

      # [B, S, H]
      self.sequence_output = self.all_encoder_layers[-1]
      # The pooler takes the hidden state of the first ([CLS]) token; it feeds
      # sentence-level heads (sentence order prediction, classification).
      with tf.variable_scope("pooler"):
        first_token_tensor = tf.squeeze(self.sequence_output[:, 0:1, :],
                                        axis=1)  # [B, H]
        self.pooled_output = dense(
            first_token_tensor,
            config.hidden_size,
            activation=tf.tanh,
            initializer=create_initializer(config.initializer_range),
            name="dense")  # [B, H]

  def get_pooled_output(self):
    """[B, H] tanh-projected hidden state of the first token."""
    return self.pooled_output

  def get_sequence_output(self):
    """[B, S, H] final hidden layer of the encoder."""
    return self.sequence_output

  def get_all_encoder_layers(self):
    """List of [B, S, H], one per applied inner block (L * inner_group_num)."""
    return self.all_encoder_layers

  def get_word_embedding_output(self):
    """[B, S, E] word embeddings before position/type embeddings."""
    return self.word_embedding_output

  def get_embedding_output(self):
    """[B, S, E] embeddings after position/type, LayerNorm and dropout."""
    return self.embedding_output

  def get_embedding_table(self):
    """[V, E] word embedding table (the MLM decoder reuses it)."""
    return self.output_embedding_table


# The release's activation functions (they live with the encoder's other
# tensor math now).
gelu = layer_ops.gelu
swish = layer_ops.swish
get_activation = layer_ops.get_activation


CheckpointAssignment = collections.namedtuple(
    "CheckpointAssignment",
    ["assignment_map", "initialized_variable_names", "unmatched_variables",
     "unused_checkpoint_variables", "shape_mismatches"])


class _Assignment(tuple):
  """The released 2-tuple (assignment_map, initialized_variable_names).

  Unpacks exactly like the released return value; the attributes also tell
  what did not match, so callers can report it instead of silently training
  from random weights:
    unmatched_variables: model variable names nothing in the checkpoint maps
      to.
    unused_checkpoint_variables: checkpoint names no model variable took.
    shape_mismatches: (model name, model shape, checkpoint name, checkpoint
      shape) for names that matched but whose shapes differ; these are NOT in
      the assignment map.
  """

  def __new__(cls, assignment_map, initialized_variable_names,
              unmatched_variables, unused_checkpoint_variables,
              shape_mismatches):
    self = super(_Assignment, cls).__new__(
        cls, (assignment_map, initialized_variable_names))
    self.assignment_map = assignment_map
    self.initialized_variable_names = initialized_variable_names
    self.unmatched_variables = unmatched_variables
    self.unused_checkpoint_variables = unused_checkpoint_variables
    self.shape_mismatches = shape_mismatches
    return self


def _variable_name(var):
  """'scope/name:0' -> 'scope/name'."""
  name = var.name
  m = re.match(r"^(.*):\d+$", name)
  return m.group(1) if m else name


def _group_of(name, num_of_group):
  """Which of the per-group assignment maps a variable name belongs in.

  Decided by `/group_k/` alone. (Matching `/attention_1/` or `/ffn_1/` as
  group 1, as the released code did, sends every block's attention and FFN
  weights to map 1, where group_1 then overwrites group_0's entries and
  group_0 is left at random initialisation.)
  """
  m = re.search(r"/group_(\d+)/", name)
  if m and int(m.group(1)) < num_of_group:
    return int(m.group(1))
  return 0


def get_assignment_map_from_checkpoint(tvars, init_checkpoint, num_of_group=0):
  """Maps model variables to the checkpoint variables that initialise them.

  A name matches when the checkpoint holds the same name. With
  `num_of_group > 1` a variable of any group (or `ffn_k` / `attention_k`)
  also matches the checkpoint's `group_0` (`ffn_1` / `attention_1`) variable,
  which initialises every group from one shared layer (`init_from_group0`).

  Args:
    tvars: list of model variables.
    init_checkpoint: checkpoint path or prefix.
    num_of_group: 0 for a single {checkpoint name: variable name} map; > 0
      for a list of num_of_group maps, one per group.

  Returns:
    Unpacks as (assignment_map, initialized_variable_names), as released;
    also has `.unmatched_variables`, `.unused_checkpoint_variables` and
    `.shape_mismatches` (see `_Assignment`).
  """
  name_to_variable = collections.OrderedDict(
      (_variable_name(var), var) for var in tvars)
  init_vars = collections.OrderedDict(tf.train.list_variables(init_checkpoint))

  if num_of_group > 0:
    assignment_map = [collections.OrderedDict() for _ in range(num_of_group)]
  else:
    assignment_map = collections.OrderedDict()
  initialized_variable_names = collections.OrderedDict()
  unmatched = []
  mismatches = []
  used = set()

  for name, var in name_to_variable.items():
    candidates = [name]
    if num_of_group > 1:
      candidates += [re.sub(r"/group_\d+/", "/group_0/", name),
                     re.sub(r"/ffn_\d+/", "/ffn_1/", name),
                     re.sub(r"/attention_\d+/", "/attention_1/", name)]
    ckpt_name = next((c for c in candidates if c in init_vars), None)
    if ckpt_name is None:
      unmatched.append(name)
      continue
    model_shape = var.shape.as_list()
    ckpt_shape = list(init_vars[ckpt_name])
    if model_shape != ckpt_shape:
      mismatches.append((name, model_shape, ckpt_name, ckpt_shape))
      continue
    used.add(ckpt_name)
    if num_of_group > 0:
      assignment_map[_group_of(name, num_of_group)][ckpt_name] = name
    else:
      assignment_map[ckpt_name] = name
    initialized_variable_names[name] = 1
    initialized_variable_names[name + ":0"] = 1

  unused = [n for n in init_vars if n not in used]
  return _Assignment(assignment_map, initialized_variable_names, unmatched,
                     unused, mismatches)


def dropout(input_tensor, dropout_prob):
  """Dropout with a drop probability (not keep probability); 0 is identity.

  Args:
    input_tensor: float Tensor.
    dropout_prob: probability of dropping a value.

  Returns:
    A Tensor of the same shape; masks are `dropout_seeds.dropout`'s.
  """
  return dropout_seeds.dropout(input_tensor, dropout_prob)


def layer_norm(input_tensor, name=None):
  """Layer normalization over the last axis, with variables beta and gamma.

  Written out (TF 2 has no contrib layer_norm any more) with the same
  variable names and epsilon (1e-12), so released checkpoints load.

  Args:
    input_tensor: float Tensor [..., W]; 16-bit input is normalized in
      float32 and returned in its own dtype.
    name: variable scope; default "LayerNorm".

  Returns:
    The normalized Tensor, same shape and dtype.
  """
  input_dtype = input_tensor.dtype
  if is_half(input_dtype):
    # Mean and variance over H values lose too much in 16 bits (and 1e-12
    # is 0 in float16), so mixed precision normalizes in float32.
    input_tensor = tf.cast(input_tensor, tf.float32)
  with tf.variable_scope(name, default_name="LayerNorm"):
    width = input_tensor.shape[-1:]
    beta = tf.get_variable("beta", shape=width, dtype=input_tensor.dtype,
                           initializer=tf.zeros_initializer())
    gamma = tf.get_variable("gamma", shape=width, dtype=input_tensor.dtype,
                            initializer=tf.ones_initializer())
    mean, variance = tf.nn.moments(input_tensor, axes=[-1], keepdims=True)
    output = tf.nn.batch_normalization(input_tensor, mean, variance,
                                       offset=beta, scale=gamma,
                                       variance_epsilon=1e-12)
  return tf.cast(output, input_dtype)


def layer_norm_and_dropout(input_tensor, dropout_prob, name=None):
  """Layer normalization followed by dropout."""
  output_tensor = layer_norm(input_tensor, name)
  return dropout(output_tensor, dropout_prob)


def create_initializer(initializer_range=0.02):
  """A truncated-normal initializer with the given stddev."""
  return tf.truncated_normal_initializer(stddev=initializer_range)


def embedding_lookup(input_ids,
                     vocab_size,
                     embedding_size=128,
                     initializer_range=0.02,
                     word_embedding_name="word_embeddings",
                     use_one_hot_embeddings=False):
  """Looks up word embeddings for id tensor.

  Args:
    input_ids: int32 Tensor [B, S] (a trailing axis of 1 is also accepted).
    vocab_size: V.
    embedding_size: E.
    initializer_range: initializer stddev.
    word_embedding_name: name of the [V, E] table variable.
    use_one_hot_embeddings: one-hot matmul (TPU friendly) instead of gather.

  Returns:
    (output [B, S, E], embedding_table [V, E]).
  """
  if input_ids.shape.ndims == 2:
    input_ids = tf.expand_dims(input_ids, axis=[-1])  # [B, S, 1]

  embedding_table = tf.get_variable(
      name=word_embedding_name,
      shape=[vocab_size, embedding_size],
      initializer=create_initializer(initializer_range))

  if use_one_hot_embeddings:
    flat_input_ids = tf.reshape(input_ids, [-1])
    one_hot_input_ids = tf.one_hot(flat_input_ids, depth=vocab_size)
    output = tf.matmul(one_hot_input_ids, embedding_table)
  else:
    output = tf.nn.embedding_lookup(embedding_table, input_ids)

  input_shape = get_shape_list(input_ids)
  output = tf.reshape(output,
                      input_shape[0:-1] + [input_shape[-1] * embedding_size])
  return (output, embedding_table)


def embedding_postprocessor(input_tensor,
                            use_token_type=False,
                            token_type_ids=None,
                            token_type_vocab_size=16,
                            token_type_embedding_name="token_type_embeddings",
                            use_position_embeddings=True,
                            position_embedding_name="position_embeddings",
                            initializer_range=0.02,
                            max_position_embeddings=512,
                            dropout_prob=0.1,
                            use_one_hot_embeddings=True):
  """Adds token-type and position embeddings, then LayerNorm and dropout.

  Args:
    input_tensor: float Tensor [B, S, E] of word embeddings.
    use_token_type: whether to add token-type embeddings.
    token_type_ids: (optional) int32 Tensor [B, S].
    token_type_vocab_size: T.
    token_type_embedding_name: name of the [T, E] table.
    use_position_embeddings: whether to add position embeddings.
    position_embedding_name: name of the [P, E] table.
    initializer_range: initializer stddev.
    max_position_embeddings: P; S must not exceed it.
    dropout_prob: dropout applied after LayerNorm.
    use_one_hot_embeddings: one-hot matmul for token types (faster on TPU
      for tiny vocabularies) instead of gather.

  Returns:
    float Tensor [B, S, E].

  Raises:
    ValueError: S is statically known and longer than P.
  """
  input_shape = get_shape_list(input_tensor, expected_rank=3)
  batch_size = input_shape[0]
  seq_length = input_shape[1]
  width = input_shape[2]

  output = input_tensor

  if use_token_type:
    if token_type_ids is None:
      raise ValueError("`token_type_ids` must be specified if "
                       "`use_token_type` is True.")
    token_type_table = tf.get_variable(
        name=token_type_embedding_name,
        shape=[token_type_vocab_size, width],
        initializer=create_initializer(initializer_range))
    if use_one_hot_embeddings:
      flat_token_type_ids = tf.reshape(token_type_ids, [-1])
      one_hot_ids = tf.one_hot(flat_token_type_ids,
                               depth=token_type_vocab_size)
      token_type_embeddings = tf.matmul(one_hot_ids, token_type_table)
      token_type_embeddings = tf.reshape(token_type_embeddings,
                                         [batch_size, seq_length, width])
    else:
      token_type_embeddings = tf.nn.embedding_lookup(token_type_table,
                                                     token_type_ids)
    output += token_type_embeddings

  if use_position_embeddings:
    if isinstance(seq_length, six.integer_types):
      if seq_length > max_position_embeddings:
        raise ValueError(
            "Sequence length %d is longer than max_position_embeddings (%d) "
            "of the model config" % (seq_length, max_position_embeddings))
      assert_op = tf.no_op()
    else:
      assert_op = tf.debugging.assert_less_equal(
          seq_length, max_position_embeddings,
          message="sequence length exceeds max_position_embeddings")
    with tf.control_dependencies([assert_op]):
      full_position_embeddings = tf.get_variable(
          name=position_embedding_name,
          shape=[max_position_embeddings, width],
          initializer=create_initializer(initializer_range))
      # The table is sized for the longest sequence; a slice serves shorter
      # ones, so one checkpoint works for every max_seq_length <= P.
      position_embeddings = tf.slice(full_position_embeddings, [0, 0],
                                     [seq_length, -1])  # [S, E]
    output += tf.expand_dims(position_embeddings, 0)  # broadcast over B

  output = layer_norm_and_dropout(output, dropout_prob)
  return output


def dense(input_tensor, output_size, activation=None, initializer=None,
          name="dense"):
  """A dense layer with variables `<name>/kernel` and `<name>/bias`.

  Args:
    input_tensor: float Tensor [..., W].
    output_size: O.
    activation: (optional) activation function.
    initializer: kernel initializer.
    name: variable scope.

  Returns:
    float Tensor [..., O].
  """
  input_width = get_shape_list(input_tensor)[-1]
  with tf.variable_scope(name):
    w = tf.get_variable(name="kernel", shape=[input_width, output_size],
                        dtype=input_tensor.dtype, initializer=initializer)
    b = tf.get_variable(name="bias", shape=[output_size],
                        dtype=input_tensor.dtype,
                        initializer=tf.zeros_initializer)
    if input_tensor.shape.ndims == 2:
      ret = tf.matmul(input_tensor, w)
    else:
      ret = tf.tensordot(input_tensor, w, axes=[[-1], [0]])
    ret = tf.nn.bias_add(ret, b)
    if activation is not None:
      return activation(ret)
    return ret


def dense_layer_3d(input_tensor,
                   num_attention_heads,
                   head_size,
                   initializer,
                   activation,
                   use_einsum,
                   name=None):
  """A dense layer projecting [B, F, H] to heads [B, F, N, D].

  The kernel is stored 2-D [H, N*D], as in the released checkpoints.

  Args:
    input_tensor: float Tensor [B, F, H].
    num_attention_heads: N.
    head_size: D.
    initializer: kernel initializer.
    activation: (optional) activation function.
    use_einsum: einsum, or matmul + reshape.
    name: variable scope.

  Returns:
    float Tensor [B, F, N, D].
  """
  input_shape = get_shape_list(input_tensor)
  hidden_size = input_shape[2]

  with tf.variable_scope(name):
    w = tf.get_variable(name="kernel",
                        shape=[hidden_size, num_attention_heads * head_size],
                        dtype=input_tensor.dtype, initializer=initializer)
    b = tf.get_variable(name="bias",
                        shape=[num_attention_heads * head_size],
                        dtype=input_tensor.dtype,
                        initializer=tf.zeros_initializer)
    if use_einsum:
      w = tf.reshape(w, [hidden_size, num_attention_heads, head_size])
      ret = tf.einsum("BFH,HND->BFND", input_tensor, w)
      ret += tf.reshape(b, [num_attention_heads, head_size])
    else:
      ret = layer_ops.matmul_bias(input_tensor, w, b)  # [B*F, N*D]
      ret = tf.reshape(ret, input_shape[0:2] +
                       [num_attention_heads, head_size])
  if activation is not None:
    return activation(ret)
  return ret


def dense_layer_3d_proj(input_tensor,
                        hidden_size,
                        head_size,
                        initializer,
                        activation,
                        use_einsum,
                        name=None):
  """A dense layer projecting heads [B, F, N, D] back to [B, F, H].

  Args:
    input_tensor: float Tensor [B, F, N, D].
    hidden_size: H.
    head_size: D.
    initializer: kernel initializer.
    activation: (optional) activation function.
    use_einsum: einsum, or matmul + reshape.
    name: variable scope.

  Returns:
    float Tensor [B, F, H].
  """
  input_shape = get_shape_list(input_tensor)
  num_attention_heads = input_shape[2]
  with tf.variable_scope(name):
    w = tf.get_variable(name="kernel",
                        shape=[num_attention_heads * head_size, hidden_size],
                        dtype=input_tensor.dtype, initializer=initializer)
    b = tf.get_variable(name="bias", shape=[hidden_size],
                        dtype=input_tensor.dtype,
                        initializer=tf.zeros_initializer)
    if use_einsum:
      w = tf.reshape(w, [num_attention_heads, head_size, hidden_size])
      ret = tf.einsum("BFND,NDH->BFH", input_tensor, w) + b
    else:
      ret = layer_ops.matmul_bias(input_tensor, w, b)  # [B*F, H]
      ret = tf.reshape(ret, input_shape[0:2] + [hidden_size])
  if activation is not None:
    return activation(ret)
  return ret


def dense_layer_2d(input_tensor,
                   output_size,
                   initializer,
                   activation,
                   use_einsum,
                   num_attention_heads=1,
                   name=None):
  """A dense layer [B, F, W] -> [B, F, O].

  Args:
    input_tensor: float Tensor [B, F, W].
    output_size: O.
    initializer: kernel initializer.
    activation: (optional) activation function.
    use_einsum: unused: one 2-D matmul either way (what oneDNN fuses).
    num_attention_heads: unused; kept for the released signature.
    name: variable scope.

  Returns:
    float Tensor [B, F, O].
  """
  del num_attention_heads, use_einsum  # Kept for the released signature.
  input_shape = get_shape_list(input_tensor)
  hidden_size = input_shape[2]
  with tf.variable_scope(name):
    w = tf.get_variable(name="kernel", shape=[hidden_size, output_size],
                        dtype=input_tensor.dtype, initializer=initializer)
    b = tf.get_variable(name="bias", shape=[output_size],
                        dtype=input_tensor.dtype,
                        initializer=tf.zeros_initializer)
    ret = layer_ops.matmul_bias(input_tensor, w, b)  # [B*F, O]
    if activation is not None:
      ret = activation(ret)
  return tf.reshape(ret, input_shape[0:2] + [output_size])


def einsum_via_matmul(input_tensor, w, num_inner_dims):
  """Contracts the last `num_inner_dims` axes of input with the first of w.

  The same result as the einsum it replaces, with matmul and reshape only.

  Args:
    input_tensor: float Tensor [batch dims..., inner dims...].
    w: float Tensor [inner dims..., outer dims...].
    num_inner_dims: how many trailing input axes are contracted.

  Returns:
    float Tensor [batch dims..., outer dims...].
  """
  input_shape = get_shape_list(input_tensor)
  w_shape = get_shape_list(w)
  batch_dims = input_shape[:-num_inner_dims]
  inner_dims = input_shape[-num_inner_dims:]
  outer_dims = w_shape[num_inner_dims:]
  inner_dim = int(np.prod(inner_dims))
  outer_dim = int(np.prod(outer_dims))
  if num_inner_dims > 1:
    input_tensor = tf.reshape(input_tensor, batch_dims + [inner_dim])
  if len(w_shape) > 2:
    w = tf.reshape(w, [inner_dim, outer_dim])
  ret = tf.matmul(tf.reshape(input_tensor, [-1, inner_dim]), w)
  return tf.reshape(ret, batch_dims + outer_dims)


def dot_product_attention(q, k, v, bias, dropout_rate=0.0):
  """Scaled dot-product attention over heads.

  Args:
    q: float Tensor [B, N, F, D].
    k: float Tensor [B, N, T, D].
    v: float Tensor [B, N, T, D].
    bias: (optional) float Tensor [B, 1, F, T] (broadcast over heads); 1
      where attention is allowed, 0 where it is masked.
    dropout_rate: dropout on the attention probabilities.

  Returns:
    float Tensor [B, N, F, D].
  """
  compute_dtype = q.dtype
  # q [B, N, F, D] is smaller than the logits; for D = 64 scaling is exact.
  q *= tf.cast(1.0 / math.sqrt(float(get_shape_list(q)[-1])), compute_dtype)
  logits = tf.matmul(q, k, transpose_b=True)  # [B, N, F, T]
  # Mixed precision takes the softmax in float32: its exponentials and sums
  # are where 16 bits lose the most, and the matmuls stay 16-bit.
  logits = tf.cast(logits, tf.float32)
  if bias is not None:
    # Masked positions get a large negative logit, so after softmax they hold
    # ~0 probability; -10000 (not -inf) keeps fully masked rows finite.
    adder = (1.0 - tf.cast(bias, tf.float32)) * -10000.0
    logits += adder
  attention_probs = tf.nn.softmax(logits, name="attention_probs")
  attention_probs = tf.cast(attention_probs, compute_dtype)
  attention_probs = dropout(attention_probs, dropout_rate)
  return tf.matmul(attention_probs, v)


def create_attention_mask_from_input_mask(from_tensor, to_mask):
  """Creates a 3-D attention mask from a 2-D padding mask.

  Args:
    from_tensor: Tensor [B, F, ...].
    to_mask: int32 Tensor [B, T]; 1 for positions that may be attended.

  Returns:
    float Tensor [B, F, T].
  """
  from_shape = get_shape_list(from_tensor, expected_rank=[2, 3])
  batch_size = from_shape[0]
  from_seq_length = from_shape[1]
  to_shape = get_shape_list(to_mask, expected_rank=2)
  to_seq_length = to_shape[1]
  to_mask = tf.cast(tf.reshape(to_mask, [batch_size, 1, to_seq_length]),
                    tf.float32)
  # Padding is masked as a key only: padded query rows still compute, but no
  # real token ever attends to them, so they cannot change real outputs.
  broadcast_ones = tf.ones(shape=[batch_size, from_seq_length, 1],
                           dtype=tf.float32)
  return broadcast_ones * to_mask


def attention_layer(from_tensor,
                    to_tensor,
                    attention_mask=None,
                    num_attention_heads=1,
                    query_act=None,
                    key_act=None,
                    value_act=None,
                    attention_probs_dropout_prob=0.0,
                    initializer_range=0.02,
                    batch_size=None,
                    from_seq_length=None,
                    to_seq_length=None,
                    use_einsum=True):
  """Multi-headed attention from `from_tensor` to `to_tensor`.

  Args:
    from_tensor: float Tensor [B, F, H].
    to_tensor: float Tensor [B, T, H].
    attention_mask: (optional) float or int Tensor [B, F, T]; 1 = attend.
    num_attention_heads: N.
    query_act: (optional) activation of the query projection.
    key_act: (optional) activation of the key projection.
    value_act: (optional) activation of the value projection.
    attention_probs_dropout_prob: dropout on attention probabilities.
    initializer_range: initializer stddev.
    batch_size: unused; kept for the released signature.
    from_seq_length: unused; kept for the released signature.
    to_seq_length: unused; kept for the released signature.
    use_einsum: einsum, or matmul + reshape.

  Returns:
    float Tensor [B, F, N, D].
  """
  del batch_size, from_seq_length, to_seq_length  # Read from the tensors.
  from_shape = get_shape_list(from_tensor, expected_rank=[2, 3])
  to_shape = get_shape_list(to_tensor, expected_rank=[2, 3])
  size_per_head = int(from_shape[2] / num_attention_heads)

  if len(from_shape) != len(to_shape):
    raise ValueError(
        "The rank of `from_tensor` must match the rank of `to_tensor`.")

  # [B, F, N, D]
  q = dense_layer_3d(from_tensor, num_attention_heads, size_per_head,
                     create_initializer(initializer_range), query_act,
                     use_einsum, "query")
  # [B, T, N, D]
  k = dense_layer_3d(to_tensor, num_attention_heads, size_per_head,
                     create_initializer(initializer_range), key_act,
                     use_einsum, "key")
  # [B, T, N, D]
  v = dense_layer_3d(to_tensor, num_attention_heads, size_per_head,
                     create_initializer(initializer_range), value_act,
                     use_einsum, "value")
  q = tf.transpose(q, [0, 2, 1, 3])  # [B, N, F, D]
  k = tf.transpose(k, [0, 2, 1, 3])  # [B, N, T, D]
  v = tf.transpose(v, [0, 2, 1, 3])  # [B, N, T, D]
  if attention_mask is not None:
    attention_mask = tf.reshape(
        attention_mask, [from_shape[0], 1, from_shape[1], to_shape[1]])
  # [B, N, F, D]
  new_embeddings = dot_product_attention(q, k, v, attention_mask,
                                         attention_probs_dropout_prob)
  return tf.transpose(new_embeddings, [0, 2, 1, 3])  # [B, F, N, D]


def attention_ffn_block(layer_input,
                        hidden_size=768,
                        attention_mask=None,
                        num_attention_heads=1,
                        attention_head_size=64,
                        attention_probs_dropout_prob=0.0,
                        intermediate_size=3072,
                        intermediate_act_fn=None,
                        initializer_range=0.02,
                        hidden_dropout_prob=0.0,
                        use_einsum=True):
  """One transformer block: self-attention and feed-forward, post-LayerNorm.

  Variable layout (relative to the current scope, i.e. inner_group_k):
    attention_1/self/{query,key,value}, attention_1/output/dense, LayerNorm,
    ffn_1/intermediate/dense, ffn_1/intermediate/output/dense, LayerNorm_1.

  Args:
    layer_input: float Tensor [B, S, H].
    hidden_size: H.
    attention_mask: (optional) float Tensor [B, S, S].
    num_attention_heads: N.
    attention_head_size: D.
    attention_probs_dropout_prob: dropout on attention probabilities.
    intermediate_size: I.
    intermediate_act_fn: activation of the FFN's first layer.
    initializer_range: initializer stddev.
    hidden_dropout_prob: dropout on sublayer outputs.
    use_einsum: einsum, or matmul + reshape.

  Returns:
    float Tensor [B, S, H].
  """
  with tf.variable_scope("attention_1"):
    with tf.variable_scope("self"):
      attention_output = attention_layer(
          from_tensor=layer_input,
          to_tensor=layer_input,
          attention_mask=attention_mask,
          num_attention_heads=num_attention_heads,
          attention_probs_dropout_prob=attention_probs_dropout_prob,
          initializer_range=initializer_range,
          use_einsum=use_einsum)  # [B, S, N, D]

    with tf.variable_scope("output"):
      attention_output = dense_layer_3d_proj(
          attention_output,
          hidden_size,
          attention_head_size,
          create_initializer(initializer_range),
          None,
          use_einsum=use_einsum,
          name="dense")  # [B, S, H]
      attention_output = dropout(attention_output, hidden_dropout_prob)
  attention_output = layer_norm(attention_output + layer_input)

  with tf.variable_scope("ffn_1"):
    with tf.variable_scope("intermediate"):
      intermediate_output = dense_layer_2d(
          attention_output,
          intermediate_size,
          create_initializer(initializer_range),
          intermediate_act_fn,
          use_einsum=use_einsum,
          num_attention_heads=num_attention_heads,
          name="dense")  # [B, S, I]
      # The released checkpoints nest the FFN output projection inside
      # "intermediate"; the scope is kept so their names match.
      with tf.variable_scope("output"):
        ffn_output = dense_layer_2d(
            intermediate_output,
            hidden_size,
            create_initializer(initializer_range),
            None,
            use_einsum=use_einsum,
            num_attention_heads=num_attention_heads,
            name="dense")  # [B, S, H]
    ffn_output = dropout(ffn_output, hidden_dropout_prob)
  ffn_output = layer_norm(ffn_output + attention_output)
  return ffn_output


def group_index(layer_index, num_hidden_layers, num_hidden_groups):
  """The parameter group that layer `layer_index` (0-based) uses."""
  return int(layer_index * num_hidden_groups / num_hidden_layers)


def transformer_model(input_tensor,
                      attention_mask=None,
                      hidden_size=768,
                      num_hidden_layers=12,
                      num_hidden_groups=12,
                      num_attention_heads=12,
                      intermediate_size=3072,
                      inner_group_num=1,
                      intermediate_act_fn="gelu",
                      hidden_dropout_prob=0.1,
                      attention_probs_dropout_prob=0.1,
                      initializer_range=0.02,
                      do_return_all_layers=False,
                      use_einsum=True):
  """The cross-layer-shared transformer encoder.

  L layers are applied in turn; layer l uses the variables of group
  int(l * G / L), so with G = 1 one set of weights serves every layer. Each
  group holds `inner_group_num` blocks applied one after another.

  Args:
    input_tensor: float Tensor [B, S, E]; projected to H by
      `embedding_hidden_mapping_in` when E != H.
    attention_mask: (optional) float Tensor [B, S, S].
    hidden_size: H.
    num_hidden_layers: L.
    num_hidden_groups: G.
    num_attention_heads: N.
    intermediate_size: I.
    inner_group_num: blocks per group.
    intermediate_act_fn: activation of the FFN's first layer.
    hidden_dropout_prob: dropout on sublayer outputs.
    attention_probs_dropout_prob: dropout on attention probabilities.
    initializer_range: initializer stddev.
    do_return_all_layers: return every block's output, not only the last.
    use_einsum: einsum, or matmul + reshape.

  Returns:
    float Tensor [B, S, H], or a list of them (L * inner_group_num) when
    `do_return_all_layers`.

  Raises:
    ValueError: H is not a multiple of N.
  """
  if hidden_size % num_attention_heads != 0:
    raise ValueError(
        "The hidden size (%d) is not a multiple of the number of attention "
        "heads (%d)" % (hidden_size, num_attention_heads))
  attention_head_size = hidden_size // num_attention_heads
  input_shape = get_shape_list(input_tensor, expected_rank=3)
  input_width = input_shape[2]

  all_layer_outputs = []
  if input_width != hidden_size:
    prev_output = dense_layer_2d(
        input_tensor, hidden_size, create_initializer(initializer_range),
        None, use_einsum=use_einsum, name="embedding_hidden_mapping_in")
  else:
    prev_output = input_tensor

  # AUTO_REUSE is what shares weights: every layer of a group re-enters the
  # same variable scope and gets the same variables back.
  with tf.variable_scope("transformer", reuse=tf.AUTO_REUSE):
    for layer_idx in range(num_hidden_layers):
      group_idx = group_index(layer_idx, num_hidden_layers, num_hidden_groups)
      with tf.variable_scope("group_%d" % group_idx):
        with tf.name_scope("layer_%d" % layer_idx):
          layer_output = prev_output
          for inner_group_idx in range(inner_group_num):
            with tf.variable_scope("inner_group_%d" % inner_group_idx):
              layer_output = attention_ffn_block(
                  layer_input=layer_output,
                  hidden_size=hidden_size,
                  attention_mask=attention_mask,
                  num_attention_heads=num_attention_heads,
                  attention_head_size=attention_head_size,
                  attention_probs_dropout_prob=attention_probs_dropout_prob,
                  intermediate_size=intermediate_size,
                  intermediate_act_fn=intermediate_act_fn,
                  initializer_range=initializer_range,
                  hidden_dropout_prob=hidden_dropout_prob,
                  use_einsum=use_einsum)
              prev_output = layer_output
              all_layer_outputs.append(layer_output)
  if do_return_all_layers:
    return all_layer_outputs
  return all_layer_outputs[-1]


def get_shape_list(tensor, expected_rank=None, name=None):
  """The shape of a tensor, static dimensions as ints, dynamic as scalars.

  Args:
    tensor: a tf.Tensor.
    expected_rank: (optional) int or list of ints; raise if the rank differs.
    name: (optional) tensor name for the error message.

  Returns:
    A list with one int or scalar int32 Tensor per dimension.
  """
  if name is None:
    name = tensor.name
  if expected_rank is not None:
    assert_rank(tensor, expected_rank, name)

  shape = tensor.shape.as_list()
  non_static_indexes = [i for i, dim in enumerate(shape) if dim is None]
  if not non_static_indexes:
    return shape
  dyn_shape = tf.shape(tensor)
  for index in non_static_indexes:
    shape[index] = dyn_shape[index]
  return shape


def assert_rank(tensor, expected_rank, name=None):
  """Raises ValueError if the tensor's rank is not the expected one."""
  if name is None:
    name = tensor.name
  if isinstance(expected_rank, six.integer_types):
    expected_rank_dict = {expected_rank: True}
  else:
    expected_rank_dict = {x: True for x in expected_rank}
  actual_rank = tensor.shape.ndims
  if actual_rank not in expected_rank_dict:
    scope_name = tf.get_variable_scope().name
    raise ValueError(
        "For the tensor `%s` in scope `%s`, the actual rank "
        "`%d` (shape = %s) is not equal to the expected rank `%s`" %
        (name, scope_name, actual_rank, str(tensor.shape), str(expected_rank)))
