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
"""Tests for albert.optimization and albert.lamb_optimizer."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import lamb_optimizer
from albert import optimization

tf.disable_v2_behavior()

B1, B2, EPS, WD = 0.9, 0.999, 1e-6, 0.01


def _variable(name, value):
  """A float32 trainable variable named `name` initialised to `value`."""
  return tf.get_variable(
      name, initializer=tf.constant(np.asarray(value, dtype=np.float32)))


def _adam_update(grad, m=0.0, v=0.0):
  """Released Adam direction (no bias correction); returns (update, m, v)."""
  m = B1 * m + (1 - B1) * grad
  v = B2 * v + (1 - B2) * grad * grad
  return m / (np.sqrt(v) + EPS), m, v


def _toy_regression_loss():
  """Least squares on y = x.w + b through a LayerNorm-like gain; shape []."""
  rng = np.random.RandomState(0)
  x = rng.randn(32, 4).astype(np.float32)
  y = x.dot(np.array([[1.0], [-2.0], [0.5], [3.0]])) + 0.7
  kernel = _variable("dense/kernel", 0.1 * rng.randn(4, 1))
  bias = _variable("dense/bias", np.zeros([1]))
  gamma = _variable("LayerNorm/gamma", np.ones([4]))
  pred = tf.matmul(tf.constant(x) * gamma, kernel) + bias
  return tf.reduce_mean(tf.square(pred - tf.constant(y, dtype=tf.float32)))


def _ancestor_assigns(op):
  """Names of variables assigned by ops that must run before `op`."""
  seen, stack, assigned = set(), [op], set()
  while stack:
    current = stack.pop()
    for parent in ([t.op for t in current.inputs] +
                   list(current.control_inputs)):
      if parent not in seen:
        seen.add(parent)
        stack.append(parent)
        if parent.type == "Assign":
          assigned.add(parent.inputs[0].op.name)
  return assigned


def _expected_lr(step, init_lr, num_train_steps, num_warmup_steps, power,
                 start_warmup_step=0):
  """The schedule's formula, written out independently in numpy."""
  s = step - start_warmup_step
  if num_warmup_steps and s < num_warmup_steps:
    return init_lr * s / num_warmup_steps
  done = min(step, num_train_steps) / num_train_steps
  return init_lr * (1.0 - done) ** power


@pytest.mark.parametrize("name", ["adamw", "lamb"])
def test_optimizers_reduce_toy_loss(name):
  with tf.Graph().as_default():
    loss = _toy_regression_loss()
    train_op = optimization.create_optimizer(
        loss, init_lr=0.05, num_train_steps=100, num_warmup_steps=10,
        use_tpu=False, optimizer=name)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      initial = sess.run(loss)
      for _ in range(100):
        sess.run(train_op)
      final = sess.run(loss)
  assert final < 0.05 * initial, (name, initial, final)


@pytest.mark.parametrize("name,kernel_factor", [
    # Adam: the zero gradient contributes nothing, only lr * 0.01 * param.
    ("adamw", 1.0 - 0.1 * WD),
    # LAMB: update = 0.01 * param, so the trust ratio is 100 and the step is
    # lr * param.
    ("lamb", 1.0 - 0.1),
])
def test_weight_decay_applies_only_to_non_excluded(name, kernel_factor):
  kernel0 = np.array([[1.0, -2.0], [3.0, 0.5]], np.float32)
  bias0 = np.array([0.3, -0.4], np.float32)
  gamma0 = np.array([1.5, 2.0], np.float32)
  with tf.Graph().as_default():
    kernel = _variable("dense/kernel", kernel0)
    bias = _variable("dense/bias", bias0)
    gamma = _variable("LayerNorm/gamma", gamma0)
    # Multiplying by 0 keeps the gradients defined (zero, not None).
    loss = 0.0 * (tf.reduce_sum(kernel) + tf.reduce_sum(bias) +
                  tf.reduce_sum(gamma))
    train_op = optimization.create_optimizer(
        loss, init_lr=0.1, num_train_steps=10, num_warmup_steps=0,
        use_tpu=False, optimizer=name)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(train_op)
      k, b, g = sess.run([kernel, bias, gamma])
  np.testing.assert_allclose(k, kernel0 * kernel_factor, rtol=1e-6)
  np.testing.assert_array_equal(b, bias0)
  np.testing.assert_array_equal(g, gamma0)


def test_adam_two_steps_match_hand_computation():
  w0 = np.array([[0.5, -1.0], [2.0, 0.25]])
  b0 = np.array([0.1, -0.2])
  grads = [(np.array([[0.3, -0.1], [0.02, 0.5]]), np.array([0.4, -0.05])),
           (np.array([[-0.2, 0.1], [0.3, 0.0]]), np.array([0.1, 0.2]))]
  lr = 0.01
  with tf.Graph().as_default():
    w = _variable("dense/kernel", w0)
    b = _variable("dense/bias", b0)
    gw = tf.placeholder(tf.float32, [2, 2])
    gb = tf.placeholder(tf.float32, [2])
    opt = optimization.AdamWeightDecayOptimizer(
        lr, weight_decay_rate=WD, exclude_from_weight_decay=["bias"])
    train_op = opt.apply_gradients([(gw, w), (gb, b)])
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      for grad_w, grad_b in grads:
        sess.run(train_op, {gw: grad_w, gb: grad_b})
      w1, b1, m_w, v_w = sess.run([
          w, b, "dense/kernel/adam_m:0", "dense/kernel/adam_v:0"])

  exp_w, exp_b, mw, vw, mb, vb = w0, b0, 0.0, 0.0, 0.0, 0.0
  for grad_w, grad_b in grads:
    uw, mw, vw = _adam_update(grad_w, mw, vw)
    ub, mb, vb = _adam_update(grad_b, mb, vb)
    exp_w = exp_w - lr * (uw + WD * exp_w)
    exp_b = exp_b - lr * ub
  np.testing.assert_allclose(w1, exp_w, rtol=1e-5)
  np.testing.assert_allclose(b1, exp_b, rtol=1e-5)
  np.testing.assert_allclose(m_w, mw, rtol=1e-5)
  np.testing.assert_allclose(v_w, vw, rtol=1e-5)


def test_lamb_single_step_matches_hand_computation():
  w0 = np.array([[0.5, -1.0], [2.0, 0.25]])
  b0 = np.array([0.1, -0.2])
  grad_w = np.array([[0.3, -0.1], [0.02, 0.5]])
  grad_b = np.array([0.4, -0.05])
  grad_z = np.array([1.0, -2.0, 0.5])
  lr = 0.01
  with tf.Graph().as_default():
    w = _variable("dense/kernel", w0)
    b = _variable("dense/bias", b0)
    z = _variable("zero/kernel", np.zeros(3))
    opt = lamb_optimizer.LAMBOptimizer(
        lr, weight_decay_rate=WD, exclude_from_weight_decay=["bias"])
    train_op = opt.apply_gradients([
        (tf.constant(grad_w, tf.float32), w),
        (tf.constant(grad_b, tf.float32), b),
        (tf.constant(grad_z, tf.float32), z)])
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(train_op)
      w1, b1, z1 = sess.run([w, b, z])

  uw = _adam_update(grad_w)[0] + WD * w0
  ratio = np.linalg.norm(w0) / np.linalg.norm(uw)
  assert abs(ratio - 1.0) > 0.1  # Otherwise the test could not see it.
  np.testing.assert_allclose(w1, w0 - ratio * lr * uw, rtol=1e-5)
  # Bias: excluded from decay and (by default) from layer adaptation.
  np.testing.assert_allclose(b1, b0 - lr * _adam_update(grad_b)[0], rtol=1e-5)
  # A zero-norm parameter falls back to ratio 1 instead of freezing.
  uz = _adam_update(grad_z)[0]
  np.testing.assert_allclose(z1, -lr * uz, rtol=1e-5)


def test_lamb_layer_adaptation_exclusions_default_to_weight_decay_ones():
  default = lamb_optimizer.LAMBOptimizer(
      0.1, weight_decay_rate=WD, exclude_from_weight_decay=["bias"])
  assert not default._do_layer_adaptation("dense/bias")
  assert default._do_layer_adaptation("dense/kernel")
  explicit = lamb_optimizer.LAMBOptimizer(
      0.1, weight_decay_rate=WD, exclude_from_weight_decay=["bias"],
      exclude_from_layer_adaptation=["kernel"])
  assert explicit._do_layer_adaptation("dense/bias")
  assert not explicit._do_layer_adaptation("dense/kernel")
  assert not explicit._do_use_weight_decay("dense/bias")


def test_adam_include_in_weight_decay_overrides_exclusion():
  opt = optimization.AdamWeightDecayOptimizer(
      0.1, weight_decay_rate=WD, exclude_from_weight_decay=["LayerNorm"],
      include_in_weight_decay=["LayerNorm/beta"])
  assert opt._do_use_weight_decay("a/LayerNorm/beta")
  assert not opt._do_use_weight_decay("a/LayerNorm/gamma")
  assert opt._do_use_weight_decay("a/dense/kernel")
  no_decay = optimization.AdamWeightDecayOptimizer(0.1)
  assert not no_decay._do_use_weight_decay("a/dense/kernel")
  assert opt._get_variable_name("a/dense/kernel:0") == "a/dense/kernel"


@pytest.mark.parametrize("name", ["adamw", "lamb"])
def test_slot_names_and_global_step(name):
  with tf.Graph().as_default():
    loss = _toy_regression_loss()
    train_op = optimization.create_optimizer(
        loss, init_lr=0.01, num_train_steps=10, num_warmup_steps=2,
        use_tpu=False, optimizer=name)
    names = set(v.op.name for v in tf.global_variables())
    global_step = tf.train.get_global_step()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      steps = []
      for _ in range(3):
        sess.run(train_op)
        steps.append(sess.run(global_step))
  for var in ("dense/kernel", "dense/bias", "LayerNorm/gamma"):
    assert var + "/adam_m" in names
    assert var + "/adam_v" in names
  assert steps == [1, 2, 3]


def test_warmup_start_leaves_params_unchanged_and_lr_is_exposed():
  with tf.Graph().as_default():
    loss = _toy_regression_loss()
    train_op = optimization.create_optimizer(
        loss, init_lr=0.01, num_train_steps=100, num_warmup_steps=10,
        use_tpu=False)
    lr = optimization.get_learning_rate()
    assert lr is not None and lr.dtype == tf.float32 and lr.shape == []
    # Without this ordering the step could be bumped before the update reads
    # the learning rate; that race rarely shows on CPU, so check the graph.
    increments = [op for op in tf.get_default_graph().get_operations()
                  if op.type == "AssignAdd"]
    assert len(increments) == 1
    assert "dense/kernel" in _ancestor_assigns(increments[0])
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      before = sess.run(tf.trainable_variables())
      # The update reads the step before it is incremented, so step 0 of the
      # warmup uses lr == 0.
      sess.run(train_op)
      after = sess.run(tf.trainable_variables())
      assert sess.run(lr) == pytest.approx(0.01 * 1 / 10)
      sess.run(train_op)
      after2 = sess.run(tf.trainable_variables())
  for b, a in zip(before, after):
    np.testing.assert_array_equal(a, b)
  assert any(not np.allclose(a, b) for a, b in zip(after, after2))


@pytest.mark.parametrize("excluded", ["dense/bias", "dense/bias:0"])
def test_excluded_tvars_are_frozen_and_have_no_slots(excluded):
  with tf.Graph().as_default():
    loss = _toy_regression_loss()
    train_op = optimization.create_optimizer(
        loss, init_lr=0.05, num_train_steps=100, num_warmup_steps=0,
        use_tpu=False, excluded_tvars=[excluded])
    names = set(v.op.name for v in tf.global_variables())
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      before = sess.run(["dense/bias:0", "dense/kernel:0"])
      for _ in range(5):
        sess.run(train_op)
      after = sess.run(["dense/bias:0", "dense/kernel:0"])
  np.testing.assert_array_equal(after[0], before[0])
  assert not np.allclose(after[1], before[1])
  assert "dense/bias/adam_m" not in names
  assert "dense/kernel/adam_m" in names


def test_variables_without_gradient_are_skipped():
  with tf.Graph().as_default():
    loss = _toy_regression_loss()
    unused = _variable("unused/kernel", np.ones([3]))
    train_op = optimization.create_optimizer(
        loss, init_lr=0.05, num_train_steps=100, num_warmup_steps=0,
        use_tpu=False)
    names = set(v.op.name for v in tf.global_variables())
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(train_op)
      np.testing.assert_array_equal(sess.run(unused), np.ones([3]))
  assert "unused/kernel/adam_m" not in names


@pytest.mark.parametrize("power", [1.0, 0.5])
def test_learning_rate_schedule_matches_formula(power):
  steps = [0, 5, 9, 10, 50, 99, 100, 150]
  with tf.Graph().as_default():
    global_step = tf.train.get_or_create_global_step()
    lr = optimization.learning_rate_schedule(
        1e-3, global_step, num_train_steps=100, num_warmup_steps=10,
        poly_power=power)
    assert lr.dtype == tf.float32 and lr.shape == []
    step_in = tf.placeholder(tf.int64, [])
    assign = global_step.assign(step_in)
    with tf.Session() as sess:
      values = []
      for step in steps:
        sess.run(assign, {step_in: step})
        values.append(sess.run(lr))
  expected = [_expected_lr(s, 1e-3, 100, 10, power) for s in steps]
  np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-10)
  # Spot checks that do not rely on _expected_lr.
  assert values[1] == pytest.approx(5e-4)
  assert values[3] == pytest.approx(1e-3 * 0.9 ** power)
  assert values[-1] == 0.0


def test_learning_rate_schedule_delayed_warmup_and_no_warmup():
  steps = [20, 25, 29, 30, 60]
  with tf.Graph().as_default():
    global_step = tf.train.get_or_create_global_step()
    delayed = optimization.learning_rate_schedule(
        1e-3, global_step, num_train_steps=100, num_warmup_steps=10,
        start_warmup_step=20)
    no_warmup = optimization.learning_rate_schedule(
        1e-3, global_step, num_train_steps=100, num_warmup_steps=0)
    step_in = tf.placeholder(tf.int64, [])
    assign = global_step.assign(step_in)
    with tf.Session() as sess:
      values, plain = [], []
      for step in steps + [0]:
        sess.run(assign, {step_in: step})
        values.append(sess.run(delayed))
        plain.append(sess.run(no_warmup))
  expected = [_expected_lr(s, 1e-3, 100, 10, 1.0, 20) for s in steps]
  np.testing.assert_allclose(values[:-1], expected, rtol=1e-5)
  assert values[1] == pytest.approx(5e-4)
  assert values[3] == pytest.approx(1e-3 * 0.7)
  np.testing.assert_allclose(
      plain, [_expected_lr(s, 1e-3, 100, 0, 1.0) for s in steps + [0]],
      rtol=1e-5)
  assert plain[-1] == pytest.approx(1e-3)


def test_clip_gradients_rescales_to_unit_global_norm():
  with tf.Graph().as_default():
    a = _variable("a", np.zeros(2))
    b = _variable("b", np.zeros(1))
    big = optimization.clip_gradients(
        [(tf.constant([30.0, 40.0]), a), (tf.constant([120.0]), b)])
    small = optimization.clip_gradients(
        [(tf.constant([0.3, 0.4]), a), (tf.constant([0.0]), b)])
    assert big[0][1] is a and big[1][1] is b
    with tf.Session() as sess:
      big_a, big_b, small_a = sess.run([big[0][0], big[1][0], small[0][0]])
  np.testing.assert_allclose(big_a, [30.0 / 130, 40.0 / 130], rtol=1e-6)
  np.testing.assert_allclose(big_b, [120.0 / 130], rtol=1e-6)
  np.testing.assert_allclose(small_a, [0.3, 0.4], rtol=1e-6)


def test_create_optimizer_clips_huge_gradient():
  # Adam is nearly invariant to the gradient's scale, except where a
  # component is comparable to epsilon; the small component below becomes
  # ~1e-6 only if the gradient was clipped, which changes its update a lot.
  coeff = np.array([1e6, 1.0])
  w0 = np.array([0.5, -0.5])
  lr = 0.1
  with tf.Graph().as_default():
    w = _variable("w", w0)
    loss = tf.reduce_sum(tf.constant(coeff, tf.float32) * w)
    train_op = optimization.create_optimizer(
        loss, init_lr=lr, num_train_steps=10, num_warmup_steps=0,
        use_tpu=False)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(train_op)
      w1 = sess.run(w)

  def step(grad):
    return w0 - lr * (_adam_update(grad)[0] + WD * w0)

  clipped = step(coeff / np.linalg.norm(coeff))
  unclipped = step(coeff)
  assert not np.allclose(clipped, unclipped, rtol=1e-3)
  np.testing.assert_allclose(w1, clipped, rtol=1e-4)


@pytest.mark.parametrize("name,cls", [
    ("adamw", optimization.AdamWeightDecayOptimizer),
    ("lamb", lamb_optimizer.LAMBOptimizer),
])
def test_make_optimizer_wraps_for_tpu(name, cls):
  with tf.Graph().as_default():
    plain = optimization.make_optimizer(name, 0.1, use_tpu=False)
    tpu = optimization.make_optimizer(name, 0.1, use_tpu=True)
  assert isinstance(plain, cls)
  assert plain.weight_decay_rate == WD
  assert plain.exclude_from_weight_decay == ["LayerNorm", "layer_norm", "bias"]
  assert (plain.beta_1, plain.beta_2, plain.epsilon) == (B1, B2, EPS)
  assert isinstance(tpu, tf.tpu.CrossShardOptimizer)
  assert isinstance(tpu._opt, cls)


def test_unknown_optimizer_raises():
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match=r"'sgd'.*\"adamw\".*\"lamb\""):
      optimization.make_optimizer("sgd", 0.1)
    loss = _toy_regression_loss()
    with pytest.raises(ValueError, match="adamw"):
      optimization.create_optimizer(
          loss, init_lr=0.1, num_train_steps=10, num_warmup_steps=0,
          use_tpu=False, optimizer="Adam")


@pytest.mark.parametrize("name", ["adamw", "lamb"])
def test_sparse_embedding_gradients_are_applied(name):
  """tf.gather gives IndexedSlices gradients; only looked-up rows move."""
  with tf.Graph().as_default():
    table = tf.get_variable("word_embeddings", initializer=tf.ones([5, 3]))
    rows = tf.gather(table, [1, 3])
    loss = tf.reduce_sum(tf.square(rows))
    train_op = optimization.create_optimizer(
        loss, 0.1, num_train_steps=10, num_warmup_steps=0, use_tpu=False,
        optimizer=name)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(train_op)
      after = sess.run(table)
  assert np.all(after[[1, 3]] < 1.0)
  # Untouched rows change only by weight decay (0.01 * lr for AdamW).
  assert np.all(after[[0, 2, 4]] > 0.99)
