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
"""The Hugging Face `transformers` layout of an ALBERT model, both ways.

Maps this package's checkpoint variables to the tensor names, shapes and
config.json keys of `transformers`' AlbertModel / AlbertForMaskedLM /
AlbertForPreTraining, and back, without PyTorch: tensors are numpy arrays
(saved with `safetensors.numpy`).

The mapping (per group g and inner block i; `albert.` prefixes the encoder's
names in the models with heads, AlbertModel's own files have no prefix):

  bert/embeddings/{word,position,token_type}_embeddings
      -> embeddings.{...}_embeddings.weight                   (as is)
  bert/embeddings/LayerNorm/{gamma,beta} -> embeddings.LayerNorm.{weight,bias}
  bert/encoder/embedding_hidden_mapping_in/{kernel,bias}
      -> encoder.embedding_hidden_mapping_in.{weight,bias}
  bert/encoder/transformer/group_g/inner_group_i/
      attention_1/self/{query,key,value}  -> ...attention.{query,key,value}
      attention_1/output/dense            -> ...attention.dense
      LayerNorm                           -> ...attention.LayerNorm
      ffn_1/intermediate/dense            -> ...ffn
      ffn_1/intermediate/output/dense     -> ...ffn_output
      LayerNorm_1                         -> ...full_layer_layer_norm
    where ... = encoder.albert_layer_groups.g.albert_layers.i.
  bert/pooler/dense -> pooler
  cls/predictions/transform/dense       -> predictions.dense
  cls/predictions/transform/LayerNorm   -> predictions.LayerNorm
  cls/predictions/output_bias           -> predictions.bias
  cls/seq_relationship/output_weights   -> sop_classifier.classifier.weight
  cls/seq_relationship/output_bias      -> sop_classifier.classifier.bias

Every `kernel` [in, out] becomes a PyTorch Linear `weight` [out, in] (its
transpose); gamma/beta become weight/bias. The sentence-order weights are
already stored [2, H], i.e. [out, in], and are not transposed.

Differences the mapping has to bridge:
  - transformers always has embedding_hidden_mapping_in; this model has it
    only when embedding_size != hidden_size. With E == H the export writes
    the identity (and a zero bias), and the import accepts only that.
  - The MLM decoder is tied to the word embeddings, and its bias is
    predictions.bias: like `save_pretrained`, the export leaves
    predictions.decoder.{weight,bias} out; the import accepts them when
    they equal what they are tied to.
  - transformers picks layer l's group as int(l / (L / G)) in floating
    point, this model as int(l * G / L); for a few (L, G) pairs (e.g.
    L=18, G=14) they differ, and such configs are refused.
  - this model's "gelu" is the tanh approximation, transformers' "gelu_new"
    (its "gelu" is the exact erf form).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import re

import numpy as np
import tensorflow.compat.v1 as tf

from albert import export_utils
from albert import modeling
from albert import pretraining

ExportError = export_utils.ExportError

# File names of a transformers model directory.
HF_CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
HF_SPM_NAME = "spiece.model"
TOKENIZER_CONFIG_NAME = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_NAME = "special_tokens_map.json"
# transformers refuses a safetensors file without this metadata.
SAFETENSORS_METADATA = {"format": "pt"}

# The architectures an export can be, by the heads it carries.
PRETRAINING = "AlbertForPreTraining"
MASKED_LM = "AlbertForMaskedLM"
BASE = "AlbertModel"
BASE_PREFIX = "albert."

MLM_SCOPE = "cls/predictions/"
SOP_SCOPE = "cls/seq_relationship/"
MAPPING_IN = "bert/encoder/embedding_hidden_mapping_in/"

# AlbertTokenizer's special tokens, as the released sentencepiece model
# spells them.
SPECIAL_TOKENS = collections.OrderedDict([
    ("bos_token", "[CLS]"), ("eos_token", "[SEP]"), ("unk_token", "<unk>"),
    ("sep_token", "[SEP]"), ("pad_token", "<pad>"), ("cls_token", "[CLS]"),
    ("mask_token", "[MASK]")])

_LAYER = "bert/encoder/transformer/group_{g}/inner_group_{i}/"
_HF_LAYER = "encoder.albert_layer_groups.{g}.albert_layers.{i}."

# (our name, transformers name, transposed), with placeholders {g}, {i}
# (numbers) and {qkv}; one table read both ways keeps the directions from
# drifting apart.
_RULES = [
    ("bert/embeddings/word_embeddings",
     "embeddings.word_embeddings.weight", False),
    ("bert/embeddings/position_embeddings",
     "embeddings.position_embeddings.weight", False),
    ("bert/embeddings/token_type_embeddings",
     "embeddings.token_type_embeddings.weight", False),
    ("bert/embeddings/LayerNorm/gamma", "embeddings.LayerNorm.weight", False),
    ("bert/embeddings/LayerNorm/beta", "embeddings.LayerNorm.bias", False),
    (MAPPING_IN + "kernel", "encoder.embedding_hidden_mapping_in.weight",
     True),
    (MAPPING_IN + "bias", "encoder.embedding_hidden_mapping_in.bias", False),
    (_LAYER + "attention_1/self/{qkv}/kernel",
     _HF_LAYER + "attention.{qkv}.weight", True),
    (_LAYER + "attention_1/self/{qkv}/bias",
     _HF_LAYER + "attention.{qkv}.bias", False),
    (_LAYER + "attention_1/output/dense/kernel",
     _HF_LAYER + "attention.dense.weight", True),
    (_LAYER + "attention_1/output/dense/bias",
     _HF_LAYER + "attention.dense.bias", False),
    (_LAYER + "LayerNorm/gamma", _HF_LAYER + "attention.LayerNorm.weight",
     False),
    (_LAYER + "LayerNorm/beta", _HF_LAYER + "attention.LayerNorm.bias", False),
    (_LAYER + "ffn_1/intermediate/dense/kernel", _HF_LAYER + "ffn.weight",
     True),
    (_LAYER + "ffn_1/intermediate/dense/bias", _HF_LAYER + "ffn.bias", False),
    (_LAYER + "ffn_1/intermediate/output/dense/kernel",
     _HF_LAYER + "ffn_output.weight", True),
    (_LAYER + "ffn_1/intermediate/output/dense/bias",
     _HF_LAYER + "ffn_output.bias", False),
    (_LAYER + "LayerNorm_1/gamma",
     _HF_LAYER + "full_layer_layer_norm.weight", False),
    (_LAYER + "LayerNorm_1/beta", _HF_LAYER + "full_layer_layer_norm.bias",
     False),
    ("bert/pooler/dense/kernel", "pooler.weight", True),
    ("bert/pooler/dense/bias", "pooler.bias", False),
    (MLM_SCOPE + "transform/dense/kernel", "predictions.dense.weight", True),
    (MLM_SCOPE + "transform/dense/bias", "predictions.dense.bias", False),
    (MLM_SCOPE + "transform/LayerNorm/gamma", "predictions.LayerNorm.weight",
     False),
    (MLM_SCOPE + "transform/LayerNorm/beta", "predictions.LayerNorm.bias",
     False),
    (MLM_SCOPE + "output_bias", "predictions.bias", False),
    (SOP_SCOPE + "output_weights", "sop_classifier.classifier.weight", False),
    (SOP_SCOPE + "output_bias", "sop_classifier.classifier.bias", False),
]

_PLACEHOLDERS = {"g": r"(?P<g>\d+)", "i": r"(?P<i>\d+)",
                 "qkv": r"(?P<qkv>query|key|value)"}


def _compile(template):
  """A full-match regex for a rule template."""
  parts = re.split(r"\{(\w+)\}", template)
  pattern = "".join(re.escape(part) if index % 2 == 0 else
                    _PLACEHOLDERS[part]
                    for index, part in enumerate(parts))
  return re.compile("^%s$" % pattern)


_OURS_TO_HF = [(_compile(ours), hf, transposed)
               for ours, hf, transposed in _RULES]
_HF_TO_OURS = [(_compile(hf), ours, transposed)
               for ours, hf, transposed in _RULES]

# Tied to the word embeddings and to predictions.bias in transformers.
TIED_DECODER_WEIGHT = "predictions.decoder.weight"
TIED_DECODER_BIAS = "predictions.decoder.bias"
# Buffers (not weights) older transformers versions saved; never needed.
_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")

# hidden_act: ours -> transformers. Our "gelu" is the tanh approximation.
_ACT_TO_HF = {"gelu": "gelu_new", "relu": "relu", "tanh": "tanh",
              "swish": "swish", "linear": "linear", "": "linear"}
# transformers -> ours, for the functions this model computes exactly.
_ACT_FROM_HF = {"gelu_new": "gelu", "gelu_pytorch_tanh": "gelu",
                "gelu_fast": "gelu", "relu": "relu", "tanh": "tanh",
                "swish": "swish", "silu": "swish", "linear": "linear"}

# Config keys copied as they are, both ways (the last four only kept for
# compatibility with released configs; transformers ignores them).
_SHARED_KEYS = ("vocab_size", "embedding_size", "hidden_size",
                "num_hidden_layers", "num_hidden_groups",
                "num_attention_heads", "intermediate_size", "inner_group_num",
                "hidden_dropout_prob", "attention_probs_dropout_prob",
                "max_position_embeddings", "type_vocab_size",
                "initializer_range", "down_scale_factor",
                "net_structure_type", "gap_size", "num_memory_blocks")
# transformers' AlbertConfig defaults, for keys a config.json leaves out.
_HF_DEFAULTS = {"vocab_size": 30000, "embedding_size": 128,
                "hidden_size": 4096, "num_hidden_layers": 12,
                "num_hidden_groups": 1, "num_attention_heads": 64,
                "intermediate_size": 16384, "inner_group_num": 1,
                "hidden_act": "gelu_new", "hidden_dropout_prob": 0,
                "attention_probs_dropout_prob": 0,
                "max_position_embeddings": 512, "type_vocab_size": 2,
                "initializer_range": 0.02, "layer_norm_eps": 1e-12,
                "position_embedding_type": "absolute"}
# Our LayerNorm's epsilon (modeling.layer_norm).
LAYER_NORM_EPS = 1e-12


def require_safetensors():
  """The safetensors package, with its numpy API loaded.

  Imported when a command needs it rather than with the module, so that a
  missing package is one line saying what to install, not a traceback.

  Raises:
    ExportError: safetensors is not installed (or cannot be imported).
  """
  try:
    # pylint: disable=g-import-not-at-top,unused-import
    import safetensors
    import safetensors.numpy
    # pylint: enable=g-import-not-at-top,unused-import
  except ImportError as e:
    raise ExportError(
        "the Hugging Face export and import need the safetensors package, "
        "which cannot be imported (%s): pip install safetensors (or pip "
        "install -r requirements.txt)" % (str(e).splitlines()[0] if str(e)
                                          else type(e).__name__))
  return safetensors


def name_list(names, limit=12):
  """The first `limit` names, comma-separated, for one-line messages."""
  names = list(names)
  return ", ".join(names[:limit]) + (" ..." if len(names) > limit else "")


def to_hf_local_name(name):
  """(transformers name without the `albert.` prefix, transposed).

  Args:
    name: a checkpoint variable name, e.g. "bert/pooler/dense/kernel".

  Returns:
    (str, bool), or None when no rule maps the name.
  """
  for regex, template, transposed in _OURS_TO_HF:
    match = regex.match(name)
    if match:
      return template.format(**match.groupdict()), transposed
  return None


def from_hf_local_name(name):
  """(checkpoint variable name, transposed) of an unprefixed name, or None."""
  for regex, template, transposed in _HF_TO_OURS:
    match = regex.match(name)
    if match:
      return template.format(**match.groupdict()), transposed
  return None


def is_base_variable(name):
  """True for the encoder's variables (bert/...), not the heads'."""
  return name.startswith("bert/")


def layout_for(include_mlm, include_sop):
  """The transformers architecture that holds the given heads.

  Raises:
    ExportError: the sentence-order head without the masked-LM head, which
      no transformers class holds.
  """
  if include_mlm and include_sop:
    return PRETRAINING
  if include_mlm:
    return MASKED_LM
  if include_sop:
    raise ExportError(
        "the checkpoint has the sentence-order head (%s*) but no masked-LM "
        "head (%s*); transformers has no ALBERT class with only that head. "
        "Pass --noinclude_heads to export the encoder alone (AlbertModel)" %
        (SOP_SCOPE, MLM_SCOPE))
  return BASE


def hf_name(name, layout):
  """The transformers tensor name of a checkpoint variable in `layout`.

  Raises:
    ExportError: no rule maps the name.
  """
  mapped = to_hf_local_name(name)
  if mapped is None:
    raise ExportError("checkpoint variable %s has no transformers name" %
                      name)
  local = mapped[0]
  if is_base_variable(name) and layout != BASE:
    return BASE_PREFIX + local
  return local


def model_variable_shapes(albert_config, include_mlm=True, include_sop=True):
  """{variable name: shape} of AlbertModel and the chosen pretraining heads.

  Read from a graph built in a scratch tf.Graph, so the names are the ones
  the model really creates (no list kept by hand).

  Args:
    albert_config: `AlbertConfig`.
    include_mlm: with cls/predictions/*.
    include_sop: with cls/seq_relationship/*.

  Returns:
    OrderedDict of name to list of ints, in creation order.
  """
  with tf.Graph().as_default():
    _build_model_variables(albert_config, include_mlm, include_sop)
    return collections.OrderedDict(
        (v.op.name, v.shape.as_list()) for v in tf.global_variables())


def _build_model_variables(albert_config, include_mlm, include_sop):
  """Builds the model (and heads) in the default graph; its variables."""
  input_ids = tf.placeholder(tf.int32, [None, None], name="input_ids")
  model = modeling.AlbertModel(albert_config, is_training=False,
                               input_ids=input_ids)
  if include_mlm:
    positions = tf.placeholder(tf.int32, [None, None], name="positions")
    pretraining.get_masked_lm_logits(albert_config,
                                     model.get_sequence_output(),
                                     model.get_embedding_table(), positions)
  if include_sop:
    pretraining.get_sentence_order_log_probs(albert_config,
                                             model.get_pooled_output())
  return tf.global_variables()


def build_model_variables(albert_config, include_mlm=True, include_sop=True):
  """Builds the model and heads in the default graph; its variables.

  For writing a checkpoint: the variables get the names and shapes
  `model_variable_shapes` lists.
  """
  return _build_model_variables(albert_config, include_mlm, include_sop)


def hf_group_index(layer_index, num_hidden_layers, num_hidden_groups):
  """The group transformers' AlbertTransformer gives layer `layer_index`."""
  return int(layer_index / (num_hidden_layers / num_hidden_groups))


def check_group_assignment(albert_config):
  """Fails if transformers would share the layers among groups differently.

  Raises:
    ExportError: naming the first layer whose group differs.
  """
  layers = albert_config.num_hidden_layers
  groups = albert_config.num_hidden_groups
  for layer in range(layers):
    ours = modeling.group_index(layer, layers, groups)
    theirs = hf_group_index(layer, layers, groups)
    if ours != theirs:
      raise ExportError(
          "num_hidden_layers=%d with num_hidden_groups=%d cannot be "
          "converted: layer %d uses group %d here but group %d in "
          "transformers (which computes int(l / (L / G)) in floating point)" %
          (layers, groups, layer, ours, theirs))


def head_split_shape(name, shape, num_attention_heads):
  """The einsum layout's shape of an attention variable, or None.

  The attention projections are stored 2-D here ([H, N*D], [N*D, H],
  [N*D]), as in the released checkpoints; checkpoints written in the einsum
  layout split them by head ([H, N, D], [N, D, H], [N, D]). Row-major, both
  hold the same values in the same order, so a reshape converts them.
  """
  if "/attention_1/" not in name:
    return None
  n = num_attention_heads
  if name.endswith("/output/dense/kernel"):
    return [n, shape[0] // n, shape[1]]
  if "/self/" in name and name.endswith("/kernel"):
    return [shape[0], n, shape[1] // n]
  if "/self/" in name and name.endswith("/bias"):
    return [n, shape[0] // n]
  return None


def read_variables(reader, expected_shapes, what, num_attention_heads):
  """Reads the expected variables from a checkpoint, in our 2-D layout.

  Args:
    reader: a `tf.train.load_checkpoint` reader.
    expected_shapes: {name: shape} to read.
    what: the checkpoint, for messages.
    num_attention_heads: N, to recognise attention variables stored split
      by head (`head_split_shape`).

  Returns:
    OrderedDict of name to float32 numpy array of the expected shape.

  Raises:
    ExportError: variables missing, or stored in another shape.
  """
  stored = reader.get_variable_to_shape_map()
  missing = [n for n in expected_shapes if n not in stored]
  if missing:
    raise ExportError("%s lacks %d of the model's %d variables: %s" %
                      (what, len(missing), len(expected_shapes),
                       name_list(missing)))
  values = collections.OrderedDict()
  mismatches = []
  for name, shape in expected_shapes.items():
    stored_shape = list(stored[name])
    if stored_shape != shape and stored_shape != head_split_shape(
        name, shape, num_attention_heads):
      mismatches.append("%s: config says %s, checkpoint has %s" %
                        (name, shape, stored_shape))
      continue
    value = np.asarray(reader.get_tensor(name))
    if not np.issubdtype(value.dtype, np.floating):
      mismatches.append("%s: dtype %s, expected float" % (name, value.dtype))
      continue
    values[name] = value.astype(np.float32).reshape(shape)
  if mismatches:
    raise ExportError(
        "%s does not match the config (is the albert_config.json this "
        "checkpoint's?): %s" % (what, "; ".join(mismatches[:12]) +
                                (" ..." if len(mismatches) > 12 else "")))
  return values


def to_hf_tensors(albert_config, variables, layout):
  """The transformers state dict of our variables.

  Args:
    albert_config: `AlbertConfig`.
    variables: {checkpoint name: float32 array} of every model variable of
      `layout` (see `model_variable_shapes`).
    layout: PRETRAINING, MASKED_LM or BASE.

  Returns:
    OrderedDict of transformers name to C-contiguous float32 array.

  Raises:
    ExportError: a variable no rule maps (named), or a config transformers
      would run differently.
  """
  check_group_assignment(albert_config)
  unmapped = [n for n in variables if to_hf_local_name(n) is None]
  if unmapped:
    raise ExportError("%d variable(s) have no transformers name: %s" %
                      (len(unmapped), name_list(unmapped)))
  tensors = collections.OrderedDict()
  for name, value in variables.items():
    _, transposed = to_hf_local_name(name)
    tensors[hf_name(name, layout)] = np.ascontiguousarray(
        value.T if transposed else value, dtype=np.float32)
  if albert_config.embedding_size == albert_config.hidden_size:
    # transformers projects E -> H even when they are equal; the identity
    # makes its projection a no-op, as ours is.
    prefix = BASE_PREFIX if layout != BASE else ""
    size = albert_config.hidden_size
    tensors[prefix + "encoder.embedding_hidden_mapping_in.weight"] = np.eye(
        size, dtype=np.float32)
    tensors[prefix + "encoder.embedding_hidden_mapping_in.bias"] = np.zeros(
        size, np.float32)
  return tensors


def expected_hf_shapes(albert_config, layout):
  """{transformers name: shape} an export of `layout` holds."""
  include_mlm = layout in (PRETRAINING, MASKED_LM)
  include_sop = layout == PRETRAINING
  shapes = collections.OrderedDict()
  for name, shape in model_variable_shapes(albert_config, include_mlm,
                                           include_sop).items():
    _, transposed = to_hf_local_name(name)
    shapes[hf_name(name, layout)] = shape[::-1] if transposed else shape
  if albert_config.embedding_size == albert_config.hidden_size:
    prefix = BASE_PREFIX if layout != BASE else ""
    size = albert_config.hidden_size
    shapes[prefix + "encoder.embedding_hidden_mapping_in.weight"] = [size,
                                                                     size]
    shapes[prefix + "encoder.embedding_hidden_mapping_in.bias"] = [size]
  return shapes


def _as_float32(name, value, source):
  value = np.asarray(value)
  if not np.issubdtype(value.dtype, np.floating):
    raise ExportError("%s: tensor %s has dtype %s; expected floating point "
                      "weights" % (source, name, value.dtype))
  return value.astype(np.float32, copy=False)


def _untie(tensors, tied_name, owner_name, source):
  """Drops a tied duplicate, or fills its owner from it; fails if untied."""
  if tied_name not in tensors:
    return
  tied = tensors.pop(tied_name)
  if owner_name not in tensors:
    tensors[owner_name] = tied
  elif not np.array_equal(tensors[owner_name], tied):
    raise ExportError(
        "%s: %s differs from %s; this model ties them (the masked-LM "
        "decoder is the word-embedding table and its bias is "
        "predictions.bias), so an untied decoder cannot be imported" %
        (source, tied_name, owner_name))


def from_hf_tensors(albert_config, tensors, source):
  """Our checkpoint variables from a transformers state dict.

  Accepts the three layouts (AlbertForPreTraining, AlbertForMaskedLM,
  AlbertModel with or without the `albert.` prefix), tied decoder tensors
  equal to what they are tied to, and the position_ids / token_type_ids
  buffers older transformers saved (dropped).

  Args:
    albert_config: `AlbertConfig` of the model (from its config.json).
    tensors: {name: numpy array}.
    source: the weights file, for messages.

  Returns:
    (OrderedDict of checkpoint name to float32 array in our layout,
     include_mlm, include_sop).

  Raises:
    ExportError: one line naming the tensors no rule maps, the variables
      missing, shapes that do not fit the config, untied decoder weights, or
      a non-identity embedding_hidden_mapping_in where E == H.
  """
  local = collections.OrderedDict()
  duplicated = []
  for name, value in tensors.items():
    short = name[len(BASE_PREFIX):] if name.startswith(BASE_PREFIX) else name
    if short in _BUFFERS:
      continue
    if short in local:
      duplicated.append(name)
    local[short] = _as_float32(name, value, source)
  if duplicated:
    raise ExportError("%s holds %s both with and without the %r prefix" %
                      (source, name_list(duplicated), BASE_PREFIX))
  _untie(local, TIED_DECODER_WEIGHT, "embeddings.word_embeddings.weight",
         source)
  _untie(local, TIED_DECODER_BIAS, "predictions.bias", source)

  include_mlm = any(n.startswith("predictions.") for n in local)
  include_sop = any(n.startswith("sop_classifier.") for n in local)
  expected = model_variable_shapes(albert_config, include_mlm, include_sop)
  mapping_in = "encoder.embedding_hidden_mapping_in."
  same_width = albert_config.embedding_size == albert_config.hidden_size

  variables = collections.OrderedDict()
  unmapped, mismatches = [], []
  for name, value in local.items():
    if same_width and name.startswith(mapping_in):
      _check_identity_mapping(name, value, albert_config.hidden_size, source)
      continue
    mapped = from_hf_local_name(name)
    if mapped is None or mapped[0] not in expected:
      unmapped.append(name)
      continue
    ours, transposed = mapped
    if transposed and value.ndim == 2:
      value = value.T
    if list(value.shape) != expected[ours]:
      mismatches.append("%s: %s, the config needs %s" %
                        (name, list(value.shape),
                         expected[ours][::-1] if transposed else
                         expected[ours]))
      continue
    variables[ours] = np.ascontiguousarray(value)
  if unmapped:
    raise ExportError(
        "%s holds %d tensor(s) with no place in an ALBERT model of this "
        "config.json (another architecture or task head?): %s" %
        (source, len(unmapped), name_list(unmapped)))
  if mismatches:
    raise ExportError("%s does not match its config.json: %s" %
                      (source, "; ".join(mismatches[:12]) +
                       (" ..." if len(mismatches) > 12 else "")))
  missing = [n for n in expected if n not in variables]
  if missing:
    raise ExportError(
        "%s lacks %d tensor(s) the model needs: %s" %
        (source, len(missing),
         name_list(hf_name(n, PRETRAINING) for n in missing)))
  ordered = collections.OrderedDict((n, variables[n]) for n in expected)
  return ordered, include_mlm, include_sop


def _check_identity_mapping(name, value, size, source):
  """With E == H our model has no projection: only the identity fits."""
  if name.endswith(".weight"):
    fits = value.shape == (size, size) and np.array_equal(
        value, np.eye(size, dtype=value.dtype))
  else:
    fits = value.shape == (size,) and not np.any(value)
  if not fits:
    raise ExportError(
        "%s: %s is not the identity, but embedding_size == hidden_size and "
        "this model has no embedding_hidden_mapping_in for that case; it "
        "cannot be imported without changing the outputs" %
        (source, BASE_PREFIX + name))


def hf_activation(hidden_act):
  """transformers' name of our hidden_act.

  Raises:
    ExportError: an activation transformers has no name for.
  """
  act = (hidden_act or "").lower()
  if act not in _ACT_TO_HF:
    raise ExportError("hidden_act %r has no transformers equivalent" %
                      hidden_act)
  return _ACT_TO_HF[act]


def activation_from_hf(hidden_act, source):
  """Our hidden_act for transformers' name.

  Its "gelu" (exact, erf) is not what this model computes (the tanh
  approximation, transformers' "gelu_new"); ALBERT was pretrained with the
  tanh form, so it is accepted with a warning.

  Raises:
    ExportError: an activation this model does not have.
  """
  if not isinstance(hidden_act, str):
    raise ExportError("%s: hidden_act must be a string, got %r" %
                      (source, hidden_act))
  act = hidden_act.lower()
  if act == "gelu":
    tf.logging.warning(
        "%s: hidden_act 'gelu' is the exact (erf) GELU in transformers; "
        "this model computes the tanh approximation ('gelu_new'), which "
        "differs by up to ~1e-3 per activation", source)
    return "gelu"
  if act not in _ACT_FROM_HF:
    raise ExportError("%s: hidden_act %r is not supported; expected one of "
                      "%s" % (source, hidden_act,
                              ", ".join(sorted(_ACT_FROM_HF) + ["gelu"])))
  return _ACT_FROM_HF[act]


def hf_config_dict(albert_config, layout, token_ids):
  """config.json contents for transformers.

  Args:
    albert_config: `AlbertConfig`.
    layout: PRETRAINING, MASKED_LM or BASE (goes into `architectures`).
    token_ids: {"pad_token_id", "bos_token_id", "eos_token_id"}.

  Returns:
    dict.
  """
  config = collections.OrderedDict()
  config["architectures"] = [layout]
  config["model_type"] = "albert"
  for key in _SHARED_KEYS:
    config[key] = getattr(albert_config, key)
  config["hidden_act"] = hf_activation(albert_config.hidden_act)
  config["layer_norm_eps"] = LAYER_NORM_EPS
  # Our classifiers take their dropout from a flag; this is transformers'
  # default for its task heads.
  config["classifier_dropout_prob"] = 0.1
  config["position_embedding_type"] = "absolute"
  config.update(sorted(token_ids.items()))
  return config


def albert_config_from_hf(hf_config, source):
  """Our `AlbertConfig` from a transformers config.json dict.

  Raises:
    ExportError: not an ALBERT config, or one this model cannot compute
      (relative positions, another LayerNorm epsilon, an unknown
      activation), or invalid values.
  """
  if not isinstance(hf_config, dict):
    raise ExportError("%s must be a JSON object" % source)
  model_type = hf_config.get("model_type")
  if model_type != "albert":
    architectures = hf_config.get("architectures") or []
    if model_type is not None or not architectures or not all(
        isinstance(a, str) and a.startswith("Albert") for a in architectures):
      raise ExportError("%s has model_type %r; expected 'albert' (this "
                        "converts ALBERT models only)" % (source, model_type))
  values = dict(_HF_DEFAULTS)
  values.update(hf_config)
  position = values["position_embedding_type"]
  if position != "absolute":
    raise ExportError("%s: position_embedding_type %r is not supported; this "
                      "model has absolute position embeddings only" %
                      (source, position))
  eps = values["layer_norm_eps"]
  if (isinstance(eps, bool) or not isinstance(eps, (int, float)) or
      not np.isclose(eps, LAYER_NORM_EPS, rtol=1e-3, atol=0)):
    raise ExportError("%s: layer_norm_eps %r is not supported; this model's "
                      "LayerNorm uses %g" % (source, eps, LAYER_NORM_EPS))
  ours = {key: values[key] for key in _SHARED_KEYS if key in values}
  ours["hidden_act"] = activation_from_hf(values["hidden_act"], source)
  try:
    config = modeling.AlbertConfig.from_dict(ours, source=source)
    config.validate()
  except ValueError as e:
    raise ExportError("%s: %s" % (source, e))
  check_group_assignment(config)
  return config


def tokenizer_files(do_lower_case, max_length):
  """(tokenizer_config.json, special_tokens_map.json) contents.

  AlbertTokenizer's options match tokenization.FullTokenizer with a
  sentencepiece model: whitespace folded, accents stripped, lower-cased
  when do_lower_case. (AlbertTokenizer also turns `` and '' into ", which
  no option turns off; FullTokenizer leaves them alone.)
  """
  tokenizer_config = collections.OrderedDict([
      ("tokenizer_class", "AlbertTokenizer"),
      ("do_lower_case", bool(do_lower_case)),
      ("remove_space", True),
      ("keep_accents", False),
      ("model_max_length", int(max_length)),
  ])
  tokenizer_config.update(SPECIAL_TOKENS)
  return tokenizer_config, collections.OrderedDict(SPECIAL_TOKENS)
