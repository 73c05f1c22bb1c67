# coding=utf-8
"""Shared pytest set-up: every test starts with the same logging state."""

import logging

import pytest


@pytest.fixture(autouse=True)
def tensorflow_logger_state():
  """Restores tensorflow's logger (propagation, level) after each test.

  A command-line `main` stops tensorflow's logger from propagating (so each
  line prints once under absl) and sets its verbosity; left that way, later
  tests' caplog, which listens on the root logger, would see nothing.
  """
  logger = logging.getLogger("tensorflow")
  propagate, level = logger.propagate, logger.level
  yield
  logger.propagate = propagate
  logger.setLevel(level)
