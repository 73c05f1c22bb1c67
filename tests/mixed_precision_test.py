# coding=utf-8
"""--precision=bf16|fp16: float32 variables, 16-bit compute, loss scaling."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import command_line
from albert import estimators
from albert import modeling
from albert import optimization
from albert import run_pretraining

import run_pretraining_test
from run_pretraining_test import data  # pylint: disable=unused-import

tf.disable_v2_behavior()

CONFIG = modeling.AlbertConfig(
    vocab_size=64, embedding_size=16, hidden_size=32, num_hidden_layers=3,
    num_attention_heads=4, intermediate_size=64, hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0, max_position_embeddings=32)


def _inputs(batch=4, seq=16, seed=0):
  rng = np.random.RandomState(seed)
  input_ids = rng.randint(0, CONFIG.vocab_size, [batch, seq]).astype(np.int32)
  input_mask = np.ones([batch, seq], np.int32)
  input_mask[1, 11:] = 0
  segment_ids = np.zeros([batch, seq], np.int32)
  segment_ids[:, 8:] = 1
  return input_ids, input_mask, segment_ids


def _run_model(precisions, with_gradients=False):
  """Outputs (and gradients) of one set of weights at each precision."""
  input_ids, input_mask, segment_ids = _inputs()
  fetches = {}
  with tf.Graph().as_default():
    tf.set_random_seed(3)
    for precision in precisions:
      with tf.variable_scope("", reuse=tf.AUTO_REUSE):
        model = modeling.AlbertModel(
            CONFIG, is_training=False, input_ids=tf.constant(input_ids),
            input_mask=tf.constant(input_mask),
            token_type_ids=tf.constant(segment_ids), scope="bert",
            compute_dtype=modeling.compute_dtype_of(precision))
      outputs = {"sequence": model.get_sequence_output(),
                 "pooled": model.get_pooled_output()}
      if with_gradients:
        loss = tf.reduce_sum(tf.square(model.get_pooled_output()))
        tvars = tf.trainable_variables()
        outputs["gradients"] = dict(
            (v.op.name, tf.convert_to_tensor(g))  # Embeddings: sparse.
            for v, g in zip(tvars, tf.gradients(loss, tvars)))
      fetches[precision] = outputs
    variables = {v.op.name: v.dtype.base_dtype for v in tf.global_variables()}
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      return session.run(fetches), variables, {
          p: (f["sequence"].dtype, f["pooled"].dtype)
          for p, f in fetches.items()}


def test_half_precision_forward_matches_fp32_with_float32_variables():
  values, variables, dtypes = _run_model(["fp32", "bf16", "fp16"])
  # One set of variables serves all three: same names, all float32, so a
  # bf16-trained checkpoint is a plain float32 checkpoint.
  assert len(variables) == 25
  assert set(variables.values()) == {tf.float32}
  assert all(name.startswith("bert/") for name in variables)
  # Heads get float32 whatever the compute.
  assert set(dtypes.values()) == {(tf.float32, tf.float32)}
  reference = values["fp32"]
  # Tolerances: bfloat16 keeps 8 significant bits (relative step 2^-8 =
  # 0.4%), float16 11 bits; three layers compound a few steps. The
  # LayerNorm outputs are O(1).
  for precision, max_abs, mean_abs in (("bf16", 0.15, 0.02),
                                       ("fp16", 0.02, 0.003)):
    for key in ("sequence", "pooled"):
      error = np.abs(values[precision][key] - reference[key])
      assert error.max() < max_abs, (precision, key, error.max())
      assert error.mean() < mean_abs, (precision, key, error.mean())
      assert error.max() > 0, "%s computed in float32" % precision


def test_bf16_gradients_point_where_fp32_gradients_do():
  values, _, _ = _run_model(["fp32", "bf16"], with_gradients=True)
  reference = values["fp32"]["gradients"]
  half = values["bf16"]["gradients"]
  assert set(half) == set(reference)
  for name in reference:
    a, b = reference[name].ravel(), half[name].ravel()
    assert half[name].dtype == np.float32
    if np.linalg.norm(a) < 1e-6:
      continue
    cosine = a.dot(b) / (np.linalg.norm(a) * np.linalg.norm(b))
    assert cosine > 0.98, (name, cosine)


def test_layer_norm_of_half_input_is_computed_in_float32():
  with tf.Graph().as_default():
    # float16 cannot hold 1e-12 (the epsilon) nor these squares, so a
    # float16 LayerNorm would return inf/NaN or zeros here.
    x = tf.constant([[300.0, 310.0, 290.0, 305.0]], tf.float16)
    y = modeling.layer_norm(x)
    assert y.dtype == tf.float16
    assert [v.dtype.base_dtype for v in tf.global_variables()] == [
        tf.float32, tf.float32]
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      out = session.run(y).astype(np.float64)
  expected = np.array([[0.0, 310 - 301.25, 290 - 301.25, 305 - 301.25]])
  expected[0, 0] = 300 - 301.25
  expected /= np.sqrt(np.mean(expected ** 2))
  np.testing.assert_allclose(out, expected, atol=2e-3)


def test_unknown_precision_names_the_flag():
  with pytest.raises(ValueError, match=r"--precision=fp8: expected one of "
                     r"fp32, bf16, fp16"):
    modeling.compute_dtype_of("fp8")


def test_fp16_loss_scaling_skips_an_overflow_step_and_recovers():
  """An overflowing step changes no weight, halves the scale, and training
  goes on with the next good step."""
  with tf.Graph().as_default():
    x = tf.placeholder(tf.float32, [])
    w = tf.get_variable("w", [], initializer=tf.constant_initializer(1.0))
    loss = tf.square(w * x)
    train_op = optimization.create_optimizer(
        loss, 0.1, num_train_steps=100, num_warmup_steps=0, use_tpu=False,
        optimizer="adamw", precision="fp16")
    scale = [v for v in tf.local_variables() if v.op.name ==
             "loss_scale/scale"][0]
    step = tf.train.get_global_step()
    # The loss scale is not part of the model: nothing extra in checkpoints.
    assert not [v for v in tf.global_variables() if "loss_scale" in v.name]
    with tf.Session() as session:
      session.run([tf.global_variables_initializer(),
                   tf.local_variables_initializer()])
      assert session.run(scale) == 2.0 ** 15
      session.run(train_op, {x: 1.0})
      w1 = session.run(w)
      assert w1 < 1.0  # A normal step moves w.
      # loss * 2^15 = (1e18)^2 * 2^15 overflows float32: inf gradients.
      session.run(train_op, {x: 1e18})
      assert session.run(w) == w1  # Skipped: w untouched, still finite.
      assert session.run(scale) == 2.0 ** 14
      assert session.run(step) == 2  # The skipped step still counts.
      session.run(train_op, {x: 1.0})
      w3 = session.run(w)
      assert np.isfinite(w3) and w3 < w1
      assert session.run(scale) == 2.0 ** 14


def test_loss_scale_grows_after_good_steps_and_has_a_floor():
  with tf.Graph().as_default():
    loss_scale = optimization.DynamicLossScale(initial_scale=4.0,
                                               growth_interval=3)
    finite = tf.placeholder(tf.bool, [])
    update = loss_scale.update(finite)
    with tf.Session() as session:
      session.run(tf.local_variables_initializer())
      seen = []
      for ok in (True, True, True, True, False, False, False, False):
        session.run(update, {finite: ok})
        seen.append(float(session.run(loss_scale.scale)))
  assert seen == [4.0, 4.0, 8.0, 8.0, 4.0, 2.0, 1.0, 1.0]


def test_mixed_precision_is_refused_where_it_cannot_work(caplog):
  base = dict(precision="fp32", gradient_accumulation_steps=1, use_tpu=False,
              use_xla=False, albert_hub_module_handle=None)

  def check(**overrides):
    values = dict(base)
    values.update(overrides)
    options = command_line.options(values, {})
    estimators.check_performance_flags(
        options, use_tpu=options.use_tpu,
        hub_module=options.albert_hub_module_handle)

  check(precision="bf16")
  if not tf.config.list_physical_devices("GPU"):
    with caplog.at_level("WARNING", logger="tensorflow"):
      check(precision="fp16")
    assert any("--precision=fp16 without a GPU" in r.getMessage()
               for r in caplog.records)
  with pytest.raises(ValueError, match="--precision=fp16 is for GPUs"):
    check(precision="fp16", use_tpu=True)
  with pytest.raises(ValueError, match="--precision=bf16 needs the model "
                     "built from --albert_config_file"):
    check(precision="bf16", albert_hub_module_handle="/some/hub/module")
  with pytest.raises(ValueError, match="--use_xla is for CPUs and GPUs"):
    check(use_xla=True, use_tpu=True)


def test_bf16_pretraining_learns_as_fp32_does(data, tmp_path):
  directory, path = data
  results = {}
  for precision in ("fp32", "bf16"):
    out = str(tmp_path / precision)
    results[precision] = run_pretraining.run(
        run_pretraining_test.options_for(
            directory, path, out, do_train=True, do_eval=True,
            num_train_steps=120, precision=precision,
            # 120 steps end on either side of a sudden drop in the loss
            # depending on the data order and rounding: with some seeds
            # fp32 and bf16 straddle it (seed 3 before the seeded order,
            # seed 1 since). Seed 2 is clear of it in both precisions.
            random_seed=2))
    # The checkpoint is float32 under the released names.
    shapes = dict(tf.train.list_variables(tf.train.latest_checkpoint(out)))
    assert "bert/encoder/transformer/group_0/inner_group_0/attention_1/self/" \
        "query/kernel" in shapes
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(out))
    dtypes = reader.get_variable_to_dtype_map()
    assert set(dtypes.values()) == {tf.float32, tf.int64}
  fp32, bf16 = results["fp32"], results["bf16"]
  assert bf16["global_step"] == 120
  # Untrained: ~3.7 nats (see run_pretraining_test); both learn, and bf16
  # ends where fp32 does, within noise.
  assert bf16["masked_lm_loss"] < 0.8 * 3.7
  assert abs(bf16["masked_lm_accuracy"] - fp32["masked_lm_accuracy"]) < 0.08
  assert abs(bf16["masked_lm_loss"] - fp32["masked_lm_loss"]) < 0.15
