# coding=utf-8
"""Tests for albert/command_line.py: TensorFlow errors as one line."""

import tensorflow.compat.v1 as tf

from albert import command_line

tf.disable_v2_behavior()


def test_error_line_skips_the_graph_frames_of_other_errors():
  error = tf.errors.NotFoundError(
      None, None, "Graph execution error:\n\nDetected at node 'x' defined "
      "at (most recent call last):\n  File \"a.py\", line 1\nNode: 'x'\n"
      "Key output_bias not found in checkpoint\n\t [[{{node x}}]]")
  assert command_line.error_line(error) == (
      "Key output_bias not found in checkpoint (TensorFlow NotFoundError; is "
      "the checkpoint complete and made for this config?)")
