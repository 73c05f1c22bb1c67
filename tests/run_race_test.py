# coding=utf-8
"""End-to-end tests of run_race on a tiny model and synthetic RACE files.

The files are in the official layout (RACE/<split>/<level>/<n>.txt, one
JSON object each). The task is learnable: the right option is the one that
says "river".
"""

import json
import os
import random

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import hub_fixtures
from albert import run_race

tf.disable_v2_behavior()

SEQ = 32
WORDS = ("the cat dog bird tree stone house city road ship star cloud rain "
         "red green blue quick lazy happy model text word").split()
LETTERS = "ABCD"


def phrase(rng, n):
  return " ".join(rng.choice(WORDS) for _ in range(n))


def write_race(root, seed=0, files_per_level=None, with_answers=True):
  """RACE/<split>/<level>/<n>.txt files; returns {split: [(level, q)]}."""
  rng = random.Random(seed)
  files_per_level = files_per_level or {"train": 40, "dev": 8, "test": 6}
  written = {}
  for split, count in files_per_level.items():
    written[split] = []
    for level in ("middle", "high"):
      directory = os.path.join(root, "RACE", split, level)
      os.makedirs(directory, exist_ok=True)
      for n in range(count):
        questions, options, answers = [], [], []
        for q in range(4):
          right = rng.randrange(4)
          choice = [phrase(rng, 2) for _ in range(4)]
          choice[right] = "river " + phrase(rng, 1)
          # Every other question is a cloze question with a blank.
          questions.append("the _ is here ." if q % 2 else "which one ?")
          options.append(choice)
          answers.append(LETTERS[right])
          written[split].append((level, right))
        data = {"id": "%s%d.txt" % (level, n),
                "article": phrase(rng, 12) + " .",
                "questions": questions, "options": options}
        if with_answers or split != "test":
          data["answers"] = answers
        with open(os.path.join(directory, "%d.txt" % n), "w") as f:
          json.dump(data, f)
  return written


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
  return hub_fixtures.make_tiny_albert_dir(
      str(tmp_path_factory.mktemp("albert")), dropout_prob=0.0)


@pytest.fixture(scope="module")
def race_data(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("race_data"))
  return root, write_race(root)


def options_for(pretrained, data_dir, output_dir, **overrides):
  values = dict(
      data_dir=data_dir, output_dir=output_dir,
      albert_config_file=pretrained.config_file,
      spm_model_file=pretrained.spm_model_file,
      init_checkpoint=pretrained.init_checkpoint, max_seq_length=SEQ,
      max_qa_length=12, train_batch_size=8, eval_batch_size=16,
      predict_batch_size=16, learning_rate=1e-3, train_step=240,
      warmup_step=20, save_checkpoints_steps=80, iterations_per_loop=80,
      dropout_prob=0.0, do_train=False, do_eval=False, random_seed=1)
  values.update(overrides)
  return run_race.default_options(**values)


@pytest.fixture(scope="module")
def race_run(pretrained, race_data, tmp_path_factory):
  data_dir, _ = race_data
  out = str(tmp_path_factory.mktemp("race_out"))
  summary = run_race.run(options_for(pretrained, data_dir, out,
                                     do_train=True, do_eval=True,
                                     do_predict=True))
  return out, summary


def read_tsv(path):
  with open(path) as f:
    return [line.rstrip("\n").split("\t") for line in f]


def test_learns_well_above_chance_with_per_level_accuracy(race_run,
                                                          race_data):
  out, summary = race_run
  best = summary["best"]
  assert best["eval_accuracy"] > 0.7, best
  assert best["middle_total"] == best["high_total"] == 32
  assert best["eval_accuracy"] == pytest.approx(
      (best["middle_accuracy"] + best["high_accuracy"]) / 2)
  with open(os.path.join(out, "eval_results.txt")) as f:
    text = f.read()
  assert text.count("global_step = ") == len(summary["eval_history"]) >= 3
  assert "middle_accuracy = " in text and "high_accuracy = " in text
  assert os.path.exists(os.path.join(out, "model.ckpt-best.index"))
  shapes = dict(tf.train.list_variables(os.path.join(out,
                                                     "model.ckpt-best")))
  assert shapes["output_weights"] == [1, 32]
  assert shapes["output_bias"] == [1]


def test_predict_writes_one_row_per_question_and_test_accuracy(
    race_run, race_data):
  out, summary = race_run
  _, written = race_data
  rows = read_tsv(os.path.join(out, "test_predictions.tsv"))
  assert rows[0] == ["id", "question_index", "level", "prediction",
                     "prob_A", "prob_B", "prob_C", "prob_D"]
  assert len(rows) - 1 == len(written["test"])
  right = 0
  for row, (level, answer) in zip(rows[1:], written["test"]):
    assert row[2] == level
    probs = [float(p) for p in row[4:]]
    assert abs(sum(probs) - 1.0) < 1e-3
    assert row[3] == LETTERS[int(np.argmax(probs))]
    right += row[3] == LETTERS[answer]
  with open(os.path.join(out, "predict_results.txt")) as f:
    results = dict(line.rstrip("\n").split(" = ", 1) for line in f)
  assert float(results["eval_accuracy"]) == pytest.approx(
      right / len(written["test"]), abs=1e-6)
  assert summary["predictions"]["results"]["eval_accuracy"] > 0.7


def test_predict_only_on_test_files_without_answers(race_run, pretrained,
                                                    tmp_path):
  out, _ = race_run
  data_dir = str(tmp_path / "unlabelled")
  write_race(data_dir, seed=5, files_per_level={"test": 3},
             with_answers=False)
  copy = str(tmp_path / "model")
  os.makedirs(copy)
  for path in tf.gfile.Glob(os.path.join(out, "model.ckpt-best.*")):
    tf.gfile.Copy(path, os.path.join(copy, os.path.basename(path)))
  # A previous run's accuracy, on another (labelled) test set, must not
  # stay beside the new predictions.
  tf.gfile.Copy(os.path.join(out, "predict_results.txt"),
                os.path.join(copy, "predict_results.txt"))
  summary = run_race.run(options_for(pretrained, data_dir, copy,
                                     init_checkpoint=None, do_predict=True,
                                     high_only=True))
  rows = read_tsv(os.path.join(copy, "test_predictions.tsv"))
  assert len(rows) - 1 == 3 * 4  # high only: 3 files of 4 questions
  assert {row[2] for row in rows[1:]} == {"high"}
  assert summary["predictions"]["results"] == {}
  assert not os.path.exists(os.path.join(copy, "predict_results.txt"))


@pytest.mark.parametrize("overrides, message", [
    (dict(data_dir="MISSING"), "RACE"),
    (dict(high_only=True, middle_only=True), "high_only"),
    (dict(max_qa_length=30), "max_qa_length"),
])
def test_bad_input_fails_before_writing(pretrained, race_data, tmp_path,
                                        overrides, message):
  data_dir, _ = race_data
  if overrides.get("data_dir") == "MISSING":
    data_dir = str(tmp_path / "nothing")
  overrides = {k: v for k, v in overrides.items() if k != "data_dir"}
  out = str(tmp_path / "out")
  with pytest.raises(ValueError, match=message):
    run_race.run(options_for(pretrained, data_dir, out, do_train=True,
                             **overrides))
  assert not os.path.exists(out)
