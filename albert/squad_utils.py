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
"""SQuAD v1.1 and v2.0: examples, features and answer decoding.

Data flows as in the release:

  read_squad_examples         official JSON (checked by squad_data)
                              -> SquadExample (char offsets)
  convert_examples_to_features
                              SentencePiece pieces, aligned back to the
                              paragraph's characters, cut into overlapping
                              windows -> InputFeatures
  feature_to_tf_example       the TFRecord layout of the release
  write/read_eval_features    the host-side fields decoding needs
  accumulate_predictions_v1/2 + write_predictions_v1/2
                              model scores -> exact paragraph substrings

Differences from the release, all bug fixes:
  * A paragraph whose pieces could not be aligned to its characters was
    skipped even at evaluation, so its questions silently got no answer.
    Evaluation now keeps it with a best-effort alignment (training still
    skips it); both are counted in `stats["alignment_failed"]`.
  * Characters are compared after the same per-character normalisation on
    both sides, so Hangul syllables (NFKD splits them into jamo, the
    SentencePiece model recomposes them), ligatures and tabs or newlines
    align; the release compared them as single characters and never
    matched them.
  * v2: a question is predicted unanswerable iff score_diff > threshold
    (the release used >=, unlike the official evaluation script).
  * Post-processing no longer crashes when no n-best entry has text, and
    questions without any feature still get a prediction.
  * Host-side eval features are JSON lines instead of a pickle, and every
    output is written under a temporary name and renamed.
  * SQuAD files are checked when read (squad_data): a malformed file raises
    SquadDataError naming the file and the question; a bad answer_start
    skips a training question with a warning.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import functools
import gzip
import json
import math
import os
import unicodedata

import numpy as np
import tensorflow.compat.v1 as tf

from albert import input_pipeline
from albert import squad_data
from albert import tokenization

# Individual warnings about bad training questions stop after this many; a
# summary line gives the total.
_MAX_WARNINGS = 5

# The first feature's unique_id, as released.
_FIRST_UNIQUE_ID = 1000000000

# An example is misaligned when its pieces match fewer of its characters.
_MIN_ALIGNED_FRACTION = 0.8


class SquadExample(object):
  """One question about one paragraph.

  Attributes:
    qas_id: the question id (str).
    question_text: the question.
    paragraph_text: the raw paragraph ("context").
    orig_answer_text: training: the answer ("" if impossible); evaluation:
      the first gold answer, or "".
    start_position: training: CHARACTER offset of the answer in
      paragraph_text; -1 when impossible and always at evaluation.
    is_impossible: the question has no answer in the paragraph (v2.0).
    answers: texts of all gold answers (may be empty); only for reading.
  """

  def __init__(self, qas_id, question_text, paragraph_text,
               orig_answer_text="", start_position=-1, is_impossible=False,
               answers=None):
    self.qas_id = qas_id
    self.question_text = question_text
    self.paragraph_text = paragraph_text
    self.orig_answer_text = orig_answer_text
    self.start_position = start_position
    self.is_impossible = is_impossible
    self.answers = list(answers or [])

  def __str__(self):
    return self.__repr__()

  def __repr__(self):
    paragraph = self.paragraph_text
    if len(paragraph) > 60:
      paragraph = paragraph[:57] + "..."
    return ("SquadExample(qas_id=%r, question_text=%r, paragraph_text=%r, "
            "orig_answer_text=%r, start_position=%d, is_impossible=%r, "
            "answers=%r)" % (self.qas_id, self.question_text, paragraph,
                             self.orig_answer_text, self.start_position,
                             self.is_impossible, self.answers))


class InputFeatures(object):
  """One window of one example, as the model sees it.

  Attributes:
    unique_id: int, from 1000000000 upwards, one per window.
    example_index: index of the example in the list that was converted.
    doc_span_index: which window of the example this is.
    tok_start_to_orig_index: for each paragraph piece in the window, the
      character offset in paragraph_text where it starts.
    tok_end_to_orig_index: the same for where it ends (inclusive).
    token_is_max_context: {position in the whole sequence: bool}, for the
      window's paragraph pieces: True where this window gives the piece the
      most context of all windows.
    tokens: the pieces (str) of the whole padded sequence, "[CLS]" first.
    input_ids, input_mask, segment_ids, p_mask: int lists [max_seq_length];
      p_mask is 1 where no answer can be (query, separators, padding).
    paragraph_len: length of the sequence before padding (the release's
      name; it counts [CLS], the query and both [SEP]s too).
    start_position, end_position: training: answer positions in the
      sequence (0, 0 when the window does not hold the answer); None at
      evaluation.
    is_impossible: training: the window holds no answer.
  """

  def __init__(self, unique_id, example_index, doc_span_index,
               tok_start_to_orig_index, tok_end_to_orig_index,
               token_is_max_context, tokens, input_ids, input_mask,
               segment_ids, paragraph_len, p_mask=None, start_position=None,
               end_position=None, is_impossible=None):
    self.unique_id = unique_id
    self.example_index = example_index
    self.doc_span_index = doc_span_index
    self.tok_start_to_orig_index = tok_start_to_orig_index
    self.tok_end_to_orig_index = tok_end_to_orig_index
    self.token_is_max_context = token_is_max_context
    self.tokens = tokens
    self.input_ids = input_ids
    self.input_mask = input_mask
    self.segment_ids = segment_ids
    self.paragraph_len = paragraph_len
    self.p_mask = p_mask
    self.start_position = start_position
    self.end_position = end_position
    self.is_impossible = is_impossible

  def __repr__(self):
    return ("InputFeatures(unique_id=%d, example_index=%r, "
            "doc_span_index=%d, paragraph_len=%d, start_position=%r, "
            "end_position=%r, is_impossible=%r)" %
            (self.unique_id, self.example_index, self.doc_span_index,
             self.paragraph_len, self.start_position, self.end_position,
             self.is_impossible))


# --------------------------------------------------------------------------
# Reading SQuAD files (schema checks in squad_data).
# --------------------------------------------------------------------------

# Kept here too: callers know them as squad_utils names.
SquadDataError = squad_data.SquadDataError
SquadFileNotFoundError = squad_data.SquadFileNotFoundError
read_squad_dataset = squad_data.read_squad_dataset
file_has_answers = squad_data.file_has_answers


def _eval_example(question):
  """A question as evaluation reads it: every gold answer kept."""
  answers = question.answers or []
  return SquadExample(
      qas_id=question.qas_id,
      question_text=question.question_text,
      paragraph_text=question.context,
      orig_answer_text=answers[0][0] if answers else "",
      start_position=-1,
      is_impossible=question.is_impossible,
      answers=[text for text, _ in answers])


def _training_example(input_file, question):
  """A question as training reads it; None if its answer is not found.

  Raises:
    SquadDataError: an answerable question has not exactly one answer, or
      an empty one.
  """
  if question.is_impossible:
    return SquadExample(
        qas_id=question.qas_id,
        question_text=question.question_text,
        paragraph_text=question.context,
        orig_answer_text="",
        start_position=-1,
        is_impossible=True)
  answers = question.answers or []
  if len(answers) != 1:
    raise SquadDataError(
        "%s: %s: training needs exactly 1 answer per answerable question, "
        "found %d" % (input_file, question.where, len(answers)))
  text, start = answers[0]
  if not text:
    raise SquadDataError("%s: %s: the answer text is empty" %
                         (input_file, question.where))
  if start < 0 or question.context[start:start + len(text)] != text:
    return None
  return SquadExample(
      qas_id=question.qas_id,
      question_text=question.question_text,
      paragraph_text=question.context,
      orig_answer_text=text,
      start_position=start,
      is_impossible=False,
      answers=[text])


def read_squad_examples(input_file, is_training, stats=None):
  """Reads a SQuAD JSON file into a list of `SquadExample`, in file order.

  Args:
    input_file: path of an official SQuAD v1.1 or v2.0 JSON file.
    is_training: training needs exactly one answer per answerable question;
      evaluation keeps every question and all its gold answers.
    stats: optional collections.Counter; gets "questions", "impossible"
      (training) and "answer_start_mismatch" (training questions skipped
      because the answer text is not at answer_start).

  Returns:
    list of SquadExample; question ids are str (an integer id becomes its
    decimal string, as predictions.json names it).

  Raises:
    SquadDataError: the file is not valid SQuAD JSON, repeats a question
      id, or (training) an answerable question has not exactly one answer.
  """
  stats = collections.Counter() if stats is None else stats
  data = squad_data.load_json(input_file)
  examples = []
  mismatches = 0
  for question in squad_data.questions(input_file, data):
    stats["questions"] += 1
    if not is_training:
      examples.append(_eval_example(question))
      continue
    example = _training_example(input_file, question)
    if example is None:
      # A few official training answers are off by some characters; one
      # bad question should not stop a whole training run.
      mismatches += 1
      stats["answer_start_mismatch"] += 1
      if mismatches <= _MAX_WARNINGS:
        text, start = question.answers[0]
        tf.logging.warning(
            '%s: %s: answer_start %d does not match the answer text "%s" '
            '(the paragraph has "%s" there); skipping it', input_file,
            question.where, start, text,
            question.context[start:start + len(text)] if start >= 0 else "")
      continue
    if example.is_impossible:
      stats["impossible"] += 1
    examples.append(example)
  if mismatches:
    tf.logging.warning("%s: skipped %d training questions whose answer is "
                       "not at answer_start", input_file, mismatches)
  return examples


# --------------------------------------------------------------------------
# Aligning SentencePiece pieces to paragraph characters.
# --------------------------------------------------------------------------

# Back-pointers of the alignment: where each cell's value came from.
_FROM_NOWHERE = -1
_FROM_UP = 0  # Paragraph character skipped.
_FROM_LEFT = 1  # Piece character skipped.
_FROM_DIAG = 2  # The two characters match.

_Alignment = collections.namedtuple(
    "_Alignment",
    ["tok_start_to_orig_index", "tok_end_to_orig_index",
     "orig_to_chartok_start", "orig_to_chartok_end", "chartok_to_tok_index",
     "matched", "ok"])


@functools.lru_cache(maxsize=1 << 16)
def _normalise_char(char, lower):
  """One character as preprocess_text sees it; may be 0, 1 or more chars."""
  # The pieces hold a space wherever the paragraph has any whitespace run.
  if char.isspace():
    return " "
  # SentencePiece drops control and format characters (or turns them into
  # spaces); they have nothing to match.
  if unicodedata.category(char) in ("Cc", "Cf"):
    return ""
  return tokenization.preprocess_text(char, remove_space=False, lower=lower)


def _expand(text, lower):
  """Normalises text char by char, remembering where each char came from.

  Args:
    text: str of length n.
    lower: lower-case.

  Returns:
    (codes, owners): int32 [n'] code points of the normalised characters,
    and int [n'] index in `text` of the character each came from. A
    whitespace run gives one space, from its first character.
  """
  codes = []
  owners = []
  after_space = False
  for index, char in enumerate(text):
    normalised = _normalise_char(char, lower)
    if normalised == " ":
      # preprocess_text folds a whitespace run into one space; the rest of
      # the run has nothing to match and would only count as a mismatch.
      if after_space:
        continue
      after_space = True
    elif normalised:
      after_space = False
    for normalised_char in normalised:
      codes.append(ord(normalised_char))
      owners.append(index)
  return np.array(codes, dtype=np.int32), owners


def _banded_lcs(a, b, max_dist):
  """Longest common subsequence of a and b within a diagonal band.

  Row i only considers columns j in [i - max_dist, i + max_dist): pieces
  and paragraph differ by little, so the band keeps the cost near
  O(n * max_dist). Ties are broken as in the release (skip a paragraph
  char, then a piece char, then match), so the same pairs come out.

  Args:
    a: int32 [n] code points of the paragraph.
    b: int32 [m] code points of the concatenated pieces.
    max_dist: half-width of the band.

  Returns:
    (score, pairs): the value of the last cell (n-1, m-1), 0 when it is
    outside the band, and the matched (i, j) index pairs in increasing
    order, traced back from that cell.
  """
  n, m = len(a), len(b)
  if n == 0 or m == 0:
    return 0, []
  # Back-pointers only for the band: column k of row i is j = i - max_dist
  # + k. A band wider than the matrix is stored unshifted.
  banded = 2 * max_dist < m
  width = 2 * max_dist if banded else m
  moves = np.full((n, width), _FROM_NOWHERE, dtype=np.int8)
  # prev[j + 1] = f[i - 1, j] and prev[0] = 0 stands for j = -1; cells
  # outside a row's band are 0, as in the release's zero-filled matrix.
  prev = np.zeros(m + 1, dtype=np.int32)
  cur = np.zeros(m + 1, dtype=np.int32)
  for i in range(n):
    cur.fill(0)
    lo, hi = max(i - max_dist, 0), min(i + max_dist, m)
    if lo < hi:
      if i > 0:
        up = prev[lo + 1:hi + 1]
        diag_base = prev[lo:hi]
      else:
        up = np.zeros(hi - lo, dtype=np.int32)
        diag_base = up
      match = b[lo:hi] == a[i]
      diag = np.where(match, diag_base + 1, -1)
      row = np.maximum.accumulate(np.maximum(up, diag))
      left = np.empty_like(row)
      left[1:] = row[:-1]
      # Left of the band is a zero cell; left of column 0 is nothing.
      left[0] = 0 if lo > 0 else -1
      move = np.where(left > up, _FROM_LEFT,
                      _FROM_UP if i > 0 else _FROM_NOWHERE)
      move = np.where(match & (diag > np.maximum(up, left)), _FROM_DIAG,
                      move)
      cur[lo + 1:hi + 1] = row
      offset = lo - (i - max_dist) if banded else lo
      moves[i, offset:offset + hi - lo] = move
    prev, cur = cur, prev
  score = int(prev[m])

  pairs = []
  i, j = n - 1, m - 1
  while i >= 0 and j >= 0:
    k = j - (i - max_dist) if banded else j
    if k < 0 or k >= width:
      break
    move = moves[i, k]
    if move == _FROM_DIAG:
      pairs.append((i, j))
      i, j = i - 1, j - 1
    elif move == _FROM_LEFT:
      j -= 1
    elif move == _FROM_UP:
      i -= 1
    else:
      break
  pairs.reverse()
  return score, pairs


def _lcs_match(a, b):
  """Runs the banded LCS, widening the band once if it matched too little.

  Args:
    a: int32 [n] paragraph code points.
    b: int32 [m] piece code points.

  Returns:
    (score, pairs) as `_banded_lcs`.
  """
  n, m = len(a), len(b)
  max_dist = abs(n - m) + 5
  for _ in range(2):
    score, pairs = _banded_lcs(a, b, max_dist)
    if score > _MIN_ALIGNED_FRACTION * n:
      break
    max_dist *= 2
  return score, pairs


def _convert_index(index, pos, m=None, is_start=True):
  """Maps pos through index, filling an unaligned pos from its neighbours.

  An unaligned start takes the position just after the nearest aligned one
  before it, an unaligned end the position just before the nearest aligned
  one after it, so a span never grows over a neighbour's characters.

  Args:
    index: list of int or None, e.g. chartok -> orig character.
    pos: position in index.
    m: (optional) length of the target; lets a start after the last
      aligned position move one further, and an end reach m - 1.
    is_start: pos starts a span (else it ends one).

  Returns:
    int position in the target.
  """
  if index[pos] is not None:
    return index[pos]
  n = len(index)
  rear = pos
  while rear < n - 1 and index[rear] is None:
    rear += 1
  front = pos
  while front > 0 and index[front] is None:
    front -= 1
  before, after = index[front], index[rear]
  if before is None and after is None:
    raise ValueError("_convert_index needs at least one aligned position")
  if before is None:
    # Nothing aligned before pos.
    if after >= 1:
      return 0 if is_start else after - 1
    return after
  if after is None:
    # Nothing aligned after pos.
    if m is not None and before < m - 1:
      return before + 1 if is_start else m - 1
    return before
  if after > before + 1:
    return before + 1 if is_start else after - 1
  return after if is_start else before


def _align_paragraph(paragraph_text, para_tokens, do_lower_case):
  """Finds the characters of paragraph_text that every piece came from.

  Args:
    paragraph_text: the raw paragraph, n characters.
    para_tokens: its pieces (str), from encode_pieces(preprocess_text(..)).
    do_lower_case: the tokenizer lower-cases.

  Returns:
    An _Alignment: tok_start/end_to_orig_index (per piece, character
    offsets into paragraph_text), orig_to_chartok_start/end (per paragraph
    character, the first/last aligned character of the joined pieces, or
    None), chartok_to_tok_index (per joined-piece character, its piece),
    matched (characters matched) and ok (matched >= 0.8 of the paragraph's
    normalised characters).
  """
  chartok_to_tok_index = []
  tok_start_to_chartok_index = []
  tok_end_to_chartok_index = []
  char_count = 0
  for tok_index, token in enumerate(para_tokens):
    token = token.replace(tokenization.SPIECE_UNDERLINE, " ")
    chartok_to_tok_index.extend([tok_index] * len(token))
    tok_start_to_chartok_index.append(char_count)
    char_count += len(token)
    tok_end_to_chartok_index.append(char_count - 1)
  tok_cat_text = "".join(para_tokens).replace(tokenization.SPIECE_UNDERLINE,
                                              " ")
  n, m = len(paragraph_text), len(tok_cat_text)

  orig_codes, orig_owners = _expand(paragraph_text, do_lower_case)
  tok_codes, tok_owners = _expand(tok_cat_text, do_lower_case)
  matched, pairs = _lcs_match(orig_codes, tok_codes)
  ok = bool(pairs) and matched >= _MIN_ALIGNED_FRACTION * len(orig_codes)
  if pairs:
    char_pairs = [(orig_owners[i], tok_owners[j]) for i, j in pairs]
  else:
    # Nothing matched: spread the pieces evenly over the paragraph so an
    # evaluation example still gets (poor) answers instead of none.
    char_pairs = [(j * n // m, j) for j in range(m)] if n and m else []

  # One paragraph character can stand for several piece characters and
  # back (ligatures, Hangul syllables); starts take the first, ends the last.
  orig_to_chartok_start = [None] * n
  orig_to_chartok_end = [None] * n
  chartok_to_orig_start = [None] * m
  chartok_to_orig_end = [None] * m
  for orig, chartok in char_pairs:
    if orig_to_chartok_start[orig] is None:
      orig_to_chartok_start[orig] = chartok
    orig_to_chartok_end[orig] = chartok
    if chartok_to_orig_start[chartok] is None:
      chartok_to_orig_start[chartok] = orig
    chartok_to_orig_end[chartok] = orig

  tok_start_to_orig_index = []
  tok_end_to_orig_index = []
  if char_pairs:
    for tok_index in range(len(para_tokens)):
      tok_start_to_orig_index.append(_convert_index(
          chartok_to_orig_start, tok_start_to_chartok_index[tok_index], n,
          is_start=True))
      tok_end_to_orig_index.append(_convert_index(
          chartok_to_orig_end, tok_end_to_chartok_index[tok_index], n,
          is_start=False))
  return _Alignment(tok_start_to_orig_index, tok_end_to_orig_index,
                    orig_to_chartok_start, orig_to_chartok_end,
                    chartok_to_tok_index, matched, ok)


# --------------------------------------------------------------------------
# Windows and features.
# --------------------------------------------------------------------------

_DocSpan = collections.namedtuple("DocSpan", ["start", "length"])


def _doc_spans(num_tokens, max_tokens_for_doc, doc_stride):
  """Overlapping windows over the paragraph's pieces.

  Args:
    num_tokens: pieces in the paragraph.
    max_tokens_for_doc: most pieces a window holds.
    doc_stride: how far the next window starts after this one.

  Returns:
    list of _DocSpan(start, length); the last one reaches the end.
  """
  doc_spans = []
  start = 0
  while start < num_tokens:
    length = min(num_tokens - start, max_tokens_for_doc)
    doc_spans.append(_DocSpan(start=start, length=length))
    if start + length == num_tokens:
      break
    start += min(length, doc_stride)
  return doc_spans


def _max_context_score(doc_span, position):
  """How much context doc_span gives the piece at position (None: outside).

  The smaller side counts, plus a small bonus for longer windows, so that
  every piece has exactly one best window.
  """
  end = doc_span.start + doc_span.length - 1
  if position < doc_span.start or position > end:
    return None
  return (min(position - doc_span.start, end - position) +
          0.01 * doc_span.length)


def _check_is_max_context(doc_spans, cur_span_index, position):
  """True if window cur_span_index gives the piece at position most context.

  Args:
    doc_spans: list of _DocSpan of one example.
    cur_span_index: the window asked about.
    position: index of a piece in the paragraph.

  Returns:
    bool; ties go to the earlier window.
  """
  best_score = None
  best_span_index = None
  for span_index, doc_span in enumerate(doc_spans):
    score = _max_context_score(doc_span, position)
    if score is not None and (best_score is None or score > best_score):
      best_score = score
      best_span_index = span_index
  return cur_span_index == best_span_index


def _best_span_per_token(doc_spans, num_tokens):
  """`_check_is_max_context` for every piece at once.

  Args:
    doc_spans: list of _DocSpan.
    num_tokens: pieces in the paragraph.

  Returns:
    list [num_tokens] of the index of each piece's max-context window.
  """
  best_score = [None] * num_tokens
  best_span = [None] * num_tokens
  for span_index, doc_span in enumerate(doc_spans):
    for position in range(doc_span.start, doc_span.start + doc_span.length):
      score = _max_context_score(doc_span, position)
      if best_score[position] is None or score > best_score[position]:
        best_score[position] = score
        best_span[position] = span_index
  return best_span


def _answer_token_span(example, alignment):
  """Piece indices (start, end) of a training answer, or None.

  Args:
    example: an answerable SquadExample.
    alignment: its _Alignment.

  Returns:
    (tok_start_position, tok_end_position), inclusive, or None when the
    answer maps to an empty or reversed span.
  """
  start = example.start_position
  end = start + len(example.orig_answer_text) - 1
  start_chartok = _convert_index(alignment.orig_to_chartok_start, start,
                                 is_start=True)
  end_chartok = _convert_index(alignment.orig_to_chartok_end, end,
                               is_start=False)
  tok_start = alignment.chartok_to_tok_index[start_chartok]
  tok_end = alignment.chartok_to_tok_index[end_chartok]
  if tok_start > tok_end:
    return None
  return tok_start, tok_end


def convert_examples_to_features(examples, tokenizer, max_seq_length,
                                 doc_stride, max_query_length, is_training,
                                 output_fn, do_lower_case, stats=None):
  """Converts SquadExamples to windows of features, as the release did.

  Each example becomes one or more windows "[CLS] query [SEP] paragraph
  window [SEP]", zero padded to max_seq_length; consecutive windows start
  doc_stride pieces apart. Training windows that do not hold the whole
  answer are kept as impossible (start = end = 0), in v1.1 too.

  Args:
    examples: list of SquadExample.
    tokenizer: tokenization.FullTokenizer with a SentencePiece model.
    max_seq_length: length of every feature; > max_query_length + 3.
    doc_stride: pieces between the starts of consecutive windows.
    max_query_length: queries keep their first this many pieces.
    is_training: compute answer labels; skip unalignable examples.
    output_fn: called with each InputFeatures, in order.
    do_lower_case: lower-case (must match the tokenizer's model).
    stats: optional collections.Counter; gets "features",
      "query_truncated", "alignment_failed", "answer_not_aligned" and
      "empty_paragraph".

  Returns:
    Number of features passed to output_fn.

  Raises:
    ValueError: no SentencePiece model, or max_seq_length too small.
  """
  stats = collections.Counter() if stats is None else stats
  sp_model = getattr(tokenizer, "sp_model", None)
  if sp_model is None:
    raise ValueError("SQuAD needs a SentencePiece tokenizer (spm_model_file);"
                     " this tokenizer has none.")
  if max_seq_length <= max_query_length + 3:
    raise ValueError(
        "max_seq_length (%d) must be greater than max_query_length (%d) + 3,"
        " to leave room for [CLS], two [SEP]s and the paragraph." %
        (max_seq_length, max_query_length))
  if doc_stride <= 0:
    raise ValueError("doc_stride must be positive, got %d" % doc_stride)
  cls_id = sp_model.PieceToId("[CLS]")
  sep_id = sp_model.PieceToId("[SEP]")
  if sp_model.IsUnknown(cls_id) or sp_model.IsUnknown(sep_id):
    raise ValueError("The SentencePiece model has no [CLS] or [SEP] piece; "
                     "ALBERT models are trained with both.")

  unique_id = _FIRST_UNIQUE_ID
  num_features = 0
  for example_index, example in enumerate(examples):
    query_ids = tokenization.encode_ids(
        sp_model, tokenization.preprocess_text(example.question_text,
                                               lower=do_lower_case))
    if len(query_ids) > max_query_length:
      stats["query_truncated"] += 1
      query_ids = query_ids[:max_query_length]

    para_tokens = tokenization.encode_pieces(
        sp_model, tokenization.preprocess_text(example.paragraph_text,
                                               lower=do_lower_case))
    if not para_tokens:
      stats["empty_paragraph"] += 1
      tf.logging.warning('Question id "%s": the paragraph has no text; it '
                         'gets no features', example.qas_id)
      continue
    alignment = _align_paragraph(example.paragraph_text, para_tokens,
                                 do_lower_case)
    if not alignment.ok:
      stats["alignment_failed"] += 1
      tf.logging.warning(
          'Question id "%s": the pieces match only %d of the paragraph\'s '
          '%d characters; %s', example.qas_id, alignment.matched,
          len(example.paragraph_text),
          "skipping it" if is_training else
          "answers may be off by some characters")
      if is_training:
        continue

    tok_start_position = tok_end_position = None
    if is_training and not example.is_impossible:
      answer_span = _answer_token_span(example, alignment)
      if answer_span is None:
        stats["answer_not_aligned"] += 1
        tf.logging.warning('Question id "%s": the answer "%s" maps to no '
                           'piece; skipping it', example.qas_id,
                           example.orig_answer_text)
        continue
      tok_start_position, tok_end_position = answer_span

    doc_ids = [sp_model.PieceToId(piece) for piece in para_tokens]
    max_tokens_for_doc = max_seq_length - len(query_ids) - 3
    doc_spans = _doc_spans(len(doc_ids), max_tokens_for_doc, doc_stride)
    best_span = _best_span_per_token(doc_spans, len(doc_ids))
    doc_offset = len(query_ids) + 2

    for doc_span_index, doc_span in enumerate(doc_spans):
      doc_end = doc_span.start + doc_span.length  # Exclusive.
      input_ids = [cls_id] + query_ids + [sep_id]
      token_is_max_context = {}
      for position in range(doc_span.start, doc_end):
        token_is_max_context[len(input_ids)] = (
            best_span[position] == doc_span_index)
        input_ids.append(doc_ids[position])
      input_ids.append(sep_id)
      paragraph_len = len(input_ids)
      segment_ids = [0] * doc_offset + [1] * (doc_span.length + 1)
      p_mask = [0] + [1] * (len(query_ids) + 1) + [0] * doc_span.length + [1]
      input_mask = [1] * paragraph_len
      padding = max_seq_length - paragraph_len
      input_ids += [0] * padding
      input_mask += [0] * padding
      segment_ids += [0] * padding
      p_mask += [1] * padding

      start_position = end_position = None
      span_is_impossible = example.is_impossible
      if is_training:
        if (not example.is_impossible and
            doc_span.start <= tok_start_position and
            tok_end_position < doc_end):
          start_position = tok_start_position - doc_span.start + doc_offset
          end_position = tok_end_position - doc_span.start + doc_offset
        else:
          start_position = end_position = 0
          span_is_impossible = True

      feature = InputFeatures(
          unique_id=unique_id,
          example_index=example_index,
          doc_span_index=doc_span_index,
          tok_start_to_orig_index=(
              alignment.tok_start_to_orig_index[doc_span.start:doc_end]),
          tok_end_to_orig_index=(
              alignment.tok_end_to_orig_index[doc_span.start:doc_end]),
          token_is_max_context=token_is_max_context,
          tokens=[sp_model.IdToPiece(i) for i in input_ids],
          input_ids=input_ids,
          input_mask=input_mask,
          segment_ids=segment_ids,
          paragraph_len=paragraph_len,
          p_mask=p_mask,
          start_position=start_position,
          end_position=end_position,
          is_impossible=bool(span_is_impossible))
      if num_features < 3:
        _log_feature(feature, example)
      output_fn(feature)
      unique_id += 1
      num_features += 1
      stats["features"] += 1
  for name in ("alignment_failed", "query_truncated", "answer_not_aligned"):
    if stats[name]:
      tf.logging.info("SQuAD conversion: %s: %d", name, stats[name])
  return num_features


def _log_feature(feature, example):
  """Logs one feature so a run's log shows what the model is fed."""
  tf.logging.info("*** Example ***")
  tf.logging.info("unique_id: %d  example_index: %d  doc_span_index: %d",
                  feature.unique_id, feature.example_index,
                  feature.doc_span_index)
  tf.logging.info("tokens: %s",
                  " ".join(feature.tokens[:feature.paragraph_len]))
  if feature.start_position is not None and not feature.is_impossible:
    doc_offset = feature.tokens.index("[SEP]") + 1
    start = feature.tok_start_to_orig_index[feature.start_position -
                                            doc_offset]
    end = feature.tok_end_to_orig_index[feature.end_position - doc_offset]
    tf.logging.info("start_position: %d  end_position: %d  answer: %s",
                    feature.start_position, feature.end_position,
                    example.paragraph_text[start:end + 1])
  elif feature.start_position is not None:
    tf.logging.info("impossible window")


# --------------------------------------------------------------------------
# TFRecords and host-side features.
# --------------------------------------------------------------------------


def feature_to_tf_example(feature, is_training):
  """InputFeatures -> serialized tf.train.Example (the release's layout).

  Args:
    feature: InputFeatures.
    is_training: add the labels start_positions, end_positions and
      is_impossible.

  Returns:
    bytes.
  """
  features = collections.OrderedDict()
  features["unique_ids"] = input_pipeline.int64_feature([feature.unique_id])
  features["input_ids"] = input_pipeline.int64_feature(feature.input_ids)
  features["input_mask"] = input_pipeline.int64_feature(feature.input_mask)
  features["segment_ids"] = input_pipeline.int64_feature(feature.segment_ids)
  features["p_mask"] = input_pipeline.int64_feature(feature.p_mask)
  if is_training:
    features["start_positions"] = input_pipeline.int64_feature(
        [feature.start_position])
    features["end_positions"] = input_pipeline.int64_feature(
        [feature.end_position])
    features["is_impossible"] = input_pipeline.int64_feature(
        [int(bool(feature.is_impossible))])
  return tf.train.Example(
      features=tf.train.Features(feature=features)).SerializeToString()


def name_to_features(seq_length, is_training):
  """The parsing spec of `feature_to_tf_example`'s records."""
  spec = {
      "unique_ids": tf.FixedLenFeature([], tf.int64),
      "input_ids": tf.FixedLenFeature([seq_length], tf.int64),
      "input_mask": tf.FixedLenFeature([seq_length], tf.int64),
      "segment_ids": tf.FixedLenFeature([seq_length], tf.int64),
      "p_mask": tf.FixedLenFeature([seq_length], tf.int64),
  }
  if is_training:
    spec["start_positions"] = tf.FixedLenFeature([], tf.int64)
    spec["end_positions"] = tf.FixedLenFeature([], tf.int64)
    spec["is_impossible"] = tf.FixedLenFeature([], tf.int64)
  return spec


def input_fn_builder(input_file, seq_length, is_training, drop_remainder,
                     use_tpu, bsz, is_v2):
  """Creates an `input_fn` closure over a SQuAD TFRecord file.

  Args:
    input_file: TFRecord of `feature_to_tf_example` records.
    seq_length: max_seq_length of the file.
    is_training: parse labels, repeat forever and shuffle (buffer 100).
    drop_remainder: drop a last partial batch (TPU).
    use_tpu: take the batch size from params["batch_size"] (per core).
    bsz: batch size when not on TPU.
    is_v2: keep "p_mask" (only the v2 head masks positions).

  Returns:
    input_fn(params) -> tf.data.Dataset of dicts of int32 tensors:
    unique_ids [B], input_ids/input_mask/segment_ids(/p_mask) [B, L], and
    when training start_positions, end_positions, is_impossible [B].
  """
  spec = name_to_features(seq_length, is_training)
  if not is_v2:
    del spec["p_mask"]
  inner = input_pipeline.file_based_input_fn_builder(
      input_file, spec, is_training=is_training,
      drop_remainder=drop_remainder, shuffle_buffer_size=100)

  def input_fn(params):
    """The actual input function."""
    params = dict(params or {})
    if not use_tpu:
      params["batch_size"] = bsz
    return inner(params)

  return input_fn


# Fields of InputFeatures that post-processing needs on the host.
_HOST_FIELDS = ("unique_id", "example_index", "doc_span_index", "tokens",
                "token_is_max_context", "tok_start_to_orig_index",
                "tok_end_to_orig_index", "paragraph_len")


def _write_atomically(path, write_fn):
  """Calls write_fn(binary file) on a temporary file, then renames it.

  A ".gz" path is gzip-compressed. The temporary name is hidden and in the
  same directory (see input_pipeline.temporary_path), so no partial file
  ever has the final name and no user glob picks one up.

  Args:
    path: the final file.
    write_fn: fn(writer) writing bytes with writer.write.
  """
  tf.io.gfile.makedirs(os.path.dirname(path) or ".")
  tmp_path = input_pipeline.temporary_path(path)
  try:
    with tf.io.gfile.GFile(tmp_path, "wb") as raw:
      if path.endswith(".gz"):
        # No file name and mtime 0 in the header: same bytes every run.
        with gzip.GzipFile(filename="", fileobj=raw, mode="wb",
                           mtime=0) as writer:
          write_fn(writer)
      else:
        write_fn(raw)
    tf.io.gfile.rename(tmp_path, path, overwrite=True)
  except BaseException:
    if tf.io.gfile.exists(tmp_path):
      tf.io.gfile.remove(tmp_path)
    raise


def write_eval_features(path, features):
  """Writes the host-side fields of eval features as JSON lines, atomically.

  The release pickled the features; JSON cannot run code when read and
  does not depend on module paths. A path ending in ".gz" is compressed.

  Args:
    path: output file.
    features: iterable of InputFeatures.

  Returns:
    Number of features written.
  """
  count = [0]

  def write(writer):
    for feature in features:
      record = {name: getattr(feature, name) for name in _HOST_FIELDS}
      record["token_is_max_context"] = {
          str(k): bool(v) for k, v in feature.token_is_max_context.items()}
      writer.write((json.dumps(record, ensure_ascii=False) + "\n")
                   .encode("utf-8"))
      count[0] += 1

  _write_atomically(path, write)
  return count[0]


def read_eval_features(path):
  """Reads `write_eval_features` output back into InputFeatures.

  Args:
    path: the file (".gz" for compressed).

  Returns:
    list of InputFeatures; input_ids, input_mask, segment_ids, p_mask and
    the labels are None.

  Raises:
    SquadDataError: a line is not JSON or lacks a field.
  """
  if not tf.io.gfile.exists(path):
    raise SquadFileNotFoundError("%s: file not found" % path)
  with tf.io.gfile.GFile(path, "rb") as raw:
    data = raw.read()
  if path.endswith(".gz"):
    data = gzip.decompress(data)
  features = []
  for line_number, line in enumerate(data.decode("utf-8").splitlines(), 1):
    if not line.strip():
      continue
    try:
      record = json.loads(line)
    except json.JSONDecodeError as e:
      raise SquadDataError("%s: line %d: not valid JSON: %s" %
                           (path, line_number, e.msg))
    missing = [name for name in _HOST_FIELDS if name not in record]
    if missing:
      raise SquadDataError("%s: line %d: missing %s" %
                           (path, line_number, ", ".join(missing)))
    features.append(InputFeatures(
        unique_id=record["unique_id"],
        example_index=record["example_index"],
        doc_span_index=record["doc_span_index"],
        tok_start_to_orig_index=record["tok_start_to_orig_index"],
        tok_end_to_orig_index=record["tok_end_to_orig_index"],
        # JSON object keys are strings; positions are ints.
        token_is_max_context={
            int(k): v for k, v in record["token_is_max_context"].items()},
        tokens=record["tokens"],
        input_ids=None,
        input_mask=None,
        segment_ids=None,
        paragraph_len=record["paragraph_len"]))
  return features


# --------------------------------------------------------------------------
# Post-processing.
# --------------------------------------------------------------------------

# v1: start_log_prob and end_log_prob are the start and end LOGITS
# [max_seq_length], despite their (released) names.
RawResult = collections.namedtuple(
    "RawResult", ["unique_id", "start_log_prob", "end_log_prob"])

# v2: start_top_log_probs/start_top_index [start_n_top];
# end_top_log_probs/end_top_index [start_n_top * end_n_top], entry
# i * end_n_top + j being the j-th end for the i-th start; cls_logits a
# scalar (higher = more likely unanswerable).
RawResultV2 = collections.namedtuple(
    "RawResultV2",
    ["unique_id", "start_top_log_probs", "start_top_index",
     "end_top_log_probs", "end_top_index", "cls_logits"])

_PrelimPrediction = collections.namedtuple(
    "PrelimPrediction",
    ["feature_index", "start_index", "end_index", "start_log_prob",
     "end_log_prob"])

_NbestPrediction = collections.namedtuple(
    "NbestPrediction", ["text", "start_log_prob", "end_log_prob"])


def _get_best_indexes(logits, n_best_size):
  """Indices of the n_best_size largest logits, best first (ties: lower)."""
  ranked = sorted(enumerate(logits), key=lambda x: x[1], reverse=True)
  return [index for index, _ in ranked[:n_best_size]]


def _compute_softmax(scores):
  """Softmax of a list of floats, as a list of floats (empty for empty)."""
  if not scores:
    return []
  max_score = max(scores)
  exps = [math.exp(score - max_score) for score in scores]
  total = sum(exps)
  return [x / total for x in exps]


def _group_features(all_features):
  """{example_index: [features, in order]}."""
  example_index_to_features = collections.defaultdict(list)
  for feature in all_features:
    example_index_to_features[feature.example_index].append(feature)
  return example_index_to_features


def _results_by_id(all_results):
  """{unique_id (int): result}."""
  return {int(result.unique_id): result for result in all_results}


def _doc_offset(feature):
  """Position of the first paragraph piece: just after the first [SEP]."""
  return feature.tokens.index("[SEP]") + 1


def _valid_span(feature, start_index, end_index, doc_offset,
                max_answer_length):
  """True if (start_index, end_index) may be an answer in this window.

  Both must lie in the window's paragraph pieces, the window must give the
  start its maximum context (which also rules out [CLS] and the query), the
  end must not come before the start, and the span must have at most
  max_answer_length pieces.
  """
  num_doc_tokens = len(feature.tok_start_to_orig_index)
  if not 0 <= start_index - doc_offset < num_doc_tokens:
    return False
  if not 0 <= end_index - doc_offset < num_doc_tokens:
    return False
  if not feature.token_is_max_context.get(start_index, False):
    return False
  if end_index < start_index:
    return False
  return end_index - start_index + 1 <= max_answer_length


def _add_span(result_dict, example_index, unique_id, start_idx, end_idx,
              start_log_prob, end_log_prob):
  """Records one candidate's scores; repeats (ensembles) are averaged."""
  spans = result_dict[example_index][unique_id]
  spans.setdefault((start_idx, end_idx), []).append(
      (float(start_log_prob), float(end_log_prob)))


def _missing_results_warning(num_missing):
  """Logs features that had no model output (e.g. a truncated predict)."""
  if num_missing:
    tf.logging.warning("%d features have no model result; their windows "
                       "give no answers", num_missing)


def accumulate_predictions_v1(result_dict, all_examples, all_features,
                              all_results, n_best_size, max_answer_length):
  """Collects candidate answer spans from v1 logits into result_dict.

  For every window the n_best_size best starts and ends are paired; valid
  pairs (see _valid_span) are stored as
  result_dict[example_index][unique_id][(start, end)] = [(start logit,
  end logit), ...], with start/end indices into the window's paragraph
  pieces. Calling it again (another model of an ensemble) appends scores,
  which write_predictions_v1 averages.

  Args:
    result_dict: dict, updated in place.
    all_examples: list of SquadExample.
    all_features: list of InputFeatures of those examples.
    all_results: iterable of RawResult (logits [max_seq_length]).
    n_best_size: starts and ends considered per window.
    max_answer_length: longest answer, in pieces.
  """
  example_index_to_features = _group_features(all_features)
  unique_id_to_result = _results_by_id(all_results)
  missing = 0
  for example_index in range(len(all_examples)):
    example_results = result_dict.setdefault(example_index, {})
    for feature in example_index_to_features[example_index]:
      example_results.setdefault(feature.unique_id, {})
      result = unique_id_to_result.get(feature.unique_id)
      if result is None:
        missing += 1
        continue
      doc_offset = _doc_offset(feature)
      start_indexes = _get_best_indexes(result.start_log_prob, n_best_size)
      end_indexes = _get_best_indexes(result.end_log_prob, n_best_size)
      for start_index in start_indexes:
        for end_index in end_indexes:
          if not _valid_span(feature, start_index, end_index, doc_offset,
                             max_answer_length):
            continue
          _add_span(result_dict, example_index, feature.unique_id,
                    start_index - doc_offset, end_index - doc_offset,
                    result.start_log_prob[start_index],
                    result.end_log_prob[end_index])
  _missing_results_warning(missing)


def _nbest(example, features, result_dict, example_index, n_best_size):
  """The n-best distinct answer texts of one example, best first.

  Args:
    example: SquadExample.
    features: its InputFeatures.
    result_dict: filled by accumulate_predictions_v1/v2.
    example_index: the example's index.
    n_best_size: longest list.

  Returns:
    list of _NbestPrediction (may be empty).
  """
  prelim_predictions = []
  example_results = result_dict.get(example_index, {})
  for feature_index, feature in enumerate(features):
    spans = example_results.get(feature.unique_id, {})
    for (start_idx, end_idx), scores in spans.items():
      prelim_predictions.append(_PrelimPrediction(
          feature_index=feature_index,
          start_index=start_idx,
          end_index=end_idx,
          start_log_prob=sum(s for s, _ in scores) / len(scores),
          end_log_prob=sum(e for _, e in scores) / len(scores)))
  # sorted() is stable: equal scores keep window and candidate order.
  prelim_predictions = sorted(
      prelim_predictions, key=lambda x: x.start_log_prob + x.end_log_prob,
      reverse=True)

  seen_texts = set()
  nbest = []
  for pred in prelim_predictions:
    if len(nbest) >= n_best_size:
      break
    feature = features[pred.feature_index]
    start_orig = feature.tok_start_to_orig_index[pred.start_index]
    end_orig = feature.tok_end_to_orig_index[pred.end_index]
    # An exact substring of the paragraph: SentencePiece pieces map back to
    # characters, so no text repair (BERT's get_final_text) is needed.
    text = example.paragraph_text[start_orig:end_orig + 1].strip()
    if text in seen_texts:
      continue
    seen_texts.add(text)
    nbest.append(_NbestPrediction(text=text,
                                  start_log_prob=pred.start_log_prob,
                                  end_log_prob=pred.end_log_prob))
  return nbest


def _nbest_json(nbest):
  """n-best entries as JSON-ready dicts with softmax probabilities."""
  probs = _compute_softmax([e.start_log_prob + e.end_log_prob for e in nbest])
  output = []
  for entry, prob in zip(nbest, probs):
    item = collections.OrderedDict()
    item["text"] = entry.text
    item["probability"] = float(prob)
    item["start_log_prob"] = float(entry.start_log_prob)
    item["end_log_prob"] = float(entry.end_log_prob)
    output.append(item)
  return output


def _write_json(path, value):
  """Writes value as JSON (indent 4) atomically; nothing if path is None."""
  if path is None:
    return
  text = json.dumps(value, indent=4) + "\n"
  _write_atomically(path, lambda writer: writer.write(text.encode("utf-8")))


def write_predictions_v1(result_dict, all_examples, all_features,
                         all_results, n_best_size, max_answer_length,
                         output_prediction_file, output_nbest_file):
  """Turns accumulated v1 candidates into answers (never null).

  Args:
    result_dict: from accumulate_predictions_v1.
    all_examples: list of SquadExample.
    all_features: list of InputFeatures.
    all_results: unused (the scores are in result_dict); kept for the
      release's signature.
    n_best_size: length of each n-best list.
    max_answer_length: unused (applied when accumulating).
    output_prediction_file: predictions.json path, or None.
    output_nbest_file: nbest_predictions.json path, or None.

  Returns:
    (all_predictions, all_nbest_json): OrderedDicts qas_id -> answer text,
    and qas_id -> list of {text, probability, start_log_prob,
    end_log_prob}. A question with no valid span gets "empty".
  """
  del all_results, max_answer_length
  example_index_to_features = _group_features(all_features)
  all_predictions = collections.OrderedDict()
  all_nbest_json = collections.OrderedDict()
  for example_index, example in enumerate(all_examples):
    nbest = _nbest(example, example_index_to_features[example_index],
                   result_dict, example_index, n_best_size)
    if not nbest:
      # Rare (e.g. every top start outside max context); v1 must answer.
      nbest.append(_NbestPrediction(text="empty", start_log_prob=0.0,
                                    end_log_prob=0.0))
    best = next((entry.text for entry in nbest if entry.text), "empty")
    all_predictions[example.qas_id] = best
    all_nbest_json[example.qas_id] = _nbest_json(nbest)
  _write_json(output_prediction_file, all_predictions)
  _write_json(output_nbest_file, all_nbest_json)
  return all_predictions, all_nbest_json


def accumulate_predictions_v2(result_dict, cls_dict, all_examples,
                              all_features, all_results, n_best_size,
                              max_answer_length, start_n_top, end_n_top):
  """Collects candidate spans and null scores from v2 beam outputs.

  Like accumulate_predictions_v1, with the start_n_top x end_n_top beam of
  the v2 head in place of the n-best lists. cls_dict[example_index] gets
  one value per call: the smallest cls_logits over the example's windows
  (the window most sure an answer exists decides). write_predictions_v2
  averages the values of repeated calls (ensembles). This is our reading
  of the release, which appended the min per call and averaged at the end.

  Args:
    result_dict: dict, updated in place.
    cls_dict: dict, updated in place.
    all_examples: list of SquadExample.
    all_features: list of InputFeatures.
    all_results: iterable of RawResultV2.
    n_best_size: unused (the beam sizes decide); release signature.
    max_answer_length: longest answer, in pieces.
    start_n_top: starts in the beam.
    end_n_top: ends per start in the beam.
  """
  del n_best_size
  example_index_to_features = _group_features(all_features)
  unique_id_to_result = _results_by_id(all_results)
  missing = 0
  for example_index in range(len(all_examples)):
    example_results = result_dict.setdefault(example_index, {})
    # Large and positive: an example without windows is certainly null.
    score_null = 1000000.0
    for feature in example_index_to_features[example_index]:
      example_results.setdefault(feature.unique_id, {})
      result = unique_id_to_result.get(feature.unique_id)
      if result is None:
        missing += 1
        continue
      score_null = min(score_null, float(result.cls_logits))
      doc_offset = _doc_offset(feature)
      for i in range(start_n_top):
        start_index = int(result.start_top_index[i])
        for j in range(end_n_top):
          beam_index = i * end_n_top + j
          end_index = int(result.end_top_index[beam_index])
          if not _valid_span(feature, start_index, end_index, doc_offset,
                             max_answer_length):
            continue
          _add_span(result_dict, example_index, feature.unique_id,
                    start_index - doc_offset, end_index - doc_offset,
                    result.start_top_log_probs[i],
                    result.end_top_log_probs[beam_index])
    cls_dict.setdefault(example_index, []).append(score_null)
  _missing_results_warning(missing)


def write_predictions_v2(result_dict, cls_dict, all_examples, all_features,
                         all_results, n_best_size, max_answer_length,
                         output_prediction_file, output_nbest_file,
                         output_null_log_odds_file,
                         null_score_diff_threshold):
  """Turns accumulated v2 candidates and null scores into answers.

  Args:
    result_dict: from accumulate_predictions_v2.
    cls_dict: from accumulate_predictions_v2.
    all_examples: list of SquadExample.
    all_features: list of InputFeatures.
    all_results: unused; release signature.
    n_best_size: length of each n-best list.
    max_answer_length: unused (applied when accumulating).
    output_prediction_file: predictions.json path, or None.
    output_nbest_file: nbest_predictions.json path, or None.
    output_null_log_odds_file: null_odds.json path ({qas_id: score_diff}),
      or None.
    null_score_diff_threshold: a question is answered "" (null) iff
      score_diff > this; None never predicts null.

  Returns:
    (all_predictions, all_nbest_json, scores_diff_json): OrderedDicts keyed
    by qas_id of the answer text, the n-best lists and score_diff (the mean
    of cls_dict[example_index]).
  """
  del all_results, max_answer_length
  example_index_to_features = _group_features(all_features)
  all_predictions = collections.OrderedDict()
  all_nbest_json = collections.OrderedDict()
  scores_diff_json = collections.OrderedDict()
  for example_index, example in enumerate(all_examples):
    nbest = _nbest(example, example_index_to_features[example_index],
                   result_dict, example_index, n_best_size)
    if not nbest:
      nbest.append(_NbestPrediction(text="", start_log_prob=-1e6,
                                    end_log_prob=-1e6))
    best_text = next((entry.text for entry in nbest if entry.text), "")
    null_scores = cls_dict.get(example_index) or [1000000.0]
    score_diff = float(sum(null_scores) / len(null_scores))
    scores_diff_json[example.qas_id] = score_diff
    # Strictly greater: the official v2 script scores a question as null
    # when na_prob > threshold, and find_best_thresh assumes the same.
    if (null_score_diff_threshold is not None and
        score_diff > null_score_diff_threshold):
      all_predictions[example.qas_id] = ""
    else:
      all_predictions[example.qas_id] = best_text
    all_nbest_json[example.qas_id] = _nbest_json(nbest)
  _write_json(output_prediction_file, all_predictions)
  _write_json(output_nbest_file, all_nbest_json)
  _write_json(output_null_log_odds_file, scores_diff_json)
  return all_predictions, all_nbest_json, scores_diff_json
