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
"""The quickstart's command-line options, with the standard library only.

albert/quickstart.py parses its flags with `parse_args` here. This module
imports nothing else (not even the albert package, whose import checks for
TensorFlow), so scripts/quickstart.sh can print the options and their
defaults before the virtual environment exists:

    python3 albert/quickstart_flags.py --help

One parser serves both, so the two cannot differ.
"""

import argparse
import os

DESCRIPTION = ("The quickstart: pretrain a small ALBERT end to end on this "
               "machine's text.")


def build_parser():
  """The quickstart's argparse parser; every help line shows the default."""
  parser = argparse.ArgumentParser(prog="python -m albert.quickstart",
                                   description=DESCRIPTION)
  parser.add_argument("--output_dir", default="quickstart_output",
                      help="Where the corpus, data and model go (default: "
                      "%(default)s).")
  for name, value, what in (
      ("vocab_size", 4000, "Sentencepiece vocabulary size"),
      ("max_seq_length", 64, "Tokens per pretraining example"),
      ("max_predictions_per_seq", 10, "Masked tokens per example, at most"),
      ("dupe_factor", 4, "Times the corpus is masked differently"),
      ("train_batch_size", 64, "Pretraining batch size"),
      ("num_train_steps", 1500, "Pretraining steps")):
    parser.add_argument("--" + name, type=int, default=value,
                        help=what + " (default: %(default)s).")
  # LAMB at 1e-2 left the unigram plateau fastest in a 400-step sweep on
  # this corpus (AdamW 1e-4..2e-3 and LAMB 5e-3 were slower).
  parser.add_argument("--learning_rate", type=float, default=1e-2,
                      help="Peak learning rate (default: %(default)s).")
  parser.add_argument("--optimizer", default="lamb",
                      choices=["adamw", "lamb"],
                      help="Optimizer (default: %(default)s).")
  parser.add_argument("--max_eval_steps", type=int, default=25,
                      help="Batches evaluated before and after pretraining "
                      "(default: %(default)s).")
  parser.add_argument("--precision", default="fp32",
                      choices=["fp32", "bf16", "fp16"],
                      help="Compute precision of pretraining (see "
                      "run_pretraining --precision; default: %(default)s).")
  # None, not os.cpu_count(): the help (recorded in tests/help_texts/) must
  # not depend on the machine.
  parser.add_argument("--num_workers", type=int, default=None,
                      help="Processes creating the pretraining data "
                      "(default: one per CPU).")
  parser.add_argument("--corpus_max_bytes", type=int, default=None,
                      help="Cap the corpus (for a faster smoke run; default: "
                      "no cap).")
  parser.add_argument("--fresh", action="store_true",
                      help="Delete what an earlier quickstart wrote in "
                      "output_dir first instead of resuming (other files "
                      "there are kept).")
  return parser


def parse_args(argv):
  """Parses the quickstart's flags; --num_workers defaults to the CPUs."""
  args = build_parser().parse_args(argv)
  if args.num_workers is None:
    args.num_workers = os.cpu_count() or 1
  return args


if __name__ == "__main__":
  import sys  # pylint: disable=g-import-not-at-top
  parse_args(sys.argv[1:])
