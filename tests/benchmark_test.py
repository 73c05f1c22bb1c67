# coding=utf-8
"""python -m albert.benchmark: what it times, what it prints, bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from albert import benchmark
from albert import modeling
from albert import op_profile
from albert import run_classifier
from albert import run_pretraining
from albert import run_race
from albert import run_squad_v1
from albert import run_squad_v2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY = dict(vocab_size=60, embedding_size=16, hidden_size=32,
            num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
            max_position_embeddings=32, type_vocab_size=2)


@pytest.fixture(scope="module")
def config_file(tmp_path_factory):
  path = tmp_path_factory.mktemp("benchmark") / "albert_config.json"
  path.write_text(json.dumps(TINY))
  return str(path)


def test_flop_counts_by_hand():
  config = modeling.AlbertConfig(**TINY)
  s = 8
  projection = 2 * s * 16 * 32
  block = 4 * 2 * s * 32 * 32 + 2 * 2 * s * s * 32 + 2 * 2 * s * 32 * 64
  assert benchmark.encoder_flops_per_example(config, s) == (
      projection + 2 * block)
  heads = 2 * 32 * 32 + 2 * 32 * 2 + 3 * (2 * 32 * 16 + 2 * 16 * 60)
  assert benchmark.train_flops_per_example(config, s, 3) == (
      3 * (projection + 2 * block + heads))


@pytest.mark.slow
def test_run_times_both_modes_with_every_option(config_file):
  results = benchmark.run(benchmark.default_options(
      albert_config_file=config_file, max_seq_length=16, batch_size=2,
      max_predictions_per_seq=3, num_steps=2, warmup_steps=1,
      precision="bf16", gradient_accumulation_steps=2, optimizer="lamb",
      measure_peak=False, strategy="mirrored", num_devices=2))
  assert results["precision"] == "bf16" and results["xla"] is False
  assert results["strategy"] == ("2 replicas (mirrored over 2 virtual CPU "
                                 "devices)")
  assert results["gradient_accumulation_steps"] == 2
  config = modeling.AlbertConfig(**TINY)
  for mode, flops in (
      ("train", benchmark.train_flops_per_example(config, 16, 3)),
      ("infer", benchmark.encoder_flops_per_example(config, 16))):
    rate = results[mode + "_examples_per_sec"]
    assert rate > 0
    assert results[mode + "_step_ms"] == pytest.approx(2000.0 / rate,
                                                       rel=0.01)
    assert results[mode + "_tokens_per_sec"] == pytest.approx(16 * rate,
                                                              rel=0.01)
    assert results[mode + "_gflops"] == pytest.approx(
        rate * flops / 1e9, rel=0.05, abs=0.1)
    # One traced step per mode, by op class (albert.op_profile).
    profile = results[mode + "_profile"]
    assert set(profile) == set(op_profile.OP_CLASSES)
    assert profile["matmul"] > 0 and profile["layer_norm"] > 0
    assert (profile["optimizer"] > 0) == (mode == "train")
    assert 0 < results[mode + "_outside_matmul_share"] < 1
    assert results[mode + "_outside_matmul_share"] == pytest.approx(
        op_profile.outside_matmul_share(profile), abs=0.01)
  table = benchmark.format_table(results, profile=True)
  assert ("seq 16, batch 2 x 2 accumulated over 2 replicas (mirrored over 2 "
          "virtual CPU devices), bf16, TensorFlow") in table
  rows = [line.split() for line in table.splitlines()
          if line.split()[:1] in (["train"], ["infer"])]
  assert [row[0] for row in rows] == ["train", "infer"]
  assert [row[-1] for row in rows] == [
      "%.0f%%" % (100 * results[mode + "_outside_matmul_share"])
      for mode in ("train", "infer")]
  assert "profile train (bf16): " in table and "profile infer (bf16): " in table


@pytest.mark.slow
def test_cli_prints_a_table_and_ends_with_one_json_line(config_file):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  proc = subprocess.run(
      [sys.executable, "-m", "albert.benchmark",
       "--albert_config_file=%s" % config_file, "--max_seq_length=16",
       "--batch_size=2", "--max_predictions_per_seq=3", "--num_steps=2",
       "--warmup_steps=1", "--mode=infer", "--precision=fp32", "--use_xla"],
      env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr
  lines = proc.stdout.strip().splitlines()
  results = json.loads(lines[-1])
  assert {"precision", "xla", "train_examples_per_sec",
          "infer_examples_per_sec"} <= set(results)
  assert results["train_examples_per_sec"] is None  # --mode=infer
  assert results["xla"] is True
  assert results["infer_examples_per_sec"] > 0
  assert results["matmul_peak_gflops"] > 0
  assert any(line.startswith("matmul peak measured here") for line in lines)
  assert any(line.startswith("infer") for line in lines)


@pytest.mark.parametrize("overrides,message", [
    (dict(albert_config_file=None), "--albert_config_file is required"),
    (dict(batch_size=0), "--batch_size=0 must be > 0"),
    (dict(warmup_steps=-1), "--warmup_steps=-1 must be >= 0"),
    (dict(max_predictions_per_seq=40),
     "--max_predictions_per_seq=40 exceeds --max_seq_length=16"),
    (dict(num_steps=10 ** 9), "--num_steps=1000000000: at most 100000"),
    (dict(precision="fp8"), "--precision=fp8: expected one of"),
    (dict(quantize="int8"), "--quantize=int8: only with --runtime="
     "onnxruntime"),
    (dict(runtime="onnxruntime", mode="train"),
     "--mode=train with --runtime=onnxruntime: ONNX Runtime times inference "
     "only"),
    (dict(runtime="onnxruntime", precision="bf16"),
     "--precision=bf16 with --runtime=onnxruntime: the ONNX model runs in "
     "fp32"),
    (dict(runtime="onnxruntime", mode="infer", profile=True),
     "--profile with --runtime=onnxruntime: the op profile is of "
     "TensorFlow's steps"),
])
def test_bad_options_are_named(config_file, overrides, message):
  values = dict(albert_config_file=config_file, max_seq_length=16,
                max_predictions_per_seq=3)
  values.update(overrides)
  with pytest.raises(ValueError, match=message.replace("(", r"\(")):
    benchmark.run(benchmark.default_options(**values))


def test_onnxruntime_times_the_same_encoder_in_fp32_and_int8(config_file):
  """--runtime=onnxruntime: inference only, the TF model's weights."""
  values = dict(albert_config_file=config_file, max_seq_length=16,
                batch_size=2, num_steps=2, warmup_steps=1,
                runtime="onnxruntime")
  fp32 = benchmark.run(benchmark.default_options(**values))
  int8 = benchmark.run(benchmark.default_options(quantize="int8", **values))
  for results in (fp32, int8):
    assert results["runtime"].startswith("ONNX Runtime ")
    assert results["train_examples_per_sec"] is None  # --mode=both: infer
    assert results["infer_examples_per_sec"] > 0
  assert fp32["precision"] == "fp32" and fp32["matmul_peak_gflops"] > 0
  assert int8["precision"] == "int8" and "matmul_peak_gflops" not in int8
  table = benchmark.format_table(int8).splitlines()
  assert "int8, ONNX Runtime " in table[0]
  assert table[-1].split()[0] == "infer"


def test_onnxruntime_runs_what_tensorflow_runs(config_file):
  """The benchmark's ONNX model is the TF graph's encoder, same weights."""
  import onnxruntime  # pylint: disable=g-import-not-at-top
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  from albert import onnx_graph  # pylint: disable=g-import-not-at-top
  config = modeling.AlbertConfig(**TINY)
  weights = benchmark._encoder_weights(config)
  model = onnx_graph.build_model(config, weights)
  session = onnxruntime.InferenceSession(
      model.SerializeToString(), providers=["CPUExecutionProvider"])
  ids = np.array([[2, 7, 9, 3, 11, 12, 3, 0]], np.int64)
  mask = (ids > 0).astype(np.int64)
  segments = np.array([[0, 0, 0, 0, 1, 1, 1, 0]], np.int64)
  feed = {}
  for model_input in session.get_inputs():
    dtype = np.int64 if "int64" in model_input.type else np.int32
    feed[model_input.name] = {"input_ids": ids, "input_mask": mask,
                              "segment_ids": segments}[
                                  model_input.name].astype(dtype)
  names = [output.name for output in session.get_outputs()]
  onnx_sequence = dict(zip(names, session.run(names, feed)))[
      "sequence_output"]
  with tf.Graph().as_default():
    model = modeling.AlbertModel(
        config, is_training=False, input_ids=tf.constant(ids, tf.int32),
        input_mask=tf.constant(mask, tf.int32),
        token_type_ids=tf.constant(segments, tf.int32))
    assignments = [v.assign(weights[v.op.name])
                   for v in tf.global_variables()]
    with tf.Session() as s:
      s.run(assignments)
      tf_sequence = s.run(model.get_sequence_output())
  np.testing.assert_allclose(onnx_sequence, tf_sequence, atol=1e-4)


def test_a_batch_that_cannot_fit_in_memory_is_one_line(config_file):
  """--batch_size=100000000 ended in a 29-line traceback from numpy."""
  memory = benchmark.physical_memory_bytes()
  assert memory > 2 ** 30
  values = dict(albert_config_file=config_file, max_seq_length=16,
                max_predictions_per_seq=3, batch_size=100000000,
                measure_peak=False)
  with pytest.raises(ValueError) as raised:
    benchmark.run(benchmark.default_options(**values))
  message = str(raised.value)
  assert "\n" not in message
  assert message.startswith(
      "--batch_size=100000000 at --max_seq_length=16 needs at least ")
  assert "for the training step's activations; this machine has %.1f GiB" % (
      memory / 2.0 ** 30) in message
  # Inference alone needs less, and is checked on its own.
  config = modeling.AlbertConfig(**TINY)
  assert (benchmark.activation_bytes_lower_bound(config, 8, 16, False) <
          benchmark.activation_bytes_lower_bound(config, 8, 16, True))


def test_an_allocation_that_fails_anyway_is_one_line(config_file,
                                                     monkeypatch):
  """A size under the estimate that still does not fit (numpy's
  _ArrayMemoryError, TensorFlow's ResourceExhaustedError)."""

  def no_memory(*args, **kwargs):
    raise MemoryError("Unable to allocate 7.45 GiB for an array with shape "
                      "(1000000000,) and data type int64")

  monkeypatch.setattr(benchmark, "_random_inputs", no_memory)
  with pytest.raises(ValueError) as raised:
    benchmark.run(benchmark.default_options(
        albert_config_file=config_file, max_seq_length=16,
        max_predictions_per_seq=3, batch_size=4, mode="infer",
        measure_peak=False))
  assert str(raised.value) == (
      "--batch_size=4 at --max_seq_length=16 does not fit in memory (Unable "
      "to allocate 7.45 GiB for an array with shape (1000000000,) and data "
      "type int64): lower --batch_size")


@pytest.mark.parametrize("module", [run_pretraining, run_classifier,
                                    run_squad_v1, run_squad_v2, run_race,
                                    benchmark],
                         ids=lambda m: m.__name__.split(".")[-1])
def test_every_training_command_has_the_performance_and_distribution_flags(
    module):
  defaults = module.FLAG_DEFAULTS
  assert defaults["precision"] == "fp32"
  assert defaults["use_xla"] is False
  assert defaults["gradient_accumulation_steps"] == 1
  assert defaults["strategy"] == "none"
  assert defaults["num_devices"] is None
  assert defaults["worker_timeout_secs"] == 600


@pytest.mark.slow
def test_deploy_benchmark_runs_every_format_alike(tmp_path):
  """scripts/benchmark_deploy.py: the README's Deploying table."""
  config = dict(TINY, max_position_embeddings=32)
  config_file = tmp_path / "albert_config.json"
  config_file.write_text(json.dumps(config))
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, "scripts", "benchmark_deploy.py"),
       "--albert_config_file=%s" % config_file, "--max_seq_length=16",
       "--num_runs=3", "--warmup=1"],
      env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  rows = {row["format"]: row
          for row in json.loads(proc.stdout.strip().splitlines()[-1])}
  assert sorted(rows) == sorted([
      "TensorFlow SavedModel, fp32", "TFLite, fp32", "TFLite, dynamic int8",
      "ONNX Runtime, fp32", "ONNX Runtime, int8"])
  for name in ("TFLite, fp32", "ONNX Runtime, fp32"):
    assert rows[name]["max_abs_diff"] < 1e-4
  for row in rows.values():
    assert row["bytes"] > 0 and row["seconds"] > 0
  # Dynamic-range int8 weights make the TFLite model smaller.
  assert rows["TFLite, dynamic int8"]["bytes"] < rows["TFLite, fp32"]["bytes"]
  assert "| TFLite, fp32 | `albert_model.tflite` |" in proc.stdout
