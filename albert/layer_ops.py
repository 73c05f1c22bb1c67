# coding=utf-8
# Copyright 2026 The ALBERT Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""The encoder's tensor math in the shapes that run fast on a CPU.

What each function computes is the release's; how is chosen from profiles
(docs/performance.md): `matmul_bias` in the form TensorFlow's oneDNN
rewrite fuses with its bias and activation, the activations by config
name (`get_activation`), and `gelu_for_training` with a hand-written
gradient that takes fewer passes over memory than autodiff of its
forward formula.

Not here: variables and their names (modeling.py creates them and calls
these functions).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import math

import six
import tensorflow.compat.v1 as tf
from tensorflow.compat import v2 as tf2

# The tanh approximation of GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + c x^3))).
_GELU_SCALE = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def matmul_bias(input_tensor, w, b):
  """[..., W] x [W, O] + [O] as one 2-D matmul and bias_add: [N, O].

  This exact shape (MatMul, then BiasAdd, then optionally GELU, ReLU or
  tanh on the 2-D result) is what TensorFlow's oneDNN graph rewrite fuses
  into one kernel; an einsum, a 3-D tensordot or a broadcast `+ b` is not,
  and leaves the bias and the activation as separate passes over memory.

  Args:
    input_tensor: float Tensor [..., W].
    w: float Tensor [W, O].
    b: float Tensor [O].

  Returns:
    float Tensor [N, O], N the product of the leading input dims.
  """
  width = w.shape.as_list()[0]
  return tf.nn.bias_add(tf.matmul(tf.reshape(input_tensor, [-1, width]), w),
                        b)


def gelu(x):
  """Gaussian Error Linear Unit, the tanh approximation used by BERT/ALBERT.

  Args:
    x: float Tensor.

  Returns:
    `x` with the GELU activation applied.
  """
  # tf.nn.gelu(approximate=True) computes the same formula, 0.5 x (1 + tanh(
  # sqrt(2/pi) (x + 0.044715 x^3))) (to 1e-6), and after a matmul and bias
  # its graph is one that oneDNN fuses into the matmul kernel.
  return tf2.nn.gelu(x, approximate=True)


def swish(x):
  """x * sigmoid(x)."""
  return x * tf.sigmoid(x)


_ACTIVATIONS = {
    "linear": None,
    "relu": tf.nn.relu,
    "gelu": gelu,
    "tanh": tf.tanh,
    "swish": swish,
}


def get_activation(activation_string, hand_written_gradient=False):
  """Maps an activation name (as in the config) to a function.

  Args:
    activation_string: name, or a callable (returned as is). "" and None
      mean linear.
    hand_written_gradient: "gelu" is `gelu_for_training` (the same values
      with a faster gradient; for training graphs that stay in this
      package).

  Returns:
    A Python function, or None for linear.

  Raises:
    ValueError: the name is not known.
  """
  if not isinstance(activation_string, six.string_types):
    return activation_string
  if not activation_string:
    return None
  act = activation_string.lower()
  if act not in _ACTIVATIONS:
    raise ValueError("Unknown hidden_act %r; expected one of %s" %
                     (activation_string, sorted(_ACTIVATIONS)))
  if hand_written_gradient and act == "gelu":
    return gelu_for_training
  return _ACTIVATIONS[act]


def gelu_for_training(x):
  """GELU (tanh approximation) with a hand-written gradient.

  Training cannot use the fused MatMul+BiasAdd+GELU kernel (the backward
  pass needs the pre-activation), so the forward formula runs as ops and
  autodiff would add a dozen more for the gradient; this one reuses the
  forward's tanh and takes about a third fewer passes. Inference uses
  `tf.nn.gelu`, whose graph oneDNN fuses into the matmul.

  Args:
    x: float Tensor.

  Returns:
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  """

  @tf.custom_gradient
  def gelu(x):
    dtype = x.dtype
    half = tf.cast(0.5, dtype)
    inner_scale = tf.cast(_GELU_SCALE, dtype)
    cubic_scale = tf.cast(_GELU_SCALE * _GELU_CUBIC, dtype)
    x_squared = tf.square(x)
    tanh = tf.tanh(x * (inner_scale + cubic_scale * x_squared))

    def gradient(dy):
      slope = inner_scale + tf.cast(3.0, dtype) * cubic_scale * x_squared
      return dy * (half * (1.0 + tanh) +
                   half * x * (1.0 - tf.square(tanh)) * slope)

    return half * x * (1.0 + tanh), gradient

  with tf.name_scope("Gelu"):  # As tf.nn.gelu's ops are named, for profiles.
    return gelu(x)
