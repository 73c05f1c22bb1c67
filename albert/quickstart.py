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
"""The quickstart: pretrain a small ALBERT end to end on this machine's text.

python -m albert.quickstart [--output_dir=quickstart_output]

1. builds an English prose corpus from the Python standard library's
   docstrings (no download) and holds out every 20th document for eval;
2. trains a sentencepiece model on it with the release's spm_train recipe;
3. creates pretraining TFRecords with create_pretraining_data;
4. evaluates the untrained model, pretrains a small config for a few minutes
   of CPU with run_pretraining, evaluates again;
5. prints masked-LM and sentence-order accuracy at the start and the end.

Every stage writes its outputs atomically and is skipped when they already
exist, so an interrupted quickstart picks up where it stopped (training
resumes from its last checkpoint).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import argparse
import json
import os
import shutil
import sys
import time

from albert import quickstart_corpus

# The small model: factorized embedding (E=64 < H=128), one shared group.
QUICKSTART_CONFIG = {
    "embedding_size": 64,
    "hidden_size": 128,
    "num_hidden_layers": 4,
    "num_hidden_groups": 1,
    "inner_group_num": 1,
    "num_attention_heads": 4,
    "intermediate_size": 512,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "max_position_embeddings": 128,
    "type_vocab_size": 2,
    "initializer_range": 0.02,
    "down_scale_factor": 1,
    "net_structure_type": 0,
    "gap_size": 0,
    "num_memory_blocks": 0,
}
EVAL_EVERY_NTH_DOCUMENT = 20


def parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--output_dir", default="quickstart_output",
                      help="Where the corpus, data and model go.")
  parser.add_argument("--vocab_size", type=int, default=4000)
  parser.add_argument("--max_seq_length", type=int, default=64)
  parser.add_argument("--max_predictions_per_seq", type=int, default=10)
  parser.add_argument("--dupe_factor", type=int, default=4)
  parser.add_argument("--train_batch_size", type=int, default=64)
  parser.add_argument("--num_train_steps", type=int, default=1500)
  # LAMB at 1e-2 left the unigram plateau fastest in a 400-step sweep on
  # this corpus (AdamW 1e-4..2e-3 and LAMB 5e-3 were slower).
  parser.add_argument("--learning_rate", type=float, default=1e-2)
  parser.add_argument("--optimizer", default="lamb",
                      choices=["adamw", "lamb"])
  parser.add_argument("--max_eval_steps", type=int, default=25)
  parser.add_argument("--num_workers", type=int, default=os.cpu_count())
  parser.add_argument("--corpus_max_bytes", type=int, default=None,
                      help="Cap the corpus (for a faster smoke run).")
  parser.add_argument("--fresh", action="store_true",
                      help="Delete output_dir first instead of resuming.")
  return parser.parse_args(argv)


def stage(message):
  print("\n== %s" % message, flush=True)


def split_documents(corpus_path, train_path, eval_path, every_nth):
  """Splits a one-sentence-per-line corpus by document, atomically.

  Returns:
    (train documents, eval documents).
  """
  with open(corpus_path, encoding="utf-8") as f:
    documents = [d for d in f.read().split("\n\n") if d.strip()]
  train = [d for i, d in enumerate(documents) if i % every_nth]
  held_out = [d for i, d in enumerate(documents) if i % every_nth == 0]
  for path, docs in ((train_path, train), (eval_path, held_out)):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
      f.write("\n\n".join(d.strip("\n") for d in docs) + "\n")
    os.replace(tmp, path)
  return len(train), len(held_out)


def train_sentencepiece(text_path, model_prefix, vocab_size):
  """Trains sentencepiece with the release's spm_train recipe (atomically)."""
  import sentencepiece as spm  # pylint: disable=g-import-not-at-top
  tmp_prefix = "%s.tmp-%d" % (model_prefix, os.getpid())
  spm.SentencePieceTrainer.train(
      input=text_path,
      model_prefix=tmp_prefix,
      vocab_size=vocab_size,
      pad_id=0,
      unk_id=1,
      eos_id=-1,
      bos_id=-1,
      control_symbols="[CLS],[SEP],[MASK]",
      user_defined_symbols="(,),\",-,.,–,£,€",
      shuffle_input_sentence=True,
      input_sentence_size=10000000,
      character_coverage=0.99995,
      model_type="unigram",
      # A smaller corpus than the vocab asks for gets a smaller vocab
      # instead of an error; the config takes the real size below.
      hard_vocab_limit=False,
      minloglevel=2)
  for ext in (".vocab", ".model"):  # .model last: it marks completion
    os.replace(tmp_prefix + ext, model_prefix + ext)


def main(argv=None):
  """Runs the quickstart; returns (start, end) eval results."""
  args = parse_args(sys.argv[1:] if argv is None else argv)
  # Imported here so `--help` answers without loading TensorFlow.
  from albert import runtime  # pylint: disable=g-import-not-at-top
  with runtime.show_only_own_logs():
    return run_quickstart(args)


def run_quickstart(args):
  """The five stages; see the module docstring."""
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  from albert import create_pretraining_data  # pylint: disable=g-import-not-at-top
  from albert import run_pretraining  # pylint: disable=g-import-not-at-top

  tf.disable_v2_behavior()
  started = time.time()
  out = os.path.abspath(args.output_dir)
  if args.fresh and os.path.isdir(out):
    shutil.rmtree(out)
  os.makedirs(out, exist_ok=True)
  paths = {name: os.path.join(out, name) for name in (
      "corpus.txt", "train.txt", "eval.txt", "spm", "albert_config.json",
      "train.tfrecord", "eval.tfrecord", "model")}

  stage("1/5 corpus from the Python standard library's docstrings")
  if not os.path.exists(paths["corpus.txt"]):
    min_bytes = quickstart_corpus.DEFAULT_MIN_BYTES
    if args.corpus_max_bytes:  # a capped smoke run accepts what it gets
      min_bytes = min(min_bytes, args.corpus_max_bytes // 2)
    summary = quickstart_corpus.build_corpus(
        paths["corpus.txt"], max_bytes=args.corpus_max_bytes,
        min_bytes=min_bytes)
    print("   %d documents, %d sentences, %.0f KB from %d modules" %
          (summary.documents, summary.sentences, summary.bytes / 1024.0,
           summary.modules_scanned))
  n_train, n_eval = split_documents(paths["corpus.txt"], paths["train.txt"],
                                    paths["eval.txt"],
                                    EVAL_EVERY_NTH_DOCUMENT)
  print("   %d training documents, %d held out for eval" % (n_train, n_eval))

  stage("2/5 sentencepiece model (vocab %d)" % args.vocab_size)
  spm_model = paths["spm"] + ".model"
  if not os.path.exists(spm_model):
    train_sentencepiece(paths["train.txt"], paths["spm"], args.vocab_size)
  import sentencepiece as spm  # pylint: disable=g-import-not-at-top
  vocab_size = spm.SentencePieceProcessor(model_file=spm_model).vocab_size()
  print("   %s (%d pieces)" % (spm_model, vocab_size))
  config = dict(QUICKSTART_CONFIG, vocab_size=vocab_size)
  tmp = paths["albert_config.json"] + ".tmp"
  with open(tmp, "w") as f:
    json.dump(config, f, indent=2, sort_keys=True)
  os.replace(tmp, paths["albert_config.json"])

  stage("3/5 pretraining data (max_seq_length %d, dupe_factor %d)" %
        (args.max_seq_length, args.dupe_factor))
  options = create_pretraining_data.Options(
      max_seq_length=args.max_seq_length,
      max_predictions_per_seq=args.max_predictions_per_seq,
      dupe_factor=args.dupe_factor)
  counts = {}
  for split in ("train", "eval"):
    record_path = paths[split + ".tfrecord"]
    if not os.path.exists(record_path):
      summary = create_pretraining_data.create_pretraining_data(
          input_files=[paths[split + ".txt"]], output_files=[record_path],
          spm_model_file=spm_model, do_lower_case=True, options=options,
          num_workers=args.num_workers,
          albert_config_file=paths["albert_config.json"])
      counts[split] = summary.instances
    else:
      counts[split] = sum(1 for _ in tf.io.tf_record_iterator(record_path))
    print("   %s: %d instances" % (split, counts[split]))

  def pretrain(**overrides):
    values = dict(
        albert_config_file=paths["albert_config.json"],
        output_dir=paths["model"],
        max_seq_length=args.max_seq_length,
        max_predictions_per_seq=args.max_predictions_per_seq,
        train_batch_size=args.train_batch_size,
        eval_batch_size=64,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        num_train_steps=args.num_train_steps,
        num_warmup_steps=max(1, args.num_train_steps // 10),
        max_eval_steps=args.max_eval_steps,
        save_checkpoints_steps=200,
        iterations_per_loop=100,
        log_every_n_steps=50)
    values.update(overrides)
    return run_pretraining.run(run_pretraining.default_options(**values))

  stage("4/5 evaluate the untrained model, then pretrain %d steps" %
        args.num_train_steps)
  start_result_path = os.path.join(out, "start_eval_results.json")
  if os.path.exists(start_result_path):
    with open(start_result_path) as f:
      start = json.load(f)
  else:
    # Evaluated in a scratch dir so no step-0 checkpoint lands in the model
    # dir: the training run must start from scratch (or its own checkpoint).
    scratch = os.path.join(out, "untrained")
    start = pretrain(input_file=paths["eval.tfrecord"], do_eval=True,
                     output_dir=scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    with open(start_result_path + ".tmp", "w") as f:
      json.dump(start, f)
    os.replace(start_result_path + ".tmp", start_result_path)
  train_started = time.time()
  pretrain(input_file=paths["train.tfrecord"], do_train=True)
  train_seconds = time.time() - train_started

  stage("5/5 evaluate the pretrained model on held-out documents")
  end = pretrain(input_file=paths["eval.tfrecord"], do_eval=True)

  print("\n== Summary (held-out documents)")
  print("   %-26s %10s %10s" % ("", "start", "end"))
  for key in ("masked_lm_accuracy", "masked_lm_loss",
              "sentence_order_accuracy", "sentence_order_loss",
              "global_step"):
    print("   %-26s %10.4g %10.4g" % (key, start[key], end[key]))
  print("   training: %d steps of %d examples in %.0fs; total %.0fs" %
        (end["global_step"], args.train_batch_size, train_seconds,
         time.time() - started))
  print("   model and eval_results.txt: %s" % paths["model"])
  return start, end


if __name__ == "__main__":
  main()
