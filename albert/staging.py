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
"""Temporary names: the one scheme every writer stages its outputs under.

An output is written under a hidden name beside it and renamed into place
when complete, so no reader, glob or later run ever sees a partial file:

  `temporary_path`   ".<name>.tmp-<pid>" beside the output (exports add a
                     random part and use "old" for what they move aside);
  `parse_temporary_name`, `is_dead_runs`
                     recognise such a name, and whether the process that
                     wrote it is gone (its file is then a killed run's);
  `staged_path`      yields the temporary path of an output and renames it
                     into place when the block succeeds, removes it when
                     it fails.

Standard library only, so the quickstart and its corpus builder can use it
before TensorFlow is loaded; `staged_path` writes through `os` unless given
other rename and remove functions (file_io gives TensorFlow's, which also
reach remote paths).

Not here: which leftovers a command removes, and when (file_io,
create_pretraining_data, export_utils, quickstart).
"""

import collections
import contextlib
import os
import re
import uuid

from albert import peer_watch

# What a staging name says. kind: "tmp" (being written) or "old" (an export
# moved aside while its replacement goes in); unique: the random part that
# keeps two names of one process apart, or None.
TemporaryName = collections.namedtuple("TemporaryName",
                                       ["target", "kind", "pid", "unique"])

KINDS = ("tmp", "old")

_TEMPORARY_NAME = re.compile(
    r"^\.(?P<target>.+)\.(?P<kind>%s)-(?P<pid>\d+)"
    r"(?:-(?P<unique>[0-9a-f]{8}))?$" % "|".join(KINDS))


def temporary_path(path, kind="tmp", unique=False):
  """Where `path` is written before it is renamed into place.

  ".<name>.<kind>-<pid>" in the same directory: the rename stays on one
  file system (so it is atomic), the leading dot keeps it out of user globs
  such as "dir/*" or "*.tf_record*", and the pid tells a later run whether
  its writer is gone.

  Args:
    path: the output.
    kind: "tmp", or "old" for an output moved aside to be replaced.
    unique: add "-<8 random hex digits>", for names one process makes
      more than once (export staging directories).

  Returns:
    The temporary path.
  """
  if kind not in KINDS:
    raise ValueError("kind %r: expected one of %s" % (kind, ", ".join(KINDS)))
  directory, name = os.path.split(path)
  suffix = "-" + uuid.uuid4().hex[:8] if unique else ""
  return os.path.join(directory, ".%s.%s-%d%s" % (name, kind, os.getpid(),
                                                  suffix))


def parse_temporary_name(name):
  """The parts of a name `temporary_path` makes, or None for other names.

  Args:
    name: a file name (no directory).

  Returns:
    TemporaryName(target, kind, pid, unique), e.g. (".out.tfrecord.tmp-42")
    -> ("out.tfrecord", "tmp", 42, None).
  """
  match = _TEMPORARY_NAME.match(name)
  if not match:
    return None
  return TemporaryName(match.group("target"), match.group("kind"),
                       int(match.group("pid")), match.group("unique"))


def writer_is_gone(pid):
  """True when no process `pid` runs on this machine (and it is not us)."""
  return pid != os.getpid() and not peer_watch.process_alive(pid)


def is_dead_runs(name, target=None):
  """True for a temporary file ".<target>.tmp-<pid>" whose writer is gone.

  Only a dead writer's file may be removed: a live run writing the same
  output keeps its file, whatever its name says. A pid means nothing on
  another machine, so callers skip remote directories.

  Args:
    name: a file name (no directory).
    target: the output name it must be staging, or None for any.
  """
  parts = parse_temporary_name(name)
  return (parts is not None and parts.kind == "tmp" and
          parts.unique is None and
          (target is None or parts.target == target) and
          writer_is_gone(parts.pid))


def _replace(source, target):
  # Looked up at each call (not bound as a default), so a test that
  # patches os.replace sees every rename.
  os.replace(source, target)


def remove_file_quietly(path):
  """Removes a local file if it is there; a failure is not an error here.

  For clean-up after a failure: the real error must not be hidden, and
  what stays has a hidden name that the next run removes.
  """
  try:
    os.remove(path)
  except OSError:
    pass


@contextlib.contextmanager
def staged_path(path, rename=None, remove=None):
  """Yields the temporary path of `path`; renames it into place on success.

  When the block raises (or is interrupted), the temporary file is removed
  and `path`, new or previous, is untouched.

    with staging.staged_path(path) as tmp:
      with open(tmp, "w") as f:
        f.write(text)

  Args:
    path: the output.
    rename: fn(source, target) replacing target; default os.replace.
    remove: fn(path) removing a file if it exists, quietly; default
      `remove_file_quietly`.

  Yields:
    The temporary path (nothing is created there yet).
  """
  tmp = temporary_path(path)
  try:
    yield tmp
    (rename or _replace)(tmp, path)
  except BaseException:
    (remove or remove_file_quietly)(tmp)
    raise


def write_local_text(path, text):
  """Writes UTF-8 text to a local file atomically (`staged_path`)."""
  with staged_path(path) as tmp:
    with open(tmp, "w", encoding="utf-8") as f:
      f.write(text)
