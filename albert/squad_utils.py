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
                              windows -> InputFeatures (squad_features)
  feature_to_tf_example       the TFRecord layout of the release
  write/read_eval_features    the host-side fields decoding needs
  accumulate_predictions_v1/2 + write_predictions_v1/2
                              model scores -> exact paragraph substrings
                              (squad_predictions)

This module holds the examples, reading and the stored features; the
conversion and the decoding live in squad_features and squad_predictions,
and every name above stays importable from here, as released.

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
import gzip
import json
import os

import tensorflow.compat.v1 as tf

from albert import file_io
from albert import input_pipeline
from albert import squad_data
from albert import squad_features
from albert import squad_predictions

# Individual warnings about bad training questions stop after this many; a
# summary line gives the total.
_MAX_WARNINGS = 5

# The release's names of the conversion and the decoding, which moved to
# their own modules; code written against the release imports them here.
InputFeatures = squad_features.InputFeatures
convert_examples_to_features = squad_features.convert_examples_to_features
RawResult = squad_predictions.RawResult
RawResultV2 = squad_predictions.RawResultV2
accumulate_predictions_v1 = squad_predictions.accumulate_predictions_v1
write_predictions_v1 = squad_predictions.write_predictions_v1
accumulate_predictions_v2 = squad_predictions.accumulate_predictions_v2
write_predictions_v2 = squad_predictions.write_predictions_v2


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

  A ".gz" path is gzip-compressed. The parent directory is created; the
  temporary name is file_io's, so no partial file ever has the final name
  and no user glob picks one up.

  Args:
    path: the final file.
    write_fn: fn(writer) writing bytes with writer.write.
  """
  tf.io.gfile.makedirs(os.path.dirname(path) or ".")
  with file_io.atomic_open(path, "wb") as raw:
    if path.endswith(".gz"):
      # No file name and mtime 0 in the header: same bytes every run.
      with gzip.GzipFile(filename="", fileobj=raw, mode="wb",
                         mtime=0) as writer:
        write_fn(writer)
    else:
      write_fn(raw)


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
