# coding=utf-8
"""Tests for albert.squad_utils: reading, features, storage, decoding.

SQuAD files are written in the exact official layout; features come from a
small SentencePiece model (mostly single-character pieces), so answers on
piece boundaries map back to their exact text.
"""

import collections
import json
import logging
import os
import random
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import error_checks
import hub_fixtures
from albert import input_pipeline
from albert import squad_features as sf
from albert import squad_utils as su
from albert import tokenization

tf.disable_v2_behavior()


# --------------------------------------------------------------------------
# Helpers.
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
  model_path, _ = hub_fixtures.train_spm_model(
      str(tmp_path_factory.mktemp("spm")), vocab_size=120)
  return tokenization.FullTokenizer(None, do_lower_case=True,
                                    spm_model_file=model_path)


def write_json(path, value):
  with open(path, "w", encoding="utf-8") as f:
    json.dump(value, f)
  return str(path)


def qa(qid, question, answers=None, is_impossible=None):
  """A question in the official layout; answers: list of (text, start)."""
  item = {"id": qid, "question": question}
  if answers is not None:
    item["answers"] = [{"text": t, "answer_start": s} for t, s in answers]
  if is_impossible is not None:
    item["is_impossible"] = is_impossible
  return item


def squad(articles, version="v2.0"):
  """articles: list of (title, [(context, [qa...])])."""
  return {"version": version, "data": [
      {"title": title,
       "paragraphs": [{"context": c, "qas": q} for c, q in paragraphs]}
      for title, paragraphs in articles]}


CONTEXT_1 = "Paris is the capital of France. It is large."
CONTEXT_2 = "The Loire is the longest river in France."


def v1_file(tmp_path, train=True):
  """A v1.1 file; dev questions have three gold answers."""
  if train:
    q1 = qa("q1", "What is the capital?", [("Paris", 0)])
    q2 = qa("q2", "How is it?", [("large", 38)])
    q3 = qa("q3", "Longest river?", [("The Loire", 0)])
  else:
    q1 = qa("q1", "What is the capital?",
            [("Paris", 0), ("Paris", 0), ("capital", 13)])
    q2 = qa("q2", "How is it?", [("large", 38)])
    q3 = qa("q3", "Longest river?", [("Loire", 4), ("The Loire", 0)])
  data = squad([("France", [(CONTEXT_1, [q1, q2])]),
                ("Loire", [(CONTEXT_2, [q3])])], version="1.1")
  return write_json(tmp_path / ("train.json" if train else "dev.json"), data)


def v2_file(tmp_path, train=True):
  name = "train-v2.json" if train else "dev-v2.json"
  plausible = {"plausible_answers": [{"text": "France", "answer_start": 24}]}
  impossible = qa("q2", "What is the capital of Spain?", [], True)
  impossible.update(plausible)
  data = squad([("France", [(CONTEXT_1, [
      qa("q1", "What is the capital?", [("Paris", 0)], False),
      impossible])])])
  return write_json(tmp_path / name, data)


def capture_warnings(fn):
  handler = error_checks.WarningMessages()
  logger = logging.getLogger("tensorflow")
  logger.addHandler(handler)
  try:
    result = fn()
  finally:
    logger.removeHandler(handler)
  return result, handler.messages


def convert(examples, tokenizer, is_training, max_seq_length=64,
            doc_stride=16, max_query_length=16, stats=None):
  features = []
  count = su.convert_examples_to_features(
      examples, tokenizer, max_seq_length=max_seq_length,
      doc_stride=doc_stride, max_query_length=max_query_length,
      is_training=is_training, output_fn=features.append,
      do_lower_case=True, stats=stats)
  assert count == len(features)
  return features


def example(qid, paragraph, answer=None, question="where is it?",
            is_impossible=False):
  """A training-style example; answer: (text, start) or None."""
  if answer is None:
    return su.SquadExample(qid, question, paragraph, "", -1, is_impossible)
  text, start = answer
  assert paragraph[start:start + len(text)] == text
  return su.SquadExample(qid, question, paragraph, text, start, False,
                         answers=[text])


def doc_offset(feature):
  return feature.tokens.index("[SEP]") + 1


def span_text(paragraph, feature, start, end):
  """Paragraph text of sequence positions start..end (inclusive)."""
  offset = doc_offset(feature)
  return paragraph[feature.tok_start_to_orig_index[start - offset]:
                   feature.tok_end_to_orig_index[end - offset] + 1]


# --------------------------------------------------------------------------
# Reading.
# --------------------------------------------------------------------------


def test_read_v1_training_gives_char_offsets_in_file_order(tmp_path):
  stats = collections.Counter()
  examples = su.read_squad_examples(v1_file(tmp_path), True, stats)
  assert [e.qas_id for e in examples] == ["q1", "q2", "q3"]
  assert [(e.orig_answer_text, e.start_position) for e in examples] == [
      ("Paris", 0), ("large", 38), ("The Loire", 0)]
  assert examples[1].paragraph_text == CONTEXT_1
  assert examples[2].paragraph_text == CONTEXT_2
  assert not any(e.is_impossible for e in examples)
  assert stats == {"questions": 3}
  assert "q2" in repr(examples[1]) and "large" in str(examples[1])


def test_read_v1_eval_keeps_every_gold_answer(tmp_path):
  stats = collections.Counter()
  examples = su.read_squad_examples(v1_file(tmp_path, train=False), False,
                                    stats)
  assert [e.answers for e in examples] == [
      ["Paris", "Paris", "capital"], ["large"], ["Loire", "The Loire"]]
  assert [e.orig_answer_text for e in examples] == ["Paris", "large",
                                                    "Loire"]
  assert all(e.start_position == -1 for e in examples)
  assert stats["questions"] == 3


def test_read_v2_impossible_questions(tmp_path):
  stats = collections.Counter()
  train = su.read_squad_examples(v2_file(tmp_path), True, stats)
  assert [(e.qas_id, e.is_impossible, e.start_position, e.orig_answer_text)
          for e in train] == [("q1", False, 0, "Paris"), ("q2", True, -1, "")]
  assert stats["impossible"] == 1 and stats["questions"] == 2
  dev = su.read_squad_examples(v2_file(tmp_path, train=False), False)
  assert [(e.is_impossible, e.answers) for e in dev] == [
      (False, ["Paris"]), (True, [])]


def test_read_squad_dataset_and_file_has_answers(tmp_path):
  dev = v1_file(tmp_path, train=False)
  data = su.read_squad_dataset(dev)
  assert [a["title"] for a in data] == ["France", "Loire"]
  assert data[0]["paragraphs"][0]["qas"][0]["id"] == "q1"
  assert su.file_has_answers(dev)
  # A v2.0 file whose only question is a gold null can be scored too.
  only_null = squad([("t", [("Some text.", [qa("n1", "Why?", [], True)])])])
  assert su.file_has_answers(write_json(tmp_path / "null.json", only_null))
  test_set = squad([("t", [("Some text.", [qa("t1", "Why?"),
                                           qa("t2", "How?")])])])
  test_file = write_json(tmp_path / "test.json", test_set)
  assert not su.file_has_answers(test_file)
  examples = su.read_squad_examples(test_file, False)
  assert [(e.qas_id, e.answers, e.orig_answer_text) for e in examples] == [
      ("t1", [], ""), ("t2", [], "")]


def _schema_cases():
  good_qa = qa("q7", "Why?", [("Some", 0)])
  return [
      ({"version": "1.1"}, r'the top level has no "data"'),
      ({"data": [{"title": "t"}]}, r'article 0 has no "paragraphs"'),
      ({"data": [{"paragraphs": [{"qas": [good_qa]}]}]},
       r'article 0, paragraph 0 has no "context"'),
      ({"data": [{"paragraphs": [{"context": "Some text."}]}]},
       r'article 0, paragraph 0 has no "qas"'),
      ({"data": [{"paragraphs": [{"context": "Some text.",
                                  "qas": [{"question": "Why?"}]}]}]},
       r'article 0, paragraph 0, question 0 has no "id"'),
      ({"data": [{"paragraphs": [{"context": "Some text.",
                                  "qas": [{"id": "q7"}]}]}]},
       r'question id "q7" \(article 0, paragraph 0, question 0\) has no '
       r'"question"'),
      ({"data": [{"paragraphs": [{"context": "Some text.", "qas": [
          {"id": "q7", "question": "Why?",
           "answers": [{"answer_start": 0}]}]}]}]},
       r'question id "q7" \(article 0, paragraph 0, question 0\), answer 0 '
       r'has no "text"'),
      ({"data": [{"paragraphs": [{"context": "Some text.", "qas": [
          {"id": "q7", "question": "Why?",
           "answers": [{"text": "Some"}]}]}]}]},
       r'question id "q7" \(article 0, paragraph 0, question 0\), answer 0 '
       r'has no "answer_start"'),
      ({"data": [{"paragraphs": [{"context": "Some text.", "qas": [
          {"id": "q7", "question": "Why?",
           "answers": [{"text": "Some", "answer_start": "0"}]}]}]}]},
       r'"answer_start" is a str, expected int'),
      ({"data": {"paragraphs": []}}, r'"data" is a dict, expected list'),
  ]


@pytest.mark.parametrize("data,message", _schema_cases())
@pytest.mark.parametrize("reader", ["train", "eval", "dataset"])
def test_schema_errors_name_file_key_and_place(tmp_path, data, message,
                                               reader):
  path = write_json(tmp_path / "bad.json", data)
  with pytest.raises(su.SquadDataError) as info:
    if reader == "dataset":
      su.read_squad_dataset(path)
    else:
      su.read_squad_examples(path, reader == "train")
  text = str(info.value)
  assert text.startswith(path + ": ")
  assert "\n" not in text
  assert re.search(message, text), text


def test_malformed_json_names_line_and_column(tmp_path):
  path = tmp_path / "broken.json"
  path.write_text('{"data": [\n  {"title": "x",}\n]}')
  with pytest.raises(su.SquadDataError,
                     match=r"broken\.json: not valid JSON: .*\(line 2, "
                           r"column 17\)"):
    su.read_squad_examples(str(path), False)


def test_missing_file_is_a_file_not_found_error(tmp_path):
  with pytest.raises(FileNotFoundError, match=r"nope\.json: file not found"):
    su.read_squad_examples(str(tmp_path / "nope.json"), True)


def test_duplicate_question_ids_are_an_error(tmp_path):
  data = squad([("a", [(CONTEXT_1, [qa("dup", "Q?", [("Paris", 0)])])]),
                ("b", [(CONTEXT_2, [qa("dup", "Q?", [("Loire", 4)])])])])
  path = write_json(tmp_path / "dups.json", data)
  for read in (lambda: su.read_squad_examples(path, True),
               lambda: su.read_squad_examples(path, False),
               lambda: su.read_squad_dataset(path)):
    with pytest.raises(su.SquadDataError,
                       match=r'dups\.json: question id "dup" \(article 1, '
                             r'paragraph 0, question 0\) repeats the id of '
                             r'article 0, paragraph 0, question 0; expected '
                             r'every question id once'):
      read()


def test_training_needs_exactly_one_answer(tmp_path):
  data = squad([("a", [(CONTEXT_1, [
      qa("q7", "Q?", [("Paris", 0), ("Paris", 0)])])])])
  path = write_json(tmp_path / "two.json", data)
  with pytest.raises(su.SquadDataError,
                     match=r'two\.json: question id "q7" \(article 0, '
                           r'paragraph 0, question 0\): .*exactly 1 '
                           r'answer.*found 2'):
    su.read_squad_examples(path, True)
  assert su.read_squad_examples(path, False)[0].answers == ["Paris", "Paris"]
  # No answer at all for an answerable question is the same error.
  data = squad([("a", [(CONTEXT_1, [qa("q8", "Q?", [])])])])
  with pytest.raises(su.SquadDataError, match=r'"q8".*found 0'):
    su.read_squad_examples(write_json(tmp_path / "zero.json", data), True)


def test_answer_start_mismatch_is_counted_skipped_and_warned_at_most_5x(
    tmp_path):
  qas = [qa("ok", "Q?", [("Paris", 0)])]
  qas += [qa("bad%d" % i, "Q?", [("Paris", 12)]) for i in range(7)]
  path = write_json(tmp_path / "train.json",
                    squad([("a", [(CONTEXT_1, qas)])]))
  stats = collections.Counter()
  examples, warnings = capture_warnings(
      lambda: su.read_squad_examples(path, True, stats))
  assert [e.qas_id for e in examples] == ["ok"]
  assert stats["answer_start_mismatch"] == 7 and stats["questions"] == 8
  individual = [w for w in warnings if "does not match" in w]
  assert len(individual) == 5
  assert individual[0] == (
      '%s: question id "bad0" (article 0, paragraph 0, question 1): '
      'answer_start 12 does not match the answer text "Paris" (the '
      'paragraph has " capi" there); skipping it' % path)
  assert any("skipped 7 training questions" in w for w in warnings)
  # Evaluation does not check offsets: every question is kept.
  assert len(su.read_squad_examples(path, False)) == 8


# --------------------------------------------------------------------------
# Character alignment.
# --------------------------------------------------------------------------


def release_lcs(a, b, max_dist):
  """The release's banded LCS, cell by cell (a reference for _banded_lcs)."""
  n, m = len(a), len(b)
  f = np.zeros((n, m))
  g = {}
  for i in range(n):
    for j in range(i - max_dist, i + max_dist):
      if j >= m or j < 0:
        continue
      if i > 0:
        g[(i, j)] = 0
        f[i, j] = f[i - 1, j]
      if j > 0 and f[i, j - 1] > f[i, j]:
        g[(i, j)] = 1
        f[i, j] = f[i, j - 1]
      f_prev = f[i - 1, j - 1] if i > 0 and j > 0 else 0
      if a[i] == b[j] and f_prev + 1 > f[i, j]:
        g[(i, j)] = 2
        f[i, j] = f_prev + 1
  pairs = []
  i, j = n - 1, m - 1
  while i >= 0 and j >= 0:
    if (i, j) not in g:
      break
    if g[(i, j)] == 2:
      pairs.append((i, j))
      i, j = i - 1, j - 1
    elif g[(i, j)] == 1:
      j -= 1
    else:
      i -= 1
  return int(f[n - 1, m - 1]), pairs[::-1]


def test_banded_lcs_reproduces_the_release_dp_exactly():
  rng = random.Random(3)
  for trial in range(150):
    n, m = rng.randint(1, 30), rng.randint(1, 30)
    alphabet = "ab " if trial % 2 else "abcde "
    a = "".join(rng.choice(alphabet) for _ in range(n))
    b = "".join(rng.choice(alphabet) for _ in range(m))
    max_dist = rng.choice([1, 2, 3, abs(n - m) + 5, 2 * (abs(n - m) + 5)])
    got = sf._banded_lcs(np.array([ord(c) for c in a], np.int32),
                         np.array([ord(c) for c in b], np.int32), max_dist)
    assert got == release_lcs(a, b, max_dist), (a, b, max_dist)


def test_convert_index_fills_gaps_from_neighbours():
  index = [None, 2, None, None, 6, None]
  assert sf._convert_index(index, 1) == 2
  # Between 2 and 6: a start moves just after 2, an end just before 6.
  assert sf._convert_index(index, 2, is_start=True) == 3
  assert sf._convert_index(index, 3, is_start=False) == 5
  # Before everything aligned: a start goes to 0, an end just before 2.
  assert sf._convert_index(index, 0, is_start=True) == 0
  assert sf._convert_index(index, 0, is_start=False) == 1
  # After everything aligned: with m, a start moves on and an end reaches
  # m - 1; without m both stay at 6.
  assert sf._convert_index(index, 5, m=9, is_start=True) == 7
  assert sf._convert_index(index, 5, m=9, is_start=False) == 8
  assert sf._convert_index(index, 5, is_start=False) == 6
  # Adjacent neighbours leave no gap: start takes the rear, end the front.
  assert sf._convert_index([1, None, 2], 1, is_start=True) == 2
  assert sf._convert_index([1, None, 2], 1, is_start=False) == 1


def pieces_with_text(tokenizer, paragraph):
  pieces = tokenization.encode_pieces(
      tokenizer.sp_model, tokenization.preprocess_text(paragraph, lower=True))
  alignment = sf._align_paragraph(paragraph, pieces, True)
  return pieces, alignment, [
      paragraph[s:e + 1] for s, e in zip(alignment.tok_start_to_orig_index,
                                          alignment.tok_end_to_orig_index)]


def test_alignment_of_accents_cjk_hangul_ligatures_and_whitespace(tokenizer):
  pieces, alignment, texts = pieces_with_text(tokenizer, "Café  au\tlait")
  assert alignment.ok
  assert pieces == ["▁", "c", "a", "f", "e", "▁", "a", "u", "▁", "l", "a",
                    "i", "t"]
  assert texts == ["C", "C", "a", "f", "é", " ", "a", "u", "\t", "l", "a",
                   "i", "t"]
  # CJK and Hangul are unknown to the model: each run is one piece, which
  # must cover exactly its characters. NFKD splits Hangul syllables into
  # jamo while the pieces keep them whole; both sides still align.
  pieces, alignment, texts = pieces_with_text(tokenizer,
                                              "東京は日本です 한국어 ok")
  assert alignment.ok
  assert texts[pieces.index("한국어")] == "한국어"
  assert "東京は日本" in texts[1]
  assert texts[-2:] == ["o", "k"]
  # A ligature is one character of the paragraph and two of the pieces.
  pieces, alignment, texts = pieces_with_text(tokenizer, "the ﬁne\n\n\nend")
  assert alignment.ok
  assert texts[pieces.index("f")] == "ﬁ" and texts[pieces.index("i")] == "ﬁ"
  assert texts[-3:] == ["e", "n", "d"]
  # Newlines and control characters (which SentencePiece drops) would be
  # most of these paragraphs' characters if they counted as mismatches.
  pieces, alignment, texts = pieces_with_text(tokenizer, "a\nb\nc\nd\ne\nf")
  assert alignment.ok and alignment.matched == 11
  assert texts == ["a", "a", "\n", "b", "\n", "c", "\n", "d", "\n", "e",
                   "\n", "f"]
  pieces, alignment, texts = pieces_with_text(
      tokenizer, "ab\x01\x02\x03\u200b\u200b\u200bcd")
  assert alignment.ok and alignment.matched == 4
  # SentencePiece made the zero-width spaces a "▁" piece, which covers the
  # run of unmatched characters.
  assert texts == ["a", "a", "b", "\x01\x02\x03\u200b\u200b\u200b", "c",
                   "d"]


# --------------------------------------------------------------------------
# Features.
# --------------------------------------------------------------------------


TRICKY = [
    ("accent", "Le café est noir et le thé est vert.", ("café", 3)),
    ("digits", "It cost 1,000,000 dollars in 2019, they say.",
     ("1,000,000", 8)),
    ("year", "It cost 1,000,000 dollars in 2019, they say.", ("2019", 29)),
    ("spaces", "alpha \t\t beta\n\n\n  gamma   delta", ("gamma", 18)),
    ("newline", "first line\nsecond line", ("second", 11)),
]


@pytest.mark.parametrize("name,paragraph,answer", TRICKY)
def test_training_labels_map_back_to_the_exact_answer(tokenizer, name,
                                                      paragraph, answer):
  del name
  features = convert([example("q", paragraph, answer)], tokenizer, True)
  assert len(features) == 1
  f = features[0]
  assert not f.is_impossible
  assert span_text(paragraph, f, f.start_position, f.end_position) == \
      answer[0]


def test_cjk_answer_inside_an_unknown_piece_covers_the_whole_piece(tokenizer):
  paragraph = "We saw 東京タワー yesterday."
  features = convert([example("q", paragraph, ("東京", 7))], tokenizer, True)
  f = features[0]
  # The model cannot split an unknown piece: the label is the whole piece.
  assert span_text(paragraph, f, f.start_position, f.end_position) == \
      "東京タワー"


def test_sequence_layout_is_exact(tokenizer):
  paragraph = "the dog runs"
  features = convert([example("q", paragraph, ("dog", 4), question="who?")],
                     tokenizer, True, max_seq_length=24)
  f = features[0]
  sp = tokenizer.sp_model
  query = tokenization.encode_ids(sp, "who?")
  doc = [sp.PieceToId(p) for p in tokenization.encode_pieces(sp, paragraph)]
  q, d, pad = len(query), len(doc), 24 - len(query) - len(doc) - 3
  assert f.input_ids == [sp.PieceToId("[CLS]")] + query + [
      sp.PieceToId("[SEP]")] + doc + [sp.PieceToId("[SEP]")] + [0] * pad
  assert sp.PieceToId("[CLS]") == 2 and sp.PieceToId("[SEP]") == 3
  assert f.input_mask == [1] * (q + d + 3) + [0] * pad
  assert f.segment_ids == [0] * (q + 2) + [1] * (d + 1) + [0] * pad
  assert f.p_mask == [0] + [1] * (q + 1) + [0] * d + [1] + [1] * pad
  assert f.paragraph_len == q + d + 3
  assert f.tokens[0] == "[CLS]" and f.tokens[q + 1] == "[SEP]"
  assert f.tokens[q + d + 2] == "[SEP]" and f.tokens[-1] == "<pad>"
  assert len(f.tokens) == 24
  assert f.token_is_max_context == {q + 2 + i: True for i in range(d)}
  assert len(f.tok_start_to_orig_index) == d
  assert (f.unique_id, f.example_index, f.doc_span_index) == (1000000000, 0, 0)
  # "▁dog" is one piece: its text starts at the space (decoding strips).
  assert span_text(paragraph, f, f.start_position, f.end_position) == " dog"


def long_paragraph():
  rng = random.Random(7)
  words = ("the river stone house city road ship star cloud rain red green "
           "blue").split()
  before = " ".join(rng.choice(words) for _ in range(25))
  after = " ".join(rng.choice(words) for _ in range(25))
  paragraph = before + " Quick brown fox " + after
  return paragraph, ("brown fox", len(before) + 7)


def test_long_paragraph_windows_labels_and_max_context(tokenizer):
  paragraph, answer = long_paragraph()
  max_seq_length, doc_stride = 48, 10
  stats = collections.Counter()
  examples = [example("short", "the dog runs", ("dog", 4)),
              example("long", paragraph, answer)]
  features = convert(examples, tokenizer, True,
                     max_seq_length=max_seq_length, doc_stride=doc_stride,
                     stats=stats)
  windows = [f for f in features if f.example_index == 1]
  num_pieces = len(tokenization.encode_pieces(
      tokenizer.sp_model, tokenization.preprocess_text(paragraph, lower=True)))
  assert len(windows) > 3
  assert [f.unique_id for f in features] == list(
      range(1000000000, 1000000000 + len(features)))
  assert [f.doc_span_index for f in windows] == list(range(len(windows)))
  assert stats["features"] == len(features)

  owner = collections.defaultdict(list)
  with_answer = 0
  for f in windows:
    offset = doc_offset(f)
    span_start = f.doc_span_index * doc_stride
    span_length = len(f.tok_start_to_orig_index)
    assert span_length == min(max_seq_length - offset - 1,
                              num_pieces - span_start)
    for position, is_max in f.token_is_max_context.items():
      if is_max:
        owner[position - offset + span_start].append(f.doc_span_index)
    if f.is_impossible:
      assert (f.start_position, f.end_position) == (0, 0)
    else:
      with_answer += 1
      assert span_text(paragraph, f, f.start_position, f.end_position) == \
          answer[0]
  # The last window reaches the end of the paragraph.
  last = windows[-1]
  assert (last.doc_span_index * doc_stride +
          len(last.tok_start_to_orig_index)) == num_pieces
  assert with_answer >= 2
  # Every piece has exactly one max-context window, the most central one.
  assert sorted(owner) == list(range(num_pieces))
  assert all(len(v) == 1 for v in owner.values())
  spans = [sf._DocSpan(f.doc_span_index * doc_stride,
                       len(f.tok_start_to_orig_index)) for f in windows]
  for position, (span_index,) in owner.items():
    assert sf._check_is_max_context(spans, span_index, position)


def test_check_is_max_context_prefers_the_most_central_window():
  spans = [sf._DocSpan(0, 5), sf._DocSpan(2, 5), sf._DocSpan(4, 5)]
  # Position 4: (left, right) = (4, 0), (2, 2), (0, 4): the middle wins.
  assert [sf._check_is_max_context(spans, i, 4) for i in range(3)] == [
      False, True, False]
  # Equal context: the longer window wins by the 0.01 * length bonus.
  spans = [sf._DocSpan(0, 4), sf._DocSpan(1, 5)]
  assert sf._check_is_max_context(spans, 1, 2)


def test_answer_on_the_last_piece_of_a_window(tokenizer):
  paragraph = "red green blue black white quick lazy bright quiet happy"
  answer = ("bright", paragraph.index("bright"))
  sp = tokenizer.sp_model
  pieces = tokenization.encode_pieces(sp, paragraph)
  alignment = sf._align_paragraph(paragraph, pieces, True)
  last_piece = alignment.tok_end_to_orig_index.index(
      answer[1] + len(answer[0]) - 1)
  question = "which?"
  q = len(tokenization.encode_ids(sp, question))
  # Window 0 holds pieces 0..last_piece exactly.
  max_seq_length = q + 3 + last_piece + 1
  features = convert([example("edge", paragraph, answer, question)],
                     tokenizer, True, max_seq_length=max_seq_length,
                     doc_stride=3)
  first = features[0]
  assert not first.is_impossible
  assert first.end_position == first.paragraph_len - 2
  assert span_text(paragraph, first, first.start_position,
                   first.end_position) == "bright"
  # The next window starts 3 pieces later and still holds it.
  assert not features[1].is_impossible
  assert features[1].end_position == first.end_position - 3


def test_eval_features_have_no_labels_and_impossible_training_examples(
    tokenizer):
  examples = [example("a", "the dog runs", ("dog", 4)),
              example("b", "the cat runs", None, is_impossible=True)]
  train = convert(examples, tokenizer, True)
  assert [(f.start_position, f.end_position, f.is_impossible)
          for f in train][1] == (0, 0, True)
  dev = convert(examples, tokenizer, False)
  assert [(f.example_index, f.start_position, f.end_position)
          for f in dev] == [(0, None, None), (1, None, None)]
  assert train[0].input_ids == dev[0].input_ids


def test_query_truncation_is_counted(tokenizer):
  stats = collections.Counter()
  question = "the river stone house city road ship"
  features = convert([example("q", "the dog runs", ("dog", 4), question),
                      example("r", "the dog runs", ("dog", 4), "the?")],
                     tokenizer, True, max_query_length=4, stats=stats)
  assert stats["query_truncated"] == 1
  full = tokenization.encode_ids(tokenizer.sp_model, question)
  assert features[0].input_ids[1:5] == full[:4]
  assert features[0].tokens[5] == "[SEP]"


def test_bad_arguments_are_clear_errors(tokenizer, tmp_path):
  ex = [example("q", "the dog runs", ("dog", 4))]
  with pytest.raises(ValueError, match=r"max_seq_length \(20\).*"
                                       r"max_query_length \(17\)"):
    convert(ex, tokenizer, True, max_seq_length=20, max_query_length=17)
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("[PAD]\n[UNK]\nthe\n")
  with pytest.raises(ValueError, match=r"SentencePiece"):
    convert(ex, tokenization.FullTokenizer(str(vocab)), True)


def _scramble(monkeypatch, fn):
  """Makes the paragraph pieces come from fn(text) instead of the text."""
  real = tokenization.encode_pieces

  def fake(sp_model, text, *args, **kwargs):
    if "runs" in text or len(text) > 20:
      text = fn(text)
    return real(sp_model, text, *args, **kwargs)

  monkeypatch.setattr(tokenization, "encode_pieces", fake)


@pytest.mark.parametrize("scramble", ["partial", "nothing"])
def test_alignment_failure_keeps_eval_features_and_skips_training(
    tokenizer, monkeypatch, scramble):
  paragraph = "the red dog runs over the green bridge"
  if scramble == "partial":
    # Letters change but spaces still match: a partial alignment.
    _scramble(monkeypatch, lambda t: t.translate(str.maketrans(
        "abcdefghijklmnopqrstuvwxyz", "nopqrstuvwxyzabcdefghijklm")))
  else:
    # Nothing matches at all (not even spaces).
    paragraph = paragraph.replace(" ", "")
    _scramble(monkeypatch, lambda t: "1234567890" * 3)
  ex = [example("broken", paragraph, ("dog", paragraph.index("dog")))]
  stats = collections.Counter()
  features, warnings = capture_warnings(
      lambda: convert(ex, tokenizer, False, stats=stats))
  assert stats["alignment_failed"] == 1
  assert len(features) >= 1
  assert any('"broken"' in w for w in warnings)
  for f in features:
    starts, ends = f.tok_start_to_orig_index, f.tok_end_to_orig_index
    assert all(0 <= s < len(paragraph) for s in starts)
    assert all(0 <= e < len(paragraph) for e in ends)
    assert starts == sorted(starts)
  train_stats = collections.Counter()
  assert convert(ex, tokenizer, True, stats=train_stats) == []
  assert train_stats["alignment_failed"] == 1


# --------------------------------------------------------------------------
# Storage.
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["eval_features.jsonl",
                                  "eval_features.jsonl.gz"])
def test_eval_features_round_trip_atomically(tokenizer, tmp_path, name):
  paragraph, answer = long_paragraph()
  features = convert([example("long", paragraph, answer),
                      example("café", "Le café est noir.", ("café", 3))],
                     tokenizer, False, max_seq_length=48, doc_stride=20)
  path = str(tmp_path / name)
  seen_during_write = []

  def watched():
    for f in features:
      seen_during_write.append(sorted(os.listdir(str(tmp_path))))
      yield f

  assert su.write_eval_features(path, watched()) == len(features)
  # While writing only a hidden temporary file exists, then only the file.
  during = seen_during_write[-1]
  assert len(during) == 1 and during[0].startswith(".")
  assert during[0].startswith(".%s.tmp-" % name)
  assert os.listdir(str(tmp_path)) == [name]
  if name.endswith(".gz"):
    with open(path, "rb") as f:
      assert f.read(2) == b"\x1f\x8b"

  back = su.read_eval_features(path)
  assert len(back) == len(features)
  for a, b in zip(features, back):
    for field in ("unique_id", "example_index", "doc_span_index", "tokens",
                  "token_is_max_context", "tok_start_to_orig_index",
                  "tok_end_to_orig_index", "paragraph_len"):
      assert getattr(a, field) == getattr(b, field), field
    assert all(isinstance(k, int) for k in b.token_is_max_context)
    assert b.input_ids is None


def test_failed_eval_feature_write_leaves_nothing(tmp_path):
  def broken():
    yield su.InputFeatures(1, 0, 0, [0], [0], {3: True}, ["[CLS]"], None,
                           None, None, 1)
    raise RuntimeError("disk full")

  with pytest.raises(RuntimeError):
    su.write_eval_features(str(tmp_path / "f.jsonl"), broken())
  assert os.listdir(str(tmp_path)) == []


def test_read_eval_features_names_file_and_line(tmp_path):
  path = tmp_path / "f.jsonl"
  path.write_text('{"unique_id": 1}\n')
  with pytest.raises(su.SquadDataError, match=r"f\.jsonl: line 1: missing "
                                              r"example_index"):
    su.read_eval_features(str(path))
  path.write_text("\n{oops\n")
  with pytest.raises(su.SquadDataError, match=r"line 2: not valid JSON"):
    su.read_eval_features(str(path))


def read_all(input_fn, params, num_batches):
  with tf.Graph().as_default():
    dataset = input_fn(params)
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    with tf.Session() as sess:
      return [sess.run(batch) for _ in range(num_batches)]


@pytest.mark.parametrize("is_v2", [False, True])
def test_tfrecords_parse_back(tokenizer, tmp_path, is_v2):
  paragraph, answer = long_paragraph()
  examples = [example("long", paragraph, answer),
              example("imp", "the cat runs", None, is_impossible=True)]
  seq = 48
  train = convert(examples, tokenizer, True, max_seq_length=seq,
                  doc_stride=20)
  dev = convert(examples, tokenizer, False, max_seq_length=seq,
                doc_stride=20)
  train_file = str(tmp_path / "train.tf_record")
  dev_file = str(tmp_path / "dev.tf_record")
  input_pipeline.write_examples(
      train_file, (su.feature_to_tf_example(f, True) for f in train))
  input_pipeline.write_examples(
      dev_file, (su.feature_to_tf_example(f, False) for f in dev))

  # Eval: file order, no labels; batch size from bsz off TPU.
  input_fn = su.input_fn_builder(dev_file, seq, False, False, False, 2,
                                 is_v2)
  batches = read_all(input_fn, {}, (len(dev) + 1) // 2)
  keys = {"unique_ids", "input_ids", "input_mask", "segment_ids"}
  assert set(batches[0]) == (keys | {"p_mask"} if is_v2 else keys)
  assert batches[0]["input_ids"].dtype == np.int32
  got = np.concatenate([b["input_ids"] for b in batches])
  np.testing.assert_array_equal(got, [f.input_ids for f in dev])
  np.testing.assert_array_equal(
      np.concatenate([b["unique_ids"] for b in batches]),
      [f.unique_id for f in dev])
  if is_v2:
    np.testing.assert_array_equal(
        np.concatenate([b["p_mask"] for b in batches]),
        [f.p_mask for f in dev])

  # Training: labels, repeated; on TPU the batch size comes from params.
  input_fn = su.input_fn_builder(train_file, seq, True, True, True, 99,
                                 is_v2)
  batches = read_all(input_fn, {"batch_size": 3}, 4)
  by_id = {f.unique_id: f for f in train}
  for b in batches:
    assert b["input_ids"].shape == (3, seq)
    assert ("p_mask" in b) == is_v2
    for i, uid in enumerate(b["unique_ids"]):
      f = by_id[int(uid)]
      assert b["start_positions"][i] == f.start_position
      assert b["end_positions"][i] == f.end_position
      assert b["is_impossible"][i] == int(f.is_impossible)
      np.testing.assert_array_equal(b["segment_ids"][i], f.segment_ids)


# --------------------------------------------------------------------------
# Post-processing.
# --------------------------------------------------------------------------

PARAGRAPH = "The quick brown fox jumps"
# Pieces "▁the ▁quick ▁brown ▁fox ▁jumps" at sequence positions 3..7.
L = 11


def window(unique_id, example_index=0, max_context=(3, 4, 5, 6, 7)):
  return su.InputFeatures(
      unique_id=unique_id, example_index=example_index, doc_span_index=0,
      tok_start_to_orig_index=[0, 4, 10, 16, 20],
      tok_end_to_orig_index=[2, 8, 14, 18, 24],
      token_is_max_context={p: p in max_context for p in range(3, 8)},
      tokens=["[CLS]", "▁q", "[SEP]", "▁the", "▁quick", "▁brown", "▁fox",
              "▁jumps", "[SEP]", "<pad>", "<pad>"],
      input_ids=None, input_mask=None, segment_ids=None, paragraph_len=9)


def para_example(qid="q1"):
  return su.SquadExample(qid, "which?", PARAGRAPH)


def logits(**scores):
  values = np.full(L, -10.0)
  for position, value in scores.items():
    values[int(position[1:])] = value
  return values


def predict_v1(features, results, examples=None, n_best_size=3,
               max_answer_length=30, calls=1, **files):
  examples = examples or [para_example()]
  result_dict = {}
  for _ in range(calls):
    su.accumulate_predictions_v1(result_dict, examples, features, results,
                                 n_best_size, max_answer_length)
  return su.write_predictions_v1(
      result_dict, examples, features, results, n_best_size,
      max_answer_length, files.get("pred"), files.get("nbest"))


def test_v1_nbest_order_probabilities_and_files(tmp_path):
  result = su.RawResult(1, logits(p4=5.0, p5=3.0), logits(p5=4.0, p4=2.0))
  pred_file = str(tmp_path / "predictions.json")
  nbest_file = str(tmp_path / "nbest_predictions.json")
  predictions, nbest = predict_v1([window(1)], [result], pred=pred_file,
                                  nbest=nbest_file)
  assert predictions == {"q1": "quick brown"}
  # (4,5)=9, (4,4)=7, (5,5)=7 (ties keep candidate order); (5,4) has the
  # end before the start; [CLS] (index 0, third best) is no start.
  assert [e["text"] for e in nbest["q1"]] == ["quick brown", "quick",
                                              "brown"]
  assert [(e["start_log_prob"], e["end_log_prob"]) for e in nbest["q1"]] == [
      (5.0, 4.0), (5.0, 2.0), (3.0, 4.0)]
  expected = np.exp([9.0, 7.0, 7.0]) / np.exp([9.0, 7.0, 7.0]).sum()
  np.testing.assert_allclose([e["probability"] for e in nbest["q1"]],
                             expected)
  with open(pred_file) as f:
    text = f.read()
  assert json.loads(text) == {"q1": "quick brown"}
  assert text.startswith('{\n    "q1"')
  with open(nbest_file) as f:
    assert json.load(f)["q1"][0]["text"] == "quick brown"
  assert sorted(os.listdir(str(tmp_path))) == ["nbest_predictions.json",
                                               "predictions.json"]


def test_v1_filters_max_context_length_order_and_bounds():
  start, end = logits(p4=5.0, p5=3.0), logits(p5=4.0, p4=2.0)
  # "quick" is not this window's max-context piece: no span may start there.
  predictions, _ = predict_v1([window(1, max_context=(3, 5, 6, 7))],
                              [su.RawResult(1, start, end)])
  assert predictions["q1"] == "brown"
  # Two pieces is too long.
  predictions, _ = predict_v1([window(1)], [su.RawResult(1, start, end)],
                              max_answer_length=1)
  assert predictions["q1"] == "quick"
  # The only pair has its end before its start: nothing valid -> "empty".
  predictions, nbest = predict_v1(
      [window(1)], [su.RawResult(1, logits(p6=9.0), logits(p4=9.0))],
      n_best_size=1)
  assert predictions["q1"] == "empty"
  assert nbest["q1"] == [{"text": "empty", "probability": 1.0,
                          "start_log_prob": 0.0, "end_log_prob": 0.0}]
  # Ends in padding or the final [SEP], starts in the query: never answers.
  predictions, _ = predict_v1(
      [window(1)],
      [su.RawResult(1, logits(p1=9.0, p2=8.0, p7=1.0),
                    logits(p8=9.0, p9=8.0, p7=1.0))])
  assert predictions["q1"] == "jumps"


def test_v1_dedupes_texts_across_windows_and_averages_ensembles():
  # Two windows of one example propose the same text.
  features = [window(1), window(2)]
  results = [su.RawResult(1, logits(p4=5.0), logits(p4=5.0)),
             su.RawResult(2, logits(p4=1.0, p6=0.5), logits(p4=1.0, p6=0.5))]
  _, nbest = predict_v1(features, results)
  texts = [e["text"] for e in nbest["q1"]]
  assert texts[0] == "quick" and texts.count("quick") == 1
  assert nbest["q1"][0]["start_log_prob"] == 5.0
  assert "fox" in texts
  # Accumulating twice (an ensemble of two equal models) averages scores,
  # it does not add them.
  _, nbest = predict_v1(features, results, calls=2)
  assert nbest["q1"][0]["start_log_prob"] == 5.0


def test_v1_question_without_features_still_gets_an_answer():
  examples = [para_example("q1"), para_example("lost")]
  predictions, nbest = predict_v1(
      [window(1)], [su.RawResult(1, logits(p4=5.0), logits(p4=5.0))],
      examples=examples)
  assert predictions == {"q1": "quick", "lost": "empty"}
  assert nbest["lost"][0]["text"] == "empty"


def v2_result(unique_id, cls_logits):
  # Starts: 4 (quick), 5 (brown). Ends for start i at i * 2 + j.
  return su.RawResultV2(
      unique_id=unique_id,
      start_top_log_probs=np.array([-0.1, -2.0]),
      start_top_index=np.array([4, 5]),
      end_top_log_probs=np.array([-0.2, -1.0, -0.1, -0.5]),
      end_top_index=np.array([5, 4, 4, 6]),
      cls_logits=np.float32(cls_logits))


def predict_v2(features, results_per_call, threshold, examples=None,
               **files):
  examples = examples or [para_example()]
  result_dict, cls_dict = {}, {}
  for results in results_per_call:
    su.accumulate_predictions_v2(result_dict, cls_dict, examples, features,
                                 results, 20, 30, 2, 2)
  return su.write_predictions_v2(
      result_dict, cls_dict, examples, features, None, 20, 30,
      files.get("pred"), files.get("nbest"), files.get("odds"), threshold)


def test_v2_beam_indexing_and_nbest():
  predictions, nbest, _ = predict_v2([window(1)], [[v2_result(1, 0.0)]],
                                     None)
  # Entry i*2+j is the j-th end of start i: (4,5) -0.3, (4,4) -1.1,
  # (5,6) -2.5; (5,4) ends before it starts. Reading the beam as j*2+i
  # would make "quick" (4,4 at -0.2) the best.
  assert predictions["q1"] == "quick brown"
  assert [(e["text"], round(e["start_log_prob"] + e["end_log_prob"], 6))
          for e in nbest["q1"]] == [("quick brown", -0.3), ("quick", -1.1),
                                    ("brown fox", -2.5)]


def test_v2_null_threshold_is_strict_and_null_odds_written(tmp_path):
  # Two windows of one example: the smaller cls logit counts.
  features = [window(1), window(2)]
  results = [[v2_result(1, 1.5), v2_result(2, -0.5)]]
  odds_file = str(tmp_path / "null_odds.json")
  predictions, _, diffs = predict_v2(features, results, -0.5,
                                     odds=odds_file)
  assert diffs == {"q1": -0.5}
  assert predictions["q1"] == "quick brown"  # -0.5 is not > -0.5.
  with open(odds_file) as f:
    assert json.load(f) == {"q1": -0.5}
  predictions, _, _ = predict_v2(features, results, -0.6)
  assert predictions["q1"] == ""
  predictions, _, _ = predict_v2(features, results, None)
  assert predictions["q1"] == "quick brown"


def test_v2_ensembles_average_and_missing_examples_are_null():
  examples = [para_example("q1"), para_example("lost")]
  predictions, nbest, diffs = predict_v2(
      [window(1)], [[v2_result(1, 1.0)], [v2_result(1, 3.0)]], 2.5,
      examples=examples)
  assert diffs["q1"] == 2.0
  assert predictions["q1"] == "quick brown"
  # The score averages over the two calls instead of summing.
  assert nbest["q1"][0]["start_log_prob"] == pytest.approx(-0.1)
  assert predictions["lost"] == "" and diffs["lost"] == 1000000.0
  assert nbest["lost"] == [{"text": "", "probability": 1.0,
                            "start_log_prob": -1e6, "end_log_prob": -1e6}]


def test_v2_no_valid_span_predicts_empty_text_without_crashing():
  result = v2_result(1, -5.0)._replace(start_top_index=np.array([1, 2]))
  predictions, nbest, _ = predict_v2([window(1)], [[result]], None)
  assert predictions["q1"] == ""
  assert nbest["q1"][0]["text"] == ""


def test_end_to_end_features_to_exact_answer_text(tokenizer, tmp_path):
  """Converted eval features, stored and read back, decode to gold text."""
  paragraph, (answer, start) = long_paragraph()
  examples = [example("long", paragraph, (answer, start))]
  features = convert(examples, tokenizer, False, max_seq_length=48,
                     doc_stride=20)
  path = str(tmp_path / "eval.jsonl")
  su.write_eval_features(path, features)
  features = su.read_eval_features(path)
  results = []
  for f in features:
    offset = doc_offset(f)
    starts = [offset + i for i, s in enumerate(f.tok_start_to_orig_index)
              if s == start]
    ends = [offset + i for i, e in enumerate(f.tok_end_to_orig_index)
            if e == start + len(answer) - 1]
    start_logits, end_logits = np.zeros(48), np.zeros(48)
    if starts and ends:
      start_logits[starts[0]] = end_logits[ends[0]] = 5.0
    results.append(su.RawResult(f.unique_id, start_logits, end_logits))
  predictions, _ = su.write_predictions_v1(
      _accumulated(examples, features, results), examples, features,
      results, 5, 30, None, None)
  assert predictions == {"long": answer}


def _accumulated(examples, features, results):
  result_dict = {}
  su.accumulate_predictions_v1(result_dict, examples, features, results, 5,
                               30)
  return result_dict
