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
"""Times ALBERT's training step and encoder inference on this machine.

python -m albert.benchmark --albert_config_file=albert_base/albert_config.json \
    --max_seq_length=128 --batch_size=8 --num_steps=10 --precision=bf16

The training step is run_pretraining's own: the model_fn's masked-LM plus
sentence-order loss, the optimizer (and gradient accumulation when asked),
one session run per batch. Inference is the encoder's forward pass to its
sequence output. Inputs are random ids held in variables, so neither an
input pipeline nor feeding is timed. Both are timed after warm-up runs.

--runtime=onnxruntime times the same encoder inference through ONNX Runtime
instead: the model (same random weights as TensorFlow's) is written by
albert.onnx_graph to a temporary file, optionally quantized to int8
(--quantize=int8, as export_to_onnx does), and run by an InferenceSession on
the CPU. Training is timed in TensorFlow only.

The table gives examples/s, tokens/s, the achieved model GFLOP/s and their
share of this machine's matmul peak in the same precision, measured here
first. The last line is one JSON object for scripts.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import contextlib
import json
import os
import platform
import shutil
import tempfile
import time

from absl import app
from absl import flags
import numpy as np
import tensorflow.compat.v1 as tf

from albert import command_line
from albert import distributed
from albert import estimators
from albert import modeling
from albert import onnx_runtime
from albert import op_profile
from albert import pretraining
from albert import progress

FLAG_DEFAULTS = command_line.define_flags([
    ("string", "albert_config_file", None,
     "The ALBERT config json file of the model to time."),
    ("integer", "max_seq_length", 128, "Sequence length S."),
    ("integer", "batch_size", 8,
     "Examples per session run (per accumulated batch)."),
    ("integer", "max_predictions_per_seq", 20,
     "Masked-LM predictions per sequence in the training step."),
    ("integer", "num_steps", 10, "Timed session runs per mode."),
    ("integer", "warmup_steps", 3,
     "Untimed runs first (graph optimisation, XLA compilation, caches)."),
    ("enum", "optimizer", "adamw", "The training step's optimizer.",
     {"enum_values": ["adamw", "lamb"]}),
    ("enum", "mode", "both", "What to time.",
     {"enum_values": ["train", "infer", "both"]}),
    ("enum", "runtime", "tensorflow",
     "What runs inference: TensorFlow, or ONNX Runtime (needs the onnx "
     "extra; inference only, fp32).",
     {"enum_values": ["tensorflow", "onnxruntime"]}),
    ("enum", "quantize", "none",
     "With --runtime=onnxruntime: time the dynamic int8 model "
     "(export_to_onnx --quantize=int8).",
     {"enum_values": ["none", "int8"]}),
    ("bool", "profile", False,
     "After the table, print each mode's traced step by op class (matmul, "
     "softmax, LayerNorm, GELU, casts, optimizer, ...; albert.op_profile)."),
    ("bool", "measure_peak", True,
     "Measure this machine's matmul peak in the chosen precision, for the "
     "table's share-of-peak column."),
] + command_line.performance_flag_specs() +
    command_line.distribution_flag_specs())

# How many runs a timed phase takes at most, so --num_steps=10**9 is not an
# endless loop by mistake.
_MAX_STEPS = 100000


default_options = command_line.default_options_of(FLAG_DEFAULTS)


def encoder_flops_per_example(config, seq_length):
  """Multiply-adds x 2 of one example's encoder forward pass.

  Counts the matmuls (embedding projection, Q/K/V/output projections,
  attention scores and context, feed-forward), which are all but a few
  percent of the work.

  Args:
    config: `AlbertConfig`.
    seq_length: S.

  Returns:
    float FLOPs.
  """
  s, e, h, i = (seq_length, config.embedding_size, config.hidden_size,
                config.intermediate_size)
  projection = 2 * s * e * h if e != h else 0
  per_block = (4 * 2 * s * h * h +  # Q, K, V and output projections
               2 * 2 * s * s * h +  # scores and context
               2 * 2 * s * h * i)   # feed-forward in and out
  blocks = config.num_hidden_layers * config.inner_group_num
  return float(projection + blocks * per_block)


def train_flops_per_example(config, seq_length, max_predictions_per_seq):
  """FLOPs of one example's training step: forward, then backward (2x).

  Adds the heads' matmuls (pooler, masked-LM transform and decoder over
  the vocabulary at the masked positions) to the encoder's.
  """
  h, e, v = config.hidden_size, config.embedding_size, config.vocab_size
  heads = (2 * h * h + 2 * h * 2 +
           max_predictions_per_seq * (2 * h * e + 2 * e * v))
  return 3.0 * (encoder_flops_per_example(config, seq_length) + heads)


def measure_matmul_peak(dtype, seconds=1.0):
  """GFLOP/s of large matmuls in `dtype` on this machine (all cores).

  The reference for the benchmark's share-of-peak: transformer layers are
  mostly matmuls of this shape ([tokens, H] x [H, I]). Only the matmuls
  run: the operands are stored in `dtype` (no casts), each product is
  reduced to one element by a slice (no pass over its output), and the
  left operands differ, so no product is computed once for all.
  """
  chain = 8
  with tf.Graph().as_default():
    lefts = [tf.Variable(tf.cast(tf.random.normal([1024, 768]), dtype),
                         trainable=False) for _ in range(chain)]
    right = tf.Variable(tf.cast(tf.random.normal([768, 3072]), dtype),
                        trainable=False)
    total = tf.add_n([tf.cast(tf.matmul(left, right)[0, 0], tf.float32)
                      for left in lefts])
    flops = chain * 2.0 * 1024 * 768 * 3072
    # One matmul at a time, on all cores: two at once would share them.
    config = tf.ConfigProto(inter_op_parallelism_threads=1)
    with tf.Session(config=config) as session:
      session.run(tf.global_variables_initializer())
      session.run(total)
      runs, start = 0, time.time()
      while time.time() - start < seconds or runs < 2:
        session.run(total)
        runs += 1
      return runs * flops / (time.time() - start) / 1e9


def _random_input_values(config, batch_size, seq_length, max_predictions,
                         seed=0):
  """Pretraining features as numpy arrays ([B, S] ids, [B, P] predictions)."""
  rng = np.random.RandomState(seed)
  values = {
      "input_ids": rng.randint(5, config.vocab_size,
                               [batch_size, seq_length]),
      "input_mask": np.ones([batch_size, seq_length]),
      "segment_ids": np.concatenate(
          [np.zeros([batch_size, seq_length // 2]),
           np.ones([batch_size, seq_length - seq_length // 2])], axis=1),
      "masked_lm_positions": np.stack(
          [np.sort(rng.choice(seq_length, max_predictions, replace=False))
           for _ in range(batch_size)]),
      "masked_lm_ids": rng.randint(5, config.vocab_size,
                                   [batch_size, max_predictions]),
      "masked_lm_weights": np.ones([batch_size, max_predictions]),
      "next_sentence_labels": rng.randint(0, 2, [batch_size, 1]),
  }
  return values


def _random_inputs(config, batch_size, seq_length, max_predictions, seed=0):
  """Pretraining features as non-trainable variables (not fed, not folded)."""
  values = _random_input_values(config, batch_size, seq_length,
                                max_predictions, seed)
  features = {}
  for name, value in values.items():
    dtype = tf.float32 if name == "masked_lm_weights" else tf.int32
    features[name] = tf.Variable(value.astype(dtype.as_numpy_dtype),
                                 trainable=False, name="benchmark_" + name,
                                 collections=[tf.GraphKeys.LOCAL_VARIABLES])
  return features


def _time_runs(session, op, num_steps, warmup_steps):
  """(seconds per run of `op` after warm-up, {op class: seconds}).

  The op classes are one more traced run's (albert.op_profile), after the
  timed ones so the trace's overhead is not timed.
  """
  for _ in range(warmup_steps):
    session.run(op)
  start = time.time()
  for _ in range(num_steps):
    session.run(op)
  seconds = (time.time() - start) / num_steps
  return seconds, op_profile.profile_step(session, op)


def time_training(config, options, distribution=None):
  """Training runs (one global batch) of the pretraining model_fn.

  With a `distributed.Distribution` (--strategy=mirrored), every replica runs
  the model_fn on its share of the batch, as in run_pretraining: the
  gradients' all-reduce is part of the timed step.

  Returns:
    (seconds per run, {op class: seconds} of one traced run).
  """
  replicas = distribution.num_replicas if distribution else 1
  model_fn = pretraining.model_fn_builder(
      albert_config=config, init_checkpoint=None, learning_rate=1e-5,
      num_train_steps=10 ** 9, num_warmup_steps=0, use_tpu=False,
      use_one_hot_embeddings=False, optimizer=options.optimizer,
      log_every_n_steps=10 ** 9)
  params = dict(estimators.model_params(options), batch_size=options.batch_size)

  def replica_step(features):
    spec = model_fn(features, None, tf.estimator.ModeKeys.TRAIN, params)
    return spec.train_op, spec.loss

  with tf.Graph().as_default():
    tf.set_random_seed(0)
    with (distribution.strategy.scope() if distribution
          else contextlib.nullcontext()):
      features = _random_inputs(config, options.batch_size // replicas,
                                options.max_seq_length,
                                options.max_predictions_per_seq)
      if distribution is None:
        train_op, loss = replica_step(features)
      else:
        strategy = distribution.strategy
        train_ops, losses = strategy.extended.call_for_each_replica(
            replica_step, args=(features,))
        train_op = strategy.group(train_ops)
        loss = strategy.reduce(tf.distribute.ReduceOp.MEAN, losses,
                               axis=None)
    with tf.Session(config=distribution.session_config if distribution
                    else None) as s:
      s.run([tf.global_variables_initializer(),
             tf.local_variables_initializer()])
      timing = _time_runs(s, train_op, options.num_steps,
                          options.warmup_steps)
      loss = s.run(loss)
  if not np.isfinite(loss):
    raise ValueError("the training step's loss is %s: the benchmark's "
                     "numbers would mean nothing" % loss)
  return timing


def time_inference(config, options):
  """Encoder forward passes (one batch) to the sequence output.

  Returns:
    (seconds per pass, {op class: seconds} of one traced pass).
  """
  with tf.Graph().as_default():
    tf.set_random_seed(0)
    features = _random_inputs(config, options.batch_size,
                              options.max_seq_length, 1)
    with estimators.compilation_scope(options.use_xla):
      model = modeling.AlbertModel(
          config, is_training=False, input_ids=features["input_ids"],
          input_mask=features["input_mask"],
          token_type_ids=features["segment_ids"],
          compute_dtype=modeling.compute_dtype_of(options.precision))
      output = model.get_sequence_output()  # [B, S, H]
    with tf.Session() as s:
      s.run([tf.global_variables_initializer(),
             tf.local_variables_initializer()])
      return _time_runs(s, output, options.num_steps, options.warmup_steps)


def _encoder_weights(config):
  """The encoder's freshly initialised variables: {checkpoint name: array}.

  The same initialisers and seed as `time_inference`'s graph, so both
  runtimes time the same model.
  """
  with tf.Graph().as_default():
    tf.set_random_seed(0)
    ids = tf.zeros([1, 2], tf.int32)
    modeling.AlbertModel(config, is_training=False, input_ids=ids)
    variables = tf.global_variables()
    with tf.Session() as s:
      s.run(tf.global_variables_initializer())
      values = s.run(variables)
  return {v.op.name: value for v, value in zip(variables, values)}


def time_onnxruntime_inference(config, options):
  """Encoder forward passes (one batch) in ONNX Runtime.

  The model is albert.onnx_graph's, with `_encoder_weights`, written to a
  temporary directory (removed afterwards) and, with --quantize=int8,
  quantized as export_to_onnx does; one InferenceSession on the CPU with
  ONNX Runtime's default threads (all cores).

  Returns:
    (seconds per pass, None: ONNX Runtime's ops are not profiled here).
  """
  onnx, _ = onnx_runtime.require_onnx("benchmark --runtime=onnxruntime")
  from albert import onnx_graph  # pylint: disable=g-import-not-at-top
  model = onnx_graph.build_model(config, _encoder_weights(config))
  directory = tempfile.mkdtemp(prefix=".albert-benchmark-")
  try:
    path = os.path.join(directory, "encoder.onnx")
    onnx.save(model, path)
    if options.quantize == "int8":
      quantized = os.path.join(directory, "encoder.int8.onnx")
      onnx_runtime.quantize_int8(path, quantized)
      path = quantized
    session = onnx_runtime.session(path)
  finally:
    shutil.rmtree(directory)  # the session holds the model in memory
  values = _random_input_values(config, options.batch_size,
                                options.max_seq_length, 1)
  feed = {}
  for model_input in session.get_inputs():
    dtype = np.int64 if "int64" in model_input.type else np.int32
    feed[model_input.name] = values[model_input.name].astype(dtype)
  outputs = [output.name for output in session.get_outputs()]
  for _ in range(options.warmup_steps):
    session.run(outputs, feed)
  start = time.time()
  for _ in range(options.num_steps):
    session.run(outputs, feed)
  return (time.time() - start) / options.num_steps, None


def activation_bytes_lower_bound(config, batch_size, seq_length, training):
  """Bytes the step's activations take at the least, in float32.

  Inference holds one layer's largest tensors at a time (the attention
  scores and the feed-forward's inner layer); training keeps every layer's
  for the backward pass. The real figure is higher (gradients, workspace,
  the optimizer), so this only catches sizes that cannot fit.
  """
  per_layer = batch_size * seq_length * (
      config.num_attention_heads * seq_length + config.intermediate_size)
  if training:
    per_layer = batch_size * seq_length * (
        2 * config.num_attention_heads * seq_length +
        2 * config.intermediate_size + 6 * config.hidden_size)
    per_layer *= config.num_hidden_layers
  return 4 * per_layer


def physical_memory_bytes():
  """This machine's memory, or None where the system does not say."""
  try:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
  except (ValueError, OSError, AttributeError):
    return None


def check_memory(config, options):
  """Fails, naming the sizes, when the batch cannot fit in memory."""
  memory = physical_memory_bytes()
  if not memory:
    return
  for mode in ("train", "infer"):
    if options.mode not in (mode, "both"):
      continue
    needed = activation_bytes_lower_bound(
        config, options.batch_size, options.max_seq_length, mode == "train")
    if needed > memory:
      raise ValueError(
          "--batch_size=%d at --max_seq_length=%d needs at least %.1f GiB "
          "for the %s step's activations; this machine has %.1f GiB: lower "
          "--batch_size" % (options.batch_size, options.max_seq_length,
                            needed / 2.0 ** 30,
                            "training" if mode == "train" else "inference",
                            memory / 2.0 ** 30))


def out_of_memory(options, error):
  """The one-line ValueError for an allocation that failed anyway."""
  if isinstance(error, tf.errors.OpError):
    reason = command_line.op_error_reason(error)
  else:
    reason = str(error).strip().splitlines()[0] if str(error) else "no memory"
  return ValueError("--batch_size=%d at --max_seq_length=%d does not fit in "
                    "memory (%s): lower --batch_size" %
                    (options.batch_size, options.max_seq_length, reason))


def check_options(options):
  """Fails on a missing or out-of-range flag, naming it."""
  command_line.check_required_flags(options, ["albert_config_file"])
  command_line.check_numeric_flags(options)
  for name in ("num_steps", "warmup_steps"):
    if getattr(options, name) > _MAX_STEPS:
      raise ValueError("--%s=%d: at most %d" %
                       (name, getattr(options, name), _MAX_STEPS))
  times_training = (options.mode != "infer" and
                    options.runtime == "tensorflow")
  if (times_training and
      options.max_predictions_per_seq > options.max_seq_length):
    raise ValueError("--max_predictions_per_seq=%d exceeds --max_seq_length"
                     "=%d" % (options.max_predictions_per_seq,
                              options.max_seq_length))
  # The benchmark times CPUs and GPUs, with the config's own layers.
  estimators.check_performance_flags(options, use_tpu=False, hub_module=None)
  if options.runtime == "onnxruntime":
    _check_onnxruntime_options(options)
    if options.profile:
      raise ValueError("--profile with --runtime=onnxruntime: the op "
                       "profile is of TensorFlow's steps")
  elif options.quantize != "none":
    raise ValueError("--quantize=%s: only with --runtime=onnxruntime (the "
                     "TensorFlow rows use --precision)" % options.quantize)
  if options.strategy == "multi_worker_mirrored":
    raise ValueError(
        "--strategy=multi_worker_mirrored: the benchmark times one machine "
        "(--strategy=mirrored over its devices); a cluster's rate is about "
        "the machines times that, less the all-reduce between machines")


def _check_onnxruntime_options(options):
  """ONNX Runtime rows: fp32 inference on this machine, nothing else."""
  if options.mode == "train":
    raise ValueError("--mode=train with --runtime=onnxruntime: ONNX Runtime "
                     "times inference only (--mode=infer)")
  for name, value, default in (("precision", options.precision, "fp32"),
                               ("strategy", options.strategy, "none")):
    if value != default:
      raise ValueError("--%s=%s with --runtime=onnxruntime: the ONNX model "
                       "runs in fp32 on one machine (--quantize=int8 for "
                       "int8)" % (name, value))
  if options.use_xla:
    raise ValueError("--use_xla with --runtime=onnxruntime: XLA compiles "
                     "TensorFlow graphs only")


def _runtime_name(options):
  """"TensorFlow 2.15.1" or "ONNX Runtime 1.x" (for the table's rows)."""
  if options.runtime == "onnxruntime":
    _, onnxruntime = onnx_runtime.require_onnx(
        "benchmark --runtime=onnxruntime")
    return "ONNX Runtime " + onnxruntime.__version__
  return "TensorFlow " + tf.__version__


def _phases(config, options):
  """[(mode, timing function, FLOPs per example)] that --mode asks for.

  ONNX Runtime times inference only, so its --mode=both is inference.
  """
  phases = []
  if options.mode in ("train", "both") and options.runtime == "tensorflow":
    phases.append(("train", time_training,
                   train_flops_per_example(config, options.max_seq_length,
                                           options.max_predictions_per_seq)))
  if options.mode in ("infer", "both"):
    phases.append(("infer", (time_onnxruntime_inference
                             if options.runtime == "onnxruntime"
                             else time_inference),
                   encoder_flops_per_example(config, options.max_seq_length)))
  return phases


def run(options):
  """Times what --mode asks for; returns the results dict (the JSON line).

  Raises:
    ValueError: bad flags or config.
  """
  check_options(options)
  config = modeling.load_albert_config(options.albert_config_file,
                                       options.max_seq_length)
  check_memory(config, options)
  distribution = distributed.distribution_from_options(
      options, options.batch_size if options.mode != "infer" else None,
      batch_flag="batch_size", use_tpu=False)
  compute_dtype = modeling.compute_dtype_of(options.precision)
  results = {
      "precision": ("int8" if options.quantize == "int8" else
                    options.precision),
      "runtime": _runtime_name(options),
      "xla": bool(options.use_xla),
      "optimizer": options.optimizer,
      "gradient_accumulation_steps": options.gradient_accumulation_steps,
      "batch_size": options.batch_size,
      "max_seq_length": options.max_seq_length,
      "config": os.path.basename(options.albert_config_file),
      "hidden_size": config.hidden_size,
      "num_hidden_layers": config.num_hidden_layers,
      "tensorflow": tf.__version__,
      "cpu_count": os.cpu_count(),
      "strategy": distribution.describe() if distribution else "none",
      "train_examples_per_sec": None,
      "infer_examples_per_sec": None,
  }
  # An int8 model's speed has no matmul peak of ours to compare with.
  if options.measure_peak and options.quantize == "none":
    results["matmul_peak_gflops"] = round(measure_matmul_peak(compute_dtype),
                                          1)
  examples = options.batch_size
  tokens = examples * options.max_seq_length
  for name, time_fn, flops_per_example in _phases(config, options):
    progress.log_progress("benchmark: timing %s (%d warm-up + %d runs)", name,
                          options.warmup_steps, options.num_steps)
    try:
      seconds, class_seconds = (
          time_training(config, options, distribution)
          if name == "train" else time_fn(config, options))
    except (MemoryError, tf.errors.ResourceExhaustedError) as e:
      raise out_of_memory(options, e)
    if class_seconds is not None:
      results[name + "_outside_matmul_share"] = round(
          op_profile.outside_matmul_share(class_seconds), 3)
      results[name + "_profile"] = collections.OrderedDict(
          (kind, round(value * 1000, 3))
          for kind, value in class_seconds.items())
    results[name + "_step_ms"] = round(seconds * 1000, 2)
    results[name + "_examples_per_sec"] = round(examples / seconds, 3)
    results[name + "_tokens_per_sec"] = round(tokens / seconds, 1)
    results[name + "_gflops"] = round(
        examples * flops_per_example / seconds / 1e9, 1)
  return results


def format_table(results, profile=False):
  """The human-readable report of `run`'s results.

  With `profile`, each mode's op-class table follows.
  """
  lines = [
      "ALBERT benchmark: %s (H=%d, L=%d), seq %d, batch %d%s%s, %s%s, "
      "%s, %d CPU cores (%s)" % (
          results["config"], results["hidden_size"],
          results["num_hidden_layers"], results["max_seq_length"],
          results["batch_size"],
          (" x %d accumulated" % results["gradient_accumulation_steps"]
           if results["gradient_accumulation_steps"] > 1 else ""),
          ("" if results.get("strategy", "none") == "none" else
           " over %s" % results["strategy"]),
          results["precision"], ", XLA" if results["xla"] else "",
          results.get("runtime", "TensorFlow " + results["tensorflow"]),
          results["cpu_count"], platform.machine()),
  ]
  peak = results.get("matmul_peak_gflops")
  if peak:
    lines.append("matmul peak measured here: %.0f GFLOP/s in %s" %
                 (peak, results["precision"]))
  lines.append("%-6s %10s %12s %12s %10s %10s %12s" % (
      "mode", "step ms", "examples/s", "tokens/s", "GFLOP/s", "of peak",
      "non-matmul"))
  for name in ("train", "infer"):
    if results.get(name + "_examples_per_sec") is None:
      continue
    gflops = results[name + "_gflops"]
    outside = results.get(name + "_outside_matmul_share")
    lines.append("%-6s %10.1f %12.2f %12.0f %10.1f %10s %12s" % (
        name, results[name + "_step_ms"],
        results[name + "_examples_per_sec"], results[name + "_tokens_per_sec"],
        gflops, "%.0f%%" % (100.0 * gflops / peak) if peak else "-",
        "-" if outside is None else "%.0f%%" % (100.0 * outside)))
  if any(results.get(name + "_outside_matmul_share") is not None
         for name in ("train", "infer")):
    lines.append("non-matmul: the share of one traced step's op time "
                 "outside matmuls (--profile: by op class)")
  if profile:
    for name in ("train", "infer"):
      class_ms = results.get(name + "_profile")
      if class_ms:
        lines.append("")
        lines.append(op_profile.format_profile(
            "%s (%s)" % (name, results["precision"]),
            {kind: ms / 1000.0 for kind, ms in class_ms.items()},
            results[name + "_step_ms"] / 1000.0))
  return "\n".join(lines)


def _main(options):
  # Graph-building chatter (variables, features) would bury the table.
  with progress.show_only_own_logs():
    results = run(options)
  print(format_table(results, profile=options.profile))
  print(json.dumps(results, sort_keys=True))


main = command_line.cli_main(_main)


if __name__ == "__main__":
  flags.mark_flag_as_required("albert_config_file")
  app.run(main)
