# coding=utf-8
"""Tests for albert.export_to_tfhub (tiny checkpoints, real TF1 hub modules)."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tensorflow_hub as hub
from tensorflow.core.protobuf import saved_model_pb2

import hub_fixtures
from albert import export_to_tfhub
from albert import modeling
from albert import pretraining
from albert import tokenization

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
