# coding=utf-8
"""Tests for albert.export_checkpoints (tiny checkpoints, real files)."""

import errno
import json
import os
import shutil
import subprocess
import sys

from absl import flags
from absl.testing import flagsaver
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from error_checks import warnings  # pylint: disable=unused-import
import hub_fixtures
from albert import checkpoints
from albert import export_checkpoints
from albert import export_to_tfhub
from albert import modeling
from albert import optimization
from albert import pretraining

tf.disable_v2_behavior()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_STEP = 1234
EXPORT_NAME = "model.ckpt-best"

INPUT_IDS = np.array([[2, 10, 11, 12, 3, 20, 21, 3],
                      [2, 30, 31, 3, 0, 0, 0, 0]], np.int32)
INPUT_MASK = np.array([[1] * 8, [1, 1, 1, 1, 0, 0, 0, 0]], np.int32)
SEGMENT_IDS = np.array([[0, 0, 0, 0, 0, 1, 1, 1],
                        [0, 0, 0, 0, 0, 0, 0, 0]], np.int32)
MLM_POSITIONS = np.array([[1, 6, 0], [2, 1, 0]], np.int32)


def checkpoint_names(prefix):
  return set(name for name, _ in tf.train.list_variables(prefix))


def is_slot(name):
  return name.endswith("/adam_m") or name.endswith("/adam_v")


def export(directory, export_path, **overrides):
  return export_checkpoints.run(export_checkpoints.default_options(
      albert_directory=directory, export_path=export_path, **overrides))


def listing(path):
  return sorted(os.listdir(path))


def save_trained_checkpoint(tiny, directory):
  """A fine-tuning-style model directory: one AdamW step from `tiny`.

  Its checkpoint holds the encoder and both heads (changed by the step),
  their adam_m/adam_v slots, a task head variable (output_weights) and
  global_step SOURCE_STEP; config and tokenizer are copied from `tiny`.

  Returns:
    the checkpoint prefix.
  """
  os.makedirs(directory)
  for name in ("albert_config.json", "30k-clean.model", "30k-clean.vocab"):
    shutil.copy(os.path.join(tiny.directory, name), directory)
  config = tiny.config
  with tf.Graph().as_default():
    tf.set_random_seed(1)
    model = modeling.AlbertModel(
        config, is_training=False, input_ids=tf.constant(INPUT_IDS),
        input_mask=tf.constant(INPUT_MASK),
        token_type_ids=tf.constant(SEGMENT_IDS))
    positions = tf.constant(MLM_POSITIONS)
    mlm_loss, _, _ = pretraining.get_masked_lm_output(
        config, model.get_sequence_output(), model.get_embedding_table(),
        positions, positions, tf.ones_like(positions, tf.float32))
    sop_loss, _, _ = pretraining.get_sentence_order_output(
        config, model.get_pooled_output(), tf.constant([0, 1]))
    task_weights = tf.get_variable("output_weights",
                                   [2, config.hidden_size])
    loss = mlm_loss + sop_loss + 0.0 * tf.reduce_sum(task_weights)
    tf.train.init_from_checkpoint(
        tiny.init_checkpoint,
        {name: name for name in checkpoint_names(tiny.init_checkpoint)
         if name != "global_step"})
    train_op = optimization.create_optimizer(loss, 1e-2, 10 * SOURCE_STEP, 0,
                                               False)
    prefix = os.path.join(directory, EXPORT_NAME)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      tf.train.get_global_step().load(SOURCE_STEP - 1, sess)
      sess.run(train_op)
      tf.train.Saver().save(sess, prefix, write_state=False)
  return prefix


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
  return tmp_path_factory.mktemp("export_checkpoints")


@pytest.fixture(scope="module")
def tiny(work_dir):
  return hub_fixtures.make_tiny_albert_dir(str(work_dir / "albert"))


@pytest.fixture(scope="module")
def trained(tiny, work_dir):
  directory = str(work_dir / "trained")
  save_trained_checkpoint(tiny, directory)
  return directory


@pytest.fixture(scope="module")
def finetuned(work_dir):
  """A checkpoint without the pretraining heads."""
  return hub_fixtures.make_tiny_albert_dir(
      str(work_dir / "finetuned"), with_mlm_head=False, with_sop_head=False)


@pytest.fixture(scope="module")
def exported(trained, work_dir):
  """(summary, prefix) of the export of `trained`."""
  prefix = str(work_dir / "export" / EXPORT_NAME)
  return export(trained, prefix), prefix


def test_export_holds_model_heads_and_source_step_without_slots(
    tiny, trained, exported):
  summary, prefix = exported
  source = os.path.join(trained, EXPORT_NAME)
  source_names = checkpoint_names(source)
  assert any(is_slot(n) for n in source_names)  # what must be dropped
  assert "output_weights" in source_names

  names = checkpoint_names(prefix)
  # The tiny pretraining checkpoint holds exactly encoder + heads + step.
  assert names == checkpoint_names(tiny.init_checkpoint)
  assert not [n for n in names if "adam" in n or "lamb" in n]
  assert any(n.startswith("bert/encoder/") for n in names)
  assert {"cls/predictions/output_bias",
          "cls/predictions/transform/dense/kernel",
          "cls/predictions/transform/LayerNorm/gamma",
          "cls/seq_relationship/output_weights"} <= names
  for name in names - {"global_step"}:
    np.testing.assert_array_equal(tf.train.load_variable(prefix, name),
                                  tf.train.load_variable(source, name),
                                  err_msg=name)
  # The training step changed the weights: they come from the source.
  assert not np.array_equal(
      tf.train.load_variable(prefix, "cls/predictions/output_bias"),
      tf.train.load_variable(tiny.init_checkpoint,
                             "cls/predictions/output_bias"))
  assert int(tf.train.load_variable(prefix, "global_step")) == SOURCE_STEP

  export_dir = os.path.dirname(prefix)
  assert listing(export_dir) == [
      ".albert_export", "30k-clean.model", "30k-clean.vocab",
      "albert_config.json", "checkpoint",
      EXPORT_NAME + ".data-00000-of-00001", EXPORT_NAME + ".index",
      EXPORT_NAME + ".meta"]
  with open(os.path.join(export_dir, "albert_config.json")) as f:
    with open(os.path.join(trained, "albert_config.json")) as g:
      assert f.read() == g.read()
  # A relative path in the state file: the directory can move.
  state = tf.train.get_checkpoint_state(export_dir)
  with open(os.path.join(export_dir, "checkpoint")) as f:
    assert 'model_checkpoint_path: "%s"' % EXPORT_NAME in f.read()
  assert state.model_checkpoint_path == prefix
  assert tf.train.latest_checkpoint(export_dir) == prefix
  # No staging directory left beside it.
  assert not [e for e in os.listdir(os.path.dirname(export_dir))
              if e.startswith(".export.")]

  assert summary.export_path == prefix
  assert summary.global_step == SOURCE_STEP
  assert summary.num_variables == len(names)
  assert summary.num_parameters == sum(
      int(np.prod(shape)) for name, shape in tf.train.list_variables(prefix)
      if name != "global_step")
  trainable = [n for n in source_names if not is_slot(n)
               and n != "global_step"]
  assert summary.dropped_slots == 2 * len(trainable)
  assert summary.dropped_variables == ["output_weights"]
  assert summary.random_variables == []
  assert summary.heads == ["masked-LM", "sentence-order"]
  text = export_checkpoints.format_summary(summary)
  assert "global_step %d" % SOURCE_STEP in text
  assert "%d optimizer slot(s)" % summary.dropped_slots in text
  assert "output_weights" in text


def model_outputs(config, checkpoint):
  """Encoder and head outputs on fixed inputs, restored from checkpoint."""
  with tf.Graph().as_default():
    inputs = dict(input_ids=tf.constant(INPUT_IDS),
                  input_mask=tf.constant(INPUT_MASK),
                  segment_ids=tf.constant(SEGMENT_IDS),
                  mlm_positions=tf.constant(MLM_POSITIONS))
    outputs = export_to_tfhub.build_model_outputs(config, inputs,
                                                  is_training=False)
    with tf.Session() as sess:
      tf.train.Saver().restore(sess, checkpoint)
      return sess.run(outputs)


def test_export_computes_what_the_source_computes(tiny, trained, exported):
  _, prefix = exported
  got = model_outputs(tiny.config, prefix)
  want = model_outputs(tiny.config, os.path.join(trained, EXPORT_NAME))
  assert sorted(got) == ["mlm_logits", "pooled_output", "sequence_output",
                         "sop_log_probs"]
  for key in want:
    np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_export_works_as_init_checkpoint_and_for_tfhub(
    tiny, trained, exported, work_dir, warnings):
  _, prefix = exported
  export_dir = os.path.dirname(prefix)
  source = os.path.join(trained, EXPORT_NAME)
  for init_checkpoint in (prefix, export_dir):
    with tf.Graph().as_default():
      inputs = {name: tf.placeholder(tf.int32, [None, None])
                for name in ("input_ids", "input_mask", "segment_ids",
                             "mlm_positions")}
      export_to_tfhub.build_model_outputs(tiny.config, inputs,
                                          is_training=False)
      tvars = tf.trainable_variables()
      _, initialized = checkpoints.init_from_checkpoint(init_checkpoint, tvars)
      assert all(v.op.name in initialized for v in tvars)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for var in tvars:
          np.testing.assert_array_equal(
              sess.run(var), tf.train.load_variable(source, var.op.name))
  assert not [w for w in warnings if "NOT in init_checkpoint" in w]

  # The export directory is itself a released-style model directory.
  hub_summary = export_to_tfhub.run(export_to_tfhub.default_options(
      albert_directory=export_dir, export_path=str(work_dir / "hub")))
  assert hub_summary.init_checkpoint == prefix
  assert sorted(hub_summary.signatures) == [
      "default", "mlm", "sop", "tokenization_info", "tokens"]
  # Only global_step of the export is not in the module.
  assert hub_summary.unused_checkpoint_variables == ["global_step"]


def test_missing_heads_are_an_error_naming_them_and_the_flags(finetuned,
                                                              tmp_path):
  export_path = str(tmp_path / "out" / EXPORT_NAME)
  with pytest.raises(ValueError) as e:
    export(finetuned.directory, export_path)
  message = str(e.value)
  assert "\n" not in message
  assert "no masked-LM or sentence-order head" in message
  for name in ("cls/predictions/output_bias",
               "cls/predictions/transform/dense/kernel",
               "cls/seq_relationship/output_weights"):
    assert name in message
  assert "--noinclude_mlm --noinclude_sop" in message
  assert "--allow_random_heads" in message
  assert not os.path.exists(str(tmp_path / "out"))

  with pytest.raises(ValueError) as e:
    export(finetuned.directory, export_path, include_sop=False)
  message = str(e.value)
  assert "no masked-LM head" in message and "--noinclude_mlm" in message
  assert "seq_relationship" not in message and "noinclude_sop" not in message
  assert not os.path.exists(str(tmp_path / "out"))


def test_encoder_alone_without_heads(finetuned, tmp_path):
  export_path = str(tmp_path / "out" / EXPORT_NAME)
  summary = export(finetuned.directory, export_path, include_mlm=False,
                   include_sop=False)
  names = checkpoint_names(export_path)
  assert names == checkpoint_names(finetuned.init_checkpoint)
  assert not [n for n in names if n.startswith("cls/")]
  assert summary.heads == []
  # hub_fixtures' checkpoint has global_step 0: it is copied, not made up.
  assert summary.global_step == 0
  for name in names:
    np.testing.assert_array_equal(
        tf.train.load_variable(export_path, name),
        tf.train.load_variable(finetuned.init_checkpoint, name))


def test_allow_random_heads_exports_and_says_so(finetuned, tmp_path,
                                                warnings):
  export_path = str(tmp_path / "out" / EXPORT_NAME)
  summary = export(finetuned.directory, export_path, include_mlm=False,
                   allow_random_heads=True)
  head = ["cls/seq_relationship/output_bias",
          "cls/seq_relationship/output_weights"]
  assert sorted(summary.random_variables) == head
  names = checkpoint_names(export_path)
  assert names == checkpoint_names(finetuned.init_checkpoint) | set(head)
  assert [w for w in warnings
          if "RANDOM" in w and "cls/seq_relationship/output_weights" in w]
  text = export_checkpoints.format_summary(summary)
  assert "WARNING: 2 variable(s) have RANDOM weights" in text
  np.testing.assert_array_equal(
      tf.train.load_variable(export_path, "bert/pooler/dense/kernel"),
      tf.train.load_variable(finetuned.init_checkpoint,
                             "bert/pooler/dense/kernel"))


def test_config_that_does_not_fit_the_checkpoint_is_one_line(tiny,
                                                             tmp_path):
  directory = str(tmp_path / "other_config")
  shutil.copytree(tiny.directory, directory)
  with open(os.path.join(directory, "albert_config.json")) as f:
    config = json.load(f)
  config["intermediate_size"] += 8
  with open(os.path.join(directory, "albert_config.json"), "w") as f:
    json.dump(config, f)
  with pytest.raises(ValueError) as e:
    export(directory, str(tmp_path / "out" / EXPORT_NAME))
  message = str(e.value)
  assert "\n" not in message
  assert "does not match the config" in message and "ffn_1" in message
  assert not os.path.exists(str(tmp_path / "out"))


def test_refuses_export_paths_holding_inputs(tiny, tmp_path):
  before = listing(tiny.directory)
  parent = os.path.dirname(tiny.directory)
  for export_path, expected in [
      (os.path.join(tiny.directory, EXPORT_NAME), "is the albert_directory"),
      (os.path.join(tiny.directory, "other.ckpt"), "is the albert_directory"),
      (os.path.join(parent, EXPORT_NAME), "holds the albert_directory"),
      (tiny.directory, "is a directory; it is the PREFIX"),
      (str(tmp_path) + "/", "is a directory; it is the PREFIX"),
  ]:
    for overwrite in (False, True):
      with pytest.raises(ValueError, match=expected):
        export(tiny.directory, export_path, overwrite_export_path=overwrite)
  # The library call names the file that would be replaced.
  with pytest.raises(ValueError, match="holds the init checkpoint file"):
    export_checkpoints.export_checkpoint(
        tiny.config, tiny.init_checkpoint,
        os.path.join(tiny.directory, "new.ckpt"), overwrite=True)
  assert listing(tiny.directory) == before


def test_existing_directories_and_overwrite(tiny, tmp_path):
  other = tmp_path / "other"
  other.mkdir()
  (other / "notes.txt").write_text("keep me")
  export_path = str(other / EXPORT_NAME)
  with pytest.raises(ValueError, match="already exists"):
    export(tiny.directory, export_path)
  with pytest.raises(ValueError, match="is not a previous checkpoint export"):
    export(tiny.directory, export_path, overwrite_export_path=True)
  assert listing(str(other)) == ["notes.txt"]

  export_path = str(tmp_path / "out" / EXPORT_NAME)
  export(tiny.directory, export_path)
  with pytest.raises(ValueError, match="--overwrite_export_path"):
    export(tiny.directory, export_path)
  summary = export(tiny.directory, export_path, include_sop=False,
                   overwrite_export_path=True)
  assert summary.heads == ["masked-LM"]
  assert not [n for n in checkpoint_names(export_path)
              if n.startswith("cls/seq_relationship/")]
  assert listing(str(tmp_path)) == ["other", "out"]


def test_failed_write_leaves_nothing(tiny, tmp_path, monkeypatch):
  real_save = tf.train.Saver.save

  def save_then_fail(self, sess, save_path, *args, **kwargs):
    real_save(self, sess, save_path, *args, **kwargs)
    raise OSError(errno.ENOSPC, "No space left on device")

  export_path = str(tmp_path / "out" / EXPORT_NAME)
  monkeypatch.setattr(tf.train.Saver, "save", save_then_fail)
  with pytest.raises(ValueError) as e:
    export(tiny.directory, export_path)
  assert "nothing was left" in str(e.value)
  assert "free some space" in str(e.value)
  assert listing(str(tmp_path)) == []

  # A failed replacement keeps the previous export as it was.
  monkeypatch.setattr(tf.train.Saver, "save", real_save)
  export(tiny.directory, export_path)
  export_dir = os.path.dirname(export_path)
  before = {name: open(os.path.join(export_dir, name), "rb").read()
            for name in os.listdir(export_dir)}
  monkeypatch.setattr(tf.train.Saver, "save", save_then_fail)
  with pytest.raises(ValueError):
    export(tiny.directory, export_path, overwrite_export_path=True,
           include_mlm=False)
  assert {name: open(os.path.join(export_dir, name), "rb").read()
          for name in os.listdir(export_dir)} == before
  assert listing(str(tmp_path)) == ["out"]


@pytest.fixture
def global_flags_restored():
  """Global FLAGS usable here, with values and the parsed mark put back."""
  was_parsed = flags.FLAGS.is_parsed()
  with flagsaver.flagsaver():
    if not was_parsed:
      flags.FLAGS.mark_as_parsed()
    yield flags.FLAGS
  if not was_parsed:
    flags.FLAGS.__dict__["__flags_parsed"] = False


def test_main_none_exports_from_flags(tiny, tmp_path, capsys,
                                      global_flags_restored):
  FLAGS = global_flags_restored
  FLAGS.albert_directory = tiny.directory
  FLAGS.export_path = str(tmp_path / "out" / EXPORT_NAME)
  try:
    export_checkpoints.main(None)
  except SystemExit as e:
    pytest.fail("main exited with %r: %s" % (e.code,
                                             capsys.readouterr().err))
  out = capsys.readouterr().out
  assert "Exported checkpoint %s" % FLAGS.export_path in out
  assert tf.train.latest_checkpoint(str(tmp_path / "out")) == (
      FLAGS.export_path)


def _cli(cwd, *args):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("ALBERT_TRACEBACK", None)
  return subprocess.run(
      [sys.executable, "-m", "albert.export_checkpoints"] + list(args),
      capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.mark.slow
def test_command_line_with_relative_paths(tiny, tmp_path):
  cwd = tmp_path / "cwd"
  shutil.copytree(tiny.directory, str(cwd / "albert"))
  proc = _cli(str(cwd), "--albert_directory=albert",
              "--export_path=exported/model.ckpt-best")
  assert proc.returncode == 0, proc.stderr[-3000:]
  export_dir = str(cwd / "exported")
  assert "Exported checkpoint %s/model.ckpt-best" % export_dir in proc.stdout
  assert "global_step 0" in proc.stdout
  assert {"checkpoint", "model.ckpt-best.index", "albert_config.json",
          "30k-clean.model"} <= set(os.listdir(export_dir))
  assert tf.train.latest_checkpoint(export_dir) == os.path.join(
      export_dir, "model.ckpt-best")

  proc = _cli(str(cwd), "--albert_directory=missing",
              "--export_path=other/model.ckpt-best")
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines() == [
      "export_checkpoints: error: albert_directory not found: missing"]
  assert not os.path.exists(str(cwd / "other"))
