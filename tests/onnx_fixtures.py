# coding=utf-8
"""TensorFlow references and checkpoints for the ONNX export tests.

  task_graph(config, head, ids, mask, segments, num_labels)
      builds the encoder and a task head with the task's own function
      (classifier_utils / squad_heads / race_utils) in the default graph
  save_task_checkpoint(config, path, head, ...)
      a checkpoint of that graph with non-trivial random weights
  tf_outputs(config, checkpoint, head, ids, mask, segments)
      what TensorFlow computes from that checkpoint
  write_checkpoint(weights, path)
      a checkpoint holding exactly {name: numpy array}
"""

import numpy as np
import tensorflow.compat.v1 as tf

import hub_fixtures

from albert import classifier_utils
from albert import modeling
from albert import race_utils
from albert import squad_heads


def task_graph(config, head, ids, mask, segments, num_labels=3):
  """{output name: tensor} of the encoder and head, named as in ONNX."""
  if head is None:
    model = modeling.AlbertModel(config, False, ids, mask, segments)
    return {"sequence_output": model.get_sequence_output(),
            "pooled_output": model.get_pooled_output()}
  labels = tf.zeros_like(ids[:, 0])
  if head == "classifier":
    task = "sts-b" if num_labels == 1 else "check"
    _, _, probabilities, logits, _ = classifier_utils.create_model(
        config, False, ids, mask, segments,
        tf.cast(labels, tf.float32) if num_labels == 1 else labels,
        num_labels, False, task, None)
    return {"logits": logits, "probabilities": probabilities}
  if head == "squad":
    start, end = squad_heads.create_v1_model(config, False, ids, mask,
                                             segments, False)
    return {"start_logits": start, "end_logits": end}
  if head == "race":
    length = ids.shape[1] // race_utils.NUM_CHOICES
    _, _, probabilities, logits, _ = race_utils.create_model(
        config, False, ids, mask, segments, labels, race_utils.NUM_CHOICES,
        False, length, 0.1)
    return {"choice_logits": logits, "probabilities": probabilities}
  raise ValueError(head)


def _placeholders(width):
  return [tf.placeholder(tf.int32, [None, width], name=name)
          for name in ("input_ids", "input_mask", "segment_ids")]


def save_task_checkpoint(config, path, head=None, num_labels=3, seed=0,
                         width=32):
  """Saves the encoder (and head) with noise on every variable.

  `width` only shapes the graph (RACE needs a static multiple of 4): the
  variables do not depend on it.

  Returns:
    {variable name: numpy value}.
  """
  with tf.Graph().as_default():
    tf.set_random_seed(seed)
    task_graph(config, head, *_placeholders(width), num_labels=num_labels)
    return hub_fixtures.save_with_noise(tf.global_variables(), path, seed)


def tf_outputs(config, checkpoint, head, ids, mask, segments, num_labels=3):
  """What TensorFlow computes from the checkpoint: {name: numpy array}."""
  with tf.Graph().as_default():
    placeholders = _placeholders(ids.shape[1])
    outputs = task_graph(config, head, *placeholders, num_labels=num_labels)
    with tf.Session() as sess:
      tf.train.Saver().restore(sess, checkpoint)
      return sess.run(outputs, dict(zip(placeholders,
                                        (ids, mask, segments))))


def write_checkpoint(weights, path):
  """A checkpoint holding exactly `weights` ({name: numpy array})."""
  with tf.Graph().as_default():
    variables = [tf.Variable(value, name=name)
                 for name, value in sorted(weights.items())]
    with tf.Session() as sess:
      sess.run(tf.variables_initializer(variables))
      tf.train.Saver(variables).save(sess, path, write_meta_graph=False,
                                     write_state=False)
  return path


def read_checkpoint(path):
  """{name: numpy array} of every variable of a checkpoint."""
  reader = tf.train.load_checkpoint(path)
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()}


def random_inputs(rng, config, batch, length, pad_from=None):
  """int32 (ids, mask, segments) [batch, length]; row 0 padded from
  pad_from on."""
  ids = rng.randint(0, config.vocab_size, (batch, length)).astype(np.int32)
  mask = np.ones((batch, length), np.int32)
  if pad_from is not None:
    mask[0, pad_from:] = 0
    ids[0, pad_from:] = 0
  segments = (np.arange(length)[None, :] >= length // 2).astype(
      np.int32).repeat(batch, 0)
  return ids, mask, segments
