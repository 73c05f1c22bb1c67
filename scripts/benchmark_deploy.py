#!/usr/bin/env python
"""Sizes and single-question latency of ALBERT's deployment formats.

The README's "Deploying" table is made with it: one SQuAD v1 model (the
config's encoder and run_squad_v1's head, random weights, seeded) written
as a TensorFlow SavedModel, TFLite (float32 and dynamic-range int8, the
Task Library contract of albert/tflite_export.py) and ONNX (float32 and
ONNX Runtime int8, albert/onnx_graph.py), each run one question of
[1, --max_seq_length] tokens at a time, on this machine, one after
another:

  bash -c 'source scripts/env.sh && python scripts/benchmark_deploy.py \\
      --albert_config_file=albert_base/albert_config.json'

Random weights make sizes and speed real but agreement meaningless; the
commands check agreement on real data themselves (--quantize). Outputs
agree with TensorFlow's float32 within a printed max difference. The last
line is one JSON object.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow.compat.v1 as tf

from albert import modeling
from albert import onnx_graph
from albert import onnx_runtime
from albert import squad_heads
from albert import tflite_export


def cpu_name():
  """The CPU's model name (lscpu's "Model name"), or the platform's."""
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine()


def save_squad_model(config, seq_length, export_dir):
  """A seeded random SQuAD v1 model as a SavedModel; returns its weights."""
  with tf.Graph().as_default():
    tf.set_random_seed(0)
    inputs = {name: tf.placeholder(tf.int32, [None, seq_length], name=name)
              for name in ("input_ids", "input_mask", "segment_ids")}
    start_logits, end_logits = squad_heads.create_v1_model(
        config, False, inputs["input_ids"], inputs["input_mask"],
        inputs["segment_ids"], use_one_hot_embeddings=False,
        use_einsum=False)
    variables = tf.global_variables()
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      weights = {v.op.name: value for v, value in
                 zip(variables, session.run(variables))}
      tf.saved_model.simple_save(
          session, export_dir, inputs,
          # run_squad_v1's PREDICT output keys (raw logits, as released).
          {"start_log_prob": start_logits, "end_log_prob": end_logits})
  return weights


def example_inputs(config, seq_length, count, seed=0):
  """[count, S] int32 ids, mask and segments of question-like examples."""
  rng = np.random.RandomState(seed)
  ids = rng.randint(5, config.vocab_size, [count, seq_length])
  mask = np.ones([count, seq_length], np.int32)
  segments = np.zeros([count, seq_length], np.int32)
  segments[:, seq_length // 4:] = 1
  return ids.astype(np.int32), mask, segments


def time_calls(call, count, warmup):
  """Seconds per call after warm-up calls, and the last call's result."""
  for _ in range(warmup):
    result = call(0)
  start = time.perf_counter()
  for i in range(count):
    result = call(i)
  return (time.perf_counter() - start) / count, result


def time_tensorflow(saved_model_dir, inputs, count, warmup):
  with tf.Graph().as_default(), tf.Session() as session:
    meta = tf.saved_model.loader.load(session, ["serve"], saved_model_dir)
    signature = meta.signature_def["serving_default"]
    feeds = [(signature.inputs[name].name, values)
             for name, values in zip(
                 ("input_ids", "input_mask", "segment_ids"), inputs)]
    fetch = signature.outputs["start_log_prob"].name

    def call(i):
      return session.run(fetch, {name: values[i:i + 1]
                                 for name, values in feeds})[0]
    return time_calls(call, count, warmup)


def time_tflite(model, inputs, count, warmup):
  interpreter = tf.lite.Interpreter(model_content=model,
                                    num_threads=os.cpu_count())
  interpreter.allocate_tensors()
  by_name = {d["name"]: d["index"] for d in interpreter.get_input_details()}
  start = [d["index"] for d in interpreter.get_output_details()
           if d["name"] == "start_logits"][0]

  def call(i):
    for name, values in zip(("ids", "mask", "segment_ids"), inputs):
      interpreter.set_tensor(by_name[name], values[i:i + 1])
    interpreter.invoke()
    return interpreter.get_tensor(start)[0]
  return time_calls(call, count, warmup)


def time_onnx(path, inputs, count, warmup):
  session = onnx_runtime.session(path)

  def call(i):
    return onnx_runtime.run_onnx(
        session, *[values[i:i + 1] for values in inputs])["start_logits"][0]
  return time_calls(call, count, warmup)


def measure(args, directory):
  """[(format, file, bytes, ms per question, max |diff| to TF)]."""
  config = modeling.load_albert_config(args.albert_config_file,
                                       args.max_seq_length)
  saved_model_dir = os.path.join(directory, "saved_model")
  weights = save_squad_model(config, args.max_seq_length, saved_model_dir)
  inputs = example_inputs(config, args.max_seq_length, args.num_runs)
  rows = []
  seconds, reference = time_tensorflow(saved_model_dir, inputs,
                                       args.num_runs, args.warmup)
  size = sum(os.path.getsize(os.path.join(d, f))
             for d, _, files in os.walk(saved_model_dir) for f in files)
  rows.append(("TensorFlow SavedModel, fp32", "saved_model/", size,
               seconds, 0.0))
  for quantize in (False, True):
    model = tflite_export.convert(saved_model_dir, args.max_seq_length,
                                  tflite_export.SQUAD, quantize=quantize)
    seconds, result = time_tflite(model, inputs, args.num_runs, args.warmup)
    rows.append(("TFLite, %s" % ("dynamic int8" if quantize else "fp32"),
                 "albert_model%s.tflite" % (".int8" if quantize else ""),
                 len(model), seconds, float(np.abs(result - reference).max())))
  float_path = os.path.join(directory, "albert.onnx")
  onnx_model = onnx_graph.build_model(config, weights, head="squad")
  with open(float_path, "wb") as f:
    f.write(onnx_model.SerializeToString())
  int8_path = onnx_runtime.quantize_int8(
      float_path, os.path.join(directory, "albert.int8.onnx"))
  for name, path in (("ONNX Runtime, fp32", float_path),
                     ("ONNX Runtime, int8", int8_path)):
    seconds, result = time_onnx(path, inputs, args.num_runs, args.warmup)
    rows.append((name, os.path.basename(path), os.path.getsize(path),
                 seconds, float(np.abs(result - reference).max())))
  return rows


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--albert_config_file", required=True)
  parser.add_argument("--max_seq_length", type=int, default=384,
                      help="the Task Library's BertQuestionAnswerer feeds 384")
  parser.add_argument("--num_runs", type=int, default=20)
  parser.add_argument("--warmup", type=int, default=3)
  args = parser.parse_args()
  tf.logging.set_verbosity(tf.logging.ERROR)
  with tempfile.TemporaryDirectory(prefix=".albert-deploy-") as directory:
    rows = measure(args, directory)
  print("%s, %d cores; %s, sequence %d, one question per call; TensorFlow "
        "%s" % (cpu_name(), os.cpu_count(),
                os.path.basename(args.albert_config_file),
                args.max_seq_length, tf.__version__))
  print("| format | file | MB | ms / question | max abs diff to TF |")
  print("|---|---|---|---|---|")
  for name, file_name, size, seconds, diff in rows:
    print("| %s | `%s` | %.1f | %.1f | %.1e |" % (
        name, file_name, size / 1e6, seconds * 1000, diff))
  print(json.dumps([dict(zip(("format", "file", "bytes", "seconds",
                              "max_abs_diff"), row)) for row in rows]))


if __name__ == "__main__":
  main()
