# coding=utf-8
"""Tests for albert/fine_tuning_utils.py: the init-source check, the
vocabulary check and the released encoder."""

import pytest
import tensorflow.compat.v1 as tf

from albert import fine_tuning_utils
from albert import modeling
from albert import tokenization

tf.disable_v2_behavior()


def test_check_init_source():
  with pytest.raises(ValueError, match="either --init_checkpoint or "
                                       "--albert_hub_module_handle"):
    fine_tuning_utils.check_init_source("a.ckpt", "/hub", "job")
  assert fine_tuning_utils.check_init_source("a.ckpt", None, "job") is None
  assert fine_tuning_utils.check_init_source(None, "/hub", "job") is None
  messages = []
  original = tf.logging.warning
  tf.logging.warning = lambda msg, *args: messages.append(msg % args)
  try:
    note = fine_tuning_utils.check_init_source(None, None, "GLUE MRPC")
  finally:
    tf.logging.warning = original
  assert "random" in note
  assert len(messages) == 1 and "GLUE MRPC" in messages[0]
  assert "RANDOM" in messages[0]


def test_check_vocab_matches_config(tmp_path):
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n")
  tokenizer = tokenization.FullTokenizer(str(vocab))
  fine_tuning_utils.check_vocab_matches_config(
      tokenizer, modeling.AlbertConfig(vocab_size=6), "vocab.txt")
  with pytest.raises(ValueError, match="vocab.txt has 6 token ids but the "
                                       "config's vocab_size is 5"):
    fine_tuning_utils.check_vocab_matches_config(
        tokenizer, modeling.AlbertConfig(vocab_size=5), "vocab.txt")
  # A padded embedding table is legitimate: a warning with both sizes.
  warnings = []
  original = tf.logging.warning
  tf.logging.warning = lambda message, *args: warnings.append(message % args)
  try:
    fine_tuning_utils.check_vocab_matches_config(
        tokenizer, modeling.AlbertConfig(vocab_size=128), "vocab.txt")
  finally:
    tf.logging.warning = original
  assert len(warnings) == 1
  assert ("vocab.txt has 6 token ids, fewer than the config's vocab_size "
          "128" in warnings[0])


def test_create_albert_builds_the_released_encoder():
  config = modeling.AlbertConfig(vocab_size=20, embedding_size=8,
                                 hidden_size=16, num_hidden_layers=2,
                                 num_attention_heads=2, intermediate_size=32)
  with tf.Graph().as_default():
    ids = tf.constant([[1, 2, 3], [4, 5, 0]])
    pooled, sequence = fine_tuning_utils.create_albert(
        config, False, ids, tf.ones_like(ids), tf.zeros_like(ids),
        use_one_hot_embeddings=False)
    assert pooled.shape.as_list() == [2, 16]
    assert sequence.shape.as_list() == [2, 3, 16]
    names = {v.name for v in tf.global_variables()}
    assert "bert/pooler/dense/kernel:0" in names
