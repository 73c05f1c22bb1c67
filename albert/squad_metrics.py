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
"""SQuAD v1.1 and v2.0 evaluation: exact match and token F1.

Written from the metric definitions of the official evaluation scripts, so
numbers are comparable with published ones:

* Answers are compared after normalisation: lower-case, drop every ASCII
  punctuation character, drop the whole words "a", "an" and "the", collapse
  whitespace.
* Exact match is 1 when the normalised strings are equal. F1 is the
  harmonic mean of token precision and recall, with tokens counted as a
  multiset. A question's score is the best over its gold answers.
* v1.1 reports {"exact_match", "f1"}, in percent.
* v2.0 treats an unanswerable question as having the single gold answer ""
  (F1 is 1 exactly when the prediction is also empty) and can turn
  answers into "no answer" where a no-answer score `na_prob` exceeds a
  threshold; it also reports the best threshold for each metric.

Differences from the official v2.0 script, which are bug fixes:

* `find_best_thresh` returns a threshold that, applied with
  `apply_no_ans_threshold`, reproduces its best score: questions with equal
  na_prob are answered together (the official script can report a score no
  threshold gives when na_probs tie), the gain of answering a question is
  computed from the same scores the threshold is applied to, and when
  answering nothing is best it returns min(na_probs) - 1 rather than 0.0
  (0.0 is not "below every score" when na_probs are logits).
* A missing prediction is scored as the empty answer (the official script
  leaves the question out of the v2 totals), and a missing no-answer score
  as "always null"; both are counted in a warning.

`dataset` arguments are the parsed SQuAD file's "data" list (the whole
parsed file, a dict with "data", is accepted too). Question ids are
compared as strings, so an integer id in the file matches its key in a
predictions.json; a repeated id is an error.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import re
import string

import tensorflow.compat.v1 as tf

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(s):
  """The SQuAD answer normalisation (the same in v1.1 and v2.0).

  Args:
    s: answer text.

  Returns:
    s lower-cased, without ASCII punctuation, without the words a/an/the,
    with runs of whitespace collapsed to one space and no leading or
    trailing whitespace.
  """
  text = s.lower()
  text = "".join(ch for ch in text if ch not in _PUNCTUATION)
  # Articles become a space (not nothing) so the words around them do not
  # merge; the whitespace collapse below tidies up.
  text = _ARTICLES.sub(" ", text)
  return " ".join(text.split())


normalize_answer_v1 = normalize_answer
normalize_answer_v2 = normalize_answer


def _articles(dataset):
  """The list of articles, from the "data" list or the whole parsed file."""
  if isinstance(dataset, dict):
    if "data" not in dataset:
      raise ValueError("Expected a parsed SQuAD file with a \"data\" key or "
                       "its \"data\" list; got a dict with keys %s" %
                       sorted(dataset)[:10])
    return dataset["data"]
  return dataset


def _questions(dataset):
  """Yields (id, qa) for every question (the "qas" entries), in order.

  The id is a str: an integer id is looked up as its decimal string, the
  key predictions.json (a JSON object) gives it.

  Raises:
    ValueError: an id appears twice (its predictions would collide).
  """
  seen = set()
  for article in _articles(dataset):
    for paragraph in article["paragraphs"]:
      for qa in paragraph["qas"]:
        qid = str(qa["id"])
        if qid in seen:
          raise ValueError("Question id %s appears more than once in the "
                           "dataset; ids must be unique" % qid)
        seen.add(qid)
        yield qid, qa


def _gold_texts(qid, qa, version):
  """The texts of a question's gold answers.

  Args:
    qid: the question's id, for messages.
    qa: the question's "qas" entry.
    version: "v1.1" (at least one answer needed) or "v2.0" (a missing
      "answers" is accepted only with "is_impossible": true).

  Raises:
    ValueError: the question lacks the answers its version needs.
  """
  answers = qa.get("answers")
  if answers is None and version == "v2.0" and qa.get("is_impossible"):
    answers = []
  if answers is None:
    raise ValueError("Question %s has no \"answers\"; expected a list of "
                     "{\"text\", \"answer_start\"} in every question of a "
                     "scored file" % qid)
  texts = [answer["text"] for answer in answers]
  if version == "v1.1" and not texts:
    raise ValueError(
        "Question %s has no gold answers; SQuAD v1.1 questions all have "
        "one (is this a SQuAD 2.0 file? use evaluate_v2)" % qid)
  return texts


def _token_f1(gold_tokens, pred_tokens):
  """F1 of two token lists counted as multisets; 0 with nothing in common."""
  common = collections.Counter(gold_tokens) & collections.Counter(pred_tokens)
  num_same = sum(common.values())
  if num_same == 0:
    return 0.0
  precision = num_same / len(pred_tokens)
  recall = num_same / len(gold_tokens)
  return 2.0 * precision * recall / (precision + recall)


# SQuAD v1.1 ----------------------------------------------------------------


def exact_match_score(prediction, ground_truth):
  """1.0 if the normalised texts are equal, else 0.0."""
  return float(normalize_answer(prediction) == normalize_answer(ground_truth))


def f1_score(prediction, ground_truth):
  """v1.1 token F1 of a prediction against one gold answer.

  Args:
    prediction: predicted text.
    ground_truth: gold text.

  Returns:
    float in [0, 1]; 0 when the normalised texts share no token (also
    when both are empty: v1.1 has no empty answers).
  """
  return _token_f1(normalize_answer(ground_truth).split(),
                   normalize_answer(prediction).split())


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
  """The best score of a prediction over all gold answers of a question.

  Args:
    metric_fn: fn(prediction, ground_truth) -> number.
    prediction: predicted text.
    ground_truths: non-empty list of gold texts.

  Returns:
    max over ground_truths of metric_fn(prediction, gold).
  """
  return max(metric_fn(prediction, gold) for gold in ground_truths)


def evaluate_v1(dataset, predictions):
  """SQuAD v1.1 exact match and F1 over every question of a dataset.

  Args:
    dataset: the parsed SQuAD "data" list.
    predictions: dict question id (str) -> predicted text. A question
      without a prediction scores 0 (a warning gives how many there were).

  Returns:
    {"exact_match": percent, "f1": percent}.

  Raises:
    ValueError: the dataset has no questions, repeats a question id, or
      has a question without answers (a SQuAD 2.0 file: use
      `evaluate_v2`).
  """
  exact_match = f1 = 0.0
  total = missing = 0
  for qid, qa in _questions(dataset):
    total += 1
    # Checked before the prediction: a bad dataset fails whatever was
    # predicted.
    ground_truths = _gold_texts(qid, qa, "v1.1")
    if qid not in predictions:
      missing += 1
      continue
    prediction = predictions[qid]
    exact_match += metric_max_over_ground_truths(exact_match_score,
                                                 prediction, ground_truths)
    f1 += metric_max_over_ground_truths(f1_score, prediction, ground_truths)
  if total == 0:
    raise ValueError("The dataset has no questions to evaluate")
  if missing:
    tf.logging.warning("%d of %d questions have no prediction and score 0",
                       missing, total)
  return {"exact_match": 100.0 * exact_match / total,
          "f1": 100.0 * f1 / total}


# SQuAD v2.0 ----------------------------------------------------------------


def get_tokens(s):
  """The normalised tokens of a text; [] for an empty or None text."""
  if not s:
    return []
  return normalize_answer(s).split()


def compute_exact(a_gold, a_pred):
  """1 if the normalised texts are equal, else 0."""
  return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
  """v2.0 token F1 of a prediction against one gold answer.

  Args:
    a_gold: gold text ("" for "no answer").
    a_pred: predicted text ("" for "no answer").

  Returns:
    float in [0, 1]. When either side has no tokens, 1 if both have none
    and 0 otherwise; else the token F1 (0 with no common token).
  """
  gold_tokens = get_tokens(a_gold)
  pred_tokens = get_tokens(a_pred)
  if not gold_tokens or not pred_tokens:
    return float(gold_tokens == pred_tokens)
  return _token_f1(gold_tokens, pred_tokens)


def make_qid_to_has_ans(dataset):
  """dict question id -> True if the question has a gold answer."""
  return {qid: bool(_gold_texts(qid, qa, "v2.0"))
          for qid, qa in _questions(dataset)}


def get_raw_scores(dataset, preds):
  """Exact and F1 of every question, before any no-answer threshold.

  Args:
    dataset: the parsed SQuAD "data" list.
    preds: dict question id -> predicted text ("" = no answer). A missing
      prediction is scored as "" (a warning gives how many there were).

  Returns:
    (exact_scores, f1_scores): dicts question id -> score in [0, 1], the
    best over the gold answers whose normalised text is non-empty, or
    against "" when there is none (unanswerable).
  """
  exact_scores = {}
  f1_scores = {}
  missing = 0
  for qid, qa in _questions(dataset):
    gold_answers = [text for text in _gold_texts(qid, qa, "v2.0")
                    if normalize_answer(text)]
    if not gold_answers:
      gold_answers = [""]
    if qid in preds:
      prediction = preds[qid]
    else:
      missing += 1
      prediction = ""
    exact_scores[qid] = max(compute_exact(a, prediction)
                            for a in gold_answers)
    f1_scores[qid] = max(compute_f1(a, prediction) for a in gold_answers)
  if missing:
    tf.logging.warning("%d of %d questions have no prediction; scored as "
                       "\"no answer\"", missing, len(exact_scores))
  return exact_scores, f1_scores


def _null_score(has_ans):
  # What a question scores when the system says "no answer".
  return 0.0 if has_ans else 1.0


def apply_no_ans_threshold(scores, na_probs, qid_to_has_ans, na_prob_thresh):
  """Scores after turning confident "no answer" predictions into nulls.

  Args:
    scores: dict question id -> raw score (from `get_raw_scores`).
    na_probs: dict question id -> no-answer score (probability or logit).
    qid_to_has_ans: dict question id -> has a gold answer.
    na_prob_thresh: a question is predicted null iff its na_prob is
      strictly greater than this.

  Returns:
    dict question id -> score: 1.0 for a null on an unanswerable question,
    0.0 for a null on an answerable one, else the raw score.
  """
  new_scores = {}
  for qid, score in scores.items():
    if na_probs[qid] > na_prob_thresh:
      new_scores[qid] = _null_score(qid_to_has_ans[qid])
    else:
      new_scores[qid] = score
  return new_scores


def make_eval_dict(exact_scores, f1_scores, qid_list=None):
  """Exact, F1 (percent) and count over all questions or a subset.

  Args:
    exact_scores: dict question id -> exact score.
    f1_scores: dict question id -> F1 score.
    qid_list: (optional) the questions to average over; default all.

  Returns:
    OrderedDict with "exact", "f1" and "total".

  Raises:
    ValueError: there is no question to average over.
  """
  if qid_list is None:
    qid_list = list(exact_scores)
  total = len(qid_list)
  if total == 0:
    raise ValueError("No questions to average over")
  return collections.OrderedDict([
      ("exact", 100.0 * sum(exact_scores[q] for q in qid_list) / total),
      ("f1", 100.0 * sum(f1_scores[q] for q in qid_list) / total),
      ("total", total),
  ])


def merge_eval(main_eval, new_eval, prefix):
  """Copies new_eval's entries into main_eval as "<prefix>_<key>"."""
  for key, value in new_eval.items():
    main_eval["%s_%s" % (prefix, key)] = value


def find_best_thresh(preds, scores, na_probs, qid_to_has_ans):
  """The no-answer threshold that maximises a metric, and that metric.

  Starts from "every question null" and answers the questions in order of
  increasing na_prob. Questions with the same na_prob are answered
  together, because no threshold separates them. The threshold reported
  for a step is the largest na_prob answered so far: under
  `apply_no_ans_threshold` (null iff na_prob > threshold) it answers exactly
  those questions, so it reproduces the best score. When answering nothing
  is best, the threshold is min(na_probs) - 1.0, below every score. Among
  equally good thresholds the lowest wins.

  Args:
    preds: dict question id -> predicted text. Unused: the gain of
      answering a question is read from `scores`, so it always agrees with
      `apply_no_ans_threshold` (kept for the official signature).
    scores: dict question id -> raw score (exact or F1).
    na_probs: dict question id -> no-answer score; must cover `scores`.
    qid_to_has_ans: dict question id -> has a gold answer.

  Returns:
    (best score in percent, best threshold).
  """
  del preds  # Unused; see the docstring.
  if not scores:
    raise ValueError("No questions to find a threshold for")
  qids = sorted(scores, key=lambda q: na_probs[q])
  current = sum(_null_score(qid_to_has_ans[q]) for q in qids)
  best_score = current
  best_thresh = na_probs[qids[0]] - 1.0
  i = 0
  while i < len(qids):
    value = na_probs[qids[i]]
    # Answer every question with this na_prob at once.
    while i < len(qids) and na_probs[qids[i]] == value:
      qid = qids[i]
      current += scores[qid] - _null_score(qid_to_has_ans[qid])
      i += 1
    if current > best_score:
      best_score = current
      best_thresh = value
  return 100.0 * best_score / len(scores), best_thresh


def find_all_best_thresh(main_eval, preds, exact_raw, f1_raw, na_probs,
                         qid_to_has_ans):
  """Adds best_exact, best_exact_thresh, best_f1, best_f1_thresh."""
  best_exact, exact_thresh = find_best_thresh(preds, exact_raw, na_probs,
                                              qid_to_has_ans)
  best_f1, f1_thresh = find_best_thresh(preds, f1_raw, na_probs,
                                        qid_to_has_ans)
  main_eval["best_exact"] = best_exact
  main_eval["best_exact_thresh"] = exact_thresh
  main_eval["best_f1"] = best_f1
  main_eval["best_f1_thresh"] = f1_thresh


def evaluate_v2(dataset, preds, na_probs=None, na_prob_thresh=1.0):
  """SQuAD v2.0 evaluation, as the official script reports it.

  Args:
    dataset: the parsed SQuAD "data" list.
    preds: dict question id -> predicted text ("" = no answer); a missing
      prediction counts as "".
    na_probs: (optional) dict question id -> no-answer score (probability
      or logit); a question without one is always null (with a warning).
      Without na_probs no prediction is turned into a null and no best
      threshold is searched.
    na_prob_thresh: predictions whose na_prob is strictly greater are
      scored as null.

  Returns:
    OrderedDict, values in percent: exact, f1, total; HasAns_exact,
    HasAns_f1, HasAns_total when some question has an answer; NoAns_exact,
    NoAns_f1, NoAns_total when some has none; with na_probs, best_exact,
    best_exact_thresh, best_f1, best_f1_thresh.

  Raises:
    ValueError: there are no questions, an id repeats, or a question has
      no "answers" and is not marked "is_impossible".
  """
  qid_to_has_ans = make_qid_to_has_ans(dataset)
  has_ans_qids = [q for q, has in qid_to_has_ans.items() if has]
  no_ans_qids = [q for q, has in qid_to_has_ans.items() if not has]
  exact_raw, f1_raw = get_raw_scores(dataset, preds)
  if na_probs is None:
    scores_na = {q: 0.0 for q in exact_raw}
  else:
    lacking = [q for q in exact_raw if q not in na_probs]
    if lacking:
      tf.logging.warning(
          "%d of %d questions have no no-answer score (e.g. %s); they are "
          "scored as \"no answer\"", len(lacking), len(exact_raw),
          ", ".join(lacking[:5]))
    # +inf: always null, which scores like the empty answer a missing
    # prediction gets.
    scores_na = {q: na_probs.get(q, float("inf")) for q in exact_raw}
  exact = apply_no_ans_threshold(exact_raw, scores_na, qid_to_has_ans,
                                 na_prob_thresh)
  f1 = apply_no_ans_threshold(f1_raw, scores_na, qid_to_has_ans,
                              na_prob_thresh)
  result = make_eval_dict(exact, f1)
  if has_ans_qids:
    merge_eval(result, make_eval_dict(exact, f1, has_ans_qids), "HasAns")
  if no_ans_qids:
    merge_eval(result, make_eval_dict(exact, f1, no_ans_qids), "NoAns")
  if na_probs is not None:
    find_all_best_thresh(result, preds, exact_raw, f1_raw, scores_na,
                         qid_to_has_ans)
  return result
