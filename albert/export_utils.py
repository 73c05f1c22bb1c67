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
"""What every exporter shares: reading a model directory, writing safely.

A model directory is the released layout: albert_config.json, a checkpoint
(model.ckpt-best) and the tokenizer (30k-clean.model). An export is written
below a hidden staging directory beside its path and renamed into place
only when complete; it never replaces its own inputs, and replaces only a
previous export (see `is_replaceable_export`), and of that only the files
its exporter wrote: other files in it are moved into the new export
(export_files.py). A killed export's staging directory is removed by the
next run (`remove_dead_export_leftovers`).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib
import errno
import os
import re
import shutil

from absl import logging as absl_logging
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import export_files
from albert import modeling
from albert import progress
from albert import staging
from albert import tokenization

CONFIG_NAME = "albert_config.json"
SPM_MODEL_NAME = "30k-clean.model"
DEFAULT_CHECKPOINT_NAME = "model.ckpt-best"
# What makes a directory recognisably an export that --overwrite_export_path
# may replace: hub's own file of TF1 modules, or the marker every export of
# this tool carries (hidden, so globs over the module do not see it).
HUB_MODULE_FILE = export_files.HUB_MODULE_FILE
EXPORT_MARKER = export_files.EXPORT_MARKER
is_remote = export_files.is_remote

# How check_replaceable names each exporter's format (staged_export's
# `what`): (what export_path is not, what it lacks, what is replaced).
_MARKER_NAME = "%s marker" % EXPORT_MARKER
_FORMATS = {
    "TF-Hub module": ("a previous export",
                      "%s or %s" % (HUB_MODULE_FILE, _MARKER_NAME),
                      "exported modules"),
    "TF2 SavedModel": ("a previous TF2 SavedModel export", _MARKER_NAME,
                       "exports of this tool"),
    "transformers model": ("a previous Hugging Face export", _MARKER_NAME,
                           "exports of this tool"),
    "model directory": ("a model directory written by import_from_hf",
                        _MARKER_NAME, "exports of this tool"),
    "checkpoint": ("a previous checkpoint export", _MARKER_NAME,
                   "exports of this tool"),
}


class ExportError(ValueError):
  """The inputs cannot make a faithful module (missing files, mismatches)."""




def spm_vocab_asset(spm_model_file):
  """The sentencepiece .vocab beside the model, if any, as an asset list."""
  if not spm_model_file or not spm_model_file.endswith(".model"):
    return ()
  vocab = spm_model_file[:-len(".model")] + ".vocab"
  return (vocab,) if tf.gfile.Exists(vocab) else ()


def load_config(albert_config):
  """AlbertConfig from an AlbertConfig or a path, validated.

  A path is read by AlbertConfig.from_json_file, the one reader of config
  files (it validates, and names the file and what is wrong with it).
  """
  if isinstance(albert_config, modeling.AlbertConfig):
    albert_config.validate()
    return albert_config
  return modeling.AlbertConfig.from_json_file(albert_config)


def checkpoints_in(directory):
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
  init_checkpoint = checkpoints.resolve_init_checkpoint(init_checkpoint)
  if not tf.gfile.Exists(init_checkpoint + ".index"):
    found = checkpoints_in(os.path.dirname(init_checkpoint))
    raise ExportError(
        "init checkpoint not found: %s (expected the checkpoint prefix, with "
        "%s.index beside it; %s)" %
        (init_checkpoint, init_checkpoint,
         "checkpoints there: " + ", ".join(found) if found else
         "there is no checkpoint in that directory"))
  # A truncated or corrupt checkpoint would otherwise fail only when the
  # weights are restored, with a TensorFlow traceback naming no file.
  try:
    checkpoints.check_checkpoint_files(init_checkpoint, "init checkpoint")
  except ValueError as e:
    raise ExportError(str(e))
  return init_checkpoint


def vocab_size_of(spm_model_file, vocab_file):
  """How many tokens the tokenizer can produce."""
  tokenizer = tokenization.FullTokenizer(
      vocab_file=vocab_file, do_lower_case=True,
      spm_model_file=spm_model_file)
  return len(tokenizer.vocab)


def check_vocabulary(albert_config, spm_model_file, vocab_file):
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
    size = vocab_size_of(spm_model_file, None if spm_model_file else path)
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


def clean_export_path(export_path):
  """export_path without trailing "/", absolute when local; checked.

  Raises:
    ExportError: export_path is empty or the filesystem root.
  """
  if not export_path:
    raise ExportError("no export_path given")
  if not export_path.rstrip("/"):
    raise ExportError("export_path %s is the filesystem root; expected a "
                      "directory to create" % export_path)
  export_path = export_path.rstrip("/")
  if not is_remote(export_path):
    export_path = os.path.abspath(export_path)
  return export_path


def normalised(path):
  """A comparable form of path: symlinks resolved where that is possible."""
  if is_remote(path):
    return path.rstrip("/")
  return os.path.realpath(os.path.abspath(path))


def is_same_or_inside(path, directory):
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
  target = normalised(export_path)
  for what, path in inputs:
    source = normalised(path)
    if is_same_or_inside(source, target):
      raise ExportError(
          "export_path %s %s the %s %s, an input of this export; choose an "
          "export_path outside the model being exported" %
          (export_path, "is" if source == target else "contains", what,
           path))


def input_files(albert_config, vocab_asset, init_checkpoint):
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


def check_replaceable(export_path, what="TF-Hub module"):
  """Fails unless export_path is a previous export, naming the format.

  Args:
    export_path: the existing directory to replace.
    what: the export's kind, as staged_export takes it.
  """
  if not is_replaceable_export(export_path):
    kind, lacks, replaced = _FORMATS.get(what, _FORMATS["TF-Hub module"])
    raise ExportError(
        "export_path %s exists and is not %s (no %s in it); "
        "--overwrite_export_path replaces only %s. Remove it yourself or "
        "choose another export_path" % (export_path, kind, lacks, replaced))


def check_foreign_files_kept(export_path, new_paths):
  """Fails if the new export would replace a file the exporter did not write.

  Such files (a model card a user added) are moved into the new export;
  one at a path the new export writes as well would be lost.

  Args:
    export_path: the previous export.
    new_paths: relative paths the new export writes.

  Raises:
    ExportError: naming the files, before anything is written.
  """
  foreign = export_files.foreign_entries(export_path, new_paths)
  clashing = export_files.clashes(foreign, new_paths)
  if clashing:
    raise ExportError(
        "export_path %s holds %s, which the previous export did not write "
        "and this export would replace; move %s out of export_path and run "
        "again (nothing was written)" %
        (export_path, ", ".join(os.path.join(export_path, path)
                                for path in clashing),
         "it" if len(clashing) == 1 else "them"))


def hidden_name(export_path, kind):
  """A hidden name beside export_path: the final rename stays on one FS.

  ".<name>.<kind>-<pid>-<random>" (staging.temporary_path; kind "tmp" or
  "old"): no glob over the parent directory matches it, the pid tells a
  later run whether its writer is gone, and the random part keeps the
  names of one process apart.
  """
  return staging.temporary_path(export_path, kind, unique=True)


def _export_leftover(entry, name):
  """staging's parts of `entry` if a `hidden_name` of export `name`, else None.

  Earlier versions staged under the visible "<name>.tmp-<pid>-<random>";
  a killed run of theirs is cleaned up as well.
  """
  for candidate in (entry, "." + entry):
    parts = staging.parse_temporary_name(candidate)
    if parts and parts.target == name and parts.unique:
      return parts
  return None


def remove_tree(path):
  """Removes a staging tree; a symlink is unlinked, never followed."""
  if is_remote(path):
    if tf.gfile.Exists(path):
      tf.gfile.DeleteRecursively(path)
  elif os.path.islink(path) or os.path.isfile(path):
    os.remove(path)
  elif os.path.isdir(path):
    shutil.rmtree(path)


def remove_quietly(path):
  """`remove_tree`, warning instead of raising.

  For clean-up, where a failure must not hide the real outcome: what stays
  has a hidden name, and the next run removes it.
  """
  try:
    remove_tree(path)
  except (OSError, tf.errors.OpError) as e:
    tf.logging.warning("Could not remove the temporary %s: %s", path, e)


def remove_dead_export_leftovers(export_path):
  """Cleans up what killed exports to export_path left beside it.

  Staging directories (".<name>.tmp-<pid>-<random>") of processes that are
  gone are removed. A previous module moved aside for replacement
  (".<name>.old-<pid>-<random>") is put back when the run died before the
  new one was moved in (export_path is missing). Otherwise the run died
  after: the files of the old one that its exporter did not write are
  moved into the new one, as that run would have, and the rest removed
  (`export_files.finish_replacement`). Leftovers of live processes and
  every other name are left alone.

  Args:
    export_path: local module path (remote paths are skipped: their
      writers' pids mean nothing here).

  Returns:
    The names removed or restored.
  """
  if is_remote(export_path):
    return []
  parent, name = os.path.split(export_path)
  if not os.path.isdir(parent):
    return []
  handled = []
  for entry in sorted(os.listdir(parent)):
    leftover = _export_leftover(entry, name)
    if not leftover or not staging.writer_is_gone(leftover.pid):
      continue
    pid = leftover.pid
    path = os.path.join(parent, entry)
    try:
      if leftover.kind == "old" and not os.path.lexists(export_path):
        os.rename(path, export_path)
        tf.logging.warning(
            "Restored the previous module %s: a killed export (pid %d) had "
            "moved it aside to %s", export_path, pid, entry)
      elif leftover.kind == "old":
        kept = export_files.finish_replacement(path, export_path)
        if kept:
          tf.logging.warning(
              "Kept %d file(s) of the previous export that a killed export "
              "(pid %d) had moved aside to %s, moved into %s: %s", len(kept),
              pid, entry, export_path, ", ".join(kept))
        if os.path.lexists(path):
          continue  # Files left in it, named by a warning.
      else:
        remove_tree(path)
    except OSError as e:
      # Hidden, so harmless where it is; this export goes on.
      tf.logging.warning("Could not clean up %s, left by a killed export: "
                         "%s", path, e)
      continue
    handled.append(entry)
  return handled


def write_failed(export_path, error):
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


def make_parent(export_path):
  parent = os.path.dirname(export_path)
  try:
    tf.gfile.MakeDirs(parent)
  except (OSError, tf.errors.OpError) as e:
    raise ExportError(
        "cannot create the directory of export_path %s: %s" %
        (export_path, getattr(e, "message", None) or e))


def move_into_place(staged, export_path, overwrite, what="TF-Hub module"):
  """Renames the finished module to export_path (replacing it if asked).

  A replaced export's files that its exporter did not write are moved
  into the new one (`export_files.finish_replacement`), with a warning
  naming them.
  """
  if not tf.gfile.Exists(export_path):
    tf.gfile.Rename(staged, export_path)
    return
  if not overwrite:
    raise ExportError("export_path %s appeared while exporting; it was "
                      "not replaced" % export_path)
  check_replaceable(export_path, what)
  check_foreign_files_kept(export_path, export_files.written_paths(staged))
  # Move the old module aside first: if the second rename fails it is put
  # back, so export_path never holds a half-replaced module. A run killed
  # in between leaves it under a hidden name, and the next run puts it
  # back, or finishes the replacement if the new one is in place
  # (remove_dead_export_leftovers).
  old = hidden_name(export_path, "old")
  tf.gfile.Rename(export_path, old)
  try:
    tf.gfile.Rename(staged, export_path)
  except BaseException:
    tf.gfile.Rename(old, export_path)
    raise
  kept = export_files.finish_replacement(old, export_path)
  if kept:
    tf.logging.warning(
        "Kept %d file(s) in %s that the previous export did not write: %s",
        len(kept), export_path, ", ".join(kept))


@contextlib.contextmanager
def staged_export(export_path, inputs, overwrite=False, what="export",
                  expected_files=()):
  """Writes an export under a hidden name; renames it into place when done.

  Checks first that export_path neither is nor holds an input, cleans up
  what killed exports to the same path left, and refuses an existing
  export_path unless `overwrite` and it is a previous export. Files in it
  that the previous export did not write are kept (moved into the new
  one); one at a path the new export writes is an error, before anything
  is written when `expected_files` names it, else before the swap.

    with export_utils.staged_export(path, inputs) as staged:
      tf.gfile.MakeDirs(staged)   # or let the writer create it
      ...write the export into `staged`...

  Scratch files may go beside `staged` (in os.path.dirname(staged)): the
  whole hidden directory is removed at the end, whatever happened.

  Args:
    export_path: the directory to create.
    inputs: (what, path) of every file the export reads.
    overwrite: replace a previous export at export_path.
    what: the export's kind, written into its marker file and named by
      the refusal of a directory that is not a previous export.
    expected_files: relative paths the export will write, as far as known
      before writing (checked against the files to keep).

  Yields:
    The path to write the export to (not yet created).

  Raises:
    ExportError: export_path is unsuitable, or writing failed (a full
      disk): nothing is left at export_path, or beside it.
  """
  check_export_path_clear_of_inputs(export_path, inputs)
  remove_dead_export_leftovers(export_path)
  if tf.gfile.Exists(export_path):
    if not overwrite:
      raise ExportError("export_path %s already exists; remove it or pass "
                        "--overwrite_export_path (overwrite=True)" %
                        export_path)
    check_replaceable(export_path, what)
    if expected_files:
      check_foreign_files_kept(export_path, expected_files)
  make_parent(export_path)
  staging = hidden_name(export_path, "tmp")
  staged = os.path.join(staging, "export")
  try:
    tf.gfile.MakeDirs(staging)
    yield staged
    # The manifest: what a later --overwrite_export_path may replace.
    written = export_files.entries(staged)
    with tf.gfile.GFile(os.path.join(staged, EXPORT_MARKER), "w") as f:
      f.write(export_files.marker_text(what, written))
    move_into_place(staged, export_path, overwrite, what)
  except (OSError, tf.errors.OpError) as e:
    raise write_failed(export_path, e)
  finally:
    remove_quietly(staging)


def model_directory(albert_directory, checkpoint_name):
  """The config file and checkpoint of a released-style model directory.

  Args:
    albert_directory: --albert_directory.
    checkpoint_name: --checkpoint_name, e.g. "model.ckpt-best" (a file of
      the checkpoint, such as its .index, means its prefix).

  Returns:
    (path of albert_config.json, checkpoint prefix).

  Raises:
    ExportError: naming the flag and what is missing.
  """
  if not tf.gfile.Exists(albert_directory):
    raise ExportError("albert_directory not found: %s" % albert_directory)
  if not tf.gfile.IsDirectory(albert_directory):
    raise ExportError(
        "albert_directory %s is a file; expected the model directory holding "
        "%s, the checkpoint and %s" %
        (albert_directory, CONFIG_NAME, SPM_MODEL_NAME))
  config_file = os.path.join(albert_directory, CONFIG_NAME)
  if not tf.gfile.Exists(config_file):
    raise ExportError("albert_directory %s has no %s: %s not found" %
                      (albert_directory, CONFIG_NAME, config_file))
  if not checkpoint_name:
    raise ExportError("--checkpoint_name is empty; expected the name of a "
                      "checkpoint in albert_directory %s (default %s)" %
                      (albert_directory, DEFAULT_CHECKPOINT_NAME))
  checkpoint = os.path.join(albert_directory, checkpoint_name)
  try:
    checkpoint = resolve_checkpoint(checkpoint)
  except ExportError as e:
    raise ExportError("--checkpoint_name=%s: %s" % (checkpoint_name, e))
  return config_file, checkpoint


def model_from_options(options):
  """An export command's common checks of its flags and model directory.

  Args:
    options: flags with albert_directory, checkpoint_name, export_path.

  Returns:
    (albert_directory, path of albert_config.json, checkpoint prefix).

  Raises:
    ExportError: a required flag is empty, a number is out of range, or the
      model directory lacks its config or checkpoint.
  """
  for name in ("albert_directory", "export_path"):
    if not getattr(options, name):
      raise ExportError("--%s is required" % name)
  command_line.check_numeric_flags(options)
  config_file, checkpoint = model_directory(options.albert_directory,
                                            options.checkpoint_name)
  return options.albert_directory, config_file, checkpoint


def cli_main(run_fn, format_summary):
  """The `main` of an export command: run quietly, print the summary.

  Deprecation notices and hub's own log lines would bury the summary; this
  package's warnings and all errors remain. Bad inputs, a full disk and
  Ctrl-C end in one line and an exit code (command_line.cli_main).
  """

  def run_and_report(options):
    absl_logging.set_verbosity(absl_logging.WARNING)
    with progress.show_only_own_logs():
      tf.disable_v2_behavior()
      summary = run_fn(options)
    print(format_summary(summary))

  return command_line.cli_main(run_and_report)
