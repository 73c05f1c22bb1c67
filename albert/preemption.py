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
"""SIGTERM as a preemption notice: finish the step, save, exit EXIT_STATUS.

Cloud machines (spot/preemptible VMs, Kubernetes pods) get SIGTERM some
seconds before they are killed. Every training command handles it here:

  * `handling_sigterm` (the driver, around a whole run) installs the
    handler. Outside training it raises `Preempted` at once, as Ctrl-C
    raises KeyboardInterrupt: nothing is lost, the last checkpoint stands.
  * `while_training` (around `estimator.train`): the handler only sets a
    flag. `StopHook` (every TRAIN spec carries one, see
    `estimators.train_spec`) sees it after the step in flight and asks the
    session to stop; the Estimator's CheckpointSaverHook then saves that
    step's checkpoint (model.ckpt-N, the `checkpoint` state file updated)
    as the session closes. A second SIGTERM only sets the flag again, so
    nothing of ours dies half-way through the save.
  * `stop_if_preempted` (after `estimator.train` returns) raises
    `Preempted`: "preempted at step N; saved model.ckpt-N; rerun the same
    command to continue"; `cli_errors.run_command` prints it and exits
    with EXIT_STATUS (75, EX_TEMPFAIL: try again). No evaluation,
    prediction or export follows.

Under --strategy=multi_worker_mirrored every worker must stop after the
same step: `stop_request_tensors` adds to every training step an all-reduce
of a per-worker "stop" input, which each worker's `StopHook` feeds from its
own flag, so all of them see the sum after the same step and stop together
(through the channel the gradients already take; no shared file). The
chief saves; the others wait (up to --worker_timeout_secs) until output_dir
lists the chief's checkpoint of that step, then exit with the same status.

SIGINT is not handled here: Ctrl-C still ends a run at once (exit 130).

Not here: the exit line and status of other endings (cli_errors), the
checkpoint writing itself (the Estimator), the driver's sequence (driver).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib
import os
import signal
import threading
import time

import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import cli_errors

# The exit status of a preempted run: EX_TEMPFAIL (sysexits.h), "try
# again"; not 0, 1 (errors), 2 (usage), 130 (SIGINT) or 143 (a plain
# SIGTERM of the commands that do not resume).
EXIT_STATUS = 75

# How often a worker that is not the chief looks for the chief's checkpoint.
_POLL_SECS = 0.2


class Preempted(cli_errors.Terminated):
  """SIGTERM ended a run; rerunning the same command continues it.

  Raised like Ctrl-C (a KeyboardInterrupt) so that no `except Exception`
  swallows it; `cli_errors.run_command` exits with `exit_status`.

  Attributes:
    step: the global step of the latest checkpoint, or None (none yet).
    checkpoint: that checkpoint's path, or None.
    exit_status: EXIT_STATUS.
  """

  def __init__(self, step, checkpoint, words=None):
    if words is None:
      words = "preempted at step %s; saved %s; rerun the same command to " \
              "continue" % (step, os.path.basename(checkpoint or ""))
    super(Preempted, self).__init__(signal.SIGTERM, words,
                                    exit_status=EXIT_STATUS)
    self.step = step
    self.checkpoint = checkpoint


class _State(object):
  """What the handler and the hooks share (one run at a time)."""

  def __init__(self):
    self.lock = threading.Lock()
    self.output_dir = None
    self.active = False  # Inside `handling_sigterm` (in the main thread).
    self.requested = False  # SIGTERM arrived.
    self.training = False  # Inside `while_training`: only set the flag.
    self.stopped_at_step = None  # The step StopHook stopped after.


_STATE = _State()


def requested():
  """Whether SIGTERM arrived (here) during the current run."""
  return _STATE.requested


def _outside_training(output_dir):
  """The `Preempted` of a SIGTERM before or after training."""
  latest = tf.train.latest_checkpoint(output_dir) if output_dir else None
  if latest is None:
    return Preempted(None, None, "preempted before the first checkpoint; "
                                 "rerun the same command to start")
  return Preempted(checkpoints.checkpoint_step(latest), latest,
                   "preempted outside training; the latest checkpoint is "
                   "%s; rerun the same command to continue" %
                   os.path.basename(latest))


def _handler(signum, frame):
  """SIGTERM: a flag while training; elsewhere `Preempted` at once."""
  del signum, frame  # Unused.
  _STATE.requested = True
  if not _STATE.training:
    raise _outside_training(_STATE.output_dir)


@contextlib.contextmanager
def handling_sigterm(output_dir):
  """Within the block, SIGTERM ends the run as a preemption.

  Signal handlers can only be set from the main thread; called from
  another thread (a library caller's), the block handles nothing and
  SIGTERM keeps its previous meaning.

  Args:
    output_dir: where the run's checkpoints are (for the last line).
  """
  if threading.current_thread() is not threading.main_thread():
    yield
    return
  previous = signal.getsignal(signal.SIGTERM)
  _STATE.output_dir, _STATE.requested = output_dir, False
  _STATE.training, _STATE.stopped_at_step = False, None
  signal.signal(signal.SIGTERM, _handler)
  _STATE.active = True
  try:
    yield
  finally:
    _STATE.active = False
    signal.signal(signal.SIGTERM, previous)
    _STATE.training = False
    _STATE.output_dir = None


def _reclaim_sigterm():
  """Puts the handler back if something replaced it (in the main thread).

  TensorFlow's multi-worker runtime installs a SIGTERM handler of its own
  (C++, invisible to Python's signal.getsignal) as its servers start, and
  then SIGTERM would neither stop training nor end the process.
  """
  if _STATE.active and (threading.current_thread() is
                        threading.main_thread()):
    signal.signal(signal.SIGTERM, _handler)


@contextlib.contextmanager
def while_training():
  """Within the block, SIGTERM only asks `StopHook` to stop after the step.

  A SIGTERM that arrived before the block is acted on at once (it raised
  already, unless no handler was installed).
  """
  _STATE.training = True
  try:
    yield
  finally:
    _STATE.training = False


def stop_if_preempted(output_dir, is_chief=True, wait_secs=None):
  """Raises `Preempted` when SIGTERM stopped training; else does nothing.

  Call it inside `while_training`, after `estimator.train` returned.

  Args:
    output_dir: the run's output_dir.
    is_chief: False on a multi-worker run's other workers: they wait for
      the chief's checkpoint of the step they stopped after.
    wait_secs: how long they wait (--worker_timeout_secs).

  Raises:
    Preempted: naming the step and the checkpoint.
    ValueError: a worker did not see the chief's checkpoint in time.
  """
  step = _STATE.stopped_at_step
  if not _STATE.requested and step is None:
    return
  latest = tf.train.latest_checkpoint(output_dir)
  if not is_chief and step is not None:
    deadline = time.time() + (wait_secs or 0)
    while checkpoints.checkpoint_step(latest or "") != step:
      if time.time() > deadline:
        raise ValueError(
            "preempted at step %d, but output_dir %s lists %s, not the "
            "chief's model.ckpt-%d, after %gs: rerun the same command "
            "(training resumes from output_dir's latest checkpoint)" %
            (step, output_dir, latest, step, wait_secs or 0))
      time.sleep(_POLL_SECS)
      latest = tf.train.latest_checkpoint(output_dir)
  if latest is None:
    raise _outside_training(output_dir)
  raise Preempted(checkpoints.checkpoint_step(latest), latest)


def stop_request_tensors():
  """(stop input, all workers' sum of it), or (None, None) on one machine.

  Call it in the model_fn (a strategy's replica context). Each worker's
  `StopHook` feeds 1.0 to the input once SIGTERM arrived there; the sum
  over all replicas reaches every worker after the same step.
  """
  context = tf.distribute.get_replica_context()
  if context is None or not tf.distribute.has_strategy():
    return None, None
  extended = tf.distribute.get_strategy().extended
  if context.num_replicas_in_sync <= len(extended.worker_devices):
    return None, None  # One machine: one process, one flag.
  request = tf.placeholder_with_default(0.0, [], name="preemption_request")

  def sum_over_replicas(strategy, value):
    return strategy.extended.reduce_to(tf.distribute.ReduceOp.SUM, value,
                                       destinations=value)

  # Like optimization.all_reduce_gradients: merge_call, not
  # context.all_reduce (whose gradient wrapper this needs not).
  agreed = context.merge_call(sum_over_replicas, args=(request,))
  return request, agreed


def with_stop_hook(train_op, runs_per_step=1):
  """(train_op, a `StopHook`) for a TRAIN spec.

  Under a multi-worker strategy the train_op also runs the stop request's
  all-reduce, so that every replica of every worker joins it each step.

  Args:
    train_op: the step's training op.
    runs_per_step: session runs per optimizer step (accumulated batches).
  """
  request, agreed = stop_request_tensors()
  if agreed is not None:
    train_op = tf.group(train_op, agreed)
  return train_op, StopHook(runs_per_step, request, agreed)


class StopHook(tf.train.SessionRunHook):
  """Stops training after the step in flight once SIGTERM arrived.

  It stops only between optimizer steps (gradient accumulation's batches
  of a step all run), and under a multi-worker strategy only on the
  all-reduced request, so that every worker stops after the same step.
  """

  def __init__(self, runs_per_step=1, request=None, agreed=None):
    """Args: session runs per step; the request input and its all-worker
    sum from `stop_request_tensors` (None on one machine)."""
    self._runs_per_step = max(1, runs_per_step)
    self._request = request
    self._agreed = agreed
    self._runs = 0
    self._stopping = False
    self._global_step = None

  def begin(self):
    self._global_step = tf.train.get_global_step()

  def after_create_session(self, session, coord):
    # A session starts between steps: accumulators are local variables,
    # fresh in every session.
    self._runs = 0
    _reclaim_sigterm()

  def before_run(self, run_context):
    if self._agreed is None:
      return None
    return tf.train.SessionRunArgs(
        self._agreed, feed_dict={self._request: float(_STATE.requested)})

  def after_run(self, run_context, run_values):
    self._runs += 1
    if self._agreed is None:
      self._stopping = self._stopping or _STATE.requested
    else:
      self._stopping = self._stopping or run_values.results > 0
    if self._stopping and self._runs % self._runs_per_step == 0:
      run_context.request_stop()

  def end(self, session):
    if self._stopping and self._global_step is not None:
      _STATE.stopped_at_step = int(session.run(self._global_step))
      tf.logging.info("preempted (SIGTERM%s): stopped after step %d",
                      "" if _STATE.requested else " on another worker",
                      _STATE.stopped_at_step)
