# coding=utf-8
"""Tests for albert.squad_metrics against hand-computed SQuAD scores."""

import itertools
import logging
import random

import pytest

from albert import squad_metrics as sm


@pytest.mark.parametrize("text,expected", [
    ("The Cat!", "cat"),
    ("  A  quick,   brown\tfox. ", "quick brown fox"),
    ("theater and another", "theater and another"),  # Articles: words only.
    ("an-apple", "anapple"),  # Punctuation goes before articles.
    ("Tom's \"big\" day", "toms big day"),
    ("THE END", "end"),
    ("a\nb  the\tc", "b c"),
    ("", ""),
    ("the a an", ""),
])
def test_normalize_answer(text, expected):
  assert sm.normalize_answer(text) == expected
  assert sm.normalize_answer_v1(text) == expected
  assert sm.normalize_answer_v2(text) == expected


def test_exact_match():
  assert sm.exact_match_score("The  Denver Broncos.", "denver broncos") == 1
  assert sm.exact_match_score("Denver", "Denver Broncos") == 0
  assert sm.compute_exact("the cat", "Cat") == 1
  assert sm.compute_exact("cat", "cats") == 0
  assert sm.compute_exact("", "the") == 1


def test_f1_partial_overlap():
  # pred tokens [cat, sat]; gold [cat, sat, down]: P = 1, R = 2/3,
  # F1 = 2 * (2/3) / (5/3) = 0.8.
  assert sm.f1_score("the cat sat", "a cat sat down") == pytest.approx(0.8)
  assert sm.compute_f1("a cat sat down", "the cat sat") == pytest.approx(0.8)
  # Tokens are a multiset: pred [cat, cat] vs gold [cat]: P = 1/2, R = 1.
  assert sm.f1_score("cat cat", "cat") == pytest.approx(2.0 / 3.0)
  # Gold [y, x, y] vs pred [x, y, y, z]: 3 in common, P = 3/4, R = 1.
  assert sm.f1_score("x y y z", "y x y") == pytest.approx(6.0 / 7.0)
  assert sm.f1_score("dog", "cat") == 0.0
  assert sm.compute_f1("cat", "dog") == 0.0


def test_f1_empty_answers():
  # v1.1: no common tokens, so 0, even for two empty answers.
  assert sm.f1_score("", "") == 0.0
  # v2.0: 1 iff both sides have no tokens.
  assert sm.compute_f1("", "") == 1.0
  assert sm.compute_f1("", "the .") == 1.0
  assert sm.compute_f1("", "cat") == 0.0
  assert sm.compute_f1("cat", "") == 0.0
  assert sm.get_tokens("") == []
  assert sm.get_tokens(None) == []
  assert sm.get_tokens("The Cat, sat") == ["cat", "sat"]


def test_max_over_ground_truths():
  golds = ["dog", "cat sat down", "cat"]
  # F1: 0, 0.8 (P 1, R 2/3), 2/3 (P 1/2, R 1).
  assert sm.metric_max_over_ground_truths(
      sm.f1_score, "cat sat", golds) == pytest.approx(0.8)
  assert sm.metric_max_over_ground_truths(
      sm.exact_match_score, "The cat", golds) == 1
  assert sm.metric_max_over_ground_truths(
      sm.exact_match_score, "cat sat", golds) == 0


def _qa(qid, *answers):
  return {"id": qid, "question": "q?",
          "answers": [{"text": a, "answer_start": 0} for a in answers]}


def _dataset(*qas):
  # Two articles, to check that every paragraph of every article counts.
  return [{"title": "one",
           "paragraphs": [{"context": "c", "qas": list(qas[:2])}]},
          {"title": "two",
           "paragraphs": [{"context": "c", "qas": list(qas[2:])}]}]


def test_evaluate_v1():
  dataset = _dataset(
      _qa("q1", "Denver Broncos", "The Denver Broncos"),
      _qa("q2", "a cat sat down"),
      _qa("q3", "Paris"))
  predictions = {"q1": "denver broncos,", "q2": "the cat sat",
                 "other": "ignored"}
  # q1: EM 1, F1 1; q2: EM 0, F1 0.8; q3 missing: 0, 0.
  result = sm.evaluate_v1(dataset, predictions)
  assert set(result) == {"exact_match", "f1"}
  assert result["exact_match"] == pytest.approx(100.0 / 3)
  assert result["f1"] == pytest.approx(60.0)
  # The whole parsed file works too.
  assert sm.evaluate_v1({"version": "1.1", "data": dataset},
                        predictions) == result


def test_evaluate_v1_logs_missing(caplog):
  dataset = _dataset(_qa("q1", "x"), _qa("q2", "y"))
  with caplog.at_level(logging.WARNING):
    result = sm.evaluate_v1(dataset, {"q1": "x"})
  assert result == {"exact_match": 50.0, "f1": 50.0}
  assert "1 of 2 questions have no prediction" in caplog.text


def test_evaluate_v1_rejects_unanswerable_and_empty():
  with pytest.raises(ValueError, match="evaluate_v2"):
    sm.evaluate_v1(_dataset(_qa("q1")), {"q1": ""})
  with pytest.raises(ValueError, match="no questions"):
    sm.evaluate_v1([], {})


def test_evaluate_v1_rejects_a_question_without_answers_in_one_line():
  # The official script's KeyError: 'answers', as a line naming the id.
  no_key = {"id": "q2", "question": "q?"}
  with pytest.raises(ValueError, match=r'Question q2 has no "answers"'):
    sm.evaluate_v1(_dataset(_qa("q1", "x"), no_key), {"q1": "x", "q2": "y"})
  # Checked whether or not the question was predicted.
  with pytest.raises(ValueError, match=r"Question q2 has no gold answers"):
    sm.evaluate_v1(_dataset(_qa("q1", "x"), _qa("q2")), {"q1": "x"})


def test_integer_ids_match_their_string_prediction_keys():
  """predictions.json keys are strings; an int id in the file is the same."""
  dataset = _dataset(_qa(12345, "Paris"), _qa("q2", "Rome"))
  predictions = {"12345": "Paris", "q2": "Rome"}
  assert sm.evaluate_v1(dataset, predictions) == {"exact_match": 100.0,
                                                  "f1": 100.0}
  v2 = sm.evaluate_v2(dataset, predictions, na_probs={"12345": -1.0,
                                                      "q2": -1.0},
                      na_prob_thresh=0.0)
  assert v2["exact"] == 100.0 and v2["f1"] == 100.0
  assert sm.make_qid_to_has_ans(dataset) == {"12345": True, "q2": True}


def test_repeated_ids_are_refused():
  # Scored twice against one prediction otherwise.
  for dataset in (_dataset(_qa("q1", "x"), _qa("q1", "y")),
                  _dataset(_qa(7, "x"), _qa("7", "y"))):
    with pytest.raises(ValueError, match=r"Question id (q1|7) appears more "
                                         r"than once"):
      sm.evaluate_v1(dataset, {})
    with pytest.raises(ValueError, match=r"appears more than once"):
      sm.evaluate_v2(dataset, {})


def test_evaluate_v2_needs_answers_or_is_impossible():
  gold_null = {"id": "n1", "question": "q?", "is_impossible": True}
  result = sm.evaluate_v2(_dataset(_qa("q1", "x"), gold_null),
                          {"q1": "x", "n1": ""})
  assert result["NoAns_total"] == 1 and result["exact"] == 100.0
  with pytest.raises(ValueError, match=r'Question n2 has no "answers"'):
    sm.evaluate_v2(_dataset(_qa("q1", "x"), {"id": "n2", "question": "q?"}),
                   {})


V2_DATASET = _dataset(
    _qa("a1", "blue sky"),
    _qa("a2", "42", "the"),  # "the" normalises to nothing: not a gold.
    _qa("a3"),
    _qa("a4"),
    _qa("a5", "red"))
V2_PREDS = {"a1": "sky", "a2": "42", "a3": "", "a4": "something"}
# Raw scores (a5 missing = ""):
#   exact a1 0, a2 1, a3 1, a4 0, a5 0
#   f1    a1 2/3 (P 1, R 1/2), a2 1, a3 1, a4 0, a5 0
V2_NA = {"a1": 0.2, "a2": -1.0, "a3": 3.0, "a4": 2.0, "a5": 0.5}


def test_raw_scores_and_has_ans():
  assert sm.make_qid_to_has_ans(V2_DATASET) == {
      "a1": True, "a2": True, "a3": False, "a4": False, "a5": True}
  exact, f1 = sm.get_raw_scores(V2_DATASET, V2_PREDS)
  assert exact == {"a1": 0, "a2": 1, "a3": 1, "a4": 0, "a5": 0}
  assert f1 == pytest.approx(
      {"a1": 2.0 / 3.0, "a2": 1.0, "a3": 1.0, "a4": 0.0, "a5": 0.0})
  # Golds that normalise to nothing fall back to "": an answer that is
  # only an article is matched by the empty prediction.
  exact, f1 = sm.get_raw_scores(_dataset(_qa("x", "The")), {"x": ""})
  assert exact == {"x": 1} and f1 == {"x": 1.0}


def test_apply_no_ans_threshold():
  has_ans = {"p": True, "n": False, "k": True}
  scores = {"p": 0.5, "n": 0.0, "k": 1.0}
  na = {"p": 2.0, "n": 2.0, "k": 1.0}
  # Null iff na > thresh (strictly): p -> 0, n -> 1, k keeps 1.0.
  assert sm.apply_no_ans_threshold(scores, na, has_ans, 1.0) == {
      "p": 0.0, "n": 1.0, "k": 1.0}
  assert sm.apply_no_ans_threshold(scores, na, has_ans, 2.0) == scores


def test_make_eval_dict_and_merge():
  exact = {"a": 1, "b": 0, "c": 1}
  f1 = {"a": 1.0, "b": 0.5, "c": 1.0}
  out = sm.make_eval_dict(exact, f1)
  assert list(out) == ["exact", "f1", "total"]
  assert out["exact"] == pytest.approx(200.0 / 3)
  assert out["f1"] == pytest.approx(250.0 / 3)
  assert out["total"] == 3
  sub = sm.make_eval_dict(exact, f1, ["b"])
  assert dict(sub) == {"exact": 0.0, "f1": 50.0, "total": 1}
  sm.merge_eval(out, sub, "HasAns")
  assert out["HasAns_f1"] == 50.0 and out["HasAns_total"] == 1


def test_evaluate_v2_without_na_probs():
  result = sm.evaluate_v2(V2_DATASET, V2_PREDS)
  expected = {
      "exact": 40.0, "f1": 100.0 * (2.0 / 3 + 2) / 5, "total": 5,
      "HasAns_exact": 100.0 / 3, "HasAns_f1": 100.0 * (2.0 / 3 + 1) / 3,
      "HasAns_total": 3,
      "NoAns_exact": 50.0, "NoAns_f1": 50.0, "NoAns_total": 2,
  }
  assert list(result) == list(expected)
  assert dict(result) == pytest.approx(expected)


def test_evaluate_v2_with_na_probs():
  result = sm.evaluate_v2(V2_DATASET, V2_PREDS, V2_NA, na_prob_thresh=1.0)
  # a3 (3.0) and a4 (2.0) become null: both unanswerable, so both score 1.
  assert result["exact"] == pytest.approx(60.0)
  assert result["f1"] == pytest.approx(100.0 * (2.0 / 3 + 3) / 5)
  assert result["NoAns_exact"] == 100.0
  assert result["HasAns_exact"] == pytest.approx(100.0 / 3)
  # Sweep by na: a2 (-1), a1 (0.2), a5 (0.5), a4 (2), a3 (3), from the
  # all-null score 2 (a3, a4).
  #   exact: +1, +0, +0, -1, +0 -> best 3 at -1.0 (lowest wins ties)
  #   f1:    +1, +2/3, +0, -1, +0 -> best 3 2/3 at 0.2
  assert result["best_exact"] == pytest.approx(60.0)
  assert result["best_exact_thresh"] == -1.0
  assert result["best_f1"] == pytest.approx(100.0 * (3 + 2.0 / 3) / 5)
  assert result["best_f1_thresh"] == 0.2
  assert list(result)[-4:] == ["best_exact", "best_exact_thresh",
                               "best_f1", "best_f1_thresh"]


def test_evaluate_v2_only_answerable_subset():
  result = sm.evaluate_v2(_dataset(_qa("a", "x")), {"a": "x"})
  assert "HasAns_exact" in result and "NoAns_exact" not in result


def test_evaluate_v2_missing_na_prob_means_null(caplog):
  # Only a2 (answered right) and a4 (answered wrongly, unanswerable) have
  # scores; the others are always null: a1 0, a3 1, a5 0.
  with caplog.at_level(logging.WARNING):
    result = sm.evaluate_v2(V2_DATASET, V2_PREDS, {"a2": 0.0, "a4": 0.5},
                            na_prob_thresh=1.0)
  assert "3 of 5 questions have no no-answer score" in caplog.text
  assert result["exact"] == pytest.approx(40.0)  # a2, a3
  # Best: answer a2 only (threshold 0.0) -> a2, a3, a4 = 60.
  assert result["best_exact"] == pytest.approx(60.0)
  assert result["best_exact_thresh"] == 0.0


def _brute_force_best(scores, na_probs, has_ans):
  """Best score over every threshold that gives a distinct null set."""
  values = sorted(set(na_probs.values()))
  candidates = [values[0] - 1.0] + values
  best = None
  for thresh in candidates:
    applied = sm.apply_no_ans_threshold(scores, na_probs, has_ans, thresh)
    score = 100.0 * sum(applied.values()) / len(applied)
    if best is None or score > best + 1e-9:
      best = score
  return best


def _check_thresh(scores, na_probs, has_ans):
  best, thresh = sm.find_best_thresh({}, scores, na_probs, has_ans)
  assert best == pytest.approx(_brute_force_best(scores, na_probs, has_ans))
  applied = sm.apply_no_ans_threshold(scores, na_probs, has_ans, thresh)
  assert 100.0 * sum(applied.values()) / len(applied) == pytest.approx(best)
  return best, thresh


def test_find_best_thresh_matches_brute_force():
  rng = random.Random(7)
  for trial in range(200):
    n = rng.randint(1, 9)
    qids = ["q%d" % i for i in range(n)]
    has_ans = {q: rng.random() < 0.5 for q in qids}
    # Few distinct values, so ties are common; logits, possibly negative.
    na_probs = {q: rng.choice([-2.5, -1.0, 0.0, 0.5, 3.0]) for q in qids}
    scores = {}
    for q in qids:
      if has_ans[q]:
        scores[q] = rng.choice([0.0, 0.25, 1.0])
      else:
        scores[q] = rng.choice([0.0, 1.0])
    best, thresh = _check_thresh(scores, na_probs, has_ans)
    assert thresh in set(na_probs.values()) or thresh == (
        min(na_probs.values()) - 1.0), trial


def test_find_best_thresh_ties_answer_together():
  # q_yes (answerable, right) and q_no (unanswerable, answered wrongly)
  # share na 0.5. Answering only q_yes would score 2/2, but no threshold
  # separates them: answering both scores 1/2, as does all-null.
  has_ans = {"q_yes": True, "q_no": False}
  scores = {"q_yes": 1.0, "q_no": 0.0}
  na = {"q_yes": 0.5, "q_no": 0.5}
  best, thresh = _check_thresh(scores, na, has_ans)
  assert best == 50.0
  assert thresh == -0.5  # All-null: below every na.


def test_find_best_thresh_all_null_with_logits():
  # Negative logits: the official script's 0.0 would answer everything
  # and score 0; all-null scores 100.
  has_ans = {"a": False, "b": False}
  scores = {"a": 0.0, "b": 0.0}
  na = {"a": -3.0, "b": -1.0}
  best, thresh = _check_thresh(scores, na, has_ans)
  assert best == 100.0
  assert thresh == -4.0


def test_find_best_thresh_answer_everything():
  has_ans = {"a": True, "b": True, "c": False}
  scores = {"a": 1.0, "b": 0.5, "c": 1.0}
  na = {"a": 0.1, "b": 0.9, "c": 0.3}
  best, thresh = _check_thresh(scores, na, has_ans)
  assert best == pytest.approx(100.0 * 2.5 / 3)
  assert thresh == 0.9


def test_find_best_thresh_every_order_of_ties():
  # The result must not depend on the order of equal na_probs.
  has_ans = {"a": True, "b": False, "c": True}
  scores = {"a": 1.0, "b": 0.0, "c": 0.0}
  na = {"a": 1.0, "b": 1.0, "c": 1.0}
  results = set()
  for order in itertools.permutations(scores):
    ordered = {q: scores[q] for q in order}
    results.add(sm.find_best_thresh({}, ordered, na, has_ans))
  assert results == {(100.0 / 3, 0.0)}
