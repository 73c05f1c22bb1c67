# coding=utf-8
"""The quickstart end to end on a capped corpus, and its resume."""

import json
import os

import tensorflow.compat.v1 as tf

from albert import quickstart


def run(out, steps):
  return quickstart.main([
      "--output_dir", str(out), "--corpus_max_bytes", "120000",
      "--vocab_size", "800", "--max_seq_length", "32",
      "--max_predictions_per_seq", "5", "--dupe_factor", "2",
      "--train_batch_size", "16", "--num_train_steps", str(steps),
      "--max_eval_steps", "4", "--num_workers", "1"])


def test_quickstart_pretrains_and_resumes(tmp_path, capsys):
  out = tmp_path / "qs"
  start, end = run(out, 30)
  printed = capsys.readouterr().out
  assert "== Summary" in printed and "masked_lm_accuracy" in printed

  # Every stage left its output under its final name, and no temp files.
  for name in ("corpus.txt", "train.txt", "eval.txt", "spm.model",
               "albert_config.json", "train.tfrecord", "eval.tfrecord",
               "start_eval_results.json", "model/eval_results.txt"):
    assert (out / name).exists(), name
  assert not [p for p in os.listdir(out) if ".tmp" in p]
  config = json.loads((out / "albert_config.json").read_text())
  import sentencepiece as spm  # pylint: disable=g-import-not-at-top
  assert config["vocab_size"] == spm.SentencePieceProcessor(
      model_file=str(out / "spm.model")).vocab_size()

  assert start["global_step"] == 0 and end["global_step"] == 30
  # 30 steps learn at least the token distribution: far below ln(vocab).
  assert end["masked_lm_loss"] < start["masked_lm_loss"] - 0.5
  assert end["masked_lm_accuracy"] > start["masked_lm_accuracy"]

  # A second run reuses every stage and continues training from step 30.
  corpus_mtime = os.path.getmtime(out / "corpus.txt")
  data_mtime = os.path.getmtime(out / "train.tfrecord")
  start_again, end_again = run(out, 40)
  assert os.path.getmtime(out / "corpus.txt") == corpus_mtime
  assert os.path.getmtime(out / "train.tfrecord") == data_mtime
  assert start_again == start
  assert end_again["global_step"] == 40
  assert tf.train.latest_checkpoint(str(out / "model")).endswith("ckpt-40")
