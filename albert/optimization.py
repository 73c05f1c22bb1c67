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
"""Learning-rate schedule, optimizers and the training op for ALBERT.

`create_optimizer` is the entry point used by pre-training and fine-tuning. It
is assembled from small public helpers (`learning_rate_schedule`,
`make_optimizer`, `select_trainable_variables`, `compute_gradients`,
`clip_gradients`, `apply_gradients`) so that later features such as loss
scaling for mixed precision or gradient accumulation can replace a single
stage without rewriting the others.
"""

import re

import tensorflow.compat.v1 as tf


# Graph collection holding the learning-rate tensor built by
# `create_optimizer`, so callers can log it without changing its return value.
LEARNING_RATE_KEY = "albert_learning_rate"

OPTIMIZER_CHOICES = ("adamw", "lamb")

# Hyperparameters of the released ALBERT recipe, shared by both optimizers.
WEIGHT_DECAY_RATE = 0.01
BETA_1 = 0.9
BETA_2 = 0.999
EPSILON = 1e-6
EXCLUDE_FROM_WEIGHT_DECAY = ("LayerNorm", "layer_norm", "bias")
CLIP_NORM = 1.0

_VARIABLE_NAME_RE = re.compile(r"^(.*):\d+$")


def _strip_output_index(name):
  """Returns a variable or tensor name without its ":<n>" suffix."""
  match = _VARIABLE_NAME_RE.match(name)
  return match.group(1) if match else name


def learning_rate_schedule(init_lr, global_step, num_train_steps,
                           num_warmup_steps, poly_power=1.0,
                           start_warmup_step=0):
  """Builds ALBERT's learning rate: linear warmup, then polynomial decay.

  With s = global_step - start_warmup_step, the rate is init_lr * s /
  num_warmup_steps while s < num_warmup_steps, and otherwise
  init_lr * (1 - min(global_step, num_train_steps) / num_train_steps) **
  poly_power. Note that the decay counts from step 0, not from the end of
  warmup, and that steps before `start_warmup_step` give a negative warmup
  rate; both match the released ALBERT code.

  Args:
    init_lr: float, peak learning rate.
    global_step: integer scalar tensor or variable, the training step.
    num_train_steps: int, step at which the rate reaches 0.
    num_warmup_steps: int, length of the linear warmup; 0 or None disables it.
    poly_power: float, power of the polynomial decay (1.0 is linear).
    start_warmup_step: int, step at which the warmup starts.

  Returns:
    A float32 scalar tensor, shape [].
  """
  learning_rate = tf.train.polynomial_decay(
      tf.constant(init_lr, shape=[], dtype=tf.float32),
      global_step,
      num_train_steps,
      end_learning_rate=0.0,
      power=poly_power,
      cycle=False)

  if num_warmup_steps:
    tf.logging.info("Warmup starts at step %d and lasts %d steps.",
                    start_warmup_step, num_warmup_steps)
    steps_int = (tf.cast(global_step, tf.int32) -
                 tf.constant(start_warmup_step, dtype=tf.int32))
    warmup_steps_int = tf.constant(num_warmup_steps, dtype=tf.int32)
    warmup_learning_rate = init_lr * (
        tf.cast(steps_int, tf.float32) / tf.cast(warmup_steps_int, tf.float32))
    learning_rate = tf.where(steps_int < warmup_steps_int,
                             warmup_learning_rate, learning_rate)
  return tf.convert_to_tensor(learning_rate, dtype=tf.float32)


def get_learning_rate(graph=None):
  """Returns the learning-rate tensor built by `create_optimizer`, or None.

  Args:
    graph: the tf.Graph to look in; defaults to the current default graph.

  Returns:
    The float32 scalar tensor (shape []) of the most recent `create_optimizer`
    call in `graph`, or None if there was none.
  """
  graph = graph or tf.get_default_graph()
  tensors = graph.get_collection(LEARNING_RATE_KEY)
  return tensors[-1] if tensors else None


def make_optimizer(optimizer_name, learning_rate, use_tpu=False):
  """Builds the named optimizer with ALBERT's hyperparameters.

  Args:
    optimizer_name: "adamw" or "lamb".
    learning_rate: float or float32 scalar tensor.
    use_tpu: whether to wrap the optimizer in `tf.tpu.CrossShardOptimizer`,
      which averages gradients across TPU cores.

  Returns:
    A `tf.train.Optimizer`.

  Raises:
    ValueError: if `optimizer_name` is not one of `OPTIMIZER_CHOICES`.
  """
  if optimizer_name == "adamw":
    optimizer_class = AdamWeightDecayOptimizer
  elif optimizer_name == "lamb":
    # Imported here: lamb_optimizer subclasses this module's optimizer.
    from albert import lamb_optimizer  # pylint: disable=g-import-not-at-top
    optimizer_class = lamb_optimizer.LAMBOptimizer
  else:
    raise ValueError("Unknown optimizer %r; valid choices are %s." %
                     (optimizer_name,
                      ", ".join('"%s"' % c for c in OPTIMIZER_CHOICES)))
  tf.logging.info("Using %s.", optimizer_class.__name__)
  optimizer = optimizer_class(
      learning_rate=learning_rate,
      weight_decay_rate=WEIGHT_DECAY_RATE,
      beta_1=BETA_1,
      beta_2=BETA_2,
      epsilon=EPSILON,
      exclude_from_weight_decay=list(EXCLUDE_FROM_WEIGHT_DECAY))

  if use_tpu:
    optimizer = tf.tpu.CrossShardOptimizer(optimizer)
  return optimizer


def select_trainable_variables(excluded_tvars=None):
  """Returns the trainable variables that are not excluded from training.

  Args:
    excluded_tvars: optional list of variable names, with or without the ":0"
      suffix, to freeze.

  Returns:
    A list of `tf.Variable`s, in `tf.trainable_variables()` order.
  """
  tvars = tf.trainable_variables()
  if not excluded_tvars:
    return tvars
  excluded = set(_strip_output_index(name) for name in excluded_tvars)
  known = set(_strip_output_index(v.name) for v in tvars)
  for name in sorted(excluded - known):
    # A typo here would silently train a layer meant to stay frozen.
    tf.logging.warning("excluded_tvars names %s, which is not a trainable "
                       "variable.", name)
  return [v for v in tvars if _strip_output_index(v.name) not in excluded]


def compute_gradients(loss, tvars, colocate_gradients_with_ops=False):
  """Differentiates `loss` with respect to `tvars`, dropping None gradients.

  Args:
    loss: float scalar tensor.
    tvars: list of variables.
    colocate_gradients_with_ops: passed to `tf.gradients`.

  Returns:
    A list of (gradient, variable) pairs, one per variable `loss` depends on.
  """
  grads = tf.gradients(
      loss, tvars, colocate_gradients_with_ops=colocate_gradients_with_ops)
  grads_and_vars = []
  for grad, var in zip(grads, tvars):
    if grad is None:
      tf.logging.info("No gradient for %s; it will not be updated.", var.name)
      continue
    grads_and_vars.append((grad, var))
  return grads_and_vars


def clip_gradients(grads_and_vars, clip_norm=CLIP_NORM):
  """Rescales gradients so that their global norm is at most `clip_norm`.

  Args:
    grads_and_vars: list of (gradient, variable) pairs.
    clip_norm: float, maximum global norm.

  Returns:
    A list of (clipped gradient, variable) pairs in the same order.
  """
  if not grads_and_vars:
    return []
  grads, tvars = zip(*grads_and_vars)
  clipped, _ = tf.clip_by_global_norm(list(grads), clip_norm=clip_norm)
  return list(zip(clipped, tvars))


def apply_gradients(optimizer, grads_and_vars, global_step):
  """Applies gradients and then advances `global_step` by one.

  ALBERT's optimizers ignore the `global_step` argument of apply_gradients,
  so the step is bumped here; an optimizer that increments it itself would
  therefore count twice.

  Args:
    optimizer: a `tf.train.Optimizer`.
    grads_and_vars: list of (gradient, variable) pairs.
    global_step: the global step variable.

  Returns:
    The training op.
  """
  update_op = optimizer.apply_gradients(grads_and_vars, global_step=global_step)
  # Incrementing only after the update keeps the learning rate read during the
  # update deterministic (it always sees the pre-increment step).
  with tf.control_dependencies([update_op]):
    increment_op = global_step.assign_add(1)
  return tf.group(update_op, increment_op)


def create_optimizer(loss, init_lr, num_train_steps, num_warmup_steps,
                     use_tpu, optimizer="adamw", poly_power=1.0,
                     start_warmup_step=0, colocate_gradients_with_ops=False,
                     excluded_tvars=None):
  """Creates the training op for ALBERT.

  Args:
    loss: float scalar tensor to minimize.
    init_lr: float, peak learning rate.
    num_train_steps: int, total number of training steps.
    num_warmup_steps: int, number of linear warmup steps (0 disables warmup).
    use_tpu: whether to average gradients across TPU cores.
    optimizer: "adamw" or "lamb".
    poly_power: float, power of the polynomial learning-rate decay.
    start_warmup_step: int, step at which warmup starts.
    colocate_gradients_with_ops: passed to `tf.gradients`.
    excluded_tvars: optional list of variable names (with or without ":0")
      that receive no gradient and are never updated.

  Returns:
    The training op. The learning-rate tensor is available through
    `get_learning_rate()`.

  Raises:
    ValueError: if `optimizer` is not one of `OPTIMIZER_CHOICES`.
  """
  global_step = tf.train.get_or_create_global_step()
  learning_rate = learning_rate_schedule(
      init_lr, global_step, num_train_steps, num_warmup_steps,
      poly_power=poly_power, start_warmup_step=start_warmup_step)
  tf.add_to_collection(LEARNING_RATE_KEY, learning_rate)

  opt = make_optimizer(optimizer, learning_rate, use_tpu)
  tvars = select_trainable_variables(excluded_tvars)
  grads_and_vars = compute_gradients(
      loss, tvars, colocate_gradients_with_ops=colocate_gradients_with_ops)
  grads_and_vars = clip_gradients(grads_and_vars, clip_norm=CLIP_NORM)
  return apply_gradients(opt, grads_and_vars, global_step)


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
      m = tf.get_variable(
          name=param_name + "/adam_m",
          shape=param.shape.as_list(),
          dtype=tf.float32,
          trainable=False,
          initializer=tf.zeros_initializer())
      v = tf.get_variable(
          name=param_name + "/adam_v",
          shape=param.shape.as_list(),
          dtype=tf.float32,
          trainable=False,
          initializer=tf.zeros_initializer())

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
    return _strip_output_index(param_name)
