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
"""Which files of an export its exporter wrote; keeping all the others.

Every export carries the hidden marker file .albert_export. Its first line
says what wrote it ("transformers model written by albert"); below a
"files:" line follow the relative paths of every file the export wrote
(its manifest). Whatever else is in an export directory (a model card, a
user's notes) is "foreign": --overwrite_export_path replaces the
exporter's files and moves the foreign ones into the new export, at the
same relative paths (`finish_replacement`).

Exports without a manifest (markers of earlier versions, TF1 hub modules
made elsewhere) count as the exporter's only what the exporter of their
kind is known to write, the standard SavedModel / hub module layout and
what the replacing export writes; everything else is kept.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import os
import re
import shutil

import tensorflow.compat.v1 as tf

HUB_MODULE_FILE = "tfhub_module.pb"
EXPORT_MARKER = ".albert_export"
_MARKER_SUFFIX = " written by albert"
_MANIFEST_HEADER = "files:"

# Whoever wrote a SavedModel or TF1 hub module, these are its own files.
_SAVED_MODEL_FILES = frozenset([HUB_MODULE_FILE, "saved_model.pb",
                                "fingerprint.pb"])
_SAVED_MODEL_DIRS = ("variables/", "assets/")

# What each kind of export wrote before markers had a manifest. Written
# out rather than taken from the exporters' constants: it describes files
# already on disk, which a later rename of a constant does not change.
_LEGACY_FILES = {
    "transformers model": frozenset([
        "config.json", "model.safetensors", "spiece.model",
        "tokenizer_config.json", "special_tokens_map.json"]),
    "model directory": frozenset([
        "albert_config.json", "30k-clean.model", "checkpoint"]),
    "checkpoint": frozenset([
        "albert_config.json", "30k-clean.model", "30k-clean.vocab",
        "checkpoint"]),
}
# Kinds whose exports hold a checkpoint named by their state file.
_CHECKPOINT_KINDS = ("model directory", "checkpoint")
_STATE_LINE = re.compile(r'^(?:all_)?model_checkpoint_paths?: "([^"/]+)"$')


def is_remote(path):
  """True for a filesystem URL (gs://...), where pids and os calls fail."""
  return "://" in path


def marker_text(what, paths):
  """The marker file's content: what wrote the export, then its manifest."""
  return "%s%s\n%s\n%s" % (what, _MARKER_SUFFIX, _MANIFEST_HEADER,
                           "".join(path + "\n" for path in paths))


def read_marker(directory):
  """What the marker of the export at directory says.

  Returns:
    (kind, manifest): kind is the first line without " written by albert"
    (None without a marker); manifest the set of relative paths the export
    wrote, or None when the marker lists none (earlier versions) or is
    missing or unreadable.
  """
  path = os.path.join(directory, EXPORT_MARKER)
  try:
    with tf.gfile.GFile(path, "r") as f:
      lines = f.read().splitlines()
  except (OSError, tf.errors.OpError, UnicodeDecodeError):
    return None, None
  kind = None
  if lines and lines[0].endswith(_MARKER_SUFFIX):
    kind = lines[0][:-len(_MARKER_SUFFIX)]
  if _MANIFEST_HEADER not in lines:
    return kind, None
  start = lines.index(_MANIFEST_HEADER) + 1
  return kind, set(line for line in lines[start:] if line)


def _walk_error(error):
  # An unreadable subdirectory hides its files: listing must fail rather
  # than let them be removed with the directory as no one's.
  raise error


def entries(directory):
  """Sorted "/"-separated relative paths of the files below directory.

  Symlinks count as files and are never followed (moving one moves the
  link); empty directories are not listed.
  """
  found = []
  if is_remote(directory):
    for parent, _, names in tf.gfile.Walk(directory):
      relative = parent[len(directory):].strip("/")
      found.extend(relative + "/" + name if relative else name
                   for name in names)
    return sorted(found)
  for parent, dirs, names in os.walk(directory, onerror=_walk_error):
    links = [d for d in dirs if os.path.islink(os.path.join(parent, d))]
    relative = os.path.relpath(parent, directory)
    for name in names + links:
      path = name if relative == "." else os.path.join(relative, name)
      found.append(path.replace(os.sep, "/"))
  return sorted(found)


def written_paths(directory):
  """What the export at directory wrote: its manifest, else all its files."""
  _, manifest = read_marker(directory)
  if manifest is not None:
    return manifest
  return set(path for path in entries(directory) if path != EXPORT_MARKER)


def _checkpoint_files(directory):
  """Files of the checkpoints the state file in directory names."""
  names = set()
  try:
    with tf.gfile.GFile(os.path.join(directory, "checkpoint"), "r") as f:
      for line in f.read().splitlines():
        match = _STATE_LINE.match(line.strip())
        if match:
          names.add(match.group(1))
  except (OSError, tf.errors.OpError, UnicodeDecodeError):
    names = set()
  if not names:
    return lambda path: False
  pattern = re.compile(r"^(%s)\.(index|meta|data-\d+-of-\d+)$" %
                       "|".join(re.escape(name) for name in sorted(names)))
  return lambda path: bool(pattern.match(path))


def _legacy_owner(directory, kind, new_paths):
  """is_own(path) for an export without a manifest; unsure means no."""
  known = set(new_paths) | _LEGACY_FILES.get(kind, frozenset())
  in_checkpoint = (_checkpoint_files(directory)
                   if kind in _CHECKPOINT_KINDS else lambda path: False)

  def is_own(path):
    return (path in known or path in _SAVED_MODEL_FILES or
            path.startswith(_SAVED_MODEL_DIRS) or in_checkpoint(path))

  return is_own


def foreign_entries(directory, new_paths):
  """The files of the export at directory that its exporter did not write.

  Args:
    directory: a previous export.
    new_paths: relative paths the replacing export writes; for an export
      without a manifest, they count as the exporter's.

  Returns:
    Sorted relative paths; never the marker.
  """
  kind, manifest = read_marker(directory)
  if manifest is not None:
    is_own = manifest.__contains__
  else:
    is_own = _legacy_owner(directory, kind, new_paths)
  return [path for path in entries(directory)
          if path != EXPORT_MARKER and not is_own(path)]


def clashes(foreign, new_paths):
  """The foreign paths that the replacing export's files would replace.

  A path clashes with the same path, and with a file below it or above it
  (a directory cannot be a file as well).
  """
  result = []
  for path in foreign:
    for new in new_paths:
      if (path == new or path.startswith(new + "/") or
          new.startswith(path + "/")):
        result.append(path)
        break
  return result


def _move(source, target):
  """Moves one file (or link); False if target is taken or it failed."""
  try:
    if is_remote(target):
      tf.gfile.MakeDirs(os.path.dirname(target))
      tf.gfile.Rename(source, target, overwrite=False)
      return True
    # rename() would silently replace a file that is there.
    if os.path.lexists(target):
      return False
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.rename(source, target)
    return True
  except (OSError, tf.errors.OpError) as e:
    tf.logging.warning("Could not move %s to %s: %s", source, target, e)
    return False


def _remove_own(old, stuck):
  """Removes what the exporter wrote in `old`, keeping `stuck` and marker.

  The marker stays, so that the next run still tells the two apart.
  """
  keep = set(stuck) | {EXPORT_MARKER}
  for path in entries(old):
    if path not in keep:
      target = os.path.join(old, path)
      if is_remote(target):
        tf.gfile.Remove(target)
      else:
        os.remove(target)


def _remove_all(old):
  """Removes `old`, its marker last: a kill midway leaves it readable."""
  if is_remote(old):
    tf.gfile.DeleteRecursively(old)
    return
  for name in os.listdir(old):
    path = os.path.join(old, name)
    if name == EXPORT_MARKER:
      continue
    if os.path.isdir(path) and not os.path.islink(path):
      shutil.rmtree(path)
    else:
      os.remove(path)
  shutil.rmtree(old)


def finish_replacement(old, export_path):
  """Moves the foreign files of a replaced export into the new one.

  `old` is the previous export, moved aside; export_path holds the export
  that replaced it. Foreign files go to the same relative paths in the new
  export; then what the exporter wrote is removed from `old`, and `old`
  itself once nothing else is left in it. Whatever cannot be moved (its
  path is taken, or moving fails) stays in `old`, with a warning: never is
  a file removed that an exporter did not write.

  Used right after the swap and, for an export killed in between, by the
  next run (`export_utils.remove_dead_export_leftovers`).

  Returns:
    The relative paths moved into export_path.
  """
  try:
    foreign = foreign_entries(old, written_paths(export_path))
  except (OSError, tf.errors.OpError) as e:
    tf.logging.warning("Left the previous export at %s: could not list its "
                       "files (%s); the next export to %s tries again", old,
                       e, export_path)
    return []
  moved, stuck = [], []
  for path in foreign:
    if _move(os.path.join(old, path), os.path.join(export_path, path)):
      moved.append(path)
    else:
      stuck.append(path)
  try:
    if stuck:
      _remove_own(old, stuck)
    else:
      _remove_all(old)
  except (OSError, tf.errors.OpError) as e:
    # Hidden, so harmless where it is; the next run tries again.
    tf.logging.warning("Could not remove the previous export at %s: %s",
                       old, e)
  if stuck:
    tf.logging.warning(
        "Left %d file(s) of the previous export in %s: %s; they could not be "
        "moved into %s (something is at their path there, or see above). "
        "Move them yourself", len(stuck), old, ", ".join(stuck), export_path)
  return moved
