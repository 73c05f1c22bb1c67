# coding=utf-8
"""--gradient_accumulation_steps: N batches of b update as one batch of N*b."""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import estimators
from albert import modeling
from albert import optimization
from albert import progress
from albert import run_pretraining

import run_pretraining_test

tf.disable_v2_behavior()

CONFIG = modeling.AlbertConfig(
    vocab_size=50, embedding_size=8, hidden_size=16, num_hidden_layers=2,
    num_attention_heads=2, intermediate_size=32, hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0, max_position_embeddings=16,
    # Wider than ALBERT's 0.02, so that attention is far from uniform and
    # every variable gets a gradient well above rounding noise.
    initializer_range=0.3)
SEQ = 12
BIG_BATCH = 32


def _data(seed=0):
  rng = np.random.RandomState(seed)
  input_ids = rng.randint(0, CONFIG.vocab_size, [BIG_BATCH, SEQ])
  input_mask = (rng.rand(BIG_BATCH, SEQ) < 0.9).astype(np.int32)
  input_mask[:, 0] = 1
  labels = rng.randint(0, 3, [BIG_BATCH])
  return input_ids.astype(np.int32), input_mask, labels.astype(np.int32)


def classifier_loss(ids, mask, label):
  """The tiny model's 3-way classification loss (float32 scalar).

  A mean over the batch, as every fine-tuning loss is; scaled so that the
  gradient's global norm is well above 1 and clipping takes part.
  """
  model = modeling.AlbertModel(CONFIG, True, ids, mask)
  logits = modeling.dense(model.get_pooled_output(), 3,
                          initializer=modeling.create_initializer(0.3),
                          name="classifier")
  return 100.0 * tf.reduce_mean(
      tf.nn.sparse_softmax_cross_entropy_with_logits(labels=label,
                                                     logits=logits))


def _train(optimizer, accumulation_steps, updates, initial_values=None):
  """Variables after `updates` updates of the 32-example batch.

  The batch goes in as `accumulation_steps` slices, one session run each.
  """
  input_ids, input_mask, labels = _data()
  with tf.Graph().as_default():
    tf.set_random_seed(7)
    ids = tf.placeholder(tf.int32, [None, SEQ])
    mask = tf.placeholder(tf.int32, [None, SEQ])
    label = tf.placeholder(tf.int32, [None])
    loss = classifier_loss(ids, mask, label)
    train_op = optimization.create_optimizer(
        loss, 1e-2, num_train_steps=10, num_warmup_steps=2, use_tpu=False,
        optimizer=optimizer, gradient_accumulation_steps=accumulation_steps)
    step = tf.train.get_global_step()
    learning_rate = optimization.get_learning_rate()
    tvars = tf.trainable_variables()
    # Accumulators are local: checkpoints hold what they always held.
    assert not [v for v in tf.global_variables()
                if "gradient_accumulation" in v.name]
    with tf.Session() as session:
      session.run([tf.global_variables_initializer(),
                   tf.local_variables_initializer()])
      if initial_values is None:
        initial_values = session.run({v.op.name: v for v in tvars})
      for v in tvars:
        v.load(initial_values[v.op.name], session)
      size = BIG_BATCH // accumulation_steps
      rates, steps = [], []
      for _ in range(updates):
        for k in range(accumulation_steps):
          part = slice(k * size, (k + 1) * size)
          rates.append(session.run(learning_rate))
          session.run(train_op, {ids: input_ids[part], mask: input_mask[part],
                                 label: labels[part]})
          steps.append(session.run(step))
      final = session.run({v.op.name: v for v in tvars})
  return initial_values, final, rates, steps


@pytest.mark.parametrize("optimizer", ["adamw", "lamb"])
def test_four_batches_of_8_update_as_one_batch_of_32(optimizer):
  initial, big, _, big_steps = _train(optimizer, 1, updates=2)
  _, accumulated, rates, steps = _train(optimizer, 4, updates=2,
                                        initial_values=initial)
  # global_step counts updates: it moves on every 4th run only.
  assert big_steps == [1, 2]
  assert steps == [0, 0, 0, 1, 1, 1, 1, 2]
  # The learning rate follows the updates (warmup of 2 updates: 0, then
  # half the peak), not the runs.
  np.testing.assert_allclose(rates, [0.0] * 4 + [5e-3] * 4, rtol=1e-6)
  for name in initial:
    if name.endswith("attention_1/self/key/bias"):
      # A key bias adds the same amount to every logit of a softmax row: its
      # true gradient is 0, what is computed is rounding noise, and Adam
      # turns any noise into a full-size step.
      continue
    big_update = big[name] - initial[name]
    accumulated_update = accumulated[name] - initial[name]
    # Training moved every variable, so equal updates mean something.
    assert np.abs(big_update).max() > 1e-4, name
    # Float tolerance: the 32 examples' gradients are summed in another
    # order, and Adam magnifies that for the few weights whose gradient is
    # near its epsilon: 1e-3 of the update (a wrong norm or a lost batch
    # shows as 1e-2 and more).
    np.testing.assert_allclose(accumulated_update, big_update, rtol=0,
                               atol=1e-3 * np.abs(big_update).max(),
                               err_msg=name)


def test_gradient_norm_of_repeated_embedding_rows_is_exact():
  """Clipping uses the norm of the summed gradient, not of its rows."""
  with tf.Graph().as_default():
    table = tf.get_variable("table", [4, 2],
                            initializer=tf.ones_initializer())
    # Token 1 twice: its rows add up to [6, 8] (norm 10); the rows alone
    # have norm sqrt(9 + 16 + 9 + 16) = 7.07.
    lookup = tf.nn.embedding_lookup(table, [1, 1])
    loss = tf.reduce_sum(lookup * tf.constant([[3.0, 4.0], [3.0, 4.0]]))
    grads_and_vars = optimization.compute_gradients(loss, [table])
    assert isinstance(grads_and_vars[0][0], tf.IndexedSlices)
    clipped = optimization.clip_gradients(grads_and_vars, clip_norm=1.0)
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      value = session.run(tf.convert_to_tensor(clipped[0][0]))
  np.testing.assert_allclose(value[1], [0.6, 0.8], rtol=1e-6)
  np.testing.assert_allclose(np.delete(value, 1, axis=0), 0.0)


def test_accumulation_without_an_update_changes_nothing():
  with tf.Graph().as_default():
    w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
    x = tf.placeholder(tf.float32, [2])
    train_op = optimization.create_optimizer(
        tf.reduce_sum(w * x), 0.1, 10, 0, False,
        gradient_accumulation_steps=3)
    with tf.Session() as session:
      session.run([tf.global_variables_initializer(),
                   tf.local_variables_initializer()])
      session.run(train_op, {x: [1.0, 2.0]})
      session.run(train_op, {x: [3.0, 4.0]})
      np.testing.assert_array_equal(session.run(w), [1.0, 1.0])
      accumulator = [v for v in tf.local_variables()
                     if v.op.name == "gradient_accumulation/w"][0]
      np.testing.assert_allclose(session.run(accumulator), [4.0, 6.0])
      session.run(train_op, {x: [5.0, 6.0]})
      assert session.run(tf.train.get_global_step()) == 1
      assert (session.run(w) < 1.0).all()
      np.testing.assert_array_equal(session.run(accumulator), [0.0, 0.0])


def test_accumulation_steps_must_be_positive_and_not_on_tpu():
  with pytest.raises(ValueError, match=r"--gradient_accumulation_steps=0 "
                     "must be > 0"):
    command_line.check_numeric_flags({"gradient_accumulation_steps": 0})
  with pytest.raises(ValueError, match="on TPU use a bigger "
                     "--train_batch_size"):
    estimators.check_performance_flags(command_line.options(
        dict(precision="fp32", gradient_accumulation_steps=4, use_xla=False),
        {}), use_tpu=True, hub_module=None)


def test_throughput_hook_counts_updates_of_the_effective_batch(caplog):
  with tf.Graph().as_default():
    step = tf.train.get_or_create_global_step()
    hook = progress.ThroughputHook(8, num_train_steps=3, every_n_steps=1,
                                   runs_per_step=4)
    hook.begin()
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      hook.after_create_session(session, None)
      with caplog.at_level("INFO", logger="tensorflow"):
        for _ in range(12):
          hook.after_run(None, tf.train.SessionRunValues(None, None, None))
        hook.end(session)
  del step
  lines = [r.getMessage() for r in caplog.records]
  assert any(line.startswith("step 2/3") for line in lines), lines
  assert any(line.startswith("step 3/3") for line in lines), lines
  assert not any(line.startswith("step 4") for line in lines), lines
  summary = [line for line in lines if line.startswith("trained")]
  assert summary and summary[0].startswith("trained 3 steps (to step 3)")


def test_pretraining_with_accumulation_counts_updates_and_resumes(tmp_path,
                                                                 caplog):
  directory = str(tmp_path)
  path = os.path.join(directory, "train.tfrecord")
  run_pretraining_test.write_synthetic_records(path, 64, seed=1)
  out = str(tmp_path / "model")
  options = dict(do_train=True, num_train_steps=6, num_warmup_steps=0,
                 train_batch_size=4, gradient_accumulation_steps=2,
                 save_checkpoints_steps=3, iterations_per_loop=3)
  with caplog.at_level("WARNING", logger="tensorflow"):
    run_pretraining.run(run_pretraining_test.options_for(
        directory, path, out, **options))
  # The Estimator's "global step has not been increased" is expected
  # between updates: not shown.
  assert not [r for r in caplog.records
              if "has not been increased" in r.getMessage()]
  # 6 updates of 2 batches each; checkpoints at updates 3 and 6.
  assert checkpoints.checkpoint_step(tf.train.latest_checkpoint(out)) == 6
  steps = sorted(checkpoints.checkpoint_step(p) for p in
                 tf.train.get_checkpoint_state(out).all_model_checkpoint_paths)
  assert steps[-2:] == [3, 6]
  # A second run with more steps resumes at 6.
  options["num_train_steps"] = 8
  options["do_eval"] = True
  result = run_pretraining.run(run_pretraining_test.options_for(
      directory, path, out, **options))
  assert result["global_step"] == 8
