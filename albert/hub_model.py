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
"""The graph every ALBERT export holds, and the check that a checkpoint fills it.

`build_model_outputs` builds the encoder with the released pretraining
heads (masked-LM logits, sentence-order log-probabilities) under the
released variable names; `check_checkpoint` builds it in a scratch graph
and fails, in one line, when the checkpoint lacks a variable or holds it in
another shape. The TF1 hub, TF2 SavedModel and checkpoint exporters share
them.

Not here: signatures, assets and writing (the exporters, export_utils).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import tensorflow.compat.v1 as tf

from albert import export_utils
from albert import modeling
from albert import pretraining


def get_mlm_logits(input_tensor, albert_config, mlm_positions,
                   output_weights):
  """The released masked-LM head, returning logits instead of a loss.

  The same head (and variable names) as pretraining uses, so a pretraining
  checkpoint's head loads: a dense layer to E with the config's activation,
  LayerNorm, then the tied word-embedding decoder plus
  cls/predictions/output_bias.

  Args:
    input_tensor: float Tensor [B, S, H], the encoder output.
    albert_config: `AlbertConfig`.
    mlm_positions: int32 Tensor [B, P] of positions to predict.
    output_weights: float Tensor [V, E], the word-embedding table.

  Returns:
    float Tensor [B * P, V] of logits.
  """
  return pretraining.get_masked_lm_logits(albert_config, input_tensor,
                                         output_weights, mlm_positions)


def build_model_outputs(albert_config, inputs, is_training, use_einsum=True,
                        include_mlm=True, include_sop=True):
  """The module's computation, without the hub signatures.

  Args:
    albert_config: `AlbertConfig`.
    inputs: dict with int32 Tensors "input_ids", "input_mask",
      "segment_ids" [B, S] and, with include_mlm, "mlm_positions" [B, P].
    is_training: dropout on (the {"train"} graph) or off.
    use_einsum: einsum, or matmul + reshape only.
    include_mlm: also build the masked-LM head.
    include_sop: also build the sentence-order head.

  Returns:
    dict: "sequence_output" [B, S, H], "pooled_output" [B, H], with
    include_mlm "mlm_logits" [B * P, V], with include_sop "sop_log_probs"
    [B, 2].
  """
  model = modeling.AlbertModel(
      config=albert_config,
      is_training=is_training,
      input_ids=inputs["input_ids"],
      input_mask=inputs["input_mask"],
      token_type_ids=inputs["segment_ids"],
      use_one_hot_embeddings=False,
      use_einsum=use_einsum)
  outputs = {
      "sequence_output": model.get_sequence_output(),
      "pooled_output": model.get_pooled_output(),
  }
  if include_mlm:
    outputs["mlm_logits"] = get_mlm_logits(
        model.get_sequence_output(), albert_config, inputs["mlm_positions"],
        model.get_embedding_table())
  if include_sop:
    outputs["sop_log_probs"] = pretraining.get_sentence_order_log_probs(
        albert_config, model.get_pooled_output())
  return outputs


def placeholders(include_mlm):
  """int32 [None, None] inputs, named as the released module's."""
  names = ["input_ids", "input_mask", "segment_ids"]
  if include_mlm:
    names.append("mlm_positions")
  return {name: tf.placeholder(tf.int32, [None, None], name)
          for name in names}


def check_checkpoint(albert_config, init_checkpoint, use_einsum=True,
                     include_mlm=True, include_sop=True):
  """Checks that the checkpoint holds every module variable, in its shape.

  Builds the module's computation in a scratch graph and matches its
  variables against the checkpoint by name.

  Args:
    albert_config: `AlbertConfig`.
    init_checkpoint: checkpoint prefix.
    use_einsum: as the export will build it (names do not depend on it).
    include_mlm: whether the MLM head must be there.
    include_sop: whether the sentence-order head must be there.

  Returns:
    The `modeling.get_assignment_map_from_checkpoint` result.

  Raises:
    ExportError: shapes differ, or variables are missing; missing
      pretraining heads get their own message pointing at include_mlm and
      include_sop.
  """
  with tf.Graph().as_default():
    build_model_outputs(albert_config, placeholders(include_mlm),
                        is_training=False, use_einsum=use_einsum,
                        include_mlm=include_mlm, include_sop=include_sop)
    tvars = tf.global_variables()
    result = modeling.get_assignment_map_from_checkpoint(tvars,
                                                         init_checkpoint)
  if result.shape_mismatches:
    # One line, as every error of the command line: "; " between names.
    lines = ["%s: config says %s, checkpoint has %s" % (name, shape,
                                                        ckpt_shape)
             for name, shape, _, ckpt_shape in result.shape_mismatches]
    raise export_utils.ExportError(
        "init checkpoint %s does not match the config: %d variable(s) have "
        "other shapes (is the albert_config.json this checkpoint's?): %s%s" %
        (init_checkpoint, len(lines), "; ".join(lines[:20]),
         " ..." if len(lines) > 20 else ""))
  missing = list(result.unmatched_variables)
  heads = (("cls/predictions/", "masked-LM", "mlm"),
           ("cls/seq_relationship/", "sentence-order", "sop"))
  head_missing = [n for n in missing
                  if n.startswith(tuple(prefix for prefix, _, _ in heads))]
  if head_missing and len(head_missing) == len(missing):
    absent = [(what, flag) for prefix, what, flag in heads
              if any(n.startswith(prefix) for n in head_missing)]
    raise export_utils.ExportError(
        "init checkpoint %s has no %s head (%s); it looks like a fine-tuned "
        "checkpoint. Export without it with %s: the module then lacks the "
        "%s signature(s)." %
        (init_checkpoint, " or ".join(what for what, _ in absent),
         ", ".join(head_missing),
         " ".join("--noinclude_%s" % flag for _, flag in absent),
         ", ".join("'%s'" % flag for _, flag in absent)))
  if missing:
    raise export_utils.ExportError(
        "init checkpoint %s lacks %d of the module's %d variables; they "
        "would be exported with random weights: %s%s" %
        (init_checkpoint, len(missing), len(tvars), ", ".join(missing[:20]),
         " ..." if len(missing) > 20 else ""))
  return result
