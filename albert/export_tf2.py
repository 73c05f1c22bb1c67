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
"""Exports a pretrained ALBERT checkpoint as a TF2 SavedModel for TF Hub.

python -m albert.export_to_tfhub --hub_format=tf2 \
    --albert_directory=albert_base --export_path=hub/albert_base_tf2

The SavedModel follows the convention of the TF2 ALBERT encoders on TF Hub
(a "Reusable SavedModel"), so `hub.KerasLayer(path, trainable=True)` can
fine-tune it:

  __call__(inputs, training=False):
      inputs: dict of int32 [B, S] "input_word_ids", "input_mask",
        "input_type_ids"; training: Python bool, dropout on or off.
      -> dict: "pooled_output" [B, H], "sequence_output" [B, S, H],
         "encoder_outputs" (list of [B, S, H], one per applied layer, as
         `AlbertModel.get_all_encoder_layers`), "default" (= pooled_output).
  mlm(inputs, training=False) (unless include_mlm=False):
      the same inputs plus int32 [B, P] "masked_lm_positions"
      -> the __call__ outputs plus "mlm_logits" [B, P, V], from the
         released masked-LM head (cls/predictions/*, tied word embeddings).
  variables, trainable_variables: the encoder's variables (bert/*), all
      trainable; mlm.variables and mlm.trainable_variables add the head's.
  regularization_losses: empty.
  sp_model_file: the sentencepiece model as a `tf.saved_model.Asset` (or
      vocab_file, the WordPiece vocab, for models without one).
  do_lower_case: a non-trainable bool tf.Variable.

The variables are TF2 resource variables created before any tracing, with
the checkpoint's names and values. The unchanged TF1-style model code
(`modeling.AlbertModel`, `pretraining.get_masked_lm_logits`) is traced into
tf.functions under a variable scope whose custom getter hands out those
variables instead of creating new ones, so the SavedModel tracks them and
gradients reach them. There is no sentence-order head, as in the TF Hub
encoders.

The export is written under a hidden temporary name and renamed into place
when complete (`export_utils.staged_export`); the checkpoint is checked
against the config first, so a missing variable fails in one line.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import os

import numpy as np
import tensorflow.compat.v1 as tf

from albert import export_utils
from albert import hub_model
from albert import modeling
from albert import pretraining

ExportError = export_utils.ExportError

# The input names of the TF Hub TF2 encoders (not the TF1 module's).
ENCODER_INPUTS = ("input_word_ids", "input_mask", "input_type_ids")
MLM_POSITIONS = "masked_lm_positions"
ENCODER_SCOPE = "bert"
MLM_HEAD_PREFIX = "cls/predictions/"

Tf2ExportSummary = collections.namedtuple(
    "Tf2ExportSummary",
    ["export_path", "init_checkpoint", "signatures", "num_variables",
     "num_trainable_variables", "num_parameters", "vocab_file",
     "do_lower_case", "use_einsum", "include_mlm",
     "unused_checkpoint_variables", "hub_format"])


def input_specs(with_positions=False):
  """{name: int32 [None, None] TensorSpec} of the exported functions."""
  names = list(ENCODER_INPUTS)
  if with_positions:
    names.append(MLM_POSITIONS)
  return {name: tf.TensorSpec([None, None], tf.int32, name=name)
          for name in names}


def encoder_outputs(albert_config, inputs, training, use_einsum=True):
  """Runs AlbertModel on the TF2 input names; the encoder's output dict.

  Must run where tf.get_variable returns the exported variables (inside
  `AlbertVariables.scope()`).

  Args:
    albert_config: `AlbertConfig`.
    inputs: dict of int32 Tensors "input_word_ids", "input_mask",
      "input_type_ids" [B, S].
    training: Python bool; dropout on or off.
    use_einsum: einsum, or matmul + reshape only.

  Returns:
    (model, dict): the `AlbertModel` and "pooled_output" [B, H],
    "sequence_output" [B, S, H], "encoder_outputs" list of [B, S, H],
    "default" [B, H].
  """
  model = modeling.AlbertModel(
      config=albert_config,
      is_training=training,
      input_ids=inputs["input_word_ids"],
      input_mask=inputs["input_mask"],
      token_type_ids=inputs["input_type_ids"],
      use_one_hot_embeddings=False,
      use_einsum=use_einsum,
      scope=ENCODER_SCOPE)
  outputs = {
      "pooled_output": model.get_pooled_output(),
      "sequence_output": model.get_sequence_output(),
      "encoder_outputs": list(model.get_all_encoder_layers()),
      "default": model.get_pooled_output(),
  }
  return model, outputs


def mlm_logits(albert_config, model, positions):
  """The released masked-LM head on an `AlbertModel`: [B, P, V] logits."""
  logits = pretraining.get_masked_lm_logits(
      albert_config, model.get_sequence_output(),
      model.get_embedding_table(), positions)  # [B * P, V]
  shape = tf.shape(positions)
  return tf.reshape(logits, [shape[0], shape[1], albert_config.vocab_size])


class AlbertVariables(object):
  """TF2 variables named as the checkpoint, for the TF1-style model code.

  tf.get_variable inside `scope()` returns these instead of creating
  variables, so tracing AlbertModel in a tf.function reads them.
  """

  def __init__(self, values, trainable=True):
    """Creates one resource variable per {checkpoint name: numpy value}."""
    self.by_name = collections.OrderedDict(
        (name, tf.Variable(value, name=name, trainable=trainable,
                           use_resource=True))
        for name, value in values.items())

  def _getter(self, getter, name, *args, **kwargs):
    """Custom getter: the variable `name` (e.g. "bert/pooler/dense/bias")."""
    del getter, args, kwargs  # Nothing is created.
    variable = self.by_name.get(name)
    if variable is None:
      # The scratch build that listed the variables and this one differ;
      # creating a fresh variable here would export random weights.
      raise ExportError("the model asked for variable %s, which is not in "
                        "the export (it has %d variables)" %
                        (name, len(self.by_name)))
    return variable

  def scope(self):
    """A variable scope in which tf.get_variable returns these variables."""
    return tf.variable_scope(tf.get_variable_scope(),
                             custom_getter=self._getter)

  def named(self, prefix):
    """The variables whose names start with prefix, in checkpoint order."""
    return [v for name, v in self.by_name.items() if name.startswith(prefix)]


def build_exportable(albert_config, values, vocab_asset, do_lower_case=True,
                     use_einsum=True, include_mlm=True):
  """The object to save, following the Reusable SavedModel convention.

  Must be called with eager execution on.

  Args:
    albert_config: `AlbertConfig`.
    values: OrderedDict {checkpoint variable name: numpy value} of every
      variable the encoder (and, with include_mlm, the MLM head) uses.
    vocab_asset: path of the sentencepiece model (a ".model" file) or of a
      WordPiece vocab.
    do_lower_case: the value of the do_lower_case attribute.
    use_einsum: einsum, or matmul + reshape only.
    include_mlm: add the `mlm` sub-object.

  Returns:
    A trackable object for `tf.saved_model.save`.
  """
  variables = AlbertVariables(values)
  encoder_variables = variables.named(ENCODER_SCOPE + "/")

  def call(inputs, training=False):
    """inputs dict of int32 [B, S] -> dict of encoder outputs."""
    with variables.scope():
      _, outputs = encoder_outputs(albert_config, inputs, training,
                                   use_einsum)
    return outputs

  def call_mlm(inputs, training=False):
    """The call inputs plus masked_lm_positions [B, P] -> + mlm_logits."""
    with variables.scope():
      model, outputs = encoder_outputs(albert_config, inputs, training,
                                       use_einsum)
      outputs["mlm_logits"] = mlm_logits(albert_config, model,
                                         inputs[MLM_POSITIONS])
    return outputs

  root = tf.train.Checkpoint()
  root.__call__ = _traced(call, input_specs())
  # hub.KerasLayer reads these three attributes: the weights it adds to the
  # layer and the losses it forwards.
  root.variables = list(encoder_variables)
  root.trainable_variables = list(encoder_variables)
  root.regularization_losses = []
  if include_mlm:
    mlm = tf.train.Checkpoint()
    mlm.__call__ = _traced(call_mlm, input_specs(with_positions=True))
    mlm.variables = encoder_variables + variables.named(MLM_HEAD_PREFIX)
    mlm.trainable_variables = list(mlm.variables)
    mlm.regularization_losses = []
    root.mlm = mlm
  asset = tf.saved_model.Asset(vocab_asset)
  if vocab_asset.endswith(".model"):
    root.sp_model_file = asset
  else:
    root.vocab_file = asset
  root.do_lower_case = tf.Variable(bool(do_lower_case), trainable=False,
                                   name="do_lower_case", use_resource=True)
  return root


def _traced(python_function, specs):
  """tf.function of fn(inputs, training) with both values of training traced.

  A SavedModel keeps only traced functions; hub.KerasLayer calls with
  training=True or False, so both must be there.
  """
  # The model code is graph code already; autograph would only slow it.
  function = tf.function(python_function, autograph=False)
  for training in (False, True):
    function.get_concrete_function(specs, training=training)
  return function


def checkpoint_values(albert_config, init_checkpoint, use_einsum=True,
                      include_mlm=True):
  """The checkpoint values of every exported variable, checked.

  Returns:
    (OrderedDict {name: numpy value}, unused checkpoint variable names).

  Raises:
    ExportError: variables are missing or have other shapes (one line).
  """
  assignment = hub_model.check_checkpoint(
      albert_config, init_checkpoint, use_einsum=use_einsum,
      include_mlm=include_mlm, include_sop=False)
  reader = tf.train.load_checkpoint(init_checkpoint)
  values = collections.OrderedDict()
  # check_checkpoint maps each model variable to the same checkpoint name.
  for checkpoint_name, name in assignment.assignment_map.items():
    values[name] = reader.get_tensor(checkpoint_name)
  return values, list(assignment.unused_checkpoint_variables)


def signature_descriptions(include_mlm):
  """{function: (input names, output names)} of the export, for people."""
  outputs = ["default", "encoder_outputs", "pooled_output",
             "sequence_output"]
  described = {"__call__": (sorted(ENCODER_INPUTS), outputs)}
  if include_mlm:
    described["mlm"] = (sorted(ENCODER_INPUTS + (MLM_POSITIONS,)),
                        sorted(outputs + ["mlm_logits"]))
  return described


def export_tf2_saved_model(albert_config, init_checkpoint, export_path,
                           spm_model_file=None, vocab_file=None,
                           do_lower_case=True, overwrite=False,
                           include_mlm=True, use_einsum=True):
  """Exports a checkpoint as a TF2 SavedModel; see the module docstring.

  Works with TF2 behaviour on or off (the command line turns it off): the
  SavedModel is always built and written with eager execution.

  Args:
    albert_config: `AlbertConfig`, or the path of albert_config.json.
    init_checkpoint: checkpoint prefix (or a directory: its latest).
    export_path: the SavedModel directory to create.
    spm_model_file: the sentencepiece model, shipped as sp_model_file.
    vocab_file: a WordPiece vocab, shipped as vocab_file when
      spm_model_file is None.
    do_lower_case: the value of the do_lower_case attribute.
    overwrite: replace export_path if it holds a previous export.
    include_mlm: add the `mlm` function (needs cls/predictions/*).
    use_einsum: einsum, or matmul + reshape only.

  Returns:
    `Tf2ExportSummary`.

  Raises:
    ExportError: missing or unreadable inputs, a checkpoint that does not
      fit the config, an unsuitable export_path, or a failed write; nothing
      is left at export_path then.
  """
  export_path = export_utils.clean_export_path(export_path)
  config = export_utils.load_config(albert_config)
  vocab_asset = export_utils.check_vocabulary(config, spm_model_file,
                                              vocab_file)
  init_checkpoint = export_utils.resolve_checkpoint(init_checkpoint)
  inputs = export_utils.input_files(albert_config, vocab_asset,
                                    init_checkpoint)
  export_utils.check_export_path_clear_of_inputs(export_path, inputs)
  values, unused = checkpoint_values(config, init_checkpoint, use_einsum,
                                     include_mlm)
  with export_utils.staged_export(export_path, inputs, overwrite,
                                  "TF2 SavedModel",
                                  expected_files=("saved_model.pb",)) as staged:
    with _eager_execution():
      root = build_exportable(config, values, vocab_asset,
                              do_lower_case=do_lower_case,
                              use_einsum=use_einsum, include_mlm=include_mlm)
      tf.saved_model.save(root, staged)
      num_trainable = len(root.trainable_variables)
  return Tf2ExportSummary(
      export_path=export_path,
      init_checkpoint=init_checkpoint,
      signatures=signature_descriptions(include_mlm),
      num_variables=len(values),
      num_trainable_variables=num_trainable,
      num_parameters=int(sum(np.prod(v.shape) for v in values.values())),
      vocab_file=os.path.basename(vocab_asset),
      do_lower_case=bool(do_lower_case),
      use_einsum=bool(use_einsum),
      include_mlm=bool(include_mlm),
      unused_checkpoint_variables=unused,
      hub_format="tf2")


def _eager_execution():
  """Eager execution for the block, also where TF2 behaviour is disabled."""
  # tf.disable_v2_behavior() (which the command line calls) turns eager
  # execution off for the process; saving tf.functions and TF2 variables
  # needs it, and this scopes it to the export without touching the rest.
  return tf.compat.v2.__internal__.eager_context.eager_mode()
