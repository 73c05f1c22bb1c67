# coding=utf-8
"""Tests for albert.modeling: shapes, checkpoint names, sharing, masking, and
bad albert_config.json files (a key missing or misspelt, a value of the wrong
type), which get one clear line naming the file and the key."""

import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import modeling

from error_checks import one_line
from error_checks import tf_warnings  # pylint: disable=unused-import
import hub_fixtures


tf.disable_v2_behavior()


def tiny_config(**overrides):
  """A small config with E != H, 2 groups of 2 inner blocks, 4 layers."""
  params = dict(vocab_size=99, embedding_size=16, hidden_size=32,
                num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2,
                num_attention_heads=4, intermediate_size=37,
                hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                max_position_embeddings=64, type_vocab_size=3,
                initializer_range=0.02)
  params.update(overrides)
  return modeling.AlbertConfig(**params)


def random_inputs(batch_size, seq_length, vocab_size, seed=0):
  rng = np.random.RandomState(seed)
  input_ids = rng.randint(0, vocab_size, size=(batch_size, seq_length))
  input_mask = np.ones((batch_size, seq_length), dtype=np.int32)
  token_type_ids = rng.randint(0, 2, size=(batch_size, seq_length))
  return (input_ids.astype(np.int32), input_mask,
          token_type_ids.astype(np.int32))


def var_shapes(scope=None):
  return {v.name[:-2]: v.shape.as_list()
          for v in tf.global_variables(scope)}


def test_output_shapes():
  config = tiny_config()
  with tf.Graph().as_default():
    ids, mask, types = random_inputs(3, 11, config.vocab_size)
    model = modeling.AlbertModel(config, is_training=True,
                                 input_ids=tf.constant(ids),
                                 input_mask=tf.constant(mask),
                                 token_type_ids=tf.constant(types))
    assert model.get_pooled_output().shape.as_list() == [3, 32]
    assert model.get_sequence_output().shape.as_list() == [3, 11, 32]
    assert model.get_word_embedding_output().shape.as_list() == [3, 11, 16]
    assert model.get_embedding_output().shape.as_list() == [3, 11, 16]
    assert model.get_embedding_table().shape.as_list() == [99, 16]
    # One output per applied inner block: L * inner_group_num.
    assert len(model.get_all_encoder_layers()) == 4 * 2
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      pooled, seq = sess.run([model.get_pooled_output(),
                              model.get_sequence_output()])
    assert np.all(np.isfinite(seq))
    assert np.all(np.abs(pooled) <= 1.0)  # tanh


def test_variable_names_and_shapes_match_released_checkpoints():
  config = tiny_config()
  V, E, H, I, P, T = 99, 16, 32, 37, 64, 3
  with tf.Graph().as_default():
    ids, mask, types = random_inputs(2, 7, V)
    modeling.AlbertModel(config, is_training=False,
                         input_ids=tf.constant(ids))
    expected = {
        "bert/embeddings/word_embeddings": [V, E],
        "bert/embeddings/token_type_embeddings": [T, E],
        "bert/embeddings/position_embeddings": [P, E],
        "bert/embeddings/LayerNorm/beta": [E],
        "bert/embeddings/LayerNorm/gamma": [E],
        "bert/encoder/embedding_hidden_mapping_in/kernel": [E, H],
        "bert/encoder/embedding_hidden_mapping_in/bias": [H],
        "bert/pooler/dense/kernel": [H, H],
        "bert/pooler/dense/bias": [H],
    }
    for g in range(2):
      for k in range(2):
        p = "bert/encoder/transformer/group_%d/inner_group_%d/" % (g, k)
        for proj in ("query", "key", "value"):
          expected[p + "attention_1/self/%s/kernel" % proj] = [H, H]
          expected[p + "attention_1/self/%s/bias" % proj] = [H]
        expected[p + "attention_1/output/dense/kernel"] = [H, H]
        expected[p + "attention_1/output/dense/bias"] = [H]
        expected[p + "LayerNorm/beta"] = [H]
        expected[p + "LayerNorm/gamma"] = [H]
        expected[p + "ffn_1/intermediate/dense/kernel"] = [H, I]
        expected[p + "ffn_1/intermediate/dense/bias"] = [I]
        expected[p + "ffn_1/intermediate/output/dense/kernel"] = [I, H]
        expected[p + "ffn_1/intermediate/output/dense/bias"] = [H]
        expected[p + "LayerNorm_1/beta"] = [H]
        expected[p + "LayerNorm_1/gamma"] = [H]
    assert var_shapes() == expected


def test_no_projection_when_embedding_size_equals_hidden_size():
  config = tiny_config(embedding_size=32)
  with tf.Graph().as_default():
    modeling.AlbertModel(config, is_training=False,
                         input_ids=tf.zeros([1, 5], tf.int32))
    names = var_shapes()
    assert not any("embedding_hidden_mapping_in" in n for n in names)
    assert names["bert/embeddings/word_embeddings"] == [99, 32]


def count_parameters(config, seq_length=4):
  with tf.Graph().as_default():
    modeling.AlbertModel(config, is_training=False,
                         input_ids=tf.zeros([1, seq_length], tf.int32))
    return sum(int(np.prod(v.shape.as_list()))
               for v in tf.trainable_variables())


# Released v2 configs (vocab 30000, E = 128, P = 512, T = 2, one group).
# Expected counts derived by hand for the encoder with pooler:
#   embeddings E*(V + P + T) + 2E, projection E*H + H,
#   one shared layer 4(H^2 + H) + 2HI + I + H + 4H, pooler H^2 + H.
@pytest.mark.parametrize("hidden,layers,heads,intermediate,expected", [
    (768, 12, 12, 3072, 11683584),      # base    (~12M)
    (1024, 24, 16, 4096, 17683968),     # large   (~18M)
    (2048, 24, 16, 8192, 58724864),     # xlarge  (~59M)
    (4096, 12, 64, 16384, 222595584),   # xxlarge (~223M)
])
def test_released_v2_parameter_counts(hidden, layers, heads, intermediate,
                                      expected):
  config = modeling.AlbertConfig(
      vocab_size=30000, embedding_size=128, hidden_size=hidden,
      num_hidden_layers=layers, num_hidden_groups=1,
      num_attention_heads=heads, intermediate_size=intermediate,
      inner_group_num=1, max_position_embeddings=512, type_vocab_size=2)
  assert count_parameters(config) == expected


def test_group_assignment():
  assert [modeling.group_index(l, 4, 2) for l in range(4)] == [0, 0, 1, 1]
  assert [modeling.group_index(l, 12, 1) for l in range(12)] == [0] * 12
  assert [modeling.group_index(l, 6, 3) for l in range(6)] == [0, 0, 1, 1,
                                                                2, 2]


def test_layers_use_their_groups_weights():
  """Zeroing group_1's FFN output changes layers 2-3 only, not layers 0-1."""
  config = tiny_config(inner_group_num=1, hidden_dropout_prob=0.0,
                       attention_probs_dropout_prob=0.0)
  with tf.Graph().as_default():
    ids, mask, types = random_inputs(2, 6, config.vocab_size)
    model = modeling.AlbertModel(config, is_training=False,
                                 input_ids=tf.constant(ids),
                                 input_mask=tf.constant(mask),
                                 token_type_ids=tf.constant(types))
    layers = model.get_all_encoder_layers()
    assert len(layers) == 4
    group1 = [v for v in tf.global_variables() if "/group_1/" in v.name]
    assert group1
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      before = sess.run(layers)
      sess.run([v.assign(v * 3.0 + 0.5) for v in group1])
      after = sess.run(layers)
  np.testing.assert_allclose(before[0], after[0])
  np.testing.assert_allclose(before[1], after[1])
  assert np.abs(before[2] - after[2]).max() > 1e-3
  assert np.abs(before[3] - after[3]).max() > 1e-3


def test_one_group_shares_weights_across_layers():
  """With one group, every layer applies the same function."""
  config = tiny_config(num_hidden_groups=1, inner_group_num=1,
                       hidden_dropout_prob=0.0,
                       attention_probs_dropout_prob=0.0,
                       embedding_size=32)
  with tf.Graph().as_default():
    ids, mask, types = random_inputs(2, 6, config.vocab_size)
    model = modeling.AlbertModel(config, is_training=False,
                                 input_ids=tf.constant(ids))
    layers = model.get_all_encoder_layers()
    n_transformer_vars = len([v for v in tf.global_variables()
                              if "/transformer/" in v.name])
    assert n_transformer_vars == 16  # one block's worth for 4 layers
    # Feeding layer 0's output into the shared block must give layer 1.
    with tf.variable_scope("bert/encoder/transformer/group_0/inner_group_0",
                           reuse=True):
      x = tf.placeholder(tf.float32, [2, 6, 32])
      mask3d = tf.ones([2, 6, 6])
      block = modeling.attention_ffn_block(
          x, hidden_size=32, attention_mask=mask3d, num_attention_heads=4,
          attention_head_size=8, intermediate_size=37,
          intermediate_act_fn=modeling.gelu)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      out = sess.run(layers)
      again = sess.run(block, {x: out[0]})
  np.testing.assert_allclose(again, out[1], rtol=1e-5, atol=1e-5)


def test_padding_does_not_change_real_positions():
  config = tiny_config()
  rng = np.random.RandomState(3)
  real = rng.randint(1, config.vocab_size, size=(2, 5)).astype(np.int32)
  types = np.zeros((2, 5), np.int32)
  with tf.Graph().as_default():
    ids = tf.placeholder(tf.int32, [2, None])
    mask = tf.placeholder(tf.int32, [2, None])
    tt = tf.placeholder(tf.int32, [2, None])
    model = modeling.AlbertModel(config, is_training=False, input_ids=ids,
                                 input_mask=mask, token_type_ids=tt)
    out = model.get_sequence_output()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      unpadded = sess.run(out, {ids: real, mask: np.ones_like(real),
                                tt: types})
      pad = rng.randint(1, config.vocab_size, size=(2, 4)).astype(np.int32)
      padded_ids = np.concatenate([real, pad], axis=1)
      padded_mask = np.concatenate([np.ones_like(real), np.zeros_like(pad)],
                                   axis=1)
      padded = sess.run(out, {ids: padded_ids, mask: padded_mask,
                              tt: np.zeros_like(padded_ids)})
      # The same padding left visible must change the outputs, or the
      # assertion above proves nothing.
      unmasked = sess.run(out, {ids: padded_ids,
                                mask: np.ones_like(padded_ids),
                                tt: np.zeros_like(padded_ids)})
  np.testing.assert_allclose(padded[:, :5], unpadded, rtol=1e-5, atol=1e-5)
  assert np.abs(unmasked[:, :5] - unpadded).max() > 1e-3


def test_dropout_only_when_training():
  config = tiny_config(hidden_dropout_prob=0.5)
  ids, mask, types = random_inputs(2, 6, config.vocab_size)
  outputs = {}
  for is_training in (False, True):
    with tf.Graph().as_default():
      tf.set_random_seed(1)
      model = modeling.AlbertModel(config, is_training=is_training,
                                   input_ids=tf.constant(ids))
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        outputs[is_training] = [sess.run(model.get_sequence_output())
                                for _ in range(2)]
  np.testing.assert_allclose(outputs[False][0], outputs[False][1])
  assert np.abs(outputs[True][0] - outputs[True][1]).max() > 1e-3


def build_and_save(config, use_einsum, ids, mask, types, path=None,
                   restore_from=None, num_of_group=0):
  """Builds a model; saves or restores it; returns outputs and assignment."""
  with tf.Graph().as_default():
    model = modeling.AlbertModel(config, is_training=False,
                                 input_ids=tf.constant(ids),
                                 input_mask=tf.constant(mask),
                                 token_type_ids=tf.constant(types),
                                 use_einsum=use_einsum)
    assignment = None
    if restore_from:
      assignment = modeling.get_assignment_map_from_checkpoint(
          tf.trainable_variables(), restore_from, num_of_group=num_of_group)
      maps = (assignment.assignment_map if num_of_group
              else [assignment.assignment_map])
      for amap in maps:
        tf.train.init_from_checkpoint(restore_from, amap)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      outputs = sess.run([model.get_sequence_output(),
                          model.get_pooled_output()])
      if path:
        tf.train.Saver().save(sess, path)
  return outputs, assignment


def test_einsum_and_matmul_paths_agree(tmp_path):
  config = tiny_config()
  ids, mask, types = random_inputs(2, 9, config.vocab_size)
  mask[1, 6:] = 0
  ckpt = str(tmp_path / "model.ckpt")
  einsum_out, _ = build_and_save(config, True, ids, mask, types, path=ckpt)
  matmul_out, assignment = build_and_save(config, False, ids, mask, types,
                                          restore_from=ckpt)
  assert assignment.unmatched_variables == []
  for a, b in zip(einsum_out, matmul_out):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_checkpoint_round_trip_and_unmatched_reporting(tmp_path):
  config = tiny_config()
  ids, mask, types = random_inputs(2, 8, config.vocab_size)
  ckpt = str(tmp_path / "model.ckpt")
  saved, _ = build_and_save(config, True, ids, mask, types, path=ckpt)
  restored, assignment = build_and_save(config, True, ids, mask, types,
                                        restore_from=ckpt)
  for a, b in zip(saved, restored):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
  # Unpacks like the released 2-tuple.
  assignment_map, initialized = assignment
  assert "bert/pooler/dense/kernel" in assignment_map
  assert "bert/pooler/dense/kernel:0" in initialized
  assert assignment.unmatched_variables == []
  assert assignment.shape_mismatches == []

  # A model with an extra head and another intermediate size: the head is
  # unmatched, the FFN weights are shape mismatches, the rest maps.
  with tf.Graph().as_default():
    modeling.AlbertModel(tiny_config(intermediate_size=40),
                         is_training=False, input_ids=tf.constant(ids))
    tf.get_variable("cls/squad/output_weights", [2, 32])
    result = modeling.get_assignment_map_from_checkpoint(
        tf.trainable_variables(), ckpt)
  assert result.unmatched_variables == ["cls/squad/output_weights"]
  mismatched = {m[0] for m in result.shape_mismatches}
  assert ("bert/encoder/transformer/group_0/inner_group_0/"
          "ffn_1/intermediate/dense/kernel") in mismatched
  assert len(mismatched) == 2 * 2 * 3  # kernel, bias, output kernel per block
  assert not mismatched & set(result.assignment_map.values())
  assert "bert/pooler/dense/kernel" in result.assignment_map


def test_group_remapping_initialises_every_group_from_group_0(tmp_path):
  one_group = tiny_config(num_hidden_groups=1, inner_group_num=1,
                          hidden_dropout_prob=0.0,
                          attention_probs_dropout_prob=0.0)
  ids, mask, types = random_inputs(2, 6, one_group.vocab_size)
  ckpt = str(tmp_path / "g0.ckpt")
  saved, _ = build_and_save(one_group, True, ids, mask, types, path=ckpt)
  two_groups = tiny_config(num_hidden_groups=2, inner_group_num=1)
  restored, assignment = build_and_save(two_groups, True, ids, mask, types,
                                        restore_from=ckpt, num_of_group=2)
  assert assignment.unmatched_variables == []
  maps = assignment.assignment_map
  assert len(maps) == 2
  g1 = [v for v in maps[1].values() if "/group_1/" in v]
  assert len(g1) == 16 and all(k.replace("/group_0/", "/group_1/") == v
                               for k, v in maps[1].items())
  # Every group now holds group_0's weights, so the model equals the
  # one-group model it came from.
  for a, b in zip(saved, restored):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_config_round_trip_keeps_unknown_keys(tmp_path):
  path = tmp_path / "albert_config.json"
  released = {
      "attention_probs_dropout_prob": 0, "hidden_act": "gelu",
      "hidden_dropout_prob": 0, "embedding_size": 128, "hidden_size": 768,
      "initializer_range": 0.02, "intermediate_size": 3072,
      "max_position_embeddings": 512, "num_attention_heads": 12,
      "num_hidden_layers": 12, "num_hidden_groups": 1, "net_structure_type": 0,
      "gap_size": 0, "num_memory_blocks": 0, "inner_group_num": 1,
      "down_scale_factor": 1, "type_vocab_size": 2, "vocab_size": 30000,
      "layers_to_keep": [], "my_note": "kept"}
  path.write_text(json.dumps(released))
  config = modeling.AlbertConfig.from_json_file(str(path))
  assert config.hidden_size == 768 and config.num_hidden_groups == 1
  assert config.to_dict() == released
  assert json.loads(config.to_json_string()) == released
  assert modeling.AlbertConfig.from_dict(config.to_dict()).to_dict() == \
      released


def test_activations():
  x = tf.constant([-2.0, -0.5, 0.0, 0.5, 2.0])
  with tf.Session(graph=x.graph) as sess:
    gelu, relu, tanh, swish = sess.run(
        [modeling.get_activation(n)(x) for n in
         ("gelu", "relu", "tanh", "swish")])
  xs = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
  expected_gelu = 0.5 * xs * (1 + np.tanh(np.sqrt(2 / np.pi) *
                                          (xs + 0.044715 * xs ** 3)))
  np.testing.assert_allclose(gelu, expected_gelu, rtol=1e-5)
  np.testing.assert_allclose(relu, np.maximum(xs, 0))
  np.testing.assert_allclose(tanh, np.tanh(xs), rtol=1e-6)
  np.testing.assert_allclose(swish, xs / (1 + np.exp(-xs)), rtol=1e-6)
  assert modeling.get_activation("linear") is None


# -- bad input -----------------------------------------------------------


def test_missing_config_file_names_the_path(tmp_path):
  missing = str(tmp_path / "nope.json")
  with pytest.raises(ValueError, match="nope.json"):
    modeling.AlbertConfig.from_json_file(missing)


def test_config_that_is_not_json_names_the_file(tmp_path):
  path = tmp_path / "broken.json"
  path.write_text("{vocab_size: 3")
  with pytest.raises(ValueError, match="broken.json.*not valid JSON"):
    modeling.AlbertConfig.from_json_file(str(path))


def test_config_without_vocab_size(tmp_path):
  path = tmp_path / "novocab.json"
  path.write_text(json.dumps({"hidden_size": 32}))
  with pytest.raises(ValueError, match="novocab.json.*vocab_size"):
    modeling.AlbertConfig.from_json_file(str(path))


@pytest.mark.parametrize("overrides,message", [
    ({"hidden_act": "gleu"}, "Unknown hidden_act 'gleu'"),
    ({"num_attention_heads": 5}, r"hidden_size \(32\) is not a multiple of "
                                 r"num_attention_heads \(5\)"),
    ({"num_hidden_groups": 9}, "num_hidden_groups"),
])
def test_invalid_config_values(overrides, message):
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match=message):
      modeling.AlbertModel(tiny_config(**overrides), is_training=False,
                           input_ids=tf.zeros([1, 4], tf.int32))


def test_sequence_longer_than_max_position_embeddings():
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match=r"70.*max_position_embeddings "
                                         r"\(64\)"):
      modeling.AlbertModel(tiny_config(), is_training=False,
                           input_ids=tf.zeros([1, 70], tf.int32))


def test_dynamic_sequence_longer_than_max_position_embeddings_fails():
  with tf.Graph().as_default():
    ids = tf.placeholder(tf.int32, [1, None])
    model = modeling.AlbertModel(tiny_config(), is_training=False,
                                 input_ids=ids)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(model.get_pooled_output(), {ids: np.zeros([1, 64])})
      with pytest.raises(tf.errors.InvalidArgumentError,
                         match="max_position_embeddings"):
        sess.run(model.get_pooled_output(), {ids: np.zeros([1, 65])})


# Bad albert_config.json files get one clear line (from tests/reliability/) -


# albert_base v2's albert_config.json as released.
RELEASED_V2 = {
    "attention_probs_dropout_prob": 0, "hidden_act": "gelu",
    "hidden_dropout_prob": 0, "embedding_size": 128, "hidden_size": 768,
    "initializer_range": 0.02, "intermediate_size": 3072,
    "max_position_embeddings": 512, "num_attention_heads": 12,
    "num_hidden_layers": 12, "num_hidden_groups": 1, "net_structure_type": 0,
    "layers_to_keep": [], "gap_size": 0, "num_memory_blocks": 0,
    "inner_group_num": 1, "down_scale_factor": 1, "type_vocab_size": 2,
    "vocab_size": 30000}


# A v1-style config: only the architecture and the BERT-era keys.
MINIMAL = {
    "vocab_size": 30000, "embedding_size": 128, "hidden_size": 768,
    "num_hidden_layers": 12, "num_attention_heads": 12,
    "intermediate_size": 3072, "max_position_embeddings": 512,
    "type_vocab_size": 2, "hidden_act": "gelu"}


def write_config(tmp_path, config, name="albert_config.json"):
  path = tmp_path / name
  path.write_text(json.dumps(config) if not isinstance(config, str)
                  else config)
  return str(path)


@pytest.mark.parametrize("key", modeling.REQUIRED_KEYS)
def test_config_without_a_required_key_fails_naming_file_and_key(tmp_path,
                                                                 key):
  """Without hidden_size the 4096-wide xxlarge default was used silently."""
  config = dict(RELEASED_V2)
  del config[key]
  path = write_config(tmp_path, config)
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  message = one_line(raised.value)
  assert message.startswith("albert_config_file %s is missing required "
                            "key(s) %s;" % (path, key))


def test_config_missing_keys_are_all_named(tmp_path):
  path = write_config(tmp_path, {"vocab_size": 30000, "hidden_size": 768})
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  assert ("missing required key(s) embedding_size, num_hidden_layers, "
          "num_attention_heads, intermediate_size, max_position_embeddings, "
          "type_vocab_size;") in one_line(raised.value)


def test_config_typo_of_a_required_key_is_pointed_out(tmp_path, tf_warnings):
  config = dict(RELEASED_V2)
  config["hiddne_size"] = config.pop("hidden_size")
  path = write_config(tmp_path, config)
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  assert ("missing required key(s) hidden_size (a typo? it has "
          "'hiddne_size' for 'hidden_size')") in one_line(raised.value)


def test_config_unknown_keys_are_warned_by_name_with_a_suggestion(
    tmp_path, tf_warnings):
  """A misspelt optional key left its default in place without a word."""
  config = dict(RELEASED_V2, hiden_dropout_prob=0.1, my_note="kept")
  path = write_config(tmp_path, config)
  loaded = modeling.AlbertConfig.from_json_file(path)
  assert loaded.hidden_dropout_prob == 0  # The typo set nothing...
  assert sorted(tf_warnings) == sorted([  # ...but it was said, by name.
      "albert_config_file %s: unknown key 'hiden_dropout_prob' (did you "
      "mean 'hidden_dropout_prob'?); it is kept but the model does not use "
      "it" % path,
      "albert_config_file %s: unknown key 'my_note'; it is kept but the "
      "model does not use it" % path])
  # Unknown keys still survive a round trip.
  assert loaded.to_dict() == config
  assert modeling.AlbertConfig.from_dict(loaded.to_dict()).to_dict() == config


def test_released_configs_load_without_warnings(tmp_path, tf_warnings):
  for name, config in (("v2.json", RELEASED_V2), ("v1.json", MINIMAL)):
    loaded = modeling.AlbertConfig.from_json_file(
        write_config(tmp_path, config, name))
    assert loaded.hidden_size == 768
  assert tf_warnings == []


def test_constructor_keeps_defaults_but_warns_on_unknown_keyword(
    tf_warnings):
  """Code that builds configs in Python keeps working."""
  config = modeling.AlbertConfig(vocab_size=10)
  config.validate()
  assert config.hidden_size == 4096 and tf_warnings == []
  config = modeling.AlbertConfig(vocab_size=10, hiddne_size=32)
  assert config.hidden_size == 4096 and config.extra == {"hiddne_size": 32}
  assert tf_warnings == [
      "AlbertConfig: unknown key 'hiddne_size' (did you mean "
      "'hidden_size'?); it is kept but the model does not use it"]


@pytest.mark.parametrize("key,value,expected", [
    ("hidden_size", "768", "an integer, got the string \"768\""),
    ("hidden_size", "abc", "an integer, got the string \"abc\""),
    ("hidden_size", 768.5, "an integer, got 768.5"),
    ("hidden_size", None, "an integer, got null"),
    ("num_hidden_layers", True, "an integer, got the boolean true"),
    ("num_hidden_groups", False, "an integer, got the boolean false"),
    ("vocab_size", [30000], "an integer, got a list"),
    ("hidden_dropout_prob", "0.1", "a number, got the string \"0.1\""),
    ("initializer_range", True, "a number, got the boolean true"),
    ("hidden_act", 1, "a string, got 1"),
])
def test_config_value_of_the_wrong_type_names_file_key_and_type(
    tmp_path, key, value, expected):
  path = write_config(tmp_path, dict(RELEASED_V2, **{key: value}))
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  assert one_line(raised.value) == (
      "albert_config_file %s: key %r must be %s" % (path, key, expected))


def test_config_nan_dropout_is_refused(tmp_path):
  config = dict(RELEASED_V2)
  del config["attention_probs_dropout_prob"]
  path = write_config(tmp_path, json.dumps(config)[:-1] +
                      ', "attention_probs_dropout_prob": NaN}')
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  assert "key 'attention_probs_dropout_prob' must be a number, got nan" in (
      one_line(raised.value))


def test_from_dict_is_as_strict_as_the_file():
  config = dict(RELEASED_V2)
  del config["num_attention_heads"]
  with pytest.raises(modeling.AlbertConfigError,
                     match="ALBERT config is missing required key"):
    modeling.AlbertConfig.from_dict(config)
  with pytest.raises(modeling.AlbertConfigError,
                     match="ALBERT config must be a JSON object of config "
                           "keys, got a list"):
    modeling.AlbertConfig.from_dict([RELEASED_V2])
  # Complete dicts, as tests and tools build them, are fine.
  tiny = hub_fixtures.tiny_config_dict(50)
  assert modeling.AlbertConfig.from_dict(tiny).to_dict()["vocab_size"] == 50


@pytest.mark.parametrize("text,expected", [
    ("", "is empty; expected a JSON object of config keys"),
    ("  \n", "is empty; expected a JSON object of config keys"),
    ("[1, 2]", "must be a JSON object of config keys, got a list"),
    ('"albert"', "must be a JSON object of config keys, got the string"),
    ("{vocab_size: 3", "is not valid JSON: Expecting property name"),
    ('{"vocab_size": 30000, "vocab_size": 300}',
     ": key 'vocab_size' is set twice"),
])
def test_config_file_that_is_no_config_object(tmp_path, text, expected):
  path = write_config(tmp_path, text)
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  message = one_line(raised.value)
  assert message.startswith("albert_config_file %s" % path)
  assert expected in message


def test_config_file_not_utf8_or_a_directory(tmp_path):
  path = tmp_path / "albert_config.json"
  path.write_bytes(b'{"vocab_size": 30000, "note": "caf\xe9"}')
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(str(path))
  assert one_line(raised.value) == (
      "albert_config_file %s is not a UTF-8 JSON file (byte 0xe9 at offset "
      "34)" % path)
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(str(tmp_path))
  assert one_line(raised.value) == (
      "albert_config_file %s is a directory; expected the albert_config.json "
      "file in it" % tmp_path)


@pytest.mark.parametrize("overrides,expected", [
    ({"num_attention_heads": 5},
     "hidden_size (768) is not a multiple of num_attention_heads (5)"),
    ({"num_attention_heads": 0},
     "config key num_attention_heads must be a positive integer, got 0"),
    ({"hidden_dropout_prob": 1.0},
     "config key hidden_dropout_prob must be a probability in [0, 1), got "
     "1.0"),
    ({"hidden_act": "gleu"}, "Unknown hidden_act 'gleu'"),
])
def test_config_that_describes_no_model_names_the_file(tmp_path, overrides,
                                                       expected):
  path = write_config(tmp_path, dict(RELEASED_V2, **overrides))
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  message = one_line(raised.value)
  assert message.startswith("albert_config_file %s: " % path)
  assert expected in message


def test_validate_refuses_bools_for_sizes():
  with pytest.raises(ValueError, match="num_hidden_layers must be a "
                                       "positive integer, got True"):
    modeling.AlbertConfig(vocab_size=10, num_hidden_layers=True).validate()


def test_effective_config_is_complete_and_loggable(tmp_path):
  """Keys the file leaves out show up with the values the model uses."""
  config = modeling.AlbertConfig.from_json_file(
      write_config(tmp_path, dict(MINIMAL, my_note="x")))
  effective = json.loads(config.to_json_string())
  assert effective["num_hidden_groups"] == 1
  assert effective["inner_group_num"] == 1
  assert effective["hidden_dropout_prob"] == 0
  assert effective["initializer_range"] == 0.02
  assert effective["my_note"] == "x"
  line = config.describe()
  assert "\n" not in line and json.loads(line) == effective


def test_data_ids_past_vocab_size():
  config = modeling.AlbertConfig(vocab_size=30)
  config.check_num_token_ids(30, "input_file a.tfrecord", exact=False)
  config.check_num_token_ids(12, "input_file a.tfrecord", exact=False)
  with pytest.raises(modeling.VocabSizeMismatchError) as raised:
    config.check_num_token_ids(60, "input_file a.tfrecord", exact=False)
  assert one_line(raised.value) == (
      "input_file a.tfrecord holds token id 59 but the config's vocab_size "
      "is 30 (ids 0 to 29); was it made with another vocabulary?")
