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
"""Where a session step's time goes, by op class.

`profile_step` runs one step with TensorFlow's full trace and sums each
executed op's time (its RunMetadata step stats) into the classes of
`OP_CLASSES`; `op_class` says which class an op belongs to from its type
and name scope. The same class names are used by scripts/benchmark_hf.py
for PyTorch (torch.profiler), so the two profiles read side by side.

Op times are each op's own start-to-end on its thread. TensorFlow runs
independent ops concurrently (inter-op parallelism), so the sum can exceed
the step's wall time; shares are of the summed op time.

Not here: timing many steps (albert.benchmark).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections

import tensorflow.compat.v1 as tf

# Every class, in the order tables print them.
OP_CLASSES = ("matmul", "batch_matmul", "attention", "softmax", "layer_norm",
              "gelu", "elementwise", "cast", "transpose_reshape", "embedding",
              "gradient_sum", "optimizer", "loss", "other")

# The classes that are matrix multiplication (what the matmul peak bounds);
# "attention" is a fused attention kernel (PyTorch's SDPA), mostly its two
# batched matmuls.
MATMUL_CLASSES = ("matmul", "batch_matmul", "attention")

_MATMUL_OPS = ("MatMul", "_MklMatMul", "_FusedMatMul", "_MklFusedMatMul",
               "_MklNativeFusedMatMul", "_MklNativeMatMul", "Einsum",
               "_MklEinsum")

_BATCH_MATMUL_OPS = ("BatchMatMul", "BatchMatMulV2", "BatchMatMulV3",
                     "_MklBatchMatMul", "_MklBatchMatMulV2",
                     "_MklFusedBatchMatMulV2", "_MklNativeBatchMatMulV2")

_SHAPE_OPS = ("Transpose", "_MklTranspose", "ConjugateTranspose", "Reshape",
              "Squeeze", "ExpandDims", "Tile", "Pad", "Slice", "StridedSlice",
              "StridedSliceGrad", "Pack", "Unpack", "ConcatV2", "Split",
              "SplitV", "BroadcastTo", "Fill", "ZerosLike", "OnesLike")

_EMBEDDING_OPS = ("GatherV2", "ResourceGather", "UnsortedSegmentSum",
                  "OneHot")

_UPDATE_OPS = ("Assign", "AssignAdd", "AssignSub", "AssignVariableOp",
               "ApplyAdam", "ResourceApplyAdam")

# Bookkeeping that takes no time worth a class.
_IGNORED_OPS = ("_SOURCE", "_SINK", "Const", "VariableV2", "VarHandleOp",
                "ReadVariableOp", "Identity", "NoOp", "_Retval", "_Arg",
                "_Recv", "_Send", "TemporaryVariable",
                "DestroyTemporaryVariable")


def op_class(op_type, node_name):
  """The class of `OP_CLASSES` one executed op belongs to.

  Matmuls (fused with their bias and activation or not) are matmuls
  wherever they are; the rest is classed by what it computes, read from
  the name scopes the model gives it (GELU, LayerNorm, the attention
  softmax, the heads' loss, the embeddings), then by op type. Gradient ops
  carry their forward op's scope, so a class holds both directions.

  Args:
    op_type: the executed kernel's op type, e.g. "_MklNativeFusedMatMul".
    node_name: the graph node's name.

  Returns:
    str, one of OP_CLASSES, or None for bookkeeping ops (constants,
    variables, identities) that take no time worth counting.
  """
  if op_type in _IGNORED_OPS:
    return None
  if op_type in _MATMUL_OPS:
    return "matmul"
  if op_type in _BATCH_MATMUL_OPS:
    return "batch_matmul"
  if op_type in ("Softmax", "_MklSoftmax") or "attention_probs" in node_name:
    return "softmax"
  if "/Gelu" in node_name or op_type == "Gelu":
    return "gelu"
  if "LayerNorm" in node_name:
    return "layer_norm"
  if op_type == "Cast":
    return "cast"
  if op_type in _UPDATE_OPS or _is_optimizer(node_name):
    return "optimizer"
  if node_name.startswith(("cls/", "gradients/cls/")) or op_type in (
      "LogSoftmax", "SparseSoftmaxCrossEntropyWithLogits"):
    return "loss"
  if op_type in _EMBEDDING_OPS or "/embeddings/" in node_name:
    return "embedding"
  if op_type == "AddN" and node_name.startswith("gradients/"):
    return "gradient_sum"
  if op_type in _SHAPE_OPS:
    return "transpose_reshape"
  if op_type[:1].isupper() and not op_type.startswith("_"):
    return "elementwise"
  return "other"


def _is_optimizer(node_name):
  """Whether a node is part of the update after the gradients.

  optimization.create_optimizer builds clipping, accumulation and the
  update under the name scope "optimizer"; the learning-rate schedule
  is its own top-level scope.
  """
  return node_name.startswith(("optimizer/", "PolynomialDecay",
                               "learning_rate"))


def executed_ops(step_stats):
  """[(op type, node name, seconds)] of the ops one traced step ran.

  Args:
    step_stats: a `tf.RunMetadata`'s step_stats.
  """
  ops = []
  for device in step_stats.dev_stats:
    for node in device.node_stats:
      label = node.timeline_label  # "name = OpType(inputs)"
      op_type = (label.split(" = ", 1)[1].split("(", 1)[0]
                 if " = " in label else node.node_name)
      ops.append((op_type, node.node_name,
                  (node.op_end_rel_micros - node.op_start_rel_micros) / 1e6))
  return ops


def classify_step_stats(step_stats):
  """{class: seconds} summed over the executed ops of one traced step.

  Args:
    step_stats: a `tf.RunMetadata`'s step_stats.

  Returns:
    OrderedDict over OP_CLASSES (every class, zeros included).
  """
  seconds = collections.OrderedDict((name, 0.0) for name in OP_CLASSES)
  for op_type, node_name, op_seconds in executed_ops(step_stats):
    kind = op_class(op_type, node_name)
    if kind is not None:
      seconds[kind] += op_seconds
  return seconds


def trace_step(session, fetches):
  """Runs `fetches` once with a full trace; returns its step stats."""
  options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
  metadata = tf.RunMetadata()
  session.run(fetches, options=options, run_metadata=metadata)
  return metadata.step_stats


def profile_step(session, fetches):
  """{class: seconds} of one traced run of `fetches`."""
  return classify_step_stats(trace_step(session, fetches))


def outside_matmul_share(class_seconds):
  """The share of summed op time not in MATMUL_CLASSES (0 to 1)."""
  total = sum(class_seconds.values())
  if not total:
    return 0.0
  matmuls = sum(class_seconds.get(name, 0.0) for name in MATMUL_CLASSES)
  return 1.0 - matmuls / total


def format_profile(title, class_seconds, step_seconds):
  """A table of milliseconds and shares per class, the largest first.

  Args:
    title: what was profiled, e.g. "train (bf16)".
    class_seconds: {class: seconds}, as `classify_step_stats` gives.
    step_seconds: the step's (timed) wall time, for scale.
  """
  total = sum(class_seconds.values())
  lines = ["profile %s: %.1f ms of op time in a %.1f ms step" %
           (title, total * 1000, step_seconds * 1000),
           "%-18s %9s %7s" % ("class", "ms", "share")]
  for name, seconds in sorted(class_seconds.items(), key=lambda kv: -kv[1]):
    if seconds > 0:
      lines.append("%-18s %9.1f %6.1f%%" %
                   (name, seconds * 1000, 100.0 * seconds / total))
  lines.append("outside matmuls: %.1f%% (all but %s)" %
               (100.0 * outside_matmul_share(class_seconds),
                ", ".join(MATMUL_CLASSES)))
  return "\n".join(lines)
