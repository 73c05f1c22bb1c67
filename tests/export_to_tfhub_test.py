# coding=utf-8
"""Tests for albert.export_to_tfhub (tiny checkpoints, real TF1 hub modules)
and its reliability (what killed, interrupted or refused exports leave)."""

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
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import saved_model_pb2
import tensorflow_hub as hub

from albert import export_files
from albert import export_to_tfhub
from albert import export_utils
from albert import modeling
from albert import pretraining
from albert import tokenization

import hub_fixtures


tf.disable_v2_behavior()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Two sequences, the second padded; segment ids 0/1 as a sentence pair.
INPUT_IDS = np.array([[2, 10, 11, 12, 3, 20, 21, 3],
                      [2, 30, 31, 3, 0, 0, 0, 0]], np.int32)
INPUT_MASK = np.array([[1] * 8, [1, 1, 1, 1, 0, 0, 0, 0]], np.int32)
SEGMENT_IDS = np.array([[0, 0, 0, 0, 0, 1, 1, 1],
                        [0, 0, 0, 0, 0, 0, 0, 0]], np.int32)
MLM_POSITIONS = np.array([[1, 6, 0], [2, 1, 0]], np.int32)
FEED = dict(input_ids=INPUT_IDS, input_mask=INPUT_MASK,
            segment_ids=SEGMENT_IDS)


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
  return tmp_path_factory.mktemp("export_to_tfhub")


@pytest.fixture(scope="module")
def tiny(work_dir):
  return hub_fixtures.make_tiny_albert_dir(str(work_dir / "albert"))


@pytest.fixture(scope="module")
def module_path(tiny, work_dir):
  return hub_fixtures.make_hub_module(tiny, str(work_dir / "hub"))


@pytest.fixture(scope="module")
def matmul_module_path(tiny, work_dir):
  return hub_fixtures.make_hub_module(tiny, str(work_dir / "hub_no_einsum"),
                                      use_einsum=False)


def run_signature(path, signature, feed, tags=None, trainable=False,
                  runs=1):
  """Runs a module signature on numpy inputs; a list of `runs` results."""
  with tf.Graph().as_default():
    module = hub.Module(path, tags=tags, trainable=trainable)
    inputs = {k: tf.constant(v) for k, v in feed.items()}
    if signature is None:
      outputs = module(inputs, as_dict=True)
    else:
      outputs = module(inputs, signature=signature, as_dict=True)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      return [sess.run(outputs) for _ in range(runs)]


def reference_outputs(tiny, mlm_positions=None):
  """AlbertModel (+ the pretraining MLM head) loaded from the checkpoint."""
  with tf.Graph().as_default():
    model = modeling.AlbertModel(
        tiny.config, is_training=False, input_ids=tf.constant(INPUT_IDS),
        input_mask=tf.constant(INPUT_MASK),
        token_type_ids=tf.constant(SEGMENT_IDS))
    outputs = {"sequence_output": model.get_sequence_output(),
               "pooled_output": model.get_pooled_output()}
    if mlm_positions is not None:
      positions = tf.constant(mlm_positions)
      _, _, log_probs = pretraining.get_masked_lm_output(
          tiny.config, model.get_sequence_output(),
          model.get_embedding_table(), positions, positions,
          tf.ones_like(positions, tf.float32))
      outputs["mlm_log_probs"] = log_probs
    assignment = modeling.get_assignment_map_from_checkpoint(
        tf.global_variables(), tiny.init_checkpoint)
    assert not assignment.unmatched_variables
    tf.train.init_from_checkpoint(tiny.init_checkpoint,
                                  assignment.assignment_map)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      return sess.run(outputs)


def graph_ops(path):
  """Op types of every node (and function) of every graph in a module."""
  proto = saved_model_pb2.SavedModel()
  with open(os.path.join(path, "saved_model.pb"), "rb") as f:
    proto.ParseFromString(f.read())
  ops = set()
  for meta_graph in proto.meta_graphs:
    ops.update(node.op for node in meta_graph.graph_def.node)
    for function in meta_graph.graph_def.library.function:
      ops.update(node.op for node in function.node_def)
  return ops


def test_layout_and_variable_names(tiny, module_path):
  for name in ("saved_model.pb", "tfhub_module.pb", "variables",
               os.path.join("assets", "30k-clean.model"),
               os.path.join("assets", "30k-clean.vocab"),
               os.path.join("assets", "albert_config.json")):
    assert os.path.exists(os.path.join(module_path, name)), name
  spec = hub.load_module_spec(module_path)
  assert set(spec.get_tags()) == {frozenset(), frozenset({"train"})}
  for tags in (None, {"train"}):
    assert set(spec.get_signature_names(tags)) == {
        "default", "tokens", "mlm", "sop", "tokenization_info"}
  assert set(spec.get_input_info_dict("tokens")) == {
      "input_ids", "input_mask", "segment_ids"}
  assert set(spec.get_output_info_dict("mlm")) == {
      "sequence_output", "pooled_output", "mlm_logits"}
  info = spec.get_input_info_dict("mlm")
  for name in ("input_ids", "input_mask", "segment_ids", "mlm_positions"):
    assert info[name].dtype == tf.int32
    assert info[name].get_shape().as_list() == [None, None]

  # Variables keep checkpoint names and values.
  saved = tf.train.load_checkpoint(
      os.path.join(module_path, "variables", "variables"))
  original = tf.train.load_checkpoint(tiny.init_checkpoint)
  names = set(saved.get_variable_to_shape_map())
  assert "bert/embeddings/word_embeddings" in names
  assert "cls/predictions/output_bias" in names
  assert "cls/seq_relationship/output_weights" in names
  assert "global_step" not in names
  for name in names:
    np.testing.assert_array_equal(saved.get_tensor(name),
                                  original.get_tensor(name))
  with open(os.path.join(module_path, "assets", "albert_config.json")) as f:
    assert json.load(f)["hidden_size"] == tiny.config.hidden_size


def test_tokens_signature_equals_albert_model(tiny, module_path):
  expected = reference_outputs(tiny)
  batch, seq = INPUT_IDS.shape
  for signature in ("tokens", None):
    (got,) = run_signature(module_path, signature, FEED)
    assert got["sequence_output"].shape == (batch, seq,
                                            tiny.config.hidden_size)
    assert got["pooled_output"].shape == (batch, tiny.config.hidden_size)
    for key in ("sequence_output", "pooled_output"):
      np.testing.assert_allclose(got[key], expected[key], rtol=1e-5,
                                 atol=1e-5)


def _numpy_mlm_logits(reader, config, sequence_output, positions):
  """The MLM head written out in numpy from checkpoint values."""
  rows = sequence_output[np.arange(len(positions))[:, None], positions]
  x = rows.reshape([-1, config.hidden_size])
  x = x @ reader.get_tensor("cls/predictions/transform/dense/kernel")
  x = x + reader.get_tensor("cls/predictions/transform/dense/bias")
  x = 0.5 * x * (1.0 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
  mean = x.mean(-1, keepdims=True)
  var = x.var(-1, keepdims=True)
  x = (x - mean) / np.sqrt(var + 1e-12)
  x = (x * reader.get_tensor("cls/predictions/transform/LayerNorm/gamma") +
       reader.get_tensor("cls/predictions/transform/LayerNorm/beta"))
  table = reader.get_tensor("bert/embeddings/word_embeddings")
  return x @ table.T + reader.get_tensor("cls/predictions/output_bias")


def test_sop_signature_equals_pretraining_head(tiny, module_path):
  """The release's "sop" signature: log-probs of in order / swapped."""
  spec = hub.load_module_spec(module_path)
  assert set(spec.get_output_info_dict("sop")) == {
      "sequence_output", "pooled_output", "sop_log_probs"}
  (got,) = run_signature(module_path, "sop", FEED)
  expected = reference_outputs(tiny)
  np.testing.assert_allclose(got["pooled_output"], expected["pooled_output"],
                             rtol=1e-5, atol=1e-5)
  reader = tf.train.load_checkpoint(tiny.init_checkpoint)
  logits = (expected["pooled_output"] @
            reader.get_tensor("cls/seq_relationship/output_weights").T +
            reader.get_tensor("cls/seq_relationship/output_bias"))
  log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  assert got["sop_log_probs"].shape == (INPUT_IDS.shape[0], 2)
  np.testing.assert_allclose(got["sop_log_probs"], log_probs, rtol=1e-5,
                             atol=1e-5)


def test_mlm_signature_equals_pretraining_head(tiny, module_path):
  feed = dict(FEED, mlm_positions=MLM_POSITIONS)
  (got,) = run_signature(module_path, "mlm", feed)
  num_predictions = MLM_POSITIONS.size
  assert got["mlm_logits"].shape == (num_predictions, tiny.config.vocab_size)

  expected = reference_outputs(tiny, mlm_positions=MLM_POSITIONS)
  np.testing.assert_allclose(got["sequence_output"],
                             expected["sequence_output"], rtol=1e-5,
                             atol=1e-5)
  # The pretraining head gives log-probabilities: compare after
  # log-softmax, then the raw logits against numpy.
  logits = got["mlm_logits"]
  log_probs = logits - np.log(np.exp(
      logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - (
          logits.max(-1, keepdims=True))
  np.testing.assert_allclose(log_probs, expected["mlm_log_probs"],
                             rtol=1e-4, atol=1e-4)
  reader = tf.train.load_checkpoint(tiny.init_checkpoint)
  np.testing.assert_allclose(
      logits, _numpy_mlm_logits(reader, tiny.config,
                                expected["sequence_output"], MLM_POSITIONS),
      rtol=1e-4, atol=1e-4)


def _tokenization_info(path):
  with tf.Graph().as_default():
    module = hub.Module(path)
    info = module(signature="tokenization_info", as_dict=True)
    with tf.Session() as sess:
      return sess.run(info)


def test_tokenization_info_points_into_the_module(tiny, module_path,
                                                  work_dir):
  info = _tokenization_info(module_path)
  vocab_file = info["vocab_file"].decode("utf-8")
  assert os.path.realpath(vocab_file).startswith(
      os.path.realpath(module_path) + os.sep)
  assert os.path.basename(vocab_file) == "30k-clean.model"
  assert bool(info["do_lower_case"]) is True
  tokenizer = tokenization.FullTokenizer(None, True, vocab_file)
  assert len(tokenizer.vocab) == tiny.config.vocab_size
  assert tokenizer.tokenize("The quick dog")

  # The module keeps working after the source directory is gone.
  copy = str(work_dir / "albert_copy")
  shutil.copytree(tiny.directory, copy)
  cased = hub_fixtures.make_hub_module(copy, str(work_dir / "hub_cased"),
                                       do_lower_case=False)
  shutil.rmtree(copy)
  tokenizer = tokenization.FullTokenizer.from_hub_module(cased)
  assert tokenizer.do_lower_case is False
  assert tokenizer.tokenize("the red bird")


def test_wordpiece_vocab_is_shipped(tiny, work_dir):
  vocab = str(work_dir / "vocab.txt")
  words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "dog", "##s"]
  with open(vocab, "w") as f:
    f.write("\n".join(words) + "\n")
  path = str(work_dir / "hub_wordpiece")
  export_to_tfhub.export_hub_module(tiny.config_file, tiny.init_checkpoint,
                                    path, vocab_file=vocab)
  vocab_file = _tokenization_info(path)["vocab_file"].decode("utf-8")
  assert vocab_file.startswith(path) and vocab_file.endswith("vocab.txt")
  tokenizer = tokenization.FullTokenizer.from_hub_module(path, use_spm=False)
  assert tokenizer.tokenize("The dogs") == ["the", "dog", "##s"]


def test_train_tags_enable_dropout_and_training(module_path):
  feed = dict(FEED, mlm_positions=MLM_POSITIONS)
  with tf.Graph().as_default():
    module = hub.Module(module_path, tags={"train"}, trainable=True)
    outputs = module(feed, signature="mlm", as_dict=True)
    sop = module(FEED, signature="sop", as_dict=True)
    trainable = tf.trainable_variables()
    assert len(trainable) == len(module.variable_map)
    loss = (tf.reduce_sum(outputs["mlm_logits"] ** 2) +
            tf.reduce_sum(outputs["pooled_output"] ** 2) +
            tf.reduce_sum(sop["sop_log_probs"]))
    grads = tf.gradients(loss, trainable)
    assert all(g is not None for g in grads)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      first, second = sess.run(outputs), sess.run(outputs)
  assert not np.allclose(first["sequence_output"], second["sequence_output"])

  first, second = run_signature(module_path, "tokens", FEED, runs=2)
  np.testing.assert_array_equal(first["sequence_output"],
                                second["sequence_output"])
  with tf.Graph().as_default():
    hub.Module(module_path)
    assert not tf.trainable_variables()


def test_no_einsum_export(tiny, module_path, matmul_module_path):
  assert "Einsum" in graph_ops(module_path)
  assert "Einsum" not in graph_ops(matmul_module_path)
  feed = dict(FEED, mlm_positions=MLM_POSITIONS)
  (with_einsum,) = run_signature(module_path, "mlm", feed)
  (without,) = run_signature(matmul_module_path, "mlm", feed)
  for key in ("sequence_output", "pooled_output", "mlm_logits"):
    np.testing.assert_allclose(without[key], with_einsum[key], rtol=1e-5,
                               atol=1e-5)


def test_run_reports_missing_inputs(tiny, tmp_path):
  export_path = str(tmp_path / "hub")
  missing_dir = str(tmp_path / "nowhere")
  with pytest.raises(ValueError, match="albert_directory not found: " +
                     missing_dir):
    export_to_tfhub.run(export_to_tfhub.default_options(
        albert_directory=missing_dir, export_path=export_path))

  empty = tmp_path / "empty"
  empty.mkdir()
  with pytest.raises(ValueError, match=str(empty / "albert_config.json")):
    export_to_tfhub.run(export_to_tfhub.default_options(
        albert_directory=str(empty), export_path=export_path))

  with pytest.raises(ValueError,
                     match="init checkpoint not found: .*model.ckpt-9"):
    export_to_tfhub.run(export_to_tfhub.default_options(
        albert_directory=tiny.directory, checkpoint_name="model.ckpt-9",
        export_path=export_path))

  no_spm = tmp_path / "no_spm"
  shutil.copytree(tiny.directory, str(no_spm))
  os.remove(str(no_spm / "30k-clean.model"))
  with pytest.raises(ValueError, match="spm_model_file not found: " +
                     str(no_spm / "30k-clean.model")):
    export_to_tfhub.run(export_to_tfhub.default_options(
        albert_directory=str(no_spm), export_path=export_path))
  assert not os.path.exists(export_path)


def _copy_with_config(tiny, directory, **changes):
  shutil.copytree(tiny.directory, directory)
  config = tiny.config.to_dict()
  config.update(changes)
  with open(os.path.join(directory, "albert_config.json"), "w") as f:
    json.dump(config, f)
  return directory


def test_mismatched_checkpoint_fails_before_writing(tiny, tmp_path):
  wrong = _copy_with_config(tiny, str(tmp_path / "wrong"),
                            intermediate_size=48)
  export_path = str(tmp_path / "hub")
  with pytest.raises(export_to_tfhub.ExportError) as raised:
    export_to_tfhub.run(export_to_tfhub.default_options(
        albert_directory=wrong, export_path=export_path))
  message = str(raised.value)
  assert "does not match the config" in message
  assert "ffn_1/intermediate/dense/kernel" in message
  assert "[32, 48]" in message and "[32, 64]" in message

  # A tokenizer with more pieces than the embedding table has rows.
  small = _copy_with_config(tiny, str(tmp_path / "small"), vocab_size=50)
  with pytest.raises(export_to_tfhub.ExportError, match="vocab_size is 50"):
    export_to_tfhub.run(export_to_tfhub.default_options(
        albert_directory=small, export_path=export_path))

  # More layers share the same weights (same variables), more groups do not.
  groups = _copy_with_config(tiny, str(tmp_path / "groups"),
                             num_hidden_groups=2)
  with pytest.raises(export_to_tfhub.ExportError,
                     match="lacks .*group_1/"):
    export_to_tfhub.run(export_to_tfhub.default_options(
        albert_directory=groups, export_path=export_path))
  assert not os.path.exists(export_path)
  assert not [n for n in os.listdir(str(tmp_path)) if n.startswith("hub")]


def test_finetuned_checkpoint_without_pretraining_heads(tmp_path):
  finetuned = hub_fixtures.make_tiny_albert_dir(
      str(tmp_path / "finetuned"), with_mlm_head=False, with_sop_head=False)
  export_path = str(tmp_path / "hub")
  with pytest.raises(export_to_tfhub.ExportError,
                     match="no masked-LM or sentence-order head .*"
                           "--noinclude_mlm --noinclude_sop"):
    hub_fixtures.make_hub_module(finetuned, export_path)
  with pytest.raises(export_to_tfhub.ExportError,
                     match="no sentence-order head .*--noinclude_sop"):
    hub_fixtures.make_hub_module(finetuned, export_path, include_mlm=False)
  assert not os.path.exists(export_path)

  summary = export_to_tfhub.export_hub_module(
      finetuned.config_file, finetuned.init_checkpoint, export_path,
      spm_model_file=finetuned.spm_model_file, include_mlm=False,
      include_sop=False)
  assert set(summary.signatures) == {"default", "tokens",
                                     "tokenization_info"}
  spec = hub.load_module_spec(export_path)
  assert not {"mlm", "sop"} & set(spec.get_signature_names())
  (got,) = run_signature(export_path, "tokens", FEED)
  assert got["pooled_output"].shape == (2, finetuned.config.hidden_size)


def test_existing_export_path_and_overwrite(tiny, tmp_path):
  export_path = str(tmp_path / "hub")
  os.makedirs(export_path)
  with open(os.path.join(export_path, "keep.txt"), "w") as f:
    f.write("old")
  with pytest.raises(export_to_tfhub.ExportError, match="already exists"):
    hub_fixtures.make_hub_module(tiny, export_path)
  assert os.listdir(export_path) == ["keep.txt"]

  # Overwriting replaces only a previous export, never other files.
  with pytest.raises(export_to_tfhub.ExportError,
                     match="not a previous export"):
    hub_fixtures.make_hub_module(tiny, export_path, overwrite=True)
  assert os.listdir(export_path) == ["keep.txt"]

  os.remove(os.path.join(export_path, "keep.txt"))
  hub_fixtures.make_hub_module(tiny, export_path, overwrite=True)
  first = os.stat(os.path.join(export_path, "saved_model.pb")).st_ino
  hub_fixtures.make_hub_module(tiny, export_path, overwrite=True)
  assert os.stat(os.path.join(export_path, "saved_model.pb")).st_ino != first
  assert os.path.exists(os.path.join(export_path, "tfhub_module.pb"))
  assert sorted(os.listdir(str(tmp_path))) == ["hub"]


def test_failure_mid_export_leaves_nothing(tiny, tmp_path, monkeypatch):
  real_export = hub.Module.export
  written = []

  def export_then_fail(self, path, session):
    real_export(self, path, session)  # Everything is on disk by now...
    written.append(path)
    raise RuntimeError("disk full")   # ...and then the export breaks.

  monkeypatch.setattr(hub.Module, "export", export_then_fail)
  export_path = str(tmp_path / "out" / "hub")
  with pytest.raises(RuntimeError, match="disk full"):
    hub_fixtures.make_hub_module(tiny, export_path)
  # Written below a hidden staging directory beside export_path.
  assert written and written[0] != export_path
  staging = os.path.dirname(written[0])
  assert os.path.dirname(staging) == os.path.dirname(export_path)
  assert os.path.basename(staging).startswith(".hub.tmp-")
  assert not os.path.exists(export_path)
  assert os.listdir(str(tmp_path / "out")) == []

  # With overwrite, the old module survives a failed replacement.
  monkeypatch.setattr(hub.Module, "export", real_export)
  hub_fixtures.make_hub_module(tiny, export_path)
  monkeypatch.setattr(hub.Module, "export", export_then_fail)
  before = sorted(os.listdir(export_path))
  with pytest.raises(RuntimeError):
    hub_fixtures.make_hub_module(tiny, export_path, overwrite=True)
  assert sorted(os.listdir(export_path)) == before
  assert os.listdir(str(tmp_path / "out")) == ["hub"]


def _cli(*args):
  env = dict(os.environ)
  env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
  return subprocess.run(
      [sys.executable, "-m", "albert.export_to_tfhub"] + list(args),
      capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


@pytest.mark.slow
def test_command_line(tiny, tmp_path):
  export_path = str(tmp_path / "cli_hub")
  proc = _cli("--albert_directory=" + tiny.directory,
              "--checkpoint_name=model.ckpt-best",
              "--export_path=" + export_path, "--nouse_einsum")
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "Exported TF-Hub module to " + export_path in proc.stdout
  assert "mlm" in proc.stdout and "tokenization_info" in proc.stdout
  assert "graph without Einsum ops" in proc.stdout
  assert "Einsum" not in graph_ops(export_path)
  (got,) = run_signature(export_path, "tokens", FEED)
  np.testing.assert_allclose(got["pooled_output"],
                             reference_outputs(tiny)["pooled_output"],
                             rtol=1e-5, atol=1e-5)

  proc = _cli("--albert_directory=" + tiny.directory,
              "--export_path=" + export_path)
  assert proc.returncode != 0
  assert "already exists" in proc.stderr
  assert "Traceback" not in proc.stderr

  missing = str(tmp_path / "missing")
  proc = _cli("--albert_directory=" + missing,
              "--export_path=" + str(tmp_path / "other"))
  assert proc.returncode != 0
  assert "albert_directory not found: " + missing in proc.stderr


# Reliability -----------------------------------------------------------------
#
# Regression tests for what a hostile-user probe found: an export that
# deleted the model it exported (--export_path=<albert_directory>
# --overwrite_export_path), an overwrite that deleted any tree, staging and
# scratch directories a killed export left where globs see them, a full disk
# reported by a traceback, unreadable checkpoints found only when restoring,
# and files a user added to an export lost by a run killed while replacing
# it. (The hub handles given to fine-tuning: fine_tuning_utils_test.)
#
# Kills are deterministic: the child process kills itself (SIGKILL, so no
# clean-up runs) at a chosen call of the export, never after a sleep.

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
