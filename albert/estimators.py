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
"""RunConfig and (TPU)Estimator construction for every training command.

`make_run_config` / `run_config_from_options` (TPU, CPU, GPU, a
tf.distribute strategy), `make_estimator` (a TPUEstimator, or a
`distributed.DistributedEstimator` under a strategy), the performance
flags' checks and estimator params (`check_performance_flags`,
`model_params`, `compilation_scope` for XLA), the TRAIN spec every model_fn
returns (`train_spec`, with the preemption hook) and the SavedModel export
(`export_saved_model`).

Not here: the strategies and TF_CONFIG (distributed), checkpoint
initialisation and evaluation (checkpoints), logging hooks (progress),
SIGTERM handling (preemption).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib

import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import distributed
from albert import modeling
from albert import preemption
from albert import progress


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
    distribution: (optional) `distributed.Distribution`: training runs its
      strategy
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
  with distributed._tf_config_hidden():
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


def check_performance_flags(f, *, use_tpu, hub_module):
  """Fails on --precision, --use_xla and accumulation settings that clash.

  Args:
    f: FLAGS or an `options(...)` object with the `performance_flag_specs`
      flags (precision, use_xla, gradient_accumulation_steps).
    use_tpu: --use_tpu (False for commands that never run on TPU).
    hub_module: --albert_hub_module_handle (None for commands without it).

  Raises:
    ValueError: naming the flag.
  """
  precision = f.precision
  modeling.compute_dtype_of(precision)  # Names the flag when unknown.
  accumulation = f.gradient_accumulation_steps
  if use_tpu and accumulation > 1:
    raise ValueError(
        "--gradient_accumulation_steps=%d is for CPUs and GPUs; on TPU use "
        "a bigger --train_batch_size" % accumulation)
  if use_tpu and precision == "fp16":
    raise ValueError("--precision=fp16 is for GPUs; TPUs compute in bf16 "
                     "(--precision=bf16)")
  if use_tpu and f.use_xla:
    raise ValueError("--use_xla is for CPUs and GPUs; TPUs always compile "
                     "with XLA")
  if (precision == "fp16" and not use_tpu and
      not tf.config.list_physical_devices("GPU")):
    # Correct but unusable: CPUs have no fast float16 matmul in TensorFlow.
    tf.logging.warning(
        "--precision=fp16 without a GPU: TensorFlow's CPU float16 matmuls "
        "run ~100x slower than float32; on a CPU use --precision=bf16")
  if precision != "fp32" and hub_module:
    raise ValueError(
        "--precision=%s needs the model built from --albert_config_file; a "
        "hub module (--albert_hub_module_handle) computes as it was "
        "exported (fp32)" % precision)


def describe_batch(f, batch_size, distribution=None):
  """'batch 32', 'batch 8 x 4 accumulated = 32 per update', and with a
  strategy 'batch 32 over 2 replicas (...)'.

  Args:
    f: FLAGS or an `options(...)` object (gradient_accumulation_steps).
    batch_size: the global batch of one session run.
    distribution: (optional) `distributed.Distribution`.
  """
  accumulation = f.gradient_accumulation_steps
  text = "batch %d" % batch_size
  if accumulation > 1:
    text += " x %d accumulated = %d per update" % (
        accumulation, batch_size * accumulation)
  if distribution is not None:
    text += ", %d per replica; %s" % (
        batch_size // distribution.num_replicas, distribution.describe())
  return text


def describe_precision(f):
  """', bf16, XLA' and the like; '' for fp32 without XLA.

  Args:
    f: FLAGS or an `options(...)` object (precision, use_xla).
  """
  parts = []
  if f.precision != "fp32":
    parts.append(f.precision)
  if f.use_xla:
    parts.append("XLA")
  return "".join(", " + part for part in parts)


def model_params(f):
  """The estimator params every model_fn reads its performance settings from.

  Args:
    f: FLAGS or an `options(...)` object with the `performance_flag_specs`
      flags.

  Returns:
    dict: "precision", "use_xla" and "gradient_accumulation_steps".
  """
  return {"precision": f.precision,
          "use_xla": bool(f.use_xla),
          "gradient_accumulation_steps": f.gradient_accumulation_steps}


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
    distribution: (optional) `distributed.Distribution` to train with.

  Returns:
    `tf.estimator.tpu.TPUEstimator`, or a `distributed.DistributedEstimator`
    with a distribution.
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
  return distributed.DistributedEstimator(
      trainer=estimator(run_config),
      evaluator=estimator(_single_device_config(run_config)),
      distribution=distribution, train_batch_size=train_batch_size)


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
        checkpoints.check_checkpoint_shapes(latest, tf.global_variables(),
                                            "output_dir's checkpoint")
    return spec

  return checked_model_fn


def train_spec(loss, train_op, batch_size, num_train_steps, use_tpu,
               log_every_n_steps=100, scaffold_fn=None,
               gradient_accumulation_steps=1):
  """The TRAIN TPUEstimatorSpec every task returns.

  It carries a `preemption.StopHook` (SIGTERM stops training after the step
  in flight) and, on CPU/GPU, a `progress.ThroughputHook` logging loss,
  examples/s and ETA; on TPU the loss lives on the device and TPUEstimator
  logs rates.

  Args:
    loss: scalar loss tensor.
    train_op: from `optimization.create_optimizer`.
    batch_size: global batch size (params["batch_size"]).
    num_train_steps: last step, for the ETA.
    use_tpu: whether running on TPU.
    log_every_n_steps: logging interval.
    scaffold_fn: from `checkpoints.init_from_checkpoint`, on TPU.
    gradient_accumulation_steps: batches per optimizer step.

  Returns:
    `tf.estimator.tpu.TPUEstimatorSpec`.
  """
  # Every training run stops after the step in flight on SIGTERM (the
  # driver's preemption handling); on TPU, after the loop in flight.
  train_op, stop_hook = preemption.with_stop_hook(
      train_op, runs_per_step=gradient_accumulation_steps)
  hooks = [stop_hook]
  if not use_tpu:
    hooks.append(progress.ThroughputHook(
        batch_size, num_train_steps, log_every_n_steps, loss=loss,
        runs_per_step=gradient_accumulation_steps))
  return tf.estimator.tpu.TPUEstimatorSpec(
      mode=tf.estimator.ModeKeys.TRAIN, loss=loss, train_op=train_op,
      training_hooks=hooks, scaffold_fn=scaffold_fn)


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
  progress.log_progress("exported SavedModel to %s", path)
  return path
