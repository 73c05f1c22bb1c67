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
  "sop": the "tokens" inputs
      -> pooled_output, sequence_output, sop_log_probs [B, 2] (the
         sentence-order head: in order, swapped)
  "tokenization_info": no inputs
      -> vocab_file (the sentencepiece model or WordPiece vocab, copied into
         the module's assets), do_lower_case (bool)

The sentencepiece model's .vocab file (30k-clean.vocab), when it is beside
the model, and albert_config.json are assets too, as in the release.

and two graph variants: tags {"train"} (dropout on) and the default tags
(inference, deterministic). Variables keep their checkpoint names
(`bert/...`, `cls/predictions/...`), so the module's variables can be read
back with the same name map as the checkpoint.

Unlike the release, the checkpoint is checked against the config before
anything is written (missing variables or other shapes fail, naming them),
and the module is written under a hidden temporary name beside export_path
and renamed into place only when complete. --overwrite_export_path replaces
only a previous export (a directory with tfhub_module.pb or this tool's
marker file), never the model being exported or anything else.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import os

from absl import app
from absl import flags
import numpy as np
import tensorflow.compat.v1 as tf
import tensorflow_hub as hub

from albert import command_line
from albert import export_tf2
from albert import export_utils
from albert import hub_model

FLAGS = flags.FLAGS

# Kept here for code written against this module.
ExportError = export_utils.ExportError
CONFIG_NAME = export_utils.CONFIG_NAME
SPM_MODEL_NAME = export_utils.SPM_MODEL_NAME
DEFAULT_CHECKPOINT_NAME = export_utils.DEFAULT_CHECKPOINT_NAME
HUB_MODULE_FILE = export_utils.HUB_MODULE_FILE
EXPORT_MARKER = export_utils.EXPORT_MARKER
resolve_checkpoint = export_utils.resolve_checkpoint
is_replaceable_export = export_utils.is_replaceable_export
remove_dead_export_leftovers = export_utils.remove_dead_export_leftovers
check_export_path_clear_of_inputs = (
    export_utils.check_export_path_clear_of_inputs)

# The module's computation and the checkpoint check live in hub_model (the
# TF2 and checkpoint exporters use them too); re-exported under the names
# code written against this module uses.
get_mlm_logits = hub_model.get_mlm_logits
build_model_outputs = hub_model.build_model_outputs
check_checkpoint = hub_model.check_checkpoint
_placeholders = hub_model.placeholders

# Graph variants of the module: hub.Module(tags={"train"}) gets dropout,
# the default (no tags) is the deterministic inference graph.
TAGS_AND_ARGS = [({"train"}, {"is_training": True}),
                 (set(), {"is_training": False})]

FLAG_DEFAULTS = command_line.define_flags([
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
     "it: pass --noinclude_mlm (and --noinclude_sop) to export its encoder "
     "alone."),
    ("bool", "include_sop", True,
     "Export the 'sop' signature; it needs the sentence-order head "
     "(cls/seq_relationship/*) in the checkpoint."),
    ("enum", "hub_format", "tf1",
     "tf1: the released TF1 Hub module (hub.Module, signatures, graph "
     "variants). tf2: a TF2 SavedModel as the TF Hub ALBERT encoders "
     "(hub.KerasLayer; input_word_ids/input_mask/input_type_ids, an mlm "
     "function, sp_model_file; see albert/export_tf2.py); it has no "
     "sentence-order head, so include_sop is ignored.",
     {"enum_values": ["tf1", "tf2"]}),
    ("bool", "overwrite_export_path", False,
     "Replace export_path if it holds a previous export (a directory with "
     "tfhub_module.pb); anything else there is an error. The old module is "
     "removed only after the new one is complete; files in it that the "
     "export did not write are kept."),
])


ExportSummary = collections.namedtuple(
    "ExportSummary",
    ["export_path", "init_checkpoint", "signatures", "num_variables",
     "num_parameters", "vocab_file", "do_lower_case", "use_einsum",
     "unused_checkpoint_variables"])


def make_module_fn(albert_config, vocab_asset_path, do_lower_case,
                   use_einsum=True, include_mlm=True, config_asset_path=None,
                   include_sop=True, extra_asset_paths=()):
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
    include_sop: add the "sop" signature.
    extra_asset_paths: more files to ship as assets (the sentencepiece
      .vocab, as the release did).

  Returns:
    module_fn(is_training).
  """

  def module_fn(is_training):
    """Builds one graph variant and its signatures."""
    inputs = _placeholders(include_mlm)
    outputs = build_model_outputs(albert_config, inputs, is_training,
                                  use_einsum=use_einsum,
                                  include_mlm=include_mlm,
                                  include_sop=include_sop)
    token_inputs = {k: inputs[k]
                    for k in ("input_ids", "input_mask", "segment_ids")}
    token_outputs = {k: outputs[k]
                     for k in ("sequence_output", "pooled_output")}
    hub.add_signature(name="tokens", inputs=token_inputs,
                      outputs=token_outputs)
    hub.add_signature(name="default", inputs=token_inputs,
                      outputs=token_outputs)
    if include_mlm:
      hub.add_signature(name="mlm", inputs=inputs, outputs={
          k: outputs[k]
          for k in ("sequence_output", "pooled_output", "mlm_logits")})
    if include_sop:
      hub.add_signature(name="sop", inputs=token_inputs, outputs={
          k: outputs[k]
          for k in ("sequence_output", "pooled_output", "sop_log_probs")})

    vocab_file = tf.constant(vocab_asset_path, dtype=tf.string,
                             name="vocab_file")
    tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, vocab_file)
    if config_asset_path:
      config_file = tf.constant(config_asset_path, dtype=tf.string,
                                name="config_file")
      tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, config_file)
    for index, path in enumerate(extra_asset_paths):
      asset = tf.constant(path, dtype=tf.string, name="asset_%d" % index)
      tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, asset)
    hub.add_signature(
        name="tokenization_info",
        inputs={},
        outputs={
            "vocab_file": vocab_file,
            "do_lower_case": tf.constant(bool(do_lower_case), tf.bool),
        })

  return module_fn


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
                      overwrite=False, include_sop=True):
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
    overwrite: replace export_path if it holds a previous export
      (`is_replaceable_export`).
    include_sop: export the "sop" signature (needs cls/seq_relationship/*).

  Returns:
    `ExportSummary`.

  Raises:
    ExportError: missing or unreadable inputs, a checkpoint that does not
      fit the config, an export_path that is (or holds) an input, an
      existing export_path without overwrite or that is not an export, or
      a failure to write (a full disk). Nothing is left at export_path, or
      beside it, when the export fails.
  """
  export_path = export_utils.clean_export_path(export_path)
  config = export_utils.load_config(albert_config)
  vocab_asset = export_utils.check_vocabulary(config, spm_model_file,
                                              vocab_file)
  init_checkpoint = resolve_checkpoint(init_checkpoint)
  inputs = export_utils.input_files(albert_config, vocab_asset,
                                    init_checkpoint)
  check_export_path_clear_of_inputs(export_path, inputs)
  assignment = check_checkpoint(config, init_checkpoint, use_einsum,
                                include_mlm, include_sop)
  with export_utils.staged_export(
      export_path, inputs, overwrite, "TF-Hub module",
      expected_files=(HUB_MODULE_FILE, "saved_model.pb")) as staged_module:
    # The config asset is written from the parsed config, so an
    # AlbertConfig object and a json path ship the same file.
    config_asset = os.path.join(os.path.dirname(staged_module), CONFIG_NAME)
    with tf.gfile.GFile(config_asset, "w") as f:
      f.write(config.to_json_string())
    module_fn = make_module_fn(config, vocab_asset, do_lower_case,
                               use_einsum=use_einsum,
                               include_mlm=include_mlm,
                               config_asset_path=config_asset,
                               include_sop=include_sop,
                               extra_asset_paths=export_utils.spm_vocab_asset(
                                   spm_model_file))
    spec = hub.create_module_spec(module_fn, tags_and_args=TAGS_AND_ARGS)
    with tf.Graph().as_default():
      module = hub.Module(spec)
      variable_map = module.variable_map
      saver = tf.train.Saver(var_list=variable_map)
      with tf.Session() as sess:
        try:
          saver.restore(sess, init_checkpoint)
        except tf.errors.OpError as e:
          raise ExportError("init checkpoint %s cannot be restored: %s" %
                            (init_checkpoint, command_line.error_line(e)))
        module.export(staged_module, sess)
      num_parameters = int(sum(np.prod(v.shape.as_list())
                               for v in variable_map.values()))

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
  tf2 = getattr(summary, "hub_format", "tf1") == "tf2"
  lines = ["Exported %s to %s" % (
               "TF2 SavedModel (hub.KerasLayer)" if tf2 else "TF-Hub module",
               summary.export_path),
           "  from checkpoint %s" % summary.init_checkpoint,
           "  %d variables, %d parameters%s" % (
               summary.num_variables, summary.num_parameters,
               "" if summary.use_einsum else ", graph without Einsum ops"),
           "  tokenizer %s (asset), do_lower_case=%s" % (
               summary.vocab_file, summary.do_lower_case),
           ("  callables (training=False|True):" if tf2 else
            "  signatures (graph variants: tags {'train'} and default):")]
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
    ExportError: on missing flags or files, checkpoint mismatches, an
      export_path that would replace the model, or a failed write.
  """
  if options.hub_format not in ("tf1", "tf2"):
    raise ExportError("--hub_format=%s: expected tf1 or tf2" %
                      options.hub_format)
  directory, config_file, checkpoint = export_utils.model_from_options(
      options)
  # The directory as a whole: its own name in the message says more than
  # the first file of it that export_path would replace.
  check_export_path_clear_of_inputs(options.export_path,
                                    [("albert_directory", directory)])
  spm_model_file = options.spm_model_file
  if not spm_model_file and not options.vocab_file:
    spm_model_file = os.path.join(directory, SPM_MODEL_NAME)
  # What both formats take; only the TF1 module has the SOP head.
  common = dict(spm_model_file=spm_model_file,
                vocab_file=options.vocab_file,
                do_lower_case=options.do_lower_case,
                use_einsum=options.use_einsum,
                include_mlm=options.include_mlm,
                overwrite=options.overwrite_export_path)
  if options.hub_format == "tf2":
    return export_tf2.export_tf2_saved_model(config_file, checkpoint,
                                             options.export_path, **common)
  return export_hub_module(config_file, checkpoint, options.export_path,
                           include_sop=options.include_sop, **common)


default_options = command_line.default_options_of(FLAG_DEFAULTS)


main = export_utils.cli_main(run, format_summary)


if __name__ == "__main__":
  flags.mark_flag_as_required("albert_directory")
  flags.mark_flag_as_required("export_path")
  app.run(main)
