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
"""ALBERT as an ONNX graph, built from a checkpoint's numpy weights.

  build_model(albert_config, weights, head=None) -> onnx.ModelProto

`weights` maps checkpoint variable names (`bert/embeddings/...`,
`bert/encoder/transformer/group_g/inner_group_k/...`, a task head's
`output_weights`, ...) to float32 arrays in the released 2-D layout;
`expected_shapes` lists what a config (and head) needs. The graph computes
what modeling.AlbertModel(is_training=False) computes, op by op:

  inputs   input_ids, input_mask, segment_ids: int32 [B, S] (B and S are
           dynamic; int32 as in the TF-Hub signatures and SavedModels)
  outputs  sequence_output float32 [B, S, H], pooled_output [B, H]
  heads    classifier: logits [B, C], probabilities [B, C] (a one-label
             head is STS-B's regression: logits [B], probabilities the
             score [B, 1], as its SavedModel)
           squad (v1): start_logits [B, S], end_logits [B, S]
           race: inputs [B, 4 * L] (the four choices one after the other,
             as run_race's SavedModel takes them) -> choice_logits [B, 4],
             probabilities [B, 4]; the encoder outputs are then per choice,
             [4B, L, H] and [4B, H], row b * 4 + c

Every initializer is named after its checkpoint variable and stored once:
the L layers of a group all read the same tensors, as ALBERT shares them,
so the file is about the size of the float32 parameters. Opset 17 (it has
LayerNormalization; GELU, which has no op before opset 20, is spelt out in
its tanh approximation, as modeling.gelu computes it).

Not here: reading checkpoints and writing files (export_to_onnx), running
and quantizing models (onnx_runtime).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import math

import numpy as np
import onnx
from onnx import helper
from onnx import numpy_helper

from albert import modeling
from albert import race_utils

OPSET = 17
PRODUCER_NAME = "albert"
INPUT_NAMES = ("input_ids", "input_mask", "segment_ids")
ENCODER_OUTPUTS = ("sequence_output", "pooled_output")
HEAD_OUTPUTS = collections.OrderedDict([
    ("classifier", ("logits", "probabilities")),
    ("squad", ("start_logits", "end_logits")),
    ("race", ("choice_logits", "probabilities")),
])
HEADS = tuple(HEAD_OUTPUTS)
NUM_CHOICES = race_utils.NUM_CHOICES
# modeling.layer_norm's epsilon and dot_product_attention's mask logit.
LAYER_NORM_EPSILON = 1e-12
MASK_LOGIT = -10000.0
_LAYER = "bert/encoder/transformer/group_%d/inner_group_%d/"


def expected_shapes(albert_config, head=None, num_labels=None):
  """{checkpoint variable name: shape} that build_model reads.

  Args:
    albert_config: `modeling.AlbertConfig`.
    head: None or one of HEADS.
    num_labels: the classifier's C (read from its output_weights).

  Returns:
    OrderedDict of name to list of ints, encoder first, in the order of
    modeling.AlbertModel's variables.
  """
  c = albert_config
  e, h, i = c.embedding_size, c.hidden_size, c.intermediate_size
  shapes = collections.OrderedDict([
      ("bert/embeddings/word_embeddings", [c.vocab_size, e]),
      ("bert/embeddings/token_type_embeddings", [c.type_vocab_size, e]),
      ("bert/embeddings/position_embeddings",
       [c.max_position_embeddings, e]),
      ("bert/embeddings/LayerNorm/beta", [e]),
      ("bert/embeddings/LayerNorm/gamma", [e])])
  if e != h:
    shapes["bert/encoder/embedding_hidden_mapping_in/kernel"] = [e, h]
    shapes["bert/encoder/embedding_hidden_mapping_in/bias"] = [h]
  for group in range(c.num_hidden_groups):
    for inner in range(c.inner_group_num):
      prefix = _LAYER % (group, inner)
      for name, shape in [
          ("attention_1/self/query", [h, h]), ("attention_1/self/key", [h, h]),
          ("attention_1/self/value", [h, h]),
          ("attention_1/output/dense", [h, h]),
          ("LayerNorm", None), ("ffn_1/intermediate/dense", [h, i]),
          ("ffn_1/intermediate/output/dense", [i, h]), ("LayerNorm_1", None)]:
        if shape is None:
          shapes[prefix + name + "/beta"] = [h]
          shapes[prefix + name + "/gamma"] = [h]
        else:
          shapes[prefix + name + "/kernel"] = shape
          shapes[prefix + name + "/bias"] = shape[-1:]
  shapes["bert/pooler/dense/kernel"] = [h, h]
  shapes["bert/pooler/dense/bias"] = [h]
  shapes.update(_head_shapes(head, h, num_labels))
  return shapes


def _head_shapes(head, hidden_size, num_labels):
  """{name: shape} of a task head's variables (see expected_shapes)."""
  if head is None:
    return {}
  if head == "classifier":
    return collections.OrderedDict([
        ("output_weights", [num_labels, hidden_size]),
        ("output_bias", [num_labels])])
  if head == "squad":
    return collections.OrderedDict([
        ("cls/squad/output_weights", [2, hidden_size]),
        ("cls/squad/output_bias", [2])])
  if head == "race":
    return collections.OrderedDict([
        ("output_weights", [1, hidden_size]), ("output_bias", [1])])
  raise ValueError("head %r: expected one of %s" % (head, ", ".join(HEADS)))


class _Graph(object):
  """Nodes and initializers under construction; names made unique here."""

  def __init__(self, weights):
    self.weights = weights
    self.nodes = []
    self.initializers = collections.OrderedDict()

  def weight(self, name):
    """The initializer of checkpoint variable `name`, added once."""
    if name not in self.initializers:
      if name not in self.weights:
        raise ValueError("the weights lack %s, which the model needs" % name)
      value = np.asarray(self.weights[name], dtype=np.float32)
      self.initializers[name] = numpy_helper.from_array(value, name)
    return name

  def constant(self, name, value, dtype=np.int64):
    """A small constant initializer (shapes, axes, scalars), added once."""
    name = "const/" + name
    if name not in self.initializers:
      self.initializers[name] = numpy_helper.from_array(
          np.asarray(value, dtype=dtype), name)
    return name

  def op(self, op_type, inputs, name, num_outputs=1, **attributes):
    """Adds one node named `name`; returns its output (or outputs)."""
    outputs = [name] if num_outputs == 1 else [
        "%s:%d" % (name, k) for k in range(num_outputs)]
    self.nodes.append(helper.make_node(op_type, list(inputs), outputs,
                                       name=name, **attributes))
    return outputs[0] if num_outputs == 1 else outputs


def dense(g, x, variable, name, activation=None, hidden_act=None):
  """x @ <variable>/kernel + <variable>/bias over the last axis.

  Args:
    g: the `_Graph`.
    x: float [..., W].
    variable: the checkpoint scope of kernel [W, O] and bias [O].
    name: node name prefix (unique per use: layers share variables).
    activation: None, or "tanh"; hidden_act: a config activation name.

  Returns:
    float [..., O].
  """
  y = g.op("MatMul", [x, g.weight(variable + "/kernel")], name + "/MatMul")
  y = g.op("Add", [y, g.weight(variable + "/bias")], name + "/BiasAdd")
  if activation == "tanh":
    return g.op("Tanh", [y], name + "/Tanh")
  if hidden_act is not None:
    return activate(g, y, hidden_act, name)
  return y


def gelu(g, x, name):
  """0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), modeling.gelu's."""
  cube = g.op("Mul", [g.op("Mul", [x, x], name + "/Square"), x],
              name + "/Cube")
  inner = g.op("Add", [x, g.op("Mul", [cube, g.constant(
      "gelu_0.044715", 0.044715, np.float32)], name + "/CubeScaled")],
               name + "/Inner")
  scaled = g.op("Mul", [inner, g.constant(
      "gelu_sqrt_2_over_pi", math.sqrt(2.0 / math.pi), np.float32)],
                name + "/Scaled")
  one_plus = g.op("Add", [g.op("Tanh", [scaled], name + "/Tanh"),
                          g.constant("one", 1.0, np.float32)],
                  name + "/OnePlus")
  half_x = g.op("Mul", [x, g.constant("half", 0.5, np.float32)],
                name + "/HalfX")
  return g.op("Mul", [half_x, one_plus], name + "/Gelu")


def activate(g, x, hidden_act, name):
  """The config's hidden_act (modeling.get_activation's names) applied."""
  act = (hidden_act or "linear").lower()
  if act == "gelu":
    return gelu(g, x, name)
  if act == "relu":
    return g.op("Relu", [x], name + "/Relu")
  if act == "tanh":
    return g.op("Tanh", [x], name + "/Tanh")
  if act == "swish":
    return g.op("Mul", [x, g.op("Sigmoid", [x], name + "/Sigmoid")],
                name + "/Swish")
  if act == "linear":
    return x
  raise ValueError("hidden_act %r has no ONNX form here; expected one of "
                   "gelu, relu, tanh, swish, linear" % hidden_act)


def layer_norm(g, x, variable, name):
  """LayerNormalization over the last axis with <variable>/{gamma,beta}.

  Args:
    x: float [..., W]; gamma and beta are [W]; epsilon 1e-12 as in
      modeling.layer_norm.
  """
  return g.op("LayerNormalization",
              [x, g.weight(variable + "/gamma"), g.weight(variable + "/beta")],
              name + "/LayerNorm", axis=-1, epsilon=LAYER_NORM_EPSILON)


def embeddings(g, config, input_ids, segment_ids):
  """Word + token type + position embeddings, LayerNorm: float [B, S, E].

  Args:
    input_ids, segment_ids: int32 [B, S].
  """
  prefix = "bert/embeddings/"
  words = g.op("Gather", [g.weight(prefix + "word_embeddings"), input_ids],
               "embeddings/word")
  types = g.op("Gather", [g.weight(prefix + "token_type_embeddings"),
                          segment_ids], "embeddings/token_type")
  # The table holds max_position_embeddings rows; a sequence of S tokens
  # takes the first S, as modeling.embedding_postprocessor slices it.
  seq_length = g.op("Shape", [input_ids], "embeddings/seq_length", start=1,
                    end=2)
  positions = g.op("Slice", [g.weight(prefix + "position_embeddings"),
                             g.constant("zero_1d", [0]), seq_length,
                             g.constant("zero_1d", [0])],
                   "embeddings/position")
  total = g.op("Add", [g.op("Add", [words, types], "embeddings/word_type"),
                       positions], "embeddings/sum")
  return layer_norm(g, total, prefix + "LayerNorm", "embeddings")


def attention_bias(g, input_mask):
  """(1 - mask) * -10000 as float [B, 1, 1, S], added to attention logits.

  Padding is masked as a key only, as modeling.create_attention_mask_from_
  input_mask does (the [B, 1, F, T] mask there is constant over F).
  """
  mask = g.op("Cast", [input_mask], "mask/float", to=onnx.TensorProto.FLOAT)
  inverted = g.op("Sub", [g.constant("one", 1.0, np.float32), mask],
                  "mask/inverted")
  bias = g.op("Mul", [inverted, g.constant("mask_logit", MASK_LOGIT,
                                           np.float32)], "mask/bias")
  return g.op("Unsqueeze", [bias, g.constant("axes_1_2", [1, 2])],
              "mask/bias_4d")


def _heads(g, x, variable, name, config, transpose):
  """A [B, S, H] projection split into heads: [B, N, S, D] (transpose
  [0, 2, 1, 3]) or, for keys, [B, N, D, S] ([0, 2, 3, 1])."""
  n = config.num_attention_heads
  d = config.hidden_size // n
  y = dense(g, x, variable, name)
  y = g.op("Reshape", [y, g.constant("heads_%d_%d" % (n, d), [0, 0, n, d])],
           name + "/SplitHeads")
  return g.op("Transpose", [y], name + "/Transpose", perm=transpose)


def attention(g, config, x, mask_bias, prefix, name):
  """Multi-head self-attention and its output projection: float [B, S, H].

  Args:
    x: float [B, S, H].
    mask_bias: float [B, 1, 1, S] from attention_bias.
    prefix: the block's checkpoint scope (…/inner_group_k/).
    name: node name prefix of this application of the block.
  """
  q = _heads(g, x, prefix + "attention_1/self/query", name + "/query",
             config, [0, 2, 1, 3])
  k = _heads(g, x, prefix + "attention_1/self/key", name + "/key", config,
             [0, 2, 3, 1])
  v = _heads(g, x, prefix + "attention_1/self/value", name + "/value",
             config, [0, 2, 1, 3])
  d = config.hidden_size // config.num_attention_heads
  logits = g.op("MatMul", [q, k], name + "/logits")  # [B, N, S, S]
  # Scaled after the product, as modeling.dot_product_attention does.
  logits = g.op("Mul", [logits, g.constant(
      "inv_sqrt_%d" % d, 1.0 / math.sqrt(float(d)), np.float32)],
                name + "/scaled")
  logits = g.op("Add", [logits, mask_bias], name + "/masked")
  probs = g.op("Softmax", [logits], name + "/probs", axis=-1)
  context = g.op("MatMul", [probs, v], name + "/context")  # [B, N, S, D]
  context = g.op("Transpose", [context], name + "/context_t",
                 perm=[0, 2, 1, 3])
  context = g.op("Reshape", [context, g.constant(
      "merge_%d" % config.hidden_size, [0, 0, config.hidden_size])],
                 name + "/merge_heads")
  return dense(g, context, prefix + "attention_1/output/dense",
               name + "/output")


def ffn(g, config, x, prefix, name):
  """The feed-forward layer: float [B, S, H] -> [B, S, I] -> [B, S, H]."""
  hidden = dense(g, x, prefix + "ffn_1/intermediate/dense",
                 name + "/intermediate", hidden_act=config.hidden_act)
  return dense(g, hidden, prefix + "ffn_1/intermediate/output/dense",
               name + "/output")


def block(g, config, x, mask_bias, prefix, name):
  """attention_ffn_block: post-LayerNorm attention then FFN, [B, S, H]."""
  attended = attention(g, config, x, mask_bias, prefix, name + "/attention")
  attended = layer_norm(
      g, g.op("Add", [attended, x], name + "/attention/residual"),
      prefix + "LayerNorm", name + "/attention")
  output = ffn(g, config, attended, prefix, name + "/ffn")
  return layer_norm(
      g, g.op("Add", [output, attended], name + "/ffn/residual"),
      prefix + "LayerNorm_1", name + "/ffn")


def transformer(g, config, embedded, mask_bias):
  """The shared-layer encoder: float [B, S, E] -> [B, S, H].

  Layer l applies the inner_group_num blocks of group
  modeling.group_index(l, L, G); every application reads the group's
  same initializers.
  """
  x = embedded
  if config.embedding_size != config.hidden_size:
    x = dense(g, x, "bert/encoder/embedding_hidden_mapping_in",
              "encoder/embedding_hidden_mapping_in")
  for layer in range(config.num_hidden_layers):
    group = modeling.group_index(layer, config.num_hidden_layers,
                                 config.num_hidden_groups)
    for inner in range(config.inner_group_num):
      x = block(g, config, x, mask_bias, _LAYER % (group, inner),
                "encoder/layer_%d/inner_group_%d" % (layer, inner))
  return x


def pooler(g, sequence_output):
  """tanh(dense(first token)): float [B, S, H] -> [B, H]."""
  first = g.op("Gather", [sequence_output, g.constant("zero", 0)],
               "pooler/first_token", axis=1)
  return dense(g, first, "bert/pooler/dense", "pooler/dense",
               activation="tanh")


def _scores(g, x, prefix, name):
  """x @ <prefix>output_weights^T + <prefix>output_bias: [B, H] -> [B, C].

  The weights stay in the checkpoint's [C, H] layout (Gemm transB).
  """
  return g.op("Gemm", [x, g.weight(prefix + "output_weights"),
                       g.weight(prefix + "output_bias")], name, transB=1)


def classifier_head(g, pooled_output, num_labels):
  """classifier_utils.create_model's head: {output name: tensor name}.

  Returns logits [B, C] and probabilities softmax [B, C]; for one label
  (STS-B regression) logits [B] and probabilities the score [B, 1].
  """
  logits = _scores(g, pooled_output, "", "classifier/logits_2d")
  if num_labels == 1:
    squeezed = g.op("Squeeze", [logits, g.constant("axes_last", [-1])],
                    "classifier/logits")
    return {"logits": squeezed, "probabilities": logits}
  return {"logits": logits,
          "probabilities": g.op("Softmax", [logits], "classifier/probs",
                                axis=-1)}


def squad_head(g, sequence_output):
  """squad_heads.create_v1_model's head: start/end logits [B, S]."""
  kernel = g.op("Transpose", [g.weight("cls/squad/output_weights")],
                "squad/kernel", perm=[1, 0])  # [H, 2]
  logits = g.op("MatMul", [sequence_output, kernel], "squad/MatMul")
  logits = g.op("Add", [logits, g.weight("cls/squad/output_bias")],
                "squad/logits")  # [B, S, 2]
  return {"start_logits": g.op("Gather", [logits, g.constant("zero", 0)],
                               "squad/start_logits", axis=2),
          "end_logits": g.op("Gather", [logits, g.constant("one_i", 1)],
                             "squad/end_logits", axis=2)}


def race_head(g, pooled_output):
  """race_utils.create_model's head: choice logits and probabilities [B, 4].

  Args:
    pooled_output: float [4B, H], choice c of example b in row b * 4 + c.
  """
  scores = _scores(g, pooled_output, "", "race/scores")  # [4B, 1]
  logits = g.op("Reshape", [scores, g.constant(
      "choices", [-1, NUM_CHOICES])], "race/choice_logits")
  return {"choice_logits": logits,
          "probabilities": g.op("Softmax", [logits], "race/probs", axis=-1)}


def _race_inputs(g, inputs):
  """[B, 4 * L] -> [4B, L] for each input, the choices as rows."""
  flat = []
  for name in inputs:
    split = g.op("Reshape", [name, g.constant(
        "split_choices", [0, NUM_CHOICES, -1])], "race/%s/split" % name)
    flat.append(g.op("Flatten", [split], "race/%s/rows" % name, axis=2))
  return flat


def _value_info(name, dims, elem_type=onnx.TensorProto.FLOAT):
  return helper.make_tensor_value_info(name, elem_type, dims)


def _graph_io(config, head, num_labels):
  """(inputs, outputs) value infos, with named dynamic axes."""
  h = config.hidden_size
  width = "choices_x_sequence" if head == "race" else "sequence"
  inputs = [_value_info(name, ["batch", width], onnx.TensorProto.INT32)
            for name in INPUT_NAMES]
  rows = "batch_x_choices" if head == "race" else "batch"
  outputs = [_value_info("sequence_output", [rows, "sequence", h]),
             _value_info("pooled_output", [rows, h])]
  if head == "classifier":
    c = num_labels
    outputs += [_value_info("logits", ["batch"] if c == 1 else ["batch", c]),
                _value_info("probabilities", ["batch", c])]
  elif head == "squad":
    outputs += [_value_info("start_logits", ["batch", "sequence"]),
                _value_info("end_logits", ["batch", "sequence"])]
  elif head == "race":
    outputs += [_value_info(name, ["batch", NUM_CHOICES])
                for name in HEAD_OUTPUTS["race"]]
  return inputs, outputs


def build_model(albert_config, weights, head=None):
  """The ONNX model of the encoder (and a task head); see the docstring.

  Args:
    albert_config: `modeling.AlbertConfig`.
    weights: {checkpoint variable name: float array} holding at least
      `expected_shapes(albert_config, head, C)` in that layout.
    head: None, "classifier", "squad" or "race".

  Returns:
    onnx.ModelProto (opset 17), checked by onnx.checker.

  Raises:
    ValueError: an unknown head or activation, or a weight missing or of
      another shape than the config needs (naming it and both shapes).
  """
  albert_config.validate()
  num_labels = None
  if head == "classifier":
    num_labels = int(np.shape(weights.get("output_weights", [[]]))[0])
  for name, shape in expected_shapes(albert_config, head, num_labels).items():
    if name not in weights:
      raise ValueError("the weights lack %s %s" % (name, shape))
    if list(np.shape(weights[name])) != shape:
      raise ValueError("weight %s is %s; the config needs %s" %
                       (name, list(np.shape(weights[name])), shape))
  g = _Graph(weights)
  ids, mask, segments = INPUT_NAMES
  if head == "race":
    ids, mask, segments = _race_inputs(g, INPUT_NAMES)
  sequence = transformer(g, albert_config,
                         embeddings(g, albert_config, ids, segments),
                         attention_bias(g, mask))
  results = {"sequence_output": sequence, "pooled_output": pooler(g, sequence)}
  if head == "classifier":
    results.update(classifier_head(g, results["pooled_output"], num_labels))
  elif head == "squad":
    results.update(squad_head(g, sequence))
  elif head == "race":
    results.update(race_head(g, results["pooled_output"]))
  inputs, outputs = _graph_io(albert_config, head, num_labels)
  for info in outputs:  # Graph outputs get their public names.
    g.op("Identity", [results[info.name]], info.name)
  graph = helper.make_graph(g.nodes, "albert", inputs, outputs,
                            initializer=list(g.initializers.values()))
  model = helper.make_model(
      graph, producer_name=PRODUCER_NAME,
      opset_imports=[helper.make_opsetid("", OPSET)],
      doc_string="ALBERT encoder%s" % (" with the %s head" % head
                                       if head else ""))
  helper.set_model_props(model, {"albert_config": albert_config.describe(),
                                 "head": head or "none"})
  onnx.checker.check_model(model)
  return model


def parameter_bytes(model):
  """float32 bytes of the model's weight initializers (constants aside)."""
  return sum(int(np.prod(t.dims)) * 4 for t in model.graph.initializer
             if not t.name.startswith("const/"))
