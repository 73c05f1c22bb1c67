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
"""AdamWeightDecayOptimizer: Adam with decoupled weight decay, as released.

The release defined it in optimization.py, which still exports it under
that name; it lives here so that LAMB (lamb_optimizer), which reuses its
update, and optimization, which picks between the two, import it without
importing each other.

Not here: the learning-rate schedule, gradient clipping, accumulation and
loss scaling (optimization).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import re

import tensorflow.compat.v1 as tf

_VARIABLE_NAME_RE = re.compile(r"^(.*):\d+$")


def strip_output_index(name):
  """Returns a variable or tensor name without its ":<n>" suffix."""
  match = _VARIABLE_NAME_RE.match(name)
  return match.group(1) if match else name


class AdamWeightDecayOptimizer(tf.train.Optimizer):
  """Adam with decoupled L2 weight decay, as in BERT and ALBERT.

  Unlike `tf.train.AdamOptimizer` it applies no bias correction and adds the
  weight decay to the update rather than to the loss, so the decay does not
  interact with the m/v moment estimates. Slots are the variables
  "<var>/adam_m" and "<var>/adam_v", the names used in ALBERT checkpoints.
  """

  def __init__(self,
               learning_rate,
               weight_decay_rate=0.0,
               beta_1=0.9,
               beta_2=0.999,
               epsilon=1e-6,
               exclude_from_weight_decay=None,
               include_in_weight_decay=None,
               name="AdamWeightDecayOptimizer"):
    """Constructs an AdamWeightDecayOptimizer.

    Args:
      learning_rate: float or float32 scalar tensor.
      weight_decay_rate: float, decoupled weight decay coefficient.
      beta_1: float, decay of the first-moment estimate.
      beta_2: float, decay of the second-moment estimate.
      epsilon: float, added to sqrt(v) for numerical stability.
      exclude_from_weight_decay: optional list of regexes; variables whose
        name matches one (re.search) are not decayed.
      include_in_weight_decay: optional list of regexes that force decay even
        if an exclusion also matches.
      name: name of the optimizer.
    """
    super(AdamWeightDecayOptimizer, self).__init__(False, name)
    self._slot_variables = {}
    self.learning_rate = learning_rate
    self.weight_decay_rate = weight_decay_rate
    self.beta_1 = beta_1
    self.beta_2 = beta_2
    self.epsilon = epsilon
    self.exclude_from_weight_decay = exclude_from_weight_decay
    self.include_in_weight_decay = include_in_weight_decay

  def apply_gradients(self, grads_and_vars, global_step=None, name=None):
    """Updates each variable with its gradient.

    Args:
      grads_and_vars: list of (gradient, variable) pairs; pairs with a None
        gradient or variable are skipped.
      global_step: ignored; the caller must increment the step itself.
      name: optional name of the returned op.

    Returns:
      An op that performs all updates.
    """
    del global_step  # Kept for API compatibility; see the docstring.
    assignments = []
    for grad, param in grads_and_vars:
      if grad is None or param is None:
        continue
      param_name = self._get_variable_name(param.name)
      if isinstance(grad, tf.IndexedSlices):
        # Embedding lookups give sparse gradients; the moment updates touch
        # every row anyway, so densify once here.
        grad = tf.convert_to_tensor(grad)
      m, v = self._adam_slots(param)

      next_m = self.beta_1 * m + (1.0 - self.beta_1) * grad
      next_v = self.beta_2 * v + (1.0 - self.beta_2) * tf.square(grad)
      update = next_m / (tf.sqrt(next_v) + self.epsilon)

      # Decaying here instead of adding an L2 term to the loss keeps the decay
      # out of the moment estimates (Loshchilov & Hutter, decoupled decay).
      if self._do_use_weight_decay(param_name):
        update += self.weight_decay_rate * param

      ratio = self._update_ratio(param_name, param, update)
      next_param = param - ratio * self.learning_rate * update
      assignments.extend(
          [param.assign(next_param), m.assign(next_m), v.assign(next_v)])
    return tf.group(*assignments, name=name)

  def create_slots(self, var_list):
    """Creates the adam_m/adam_v slots of `var_list` now.

    apply_gradients creates missing slots itself; call this first when it
    will run inside a tf.cond (loss scaling, gradient accumulation), where
    variables cannot be created.
    """
    for param in var_list:
      self._adam_slots(param)

  def _adam_slots(self, param):
    """(m, v) of `param`: "<var>/adam_m" and "<var>/adam_v", made once."""
    param_name = self._get_variable_name(param.name)
    if param_name not in self._slot_variables:
      self._slot_variables[param_name] = tuple(
          tf.get_variable(
              name=param_name + suffix,
              shape=param.shape.as_list(),
              dtype=tf.float32,
              trainable=False,
              initializer=tf.zeros_initializer())
          for suffix in ("/adam_m", "/adam_v"))
    return self._slot_variables[param_name]

  def _update_ratio(self, param_name, param, update):
    """How much to scale `update` of this variable; 1 for plain AdamW.

    Subclasses (LAMB) override this; everything else is shared.
    """
    del param_name, param, update
    return 1.0

  def _do_use_weight_decay(self, param_name):
    """Whether to apply weight decay to the variable named `param_name`."""
    if not self.weight_decay_rate:
      return False
    for pattern in self.include_in_weight_decay or []:
      if re.search(pattern, param_name) is not None:
        return True
    for pattern in self.exclude_from_weight_decay or []:
      if re.search(pattern, param_name) is not None:
        return False
    return True

  def _get_variable_name(self, param_name):
    """Returns `param_name` without its ":<n>" output suffix."""
    return strip_output_index(param_name)
