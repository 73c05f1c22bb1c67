# coding=utf-8
"""End-to-end tests of run_squad_v1 and run_squad_v2 on tiny models.

The pretrained model is a tiny released-style directory from hub_fixtures;
the data is a learnable synthetic SQuAD written in the official JSON
layouts: the answer is the one adjective in a paragraph of nouns (v2: an
unanswerable paragraph has none).
"""

import json
import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import hub_fixtures
import tflite_checks
from run_classifier_test import read_blocks
from albert import checkpoints
from albert import command_line
from albert import estimators
from albert import input_pipeline
from albert import run_squad_v1
from albert import run_squad_v2
from albert import squad_heads
from albert import squad_utils
from albert import tflite_export
from albert import tokenization

tf.disable_v2_behavior()

SEQ = 64
QUESTIONS = ("which word is an adjective ?", "what is the adjective ?",
             "the adjective is what ?")
FILLER = "the cat dog bird stone city ship cloud rain model text word".split()
ADJECTIVES = "red blue quick lazy happy".split()


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
  return hub_fixtures.make_tiny_albert_dir(
      str(tmp_path_factory.mktemp("albert")), dropout_prob=0.0)


@pytest.fixture(scope="module")
def answer_words(pretrained):
  """The adjectives, each one sentencepiece (clean answer spans)."""
  tokenizer = tokenization.FullTokenizer(
      None, True, spm_model_file=pretrained.spm_model_file)
  assert all(len(tokenizer.tokenize(w)) == 1 for w in ADJECTIVES)
  return ADJECTIVES


def make_paragraph(rng, answer, num_words):
  """Filler nouns with the answer somewhere (or no answer); (text, start)."""
  text = [rng.choice(FILLER) for _ in range(num_words)]
  if answer is None:
    return " ".join(text) + " .", -1
  where = rng.randint(0, num_words)
  prefix = " ".join(text[:where])
  prefix = prefix + " " if prefix else ""
  paragraph = prefix + answer + " " + " ".join(text[where:])
  return paragraph.strip() + " .", len(prefix)


def squad_json(rng, words, num_paragraphs, version, impossible_share=0.0,
               with_answers=True, prefix="q"):
  """A SQuAD file's contents, official layout, 2 questions per paragraph."""
  paragraphs = []
  count = 0
  for _ in range(num_paragraphs):
    impossible = rng.random() < impossible_share
    answer = None if impossible else rng.choice(words)
    # Some paragraphs are longer than one window.
    num_words = rng.choice([8, 14, 20, 60])
    context, answer_start = make_paragraph(rng, answer, num_words)
    qas = []
    for _ in range(2):
      qa = {"id": "%s%05d" % (prefix, count),
            "question": rng.choice(QUESTIONS)}
      count += 1
      if with_answers:
        if impossible:
          qa["answers"] = []
          qa["plausible_answers"] = [{"text": context.split()[1],
                                      "answer_start": 0}]
        else:
          qa["answers"] = [{"text": answer, "answer_start": answer_start}]
        if version == "v2.0":
          qa["is_impossible"] = impossible
      qas.append(qa)
    paragraphs.append({"context": context, "qas": qas})
  return {"version": version,
          "data": [{"title": "Synthetic", "paragraphs": paragraphs}]}


def write_json(path, data):
  with open(path, "w", encoding="utf-8") as f:
    json.dump(data, f)
  return path


@pytest.fixture(scope="module")
def squad_files(tmp_path_factory, answer_words):
  root = tmp_path_factory.mktemp("squad")
  rng = random.Random(0)
  files = {}
  for version, share in (("v1.1", 0.0), ("v2.0", 0.4)):
    files[version] = dict(
        train=write_json(str(root / ("train-%s.json" % version)),
                         squad_json(rng, answer_words, 200, version, share)),
        dev=write_json(str(root / ("dev-%s.json" % version)),
                       squad_json(rng, answer_words, 30, version, share,
                                  prefix="d")),
        test=write_json(str(root / ("test-%s.json" % version)),
                        squad_json(rng, answer_words, 10, version, share,
                                   with_answers=False, prefix="t")))
  return files


def options_for(module, pretrained, output_dir, **overrides):
  values = dict(
      albert_config_file=pretrained.config_file,
      spm_model_file=pretrained.spm_model_file,
      init_checkpoint=pretrained.init_checkpoint,
      output_dir=output_dir, max_seq_length=SEQ, doc_stride=24,
      max_query_length=12, train_batch_size=16, predict_batch_size=32,
      learning_rate=2e-3, num_train_epochs=8.0, warmup_proportion=0.1,
      save_checkpoints_steps=100, iterations_per_loop=100, n_best_size=5,
      max_answer_length=5, random_seed=1)
  values.update(overrides)
  return module.default_options(**values)


def load_json(path):
  with open(path) as f:
    return json.load(f)


@pytest.fixture(scope="module")
def v1_run(pretrained, squad_files, tmp_path_factory):
  out = str(tmp_path_factory.mktemp("squad1"))
  export_dir = str(tmp_path_factory.mktemp("squad1_export"))
  files = squad_files["v1.1"]
  summary = run_squad_v1.run(options_for(
      run_squad_v1, pretrained, out, train_file=files["train"],
      predict_file=files["dev"], do_train=True, do_predict=True,
      export_dir=export_dir))
  return out, summary, export_dir


@pytest.fixture(scope="module")
def v2_run(pretrained, squad_files, tmp_path_factory):
  out = str(tmp_path_factory.mktemp("squad2"))
  export_dir = str(tmp_path_factory.mktemp("squad2_export"))
  files = squad_files["v2.0"]
  summary = run_squad_v2.run(options_for(
      run_squad_v2, pretrained, out, train_file=files["train"],
      predict_file=files["dev"], do_train=True, do_predict=True,
      num_train_epochs=10.0, start_n_top=3, end_n_top=3,
      export_dir=export_dir))
  return out, summary


def dev_windows(pretrained, dev_file, count=3):
  """The first windows of a dev file: features and int32 input arrays."""
  tokenizer = tokenization.FullTokenizer(
      None, True, spm_model_file=pretrained.spm_model_file)
  examples = squad_utils.read_squad_examples(dev_file,
                                             is_training=False)[:count]
  features = []
  squad_utils.convert_examples_to_features(
      examples, tokenizer, SEQ, 24, 12, False, features.append, True)
  arrays = {name: np.array([getattr(f, name) for f in features], np.int32)
            for name in ("input_ids", "input_mask", "segment_ids")}
  return features, arrays


def saved_model_outputs(path, arrays):
  with tf.Graph().as_default(), tf.Session() as sess:
    meta = tf.saved_model.loader.load(sess, ["serve"], path)
    signature = meta.signature_def["serving_default"]
    feed = {signature.inputs[name].name: value
            for name, value in arrays.items()}
    return sess.run({k: v.name for k, v in signature.outputs.items()}, feed)


def estimator_outputs(model_fn, features, checkpoint, tmp_path, is_v2):
  records = str(tmp_path / "windows.tf_record")
  input_pipeline.write_examples(records, [
      squad_utils.feature_to_tf_example(f, False) for f in features])
  estimator = estimators.make_estimator(
      model_fn, estimators.make_run_config(str(tmp_path / "m")), False, 8,
      predict_batch_size=8)
  predicted = list(estimator.predict(
      squad_utils.input_fn_builder(records, SEQ, False, False, False, 8,
                                   is_v2), checkpoint_path=checkpoint))
  return {key: np.array([p[key] for p in predicted]) for key in predicted[0]}


def test_v1_learns_and_writes_the_released_outputs(v1_run, squad_files):
  out, summary, _ = v1_run
  best = summary["best"]
  assert best["f1"] > 85.0 and best["exact_match"] > 80.0, best
  blocks = read_blocks(os.path.join(out, "eval_results.txt"))
  steps = sorted(int(b["global_step"]) for b in blocks)
  assert len(steps) >= 3 and steps == sorted(set(steps))
  assert all({"exact_match", "f1"} <= set(b) for b in blocks)
  assert float(best["f1"]) == max(float(b["f1"]) for b in blocks)
  assert os.path.exists(os.path.join(out, "model.ckpt-best.index"))
  dev = load_json(squad_files["v1.1"]["dev"])
  ids = [qa["id"] for a in dev["data"] for p in a["paragraphs"]
         for qa in p["qas"]]
  predictions = load_json(os.path.join(out, "predictions.json"))
  assert sorted(predictions) == sorted(ids)
  nbest = load_json(os.path.join(out, "nbest_predictions.json"))
  assert sorted(nbest) == sorted(ids)
  for entries in nbest.values():
    assert 1 <= len(entries) <= 5
    assert set(entries[0]) >= {"text", "probability", "start_log_prob",
                               "end_log_prob"}
    probs = [e["probability"] for e in entries]
    assert probs == sorted(probs, reverse=True)
    assert abs(sum(probs) - 1.0) < 1e-4
  # The predictions written are the best checkpoint's.
  gold = {qa["id"]: qa["answers"][0]["text"] for a in dev["data"]
          for p in a["paragraphs"] for qa in p["qas"]}
  exact = 100.0 * np.mean([predictions[q] == gold[q] for q in ids])
  assert abs(exact - best["exact_match"]) < 1e-6


def test_v1_checkpoint_has_the_released_head(v1_run):
  out, _, _ = v1_run
  shapes = dict(tf.train.list_variables(os.path.join(out, "model.ckpt-best")))
  assert shapes["cls/squad/output_weights"] == [2, 32]
  assert shapes["cls/squad/output_bias"] == [2]
  assert not any(n.startswith(("start_logits", "answer_class"))
                 for n in shapes)


def test_v1_saved_model_and_tflite_predict_like_the_estimator(
    v1_run, pretrained, squad_files, tmp_path):
  out, summary, export_dir = v1_run
  path = summary["export_path"]
  assert path.startswith(export_dir)
  features, arrays = dev_windows(pretrained, squad_files["v1.1"]["dev"])
  exported = saved_model_outputs(path, arrays)
  expected = estimator_outputs(
      squad_heads.v1_model_fn_builder(pretrained.config, None, 1e-3, 1, 0,
                                      False, False),
      features, os.path.join(out, "model.ckpt-best"), tmp_path, False)
  for key in ("start_log_prob", "end_log_prob"):
    np.testing.assert_allclose(exported[key], expected[key], rtol=1e-4,
                               atol=1e-4)
  assert np.std(expected["start_log_prob"]) > 0.1
  # The TFLite model: the Task Library's BertQuestionAnswerer contract (end
  # logits first), the SentencePiece model packed in it and beside it.
  path = os.path.join(export_dir, run_squad_v1.TFLITE_NAME)
  model = tflite_checks.check_contract(
      path, SEQ, [("end_logits", [1, SEQ]), ("start_logits", [1, SEQ])],
      ["30k-clean.model"])
  with open(pretrained.spm_model_file, "rb") as f:
    spm = f.read()
  assert tflite_checks.packed_file(model, "30k-clean.model") == spm
  with open(os.path.join(export_dir, "30k-clean.model"), "rb") as f:
    assert f.read() == spm
  assert not os.path.exists(os.path.join(export_dir,
                                         "albert_model.int8.tflite"))
  outputs = tflite_checks.run_batch(path, {
      "ids": arrays["input_ids"], "mask": arrays["input_mask"],
      "segment_ids": arrays["segment_ids"]})
  for name, key in (("start_logits", "start_log_prob"),
                    ("end_logits", "end_log_prob")):
    np.testing.assert_allclose(outputs[name], expected[key], rtol=1e-4,
                               atol=1e-4)


def test_v1_int8_tflite_is_written_when_its_answers_agree(
    v1_run, pretrained, squad_files, tmp_path, caplog, monkeypatch):
  """--quantize=dynamic: the command's own check on the dev windows, in
  one line with the F1s and one with the sizes; a failed check is one
  error line and leaves no int8 file (an earlier one is removed)."""
  out, _, _ = v1_run
  model_dir = fine_tuned_copy(out, str(tmp_path / "model"))
  export_dir = str(tmp_path / "export")
  int8_path = os.path.join(export_dir, "albert_model.int8.tflite")
  caplog.set_level("INFO")

  def export():
    run_squad_v1.run(options_for(
        run_squad_v1, pretrained, model_dir,
        predict_file=squad_files["v1.1"]["dev"], do_predict=True,
        init_checkpoint=None, export_dir=export_dir, quantize="dynamic"))
    return [r.getMessage() for r in caplog.records
            if r.getMessage().startswith(("TFLite int8 agreement:",
                                          "TFLite sizes:"))]

  agreement, sizes = export()
  found = re.match(r"TFLite int8 agreement: F1 (\S+) \(int8\) vs (\S+) "
                   r"\(float32\) against the gold answers of 60 questions "
                   r"\(\d+ windows\) of .*dev-v1.1.json; at most 1 lower "
                   r"allowed$", agreement)
  assert found, agreement
  int8_f1, float_f1 = float(found.group(1)), float(found.group(2))
  assert float_f1 > 80.0 and int8_f1 >= float_f1 - 1.0
  assert re.match(r"TFLite sizes: albert_model.tflite \S+ KB \(float32\), "
                  r"albert_model.int8.tflite \S+ KB \(dynamic-range int8\); "
                  r"without the \S+ KB of packed tokenizer/labels \S+ KB and "
                  r"\S+ KB \(\d+%\)$", sizes), sizes
  tflite_checks.check_contract(
      int8_path, SEQ, [("end_logits", [1, SEQ]), ("start_logits", [1, SEQ])],
      ["30k-clean.model"])
  assert os.path.getsize(int8_path) < os.path.getsize(
      os.path.join(export_dir, run_squad_v1.TFLITE_NAME))

  monkeypatch.setattr(tflite_export, "MAX_F1_DROP", -101.0)
  with pytest.raises(tflite_export.AgreementError) as raised:
    export()
  line = command_line.error_line(raised.value)
  assert "\n" not in line
  assert line.startswith("TFLite int8 agreement: F1 "), line
  assert line.endswith("; at most -101 lower allowed: the int8 TFLite model "
                       "disagrees with the float32 one; "
                       "albert_model.int8.tflite not written "
                       "(albert_model.tflite is)"), line
  assert not os.path.exists(int8_path)
  assert os.path.exists(os.path.join(export_dir, run_squad_v1.TFLITE_NAME))


def test_v2_saved_model_returns_the_estimators_beam(v2_run, pretrained,
                                                    squad_files, tmp_path):
  out, summary = v2_run
  features, arrays = dev_windows(pretrained, squad_files["v2.0"]["dev"])
  exported = saved_model_outputs(summary["export_path"], arrays)
  expected = estimator_outputs(
      squad_heads.v2_model_fn_builder(pretrained.config, None, 1e-3, 1, 0,
                                      False, False, SEQ, 3, 3, 0.1),
      features, os.path.join(out, "model.ckpt-best"), tmp_path, True)
  for key in ("start_top_log_probs", "end_top_log_probs", "cls_logits"):
    np.testing.assert_allclose(exported[key], expected[key], rtol=1e-4,
                               atol=1e-4)
  for key in ("start_top_index", "end_top_index"):
    np.testing.assert_array_equal(exported[key], expected[key])
  assert exported["end_top_index"].shape == (len(features), 9)


def test_v2_learns_answers_and_unanswerable_questions(v2_run):
  out, summary = v2_run
  best = summary["best"]
  assert best["HasAns_f1"] > 60.0, best
  assert best["NoAns_f1"] > 60.0, best
  assert best["f1"] > 70.0, best
  # No explicit threshold: the release's oracle, and it says so.
  assert "oracle" in best["null_score_diff_threshold_source"]
  assert best["f1"] == best["best_f1"]
  blocks = read_blocks(os.path.join(out, "eval_results.txt"))
  for key in ("exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact",
              "NoAns_f1", "best_exact", "best_exact_thresh", "best_f1",
              "best_f1_thresh", "null_score_diff_threshold"):
    assert key in blocks[-1], key
  predictions = load_json(os.path.join(out, "predictions.json"))
  null_odds = load_json(os.path.join(out, "null_odds.json"))
  assert sorted(predictions) == sorted(null_odds)
  threshold = load_json(os.path.join(out, "null_threshold.json"))
  # A question is null exactly when its score difference is above the
  # threshold used.
  used = best["null_score_diff_threshold"]
  for qid, text in predictions.items():
    assert (text == "") == (null_odds[qid] > used), qid
  assert threshold["null_score_diff_threshold"] == best["best_f1_thresh"]


def test_v2_checkpoint_has_the_released_head(v2_run):
  out, _ = v2_run
  shapes = dict(tf.train.list_variables(os.path.join(out, "model.ckpt-best")))
  expected = {
      "start_logits/dense/kernel": [32, 1], "start_logits/dense/bias": [1],
      "end_logits/dense_0/kernel": [64, 32], "end_logits/dense_0/bias": [32],
      "end_logits/LayerNorm/gamma": [32], "end_logits/LayerNorm/beta": [32],
      "end_logits/dense_1/kernel": [32, 1], "end_logits/dense_1/bias": [1],
      "answer_class/dense_0/kernel": [64, 32],
      "answer_class/dense_0/bias": [32],
      "answer_class/dense_1/kernel": [32, 1]}
  for name, shape in expected.items():
    assert shapes.get(name) == shape, name
  assert "answer_class/dense_1/bias" not in shapes


def test_v2_test_set_uses_a_threshold_tuned_elsewhere(v2_run, pretrained,
                                                      squad_files, tmp_path):
  out, summary = v2_run
  history = summary["eval_history"]
  results = run_squad_v2.run(options_for(
      run_squad_v2, pretrained, out, predict_file=squad_files["v2.0"]["test"],
      do_predict=True, start_n_top=3, end_n_top=3, init_checkpoint=None,
      null_score_diff_threshold_file=os.path.join(out,
                                                  "null_threshold.json")))
  # A test set: predictions and no metrics; no checkpoint re-evaluated.
  assert results["best"] is None
  with open(os.path.join(out, "eval_history.json")) as f:
    assert len(json.load(f)["results"]) == len(history)
  predictions = load_json(os.path.join(out, "predictions.json"))
  test = load_json(squad_files["v2.0"]["test"])
  ids = [qa["id"] for a in test["data"] for p in a["paragraphs"]
         for qa in p["qas"]]
  assert sorted(predictions) == sorted(ids)
  # Predictions follow the threshold tuned on dev, not the default 0.
  threshold = load_json(os.path.join(out, "null_threshold.json"))
  null_odds = load_json(os.path.join(out, "null_odds.json"))
  for qid, text in predictions.items():
    assert (text == "") == (
        null_odds[qid] > threshold["null_score_diff_threshold"])
  # And the paragraphs without an adjective are the null ones, mostly.
  contexts = {qa["id"]: p["context"] for a in test["data"]
              for p in a["paragraphs"] for qa in p["qas"]}
  agree = np.mean([(predictions[q] == "") == (
      not set(ADJECTIVES) & set(contexts[q].split())) for q in ids])
  assert agree > 0.7


def test_predict_only_needs_no_train_file_and_accepts_index_suffix(
    v1_run, pretrained, squad_files, tmp_path):
  out, _, _ = v1_run
  # A copy of the fine-tuned model in a fresh dir; predict on a new file.
  fresh = str(tmp_path / "fresh")
  os.makedirs(fresh)
  for path in tf.gfile.Glob(os.path.join(out, "model.ckpt-best.*")):
    tf.gfile.Copy(path, os.path.join(fresh, os.path.basename(path)))
  summary = run_squad_v1.run(options_for(
      run_squad_v1, pretrained, fresh,
      predict_file=squad_files["v1.1"]["test"], do_predict=True,
      init_checkpoint=pretrained.init_checkpoint + ".index"))
  assert summary["best"] is None
  predictions = load_json(os.path.join(fresh, "predictions.json"))
  assert len(predictions) == 20
  assert not os.path.exists(os.path.join(fresh, "eval_results.txt"))


def test_feature_caches_follow_flags_and_files(v1_run, pretrained,
                                               squad_files, tmp_path):
  out, _, _ = v1_run
  dev = squad_files["v1.1"]["dev"]
  cache = str(tmp_path / "cache.tf_record")
  host = str(tmp_path / "cache.jsonl")

  def predict(**overrides):
    values = dict(predict_file=dev, do_predict=True, init_checkpoint=None,
                  predict_feature_file=cache,
                  predict_feature_left_file=host)
    values.update(overrides)
    run_squad_v1.run(options_for(run_squad_v1, pretrained, out, **values))
    return os.stat(cache).st_mtime_ns, len(
        list(tf.io.tf_record_iterator(cache)))

  first, windows = predict()
  assert predict() == (first, windows)  # Reused.
  changed, more_windows = predict(doc_stride=8)  # Rewritten.
  assert changed != first and more_windows > windows
  # The same flags again after the data changed: rewritten.
  data = load_json(dev)
  data["data"][0]["paragraphs"] = data["data"][0]["paragraphs"][:5]
  small = write_json(str(tmp_path / "dev-small.json"), data)
  _, fewer = predict(predict_file=small, doc_stride=8)
  assert fewer < more_windows
  assert not [n for n in os.listdir(str(tmp_path)) if ".tmp" in n]


def test_fine_tunes_from_a_hub_module(pretrained, squad_files, tmp_path):
  hub_dir = hub_fixtures.make_hub_module(pretrained.directory,
                                         str(tmp_path / "hub"))
  out = str(tmp_path / "out")
  files = squad_files["v1.1"]
  summary = run_squad_v1.run(options_for(
      run_squad_v1, pretrained, out, albert_hub_module_handle=hub_dir,
      init_checkpoint=None, albert_config_file=None, spm_model_file=None,
      train_file=files["train"], predict_file=files["dev"], do_train=True,
      do_predict=True, num_train_epochs=4.0, save_checkpoints_steps=1000))
  assert summary["best"]["f1"] > 50.0, summary["best"]
  names = [name for name, _ in tf.train.list_variables(out)]
  assert "cls/squad/output_weights" in names
  assert any(n.startswith("module/bert/") for n in names)


def test_random_initialisation_is_said_in_the_results(pretrained,
                                                      squad_files, tmp_path):
  out = str(tmp_path / "out")
  files = squad_files["v1.1"]
  summary = run_squad_v1.run(options_for(
      run_squad_v1, pretrained, out, init_checkpoint=None,
      train_file=files["train"], predict_file=files["dev"], do_train=True,
      do_predict=True, num_train_epochs=0.2))
  assert "RANDOM" in summary["best"]["note"].upper() or "random" in (
      summary["best"]["note"])
  with open(os.path.join(out, "eval_results.txt")) as f:
    assert "note = random initialisation" in f.read()


@pytest.mark.parametrize("overrides, message", [
    (dict(max_query_length=62), "max_query_length"),
    (dict(max_seq_length=128), "max_position_embeddings"),
    (dict(do_train=True, train_file=None), "train_file"),
    (dict(spm_model_file=None, vocab_file="VOCAB"), "sentencepiece"),
    # Accumulation is named as the cause of a run without a step.
    (dict(do_train=True, train_file="TRAIN", gradient_accumulation_steps=1000),
     r"training questions at --train_batch_size=\d+ x "
     r"--gradient_accumulation_steps=1000 \(one step updates on \d+ "
     r"questions\) for --num_train_epochs=\S+ make no training step; lower "
     r"--gradient_accumulation_steps"),
])
def test_bad_flags_fail_before_writing(pretrained, squad_files, tmp_path,
                                       overrides, message):
  out = str(tmp_path / "out")
  if overrides.get("vocab_file") == "VOCAB":
    # A WordPiece vocabulary the size of the config's: only SQuAD objects.
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + [
        "w%d" % i for i in range(pretrained.config.vocab_size - 4)]) + "\n")
    overrides = dict(overrides, vocab_file=str(vocab))
  if overrides.get("train_file") == "TRAIN":
    overrides = dict(overrides, train_file=squad_files["v1.1"]["train"])
  values = dict(predict_file=squad_files["v1.1"]["dev"], do_predict=True)
  values.update(overrides)
  with pytest.raises(ValueError, match=message):
    run_squad_v1.run(options_for(run_squad_v1, pretrained, out, **values))
  assert not os.path.exists(out) or not os.listdir(out)


# --------------------------------------------------------------------------
# Bad input is refused before any model work, in one line; result files
# always describe the predictions beside them.
# --------------------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(module, args, cwd):
  """Runs a command line as a user would; returns the CompletedProcess."""
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("ALBERT_TRACEBACK", None)
  return subprocess.run([sys.executable, "-m", module] + args, cwd=cwd,
                        env=env, capture_output=True, text=True,
                        timeout=300)


def cli_error(result, program):
  """The one error line of a failed command; fails on a traceback."""
  assert result.returncode == 1, result.stderr
  assert "Traceback" not in result.stderr, result.stderr
  errors = [l for l in result.stderr.splitlines()
            if l.startswith(program + ": error:")]
  assert len(errors) == 1, result.stderr
  return errors[0]


def fine_tuned_copy(out, directory):
  """A new output_dir holding only `out`'s best model, as a step checkpoint.

  Evaluating it is one checkpoint's work, and the fixture's own directory
  (and its model.ckpt-best) stays as it is.
  """
  best = os.path.join(out, "model.ckpt-best")
  os.makedirs(directory)
  copy = os.path.join(
      directory, "model.ckpt-%d" % checkpoints.checkpoint_global_step(best))
  checkpoints.copy_checkpoint(best, copy)
  # The state file, as training leaves it: evaluation looks there first.
  tf.train.update_checkpoint_state(directory, copy)
  return directory


def first_paragraphs(path, count, target):
  """The first `count` paragraphs of a SQuAD file, written to target."""
  data = load_json(path)
  article = data["data"][0]
  data["data"] = [dict(article, paragraphs=article["paragraphs"][:count])]
  return write_json(target, data)


def dir_state(directory):
  """{name: mtime} of a directory's files, to see that nothing changed."""
  return {name: os.stat(os.path.join(directory, name)).st_mtime_ns
          for name in os.listdir(directory)}


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_v2_refuses_a_non_finite_threshold_flag(pretrained, squad_files,
                                                tmp_path, value):
  """NaN compares false with every score: no null answer, silently."""
  out = str(tmp_path / "out")
  with pytest.raises(ValueError) as info:
    run_squad_v2.run(options_for(
        run_squad_v2, pretrained, out, predict_file=squad_files["v2.0"]["dev"],
        do_predict=True, init_checkpoint=None,
        null_score_diff_threshold=float(value)))
  assert str(info.value).startswith(
      "--null_score_diff_threshold=%s: expected a finite number" % value)
  assert not os.path.exists(out)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_v2_refuses_a_threshold_file_holding_a_non_finite_number(
    pretrained, squad_files, tmp_path, value):
  # Python's JSON parser accepts these three words as numbers.
  threshold_file = tmp_path / "null_threshold.json"
  threshold_file.write_text('{"null_score_diff_threshold": %s, '
                            '"tuned_on": "dev.json"}' % value)
  out = str(tmp_path / "out")
  with pytest.raises(ValueError) as info:
    run_squad_v2.run(options_for(
        run_squad_v2, pretrained, out,
        predict_file=squad_files["v2.0"]["test"], do_predict=True,
        init_checkpoint=None,
        null_score_diff_threshold_file=str(threshold_file)))
  assert str(info.value) == (
      '--null_score_diff_threshold_file=%s: expected a JSON object whose '
      '"null_score_diff_threshold" is a finite number (the '
      'null_threshold.json a run_squad_v2 run wrote), got %s' %
      (threshold_file, value))
  assert not os.path.exists(out)


@pytest.mark.slow
def test_v2_cli_nan_threshold_is_one_line(pretrained, squad_files, tmp_path):
  result = run_cli("albert.run_squad_v2", [
      "--albert_config_file=" + pretrained.config_file,
      "--spm_model_file=" + pretrained.spm_model_file,
      "--output_dir=out", "--predict_file=" + squad_files["v2.0"]["dev"],
      "--do_predict", "--max_seq_length=64", "--max_query_length=12",
      "--null_score_diff_threshold=nan"], cwd=str(tmp_path))
  error = cli_error(result, "run_squad_v2")
  assert "--null_score_diff_threshold=nan: expected a finite number" in error
  assert not os.path.exists(str(tmp_path / "out"))


def _without(qa, key):
  del qa[key]


def _answer_without(key):
  def edit(qa):
    del qa["answers"][0][key]
  return edit


# (edit of the 4th question of the dev file, what the one line says)
BAD_QUESTIONS = [
    (lambda qa: _without(qa, "answers"),
     r'has no "answers"; expected a non-empty list of \{"text", '
     r'"answer_start"\}'),
    (lambda qa: qa.update(answers=[]),
     r'has an empty "answers" list; expected a non-empty list'),
    (_answer_without("text"), r', answer 0 has no "text"'),
    (_answer_without("answer_start"), r', answer 0 has no "answer_start"'),
    (lambda qa: qa["answers"][0].update(text=7),
     r', answer 0: "text" is a int, expected str'),
    (lambda qa: _without(qa, "question"), r'has no "question"'),
    (lambda qa: qa.update(question=["why?"]),
     r': "question" is a list, expected str'),
    (lambda qa: qa.update(answers={"text": "red"}),
     r': "answers" is a dict, expected list'),
    # The first question's id again: its predictions would collide.
    (lambda qa: qa.update(id="d00000"),
     r'repeats the id of article 0, paragraph 0, question 0; expected every '
     r'question id once'),
]


@pytest.mark.parametrize("edit, message", BAD_QUESTIONS)
def test_v1_bad_dev_question_fails_before_predicting(
    v1_run, pretrained, squad_files, tmp_path, edit, message):
  """One line naming file, question id and place; no model work first.

  The output_dir has a fine-tuned model, so without the check the whole
  dev set would be predicted before scoring reached the question.
  """
  out, _, _ = v1_run
  data = load_json(squad_files["v1.1"]["dev"])
  qa = data["data"][0]["paragraphs"][1]["qas"][1]
  qid = qa["id"]
  edit(qa)
  dev = write_json(str(tmp_path / "dev.json"), data)
  before = dir_state(out)
  with pytest.raises(ValueError) as info:
    run_squad_v1.run(options_for(run_squad_v1, pretrained, out,
                                 predict_file=dev, do_predict=True,
                                 init_checkpoint=None))
  text = str(info.value)
  assert "\n" not in text
  where = 'question id "%s" (article 0, paragraph 1, question 1)' % (
      "d00000" if "repeats" in message else qid)
  assert text.startswith("%s: %s" % (dev, where)), text
  assert re.search(message, text), text
  assert dir_state(out) == before


@pytest.mark.parametrize("edit, message", [
    (lambda qa: _without(qa, "context"), r'article 0, paragraph 1 has no '
                                         r'"context"'),
    (lambda qa: qa.update(qas={}), r'article 0, paragraph 1: "qas" is a '
                                   r'dict, expected list'),
    (lambda qa: qa["qas"][1].pop("id"), r'article 0, paragraph 1, question 1 '
                                        r'has no "id"'),
    (lambda qa: qa["qas"][1].update(id=1.5),
     r'article 0, paragraph 1, question 1: "id" is a float, expected str '
     r'or int'),
])
def test_bad_paragraphs_fail_in_one_line_naming_the_place(
    pretrained, squad_files, tmp_path, edit, message):
  data = load_json(squad_files["v2.0"]["dev"])
  edit(data["data"][0]["paragraphs"][1])
  dev = write_json(str(tmp_path / "dev.json"), data)
  out = str(tmp_path / "out")
  with pytest.raises(ValueError) as info:
    run_squad_v2.run(options_for(run_squad_v2, pretrained, out,
                                 predict_file=dev, do_predict=True,
                                 init_checkpoint=None))
  assert str(info.value).startswith(dev + ": ")
  assert "\n" not in str(info.value)
  assert re.search(message, str(info.value)), str(info.value)
  assert not os.path.exists(out)


def test_v2_question_without_answers_in_a_dev_file_is_refused(
    pretrained, squad_files, tmp_path):
  data = load_json(squad_files["v2.0"]["dev"])
  qas = data["data"][0]["paragraphs"][2]["qas"]
  del qas[0]["answers"]
  qas[0]["is_impossible"] = False
  dev = write_json(str(tmp_path / "dev.json"), data)
  out = str(tmp_path / "out")
  with pytest.raises(ValueError, match=re.escape(
      '%s: question id "%s" (article 0, paragraph 2, question 0) has no '
      '"answers"; expected a list of {"text", "answer_start"} ([] with '
      '"is_impossible": true for an unanswerable question)' %
      (dev, qas[0]["id"]))):
    run_squad_v2.run(options_for(run_squad_v2, pretrained, out,
                                 predict_file=dev, do_predict=True,
                                 init_checkpoint=None))
  assert not os.path.exists(out)


@pytest.mark.slow
def test_v1_cli_question_without_answers_is_one_line(pretrained, squad_files,
                                                     tmp_path):
  data = load_json(squad_files["v1.1"]["dev"])
  qa = data["data"][0]["paragraphs"][3]["qas"][0]
  del qa["answers"]
  write_json(str(tmp_path / "dev.json"), data)
  result = run_cli("albert.run_squad_v1", [
      "--albert_config_file=" + pretrained.config_file,
      "--spm_model_file=" + pretrained.spm_model_file,
      "--output_dir=out", "--predict_file=dev.json", "--do_predict",
      "--max_seq_length=64", "--max_query_length=12"], cwd=str(tmp_path))
  error = cli_error(result, "run_squad_v1")
  assert ('dev.json: question id "%s" (article 0, paragraph 3, question 0) '
          'has no "answers"' % qa["id"]) in error, error
  assert "KeyError" not in result.stderr
  assert not os.path.exists(str(tmp_path / "out"))


def test_v1_integer_question_ids_are_predicted_and_scored(
    v1_run, pretrained, squad_files, tmp_path):
  """An id 12345 is "12345" in predictions.json and scored as answered."""
  out, _, _ = v1_run
  data = load_json(first_paragraphs(squad_files["v1.1"]["dev"], 4,
                                    str(tmp_path / "dev.json")))
  gold = {}
  for number, qa in enumerate(qa for p in data["data"][0]["paragraphs"]
                              for qa in p["qas"]):
    qa["id"] = 12345 + number
    gold[str(qa["id"])] = qa["answers"][0]["text"]
  dev = write_json(str(tmp_path / "dev.json"), data)
  fresh = fine_tuned_copy(out, str(tmp_path / "fresh"))
  summary = run_squad_v1.run(options_for(run_squad_v1, pretrained, fresh,
                                         predict_file=dev, do_predict=True,
                                         init_checkpoint=None))
  predictions = load_json(os.path.join(fresh, "predictions.json"))
  assert sorted(predictions) == sorted(gold)
  exact = 100.0 * np.mean([predictions[q] == gold[q] for q in gold])
  assert exact > 50.0
  assert summary["best"]["exact_match"] == pytest.approx(exact)


def test_v2_test_set_run_removes_the_threshold_a_dev_run_left(
    v2_run, pretrained, squad_files, tmp_path):
  """null_threshold.json tuned on dev must not sit beside test predictions.

  Unless the test run reads it (--null_score_diff_threshold_file): then it
  is the threshold these predictions used, and says what it was tuned on.
  """
  out, _ = v2_run
  fresh = fine_tuned_copy(out, str(tmp_path / "fresh"))
  dev = first_paragraphs(squad_files["v2.0"]["dev"], 4,
                         str(tmp_path / "dev.json"))
  test = first_paragraphs(squad_files["v2.0"]["test"], 3,
                          str(tmp_path / "test.json"))
  threshold_path = os.path.join(fresh, "null_threshold.json")

  def predict(predict_file, **overrides):
    run_squad_v2.run(options_for(
        run_squad_v2, pretrained, fresh, predict_file=predict_file,
        do_predict=True, start_n_top=3, end_n_top=3, init_checkpoint=None,
        **overrides))

  predict(dev)
  assert load_json(threshold_path)["tuned_on"] == dev
  predict(test)
  assert not os.path.exists(threshold_path)
  # Every other result file now describes the test questions.
  test_ids = sorted(qa["id"] for p in load_json(test)["data"][0]["paragraphs"]
                    for qa in p["qas"])
  for name in ("predictions.json", "nbest_predictions.json",
               "null_odds.json"):
    assert sorted(load_json(os.path.join(fresh, name))) == test_ids, name
  predict(dev)
  predict(test, null_score_diff_threshold_file=threshold_path)
  assert load_json(threshold_path)["tuned_on"] == dev
