# coding=utf-8
"""albert.op_profile: op classes of a traced step, and the oneDNN fusions."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import modeling
from albert import op_profile
from albert import pretraining

TINY = dict(vocab_size=60, embedding_size=16, hidden_size=32,
            num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            hidden_act="gelu", hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0, max_position_embeddings=32,
            type_vocab_size=2)

LAYER = "bert/encoder/transformer/group_0/layer_0/inner_group_0/"


@pytest.mark.parametrize("op_type,node_name,expected", [
    ("_MklNativeFusedMatMul", LAYER + "ffn_1/intermediate/dense/MatMul",
     "matmul"),
    ("_MklMatMul", "gradients/" + LAYER + "ffn_1/intermediate/dense/"
     "MatMul_grad/MatMul_1", "matmul"),
    ("_MklEinsum", LAYER + "attention_1/self/query/einsum/Einsum", "matmul"),
    ("_MklBatchMatMulV2", LAYER + "attention_1/self/MatMul", "batch_matmul"),
    ("_MklSoftmax", LAYER + "attention_1/self/attention_probs", "softmax"),
    ("Mul", "gradients/" + LAYER + "attention_1/self/attention_probs_grad/mul",
     "softmax"),
    ("TanhGrad", "gradients/" + LAYER + "ffn_1/intermediate/dense/Gelu/"
     "Tanh_grad/TanhGrad", "gelu"),
    ("SquaredDifference", LAYER + "LayerNorm/moments/SquaredDifference",
     "layer_norm"),
    ("Cast", LAYER + "attention_1/self/Cast", "cast"),
    ("AddN", "gradients/AddN_12", "gradient_sum"),
    ("AddV2", LAYER + "add", "elementwise"),
    ("Assign", "optimizer/Assign_3", "optimizer"),
    ("Mul", "optimizer/mul_7", "optimizer"),
    ("L2Loss", "optimizer/global_norm/L2Loss_3", "optimizer"),
    ("LogSoftmax", "cls/predictions/LogSoftmax", "loss"),
    ("Sum", "gradients/cls/seq_relationship/Sum_grad/Tile", "loss"),
    ("GatherV2", "bert/embeddings/GatherV2", "embedding"),
    ("UnsortedSegmentSum", "gradients/bert/embeddings/concat", "embedding"),
    ("_MklTranspose", LAYER + "attention_1/self/transpose", "transpose_reshape"),
    ("Const", "bert/encoder/Const", None),
    ("VariableV2", "bert/embeddings/word_embeddings", None),
])
def test_op_class(op_type, node_name, expected):
  assert op_profile.op_class(op_type, node_name) == expected


def test_every_class_has_a_place_in_the_table():
  seconds = dict((name, 0.0) for name in op_profile.OP_CLASSES)
  seconds.update(matmul=0.3, gelu=0.1)
  assert op_profile.outside_matmul_share(seconds) == pytest.approx(0.25)
  table = op_profile.format_profile("infer (fp32)", seconds, 0.5)
  lines = table.splitlines()
  assert lines[0] == "profile infer (fp32): 400.0 ms of op time in a 500.0 " \
                     "ms step"
  assert lines[2].split() == ["matmul", "300.0", "75.0%"]
  assert lines[3].split() == ["gelu", "100.0", "25.0%"]
  assert lines[-1].startswith("outside matmuls: 25.0%")
  assert op_profile.outside_matmul_share({}) == 0.0


def _ids(batch, seq):
  rng = np.random.RandomState(0)
  return tf.constant(rng.randint(1, 60, [batch, seq]), tf.int32)


def _traced_kernels(fetch):
  """[(op type, node name)] of one traced run of `fetch`, and its classes."""
  with tf.Session() as session:
    session.run(tf.global_variables_initializer())
    session.run(fetch)
    step_stats = op_profile.trace_step(session, fetch)
  kernels = [(op_type, name)
             for op_type, name, _ in op_profile.executed_ops(step_stats)]
  return kernels, op_profile.classify_step_stats(step_stats)


def _onednn_enabled():
  from tensorflow.python.util import _pywrap_util_port  # pylint: disable=g-import-not-at-top
  return _pywrap_util_port.IsMklEnabled()


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_inference_dense_layers_fuse_bias_and_gelu(precision):
  # The feed-forward layer is MatMul + BiasAdd + GELU on a 2-D tensor, the
  # shape TensorFlow's oneDNN rewrite fuses into one kernel: if the model
  # built it another way (einsum, `+ b`), GELU's tanh and muls would run as
  # ops of their own and this fails.
  if not _onednn_enabled():
    pytest.skip("TensorFlow built without oneDNN: no fusions to check")
  config = modeling.AlbertConfig(**TINY)
  with tf.Graph().as_default():
    model = modeling.AlbertModel(
        config, is_training=False, input_ids=_ids(2, 8), use_einsum=False,
        compute_dtype=modeling.compute_dtype_of(precision))
    kernels, classes = _traced_kernels(model.get_sequence_output())
  ffn = [op for op, name in kernels
         if "ffn_1/intermediate/dense/" in name and "output" not in name and
         op_profile.op_class(op, name) not in (None, "transpose_reshape")]
  assert ffn == ["_MklNativeFusedMatMul"] * 2, ffn  # one per layer
  # The fused kernel takes the name of GELU's last op; nothing else of
  # GELU runs.
  assert not [name for op, name in kernels
              if "/Gelu" in name and op != "_MklNativeFusedMatMul"]
  assert not [name for op, name in kernels
              if op in ("AddV2", "BiasAdd") and "/dense/" in name]
  assert classes["gelu"] == 0 and classes["matmul"] > 0
  assert classes["layer_norm"] > 0 and classes["softmax"] > 0
  assert classes["optimizer"] == 0 and classes["loss"] == 0


def test_training_step_has_every_part():
  config = modeling.AlbertConfig(**TINY)
  model_fn = pretraining.model_fn_builder(
      albert_config=config, init_checkpoint=None, learning_rate=1e-4,
      num_train_steps=10, num_warmup_steps=0, use_tpu=False,
      use_one_hot_embeddings=False, optimizer="adamw", log_every_n_steps=100)
  rng = np.random.RandomState(1)
  with tf.Graph().as_default():
    features = {
        "input_ids": _ids(2, 8),
        "input_mask": tf.ones([2, 8], tf.int32),
        "segment_ids": tf.zeros([2, 8], tf.int32),
        "masked_lm_positions": tf.constant([[1, 3], [2, 5]], tf.int32),
        "masked_lm_ids": tf.constant(rng.randint(1, 60, [2, 2]), tf.int32),
        "masked_lm_weights": tf.ones([2, 2]),
        "next_sentence_labels": tf.constant([[0], [1]], tf.int32),
    }
    spec = model_fn(features, None, tf.estimator.ModeKeys.TRAIN,
                    {"batch_size": 2})
    kernels, classes = _traced_kernels(spec.train_op)
  # The encoder's GELU (layer_ops.gelu_for_training), forward and backward,
  # is classed as GELU too, not only the masked-LM head's tf.nn.gelu.
  encoder_gelu = [name for op, name in kernels if "/transformer/" in name and
                  op_profile.op_class(op, name) == "gelu"]
  assert any(name.startswith("gradients/") for name in encoder_gelu)
  assert any(not name.startswith("gradients/") for name in encoder_gelu)
  for name in ("matmul", "batch_matmul", "softmax", "layer_norm", "gelu",
               "optimizer", "loss", "embedding", "gradient_sum"):
    assert classes[name] > 0, (name, classes)
  assert classes["other"] < 0.05 * sum(classes.values()), classes
  assert 0 < op_profile.outside_matmul_share(classes) < 1
