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
"""Creates ALBERT pre-training data: masked-LM plus sentence-order examples.

Input is plain text, one sentence per line, with a blank line between
documents. Output is TFRecord files of tf.train.Example with the features
`input_ids`, `input_mask`, `segment_ids`, `token_boundary` (max_seq_length
int64 each), `masked_lm_positions`, `masked_lm_ids` (max_predictions_per_seq
int64 each), `masked_lm_weights` (max_predictions_per_seq floats) and
`next_sentence_labels` (one int64).

How this differs from the released tool, and why:

* Streaming. Documents are read in chunks of `chunk_size`; only the current
  chunk (its text, its tokens and its examples not yet written) is in memory,
  never the corpus. Each chunk is processed `dupe_factor` times, so the text
  is tokenized once. The released tool shuffled all instances of the
  corpus together; here the instances of one (chunk, pass) are shuffled
  together, and a larger chunk_size or the reader's shuffle buffer gives more
  mixing.
* Determinism. Every random draw made for document i in pass d comes from a
  generator seeded with (random_seed, d, i); the shuffle of a chunk's pass
  from (random_seed, d, chunk index). Chunk boundaries depend only on the
  document count, and examples are written by the main process in order, so
  the output bytes do not depend on num_workers.
* Random "next" segments (--random_next_sentence) come from another document
  of the same chunk, never from the same document.
* Sentence order. Label 1 means the two segments are from one document in
  swapped order. A chunk of a single sentence (a one-line document, or one
  sentence that alone reaches the target length) is split at a random word
  start into two segments, so one-line documents still yield examples; the
  released code paired such a sentence with a random other document even in
  sentence-order mode. A single-token sentence cannot be split; it is skipped
  and counted in the summary.
* Masking draws the 80% [MASK] / 10% keep / 10% random decision for every
  token, and the random token is never a control symbol such as [CLS].
* --favor_shorter_ngram=false samples n-gram lengths uniformly.
* --do_permutation: after masking, spans of not-yet-chosen words are picked
  with the same n-gram sampler, their tokens are shuffled among their
  positions and the originals are predicted there. These spans use what is
  left of max_predictions_per_seq (at most as many tokens as were masked), so
  when masking already fills max_predictions_per_seq nothing is permuted.
* Input lines that are not valid UTF-8 are skipped and counted, in both
  --input_file_mode values (the mode is accepted for compatibility; files are
  always read as bytes so that one bad line cannot stop the run).
* Output files are written under hidden temporary names (".<name>.tmp-<pid>",
  which no glob such as "dir/*" matches) and renamed only when the whole run
  succeeded. Temporary files of the same outputs left by a run that died
  (its pid no longer running) are removed at the start; nothing else is.
* A worker process that dies (the out-of-memory killer, kill -9) ends the
  run at once with an error naming its exit code (a multiprocessing.Pool
  would wait forever for the task the dead worker held). Ctrl-C ends the
  run with one line and exit code 130, leaving no output.
* A sentence (line) of more than LONG_SENTENCE_FACTOR * max_seq_length tokens
  loses most of its tokens: an example holds at most max_seq_length - 3
  tokens of it. Such lines are counted and reported once, with the first
  one's file and line, since they usually mean the input is not one sentence
  per line.
* --max_predictions_per_seq larger than --max_seq_length is refused (the
  released tool accepted it silently).
"""

import collections
import concurrent.futures
import dataclasses
import errno
import hashlib
import itertools
import math
import multiprocessing
import os
import random
import signal
import sys
import time
from typing import Dict, List, Optional

from absl import app
from absl import flags
from absl import logging
import tensorflow.compat.v1 as tf

from albert import cli_errors
from albert import command_line
from albert import input_pipeline
from albert import progress
from albert import staging
from albert import tokenization

FLAGS = flags.FLAGS

FEATURE_NAMES = ("input_ids", "input_mask", "segment_ids", "token_boundary",
                 "masked_lm_positions", "masked_lm_ids", "masked_lm_weights",
                 "next_sentence_labels")

CLS = "[CLS]"
SEP = "[SEP]"
MASK = "[MASK]"

# SentencePiece splits punctuation off into its own pieces without a word
# marker; these start a new word for whole-word masking. The apostrophe is
# left out on purpose: it usually sits inside a word ("don't").
# The release's sentencepiece word-start rule: a piece starts a word if it
# has the "▁" marker, is a "<...>" symbol or one of these punctuation marks,
# or holds any character (lower-cased) outside a-z and these marks (digits,
# accented letters, CJK, "=", "'", ...: "foreign characters" are whole
# pieces to it).
_SP_WORD_START_PUNCTUATION = frozenset('!"#$%&()*+,-./:;?@[\\]^_`{|}~')
_SP_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz") | (
    _SP_WORD_START_PUNCTUATION)

# A sentence longer than this many times max_seq_length tokens is reported:
# at most max_seq_length - 3 of its tokens reach an example, so more than
# half of it is dropped, which usually means the input is not one sentence
# per line.
LONG_SENTENCE_FACTOR = 2

# Test-only hook: when set to a directory, every task first creates
# <directory>/<pid> and then waits until <directory>/go exists, so that a
# test can kill or interrupt a run at a known point instead of after a
# guessed sleep. Unset, it costs one dict lookup per task.
TEST_MARKER_ENV = "ALBERT_TEST_WORKER_MARKER"


class WorkerError(RuntimeError):
  """A worker process died (killed, out of memory) before finishing."""


class FileError(OSError):
  """An input could not be read or an output written; the message names it.
  """


def define_flags():
  """Defines the command-line flags.

  Called only when the module runs as a program, so that importing the
  library does not claim flag names that other ALBERT programs also use.
  """
  flags.DEFINE_string(
      "input_file", None,
      "Input text: one sentence per line, documents separated by blank "
      "lines. A comma-separated list of files or glob patterns.")
  flags.DEFINE_string(
      "output_file", None,
      "Output TFRecord file, or a comma-separated list of them; examples are "
      "distributed over them in turn.")
  flags.DEFINE_string("vocab_file", None,
                      "WordPiece vocabulary (vocab.txt) of the model.")
  flags.DEFINE_string(
      "spm_model_file", None,
      "SentencePiece model of the model; takes precedence over vocab_file.")
  flags.DEFINE_enum(
      "input_file_mode", "r", ["r", "rb"],
      "Kept for compatibility. Input is always read as bytes and decoded as "
      "UTF-8 line by line; undecodable lines are skipped and counted.")
  flags.DEFINE_bool("do_lower_case", True, "Lower-case the input text.")
  flags.DEFINE_bool("do_whole_word_mask", True,
                    "Mask whole words instead of single word pieces.")
  flags.DEFINE_bool(
      "do_permutation", False,
      "Experimental: also shuffle the tokens of some n-gram spans and "
      "predict the original tokens there.")
  flags.DEFINE_bool("favor_shorter_ngram", True,
                    "Sample n-gram length n with probability 1/n "
                    "(normalised); otherwise with those weights reversed.")
  flags.DEFINE_bool(
      "random_next_sentence", False,
      "BERT-style next-sentence prediction (segment B from another "
      "document) instead of ALBERT's sentence-order prediction.")
  flags.DEFINE_integer("max_seq_length", 512, "Maximum sequence length.")
  flags.DEFINE_integer("ngram", 3, "Longest n-gram (in words) to mask.")
  flags.DEFINE_integer("max_predictions_per_seq", 20,
                       "Maximum number of masked-LM predictions per sequence.")
  flags.DEFINE_integer("random_seed", 12345, "Seed of all random draws.")
  flags.DEFINE_integer(
      "dupe_factor", 40,
      "Number of times each document is used, with different masks.")
  flags.DEFINE_float("masked_lm_prob", 0.15, "Fraction of tokens to mask.")
  flags.DEFINE_float(
      "short_seq_prob", 0.1,
      "Probability of making a sequence shorter than max_seq_length.")
  flags.DEFINE_integer(
      "num_workers", os.cpu_count() or 1,
      "Worker processes for tokenizing and masking; the output does not "
      "depend on it.")
  flags.DEFINE_bool(
      "parallel", False,
      "Kept for release command lines, which it does not change: the work "
      "is always spread over --num_workers processes.")
  flags.DEFINE_integer(
      "chunk_size", 1000,
      "Documents held in memory at a time. Random next segments and the "
      "shuffle of examples stay within a chunk.")
  flags.DEFINE_string(
      "albert_config_file", None,
      "Optional albert_config.json; max_seq_length and the vocabulary size "
      "are checked against it.")
  flags.mark_flags_as_required(["input_file", "output_file"])


@dataclasses.dataclass(frozen=True)
class Options(object):
  """How instances are made; defaults are the released tool's flag defaults."""
  max_seq_length: int = 512
  max_predictions_per_seq: int = 20
  masked_lm_prob: float = 0.15
  short_seq_prob: float = 0.1
  dupe_factor: int = 40
  ngram: int = 3
  do_whole_word_mask: bool = True
  favor_shorter_ngram: bool = True
  do_permutation: bool = False
  random_next_sentence: bool = False
  random_seed: int = 12345

  def validate(self):
    """Raises ValueError naming the flag if a value cannot work."""
    # [CLS] A [SEP] B [SEP] with at least one token in A and B, and a target
    # length drawn from [2, max_seq_length - 3].
    if self.max_seq_length < 5:
      raise ValueError("--max_seq_length must be at least 5, got %d" %
                       self.max_seq_length)
    if self.max_predictions_per_seq < 1:
      raise ValueError("--max_predictions_per_seq must be at least 1, got %d"
                       % self.max_predictions_per_seq)
    if not 0.0 < self.masked_lm_prob <= 1.0:
      raise ValueError("--masked_lm_prob must be in (0, 1], got %r" %
                       self.masked_lm_prob)
    if not 0.0 <= self.short_seq_prob <= 1.0:
      raise ValueError("--short_seq_prob must be in [0, 1], got %r" %
                       self.short_seq_prob)
    if self.dupe_factor < 1:
      raise ValueError("--dupe_factor must be at least 1, got %d" %
                       self.dupe_factor)
    if self.ngram < 1:
      raise ValueError("--ngram must be at least 1, got %d" % self.ngram)
    # Predictions are positions of the sequence; more of them than tokens
    # can never be filled and only inflates every example.
    if self.max_predictions_per_seq > self.max_seq_length:
      raise ValueError(
          "--max_predictions_per_seq=%d is larger than --max_seq_length=%d; "
          "a sequence cannot have more predictions than tokens" %
          (self.max_predictions_per_seq, self.max_seq_length))


class TrainingInstance(object):
  """One pre-training example, as tokens (before conversion to ids)."""

  def __init__(self, tokens, segment_ids, token_boundary, masked_lm_positions,
               masked_lm_labels, next_sentence_label):
    self.tokens = tokens
    self.segment_ids = segment_ids
    self.token_boundary = token_boundary
    self.masked_lm_positions = masked_lm_positions
    self.masked_lm_labels = masked_lm_labels
    self.next_sentence_label = next_sentence_label

  def __repr__(self):
    return ("TrainingInstance(tokens=%r, segment_ids=%r, token_boundary=%r, "
            "masked_lm_positions=%r, masked_lm_labels=%r, "
            "next_sentence_label=%d)" %
            (self.tokens, self.segment_ids, self.token_boundary,
             self.masked_lm_positions, self.masked_lm_labels,
             self.next_sentence_label))


MaskingResult = collections.namedtuple(
    "MaskingResult",
    ["tokens", "masked_lm_positions", "masked_lm_labels", "token_boundary",
     "span_lengths", "permuted_positions"])
MaskingResult.__doc__ = """What create_masked_lm_predictions made.

tokens: the sequence with masked, replaced and permuted tokens.
masked_lm_positions: sorted positions to predict (masked and permuted).
masked_lm_labels: the original token at each of those positions.
token_boundary: 1 for [CLS], [SEP] and word-start tokens, else 0.
span_lengths: n (in candidate units: words, or pieces without whole-word
  masking) of every span chosen for masking, in the order chosen.
permuted_positions: sorted positions whose tokens were shuffled.
"""


@dataclasses.dataclass
class Summary(object):
  """Counts of one create_pretraining_data run."""
  documents: int = 0
  sentences: int = 0
  input_tokens: int = 0
  instances: int = 0
  instance_tokens: int = 0
  skipped_lines: int = 0
  first_skipped_line: Optional[str] = None
  unsplittable_segments: int = 0
  long_sentences: int = 0
  first_long_sentence: Optional[str] = None
  elapsed_seconds: float = 0.0
  instances_per_file: Dict[str, int] = dataclasses.field(default_factory=dict)
  warnings: List[str] = dataclasses.field(default_factory=list)


class InputStats(object):
  """What read_documents has consumed so far.

  document_path and document_lines say where the document last yielded
  comes from: its file and the line number of each of its lines.
  """

  def __init__(self):
    self.bytes_read = 0
    self.lines = 0
    self.skipped_lines = 0
    self.first_skipped_line = None
    self.document_path = None
    self.document_lines = []


def stable_rng(*key):
  """A random.Random seeded from key (ints and strs).

  The seed is a SHA-256 of the key's repr, so it is the same in every process
  and every run, unlike Python's salted hash().
  """
  digest = hashlib.sha256(repr(key).encode("utf-8")).digest()
  return random.Random(int.from_bytes(digest[:16], "big"))


def is_start_piece(piece, sentencepiece=True):
  """True if piece starts a word.

  Args:
    piece: a token.
    sentencepiece: the token is a SentencePiece piece (the release's rule,
      see _SP_WORD_START_PUNCTUATION); otherwise a WordPiece token
      (continuations start with "##").
  """
  if sentencepiece:
    return (piece.startswith(tokenization.SPIECE_UNDERLINE) or
            piece.startswith("<") or piece in _SP_WORD_START_PUNCTUATION or
            any(c.lower() not in _SP_WORD_CHARS for c in piece))
  return not piece.startswith("##")


def compute_token_boundary(tokens, sentencepiece=True):
  """1 for [CLS], [SEP] and tokens that start a word, 0 for the others."""
  return [1 if token in (CLS, SEP) or is_start_piece(token, sentencepiece)
          else 0 for token in tokens]


def masking_budget_warning(max_seq_length, max_predictions_per_seq,
                           masked_lm_prob):
  """A warning text if max_predictions_per_seq caps masking, else None.

  Full-length sequences want about masked_lm_prob * max_seq_length masked
  tokens; the released defaults (512, 20, 0.15) mask only 20 of them (~4%).
  """
  # The small epsilon keeps e.g. 0.15 * 20 = 3.0000000000000004 at 3.
  wanted = int(math.ceil(masked_lm_prob * max_seq_length - 1e-9))
  if max_predictions_per_seq >= wanted:
    return None
  return ("max_predictions_per_seq=%d caps masking at %d of %d tokens "
          "(%.1f%%) in a full-length sequence, but masked_lm_prob=%g wants "
          "%d; pass --max_predictions_per_seq=%d to mask the full fraction." %
          (max_predictions_per_seq, max_predictions_per_seq, max_seq_length,
           100.0 * max_predictions_per_seq / max_seq_length, masked_lm_prob,
           wanted, wanted))


def long_sentence_warning(summary, max_seq_length):
  """The warning text for the sentences counted in summary.long_sentences."""
  return ("%d input line(s) have more than %d tokens (%d x max_seq_length), "
          "first at %s: an example holds at most %d tokens of one line and "
          "drops the rest. Is the input one sentence per line, with blank "
          "lines between documents?" %
          (summary.long_sentences, LONG_SENTENCE_FACTOR * max_seq_length,
           LONG_SENTENCE_FACTOR, summary.first_long_sentence,
           max_seq_length - 3))


def replacement_vocabulary(tokenizer):
  """Tokens that may replace a masked token, in id order.

  Control symbols ([CLS], [SEP], [MASK], <pad>, <unk>, [unused..]) are left
  out: a random replacement is meant to look like ordinary text.
  """
  words = []
  for word, index in sorted(tokenizer.vocab.items(), key=lambda kv: kv[1]):
    if tokenizer.sp_model is not None:
      sp_model = tokenizer.sp_model
      if (sp_model.IsControl(index) or sp_model.IsUnknown(index) or
          sp_model.IsUnused(index)):
        continue
    if len(word) > 2 and ((word[0] == "[" and word[-1] == "]") or
                          (word[0] == "<" and word[-1] == ">")):
      continue
    words.append(word)
  if not words:
    raise ValueError("the vocabulary has no ordinary tokens to draw random "
                     "replacements from")
  return words


def _candidate_units(tokens, token_boundary, do_whole_word_mask):
  """Groups the positions of non-special tokens into maskable units."""
  units = []
  after_special = True
  for position, token in enumerate(tokens):
    if token in (CLS, SEP):
      after_special = True
      continue
    # A continuation right after [CLS]/[SEP] (the segment was truncated in
    # the middle of a word) starts its own unit rather than joining the last
    # word of the other segment.
    if (do_whole_word_mask and units and not after_special and
        not token_boundary[position]):
      units[-1].append(position)
    else:
      units.append([position])
    after_special = False
  return units


def ngram_weights(ngram, favor_shorter_ngram):
  """Unnormalised probabilities of span lengths 1..ngram.

  Proportional to 1/n when favor_shorter_ngram; otherwise the same weights
  reversed, favouring longer spans, as the released tool did.
  """
  weights = [1.0 / n for n in range(1, ngram + 1)]
  if favor_shorter_ngram:
    return weights
  return weights[::-1]


def _select_spans(units, budget, covered, rng, weights):
  """Chooses n-gram spans of units covering at most budget positions.

  Spans are tried from every start unit in random order; a span that would
  overrun the budget is shortened, one that overlaps a covered position is
  skipped. covered is updated.

  Returns:
    list of (positions, n) in the order chosen.
  """
  starts = list(range(len(units)))
  rng.shuffle(starts)
  chosen = []
  count = 0
  for start in starts:
    if count >= budget:
      break
    longest = min(len(weights), len(units) - start)
    n = rng.choices(range(1, longest + 1), weights=weights[:longest])[0]
    positions = [p for unit in units[start:start + n] for p in unit]
    # Shortening rather than skipping lets the last spans fill the budget.
    while n > 1 and count + len(positions) > budget:
      n -= 1
      positions = [p for unit in units[start:start + n] for p in unit]
    if count + len(positions) > budget:
      continue
    if any(p in covered for p in positions):
      continue
    covered.update(positions)
    chosen.append((positions, n))
    count += len(positions)
  return chosen


def create_masked_lm_predictions(tokens, masked_lm_prob,
                                 max_predictions_per_seq, vocab_words, rng,
                                 ngram=3, do_whole_word_mask=True,
                                 favor_shorter_ngram=True,
                                 do_permutation=False, sentencepiece=True):
  """Masks n-gram spans of tokens for the masked-LM objective.

  Args:
    tokens: list of str tokens including [CLS] and [SEP].
    masked_lm_prob: fraction of tokens to predict.
    max_predictions_per_seq: upper bound on predictions.
    vocab_words: tokens to draw random replacements from.
    rng: random.Random.
    ngram: longest span, in words (or pieces without whole-word masking).
    do_whole_word_mask: spans consist of whole words.
    favor_shorter_ngram: span length n has probability proportional to 1/n;
      otherwise all lengths are equally likely.
    do_permutation: also permute spans of other tokens (see module doc).
    sentencepiece: tokens are SentencePiece pieces, not WordPiece tokens.

  Returns:
    A MaskingResult.
  """
  token_boundary = compute_token_boundary(tokens, sentencepiece)
  units = _candidate_units(tokens, token_boundary, do_whole_word_mask)
  output_tokens = list(tokens)
  num_to_predict = min(max_predictions_per_seq,
                       max(1, int(round(len(tokens) * masked_lm_prob))))
  weights = ngram_weights(ngram, favor_shorter_ngram)
  covered = set()
  spans = _select_spans(units, num_to_predict, covered, rng, weights)
  labels = {}
  for positions, _ in spans:
    for position in positions:
      # Drawn per token, so 80/10/10 holds for tokens, not for spans.
      if rng.random() < 0.8:
        output_tokens[position] = MASK
      elif rng.random() < 0.5:
        pass  # Kept: the model must not learn that visible tokens are right.
      else:
        output_tokens[position] = vocab_words[
            rng.randint(0, len(vocab_words) - 1)]
      labels[position] = tokens[position]
  permuted = []
  if do_permutation:
    budget = min(num_to_predict, max_predictions_per_seq - len(labels))
    if budget >= 2:
      permuted_spans = _select_spans(units, budget, covered, rng, weights)
      permuted = sorted(p for positions, _ in permuted_spans
                        for p in positions)
      sources = list(permuted)
      rng.shuffle(sources)
      for target, source in zip(permuted, sources):
        output_tokens[target] = tokens[source]
        labels[target] = tokens[target]
  positions = sorted(labels)
  return MaskingResult(
      tokens=output_tokens, masked_lm_positions=positions,
      masked_lm_labels=[labels[p] for p in positions],
      token_boundary=token_boundary, span_lengths=[n for _, n in spans],
      permuted_positions=permuted)


def truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng):
  """Shortens the longer of two token lists until both fit, in place.

  Tokens go from the front or the back at random, so that the model does not
  always see sentence ends cut off.
  """
  # The draws are made on lengths and the cuts applied once at the end:
  # deleting the first item of a list one at a time is quadratic, which took
  # seconds per example for a very long line. The result is the same as
  # deleting token by token.
  lengths = [len(tokens_a), len(tokens_b)]
  front = [0, 0]
  back = [0, 0]
  while lengths[0] + lengths[1] > max_num_tokens:
    longer = 0 if lengths[0] > lengths[1] else 1
    if lengths[longer] < 2:
      raise ValueError("cannot truncate a pair to %d tokens" % max_num_tokens)
    if rng.random() < 0.5:
      front[longer] += 1
    else:
      back[longer] += 1
    lengths[longer] -= 1
  for k, tokens in enumerate((tokens_a, tokens_b)):
    del tokens[len(tokens) - back[k]:]
    del tokens[:front[k]]


def _split_point(tokens, rng, sentencepiece):
  """A random cut of one segment into two, at a word start if possible."""
  starts = [k for k in range(1, len(tokens))
            if is_start_piece(tokens[k], sentencepiece)]
  if not starts:
    starts = list(range(1, len(tokens)))
  return starts[rng.randint(0, len(starts) - 1)]


def create_instances_from_document(documents, document_index, options,
                                   vocab_words, rng, sentencepiece=True,
                                   counts=None):
  """Makes the training instances of one document.

  Args:
    documents: the chunk's documents; each a list of segments (sentences),
      each a list of str tokens. Random next segments are drawn from here.
    document_index: which of documents to use.
    options: an Options.
    vocab_words: tokens for random replacement, see replacement_vocabulary.
    rng: random.Random; the result is a function of its state.
    sentencepiece: tokens are SentencePiece pieces.
    counts: optional collections.Counter; "unsplittable_segments" is
      incremented for every single-token segment that had to be skipped.

  Returns:
    list of TrainingInstance.
  """
  document = documents[document_index]
  max_num_tokens = options.max_seq_length - 3
  # Mostly full-length sequences, to use the compute well; some short ones so
  # that fine-tuning on short inputs is not a surprise to the model.
  target_seq_length = max_num_tokens
  if rng.random() < options.short_seq_prob:
    target_seq_length = rng.randint(2, max_num_tokens)

  instances = []
  current_chunk = []
  current_length = 0
  i = 0
  while i < len(document):
    segment = document[i]
    current_chunk.append(segment)
    current_length += len(segment)
    if i == len(document) - 1 or current_length >= target_seq_length:
      a_end = 1
      if len(current_chunk) >= 2:
        a_end = rng.randint(1, len(current_chunk) - 1)
      tokens_a = [t for s in current_chunk[:a_end] for t in s]
      tokens_b = []
      label = 0
      if (options.random_next_sentence and len(documents) > 1 and
          rng.random() < 0.5):
        label = 1
        target_b_length = target_seq_length - len(tokens_a)
        other = rng.randint(0, len(documents) - 2)
        if other >= document_index:
          other += 1
        random_document = documents[other]
        random_start = rng.randint(0, len(random_document) - 1)
        for j in range(random_start, len(random_document)):
          tokens_b.extend(random_document[j])
          if len(tokens_b) >= target_b_length:
            break
        # The segments after a_end were not used; they start the next chunk.
        i -= len(current_chunk) - a_end
      elif len(current_chunk) >= 2:
        tokens_b = [t for s in current_chunk[a_end:] for t in s]
      elif len(tokens_a) >= 2:
        cut = _split_point(tokens_a, rng, sentencepiece)
        tokens_a, tokens_b = tokens_a[:cut], tokens_a[cut:]
      else:
        if counts is not None:
          counts["unsplittable_segments"] += 1
        current_chunk = []
        current_length = 0
        i += 1
        continue
      if not options.random_next_sentence and rng.random() < 0.5:
        label = 1
        tokens_a, tokens_b = tokens_b, tokens_a

      truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng)
      tokens = [CLS] + tokens_a + [SEP] + tokens_b + [SEP]
      segment_ids = [0] * (len(tokens_a) + 2) + [1] * (len(tokens_b) + 1)
      masking = create_masked_lm_predictions(
          tokens, options.masked_lm_prob, options.max_predictions_per_seq,
          vocab_words, rng, ngram=options.ngram,
          do_whole_word_mask=options.do_whole_word_mask,
          favor_shorter_ngram=options.favor_shorter_ngram,
          do_permutation=options.do_permutation, sentencepiece=sentencepiece)
      instances.append(TrainingInstance(
          tokens=masking.tokens, segment_ids=segment_ids,
          token_boundary=masking.token_boundary,
          masked_lm_positions=masking.masked_lm_positions,
          masked_lm_labels=masking.masked_lm_labels,
          next_sentence_label=label))
      current_chunk = []
      current_length = 0
    i += 1
  return instances


def instance_to_example(instance, tokenizer, max_seq_length,
                        max_predictions_per_seq):
  """Converts a TrainingInstance into a zero-padded tf.train.Example."""
  input_ids = tokenizer.convert_tokens_to_ids(instance.tokens)
  if len(input_ids) > max_seq_length:
    raise ValueError("instance has %d tokens, more than max_seq_length=%d" %
                     (len(input_ids), max_seq_length))
  padding = [0] * (max_seq_length - len(input_ids))
  input_mask = [1] * len(input_ids) + padding
  segment_ids = list(instance.segment_ids) + padding
  token_boundary = list(instance.token_boundary) + padding
  input_ids = list(input_ids) + padding

  masked_lm_positions = list(instance.masked_lm_positions)
  masked_lm_ids = tokenizer.convert_tokens_to_ids(instance.masked_lm_labels)
  if len(masked_lm_ids) > max_predictions_per_seq:
    raise ValueError("instance has %d predictions, more than "
                     "max_predictions_per_seq=%d" %
                     (len(masked_lm_ids), max_predictions_per_seq))
  prediction_padding = max_predictions_per_seq - len(masked_lm_ids)
  masked_lm_weights = [1.0] * len(masked_lm_ids) + [0.0] * prediction_padding
  masked_lm_positions += [0] * prediction_padding
  masked_lm_ids = list(masked_lm_ids) + [0] * prediction_padding

  int64_feature = input_pipeline.int64_feature
  features = collections.OrderedDict()
  features["input_ids"] = int64_feature(input_ids)
  features["input_mask"] = int64_feature(input_mask)
  features["segment_ids"] = int64_feature(segment_ids)
  features["token_boundary"] = int64_feature(token_boundary)
  features["masked_lm_positions"] = int64_feature(masked_lm_positions)
  features["masked_lm_ids"] = int64_feature(masked_lm_ids)
  features["masked_lm_weights"] = input_pipeline.float_feature(
      masked_lm_weights)
  features["next_sentence_labels"] = int64_feature(
      [instance.next_sentence_label])
  return tf.train.Example(features=tf.train.Features(feature=features))


def _split_list(value):
  """A comma-separated string or a list of strings, as a list."""
  if isinstance(value, str):
    value = value.split(",")
  return [item.strip() for item in value if item and item.strip()]


def resolve_input_files(patterns):
  """Expands comma-separated glob patterns into a list of input files.

  Raises:
    ValueError: a pattern matches nothing, or a matched file is empty or a
      directory.
  """
  patterns = _split_list(patterns)
  if not patterns:
    raise ValueError("--input_file is empty; give files or glob patterns")
  paths = []
  for pattern in patterns:
    # Sorted so the document order, and so the output, does not depend on
    # the order the file system lists a directory in.
    matches = sorted(tf.io.gfile.glob(pattern))
    if not matches:
      raise ValueError("--input_file pattern matches no file: %s" % pattern)
    for path in matches:
      if path not in paths:
        paths.append(path)
  for path in paths:
    if tf.io.gfile.isdir(path):
      raise ValueError("--input_file names a directory, not a file: %s" %
                       path)
    if tf.io.gfile.stat(path).length == 0:
      raise ValueError("input file is empty: %s" % path)
  return paths


def _binary_lines(reader, block_size=1 << 20):
  """Yields the lines of a binary file object, each with its newline.

  GFile.readline drops the carriage return of "\r\n" even in binary mode;
  splitting blocks ourselves keeps every byte, so byte counts are exact.
  """
  pending = b""
  while True:
    block = reader.read(block_size)
    if not block:
      break
    lines = (pending + block).split(b"\n")
    pending = lines.pop()
    for line in lines:
      yield line + b"\n"
  if pending:
    yield pending


def read_documents(input_files, tokenizer=None, stats=None):
  """Yields the documents of the input files, in order.

  A blank line, and the end of a file, ends a document. Lines that are not
  valid UTF-8 are skipped and counted in stats.

  Args:
    input_files: list of file paths (already expanded).
    tokenizer: if given, each document is a list of token lists (lines that
      yield no tokens are left out, and so are documents with no tokens);
      otherwise a list of stripped line strings.
    stats: optional InputStats to update while reading.

  Yields:
    one list per document.
  """
  if stats is None:
    stats = InputStats()

  def finish(path, lines, numbers):
    stats.document_path = path
    if tokenizer is None:
      stats.document_lines = numbers
      return lines
    kept = [(tokens, number) for tokens, number in
            zip([tokenizer.tokenize(line) for line in lines], numbers)
            if tokens]
    stats.document_lines = [number for _, number in kept]
    return [tokens for tokens, _ in kept]

  for path in input_files:
    lines = []
    numbers = []
    line_number = 0
    for raw in _file_lines(path):
      line_number += 1
      stats.lines += 1
      stats.bytes_read += len(raw)
      try:
        line = raw.decode("utf-8")
      except UnicodeDecodeError:
        stats.skipped_lines += 1
        if stats.first_skipped_line is None:
          stats.first_skipped_line = "%s:%d" % (path, line_number)
        continue
      line = line.strip()
      if line:
        lines.append(line)
        numbers.append(line_number)
        continue
      if lines:
        document = finish(path, lines, numbers)
        if document:
          yield document
        lines = []
        numbers = []
    if lines:
      document = finish(path, lines, numbers)
      if document:
        yield document


def _error_reason(error):
  """What went wrong, without the file name and in one line."""
  if isinstance(error, tf.errors.OpError):
    text = error.message or type(error).__name__
  else:
    text = error.strerror or str(error) or type(error).__name__
  lines = text.strip().splitlines()
  return lines[0] if lines else type(error).__name__


def _file_lines(path):
  """Yields the lines of an input file; a failing read names the file."""
  try:
    with tf.io.gfile.GFile(path, "rb") as reader:
      for raw in _binary_lines(reader):
        yield raw
  except (OSError, tf.errors.OpError) as e:
    raise FileError("cannot read input file %s: %s" %
                    (path, _error_reason(e))) from e


def check_albert_config(albert_config_file, max_seq_length, tokenizer):
  """Raises ValueError if the data would not fit the model's config."""
  from albert import modeling  # Only this check needs the model code.
  config = modeling.AlbertConfig.from_json_file(albert_config_file)
  if max_seq_length > config.max_position_embeddings:
    raise ValueError(
        "--max_seq_length=%d is larger than max_position_embeddings=%d in "
        "--albert_config_file=%s; the model cannot read sequences that long." %
        (max_seq_length, config.max_position_embeddings, albert_config_file))
  # More ids than rows fails; fewer (a padded table) warns.
  config.check_num_token_ids(
      tokenizer.num_token_ids(),
      "the tokenizer (%s; --albert_config_file=%s)" %
      (tokenizer.source, albert_config_file))


def _is_local(path):
  """True for a local path, False for a URL such as gs://bucket/x."""
  return "://" not in path


def check_output_files(output_files, input_files=()):
  """Raises ValueError if an output file cannot be written (before any work).
  """
  if not output_files:
    raise ValueError("--output_file is empty; give one or more files")
  if len(set(output_files)) != len(output_files):
    raise ValueError("--output_file names a file twice: %s" %
                     ",".join(output_files))
  inputs = {os.path.abspath(p) for p in input_files if _is_local(p)}
  for path in output_files:
    directory = os.path.dirname(path) or "."
    if not tf.io.gfile.isdir(directory):
      raise ValueError("output directory does not exist: %s (for "
                       "--output_file %s)" % (directory, path))
    if _is_local(path) and not os.access(directory, os.W_OK | os.X_OK):
      raise ValueError("output directory is not writable: %s (for "
                       "--output_file %s)" % (directory, path))
    if tf.io.gfile.isdir(path):
      raise ValueError("--output_file names a directory: %s" % path)
    if _is_local(path) and os.path.abspath(path) in inputs:
      raise ValueError("--output_file is also an input file: %s" % path)


def _output_error(path, error, done="no output was written"):
  """A FileError naming the output file that could not be written."""
  reason = _error_reason(error)
  if getattr(error, "errno", None) == errno.ENOSPC or (
      "no space left" in reason.lower()):
    reason += "; free some space and run again"
  return FileError("cannot write output file %s: %s (%s)" %
                   (path, reason, done))


def remove_stale_temporary_files(output_files):
  """Removes temporary files of these outputs left by runs that died.

  Only staging.temporary_path names of one of output_files are considered,
  and only those whose pid is not a running process
  (`staging.is_dead_runs`): a concurrent run writing the same output keeps
  its file. Remote paths are left alone, since a pid says nothing about
  another machine.

  Returns:
    the removed paths.
  """
  removed = []
  for path in output_files:
    if not _is_local(path):
      continue
    directory = os.path.dirname(path) or "."
    try:
      names = os.listdir(directory)
    except OSError:
      continue  # check_output_files reports an unusable directory.
    for name in names:
      if not staging.is_dead_runs(name, target=os.path.basename(path)):
        continue
      stale = os.path.join(directory, name)
      if not os.path.isfile(stale) or os.path.islink(stale):
        continue
      try:
        os.remove(stale)
      except FileNotFoundError:
        continue  # Another run cleaned it up first.
      except OSError as e:
        logging.warning("could not remove %s, left by a run that died: %s",
                        stale, _error_reason(e))
        continue
      removed.append(stale)
  if removed:
    logging.info("Removed %d temporary file(s) left by runs that died: %s",
                 len(removed), ", ".join(removed))
  return removed


class ExampleWriter(object):
  """Writes serialized examples round-robin to temporary files.

  Files are written under staging.temporary_path names (hidden, so no
  glob of the output directory matches them) until commit() renames them,
  so a run that fails or is interrupted never leaves a file under an output
  name. A write, close or rename that fails raises a FileError naming the
  output file.
  """

  def __init__(self, output_files):
    self.output_files = list(output_files)
    self.temp_files = [staging.temporary_path(path)
                       for path in self.output_files]
    self.counts = [0] * len(self.output_files)
    self._writers = []
    self._next = 0
    for path, temp in zip(self.output_files, self.temp_files):
      try:
        self._writers.append(tf.io.TFRecordWriter(temp))
      except (OSError, tf.errors.OpError) as e:
        self.abort()
        raise _output_error(path, e) from e

  def write(self, serialized):
    """Writes one serialized tf.train.Example to the next file in turn."""
    index = self._next
    try:
      self._writers[index].write(serialized)
    except (OSError, tf.errors.OpError) as e:
      raise _output_error(self.output_files[index], e) from e
    self.counts[index] += 1
    self._next = (index + 1) % len(self._writers)

  def _close(self, quiet):
    """Closes every file; unless quiet, then raises the first failure."""
    writers, self._writers = self._writers, []
    failure = None
    # Closing flushes: this is where a full disk usually shows.
    for path, writer in zip(self.output_files, writers):
      try:
        writer.close()
      except Exception as e:  # pylint: disable=broad-except
        if failure is None:
          failure = (path, e)
    if failure is None or quiet:
      return
    path, e = failure
    if isinstance(e, (OSError, tf.errors.OpError)):
      raise _output_error(path, e) from e
    raise e

  def commit(self):
    """Closes the files and moves them to their final names."""
    self._close(quiet=False)
    for k, (temp, path) in enumerate(zip(self.temp_files, self.output_files)):
      try:
        if _is_local(path):
          os.replace(temp, path)
        else:
          tf.io.gfile.rename(temp, path, overwrite=True)
      except (OSError, tf.errors.OpError) as e:
        done = ("no output was written" if k == 0 else
                "only %s was written" % ", ".join(self.output_files[:k]))
        raise _output_error(path, e, done) from e

  def abort(self):
    """Closes and deletes the temporary files; never raises."""
    self._close(quiet=True)
    for temp in self.temp_files:
      try:
        if tf.io.gfile.exists(temp):
          tf.io.gfile.remove(temp)
      except Exception:  # pylint: disable=broad-except
        logging.warning("could not remove temporary file %s", temp)


# Per-process state of the workers (and of the main process when it does the
# work itself): built once by _init_worker rather than sent with every task.
_WORKER = {}


def _init_worker(tokenizer, options):
  """Sets up the tokenizer and options used by the task functions."""
  _WORKER.clear()
  _WORKER["tokenizer"] = tokenizer
  _WORKER["options"] = options
  _WORKER["vocab_words"] = replacement_vocabulary(tokenizer)
  _WORKER["sentencepiece"] = tokenizer.sp_model is not None
  _WORKER["test_marker"] = os.environ.get(TEST_MARKER_ENV)


def _pool_initializer(tokenizer, options):
  """Pool initializer: leave interrupts to the main process, which cleans up.
  """
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  signal.signal(signal.SIGTERM, signal.SIG_DFL)
  _init_worker(tokenizer, options)


def _wait_at_test_marker(directory):
  """Test-only (see TEST_MARKER_ENV): announce this process, wait for "go".
  """
  with open(os.path.join(directory, str(os.getpid())), "a"):
    pass
  go = os.path.join(directory, "go")
  while not os.path.exists(go):
    time.sleep(0.01)


def _tokenize_documents(documents):
  """Task: tokenizes raw documents.

  Returns, per document, (sentences, number of tokens, number of long
  sentences, line offset of the first long one or None) where each sentence
  is its tokens joined by spaces: one string per sentence pickles far faster
  than one per token, and no token contains a space. A sentence is long if
  it has more than LONG_SENTENCE_FACTOR * max_seq_length tokens.
  """
  if _WORKER["test_marker"]:
    _wait_at_test_marker(_WORKER["test_marker"])
  tokenizer = _WORKER["tokenizer"]
  long_sentence = LONG_SENTENCE_FACTOR * _WORKER["options"].max_seq_length
  results = []
  for lines in documents:
    sentences = []
    num_tokens = 0
    num_long = 0
    first_long = None
    for offset, line in enumerate(lines):
      tokens = tokenizer.tokenize(line)
      if not tokens:
        continue
      if any(" " in token for token in tokens):
        raise ValueError("tokenizer produced a token containing a space "
                         "for line %r" % line[:200])
      if len(tokens) > long_sentence:
        num_long += 1
        if first_long is None:
          first_long = offset
      sentences.append(" ".join(tokens))
      num_tokens += len(tokens)
    results.append((sentences, num_tokens, num_long, first_long))
  return results


class _PackedDocuments(object):
  """A list of packed documents that unpacks (and caches) on access."""

  def __init__(self, packed):
    self._packed = packed
    self._cache = {}

  def __len__(self):
    return len(self._packed)

  def __getitem__(self, index):
    document = self._cache.get(index)
    if document is None:
      document = [sentence.split(" ") for sentence in self._packed[index]]
      self._cache[index] = document
    return document


def _make_instances(task):
  """Task: serialized examples of some documents for one duplication pass.

  task is (dupe, global document indexes, packed documents, begin, end);
  examples are made for documents[begin:end], and documents is the pool that
  random next segments are drawn from.
  """
  if _WORKER["test_marker"]:
    _wait_at_test_marker(_WORKER["test_marker"])
  dupe, indexes, packed, begin, end = task
  options = _WORKER["options"]
  tokenizer = _WORKER["tokenizer"]
  documents = _PackedDocuments(packed)
  counts = collections.Counter()
  serialized = []
  for k in range(begin, end):
    rng = stable_rng("document", options.random_seed, dupe, indexes[k])
    for instance in create_instances_from_document(
        documents, k, options, _WORKER["vocab_words"], rng,
        sentencepiece=_WORKER["sentencepiece"], counts=counts):
      example = instance_to_example(instance, tokenizer,
                                    options.max_seq_length,
                                    options.max_predictions_per_seq)
      # deterministic=True fixes the order of the feature map, which the
      # byte-identical output depends on.
      serialized.append(example.SerializeToString(deterministic=True))
      counts["tokens"] += len(instance.tokens)
  return serialized, counts


def _split_ranges(count, parts):
  """Splits range(count) into at most parts contiguous (begin, end) ranges."""
  parts = max(1, min(parts, count))
  bounds = [count * k // parts for k in range(parts + 1)]
  return [(bounds[k], bounds[k + 1]) for k in range(parts)
          if bounds[k] < bounds[k + 1]]


def _chunks(iterable, size):
  """Yields lists of up to size consecutive items."""
  iterator = iter(iterable)
  while True:
    chunk = list(itertools.islice(iterator, size))
    if not chunk:
      return
    yield chunk


def _default_start_method():
  """The multiprocessing start method to use by default."""
  # fork starts workers in milliseconds and shares the loaded tokenizer;
  # workers never run TensorFlow ops, so forking a process that imported it
  # is safe. macOS and Windows get spawn, their safe choice.
  if sys.platform.startswith("linux"):
    return "fork"
  return "spawn"


def _exit_description(exitcode):
  """How a process ended, for a message: "exit code -9, killed by SIGKILL"."""
  if exitcode is None:
    return "exit code unknown"
  if exitcode >= 0:
    return "exit code %d" % exitcode
  try:
    name = signal.Signals(-exitcode).name
  except ValueError:
    name = "signal %d" % -exitcode
  text = "exit code %d, killed by %s" % (exitcode, name)
  if -exitcode == signal.SIGKILL:
    text += "; out of memory?"
  return text


class _WorkerPool(object):
  """Worker processes that run tasks in order and fail fast if one dies.

  multiprocessing.Pool replaces a worker that dies (say, at the hands of the
  out-of-memory killer) but never finishes the task it held, so a run would
  wait for it forever. ProcessPoolExecutor notices the death at once and
  fails the pending tasks; map() turns that into a WorkerError.
  """

  def __init__(self, num_workers, start_method, tokenizer, options):
    context = multiprocessing.get_context(start_method)
    self._executor = concurrent.futures.ProcessPoolExecutor(
        num_workers, mp_context=context, initializer=_pool_initializer,
        initargs=(tokenizer, options))
    # Enough queued tasks to keep every worker busy; a bound, so that the
    # results of a whole chunk never pile up in memory.
    self._window = 2 * num_workers

  def _processes(self):
    """The worker processes started so far."""
    # The executor has no public list of its processes (Python 3.14 adds
    # terminate_workers, not a list); without one, close() falls back to
    # what shutdown does, which waits for running tasks.
    return list((getattr(self._executor, "_processes", None) or {}).values())

  def _died(self):
    """A WorkerError saying how the first worker that died ended."""
    processes = self._processes()
    # The executor is broken: it has terminated the other workers, and
    # shutdown waits until all of them are reaped and have exit codes.
    self._executor.shutdown(wait=True, cancel_futures=True)
    ended = [p.exitcode for p in processes if p.exitcode is not None]
    # Once one worker died the executor terminates the others with SIGTERM;
    # the one that ended otherwise is the cause.
    causes = [code for code in ended if code != -signal.SIGTERM] or ended
    how = _exit_description(causes[0] if causes else None)
    return WorkerError(
        "a worker process died (%s) before finishing its task; no output "
        "was written. Fewer --num_workers or a smaller --chunk_size need "
        "less memory." % how)

  def map(self, function, tasks):
    """Yields function(task) for each of tasks, in the order of tasks."""
    pending = collections.deque()
    try:
      for task in tasks:
        pending.append(self._executor.submit(function, task))
        if len(pending) >= self._window:
          yield pending.popleft().result()
      while pending:
        yield pending.popleft().result()
    except concurrent.futures.process.BrokenProcessPool:
      raise self._died() from None
    finally:
      for future in pending:
        future.cancel()

  def close(self):
    """Stops the workers now, even in the middle of a task."""
    for process in self._processes():
      # They hold no files or other state worth a clean exit.
      if process.is_alive():
        process.kill()
    self._executor.shutdown(wait=True, cancel_futures=True)


class _Progress(object):
  """Logs throughput and an ETA from the fraction of input bytes done."""

  def __init__(self, total_bytes, interval):
    self.total_bytes = max(1, total_bytes)
    self.interval = interval
    self.start = time.time()
    self.last = None

  def update(self, documents, instances, bytes_done, force=False):
    """Logs a progress line, at most once per interval unless forced."""
    now = time.time()
    if (not force and self.last is not None and
        now - self.last < self.interval):
      return
    self.last = now
    elapsed = max(now - self.start, 1e-9)
    fraction = min(1.0, bytes_done / self.total_bytes)
    eta = "?" if fraction <= 0 else progress.format_seconds(
        elapsed * (1.0 - fraction) / fraction)
    logging.info(
        "progress: %d documents done (%.1f docs/s), %d instances written, "
        "%.1f%% of input bytes, elapsed %s, ETA %s", documents,
        documents / elapsed, instances, 100.0 * fraction,
        progress.format_seconds(elapsed), eta)


def _located_documents(input_files, stats):
  """Yields (document, (path, line number of each line)) in input order."""
  for document in read_documents(input_files, stats=stats):
    yield document, (stats.document_path, stats.document_lines)


def _generate(input_files, tokenizer, options, num_workers, chunk_size,
              writer, summary, progress_interval, start_method):
  """Reads, tokenizes, makes instances and writes them; fills summary."""
  total_bytes = sum(tf.io.gfile.stat(p).length for p in input_files)
  reporter = _Progress(total_bytes, progress_interval)
  stats = InputStats()
  # Also in this process when there are workers: a vocabulary that cannot
  # work fails here, with its message, rather than inside every worker.
  _init_worker(tokenizer, options)
  pool = None
  if num_workers > 1:
    pool = _WorkerPool(num_workers, start_method or _default_start_method(),
                       tokenizer, options)
    mapper = pool.map
  else:
    mapper = map
  # Several tasks per worker balance the load; the split does not affect the
  # output, which depends only on each document's index.
  tasks_per_pass = 4 * max(1, num_workers)
  try:
    next_index = 0
    bytes_before = 0
    documents_done = 0
    for chunk_index, chunk in enumerate(
        _chunks(_located_documents(input_files, stats), chunk_size)):
      raw_documents = [document for document, _ in chunk]
      locations = [location for _, location in chunk]
      del chunk
      bytes_after = stats.bytes_read
      first_index = next_index
      next_index += len(raw_documents)

      tokenized = []
      batches = [raw_documents[b:e] for b, e in
                 _split_ranges(len(raw_documents), tasks_per_pass)]
      for result in mapper(_tokenize_documents, batches):
        tokenized.extend(result)
      indexes = []
      packed = []
      for offset, (sentences, num_tokens, num_long, first_long) in enumerate(
          tokenized):
        summary.sentences += len(sentences)
        summary.input_tokens += num_tokens
        if num_long:
          summary.long_sentences += num_long
          if summary.first_long_sentence is None:
            path, line_numbers = locations[offset]
            summary.first_long_sentence = "%s:%d" % (
                path, line_numbers[first_long])
        if sentences:
          indexes.append(first_index + offset)
          packed.append(sentences)
      num_documents = len(raw_documents)
      summary.documents += num_documents
      # Only the packed form is needed from here on.
      del raw_documents, locations, tokenized, batches

      ranges = _split_ranges(len(packed), tasks_per_pass)

      def tasks(indexes=indexes, packed=packed, ranges=ranges):
        for dupe in range(options.dupe_factor):
          for begin, end in ranges:
            if options.random_next_sentence:
              # The whole chunk goes along: it is the pool of random
              # documents.
              yield dupe, indexes, packed, begin, end
            else:
              yield (dupe, indexes[begin:end], packed[begin:end], 0,
                     end - begin)

      results = mapper(_make_instances, tasks())
      for dupe in range(options.dupe_factor):
        serialized = []
        for _ in ranges:
          examples, counts = next(results)
          serialized.extend(examples)
          summary.instance_tokens += counts["tokens"]
          summary.unsplittable_segments += counts["unsplittable_segments"]
        stable_rng("shuffle", options.random_seed, dupe,
                   chunk_index).shuffle(serialized)
        for example in serialized:
          writer.write(example)
        summary.instances += len(serialized)
        fraction_of_chunk = (dupe + 1) / options.dupe_factor
        reporter.update(
            documents_done + int(num_documents * fraction_of_chunk),
            summary.instances,
            bytes_before + (bytes_after - bytes_before) * fraction_of_chunk)
      documents_done += num_documents
      bytes_before = bytes_after
    reporter.update(documents_done, summary.instances, total_bytes,
                    force=True)
  finally:
    if pool is not None:
      pool.close()
  summary.skipped_lines = stats.skipped_lines
  summary.first_skipped_line = stats.first_skipped_line


def create_pretraining_data(input_files, output_files, vocab_file=None,
                            spm_model_file=None, do_lower_case=True,
                            options=None, num_workers=1, chunk_size=1000,
                            albert_config_file=None, input_file_mode="r",
                            progress_interval=30.0, start_method=None):
  """Writes pre-training examples for the input text; returns a Summary.

  Args:
    input_files: list of file paths or glob patterns, or one comma-separated
      string of them.
    output_files: list of output paths, or one comma-separated string.
    vocab_file: WordPiece vocabulary, used when spm_model_file is not given.
    spm_model_file: SentencePiece model.
    do_lower_case: lower-case the input.
    options: an Options (defaults: the released flag defaults).
    num_workers: worker processes; 1 does all work in this process. The
      output is the same for every value.
    chunk_size: documents held in memory at a time.
    albert_config_file: optional model config to check the data against.
    input_file_mode: "r" or "rb"; both read bytes (see the module doc).
    progress_interval: seconds between progress log lines.
    start_method: multiprocessing start method; default fork on Linux,
      spawn elsewhere.

  Returns:
    A Summary.

  Raises:
    ValueError: bad arguments or input, reported before any output is
      written. Output files appear only if the whole run succeeds.
    FileError: an input file could not be read or an output written.
    WorkerError: a worker process died.
  """
  start = time.time()
  options = options or Options()
  # The shared rules every ALBERT command applies to these flags, then the
  # ones specific to this tool.
  numeric = dataclasses.asdict(options)
  numeric.update(num_workers=num_workers, chunk_size=chunk_size)
  command_line.check_numeric_flags(numeric)
  options.validate()
  if input_file_mode not in ("r", "rb"):
    raise ValueError('--input_file_mode must be "r" or "rb", got %r' %
                     input_file_mode)
  if chunk_size < 1:
    raise ValueError("--chunk_size must be at least 1, got %d" % chunk_size)
  if num_workers < 1:
    raise ValueError("--num_workers must be at least 1, got %d" % num_workers)
  if not vocab_file and not spm_model_file:
    raise ValueError("no vocabulary: pass --spm_model_file (a SentencePiece "
                     "model) or --vocab_file (a WordPiece vocab.txt)")
  tokenizer = tokenization.FullTokenizer(vocab_file, do_lower_case,
                                         spm_model_file)
  if albert_config_file:
    check_albert_config(albert_config_file, options.max_seq_length,
                        tokenizer)
  paths = resolve_input_files(input_files)
  outputs = _split_list(output_files)
  check_output_files(outputs, paths)

  summary = Summary()
  warning = masking_budget_warning(options.max_seq_length,
                                   options.max_predictions_per_seq,
                                   options.masked_lm_prob)
  if warning:
    logging.warning("%s", warning)
    summary.warnings.append(warning)

  remove_stale_temporary_files(outputs)
  writer = ExampleWriter(outputs)
  try:
    _generate(paths, tokenizer, options, num_workers, chunk_size, writer,
              summary, progress_interval, start_method)
    if summary.long_sentences:
      warning = long_sentence_warning(summary, options.max_seq_length)
      logging.warning("%s", warning)
      summary.warnings.append(warning)
    if summary.documents == 0:
      raise ValueError("no documents in the input (%d skipped lines): %s" %
                       (summary.skipped_lines, ", ".join(paths)))
    writer.commit()
  except BaseException:
    writer.abort()
    raise
  summary.instances_per_file = dict(zip(outputs, writer.counts))
  summary.elapsed_seconds = time.time() - start
  _log_summary(summary)
  return summary


def _log_summary(summary):
  """Logs what a run did."""
  logging.info(
      "Done in %s: %d documents (%d sentences, %d tokens, %d skipped lines) "
      "-> %d instances (%d tokens).",
      progress.format_seconds(summary.elapsed_seconds), summary.documents,
      summary.sentences, summary.input_tokens, summary.skipped_lines,
      summary.instances, summary.instance_tokens)
  for path, count in summary.instances_per_file.items():
    logging.info("  %s: %d instances", path, count)
  if summary.skipped_lines:
    logging.warning("Skipped %d input lines that are not valid UTF-8 (first "
                    "at %s).", summary.skipped_lines,
                    summary.first_skipped_line)
  if summary.unsplittable_segments:
    logging.info("Skipped %d single-token segments that cannot form a "
                 "sentence pair.", summary.unsplittable_segments)
  if summary.instances == 0:
    logging.warning("No instances were written.")


def _error_line(error):
  """One line saying what went wrong, for the command line's last words."""
  if isinstance(error, tf.errors.OpError):
    text = "%s (TensorFlow %s)" % (_error_reason(error),
                                   type(error).__name__)
  elif (isinstance(error, OSError) and not isinstance(error, FileError) and
        error.strerror):
    text = error.strerror
    if error.filename:
      text = "%s: %s" % (error.filename, text)
  else:
    text = str(error) or type(error).__name__
  return " ".join(text.strip().splitlines())


def main(argv):
  """Runs the tool with the command-line flags.

  Bad input, unreadable or unwritable files and a dead worker end the run
  with one line naming the problem and exit code 1; Ctrl-C with one line and
  exit code 130 (SIGTERM: 143). No output is left behind in either case.
  ALBERT_TRACEBACK=1 shows the traceback instead (cli_errors.run_command).
  """
  if len(argv) > 1:
    raise app.UsageError("Unexpected arguments: %s" % " ".join(argv[1:]))
  cli_errors.raise_on_sigterm("terminated by SIGTERM")
  progress.log_each_line_once()
  # The library has already stopped the workers and removed its temporary
  # files when an error or interrupt reaches this; a traceback would only
  # bury that.
  cli_errors.run_command(
      "create_pretraining_data", _run_from_flags, expected=(WorkerError,),
      describe=_error_line, after_interrupt="; no output was written")


def _run_from_flags():
  """create_pretraining_data with the command-line flags."""
  command_line.check_numeric_flags(FLAGS)
  options = Options(
      max_seq_length=FLAGS.max_seq_length,
      max_predictions_per_seq=FLAGS.max_predictions_per_seq,
      masked_lm_prob=FLAGS.masked_lm_prob,
      short_seq_prob=FLAGS.short_seq_prob,
      dupe_factor=FLAGS.dupe_factor,
      ngram=FLAGS.ngram,
      do_whole_word_mask=FLAGS.do_whole_word_mask,
      favor_shorter_ngram=FLAGS.favor_shorter_ngram,
      do_permutation=FLAGS.do_permutation,
      random_next_sentence=FLAGS.random_next_sentence,
      random_seed=FLAGS.random_seed)
  create_pretraining_data(
      FLAGS.input_file, FLAGS.output_file, vocab_file=FLAGS.vocab_file,
      spm_model_file=FLAGS.spm_model_file,
      do_lower_case=FLAGS.do_lower_case, options=options,
      num_workers=FLAGS.num_workers, chunk_size=FLAGS.chunk_size,
      albert_config_file=FLAGS.albert_config_file,
      input_file_mode=FLAGS.input_file_mode)


if __name__ == "__main__":
  define_flags()
  app.run(main)
