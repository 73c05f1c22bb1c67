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
"""Dropout masks that are a function of the training position.

TensorFlow's dropout draws from a per-process random state, so a resumed
run drops other units than the uninterrupted run would have. Inside
`seeded(seed, counter)` (the model_fns enter it while training),
`dropout` draws stateless masks instead: from the run's seed, the call
site's index (assigned in graph-building order, the same in every run of
the same model), the batch counter (the global step and the
gradient-accumulation micro-step) and the replica. The drop probability
and the scaling of kept values (1 / (1 - rate)) are tf.nn.dropout's.

Outside the scope (a hub module's graph, code that builds the model on its
own) dropout is tf.nn.dropout, as released.

Not here: the model (modeling), the batch counter (optimization).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib
import threading

import tensorflow.compat.v1 as tf

from albert import optimization

# Per thread: a tf.distribute strategy builds each replica's model_fn in a
# thread of its own.
_state = threading.local()


class _Scope(object):
  """The seed, counter and replica of a `seeded` block; numbers sites."""

  def __init__(self, seed, counter, replica):
    self.seed = seed
    self.counter = counter
    self.replica = replica
    self.next_site = 0

  def site_seed(self):
    """The [2] int64 seed of the next call site's mask."""
    site = self.next_site
    self.next_site += 1
    seed = tf.constant([self.seed % (2**63), site], tf.int64)
    seed = tf.random.experimental.stateless_fold_in(
        seed, tf.cast(self.counter, tf.int64))
    return tf.random.experimental.stateless_fold_in(
        seed, tf.cast(self.replica, tf.int64))


def _replica_id():
  """This replica's index in a tf.distribute strategy (0 without one)."""
  if not tf.distribute.has_strategy():
    return 0
  context = tf.distribute.get_replica_context()
  return context.replica_id_in_sync_group if context is not None else 0


@contextlib.contextmanager
def seeded(seed, counter):
  """Dropout inside draws masks from (seed, site, counter, replica).

  Args:
    seed: int, the run's seed; None leaves dropout as tf.nn.dropout.
    counter: int64 scalar Tensor that differs for every batch trained
      (`optimization.batch_counter`).
  """
  previous = getattr(_state, "scope", None)
  _state.scope = None if seed is None else _Scope(seed, counter,
                                                   _replica_id())
  try:
    yield
  finally:
    _state.scope = previous


def for_training(is_training, params):
  """The model_fns' block: training's masks from (the run's seed, batch).

  The run's seed is the graph's (RunConfig's tf_random_seed, which the
  training driver always sets); without one, or when not training,
  dropout stays tf.nn.dropout.

  Args:
    is_training: whether the model_fn builds the training graph.
    params: the model_fn's params ("gradient_accumulation_steps").
  """
  seed = tf.get_default_graph().seed
  if not is_training or seed is None:
    return contextlib.nullcontext()
  return seeded(seed, optimization.batch_counter(
      params.get("gradient_accumulation_steps", 1)))


def dropout(input_tensor, rate):
  """Drops values with probability `rate` and scales the rest.

  Args:
    input_tensor: float Tensor.
    rate: drop probability; None or 0 returns `input_tensor`.

  Returns:
    A Tensor of the same shape and dtype.
  """
  if not rate:
    return input_tensor
  scope = getattr(_state, "scope", None)
  if scope is None:
    return tf.nn.dropout(input_tensor, rate=rate)
  return tf.nn.experimental.stateless_dropout(input_tensor, rate=rate,
                                              seed=scope.site_seed())
