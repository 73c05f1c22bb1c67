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
"""Does an int8 model agree with its float32 model? Measured on real text.

export_to_onnx --quantize=int8 --check_file=... runs both models on a small
set and refuses the int8 model unless they agree:

  head       check_file                          agreement (threshold)
  none       one text per line, or "a ||| b"     mean cosine similarity of
                                                 pooled_output (>= 0.99)
  classifier the same                            same argmax of logits
                                                 (>= 99%); one label
                                                 (STS-B): Pearson r of the
                                                 scores (>= 0.99)
  race       official RACE question files (a     same argmax of
             glob such as RACE/dev/middle/*.txt) choice_logits (>= 99%)
  squad      a SQuAD v1.1 JSON file with answers F1 of each model's
                                                 answers against the gold
                                                 ones within 1 point

Texts become features exactly as fine-tuning makes them
(classifier_utils / race_utils / squad_features: "[CLS] a [SEP] b [SEP]"),
and SQuAD answers are decoded and scored by squad_predictions and
squad_metrics, so the check measures what a user of the model would see.

Not here: building, writing or quantizing models (onnx_graph,
export_to_onnx, onnx_runtime).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections

import numpy as np
import tensorflow.compat.v1 as tf

from albert import classifier_utils
from albert import onnx_runtime
from albert import race_utils
from albert import squad_data
from albert import squad_metrics
from albert import squad_predictions
from albert import squad_utils
from albert import text_lines

# Thresholds of the agreement the command asserts.
MIN_COSINE = 0.99
MIN_SAME_ARGMAX = 0.99
MIN_PEARSON = 0.99
MAX_F1_POINTS = 1.0
# squad_task's defaults for decoding answers.
N_BEST_SIZE = 20
MAX_ANSWER_LENGTH = 30

# What a check found. metric: its name; value: the measured agreement;
# passed: against the threshold; line: one line for people; details: the
# numbers behind it (F1 of each model, ...).
Agreement = collections.namedtuple(
    "Agreement", ["metric", "value", "threshold", "passed", "line",
                  "details"])

# The check set as the models take it, and what decoding needs.
CheckSet = collections.namedtuple(
    "CheckSet", ["input_ids", "input_mask", "segment_ids", "num_examples",
                 "squad"])
SquadSet = collections.namedtuple("SquadSet",
                                  ["dataset", "examples", "features"])

CheckOptions = collections.namedtuple(
    "CheckOptions", ["max_seq_length", "max_query_length", "doc_stride",
                     "max_qa_length", "do_lower_case"])


class CheckFileError(ValueError):
  """A check file that is missing, empty or not in its head's format."""


def _read_lines(check_file):
  """The non-empty lines of a text file, as (line number, text)."""
  if not tf.gfile.Exists(check_file):
    raise CheckFileError("check_file not found: %s" % check_file)
  with tf.gfile.GFile(check_file, "rb") as f:
    data = f.read()
  try:
    text = data.decode("utf-8-sig")
  except UnicodeDecodeError as e:
    raise CheckFileError("check_file %s is not UTF-8 text (byte offset %d)"
                         % (check_file, e.start))
  lines = [(number, line.strip()) for number, line in
           enumerate(text.splitlines(), 1) if line.strip()]
  if not lines:
    raise CheckFileError("check_file %s has no text: expected one text per "
                         "line, or 'text_a %s text_b'" %
                         (check_file, text_lines.SEPARATOR))
  return lines


def text_examples(check_file):
  """One classifier_utils.InputExample per line ("a" or "a ||| b").

  The label is a placeholder: convert_single_example needs one.
  """
  examples = []
  for number, line in _read_lines(check_file):
    # The same line format, and messages, as extract_features' input.
    try:
      text_a, text_b = text_lines.parse_line(
          line.encode("utf-8"), "check_file " + check_file, number)
    except text_lines.InputLineError as e:
      raise CheckFileError(str(e))
    examples.append(classifier_utils.InputExample(
        guid="check-%d" % number, text_a=text_a, text_b=text_b, label="0"))
  return examples


def _arrays(features):
  """int32 [N, W] arrays of a list of InputFeatures-like objects."""
  return [np.array([getattr(f, name) for f in features], np.int32)
          for name in ("input_ids", "input_mask", "segment_ids")]


def text_check_set(check_file, tokenizer, options):
  """The features of a text check file (encoder and classifier heads)."""
  examples = text_examples(check_file)
  features = [classifier_utils.convert_single_example(
      i, example, ["0"], options.max_seq_length, tokenizer, "check")
              for i, example in enumerate(examples)]
  return CheckSet(*_arrays(features), num_examples=len(features), squad=None)


def race_check_set(check_file, tokenizer, options):
  """Features [N, 4 * L] of official RACE files matching a glob."""
  paths = sorted(tf.gfile.Glob(check_file))
  if not paths:
    raise CheckFileError("check_file %s matches no file: for --head=race "
                         "give official RACE question files, e.g. "
                         "RACE/dev/middle/*.txt" % check_file)
  processor = race_utils.RaceProcessor(use_spm=tokenizer.sp_model is not None,
                                       do_lower_case=options.do_lower_case)
  examples = []
  for path in paths:
    # The reader of one official file; read_examples wants the whole
    # RACE/<split>/<level> tree.
    examples.extend(processor._read_file(path, "check", "check"))  # pylint: disable=protected-access
  labels = list(race_utils.LABELS)
  features = [race_utils.convert_single_example(
      i, example, labels, options.max_seq_length, tokenizer,
      options.max_qa_length) for i, example in enumerate(examples)]
  return CheckSet(*_arrays(features), num_examples=len(features), squad=None)


def squad_check_set(check_file, tokenizer, options):
  """The windows of a SQuAD v1.1 file with answers, and what scoring needs."""
  if not squad_data.file_has_answers(check_file):
    raise CheckFileError("check_file %s has no answers: the SQuAD check "
                         "scores both models against them (use a dev file)"
                         % check_file)
  examples = squad_utils.read_squad_examples(check_file, is_training=False)
  features = []
  squad_utils.convert_examples_to_features(
      examples, tokenizer, options.max_seq_length, options.doc_stride,
      options.max_query_length, False, features.append,
      options.do_lower_case)
  dataset = squad_data.load_json(check_file)
  return CheckSet(*_arrays(features), num_examples=len(examples),
                  squad=SquadSet(dataset, examples, features))


def check_set(head, check_file, tokenizer, options):
  """The `CheckSet` of a head's check file (see the module docstring).

  Raises:
    CheckFileError, SquadDataError, RaceDataError: one line naming the
      file and what is wrong.
  """
  if head == "squad":
    return squad_check_set(check_file, tokenizer, options)
  if head == "race":
    return race_check_set(check_file, tokenizer, options)
  return text_check_set(check_file, tokenizer, options)


def squad_answers(squad, start_logits, end_logits):
  """{question id: answer text} decoded from the windows' logits [N, S]."""
  results = [squad_predictions.RawResult(f.unique_id, list(s), list(e))
             for f, s, e in zip(squad.features, start_logits, end_logits)]
  result_dict = {}
  squad_predictions.accumulate_predictions_v1(
      result_dict, squad.examples, squad.features, results, N_BEST_SIZE,
      MAX_ANSWER_LENGTH)
  predictions, _ = squad_predictions.write_predictions_v1(
      result_dict, squad.examples, squad.features, results, N_BEST_SIZE,
      MAX_ANSWER_LENGTH, None, None)
  return predictions


def squad_f1(squad, start_logits, end_logits):
  """SQuAD v1.1 {"exact_match", "f1"} of answers decoded from logits [N, S]."""
  return squad_metrics.evaluate_v1(
      squad.dataset, squad_answers(squad, start_logits, end_logits))


def _cosines(a, b):
  """Row-wise cosine similarity of [N, H] arrays."""
  norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
  return np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)


def _argmax_agreement(float_logits, int8_logits, what):
  same = float(np.mean(np.argmax(float_logits, -1) ==
                       np.argmax(int8_logits, -1)))
  n = len(float_logits)
  return Agreement(
      "same_argmax", same, MIN_SAME_ARGMAX, same >= MIN_SAME_ARGMAX,
      "int8 agreement: %.1f%% of %d %s have the float32 model's argmax "
      "(need >= %.0f%%)" % (100 * same, n, what, 100 * MIN_SAME_ARGMAX),
      {"examples": n})


def _pearson_agreement(float_scores, int8_scores):
  if len(float_scores) < 2 or np.std(float_scores) == 0:
    raise CheckFileError("a one-label (regression) head needs a check file "
                         "with at least 2 texts whose scores differ")
  r = float(np.corrcoef(float_scores, int8_scores)[0, 1])
  return Agreement(
      "pearson", r, MIN_PEARSON, r >= MIN_PEARSON,
      "int8 agreement: Pearson r %.4f between the float32 and int8 scores of "
      "%d texts (need >= %.2f)" % (r, len(float_scores), MIN_PEARSON),
      {"examples": len(float_scores)})


def _squad_agreement(squad, float_outputs, int8_outputs):
  float_eval = squad_f1(squad, float_outputs["start_logits"],
                        float_outputs["end_logits"])
  int8_eval = squad_f1(squad, int8_outputs["start_logits"],
                       int8_outputs["end_logits"])
  gap = abs(float_eval["f1"] - int8_eval["f1"])
  return Agreement(
      "f1_gap", gap, MAX_F1_POINTS, gap <= MAX_F1_POINTS,
      "int8 agreement: SQuAD F1 %.2f (int8) vs %.2f (float32) on %d "
      "questions, %.2f points apart (need <= %.1f)" %
      (int8_eval["f1"], float_eval["f1"], len(squad.examples), gap,
       MAX_F1_POINTS),
      {"float32": float_eval, "int8": int8_eval})


def agreement(head, checked, float_outputs, int8_outputs):
  """How far the int8 model's outputs agree with the float32 model's.

  Args:
    head: None, "classifier", "squad" or "race".
    checked: the `CheckSet` both models ran on.
    float_outputs, int8_outputs: `onnx_runtime.run_onnx` results.

  Returns:
    `Agreement`.
  """
  if head == "squad":
    return _squad_agreement(checked.squad, float_outputs, int8_outputs)
  if head == "race":
    return _argmax_agreement(float_outputs["choice_logits"],
                             int8_outputs["choice_logits"], "questions")
  if head == "classifier":
    logits = float_outputs["logits"]
    if logits.ndim == 1:
      return _pearson_agreement(logits, int8_outputs["logits"])
    return _argmax_agreement(logits, int8_outputs["logits"], "texts")
  cosine = float(np.mean(_cosines(float_outputs["pooled_output"],
                                  int8_outputs["pooled_output"])))
  return Agreement(
      "cosine", cosine, MIN_COSINE, cosine >= MIN_COSINE,
      "int8 agreement: mean cosine similarity %.4f of the float32 and int8 "
      "pooled outputs of %d texts (need >= %.2f)" %
      (cosine, checked.num_examples, MIN_COSINE), {})


def compare(head, checked, float_model, int8_model, batch_size=32):
  """Runs both models on a check set; their `Agreement`.

  Args:
    head: the models' head (None for the encoder).
    checked: `check_set`'s result.
    float_model, int8_model: paths or sessions (onnx_runtime.session).
    batch_size: rows per run.
  """
  arrays = (checked.input_ids, checked.input_mask, checked.segment_ids)
  float_outputs = onnx_runtime.run_onnx(float_model, *arrays,
                                        batch_size=batch_size)
  int8_outputs = onnx_runtime.run_onnx(int8_model, *arrays,
                                       batch_size=batch_size)
  return agreement(head, checked, float_outputs, int8_outputs)
