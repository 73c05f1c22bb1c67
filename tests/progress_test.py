# coding=utf-8
"""Tests for albert/progress.py: the log filter, the throughput hook and how
the package's own lines read in a file or a pipe."""

import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import progress

tf.disable_v2_behavior()


def test_show_only_own_logs_filters_inside_and_restores_after():
  import logging  # pylint: disable=g-import-not-at-top
  seen = []

  class Keep(logging.Handler):

    def emit(self, record):
      seen.append(record.getMessage())

  logger = logging.getLogger("tensorflow")
  handler = Keep()
  logger.addHandler(handler)
  before = tf.logging.get_verbosity()
  try:
    tf.logging.set_verbosity(tf.logging.INFO)
    with progress.show_only_own_logs():
      tf.logging.info("foreign chatter")      # from this test file: hidden
      progress.log_progress("step %d", 7)       # a progress line: shown
    tf.logging.info("after the block")        # filter gone again
  finally:
    logger.removeHandler(handler)
    tf.logging.set_verbosity(before)
  assert seen == ["step 7", "after the block"]


def test_throughput_hook_reports_steps_rate_and_eta():
  lines = []
  original = progress.log_progress
  progress.log_progress = lambda msg, *args: lines.append(msg % args)
  try:
    with tf.Graph().as_default():
      step = tf.train.get_or_create_global_step()
      loss = tf.constant(2.5)
      train_op = step.assign_add(1)
      hook = progress.ThroughputHook(batch_size=8, num_train_steps=6,
                                     every_n_steps=2, loss=loss)
      with tf.train.MonitoredSession(hooks=[hook]) as sess:
        for _ in range(6):
          sess.run(train_op)
  finally:
    progress.log_progress = original
  steps = [l for l in lines if l.startswith("step ")]
  assert [l.split()[1] for l in steps] == ["2/6", "4/6", "6/6"]
  assert all("loss 2.5000" in l and "examples/s" in l and "ETA" in l
             for l in steps)
  assert lines[-1].startswith("trained 6 steps (to step 6)")


def test_own_lines_read_the_same_in_a_file_or_a_pipe():
  """TensorFlow's handler printed "INFO:tensorflow:step ..." wherever the
  output went; our lines are plain text, others' keep their format."""
  import io  # pylint: disable=g-import-not-at-top
  import logging  # pylint: disable=g-import-not-at-top
  logger = logging.getLogger("tensorflow")
  stream = io.StringIO()
  handler = logging.StreamHandler(stream)
  handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
  logger.addHandler(handler)
  verbosity = tf.logging.get_verbosity()
  tf.logging.set_verbosity(tf.logging.INFO)
  try:
    progress.log_each_line_once()
    progress.log_each_line_once()  # Idempotent: not wrapped twice.
    progress.log_progress("step %d/%d  loss %.4f", 10, 20, 0.5)
    checkpoints.warn_random_initialisation("run_classifier SST-2")
    tf.logging.info("Saving checkpoints for 10")  # Not this package's.
  finally:
    logger.removeHandler(handler)
    tf.logging.set_verbosity(verbosity)
  lines = stream.getvalue().splitlines()
  assert lines[0] == "step 10/20  loss 0.5000"
  assert lines[1].startswith("WARNING: *** run_classifier SST-2: neither")
  assert lines[2] == "INFO:tensorflow:Saving checkpoints for 10"
