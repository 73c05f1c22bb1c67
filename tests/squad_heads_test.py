# coding=utf-8
"""Tests for albert.squad_heads: variables, math, masking, beam, model_fn.

The math is checked against numpy versions of the released heads, run on a
fixed encoder output (create_albert replaced by a constant) with random
head weights; the variable and model_fn tests use a tiny real encoder.
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import estimators
from albert import fine_tuning_utils
from albert import modeling
from albert import squad_heads

tf.disable_v2_behavior()

B, S, H = 2, 16, 32
K, E = 3, 2  # start_n_top, end_n_top
LENGTHS = (16, 12)  # Real tokens per row; the second row is padded.

V1_VARIABLES = {
    "cls/squad/output_weights": [2, H],
    "cls/squad/output_bias": [2],
}
V2_VARIABLES = {
    "start_logits/dense/kernel": [H, 1],
    "start_logits/dense/bias": [1],
    "end_logits/dense_0/kernel": [2 * H, H],
    "end_logits/dense_0/bias": [H],
    "end_logits/LayerNorm/gamma": [H],
    "end_logits/LayerNorm/beta": [H],
    "end_logits/dense_1/kernel": [H, 1],
    "end_logits/dense_1/bias": [1],
    "answer_class/dense_0/kernel": [2 * H, H],
    "answer_class/dense_0/bias": [H],
    "answer_class/dense_1/kernel": [H, 1],
}


def tiny_config():
  return modeling.AlbertConfig(
      vocab_size=50, embedding_size=16, hidden_size=H, num_hidden_layers=2,
      num_attention_heads=4, intermediate_size=64,
      max_position_embeddings=32, hidden_dropout_prob=0.0,
      attention_probs_dropout_prob=0.0)


def squad_features(seed=0):
  """numpy features in the SQuAD layout [CLS] q q q [SEP] doc.. [SEP] pad.

  Returns:
    dict of int32 arrays; p_mask is 1 on the question, both [SEP]s and
    padding.
  """
  rng = np.random.RandomState(seed)
  input_ids = rng.randint(1, 50, size=(B, S)).astype(np.int32)
  input_mask = np.zeros((B, S), np.int32)
  segment_ids = np.zeros((B, S), np.int32)
  p_mask = np.ones((B, S), np.int32)
  for b, length in enumerate(LENGTHS):
    input_mask[b, :length] = 1
    input_ids[b, length:] = 0
    segment_ids[b, 5:length] = 1
    p_mask[b, 0] = 0
    p_mask[b, 5:length - 1] = 0
  return {
      "unique_ids": np.array([1000000000, 1000000001], np.int32),
      "input_ids": input_ids,
      "input_mask": input_mask,
      "segment_ids": segment_ids,
      "p_mask": p_mask,
      "start_positions": np.array([6, 0], np.int32),
      "end_positions": np.array([8, 0], np.int32),
      "is_impossible": np.array([0, 1], np.int32),
  }


def constant_features(seed=0, keys=None):
  values = squad_features(seed)
  keys = keys or values.keys()
  return {k: tf.constant(values[k]) for k in keys}


def head_variables():
  """{name: shape} of the trainable variables outside the encoder."""
  return {v.op.name: v.shape.as_list() for v in tf.trainable_variables()
          if not v.op.name.startswith("bert/")}


@pytest.fixture
def fixed_encoder(monkeypatch):
  """Replaces the encoder with a fixed random sequence output [B, S, H]."""
  sequence_output = np.random.RandomState(1).normal(
      size=(B, S, H)).astype(np.float32)

  def fake_create_albert(albert_config, is_training, input_ids, input_mask,
                         segment_ids, use_one_hot_embeddings,
                         use_einsum=True, hub_module=None):
    del albert_config, is_training, input_ids, input_mask, segment_ids
    del use_one_hot_embeddings, use_einsum, hub_module
    output = tf.constant(sequence_output)
    return output[:, 0], output

  monkeypatch.setattr(fine_tuning_utils, "create_albert", fake_create_albert)
  return sequence_output.astype(np.float64)


def randomize_head(sess, seed=2):
  """Gives every head variable random values; returns them by name."""
  rng = np.random.RandomState(seed)
  values = {}
  for var in tf.trainable_variables():
    value = (rng.normal(size=var.shape.as_list()) * 0.3).astype(np.float32)
    var.load(value, sess)
    values[var.op.name] = value.astype(np.float64)
  return values


# numpy references ------------------------------------------------------------


def np_log_softmax(x):
  shifted = x - x.max(axis=-1, keepdims=True)
  return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def np_mask(x, p_mask):
  return x * (1 - p_mask) - 1e30 * p_mask


def np_layer_norm(x, gamma, beta):
  mean = x.mean(-1, keepdims=True)
  var = ((x - mean) ** 2).mean(-1, keepdims=True)
  return (x - mean) / np.sqrt(var + 1e-12) * gamma + beta


def np_end_logits(w, seq, start_state):
  """End logits [S] of one row seq [S, H] given one start state [H]."""
  x = np.concatenate([seq, np.tile(start_state, (seq.shape[0], 1))], -1)
  x = np.tanh(x @ w["end_logits/dense_0/kernel"] +
              w["end_logits/dense_0/bias"])
  x = np_layer_norm(x, w["end_logits/LayerNorm/gamma"],
                    w["end_logits/LayerNorm/beta"])
  return (x @ w["end_logits/dense_1/kernel"] +
          w["end_logits/dense_1/bias"])[:, 0]


def np_v2_start_and_cls(w, seq, p_mask):
  """(start_log_probs [B, S], cls_logits [B]) of the v2 head."""
  start = (seq @ w["start_logits/dense/kernel"])[..., 0]
  start = start + w["start_logits/dense/bias"][0]
  start_log_probs = np_log_softmax(np_mask(start, p_mask))
  start_p = np.exp(start_log_probs)
  feature = np.concatenate(
      [np.einsum("bs,bsh->bh", start_p, seq), seq[:, 0]], -1)
  hidden = np.tanh(feature @ w["answer_class/dense_0/kernel"] +
                   w["answer_class/dense_0/bias"])
  cls_logits = (hidden @ w["answer_class/dense_1/kernel"])[:, 0]
  return start_log_probs, cls_logits


def assert_log_probs_close(actual, expected, p_mask):
  # Allowed positions compare as numbers; masked ones are ~ -1e30.
  allowed = p_mask == 0
  np.testing.assert_allclose(actual[allowed], expected[allowed], atol=2e-4)
  assert np.all(actual[~allowed] < -1e29)


# v1 ------------------------------------------------------------------------


def test_v1_variables_outputs_and_names():
  with tf.Graph().as_default() as graph:
    f = constant_features()
    start, end = squad_heads.create_v1_model(
        tiny_config(), True, f["input_ids"], f["input_mask"],
        f["segment_ids"], use_one_hot_embeddings=False)
    assert head_variables() == V1_VARIABLES
    assert start.shape.as_list() == [B, S]
    assert end.shape.as_list() == [B, S]
    # The TFLite export fetches these names.
    assert graph.get_tensor_by_name("start_logits:0") is start
    assert graph.get_tensor_by_name("end_logits:0") is end
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      weights, bias = sess.run(["cls/squad/output_weights:0",
                                "cls/squad/output_bias:0"])
  # truncated_normal(0.02) stays within two standard deviations.
  assert np.all(np.abs(weights) <= 0.04) and weights.std() > 0.005
  np.testing.assert_array_equal(bias, [0.0, 0.0])


def test_v1_logits_are_projection_of_sequence(fixed_encoder):
  with tf.Graph().as_default():
    f = constant_features()
    start, end = squad_heads.create_v1_model(
        None, False, f["input_ids"], f["input_mask"], f["segment_ids"],
        use_one_hot_embeddings=False, use_einsum=False)
    with tf.Session() as sess:
      w = randomize_head(sess)
      start_v, end_v = sess.run([start, end])
  logits = (fixed_encoder @ w["cls/squad/output_weights"].T +
            w["cls/squad/output_bias"])
  np.testing.assert_allclose(start_v, logits[..., 0], atol=1e-4)
  np.testing.assert_allclose(end_v, logits[..., 1], atol=1e-4)


def test_v1_loss_matches_numpy():
  rng = np.random.RandomState(3)
  start_logits = rng.normal(size=(B, S)) * 3
  end_logits = rng.normal(size=(B, S)) * 3
  starts, ends = np.array([2, 9]), np.array([4, 15])
  with tf.Graph().as_default():
    loss = squad_heads.v1_loss(
        tf.constant(start_logits, tf.float32),
        tf.constant(end_logits, tf.float32), tf.constant(starts),
        tf.constant(ends), S)
    with tf.Session() as sess:
      value = sess.run(loss)
  rows = np.arange(B)
  ce_start = -np_log_softmax(start_logits)[rows, starts].mean()
  ce_end = -np_log_softmax(end_logits)[rows, ends].mean()
  assert value == pytest.approx((ce_start + ce_end) / 2, rel=1e-5)


# v2 ------------------------------------------------------------------------


def build_v2(is_training, features, albert_config=None, dropout_prob=0.0):
  return squad_heads.create_v2_model(
      albert_config, is_training, features["input_ids"],
      features["input_mask"], features["segment_ids"],
      use_one_hot_embeddings=False, features=features, max_seq_length=S,
      start_n_top=K, end_n_top=E, dropout_prob=dropout_prob)


def test_v2_variables_same_in_train_and_predict():
  all_variables = {}
  for is_training in (True, False):
    with tf.Graph().as_default():
      outputs = build_v2(is_training, constant_features(), tiny_config(),
                         dropout_prob=0.1)
      assert head_variables() == V2_VARIABLES
      assert all(name.startswith(squad_heads.V2_VARIABLE_PREFIXES)
                 for name in V2_VARIABLES)
      all_variables[is_training] = {
          v.op.name: v.shape.as_list() for v in tf.trainable_variables()}
      shapes = {k: v.shape.as_list() for k, v in outputs.items()}
    if is_training:
      assert shapes == {"start_log_probs": [B, S], "end_log_probs": [B, S],
                        "cls_logits": [B]}
    else:
      assert shapes == {"start_top_log_probs": [B, K],
                        "start_top_index": [B, K],
                        "end_top_log_probs": [B, K * E],
                        "end_top_index": [B, K * E], "cls_logits": [B]}
  assert all_variables[True] == all_variables[False]


def test_v2_training_outputs_match_numpy(fixed_encoder):
  values = squad_features()
  p_mask = values["p_mask"]
  with tf.Graph().as_default():
    outputs = build_v2(True, constant_features())
    with tf.Session() as sess:
      w = randomize_head(sess)
      out = sess.run(outputs)
  start_log_probs, cls_logits = np_v2_start_and_cls(w, fixed_encoder, p_mask)
  assert_log_probs_close(out["start_log_probs"], start_log_probs, p_mask)
  np.testing.assert_allclose(out["cls_logits"], cls_logits, atol=2e-4)
  for b in range(B):
    gold = values["start_positions"][b]
    end = np_log_softmax(np_mask(
        np_end_logits(w, fixed_encoder[b], fixed_encoder[b, gold]),
        p_mask[b]))
    assert_log_probs_close(out["end_log_probs"][b], end, p_mask[b])
  # Masked positions have (numerically) zero probability, and each row is
  # a distribution over the allowed ones.
  for key in ("start_log_probs", "end_log_probs"):
    probs = np.exp(out[key].astype(np.float64))
    assert np.all(probs[p_mask == 1] == 0.0)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)


def test_v2_beam_outputs_match_numpy(fixed_encoder):
  p_mask = squad_features()["p_mask"]
  with tf.Graph().as_default():
    outputs = build_v2(False, constant_features(), dropout_prob=0.9)
    with tf.Session() as sess:
      w = randomize_head(sess)
      out = sess.run(outputs)
  start_log_probs, cls_logits = np_v2_start_and_cls(w, fixed_encoder, p_mask)
  np.testing.assert_allclose(out["cls_logits"], cls_logits, atol=2e-4)
  for b in range(B):
    top_starts = np.argsort(-start_log_probs[b], kind="stable")[:K]
    np.testing.assert_array_equal(out["start_top_index"][b], top_starts)
    np.testing.assert_allclose(out["start_top_log_probs"][b],
                               start_log_probs[b, top_starts], atol=2e-4)
    assert np.all(p_mask[b, out["start_top_index"][b]] == 0)
    for i, start in enumerate(top_starts):
      end_log_probs = np_log_softmax(np_mask(
          np_end_logits(w, fixed_encoder[b], fixed_encoder[b, start]),
          p_mask[b]))
      top_ends = np.argsort(-end_log_probs, kind="stable")[:E]
      for j in range(E):
        # Entry i*E + j is the j-th best end for the i-th best start.
        assert out["end_top_index"][b, i * E + j] == top_ends[j]
        assert out["end_top_log_probs"][b, i * E + j] == pytest.approx(
            end_log_probs[top_ends[j]], abs=2e-4)
    assert np.all(p_mask[b, out["end_top_index"][b]] == 0)


def test_v2_dropout_only_when_training(fixed_encoder):
  del fixed_encoder
  with tf.Graph().as_default():
    features = constant_features()
    train = build_v2(True, features, dropout_prob=0.5)["cls_logits"]
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      draws = [sess.run(train) for _ in range(4)]
  assert any(not np.allclose(draws[0], d) for d in draws[1:])


def test_v2_loss_matches_numpy():
  rng = np.random.RandomState(4)
  start_lp = np_log_softmax(rng.normal(size=(B, S)) * 2)
  end_lp = np_log_softmax(rng.normal(size=(B, S)) * 2)
  cls_logits = np.array([1.5, -0.7])
  values = squad_features()
  with tf.Graph().as_default():
    outputs = {"start_log_probs": tf.constant(start_lp, tf.float32),
               "end_log_probs": tf.constant(end_lp, tf.float32),
               "cls_logits": tf.constant(cls_logits, tf.float32)}
    loss = squad_heads.v2_loss(outputs, constant_features(), S)
    with tf.Session() as sess:
      value = sess.run(loss)
  rows = np.arange(B)
  ce_start = -start_lp[rows, values["start_positions"]].mean()
  ce_end = -end_lp[rows, values["end_positions"]].mean()
  z = values["is_impossible"].astype(np.float64)
  sigmoid_ce = (np.maximum(cls_logits, 0) - cls_logits * z +
                np.log1p(np.exp(-np.abs(cls_logits)))).mean()
  expected = 0.5 * (ce_start + ce_end) + 0.5 * sigmoid_ce
  assert value == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
def test_masking_is_finite_in_half_precision(dtype):
  logits = np.array([[3.0, -2.0, 100.0, -100.0, 0.5]])
  p_mask = np.array([[0, 1, 1, 0, 1]])
  assert squad_heads.masking_value(tf.float32) == 1e30
  assert squad_heads.masking_value(dtype) < dtype.max
  with tf.Graph().as_default():
    masked = squad_heads.mask_logits(tf.constant(logits, dtype),
                                     tf.constant(p_mask))
    log_probs = tf.nn.log_softmax(tf.cast(masked, tf.float32))
    half_log_probs = tf.nn.log_softmax(masked)
    with tf.Session() as sess:
      masked_v, lp, half_lp = sess.run(
          [tf.cast(masked, tf.float32), log_probs,
           tf.cast(half_log_probs, tf.float32)])
  assert masked.dtype == dtype
  for array in (masked_v, lp, half_lp):
    assert np.all(np.isfinite(array))
  assert np.all(masked_v[p_mask == 1] < -1e4)
  np.testing.assert_allclose(masked_v[p_mask == 0], [3.0, -100.0])
  assert np.all(np.exp(lp[p_mask == 1]) == 0.0)
  assert np.all(np.exp(half_lp[p_mask == 1]) == 0.0)


def test_derive_p_mask_matches_feature_layout():
  values = squad_features()
  with tf.Graph().as_default():
    derived = squad_heads.derive_p_mask(tf.constant(values["input_mask"]),
                                        tf.constant(values["segment_ids"]))
    with tf.Session() as sess:
      np.testing.assert_array_equal(sess.run(derived), values["p_mask"])


# model_fn ------------------------------------------------------------------


def v1_model_fn():
  return squad_heads.v1_model_fn_builder(
      tiny_config(), init_checkpoint=None, learning_rate=1e-3,
      num_train_steps=2, num_warmup_steps=0, use_tpu=False,
      use_one_hot_embeddings=False)


def v2_model_fn():
  return squad_heads.v2_model_fn_builder(
      tiny_config(), init_checkpoint=None, learning_rate=1e-3,
      num_train_steps=2, num_warmup_steps=0, use_tpu=False,
      use_one_hot_embeddings=False, max_seq_length=S, start_n_top=K,
      end_n_top=E, dropout_prob=0.1)


def make_estimator(model_fn, model_dir):
  config = estimators.make_run_config(str(model_dir), iterations_per_loop=1,
                                      save_checkpoints_steps=1)
  return estimators.make_estimator(model_fn, config, use_tpu=False,
                                   train_batch_size=B, predict_batch_size=B)


def input_fn_for(keys, repeat=False):
  values = squad_features()

  def input_fn(params):
    d = tf.data.Dataset.from_tensor_slices({k: values[k] for k in keys})
    if repeat:
      d = d.repeat()
    return d.batch(params["batch_size"], drop_remainder=True)

  return input_fn


def test_v1_estimator_predict(tmp_path):
  estimator = make_estimator(v1_model_fn(), tmp_path)
  keys = ("unique_ids", "input_ids", "input_mask", "segment_ids")
  results = list(estimator.predict(input_fn_for(keys)))
  assert len(results) == B
  assert set(results[0]) == {"unique_ids", "start_log_prob", "end_log_prob"}
  assert [r["unique_ids"] for r in results] == [1000000000, 1000000001]
  assert results[0]["start_log_prob"].shape == (S,)


def test_v2_estimator_train_then_predict(tmp_path):
  estimator = make_estimator(v2_model_fn(), tmp_path)
  train_keys = ("input_ids", "input_mask", "segment_ids", "p_mask",
                "start_positions", "end_positions", "is_impossible")
  estimator.train(input_fn_for(train_keys, repeat=True), max_steps=1)
  keys = ("unique_ids", "input_ids", "input_mask", "segment_ids", "p_mask")
  results = list(estimator.predict(input_fn_for(keys)))
  p_mask = squad_features()["p_mask"]
  assert set(results[0]) == {"unique_ids", "start_top_log_probs",
                             "start_top_index", "end_top_log_probs",
                             "end_top_index", "cls_logits"}
  for b, result in enumerate(results):
    assert result["start_top_index"].shape == (K,)
    assert result["end_top_index"].shape == (K * E,)
    assert result["cls_logits"].shape == ()
    assert np.all(p_mask[b, result["start_top_index"]] == 0)
    assert np.all(p_mask[b, result["end_top_index"]] == 0)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_serving_features_without_unique_ids_or_p_mask(version):
  """A SavedModel request has only the three id inputs."""
  model_fn = v1_model_fn() if version == "v1" else v2_model_fn()
  with tf.Graph().as_default() as graph:
    features = {k: tf.placeholder(tf.int32, [None, S], name=k)
                for k in ("input_ids", "input_mask", "segment_ids")}
    spec = model_fn(features, None, tf.estimator.ModeKeys.PREDICT,
                    {"batch_size": B})
    assert spec.loss is None
    assert "unique_ids" not in spec.predictions
    if version == "v1":
      assert set(spec.predictions) == {"start_log_prob", "end_log_prob"}
      assert graph.get_tensor_by_name("start_logits:0") is (
          spec.predictions["start_log_prob"])
      assert graph.get_tensor_by_name("end_logits:0") is (
          spec.predictions["end_log_prob"])
      return
    values = squad_features()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      out = sess.run(spec.predictions,
                     {features[k]: values[k] for k in features})
  # The derived p_mask keeps the beam inside the paragraph.
  for b in range(B):
    assert np.all(values["p_mask"][b, out["start_top_index"][b]] == 0)
    assert np.all(values["p_mask"][b, out["end_top_index"][b]] == 0)
