# coding=utf-8
"""Checks for the one-line errors and the warnings users see (for tests).

`one_line` asserts an error is a one-line ValueError (which the command lines
print as `prog: error: ...`); the `tf_warnings` fixture collects what
tf.logging.warning logs during a test (through `WarningMessages`, a handler
also used on its own), and the `warnings` fixture what tf.logging.warning is
called with. Test files use a fixture by importing it (`from error_checks
import tf_warnings`).
"""

import logging

import pytest
import tensorflow.compat.v1 as tf


class WarningMessages(logging.Handler):
  """A logging handler that keeps the messages of WARNING and above."""

  def __init__(self):
    super(WarningMessages, self).__init__(logging.WARNING)
    self.messages = []

  def emit(self, record):
    self.messages.append(record.getMessage())


@pytest.fixture
def tf_warnings():
  """The messages tf.logging.warning logs while the test runs."""
  handler = WarningMessages()
  logger = logging.getLogger("tensorflow")
  logger.addHandler(handler)
  try:
    yield handler.messages
  finally:
    logger.removeHandler(handler)


@pytest.fixture
def warnings(monkeypatch):
  """The tf.logging.warning calls' messages during a test (formatted)."""
  messages = []
  real_warning = tf.logging.warning

  def record(msg, *args, **kwargs):
    messages.append(msg % args if args else msg)
    real_warning(msg, *args, **kwargs)

  monkeypatch.setattr(tf.logging, "warning", record)
  return messages


def one_line(error):
  """The error's message, asserting it is one line of a ValueError."""
  assert isinstance(error, ValueError)
  message = str(error)
  assert message and "\n" not in message
  return message
