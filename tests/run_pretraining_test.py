# coding=utf-8
"""Tests for albert.pretraining / albert.run_pretraining (tiny models)."""

import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import checkpoints
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
