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
"""Exports a pretrained ALBERT checkpoint without its optimizer state.

python -m albert.export_checkpoints --albert_directory=albert_base \
    --checkpoint_name=model.ckpt-best --export_path=out/model.ckpt-best

`albert_directory` holds `albert_config.json` and the checkpoint, as the
released model archives do. `export_path` is the prefix of the checkpoint
to write. What is written there holds the encoder (`bert/...`), the
pretraining heads under their released names

  cls/predictions/transform/dense/{kernel, bias}
  cls/predictions/transform/LayerNorm/{gamma, beta}
  cls/predictions/output_bias
  cls/seq_relationship/{output_weights, output_bias}

and global_step, nothing else: optimizer slots (`<var>/adam_m`,
`<var>/adam_v`) and task heads of a fine-tuned checkpoint are left out, so
the result is about a third of a pretraining checkpoint's size.

The directory of export_path becomes a released-style model directory:

  <prefix>.index, <prefix>.data-00000-of-00001, <prefix>.meta
  checkpoint          the state file, with a relative path, so the
                      directory works as --init_checkpoint=<dir> as well as
                      --init_checkpoint=<prefix>, wherever it is moved
  albert_config.json  copied from albert_directory
  30k-clean.model, 30k-clean.vocab   copied when albert_directory has them

so `export_to_tfhub --albert_directory=<dir>` takes it too. The whole
directory is written under a hidden temporary name and appears only when
complete; it must not exist yet, unless --overwrite_export_path and it is a
previous export.

Differences from the released script:
  - Its filter for optimizer slots matched no slot name; here the output
    holds the model variables only, and the export checks that.
  - It wrote global_step as 0; here the source checkpoint's step is kept
    (0 when it has none).
  - Heads missing from the source checkpoint (a fine-tuned one) were
    written with random weights, silently. Here that is an error; export
    without them (--noinclude_mlm, --noinclude_sop) or ask for random ones
    (--allow_random_heads, which says so loudly).
  - A checkpoint that does not fit the config fails, naming the variables.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import os
import re

from absl import app
from absl import flags
import numpy as np
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import export_utils
from albert import hub_model
from albert import modeling

FLAGS = flags.FLAGS

ExportError = export_utils.ExportError
CONFIG_NAME = export_utils.CONFIG_NAME
SPM_MODEL_NAME = export_utils.SPM_MODEL_NAME
DEFAULT_CHECKPOINT_NAME = export_utils.DEFAULT_CHECKPOINT_NAME
# The name TensorFlow's tf.train.latest_checkpoint looks for.
STATE_FILE_NAME = "checkpoint"

# (variable name prefix, what, the include_* flag's suffix).
HEADS = (("cls/predictions/", "masked-LM", "mlm"),
         ("cls/seq_relationship/", "sentence-order", "sop"))

# Optimizer slots: this repository's AdamW and LAMB ("<var>/adam_m",
# "<var>/adam_v") and the names the released script meant to filter.
_SLOT_NAME = re.compile(r"/(adam|lamb)_[mv]$")

FLAG_DEFAULTS = command_line.define_flags([
    ("string", "albert_directory", None,
     "The directory where the ALBERT model (albert_config.json and the "
     "checkpoint; 30k-clean.model and .vocab are copied when there) "
     "resides."),
    ("string", "checkpoint_name", DEFAULT_CHECKPOINT_NAME,
     "Name of the checkpoint under albert_directory to be exported."),
    ("bool", "do_lower_case", True,
     "Unused; kept because the released script has it. A checkpoint does "
     "not record casing: the tokenizer copied beside the export does."),
    ("string", "export_path", None,
     "Prefix of the output checkpoint, e.g. out/model.ckpt-best. Its "
     "directory (out/) is created with the checkpoint, its state file, "
     "albert_config.json and the tokenizer, and must not exist yet."),
    ("bool", "include_mlm", True,
     "Export the masked-LM head (cls/predictions/*); the checkpoint must "
     "have it unless --allow_random_heads. A fine-tuned checkpoint lacks "
     "it: pass --noinclude_mlm (and --noinclude_sop) to export its encoder "
     "alone."),
    ("bool", "include_sop", True,
     "Export the sentence-order head (cls/seq_relationship/*); the "
     "checkpoint must have it unless --allow_random_heads."),
    ("bool", "allow_random_heads", False,
     "Export included heads that the checkpoint lacks with RANDOM weights, "
     "as the released script did silently. Only for heads that will be "
     "trained again; a warning and the summary name them."),
    ("bool", "overwrite_export_path", False,
     "Replace the directory of export_path if it holds a previous export; "
     "anything else there is an error. The old export is removed only after "
     "the new one is complete; files in it that the export did not write "
     "are kept."),
])


CheckpointExportSummary = collections.namedtuple(
    "CheckpointExportSummary",
    ["export_path", "init_checkpoint", "global_step", "num_variables",
     "num_parameters", "heads", "random_variables", "copied_files",
     "dropped_slots", "dropped_variables"])


def check_export_path(export_path):
  """The absolute checkpoint prefix and its directory.

  Raises:
    ExportError: export_path is empty, ends with "/" or is a directory (it
      must name the checkpoint inside the directory).
  """
  if not export_path:
    raise ExportError("no export_path given")
  example = os.path.join(export_path.rstrip("/") or "out",
                         DEFAULT_CHECKPOINT_NAME)
  if export_path.endswith("/") or tf.gfile.IsDirectory(export_path):
    raise ExportError(
        "export_path %s is a directory; it is the PREFIX of the checkpoint "
        "to write, e.g. %s (its directory is created)" %
        (export_path, example))
  if not export_utils.is_remote(export_path):
    export_path = os.path.abspath(export_path)
  name = os.path.basename(export_path)
  if name == STATE_FILE_NAME or name.startswith("."):
    raise ExportError(
        "export_path %s: the checkpoint cannot be called %r (the state file "
        "and hidden files use such names); e.g. %s" %
        (export_path, name, example))
  return export_path, os.path.dirname(export_path)


def check_clear_of_inputs(export_path, export_dir, inputs):
  """Fails if the export directory is, or holds, anything the export reads.

  The whole directory is created (and with overwrite, replaced), so a
  directory holding the source checkpoint would lose it.

  Args:
    export_path: the prefix, for the message.
    export_dir: its directory, which the export creates.
    inputs: (what, path) pairs.

  Raises:
    ExportError: naming export_path, its directory and the input.
  """
  target = export_utils.normalised(export_dir)
  for what, path in inputs:
    if export_utils.is_same_or_inside(export_utils.normalised(path), target):
      raise ExportError(
          "export_path %s would be written into %s, which %s the %s %s; the "
          "export creates that directory as a whole, so give a new one, "
          "e.g. %s" %
          (export_path, export_dir,
           "is" if export_utils.normalised(path) == target else "holds",
           what, path,
           os.path.join(export_dir + "_export", os.path.basename(
               export_path))))


def _check_export_dir_free(export_path, export_dir, overwrite):
  """Says what to do about an existing export directory, naming the flag.

  `export_utils.staged_export` checks again; this only words it for a
  prefix flag.
  """
  if not tf.gfile.Exists(export_dir):
    return
  if not overwrite:
    raise ExportError(
        "the directory %s of export_path %s already exists; the export "
        "creates it with the checkpoint, its state file, the config and the "
        "tokenizer. Choose a new directory, or pass --overwrite_export_path "
        "to replace a previous export" % (export_dir, export_path))
  if not export_utils.is_replaceable_export(export_dir):
    raise ExportError(
        "the directory %s of export_path %s exists and is not a previous "
        "checkpoint export (no %s marker in it); --overwrite_export_path "
        "replaces only exports of this tool. Remove it yourself or choose "
        "another directory" %
        (export_dir, export_path, export_utils.EXPORT_MARKER))


def _head_of(name):
  """(what, flag suffix) of the head a variable belongs to, or None."""
  for prefix, what, flag in HEADS:
    if name.startswith(prefix):
      return what, flag
  return None


def build_export_graph(albert_config, include_mlm, include_sop):
  """Builds the exported model in the default graph, as the release did.

  int32 [None, None] placeholders input_ids, input_mask, segment_ids (and
  mlm_positions), AlbertModel with is_training=False, the included
  pretraining heads and global_step.

  Returns:
    (model variables, global_step variable).
  """
  hub_model.build_model_outputs(albert_config,
                                hub_model.placeholders(include_mlm),
                                is_training=False, include_mlm=include_mlm,
                                include_sop=include_sop)
  model_variables = tf.global_variables()
  global_step = tf.train.get_or_create_global_step()
  return model_variables, global_step


def check_heads(init_checkpoint, assignment, allow_random_heads):
  """Fails on heads missing from, or mismatching, the checkpoint.

  The encoder was checked before (`hub_model.check_checkpoint`), so
  whatever is unmatched here belongs to a head.

  Args:
    init_checkpoint: checkpoint prefix, for messages.
    assignment: `modeling.get_assignment_map_from_checkpoint` result for
      the export graph's model variables.
    allow_random_heads: missing head variables are allowed (and warned
      about) instead of an error.

  Returns:
    Names of the variables that will be exported with random weights.

  Raises:
    ExportError: a head variable has another shape than the config says,
      or is missing and allow_random_heads is off; naming them and the
      flags that export without them.
  """
  if assignment.shape_mismatches:
    lines = ["%s: config says %s, checkpoint has %s" % (name, shape,
                                                        ckpt_shape)
             for name, shape, _, ckpt_shape in assignment.shape_mismatches]
    raise ExportError(
        "init checkpoint %s does not match the config: %d head variable(s) "
        "have other shapes: %s" % (init_checkpoint, len(lines),
                                   "; ".join(lines)))
  missing = list(assignment.unmatched_variables)
  if not missing:
    return []
  heads = []
  for name in missing:
    head = _head_of(name)
    if head is None:
      # The encoder check should have caught it; never export it random.
      raise ExportError("init checkpoint %s lacks %s" % (init_checkpoint,
                                                         name))
    if head not in heads:
      heads.append(head)
  if not allow_random_heads:
    raise ExportError(
        "init checkpoint %s has no %s head (%s); it looks like a fine-tuned "
        "checkpoint. Export without it with %s, or with random weights for "
        "it (to train again) with --allow_random_heads" %
        (init_checkpoint, " or ".join(what for what, _ in heads),
         ", ".join(missing),
         " ".join("--noinclude_%s" % flag for _, flag in heads)))
  tf.logging.warning(
      "*** --allow_random_heads: init checkpoint %s has no %s head; the "
      "export holds RANDOM weights for %d variable(s): %s ***",
      init_checkpoint, " or ".join(what for what, _ in heads), len(missing),
      ", ".join(missing))
  return missing


def _copy_beside(sources, staged):
  """Copies files into the staged export; returns their base names."""
  names = []
  for path in sources:
    name = os.path.basename(path)
    tf.gfile.Copy(path, os.path.join(staged, name), overwrite=True)
    names.append(name)
  return names


def _expected_files(export_path, albert_config, tokenizer_files):
  """The files the export will write, as far as known before writing."""
  prefix = os.path.basename(export_path)
  # A config file is copied under its own name, an AlbertConfig written.
  config_name = (CONFIG_NAME if isinstance(albert_config,
                                           modeling.AlbertConfig)
                 else os.path.basename(albert_config))
  names = [prefix + ".index", prefix + ".meta", STATE_FILE_NAME, config_name]
  return names + [os.path.basename(path) for path in tokenizer_files]


def _check_written(prefix, expected_names):
  """Fails unless the written checkpoint holds exactly expected_names."""
  written = set(name for name, _ in tf.train.list_variables(prefix))
  if written != set(expected_names):
    raise ExportError(
        "the written checkpoint %s holds other variables than exported "
        "(extra: %s; missing: %s); nothing was left" %
        (prefix, ", ".join(sorted(written - set(expected_names))) or "none",
         ", ".join(sorted(set(expected_names) - written)) or "none"))


def export_checkpoint(albert_config, init_checkpoint, export_path,
                      spm_model_file=None, include_mlm=True,
                      include_sop=True, allow_random_heads=False,
                      overwrite=False):
  """Writes the model and heads of a checkpoint, without optimizer state.

  See the module docstring for what is written.

  Args:
    albert_config: `AlbertConfig`, or the path of albert_config.json
      (copied beside the export; an `AlbertConfig` is written as JSON).
    init_checkpoint: the source checkpoint prefix (or a directory: its
      latest checkpoint).
    export_path: the prefix to write; its directory is created.
    spm_model_file: (optional) the sentencepiece model to copy beside the
      export, with its .vocab when there; checked against the config.
    include_mlm: export the masked-LM head.
    include_sop: export the sentence-order head.
    allow_random_heads: export included heads that the checkpoint lacks
      with random weights (warned about) instead of failing.
    overwrite: replace the directory of export_path if it is a previous
      export (`export_utils.is_replaceable_export`).

  Returns:
    `CheckpointExportSummary`.

  Raises:
    ExportError: missing or unreadable inputs, a checkpoint that does not
      fit the config or lacks a head, an export directory that exists (and
      is not a previous export with overwrite) or holds an input, or a
      failed write. Nothing is left at the export directory, or beside it,
      when the export fails.
  """
  export_path, export_dir = check_export_path(export_path)
  config = export_utils.load_config(albert_config)
  init_checkpoint = export_utils.resolve_checkpoint(init_checkpoint)
  tokenizer_files = []
  if spm_model_file:
    tokenizer_files.append(
        export_utils.check_vocabulary(config, spm_model_file, None))
    tokenizer_files.extend(export_utils.spm_vocab_asset(spm_model_file))
  # input_files names one tokenizer file; here there may be none, or two.
  inputs = [(what, path) for what, path in export_utils.input_files(
      albert_config, None, init_checkpoint) if path is not None]
  inputs.extend(("tokenizer file", path) for path in tokenizer_files)
  check_clear_of_inputs(export_path, export_dir, inputs)
  _check_export_dir_free(export_path, export_dir, overwrite)
  # The encoder: shapes and presence, one line naming the variables.
  hub_model.check_checkpoint(config, init_checkpoint, include_mlm=False,
                             include_sop=False)
  source_step = checkpoints.checkpoint_global_step(init_checkpoint)
  global_step_value = 0 if source_step is None else source_step

  with tf.Graph().as_default():
    model_variables, global_step = build_export_graph(config, include_mlm,
                                                      include_sop)
    assignment = modeling.get_assignment_map_from_checkpoint(
        model_variables, init_checkpoint)
    random_variables = check_heads(init_checkpoint, assignment,
                                   allow_random_heads)
    by_name = {v.op.name: v for v in model_variables}
    restorer = tf.train.Saver(
        var_list={ckpt_name: by_name[name]
                  for ckpt_name, name in assignment.assignment_map.items()})
    set_global_step = global_step.assign(global_step_value)
    exported = model_variables + [global_step]
    # Relative paths in the state file: the directory is renamed into
    # place, and may be moved later.
    saver = tf.train.Saver(var_list=exported, save_relative_paths=True)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      try:
        restorer.restore(sess, init_checkpoint)
      except tf.errors.OpError as e:
        raise ExportError("init checkpoint %s cannot be restored: %s" %
                          (init_checkpoint, command_line.error_line(e)))
      sess.run(set_global_step)
      with export_utils.staged_export(
          export_dir, inputs, overwrite, "checkpoint",
          expected_files=_expected_files(export_path, albert_config,
                                         tokenizer_files)) as staged:
        tf.gfile.MakeDirs(staged)
        staged_prefix = os.path.join(staged, os.path.basename(export_path))
        saver.save(sess, staged_prefix, write_meta_graph=True)
        _check_written(staged_prefix, [v.op.name for v in exported])
        if isinstance(albert_config, modeling.AlbertConfig):
          with tf.gfile.GFile(os.path.join(staged, CONFIG_NAME), "w") as f:
            f.write(config.to_json_string())
          copied = [CONFIG_NAME]
        else:
          copied = _copy_beside([albert_config], staged)
        copied += _copy_beside(tokenizer_files, staged)

  num_parameters = int(sum(np.prod(v.shape.as_list())
                           for v in model_variables))
  unused = [n for n in assignment.unused_checkpoint_variables
            if n != "global_step"]
  slots = [n for n in unused if _SLOT_NAME.search(n)]
  return CheckpointExportSummary(
      export_path=export_path,
      init_checkpoint=init_checkpoint,
      global_step=global_step_value,
      num_variables=len(exported),
      num_parameters=num_parameters,
      heads=[what for _, what, flag in HEADS
             if {"mlm": include_mlm, "sop": include_sop}[flag]],
      random_variables=random_variables,
      copied_files=copied,
      dropped_slots=len(slots),
      dropped_variables=[n for n in unused if n not in slots])


def format_summary(summary):
  """A few lines for people: where, how much, from which step."""
  lines = [
      "Exported checkpoint %s (+ %s state file)" % (summary.export_path,
                                                     STATE_FILE_NAME),
      "  from %s, global_step %d" % (summary.init_checkpoint,
                                     summary.global_step),
      "  %d variables (global_step included), %d parameters: encoder%s" % (
          summary.num_variables, summary.num_parameters,
          "".join(", %s head" % what for what in summary.heads)),
      "  beside it: %s" % ", ".join(summary.copied_files),
  ]
  dropped = []
  if summary.dropped_slots:
    dropped.append("%d optimizer slot(s)" % summary.dropped_slots)
  if summary.dropped_variables:
    names = summary.dropped_variables
    dropped.append("%d other variable(s): %s%s" % (
        len(names), ", ".join(names[:10]), " ..." if len(names) > 10 else ""))
  if dropped:
    lines.append("  not exported: %s" % "; ".join(dropped))
  if summary.random_variables:
    lines.append("  WARNING: %d variable(s) have RANDOM weights "
                 "(--allow_random_heads): %s" % (
                     len(summary.random_variables),
                     ", ".join(summary.random_variables)))
  if SPM_MODEL_NAME not in summary.copied_files:
    lines.append("  no %s was copied: add the tokenizer before using the "
                 "directory as a model directory" % SPM_MODEL_NAME)
  return "\n".join(lines)


def run(options):
  """Exports from flag-like options (FLAGS, or `default_options(...)`).

  Returns:
    `CheckpointExportSummary`.

  Raises:
    ExportError: on missing flags or files, checkpoint mismatches or
      missing heads, an unsuitable export_path, or a failed write.
  """
  directory, config_file, checkpoint = export_utils.model_from_options(
      options)
  export_path, export_dir = check_export_path(options.export_path)
  # The directory as a whole first: its name says more than the first of
  # its files that the export would replace.
  check_clear_of_inputs(options.export_path, export_dir,
                        [("albert_directory", directory)])
  spm_model_file = os.path.join(directory, SPM_MODEL_NAME)
  if not tf.gfile.Exists(spm_model_file):
    spm_model_file = None
  return export_checkpoint(
      config_file,
      checkpoint,
      export_path,
      spm_model_file=spm_model_file,
      include_mlm=options.include_mlm,
      include_sop=options.include_sop,
      allow_random_heads=options.allow_random_heads,
      overwrite=options.overwrite_export_path)


default_options = command_line.default_options_of(FLAG_DEFAULTS)


main = export_utils.cli_main(run, format_summary)


if __name__ == "__main__":
  flags.mark_flag_as_required("albert_directory")
  flags.mark_flag_as_required("export_path")
  app.run(main)
