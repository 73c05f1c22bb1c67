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
"""SQuAD features: SentencePiece windows of a question and its paragraph.

  convert_examples_to_features
                      SquadExample -> InputFeatures: the question's and the
                      paragraph's pieces, the pieces aligned back to the
                      paragraph's characters (a banded LCS over normalised
                      characters), cut into overlapping windows of
                      max_seq_length, with answer labels when training.

The alignment is what lets post-processing (squad_predictions) answer with
exact substrings of the paragraph. How it differs from the release (Hangul,
ligatures and whitespace align; a badly aligned evaluation paragraph is
kept) is listed in squad_utils' docstring.

Not here: reading SQuAD files and the SquadExample (squad_utils,
squad_data), TFRecords and host-side features (squad_utils), decoding
answers (squad_predictions).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import functools
import itertools
import unicodedata

import numpy as np
import tensorflow.compat.v1 as tf

from albert import tokenization

# The first feature's unique_id, as released.
_FIRST_UNIQUE_ID = 1000000000

# An example is misaligned when its pieces match fewer of its characters.
_MIN_ALIGNED_FRACTION = 0.8


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


# The SentencePiece model and the ids of its [CLS] and [SEP] pieces.
_Pieces = collections.namedtuple("_Pieces", ["sp_model", "cls_id", "sep_id"])

# What a question needs for its windows: its query piece ids (cut to
# max_query_length), its paragraph's piece ids, their _Alignment, and when
# training an answerable question, the answer's (start, end) piece indices.
_Prepared = collections.namedtuple(
    "_Prepared", ["query_ids", "doc_ids", "alignment", "answer_span"])


def _checked_pieces(tokenizer, max_seq_length, max_query_length, doc_stride):
  """The SentencePiece model and its [CLS]/[SEP] ids; fails on bad sizes.

  Raises:
    ValueError: no SentencePiece model, no [CLS] or [SEP] piece, a
      max_seq_length without room for the paragraph, or doc_stride <= 0.
  """
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
  return _Pieces(sp_model, cls_id, sep_id)


def _prepare_example(example, sp_model, max_query_length, do_lower_case,
                     is_training, stats):
  """Tokenizes and aligns one question; None when it gets no features.

  An empty paragraph is skipped, and so are, when training, a paragraph
  whose pieces do not align and an answer that maps to no piece; each is
  counted in stats and named in a warning.

  Returns:
    A _Prepared, or None.
  """
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
    return None
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
      return None

  answer_span = None
  if is_training and not example.is_impossible:
    answer_span = _answer_token_span(example, alignment)
    if answer_span is None:
      stats["answer_not_aligned"] += 1
      tf.logging.warning('Question id "%s": the answer "%s" maps to no '
                         'piece; skipping it', example.qas_id,
                         example.orig_answer_text)
      return None
  doc_ids = [sp_model.PieceToId(piece) for piece in para_tokens]
  return _Prepared(query_ids, doc_ids, alignment, answer_span)


def _window_inputs(pieces, prepared, doc_spans, doc_span_index, best_span,
                   max_seq_length):
  """The model inputs of one window, "[CLS] query [SEP] window [SEP]".

  Args:
    pieces: _Pieces.
    prepared: the question's _Prepared.
    doc_spans: the question's windows (_DocSpan).
    doc_span_index: which of them.
    best_span: per paragraph piece, its max-context window's index.
    max_seq_length: length after zero padding.

  Returns:
    dict of InputFeatures arguments: tokens, input_ids, input_mask,
    segment_ids, p_mask, paragraph_len and token_is_max_context.
  """
  query_ids = prepared.query_ids
  doc_span = doc_spans[doc_span_index]
  input_ids = [pieces.cls_id] + query_ids + [pieces.sep_id]
  token_is_max_context = {}
  for position in range(doc_span.start, doc_span.start + doc_span.length):
    token_is_max_context[len(input_ids)] = (
        best_span[position] == doc_span_index)
    input_ids.append(prepared.doc_ids[position])
  input_ids.append(pieces.sep_id)
  paragraph_len = len(input_ids)
  segment_ids = [0] * (len(query_ids) + 2) + [1] * (doc_span.length + 1)
  p_mask = [0] + [1] * (len(query_ids) + 1) + [0] * doc_span.length + [1]
  input_mask = [1] * paragraph_len
  padding = max_seq_length - paragraph_len
  input_ids += [0] * padding
  input_mask += [0] * padding
  segment_ids += [0] * padding
  p_mask += [1] * padding
  return dict(tokens=[pieces.sp_model.IdToPiece(i) for i in input_ids],
              input_ids=input_ids, input_mask=input_mask,
              segment_ids=segment_ids, p_mask=p_mask,
              paragraph_len=paragraph_len,
              token_is_max_context=token_is_max_context)


def _window_labels(example, answer_span, doc_span, doc_offset, is_training):
  """(start_position, end_position, is_impossible) of one window.

  Training: the answer's positions in the sequence when the window holds
  all of it, else (0, 0, True), in v1.1 too. Evaluation: no positions.
  """
  if not is_training:
    return None, None, bool(example.is_impossible)
  if not example.is_impossible:
    tok_start, tok_end = answer_span
    if (doc_span.start <= tok_start and
        tok_end < doc_span.start + doc_span.length):
      return (tok_start - doc_span.start + doc_offset,
              tok_end - doc_span.start + doc_offset, False)
  return 0, 0, True


def _example_features(example, example_index, prepared, pieces, unique_ids,
                      max_seq_length, doc_stride, is_training):
  """Yields the InputFeatures of one question's windows, in order.

  Args:
    example: the SquadExample.
    example_index: its index in the converted list.
    prepared: its _Prepared.
    pieces: _Pieces.
    unique_ids: iterator of the unique_ids to give, one per window.
    max_seq_length: length of every feature.
    doc_stride: pieces between the starts of consecutive windows.
    is_training: add answer labels.
  """
  alignment = prepared.alignment
  max_tokens_for_doc = max_seq_length - len(prepared.query_ids) - 3
  doc_spans = _doc_spans(len(prepared.doc_ids), max_tokens_for_doc,
                         doc_stride)
  best_span = _best_span_per_token(doc_spans, len(prepared.doc_ids))
  doc_offset = len(prepared.query_ids) + 2
  for doc_span_index, doc_span in enumerate(doc_spans):
    doc_end = doc_span.start + doc_span.length  # Exclusive.
    inputs = _window_inputs(pieces, prepared, doc_spans, doc_span_index,
                            best_span, max_seq_length)
    start_position, end_position, is_impossible = _window_labels(
        example, prepared.answer_span, doc_span, doc_offset, is_training)
    yield InputFeatures(
        unique_id=next(unique_ids),
        example_index=example_index,
        doc_span_index=doc_span_index,
        tok_start_to_orig_index=(
            alignment.tok_start_to_orig_index[doc_span.start:doc_end]),
        tok_end_to_orig_index=(
            alignment.tok_end_to_orig_index[doc_span.start:doc_end]),
        start_position=start_position,
        end_position=end_position,
        is_impossible=is_impossible,
        **inputs)


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
  pieces = _checked_pieces(tokenizer, max_seq_length, max_query_length,
                           doc_stride)
  unique_ids = itertools.count(_FIRST_UNIQUE_ID)
  num_features = 0
  for example_index, example in enumerate(examples):
    prepared = _prepare_example(example, pieces.sp_model, max_query_length,
                                do_lower_case, is_training, stats)
    if prepared is None:
      continue
    for feature in _example_features(example, example_index, prepared,
                                     pieces, unique_ids, max_seq_length,
                                     doc_stride, is_training):
      if num_features < 3:
        _log_feature(feature, example)
      output_fn(feature)
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
