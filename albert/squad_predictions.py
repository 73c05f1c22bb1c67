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
"""SQuAD answers: model scores -> exact substrings of the paragraph.

  accumulate_predictions_v1/2   collect the candidate spans of every window
                                (RawResult / RawResultV2), averaging the
                                scores of repeated calls (ensembles)
  write_predictions_v1/2        the n-best distinct answers per question,
                                the null decision of v2, and
                                predictions.json, nbest_predictions.json,
                                null_odds.json (written atomically)

Not here: the features the scores are for (squad_features, squad_utils),
scoring the answers (squad_metrics).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import json
import math
import os

import tensorflow.compat.v1 as tf

from albert import file_io

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


def _windows_with_results(result_dict, num_examples, all_features,
                          all_results):
  """Yields (example_index, windows) for every example, in order.

  windows: [(feature, result, doc_offset)] of the example's features that
  have a model result. Every feature gets its (possibly empty) entry in
  result_dict[example_index], so every question gets a prediction; those
  without a result are counted in one warning at the end.
  """
  example_index_to_features = _group_features(all_features)
  unique_id_to_result = _results_by_id(all_results)
  missing = 0
  for example_index in range(num_examples):
    example_results = result_dict.setdefault(example_index, {})
    windows = []
    for feature in example_index_to_features[example_index]:
      example_results.setdefault(feature.unique_id, {})
      result = unique_id_to_result.get(feature.unique_id)
      if result is None:
        missing += 1
        continue
      windows.append((feature, result, _doc_offset(feature)))
    yield example_index, windows
  _missing_results_warning(missing)


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
  for example_index, windows in _windows_with_results(
      result_dict, len(all_examples), all_features, all_results):
    for feature, result, doc_offset in windows:
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


def _answers(result_dict, all_examples, all_features, n_best_size,
             no_answer):
  """Yields (example_index, example, best text, n-best JSON) per question.

  Args:
    result_dict: filled by accumulate_predictions_v1/v2.
    all_examples: list of SquadExample.
    all_features: list of InputFeatures.
    n_best_size: length of each n-best list.
    no_answer: the _NbestPrediction of a question without candidates; its
      text is the best text too when no candidate has text.
  """
  example_index_to_features = _group_features(all_features)
  for example_index, example in enumerate(all_examples):
    nbest = _nbest(example, example_index_to_features[example_index],
                   result_dict, example_index, n_best_size) or [no_answer]
    best = next((entry.text for entry in nbest if entry.text),
                no_answer.text)
    yield example_index, example, best, _nbest_json(nbest)


def _write_json(path, value):
  """Writes value as JSON (indent 4) atomically; nothing if path is None."""
  if path is None:
    return
  tf.io.gfile.makedirs(os.path.dirname(path) or ".")
  file_io.atomic_write_text(path, json.dumps(value, indent=4) + "\n")


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
  all_predictions = collections.OrderedDict()
  all_nbest_json = collections.OrderedDict()
  # Rare (e.g. every top start outside max context); v1 must answer.
  no_answer = _NbestPrediction(text="empty", start_log_prob=0.0,
                               end_log_prob=0.0)
  for _, example, best, nbest_json in _answers(
      result_dict, all_examples, all_features, n_best_size, no_answer):
    all_predictions[example.qas_id] = best
    all_nbest_json[example.qas_id] = nbest_json
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
  for example_index, windows in _windows_with_results(
      result_dict, len(all_examples), all_features, all_results):
    # Large and positive: an example without windows is certainly null.
    score_null = 1000000.0
    for feature, result, doc_offset in windows:
      score_null = min(score_null, float(result.cls_logits))
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
  all_predictions = collections.OrderedDict()
  all_nbest_json = collections.OrderedDict()
  scores_diff_json = collections.OrderedDict()
  no_answer = _NbestPrediction(text="", start_log_prob=-1e6,
                               end_log_prob=-1e6)
  for example_index, example, best_text, nbest_json in _answers(
      result_dict, all_examples, all_features, n_best_size, no_answer):
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
    all_nbest_json[example.qas_id] = nbest_json
  _write_json(output_prediction_file, all_predictions)
  _write_json(output_nbest_file, all_nbest_json)
  _write_json(output_null_log_odds_file, scores_diff_json)
  return all_predictions, all_nbest_json, scores_diff_json
