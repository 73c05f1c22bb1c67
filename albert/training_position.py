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
"""Where a resumed run is in its data, and the run's seed.

A resumed run reads exactly the records the uninterrupted run would have
read next: the training order is a function of the run's seed (see
input_pipeline.epochs_dataset), and the records a machine has consumed
follow from the global step of output_dir's latest checkpoint and what a
step consumed. That last part can change between runs (another
--train_batch_size, --gradient_accumulation_steps or number of workers),
so the chief records it in output_dir/data_position.json before training:
a list of segments, each "from this step on, a step consumed this many
records per machine, starting from this many". It is written before the
run trains and never describes a step past it, so it agrees with any
checkpoint the run saves, even when the process is killed (kill -9)
between two checkpoints.

`run_seed` picks the seed (--random_seed, else the recorded one, else a
fresh one; for several workers one they all derive from TF_CONFIG), `resume_position` the `input_pipeline.DataPosition`, and
`with_position` hands it to a task's training input_fn through its params.

Not here: the stream itself (input_pipeline), the driver's sequence
(driver), the dropout masks the seed also determines (modeling).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import hashlib
import json
import os

import tensorflow.compat.v1 as tf

from albert import distributed
from albert import file_io
from albert import input_pipeline

RECORD_NAME = "data_position.json"


def record_path(output_dir):
  """output_dir's record of the data position."""
  return os.path.join(output_dir, RECORD_NAME)


def read_segments(output_dir):
  """The recorded segments (oldest first), [] when there are none."""
  path = record_path(output_dir)
  if not tf.io.gfile.exists(path):
    return []
  with tf.io.gfile.GFile(path) as f:
    try:
      return json.loads(f.read())["segments"]
    except (ValueError, KeyError, TypeError) as e:
      raise ValueError("%s is not a data position record (%s); remove it to "
                       "resume from the checkpoint's step alone" % (path, e))


def checkpoint_step(output_dir):
  """The global step of output_dir's latest checkpoint, 0 without one."""
  latest = tf.train.latest_checkpoint(output_dir) if output_dir else None
  if not latest:
    return 0
  return int(tf.train.load_variable(latest, tf.GraphKeys.GLOBAL_STEP))


def run_seed(options, training=True):
  """The seed of the data order, dropout masks and new variables.

  --random_seed when given; else, when training resumes, the seed the run
  was started with (recorded in data_position.json); else a fresh one.

  Args:
    options: flag values (output_dir, random_seed).
    training: False for runs that do not train (--random_seed as given).
  """
  if not training:
    return options.random_seed
  step = checkpoint_step(options.output_dir)
  segments = [s for s in read_segments(options.output_dir)
              if s["from_step"] <= step] if step else []
  recorded = segments[-1]["seed"] if segments else None
  if options.random_seed is not None:
    if recorded is not None and recorded != options.random_seed:
      tf.logging.warning(
          "--random_seed=%d but output_dir's run was started with seed %d: "
          "the rest of the data is read in another order (examples of this "
          "epoch may repeat or be missed) and dropout differs from the "
          "uninterrupted run's", options.random_seed, recorded)
    return options.random_seed
  if recorded is not None:
    tf.logging.info("Resuming with the run's seed %d (%s)", recorded,
                    record_path(options.output_dir))
    return recorded
  if getattr(options, "strategy", None) == "multi_worker_mirrored":
    return cluster_seed()
  return input_pipeline.fresh_seed()


def cluster_seed(tf_config=None):
  """A new multi-worker run's seed, the same on every worker.

  Each worker picks its seed before the workers can talk, and a resumed
  worker reads the chief's recorded seed: a seed of each worker's own would
  change the non-chief workers' order on resume. So a run without
  --random_seed takes one from what every worker is given alike, the
  cluster in TF_CONFIG.
  """
  config = distributed.read_tf_config(tf_config)
  cluster = json.dumps(config[0] if config else None, sort_keys=True)
  seed = int(hashlib.sha256(cluster.encode("utf-8")).hexdigest()[:8],
             16) % (2 ** 31 - 1)
  tf.logging.info("Multi-worker run without --random_seed: seed %d from the "
                  "cluster in TF_CONFIG (the same on every worker)", seed)
  return seed


def num_workers_of(distribution):
  """Machines that each read their own share of the records."""
  if distribution is None or not distribution.multi_worker:
    return 1
  return distribution.num_replicas // distribution.devices_per_worker


def _segment(options, seed, num_workers, step, examples):
  batch = options.train_batch_size
  accumulation = options.gradient_accumulation_steps
  return {"from_step": step, "examples": examples, "seed": seed,
          "train_batch_size": batch,
          "gradient_accumulation_steps": accumulation,
          "num_workers": num_workers,
          "examples_per_step": batch // num_workers * accumulation}


def _examples_at(step, segment, current):
  """Records each machine consumed by `step`, in `current`'s terms.

  Warns loudly when the step's consumption or the machines changed since
  `segment` was recorded.
  """
  examples = (segment["examples"] +
              (step - segment["from_step"]) * segment["examples_per_step"])
  changed = [name for name in ("train_batch_size",
                               "gradient_accumulation_steps", "num_workers")
             if segment[name] != current[name]]
  if not changed:
    return examples
  described = ", ".join("%s %s -> %s" % (name, segment[name], current[name])
                        for name in changed)
  if segment["num_workers"] == current["num_workers"]:
    tf.logging.warning(
        "DATA POSITION: %s since step %d. Each machine has consumed %d "
        "records by step %d and goes on from there exactly; from now on a "
        "step consumes %d.", described, segment["from_step"], examples, step,
        current["examples_per_step"])
    return examples
  total = examples * segment["num_workers"]
  examples = total // current["num_workers"]
  tf.logging.warning(
      "DATA POSITION IS APPROXIMATE: %s since step %d. The machines share "
      "the records differently now: each starts %d records into its new "
      "share (%d consumed in all), so records of the current epoch may be "
      "read twice or not at all.", described, segment["from_step"], examples,
      total)
  return examples


def resume_position(options, seed, distribution=None, is_chief=True):
  """This machine's `DataPosition`; the chief records the new segment.

  Args:
    options: flag values (output_dir, train_batch_size,
      gradient_accumulation_steps).
    seed: from `run_seed`.
    distribution: (optional) `distributed.Distribution`.
    is_chief: whether this process writes output_dir's files.

  Returns:
    `input_pipeline.DataPosition`.
  """
  step = checkpoint_step(options.output_dir)
  segments = [s for s in read_segments(options.output_dir)
              if s["from_step"] <= step]
  current = _segment(options, seed, num_workers_of(distribution), step, 0)
  if step == 0:
    segments, examples = [], 0
  elif segments:
    examples = _examples_at(step, segments[-1], current)
  else:
    examples = step * current["examples_per_step"]
    tf.logging.warning(
        "DATA POSITION: output_dir has no %s (a run of an earlier version): "
        "assuming every step so far consumed %d records per machine, as "
        "this run's steps do", RECORD_NAME, current["examples_per_step"])
  current["examples"] = examples
  if is_chief:
    segments = [s for s in segments if s["from_step"] < step] + [current]
    file_io.atomic_write_text(
        record_path(options.output_dir),
        json.dumps({"segments": segments}, indent=1, sort_keys=True))
  if step:
    tf.logging.info("Resuming the data at step %d: %d records consumed per "
                    "machine", step, examples)
  return input_pipeline.DataPosition(seed=seed, examples=examples)


def with_position(input_fn, position):
  """`input_fn` reading from `position` (params[DATA_POSITION])."""

  def positioned_input_fn(params):
    params = dict(params)
    params[input_pipeline.DATA_POSITION] = position
    return input_fn(params)

  return positioned_input_fn
