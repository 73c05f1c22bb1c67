# coding=utf-8
"""onnx_graph: the ONNX model computes what TensorFlow computes.

Every comparison runs modeling.AlbertModel (and the task's own head
function) in a tf.compat.v1 session on the same checkpoint the ONNX model
is built from.
"""

import collections

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import hf_format
from albert import modeling
from albert import onnx_graph
from albert import onnx_runtime
from albert import race_utils
import onnx_fixtures

tf.disable_v2_behavior()

TOLERANCE = 1e-4


def tiny_config(**overrides):
  values = dict(vocab_size=50, embedding_size=16, hidden_size=32,
                num_hidden_layers=3, num_hidden_groups=2, inner_group_num=2,
                num_attention_heads=4, intermediate_size=48,
                hidden_act="gelu", max_position_embeddings=40,
                type_vocab_size=2)
  values.update(overrides)
  return modeling.AlbertConfig(**values)


# E != H with two groups of two blocks; E == H with one group; relu, swish.
CONFIGS = collections.OrderedDict([
    ("groups_and_inner_blocks", tiny_config()),
    ("one_group_e_equals_h", tiny_config(embedding_size=32,
                                         num_hidden_groups=1,
                                         inner_group_num=1)),
    ("relu", tiny_config(hidden_act="relu", num_hidden_layers=2,
                         inner_group_num=1)),
    ("swish", tiny_config(hidden_act="swish", num_hidden_layers=2,
                          num_hidden_groups=1, inner_group_num=1)),
])


@pytest.fixture(scope="module")
def encoders(tmp_path_factory):
  """{config name: (config, checkpoint, ONNX session)}."""
  root = tmp_path_factory.mktemp("onnx_graph")
  result = {}
  for name, config in CONFIGS.items():
    checkpoint = str(root / name / "model.ckpt")
    weights = onnx_fixtures.save_task_checkpoint(config, checkpoint)
    model = onnx_graph.build_model(config, weights)
    result[name] = (config, checkpoint, onnx_runtime.session(model))
  return result


@pytest.mark.parametrize("name", list(CONFIGS))
def test_encoder_matches_tensorflow_for_any_batch_and_length(encoders, name):
  config, checkpoint, session = encoders[name]
  rng = np.random.RandomState(1)
  for batch, length, pad_from in [(1, 1, None), (2, 9, 4), (5, 40, 17)]:
    inputs = onnx_fixtures.random_inputs(rng, config, batch, length,
                                         pad_from)
    expected = onnx_fixtures.tf_outputs(config, checkpoint, None, *inputs)
    got = onnx_runtime.run_onnx(session, *inputs)
    for key in ("sequence_output", "pooled_output"):
      assert got[key].shape == expected[key].shape
      np.testing.assert_allclose(got[key], expected[key], atol=TOLERANCE,
                                 rtol=0)


def test_inputs_and_outputs_have_dynamic_batch_and_sequence_axes(encoders):
  _, _, session = encoders["groups_and_inner_blocks"]
  inputs = {i.name: (i.type, i.shape) for i in session.get_inputs()}
  assert inputs == {name: ("tensor(int32)", ["batch", "sequence"])
                    for name in onnx_graph.INPUT_NAMES}
  outputs = {o.name: o.shape for o in session.get_outputs()}
  assert outputs == {"sequence_output": ["batch", "sequence", 32],
                     "pooled_output": ["batch", 32]}


def test_shared_weights_are_stored_once(encoders):
  config = CONFIGS["groups_and_inner_blocks"]
  weights = {name: np.zeros(shape, np.float32) for name, shape in
             onnx_graph.expected_shapes(config).items()}
  model = onnx_graph.build_model(config, weights)
  names = [t.name for t in model.graph.initializer]
  assert len(names) == len(set(names))
  assert sorted(n for n in names if not n.startswith("const/")) == sorted(
      weights)
  # 3 layers x 2 inner blocks read 2 groups' query kernels: 6 uses, 2 copies.
  query_uses = [n for n in model.graph.node for i in n.input
                if i.endswith("attention_1/self/query/kernel")]
  assert len(query_uses) == 6
  assert onnx_graph.parameter_bytes(model) == 4 * sum(
      int(np.prod(v.shape)) for v in weights.values())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_expected_shapes_are_the_tensorflow_models_variables(name):
  config = CONFIGS[name]
  assert dict(onnx_graph.expected_shapes(config)) == dict(
      hf_format.model_variable_shapes(config, include_mlm=False,
                                      include_sop=False))


HEAD_CASES = [("classifier", 3), ("classifier", 1), ("squad", None),
              ("race", None)]


@pytest.mark.parametrize("head,num_labels", HEAD_CASES)
def test_head_matches_the_tasks_own_tensorflow_head(head, num_labels,
                                                    tmp_path):
  config = tiny_config(num_hidden_layers=2, inner_group_num=1)
  checkpoint = str(tmp_path / "model.ckpt")
  weights = onnx_fixtures.save_task_checkpoint(config, checkpoint, head,
                                               num_labels=num_labels or 3)
  session = onnx_runtime.session(onnx_graph.build_model(config, weights,
                                                        head))
  rng = np.random.RandomState(2)
  choices = race_utils.NUM_CHOICES if head == "race" else 1
  for batch, length in [(1, 6), (3, 11)]:
    inputs = onnx_fixtures.random_inputs(rng, config, batch,
                                         length * choices, pad_from=5)
    expected = onnx_fixtures.tf_outputs(config, checkpoint, head, *inputs,
                                        num_labels=num_labels or 3)
    got = onnx_runtime.run_onnx(session, *inputs)
    assert set(onnx_graph.HEAD_OUTPUTS[head]) <= set(got)
    for key, value in expected.items():
      assert got[key].shape == value.shape, key
      np.testing.assert_allclose(got[key], value, atol=TOLERANCE, rtol=0,
                                 err_msg=key)


def test_race_encoder_outputs_are_per_choice(tmp_path):
  config = tiny_config(num_hidden_layers=1, num_hidden_groups=1,
                       inner_group_num=1)
  weights = onnx_fixtures.save_task_checkpoint(
      config, str(tmp_path / "model.ckpt"), "race")
  model = onnx_graph.build_model(config, weights, "race")
  rng = np.random.RandomState(3)
  ids, mask, segments = onnx_fixtures.random_inputs(rng, config, 2, 4 * 7)
  got = onnx_runtime.run_onnx(model, ids, mask, segments)
  alone = onnx_runtime.run_onnx(onnx_graph.build_model(config, weights),
                                ids.reshape(8, 7), mask.reshape(8, 7),
                                segments.reshape(8, 7))
  np.testing.assert_allclose(got["pooled_output"], alone["pooled_output"],
                             atol=1e-6)
  assert got["choice_logits"].shape == (2, 4)


def test_missing_or_misshapen_weight_is_one_line():
  config = tiny_config()
  weights = {name: np.zeros(shape, np.float32) for name, shape in
             onnx_graph.expected_shapes(config).items()}
  name = "bert/encoder/transformer/group_1/inner_group_1/LayerNorm_1/gamma"
  del weights[name]
  with pytest.raises(ValueError) as error:
    onnx_graph.build_model(config, weights)
  assert str(error.value) == "the weights lack %s [32]" % name
  weights[name] = np.zeros([31], np.float32)
  with pytest.raises(ValueError) as error:
    onnx_graph.build_model(config, weights)
  assert str(error.value) == ("weight %s is [31]; the config needs [32]" %
                              name)
  with pytest.raises(ValueError, match="head 'squad_v2'"):
    onnx_graph.expected_shapes(config, "squad_v2")


def base_config():
  return modeling.AlbertConfig(
      vocab_size=30000, embedding_size=128, hidden_size=768,
      num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)


def random_weights(shapes, seed=0):
  rng = np.random.RandomState(seed)
  return {name: (rng.normal(1.0 if name.endswith("gamma") else 0.0, 0.02,
                            shape)).astype(np.float32)
          for name, shape in shapes.items()}


@pytest.mark.slow
def test_albert_base_matches_tensorflow_and_is_stored_once(tmp_path):
  config = base_config()
  weights = random_weights(onnx_graph.expected_shapes(config))
  model = onnx_graph.build_model(config, weights)
  path = str(tmp_path / "base.onnx")
  with open(path, "wb") as f:
    f.write(model.SerializeToString())
  parameter_bytes = onnx_graph.parameter_bytes(model)
  assert parameter_bytes == 4 * 11683584  # ALBERT-base's 11.7M parameters.
  assert onnx_runtime.file_size(path) <= 1.15 * parameter_bytes
  inputs = onnx_fixtures.random_inputs(np.random.RandomState(4), config, 2,
                                       64, pad_from=30)
  got = onnx_runtime.run_onnx(path, *inputs)
  with tf.Graph().as_default():
    model_tf = modeling.AlbertModel(config, False, *map(tf.constant, inputs))
    with tf.Session() as sess:
      for var in tf.global_variables():
        var.load(weights[var.op.name], sess)
      expected = sess.run({"sequence_output": model_tf.get_sequence_output(),
                           "pooled_output": model_tf.get_pooled_output()})
  for key, value in expected.items():
    np.testing.assert_allclose(got[key], value, atol=TOLERANCE, rtol=0)
