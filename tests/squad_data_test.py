# coding=utf-8
"""Tests for albert.squad_data: what a SQuAD file is checked for when read.

A scored file (one with answers) is checked for everything the metrics
read before any model work; ids are strings everywhere.
"""

import re

import pytest

from squad_utils_test import CONTEXT_1
from squad_utils_test import qa
from squad_utils_test import squad
from squad_utils_test import write_json
from albert import squad_data
from albert import squad_utils as su


def _scored(second_qa, version):
  """A file with answers whose second question is `second_qa`."""
  return squad([("a", [(CONTEXT_1, [qa("q1", "Q?", [("Paris", 0)]),
                                    second_qa])])], version=version)


@pytest.mark.parametrize("version, second, message", [
    (squad_data.V1, qa("q2", "Q?"),
     r'has no "answers"; expected a non-empty list of \{"text", '
     r'"answer_start"\}.*SQuAD v1\.1'),
    (squad_data.V1, qa("q2", "Q?", []),
     r'has an empty "answers" list; expected a non-empty list .*'
     r'use run_squad_v2'),
    (squad_data.V1, qa("q2", "Q?", [], True), r'an empty "answers" list'),
    (squad_data.V2, qa("q2", "Q?", None, False),
     r'has no "answers"; expected a list of \{"text", "answer_start"\} '
     r'\(\[\] with "is_impossible": true'),
])
def test_a_scored_file_needs_what_scoring_reads_in_every_question(
    tmp_path, version, second, message):
  """Checked when read, not when the first checkpoint is scored."""
  path = write_json(tmp_path / "dev.json", _scored(second, version))
  with pytest.raises(su.SquadDataError) as info:
    su.read_squad_dataset(path, version)
  text = str(info.value)
  assert text.startswith(path + ': question id "q2" (article 0, paragraph '
                                '0, question 1) has ')
  assert "\n" not in text
  assert re.search(message, text), text
  # Reading for prediction alone does not need answers.
  assert len(su.read_squad_examples(path, False)) == 2


def test_a_scored_v2_file_accepts_what_the_metrics_read(tmp_path):
  # A gold null may leave "answers" out; an empty list is a null too.
  path = write_json(tmp_path / "dev.json", _scored(
      qa("q2", "Q?", None, True), squad_data.V2))
  dataset = su.read_squad_dataset(path, squad_data.V2)
  assert [q["answers"] for q in dataset[0]["paragraphs"][0]["qas"]] == [
      [{"text": "Paris", "answer_start": 0}], []]
  path = write_json(tmp_path / "dev2.json", _scored(
      qa("q2", "Q?", [], False), squad_data.V2))
  assert su.read_squad_dataset(path, squad_data.V2)
  # Without a version only the schema is checked.
  path = write_json(tmp_path / "dev3.json", _scored(qa("q2", "Q?"), "1.1"))
  dataset = su.read_squad_dataset(path)
  assert dataset[0]["paragraphs"][0]["qas"][1]["answers"] == []


def test_an_integer_id_is_its_decimal_string_everywhere(tmp_path):
  """predictions.json keys are strings: the scores must look ids up so."""
  data = squad([("a", [(CONTEXT_1, [qa(12345, "Q?", [("Paris", 0)]),
                                    qa("q2", "Q?", [("large", 38)])])])],
               version="1.1")
  path = write_json(tmp_path / "ints.json", data)
  assert [e.qas_id for e in su.read_squad_examples(path, False)] == [
      "12345", "q2"]
  assert [e.qas_id for e in su.read_squad_examples(path, True)] == [
      "12345", "q2"]
  dataset = su.read_squad_dataset(path, squad_data.V1)
  assert [q["id"] for q in dataset[0]["paragraphs"][0]["qas"]] == [
      "12345", "q2"]
  # 12345 and "12345" are then the same id.
  data["data"][0]["paragraphs"][0]["qas"][1]["id"] = "12345"
  with pytest.raises(su.SquadDataError, match=r'question id "12345" .* '
                                              r'repeats the id'):
    su.read_squad_examples(write_json(tmp_path / "both.json", data), False)
  # Other JSON types are no id.
  data["data"][0]["paragraphs"][0]["qas"][1]["id"] = 1.5
  with pytest.raises(su.SquadDataError, match=r'question 1: "id" is a '
                                              r'float, expected str or int'):
    su.read_squad_examples(write_json(tmp_path / "float.json", data), False)
