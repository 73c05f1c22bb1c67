# coding=utf-8
"""albert/quickstart.py: end to end on a capped corpus, its resume, and its
reliability.

The reliability tests are regression tests for what a probe found: --fresh
deleted the whole output_dir (user files, or the working directory with
--output_dir=.), progress lines printed twice when output went to a file,
TensorFlow's C++ start-up errors printed by the install check, a traceback on
Ctrl-C, and staging files a killed run left under names a re-run could trust.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import tensorflow.compat.v1 as tf

from albert import quickstart


def run(out, steps):
  return quickstart.main([
      "--output_dir", str(out), "--corpus_max_bytes", "120000",
      "--vocab_size", "800", "--max_seq_length", "32",
      "--max_predictions_per_seq", "5", "--dupe_factor", "2",
      "--train_batch_size", "16", "--num_train_steps", str(steps),
      "--max_eval_steps", "4", "--num_workers", "1"])


def test_quickstart_pretrains_and_resumes(tmp_path, capsys):
  out = tmp_path / "qs"
  start, end = run(out, 30)
  printed = capsys.readouterr().out
  assert "== Summary" in printed and "masked_lm_accuracy" in printed

  # Every stage left its output under its final name, and no temp files.
  for name in ("corpus.txt", "train.txt", "eval.txt", "spm.model",
               "albert_config.json", "train.tfrecord", "eval.tfrecord",
               "start_eval_results.json", "model/eval_results.txt"):
    assert (out / name).exists(), name
  assert not [p for p in os.listdir(out) if ".tmp" in p]
  config = json.loads((out / "albert_config.json").read_text())
  import sentencepiece as spm  # pylint: disable=g-import-not-at-top
  assert config["vocab_size"] == spm.SentencePieceProcessor(
      model_file=str(out / "spm.model")).vocab_size()

  assert start["global_step"] == 0 and end["global_step"] == 30
  # 30 steps learn at least the token distribution: far below ln(vocab).
  assert end["masked_lm_loss"] < start["masked_lm_loss"] - 0.5
  assert end["masked_lm_accuracy"] > start["masked_lm_accuracy"]

  # A second run reuses every stage and continues training from step 30.
  corpus_mtime = os.path.getmtime(out / "corpus.txt")
  data_mtime = os.path.getmtime(out / "train.tfrecord")
  start_again, end_again = run(out, 40)
  assert os.path.getmtime(out / "corpus.txt") == corpus_mtime
  assert os.path.getmtime(out / "train.tfrecord") == data_mtime
  assert start_again == start
  assert end_again["global_step"] == 40
  assert tf.train.latest_checkpoint(str(out / "model")).endswith("ckpt-40")


# The quickstart's reliability (moved from tests/reliability/) -------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The smallest quickstart that still logs training progress (every 50 steps).
TINY = ["--corpus_max_bytes", "120000", "--vocab_size", "800",
        "--max_seq_length", "32", "--max_predictions_per_seq", "5",
        "--dupe_factor", "2", "--train_batch_size", "16",
        "--num_train_steps", "60", "--max_eval_steps", "4",
        "--num_workers", "1"]
STARTUP_NOISE = ("cuDNN", "cuFFT", "cuBLAS", "cuda", "Unable to register")


def child_env(**extra):
  env = dict(os.environ)
  env.pop("ALBERT_TRACEBACK", None)
  env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"]
                              if env.get("PYTHONPATH") else "")
  env["TF_CPP_MIN_LOG_LEVEL"] = "2"
  env.update(extra)
  return env


def write(path, text="mine\n"):
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  with open(path, "w") as f:
    f.write(text)


def read(path):
  with open(path) as f:
    return f.read()


def make_outputs(output_dir, names):
  """Claims and creates `names` as a quickstart would."""
  for name in names:
    path = output_dir.claim(name)
    if name in ("model", "untrained"):
      write(os.path.join(path, "model.ckpt-1.index"), "x")
    else:
      write(path, "quickstart's\n")


# --- 1. --fresh deletes what the quickstart wrote, nothing else ------------


def test_fresh_removes_only_what_the_quickstart_wrote(tmp_path):
  out = str(tmp_path / "qs")
  write(os.path.join(out, "notes.txt"))  # there before the quickstart
  with quickstart.OutputDir(out) as output_dir:
    make_outputs(output_dir, ["corpus.txt", "train.txt", "spm.model",
                              "model"])
  write(os.path.join(out, "data", "mine.txt"))  # added after it
  write(os.path.join(out, ".spm.tmp-123.model"), "unfinished")

  with quickstart.OutputDir(out) as output_dir:
    assert output_dir.leftovers_removed == [".spm.tmp-123.model"]
    removed = output_dir.remove_own_outputs()
    assert sorted(removed) == ["corpus.txt", "model", "spm.model",
                               "train.txt"]
    assert output_dir.listed == set()
  assert sorted(os.listdir(out)) == [quickstart.MANIFEST_NAME, "data",
                                     "notes.txt"]
  assert read(os.path.join(out, "notes.txt")) == "mine\n"
  assert read(os.path.join(out, "data", "mine.txt")) == "mine\n"

  # Redone after --fresh: listed again, and a second --fresh removes it.
  with quickstart.OutputDir(out) as output_dir:
    make_outputs(output_dir, ["corpus.txt"])
  with quickstart.OutputDir(out) as output_dir:
    assert output_dir.remove_own_outputs() == ["corpus.txt"]
  assert os.path.exists(os.path.join(out, "notes.txt"))


def test_output_dir_dot_keeps_the_working_directorys_files(tmp_path,
                                                           monkeypatch):
  monkeypatch.chdir(tmp_path)
  write("notes.txt")
  write(os.path.join("src", "main.py"), "print(1)\n")
  write(".hidden", "x")
  with quickstart.OutputDir(".") as output_dir:
    make_outputs(output_dir, quickstart.OUTPUT_NAMES)
  with quickstart.OutputDir(".") as output_dir:
    assert sorted(output_dir.remove_own_outputs()) == sorted(
        quickstart.OUTPUT_NAMES)
  assert sorted(os.listdir(".")) == [".albert-quickstart", ".hidden",
                                     "notes.txt", "src"]
  assert read(os.path.join("src", "main.py")) == "print(1)\n"


@pytest.mark.slow
def test_refuses_a_directory_whose_quickstart_names_it_did_not_write(
    tmp_path, monkeypatch):
  """--output_dir=. with the user's own corpus.txt and model/: untouched."""
  monkeypatch.chdir(tmp_path)
  write("corpus.txt", "the user's corpus\n")
  write(os.path.join("model", "mine.ckpt"), "weights")
  write("notes.txt")
  before = sorted(os.listdir("."))
  with pytest.raises(ValueError, match=r"already has corpus\.txt, model, "
                     r"which the quickstart did not write"):
    quickstart.main(["--output_dir", ".", "--fresh"])
  assert sorted(os.listdir(".")) == before  # not even a manifest
  assert read("corpus.txt") == "the user's corpus\n"

  # The command line says so in one line, before loading TensorFlow.
  result = subprocess.run(
      [sys.executable, "-m", "albert.quickstart", "--output_dir", ".",
       "--fresh"], capture_output=True, text=True, env=child_env(),
      timeout=120, check=False)
  assert result.returncode == 1
  assert result.stderr.count("\n") == 1, result.stderr
  assert result.stderr.startswith("quickstart: error: --output_dir ")
  assert sorted(os.listdir(".")) == before

  # With a manifest, a name it does not list is refused as well.
  out = str(tmp_path / "qs")
  with quickstart.OutputDir(out) as output_dir:
    make_outputs(output_dir, ["corpus.txt"])
  write(os.path.join(out, "spm.model"), "the user's")
  with pytest.raises(ValueError, match=r"already has spm\.model, which"):
    quickstart.OutputDir(out)
  assert read(os.path.join(out, "spm.model")) == "the user's"


def test_an_older_quickstarts_directory_is_taken_over(tmp_path):
  """Written before the manifest existed: only its names, a corpus among."""
  out = str(tmp_path / "quickstart_output")
  for name in ("corpus.txt", "train.txt", "eval.txt", "spm.model",
               "spm.vocab", "albert_config.json"):
    write(os.path.join(out, name))
  write(os.path.join(out, "model", "checkpoint"))
  write(os.path.join(out, "spm.tmp-4242.model"))  # its staging name
  with quickstart.OutputDir(out) as output_dir:
    assert output_dir.listed == {"corpus.txt", "train.txt", "eval.txt",
                                 "spm.model", "spm.vocab",
                                 "albert_config.json", "model"}
    assert output_dir.leftovers_removed == ["spm.tmp-4242.model"]
    output_dir.remove_own_outputs()
  assert os.listdir(out) == [quickstart.MANIFEST_NAME]


@pytest.mark.slow
def test_a_second_quickstart_on_the_same_directory_stops(tmp_path):
  out = str(tmp_path / "qs")
  holder = subprocess.Popen(
      [sys.executable, "-c",
       "import sys\nfrom albert import quickstart\n"
       "with quickstart.OutputDir(sys.argv[1]):\n"
       "  print('locked', flush=True)\n  sys.stdin.read()\n", out],
      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
      env=child_env())
  try:
    assert holder.stdout.readline() == "locked\n"  # holds the lock now
    with pytest.raises(ValueError, match="in use by another quickstart"):
      quickstart.OutputDir(out)
  finally:
    holder.stdin.close()
    holder.wait(timeout=60)
  with quickstart.OutputDir(out):  # free again once it has ended
    pass


# --- 4. staging files: hidden, removed, never trusted ----------------------


@pytest.mark.parametrize("name", [
    ".corpus.txt.tmp-1", ".corpus.txt.k2j_x9.tmp", "train.txt.tmp-77",
    ".spm.tmp-5.model", ".spm.tmp-5.vocab", "spm.tmp-5.model",
    ".albert_config.json.tmp-9", "albert_config.json.tmp",
    ".train.tfrecord.tmp-3", "eval.tfrecord.tmp-3",
    ".start_eval_results.json.tmp-8", "start_eval_results.json.tmp"])
def test_staging_names_are_removed_at_start(tmp_path, name):
  out = str(tmp_path / "qs")
  with quickstart.OutputDir(out):
    pass
  write(os.path.join(out, name), "unfinished")
  write(os.path.join(out, "notes.tmp-1"), "not a quickstart name")
  with quickstart.OutputDir(out) as output_dir:
    assert output_dir.leftovers_removed == [name]
  assert sorted(os.listdir(out)) == [quickstart.MANIFEST_NAME,
                                     "notes.tmp-1"]


def test_small_writes_are_atomic_under_hidden_names(tmp_path, monkeypatch):
  corpus = tmp_path / "corpus.txt"
  corpus.write_text("a b c d.\ne f g h.\n\ni j k l.\nm n o p.\n")
  seen = []
  real_replace = os.replace

  def replace(src, dst):
    seen.append(os.path.basename(src))
    real_replace(src, dst)

  monkeypatch.setattr(os, "replace", replace)
  quickstart.split_documents(str(corpus), str(tmp_path / "train.txt"),
                             str(tmp_path / "eval.txt"), 2)
  assert seen == [".train.txt.tmp-%d" % os.getpid(),
                  ".eval.txt.tmp-%d" % os.getpid()]
  assert all(quickstart._TEMP_NAME.match(name) for name in seen)


def run_until_sentencepiece_done(out, marker):
  """Starts the quickstart CLI, stopped once sentencepiece has written its
  staging files (before they are renamed): the test then signals it."""
  driver = (
      "import os, runpy, signal, sys\n"
      # A terminal's Ctrl-C raises KeyboardInterrupt, whatever the parent
      # of this process ignores.
      "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
      "import sentencepiece as spm\n"
      "real_train = spm.SentencePieceTrainer.train\n"
      "def train(**kwargs):\n"
      "  real_train(**kwargs)\n"
      "  open(os.environ['QUICKSTART_MARKER'], 'w').close()\n"
      "  signal.pause()\n"
      "spm.SentencePieceTrainer.train = train\n"
      "sys.argv = ['albert.quickstart'] + sys.argv[1:]\n"
      "runpy.run_module('albert.quickstart', run_name='__main__',\n"
      "                 alter_sys=True)\n")
  proc = subprocess.Popen(
      [sys.executable, "-c", driver, "--output_dir", out] + TINY,
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      env=child_env(QUICKSTART_MARKER=marker))
  deadline = time.time() + 300
  while not os.path.exists(marker):
    if proc.poll() is not None or time.time() > deadline:
      proc.kill()
      stdout, stderr = proc.communicate()
      pytest.fail("quickstart never reached sentencepiece:\n%s\n%s" %
                  (stdout, stderr))
    time.sleep(0.05)
  return proc


@pytest.mark.slow
@pytest.mark.parametrize("signum,code,word", [
    (signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_prints_one_line_and_cleans_its_staging_files(
    tmp_path, signum, code, word):
  out = str(tmp_path / "qs")
  proc = run_until_sentencepiece_done(out, str(tmp_path / "marker"))
  assert [n for n in os.listdir(out) if n.startswith(".spm.tmp-")]
  proc.send_signal(signum)
  stdout, stderr = proc.communicate(timeout=120)
  assert proc.returncode == code, stderr
  assert "Traceback" not in stderr
  assert stderr == "quickstart: %s; run it again to resume\n" % word
  assert "== 2/5" in stdout
  names = os.listdir(out)
  assert "spm.model" not in names and "spm.vocab" not in names
  assert not [n for n in names if quickstart._TEMP_NAME.match(n)], names


@pytest.mark.slow
def test_kill_9_leaves_nothing_a_rerun_trusts(tmp_path):
  out = str(tmp_path / "qs")
  proc = run_until_sentencepiece_done(out, str(tmp_path / "marker"))
  proc.kill()
  proc.communicate(timeout=60)
  names = os.listdir(out)
  # Stage 2 is redone: it is skipped only when spm.model exists.
  assert "spm.model" not in names and "spm.vocab" not in names
  staged = sorted(n for n in names if quickstart._TEMP_NAME.match(n))
  assert staged == [".spm.tmp-%d.model" % proc.pid,
                    ".spm.tmp-%d.vocab" % proc.pid]
  # Completed stages are kept, what the killed run was writing goes.
  with quickstart.OutputDir(out) as output_dir:
    assert output_dir.leftovers_removed == staged
  assert sorted(os.listdir(out)) == [quickstart.MANIFEST_NAME, "corpus.txt",
                                     "eval.txt", "train.txt"]


# --- 2. each progress line once, output to a file --------------------------


@pytest.mark.slow
def test_piped_quickstart_prints_each_line_once_and_fresh_keeps_user_files(
    tmp_path):
  out = str(tmp_path / "qs")
  write(os.path.join(out, "notes.txt"))
  log_path = str(tmp_path / "log")

  def run(*extra):
    with open(log_path, "w") as log:
      subprocess.run(
          [sys.executable, "-m", "albert.quickstart", "--output_dir", out] +
          TINY + list(extra), stdout=log, stderr=subprocess.STDOUT,
          env=child_env(), timeout=600, check=True)
    with open(log_path) as log:
      return log.read()

  log = run()
  lines = [line for line in log.splitlines() if line.strip()]
  for step in (50, 60):
    assert sum(("step %d/60 " % step) in line for line in lines) == 1, log
  assert sum("trained 60 steps" in line for line in lines) == 1, log
  assert sum("best checkpoint: step 60" in line for line in lines) == 1, log
  repeated = sorted({line for line in lines if lines.count(line) > 1})
  assert not repeated, log
  # Stage lines and log lines arrive in order in one file.
  assert log.index("== 4/5") < log.index("step 50/60") < log.index("== 5/5")
  assert not [line for line in lines
              if any(noise in line for noise in STARTUP_NOISE)], log
  # The start is the untrained model's, the end the trained one's.
  assert [line.split() for line in lines
          if line.startswith("   global_step")] == [["global_step", "0",
                                                     "60"]]
  # A line no corpus has: gone once the corpus is built again. (Not the
  # inode: a deleted file's inode is often reused at once.)
  with open(os.path.join(out, "corpus.txt"), "a") as f:
    f.write("a line of the old corpus\n")

  log = run("--fresh")
  assert "--fresh: removed " in log and "(other files kept)" in log
  assert "documents, " in log  # the corpus was built again
  assert "a line of the old corpus" not in read(
      os.path.join(out, "corpus.txt"))
  assert read(os.path.join(out, "notes.txt")) == "mine\n"
  assert sum("step 50/60 " in line for line in log.splitlines()) == 1, log


# --- 3. TensorFlow's start-up chatter --------------------------------------


@pytest.mark.slow
def test_tensorflow_startup_noise_is_dropped_and_the_rest_kept():
  code = (
      "import os, sys\n"
      "import albert\n"
      "with albert.without_tensorflow_startup_noise():\n"
      "  os.write(2, b'2026-01-01 E external/local_xla/xla/stream_executor/"
      "cuda/cuda_dnn.cc:9261] Unable to register cuDNN factory: Attempting "
      "to register factory for plugin cuDNN when one has already been "
      "registered\\n')\n"
      "  os.write(2, b'E something real went wrong\\n')\n"
      "  sys.stderr.write('a python warning\\n')\n"
      "sys.stderr.write('after\\n')\n")
  result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, env=child_env(), timeout=60, check=True)
  assert result.stderr == ("E something real went wrong\na python warning\n"
                           "after\n")


def fake_venv(tmp_path):
  """A venv whose pip installs nothing and whose python is this one."""
  venv = tmp_path / "venv"
  (venv / "bin").mkdir(parents=True)
  python = venv / "bin" / "python"
  python.write_text(
      "#!/bin/sh\n"
      "if [ \"$1\" = -m ] && [ \"$2\" = pip ]; then exit 0; fi\n"
      "exec '%s' \"$@\"\n" % sys.executable)
  python.chmod(0o755)
  return venv


def source_env(venv, **extra):
  env = child_env(ALBERT_VENV=str(venv), **extra)
  env.pop("TF_CPP_MIN_LOG_LEVEL")  # a new shell, as on a first run
  script = 'source scripts/env.sh && echo "level=$TF_CPP_MIN_LOG_LEVEL"'
  return subprocess.run(
      ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True,
      env=env, timeout=300, check=False)


@pytest.mark.slow
def test_env_install_check_prints_no_tensorflow_startup_lines(tmp_path):
  venv = fake_venv(tmp_path)
  result = source_env(venv)
  output = result.stdout + result.stderr
  assert result.returncode == 0, output
  assert "[env] installing requirements" in result.stdout
  assert not [line for line in output.splitlines()
              if any(noise in line for noise in STARTUP_NOISE)], output
  assert result.stderr == ""
  assert result.stdout.endswith("level=2\n")
  assert (venv / ".albert-requirements").exists()  # the check passed
  assert sorted(os.listdir(venv)) == [".albert-requirements", "bin"]


@pytest.mark.slow
def test_env_install_check_shows_why_an_import_failed(tmp_path):
  venv = fake_venv(tmp_path)
  shadow = tmp_path / "shadow"
  shadow.mkdir()
  (shadow / "tensorflow.py").write_text(
      "raise ImportError('sentinel: tensorflow is broken')\n")
  result = source_env(venv, PYTHONPATH=str(shadow))
  assert result.returncode == 1
  assert "ImportError: sentinel: tensorflow is broken" in result.stderr
  assert result.stderr.rstrip("\n").endswith(
      "error: installing requirements into %s failed (see above)" % venv)
  assert not (venv / ".albert-requirements").exists()


# --- 4. scripts/quickstart.sh --help answers at once, creating nothing -----


def tree(path):
  return sorted(os.path.relpath(os.path.join(d, name), path)
                for d, dirs, files in os.walk(path) for name in dirs + files)


@pytest.mark.slow
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_quickstart_sh_help_prints_the_defaults_without_a_venv(tmp_path,
                                                               flag):
  # A copy of what --help needs, so that anything it created would show.
  repo = tmp_path / "repo"
  for name in ("scripts/quickstart.sh", "scripts/env.sh",
               "albert/quickstart_flags.py", "requirements.txt",
               "requirements-test.txt"):
    os.makedirs(os.path.dirname(repo / name), exist_ok=True)
    with open(os.path.join(ROOT, name), "rb") as f:
      (repo / name).write_bytes(f.read())
  work = tmp_path / "work"
  work.mkdir()
  before = tree(tmp_path)
  venv = tmp_path / "venv"  # does not exist: --help must not create it
  # The interpreter this venv was made from: no TensorFlow on its path.
  base_python = os.path.join(sys.base_prefix, "bin",
                             os.path.basename(sys.executable))
  env = child_env(ALBERT_VENV=str(venv), PYTHON=base_python, COLUMNS="80")
  env.pop("PYTHONPATH")
  started = time.time()
  result = subprocess.run(["bash", str(repo / "scripts" / "quickstart.sh"),
                           "--num_train_steps=5", flag], cwd=str(work),
                          env=env, capture_output=True, text=True,
                          timeout=60, check=False)
  seconds = time.time() - started
  assert result.returncode == 0, result.stderr
  assert seconds < 10
  assert result.stderr == ""
  words = " ".join(result.stdout.split())  # as read, whatever the wrapping
  for shown in ("Pretraining steps (default: 1500)",
                "Optimizer (default: lamb)", "default: fp32)",
                "model go (default: quickstart_output)",
                "vocabulary size (default: 4000)",
                "learning rate (default: 0.01)", "(default: one per CPU)"):
    assert shown in words
  # The options part is `python -m albert.quickstart --help`, as recorded.
  with open(os.path.join(ROOT, "tests", "help_texts", "quickstart.txt")) as f:
    recorded = f.read()
  assert result.stdout.endswith("\n\n" + recorded)
  assert tree(tmp_path) == before
  assert not venv.exists()
