# coding=utf-8
"""Tests for albert/fine_tuning_utils.py: the init-source check, the
vocabulary check, the released encoder, and the hub handles given to
fine-tuning (missing handles, or handles that are no TF1 hub module, are one
line naming the handle, not a checkpoint problem)."""

import os
import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf
import tensorflow_hub as hub

from albert import fine_tuning_utils
from albert import modeling
from albert import tokenization

# The tiny model (pristine), its hub module and the child-process helpers of
# the export tests.
from export_to_tfhub_test import child_env
from export_to_tfhub_test import error_lines
from export_to_tfhub_test import hub_module  # pylint: disable=unused-import
from export_to_tfhub_test import pristine  # pylint: disable=unused-import

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


# Hub handles given to fine-tuning (moved from tests/reliability/) ---------


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
