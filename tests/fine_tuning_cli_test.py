# coding=utf-8
"""The SQuAD and RACE command lines: released flags, one-line errors.

Release command lines must parse unchanged, so every flag the release
defines is checked here with its released default; bad input must end in
one line naming the file or flag, with nothing written.
"""

import json
import os
import re
import subprocess
import sys

import pytest

import hub_fixtures
from albert import run_race
from albert import run_squad_v1
from albert import run_squad_v2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TPU_FLAGS = {"use_tpu": False, "tpu_name": None, "tpu_zone": None,
             "gcp_project": None, "master": None, "num_tpu_cores": 8}

SQUAD_FLAGS = dict(
    TPU_FLAGS, albert_config_file=None, vocab_file=None, output_dir=None,
    train_file=None, predict_file=None, train_feature_file=None,
    predict_feature_file=None, predict_feature_left_file=None,
    init_checkpoint=None, albert_hub_module_handle=None, do_lower_case=True,
    max_seq_length=384, doc_stride=128, max_query_length=64, do_train=False,
    do_predict=False, train_batch_size=32, predict_batch_size=8,
    learning_rate=5e-5, num_train_epochs=3.0, warmup_proportion=0.1,
    save_checkpoints_steps=1000, iterations_per_loop=1000, n_best_size=20,
    max_answer_length=30, spm_model_file=None)

RELEASED_FLAGS = {
    run_squad_v1: dict(SQUAD_FLAGS, use_einsum=True, export_dir=None),
    run_squad_v2: dict(SQUAD_FLAGS, start_n_top=5, end_n_top=5,
                       dropout_prob=0.1),
    run_race: dict(
        TPU_FLAGS, data_dir=None, albert_config_file=None, task_name="race",
        vocab_file=None, train_file=None, eval_file=None, predict_file=None,
        spm_model_file=None, output_dir=None, init_checkpoint=None,
        albert_hub_module_handle=None, do_lower_case=True,
        max_seq_length=512, max_qa_length=128, high_only=False,
        middle_only=False, dropout_prob=0.1, num_keep_checkpoint=5,
        do_train=True, do_eval=True, do_predict=False, train_batch_size=32,
        eval_batch_size=8, predict_batch_size=8, learning_rate=1e-5,
        train_step=12000, warmup_step=1000, save_checkpoints_steps=100,
        iterations_per_loop=1000),
}


@pytest.mark.parametrize("module", list(RELEASED_FLAGS),
                         ids=lambda m: m.__name__.split(".")[-1])
def test_every_released_flag_exists_with_its_released_default(module):
  defaults = module.FLAG_DEFAULTS
  for name, value in RELEASED_FLAGS[module].items():
    assert name in defaults, name
    assert defaults[name] == value, (name, defaults[name], value)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
  return hub_fixtures.make_tiny_albert_dir(
      str(tmp_path_factory.mktemp("albert")))


def run_cli(module, args, cwd):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("ALBERT_TRACEBACK", None)
  return subprocess.run([sys.executable, "-m", module] + args, cwd=cwd,
                        env=env, capture_output=True, text=True,
                        timeout=300)


@pytest.mark.slow
def test_squad_cli_bad_json_is_one_line_naming_the_file(pretrained,
                                                        tmp_path):
  bad = tmp_path / "dev.json"
  bad.write_text('{"version": "v1.1", "data": [{"title": "x", ')
  result = run_cli("albert.run_squad_v1", [
      "--albert_config_file=" + pretrained.config_file,
      "--spm_model_file=" + pretrained.spm_model_file,
      "--output_dir=out", "--predict_file=dev.json", "--do_predict=true",
      "--max_seq_length=64", "--max_query_length=16"], cwd=str(tmp_path))
  assert result.returncode == 1
  errors = [l for l in result.stderr.splitlines()
            if l.startswith("run_squad_v1: error:")]
  assert len(errors) == 1 and "dev.json" in errors[0], result.stderr
  assert "Traceback" not in result.stderr
  assert not os.path.exists(str(tmp_path / "out"))


@pytest.mark.slow
def test_squad_cli_schema_error_names_the_missing_key(pretrained, tmp_path):
  (tmp_path / "train.json").write_text(json.dumps(
      {"version": "v2.0", "data": [{"title": "x", "paragraphs": [
          {"context": "a b c", "qas": [{"question": "q?", "answers": []}]}
      ]}]}))
  result = run_cli("albert.run_squad_v2", [
      "--albert_config_file=" + pretrained.config_file,
      "--spm_model_file=" + pretrained.spm_model_file,
      "--output_dir=out", "--train_file=train.json", "--do_train",
      "--max_seq_length=64", "--max_query_length=16", "--init_checkpoint=" +
      pretrained.init_checkpoint], cwd=str(tmp_path))
  assert result.returncode == 1
  errors = [l for l in result.stderr.splitlines()
            if l.startswith("run_squad_v2: error:")]
  assert len(errors) == 1, result.stderr
  assert "train.json" in errors[0] and "id" in errors[0]
  assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_race_cli_without_race_dir_is_one_line(pretrained, tmp_path):
  result = run_cli("albert.run_race", [
      "--albert_config_file=" + pretrained.config_file,
      "--spm_model_file=" + pretrained.spm_model_file,
      "--output_dir=out", "--data_dir=data", "--max_seq_length=64",
      "--max_qa_length=16",
      "--init_checkpoint=" + pretrained.init_checkpoint], cwd=str(tmp_path))
  assert result.returncode == 1
  errors = [l for l in result.stderr.splitlines()
            if l.startswith("run_race: error:")]
  assert len(errors) == 1 and "RACE" in errors[0], result.stderr
  assert "Traceback" not in result.stderr
  assert not os.path.exists(str(tmp_path / "out"))


@pytest.mark.slow
def test_squad_v2_release_command_line_runs_unchanged(pretrained, tmp_path):
  """The release README's v2 command (sizes shrunk), relative paths."""
  import run_squad_test  # pylint: disable=g-import-not-at-top
  import random  # pylint: disable=g-import-not-at-top
  rng = random.Random(3)
  for name, count in (("train-v2.0.json", 20), ("dev-v2.0.json", 4)):
    run_squad_test.write_json(str(tmp_path / name), run_squad_test.squad_json(
        rng, run_squad_test.ADJECTIVES, count, "v2.0", 0.3))
  os.symlink(pretrained.directory, str(tmp_path / "albert_base"))
  result = run_cli("albert.run_squad_v2", [
      "--albert_config_file=albert_base/albert_config.json",
      "--output_dir=squad2_out", "--train_file=train-v2.0.json",
      "--predict_file=dev-v2.0.json",
      "--train_feature_file=train_feature_file",
      "--predict_feature_file=predict_feature_file",
      "--predict_feature_left_file=predict_left_feature_file",
      "--spm_model_file=albert_base/30k-clean.model",
      "--init_checkpoint=albert_base/model.ckpt-best", "--do_lower_case",
      "--max_seq_length=64", "--doc_stride=24", "--max_query_length=16",
      "--do_train", "--do_predict", "--train_batch_size=8",
      "--predict_batch_size=8", "--learning_rate=5e-5",
      "--num_train_epochs=2.0", "--warmup_proportion=.1",
      "--save_checkpoints_steps=5000", "--n_best_size=20",
      "--max_answer_length=30"], cwd=str(tmp_path))
  assert result.returncode == 0, result.stderr[-3000:]
  out = tmp_path / "squad2_out"
  for name in ("predictions.json", "nbest_predictions.json",
               "null_odds.json", "eval_results.txt", "null_threshold.json",
               "model.ckpt-best.index"):
    assert (out / name).exists(), name
  # The release's cache flags name where the caches are, with sidecars.
  for name in ("train_feature_file", "predict_feature_file",
               "predict_left_feature_file"):
    assert (tmp_path / name).exists() and (tmp_path / (name + ".json")).exists()
  with open(str(out / "eval_results.txt")) as f:
    results = dict(line.rstrip("\n").split(" = ", 1) for line in f
                   if " = " in line)
  assert int(results["global_step"]) == 10  # int(40 questions / 8 * 2.0)
  assert "null_score_diff_threshold" in results
  lines = result.stderr.splitlines()
  # Written to a pipe, our progress lines read as in a terminal: no
  # "INFO:tensorflow:" prefix (TensorFlow's own lines keep theirs).
  assert "done" in lines[-1] and not lines[-1].startswith("INFO:"), lines[-1]
  assert any(re.match(r"^step \d+/10  ", line) for line in lines), lines
  assert any(line.startswith("INFO:tensorflow:") for line in lines)


@pytest.mark.slow
def test_commands_start_without_tensorflow_startup_errors(tmp_path):
  """TensorFlow's spurious C++ "Unable to register cuDNN factory" lines."""
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
  result = subprocess.run(
      [sys.executable, "-m", "albert.run_race", "--output_dir=out",
       "--data_dir=missing"], cwd=str(tmp_path), env=env,
      capture_output=True, text=True, timeout=300)
  assert result.returncode == 1
  assert result.stderr.strip().splitlines() == [
      "run_race: error: At least one of `--albert_config_file` and "
      "`--albert_hub_module_handle` must be set"], result.stderr
