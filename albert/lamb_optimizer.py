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
"""The LAMB optimizer, in the variant released with ALBERT.

Reference: You et al., 2019, "Large Batch Optimization for Deep Learning:
Training BERT in 76 minutes".
"""

import re

import tensorflow.compat.v1 as tf

from albert import adam_weight_decay


class LAMBOptimizer(adam_weight_decay.AdamWeightDecayOptimizer):
  """Adam with decoupled weight decay and a layer-wise trust ratio.

  The Adam step (without bias correction, as released) plus weight decay is
  rescaled per variable by ||param|| / ||update||, so every layer moves by a
  similar fraction of its norm regardless of its gradient scale; that is what
  lets very large batches train stably. Slots are "<var>/adam_m" and
  "<var>/adam_v", the same checkpoint names as AdamWeightDecayOptimizer,
  whose update this reuses.
  """

  def __init__(self,
               learning_rate,
               weight_decay_rate=0.0,
               beta_1=0.9,
               beta_2=0.999,
               epsilon=1e-6,
               exclude_from_weight_decay=None,
               exclude_from_layer_adaptation=None,
               name="LAMBOptimizer"):
    """Constructs a LAMBOptimizer.

    Args:
      learning_rate: float or float32 scalar tensor.
      weight_decay_rate: float, decoupled weight decay coefficient.
      beta_1: float, decay of the first-moment estimate.
      beta_2: float, decay of the second-moment estimate.
      epsilon: float, added to sqrt(v) for numerical stability.
      exclude_from_weight_decay: optional list of regexes; variables whose
        name matches one (re.search) are not decayed.
      exclude_from_layer_adaptation: optional list of regexes; variables whose
        name matches one get no trust ratio. None means "same as
        exclude_from_weight_decay", because biases and LayerNorm parameters
        can have tiny or zero norms that would make the ratio meaningless.
      name: name of the optimizer.
    """
    super(LAMBOptimizer, self).__init__(
        learning_rate,
        weight_decay_rate=weight_decay_rate,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
        exclude_from_weight_decay=exclude_from_weight_decay,
        name=name)
    if exclude_from_layer_adaptation is None:
      exclude_from_layer_adaptation = exclude_from_weight_decay
    self.exclude_from_layer_adaptation = exclude_from_layer_adaptation

  def _update_ratio(self, param_name, param, update):
    """The trust ratio ||param|| / ||update|| (1 where it is undefined)."""
    if not self._do_layer_adaptation(param_name):
      return 1.0
    # Frobenius norms over the whole variable: the "layer" is the variable.
    w_norm = tf.norm(param, ord=2)
    u_norm = tf.norm(update, ord=2)
    # A zero-norm parameter (e.g. freshly zero-initialised) or a zero update
    # would give a ratio of 0 or inf; fall back to plain Adam there.
    safe_u_norm = tf.where(u_norm > 0.0, u_norm, tf.ones_like(u_norm))
    return tf.where(tf.logical_and(w_norm > 0.0, u_norm > 0.0),
                    w_norm / safe_u_norm, tf.ones_like(w_norm))

  def _do_layer_adaptation(self, param_name):
    """Whether to scale the update of `param_name` by the trust ratio."""
    for pattern in self.exclude_from_layer_adaptation or []:
      if re.search(pattern, param_name) is not None:
        return False
    return True
