# coding=utf-8
"""Tests for albert.pretraining / albert.run_pretraining (tiny models), and
their reliability: leftovers trained on, truncated files found only mid-run,
bad numbers, resumed runs with another config."""

import json
import logging
import os
import shutil

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import input_pipeline
from albert import modeling
from albert import pretraining
from albert import run_pretraining


tf.disable_v2_behavior()

VOCAB = 40
MASK_ID = 3
SEQ = 24
PRED = 4


def tiny_config_file(directory, **overrides):
  config = dict(vocab_size=VOCAB, embedding_size=16, hidden_size=32,
                num_hidden_layers=2, num_hidden_groups=1, inner_group_num=1,
                num_attention_heads=4, intermediate_size=64,
                hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                max_position_embeddings=SEQ, type_vocab_size=2)
  config.update(overrides)
  path = os.path.join(directory, "albert_config.json")
  with open(path, "w") as f:
    json.dump(config, f)
  return path


def int_feature(values):
  return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def float_feature(values):
  return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))


def write_synthetic_records(path, num_examples, seed, seq_length=SEQ,
                            max_predictions=PRED):
  """Learnable pretraining data.

  Segment A repeats a token x, segment B repeats x + 1; label 1 swaps them.
  x is drawn from a skewed distribution, so even the output bias alone
  brings the masked-LM loss well below the uniform ln(V); the copy and order
  structure give more to learn on top.
  """
  rng = np.random.RandomState(seed)
  choices = np.arange(5, VOCAB - 1)
  weights = 1.0 / np.arange(1, len(choices) + 1) ** 1.5
  weights /= weights.sum()
  with tf.io.TFRecordWriter(path) as writer:
    for _ in range(num_examples):
      x = rng.choice(choices, p=weights)
      length = seq_length - 3
      cut = rng.randint(3, length - 3)
      a, b = [x] * cut, [x + 1] * (length - cut)
      label = int(rng.rand() < 0.5)
      if label:
        a, b = b, a
      tokens = [1] + a + [2] + b + [2]
      segment_ids = [0] * (len(a) + 2) + [1] * (len(b) + 1)
      candidates = [i for i, t in enumerate(tokens) if t > 2]
      positions = sorted(rng.choice(candidates, max_predictions,
                                    replace=False))
      labels = [tokens[p] for p in positions]
      input_ids = list(tokens)
      for p in positions:
        input_ids[p] = MASK_ID
      features = {
          "input_ids": int_feature(input_ids),
          "input_mask": int_feature([1] * seq_length),
          "segment_ids": int_feature(segment_ids),
          "token_boundary": int_feature([1] * seq_length),
          "masked_lm_positions": int_feature(positions),
          "masked_lm_ids": int_feature(labels),
          "masked_lm_weights": float_feature([1.0] * max_predictions),
          "next_sentence_labels": int_feature([label]),
      }
      example = tf.train.Example(features=tf.train.Features(feature=features))
      writer.write(example.SerializeToString())


@pytest.fixture(scope="module")
def data(tmp_path_factory):
  directory = str(tmp_path_factory.mktemp("pretrain_data"))
  path = os.path.join(directory, "train.tfrecord")
  write_synthetic_records(path, 256, seed=0)
  return directory, path


def options_for(directory, data_path, output_dir, **overrides):
  values = dict(
      albert_config_file=tiny_config_file(directory),
      input_file=data_path, output_dir=output_dir,
      max_seq_length=SEQ, max_predictions_per_seq=PRED,
      train_batch_size=16, eval_batch_size=16, learning_rate=5e-3,
      num_train_steps=40, num_warmup_steps=10, max_eval_steps=8,
      save_checkpoints_steps=20, iterations_per_loop=20,
      log_every_n_steps=20, optimizer="adamw", random_seed=1,
      do_train=False)
  values.update(overrides)
  return run_pretraining.default_options(**values)


def test_tiny_model_learns_and_writes_eval_results(data, tmp_path):
  directory, path = data
  out = str(tmp_path / "model")
  with pytest.raises(ValueError, match="no checkpoint to evaluate"):
    run_pretraining.run(options_for(directory, path, out, do_eval=True))
  before = run_pretraining.run(options_for(directory, path, out,
                                           do_eval=True, eval_untrained=True))
  after = run_pretraining.run(options_for(directory, path, out,
                                          do_train=True, do_eval=True,
                                          num_train_steps=120))
  for result in (before, after):
    assert set(result) >= {"masked_lm_accuracy", "masked_lm_loss",
                           "sentence_order_accuracy", "sentence_order_loss",
                           "global_step", "loss"}
    for key in ("masked_lm_accuracy", "sentence_order_accuracy"):
      assert 0.0 <= result[key] <= 1.0
    assert result["masked_lm_loss"] > 0 and result["sentence_order_loss"] > 0
  assert before["global_step"] == 0
  assert after["global_step"] == 120
  # An untrained model over 40 tokens is near ln(40) = 3.7 nats; the skewed
  # token distribution alone allows well below that.
  assert before["masked_lm_loss"] > 3.4
  assert after["masked_lm_loss"] < 0.8 * before["masked_lm_loss"]
  assert after["masked_lm_accuracy"] > before["masked_lm_accuracy"] + 0.1

  with open(os.path.join(out, "eval_results.txt")) as f:
    lines = dict(line.strip().split(" = ") for line in f if " = " in line)
  assert int(lines["global_step"]) == 120
  assert float(lines["masked_lm_accuracy"]) == pytest.approx(
      after["masked_lm_accuracy"])


def test_second_run_resumes_from_the_last_checkpoint(data, tmp_path):
  directory, path = data
  out = str(tmp_path / "model")
  run_pretraining.run(options_for(directory, path, out, do_train=True,
                                  num_train_steps=20))
  assert tf.train.latest_checkpoint(out).endswith("model.ckpt-20")
  first_kernel = tf.train.load_variable(out, "bert/pooler/dense/kernel")
  result = run_pretraining.run(options_for(directory, path, out,
                                           do_train=True, do_eval=True,
                                           num_train_steps=30))
  assert result["global_step"] == 30
  assert tf.train.latest_checkpoint(out).endswith("model.ckpt-30")
  # It continued from the checkpoint (Adam slots exist and were carried),
  # not from a fresh initialisation: 10 small steps move the pooler only a
  # little from where it was.
  second_kernel = tf.train.load_variable(out, "bert/pooler/dense/kernel")
  fresh_scale = np.abs(first_kernel).mean()
  assert np.abs(second_kernel - first_kernel).mean() < 0.5 * fresh_scale
  assert tf.train.load_variable(out, "bert/pooler/dense/kernel/adam_m").any()


def test_init_checkpoint_loads_and_init_from_group0(data, tmp_path):
  directory, path = data
  source = str(tmp_path / "source")
  run_pretraining.run(options_for(directory, path, source, do_train=True,
                                  num_train_steps=5))
  ckpt = tf.train.latest_checkpoint(source)
  # Two groups, both initialised from the one-group checkpoint's group_0.
  two_groups = str(tmp_path / "two_groups")
  os.makedirs(two_groups)
  opts = options_for(two_groups, path, str(tmp_path / "out"),
                     do_eval=True, init_checkpoint=ckpt,
                     init_from_group0=True)
  opts.albert_config_file = tiny_config_file(two_groups, num_hidden_groups=2)
  result = run_pretraining.run(opts)
  same_source = run_pretraining.run(options_for(
      directory, path, source, do_eval=True))
  # Same weights everywhere, so the same eval numbers as the source model.
  assert result["masked_lm_loss"] == pytest.approx(
      same_source["masked_lm_loss"], rel=1e-4)


def test_init_checkpoint_with_other_shapes_fails_loudly(data, tmp_path):
  directory, path = data
  source = str(tmp_path / "source")
  run_pretraining.run(options_for(directory, path, source, do_train=True,
                                  num_train_steps=2))
  other = str(tmp_path / "other")
  os.makedirs(other)
  opts = options_for(other, path, str(tmp_path / "out"), do_train=True,
                     num_train_steps=2,
                     init_checkpoint=tf.train.latest_checkpoint(source))
  opts.albert_config_file = tiny_config_file(other, intermediate_size=48)
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match=r"(?s)other shapes.*albert_config_file.*"
                           r"intermediate/dense/kernel"):
    run_pretraining.run(opts)


def test_init_checkpoint_matching_nothing_fails(tmp_path):
  ckpt = str(tmp_path / "unrelated.ckpt")
  with tf.Graph().as_default():
    tf.get_variable("something/else", [3])
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      tf.train.Saver().save(sess, ckpt)
  with tf.Graph().as_default():
    config = modeling.AlbertConfig(vocab_size=VOCAB, hidden_size=32,
                                   num_attention_heads=4,
                                   intermediate_size=32, embedding_size=16,
                                   num_hidden_layers=1)
    modeling.AlbertModel(config, False, tf.zeros([1, 4], tf.int32))
    with pytest.raises(checkpoints.CheckpointMismatchError,
                       match="matched none.*something/else"):
      checkpoints.init_from_checkpoint(ckpt)
    with pytest.raises(checkpoints.CheckpointMismatchError, match="not found"):
      checkpoints.init_from_checkpoint(str(tmp_path / "missing.ckpt"))


def test_unmatched_variables_are_warned_by_name(tmp_path):
  ckpt = str(tmp_path / "enc.ckpt")
  config = modeling.AlbertConfig(vocab_size=VOCAB, hidden_size=32,
                                 num_attention_heads=4, intermediate_size=32,
                                 embedding_size=16, num_hidden_layers=1)
  with tf.Graph().as_default():
    modeling.AlbertModel(config, False, tf.zeros([1, 4], tf.int32))
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      tf.train.Saver().save(sess, ckpt)
  messages = []
  original = tf.logging.warning
  try:
    tf.logging.warning = lambda msg, *args: messages.append(msg % args)
    with tf.Graph().as_default():
      modeling.AlbertModel(config, False, tf.zeros([1, 4], tf.int32))
      tf.get_variable("cls/new_head/output_weights", [2, 32])
      tf.get_variable("cls/classifier/output_weights", [2, 32])
      checkpoints.init_from_checkpoint(ckpt,
                                       expected_unmatched=("cls/classifier",))
  finally:
    tf.logging.warning = original
  assert len(messages) == 1
  assert "cls/new_head/output_weights" in messages[0]
  assert "RANDOM" in messages[0] or "random" in messages[0]
  assert "cls/classifier" not in messages[0]


def test_feature_length_mismatch_names_file_and_feature(data, tmp_path):
  directory, path = data
  opts = options_for(directory, path, str(tmp_path / "out"), do_train=True,
                     max_predictions_per_seq=PRED + 1)
  with pytest.raises(ValueError, match=r"train.tfrecord.*masked_lm_positions"
                                       r".*max_predictions_per_seq"):
    run_pretraining.run(opts)


def test_max_seq_length_beyond_position_embeddings(data, tmp_path):
  directory, path = data
  opts = options_for(directory, path, str(tmp_path / "out"), do_train=True,
                     max_seq_length=SEQ + 8)
  with pytest.raises(ValueError, match=r"max_seq_length=32.*"
                                       r"max_position_embeddings=24"):
    run_pretraining.run(opts)


def test_bad_inputs(data, tmp_path):
  directory, path = data
  with pytest.raises(ValueError, match="nothing-here"):
    run_pretraining.run(options_for(
        directory, str(tmp_path / "nothing-here*.tfrecord"),
        str(tmp_path / "out"), do_train=True))
  empty = str(tmp_path / "empty.tfrecord")
  with tf.io.TFRecordWriter(empty):
    pass
  with pytest.raises(ValueError, match="empty.tfrecord holds no records"):
    run_pretraining.run(options_for(directory, empty, str(tmp_path / "out"),
                                    do_train=True))
  with pytest.raises(ValueError, match="do_train.*do_eval"):
    run_pretraining.run(options_for(directory, path, str(tmp_path / "out")))
  with pytest.raises(ValueError, match="unknown option.*no_such_flag"):
    run_pretraining.default_options(no_such_flag=1)
  blocker = tmp_path / "file"
  blocker.write_text("x")
  with pytest.raises(ValueError, match="output_dir .*file/sub.*not writable"):
    run_pretraining.run(options_for(directory, path, str(blocker / "sub"),
                                    do_train=True))


def test_gather_indexes():
  with tf.Graph().as_default():
    seq = tf.constant(np.arange(2 * 3 * 2).reshape(2, 3, 2), tf.float32)
    out = pretraining.gather_indexes(seq, tf.constant([[2, 0], [1, 1]]))
    with tf.Session() as sess:
      got = sess.run(out)
  np.testing.assert_array_equal(got, [[4, 5], [0, 1], [8, 9], [8, 9]])


def test_random_seed_makes_runs_reproducible(data, tmp_path):
  directory, path = data
  kernels = {}
  for name, seed in (("a", 7), ("b", 7), ("c", 8)):
    out = str(tmp_path / name)
    run_pretraining.run(options_for(directory, path, out, do_train=True,
                                    num_train_steps=3, random_seed=seed))
    kernels[name] = tf.train.load_variable(out, "bert/pooler/dense/kernel")
  np.testing.assert_array_equal(kernels["a"], kernels["b"])
  assert np.abs(kernels["a"] - kernels["c"]).max() > 1e-3


# Reliability -----------------------------------------------------------------
#
# Regression tests for what a hostile-user probe found: leftovers trained on,
# truncated files found only mid-run, training that saved nothing, negative
# learning rates, resumed runs with another config. They train on small_data
# (64 records) and resume from `trained` (checkpoints at steps 0, 4 and 8).

@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
  directory = str(tmp_path_factory.mktemp("pretrain_data"))
  path = os.path.join(directory, "train.tfrecord")
  write_synthetic_records(path, 64, seed=0)
  return directory, path


@pytest.fixture(scope="module")
def trained(small_data, tmp_path_factory):
  """A pretraining output_dir with checkpoints at steps 0, 4 and 8."""
  directory, path = small_data
  out = str(tmp_path_factory.mktemp("trained"))
  run_pretraining.run(options_for(
      directory, path, out, do_train=True, num_train_steps=8,
      save_checkpoints_steps=4, iterations_per_loop=4))
  return out


def test_leftover_temporary_files_are_not_trained_on(small_data, tmp_path,
                                                     caplog):
  _, path = small_data
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


def test_a_truncated_input_file_is_named_before_training(small_data, tmp_path):
  directory, path = small_data
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
    pretraining.check_pretraining_file(cut, SEQ, PRED)
  out = str(tmp_path / "out")
  with pytest.raises(ValueError, match="cut.tfrecord is truncated"):
    run_pretraining.run(options_for(directory, path + "," + cut, out,
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
    small_data, tmp_path, flag, value, message):
  directory, path = small_data
  out = str(tmp_path / "out")
  with pytest.raises(ValueError, match=message):
    run_pretraining.run(options_for(directory, path, out, do_train=True,
                                    do_eval=True, **{flag: value}))
  assert not os.path.exists(out)


def test_a_truncated_init_checkpoint_is_named(small_data, trained, tmp_path):
  directory, path = small_data
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
    run_pretraining.run(options_for(
        directory, path, str(tmp_path / "out"), do_train=True,
        init_checkpoint=broken))


def test_resuming_with_another_config_names_the_mismatch(small_data, trained,
                                                         tmp_path):
  directory, path = small_data
  other = str(tmp_path / "other")
  os.makedirs(other)
  opts = options_for(directory, path, trained, do_train=True,
                     num_train_steps=12)
  opts.albert_config_file = tiny_config_file(other, intermediate_size=48)
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match=r"(?s)output_dir's checkpoint .*model.ckpt-8 does "
                           r"not fit the model.*intermediate/dense/kernel: "
                           r"model \[32, 48\], checkpoint \[32, 64\]"):
    run_pretraining.run(opts)
  assert tf.train.latest_checkpoint(trained).endswith("model.ckpt-8")


def test_resuming_does_not_claim_to_load_init_checkpoint(small_data, trained,
                                                         tmp_path, caplog):
  directory, path = small_data
  out = str(tmp_path / "copy")
  shutil.copytree(trained, out)
  caplog.set_level(logging.INFO, logger="tensorflow")
  run_pretraining.run(options_for(
      directory, path, out, do_train=True, num_train_steps=10,
      init_checkpoint=os.path.join(trained, "model.ckpt-4")))
  assert "--init_checkpoint is not used" in caplog.text
  assert "Initialised" not in caplog.text
  assert checkpoints.checkpoint_global_step(
      tf.train.latest_checkpoint(out)) == 10


def test_keep_all_checkpoints_are_all_listed(small_data, tmp_path):
  directory, path = small_data
  out = str(tmp_path / "all")
  run_pretraining.run(options_for(
      directory, path, out, do_train=True, num_train_steps=6,
      save_checkpoints_steps=2, iterations_per_loop=2,
      keep_checkpoint_max=0))
  steps = [checkpoints.checkpoint_step(p)
           for p in checkpoints.list_checkpoints(out)]
  assert steps == [0, 2, 4, 6]


def test_training_removes_only_what_killed_runs_left(small_data, trained,
                                                     tmp_path):
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  directory, path = small_data
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
    run_pretraining.run(options_for(directory, path, out, do_train=True,
                                    num_train_steps=9))
    names = set(os.listdir(out))
    assert not names & set(leftovers + ["model.ckpt-9_temp"])
    assert set(kept) <= names and "my_temp" in names
  finally:
    alive.kill()
    alive.wait()


def test_data_ids_past_the_configs_vocabulary_are_named(small_data, tmp_path):
  directory, path = small_data
  small = str(tmp_path / "small")
  os.makedirs(small)
  opts = options_for(directory, path, str(tmp_path / "out"),
                     do_train=True)
  # Every record holds an id of at least 6 (see write_synthetic_records).
  opts.albert_config_file = tiny_config_file(small, vocab_size=6)
  with pytest.raises(ValueError, match=r"input_file .*train.tfrecord holds "
                                       r"token id \d+ but the config's "
                                       r"vocab_size is 6"):
    run_pretraining.run(opts)
  assert not os.path.exists(str(tmp_path / "out"))
