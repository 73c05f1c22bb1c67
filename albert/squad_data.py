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
"""Reading and checking SQuAD JSON files before any model work.

Every check a SQuAD file needs happens when it is read, so a bad file fails
at once with one line naming the file, the question (its id and where it
is: article, paragraph and question index, counted from 0) and what was
expected, instead of a traceback after a whole prediction run:

  * the schema: "data", "paragraphs", "context", "qas", "id", "question",
    and every answer's "text" and "answer_start", with their JSON types;
  * question ids: a string, or an integer, which is read as its decimal
    string everywhere (predictions.json keys are always strings, so the
    scores must look the ids up the same way); an id used twice is an
    error, since its predictions would overwrite each other;
  * a file that is scored (some question has answers): every question has
    what the metrics read (`read_squad_dataset` with a version).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import json

import tensorflow.compat.v1 as tf

# The versions `read_squad_dataset` checks a scored file for.
V1 = "v1.1"
V2 = "v2.0"


class SquadDataError(ValueError):
  """A SQuAD file is malformed; the message names the file and the place."""


class SquadFileNotFoundError(FileNotFoundError, SquadDataError):
  """A SQuAD file does not exist."""


# One validated question.
#   qas_id: the id as a str.
#   answers: list of (text, answer_start), or None when the question has no
#     "answers" key (a test file's questions).
#   where: 'question id "x" (article a, paragraph p, question q)', for
#     messages.
Question = collections.namedtuple(
    "Question", ["qas_id", "question_text", "context", "answers",
                 "is_impossible", "where"])


def load_json(input_file):
  """Parses a JSON file read through tf.gfile, naming the file on error."""
  if not tf.io.gfile.exists(input_file):
    raise SquadFileNotFoundError("%s: file not found" % input_file)
  with tf.io.gfile.GFile(input_file, "rb") as reader:
    raw = reader.read()
  try:
    text = raw.decode("utf-8-sig")
  except UnicodeDecodeError as e:
    raise SquadDataError("%s: not UTF-8 text (%s)" % (input_file, e))
  try:
    return json.loads(text)
  except json.JSONDecodeError as e:
    raise SquadDataError("%s: not valid JSON: %s (line %d, column %d)" %
                         (input_file, e.msg, e.lineno, e.colno))


def _field(obj, key, kinds, input_file, where):
  """Returns obj[key], which must exist and be one of `kinds`."""
  if not isinstance(obj, dict):
    raise SquadDataError("%s: %s is a %s, not a JSON object" %
                         (input_file, where, type(obj).__name__))
  if key not in obj:
    raise SquadDataError('%s: %s has no "%s"' % (input_file, where, key))
  value = obj[key]
  # bool is an int in Python, but true is no answer_start.
  if not isinstance(value, kinds) or (isinstance(value, bool) and
                                      bool not in kinds):
    raise SquadDataError('%s: %s: "%s" is a %s, expected %s' % (
        input_file, where, key, type(value).__name__,
        " or ".join(k.__name__ for k in kinds)))
  return value


def _answers(qa, input_file, where):
  """A question's answers as (text, answer_start); None without the key."""
  if "answers" not in qa:
    return None
  answers = []
  for answer_index, answer in enumerate(
      _field(qa, "answers", (list,), input_file, where)):
    answer_where = "%s, answer %d" % (where, answer_index)
    text = _field(answer, "text", (str,), input_file, answer_where)
    start = _field(answer, "answer_start", (int,), input_file, answer_where)
    answers.append((text, start))
  return answers


def _question(qa, context, input_file, position, seen_ids):
  """Validates one "qas" entry; a `Question`."""
  # An integer id is read as its decimal string, as predictions.json (a
  # JSON object, whose keys are strings) will name it.
  qas_id = str(_field(qa, "id", (str, int), input_file, position))
  where = 'question id "%s" (%s)' % (qas_id, position)
  if qas_id in seen_ids:
    raise SquadDataError(
        "%s: %s repeats the id of %s; expected every question id once "
        "(predictions are keyed by id)" %
        (input_file, where, seen_ids[qas_id]))
  seen_ids[qas_id] = position
  question_text = _field(qa, "question", (str,), input_file, where)
  is_impossible = False
  if "is_impossible" in qa:
    is_impossible = bool(_field(qa, "is_impossible", (bool, int), input_file,
                                where))
  return Question(qas_id, question_text, context,
                  _answers(qa, input_file, where), is_impossible, where)


def questions(input_file, data):
  """Validates the SQuAD schema and yields every question in file order.

  Args:
    input_file: the file's path, for messages.
    data: the parsed JSON.

  Yields:
    `Question` tuples.

  Raises:
    SquadDataError: a missing or mistyped key, or a repeated question id.
  """
  articles = _field(data, "data", (list,), input_file, "the top level")
  seen_ids = {}
  for article_index, article in enumerate(articles):
    where = "article %d" % article_index
    paragraphs = _field(article, "paragraphs", (list,), input_file, where)
    for paragraph_index, paragraph in enumerate(paragraphs):
      where = "article %d, paragraph %d" % (article_index, paragraph_index)
      context = _field(paragraph, "context", (str,), input_file, where)
      qas = _field(paragraph, "qas", (list,), input_file, where)
      for qa_index, qa in enumerate(qas):
        yield _question(qa, context, input_file,
                        "%s, question %d" % (where, qa_index), seen_ids)


def check_scorable(input_file, question, version):
  """Fails unless `question` has what scoring it as `version` reads.

  Args:
    input_file: the file's path, for messages.
    question: a `Question` of a file that has answers (so is scored).
    version: V1 (every question has at least one gold answer) or V2 (every
      question has an "answers" list, [] for an unanswerable one; a
      question marked "is_impossible" may leave it out).

  Raises:
    SquadDataError: naming the file, the question and what was expected.
  """
  if version == V1 and not question.answers:
    raise SquadDataError(
        '%s: %s has %s; expected a non-empty list of {"text", '
        '"answer_start"}: this file has answers, so it is scored, and every '
        'SQuAD v1.1 question has a gold answer (a SQuAD 2.0 file? use '
        'run_squad_v2)' % (
            input_file, question.where, 'no "answers"'
            if question.answers is None else 'an empty "answers" list'))
  if (version == V2 and question.answers is None and
      not question.is_impossible):
    raise SquadDataError(
        '%s: %s has no "answers"; expected a list of {"text", '
        '"answer_start"} ([] with "is_impossible": true for an unanswerable '
        'question): this file has answers, so every question is scored' %
        (input_file, question.where))


def _normalise(data):
  """Ids as str and an "answers" list everywhere, in the parsed file.

  Only called on data `questions` accepted, so every key is there.
  """
  for article in data["data"]:
    for paragraph in article["paragraphs"]:
      for qa in paragraph["qas"]:
        qa["id"] = str(qa["id"])
        qa.setdefault("answers", [])


def read_squad_dataset(input_file, version=None):
  """Reads a SQuAD file for the evaluation scripts (squad_metrics).

  Args:
    input_file: path of an official SQuAD v1.1 or v2.0 JSON file.
    version: (optional) V1 or V2: also check every question has what
      scoring it as that version reads (see `check_scorable`).

  Returns:
    The file's "data" list (articles), after the same checks as
    `squad_utils.read_squad_examples`, with every question id a str (as in
    predictions.json) and an "answers" list ([] where the file had none).

  Raises:
    SquadDataError: the file is malformed or, with `version`, a question
      lacks its gold answers.
  """
  data = load_json(input_file)
  for question in questions(input_file, data):
    if version:
      check_scorable(input_file, question, version)
  _normalise(data)
  return data["data"]


def file_has_answers(input_file):
  """True if the file can be scored: some question has gold answers.

  Args:
    input_file: path of a SQuAD JSON file.

  Returns:
    True if any question has a non-empty "answers" list or is marked
    "is_impossible" (a v2.0 gold null); False for a test file without
    answers.
  """
  data = load_json(input_file)
  return any(question.answers or question.is_impossible
             for question in list(questions(input_file, data)))
