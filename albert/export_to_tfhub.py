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
import errno
import os
import re
import shutil
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
# What makes a directory recognisably an export that --overwrite_export_path
# may replace: hub's own file of TF1 modules, or the marker every export of
# this tool carries (hidden, so globs over the module do not see it).
HUB_MODULE_FILE = "tfhub_module.pb"
EXPORT_MARKER = ".albert_export"
# Inside the hidden staging directory: the module being written and the
# scratch files it is built from, so one removal takes all of it.
_STAGED_MODULE = "module"

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
     "it: pass --noinclude_mlm (and --noinclude_sop) to export its encoder "
     "alone."),
    ("bool", "include_sop", True,
     "Export the 'sop' signature; it needs the sentence-order head "
     "(cls/seq_relationship/*) in the checkpoint."),
    ("bool", "overwrite_export_path", False,
     "Replace export_path if it holds a previous export (a directory with "
     "tfhub_module.pb); anything else there is an error. The old module is "
     "removed only after the new one is complete."),
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


def _placeholders(include_mlm):
  """int32 [None, None] inputs, named as the released module's."""
  names = ["input_ids", "input_mask", "segment_ids"]
  if include_mlm:
    names.append("mlm_positions")
  return {name: tf.placeholder(tf.int32, [None, None], name)
          for name in names}


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


def _spm_vocab_asset(spm_model_file):
  """The sentencepiece .vocab beside the model, if any, as an asset list."""
  if not spm_model_file or not spm_model_file.endswith(".model"):
    return ()
  vocab = spm_model_file[:-len(".model")] + ".vocab"
  return (vocab,) if tf.gfile.Exists(vocab) else ()


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


def _checkpoints_in(directory):
  """Sorted prefixes of the checkpoints in directory (for messages)."""
  return sorted(os.path.basename(path)[:-len(".index")] for path in
                tf.gfile.Glob(os.path.join(directory or ".", "*.index")))


def resolve_checkpoint(init_checkpoint):
  """The checkpoint prefix; a directory means its latest checkpoint.

  A file of a checkpoint ("model.ckpt-best.index", ".meta", a data shard)
  means its prefix, as --init_checkpoint takes it in the other commands.

  Raises:
    ExportError: nothing is there, or its files are unreadable or
      truncated, naming the path.
  """
  if not init_checkpoint:
    raise ExportError("no init checkpoint given: a hub module needs "
                      "pretrained weights")
  if tf.gfile.IsDirectory(init_checkpoint):
    latest = tf.train.latest_checkpoint(init_checkpoint)
    if latest is None:
      raise ExportError("init checkpoint %s is a directory without a "
                        "checkpoint in it" % init_checkpoint)
    init_checkpoint = latest
  init_checkpoint = runtime.resolve_init_checkpoint(init_checkpoint)
  if not tf.gfile.Exists(init_checkpoint + ".index"):
    found = _checkpoints_in(os.path.dirname(init_checkpoint))
    raise ExportError(
        "init checkpoint not found: %s (expected the checkpoint prefix, with "
        "%s.index beside it; %s)" %
        (init_checkpoint, init_checkpoint,
         "checkpoints there: " + ", ".join(found) if found else
         "there is no checkpoint in that directory"))
  # A truncated or corrupt checkpoint would otherwise fail only when the
  # weights are restored, with a TensorFlow traceback naming no file.
  try:
    runtime.check_checkpoint_files(init_checkpoint, "init checkpoint")
  except ValueError as e:
    raise ExportError(str(e))
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
    build_model_outputs(albert_config, _placeholders(include_mlm),
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
    raise ExportError(
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
    raise ExportError(
        "init checkpoint %s has no %s head (%s); it looks like a fine-tuned "
        "checkpoint. Export without it with %s: the module then lacks the "
        "%s signature(s)." %
        (init_checkpoint, " or ".join(what for what, _ in absent),
         ", ".join(head_missing),
         " ".join("--noinclude_%s" % flag for _, flag in absent),
         ", ".join("'%s'" % flag for _, flag in absent)))
  if missing:
    raise ExportError(
        "init checkpoint %s lacks %d of the module's %d variables; they "
        "would be exported with random weights: %s%s" %
        (init_checkpoint, len(missing), len(tvars), ", ".join(missing[:20]),
         " ..." if len(missing) > 20 else ""))
  return result


def _is_remote(path):
  return "://" in path


def _normalised(path):
  """A comparable form of path: symlinks resolved where that is possible."""
  if _is_remote(path):
    return path.rstrip("/")
  return os.path.realpath(os.path.abspath(path))


def _is_same_or_inside(path, directory):
  """True if normalised `path` is `directory` or lies below it."""
  return path == directory or path.startswith(directory.rstrip("/") + "/")


# The files of a checkpoint prefix: its index, meta graph and data shards.
_CHECKPOINT_FILE = re.compile(r"\.(index|meta|data-\d+-of-\d+)$")


def check_export_path_clear_of_inputs(export_path, inputs):
  """Fails if writing export_path could replace what the export reads.

  With --overwrite_export_path, an export_path that is the model directory
  (or holds it) would be replaced by the module made from it: the
  checkpoint, config and tokenizer would be gone. A module directory
  inside the model directory is fine.

  Args:
    export_path: the module directory to create.
    inputs: list of (what, path) the export reads, e.g.
      ("albert config", ".../albert_config.json").

  Raises:
    ExportError: naming export_path and the input it would replace.
  """
  target = _normalised(export_path)
  for what, path in inputs:
    source = _normalised(path)
    if _is_same_or_inside(source, target):
      raise ExportError(
          "export_path %s %s the %s %s, an input of this export; choose an "
          "export_path outside the model being exported" %
          (export_path, "is" if source == target else "contains", what,
           path))


def _input_files(albert_config, vocab_asset, init_checkpoint):
  """(what, path) of every file the export reads."""
  inputs = []
  if not isinstance(albert_config, modeling.AlbertConfig):
    inputs.append(("albert config", albert_config))
  inputs.append(("tokenizer file", vocab_asset))
  inputs.extend(("init checkpoint file", path)
                for path in sorted(tf.gfile.Glob(init_checkpoint + ".*"))
                if _CHECKPOINT_FILE.search(path[len(init_checkpoint):]))
  return inputs


def is_replaceable_export(path):
  """True if --overwrite_export_path may replace what is at path.

  That is a TF1 hub module (it has tfhub_module.pb), whatever this tool
  exported (it has the marker file) or an empty directory, which holds
  nothing to lose.
  """
  if not tf.gfile.IsDirectory(path):
    return False
  return (tf.gfile.Exists(os.path.join(path, HUB_MODULE_FILE)) or
          tf.gfile.Exists(os.path.join(path, EXPORT_MARKER)) or
          not tf.gfile.ListDirectory(path))


def _check_replaceable(export_path):
  if not is_replaceable_export(export_path):
    raise ExportError(
        "export_path %s exists and is not a previous export (no %s in it); "
        "--overwrite_export_path replaces only exported modules. Remove it "
        "yourself or choose another export_path" %
        (export_path, HUB_MODULE_FILE))


def _hidden_name(export_path, kind):
  """A hidden name beside export_path: the final rename stays on one FS.

  ".<name>.<kind>-<pid>-<random>": no glob over the parent directory
  matches it, and the pid tells a later run whether its writer is gone.
  """
  parent, name = os.path.split(export_path)
  return os.path.join(parent, ".%s.%s-%d-%s" % (name, kind, os.getpid(),
                                                uuid.uuid4().hex[:8]))


def _leftover_pattern(name):
  # Earlier versions staged under the visible "<name>.tmp-<pid>-<random>";
  # a killed run of theirs is cleaned up as well.
  return re.compile(r"^\.?%s\.(tmp|old)-(\d+)-[0-9a-f]{8}$" %
                    re.escape(name))


def _process_alive(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def _remove_tree(path):
  """Removes a staging tree; a symlink is unlinked, never followed."""
  if _is_remote(path):
    if tf.gfile.Exists(path):
      tf.gfile.DeleteRecursively(path)
  elif os.path.islink(path) or os.path.isfile(path):
    os.remove(path)
  elif os.path.isdir(path):
    shutil.rmtree(path)


def _remove_quietly(path):
  """`_remove_tree`, warning instead of raising.

  For clean-up, where a failure must not hide the real outcome: what stays
  has a hidden name, and the next run removes it.
  """
  try:
    _remove_tree(path)
  except (OSError, tf.errors.OpError) as e:
    tf.logging.warning("Could not remove the temporary %s: %s", path, e)


def remove_dead_export_leftovers(export_path):
  """Cleans up what killed exports to export_path left beside it.

  Staging directories (".<name>.tmp-<pid>-<random>") of processes that are
  gone are removed. A previous module moved aside for replacement
  (".<name>.old-<pid>-<random>") is put back when the run died before the
  new one was moved in (export_path is missing), and removed otherwise.
  Leftovers of live processes and every other name are left alone.

  Args:
    export_path: local module path (remote paths are skipped: their
      writers' pids mean nothing here).

  Returns:
    The names removed or restored.
  """
  if _is_remote(export_path):
    return []
  parent, name = os.path.split(export_path)
  if not os.path.isdir(parent):
    return []
  pattern = _leftover_pattern(name)
  handled = []
  for entry in sorted(os.listdir(parent)):
    match = pattern.match(entry)
    if not match:
      continue
    pid = int(match.group(2))
    if pid == os.getpid() or _process_alive(pid):
      continue
    path = os.path.join(parent, entry)
    try:
      if match.group(1) == "old" and not os.path.lexists(export_path):
        os.rename(path, export_path)
        tf.logging.warning(
            "Restored the previous module %s: a killed export (pid %d) had "
            "moved it aside to %s", export_path, pid, entry)
      else:
        _remove_tree(path)
    except OSError as e:
      # Hidden, so harmless where it is; this export goes on.
      tf.logging.warning("Could not clean up %s, left by a killed export: "
                         "%s", path, e)
      continue
    handled.append(entry)
  return handled


def _write_failed(export_path, error):
  """An ExportError for an OSError or TensorFlow error while writing."""
  if isinstance(error, tf.errors.OpError):
    reason = (error.message or str(error)).strip().splitlines()
    reason = reason[0] if reason else type(error).__name__
    full = isinstance(error, tf.errors.ResourceExhaustedError)
  else:
    reason = error.strerror or str(error)
    if error.filename:
      reason = "%s: %s" % (error.filename, reason)
    full = error.errno in (errno.ENOSPC, errno.EDQUOT)
  full = full or "no space left" in reason.lower()
  return ExportError(
      "cannot write the module to export_path %s: %s; nothing was left "
      "there%s" % (export_path, reason,
                   " (free some space and run again)" if full else ""))


def _make_parent(export_path):
  parent = os.path.dirname(export_path)
  try:
    tf.gfile.MakeDirs(parent)
  except (OSError, tf.errors.OpError) as e:
    raise ExportError(
        "cannot create the directory of export_path %s: %s" %
        (export_path, getattr(e, "message", None) or e))


def _move_into_place(staged, export_path, overwrite):
  """Renames the finished module to export_path (replacing it if asked)."""
  if not tf.gfile.Exists(export_path):
    tf.gfile.Rename(staged, export_path)
    return
  if not overwrite:
    raise ExportError("export_path %s appeared while exporting; it was "
                      "not replaced" % export_path)
  _check_replaceable(export_path)
  # Move the old module aside first: if the second rename fails it is put
  # back, so export_path never holds a half-replaced module. A run killed
  # in between leaves it under a hidden name, and the next run puts it
  # back (remove_dead_export_leftovers).
  old = _hidden_name(export_path, "old")
  tf.gfile.Rename(export_path, old)
  try:
    tf.gfile.Rename(staged, export_path)
  except BaseException:
    tf.gfile.Rename(old, export_path)
    raise
  _remove_quietly(old)


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
  if not export_path:
    raise ExportError("no export_path given")
  if not export_path.rstrip("/"):
    raise ExportError("export_path %s is the filesystem root; expected a "
                      "directory to create" % export_path)
  export_path = export_path.rstrip("/")
  if not _is_remote(export_path):
    export_path = os.path.abspath(export_path)
  config = _load_config(albert_config)
  vocab_asset = _check_vocabulary(config, spm_model_file, vocab_file)
  init_checkpoint = resolve_checkpoint(init_checkpoint)
  check_export_path_clear_of_inputs(
      export_path, _input_files(albert_config, vocab_asset, init_checkpoint))
  remove_dead_export_leftovers(export_path)
  if tf.gfile.Exists(export_path):
    if not overwrite:
      raise ExportError("export_path %s already exists; remove it or pass "
                        "--overwrite_export_path (overwrite=True)" %
                        export_path)
    _check_replaceable(export_path)
  assignment = check_checkpoint(config, init_checkpoint, use_einsum,
                                include_mlm, include_sop)

  _make_parent(export_path)
  # Everything this run writes goes below one hidden directory beside
  # export_path: the module, and the config asset it is built from. A
  # failure removes it at once; a killed run's is removed by the next run.
  staging = _hidden_name(export_path, "tmp")
  staged_module = os.path.join(staging, _STAGED_MODULE)
  try:
    tf.gfile.MakeDirs(staging)
    # The config asset is written from the parsed config, so an
    # AlbertConfig object and a json path ship the same file.
    config_asset = os.path.join(staging, CONFIG_NAME)
    with tf.gfile.GFile(config_asset, "w") as f:
      f.write(config.to_json_string())
    module_fn = make_module_fn(config, vocab_asset, do_lower_case,
                               use_einsum=use_einsum,
                               include_mlm=include_mlm,
                               config_asset_path=config_asset,
                               include_sop=include_sop,
                               extra_asset_paths=_spm_vocab_asset(
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
                            (init_checkpoint,
                             (e.message or str(e)).splitlines()[0]))
        module.export(staged_module, sess)
      num_parameters = int(sum(np.prod(v.shape.as_list())
                               for v in variable_map.values()))
    with tf.gfile.GFile(os.path.join(staged_module, EXPORT_MARKER),
                        "w") as f:
      f.write("TF-Hub module exported by albert.export_to_tfhub from %s\n" %
              init_checkpoint)
    _move_into_place(staged_module, export_path, overwrite)
  except (OSError, tf.errors.OpError) as e:
    raise _write_failed(export_path, e)
  finally:
    _remove_quietly(staging)

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
    ExportError: on missing flags or files, checkpoint mismatches, an
      export_path that would replace the model, or a failed write.
  """
  for name in ("albert_directory", "export_path"):
    if not getattr(options, name):
      raise ExportError("--%s is required" % name)
  directory = options.albert_directory
  if not tf.gfile.Exists(directory):
    raise ExportError("albert_directory not found: %s" % directory)
  if not tf.gfile.IsDirectory(directory):
    raise ExportError("albert_directory %s is a file; expected the model "
                      "directory holding %s, the checkpoint and %s" %
                      (directory, CONFIG_NAME, SPM_MODEL_NAME))
  # The directory as a whole first: its own name in the message says more
  # than the first file of it that export_path would replace.
  check_export_path_clear_of_inputs(options.export_path,
                                    [("albert_directory", directory)])
  config_file = os.path.join(directory, CONFIG_NAME)
  if not tf.gfile.Exists(config_file):
    raise ExportError("albert_directory %s has no %s: %s not found" %
                      (directory, CONFIG_NAME, config_file))
  if not options.checkpoint_name:
    raise ExportError("--checkpoint_name is empty; expected the name of a "
                      "checkpoint in albert_directory %s (default %s)" %
                      (directory, DEFAULT_CHECKPOINT_NAME))
  checkpoint = os.path.join(directory, options.checkpoint_name)
  # Resolved here as well, so that a message about it names the flag.
  try:
    resolve_checkpoint(checkpoint)
  except ExportError as e:
    raise ExportError("--checkpoint_name=%s: %s" % (options.checkpoint_name,
                                                     e))
  spm_model_file = options.spm_model_file
  if not spm_model_file and not options.vocab_file:
    spm_model_file = os.path.join(directory, SPM_MODEL_NAME)
  return export_hub_module(
      config_file,
      checkpoint,
      options.export_path,
      spm_model_file=spm_model_file,
      vocab_file=options.vocab_file,
      do_lower_case=options.do_lower_case,
      use_einsum=options.use_einsum,
      include_mlm=options.include_mlm,
      include_sop=options.include_sop,
      overwrite=options.overwrite_export_path)


def default_options(**overrides):
  """The flag defaults as an object, with overrides; for calling `run`."""
  return runtime.options(FLAG_DEFAULTS, overrides)


def _run_and_report(options):
  """Exports and prints the summary; the command line's body."""
  # Deprecation notices and hub's own "exported to <temporary name>" line
  # would bury the summary; this package's warnings and all errors remain.
  absl_logging.set_verbosity(absl_logging.WARNING)
  tf.disable_v2_behavior()
  with runtime.show_only_own_logs():
    summary = run(options)
  print(format_summary(summary))


# Bad inputs (ValueError), a full disk (OSError) and Ctrl-C end in one line
# and an exit code, as in every other command of this package.
main = runtime.cli_main(_run_and_report)


if __name__ == "__main__":
  flags.mark_flag_as_required("albert_directory")
  flags.mark_flag_as_required("export_path")
  app.run(main)
