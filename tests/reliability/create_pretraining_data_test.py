# coding=utf-8
"""Reliability of create_pretraining_data: dead workers, interrupts, leftovers.

Regression tests for what a hostile-user probe found: a run that waited
forever after the out-of-memory killer took a worker, temporary files that a
later "dir/*" glob read as data, a traceback for Ctrl-C and for a full disk,
a 300,000-word line cut down silently, impossible flag values accepted.

Tests that stop a run do so at a known point: ALBERT_TEST_WORKER_MARKER makes
every task create <dir>/<pid> and wait for <dir>/go, so the test acts once
the marker exists, never after a sleep.
"""

import errno
import glob
import logging
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import tensorflow.compat.v1 as tf

import hub_fixtures
from albert import create_pretraining_data as cpd

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SMALL = cpd.Options(max_seq_length=32, max_predictions_per_seq=5,
                    dupe_factor=2)
SMALL_FLAGS = ["--max_seq_length=32", "--max_predictions_per_seq=5",
               "--dupe_factor=2"]
# Bounds a broken run, so that a regression fails instead of hanging.
DEADLINE_SECONDS = 60


@pytest.fixture(scope="module")
def spm_model_file(tmp_path_factory):
  """A tiny SentencePiece model with the release's special symbols."""
  directory = str(tmp_path_factory.mktemp("cpd_spm"))
  path, _ = hub_fixtures.train_spm_model(directory)
  return path


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
  """40 documents of five sentences each, in their own directory."""
  directory = tmp_path_factory.mktemp("cpd_corpus")
  lines = hub_fixtures.make_corpus(num_sentences=200, seed=3)
  documents = ["\n".join(lines[k:k + 5]) for k in range(0, len(lines), 5)]
  path = directory / "corpus.txt"
  path.write_text("\n\n".join(documents) + "\n", encoding="utf-8")
  return str(path)


def _run(out_dir, corpus_file, spm_model_file, name="out.tfrecord", **kwargs):
  """Runs the library into out_dir/name; returns (summary, output path)."""
  output = os.path.join(str(out_dir), name)
  kwargs.setdefault("options", SMALL)
  kwargs.setdefault("progress_interval", 1e9)
  summary = cpd.create_pretraining_data(
      corpus_file, output, spm_model_file=spm_model_file, **kwargs)
  return summary, output


def _env(**extra):
  env = dict(os.environ, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="2")
  env.pop("ALBERT_TRACEBACK", None)
  env.update(extra)
  return env


def _default_sigint():
  # A shell starts background jobs with SIGINT ignored, and Python keeps an
  # ignored SIGINT ignored; the interrupt test needs the usual Ctrl-C.
  signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(args, code=None):
  """Runs the command line to completion; returns the CompletedProcess.

  With code, runs that Python source first (to patch the library) and then
  the command line's main, in the same process.
  """
  if code is None:
    command = [sys.executable, "-m", "albert.create_pretraining_data"]
  else:
    command = [sys.executable, "-c", code + (
        "\nfrom absl import app\n"
        "from albert import create_pretraining_data as cpd\n"
        "cpd.define_flags()\n"
        "app.run(cpd.main)\n")]
  return subprocess.run(command + args, cwd=REPO_ROOT, env=_env(),
                        capture_output=True, text=True,
                        timeout=DEADLINE_SECONDS * 5)


def _error_lines(stderr):
  """The lines of stderr that are not log lines."""
  return [line for line in stderr.splitlines()
          if line.startswith("create_pretraining_data:")]


def _gone(pid):
  """True if no process runs under pid (a zombie counts as gone)."""
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return True
  try:
    with open("/proc/%d/stat" % pid) as f:
      return f.read().rsplit(")", 1)[1].split()[0] == "Z"
  except OSError:
    return True


def _start_at_marker(tmp_path, corpus_file, spm_model_file, num_workers=2):
  """Starts the CLI; returns (process, output dir, marker pids) once a task
  of it waits at the test marker."""
  markers = tmp_path / "markers"
  markers.mkdir()
  out_dir = tmp_path / "out"
  out_dir.mkdir()
  process = subprocess.Popen(
      [sys.executable, "-m", "albert.create_pretraining_data",
       "--input_file=" + corpus_file,
       "--output_file=" + str(out_dir / "out.tfrecord"),
       "--spm_model_file=" + spm_model_file,
       "--num_workers=%d" % num_workers] + SMALL_FLAGS,
      cwd=REPO_ROOT, env=_env(ALBERT_TEST_WORKER_MARKER=str(markers)),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      preexec_fn=_default_sigint)
  deadline = time.time() + DEADLINE_SECONDS
  while not os.listdir(str(markers)):
    if process.poll() is not None or time.time() > deadline:
      process.kill()
      _, stderr = process.communicate()
      pytest.fail("no task reached the marker:\n%s" % stderr)
    time.sleep(0.02)
  return process, out_dir, [int(name) for name in os.listdir(str(markers))]


def _finish(process, marker_pids):
  """Waits (bounded) for process to end; returns (returncode, stderr)."""
  try:
    _, stderr = process.communicate(timeout=DEADLINE_SECONDS)
  except subprocess.TimeoutExpired:
    # The regression: clean up what the test started, then fail.
    process.kill()
    for pid in marker_pids:
      if pid != process.pid and not _gone(pid):
        os.kill(pid, signal.SIGKILL)
    _, stderr = process.communicate()
    pytest.fail("the run did not end within %d s after the signal:\n%s" %
                (DEADLINE_SECONDS, stderr))
  return process.returncode, stderr


# Dead workers and interrupts -------------------------------------------------


@pytest.mark.slow
def test_killed_worker_ends_the_run_with_one_line(tmp_path, corpus_file,
                                                  spm_model_file):
  """kill -9 of a worker (the OOM killer) ends the run at once, cleanly."""
  process, out_dir, pids = _start_at_marker(tmp_path, corpus_file,
                                            spm_model_file)
  workers = [pid for pid in pids if pid != process.pid]
  assert workers, "the marker should come from a worker process"
  os.kill(workers[0], signal.SIGKILL)
  returncode, stderr = _finish(process, pids)
  assert returncode == 1, stderr
  errors = _error_lines(stderr)
  assert len(errors) == 1, stderr
  assert ("error: a worker process died (exit code -9, killed by SIGKILL; "
          "out of memory?)" in errors[0])
  assert "Traceback" not in stderr
  # No output, not even a hidden temporary file; no worker left running.
  assert os.listdir(str(out_dir)) == []
  assert all(_gone(pid) for pid in pids)


@pytest.mark.slow
@pytest.mark.parametrize("signum,returncode,message", [
    (signal.SIGINT, 130, "interrupted; no output was written"),
    (signal.SIGTERM, 143, "terminated by SIGTERM; no output was written"),
])
def test_interrupt_is_one_line_and_leaves_nothing(tmp_path, corpus_file,
                                                  spm_model_file, signum,
                                                  returncode, message):
  """Ctrl-C (or SIGTERM) mid-run: one line, exit 130 (143), no files."""
  process, out_dir, pids = _start_at_marker(tmp_path, corpus_file,
                                            spm_model_file)
  # The run is under way: its temporary output exists.
  assert os.listdir(str(out_dir)) == [".out.tfrecord.tmp-%d" % process.pid]
  process.send_signal(signum)
  code, stderr = _finish(process, pids)
  assert code == returncode, stderr
  assert _error_lines(stderr) == ["create_pretraining_data: " + message]
  assert "Traceback" not in stderr
  assert os.listdir(str(out_dir)) == []
  assert all(_gone(pid) for pid in pids)


# Temporary and leftover files ------------------------------------------------


def test_output_is_written_under_a_hidden_temporary_name(
    tmp_path, corpus_file, spm_model_file, monkeypatch):
  """While a run writes, no glob of the output directory sees its file."""
  seen = []
  original_write = cpd.ExampleWriter.write

  def watching_write(self, serialized):
    if not seen:
      seen.append(sorted(os.listdir(str(tmp_path))))
      seen.append(glob.glob(str(tmp_path / "*")))
    original_write(self, serialized)

  monkeypatch.setattr(cpd.ExampleWriter, "write", watching_write)
  _, output = _run(tmp_path, corpus_file, spm_model_file)
  names, globbed = seen
  assert names == [".out.tfrecord.tmp-%d" % os.getpid()]
  assert globbed == []
  assert os.listdir(str(tmp_path)) == ["out.tfrecord"]
  assert len(list(tf.io.tf_record_iterator(output))) > 0


def _dead_pid():
  """The pid of a process that has ended."""
  child = subprocess.Popen([sys.executable, "-c", "pass"])
  child.wait()
  return child.pid


def test_stale_temporary_files_of_dead_runs_are_removed(
    tmp_path, corpus_file, spm_model_file):
  """Only this output's temporary files whose writer is dead are removed."""
  dead = _dead_pid()
  # A process that stays alive until its stdin closes: a concurrent run.
  alive = subprocess.Popen([sys.executable, "-c",
                            "import sys; sys.stdin.read()"],
                           stdin=subprocess.PIPE)
  try:
    stale = ".out.tfrecord.tmp-%d" % dead
    kept = [
        ".out.tfrecord.tmp-%d" % alive.pid,   # its writer still runs
        ".other.tfrecord.tmp-%d" % dead,      # not an output of this run
        ".out.tfrecord.tmp-%d.keep" % dead,   # not exactly the pattern
        "out.tfrecord.tmp-%d" % dead,         # not our name
        ".out.tfrecord.tmp-",                 # no pid
        "notes.txt",
    ]
    for name in [stale] + kept:
      (tmp_path / name).write_bytes(b"partial")
    _run(tmp_path, corpus_file, spm_model_file)
    assert sorted(os.listdir(str(tmp_path))) == sorted(kept +
                                                       ["out.tfrecord"])
    for name in kept:
      assert (tmp_path / name).read_bytes() == b"partial"
  finally:
    alive.communicate(b"")


# Long lines ------------------------------------------------------------------


def test_very_long_line_is_reported_once(tmp_path, corpus_file,
                                         spm_model_file, caplog):
  """Lines far longer than max_seq_length: one warning, count, first place.
  """
  long_line = " ".join(hub_fixtures.make_corpus(num_sentences=400, seed=1))
  with open(corpus_file, encoding="utf-8") as f:
    normal = f.read().strip()
  path = tmp_path / "long.txt"
  # The first long line is line 4 of the file: after a two-line document
  # and its blank line.
  path.write_text("A short one.\nAnother short one.\n\n" + long_line +
                  "\nAnd a short end.\n\n" + normal + "\n\n" + long_line +
                  "\n", encoding="utf-8")
  out_dir = tmp_path / "out"
  out_dir.mkdir()
  caplog.set_level(logging.INFO)
  summary, _ = _run(out_dir, str(path), spm_model_file, num_workers=2,
                    chunk_size=7)
  assert summary.long_sentences == 2
  assert summary.first_long_sentence == "%s:4" % path
  warnings = [r.getMessage() for r in caplog.records
              if "input line(s) have more than" in r.getMessage()]
  assert warnings == [
      "2 input line(s) have more than 64 tokens (2 x max_seq_length), first "
      "at %s:4: an example holds at most 29 tokens of one line and drops the "
      "rest. Is the input one sentence per line, with blank lines between "
      "documents?" % path]
  assert warnings == [w for w in summary.warnings if "input line" in w]


def test_ordinary_lines_give_no_long_line_warning(tmp_path, corpus_file,
                                                  spm_model_file):
  summary, _ = _run(tmp_path, corpus_file, spm_model_file)
  assert summary.long_sentences == 0
  assert summary.first_long_sentence is None
  assert summary.warnings == []


def _naive_truncate(tokens_a, tokens_b, max_num_tokens, rng):
  """The released truncate_seq_pair: one token at a time."""
  while len(tokens_a) + len(tokens_b) > max_num_tokens:
    longer = tokens_a if len(tokens_a) > len(tokens_b) else tokens_b
    if len(longer) < 2:
      raise ValueError("cannot truncate")
    if rng.random() < 0.5:
      del longer[0]
    else:
      longer.pop()


def test_truncate_seq_pair_matches_token_by_token_truncation():
  """The linear-time truncation gives the released result and rng state."""
  sizes = random.Random(5)
  for trial in range(300):
    a = list(range(sizes.randint(1, 60)))
    b = list(range(100, 100 + sizes.randint(1, 60)))
    limit = sizes.randint(2, 80)
    expected_a, expected_b = list(a), list(b)
    expected_rng = random.Random(trial)
    _naive_truncate(expected_a, expected_b, limit, expected_rng)
    rng = random.Random(trial)
    cpd.truncate_seq_pair(a, b, limit, rng)
    assert (a, b) == (expected_a, expected_b)
    assert rng.getstate() == expected_rng.getstate()


# Flags -----------------------------------------------------------------------


def test_more_predictions_than_tokens_is_refused(tmp_path, corpus_file,
                                                 spm_model_file):
  with pytest.raises(ValueError) as info:
    _run(tmp_path, corpus_file, spm_model_file,
         options=cpd.Options(max_seq_length=32, max_predictions_per_seq=33))
  assert str(info.value).startswith(
      "--max_predictions_per_seq=33 is larger than --max_seq_length=32")
  assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("overrides,flag", [
    ({"dupe_factor": 0}, "--dupe_factor=0"),
    ({"masked_lm_prob": 1.5}, "--masked_lm_prob=1.5"),
    ({"masked_lm_prob": float("nan")}, "--masked_lm_prob=nan"),
    ({"short_seq_prob": -0.1}, "--short_seq_prob=-0.1"),
    ({"max_seq_length": 0}, "--max_seq_length=0"),
    ({"masked_lm_prob": "0.15"}, "--masked_lm_prob='0.15'"),
    ({"num_workers": 0}, "--num_workers=0"),
    ({"chunk_size": -1}, "--chunk_size=-1"),
])
def test_numeric_flags_are_checked_by_the_shared_rules(
    tmp_path, corpus_file, spm_model_file, overrides, flag):
  """command_line.check_numeric_flags names the flag and its value."""
  options = dict(overrides)
  kwargs = {key: options.pop(key) for key in ("num_workers", "chunk_size")
            if key in options}
  with pytest.raises(ValueError) as info:
    _run(tmp_path, corpus_file, spm_model_file,
         options=cpd.Options(max_seq_length=options.pop("max_seq_length", 32),
                             max_predictions_per_seq=5, **options), **kwargs)
  assert str(info.value).startswith(flag + " must be")
  assert os.listdir(str(tmp_path)) == []


@pytest.mark.slow
def test_bad_flags_are_one_line_on_the_command_line(tmp_path, corpus_file,
                                                    spm_model_file):
  output = str(tmp_path / "out.tfrecord")
  common = ["--input_file=" + corpus_file, "--output_file=" + output,
            "--spm_model_file=" + spm_model_file]
  result = _cli(common + ["--max_seq_length=32",
                          "--max_predictions_per_seq=40"])
  assert result.returncode == 1
  assert _error_lines(result.stderr) == [
      "create_pretraining_data: error: --max_predictions_per_seq=40 is "
      "larger than --max_seq_length=32; a sequence cannot have more "
      "predictions than tokens"]
  result = _cli(common + ["--masked_lm_prob=1.5"])
  assert result.returncode == 1
  assert _error_lines(result.stderr) == [
      "create_pretraining_data: error: --masked_lm_prob=1.5 must be within "
      "[0, 1]"]
  assert "Traceback" not in result.stderr
  assert os.listdir(str(tmp_path)) == []


# Files that cannot be written or read ----------------------------------------


class _FullDiskWriter(tf.io.TFRecordWriter):
  """A TFRecordWriter on a disk that fills up after `room` records."""
  room = 30
  fail_on = "write"

  def write(self, record):
    if self.fail_on == "write":
      if _FullDiskWriter.room == 0:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
      _FullDiskWriter.room -= 1
    super().write(record)

  def close(self):
    super().close()
    if self.fail_on == "close":
      raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("fail_on", ["write", "close"])
def test_full_disk_names_the_output_file_and_leaves_nothing(
    tmp_path, corpus_file, spm_model_file, monkeypatch, fail_on):
  """ENOSPC while writing (or flushing at close): one message, no output."""
  monkeypatch.setattr(_FullDiskWriter, "room", 30)
  monkeypatch.setattr(_FullDiskWriter, "fail_on", fail_on)
  monkeypatch.setattr(tf.io, "TFRecordWriter", _FullDiskWriter)
  (tmp_path / "out-1.tfrecord").write_bytes(b"from an earlier run")
  outputs = [str(tmp_path / "out-0.tfrecord"),
             str(tmp_path / "out-1.tfrecord")]
  with pytest.raises(OSError) as info:
    cpd.create_pretraining_data(corpus_file, ",".join(outputs),
                                spm_model_file=spm_model_file, options=SMALL,
                                num_workers=2, progress_interval=1e9)
  message = str(info.value)
  assert message.startswith("cannot write output file %s/out-" % tmp_path)
  assert "No space left on device; free some space and run again" in message
  assert message.endswith("(no output was written)")
  assert sorted(os.listdir(str(tmp_path))) == ["out-1.tfrecord"]
  assert (tmp_path / "out-1.tfrecord").read_bytes() == b"from an earlier run"


@pytest.mark.slow
def test_full_disk_is_one_line_on_the_command_line(tmp_path, corpus_file,
                                                   spm_model_file):
  output = str(tmp_path / "out.tfrecord")
  patch = (
      "import errno, os\n"
      "import tensorflow.compat.v1 as tf\n"
      "class Full(tf.io.TFRecordWriter):\n"
      "  def write(self, record):\n"
      "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
      "tf.io.TFRecordWriter = Full\n")
  result = _cli(["--input_file=" + corpus_file, "--output_file=" + output,
                 "--spm_model_file=" + spm_model_file] + SMALL_FLAGS,
                code=patch)
  assert result.returncode == 1
  assert _error_lines(result.stderr) == [
      "create_pretraining_data: error: cannot write output file %s: No "
      "space left on device; free some space and run again (no output was "
      "written)" % output]
  assert "Traceback" not in result.stderr
  assert os.listdir(str(tmp_path)) == []


def test_unopenable_output_names_the_output_not_the_temporary(
    tmp_path, corpus_file, spm_model_file, monkeypatch):
  def refuse(path):
    raise tf.errors.PermissionDeniedError(None, None,
                                          "%s; Permission denied" % path)

  monkeypatch.setattr(tf.io, "TFRecordWriter", refuse)
  output = str(tmp_path / "out.tfrecord")
  with pytest.raises(cpd.FileError) as info:
    _run(tmp_path, corpus_file, spm_model_file)
  assert str(info.value).startswith("cannot write output file %s: " % output)
  assert os.listdir(str(tmp_path)) == []


def test_unreadable_input_names_the_file(tmp_path, corpus_file,
                                         spm_model_file, monkeypatch):
  """A read that fails mid-file (a lost mount) names the input file."""
  original = cpd._binary_lines

  def failing_lines(reader, block_size=1 << 20):
    for number, line in enumerate(original(reader, block_size)):
      if number == 12:
        raise tf.errors.UnavailableError(None, None, "Input/output error")
      yield line

  monkeypatch.setattr(cpd, "_binary_lines", failing_lines)
  with pytest.raises(cpd.FileError) as info:
    _run(tmp_path, corpus_file, spm_model_file)
  assert str(info.value) == ("cannot read input file %s: Input/output error"
                             % corpus_file)
  assert os.listdir(str(tmp_path)) == []


@pytest.mark.slow
def test_tensorflow_errors_are_one_line_on_the_command_line(
    tmp_path, corpus_file, spm_model_file):
  """Whatever TensorFlow raises about files ends as one line, exit 1."""
  output = str(tmp_path / "out.tfrecord")
  patch = (
      "import tensorflow.compat.v1 as tf\n"
      "from albert import create_pretraining_data as cpd\n"
      "def fail(*args, **kwargs):\n"
      "  raise tf.errors.UnavailableError(None, None, 'bucket gone\\nmore')\n"
      "cpd.create_pretraining_data = fail\n")
  result = _cli(["--input_file=" + corpus_file, "--output_file=" + output,
                 "--spm_model_file=" + spm_model_file], code=patch)
  assert result.returncode == 1
  assert _error_lines(result.stderr) == [
      "create_pretraining_data: error: bucket gone (TensorFlow "
      "UnavailableError)"]
  assert "Traceback" not in result.stderr
