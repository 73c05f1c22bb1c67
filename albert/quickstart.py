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

Every stage writes its outputs under hidden temporary names, renames them
when complete, and is skipped when they already exist, so an interrupted
(even killed) quickstart picks up where it stopped (training resumes from its
last checkpoint).

output_dir may hold other files: the quickstart writes only the names in
OUTPUT_NAMES, lists those it created in output_dir/.albert-quickstart, and
--fresh deletes only what that list names. It refuses to start (one line) if
output_dir already has one of its names that it did not write.
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
import shutil
import sys
import time

from albert import cli_errors
from albert import quickstart_corpus
from albert import quickstart_flags
from albert import staging

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

# Everything the quickstart writes in output_dir (besides MANIFEST_NAME and
# the temporary names below); "untrained" is a scratch model dir.
OUTPUT_NAMES = ("corpus.txt", "train.txt", "eval.txt", "spm.model",
                "spm.vocab", "albert_config.json", "train.tfrecord",
                "eval.tfrecord", "start_eval_results.json", "untrained",
                "model")
# Lists the OUTPUT_NAMES this quickstart created in output_dir (so --fresh
# deletes those only), and is locked while a quickstart runs there.
MANIFEST_NAME = ".albert-quickstart"
# Staging names of OUTPUT_NAMES: staging.temporary_path's ".<name>.tmp-<pid>"
# (every writer's; not hidden in older versions), the sentencepiece prefix's
# ".spm.tmp-<pid>.model/.vocab", and older versions' "<name>.tmp" and
# quickstart_corpus's ".corpus.txt.<random>.tmp". No pid is checked: the
# manifest's lock (OutputDir) already proves their writers are gone.
_TEMP_NAME = re.compile(
    r"^\.?(?:(?:%s)\.tmp(?:-\d+)?|spm\.tmp-\d+\.(?:model|vocab)|"
    r"corpus\.txt\.\w+\.tmp)$" % "|".join(re.escape(n) for n in OUTPUT_NAMES))


def parse_args(argv):
  """The quickstart's flags (albert/quickstart_flags.py defines them)."""
  return quickstart_flags.parse_args(argv)


def stage(message):
  print("\n== %s" % message, flush=True)


class OutputDir(object):
  """output_dir, locked, with the list of what the quickstart wrote there.

  The quickstart writes only OUTPUT_NAMES (and their staging names) in
  output_dir, and lists each in MANIFEST_NAME before creating it, so that
  `remove_own_outputs` (--fresh) deletes those and nothing else. An entry
  with one of those names that the list does not name is someone else's:
  the quickstart refuses to start rather than reuse, overwrite or delete it.
  A directory an older quickstart filled without a list (its names only,
  a corpus among them) is taken over.

  While open, the manifest holds a POSIX lock, so a second quickstart on
  the same directory stops at once and the staging files found at the start
  can only be a stopped run's: they are removed.
  """

  def __init__(self, path):
    """Opens (creating) `path`; raises ValueError if it is not ours to use."""
    self.path = os.path.abspath(path)
    os.makedirs(self.path, exist_ok=True)
    manifest = os.path.join(self.path, MANIFEST_NAME)
    known = os.path.exists(manifest)
    adopted = []
    if not known:
      adopted = _older_quickstart_outputs(self.path)
      if not adopted:
        # Checked before the manifest is created: a refusal writes nothing.
        self._refuse_unlisted(set())
    self._fd = os.open(manifest, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
      self._lock()
      self.listed = self._read()
      if not self.listed and os.fstat(self._fd).st_size == 0:
        self._write_header()
      for name in adopted:
        self.claim(name)
      self._refuse_unlisted(self.listed)
      self.leftovers_removed = []
      if known or adopted:
        self.leftovers_removed = self.remove_leftovers()
    except BaseException:
      self.close()
      raise

  def _lock(self):
    try:
      import fcntl  # pylint: disable=g-import-not-at-top
    except ImportError:  # not POSIX: no guard against a second quickstart
      return
    try:
      fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
      if e.errno in (errno.EACCES, errno.EAGAIN):
        raise ValueError(
            "--output_dir %s is in use by another quickstart; wait for it "
            "to end or choose another directory" % self.path)
      raise

  def _read(self):
    os.lseek(self._fd, 0, os.SEEK_SET)
    chunks = []
    while True:
      chunk = os.read(self._fd, 65536)
      if not chunk:
        break
      chunks.append(chunk)
    lines = b"".join(chunks).decode("utf-8", "replace").splitlines()
    # A line cut short by a kill names no output: ignored.
    return {line.strip() for line in lines if line.strip() in OUTPUT_NAMES}

  def _write_header(self):
    os.write(self._fd, b"# albert.quickstart created these here; --fresh "
             b"deletes them and nothing else\n")

  def _refuse_unlisted(self, listed):
    clashes = sorted(name for name in os.listdir(self.path)
                     if name in OUTPUT_NAMES and name not in listed)
    if clashes:
      raise ValueError(
          "--output_dir %s already has %s, which the quickstart did not "
          "write; it would reuse or replace it: choose an empty or new "
          "directory" % (self.path, ", ".join(clashes)))

  def claim(self, name):
    """Lists `name` as the quickstart's (before creating it); its path."""
    if name not in OUTPUT_NAMES:
      raise ValueError("%s is not a quickstart output name" % name)
    if name not in self.listed:
      os.write(self._fd, (name + "\n").encode("utf-8"))
      self.listed.add(name)
    return os.path.join(self.path, name)

  def remove_leftovers(self):
    """Removes the staging files of stopped runs; returns their names."""
    removed = []
    for name in sorted(os.listdir(self.path)):
      path = os.path.join(self.path, name)
      if _TEMP_NAME.match(name) and os.path.isfile(path):
        os.remove(path)
        removed.append(name)
    return removed

  def remove_own_outputs(self):
    """--fresh: deletes what the manifest lists (and staging files).

    Returns:
      The names removed.
    """
    removed = []
    for name in sorted(self.listed):
      path = os.path.join(self.path, name)
      if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
      elif os.path.lexists(path):
        os.remove(path)
      else:
        continue
      removed.append(name)
    removed += self.remove_leftovers()
    os.ftruncate(self._fd, 0)
    self._write_header()
    self.listed = set()
    return removed

  def close(self):
    if self._fd is not None:
      os.close(self._fd)  # releases the lock
      self._fd = None

  def __enter__(self):
    return self

  def __exit__(self, *unused):
    self.close()


def _older_quickstart_outputs(path):
  """OUTPUT_NAMES in `path` if it looks like an older quickstart's, else []."""
  entries = os.listdir(path)
  own = sorted(name for name in entries if name in OUTPUT_NAMES)
  if "corpus.txt" in own and all(
      name in OUTPUT_NAMES or _TEMP_NAME.match(name) for name in entries):
    return own
  return []


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
    staging.write_local_text(
        path, "\n\n".join(d.strip("\n") for d in docs) + "\n")
  return len(train), len(held_out)


def train_sentencepiece(text_path, model_prefix, vocab_size):
  """Trains sentencepiece with the release's spm_train recipe (atomically).

  sentencepiece writes <prefix>.model and <prefix>.vocab itself, so it gets
  a hidden staging prefix; the files are renamed when both are complete.
  """
  import sentencepiece as spm  # pylint: disable=g-import-not-at-top
  tmp_prefix = staging.temporary_path(model_prefix)
  try:
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
  except BaseException:
    for ext in (".vocab", ".model"):
      staging.remove_file_quietly(tmp_prefix + ext)
    raise


@contextlib.contextmanager
def _tensorflow_lines_once():
  """Within the block, each tf.logging line prints once, whatever else logs.

  Outside absl's app.run, TensorFlow's logger gets its own handler (the
  root logger has none at its first use). create_pretraining_data logs
  through absl, whose first message without a root handler calls
  logging.basicConfig(): from then on every tf.logging line printed twice,
  through TensorFlow's handler and, propagated, through the root's.
  progress.log_each_line_once only sees a root handler that is already
  there. The previous state comes back when the block ends.
  """
  logger = logging.getLogger("tensorflow")
  propagate = logger.propagate
  if logger.handlers:
    logger.propagate = False
  try:
    yield
  finally:
    logger.propagate = propagate


def main(argv=None):
  """Runs the quickstart; returns (start, end) eval results."""
  args = parse_args(sys.argv[1:] if argv is None else argv)
  # Before TensorFlow loads: a directory that is not ours fails at once.
  with OutputDir(args.output_dir) as output_dir:
    # Imported here so `--help` answers without building the model code.
    from albert import progress  # pylint: disable=g-import-not-at-top
    with progress.show_only_own_logs(), _tensorflow_lines_once():
      return run_quickstart(args, output_dir)


def run_quickstart(args, output_dir):
  """The five stages; see the module docstring.

  Args:
    args: parsed flags.
    output_dir: the open OutputDir of args.output_dir.

  Returns:
    (start, end): the eval results of the untrained and the pretrained
    model.
  """
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top

  tf.disable_v2_behavior()
  started = time.time()
  _clear_output_dir(args, output_dir)
  paths = {name: os.path.join(output_dir.path, name) for name in (
      "corpus.txt", "train.txt", "eval.txt", "spm", "albert_config.json",
      "train.tfrecord", "eval.tfrecord", "model")}
  _corpus_stage(args, output_dir, paths)
  spm_model = _sentencepiece_stage(args, output_dir, paths)
  _pretraining_data_stage(args, output_dir, paths, spm_model)
  start, train_seconds = _pretraining_stage(args, output_dir, paths)

  stage("5/5 evaluate the pretrained model on held-out documents")
  end = _pretrain(args, paths, input_file=paths["eval.tfrecord"],
                  do_eval=True)
  _print_summary(args, paths, start, end, train_seconds,
                 time.time() - started)
  return start, end


def _clear_output_dir(args, output_dir):
  """Says what a stopped run left and was removed; --fresh removes more."""
  out = output_dir.path
  if output_dir.leftovers_removed:
    print("   removed what a stopped run left unfinished in %s: %s" %
          (out, ", ".join(output_dir.leftovers_removed)))
  if args.fresh:
    removed = output_dir.remove_own_outputs()
    print("   --fresh: removed %s from %s (other files kept)" %
          (", ".join(removed) or "nothing", out))


def _corpus_stage(args, output_dir, paths):
  """Stage 1: the docstring corpus, split into train and held-out eval."""
  stage("1/5 corpus from the Python standard library's docstrings")
  for name in ("corpus.txt", "train.txt", "eval.txt"):
    output_dir.claim(name)
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


def _sentencepiece_stage(args, output_dir, paths):
  """Stage 2: the sentencepiece model and the config of its vocab size.

  Returns:
    The path of the sentencepiece model.
  """
  stage("2/5 sentencepiece model (vocab %d)" % args.vocab_size)
  for name in ("spm.vocab", "spm.model", "albert_config.json"):
    output_dir.claim(name)
  spm_model = paths["spm"] + ".model"
  if not os.path.exists(spm_model):
    train_sentencepiece(paths["train.txt"], paths["spm"], args.vocab_size)
  import sentencepiece as spm  # pylint: disable=g-import-not-at-top
  vocab_size = spm.SentencePieceProcessor(model_file=spm_model).vocab_size()
  print("   %s (%d pieces)" % (spm_model, vocab_size))
  config = dict(QUICKSTART_CONFIG, vocab_size=vocab_size)
  staging.write_local_text(paths["albert_config.json"],
                           json.dumps(config, indent=2, sort_keys=True))
  return spm_model


def _pretraining_data_stage(args, output_dir, paths, spm_model):
  """Stage 3: train and eval TFRecords (create_pretraining_data)."""
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  from albert import create_pretraining_data  # pylint: disable=g-import-not-at-top

  stage("3/5 pretraining data (max_seq_length %d, dupe_factor %d)" %
        (args.max_seq_length, args.dupe_factor))
  options = create_pretraining_data.Options(
      max_seq_length=args.max_seq_length,
      max_predictions_per_seq=args.max_predictions_per_seq,
      dupe_factor=args.dupe_factor)
  for split in ("train", "eval"):
    record_path = output_dir.claim(split + ".tfrecord")
    if not os.path.exists(record_path):
      summary = create_pretraining_data.create_pretraining_data(
          input_files=[paths[split + ".txt"]], output_files=[record_path],
          spm_model_file=spm_model, do_lower_case=True, options=options,
          num_workers=args.num_workers,
          albert_config_file=paths["albert_config.json"])
      count = summary.instances
    else:
      count = sum(1 for _ in tf.io.tf_record_iterator(record_path))
    print("   %s: %d instances" % (split, count))


def _pretrain(args, paths, **overrides):
  """run_pretraining.run with the quickstart's options and `overrides`."""
  from albert import run_pretraining  # pylint: disable=g-import-not-at-top
  values = dict(
      albert_config_file=paths["albert_config.json"],
      output_dir=paths["model"],
      max_seq_length=args.max_seq_length,
      max_predictions_per_seq=args.max_predictions_per_seq,
      # Every call says what it does: the defaults are the release's
      # command-line ones (e.g. do_train=True).
      do_train=False,
      do_eval=False,
      eval_untrained=False,
      train_batch_size=args.train_batch_size,
      eval_batch_size=64,
      optimizer=args.optimizer,
      learning_rate=args.learning_rate,
      num_train_steps=args.num_train_steps,
      num_warmup_steps=max(1, args.num_train_steps // 10),
      max_eval_steps=args.max_eval_steps,
      save_checkpoints_steps=200,
      iterations_per_loop=100,
      log_every_n_steps=50,
      precision=args.precision)
  values.update(overrides)
  return run_pretraining.run(run_pretraining.default_options(**values))


def _pretraining_stage(args, output_dir, paths):
  """Stage 4: evaluates the untrained model (once), then pretrains.

  Returns:
    (the untrained model's eval results, seconds spent training).
  """
  stage("4/5 evaluate the untrained model, then pretrain %d steps" %
        args.num_train_steps)
  start_result_path = output_dir.claim("start_eval_results.json")
  scratch = output_dir.claim("untrained")
  output_dir.claim("model")
  if os.path.exists(start_result_path):
    with open(start_result_path) as f:
      start = json.load(f)
  else:
    # Evaluated in a scratch dir so no step-0 checkpoint lands in the model
    # dir: the training run must start from scratch (or its own checkpoint).
    # A stopped run's scratch dir is not reused.
    shutil.rmtree(scratch, ignore_errors=True)
    start = _pretrain(args, paths, input_file=paths["eval.tfrecord"],
                      do_eval=True, eval_untrained=True, output_dir=scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    staging.write_local_text(start_result_path, json.dumps(start))
  train_started = time.time()
  _pretrain(args, paths, input_file=paths["train.tfrecord"], do_train=True)
  return start, time.time() - train_started


def _print_summary(args, paths, start, end, train_seconds, total_seconds):
  """The start and end metrics side by side, and where the model is."""
  print("\n== Summary (held-out documents)")
  print("   %-26s %10s %10s" % ("", "start", "end"))
  for key in ("masked_lm_accuracy", "masked_lm_loss",
              "sentence_order_accuracy", "sentence_order_loss",
              "global_step"):
    print("   %-26s %10.4g %10.4g" % (key, start[key], end[key]))
  print("   training: %d steps of %d examples in %.0fs; total %.0fs" %
        (end["global_step"], args.train_batch_size, train_seconds,
         total_seconds))
  print("   model and eval_results.txt: %s" % paths["model"])


def cli(argv=None):
  """`python -m albert.quickstart`: errors and Ctrl-C end with one line.

  Bad input, a full disk or a busy output_dir print one line and exit 1;
  Ctrl-C (or SIGTERM) prints one line and exits 130 (143), after removing
  what the stage under way was writing; a re-run resumes. ALBERT_TRACEBACK=1
  shows the traceback instead, as for the run_* scripts
  (cli_errors.run_command).
  """
  # Stage lines go to stdout and logs to stderr: line buffering keeps their
  # order when both go to one file.
  if hasattr(sys.stdout, "reconfigure"):
    sys.stdout.reconfigure(line_buffering=True)
  cli_errors.raise_on_sigterm()
  cli_errors.run_command("quickstart", lambda: main(argv),
                         after_interrupt="; run it again to resume")


if __name__ == "__main__":
  cli()
