# coding=utf-8
"""Reliability of export_to_tfhub and of hub handles in fine-tuning.

Regression tests for what a hostile-user probe found: an export that
deleted the model it exported (--export_path=<albert_directory>
--overwrite_export_path), an overwrite that deleted any tree, staging and
scratch directories a killed export left where globs see them, hub
handles that were missing or not TF1 modules reported as a checkpoint
problem, a full disk reported by a traceback, unreadable checkpoints
found only when restoring, and files a user added to an export lost by a
run killed while replacing it.

Kills are deterministic: the child process kills itself (SIGKILL, so no
clean-up runs) at a chosen call of the export, never after a sleep.
"""

import errno
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys

from absl import logging as absl_logging
import pytest
import tensorflow.compat.v1 as tf
import tensorflow_hub as hub

import hub_fixtures
from albert import export_files
from albert import export_to_tfhub
from albert import export_utils
from albert import fine_tuning_utils

tf.disable_v2_behavior()

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
  """A tiny model directory; tests work on copies (`albert_copy`)."""
  return hub_fixtures.make_tiny_albert_dir(
      str(tmp_path_factory.mktemp("pristine") / "albert"))


@pytest.fixture(scope="module")
def hub_module(pristine, tmp_path_factory):
  return hub_fixtures.make_hub_module(
      pristine, str(tmp_path_factory.mktemp("module") / "hub"))


def albert_copy(pristine, directory):
  """A copy of the tiny model directory, which a test may endanger."""
  shutil.copytree(pristine.directory, directory)
  return directory


def digest_tree(directory):
  """{relative path: sha256} of every file below directory."""
  digests = {}
  for parent, _, names in os.walk(directory):
    for name in names:
      path = os.path.join(parent, name)
      with open(path, "rb") as f:
        digests[os.path.relpath(path, directory)] = hashlib.sha256(
            f.read()).hexdigest()
  return digests


def options(directory, export_path, **overrides):
  return export_to_tfhub.default_options(
      albert_directory=directory, export_path=export_path, **overrides)


def signatures(path):
  return set(hub.load_module_spec(path).get_signature_names())


def child_env(tmp_dir):
  """Environment of a child export: its system temp dir is tmp_dir."""
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3",
             TMPDIR=tmp_dir)
  env.pop("ALBERT_TRACEBACK", None)
  return env


def run_cli(args, cwd):
  return subprocess.run(
      [sys.executable, "-m", "albert.export_to_tfhub"] + args, cwd=cwd,
      env=child_env(cwd), capture_output=True, text=True, timeout=300)


def error_lines(stderr, program="export_to_tfhub"):
  return [line for line in stderr.splitlines()
          if line.startswith(program + ": error:")]


# 1. export_path must not be (or hold) the model being exported.


def test_export_into_its_own_albert_directory_is_refused(pristine, tmp_path):
  directory = albert_copy(pristine, str(tmp_path / "albert"))
  before = digest_tree(directory)
  with pytest.raises(export_to_tfhub.ExportError,
                     match="export_path %s is the albert_directory" %
                     directory):
    export_to_tfhub.run(options(directory, directory,
                                overwrite_export_path=True))
  # The directory above it, and a symlink to it, hold it too.
  with pytest.raises(export_to_tfhub.ExportError,
                     match="contains the albert_directory"):
    export_to_tfhub.run(options(directory, str(tmp_path),
                                overwrite_export_path=True))
  link = str(tmp_path / "link")
  os.symlink(directory, link)
  with pytest.raises(export_to_tfhub.ExportError,
                     match="is the albert_directory"):
    export_to_tfhub.run(options(directory, link, overwrite_export_path=True))
  assert digest_tree(directory) == before
  assert sorted(os.listdir(str(tmp_path))) == ["albert", "link"]


def test_export_path_holding_an_input_file_is_refused(pristine, tmp_path):
  directory = albert_copy(pristine, str(tmp_path / "albert"))
  config = os.path.join(directory, "albert_config.json")
  checkpoint = os.path.join(directory, "model.ckpt-best")
  spm_model = os.path.join(directory, "30k-clean.model")
  before = digest_tree(directory)
  # The library call has no albert_directory; its files are named.
  with pytest.raises(export_to_tfhub.ExportError,
                     match="contains the albert config"):
    export_to_tfhub.export_hub_module(config, checkpoint, directory,
                                      spm_model_file=spm_model,
                                      overwrite=True)
  with pytest.raises(export_to_tfhub.ExportError,
                     match="is the tokenizer file"):
    export_to_tfhub.export_hub_module(config, checkpoint, spm_model,
                                      spm_model_file=spm_model,
                                      overwrite=True)
  # Inputs from several places: a directory holding only the checkpoint.
  elsewhere = str(tmp_path / "ckpt")
  os.makedirs(elsewhere)
  for path in glob.glob(checkpoint + ".*"):
    shutil.copy(path, elsewhere)
  with pytest.raises(export_to_tfhub.ExportError,
                     match="export_path %s contains the init checkpoint "
                     "file %s" % (elsewhere, elsewhere)):
    export_to_tfhub.export_hub_module(
        config, os.path.join(elsewhere, "model.ckpt-best"), elsewhere,
        spm_model_file=spm_model, overwrite=True)
  assert digest_tree(directory) == before
  assert len(os.listdir(elsewhere)) == 2

  # A new module directory inside the model directory replaces nothing.
  inside = os.path.join(directory, "hub")
  export_to_tfhub.run(options(directory, inside))
  assert "tokens" in signatures(inside)
  after = digest_tree(directory)
  assert {k: v for k, v in after.items()
          if not k.startswith("hub" + os.sep)} == before


@pytest.mark.slow
def test_cli_export_onto_albert_directory_is_one_line(pristine, tmp_path):
  directory = albert_copy(pristine, str(tmp_path / "albert"))
  before = digest_tree(directory)
  result = run_cli(["--albert_directory=" + directory,
                    "--export_path=" + directory, "--overwrite_export_path"],
                   cwd=str(tmp_path))
  assert result.returncode == 1, result.stdout + result.stderr
  errors = error_lines(result.stderr)
  assert len(errors) == 1, result.stderr
  assert "export_path %s is the albert_directory" % directory in errors[0]
  assert "Traceback" not in result.stderr
  assert digest_tree(directory) == before


# 2. --overwrite_export_path replaces previous exports only.


def test_overwrite_refuses_what_is_not_an_export(pristine, tmp_path):
  directory = pristine.directory
  parent = tmp_path / "out"
  parent.mkdir()

  user_dir = parent / "results"
  (user_dir / "sub").mkdir(parents=True)
  (user_dir / "sub" / "notes.txt").write_text("mine")
  plain_file = parent / "model.bin"
  plain_file.write_text("mine too")
  # A SavedModel someone else wrote: saved_model.pb, no hub file, no marker.
  other_model = parent / "saved"
  other_model.mkdir()
  (other_model / "saved_model.pb").write_bytes(b"\x08\x01")
  for path in (user_dir, plain_file, other_model):
    with pytest.raises(export_to_tfhub.ExportError) as raised:
      export_to_tfhub.run(options(directory, str(path),
                                  overwrite_export_path=True))
    message = str(raised.value)
    assert "export_path %s" % path in message
    assert "not a previous export" in message and "\n" not in message
  assert (user_dir / "sub" / "notes.txt").read_text() == "mine"
  assert plain_file.read_text() == "mine too"
  assert os.listdir(str(other_model)) == ["saved_model.pb"]
  assert sorted(os.listdir(str(parent))) == ["model.bin", "results", "saved"]


def test_overwrite_replaces_previous_exports(pristine, tmp_path):
  directory = pristine.directory
  export_path = str(tmp_path / "hub")
  export_to_tfhub.run(options(directory, export_path, include_mlm=False))
  # Every export carries the (hidden) marker.
  marker = os.path.join(export_path, export_to_tfhub.EXPORT_MARKER)
  assert os.path.isfile(marker)
  assert "mlm" not in signatures(export_path)
  export_to_tfhub.run(options(directory, export_path,
                              overwrite_export_path=True))
  assert "mlm" in signatures(export_path)
  assert os.listdir(str(tmp_path)) == ["hub"]

  # A module of another tool (tfhub_module.pb, no marker) is an export too.
  os.remove(os.path.join(export_path, export_to_tfhub.EXPORT_MARKER))
  export_to_tfhub.run(options(directory, export_path, include_mlm=False,
                              overwrite_export_path=True))
  assert "mlm" not in signatures(export_path)

  # The marker alone is enough (a later SavedModel export of this tool).
  marked = tmp_path / "tf2"
  marked.mkdir()
  (marked / export_to_tfhub.EXPORT_MARKER).write_text("")
  (marked / "saved_model.pb").write_bytes(b"")
  export_to_tfhub.run(options(directory, str(marked),
                              overwrite_export_path=True))
  assert "tokens" in signatures(str(marked))
  assert sorted(os.listdir(str(tmp_path))) == ["hub", "tf2"]


# 3. What interrupted and killed exports leave.


def test_interrupted_export_leaves_nothing(pristine, tmp_path, monkeypatch):
  real_export = hub.Module.export

  def export_then_interrupt(self, path, session):
    real_export(self, path, session)
    raise KeyboardInterrupt()

  monkeypatch.setattr(hub.Module, "export", export_then_interrupt)
  system_tmp = tmp_path / "system_tmp"
  system_tmp.mkdir()
  monkeypatch.setattr("tempfile.tempdir", str(system_tmp))
  parent = tmp_path / "out"
  with pytest.raises(KeyboardInterrupt):
    export_to_tfhub.run(options(pristine.directory, str(parent / "hub")))
  assert os.listdir(str(parent)) == []
  assert os.listdir(str(system_tmp)) == []


KILLING_CHILD = r'''
import json, os, signal, sys
import tensorflow.compat.v1 as tf
import tensorflow_hub as hub
from albert import export_files
from albert import export_to_tfhub
from albert import export_utils

args = json.loads(sys.argv[1])
tf.disable_v2_behavior()
real_export = hub.Module.export
real_rename = tf.gfile.Rename


def kill():
  with open(args["marker"], "w") as f:
    f.write(str(os.getpid()))
  os.kill(os.getpid(), signal.SIGKILL)


def export_then_die(self, path, session):
  real_export(self, path, session)
  kill()


def rename_or_die(source, target, overwrite=False):
  # The second rename of a replacement: the old module is already aside.
  if target == args["export_path"] and not os.path.exists(target):
    kill()
  return real_rename(source, target, overwrite)


if args["kill_at"] == "module_written":
  hub.Module.export = export_then_die
elif args["kill_at"] == "carrying_over":
  # The new module is in place, the previous one still aside.
  export_files.finish_replacement = lambda old, export_path: kill()
else:
  tf.gfile.Rename = rename_or_die
export_to_tfhub.run(export_to_tfhub.default_options(
    albert_directory=args["albert_directory"],
    export_path=args["export_path"], overwrite_export_path=True,
    include_mlm=False))
'''


def export_and_kill(tmp_path, directory, export_path, kill_at):
  """Runs an export in a child that SIGKILLs itself at `kill_at`.

  Returns:
    (the child's pid, its system temp dir).
  """
  script = tmp_path / "child.py"
  script.write_text(KILLING_CHILD)
  marker = str(tmp_path / "killed_at")
  system_tmp = tmp_path / "system_tmp"
  system_tmp.mkdir(exist_ok=True)
  args = dict(albert_directory=directory, export_path=export_path,
              kill_at=kill_at, marker=marker)
  result = subprocess.run(
      [sys.executable, str(script), json.dumps(args)], cwd=str(tmp_path),
      env=child_env(str(system_tmp)), capture_output=True, text=True,
      timeout=300)
  assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
  with open(marker) as f:
    pid = int(f.read())
  os.remove(marker)
  return pid, str(system_tmp)


@pytest.mark.slow
def test_killed_export_leaves_nothing_globbable_and_rerun_cleans_up(
    pristine, tmp_path):
  parent = tmp_path / "out"
  parent.mkdir()
  export_path = str(parent / "hub")
  pid, system_tmp = export_and_kill(tmp_path, pristine.directory,
                                    export_path, "module_written")
  assert glob.glob(str(parent / "*")) == []
  assert os.listdir(system_tmp) == []
  (leftover,) = os.listdir(str(parent))
  assert leftover.startswith(".hub.tmp-%d-" % pid)

  # What the rerun must not touch: a staging name of a live process (our
  # parent) and names that only look alike.
  alive = ".hub.tmp-%d-0123abcd" % os.getppid()
  (parent / alive).mkdir()
  for name in (".hub.tmp-notes", "hub.tmp-1-x", ".other.tmp-1-0123abcd"):
    (parent / name).write_text("keep")
  summary = export_to_tfhub.run(options(pristine.directory, export_path))
  assert summary.export_path == export_path
  assert "tokens" in signatures(export_path)
  assert sorted(os.listdir(str(parent))) == sorted(
      ["hub", alive, ".hub.tmp-notes", "hub.tmp-1-x",
       ".other.tmp-1-0123abcd"])


@pytest.mark.slow
def test_killed_replacement_puts_the_previous_module_back(pristine,
                                                          tmp_path):
  parent = tmp_path / "out"
  parent.mkdir()
  export_path = str(parent / "hub")
  # The previous module has the "mlm" signature; the killed one would not.
  export_to_tfhub.run(options(pristine.directory, export_path))
  before = digest_tree(export_path)
  export_and_kill(tmp_path, pristine.directory, export_path,
                  "replacing")
  assert not os.path.exists(export_path)
  assert glob.glob(str(parent / "*")) == []

  # The next run finds the module aside and puts it back before deciding:
  # without --overwrite_export_path, it exists.
  with pytest.raises(export_to_tfhub.ExportError, match="already exists"):
    export_to_tfhub.run(options(pristine.directory, export_path))
  assert digest_tree(export_path) == before
  assert os.listdir(str(parent)) == ["hub"]


@pytest.mark.slow
def test_killed_after_the_swap_loses_no_file_a_user_added(pristine,
                                                          tmp_path):
  parent = tmp_path / "out"
  parent.mkdir()
  export_path = str(parent / "hub")
  export_to_tfhub.run(options(pristine.directory, export_path))
  card = os.path.join(export_path, "README.md")
  with open(card, "w") as f:
    f.write("my model card")
  pid, _ = export_and_kill(tmp_path, pristine.directory, export_path,
                           "carrying_over")
  # The new module (without "mlm") is in place, the card still aside.
  assert "mlm" not in signatures(export_path)
  assert not os.path.exists(card)
  # (The killed run's staging directory is beside it too.)
  (aside,) = [name for name in os.listdir(str(parent))
              if name.startswith(".hub.old-")]
  assert aside.startswith(".hub.old-%d-" % pid)
  assert export_files.read_marker(str(parent / aside))[1]

  # The next run, even one that replaces nothing, carries the card over
  # and removes the rest of the previous module.
  with pytest.raises(export_to_tfhub.ExportError, match="already exists"):
    export_to_tfhub.run(options(pristine.directory, export_path))
  with open(card) as f:
    assert f.read() == "my model card"
  assert os.listdir(str(parent)) == ["hub"]
  assert "mlm" not in signatures(export_path)


# 4. Hub handles given to fine-tuning.


def write_tf1_saved_model(path):
  """A TF1 SavedModel (saved_model.pb, variables/), not a hub module."""
  with tf.Graph().as_default():
    x = tf.placeholder(tf.float32, [None], name="x")
    y = tf.identity(x * tf.Variable(2.0), name="y")
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      tf.saved_model.simple_save(sess, path, {"x": x}, {"y": y})
  return path


def write_hub_module_without_albert_signatures(path):
  def module_fn():
    x = tf.placeholder(tf.float32, [None])
    hub.add_signature(inputs={"x": x}, outputs={"y": x * 2.0})

  spec = hub.create_module_spec(module_fn)
  with tf.Graph().as_default():
    module = hub.Module(spec)
    with tf.Session() as sess:
      module.export(path, sess)
  return path


def build_encoder(handle):
  with tf.Graph().as_default():
    ids = tf.zeros([2, 8], tf.int32)
    return fine_tuning_utils.create_albert(
        None, is_training=False, input_ids=ids, input_mask=ids,
        segment_ids=ids, use_one_hot_embeddings=False, hub_module=handle)


def test_local_hub_handle_that_is_not_a_tf1_module_is_one_line(
    pristine, hub_module, tmp_path):
  not_a_dir = tmp_path / "module.tar.gz"
  not_a_dir.write_bytes(b"not a tarball")
  unrelated = tmp_path / "unrelated"
  unrelated.mkdir()
  (unrelated / "notes.txt").write_text("x")
  cases = [
      (str(tmp_path / "missing"), "not found"),
      (str(not_a_dir), "is a file"),
      (str(unrelated), "no tfhub_module.pb"),
      (pristine.directory, "no tfhub_module.pb"),
      (write_tf1_saved_model(str(tmp_path / "saved_model")),
       "SavedModel"),
  ]
  for handle, reason in cases:
    for build in (
        lambda h: fine_tuning_utils.create_vocab(None, True, None, h),
        build_encoder):
      with pytest.raises(ValueError) as raised:
        build(handle)
      message = str(raised.value)
      assert message.startswith("--albert_hub_module_handle=%s" % handle)
      assert reason in message and "\n" not in message
      assert "checkpoint" not in message
  assert os.listdir(str(unrelated)) == ["notes.txt"]

  other = write_hub_module_without_albert_signatures(str(tmp_path / "other"))
  with pytest.raises(ValueError, match='no "tokenization_info" signature'):
    fine_tuning_utils.create_vocab(None, True, None, other)
  with pytest.raises(ValueError, match='no "tokens" signature'):
    build_encoder(other)

  # The real thing still works.
  tokenizer = fine_tuning_utils.create_vocab(None, True, None, hub_module)
  assert tokenizer.tokenize("the red bird")
  pooled, sequence = build_encoder(hub_module)
  assert pooled.shape.as_list() == [2, pristine.config.hidden_size]
  assert sequence.shape.as_list() == [2, 8, pristine.config.hidden_size]


class _Resolved(Exception):
  """Raised by the fake hub.Module: the handle reached hub."""


def test_remote_hub_handles_go_to_hub_unchanged(monkeypatch):
  seen = []

  def fake_module(handle, *unused_args, **unused_kwargs):
    seen.append(handle)
    raise _Resolved(handle)

  monkeypatch.setattr(hub, "Module", fake_module)
  handles = ["https://tfhub.dev/google/albert_base/3",
             "http://example.com/albert.tar.gz",
             "gs://bucket/albert/hub.tar.gz"]
  for handle in handles:
    with pytest.raises(_Resolved):
      fine_tuning_utils.create_vocab(None, True, None, handle)
    with pytest.raises(_Resolved):
      build_encoder(handle)
  assert seen == [h for h in handles for _ in range(2)]


@pytest.mark.slow
def test_fine_tuning_cli_names_the_hub_handle(tmp_path):
  saved_model = write_tf1_saved_model(str(tmp_path / "saved_model"))
  (tmp_path / "dev.json").write_text('{"version": "v1.1", "data": []}')
  env = child_env(str(tmp_path))
  result = subprocess.run(
      [sys.executable, "-m", "albert.run_squad_v1",
       "--albert_hub_module_handle=" + saved_model, "--output_dir=out",
       "--predict_file=dev.json", "--do_predict", "--max_seq_length=64",
       "--max_query_length=16"], cwd=str(tmp_path), env=env,
      capture_output=True, text=True, timeout=300)
  assert result.returncode == 1
  errors = error_lines(result.stderr, "run_squad_v1")
  assert len(errors) == 1, result.stderr
  assert ("--albert_hub_module_handle=%s is a SavedModel, not a TF1 Hub "
          "module (no tfhub_module.pb)" % saved_model) in errors[0]
  assert "checkpoint" not in errors[0]
  assert "Traceback" not in result.stderr
  assert not os.path.exists(str(tmp_path / "out"))


# 5. A full disk while writing.


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "variables.data"),
    tf.errors.ResourceExhaustedError(
        None, None, "variables.data; No space left on device"),
], ids=["OSError", "TensorFlow"])
def test_full_disk_is_one_line_and_leaves_nothing(pristine, tmp_path,
                                                  monkeypatch, error):
  parent = tmp_path / "out"
  parent.mkdir()
  export_path = str(parent / "hub")
  export_to_tfhub.run(options(pristine.directory, export_path,
                              include_mlm=False))
  before = digest_tree(export_path)
  real_export = hub.Module.export

  def export_until_full(self, path, session):
    real_export(self, path, session)  # Part of it is on disk...
    raise error                        # ...then the disk is full.

  monkeypatch.setattr(hub.Module, "export", export_until_full)
  for name in ("hub", "new_hub"):
    with pytest.raises(export_to_tfhub.ExportError) as raised:
      export_to_tfhub.run(options(pristine.directory, str(parent / name),
                                  overwrite_export_path=True))
    message = str(raised.value)
    assert message.startswith("cannot write the module to export_path %s: "
                              % (parent / name))
    assert "No space left on device" in message
    assert "free some space" in message and "\n" not in message
  # The previous module is untouched; nothing else is left.
  assert digest_tree(export_path) == before
  assert os.listdir(str(parent)) == ["hub"]


# 6. Other inputs of the export command.


def test_unreadable_inputs_are_one_line_before_writing(pristine, tmp_path):
  export_path = str(tmp_path / "hub")

  def fails(directory, match, path=export_path, **overrides):
    with pytest.raises(export_to_tfhub.ExportError) as raised:
      export_to_tfhub.run(options(directory, path, **overrides))
    assert "\n" not in str(raised.value), str(raised.value)
    assert match in str(raised.value), str(raised.value)

  directory = pristine.directory
  fails(directory, "--checkpoint_name=model.ckpt-9: init checkpoint not "
        "found", checkpoint_name="model.ckpt-9")
  fails(directory, "checkpoints there: model.ckpt-best",
        checkpoint_name="model.ckpt-9")
  fails(os.path.join(directory, "albert_config.json"),
        "albert_directory %s is a file" %
        os.path.join(directory, "albert_config.json"))
  fails(directory, "cannot create the directory of export_path",
        path=os.path.join(directory, "albert_config.json", "hub"))

  truncated = albert_copy(pristine, str(tmp_path / "truncated"))
  (data,) = glob.glob(os.path.join(truncated, "model.ckpt-best.data-*"))
  with open(data, "r+b") as f:
    f.truncate(100)
  fails(truncated, "is truncated")

  corrupt = albert_copy(pristine, str(tmp_path / "corrupt"))
  with open(os.path.join(corrupt, "model.ckpt-best.index"), "wb") as f:
    f.write(b"garbage")
  fails(corrupt, "cannot be read")

  # Flipped bytes, same size: named as corrupt, with its data file (it
  # said "cannot be restored: Graph execution error:").
  flipped = albert_copy(pristine, str(tmp_path / "flipped"))
  (data,) = glob.glob(os.path.join(flipped, "model.ckpt-best.data-*"))
  with open(data, "r+b") as f:
    raw = bytearray(f.read())
    for i in range(64, 96):
      raw[i] ^= 0xFF
    f.seek(0)
    f.write(raw)
  fails(flipped, "init checkpoint %s cannot be restored: checkpoint %s is "
        "corrupt: its data file %s fails its checksum" % (
            os.path.join(flipped, "model.ckpt-best"),
            os.path.join(flipped, "model.ckpt-best"), data))

  no_config = albert_copy(pristine, str(tmp_path / "no_config"))
  os.remove(os.path.join(no_config, "albert_config.json"))
  fails(no_config, "has no albert_config.json")

  wrong = albert_copy(pristine, str(tmp_path / "wrong"))
  config = pristine.config.to_dict()
  config["intermediate_size"] = 48
  with open(os.path.join(wrong, "albert_config.json"), "w") as f:
    json.dump(config, f)
  fails(wrong, "ffn_1/intermediate/dense/kernel: config says [32, 48]")
  assert sorted(os.listdir(str(tmp_path))) == [
      "corrupt", "flipped", "no_config", "truncated", "wrong"]

  # A file of the checkpoint names its prefix, as --init_checkpoint does.
  summary = export_to_tfhub.run(options(
      directory, export_path, checkpoint_name="model.ckpt-best.index"))
  assert summary.init_checkpoint == os.path.join(directory,
                                                 "model.ckpt-best")


@pytest.mark.slow
def test_cli_errors_are_one_line(pristine, tmp_path):
  truncated = albert_copy(pristine, str(tmp_path / "truncated"))
  (data,) = glob.glob(os.path.join(truncated, "model.ckpt-best.data-*"))
  with open(data, "r+b") as f:
    f.truncate(100)
  result = run_cli(["--albert_directory=" + truncated,
                    "--export_path=hub"], cwd=str(tmp_path))
  assert result.returncode == 1
  errors = error_lines(result.stderr)
  assert len(errors) == 1, result.stderr
  assert "model.ckpt-best is truncated" in errors[0]
  assert "Traceback" not in result.stderr
  assert sorted(os.listdir(str(tmp_path))) == ["truncated"]


@pytest.fixture
def absl_verbosity():
  """Restores absl's verbosity, which the export's main lowers."""
  previous = absl_logging.get_verbosity()
  yield
  absl_logging.set_verbosity(previous)


def test_main_rejects_stray_arguments_and_reports_interrupts(
    monkeypatch, capsys, absl_verbosity):
  monkeypatch.setattr(sys, "argv", ["export_to_tfhub.py"])
  with pytest.raises(SystemExit) as raised:
    export_to_tfhub.main(["export_to_tfhub.py", "albert_base"])
  assert raised.value.code == 1
  assert capsys.readouterr().err == (
      "export_to_tfhub: error: unexpected arguments: albert_base\n")

  def interrupted(*unused_args, **unused_kwargs):
    raise KeyboardInterrupt()

  # Ctrl-C as the export starts (FLAGS hold no model here).
  monkeypatch.setattr(export_utils.progress, "show_only_own_logs",
                      interrupted)
  with pytest.raises(SystemExit) as raised:
    export_to_tfhub.main(["export_to_tfhub.py"])
  assert raised.value.code == 130
  assert capsys.readouterr().err == "export_to_tfhub: interrupted\n"
