# coding=utf-8
"""Tests for the one temporary-name scheme and atomic writes.

staging (standard library only) makes and recognises the hidden temporary
names and renames a finished file into place; file_io does the same through
tf.io.gfile and cleans up what killed runs left in output_dir. progress's
format_seconds is the one duration format of every progress line.
"""

import os
import subprocess
import sys

import pytest

from albert import file_io
from albert import progress
from albert import staging


def dead_pid():
  """The pid of a process that has ended (and been reaped)."""
  child = subprocess.Popen([sys.executable, "-c", "pass"])
  child.wait()
  return child.pid


def live_child():
  """A process that runs until its stdin closes."""
  return subprocess.Popen(
      [sys.executable, "-c", "import sys; sys.stdin.read()"],
      stdin=subprocess.PIPE)


# --- names -----------------------------------------------------------------


def test_temporary_path_is_hidden_beside_the_output_and_names_the_writer():
  path = os.path.join("some", "dir", "out.tfrecord")
  assert staging.temporary_path(path) == os.path.join(
      "some", "dir", ".out.tfrecord.tmp-%d" % os.getpid())
  assert staging.temporary_path("out.txt") == ".out.txt.tmp-%d" % os.getpid()


def test_unique_names_differ_within_one_process():
  first = staging.temporary_path("/x/module", "old", unique=True)
  second = staging.temporary_path("/x/module", "old", unique=True)
  assert first != second
  assert os.path.basename(first).startswith(".module.old-%d-" % os.getpid())
  with pytest.raises(ValueError, match="kind"):
    staging.temporary_path("/x/module", "new")


def test_parse_temporary_name_reads_back_what_temporary_path_makes():
  name = os.path.basename(staging.temporary_path("/d/a.tmp-3.txt"))
  assert staging.parse_temporary_name(name) == staging.TemporaryName(
      "a.tmp-3.txt", "tmp", os.getpid(), None)
  unique = os.path.basename(staging.temporary_path("/d/m", "old", True))
  parts = staging.parse_temporary_name(unique)
  assert (parts.target, parts.kind, parts.pid) == ("m", "old", os.getpid())
  assert len(parts.unique) == 8
  for other in ("out.tfrecord", "out.tfrecord.tmp-12", ".out.tmp",
                ".out.tmp-x", ".out.new-12", ".tmp-12"):
    assert staging.parse_temporary_name(other) is None, other


def test_a_dead_writers_file_is_recognised_a_live_ones_is_not():
  pid = dead_pid()
  assert staging.is_dead_runs(".out.tfrecord.tmp-%d" % pid)
  assert staging.is_dead_runs(".out.tfrecord.tmp-%d" % pid,
                              target="out.tfrecord")
  assert not staging.is_dead_runs(".out.tfrecord.tmp-%d" % pid,
                                  target="other.tfrecord")
  # Our own files, and those of a process that still runs, are kept.
  assert not staging.is_dead_runs(".out.tfrecord.tmp-%d" % os.getpid())
  child = live_child()
  try:
    assert not staging.is_dead_runs(".out.tfrecord.tmp-%d" % child.pid)
  finally:
    child.stdin.close()
    child.wait()
  # Exports' names (random part, "old") are export_utils' to judge.
  assert not staging.is_dead_runs(".m.tmp-%d-0123abcd" % pid)
  assert not staging.is_dead_runs(".m.old-%d" % pid)
  assert not staging.is_dead_runs("out.tfrecord.tmp-%d" % pid)


# --- atomic writes -----------------------------------------------------------


def test_staged_path_renames_into_place_only_on_success(tmp_path):
  path = str(tmp_path / "out.txt")
  with staging.staged_path(path) as tmp:
    assert tmp == staging.temporary_path(path)
    with open(tmp, "w") as f:
      f.write("new")
    assert os.listdir(str(tmp_path)) == [os.path.basename(tmp)]
  assert os.listdir(str(tmp_path)) == ["out.txt"]
  with pytest.raises(RuntimeError):
    with staging.staged_path(path) as tmp:
      with open(tmp, "w") as f:
        f.write("half")
      raise RuntimeError("disk full")
  assert os.listdir(str(tmp_path)) == ["out.txt"]
  with open(path) as f:
    assert f.read() == "new"


def test_write_local_text_is_atomic(tmp_path):
  path = str(tmp_path / "config.json")
  staging.write_local_text(path, "{}\n")
  staging.write_local_text(path, "{\"a\": 1}\n")
  assert os.listdir(str(tmp_path)) == ["config.json"]
  with open(path, encoding="utf-8") as f:
    assert f.read() == "{\"a\": 1}\n"


@pytest.mark.parametrize("mode,data", [("w", "text"), ("wb", b"bytes")])
def test_file_io_atomic_open_leaves_no_temporary_file_on_failure(
    tmp_path, mode, data):
  path = str(tmp_path / "results.txt")
  file_io.atomic_write_text(path, data, mode)
  with pytest.raises(KeyboardInterrupt):
    with file_io.atomic_open(path, mode) as f:
      f.write(data)
      raise KeyboardInterrupt()
  assert os.listdir(str(tmp_path)) == ["results.txt"]
  with open(path, "rb") as f:
    assert f.read() == (data if mode == "wb" else data.encode("utf-8"))


def test_file_io_writes_results_under_the_temporary_name(tmp_path,
                                                         monkeypatch):
  renamed = []
  real_rename = file_io.tf.io.gfile.rename

  def rename(source, target, overwrite=False):
    renamed.append((os.path.basename(source), os.path.basename(target)))
    real_rename(source, target, overwrite=overwrite)

  monkeypatch.setattr(file_io.tf.io.gfile, "rename", rename)
  path = str(tmp_path / "eval_results.txt")
  file_io.write_results(path, {"b": 2, "a": 1})
  assert renamed == [(".eval_results.txt.tmp-%d" % os.getpid(),
                      "eval_results.txt")]
  assert file_io.read_results(path) == {"a": "1", "b": "2"}


def test_remove_dead_run_leftovers_removes_only_dead_writers_files(tmp_path):
  dead = ".eval_results.txt.tmp-%d" % dead_pid()
  child = live_child()
  try:
    live = ".eval_results.txt.tmp-%d" % child.pid
    own = ".eval_results.txt.tmp-%d" % os.getpid()
    kept = ["eval_results.txt", "notes.tmp-1", live, own]
    for name in kept + [dead]:
      (tmp_path / name).write_text("x")
    assert file_io.remove_dead_run_leftovers(str(tmp_path)) == [dead]
    assert sorted(os.listdir(str(tmp_path))) == sorted(kept)
  finally:
    child.stdin.close()
    child.wait()


# --- durations ---------------------------------------------------------------


@pytest.mark.parametrize("seconds,text", [
    (0, "0s"), (4.6, "5s"), (59.4, "59s"), (60, "1m00s"), (754, "12m34s"),
    (3600, "1h00m00s"), (12345, "3h25m45s"), (100 * 3600 + 1, "100h00m01s")])
def test_format_seconds(seconds, text):
  assert progress.format_seconds(seconds) == text
