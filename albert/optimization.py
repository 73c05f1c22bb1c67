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
`clip_gradients`, `apply_gradients`), plus the two stages that mixed
precision and small devices add: dynamic loss scaling for float16
(`DynamicLossScale`) and gradient accumulation (`accumulate_and_apply`).

With gradient accumulation, `global_step` counts optimizer updates, not
batches: the learning-rate schedule, --num_train_steps, warmup and
checkpoint intervals all mean updates of the effective batch
(accumulation steps x per-step batch).
"""

import tensorflow.compat.v1 as tf

from albert import adam_weight_decay
from albert import lamb_optimizer


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

# The release's optimizer classes, importable from here as they were.
AdamWeightDecayOptimizer = adam_weight_decay.AdamWeightDecayOptimizer
_strip_output_index = adam_weight_decay.strip_output_index


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


def all_reduce_gradients(grads_and_vars):
  """Averages gradients over the replicas of a `tf.distribute` strategy.

  Under a strategy (--strategy=mirrored or multi_worker_mirrored) each
  replica differentiates the loss of its share of the global batch; the
  mean of those gradients is the gradient of the global batch's mean loss,
  which every replica then applies to its own copy of the variables (our
  optimizers update a mirrored variable's local copy, so the copies stay
  equal because their updates are). Outside a strategy, or with one
  replica, the gradients come back as they are.

  Args:
    grads_and_vars: list of (gradient, variable) pairs of this replica.

  Returns:
    A list of (mean gradient, variable) pairs in the same order; embedding
    gradients (IndexedSlices) come back dense.
  """
  context = tf.distribute.get_replica_context()
  if context is None or context.num_replicas_in_sync == 1 or not grads_and_vars:
    return grads_and_vars
  grads, tvars = zip(*grads_and_vars)
  # Dense: the rows of IndexedSlices differ between replicas, and the
  # optimizers and clipping densify them anyway.
  grads = [tf.convert_to_tensor(grad) for grad in grads]

  def mean_over_replicas(strategy, grads_and_vars):
    # Reduced onto the variables' devices, so each replica gets back the
    # copy next to its own variables.
    return strategy.extended.batch_reduce_to(tf.distribute.ReduceOp.MEAN,
                                             grads_and_vars)

  # Not `context.all_reduce`: its gradient wrapper looks the replicas'
  # variables up by name, which fails for reference variables.
  reduced = context.merge_call(mean_over_replicas,
                               args=(list(zip(grads, tvars)),))
  # Tells the Estimator that each replica's loss is a mean to be averaged,
  # not summed, when it reports the loss (logs, the TensorBoard summary).
  tf.get_default_graph()._is_loss_scaled_by_optimizer = True  # pylint: disable=protected-access
  return list(zip(reduced, tvars))


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
  # An embedding gradient (IndexedSlices) has one row per looked-up token,
  # repeated tokens included, and the norm of those rows is not the norm of
  # the gradient (rows of one token add up before squaring). Summed here,
  # the norm is exact: what the release's one-hot TPU lookups computed,
  # and what accumulated gradients have.
  grads = [tf.convert_to_tensor(grad) if isinstance(grad, tf.IndexedSlices)
           else grad for grad in grads]
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
    increment_op = increment_step(global_step)
  return tf.group(update_op, increment_op)


def increment_step(global_step):
  """global_step + 1; under a strategy, on this replica's copy.

  The step is a mirrored variable under tf.distribute, whose replica-context
  update would synchronise the replicas through `merge_call`, which cannot
  run inside the tf.cond of gradient accumulation. Every replica counts
  the same updates, so each bumping its own copy keeps them equal, as the
  weights are.
  """
  local_copy = getattr(global_step, "_get_on_device_or_primary", None)
  if local_copy is not None and tf.distribute.in_cross_replica_context():
    local_copy = None
  return (local_copy() if local_copy else global_step).assign_add(1)


class DynamicLossScale(object):
  """Dynamic loss scaling, which float16 training needs.

  float16 gradients of small losses underflow to 0. The loss is multiplied
  by a large scale before differentiation and the gradients divided by it
  after, in float32. When a step's gradients overflow (inf or NaN), the
  update is skipped and the scale halved; after `growth_interval` good
  steps in a row the scale doubles, so it stays near the largest safe
  value. The state lives in local variables: it is not part of the model,
  checkpoints stay as released, and a resumed run finds its scale again
  within a few steps.
  """

  def __init__(self, initial_scale=2.0 ** 15, growth_interval=2000,
               factor=2.0, min_scale=1.0):
    """Creates the scale's variables in the current graph.

    Args:
      initial_scale: float, the first scale.
      growth_interval: int, good steps in a row before the scale grows.
      factor: float, how much the scale grows or shrinks at a time.
      min_scale: float, the scale never goes below this.
    """
    self.growth_interval = growth_interval
    self.factor = factor
    self.min_scale = min_scale
    with tf.variable_scope("loss_scale"):
      self.scale = tf.get_variable(
          "scale", shape=[], dtype=tf.float32, trainable=False,
          initializer=tf.constant_initializer(initial_scale),
          collections=[tf.GraphKeys.LOCAL_VARIABLES])
      self.good_steps = tf.get_variable(
          "good_steps", shape=[], dtype=tf.int32, trainable=False,
          initializer=tf.zeros_initializer(),
          collections=[tf.GraphKeys.LOCAL_VARIABLES])

  def scale_loss(self, loss):
    """`loss` * scale, float32 scalar."""
    return tf.cast(loss, tf.float32) * self.scale

  def unscale(self, grads_and_vars):
    """Divides every gradient by the scale it was computed with."""
    inverse = 1.0 / self.scale
    return [(_scale_gradient(grad, inverse), var)
            for grad, var in grads_and_vars]

  def update(self, grads_are_finite):
    """Grows or shrinks the scale after a step; returns the op.

    Args:
      grads_are_finite: bool scalar tensor, whether this step's gradients
        were all finite (the update was applied).
    """

    def grow_or_count():
      grow = self.good_steps + 1 >= self.growth_interval
      new_scale = tf.where(grow, self.scale * self.factor, self.scale)
      new_good_steps = tf.where(grow, 0, self.good_steps + 1)
      return tf.group(self.scale.assign(new_scale),
                      self.good_steps.assign(new_good_steps))

    def shrink():
      return tf.group(
          self.scale.assign(tf.maximum(self.scale / self.factor,
                                       self.min_scale)),
          self.good_steps.assign(0))

    return tf.cond(grads_are_finite, grow_or_count, shrink)


def _scale_gradient(grad, factor):
  """grad * factor, for dense and sparse (IndexedSlices) gradients."""
  if isinstance(grad, tf.IndexedSlices):
    return tf.IndexedSlices(grad.values * factor, grad.indices,
                            grad.dense_shape)
  return grad * factor


def all_finite(grads):
  """bool scalar: whether every value of every gradient is finite."""
  checks = [tf.reduce_all(tf.is_finite(
      grad.values if isinstance(grad, tf.IndexedSlices) else grad))
            for grad in grads]
  return tf.reduce_all(tf.stack(checks)) if checks else tf.constant(True)


def _update_step(optimizer, grads_and_vars, global_step, loss_scale=None):
  """Clips and applies gradients, then advances `global_step` by one.

  With a loss scale, a step with non-finite gradients changes no weight
  (the scale shrinks instead); the step still counts, so training always
  ends at --num_train_steps.

  Args:
    optimizer: an optimizer with `create_slots` (see
      AdamWeightDecayOptimizer); slots must exist before this is called
      inside a tf.cond.
    grads_and_vars: list of (float32 gradient, variable).
    global_step: the global step variable.
    loss_scale: (optional) `DynamicLossScale`.

  Returns:
    The op of the whole update.
  """
  clipped = clip_gradients(grads_and_vars, clip_norm=CLIP_NORM)
  if loss_scale is None:
    return apply_gradients(optimizer, clipped, global_step)
  finite = all_finite([grad for grad, _ in grads_and_vars])
  # Clipping an inf gradient gives NaN everywhere; the cond below keeps
  # those away from the weights.
  update_op = tf.cond(finite,
                      lambda: optimizer.apply_gradients(clipped),
                      tf.no_op)
  with tf.control_dependencies([update_op]):
    scale_op = loss_scale.update(finite)
    increment_op = increment_step(global_step)
  return tf.group(update_op, scale_op, increment_op)


def accumulation_runs():
  """The batches accumulated since the last update: int32 local variable.

  "gradient_accumulation/runs", made by the first caller (the model_fn's
  `batch_counter`, or `accumulate_and_apply`) and shared by the next.
  """
  with tf.variable_scope("gradient_accumulation", reuse=tf.AUTO_REUSE):
    return tf.get_variable(
        "runs", shape=[], dtype=tf.int32, trainable=False,
        initializer=tf.zeros_initializer(),
        collections=[tf.GraphKeys.LOCAL_VARIABLES])


def batch_counter(accumulation_steps):
  """An int64 scalar that differs for every batch a run trains on.

  global_step x accumulation_steps + the batches accumulated towards the
  next update: a function of the training position, so a resumed run
  counts as the uninterrupted run did (checkpoints are saved after an
  update, when no batch is accumulated). Dropout masks are drawn from it
  (dropout_seeds).

  Args:
    accumulation_steps: --gradient_accumulation_steps.
  """
  global_step = tf.train.get_or_create_global_step()
  if accumulation_steps == 1:
    return global_step
  return (global_step * accumulation_steps +
          tf.cast(accumulation_runs(), tf.int64))


def accumulate_and_apply(optimizer, grads_and_vars, global_step,
                         accumulation_steps, loss_scale=None):
  """The training op with gradients summed over `accumulation_steps` runs.

  Each run of the op adds this batch's gradients to float32 accumulators;
  every `accumulation_steps`-th run applies their mean (clipped, as one
  batch of accumulation_steps x the batch would be), zeroes them and
  advances `global_step`. The gradient of a loss that is a mean over its
  batch, averaged over equal batches, is the big batch's gradient, so the
  update is the same as one step on the big batch (up to float rounding).
  Losses normalized by a per-batch count (the masked-LM loss divides by
  the batch's masked positions) come out as the mean of the per-batch
  losses instead, which differs when the counts do.

  The accumulators and the run counter are local variables: a checkpoint
  is only ever written after an update (the step changes nowhere else),
  so none is lost, and a resumed run starts a fresh accumulation.

  Args:
    optimizer: an optimizer with `create_slots`.
    grads_and_vars: list of (float32 gradient, variable) of one batch.
    global_step: the global step variable.
    accumulation_steps: int >= 1, batches per update.
    loss_scale: (optional) `DynamicLossScale`.

  Returns:
    The training op (one batch).
  """
  # Optimizer slots (adam_m/adam_v) must not be created inside tf.cond.
  optimizer.create_slots([var for _, var in grads_and_vars])
  if accumulation_steps == 1:
    return _update_step(optimizer, grads_and_vars, global_step, loss_scale)

  runs = accumulation_runs()
  with tf.variable_scope("gradient_accumulation"):
    accumulators = []
    accumulate_ops = []
    for grad, var in grads_and_vars:
      accumulator = tf.get_variable(
          _strip_output_index(var.name), shape=var.shape, dtype=tf.float32,
          trainable=False, initializer=tf.zeros_initializer(),
          collections=[tf.GraphKeys.LOCAL_VARIABLES])
      if isinstance(grad, tf.IndexedSlices):
        # Embedding gradients touch a few rows of a big table; scatter_add
        # sums repeated rows as a dense sum would.
        accumulate_ops.append(tf.scatter_add(accumulator, grad.indices,
                                             grad.values))
      else:
        accumulate_ops.append(accumulator.assign_add(grad))
      accumulators.append(accumulator)

  with tf.control_dependencies(accumulate_ops):
    # Every branch op below depends on this predicate, hence runs after the
    # accumulation of this batch.
    is_update = tf.greater_equal(runs + 1, accumulation_steps)

  def update():
    mean_grads = [(accumulator.read_value() / float(accumulation_steps), var)
                  for accumulator, (_, var) in zip(accumulators,
                                                   grads_and_vars)]
    update_op = _update_step(optimizer, mean_grads, global_step, loss_scale)
    with tf.control_dependencies([update_op]):
      reset_ops = [accumulator.assign(tf.zeros_like(accumulator))
                   for accumulator in accumulators]
      reset_ops.append(runs.assign(0))
    return tf.group(update_op, *reset_ops)

  def count():
    return tf.group(runs.assign_add(1))

  return tf.cond(is_update, update, count)


def create_optimizer(loss, init_lr, num_train_steps, num_warmup_steps,
                     use_tpu, optimizer="adamw", poly_power=1.0,
                     start_warmup_step=0, colocate_gradients_with_ops=False,
                     excluded_tvars=None, gradient_accumulation_steps=1,
                     precision="fp32"):
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
    gradient_accumulation_steps: int >= 1; batches whose mean gradient
      makes one update (see `accumulate_and_apply`). global_step counts
      updates.
    precision: "fp32", "bf16" or "fp16" (the model's compute; variables
      and this optimizer are float32 either way). "fp16" adds dynamic loss
      scaling; bfloat16 has float32's range and needs none.

  Returns:
    The training op. The learning-rate tensor is available through
    `get_learning_rate()`.

  Raises:
    ValueError: if `optimizer` is not one of `OPTIMIZER_CHOICES`, or
      accumulation or float16 is asked for on TPU.
  """
  if gradient_accumulation_steps < 1:
    raise ValueError("--gradient_accumulation_steps=%s must be >= 1" %
                     gradient_accumulation_steps)
  loss_scaling = precision == "fp16"
  if use_tpu and (gradient_accumulation_steps > 1 or loss_scaling):
    # TPUEstimator's on-device loop expects one global step per iteration.
    raise ValueError(
        "--gradient_accumulation_steps > 1 and --precision=fp16 are for "
        "CPUs and GPUs; on TPU use a bigger --train_batch_size (and bf16, "
        "which needs no loss scaling)")
  global_step = tf.train.get_or_create_global_step()
  learning_rate = learning_rate_schedule(
      init_lr, global_step, num_train_steps, num_warmup_steps,
      poly_power=poly_power, start_warmup_step=start_warmup_step)
  tf.add_to_collection(LEARNING_RATE_KEY, learning_rate)

  opt = make_optimizer(optimizer, learning_rate, use_tpu)
  tvars = select_trainable_variables(excluded_tvars)
  loss_scale = DynamicLossScale() if loss_scaling else None
  if loss_scale is not None:
    loss = loss_scale.scale_loss(loss)
  grads_and_vars = compute_gradients(
      loss, tvars, colocate_gradients_with_ops=colocate_gradients_with_ops)
  if loss_scale is not None:
    grads_and_vars = loss_scale.unscale(grads_and_vars)
  grads_and_vars = all_reduce_gradients(grads_and_vars)
  # One name scope for the update's ops, so profiles (albert.op_profile)
  # can tell them from the model's; variables keep their names.
  with tf.name_scope("optimizer"):
    if gradient_accumulation_steps == 1 and loss_scale is None:
      grads_and_vars = clip_gradients(grads_and_vars, clip_norm=CLIP_NORM)
      return apply_gradients(opt, grads_and_vars, global_step)
    return accumulate_and_apply(opt, grads_and_vars, global_step,
                                gradient_accumulation_steps, loss_scale)
