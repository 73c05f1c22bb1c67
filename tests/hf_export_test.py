# coding=utf-8
"""Tests for albert.export_to_hf, albert.import_from_hf and albert.hf_format.

Neither PyTorch nor transformers is installed: the exported directory is
checked against transformers' documented layout (names, shapes, config
keys) and by a numpy forward pass written from transformers' ALBERT
semantics, using only model.safetensors and config.json.
"""

import json
import os
import shutil
import subprocess
import sys

from absl import flags
from absl import logging as absl_logging
from absl.testing import flagsaver
import numpy as np
import pytest
import safetensors.numpy
import tensorflow.compat.v1 as tf

import hub_fixtures
from albert import export_to_hf
from albert import hf_format
from albert import import_from_hf
from albert import modeling
from albert import pretraining

tf.disable_v2_behavior()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A sentence pair and a padded sequence.
INPUT_IDS = np.array([[2, 10, 11, 12, 3, 20, 21, 3],
                      [2, 30, 31, 3, 0, 0, 0, 0]], np.int32)
INPUT_MASK = np.array([[1] * 8, [1, 1, 1, 1, 0, 0, 0, 0]], np.int32)
SEGMENT_IDS = np.array([[0, 0, 0, 0, 0, 1, 1, 1],
                        [0, 0, 0, 0, 0, 0, 0, 0]], np.int32)
MLM_POSITIONS = np.array([[1, 6, 0], [2, 1, 3]], np.int32)

# Per inner block, transformers name suffix -> shape, for H=32, I=64.
_LAYER_SHAPES = {
    "attention.query.weight": (32, 32), "attention.query.bias": (32,),
    "attention.key.weight": (32, 32), "attention.key.bias": (32,),
    "attention.value.weight": (32, 32), "attention.value.bias": (32,),
    "attention.dense.weight": (32, 32), "attention.dense.bias": (32,),
    "attention.LayerNorm.weight": (32,), "attention.LayerNorm.bias": (32,),
    "ffn.weight": (64, 32), "ffn.bias": (64,),
    "ffn_output.weight": (32, 64), "ffn_output.bias": (32,),
    "full_layer_layer_norm.weight": (32,),
    "full_layer_layer_norm.bias": (32,),
}


def expected_tensor_shapes(vocab_size, layer_keys):
  """Every tensor of an AlbertForPreTraining export of a tiny model."""
  shapes = {
      "albert.embeddings.word_embeddings.weight": (vocab_size, 16),
      "albert.embeddings.position_embeddings.weight": (64, 16),
      "albert.embeddings.token_type_embeddings.weight": (2, 16),
      "albert.embeddings.LayerNorm.weight": (16,),
      "albert.embeddings.LayerNorm.bias": (16,),
      "albert.encoder.embedding_hidden_mapping_in.weight": (32, 16),
      "albert.encoder.embedding_hidden_mapping_in.bias": (32,),
      "albert.pooler.weight": (32, 32),
      "albert.pooler.bias": (32,),
      "predictions.dense.weight": (16, 32),
      "predictions.dense.bias": (16,),
      "predictions.LayerNorm.weight": (16,),
      "predictions.LayerNorm.bias": (16,),
      "predictions.bias": (vocab_size,),
      "sop_classifier.classifier.weight": (2, 32),
      "sop_classifier.classifier.bias": (2,),
  }
  for group, inner in layer_keys:
    prefix = "albert.encoder.albert_layer_groups.%d.albert_layers.%d." % (
        group, inner)
    for suffix, shape in _LAYER_SHAPES.items():
      shapes[prefix + suffix] = shape
  return shapes


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
  return tmp_path_factory.mktemp("hf_export")


@pytest.fixture(scope="module")
def tiny(work_dir):
  return hub_fixtures.make_tiny_albert_dir(str(work_dir / "albert"))


@pytest.fixture(scope="module")
def hf_dir(tiny, work_dir):
  path = str(work_dir / "hf")
  export_to_hf.export_to_hf(tiny.config_file, tiny.init_checkpoint, path,
                            tiny.spm_model_file)
  return path


@pytest.fixture(scope="module")
def tiny_groups(work_dir):
  """Four layers sharing two groups of two inner blocks each."""
  return hub_fixtures.make_tiny_albert_dir(
      str(work_dir / "albert_groups"), num_hidden_layers=4,
      num_hidden_groups=2, inner_group_num=2, seed=1)


@pytest.fixture(scope="module")
def hf_groups_dir(tiny_groups, work_dir):
  path = str(work_dir / "hf_groups")
  export_to_hf.export_to_hf(tiny_groups.config_file,
                            tiny_groups.init_checkpoint, path,
                            tiny_groups.spm_model_file)
  return path


def load_safetensors(directory):
  return safetensors.numpy.load_file(
      os.path.join(directory, hf_format.WEIGHTS_NAME))


def read_json(path):
  with open(path) as f:
    return json.load(f)


def tf_outputs(config, checkpoint):
  """Our model and heads, restored from checkpoint, on the fixed inputs."""
  with tf.Graph().as_default():
    model = modeling.AlbertModel(
        config, is_training=False, input_ids=tf.constant(INPUT_IDS),
        input_mask=tf.constant(INPUT_MASK),
        token_type_ids=tf.constant(SEGMENT_IDS))
    outputs = {"sequence_output": model.get_sequence_output(),
               "pooled_output": model.get_pooled_output()}
    names = [n for n, _ in tf.train.list_variables(checkpoint)]
    if any(n.startswith(hf_format.MLM_SCOPE) for n in names):
      outputs["mlm_logits"] = pretraining.get_masked_lm_logits(
          config, model.get_sequence_output(), model.get_embedding_table(),
          tf.constant(MLM_POSITIONS))
    if any(n.startswith(hf_format.SOP_SCOPE) for n in names):
      outputs["sop_log_probs"] = pretraining.get_sentence_order_log_probs(
          config, model.get_pooled_output())
    with tf.Session() as sess:
      tf.train.Saver().restore(sess, checkpoint)
      return sess.run(outputs)


def _layer_norm(x, weight, bias, eps):
  mean = x.mean(-1, keepdims=True)
  variance = ((x - mean) ** 2).mean(-1, keepdims=True)
  return (x - mean) / np.sqrt(variance + eps) * weight + bias


def _gelu_new(x):
  return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) *
                                  (x + 0.044715 * x ** 3)))


def _softmax(x):
  x = x - x.max(-1, keepdims=True)
  e = np.exp(x)
  return e / e.sum(-1, keepdims=True)


def hf_numpy_forward(directory):
  """transformers' ALBERT forward pass, from config.json + safetensors.

  float64; additive mask of float32's minimum (transformers' eager path);
  layer l uses group int(l / (L / G)); the MLM head runs on every position
  and its logits are gathered at MLM_POSITIONS afterwards.
  """
  cfg = read_json(os.path.join(directory, "config.json"))
  weights = {k: v.astype(np.float64)
             for k, v in load_safetensors(directory).items()}
  assert cfg["hidden_act"] == "gelu_new"
  prefix = "" if cfg["architectures"] == ["AlbertModel"] else "albert."
  eps = cfg["layer_norm_eps"]

  def w(name):
    return weights[prefix + name] if prefix + name in weights else (
        weights[name])

  def linear(x, name):
    return x @ w(name + ".weight").T + w(name + ".bias")

  def norm(x, name):
    return _layer_norm(x, w(name + ".weight"), w(name + ".bias"), eps)

  batch, seq = INPUT_IDS.shape
  hidden = cfg["hidden_size"]
  heads = cfg["num_attention_heads"]
  head_size = hidden // heads
  x = (w("embeddings.word_embeddings.weight")[INPUT_IDS] +
       w("embeddings.token_type_embeddings.weight")[SEGMENT_IDS] +
       w("embeddings.position_embeddings.weight")[np.arange(seq)][None])
  x = norm(x, "embeddings.LayerNorm")
  h = linear(x, "encoder.embedding_hidden_mapping_in")
  mask = (1.0 - INPUT_MASK[:, None, None, :]) * np.finfo(np.float32).min

  def split(t):
    return t.reshape(batch, seq, heads, head_size).transpose(0, 2, 1, 3)

  layers, groups = cfg["num_hidden_layers"], cfg["num_hidden_groups"]
  for layer in range(layers):
    group = int(layer / (layers / groups))
    for inner in range(cfg["inner_group_num"]):
      block = "encoder.albert_layer_groups.%d.albert_layers.%d." % (group,
                                                                    inner)
      q = split(linear(h, block + "attention.query"))
      k = split(linear(h, block + "attention.key"))
      v = split(linear(h, block + "attention.value"))
      probs = _softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_size) +
                       mask)
      context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
      attended = norm(h + linear(context, block + "attention.dense"),
                      block + "attention.LayerNorm")
      ffn = linear(_gelu_new(linear(attended, block + "ffn")),
                   block + "ffn_output")
      h = norm(ffn + attended, block + "full_layer_layer_norm")
  outputs = {"sequence_output": h,
             "pooled_output": np.tanh(linear(h[:, 0], "pooler"))}
  if "predictions.bias" in weights:
    z = norm(_gelu_new(linear(h, "predictions.dense")),
             "predictions.LayerNorm")
    # The decoder is tied to the word embeddings (and predictions.bias).
    logits = z @ w("embeddings.word_embeddings.weight").T + weights[
        "predictions.bias"]
    rows = np.arange(batch)[:, None]
    outputs["mlm_logits"] = logits[rows, MLM_POSITIONS].reshape(
        -1, cfg["vocab_size"])
  if "sop_classifier.classifier.weight" in weights:
    sop = linear(outputs["pooled_output"], "sop_classifier.classifier")
    outputs["sop_log_probs"] = sop - np.log(np.exp(sop).sum(-1,
                                                            keepdims=True))
  return outputs


def assert_outputs_close(actual, expected, atol):
  assert sorted(actual) == sorted(expected)
  for key in expected:
    np.testing.assert_allclose(actual[key], expected[key], atol=atol,
                               rtol=0, err_msg=key)


def checkpoint_values(checkpoint):
  """{name: value} of a checkpoint's model variables (not global_step)."""
  reader = tf.train.load_checkpoint(checkpoint)
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()
          if name != "global_step"}


def assert_nothing_written(path):
  """Neither path nor a hidden staging directory beside it exists."""
  assert not os.path.exists(path)
  parent, name = os.path.split(path)
  if os.path.isdir(parent):
    assert not [e for e in os.listdir(parent) if e.startswith("." + name)]


def assert_one_line_error(call, *fragments):
  with pytest.raises(ValueError) as info:
    call()
  message = str(info.value)
  assert "\n" not in message
  for fragment in fragments:
    assert fragment in message, message
  return message


def copy_hf_dir(source, target, drop=(), add=None, config_updates=None):
  """A modified copy of an exported directory."""
  shutil.copytree(source, target)
  tensors = load_safetensors(target)
  for name in drop:
    del tensors[name]
  tensors.update(add or {})
  safetensors.numpy.save_file(tensors,
                              os.path.join(target, hf_format.WEIGHTS_NAME),
                              metadata=hf_format.SAFETENSORS_METADATA)
  if config_updates:
    config = read_json(os.path.join(target, "config.json"))
    config.update(config_updates)
    with open(os.path.join(target, "config.json"), "w") as f:
      json.dump(config, f)
  return target


# --- The written directory: names, shapes, config, tokenizer. ---


def test_tensor_names_and_shapes_one_group(tiny, hf_dir):
  tensors = load_safetensors(hf_dir)
  shapes = {name: tuple(value.shape) for name, value in tensors.items()}
  assert shapes == expected_tensor_shapes(tiny.config.vocab_size, [(0, 0)])
  assert all(value.dtype == np.float32 for value in tensors.values())
  # The tied decoder is left out, as save_pretrained leaves it out.
  assert "predictions.decoder.weight" not in tensors
  assert "predictions.decoder.bias" not in tensors


def test_tensor_names_and_shapes_two_groups(tiny_groups, hf_groups_dir):
  shapes = {name: tuple(value.shape)
            for name, value in load_safetensors(hf_groups_dir).items()}
  assert shapes == expected_tensor_shapes(
      tiny_groups.config.vocab_size, [(0, 0), (0, 1), (1, 0), (1, 1)])


def test_values_are_the_checkpoint_values_transposed(tiny, hf_dir):
  tensors = load_safetensors(hf_dir)
  ours = checkpoint_values(tiny.init_checkpoint)
  layer = "bert/encoder/transformer/group_0/inner_group_0/"
  hf_layer = "albert.encoder.albert_layer_groups.0.albert_layers.0."
  np.testing.assert_array_equal(
      tensors[hf_layer + "attention.query.weight"],
      ours[layer + "attention_1/self/query/kernel"].T)
  np.testing.assert_array_equal(
      tensors[hf_layer + "ffn_output.weight"],
      ours[layer + "ffn_1/intermediate/output/dense/kernel"].T)
  np.testing.assert_array_equal(
      tensors["sop_classifier.classifier.weight"],
      ours["cls/seq_relationship/output_weights"])
  np.testing.assert_array_equal(tensors["predictions.bias"],
                                ours["cls/predictions/output_bias"])


def test_graph_variables_all_have_names_both_ways(tiny_groups):
  for mlm, sop in ((True, True), (True, False), (False, False)):
    shapes = hf_format.model_variable_shapes(tiny_groups.config, mlm, sop)
    for name in shapes:
      local, transposed = hf_format.to_hf_local_name(name)
      assert hf_format.from_hf_local_name(local) == (name, transposed)
  # Every variable hub_fixtures saved (the graph's own list) is covered.
  saved = set(checkpoint_values(tiny_groups.init_checkpoint))
  assert saved == set(hf_format.model_variable_shapes(tiny_groups.config))


def test_config_and_tokenizer_files(tiny, hf_dir):
  config = read_json(os.path.join(hf_dir, "config.json"))
  assert config["architectures"] == ["AlbertForPreTraining"]
  assert config["model_type"] == "albert"
  assert config["hidden_act"] == "gelu_new"
  assert config["layer_norm_eps"] == 1e-12
  assert config["position_embedding_type"] == "absolute"
  for key in ("vocab_size", "embedding_size", "hidden_size",
              "num_hidden_layers", "num_hidden_groups",
              "num_attention_heads", "intermediate_size", "inner_group_num",
              "hidden_dropout_prob", "attention_probs_dropout_prob",
              "max_position_embeddings", "type_vocab_size",
              "initializer_range"):
    assert config[key] == getattr(tiny.config, key), key
  # hub_fixtures' sentencepiece model: <pad> 0, <unk> 1, [CLS] 2, [SEP] 3.
  assert (config["pad_token_id"], config["bos_token_id"],
          config["eos_token_id"]) == (0, 2, 3)
  with open(os.path.join(hf_dir, "spiece.model"), "rb") as f, open(
      tiny.spm_model_file, "rb") as g:
    assert f.read() == g.read()
  tokenizer_config = read_json(os.path.join(hf_dir, "tokenizer_config.json"))
  assert tokenizer_config["tokenizer_class"] == "AlbertTokenizer"
  assert tokenizer_config["do_lower_case"] is True
  assert tokenizer_config["keep_accents"] is False
  assert tokenizer_config["remove_space"] is True
  special = read_json(os.path.join(hf_dir, "special_tokens_map.json"))
  assert special == {"bos_token": "[CLS]", "eos_token": "[SEP]",
                     "unk_token": "<unk>", "sep_token": "[SEP]",
                     "pad_token": "<pad>", "cls_token": "[CLS]",
                     "mask_token": "[MASK]"}
  with safetensors.safe_open(os.path.join(hf_dir, "model.safetensors"),
                             framework="np") as f:
    assert f.metadata() == {"format": "pt"}


# --- transformers' computation on the export equals ours. ---


def test_numpy_forward_matches_tf_one_group(tiny, hf_dir):
  assert_outputs_close(hf_numpy_forward(hf_dir),
                       tf_outputs(tiny.config, tiny.init_checkpoint), 1e-4)


def test_numpy_forward_matches_tf_two_groups(tiny_groups, hf_groups_dir):
  assert_outputs_close(
      hf_numpy_forward(hf_groups_dir),
      tf_outputs(tiny_groups.config, tiny_groups.init_checkpoint), 1e-4)


def test_equal_widths_export_identity_projection(work_dir):
  tiny = hub_fixtures.make_tiny_albert_dir(str(work_dir / "albert_e32"),
                                           embedding_size=32, seed=2)
  path = str(work_dir / "hf_e32")
  export_to_hf.export_to_hf(tiny.config_file, tiny.init_checkpoint, path,
                            tiny.spm_model_file)
  tensors = load_safetensors(path)
  np.testing.assert_array_equal(
      tensors["albert.encoder.embedding_hidden_mapping_in.weight"],
      np.eye(32))
  assert_outputs_close(hf_numpy_forward(path),
                       tf_outputs(tiny.config, tiny.init_checkpoint), 1e-4)
  back = str(work_dir / "back_e32")
  import_from_hf.import_from_hf(path, back)
  assert checkpoint_values(os.path.join(back, "model.ckpt-best")).keys() == (
      checkpoint_values(tiny.init_checkpoint).keys())
  # A trained projection has no place in a model with E == H.
  bad = copy_hf_dir(path, str(work_dir / "hf_e32_bad"), add={
      "albert.encoder.embedding_hidden_mapping_in.weight":
          np.eye(32, dtype=np.float32) * 2})
  assert_one_line_error(
      lambda: import_from_hf.import_from_hf(bad, str(work_dir / "no")),
      "embedding_hidden_mapping_in", "not the identity")
  assert_nothing_written(str(work_dir / "no"))


# --- Round trips. ---


def test_round_trip_restores_variables_and_outputs(tiny, hf_dir, work_dir):
  back = str(work_dir / "back")
  summary = import_from_hf.import_from_hf(hf_dir, back)
  assert summary.heads == ["masked-LM", "sentence-order"]
  assert sorted(os.listdir(back)) == sorted([
      ".albert_export", "30k-clean.model", "albert_config.json",
      "checkpoint", "model.ckpt-best.data-00000-of-00001",
      "model.ckpt-best.index"])
  # The state file is relative, so the moved directory still resolves.
  assert tf.train.latest_checkpoint(back) == os.path.join(back,
                                                          "model.ckpt-best")
  original = checkpoint_values(tiny.init_checkpoint)
  imported = checkpoint_values(os.path.join(back, "model.ckpt-best"))
  assert sorted(imported) == sorted(original)
  for name in original:
    assert imported[name].shape == original[name].shape, name
    np.testing.assert_allclose(imported[name], original[name], atol=1e-6,
                               rtol=0, err_msg=name)
  config = modeling.AlbertConfig.from_json_file(
      os.path.join(back, "albert_config.json"))
  assert config.to_dict() == tiny.config.to_dict()
  with open(os.path.join(back, "30k-clean.model"), "rb") as f, open(
      tiny.spm_model_file, "rb") as g:
    assert f.read() == g.read()
  assert_outputs_close(tf_outputs(config, os.path.join(back,
                                                       "model.ckpt-best")),
                       tf_outputs(tiny.config, tiny.init_checkpoint), 1e-6)
  # ... and exports again to the same files.
  again = str(work_dir / "hf_again")
  export_to_hf.run(export_to_hf.default_options(albert_directory=back,
                                                export_path=again))
  first, second = load_safetensors(hf_dir), load_safetensors(again)
  assert sorted(first) == sorted(second)
  for name in first:
    np.testing.assert_array_equal(first[name], second[name])
  assert (read_json(os.path.join(again, "config.json")) ==
          read_json(os.path.join(hf_dir, "config.json")))
  # The imported directory is a model directory for the hub export too.
  hub_fixtures.make_hub_module(back, str(work_dir / "hub_from_hf"))
  assert os.path.exists(os.path.join(work_dir, "hub_from_hf",
                                     "tfhub_module.pb"))


def test_round_trip_two_groups(tiny_groups, hf_groups_dir, work_dir):
  back = str(work_dir / "back_groups")
  import_from_hf.run(import_from_hf.default_options(
      hf_directory=hf_groups_dir, export_path=back))
  original = checkpoint_values(tiny_groups.init_checkpoint)
  imported = checkpoint_values(os.path.join(back, "model.ckpt-best"))
  assert sorted(imported) == sorted(original)
  for name in original:
    np.testing.assert_array_equal(imported[name], original[name])


def test_encoder_only_export_of_a_headless_checkpoint(work_dir, caplog):
  tiny = hub_fixtures.make_tiny_albert_dir(
      str(work_dir / "albert_finetuned"), with_mlm_head=False,
      with_sop_head=False, seed=3)
  path = str(work_dir / "hf_base")
  summary = export_to_hf.run(export_to_hf.default_options(
      albert_directory=tiny.directory, export_path=path))
  assert summary.architecture == "AlbertModel"
  assert "encoder alone as AlbertModel" in caplog.text
  tensors = load_safetensors(path)
  # AlbertModel's own files carry no "albert." prefix and no heads.
  assert sorted(tensors) == sorted(
      name[len("albert."):] for name in expected_tensor_shapes(
          tiny.config.vocab_size, [(0, 0)]) if name.startswith("albert."))
  config = read_json(os.path.join(path, "config.json"))
  assert config["architectures"] == ["AlbertModel"]
  assert_outputs_close(hf_numpy_forward(path),
                       tf_outputs(tiny.config, tiny.init_checkpoint), 1e-4)
  back = str(work_dir / "back_base")
  summary = import_from_hf.import_from_hf(path, back)
  assert summary.heads == []
  assert (checkpoint_values(os.path.join(back, "model.ckpt-best")).keys() ==
          checkpoint_values(tiny.init_checkpoint).keys())


def test_noinclude_heads_exports_the_encoder(tiny, work_dir):
  path = str(work_dir / "hf_noheads")
  summary = export_to_hf.run(export_to_hf.default_options(
      albert_directory=tiny.directory, export_path=path,
      include_heads=False, do_lower_case=False))
  assert summary.architecture == "AlbertModel"
  assert not any(n.startswith(("predictions.", "sop_classifier."))
                 for n in load_safetensors(path))
  assert read_json(os.path.join(path, "tokenizer_config.json"))[
      "do_lower_case"] is False


def test_import_of_a_published_style_masked_lm(tiny, hf_dir, work_dir):
  """albert-base-v2 style: AlbertForMaskedLM, no SOP head, tied and buffers.

  The tied decoder tensors and the position_ids buffer that older
  transformers versions saved are accepted; the export back is
  AlbertForMaskedLM.
  """
  tensors = load_safetensors(hf_dir)
  path = copy_hf_dir(
      hf_dir, str(work_dir / "hf_mlm"),
      drop=("sop_classifier.classifier.weight",
            "sop_classifier.classifier.bias"),
      add={"predictions.decoder.weight":
               tensors["albert.embeddings.word_embeddings.weight"],
           "predictions.decoder.bias": tensors["predictions.bias"],
           "albert.embeddings.position_ids":
               np.arange(64, dtype=np.int64)[None]},
      config_updates={"architectures": ["AlbertForMaskedLM"]})
  back = str(work_dir / "back_mlm")
  summary = import_from_hf.import_from_hf(path, back)
  assert summary.heads == ["masked-LM"]
  imported = checkpoint_values(os.path.join(back, "model.ckpt-best"))
  assert not any(n.startswith(hf_format.SOP_SCOPE) for n in imported)
  assert any(n.startswith(hf_format.MLM_SCOPE) for n in imported)
  again = str(work_dir / "hf_mlm_again")
  summary = export_to_hf.export_to_hf(
      os.path.join(back, "albert_config.json"),
      os.path.join(back, "model.ckpt-best"), again,
      os.path.join(back, "30k-clean.model"))
  assert summary.architecture == "AlbertForMaskedLM"
  assert sorted(load_safetensors(again)) == sorted(
      n for n in tensors if not n.startswith("sop_classifier."))


# --- Bad inputs: one line, nothing written. ---


def test_import_refuses_another_model_type(hf_dir, work_dir):
  source = copy_hf_dir(hf_dir, str(work_dir / "hf_bert"),
                       config_updates={"model_type": "bert"})
  target = str(work_dir / "out_bert")
  assert_one_line_error(lambda: import_from_hf.import_from_hf(source, target),
                        "model_type 'bert'", "expected 'albert'")
  assert_nothing_written(target)


def test_import_needs_the_sentencepiece_model(hf_dir, work_dir):
  source = copy_hf_dir(hf_dir, str(work_dir / "hf_nospm"))
  os.remove(os.path.join(source, "spiece.model"))
  target = str(work_dir / "out_nospm")
  assert_one_line_error(lambda: import_from_hf.import_from_hf(source, target),
                        "spiece.model")
  assert_nothing_written(target)


def test_import_refuses_unmapped_tensors(hf_dir, work_dir):
  source = copy_hf_dir(hf_dir, str(work_dir / "hf_extra"), add={
      "classifier.weight": np.zeros((3, 32), np.float32)})
  target = str(work_dir / "out_extra")
  assert_one_line_error(lambda: import_from_hf.import_from_hf(source, target),
                        "classifier.weight", "no place")
  assert_nothing_written(target)


def test_import_refuses_untied_decoder(hf_dir, work_dir):
  source = copy_hf_dir(hf_dir, str(work_dir / "hf_untied"), add={
      "predictions.decoder.bias": np.ones(
          load_safetensors(hf_dir)["predictions.bias"].shape, np.float32)})
  target = str(work_dir / "out_untied")
  assert_one_line_error(lambda: import_from_hf.import_from_hf(source, target),
                        "predictions.decoder.bias", "untied")
  assert_nothing_written(target)


def test_import_reads_safetensors_only(hf_dir, work_dir):
  source = copy_hf_dir(hf_dir, str(work_dir / "hf_bin"))
  os.remove(os.path.join(source, "model.safetensors"))
  with open(os.path.join(source, "pytorch_model.bin"), "wb") as f:
    f.write(b"not read")
  target = str(work_dir / "out_bin")
  assert_one_line_error(lambda: import_from_hf.import_from_hf(source, target),
                        "pytorch_model.bin", "only safetensors")
  assert_nothing_written(target)


def test_export_path_must_not_be_the_source(tiny, hf_dir):
  before = sorted(os.listdir(tiny.directory))
  assert_one_line_error(
      lambda: export_to_hf.run(export_to_hf.default_options(
          albert_directory=tiny.directory, export_path=tiny.directory,
          overwrite_export_path=True)), "export_path", "input")
  assert sorted(os.listdir(tiny.directory)) == before
  before = sorted(os.listdir(hf_dir))
  assert_one_line_error(
      lambda: import_from_hf.import_from_hf(hf_dir, hf_dir, overwrite=True),
      "export_path", "input")
  assert sorted(os.listdir(hf_dir)) == before


def test_existing_export_path_needs_overwrite(tiny, hf_dir):
  assert_one_line_error(
      lambda: export_to_hf.export_to_hf(tiny.config_file,
                                        tiny.init_checkpoint, hf_dir,
                                        tiny.spm_model_file),
      "already exists")


def test_configs_transformers_would_run_differently_are_refused():
  config = modeling.AlbertConfig(vocab_size=10, hidden_size=8,
                                 num_hidden_layers=18, num_hidden_groups=14,
                                 num_attention_heads=2, intermediate_size=8)
  assert_one_line_error(lambda: hf_format.check_group_assignment(config),
                        "layer 9 uses group 7 here but group 6")
  hf_config = {"model_type": "albert", "vocab_size": 10, "hidden_size": 8,
               "num_attention_heads": 2, "intermediate_size": 8}
  for update, fragment in (({"layer_norm_eps": 1e-5}, "layer_norm_eps"),
                           ({"position_embedding_type": "relative_key"},
                            "position_embedding_type"),
                           ({"hidden_act": "quick_gelu"}, "quick_gelu")):
    assert_one_line_error(
        lambda: hf_format.albert_config_from_hf(dict(hf_config, **update),
                                                "config.json"), fragment)
  config = hf_format.albert_config_from_hf(dict(hf_config), "config.json")
  # transformers' defaults for what the file leaves out.
  assert (config.embedding_size, config.num_hidden_layers,
          config.hidden_act) == (128, 12, "gelu")


# --- Command lines. ---


@pytest.mark.slow
def test_command_lines_with_relative_paths(tiny, work_dir):
  cwd = str(work_dir / "cli")
  os.makedirs(cwd)
  shutil.copytree(tiny.directory, os.path.join(cwd, "model"))
  env = dict(os.environ, PYTHONPATH=ROOT)

  def run(module, *args):
    return subprocess.run([sys.executable, "-m", module] + list(args),
                          cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)

  result = run("albert.export_to_hf", "--albert_directory=model",
               "--export_path=out/hf")
  assert result.returncode == 0, result.stderr
  assert "Exported transformers model (AlbertForPreTraining)" in (
      result.stdout)
  assert os.path.exists(os.path.join(cwd, "out", "hf", "model.safetensors"))
  result = run("albert.import_from_hf", "--hf_directory=out/hf",
               "--export_path=back")
  assert result.returncode == 0, result.stderr
  assert os.path.exists(os.path.join(cwd, "back", "model.ckpt-best.index"))
  result = run("albert.import_from_hf", "--hf_directory=out/hf",
               "--export_path=back")
  assert result.returncode == 1
  last = result.stderr.strip().splitlines()[-1]
  assert last.startswith("import_from_hf: error: export_path ") and (
      "already exists" in last), result.stderr


# --- Without the safetensors package. ---


@pytest.fixture
def global_flags_restored():
  """Global FLAGS usable here; values, parsed mark and verbosity put back."""
  was_parsed = flags.FLAGS.is_parsed()
  verbosity = absl_logging.get_verbosity()
  with flagsaver.flagsaver():
    if not was_parsed:
      flags.FLAGS.mark_as_parsed()
    yield flags.FLAGS
  if not was_parsed:
    flags.FLAGS.__dict__["__flags_parsed"] = False
  absl_logging.set_verbosity(verbosity)


NO_SAFETENSORS = ("the Hugging Face export and import need the safetensors "
                  "package, which cannot be imported")
INSTALL = "pip install safetensors (or pip install -r requirements.txt)"


def test_missing_safetensors_is_one_line_saying_what_to_install(
    tiny, hf_dir, work_dir, global_flags_restored, monkeypatch, capsys):
  FLAGS = global_flags_restored
  # As where the package is not installed: importing it fails.
  monkeypatch.setitem(sys.modules, "safetensors", None)
  monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
  cases = [(export_to_hf, dict(albert_directory=tiny.directory,
                               export_path=str(work_dir / "no_st_hf"))),
           (import_from_hf, dict(hf_directory=hf_dir,
                                 export_path=str(work_dir / "no_st_back")))]
  for module, values in cases:
    program = module.__name__.split(".")[-1]
    monkeypatch.setattr(sys, "argv", [program + ".py"])
    for name, value in values.items():
      setattr(FLAGS, name, value)
    with pytest.raises(SystemExit) as raised:
      module.main(None)
    assert raised.value.code == 1
    errors = capsys.readouterr().err
    assert "Traceback" not in errors
    last = errors.strip().splitlines()[-1]
    assert last.startswith("%s: error: %s" % (program, NO_SAFETENSORS))
    assert last.endswith(INSTALL), last
    assert not os.path.exists(values["export_path"])


@pytest.mark.slow
def test_commands_start_without_safetensors(tiny, work_dir):
  """Neither module imports it at import time (a traceback before main)."""
  script = "\n".join([
      "import sys",
      "sys.modules['safetensors'] = None",
      "from absl import app",
      "from albert import export_to_hf, import_from_hf",
      "sys.argv = ['export_to_hf', '--albert_directory=%s',"
      " '--export_path=%s']" % (tiny.directory, work_dir / "no_st_cli"),
      "app.run(export_to_hf.main)"])
  result = subprocess.run([sys.executable, "-c", script], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=120)
  assert result.returncode == 1, result.stderr[-3000:]
  assert "Traceback" not in result.stderr
  last = result.stderr.strip().splitlines()[-1]
  assert last.startswith("export_to_hf: error: " + NO_SAFETENSORS), last
  assert last.endswith(INSTALL)


# --- Other stored forms. ---


def test_attention_stored_split_by_head_exports_the_same(tiny, hf_dir,
                                                         work_dir):
  """A checkpoint in the einsum layout ([H, N, D], [N, D, H], [N, D])."""
  heads = tiny.config.num_attention_heads
  values = checkpoint_values(tiny.init_checkpoint)
  split = {}
  for name, value in values.items():
    shape = hf_format.head_split_shape(name, list(value.shape), heads)
    split[name] = value.reshape(shape) if shape else value
  assert sum(split[n].ndim != values[n].ndim for n in values) == 7
  checkpoint = str(work_dir / "split" / "model.ckpt-best")
  with tf.Graph().as_default():
    variables = [tf.Variable(value, name=name)
                 for name, value in split.items()]
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      tf.train.Saver(variables).save(sess, checkpoint,
                                     write_meta_graph=False)
  path = str(work_dir / "hf_split")
  export_to_hf.export_to_hf(tiny.config_file, checkpoint, path,
                            tiny.spm_model_file)
  first, second = load_safetensors(hf_dir), load_safetensors(path)
  assert sorted(first) == sorted(second)
  for name in first:
    np.testing.assert_array_equal(first[name], second[name])


def test_import_of_sharded_and_bfloat16_weights(tiny, hf_dir, work_dir):
  source = str(work_dir / "hf_sharded")
  shutil.copytree(hf_dir, source)
  os.remove(os.path.join(source, "model.safetensors"))
  tensors = load_safetensors(hf_dir)
  names = sorted(tensors)
  weight_map = {}
  for index, part in enumerate((names[:10], names[10:])):
    file_name = "model-%05d-of-00002.safetensors" % (index + 1)
    safetensors.numpy.save_file({n: tensors[n] for n in part},
                                os.path.join(source, file_name),
                                metadata=hf_format.SAFETENSORS_METADATA)
    weight_map.update((n, file_name) for n in part)
  with open(os.path.join(source, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {}, "weight_map": weight_map}, f)
  back = str(work_dir / "back_sharded")
  import_from_hf.import_from_hf(source, back)
  imported = checkpoint_values(os.path.join(back, "model.ckpt-best"))
  original = checkpoint_values(tiny.init_checkpoint)
  for name in original:
    np.testing.assert_array_equal(imported[name], original[name])

  # bfloat16 (which numpy lacks): the top 16 bits of a float32.
  header = json.dumps({
      "__metadata__": {"format": "pt"},
      "a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
      "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}).encode()
  path = str(work_dir / "bf16.safetensors")
  with open(path, "wb") as f:
    f.write(len(header).to_bytes(8, "little") + header)
    bits = np.array([1.0, -2.5], "<f4").view("<u4") >> 16
    f.write(bits.astype("<u2").tobytes())
    f.write(np.array([3.0], "<f4").tobytes())
  loaded = import_from_hf.load_tensors(path)
  np.testing.assert_array_equal(loaded["a"], [1.0, -2.5])
  np.testing.assert_array_equal(loaded["b"], [3.0])
