# coding=utf-8
"""Runs scripts/run_trivial_model_test.sh: every stage through its CLI."""

import os
import subprocess

import pytest
import tensorflow.compat.v1 as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_trivial_model_through_the_command_lines(tmp_path):
  work = tmp_path / "work"
  proc = subprocess.run(
      ["bash", os.path.join(ROOT, "scripts", "run_trivial_model_test.sh"),
       str(work)], capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
  with open(work / "model" / "eval_results.txt") as f:
    results = dict(line.strip().split(" = ") for line in f if " = " in line)
  assert int(results["global_step"]) == 2
  for key in ("masked_lm_accuracy", "sentence_order_accuracy"):
    assert 0.0 <= float(results[key]) <= 1.0
  for key in ("masked_lm_loss", "sentence_order_loss", "loss"):
    assert float(results[key]) > 0.0
  # As released: the best checkpoint by masked-LM accuracy is kept, with
  # the "saved ... to ...model.ckpt-best..." lines in eval_results.txt.
  for suffix in (".index", ".meta", ".data-00000-of-00001"):
    assert (work / "model" / ("model.ckpt-best" + suffix)).exists()
  with open(work / "model" / "eval_results.txt") as f:
    assert "model.ckpt-best.index\n" in f.read()
  # Checkpoints every step, as asked, under the released names.
  assert tf.train.latest_checkpoint(str(work / "model")).endswith(
      "model.ckpt-2")
  reader = tf.train.load_checkpoint(str(work / "model"))
  shapes = reader.get_variable_to_shape_map()
  assert shapes["bert/embeddings/word_embeddings"][1] == 8
  assert shapes["bert/encoder/embedding_hidden_mapping_in/kernel"] == [8, 16]
  assert "cls/predictions/output_bias/adam_m" in shapes
  assert shapes["cls/seq_relationship/output_weights"] == [2, 16]
