# coding=utf-8
"""albert.layer_ops: the fast forms compute what the release computes."""

import math

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tensorflow as tf2

from albert import layer_ops
from albert import modeling


def _run(fetches, feed=None):
  with tf.Session() as session:
    session.run(tf.global_variables_initializer())
    return session.run(fetches, feed)


def test_matmul_bias_is_the_dense_layer():
  rng = np.random.RandomState(0)
  x, w, b = (rng.randn(2, 5, 8), rng.randn(8, 3), rng.randn(3))
  with tf.Graph().as_default():
    out = layer_ops.matmul_bias(tf.constant(x), tf.constant(w),
                                tf.constant(b))
    value = _run(out)
  np.testing.assert_allclose(value, x.reshape(10, 8) @ w + b, rtol=1e-12)


@pytest.mark.parametrize("dtype,tolerance", [(tf.float32, 1e-6),
                                             (tf.bfloat16, 1e-2)])
def test_gelu_for_training_matches_tf_gelu_and_its_gradient(dtype, tolerance):
  # Values over GELU's whole shape: the negative tail, the bend, the linear
  # part; the gradient against autodiff of tf.nn.gelu's own formula.
  x_values = np.linspace(-6, 6, 241).astype(np.float32)
  upstream = np.cos(x_values).astype(np.float32)
  with tf.Graph().as_default():
    x = tf.cast(tf.constant(x_values), dtype)
    dy = tf.cast(tf.constant(upstream), dtype)
    ours = layer_ops.gelu_for_training(x)
    reference = tf2.nn.gelu(x, approximate=True)
    (our_grad,) = tf.gradients(ours, x, dy)
    (reference_grad,) = tf.gradients(reference, x, dy)
    values = _run([tf.cast(t, tf.float32)
                   for t in (ours, reference, our_grad, reference_grad)])
  np.testing.assert_allclose(values[0], values[1], rtol=tolerance,
                             atol=tolerance)
  np.testing.assert_allclose(values[2], values[3], rtol=tolerance,
                             atol=tolerance)
  # Not a trivially flat function: the gradient changes sign and size.
  assert values[3].min() < -0.5 and values[3].max() > 0.5


def _ffn_ops(is_training, hand_written_gradients=True):
  config = modeling.AlbertConfig(
      vocab_size=30, embedding_size=8, hidden_size=16, num_hidden_layers=1,
      num_attention_heads=2, intermediate_size=24, hidden_act="gelu")
  with tf.Graph().as_default() as graph:
    modeling.AlbertModel(config, is_training=is_training,
                         input_ids=tf.constant([[1, 2, 3]]),
                         hand_written_gradients=hand_written_gradients)
    return [op.type for op in graph.get_operations()
            if "ffn_1/intermediate/dense/" in op.name]


def test_training_uses_the_hand_written_gradient_and_inference_tf_gelu():
  # Inference must keep tf.nn.gelu's graph (oneDNN fuses it into the matmul,
  # op_profile_test checks that); our training graphs swap in the custom
  # gradient; graphs for export (hub modules) must not have it, since the
  # Python gradient does not travel with them.
  assert "IdentityN" in _ffn_ops(is_training=True)
  assert "IdentityN" not in _ffn_ops(is_training=False)
  assert "IdentityN" not in _ffn_ops(is_training=True,
                                     hand_written_gradients=False)


@pytest.mark.parametrize("head_size,exact", [(64, True), (16, True),
                                             (48, False)])
def test_attention_scales_q_as_the_release_scaled_the_logits(head_size,
                                                              exact):
  rng = np.random.RandomState(1)
  q, k, v = (rng.randn(2, 3, 7, head_size).astype(np.float32)
             for _ in range(3))
  mask = (rng.rand(2, 1, 7, 7) > 0.3).astype(np.float32)
  with tf.Graph().as_default():
    ours = modeling.dot_product_attention(tf.constant(q), tf.constant(k),
                                          tf.constant(v), tf.constant(mask))
    logits = tf.matmul(q, k, transpose_b=True) / math.sqrt(head_size)
    logits += (1.0 - mask) * -10000.0
    released = tf.matmul(tf.nn.softmax(logits), v)
    ours, released = _run([ours, released])
  if exact:  # 1/sqrt(D) is a power of two: scaling first changes no bit.
    np.testing.assert_array_equal(ours, released)
  else:
    np.testing.assert_allclose(ours, released, rtol=1e-5, atol=1e-6)
