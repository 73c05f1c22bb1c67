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
"""Log lines a person reads: progress, rates, ETA, and only our own.

`log_progress` marks a progress line; `show_only_own_logs` hides other
INFO output around front ends; `log_each_line_once` (every CLI) prints each
line once and this package's lines without TensorFlow's prefix;
`ThroughputHook` logs step, loss, examples/s and ETA while training;
`format_seconds` is the one duration format.

Not here: what is logged about checkpoints or flags (their modules).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib
import logging
import os
import time

import tensorflow.compat.v1 as tf



_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def log_progress(message, *args):
  """Logs a progress line (rate, count, ETA, summaries) at INFO.

  `show_only_own_logs` keeps these lines when it hides other INFO output.
  """
  tf.logging.info(message, *args)


def _is_own(record):
  """True for a log record made by this package's code."""
  return os.path.dirname(os.path.abspath(record.pathname)) == _PACKAGE_DIR


class _OwnMessagesFilter(logging.Filter):
  """Passes progress lines, this package's warnings, and anyone's errors."""

  def filter(self, record):
    if record.levelno >= logging.ERROR:
      return True
    return _is_own(record) and (record.levelno >= logging.WARNING or
                                record.funcName == "log_progress")


class _OwnLinesFormatter(logging.Formatter):
  """This package's lines as plain text; everyone else's as before.

  Progress and result lines are read by people in terminals, CI logs,
  nohup files and notebooks alike; TensorFlow's "INFO:tensorflow:" prefix
  only gets in the way. Our warnings and errors keep their level
  ("WARNING: ...") so they still stand out.
  """

  def __init__(self, others):
    super(_OwnLinesFormatter, self).__init__()
    self._others = others or logging.Formatter(logging.BASIC_FORMAT)

  def format(self, record):
    if not _is_own(record):
      return self._others.format(record)
    text = record.getMessage()
    if record.levelno >= logging.WARNING:
      text = "%s: %s" % (record.levelname, text)
    if record.exc_info:
      text += "\n" + self.formatException(record.exc_info)
    return text


@contextlib.contextmanager
def show_only_own_logs():
  """Within the block: progress lines, our warnings and all errors only.

  For the quickstart and other front ends meant to be read by a person:
  estimator config dumps and deprecation notices drown the progress lines.
  The previous logging state comes back when the block ends, so calling a
  front end as a library (e.g. from tests) leaves no global change behind.
  """
  logger = logging.getLogger("tensorflow")
  previous_verbosity = tf.logging.get_verbosity()
  previous_propagate = logger.propagate
  own_filter = _OwnMessagesFilter()
  tf.logging.set_verbosity(tf.logging.INFO)
  logger.addFilter(own_filter)
  log_each_line_once()
  try:
    yield
  finally:
    logger.removeFilter(own_filter)
    tf.logging.set_verbosity(previous_verbosity)
    logger.propagate = previous_propagate


def log_each_line_once():
  """Stops tf.logging lines from printing twice under absl.

  TensorFlow's logger gets its own handler when it is first used before the
  root logger has one; once the root logger gets a handler too (absl's, or
  a later logging.basicConfig), every line would also print again through
  propagation. Every CLI's main calls this. It also prints this
  package's own lines without TensorFlow's prefix (`_OwnLinesFormatter`).
  """
  logger = logging.getLogger("tensorflow")
  if logger.handlers:
    logger.propagate = False
  for handler in logger.handlers:
    if not isinstance(handler.formatter, _OwnLinesFormatter):
      handler.setFormatter(_OwnLinesFormatter(handler.formatter))


class _AccumulationStepFilter(logging.Filter):
  """Drops the Estimator's "global step ... has not been increased".

  With --gradient_accumulation_steps=N the global step advances on every
  Nth session run by design; the Estimator's step counter would warn about
  each of the others.
  """

  def filter(self, record):
    return not record.getMessage().startswith("It seems that global step")


_ACCUMULATION_STEP_FILTER = _AccumulationStepFilter()


class ThroughputHook(tf.train.SessionRunHook):
  """Logs step, loss, examples/s and ETA every `every_n_steps` steps."""

  def __init__(self, batch_size, num_train_steps, every_n_steps=100,
               loss=None, runs_per_step=1):
    """Args: global batch size, the last step, interval, optional loss,
    session runs (accumulated batches) per step."""
    self._batch_size = batch_size * runs_per_step
    self._runs_per_step = runs_per_step
    self._runs = 0
    self._num_train_steps = num_train_steps
    self._every_n_steps = max(1, every_n_steps)
    self._loss = loss
    self._last_time = None
    self._last_step = None
    self._first_step = None
    self._start_time = None
    self._global_step = None
    self._step = None

  def begin(self):
    self._global_step = tf.train.get_global_step()
    if self._runs_per_step > 1:
      logging.getLogger("tensorflow").addFilter(_ACCUMULATION_STEP_FILTER)

  def after_create_session(self, session, coord):
    # Read once and count runs from here: a global step fetched with the
    # train op may be read before or after its increment. On CPU/GPU (the
    # only place this hook is used) one run is one step, or one batch of
    # `runs_per_step` when gradients are accumulated.
    self._step = int(session.run(self._global_step))
    self._runs = 0

  def before_run(self, run_context):
    if self._loss is None:
      return None
    return tf.train.SessionRunArgs({"loss": self._loss})

  def after_run(self, run_context, run_values):
    now = time.time()
    self._runs += 1
    if self._runs % self._runs_per_step:
      return
    self._step += 1
    step = self._step
    if self._last_step is None:
      # The first step carries graph start-up; rates are timed from its end.
      self._last_step, self._last_time = step, now
      self._first_step, self._start_time = step, now
      return
    if step % self._every_n_steps and step < self._num_train_steps:
      return
    rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
    remaining = max(self._num_train_steps - step, 0) / max(rate, 1e-9)
    loss = (run_values.results or {}).get("loss")
    log_progress(
        "step %d/%d%s  %.2f steps/s  %.1f examples/s  ETA %s", step,
        self._num_train_steps,
        "" if loss is None else "  loss %.4f" % loss, rate,
        rate * self._batch_size, format_seconds(remaining))
    self._last_step, self._last_time = step, now

  def end(self, session):
    logging.getLogger("tensorflow").removeFilter(_ACCUMULATION_STEP_FILTER)
    if self._first_step is None or self._last_step == self._first_step:
      return
    elapsed = max(self._last_time - self._start_time, 1e-9)
    timed_steps = self._last_step - self._first_step
    log_progress(
        "trained %d steps (to step %d): %.1f examples/s over %s (the first "
        "step, with start-up, untimed)", timed_steps + 1, self._last_step,
        timed_steps * self._batch_size / elapsed, format_seconds(elapsed))


def format_seconds(seconds):
  """12345 -> '3h25m45s'; short forms for short times."""
  seconds = int(round(seconds))
  hours, rest = divmod(seconds, 3600)
  minutes, secs = divmod(rest, 60)
  if hours:
    return "%dh%02dm%02ds" % (hours, minutes, secs)
  if minutes:
    return "%dm%02ds" % (minutes, secs)
  return "%ds" % secs
