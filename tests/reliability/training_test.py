# coding=utf-8
"""Reliability of training, evaluation and checkpoints (runtime, pretraining).

Regression tests for what a hostile-user probe found: leftovers trained on,
truncated files found only mid-run, training that saved nothing, a corrupt
model.ckpt-best trusted, negative learning rates, resumed runs with another
config, tracebacks where one line should do.
"""

import errno
import logging
import os
import shutil

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import run_pretraining_test as rpt
from albert import checkpoints
from albert import command_line
from albert import file_io
from albert import input_pipeline
from albert import pretraining
from albert import run_pretraining

tf.disable_v2_behavior()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
  directory = str(tmp_path_factory.mktemp("pretrain_data"))
  path = os.path.join(directory, "train.tfrecord")
  rpt.write_synthetic_records(path, 64, seed=0)
  return directory, path


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
  """A pretraining output_dir with checkpoints at steps 0, 4 and 8."""
  directory, path = data
  out = str(tmp_path_factory.mktemp("trained"))
  run_pretraining.run(rpt.options_for(
      directory, path, out, do_train=True, num_train_steps=8,
      save_checkpoints_steps=4, iterations_per_loop=4))
  return out


def test_leftover_temporary_files_are_not_trained_on(data, tmp_path,
                                                     caplog):
  _, path = data
  directory = tmp_path / "data"
  directory.mkdir()
  shutil.copy(path, str(directory / "a.tfrecord"))
  # What killed writers leave behind: the old name and the hidden one.
  with open(path, "rb") as f:
    partial = f.read()[:100]
  for leftover in ("b.tfrecord.tmp-4242", ".c.tfrecord.tmp-4243"):
    (directory / leftover).write_bytes(partial)
  caplog.set_level(logging.WARNING, logger="tensorflow")
  files = pretraining.expand_input_files(str(directory / "*"))
  assert files == [str(directory / "a.tfrecord")]
  assert "skipping 2 temporary or hidden file(s)" in caplog.text
  with pytest.raises(ValueError, match="matches no file"):
    pretraining.expand_input_files(str(directory / "b*"))


def test_a_truncated_input_file_is_named_before_training(data, tmp_path):
  directory, path = data
  with open(path, "rb") as f:
    contents = f.read()
  assert input_pipeline.check_tfrecord_framing(path) == 64
  cut = str(tmp_path / "cut.tfrecord")
  with open(cut, "wb") as f:
    f.write(contents[:len(contents) - 37])
  # The first record is fine, so a first-record check would pass.
  assert next(tf.io.tf_record_iterator(cut))
  with pytest.raises(ValueError, match=r"cut.tfrecord is truncated: record "
                                       r"64 starting at byte \d+"):
    pretraining.check_pretraining_file(cut, rpt.SEQ, rpt.PRED)
  out = str(tmp_path / "out")
  with pytest.raises(ValueError, match="cut.tfrecord is truncated"):
    run_pretraining.run(rpt.options_for(directory, path + "," + cut, out,
                                        do_train=True))
  assert not os.path.exists(out)


@pytest.mark.parametrize("flag, value, message", [
    ("learning_rate", -1.0, r"--learning_rate=-1.0 must be > 0"),
    ("save_checkpoints_steps", 0, r"--save_checkpoints_steps=0 must be > 0"),
    ("train_batch_size", 0, r"--train_batch_size=0 must be > 0"),
    ("eval_batch_size", -8, r"--eval_batch_size=-8 must be > 0"),
    ("num_train_steps", 0, r"--num_train_steps=0 must be > 0"),
    ("num_warmup_steps", -1, r"--num_warmup_steps=-1 must be >= 0"),
    ("max_seq_length", 0, r"--max_seq_length=0 must be > 0"),
    ("learning_rate", float("nan"), r"--learning_rate=nan must be > 0"),
])
def test_bad_numbers_are_refused_before_anything_is_written(
    data, tmp_path, flag, value, message):
  directory, path = data
  out = str(tmp_path / "out")
  with pytest.raises(ValueError, match=message):
    run_pretraining.run(rpt.options_for(directory, path, out, do_train=True,
                                        do_eval=True, **{flag: value}))
  assert not os.path.exists(out)


def test_numeric_rules_cover_every_command_and_type():
  command_line.check_numeric_flags(
      {"warmup_proportion": 0.0, "dropout_prob": 0.0, "keep_checkpoint_max": 0,
       "random_seed": -5})
  with pytest.raises(ValueError, match=r"--warmup_proportion=1.5 must be "
                                       r"within \[0, 1\]"):
    command_line.check_numeric_flags({"warmup_proportion": 1.5})
  with pytest.raises(ValueError, match=r"--dropout_prob=1.0 must be within"):
    command_line.check_numeric_flags({"dropout_prob": 1.0})
  with pytest.raises(ValueError, match=r"--doc_stride='8' must be a number"):
    command_line.check_numeric_flags({"doc_stride": "8"})
  from albert import run_classifier, run_race, run_squad_v2  # pylint: disable=g-import-not-at-top
  for module in (run_classifier, run_race, run_squad_v2, run_pretraining):
    numeric = [name for name, value in module.FLAG_DEFAULTS.items()
               if isinstance(value, (int, float)) and
               not isinstance(value, bool) and name not in (
                   "random_seed", "threshold_to_export", "poly_power",
                   "start_warmup_step", "num_keep_checkpoint",
                   "null_score_diff_threshold",
                   "masked_lm_budget")]
    missing = [n for n in numeric if n not in command_line.NUMERIC_FLAG_RULES]
    assert not missing, (module.__name__, missing)


def write_checkpoint(path, value, step):
  with tf.Graph().as_default():
    tf.get_variable("w", initializer=np.full([3], value, np.float32))
    tf.train.get_or_create_global_step().assign(step)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(tf.train.get_global_step().assign(step))
      tf.train.Saver().save(sess, path, write_meta_graph=False,
                            write_state=False)


def write_record(out, step):
  file_io.write_results(os.path.join(out, "best_checkpoint.txt"), {
      "checkpoint": os.path.join(out, "model.ckpt-%d" % step),
      "global_step": step, "f1": 1.0})


def test_an_interrupted_best_update_is_repaired_not_trusted(tmp_path):
  out = str(tmp_path)
  best = os.path.join(out, checkpoints.BEST_CHECKPOINT_NAME)
  write_checkpoint(os.path.join(out, "model.ckpt-1"), 1.0, 1)
  write_checkpoint(os.path.join(out, "model.ckpt-2"), 2.0, 2)
  write_checkpoint(best, 1.0, 1)
  # The record says step 2, the copy still holds step 1 (the release's
  # order, killed between the two).
  write_record(out, 2)
  assert checkpoints.best_or_latest_checkpoint(out) == best
  np.testing.assert_allclose(tf.train.load_variable(best, "w"), [2.0] * 3)
  # A copy killed half-way: no .index; repaired the same way.
  os.remove(best + ".index")
  assert checkpoints.best_or_latest_checkpoint(out) == best
  assert checkpoints.checkpoint_global_step(best) == 2
  # Nothing to repair from: an error, not a prediction from old weights.
  write_checkpoint(best, 1.0, 1)
  for name in os.listdir(out):
    if name.startswith("model.ckpt-2."):
      os.remove(os.path.join(out, name))
  with pytest.raises(ValueError, match=r"does not match .*best_checkpoint"
                                       r".txt \(step 2\) and .*model.ckpt-2 "
                                       r"is gone"):
    checkpoints.best_or_latest_checkpoint(out)


def test_best_copy_never_leaves_an_index_over_other_data(tmp_path,
                                                         monkeypatch):
  out = str(tmp_path)
  best = os.path.join(out, checkpoints.BEST_CHECKPOINT_NAME)
  write_checkpoint(best, 1.0, 1)
  write_checkpoint(os.path.join(out, "model.ckpt-2"), 2.0, 2)
  renames = []
  original = tf.gfile.Rename

  def dying_rename(source, target, overwrite=False):
    if target.endswith(".index"):
      raise KeyboardInterrupt  # Killed just before the last rename.
    renames.append(target)
    return original(source, target, overwrite)

  monkeypatch.setattr(tf.gfile, "Rename", dying_rename)
  with pytest.raises(KeyboardInterrupt):
    checkpoints.copy_checkpoint(os.path.join(out, "model.ckpt-2"), best)
  monkeypatch.undo()
  assert renames and not os.path.exists(best + ".index")


def test_a_truncated_init_checkpoint_is_named(data, trained, tmp_path):
  directory, path = data
  source = os.path.join(trained, "model.ckpt-8")
  broken = str(tmp_path / "model.ckpt-8")
  for name in os.listdir(trained):
    if name.startswith("model.ckpt-8."):
      shutil.copy(os.path.join(trained, name), str(tmp_path / name))
  data_file = broken + ".data-00000-of-00001"
  with open(data_file, "rb") as f:
    contents = f.read()
  with open(data_file, "wb") as f:
    f.write(contents[:len(contents) // 2])
  checkpoints.check_checkpoint_files(source)  # The intact one passes.
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match=r"init_checkpoint .*model.ckpt-8 is truncated: its "
                           r"data file\(s\) model.ckpt-8.data-00000-of-00001"):
    run_pretraining.run(rpt.options_for(
        directory, path, str(tmp_path / "out"), do_train=True,
        init_checkpoint=broken))


def test_resuming_with_another_config_names_the_mismatch(data, trained,
                                                         tmp_path):
  directory, path = data
  other = str(tmp_path / "other")
  os.makedirs(other)
  opts = rpt.options_for(directory, path, trained, do_train=True,
                         num_train_steps=12)
  opts.albert_config_file = rpt.tiny_config_file(other, intermediate_size=48)
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match=r"(?s)output_dir's checkpoint .*model.ckpt-8 does "
                           r"not fit the model.*intermediate/dense/kernel: "
                           r"model \[32, 48\], checkpoint \[32, 64\]"):
    run_pretraining.run(opts)
  assert tf.train.latest_checkpoint(trained).endswith("model.ckpt-8")


def test_resuming_does_not_claim_to_load_init_checkpoint(data, trained,
                                                         tmp_path, caplog):
  directory, path = data
  out = str(tmp_path / "copy")
  shutil.copytree(trained, out)
  caplog.set_level(logging.INFO, logger="tensorflow")
  run_pretraining.run(rpt.options_for(
      directory, path, out, do_train=True, num_train_steps=10,
      init_checkpoint=os.path.join(trained, "model.ckpt-4")))
  assert "--init_checkpoint is not used" in caplog.text
  assert "Initialised" not in caplog.text
  assert checkpoints.checkpoint_global_step(
      tf.train.latest_checkpoint(out)) == 10


def test_keep_all_checkpoints_are_all_listed(data, tmp_path):
  directory, path = data
  out = str(tmp_path / "all")
  run_pretraining.run(rpt.options_for(
      directory, path, out, do_train=True, num_train_steps=6,
      save_checkpoints_steps=2, iterations_per_loop=2,
      keep_checkpoint_max=0))
  steps = [checkpoints.checkpoint_step(p)
           for p in checkpoints.list_checkpoints(out)]
  assert steps == [0, 2, 4, 6]


def cli_exit(run_fn, capsys):
  main = command_line.cli_main(run_fn)
  with pytest.raises(SystemExit) as exit_info:
    main(["prog"])
  return exit_info.value.code, capsys.readouterr().err


def test_cli_turns_interrupts_and_machine_errors_into_one_line(capsys,
                                                               monkeypatch):
  monkeypatch.delenv("ALBERT_TRACEBACK", raising=False)

  def interrupted(_):
    raise KeyboardInterrupt

  def disk_full(_):
    raise OSError(errno.ENOSPC, "No space left on device", "/out/x.tfrecord")

  def restore_failed(_):
    raise tf.errors.DataLossError(None, None,
                                  "Checksum does not match\nmore detail")

  code, err = cli_exit(interrupted, capsys)
  assert code == 130 and err.strip().endswith(": interrupted")
  code, err = cli_exit(disk_full, capsys)
  assert code == 1 and len(err.strip().splitlines()) == 1
  assert "/out/x.tfrecord: No space left on device; free some space" in err
  code, err = cli_exit(restore_failed, capsys)
  assert code == 1 and len(err.strip().splitlines()) == 1
  assert "Checksum does not match (TensorFlow DataLossError" in err
  assert "Traceback" not in err


def test_cli_main_accepts_none_as_the_release_tests_call_it(capsys):
  seen = []
  command_line.cli_main(seen.append)(None)
  assert len(seen) == 1


def test_training_removes_only_what_killed_runs_left(data, trained, tmp_path):
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  directory, path = data
  out = str(tmp_path / "out")
  shutil.copytree(trained, out)
  dead = subprocess.Popen([sys.executable, "-c", "pass"])
  dead.wait()
  alive = subprocess.Popen([sys.executable, "-c",
                            "import sys; sys.stdin.read()"],
                           stdin=subprocess.PIPE)
  try:
    leftovers = ["graph.pbtxt.tmp" + "0123456789abcdef" * 2,
                 "model.ckpt-8.meta.tmp" + "fedcba9876543210" * 2,
                 ".eval_results.txt.tmp-%d" % dead.pid]
    kept = ["notes.txt", "graph.pbtxt.tmp-mine", ".x.tmp-%d" % alive.pid]
    for name in leftovers + kept:
      with open(os.path.join(out, name), "w") as f:
        f.write("x")
    os.makedirs(os.path.join(out, "model.ckpt-9_temp"))
    with open(os.path.join(out, "model.ckpt-9_temp",
                           "part-00000-of-00001.index"), "w") as f:
      f.write("x")
    os.makedirs(os.path.join(out, "my_temp"))
    with open(os.path.join(out, "my_temp", "mine.txt"), "w") as f:
      f.write("x")
    run_pretraining.run(rpt.options_for(directory, path, out, do_train=True,
                                        num_train_steps=9))
    names = set(os.listdir(out))
    assert not names & set(leftovers + ["model.ckpt-9_temp"])
    assert set(kept) <= names and "my_temp" in names
  finally:
    alive.kill()
    alive.wait()


def test_data_ids_past_the_configs_vocabulary_are_named(data, tmp_path):
  directory, path = data
  small = str(tmp_path / "small")
  os.makedirs(small)
  opts = rpt.options_for(directory, path, str(tmp_path / "out"),
                         do_train=True)
  # Every record holds an id of at least 6 (see write_synthetic_records).
  opts.albert_config_file = rpt.tiny_config_file(small, vocab_size=6)
  with pytest.raises(ValueError, match=r"input_file .*train.tfrecord holds "
                                       r"token id \d+ but the config's "
                                       r"vocab_size is 6"):
    run_pretraining.run(opts)
  assert not os.path.exists(str(tmp_path / "out"))
