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
"""Files a run writes: atomically, under hidden temporary names, and cleaned up.

Every output is written under a hidden temporary name that no user glob
matches and renamed when complete (`staged_path`, `atomic_open`,
`atomic_write_text`, `atomic_write_bytes`, `write_results`), through
tf.io.gfile, so remote paths (gs://...) work too; a result file this run
does not rewrite is removed (`remove_stale_result`); what a killed run left
in output_dir is removed, never anything else (`remove_dead_run_leftovers`).

The temporary-name scheme and the rename-or-remove logic are staging's
(standard library only, for local writers that run before TensorFlow is
loaded); this module gives them TensorFlow's file system.

Not here: checkpoint files (checkpoints), exports (export_utils,
export_files).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib
import os
import re

import tensorflow.compat.v1 as tf

from albert import progress
from albert import staging


def write_results(path, results, append=False):
  """Writes `key = value` lines, sorted, atomically (or appends).

  Args:
    path: output file (e.g. output_dir/eval_results.txt).
    results: dict of metric name to value.
    append: append a block instead of replacing the file.
  """
  if append:
    append_text(path, _results_text(results))
  else:
    atomic_write_text(path, _results_text(results))


def remove_stale_result(path, reason):
  """Removes a result file a previous run wrote that this run does not.

  A result file must never describe other data than the predictions
  beside it, so a run that has nothing to put in one (a test set without
  answers, a split not given this time) removes the previous one. Only
  pass the exact names the command itself writes.

  Args:
    path: the result file, e.g. output_dir/predict_results.txt.
    reason: why this run writes none, for the log line.
  """
  if tf.gfile.Exists(path):
    tf.gfile.Remove(path)
    progress.log_progress("removed the previous run's %s: %s", path, reason)


def append_text(path, text):
  """Appends text to a file, atomically (the whole file is rewritten)."""
  if tf.gfile.Exists(path):
    with tf.gfile.GFile(path, "r") as f:
      text = f.read() + text
  atomic_write_text(path, text)


def _results_text(results):
  return "".join("%s = %s\n" % (key, results[key]) for key in sorted(results))


def _gfile_replace(source, target):
  tf.io.gfile.rename(source, target, overwrite=True)


def _gfile_remove_quietly(path):
  """Removes a file if it exists; a failure is left to the next run."""
  try:
    if tf.io.gfile.exists(path):
      tf.io.gfile.remove(path)
  except (OSError, tf.errors.OpError):
    pass


@contextlib.contextmanager
def staged_path(path):
  """`staging.staged_path` through tf.io.gfile (local or remote paths).

  Yields the hidden temporary path of `path`, renamed to `path` when the
  block ends without an exception and removed when it raises.
  """
  with staging.staged_path(path, _gfile_replace,
                           _gfile_remove_quietly) as tmp:
    yield tmp


@contextlib.contextmanager
def atomic_open(path, mode="w"):
  """A tf.io.gfile file at `path`'s temporary name; renamed when complete.

  Args:
    path: the output.
    mode: "w" (text) or "wb" (bytes).

  Yields:
    The open file. It is closed, then renamed to `path` when the block ends
    without an exception; when it raises, nothing is left.
  """
  with staged_path(path) as tmp:
    with tf.io.gfile.GFile(tmp, mode) as f:
      yield f


def atomic_write_text(path, text, mode="w"):
  """Writes text under a hidden temporary name, then renames it to `path`."""
  with atomic_open(path, mode) as f:
    f.write(text)


def atomic_write_bytes(path, data):
  """`atomic_write_text` for bytes."""
  atomic_write_text(path, data, mode="wb")


def check_output_dir_writable(output_dir):
  """Creates output_dir and fails early, naming it, if it is not writable."""
  try:
    tf.gfile.MakeDirs(output_dir)
    probe = os.path.join(output_dir, ".write-test-%d" % os.getpid())
    with tf.gfile.GFile(probe, "w") as f:
      f.write("ok")
    tf.gfile.Remove(probe)
  except (tf.errors.OpError, OSError) as e:
    raise ValueError("output_dir %s is not writable: %s" % (output_dir, e))


# What a killed run leaves in output_dir: TensorFlow's own staging files
# (file_io's "<name>.tmp<uuid hex>", the Saver's "<prefix>_temp/" shards)
# and ours (staging.temporary_path's ".<name>.tmp-<pid>").
_TF_TEMP_FILE = re.compile(r"^.+\.tmp[0-9a-f]{32}$")


_TF_TEMP_DIR = re.compile(r"^.+_temp$")


def remove_dead_run_leftovers(output_dir):
  """Removes staging files a killed run left in output_dir.

  Called when training starts: the trainer is then the only writer of
  output_dir, so TensorFlow's staging names (which carry no pid) can only
  be a dead run's. Ours carry the writer's pid and are removed only when
  that process is gone. Nothing else is touched.

  Returns:
    The names removed.
  """
  if "://" in output_dir or not os.path.isdir(output_dir):
    return []
  removed = []
  for name in sorted(os.listdir(output_dir)):
    path = os.path.join(output_dir, name)
    if staging.is_dead_runs(name) and os.path.isfile(path):
      os.remove(path)
    elif _TF_TEMP_FILE.match(name) and os.path.isfile(path):
      os.remove(path)
    elif (_TF_TEMP_DIR.match(name) and os.path.isdir(path) and
          all(n.startswith("part-") for n in os.listdir(path))):
      for part in os.listdir(path):
        os.remove(os.path.join(path, part))
      os.rmdir(path)
    else:
      continue
    removed.append(name)
  if removed:
    tf.logging.info("Removed %d file(s) a killed run left in %s: %s",
                    len(removed), output_dir, ", ".join(removed))
  return removed


def read_results(path):
  """A `key = value` file (one block) as a dict of strings."""
  with tf.gfile.GFile(path) as f:
    return dict(line.rstrip("\n").split(" = ", 1) for line in f
                if " = " in line)
