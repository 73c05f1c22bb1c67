# coding=utf-8
"""Every command works with relative paths, run from another directory.

The release's users pass relative paths; a relative --output_dir once broke
evaluation (checkpoint paths were joined onto output_dir twice).
"""

import os
import shutil
import subprocess
import sys

import pytest

import hub_fixtures
import run_classifier_test
import run_pretraining_test
import run_race_test

# Every test here runs a command in a fresh Python process.
pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
  return hub_fixtures.make_tiny_albert_dir(
      str(tmp_path_factory.mktemp("albert")), dropout_prob=0.0)


def run_cli(module, args, cwd):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  result = subprocess.run([sys.executable, "-m", module] + args, cwd=cwd,
                          env=env, capture_output=True, text=True,
                          timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  return result


def link_model(pretrained, work):
  shutil.copytree(pretrained.directory, str(work / "albert_base"))
  return ["--albert_config_file=albert_base/albert_config.json",
          "--spm_model_file=albert_base/30k-clean.model",
          "--init_checkpoint=albert_base/model.ckpt-best"]


def test_run_classifier_with_relative_paths(pretrained, tmp_path):
  work = tmp_path / "work"
  (work / "glue").mkdir(parents=True)
  run_classifier_test.write_sst2(str(work / "glue"), num_train=64,
                                 num_dev=16, num_test=8)
  run_cli("albert.run_classifier", link_model(pretrained, work) + [
      "--task_name=SST-2", "--data_dir=glue", "--output_dir=cls/out",
      "--do_train", "--do_eval", "--do_predict", "--max_seq_length=24",
      "--train_batch_size=8", "--train_step=4", "--save_checkpoints_steps=2",
      "--iterations_per_loop=2"], cwd=str(work))
  out = work / "cls" / "out"
  assert (out / "model.ckpt-best.index").exists()
  assert (out / "SST-2.tsv").exists()
  with open(str(out / "eval_results.txt")) as f:
    assert f.read().count("global_step = ") == 3  # Steps 0, 2 and 4.
  assert not (out / "cls").exists()


def test_run_pretraining_with_relative_paths(tmp_path):
  work = tmp_path / "work"
  (work / "data").mkdir(parents=True)
  run_pretraining_test.write_synthetic_records(
      str(work / "data" / "train.tfrecord"), 32, seed=0)
  run_pretraining_test.tiny_config_file(str(work))
  run_cli("albert.run_pretraining", [
      "--input_file=data/*.tfrecord", "--output_dir=model",
      "--albert_config_file=albert_config.json", "--do_eval",
      "--max_seq_length=%d" % run_pretraining_test.SEQ,
      "--max_predictions_per_seq=%d" % run_pretraining_test.PRED,
      "--train_batch_size=8", "--eval_batch_size=8", "--num_train_steps=2",
      "--num_warmup_steps=1", "--save_checkpoints_steps=1",
      "--iterations_per_loop=1", "--max_eval_steps=2"], cwd=str(work))
  # The release's defaults: --do_train is on without being asked for.
  assert (work / "model" / "model.ckpt-2.index").exists()
  assert (work / "model" / "model.ckpt-best.index").exists()


def test_run_race_with_relative_paths(pretrained, tmp_path):
  work = tmp_path / "work"
  work.mkdir()
  run_race_test.write_race(str(work / "data"),
                           files_per_level={"train": 2, "dev": 1, "test": 1})
  run_cli("albert.run_race", link_model(pretrained, work) + [
      "--data_dir=data", "--output_dir=race/out", "--max_seq_length=32",
      "--max_qa_length=12", "--train_batch_size=4", "--train_step=2",
      "--warmup_step=1", "--save_checkpoints_steps=1", "--do_predict"],
      cwd=str(work))
  out = work / "race" / "out"
  assert (out / "model.ckpt-best.index").exists()
  assert (out / "test_predictions.tsv").exists()
  with open(str(out / "eval_results.txt")) as f:
    assert f.read().count("global_step = ") == 3  # Steps 0, 1 and 2.


def test_create_pretraining_data_with_relative_paths(pretrained, tmp_path):
  work = tmp_path / "work"
  (work / "corpus").mkdir(parents=True)
  (work / "data").mkdir()
  lines = hub_fixtures.make_corpus(60, seed=3)
  with open(str(work / "corpus" / "a.txt"), "w") as f:
    for i, line in enumerate(lines):
      f.write(line + ("\n\n" if i % 6 == 5 else "\n"))
  shutil.copytree(pretrained.directory, str(work / "albert_base"))
  run_cli("albert.create_pretraining_data", [
      "--input_file=corpus/*.txt", "--output_file=data/train.tfrecord",
      "--spm_model_file=albert_base/30k-clean.model",
      "--vocab_file=albert_base/30k-clean.vocab", "--max_seq_length=32",
      "--max_predictions_per_seq=5", "--dupe_factor=1", "--num_workers=1"],
      cwd=str(work))
  assert (work / "data" / "train.tfrecord").stat().st_size > 0


def test_export_to_tfhub_with_relative_paths(pretrained, tmp_path):
  work = tmp_path / "work"
  work.mkdir()
  shutil.copytree(pretrained.directory, str(work / "albert_base"))
  run_cli("albert.export_to_tfhub", [
      "--albert_directory=albert_base", "--checkpoint_name=model.ckpt-best",
      "--export_path=hub/albert_base"], cwd=str(work))
  assert (work / "hub" / "albert_base" / "tfhub_module.pb").exists()
  assert (work / "albert_base" / "model.ckpt-best.index").exists()
