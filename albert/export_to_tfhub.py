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
"""Exports a pretrained ALBERT checkpoint as a TF1-format TF-Hub module.

python -m albert.export_to_tfhub --albert_directory=albert_base \
    --checkpoint_name=model.ckpt-best --export_path=hub/albert_base

`albert_directory` holds `albert_config.json`, the checkpoint and the
sentencepiece model `30k-clean.model`, as the released model archives do.
The module has the released signatures:

  "tokens" (also the default signature):
      input_ids, input_mask, segment_ids: int32 [B, S]
      -> pooled_output [B, H], sequence_output [B, S, H]
  "mlm": the same inputs plus mlm_positions: int32 [B, P]
      -> pooled_output, sequence_output, mlm_logits [B * P, V]
  "tokenization_info": no inputs
      -> vocab_file (the sentencepiece model or WordPiece vocab, copied into
         the module's assets), do_lower_case (bool)

and two graph variants: tags {"train"} (dropout on) and the default tags
(inference, deterministic). Variables keep their checkpoint names
(`bert/...`, `cls/predictions/...`), so the module's variables can be read
back with the same name map as the checkpoint.

Unlike the release, the checkpoint is checked against the config before
anything is written (missing variables or other shapes fail, naming them),
and the module is written under a temporary name beside export_path and
renamed into place only when complete.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import os
import shutil
import tempfile
import uuid

from absl import app
from absl import flags
from absl import logging as absl_logging
import numpy as np
import tensorflow.compat.v1 as tf
import tensorflow_hub as hub

from albert import modeling
from albert import pretraining
from albert import runtime
from albert import tokenization

FLAGS = flags.FLAGS

CONFIG_NAME = "albert_config.json"
SPM_MODEL_NAME = "30k-clean.model"
DEFAULT_CHECKPOINT_NAME = "model.ckpt-best"

# Graph variants of the module: hub.Module(tags={"train"}) gets dropout,
# the default (no tags) is the deterministic inference graph.
TAGS_AND_ARGS = [({"train"}, {"is_training": True}),
                 (set(), {"is_training": False})]

FLAG_DEFAULTS = runtime.define_flags([
    ("string", "albert_directory", None,
     "The directory where the ALBERT model (albert_config.json, the "
     "checkpoint and 30k-clean.model) resides."),
    ("string", "checkpoint_name", DEFAULT_CHECKPOINT_NAME,
     "Name of the checkpoint under albert_directory to be exported."),
    ("string", "export_path", None, "Path to the output TF-Hub module."),
    ("string", "spm_model_file", None,
     "The sentencepiece model the module's tokenization_info points to. "
     "Default: <albert_directory>/30k-clean.model, unless vocab_file is "
     "given."),
    ("string", "vocab_file", None,
     "A WordPiece vocab.txt for models without a sentencepiece model; used "
     "only when spm_model_file is not given."),
    ("bool", "do_lower_case", True,
     "The do_lower_case value tokenization_info returns: whether the model "
     "expects lower-cased input."),
    ("bool", "use_einsum", True,
     "Build the dense layers with einsum. False gives a graph of matmul and "
     "reshape only, for converters without Einsum (TFLite, ONNX, ...)."),
    ("bool", "include_mlm", True,
     "Export the 'mlm' signature; it needs the masked-LM head "
     "(cls/predictions/*) in the checkpoint. A fine-tuned checkpoint lacks "
     "it: pass --noinclude_mlm to export its encoder alone."),
    ("bool", "overwrite_export_path", False,
     "Replace export_path if it exists (otherwise that is an error). The old "
     "module is removed only after the new one is complete."),
])


class ExportError(ValueError):
  """The inputs cannot make a faithful module (missing files, mismatches)."""


ExportSummary = collections.namedtuple(
    "ExportSummary",
    ["export_path", "init_checkpoint", "signatures", "num_variables",
     "num_parameters", "vocab_file", "do_lower_case", "use_einsum",
     "unused_checkpoint_variables"])


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
                        include_mlm=True):
  """The module's computation, without the hub signatures.

  Args:
    albert_config: `AlbertConfig`.
    inputs: dict with int32 Tensors "input_ids", "input_mask",
      "segment_ids" [B, S] and, with include_mlm, "mlm_positions" [B, P].
    is_training: dropout on (the {"train"} graph) or off.
    use_einsum: einsum, or matmul + reshape only.
    include_mlm: also build the masked-LM head.

  Returns:
    dict: "sequence_output" [B, S, H], "pooled_output" [B, H] and, with
    include_mlm, "mlm_logits" [B * P, V].
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
  return outputs


def _placeholders(include_mlm):
  """int32 [None, None] inputs, named as the released module's."""
  names = ["input_ids", "input_mask", "segment_ids"]
  if include_mlm:
    names.append("mlm_positions")
  return {name: tf.placeholder(tf.int32, [None, None], name)
          for name in names}


def make_module_fn(albert_config, vocab_asset_path, do_lower_case,
                   use_einsum=True, include_mlm=True, config_asset_path=None):
  """The module_fn for `hub.create_module_spec`.

  Args:
    albert_config: `AlbertConfig`.
    vocab_asset_path: the sentencepiece model (or WordPiece vocab) that
      tokenization_info returns; registered as an asset, so the export
      copies it into the module and loading rewrites the path to the copy.
    do_lower_case: the value tokenization_info returns.
    use_einsum: einsum, or matmul + reshape only.
    include_mlm: add the "mlm" signature.
    config_asset_path: (optional) albert_config.json, shipped as an asset so
      the module documents its own architecture (as the release did).

  Returns:
    module_fn(is_training).
  """

  def module_fn(is_training):
    """Builds one graph variant and its signatures."""
    inputs = _placeholders(include_mlm)
    outputs = build_model_outputs(albert_config, inputs, is_training,
                                  use_einsum=use_einsum,
                                  include_mlm=include_mlm)
    token_inputs = {k: inputs[k]
                    for k in ("input_ids", "input_mask", "segment_ids")}
    token_outputs = {k: outputs[k]
                     for k in ("sequence_output", "pooled_output")}
    hub.add_signature(name="tokens", inputs=token_inputs,
                      outputs=token_outputs)
    hub.add_signature(name="default", inputs=token_inputs,
                      outputs=token_outputs)
    if include_mlm:
      hub.add_signature(name="mlm", inputs=inputs, outputs=outputs)

    vocab_file = tf.constant(vocab_asset_path, dtype=tf.string,
                             name="vocab_file")
    tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, vocab_file)
    if config_asset_path:
      config_file = tf.constant(config_asset_path, dtype=tf.string,
                                name="config_file")
      tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, config_file)
    hub.add_signature(
        name="tokenization_info",
        inputs={},
        outputs={
            "vocab_file": vocab_file,
            "do_lower_case": tf.constant(bool(do_lower_case), tf.bool),
        })

  return module_fn


def _load_config(albert_config):
  """AlbertConfig from an AlbertConfig or a path, validated."""
  if isinstance(albert_config, modeling.AlbertConfig):
    config = albert_config
  else:
    if not tf.gfile.Exists(albert_config):
      raise ExportError("albert config not found: %s" % albert_config)
    config = modeling.AlbertConfig.from_json_file(albert_config)
  config.validate()
  return config


def resolve_checkpoint(init_checkpoint):
  """The checkpoint prefix; a directory means its latest checkpoint.

  Raises:
    ExportError: nothing is there, naming the path.
  """
  if not init_checkpoint:
    raise ExportError("no init checkpoint given: a hub module needs "
                      "pretrained weights")
  if tf.gfile.IsDirectory(init_checkpoint):
    latest = tf.train.latest_checkpoint(init_checkpoint)
    if latest is None:
      raise ExportError("init checkpoint %s is a directory without a "
                        "checkpoint in it" % init_checkpoint)
    return latest
  if not tf.gfile.Exists(init_checkpoint + ".index"):
    raise ExportError(
        "init checkpoint not found: %s (expected the checkpoint prefix, with "
        "%s.index beside it)" % (init_checkpoint, init_checkpoint))
  return init_checkpoint


def _vocab_size_of(spm_model_file, vocab_file):
  """How many tokens the tokenizer can produce."""
  tokenizer = tokenization.FullTokenizer(
      vocab_file=vocab_file, do_lower_case=True,
      spm_model_file=spm_model_file)
  return len(tokenizer.vocab)


def _check_vocabulary(albert_config, spm_model_file, vocab_file):
  """The tokenizer file to ship; fails if it is missing or too large.

  Returns:
    path of the sentencepiece model, or of the WordPiece vocab when no
    sentencepiece model is given.
  """
  if spm_model_file:
    path, what = spm_model_file, "spm_model_file"
  elif vocab_file:
    path, what = vocab_file, "vocab_file"
  else:
    raise ExportError("the module needs its tokenizer: give spm_model_file "
                      "(sentencepiece) or vocab_file (WordPiece)")
  if not tf.gfile.Exists(path):
    raise ExportError("%s not found: %s" % (what, path))
  try:
    size = _vocab_size_of(spm_model_file, None if spm_model_file else path)
  except ValueError as e:
    raise ExportError("%s %s cannot be loaded: %s" % (what, path, e))
  # Ids at or above vocab_size would index past the embedding table; a
  # smaller tokenizer only leaves rows unused (some models pad the table).
  if size > albert_config.vocab_size:
    raise ExportError(
        "%s %s has %d tokens but the config's vocab_size is %d: it is not "
        "this model's tokenizer" % (what, path, size,
                                    albert_config.vocab_size))
  if size < albert_config.vocab_size:
    tf.logging.warning("%s %s has %d tokens, fewer than vocab_size %d", what,
                       path, size, albert_config.vocab_size)
  return path


def check_checkpoint(albert_config, init_checkpoint, use_einsum=True,
                     include_mlm=True):
  """Checks that the checkpoint holds every module variable, in its shape.

  Builds the module's computation in a scratch graph and matches its
  variables against the checkpoint by name.

  Args:
    albert_config: `AlbertConfig`.
    init_checkpoint: checkpoint prefix.
    use_einsum: as the export will build it (names do not depend on it).
    include_mlm: whether the MLM head must be there.

  Returns:
    The `modeling.get_assignment_map_from_checkpoint` result.

  Raises:
    ExportError: shapes differ, or variables are missing; a missing MLM
      head gets its own message pointing at include_mlm.
  """
  with tf.Graph().as_default():
    build_model_outputs(albert_config, _placeholders(include_mlm),
                        is_training=False, use_einsum=use_einsum,
                        include_mlm=include_mlm)
    tvars = tf.global_variables()
    result = modeling.get_assignment_map_from_checkpoint(tvars,
                                                         init_checkpoint)
  if result.shape_mismatches:
    lines = ["  %s: config says %s, checkpoint has %s" % (name, shape,
                                                          ckpt_shape)
             for name, shape, _, ckpt_shape in result.shape_mismatches]
    raise ExportError(
        "init checkpoint %s does not match the config: %d variable(s) have "
        "other shapes (is the albert_config.json this checkpoint's?)\n%s" %
        (init_checkpoint, len(lines), "\n".join(lines[:20])))
  missing = list(result.unmatched_variables)
  head_missing = [n for n in missing if n.startswith("cls/predictions/")]
  if head_missing and len(head_missing) == len(missing):
    raise ExportError(
        "init checkpoint %s has no masked-LM head (%s); it looks like a "
        "fine-tuned checkpoint. Export the encoder alone with "
        "--noinclude_mlm (include_mlm=False): the module then has no 'mlm' "
        "signature." % (init_checkpoint, ", ".join(head_missing)))
  if missing:
    raise ExportError(
        "init checkpoint %s lacks %d of the module's %d variables; they "
        "would be exported with random weights: %s%s" %
        (init_checkpoint, len(missing), len(tvars), ", ".join(missing[:20]),
         " ..." if len(missing) > 20 else ""))
  return result


def _staging_path(export_path):
  """A fresh name beside export_path, so the final rename stays on one FS."""
  return "%s.tmp-%d-%s" % (export_path, os.getpid(), uuid.uuid4().hex[:8])


def _remove_tree(path):
  if tf.gfile.Exists(path):
    tf.gfile.DeleteRecursively(path)


def _move_into_place(staging, export_path, overwrite):
  """Renames the finished module to export_path (replacing it if asked)."""
  if not tf.gfile.Exists(export_path):
    tf.gfile.Rename(staging, export_path)
    return
  if not overwrite:
    raise ExportError("export_path %s appeared while exporting; it was "
                      "not replaced" % export_path)
  # Move the old module aside first: if the second rename fails it is put
  # back, so export_path never holds a half-replaced module.
  old = "%s.old-%d-%s" % (export_path, os.getpid(), uuid.uuid4().hex[:8])
  tf.gfile.Rename(export_path, old)
  try:
    tf.gfile.Rename(staging, export_path)
  except Exception:
    tf.gfile.Rename(old, export_path)
    raise
  _remove_tree(old)


def signature_descriptions(spec, tags=None):
  """{signature: (sorted input names, sorted output names)} of a spec."""
  return {
      name: (sorted(spec.get_input_info_dict(name, tags)),
             sorted(spec.get_output_info_dict(name, tags)))
      for name in sorted(spec.get_signature_names(tags))
  }


def export_hub_module(albert_config, init_checkpoint, export_path,
                      spm_model_file=None, vocab_file=None,
                      do_lower_case=True, use_einsum=True, include_mlm=True,
                      overwrite=False):
  """Exports a checkpoint as a TF1 Hub module; see the module docstring.

  Args:
    albert_config: `AlbertConfig`, or the path of albert_config.json.
    init_checkpoint: checkpoint prefix (or a directory: its latest).
    export_path: the module directory to create.
    spm_model_file: the sentencepiece model tokenization_info returns.
    vocab_file: a WordPiece vocab, used when spm_model_file is None.
    do_lower_case: the do_lower_case tokenization_info returns.
    use_einsum: einsum, or a graph of matmul and reshape only.
    include_mlm: export the "mlm" signature (needs cls/predictions/*).
    overwrite: replace an existing export_path.

  Returns:
    `ExportSummary`.

  Raises:
    ExportError: missing inputs, a checkpoint that does not fit the config,
      or an existing export_path without overwrite. Nothing is left at
      export_path when the export fails.
  """
  export_path = export_path.rstrip("/") if export_path else export_path
  if not export_path:
    raise ExportError("no export_path given")
  if tf.gfile.Exists(export_path) and not overwrite:
    raise ExportError("export_path %s already exists; remove it or pass "
                      "--overwrite_export_path (overwrite=True)" %
                      export_path)
  config = _load_config(albert_config)
  vocab_asset = _check_vocabulary(config, spm_model_file, vocab_file)
  init_checkpoint = resolve_checkpoint(init_checkpoint)
  assignment = check_checkpoint(config, init_checkpoint, use_einsum,
                                include_mlm)

  if "://" not in export_path:
    export_path = os.path.abspath(export_path)
  tf.gfile.MakeDirs(os.path.dirname(export_path))
  staging = _staging_path(export_path)
  # The config asset is written from the parsed config, so an AlbertConfig
  # object and a json path ship the same file.
  scratch = tempfile.mkdtemp(prefix="albert-hub-export-")
  try:
    config_asset = os.path.join(scratch, CONFIG_NAME)
    with open(config_asset, "w") as f:
      f.write(config.to_json_string())
    module_fn = make_module_fn(config, vocab_asset, do_lower_case,
                               use_einsum=use_einsum,
                               include_mlm=include_mlm,
                               config_asset_path=config_asset)
    spec = hub.create_module_spec(module_fn, tags_and_args=TAGS_AND_ARGS)
    with tf.Graph().as_default():
      module = hub.Module(spec)
      variable_map = module.variable_map
      saver = tf.train.Saver(var_list=variable_map)
      with tf.Session() as sess:
        saver.restore(sess, init_checkpoint)
        module.export(staging, sess)
      num_parameters = int(sum(np.prod(v.shape.as_list())
                               for v in variable_map.values()))
    _move_into_place(staging, export_path, overwrite)
  except BaseException:
    _remove_tree(staging)
    raise
  finally:
    shutil.rmtree(scratch, ignore_errors=True)

  return ExportSummary(
      export_path=export_path,
      init_checkpoint=init_checkpoint,
      signatures=signature_descriptions(spec),
      num_variables=len(variable_map),
      num_parameters=num_parameters,
      vocab_file=os.path.basename(vocab_asset),
      do_lower_case=bool(do_lower_case),
      use_einsum=bool(use_einsum),
      unused_checkpoint_variables=list(
          assignment.unused_checkpoint_variables))


def format_summary(summary):
  """A few lines for people: where, what signatures, how many weights."""
  lines = ["Exported TF-Hub module to %s" % summary.export_path,
           "  from checkpoint %s" % summary.init_checkpoint,
           "  %d variables, %d parameters%s" % (
               summary.num_variables, summary.num_parameters,
               "" if summary.use_einsum else ", graph without Einsum ops"),
           "  tokenizer %s (asset), do_lower_case=%s" % (
               summary.vocab_file, summary.do_lower_case),
           "  signatures (graph variants: tags {'train'} and default):"]
  for name, (inputs, outputs) in sorted(summary.signatures.items()):
    lines.append("    %-17s (%s) -> (%s)" % (name, ", ".join(inputs),
                                             ", ".join(outputs)))
  if summary.unused_checkpoint_variables:
    lines.append("  %d checkpoint variable(s) not exported (optimizer slots, "
                 "global_step, other heads)" %
                 len(summary.unused_checkpoint_variables))
  return "\n".join(lines)


def run(options):
  """Exports from flag-like options (FLAGS, or `default_options(...)`).

  Returns:
    `ExportSummary`.

  Raises:
    ExportError: on missing flags or files, or checkpoint mismatches.
  """
  for name in ("albert_directory", "export_path"):
    if not getattr(options, name):
      raise ExportError("--%s is required" % name)
  directory = options.albert_directory
  if not tf.gfile.IsDirectory(directory):
    raise ExportError("albert_directory not found: %s" % directory)
  config_file = os.path.join(directory, CONFIG_NAME)
  if not tf.gfile.Exists(config_file):
    raise ExportError("albert_directory %s has no %s: %s not found" %
                      (directory, CONFIG_NAME, config_file))
  spm_model_file = options.spm_model_file
  if not spm_model_file and not options.vocab_file:
    spm_model_file = os.path.join(directory, SPM_MODEL_NAME)
  return export_hub_module(
      config_file,
      os.path.join(directory, options.checkpoint_name),
      options.export_path,
      spm_model_file=spm_model_file,
      vocab_file=options.vocab_file,
      do_lower_case=options.do_lower_case,
      use_einsum=options.use_einsum,
      include_mlm=options.include_mlm,
      overwrite=options.overwrite_export_path)


def default_options(**overrides):
  """The flag defaults as an object, with overrides; for calling `run`."""
  return runtime.options(FLAG_DEFAULTS, overrides)


def main(_):
  # Deprecation notices and hub's own "exported to <temporary name>" line
  # would bury the summary; this package's warnings and all errors remain.
  absl_logging.set_verbosity(absl_logging.WARNING)
  tf.disable_v2_behavior()
  with runtime.show_only_own_logs():
    try:
      summary = run(FLAGS)
    except ValueError as e:
      # Bad inputs deserve one readable line, not a traceback.
      raise SystemExit("error: %s" % e)
  print(format_summary(summary))


if __name__ == "__main__":
  flags.mark_flag_as_required("albert_directory")
  flags.mark_flag_as_required("export_path")
  app.run(main)
