# coding=utf-8
"""export_to_onnx: the command, its checks of inputs and paths, int8.

The graph's numerical agreement with TensorFlow is onnx_graph_test's; here
the exported files are compared with TensorFlow once per head kind, and the
int8 check runs on fixtures whose heads have real margins (a classifier
whose boundary lies in a gap of its check set's scores, a SQuAD set whose
gold answers are the float32 model's), as a fine-tuned model has.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import export_to_onnx
from albert import onnx_check
from albert import onnx_graph
from albert import onnx_runtime
from albert import tokenization
from error_checks import one_line
import hub_fixtures
import onnx_fixtures

tf.disable_v2_behavior()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  return hub_fixtures.make_tiny_albert_dir(
      str(tmp_path_factory.mktemp("onnx") / "albert"), num_hidden_layers=3,
      num_hidden_groups=1, inner_group_num=1, max_position_embeddings=64)


def export(tiny, export_path, **overrides):
  values = dict(albert_directory=tiny.directory, export_path=export_path)
  values.update(overrides)
  return export_to_onnx.run(export_to_onnx.default_options(**values))


def error_of(tiny, export_path, **overrides):
  with pytest.raises(ValueError) as error:
    export(tiny, export_path, **overrides)
  return one_line(error.value)


def fine_tuned_dir(tiny, directory, weights):
  """An output_dir-like directory: a checkpoint, no albert_config.json."""
  os.makedirs(directory, exist_ok=True)
  onnx_fixtures.write_checkpoint(
      weights, os.path.join(directory, "model.ckpt-best"))
  return directory


def test_encoder_export_runs_like_tensorflow_and_prints_its_size(
    tiny, tmp_path):
  path = str(tmp_path / "out" / "albert.onnx")
  summary = export(tiny, path)
  assert os.listdir(str(tmp_path / "out")) == ["albert.onnx"]
  inputs = onnx_fixtures.random_inputs(np.random.RandomState(0), tiny.config,
                                       3, 21, pad_from=8)
  got = export_to_onnx.run_onnx(path, *inputs)
  expected = onnx_fixtures.tf_outputs(tiny.config, tiny.init_checkpoint,
                                      None, *inputs)
  for key, value in expected.items():
    np.testing.assert_allclose(got[key], value, atol=1e-4, rtol=0)
  first = export_to_onnx.format_summary(summary).splitlines()[0]
  assert first.startswith("Exported ONNX model (encoder, opset 17, int32 "
                          "inputs) to %s: " % path)
  assert first.endswith(": %s for %s of float32 parameters (%.2fx)" % (
      export_to_onnx.size_text(os.path.getsize(path)),
      export_to_onnx.size_text(summary.parameter_bytes),
      os.path.getsize(path) / float(summary.parameter_bytes)))
  # The pretraining heads are not part of the encoder's model.
  assert "cls/predictions/output_bias" in summary.unused_checkpoint_variables


def test_fine_tuned_output_dir_needs_and_takes_albert_config_file(
    tiny, tmp_path):
  weights = onnx_fixtures.read_checkpoint(tiny.init_checkpoint)
  rng = np.random.RandomState(0)
  weights["output_weights"] = rng.normal(0, 1, [3, 32]).astype(np.float32)
  weights["output_bias"] = rng.normal(0, 1, [3]).astype(np.float32)
  directory = fine_tuned_dir(tiny, str(tmp_path / "output_dir"), weights)
  path = str(tmp_path / "classifier.onnx")
  message = error_of(tiny, path, albert_directory=directory,
                     head="classifier")
  assert "--albert_config_file" in message and "output_dir" in message
  export(tiny, path, albert_directory=directory, head="classifier",
         albert_config_file=tiny.config_file)
  inputs = onnx_fixtures.random_inputs(rng, tiny.config, 2, 10)
  got = export_to_onnx.run_onnx(path, *inputs)
  expected = onnx_fixtures.tf_outputs(
      tiny.config, os.path.join(directory, "model.ckpt-best"), "classifier",
      *inputs)
  np.testing.assert_allclose(got["logits"], expected["logits"], atol=1e-4)
  np.testing.assert_allclose(got["probabilities"], expected["probabilities"],
                             atol=1e-5)


def test_a_head_the_checkpoint_lacks_is_one_line(tiny, tmp_path):
  message = error_of(tiny, str(tmp_path / "m.onnx"), head="squad")
  assert message == (
      "--head=squad: the checkpoint has no squad head: "
      "cls/squad/output_weights [2, 32] missing; cls/squad/output_bias [2] "
      "missing (it has no task head: export the encoder with --head=none)")
  message = error_of(tiny, str(tmp_path / "m.onnx"), head="squad_v2")
  assert message.startswith("--head=squad_v2 is not supported")
  assert not os.path.exists(str(tmp_path / "m.onnx"))


def test_a_classifier_checkpoint_is_no_race_model(tiny, tmp_path):
  weights = onnx_fixtures.read_checkpoint(tiny.init_checkpoint)
  weights["output_weights"] = np.zeros([3, 32], np.float32)
  weights["output_bias"] = np.zeros([3], np.float32)
  directory = fine_tuned_dir(tiny, str(tmp_path / "glue"), weights)
  message = error_of(tiny, str(tmp_path / "m.onnx"), head="race",
                     albert_directory=directory,
                     albert_config_file=tiny.config_file)
  assert message == (
      "--head=race: the checkpoint has no race head: output_weights [1, 32] "
      "is [3, 32]; output_bias [1] is [3] (it has the classifier head)")


def test_a_missing_or_misshapen_variable_is_one_line(tiny, tmp_path):
  weights = onnx_fixtures.read_checkpoint(tiny.init_checkpoint)
  name = "bert/pooler/dense/kernel"
  del weights[name]
  directory = fine_tuned_dir(tiny, str(tmp_path / "missing"), weights)
  message = error_of(tiny, str(tmp_path / "m.onnx"),
                     albert_directory=directory,
                     albert_config_file=tiny.config_file)
  assert message == (
      "init checkpoint %s/model.ckpt-best lacks %s [32, 32], which the "
      "config needs (is it this config's checkpoint?)" % (directory, name))
  weights[name] = np.zeros([32, 16], np.float32)
  directory = fine_tuned_dir(tiny, str(tmp_path / "misshapen"), weights)
  message = error_of(tiny, str(tmp_path / "m.onnx"),
                     albert_directory=directory,
                     albert_config_file=tiny.config_file)
  assert "%s: config says [32, 32], checkpoint has [32, 16]" % name in message
  assert not os.path.exists(str(tmp_path / "m.onnx"))


def test_existing_paths_and_inputs_are_protected(tiny, tmp_path):
  path = str(tmp_path / "m.onnx")
  export(tiny, path)
  message = error_of(tiny, path)
  assert message == ("export_path %s already exists; remove it or pass "
                     "--overwrite_export_path" % path)
  before = os.path.getmtime(path)
  export(tiny, path, overwrite_export_path=True)
  assert os.path.getmtime(path) >= before
  other = tmp_path / "notes.onnx"
  other.write_text("mine")
  message = error_of(tiny, str(other), overwrite_export_path=True)
  assert "is not an ONNX model written by export_to_onnx" in message
  assert other.read_text() == "mine"
  index = tiny.init_checkpoint + ".index"
  size = os.path.getsize(index)
  message = error_of(tiny, index, overwrite_export_path=True)
  assert "an input of this export" in message
  assert os.path.getsize(index) == size
  # Only the two exports' files: no temporary names were left.
  assert sorted(os.listdir(str(tmp_path))) == ["m.onnx", "notes.onnx"]


def test_without_onnx_the_command_says_how_to_install_it(
    tiny, tmp_path, monkeypatch):
  onnx = sys.modules["onnx"]
  monkeypatch.setitem(sys.modules, "onnx", None)
  message = error_of(tiny, str(tmp_path / "m.onnx"))
  assert message.startswith("export_to_onnx needs the onnx extra: "
                            "pip install .[onnx] (")
  monkeypatch.setitem(sys.modules, "onnx", onnx)
  monkeypatch.setitem(sys.modules, "onnxruntime", None)
  with pytest.raises(onnx_runtime.OnnxMissingError, match=r"\.\[onnx\]"):
    onnx_runtime.quantize_int8("a.onnx", "b.onnx")
  assert not os.path.exists(str(tmp_path / "m.onnx"))


# int8 ------------------------------------------------------------------------


def tokenizer_of(tiny):
  return tokenization.FullTokenizer(None, True, tiny.spm_model_file)


CHECK_OPTIONS = onnx_check.CheckOptions(64, 24, 32, 24, True)


@pytest.fixture(scope="module")
def confident_classifier(tiny, tmp_path_factory):
  """(output_dir, check file): two classes split at a gap of the scores.

  The boundary is put where no check text is near it, as training puts it
  between the classes of its data.
  """
  root = tmp_path_factory.mktemp("classifier")
  lines = hub_fixtures.make_corpus(num_sentences=120, seed=5)
  check_file = str(root / "check.txt")
  with open(check_file, "w") as f:
    f.write("\n".join("%s ||| %s" % pair if i % 3 == 0 else pair[0]
                      for i, pair in enumerate(zip(lines[::2], lines[1::2])))
            + "\n")
  weights = onnx_fixtures.read_checkpoint(tiny.init_checkpoint)
  checked = onnx_check.check_set(None, check_file, tokenizer_of(tiny),
                                 CHECK_OPTIONS)
  pooled = export_to_onnx.run_onnx(
      onnx_graph.build_model(tiny.config, weights), checked.input_ids,
      checked.input_mask, checked.segment_ids)["pooled_output"]
  centered = pooled - pooled.mean(0)
  direction = np.linalg.svd(centered, full_matrices=False)[2][0]
  scores = np.sort(pooled @ direction)
  middle = scores[len(scores) // 4:3 * len(scores) // 4]
  gap = np.argmax(np.diff(middle))
  boundary = (middle[gap] + middle[gap + 1]) / 2
  weights["output_weights"] = 20 * np.stack([-direction, direction]).astype(
      np.float32)
  weights["output_bias"] = 20 * np.array([boundary, -boundary], np.float32)
  return fine_tuned_dir(tiny, str(root / "output_dir"), weights), check_file


def test_int8_classifier_agrees_and_the_command_prints_it(
    tiny, confident_classifier, tmp_path, capsys):
  directory, check_file = confident_classifier
  path = str(tmp_path / "glue.onnx")
  summary = export(tiny, path, albert_directory=directory,
                   albert_config_file=tiny.config_file, head="classifier",
                   quantize="int8", check_file=check_file,
                   spm_model_file=tiny.spm_model_file)
  assert summary.int8_path == str(tmp_path / "glue.int8.onnx")
  assert summary.agreement.metric == "same_argmax"
  assert summary.agreement.value >= 0.99 and summary.agreement.passed
  lines = export_to_onnx.format_summary(summary).splitlines()
  assert lines[1] == "  int8 model %s: %s (%.2fx the float32 file)" % (
      summary.int8_path, export_to_onnx.size_text(summary.int8_bytes),
      summary.int8_bytes / float(summary.file_bytes))
  assert lines[2] == ("  int8 agreement: %.1f%% of 60 texts have the float32 "
                      "model's argmax (need >= 99%%)" %
                      (100 * summary.agreement.value))
  assert sorted(os.listdir(str(tmp_path))) == ["glue.int8.onnx", "glue.onnx"]
  # The int8 file is recognised as this command's for overwriting.
  assert export_to_onnx.is_previous_export(summary.int8_path)


def test_failing_int8_agreement_writes_nothing_and_exits_1(
    tiny, confident_classifier, tmp_path, monkeypatch, capsys):
  directory, check_file = confident_classifier
  monkeypatch.setattr(onnx_check, "MIN_SAME_ARGMAX", 1.01)
  path = str(tmp_path / "glue.onnx")
  options = dict(albert_directory=directory, head="classifier",
                 albert_config_file=tiny.config_file, quantize="int8",
                 check_file=check_file, spm_model_file=tiny.spm_model_file)
  message = error_of(tiny, path, **options)
  assert message.startswith("int8 agreement: ")
  assert message.endswith("(need >= 101%); the int8 model does not agree "
                          "with the float32 one, so nothing was written "
                          "(export without --quantize for the float32 "
                          "model)")
  assert os.listdir(str(tmp_path)) == []


@pytest.fixture(scope="module")
def squad_model(tiny, tmp_path_factory):
  """(output_dir, SQuAD v1.1 file) whose gold answers are the float32
  model's: its F1 is 100, the int8 model's must stay within 1 point."""
  root = tmp_path_factory.mktemp("squad")
  weights = onnx_fixtures.read_checkpoint(tiny.init_checkpoint)
  rng = np.random.RandomState(7)
  weights["cls/squad/output_weights"] = rng.normal(0, 1, [2, 32]).astype(
      np.float32)
  weights["cls/squad/output_bias"] = np.zeros([2], np.float32)
  lines = hub_fixtures.make_corpus(num_sentences=80, seed=9)
  paragraphs = [" ".join(lines[i:i + 4]) for i in range(0, 80, 4)]
  questions = [{"id": "q%d" % i, "question": lines[i][:30],
                "answers": [{"text": p.split()[0], "answer_start": 0}]}
               for i, p in enumerate(paragraphs)]
  data = {"version": "1.1", "data": [{"title": "t", "paragraphs": [
      {"context": p, "qas": [q]} for p, q in zip(paragraphs, questions)]}]}
  path = str(root / "dev.json")
  with open(path, "w") as f:
    json.dump(data, f)
  checked = onnx_check.check_set("squad", path, tokenizer_of(tiny),
                                 CHECK_OPTIONS)
  out = export_to_onnx.run_onnx(
      onnx_graph.build_model(tiny.config, weights, "squad"),
      checked.input_ids, checked.input_mask, checked.segment_ids)
  answers = onnx_check.squad_answers(checked.squad, out["start_logits"],
                                     out["end_logits"])
  for p, q in zip(paragraphs, questions):
    text = answers[q["id"]]
    q["answers"] = [{"text": text, "answer_start": p.index(text)}]
  with open(path, "w") as f:
    json.dump(data, f)
  return fine_tuned_dir(tiny, str(root / "output_dir"), weights), path


def test_int8_squad_f1_is_within_one_point(tiny, squad_model, tmp_path):
  directory, dev_file = squad_model
  summary = export(tiny, str(tmp_path / "squad.onnx"),
                   albert_directory=directory, head="squad",
                   albert_config_file=tiny.config_file, quantize="int8",
                   check_file=dev_file, max_seq_length=64,
                   spm_model_file=tiny.spm_model_file,
                   max_query_length=24, doc_stride=32)
  details = summary.agreement.details
  assert details["float32"]["f1"] == 100.0
  assert abs(details["int8"]["f1"] - 100.0) <= 1.0
  assert summary.agreement.line == (
      "int8 agreement: SQuAD F1 %.2f (int8) vs 100.00 (float32) on 20 "
      "questions, %.2f points apart (need <= 1.0)" %
      (details["int8"]["f1"], 100.0 - details["int8"]["f1"]))


def test_quantize_needs_a_check_file_and_checks_it(tiny, tmp_path):
  message = error_of(tiny, str(tmp_path / "m.onnx"), quantize="int8")
  assert message.startswith("--quantize=int8 needs --check_file")
  empty = tmp_path / "empty.txt"
  empty.write_text("\n\n")
  message = error_of(tiny, str(tmp_path / "m.onnx"), quantize="int8",
                     check_file=str(empty))
  assert message.startswith("check_file %s has no text" % empty)
  assert sorted(os.listdir(str(tmp_path))) == ["empty.txt"]


def test_encoder_int8_agreement_is_the_pooled_cosine(tiny, tmp_path):
  check = tmp_path / "texts.txt"
  check.write_text("\n".join(hub_fixtures.make_corpus(20, seed=3)) + "\n")
  summary = export(tiny, str(tmp_path / "m.onnx"), quantize="int8",
                   check_file=str(check))
  assert summary.agreement.metric == "cosine"
  assert summary.agreement.value >= onnx_check.MIN_COSINE
  # (Smaller only for real sizes: the tiny model's weights are less than
  # the quantization nodes; ALBERT-base's int8 file is 0.26x.)
  assert os.path.exists(summary.int8_path)
  # Exported again without --quantize: the earlier int8 model would
  # describe the earlier export, so it goes; a user's file of that name
  # stays.
  export(tiny, str(tmp_path / "m.onnx"), overwrite_export_path=True)
  assert not os.path.exists(summary.int8_path)
  with open(summary.int8_path, "w") as f:
    f.write("mine")
  export(tiny, str(tmp_path / "m.onnx"), overwrite_export_path=True)
  with open(summary.int8_path) as f:
    assert f.read() == "mine"


@pytest.mark.slow
def test_command_line_prints_the_summary_and_errors_in_one_line(
    tiny, tmp_path):
  command = [sys.executable, "-m", "albert.export_to_onnx",
             "--albert_directory=%s" % tiny.directory,
             "--export_path=%s" % (tmp_path / "m.onnx")]
  env = dict(os.environ, PYTHONPATH=ROOT)
  result = subprocess.run(command, capture_output=True, text=True, env=env,
                          timeout=300)
  assert result.returncode == 0, result.stderr
  assert result.stdout.startswith("Exported ONNX model (encoder, ")
  result = subprocess.run(command + ["--head=race"], capture_output=True,
                          text=True, env=env, timeout=300)
  assert result.returncode == 1
  assert result.stderr.splitlines()[-1].startswith(
      "export_to_onnx: error: export_path ")


def test_race_check_set_reads_official_files_as_its_saved_model_takes_them(
    tiny, tmp_path):
  race_dir = tmp_path / "RACE" / "dev" / "middle"
  race_dir.mkdir(parents=True)
  lines = hub_fixtures.make_corpus(12, seed=4)
  for index in range(2):
    (race_dir / ("%d.txt" % index)).write_text(json.dumps({
        "id": "m%d" % index, "article": " ".join(lines[:6]),
        "questions": ["Which is red?", "The cat _ the dog."],
        "options": [lines[6:10], ["sees", "reads", "finds", "keeps"]],
        "answers": ["A", "C"]}))
  checked = onnx_check.check_set("race", str(race_dir / "*.txt"),
                                 tokenizer_of(tiny), CHECK_OPTIONS)
  assert checked.input_ids.shape == (4, 4 * 64)
  weights = onnx_fixtures.read_checkpoint(tiny.init_checkpoint)
  weights["output_weights"] = np.ones([1, 32], np.float32)
  weights["output_bias"] = np.zeros([1], np.float32)
  model = onnx_graph.build_model(tiny.config, weights, "race")
  result = onnx_check.compare("race", checked, model, model)
  assert result.metric == "same_argmax" and result.value == 1.0
  assert result.line == ("int8 agreement: 100.0% of 4 questions have the "
                         "float32 model's argmax (need >= 99%)")
