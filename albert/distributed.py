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
"""Training on several devices and machines with tf.distribute.

`distribution_from_options` turns --strategy, --num_devices and TF_CONFIG
into a `Distribution` (strategy, replicas, session config, cluster, this
task) after `check_distribution_flags`; `read_tf_config` validates
TF_CONFIG; `start_peer_watch` bounds the wait for peers (peer_watch.py);
`DistributedEstimator` trains under the strategy and evaluates, predicts
and exports on one device over the same model_dir.

Not here: the RunConfig and estimator construction (estimators), the
flags' specs (command_line).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib
import json
import os
import socket
import subprocess
import sys

import tensorflow.compat.v1 as tf

from albert import command_line
from albert import input_pipeline
from albert import peer_watch



# Virtual CPU devices exist to run and test the mirrored path anywhere; more
# than this many would only slow graph building down.
_MAX_VIRTUAL_CPUS = 16


# Job names a multi_worker_mirrored TF_CONFIG cluster may hold: every one of
# them trains (the chief, or else worker 0, also writes the checkpoints).
_TRAINING_JOBS = ("chief", "worker")


class Distribution(object):
  """How training is spread over replicas, and this process's place in it.

  Built by `distribution_from_options`; `estimators.make_run_config` and
  `estimators.make_estimator` turn it into a strategy-aware estimator.

  Attributes:
    kind: "mirrored" or "multi_worker_mirrored".
    strategy: the tf.compat.v1 `tf.distribute.Strategy`.
    num_replicas: replicas over all machines.
    devices_per_worker: replicas on this machine.
    device_kind: "GPU", or "CPU" (virtual devices without a GPU).
    session_config: `tf.ConfigProto` the sessions need (virtual CPUs).
    cluster: {job: [address, ...]} from TF_CONFIG (multi-worker), else None.
    task_type, task_index: this process's task in `cluster`.
    worker_timeout_secs: how long to wait for unreachable peers
      (multi-worker: --worker_timeout_secs).
  """

  def __init__(self, kind, strategy, num_replicas, devices_per_worker,
               device_kind, session_config, cluster=None, task_type=None,
               task_index=0, worker_timeout_secs=None):
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
                              batch_flag="train_batch_size", *, use_tpu):
  """The `Distribution` --strategy asks for, running; None for "none".

  Checks as `check_distribution_flags` does, then builds the strategy. With
  several machines that starts this worker's server and waits until every
  task of the cluster is up (at most --worker_timeout_secs), so commands
  call this once their own input has been checked.

  Args: as `check_distribution_flags`.

  Raises:
    ValueError: a flag, TF_CONFIG or the batch does not fit, naming it.
  """
  distribution = check_distribution_flags(f, train_batch_size, batch_flag,
                                          use_tpu=use_tpu)
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
                             batch_flag="train_batch_size", *, use_tpu):
  """The `Distribution` --strategy asks for, checked, without its strategy
  (nothing started yet); None for "none".

  Args:
    f: FLAGS or an `options(...)` object with the
      `command_line.distribution_flag_specs` flags (strategy, num_devices,
      worker_timeout_secs).
    train_batch_size: the global training batch, when training; it must
      split evenly across the replicas.
    batch_flag: the flag that set it, for the message.
    use_tpu: --use_tpu (False for commands that never run on TPU).

  Raises:
    ValueError: a flag, TF_CONFIG or the batch does not fit, naming it.
  """
  kind = f.strategy
  num_devices = f.num_devices
  if kind not in command_line.STRATEGIES:
    raise ValueError("--strategy=%s: expected one of %s" %
                     (kind, ", ".join(command_line.STRATEGIES)))
  if kind == "none":
    if num_devices is not None:
      raise ValueError("--num_devices=%d needs --strategy=mirrored or "
                       "multi_worker_mirrored" % num_devices)
    return None
  if use_tpu:
    raise ValueError(
        "--use_tpu with --strategy=%s: TPUs replicate through TPUEstimator "
        "(--num_tpu_cores); strategies are for CPUs and GPUs" % kind)
  command_line.check_numeric_flags({"num_devices": num_devices,
                                    "worker_timeout_secs":
                                        f.worker_timeout_secs})
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
        worker_timeout_secs=f.worker_timeout_secs)
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
      [sys.executable, peer_watch.__file__, str(os.getpid()),
       str(timeout_secs), program, task_name] +
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

  It answers the (TPU)Estimator calls the commands make: `train` runs the
  strategy on the trainer (mirrored: `Estimator.train`; several machines:
  `tf.estimator.train_and_evaluate`, the Estimator's multi-worker path);
  `evaluate`, `predict` and `export_saved_model` run on the evaluator, a
  one-device estimator over the same model_dir, so checkpoints and results
  are exactly those of a one-device run.
  """

  def __init__(self, trainer, evaluator, distribution, train_batch_size):
    """Pairs a trainer and an evaluator over one model_dir.

    Args:
      trainer: TPUEstimator whose RunConfig carries the strategy.
      evaluator: TPUEstimator over the same model_dir on one device.
      distribution: the `Distribution` the trainer's RunConfig runs.
      train_batch_size: the global training batch.
    """
    self._trainer = trainer
    self._evaluator = evaluator
    self.distribution = distribution
    self.train_batch_size = train_batch_size

  @property
  def model_dir(self):
    """The directory of the checkpoints, shared by trainer and evaluator."""
    return self._evaluator.model_dir

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

  def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None,
               name=None):
    """`Estimator.evaluate` on one device; returns the metrics dict."""
    return self._evaluator.evaluate(input_fn, steps=steps, hooks=hooks,
                                    checkpoint_path=checkpoint_path,
                                    name=name)

  def predict(self, input_fn, predict_keys=None, hooks=None,
              checkpoint_path=None, yield_single_examples=True):
    """`Estimator.predict` on one device; yields the predictions."""
    return self._evaluator.predict(
        input_fn, predict_keys=predict_keys, hooks=hooks,
        checkpoint_path=checkpoint_path,
        yield_single_examples=yield_single_examples)

  def export_saved_model(self, export_dir_base, serving_input_receiver_fn,
                         assets_extra=None, as_text=False,
                         checkpoint_path=None):
    """`Estimator.export_saved_model` of the one-device graph; its path."""
    return self._evaluator.export_saved_model(
        export_dir_base, serving_input_receiver_fn,
        assets_extra=assets_extra, as_text=as_text,
        checkpoint_path=checkpoint_path)


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
