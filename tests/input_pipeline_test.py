# coding=utf-8
"""Tests for albert/input_pipeline.py: atomic TFRecord writing and feature
cache paths."""

import os

import pytest
import tensorflow.compat.v1 as tf

from albert import input_pipeline

tf.disable_v2_behavior()


def test_write_examples_is_atomic_and_describes_its_key(tmp_path):
  path = str(tmp_path / "cache" / "x.tf_record")

  def failing():
    yield b"one"
    raise RuntimeError("interrupted")

  with pytest.raises(RuntimeError):
    input_pipeline.write_examples(path, failing(), key={"a": 1})
  assert os.listdir(tmp_path / "cache") == []
  assert input_pipeline.write_examples(path, [b"x", b"y"], key={"a": 1}) == 2
  assert sorted(os.listdir(tmp_path / "cache")) == ["x.tf_record",
                                                    "x.tf_record.json"]
  assert list(tf.io.tf_record_iterator(path)) == [b"x", b"y"]


def test_cache_path_changes_with_every_key_field(tmp_path):
  vocab = tmp_path / "v.txt"
  vocab.write_text("a\nb\n")
  key = {"task": "sst-2", "split": "train", "max_seq_length": 128,
         "do_lower_case": True,
         "vocab": input_pipeline.file_fingerprint(str(vocab))}
  base = input_pipeline.cached_features_path("/c", "sst-2_train", key)
  assert base == input_pipeline.cached_features_path("/c", "sst-2_train",
                                                     dict(key))
  assert os.path.basename(base).startswith("sst-2_train_")
  for field, value in (("max_seq_length", 64), ("do_lower_case", False),
                       ("split", "dev")):
    assert input_pipeline.cached_features_path(
        "/c", "sst-2_train", dict(key, **{field: value})) != base
  vocab.write_text("a\nb\nc\n")  # the tokenizer file changed
  changed = dict(key, vocab=input_pipeline.file_fingerprint(str(vocab)))
  assert input_pipeline.cached_features_path("/c", "sst-2_train",
                                             changed) != base
