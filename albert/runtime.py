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
"""What every run_* script needs, in one place.

The TPU/CPU flags and the RunConfig and (TPU)Estimator built from them,
checkpoint initialisation that reports what it did not load instead of
silently training from random weights, a throughput-logging hook, and
`eval_results.txt` writing. Scripts define their own task flags and call
these; nothing here is copied per script.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib
import errno
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import types

from absl import flags
import tensorflow.compat.v1 as tf

from albert import input_pipeline
from albert import modeling
from albert import peer_watch


def define_flags(specs):
  """Defines absl flags from specs, skipping names already defined.

  Every run_* script defines its flags at import; several scripts share
  names (albert_config_file, output_dir, ...), and tests import more than
  one of them into a process, so a name defined twice is skipped instead of
  raising DuplicateFlagError.

  Args:
    specs: (kind, name, default, help) or (kind, name, default, help,
      extra_kwargs) tuples; kind is "string", "integer", "float", "bool" or
      "enum" (extra_kwargs={"enum_values": [...]}).

  Returns:
    dict of flag name to this caller's default, for `options`.
  """
  # Attribute the flags to the calling script, as absl would have, so that
  # `python -m albert.run_x --help` lists them (absl shows the main
  # module's flags, and names the main module after sys.argv[0]).
  module_name = sys._getframe(1).f_globals.get("__name__")  # pylint: disable=protected-access
  if module_name == "__main__":
    module_name = sys.argv[0]
  defaults = {}
  for spec in specs:
    kind, name, default, help_text = spec[:4]
    extra = spec[4] if len(spec) > 4 else {}
    if name not in flags.FLAGS:
      getattr(flags, "DEFINE_" + kind)(
          name=name, default=default, help=help_text,
          module_name=module_name, **extra)
    defaults[name] = default
  return defaults


def run_flag_specs(save_checkpoints_steps=1000, iterations_per_loop=1000,
                   keep_checkpoint_max=5):
  """The released TPU/run-config flags, as `define_flags` specs."""
  return [
      ("bool", "use_tpu", False, "Whether to use TPU or GPU/CPU."),
      ("string", "tpu_name", None,
       "The Cloud TPU to use for training. This should be either the name "
       "used when creating the Cloud TPU, or a grpc://ip.address.of.tpu:8470 "
       "url."),
      ("string", "tpu_zone", None,
       "[Optional] GCE zone where the Cloud TPU is located in. If not "
       "specified, we will attempt to automatically detect the GCE project "
       "from metadata."),
      ("string", "gcp_project", None,
       "[Optional] Project name for the Cloud TPU-enabled project. If not "
       "specified, we will attempt to automatically detect the GCE project "
       "from metadata."),
      ("string", "master", None, "[Optional] TensorFlow master URL."),
      ("integer", "num_tpu_cores", 8,
       "Only used if `use_tpu` is True. Total number of TPU cores to use."),
      ("integer", "iterations_per_loop", iterations_per_loop,
       "How many steps to make in each estimator call."),
      ("integer", "save_checkpoints_steps", save_checkpoints_steps,
       "How often to save the model checkpoint."),
      ("integer", "keep_checkpoint_max", keep_checkpoint_max,
       "How many checkpoints to keep (0: all of them)."),
      ("integer", "random_seed", None,
       "Graph-level random seed (initialisation of new variables, dropout, "
       "input shuffling) for reproducible runs; unset: a fresh seed."),
  ] + performance_flag_specs() + distribution_flag_specs()


def distribution_flag_specs():
  """--strategy, --num_devices and --worker_timeout_secs specs."""
  return [
      ("enum", "strategy", "none",
       "tf.distribute strategy for training on CPUs/GPUs: none (one "
       "device), mirrored (the devices of this machine) or "
       "multi_worker_mirrored (several machines; the cluster comes from "
       "the TF_CONFIG environment variable). --train_batch_size is the "
       "global batch, split evenly across all replicas.",
       {"enum_values": list(STRATEGIES)}),
      ("integer", "num_devices", None,
       "Replicas per machine: GPUs when this machine has them (default: "
       "all of them); on a machine without GPUs, --strategy=mirrored makes "
       "this many virtual CPU devices (default 1), so the path runs "
       "anywhere."),
      ("integer", "worker_timeout_secs", 600,
       "With --strategy=multi_worker_mirrored: how long a worker waits for "
       "the others in TF_CONFIG to come up before failing, naming the "
       "address it could not reach."),
  ]


def performance_flag_specs():
  """--precision, --use_xla and --gradient_accumulation_steps specs."""
  return [
      ("enum", "precision", "fp32",
       "Compute precision of the encoder: fp32, bf16 (CPUs with AVX512_BF16 "
       "or AMX, GPUs from Ampere, TPUs) or fp16 (GPUs; adds dynamic loss "
       "scaling). Variables, optimizer state and checkpoints stay float32.",
       {"enum_values": list(modeling.PRECISIONS)}),
      ("bool", "use_xla", False,
       "Compile the training and inference steps with XLA."),
      ("integer", "gradient_accumulation_steps", 1,
       "Batches whose mean gradient makes one optimizer update: the "
       "effective batch is this times --train_batch_size, and "
       "--num_train_steps, warmup and checkpoint steps count updates."),
  ]


# What every numeric flag of every command must satisfy, by flag name (the
# commands share names, so one table serves them all). A flag is checked
# when it is set (not None).
_POSITIVE = ("> 0", lambda v: v > 0)
_NON_NEGATIVE = (">= 0", lambda v: v >= 0)
_FRACTION = ("within [0, 1]", lambda v: 0 <= v <= 1)
_DROPOUT = ("within [0, 1)", lambda v: 0 <= v < 1)
NUMERIC_FLAG_RULES = {
    # Sizes and lengths.
    "max_seq_length": _POSITIVE, "max_predictions_per_seq": _POSITIVE,
    "max_query_length": _POSITIVE, "doc_stride": _POSITIVE,
    "max_qa_length": _POSITIVE, "max_answer_length": _POSITIVE,
    "n_best_size": _POSITIVE, "start_n_top": _POSITIVE,
    "end_n_top": _POSITIVE, "ngram": _POSITIVE,
    # Batches.
    "train_batch_size": _POSITIVE, "eval_batch_size": _POSITIVE,
    "predict_batch_size": _POSITIVE, "batch_size": _POSITIVE,
    # Optimisation.
    "learning_rate": _POSITIVE, "num_train_steps": _POSITIVE,
    "train_step": _POSITIVE, "num_train_epochs": _POSITIVE,
    "num_warmup_steps": _NON_NEGATIVE, "warmup_step": _NON_NEGATIVE,
    "warmup_proportion": _FRACTION, "max_eval_steps": _POSITIVE,
    "dropout_prob": _DROPOUT, "classifier_dropout_prob": _DROPOUT,
    # Checkpoints and loops.
    "gradient_accumulation_steps": _POSITIVE,
    "save_checkpoints_steps": _POSITIVE, "iterations_per_loop": _POSITIVE,
    "keep_checkpoint_max": _NON_NEGATIVE, "num_tpu_cores": _POSITIVE,
    "log_every_n_steps": _POSITIVE,
    # Distribution.
    "num_devices": _POSITIVE, "worker_timeout_secs": _POSITIVE,
    # Benchmark runs.
    "num_steps": _POSITIVE, "warmup_steps": _NON_NEGATIVE,
    # Data creation.
    "dupe_factor": _POSITIVE, "masked_lm_prob": _FRACTION,
    "short_seq_prob": _FRACTION, "num_workers": _POSITIVE,
    "chunk_size": _POSITIVE,
}


def check_numeric_flags(values):
  """Fails on the first numeric flag outside its range, naming it.

  Args:
    values: FLAGS, an `options(...)` object or a dict; every attribute
      named in NUMERIC_FLAG_RULES is checked.

  Raises:
    ValueError: "--name=value must be > 0" (or the rule broken).
  """
  if not isinstance(values, dict):
    values = {name: getattr(values, name) for name in NUMERIC_FLAG_RULES
              if hasattr(values, name)}
  for name in sorted(values):
    if name not in NUMERIC_FLAG_RULES or values[name] is None:
      continue
    what, ok = NUMERIC_FLAG_RULES[name]
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
      raise ValueError("--%s=%r must be a number %s" % (name, value, what))
    if value != value or not ok(value):  # value != value: NaN
      raise ValueError("--%s=%s must be %s" % (name, value, what))


def options(defaults, overrides):
  """A flag-like object: `defaults` updated with `overrides`.

  Lets tests and other code call a script's `run(options)` without going
  through absl's global FLAGS.

  Raises:
    ValueError: an override names no flag of the script.
  """
  unknown = sorted(set(overrides) - set(defaults))
  if unknown:
    raise ValueError("unknown option(s) %s; known: %s" %
                     (", ".join(unknown), ", ".join(sorted(defaults))))
  values = dict(defaults)
  values.update(overrides)
  return types.SimpleNamespace(**values)


def make_run_config(output_dir,
                    use_tpu=False,
                    tpu_name=None,
                    tpu_zone=None,
                    gcp_project=None,
                    master=None,
                    num_tpu_cores=8,
                    iterations_per_loop=1000,
                    save_checkpoints_steps=1000,
                    keep_checkpoint_max=5,
                    log_step_count_steps=None,
                    random_seed=None,
                    distribution=None):
  """A `tf.estimator.tpu.RunConfig` for TPU, or for CPU/GPU when not use_tpu.

  Args:
    output_dir: model_dir: checkpoints and events go here.
    use_tpu: run on a Cloud TPU.
    tpu_name, tpu_zone, gcp_project: locate the TPU (when use_tpu).
    master: TensorFlow master URL (when no tpu_name).
    num_tpu_cores: TPU shards.
    iterations_per_loop: steps per TPU loop (and per CPU logging interval).
    save_checkpoints_steps: checkpoint interval.
    keep_checkpoint_max: checkpoints kept.
    log_step_count_steps: how often the estimator logs steps/s; defaults to
      iterations_per_loop.
    random_seed: (optional) graph-level seed, for reproducible runs.
    distribution: (optional) `Distribution`: training runs its strategy
      (RunConfig's train_distribute; with several machines RunConfig also
      reads TF_CONFIG).

  Returns:
    `tf.estimator.tpu.RunConfig`.
  """
  tpu_cluster_resolver = None
  if use_tpu and tpu_name:
    tpu_cluster_resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
        tpu_name, zone=tpu_zone, project=gcp_project)
  is_per_host = tf.estimator.tpu.InputPipelineConfig.PER_HOST_V2
  log_step_count_steps = log_step_count_steps or iterations_per_loop
  if not use_tpu:
    # TPUEstimator divides this interval by iterations_per_loop, because on
    # TPU one session.run is a whole loop; on CPU/GPU it is one step, so
    # undivided it would log examples/sec after every step.
    log_step_count_steps *= iterations_per_loop
  values = dict(
      cluster=tpu_cluster_resolver,
      master=master,
      model_dir=output_dir,
      save_checkpoints_steps=save_checkpoints_steps,
      keep_checkpoint_max=keep_checkpoint_max,
      log_step_count_steps=log_step_count_steps,
      tf_random_seed=random_seed,
      tpu_config=tf.estimator.tpu.TPUConfig(
          iterations_per_loop=iterations_per_loop,
          num_shards=num_tpu_cores,
          per_host_input_for_training=is_per_host))
  if distribution is not None:
    values.update(train_distribute=distribution.strategy,
                  session_config=distribution.session_config)
  return tf.estimator.tpu.RunConfig(**values)


def _single_device_config(config):
  """`config` without its strategy and blind to TF_CONFIG: one device."""
  with _tf_config_hidden():
    return tf.estimator.tpu.RunConfig(
        model_dir=config.model_dir,
        save_checkpoints_steps=config.save_checkpoints_steps,
        keep_checkpoint_max=config.keep_checkpoint_max,
        log_step_count_steps=config.log_step_count_steps,
        tf_random_seed=config.tf_random_seed,
        tpu_config=config.tpu_config)


def run_config_from_options(f, **overrides):
  """`make_run_config` from an object with the run flags as attributes.

  Args:
    f: FLAGS or an `options(...)` object.
    **overrides: make_run_config arguments that replace the flag values.
  """
  values = dict(
      output_dir=f.output_dir,
      use_tpu=f.use_tpu,
      tpu_name=f.tpu_name,
      tpu_zone=f.tpu_zone,
      gcp_project=f.gcp_project,
      master=f.master,
      num_tpu_cores=f.num_tpu_cores,
      iterations_per_loop=f.iterations_per_loop,
      save_checkpoints_steps=f.save_checkpoints_steps,
      keep_checkpoint_max=f.keep_checkpoint_max,
      random_seed=f.random_seed)
  values.update(overrides)
  return make_run_config(**values)


def compilation_scope(use_xla):
  """The block in which model_fns build their steps: XLA-compiled or not.

  Ops built inside get XLA's compile attribute, so that TensorFlow fuses
  them into compiled kernels on CPUs and GPUs alike (global auto-clustering
  would need TF_XLA_FLAGS set before TensorFlow starts on a CPU). Ops XLA
  cannot compile (variable updates of reference variables, summaries)
  stay as they are.

  Args:
    use_xla: bool.

  Returns:
    A context manager.
  """
  if use_xla:
    return tf.xla.experimental.jit_scope(compile_ops=True)
  return contextlib.nullcontext()


def check_performance_flags(f):
  """Fails on --precision, --use_xla and accumulation settings that clash.

  Args:
    f: FLAGS or an `options(...)` object.

  Raises:
    ValueError: naming the flag.
  """
  precision = getattr(f, "precision", "fp32")
  modeling.compute_dtype_of(precision)  # Names the flag when unknown.
  accumulation = getattr(f, "gradient_accumulation_steps", 1)
  use_tpu = getattr(f, "use_tpu", False)
  if use_tpu and accumulation > 1:
    raise ValueError(
        "--gradient_accumulation_steps=%d is for CPUs and GPUs; on TPU use "
        "a bigger --train_batch_size" % accumulation)
  if use_tpu and precision == "fp16":
    raise ValueError("--precision=fp16 is for GPUs; TPUs compute in bf16 "
                     "(--precision=bf16)")
  if use_tpu and getattr(f, "use_xla", False):
    raise ValueError("--use_xla is for CPUs and GPUs; TPUs always compile "
                     "with XLA")
  if precision == "fp16" and not use_tpu and not tf.config.list_physical_devices(
      "GPU"):
    # Correct but unusable: CPUs have no fast float16 matmul in TensorFlow.
    tf.logging.warning(
        "--precision=fp16 without a GPU: TensorFlow's CPU float16 matmuls "
        "run ~100x slower than float32; on a CPU use --precision=bf16")
  if precision != "fp32" and getattr(f, "albert_hub_module_handle", None):
    raise ValueError(
        "--precision=%s needs the model built from --albert_config_file; a "
        "hub module (--albert_hub_module_handle) computes as it was "
        "exported (fp32)" % precision)


# --- Distribution: tf.distribute strategies for CPUs and GPUs. -------------

STRATEGIES = ("none", "mirrored", "multi_worker_mirrored")

# Virtual CPU devices exist to run and test the mirrored path anywhere; more
# than this many would only slow graph building down.
_MAX_VIRTUAL_CPUS = 16

# Job names a multi_worker_mirrored TF_CONFIG cluster may hold: every one of
# them trains (the chief, or else worker 0, also writes the checkpoints).
_TRAINING_JOBS = ("chief", "worker")


class Distribution(object):
  """How training is spread over replicas, and this process's place in it.

  Built by `distribution_from_options`; `make_run_config` and
  `make_estimator` turn it into a strategy-aware estimator.

  Attributes:
    kind: "mirrored" or "multi_worker_mirrored".
    strategy: the tf.compat.v1 `tf.distribute.Strategy`.
    num_replicas: replicas over all machines.
    devices_per_worker: replicas on this machine.
    device_kind: "GPU", or "CPU" (virtual devices without a GPU).
    session_config: `tf.ConfigProto` the sessions need (virtual CPUs).
    cluster: {job: [address, ...]} from TF_CONFIG (multi-worker), else None.
    task_type, task_index: this process's task in `cluster`.
    worker_timeout_secs: how long to wait for unreachable peers.
  """

  def __init__(self, kind, strategy, num_replicas, devices_per_worker,
               device_kind, session_config, cluster=None, task_type=None,
               task_index=0, worker_timeout_secs=600):
    self.kind = kind
    self.strategy = strategy
    self.num_replicas = num_replicas
    self.devices_per_worker = devices_per_worker
    self.device_kind = device_kind
    self.session_config = session_config
    self.cluster = cluster
    self.task_type = task_type
    self.task_index = task_index
    self.worker_timeout_secs = worker_timeout_secs
    # The albert/peer_watch.py process of a multi-worker run.
    self.peer_watch = None

  def stop_peer_watch(self):
    """Training is over: peers that finished may close their ports."""
    if self.peer_watch is not None:
      self.peer_watch.kill()
      self.peer_watch.wait()
      self.peer_watch = None

  @property
  def multi_worker(self):
    return self.cluster is not None

  @property
  def is_chief(self):
    """Whether this process writes checkpoints and evaluates afterwards."""
    if not self.multi_worker:
      return True
    if "chief" in self.cluster:
      return self.task_type == "chief"
    return self.task_type == "worker" and self.task_index == 0

  @property
  def task_name(self):
    """'worker 1', 'chief 0' or 'this machine'."""
    if not self.multi_worker:
      return "this machine"
    return "%s %d" % (self.task_type, self.task_index)

  @property
  def address(self):
    """This task's host:port (multi-worker), else None."""
    if not self.multi_worker:
      return None
    return self.cluster[self.task_type][self.task_index]

  def peers(self):
    """[(task name, host:port)] of every other task in the cluster."""
    if not self.multi_worker:
      return []
    return _peers(self.cluster, self.task_type, self.task_index)

  def describe(self):
    """'2 replicas (mirrored over 2 virtual CPU devices)' and the like."""
    devices = "%d %s%s" % (
        self.devices_per_worker,
        "GPU" if self.device_kind == "GPU" else
        ("virtual CPU device" if self.devices_per_worker > 1 else "CPU"),
        "s" if self.devices_per_worker > 1 else "")
    if self.multi_worker:
      workers = self.num_replicas // self.devices_per_worker
      return "%d replicas (%s: %d workers x %s; this is %s)" % (
          self.num_replicas, self.kind, workers, devices, self.task_name)
    return "%d replica%s (%s over %s)" % (
        self.num_replicas, "s" if self.num_replicas > 1 else "", self.kind,
        devices)


def _peers(cluster, task_type, task_index):
  return [("%s %d" % (job, index), address)
          for job in _TRAINING_JOBS for index, address in
          enumerate(cluster.get(job, []))
          if (job, index) != (task_type, task_index)]


def read_tf_config(text=None):
  """The validated TF_CONFIG of a multi-worker run, or None when unset.

  Args:
    text: TF_CONFIG's value; defaults to the environment variable.

  Returns:
    (cluster, task_type, task_index): cluster maps "chief"/"worker" to lists
    of "host:port"; or None when TF_CONFIG is unset or empty.

  Raises:
    ValueError: naming TF_CONFIG and what is wrong with it.
  """
  if text is None:
    text = os.environ.get("TF_CONFIG", "")
  if not text.strip():
    return None
  example = ('expected e.g. {"cluster": {"worker": ["host1:2222", '
             '"host2:2222"]}, "task": {"type": "worker", "index": 0}}')
  try:
    config = json.loads(text)
  except ValueError as e:
    raise ValueError("TF_CONFIG is not valid JSON (%s); %s" % (e, example))
  if not isinstance(config, dict) or not isinstance(
      config.get("cluster"), dict) or not isinstance(config.get("task"),
                                                     dict):
    raise ValueError("TF_CONFIG needs a \"cluster\" and a \"task\" object; "
                     "%s" % example)
  cluster = config["cluster"]
  unknown = sorted(set(cluster) - set(_TRAINING_JOBS))
  if unknown:
    raise ValueError(
        "TF_CONFIG's cluster has job(s) %s; multi_worker_mirrored trains "
        "with \"chief\" and \"worker\" jobs only (no parameter servers or "
        "evaluators: the chief evaluates after training)" %
        ", ".join(unknown))
  if not cluster.get("worker") and not cluster.get("chief"):
    raise ValueError("TF_CONFIG's cluster lists no workers; %s" % example)
  if len(cluster.get("chief", [])) > 1:
    raise ValueError("TF_CONFIG's cluster has %d chiefs; at most one" %
                     len(cluster["chief"]))
  seen = set()
  for job in _TRAINING_JOBS:
    addresses = cluster.get(job, [])
    if not isinstance(addresses, list):
      raise ValueError("TF_CONFIG's cluster[\"%s\"] must be a list of "
                       "\"host:port\" strings, not %r" % (job, addresses))
    for address in addresses:
      host, _, port = (address.rpartition(":") if isinstance(address, str)
                       else ("", "", ""))
      if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("TF_CONFIG's cluster[\"%s\"] has %r; expected "
                         "\"host:port\"" % (job, address))
      if address in seen:
        raise ValueError("TF_CONFIG's cluster lists %s twice" % address)
      seen.add(address)
  task = config["task"]
  task_type, task_index = task.get("type"), task.get("index", 0)
  if task_type not in cluster:
    raise ValueError("TF_CONFIG's task type %r is not a job of its cluster "
                     "(%s)" % (task_type, ", ".join(sorted(cluster))))
  if (isinstance(task_index, bool) or not isinstance(task_index, int) or
      not 0 <= task_index < len(cluster[task_type])):
    raise ValueError("TF_CONFIG's task index %r is not one of the cluster's "
                     "%d %s task(s) (0-based)" %
                     (task_index, len(cluster[task_type]), task_type))
  return ({job: list(cluster[job]) for job in _TRAINING_JOBS
           if cluster.get(job)}, task_type, task_index)


def _gpu_count():
  return len(tf.config.list_physical_devices("GPU"))


def distribution_from_options(f, train_batch_size=None,
                              batch_flag="train_batch_size"):
  """The `Distribution` --strategy asks for, running; None for "none".

  Checks as `check_distribution_flags` does, then builds the strategy. With
  several machines that starts this worker's server and waits until every
  task of the cluster is up (at most --worker_timeout_secs), so commands
  call this once their own input has been checked.

  Args: as `check_distribution_flags`.

  Raises:
    ValueError: a flag, TF_CONFIG or the batch does not fit, naming it.
  """
  distribution = check_distribution_flags(f, train_batch_size, batch_flag)
  if distribution is None:
    return None
  if not distribution.multi_worker:
    distribution.strategy = tf.distribute.MirroredStrategy(
        ["/%s:%d" % (distribution.device_kind.lower(), i)
         for i in range(distribution.devices_per_worker)])
    return distribution
  _check_port_free(distribution.address, distribution.task_name)
  # The strategy starts this worker's server and waits, inside TensorFlow
  # and for as long as it takes, until every task of the cluster has
  # registered; the watch bounds that wait (and, later, how long a lost
  # peer goes unnoticed).
  distribution.peer_watch = start_peer_watch(
      distribution.peers(), distribution.worker_timeout_secs,
      distribution.task_name)
  resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
      tf.train.ClusterSpec(distribution.cluster),
      task_type=distribution.task_type, task_id=distribution.task_index,
      num_accelerators=({"GPU": distribution.devices_per_worker}
                        if distribution.device_kind == "GPU" else None),
      rpc_layer="grpc")
  distribution.strategy = (
      tf.distribute.experimental.MultiWorkerMirroredStrategy(
          cluster_resolver=resolver))
  return distribution


def check_distribution_flags(f, train_batch_size=None,
                             batch_flag="train_batch_size"):
  """The `Distribution` --strategy asks for, checked, without its strategy
  (nothing started yet); None for "none".

  Args:
    f: FLAGS or an `options(...)` object (strategy, num_devices,
      worker_timeout_secs, use_tpu).
    train_batch_size: the global training batch, when training; it must
      split evenly across the replicas.
    batch_flag: the flag that set it, for the message.

  Raises:
    ValueError: a flag, TF_CONFIG or the batch does not fit, naming it.
  """
  kind = getattr(f, "strategy", "none") or "none"
  num_devices = getattr(f, "num_devices", None)
  if kind not in STRATEGIES:
    raise ValueError("--strategy=%s: expected one of %s" %
                     (kind, ", ".join(STRATEGIES)))
  if kind == "none":
    if num_devices is not None:
      raise ValueError("--num_devices=%d needs --strategy=mirrored or "
                       "multi_worker_mirrored" % num_devices)
    return None
  if getattr(f, "use_tpu", False):
    raise ValueError(
        "--use_tpu with --strategy=%s: TPUs replicate through TPUEstimator "
        "(--num_tpu_cores); strategies are for CPUs and GPUs" % kind)
  check_numeric_flags({"num_devices": num_devices,
                       "worker_timeout_secs":
                           getattr(f, "worker_timeout_secs", 600)})
  gpus = _gpu_count()
  tf_config = read_tf_config()
  if kind == "mirrored":
    if tf_config is not None:
      raise ValueError(
          "TF_CONFIG is set (a cluster of %d tasks) but --strategy=mirrored "
          "trains on this machine only: unset TF_CONFIG, or use "
          "--strategy=multi_worker_mirrored" %
          sum(len(a) for a in tf_config[0].values()))
    if gpus:
      count = num_devices or gpus
      if count > gpus:
        raise ValueError("--num_devices=%d but this machine has %d GPU(s)" %
                         (count, gpus))
      session_config = tf.ConfigProto(allow_soft_placement=True)
    else:
      count = num_devices or 1
      if count > _MAX_VIRTUAL_CPUS:
        raise ValueError(
            "--num_devices=%d: this machine has no GPU, and virtual CPU "
            "devices (for running the mirrored path anywhere) go up to %d" %
            (count, _MAX_VIRTUAL_CPUS))
      session_config = tf.ConfigProto(device_count={"CPU": count},
                                      allow_soft_placement=True)
    distribution = Distribution(kind, None, count, count,
                                "GPU" if gpus else "CPU", session_config)
  else:
    if tf_config is None:
      raise ValueError(
          "--strategy=multi_worker_mirrored needs the TF_CONFIG environment "
          "variable: the cluster and this worker's task, e.g. TF_CONFIG="
          "'{\"cluster\": {\"worker\": [\"host1:2222\", \"host2:2222\"]}, "
          "\"task\": {\"type\": \"worker\", \"index\": 0}}'")
    cluster, task_type, task_index = tf_config
    if gpus:
      count = num_devices or gpus
      if count > gpus:
        raise ValueError("--num_devices=%d but this machine has %d GPU(s)" %
                         (count, gpus))
    else:
      if num_devices not in (None, 1):
        raise ValueError(
            "--num_devices=%d: without GPUs multi_worker_mirrored runs one "
            "replica per worker (virtual CPU devices are for "
            "--strategy=mirrored)" % num_devices)
      count = 1
    num_workers = sum(len(addresses) for addresses in cluster.values())
    distribution = Distribution(
        kind, None, count * num_workers, count, "GPU" if gpus else "CPU",
        tf.ConfigProto(allow_soft_placement=True), cluster=cluster,
        task_type=task_type, task_index=task_index,
        worker_timeout_secs=getattr(f, "worker_timeout_secs", 600))
  _check_batch_splits(distribution, train_batch_size, batch_flag)
  return distribution


def _check_batch_splits(distribution, train_batch_size, batch_flag):
  """Fails when the global batch does not split evenly across replicas."""
  if train_batch_size is not None and (
      train_batch_size % distribution.num_replicas):
    raise ValueError(
        "--%s=%d is the global batch and must split evenly across the "
        "%s; use a multiple of %d" %
        (batch_flag, train_batch_size, distribution.describe(),
         distribution.num_replicas))


def _check_port_free(address, task_name):
  """Fails when this task's port is taken (its server could not start)."""
  port = int(address.rpartition(":")[2])
  probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  try:
    probe.bind(("", port))
  except OSError as e:
    raise ValueError(
        "cannot serve %s at %s (TF_CONFIG): port %d is taken on this "
        "machine (%s)" % (task_name, address, port, e.strerror or e))
  finally:
    probe.close()


def start_peer_watch(peers, timeout_secs, task_name):
  """Starts albert/peer_watch.py, which bounds the wait for the peers.

  TensorFlow waits for the cluster inside C++ without releasing Python's
  lock, and re-creates its session for ever when a peer dies, so the watch
  is a separate process (standard library only): when a peer does not
  answer for `timeout_secs` (at start-up, or after it last did), it prints
  the peer's address and ends this process. Stop it when training is over
  (`Distribution.stop_peer_watch`).

  Args:
    peers: [(task name, host:port)].
    timeout_secs: --worker_timeout_secs.
    task_name: this task's name, for the message.

  Returns:
    The `subprocess.Popen` of the watch.
  """
  program = os.path.splitext(os.path.basename(sys.argv[0]))[0]
  return subprocess.Popen(
      [sys.executable, os.path.join(_PACKAGE_DIR, "peer_watch.py"),
       str(os.getpid()), str(timeout_secs), program, task_name] +
      ["%s=%s" % (name, address) for name, address in peers])


@contextlib.contextmanager
def _tf_config_hidden():
  """TF_CONFIG unset inside: RunConfig then builds a one-machine config."""
  saved = os.environ.pop("TF_CONFIG", None)
  try:
    yield
  finally:
    if saved is not None:
      os.environ["TF_CONFIG"] = saved


def worker_checkpoint_dir(output_dir, distribution):
  """Where a non-chief worker's checkpoints go (TensorFlow's choice).

  Every worker must run the saving ops (they may hold collectives), so the
  others save theirs under output_dir/tmp_<job>_<index>; all of them
  restore from output_dir itself, the chief's.
  """
  return os.path.join(output_dir, "tmp_%s_%d" % (distribution.task_type,
                                                 distribution.task_index))


def check_worker_can_resume(output_dir, distribution):
  """Fails when a non-chief worker would resume from something else.

  Every worker restores from output_dir. A worker that trained before (its
  own copies are in `worker_checkpoint_dir`) but sees no checkpoint in
  output_dir is on a machine that does not share output_dir with the
  chief: it would start from fresh weights while the chief resumes.
  """
  if distribution is None or distribution.is_chief:
    return
  own = tf.train.latest_checkpoint(
      worker_checkpoint_dir(output_dir, distribution))
  if own and not tf.train.latest_checkpoint(output_dir):
    raise ValueError(
        "%s trained to %s before but sees no checkpoint in output_dir %s: "
        "with several machines, output_dir must be storage they all share "
        "(e.g. gs://bucket/dir or NFS), so every worker resumes from the "
        "chief's checkpoint" % (distribution.task_name, own, output_dir))


class DistributedEstimator(object):
  """Trains under a tf.distribute strategy; evaluates, predicts and exports
  on one device.

  It answers the (TPU)Estimator calls the run_* scripts make: `train` runs
  the strategy (mirrored: `Estimator.train`; several machines:
  `tf.estimator.train_and_evaluate`, the Estimator's multi-worker path),
  and everything else goes to a one-device estimator over the same
  model_dir, so checkpoints and results are exactly those of a one-device
  run.
  """

  def __init__(self, trainer, single_device, distribution, train_batch_size):
    self._trainer = trainer
    self._single_device = single_device
    self.distribution = distribution
    self.train_batch_size = train_batch_size

  def __getattr__(self, name):
    return getattr(self._single_device, name)

  def train(self, input_fn, max_steps=None, steps=None, hooks=None):
    """Trains on every replica; returns self, as Estimator.train does.

    Each replica takes train_batch_size / num_replicas examples of every
    global batch; each machine reads its own share of the records.
    """
    if steps is not None:
      raise ValueError("distributed training takes max_steps, not steps")
    replica_input_fn = _replica_input_fn(
        input_fn, self.train_batch_size // self.distribution.num_replicas)
    distribution = self.distribution
    if not distribution.multi_worker:
      self._trainer.train(replica_input_fn, max_steps=max_steps, hooks=hooks)
      return self
    check_worker_can_resume(self._trainer.model_dir, distribution)
    try:
      tf.estimator.train_and_evaluate(
          self._trainer,
          tf.estimator.TrainSpec(replica_input_fn, max_steps=max_steps,
                                 hooks=hooks or []),
          # Not run: the cluster has no evaluator task; the chief evaluates
          # the checkpoints afterwards, on one device.
          tf.estimator.EvalSpec(replica_input_fn, steps=1))
    finally:
      distribution.stop_peer_watch()
    return self


def _replica_input_fn(input_fn, replica_batch_size):
  """input_fn giving one replica's batches of this machine's share."""

  def distributed_input_fn(params, input_context=None):
    params = dict(params)
    params[input_pipeline.REPLICA_BATCH_SIZE] = replica_batch_size
    if input_context is not None and input_context.num_input_pipelines > 1:
      params[input_pipeline.INPUT_SHARD] = (
          input_context.input_pipeline_id, input_context.num_input_pipelines)
    return input_fn(params)

  return distributed_input_fn


def describe_batch(f, batch_size, distribution=None):
  """'batch 32', 'batch 8 x 4 accumulated = 32 per update', and with a
  strategy 'batch 32 over 2 replicas (...)'."""
  accumulation = getattr(f, "gradient_accumulation_steps", 1)
  text = "batch %d" % batch_size
  if accumulation > 1:
    text += " x %d accumulated = %d per update" % (
        accumulation, batch_size * accumulation)
  if distribution is not None:
    text += ", %d per replica; %s" % (
        batch_size // distribution.num_replicas, distribution.describe())
  return text


def describe_precision(f):
  """', bf16, XLA' and the like; '' for the defaults."""
  parts = []
  if getattr(f, "precision", "fp32") != "fp32":
    parts.append(f.precision)
  if getattr(f, "use_xla", False):
    parts.append("XLA")
  return "".join(", " + part for part in parts)


def model_params(f):
  """The estimator params every model_fn reads its performance settings from.

  Args:
    f: FLAGS or an `options(...)` object.

  Returns:
    dict: "precision", "use_xla" and "gradient_accumulation_steps".
  """
  return {"precision": getattr(f, "precision", "fp32"),
          "use_xla": bool(getattr(f, "use_xla", False)),
          "gradient_accumulation_steps":
              getattr(f, "gradient_accumulation_steps", 1)}


def make_estimator(model_fn, run_config, use_tpu, train_batch_size,
                   eval_batch_size=8, predict_batch_size=8, params=None,
                   distribution=None):
  """A TPUEstimator; it falls back to a normal Estimator on CPU/GPU.

  Args:
    model_fn: a TPUEstimator model_fn.
    run_config: from `make_run_config` (with the same `distribution`).
    use_tpu: whether to run on TPU.
    train_batch_size: global training batch size.
    eval_batch_size: global eval batch size.
    predict_batch_size: global predict batch size.
    params: extra params passed to model_fn and input_fn; "train_batch_size"
      (the global batch, see `train_batch_size_of`) is added.
    distribution: (optional) `Distribution` to train with.

  Returns:
    `tf.estimator.tpu.TPUEstimator`, or a `DistributedEstimator` with a
    distribution.
  """
  params = dict(params or {}, train_batch_size=train_batch_size)

  def estimator(config):
    return tf.estimator.tpu.TPUEstimator(
        use_tpu=use_tpu,
        model_fn=_resume_checked(model_fn, run_config.model_dir),
        config=config,
        params=params,
        train_batch_size=train_batch_size,
        eval_batch_size=eval_batch_size,
        predict_batch_size=predict_batch_size,
        # SavedModels are exported for CPU/GPU serving.
        export_to_tpu=False)

  if distribution is None:
    return estimator(run_config)
  return DistributedEstimator(estimator(run_config),
                              estimator(_single_device_config(run_config)),
                              distribution, train_batch_size)


def train_batch_size_of(params):
  """The global training batch of a model_fn's params.

  TPUEstimator's params["batch_size"] is set on the first replica only
  under a strategy, so model_fns read the batch they log from here.
  """
  return params.get("train_batch_size") or params["batch_size"]


def _resume_checked(model_fn, model_dir):
  """model_fn that, when training resumes, first compares shapes.

  Resuming from a model_dir whose checkpoint was made with another config
  (or another task's head) fails in TensorFlow's restore with a long
  traceback; this names the variables that differ instead.
  """

  def checked_model_fn(features, labels, mode, params):
    spec = model_fn(features, labels, mode, params)
    if mode == tf.estimator.ModeKeys.TRAIN and model_dir:
      latest = tf.train.latest_checkpoint(model_dir)
      if latest:
        check_checkpoint_shapes(latest, tf.global_variables(),
                                "output_dir's checkpoint")
    return spec

  return checked_model_fn


def check_checkpoint_shapes(checkpoint, variables, what="checkpoint"):
  """Fails when a checkpoint cannot restore `variables` (names, shapes).

  Raises:
    CheckpointMismatchError: listing the first variables that differ.
  """
  shapes = dict(tf.train.list_variables(checkpoint))
  problems = []
  for var in variables:
    name = var.op.name
    if name not in shapes:
      problems.append("  %s: in the model, not in the checkpoint" % name)
    elif list(shapes[name]) != var.shape.as_list():
      problems.append("  %s: model %s, checkpoint %s" %
                      (name, var.shape.as_list(), shapes[name]))
  if problems:
    raise CheckpointMismatchError(
        "%s %s does not fit the model: %d variable(s) differ (was it made "
        "with another config or task? use a new --output_dir)\n%s" %
        (what, checkpoint, len(problems), "\n".join(problems[:20])))


def train_spec(loss, train_op, batch_size, num_train_steps, use_tpu,
               log_every_n_steps=100, scaffold_fn=None,
               gradient_accumulation_steps=1):
  """The TRAIN TPUEstimatorSpec every task returns.

  On CPU/GPU it carries a `ThroughputHook` logging loss, examples/s and
  ETA; on TPU the loss lives on the device and TPUEstimator logs rates.

  Args:
    loss: scalar loss tensor.
    train_op: from `optimization.create_optimizer`.
    batch_size: global batch size (params["batch_size"]).
    num_train_steps: last step, for the ETA.
    use_tpu: whether running on TPU.
    log_every_n_steps: logging interval.
    scaffold_fn: from `init_from_checkpoint`, on TPU.
    gradient_accumulation_steps: batches per optimizer step.

  Returns:
    `tf.estimator.tpu.TPUEstimatorSpec`.
  """
  hooks = []
  if not use_tpu:
    hooks.append(ThroughputHook(batch_size, num_train_steps,
                                log_every_n_steps, loss=loss,
                                runs_per_step=gradient_accumulation_steps))
  return tf.estimator.tpu.TPUEstimatorSpec(
      mode=tf.estimator.ModeKeys.TRAIN, loss=loss, train_op=train_op,
      training_hooks=hooks, scaffold_fn=scaffold_fn)


def cli_main(run_fn):
  """The absl `main` of a run_* script: INFO logs, each line once, run.

  Bad input raises ValueError with a message that names the flag or file
  and what was expected; the CLI prints just that line and exits 1, since
  a traceback would only bury it. The same goes for what the machine or
  TensorFlow report about files (a full disk, an unreadable checkpoint),
  and Ctrl-C ends with one line and exit code 130. ALBERT_TRACEBACK=1
  shows the traceback.
  """

  def main(argv):
    program = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    try:
      # absl's app.run passes the remaining argv; the release's tests call
      # main(None).
      if argv is not None and len(argv) > 1:
        raise ValueError("unexpected arguments: %s" % " ".join(argv[1:]))
      tf.logging.set_verbosity(tf.logging.INFO)
      log_each_line_once()
      run_fn(flags.FLAGS)
    except KeyboardInterrupt:
      if os.environ.get("ALBERT_TRACEBACK"):
        raise
      sys.stderr.write("%s: interrupted\n" % program)
      sys.exit(130)
    except (ValueError, OSError, tf.errors.OpError) as e:
      if os.environ.get("ALBERT_TRACEBACK"):
        raise
      sys.stderr.write("%s: error: %s\n" % (program, error_line(e)))
      sys.exit(1)

  return main


def error_line(error):
  """One line saying what went wrong, for a CLI's last words."""
  if isinstance(error, tf.errors.OpError):
    text = op_error_reason(error)
    corrupt = describe_corrupt_checkpoint(text)
    if corrupt:
      return "%s (TensorFlow %s)" % (corrupt, type(error).__name__)
    if "checkpoint" in text.lower() or isinstance(
        error, (tf.errors.NotFoundError, tf.errors.InvalidArgumentError)):
      return "%s (TensorFlow %s; is the checkpoint complete and made for " \
             "this config?)" % (text, type(error).__name__)
    return "%s (TensorFlow %s)" % (text, type(error).__name__)
  if isinstance(error, OSError) and not isinstance(error, ValueError):
    where = error.filename or ""
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
      reason += "; free some space and run again (completed outputs are kept)"
    return "%s%s" % ("%s: " % where if where else "", reason)
  return str(error) or type(error).__name__


# Lines of a TensorFlow 2 graph error that say where, not what: the cause
# comes after them ("Graph execution error:", the Python stack of the
# node, "Node: '...'", "[[{{node ...}}]]").
_OP_ERROR_FRAME = re.compile(
    r"^(Graph execution error:|Detected at node|File \"|Node: |\[\[|"
    r"\d+ root error\(s\) found|\d+ successful operations|"
    r"\d+ derived errors ignored)")


def op_error_reason(error):
  """The line of a TensorFlow error that says what went wrong.

  TensorFlow 2's first line is often just "Graph execution error:"; the
  cause (e.g. a checkpoint's failed checksum) is further down.
  """
  message = error.message or str(error)
  for line in message.splitlines():
    line = re.sub(r"^\s*\(\d+\)\s*", "", line.strip())
    if line and not _OP_ERROR_FRAME.match(line):
      return line
  return type(error).__name__


def describe_corrupt_checkpoint(reason):
  """What to tell a user whose checkpoint data fails its checksum, or None.

  Args:
    reason: TensorFlow's line, e.g. "TensorBundle at dir/model.ckpt-5 shard
      0 (4000 bytes): Checksum does not match: stored ... vs. calculated
      ...".
  """
  match = re.search(r"TensorBundle at (\S+) shard (\d+) \((\d+) bytes\): "
                    r"Checksum does not match", reason)
  if not match:
    return None
  prefix, shard, size = match.group(1), int(match.group(2)), match.group(3)
  data_files = sorted(tf.gfile.Glob("%s.data-%05d-of-*" % (prefix, shard)))
  data_file = data_files[0] if data_files else "%s.data-*" % prefix
  return ("checkpoint %s is corrupt: its data file %s fails its checksum "
          "(a %s-byte tensor differs from what was saved); copy or download "
          "the checkpoint again" % (prefix, data_file, size))


def load_albert_config(albert_config_file, max_seq_length):
  """The validated `AlbertConfig` of a file, checked against max_seq_length.

  Raises:
    ValueError: the config is invalid, or max_seq_length exceeds its
      max_position_embeddings.
  """
  albert_config = modeling.AlbertConfig.from_json_file(albert_config_file)
  albert_config.validate()
  if max_seq_length > albert_config.max_position_embeddings:
    raise ValueError(
        "--max_seq_length=%d is longer than max_position_embeddings=%d of "
        "--albert_config_file=%s" %
        (max_seq_length, albert_config.max_position_embeddings,
         albert_config_file))
  tf.logging.info("Effective config (%s): %s", albert_config_file,
                  albert_config.describe())
  return albert_config


class CheckpointMismatchError(ValueError):
  """The init checkpoint does not fit the model (shapes, or nothing at all)."""


def check_checkpoint_files(checkpoint, what="checkpoint"):
  """Fails when a checkpoint's files are missing, unreadable or truncated.

  TensorFlow finds a truncated .data file only when it restores, deep in a
  session, with an OutOfRangeError that names no file. The index says how
  many bytes every tensor takes; the data files must hold at least that.

  Args:
    checkpoint: checkpoint prefix.
    what: the flag or role, for the message (e.g. "init_checkpoint").

  Raises:
    CheckpointMismatchError: naming the checkpoint and what is wrong.
  """
  try:
    reader = tf.train.load_checkpoint(checkpoint)
  except (tf.errors.OpError, ValueError) as e:
    raise CheckpointMismatchError(
        "%s %s cannot be read: %s" %
        (what, checkpoint, str(getattr(e, "message", e)).splitlines()[0]))
  shapes = reader.get_variable_to_shape_map()
  dtypes = reader.get_variable_to_dtype_map()
  expected = 0
  for name, shape in shapes.items():
    if dtypes[name] != tf.string:
      count = 1
      for dim in shape:
        count *= dim
      expected += count * dtypes[name].size
  data_files = tf.gfile.Glob(checkpoint + ".data-*")
  actual = sum(tf.io.gfile.stat(path).length for path in data_files)
  if actual < expected:
    raise CheckpointMismatchError(
        "%s %s is truncated: its data file(s) %s hold %d bytes but its index "
        "describes %d; copy or download it again" %
        (what, checkpoint, ", ".join(os.path.basename(p) for p in data_files)
         or "(none)", actual, expected))


def is_pretraining_checkpoint(checkpoint):
  """True if a checkpoint carries the masked-LM head (cls/predictions/).

  Pretrained models (the release's and run_pretraining's) have it;
  fine-tuned ones do not: fine-tuning graphs build no masked-LM head, and
  Savers write only what the graph holds.
  """
  try:
    names = [name for name, _ in tf.train.list_variables(checkpoint)]
  except (tf.errors.OpError, ValueError):
    return False
  return any(name.startswith("cls/predictions/") for name in names)


def resolve_init_checkpoint(init_checkpoint):
  """A checkpoint prefix from what users pass as --init_checkpoint.

  "model.ckpt-best.index" (release issue #135), ".meta" or a ".data-…"
  shard name all mean the prefix; TensorFlow would find no checkpoint at
  them and, in the release, training then went on from random weights.
  """
  if not init_checkpoint:
    return init_checkpoint
  prefix = re.sub(r"\.(index|meta|data-\d+-of-\d+)$", "", init_checkpoint)
  if prefix != init_checkpoint:
    tf.logging.info("--init_checkpoint=%s names one file of a checkpoint; "
                    "using its prefix %s", init_checkpoint, prefix)
  return prefix


def init_from_checkpoint(init_checkpoint,
                         tvars=None,
                         use_tpu=False,
                         num_of_group=0,
                         expected_unmatched=()):
  """Initialises model variables from a checkpoint, loudly.

  Fails when no variable matches (wrong checkpoint) or shapes differ (the
  config does not match the checkpoint); warns, listing the names, when
  model variables outside `expected_unmatched` get no value (they start
  from random weights).

  Args:
    init_checkpoint: checkpoint path/prefix, or None for no initialisation.
    tvars: variables to initialise; defaults to all trainable variables.
    use_tpu: return a scaffold_fn for TPUEstimatorSpec instead of calling
      tf.train.init_from_checkpoint directly.
    num_of_group: > 1 to initialise every group from the checkpoint's
      group_0 (`init_from_group0`).
    expected_unmatched: name prefixes (e.g. "cls/classifier") of variables
      that are new by design and should not be warned about.

  Returns:
    (scaffold_fn or None, initialized_variable_names dict).

  Raises:
    CheckpointMismatchError: no variable matched, or a shape differs.
  """
  if tvars is None:
    tvars = tf.trainable_variables()
  if not init_checkpoint:
    return None, {}
  if tf.gfile.IsDirectory(init_checkpoint):
    latest = tf.train.latest_checkpoint(init_checkpoint)
    if latest is None:
      raise CheckpointMismatchError(
          "init_checkpoint %s is a directory without a checkpoint in it" %
          init_checkpoint)
    init_checkpoint = latest
  if not tf.gfile.Exists(init_checkpoint + ".index") and not tf.gfile.Exists(
      init_checkpoint):
    raise CheckpointMismatchError(
        "init_checkpoint not found: %s (expected a checkpoint prefix such as "
        "model.ckpt-1000, with a .index file beside it)" % init_checkpoint)
  check_checkpoint_files(init_checkpoint, "init_checkpoint")

  result = modeling.get_assignment_map_from_checkpoint(
      tvars, init_checkpoint, num_of_group=num_of_group)
  if result.shape_mismatches:
    lines = ["  %s: model %s, checkpoint %s %s" % (name, shape, ckpt_name,
                                                   ckpt_shape)
             for name, shape, ckpt_name, ckpt_shape in result.shape_mismatches]
    raise CheckpointMismatchError(
        "init_checkpoint %s does not match the model: %d variable(s) have "
        "other shapes (does albert_config_file describe this checkpoint?)\n%s"
        % (init_checkpoint, len(lines), "\n".join(lines[:20])))
  matched = [v for v in tvars
             if modeling._variable_name(v) in  # pylint: disable=protected-access
             result.initialized_variable_names]
  if not matched:
    raise CheckpointMismatchError(
        "init_checkpoint %s matched none of the model's %d variables; is it "
        "an ALBERT checkpoint? It holds e.g. %s" %
        (init_checkpoint, len(tvars),
         ", ".join(result.unused_checkpoint_variables[:5])))
  surprising = [n for n in result.unmatched_variables
                if not any(n.startswith(p) for p in expected_unmatched)]
  if surprising:
    tf.logging.warning(
        "*** %d model variable(s) are NOT in init_checkpoint %s and start "
        "from random weights: %s", len(surprising), init_checkpoint,
        ", ".join(surprising))
  tf.logging.info("Initialised %d of %d variables from %s", len(matched),
                  len(tvars), init_checkpoint)

  maps = (result.assignment_map if num_of_group > 0
          else [result.assignment_map])
  if use_tpu:
    def tpu_scaffold():
      for amap in maps:
        tf.train.init_from_checkpoint(init_checkpoint, amap)
      return tf.train.Scaffold()
    return tpu_scaffold, result.initialized_variable_names
  for amap in maps:
    tf.train.init_from_checkpoint(init_checkpoint, amap)
  return None, result.initialized_variable_names


def log_variables(tvars, initialized_variable_names):
  """Logs every trainable variable, its shape, and whether it was loaded."""
  tf.logging.info("**** Trainable Variables ****")
  for var in tvars:
    init_string = ""
    if var.name in initialized_variable_names:
      init_string = ", *INIT_FROM_CKPT*"
    tf.logging.info("  name = %s, shape = %s%s", var.name, var.shape,
                    init_string)


def warn_random_initialisation(what):
  """The loud warning for fine-tuning that starts from random weights."""
  tf.logging.warning(
      "*** %s: neither init_checkpoint nor a hub module was given, so the "
      "encoder starts from RANDOM weights. Results will be far below a "
      "pretrained model's. ***", what)


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


def write_results(path, results, append=False):
  """Writes `key = value` lines, sorted, atomically (or appends).

  Args:
    path: output file (e.g. output_dir/eval_results.txt).
    results: dict of metric name to value.
    append: append a block instead of replacing the file.
  """
  if append:
    append_text(path, _results_text(results))
  else:
    atomic_write_text(path, _results_text(results))


def remove_stale_result(path, reason):
  """Removes a result file a previous run wrote that this run does not.

  A result file must never describe other data than the predictions
  beside it, so a run that has nothing to put in one (a test set without
  answers, a split not given this time) removes the previous one. Only
  pass the exact names the command itself writes.

  Args:
    path: the result file, e.g. output_dir/predict_results.txt.
    reason: why this run writes none, for the log line.
  """
  if tf.gfile.Exists(path):
    tf.gfile.Remove(path)
    log_progress("removed the previous run's %s: %s", path, reason)


def append_text(path, text):
  """Appends text to a file, atomically (the whole file is rewritten)."""
  if tf.gfile.Exists(path):
    with tf.gfile.GFile(path, "r") as f:
      text = f.read() + text
  atomic_write_text(path, text)


def _results_text(results):
  return "".join("%s = %s\n" % (key, results[key]) for key in sorted(results))


def atomic_write_text(path, text, mode="w"):
  """Writes text under a hidden temporary name, then renames it to `path`."""
  directory, base = os.path.split(path)
  tmp_path = os.path.join(directory, ".%s.tmp-%d" % (base, os.getpid()))
  try:
    with tf.gfile.GFile(tmp_path, mode) as f:
      f.write(text)
    tf.gfile.Rename(tmp_path, path, overwrite=True)
  except BaseException:
    if tf.gfile.Exists(tmp_path):
      tf.gfile.Remove(tmp_path)
    raise


def atomic_write_bytes(path, data):
  """`atomic_write_text` for bytes."""
  atomic_write_text(path, data, mode="wb")


def check_output_dir_writable(output_dir):
  """Creates output_dir and fails early, naming it, if it is not writable."""
  try:
    tf.gfile.MakeDirs(output_dir)
    probe = os.path.join(output_dir, ".write-test-%d" % os.getpid())
    with tf.gfile.GFile(probe, "w") as f:
      f.write("ok")
    tf.gfile.Remove(probe)
  except (tf.errors.OpError, OSError) as e:
    raise ValueError("output_dir %s is not writable: %s" % (output_dir, e))


# What a killed run leaves in output_dir: TensorFlow's own staging files
# (file_io's "<name>.tmp<uuid hex>", the Saver's "<prefix>_temp/" shards)
# and ours (".<name>.tmp-<pid>").
_TF_TEMP_FILE = re.compile(r"^.+\.tmp[0-9a-f]{32}$")
_TF_TEMP_DIR = re.compile(r"^.+_temp$")
_OUR_TEMP = re.compile(r"^\..+\.tmp-(\d+)$")


def remove_dead_run_leftovers(output_dir):
  """Removes staging files a killed run left in output_dir.

  Called when training starts: the trainer is then the only writer of
  output_dir, so TensorFlow's staging names (which carry no pid) can only
  be a dead run's. Ours carry the writer's pid and are removed only when
  that process is gone. Nothing else is touched.

  Returns:
    The names removed.
  """
  if "://" in output_dir or not os.path.isdir(output_dir):
    return []
  removed = []
  for name in sorted(os.listdir(output_dir)):
    path = os.path.join(output_dir, name)
    ours = _OUR_TEMP.match(name)
    writer = int(ours.group(1)) if ours else None
    if (ours and writer != os.getpid() and
        not peer_watch.process_alive(writer) and os.path.isfile(path)):
      os.remove(path)
    elif _TF_TEMP_FILE.match(name) and os.path.isfile(path):
      os.remove(path)
    elif (_TF_TEMP_DIR.match(name) and os.path.isdir(path) and
          all(n.startswith("part-") for n in os.listdir(path))):
      for part in os.listdir(path):
        os.remove(os.path.join(path, part))
      os.rmdir(path)
    else:
      continue
    removed.append(name)
  if removed:
    tf.logging.info("Removed %d file(s) a killed run left in %s: %s",
                    len(removed), output_dir, ", ".join(removed))
  return removed


BEST_CHECKPOINT_NAME = "model.ckpt-best"


def checkpoint_step(path):
  """model.ckpt-1200 -> 1200 (None for names without a step)."""
  m = re.search(r"-(\d+)$", path)
  return int(m.group(1)) if m else None


def list_checkpoints(output_dir):
  """Checkpoints kept in output_dir, oldest first (model.ckpt-best aside).

  Both those the checkpoint state file lists and every other
  `<name>-<step>.index` in the directory: with keep_checkpoint_max=0
  (keep all) TensorFlow keeps every checkpoint but lists only the last.
  """
  paths = set()
  state = tf.train.get_checkpoint_state(output_dir)
  for path in (state.all_model_checkpoint_paths if state else []):
    # TensorFlow already prefixes relative entries with output_dir; only a
    # bare name (a hand-edited state file) still needs the directory.
    if not tf.gfile.Exists(path + ".index"):
      path = os.path.join(output_dir, os.path.basename(path))
    paths.add(path)
  for index in tf.gfile.Glob(os.path.join(output_dir, "*.index")):
    paths.add(index[:-len(".index")])
  return sorted((p for p in paths
                 if checkpoint_step(p) is not None and
                 tf.gfile.Exists(p + ".index")), key=checkpoint_step)


def copy_checkpoint(source, target):
  """Copies a checkpoint's files (source.* -> target.*).

  Every file is copied under a hidden temporary name first; then the old
  target.index goes, the new files are renamed into place and the new
  .index comes last. A copy that dies half-way leaves no .index, never an
  index that points into other data files.

  Returns:
    (source file, target file) pairs.
  """
  directory, base = os.path.split(target)
  copies = []
  for path in tf.gfile.Glob(source + ".*"):
    suffix = path[len(source):]
    if ".tmp" in suffix:
      continue
    tmp = os.path.join(directory, ".%s%s.tmp-%d" % (base, suffix,
                                                     os.getpid()))
    tf.gfile.Copy(path, tmp, overwrite=True)
    copies.append((suffix, tmp))
  if tf.gfile.Exists(target + ".index"):
    tf.gfile.Remove(target + ".index")
  for suffix, tmp in sorted(copies, key=lambda c: c[0] == ".index"):
    tf.gfile.Rename(tmp, target + suffix, overwrite=True)
  return [(source + suffix, target + suffix) for suffix, _ in sorted(copies)]


def checkpoint_global_step(checkpoint):
  """The global_step stored in a checkpoint, or None."""
  try:
    return int(tf.train.load_variable(checkpoint, "global_step"))
  except (tf.errors.OpError, ValueError):
    return None


def read_results(path):
  """A `key = value` file (one block) as a dict of strings."""
  with tf.gfile.GFile(path) as f:
    return dict(line.rstrip("\n").split(" = ", 1) for line in f
                if " = " in line)


def best_or_latest_checkpoint(output_dir):
  """output_dir/model.ckpt-best if present and sound, else the latest.

  model.ckpt-best is checked against best_checkpoint.txt (its step): an
  update that was interrupted is repaired from the recorded checkpoint,
  and a best that cannot be trusted is an error rather than a silent
  prediction from other weights. A model.ckpt-best without a record (made
  by the release) is used as it is.

  Raises:
    ValueError: model.ckpt-best disagrees with its record and the recorded
      checkpoint is gone.
  """
  best = os.path.join(output_dir, BEST_CHECKPOINT_NAME)
  record_path = os.path.join(output_dir, "best_checkpoint.txt")
  if tf.gfile.Exists(record_path):
    record = read_results(record_path)
    step = int(record.get("global_step", -1))
    if (tf.gfile.Exists(best + ".index") and
        checkpoint_global_step(best) == step):
      return best
    source = record.get("checkpoint", "")
    if (source and tf.gfile.Exists(source + ".index") and
        checkpoint_global_step(source) == step):
      tf.logging.warning(
          "%s does not match %s (an interrupted update); copying it again "
          "from %s", best, record_path, source)
      copy_checkpoint(source, best)
      return best
    raise ValueError(
        "%s does not match %s (step %d) and %s is gone; evaluate again "
        "(--do_eval) to choose the best checkpoint" %
        (best, record_path, step, source or "the recorded checkpoint"))
  if tf.gfile.Exists(best + ".index"):
    return best
  return tf.train.latest_checkpoint(output_dir)


def plain_results(result):
  """Estimator eval results as Python numbers (global_step an int)."""
  return {key: (int(value) if key == "global_step" else float(value))
          for key, value in result.items()}


def estimator_evaluate_fn(estimator, input_fn, steps=None, name=None):
  """An `evaluate_checkpoints` evaluate_fn running `estimator.evaluate`."""

  def evaluate_fn(checkpoint_path):
    return plain_results(estimator.evaluate(
        input_fn=input_fn, steps=steps, checkpoint_path=checkpoint_path,
        name=name))

  return evaluate_fn


def evaluate_checkpoints(evaluate_fn, output_dir, key_name,
                         higher_is_better=True, extra_results=None,
                         name=None, eval_key=None, checkpoints=None):
  """Evaluates every kept checkpoint once and keeps the best one.

  Each checkpoint not evaluated before (oldest first) is evaluated and its
  results appended to eval_results.txt as a block of `key = value` lines,
  as the released scripts wrote them. The best checkpoint by `key_name` is
  copied to model.ckpt-best.* and described in best_checkpoint.txt. It
  never waits for checkpoints that are not there, and deletes none.

  Args:
    evaluate_fn: fn(checkpoint_path) -> dict of metric name to number, e.g.
      from `estimator_evaluate_fn`.
    output_dir: model_dir holding the checkpoints.
    key_name: metric that decides the best checkpoint.
    higher_is_better: direction of key_name.
    extra_results: (optional) dict added to every results block.
    name: (optional) a second eval set (e.g. "mismatched"): its results go
      to eval_results_<name>.txt and best_checkpoint_<name>.txt, and it
      does not replace model.ckpt-best.
    eval_key: (optional) JSON-serialisable description of the eval set.
      Results remembered for another eval set (another dev file, other
      flags) are not reused: every checkpoint is evaluated again.
    checkpoints: (optional) the checkpoint paths to consider (default:
      every one in output_dir); the best is chosen among them and those
      evaluated before.

  Returns:
    (results_by_step, best): dict of global step to results dict, and the
    best results dict (with "checkpoint").

  Raises:
    ValueError: output_dir has no checkpoint.
  """
  suffix = "_" + name if name else ""
  results_path = os.path.join(output_dir, "eval_results%s.txt" % suffix)
  history_path = os.path.join(output_dir, "eval_history%s.json" % suffix)
  best_path = os.path.join(output_dir, "best_checkpoint%s.txt" % suffix)
  if checkpoints is None:
    checkpoints = list_checkpoints(output_dir)
  if not checkpoints:
    raise ValueError("output_dir %s has no checkpoint to evaluate; train "
                     "first (--do_train) or point --output_dir at a trained "
                     "model" % output_dir)
  eval_key = json.loads(json.dumps(eval_key, sort_keys=True, default=str))
  history = _read_history(history_path, eval_key)

  def save_history():
    atomic_write_text(history_path, json.dumps(
        {"eval_key": eval_key,
         "results": {str(k): v for k, v in history.items()}},
        indent=1, sort_keys=True))

  pick = max if higher_is_better else min

  def best_step_of(steps):
    return pick(steps, key=lambda s: (history[s][key_name], -s))

  for path in checkpoints:
    step = checkpoint_step(path)
    if step in history:
      continue
    result = dict(evaluate_fn(path))
    result.setdefault("global_step", step)
    result.update(extra_results or {})
    if key_name not in result:
      raise ValueError("eval results have no %r to pick the best checkpoint "
                       "by; they have %s" % (key_name, sorted(result)))
    log_progress("checkpoint %s: %s = %.4f", os.path.basename(path),
                 key_name, result[key_name])
    history[step] = dict(result, checkpoint=path)
    # The release's block: the results, the best value so far, a rule.
    append_text(results_path, "%sbest = %s\n%s\n" % (
        _results_text(result), history[best_step_of(history)][key_name],
        "=" * 50))
    save_history()

  best_step = best_step_of(history)
  best = history[best_step]
  best_lines = {"checkpoint": best["checkpoint"], "global_step": best_step,
                key_name: best[key_name]}
  best_prefix = os.path.join(output_dir, BEST_CHECKPOINT_NAME)
  previous = None
  if tf.gfile.Exists(best_path):
    with tf.gfile.GFile(best_path) as f:
      previous = f.read()
  # The copy comes first and the record last, so a record never describes
  # a model.ckpt-best that was not (completely) copied.
  if not name and (previous != _results_text(best_lines) or
                   not tf.gfile.Exists(best_prefix + ".index")):
    if tf.gfile.Exists(best["checkpoint"] + ".index"):
      copied = copy_checkpoint(best["checkpoint"], best_prefix)
      append_text(results_path, "".join(
          "saved %s to %s\n" % pair for pair in copied))
  write_results(best_path, best_lines)
  if not name:
    # The release's record of the evaluation: last step, best step, value.
    atomic_write_text(os.path.join(output_dir, "best_trial.txt"), "%d:%d:%s" %
                      (max(history), best_step, best[key_name]))
  log_progress("best checkpoint: step %d, %s = %.4f", best_step, key_name,
               best[key_name])
  return history, best


def _read_history(history_path, eval_key):
  """Remembered results by step, if they are for the same eval set."""
  if not tf.gfile.Exists(history_path):
    return {}
  with tf.gfile.GFile(history_path) as f:
    data = json.load(f)
  if "results" in data and "eval_key" in data:
    if data["eval_key"] != eval_key:
      tf.logging.warning(
          "%s holds results for another eval set (other data or flags); "
          "evaluating every checkpoint again", history_path)
      return {}
    data = data["results"]
  return {int(step): result for step, result in data.items()}


def export_saved_model(estimator, export_dir, max_seq_length,
                       checkpoint_path=None):
  """Exports a SavedModel taking input_ids, input_mask and segment_ids.

  The model_fn's PREDICT spec defines the outputs (its predictions dict or
  export_outputs); features other than the three inputs are absent.

  Args:
    estimator: the trained estimator.
    export_dir: base directory; the export goes into a timestamped
      subdirectory (written under a temporary name by the estimator).
    max_seq_length: S of the int32 [None, S] inputs.
    checkpoint_path: (optional) checkpoint to export; default the latest.

  Returns:
    The path of the exported SavedModel (str).
  """
  def serving_input_receiver_fn():
    features = {
        name: tf.placeholder(tf.int32, [None, max_seq_length], name=name)
        for name in ("input_ids", "input_mask", "segment_ids")}
    return tf.estimator.export.ServingInputReceiver(features, features)

  path = estimator.export_saved_model(export_dir, serving_input_receiver_fn,
                                      checkpoint_path=checkpoint_path)
  if isinstance(path, bytes):
    path = path.decode("utf-8")
  log_progress("exported SavedModel to %s", path)
  return path
