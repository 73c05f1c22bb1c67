# coding=utf-8
"""Tests for albert.run_classifier on tiny models and synthetic GLUE files.

The pretrained model is a tiny released-style directory (sentencepiece
model trained here, random checkpoint) from hub_fixtures; the tasks are
learnable synthetic data written in the official GLUE layouts.
"""

import glob
import json
import os
import random
import re
import shutil

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import classifier_utils_test
import hub_fixtures
import tflite_checks
from albert import classifier_utils
from albert import command_line
from albert import modeling
from albert import run_classifier
from albert import tflite_export
from albert import tokenization

tf.disable_v2_behavior()

SEQ = 24
KEYWORD = "river"
WORDS = ("the cat dog bird tree stone house city road ship star cloud rain "
         "red green blue quick lazy happy model text word").split()


def write_tsv(path, rows):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    for row in rows:
      f.write("\t".join(str(x) for x in row) + "\n")


def sentence(rng, with_keyword):
  words = [rng.choice(WORDS) for _ in range(rng.randint(4, 7))]
  if with_keyword:
    words.insert(rng.randint(0, len(words)), KEYWORD)
  return " ".join(words).capitalize() + " ."


def write_sst2(root, seed=0, num_train=320, num_dev=64, num_test=40):
  """SST-2 layout; label 1 iff the sentence mentions the keyword."""
  rng = random.Random(seed)
  def rows(n):
    out = []
    for _ in range(n):
      label = rng.random() < 0.5
      out.append((sentence(rng, label), int(label)))
    return out
  write_tsv(os.path.join(root, "SST-2", "train.tsv"),
            [("sentence", "label")] + rows(num_train))
  write_tsv(os.path.join(root, "SST-2", "dev.tsv"),
            [("sentence", "label")] + rows(num_dev))
  test = rows(num_test)
  write_tsv(os.path.join(root, "SST-2", "test.tsv"),
            [("index", "sentence")] + [(i, s) for i, (s, _) in
                                       enumerate(test)])
  return [label for _, label in test]


A_WEIGHT, B_WEIGHT = 1.5, 3.0
STSB_HEADER = ("index", "genre", "filename", "year", "old_index", "source1",
               "source2", "sentence1", "sentence2", "score")


def write_stsb(root, seed=1, num_train=320, num_dev=64, num_test=12):
  """STS-B layout; the keyword adds 1.5 to the score in sentence1, 3 in 2."""
  rng = random.Random(seed)
  def rows(n, labeled=True):
    out = []
    for i in range(n):
      in_a, in_b = rng.random() < 0.5, rng.random() < 0.5
      row = [i, "main-captions", "MSRvid", "2012test", "%04d" % i, "none",
             "none", sentence(rng, in_a), sentence(rng, in_b)]
      if labeled:
        row.append("%.3f" % (A_WEIGHT * in_a + B_WEIGHT * in_b))
      out.append(row)
    return out
  write_tsv(os.path.join(root, "STS-B", "train.tsv"),
            [STSB_HEADER] + rows(num_train))
  write_tsv(os.path.join(root, "STS-B", "dev.tsv"),
            [STSB_HEADER] + rows(num_dev))
  write_tsv(os.path.join(root, "STS-B", "test.tsv"),
            [STSB_HEADER[:9]] + rows(num_test, labeled=False))


MNLI_HEADER = ("index", "promptID", "pairID", "genre", "s1_binary",
               "s2_binary", "s1_parse", "s2_parse", "sentence1", "sentence2")
MNLI_LABELS = ("contradiction", "entailment", "neutral")


def write_mnli_and_ax(root, seed=2, n=24):
  rng = random.Random(seed)
  def rows(count, labels):
    out = []
    for i in range(count):
      row = [i, "1", "1n", "fiction", "(", "(", "(", "(",
             sentence(rng, False), sentence(rng, False)]
      if labels:
        gold = MNLI_LABELS[i % 3]
        row += [gold] * labels
      out.append(row)
    return out
  mnli = os.path.join(root, "MNLI")
  write_tsv(os.path.join(mnli, "train.tsv"),
            [MNLI_HEADER + ("label1", "gold_label")] + rows(n, 2))
  dev_header = MNLI_HEADER + ("label1", "label2", "label3", "label4",
                              "label5", "gold_label")
  write_tsv(os.path.join(mnli, "dev_matched.tsv"), [dev_header] + rows(9, 6))
  write_tsv(os.path.join(mnli, "dev_mismatched.tsv"),
            [dev_header] + rows(6, 6))
  write_tsv(os.path.join(mnli, "test_matched.tsv"), [MNLI_HEADER] + rows(7, 0))
  write_tsv(os.path.join(mnli, "test_mismatched.tsv"),
            [MNLI_HEADER] + rows(5, 0))
  write_tsv(os.path.join(root, "diagnostic", "diagnostic.tsv"),
            [("index", "sentence1", "sentence2")] +
            [(i, sentence(rng, False), sentence(rng, True))
             for i in range(4)])


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
  """A tiny released-style model: config, sentencepiece model, checkpoint."""
  return hub_fixtures.make_tiny_albert_dir(
      str(tmp_path_factory.mktemp("albert")), dropout_prob=0.0)


@pytest.fixture(scope="module")
def glue(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("glue"))
  test_labels = write_sst2(root)
  write_stsb(root)
  write_mnli_and_ax(root)
  return root, test_labels


def options_for(pretrained, data_dir, output_dir, **overrides):
  values = dict(
      task_name="SST-2", data_dir=data_dir, output_dir=output_dir,
      albert_config_file=pretrained.config_file,
      spm_model_file=pretrained.spm_model_file,
      init_checkpoint=pretrained.init_checkpoint,
      max_seq_length=SEQ, train_batch_size=16, eval_batch_size=16,
      predict_batch_size=16, learning_rate=2e-3, train_step=150,
      warmup_step=15, save_checkpoints_steps=50, iterations_per_loop=50,
      keep_checkpoint_max=5, classifier_dropout_prob=0.0,
      # Fixed so that the learning assertions cannot flake on an unlucky
      # initialisation (a random seed stalled SST-2 once in a few dozen runs).
      random_seed=1)
  values.update(overrides)
  return run_classifier.default_options(**values)


def read_blocks(path):
  """eval_results.txt -> list of dicts, one per checkpoint block."""
  blocks, current = [], {}
  with open(path) as f:
    for line in f:
      if " = " not in line:  # The release's rule and "saved" lines.
        continue
      key, value = line.rstrip("\n").split(" = ", 1)
      if key in current:
        blocks.append(current)
        current = {}
      current[key] = value
  if current:
    blocks.append(current)
  return blocks


def read_tsv(path):
  with open(path) as f:
    return [line.rstrip("\n").split("\t") for line in f]


@pytest.fixture(scope="module")
def sst2_run(pretrained, glue, tmp_path_factory):
  """Fine-tunes, evaluates, predicts and exports SST-2 once."""
  data_dir, _ = glue
  out = str(tmp_path_factory.mktemp("sst2"))
  export_dir = str(tmp_path_factory.mktemp("sst2_export"))
  summary = run_classifier.run(options_for(
      pretrained, data_dir, out, do_train=True, do_eval=True,
      do_predict=True, export_dir=export_dir))
  return out, summary


def test_sst2_learns_and_writes_eval_results(sst2_run):
  out, summary = sst2_run
  # The keyword decides the label; a tiny model finds it quickly.
  assert summary["best"]["eval_accuracy"] > 0.9
  blocks = read_blocks(os.path.join(out, "eval_results.txt"))
  steps = [int(b["global_step"]) for b in blocks]
  assert steps[-3:] == [50, 100, 150] and steps == sorted(set(steps))
  for block in blocks:
    assert {"eval_accuracy", "eval_loss", "global_step", "loss"} <= set(block)
    assert 0.0 <= float(block["eval_accuracy"]) <= 1.0
    assert "note" not in block  # Initialised from a checkpoint.
  best_accuracy = max(float(b["eval_accuracy"]) for b in blocks)
  assert summary["best"]["eval_accuracy"] == pytest.approx(best_accuracy)
  with open(os.path.join(out, "best_checkpoint.txt")) as f:
    best = dict(line.strip().split(" = ") for line in f if line.strip())
  assert float(best["eval_accuracy"]) == pytest.approx(best_accuracy)
  assert os.path.exists(os.path.join(out, "model.ckpt-best.index"))


def test_sst2_predict_writes_the_submission_file(sst2_run, glue):
  out, summary = sst2_run
  _, test_labels = glue
  path = os.path.join(out, "SST-2.tsv")
  assert summary["submission_files"] == {"SST-2": path}
  rows = read_tsv(path)
  assert rows[0] == ["index", "prediction"]
  assert [r[0] for r in rows[1:]] == [str(i) for i in range(len(test_labels))]
  predicted = [r[1] for r in rows[1:]]
  assert set(predicted) <= {"0", "1"}
  correct = np.mean([p == str(t) for p, t in zip(predicted, test_labels)])
  assert correct > 0.85
  probabilities = read_tsv(os.path.join(out, "test_results_SST-2.tsv"))
  assert probabilities[0] == ["index", "0", "1"]
  assert len(probabilities) == len(rows)
  for row, submitted in zip(probabilities[1:], predicted):
    p = [float(x) for x in row[1:]]
    assert sum(p) == pytest.approx(1.0, abs=1e-4)
    assert str(int(np.argmax(p))) == submitted
  assert not glob.glob(os.path.join(out, "*.tmp-*"))
  # The release's files, for scripts written against it.
  raw = read_tsv(os.path.join(out, "test_results.tsv"))
  assert len(raw) == len(rows) - 1
  for raw_row, row in zip(raw, probabilities[1:]):
    np.testing.assert_allclose([float(x) for x in raw_row],
                               [float(x) for x in row[1:]], atol=1e-6)
  assert read_tsv(os.path.join(out, "submit_results.tsv")) == rows


def test_eval_results_have_the_release_blocks(sst2_run):
  out, summary = sst2_run
  with open(os.path.join(out, "eval_results.txt")) as f:
    text = f.read()
  blocks = [b for b in text.split("=" * 50 + "\n") if "global_step" in b]
  assert len(blocks) == len(summary["eval_history"])
  best_so_far = -1.0
  for block in blocks:
    values = dict(l.split(" = ", 1) for l in block.splitlines() if " = " in l)
    best_so_far = max(best_so_far, float(values["eval_accuracy"]))
    assert float(values["best"]) == pytest.approx(best_so_far)
  with open(os.path.join(out, "best_trial.txt")) as f:
    last, best_step, best_value = f.read().split(":")
  assert int(last) == max(summary["eval_history"])
  assert int(best_step) == summary["best"]["global_step"]
  assert float(best_value) == pytest.approx(summary["best"]["eval_accuracy"])
  assert "saved %s to %s" % (
      summary["best"]["checkpoint"] + ".index",
      os.path.join(out, "model.ckpt-best.index")) in text


def test_saved_model_predicts_what_the_estimator_predicted(
    sst2_run, pretrained, glue):
  out, summary = sst2_run
  data_dir, _ = glue
  export_path = summary["export_path"]
  assert os.path.exists(os.path.join(export_path, "saved_model.pb"))
  tokenizer = tokenization.FullTokenizer(
      None, spm_model_file=pretrained.spm_model_file)
  processor = classifier_utils.get_processor("sst-2")
  examples = processor.get_test_examples(data_dir)
  features = classifier_utils.convert_examples_to_features(
      examples, ["0", "1"], SEQ, tokenizer, "sst-2")
  feed = {name: np.array([getattr(f, name) for f in features], np.int32)
          for name in ("input_ids", "input_mask", "segment_ids")}
  with tf.Graph().as_default(), tf.Session() as sess:
    meta_graph = tf.saved_model.loader.load(sess, ["serve"], export_path)
    signature = meta_graph.signature_def["serving_default"]
    got = sess.run(
        {k: v.name for k, v in signature.outputs.items()},
        {signature.inputs[k].name: feed[k] for k in feed})
  expected = np.array([[float(x) for x in row[1:]] for row in read_tsv(
      os.path.join(out, "test_results_SST-2.tsv"))[1:]])
  np.testing.assert_allclose(got["probabilities"], expected, atol=2e-5)
  np.testing.assert_array_equal(got["predictions"], expected.argmax(-1))
  assert "threshold" not in got


def sst2_test_inputs(pretrained, data_dir):
  """The SST-2 test set as TFLite inputs {ids, mask, segment_ids}."""
  tokenizer = tokenization.FullTokenizer(
      None, spm_model_file=pretrained.spm_model_file)
  examples = classifier_utils.get_processor("sst-2").get_test_examples(
      data_dir)
  features = classifier_utils.convert_examples_to_features(
      examples, ["0", "1"], SEQ, tokenizer, "sst-2")
  return {name: np.array([getattr(f, key) for f in features], np.int32)
          for key, name in (("input_ids", "ids"), ("input_mask", "mask"),
                            ("segment_ids", "segment_ids"))}


def test_tflite_classifier_predicts_what_the_saved_model_predicted(
    sst2_run, pretrained, glue):
  """The Task Library's BertNLClassifier contract, and the probabilities
  of the SavedModel (test_results_SST-2.tsv)."""
  out, summary = sst2_run
  data_dir, _ = glue
  export_dir = os.path.dirname(summary["export_path"])
  path = os.path.join(export_dir, run_classifier.TFLITE_NAME)
  model = tflite_checks.check_contract(
      path, SEQ, [("probability", [1, 2])], ["30k-clean.model", "labels.txt"])
  assert tflite_checks.packed_file(model, "labels.txt") == b"0\n1\n"
  assert os.path.exists(os.path.join(export_dir, "30k-clean.model"))
  assert not os.path.exists(os.path.join(export_dir,
                                         "albert_classifier.int8.tflite"))
  got = tflite_checks.run_batch(path, sst2_test_inputs(pretrained, data_dir))
  expected = np.array([[float(x) for x in row[1:]] for row in read_tsv(
      os.path.join(out, "test_results_SST-2.tsv"))[1:]])
  np.testing.assert_allclose(got["probability"], expected, atol=1e-4)


def test_int8_classifier_is_written_when_it_agrees(
    sst2_run, pretrained, glue, tmp_path, caplog, monkeypatch):
  """--quantize=dynamic: the same argmax as float32 on the dev set, in one
  line, and the sizes in another; a failed check is one error line and
  leaves no int8 file."""
  out, _ = sst2_run
  data_dir, _ = glue
  export_dir = str(tmp_path / "export")
  int8_path = os.path.join(export_dir, "albert_classifier.int8.tflite")
  caplog.set_level("INFO")

  def export():
    run_classifier.run(options_for(pretrained, data_dir, out, do_eval=True,
                                   export_dir=export_dir, quantize="dynamic"))
    return [r.getMessage() for r in caplog.records
            if r.getMessage().startswith(("TFLite int8 agreement:",
                                          "TFLite sizes:"))]

  agreement, sizes = export()
  found = re.match(r"TFLite int8 agreement: (\S+)% of 64 examples of "
                   r".*SST-2/dev.tsv give the same argmax as float32 \(99% "
                   r"needed\)$", agreement)
  assert found and float(found.group(1)) >= 99.0, agreement
  assert sizes.startswith("TFLite sizes: albert_classifier.tflite "), sizes
  tflite_checks.check_contract(int8_path, SEQ, [("probability", [1, 2])],
                               ["30k-clean.model", "labels.txt"])
  int8 = tflite_checks.run_batch(int8_path,
                                 sst2_test_inputs(pretrained, data_dir))
  expected = np.array([[float(x) for x in row[1:]] for row in read_tsv(
      os.path.join(out, "test_results_SST-2.tsv"))[1:]])
  assert np.mean(int8["probability"].argmax(-1) ==
                 expected.argmax(-1)) >= 0.99

  monkeypatch.setattr(tflite_export, "MIN_SAME_ARGMAX", 1.01)
  with pytest.raises(tflite_export.AgreementError) as raised:
    export()
  line = command_line.error_line(raised.value)
  assert "\n" not in line
  assert re.match(r"TFLite int8 agreement: .* \(101% needed\): the int8 "
                  r"TFLite model disagrees with the float32 one; "
                  r"albert_classifier.int8.tflite not written "
                  r"\(albert_classifier.tflite is\)$", line), line
  assert not os.path.exists(int8_path)
  assert os.path.exists(os.path.join(export_dir, run_classifier.TFLITE_NAME))


def cache_files(directory, prefix):
  return sorted(glob.glob(os.path.join(directory, prefix + "_*.tf_record")))


def test_feature_cache_is_reused_and_invalidated(sst2_run, pretrained, glue):
  out, _ = sst2_run
  data_dir, _ = glue
  dev_before = cache_files(out, "sst-2_dev")
  assert len(dev_before) == 1
  assert len(cache_files(out, "sst-2_train")) == 1
  assert len(cache_files(out, "sst-2_test")) == 1
  assert os.path.exists(dev_before[0] + ".json")
  mtime = os.path.getmtime(dev_before[0])
  blocks_before = read_blocks(os.path.join(out, "eval_results.txt"))
  # Same flags: the cache is reused, and every checkpoint was evaluated
  # already, so nothing is evaluated again.
  run_classifier.run(options_for(pretrained, data_dir, out, do_eval=True))
  assert cache_files(out, "sst-2_dev") == dev_before
  assert os.path.getmtime(dev_before[0]) == mtime
  assert read_blocks(os.path.join(out, "eval_results.txt")) == blocks_before
  # A changed max_seq_length or do_lower_case makes new features.
  run_classifier.run(options_for(pretrained, data_dir, out, do_eval=True,
                                 max_seq_length=SEQ - 4))
  assert len(cache_files(out, "sst-2_dev")) == 2
  run_classifier.run(options_for(pretrained, data_dir, out, do_eval=True,
                                 do_lower_case=False))
  assert len(cache_files(out, "sst-2_dev")) == 3
  run_classifier.run(options_for(pretrained, data_dir, out, do_eval=True,
                                 do_lower_case=False))
  assert len(cache_files(out, "sst-2_dev")) == 3
  # So does an edited data file, even with the same size and mtime.
  dev = os.path.join(data_dir, "SST-2", "dev.tsv")
  stat = os.stat(dev)
  with open(dev) as f:
    text = f.read()
  try:
    with open(dev, "w") as f:
      f.write(text.replace("\t1\n", "\t0\n", 1))
    os.utime(dev, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    run_classifier.run(options_for(pretrained, data_dir, out, do_eval=True))
    assert len(cache_files(out, "sst-2_dev")) == 4
  finally:
    with open(dev, "w") as f:
      f.write(text)
    os.utime(dev, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_stsb_regression_learns(pretrained, glue, tmp_path):
  """(Also with --use_xla: the XLA-compiled steps learn.)"""
  data_dir, _ = glue
  out = str(tmp_path / "stsb")
  export_dir = str(tmp_path / "stsb_export")
  summary = run_classifier.run(options_for(
      pretrained, data_dir, out, task_name="STS-B", do_train=True,
      do_eval=True, do_predict=True, train_step=150,
      save_checkpoints_steps=150, learning_rate=1e-3, use_xla=True,
      export_dir=export_dir, quantize="dynamic"))
  best = summary["best"]
  assert sorted(summary["eval_history"]) == [0, 150]
  assert best["global_step"] == 150
  # 0.66 to 0.78 over repeated runs; the untrained model is near 0.
  assert best["pearson"] > 0.5
  assert best["spearman"] > 0.4
  assert {"pearson", "spearman", "MSE", "eval_loss", "global_step"} <= set(
      read_blocks(os.path.join(out, "eval_results.txt"))[-1])
  assert "eval_accuracy" not in best
  rows = read_tsv(os.path.join(out, "STS-B.tsv"))
  assert rows[0] == ["index", "prediction"]
  assert len(rows) == 13
  scores = [float(r[1]) for r in rows[1:]]
  assert all(-2.0 < s < 7.0 for s in scores)
  assert len(set(scores)) > 1
  # TFLite: the score is the one output; no labels; int8 within 0.1.
  for name in (run_classifier.TFLITE_NAME, "albert_classifier.int8.tflite"):
    tflite_checks.check_contract(os.path.join(export_dir, name), SEQ,
                                 [("probability", [1, 1])],
                                 ["30k-clean.model"])


def test_mnli_matched_mismatched_and_ax(pretrained, glue, tmp_path):
  data_dir, _ = glue
  out = str(tmp_path / "mnli")
  summary = run_classifier.run(options_for(
      pretrained, data_dir, out, task_name="MNLI", do_train=True,
      do_eval=True, do_predict=True, train_step=4, save_checkpoints_steps=4))
  assert sorted(summary["eval_history"]) == [0, 4]
  assert sorted(summary["eval_history_mismatched"]) == [0, 4]
  assert summary["best_mismatched"]["global_step"] in (0, 4)
  matched = read_blocks(os.path.join(out, "eval_results.txt"))
  mismatched = read_blocks(os.path.join(out, "eval_results_mismatched.txt"))
  assert [b["global_step"] for b in matched] == ["0", "4"]
  assert [b["global_step"] for b in mismatched] == ["0", "4"]
  for name, count in (("MNLI-m", 7), ("MNLI-mm", 5), ("AX", 4)):
    rows = read_tsv(os.path.join(out, name + ".tsv"))
    assert rows[0] == ["index", "prediction"]
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(count)]
    assert set(r[1] for r in rows[1:]) <= set(MNLI_LABELS)
  # The AX task alone predicts the diagnostic set with an MNLI model.
  os.remove(os.path.join(out, "AX.tsv"))
  summary = run_classifier.run(options_for(
      pretrained, data_dir, out, task_name="ax", do_predict=True))
  assert list(summary["submission_files"]) == ["AX"]
  assert len(read_tsv(os.path.join(out, "AX.tsv"))) == 5
  with pytest.raises(ValueError, match="only a test set.*task_name=mnli"):
    run_classifier.run(options_for(pretrained, data_dir, out,
                                   task_name="ax", do_eval=True))
  # Predicting again where the diagnostic set is missing: the previous AX
  # files describe another run's model, so they go.
  without_ax = str(tmp_path / "glue_without_ax")
  shutil.copytree(os.path.join(data_dir, "MNLI"),
                  os.path.join(without_ax, "MNLI"))
  assert os.path.exists(os.path.join(out, "test_results_AX.tsv"))
  summary = run_classifier.run(options_for(
      pretrained, without_ax, out, task_name="MNLI", do_predict=True))
  assert sorted(summary["submission_files"]) == ["MNLI-m", "MNLI-mm"]
  assert not os.path.exists(os.path.join(out, "AX.tsv"))
  assert not os.path.exists(os.path.join(out, "test_results_AX.tsv"))


def test_hub_module_fine_tunes(pretrained, glue, tmp_path):
  data_dir, _ = glue
  hub_dir = hub_fixtures.make_hub_module(pretrained.directory,
                                         str(tmp_path / "hub"))
  out = str(tmp_path / "out")
  summary = run_classifier.run(options_for(
      pretrained, data_dir, out, albert_hub_module_handle=hub_dir,
      init_checkpoint=None, albert_config_file=None, spm_model_file=None,
      do_train=True, do_eval=True, train_step=100,
      save_checkpoints_steps=100))
  assert summary["best"]["eval_accuracy"] > 0.85
  names = [name for name, _ in tf.train.list_variables(out)]
  assert "output_weights" in names and "output_bias" in names
  assert any(n.startswith("module/bert/") for n in names)


def test_random_initialisation_is_noted(pretrained, glue, tmp_path,
                                        caplog):
  data_dir, _ = glue
  out = str(tmp_path / "out")
  run_classifier.run(options_for(
      pretrained, data_dir, out, init_checkpoint=None, do_train=True,
      do_eval=True, train_step=2, save_checkpoints_steps=2))
  assert any("RANDOM" in r.getMessage() for r in caplog.records)
  for block in read_blocks(os.path.join(out, "eval_results.txt")):
    assert block["note"].startswith("random initialisation")


def test_threshold_is_served_with_the_export(sst2_run, pretrained, glue,
                                             tmp_path):
  out, _ = sst2_run
  data_dir, _ = glue
  summary = run_classifier.run(options_for(
      pretrained, data_dir, out, do_eval=True,
      export_dir=str(tmp_path / "export"), threshold_to_export=0.25))
  with tf.Graph().as_default(), tf.Session() as sess:
    meta_graph = tf.saved_model.loader.load(sess, ["serve"],
                                            summary["export_path"])
    outputs = meta_graph.signature_def["serving_default"].outputs
    assert sess.run(outputs["threshold"].name) == pytest.approx(0.25)


@pytest.mark.parametrize("task,labels,extra_metrics", [
    ("CoLA", {"0", "1"}, {"matthew_corr"}),
    ("MRPC", {"0", "1"}, {"eval_f1", "eval_precision", "eval_recall"}),
    ("QQP", {"0", "1"}, {"eval_f1"}),
    ("QNLI", {"entailment", "not_entailment"}, set()),
    ("RTE", {"entailment", "not_entailment"}, set()),
    ("WNLI", {"0", "1"}, set()),
])
def test_every_task_runs_end_to_end(task, labels, extra_metrics, pretrained,
                                    tmp_path):
  data_dir = str(tmp_path / "glue")
  classifier_utils_test.write_glue_dir(data_dir)
  out = str(tmp_path / "out")
  summary = run_classifier.run(options_for(
      pretrained, data_dir, out, task_name=task, do_train=True, do_eval=True,
      do_predict=True, train_step=1, save_checkpoints_steps=1,
      train_batch_size=2))
  block = read_blocks(os.path.join(out, "eval_results.txt"))[-1]
  assert {"eval_accuracy", "eval_loss", "global_step"} | extra_metrics <= (
      set(block))
  name = run_classifier.SUBMISSION_NAMES[task.lower()]
  assert list(summary["submission_files"]) == [name]
  rows = read_tsv(os.path.join(out, name + ".tsv"))
  test = classifier_utils.get_processor(task).get_test_examples(data_dir)
  assert rows[0] == ["index", "prediction"]
  assert [r[0] for r in rows[1:]] == [e.guid for e in test]
  assert set(r[1] for r in rows[1:]) <= labels


# Bad input -----------------------------------------------------------------


def test_bad_inputs_fail_clearly_before_writing(pretrained, glue, tmp_path):
  data_dir, _ = glue
  out = str(tmp_path / "out")

  def fails(match, **overrides):
    values = dict(do_train=True, do_eval=True)
    values.update(overrides)
    with pytest.raises(ValueError, match=match):
      run_classifier.run(options_for(pretrained, values.pop("data_dir",
                                                            data_dir),
                                     out, **values))
    assert not os.path.exists(out)  # Nothing created before the checks.

  fails("do_train.*do_eval.*do_predict", do_train=False, do_eval=False)
  fails(r"Unknown task_name 'sst'.*cola.*sst-2", task_name="sst")
  fails(r"task directory not found: .*empty.*SST-2",
        data_dir=str(tmp_path / "empty"))
  partial = tmp_path / "partial"
  os.makedirs(str(partial / "SST-2"))
  (partial / "SST-2" / "train.tsv").write_text("sentence\tlabel\na b\t1\n")
  fails(r"SST-2 file not found: .*partial/SST-2/dev\.tsv",
        data_dir=str(partial))
  fails(r"either --init_checkpoint or --albert_hub_module_handle",
        albert_hub_module_handle=str(tmp_path))
  fails(r"max_seq_length=80 .*max_position_embeddings=64",
        max_seq_length=80)
  # A tokenizer with ids past the embedding table (a padded table, the
  # other way round, is fine: test_padded_embedding_table_is_accepted).
  small = tmp_path / "small_vocab.json"
  size = pretrained.config.vocab_size
  small.write_text(open(pretrained.config_file).read().replace(
      '"vocab_size": %d' % size, '"vocab_size": %d' % (size - 1)))
  fails(r"has %d token ids but the config's vocab_size is %d" %
        (size, size - 1), albert_config_file=str(small))
  fails(r"has no checkpoint to evaluate", do_train=False)
  fails(r"has no checkpoint to predict with; train first .* or pass one as "
        r"--init_checkpoint", do_train=False, do_eval=False, do_predict=True,
        init_checkpoint=None)
  fails(r"--init_checkpoint=.* is a pretrained model .* not one fine-tuned "
        r"for this task", do_train=False, do_eval=False, do_predict=True)
  fails(r"unknown option.*no_such_flag", no_such_flag=1)


def test_predicts_with_a_fine_tuned_init_checkpoint(sst2_run, pretrained,
                                                    glue, tmp_path, caplog):
  """Without checkpoints in output_dir, --init_checkpoint (a fine-tuned
  model elsewhere) is the model to predict with, and the log says so."""
  fine_tuned, _ = sst2_run
  data_dir, _ = glue
  out = str(tmp_path / "predictions")
  caplog.set_level("INFO")
  summary = run_classifier.run(options_for(
      pretrained, data_dir, out, do_predict=True,
      init_checkpoint=os.path.join(fine_tuned, "model.ckpt-best")))
  assert read_tsv(summary["submission_files"]["SST-2"]) == read_tsv(
      os.path.join(fine_tuned, "SST-2.tsv"))
  assert any("has no checkpoint: predicting with --init_checkpoint=%s" %
             os.path.join(fine_tuned, "model.ckpt-best") in r.getMessage()
             for r in caplog.records)
  assert not glob.glob(os.path.join(out, "*.index"))


def test_a_pretrained_model_directory_is_not_an_output_dir(pretrained, glue):
  """It was taken for this task's training: "Resuming from
  model.ckpt-best", "Skipping training", then "no checkpoint to evaluate";
  and its model.ckpt-best could be replaced by a fine-tuned one."""
  data_dir, _ = glue
  before = sorted(os.listdir(pretrained.directory))
  with pytest.raises(ValueError, match=r"--output_dir=.* is the directory of "
                                       r"--init_checkpoint=.*choose a new "
                                       r"--output_dir"):
    run_classifier.run(options_for(pretrained, data_dir,
                                   pretrained.directory, do_train=True,
                                   do_predict=True))
  with pytest.raises(ValueError, match=r"--output_dir=.* holds a pretrained "
                                       r"model .*model.ckpt-best has the "
                                       r"masked-LM head.*pass it as "
                                       r"--init_checkpoint"):
    run_classifier.run(options_for(pretrained, data_dir,
                                   pretrained.directory, do_predict=True,
                                   init_checkpoint=None))
  assert sorted(os.listdir(pretrained.directory)) == before


def test_a_corrupt_init_checkpoint_is_named(pretrained, glue, tmp_path):
  """Flipped bytes (same size) ended in "Graph execution error:" alone."""
  data_dir, _ = glue
  copy = str(tmp_path / "model.ckpt-best")
  for path in glob.glob(pretrained.init_checkpoint + ".*"):
    shutil.copy(path, copy + path[len(pretrained.init_checkpoint):])
  data_file = copy + ".data-00000-of-00001"
  with open(data_file, "r+b") as f:
    raw = bytearray(f.read())
    for i in range(64, 96):
      raw[i] ^= 0xFF
    f.seek(0)
    f.write(raw)
  with pytest.raises(tf.errors.DataLossError) as raised:
    run_classifier.run(options_for(
        pretrained, data_dir, str(tmp_path / "out"), do_train=True,
        train_step=1, save_checkpoints_steps=1, init_checkpoint=copy))
  line = command_line.error_line(raised.value)
  assert line.startswith("checkpoint %s is corrupt: its data file %s fails "
                         "its checksum" % (copy, data_file)), line


def test_padded_embedding_table_is_accepted(pretrained, glue, tmp_path,
                                           caplog):
  """A config whose vocab_size exceeds the tokenizer's (the embedding table
  padded, as some released models are) fine-tunes, with one warning giving
  both sizes; it was refused as 'do not belong together'."""
  data_dir, _ = glue
  size = pretrained.config.vocab_size
  padded_dir = tmp_path / "padded"
  padded_dir.mkdir()
  padded = hub_fixtures.tiny_config_dict(size + 8, dropout_prob=0.0)
  config_file = padded_dir / "albert_config.json"
  config_file.write_text(json.dumps(padded))
  checkpoint = str(padded_dir / "model.ckpt-best")
  hub_fixtures.save_pretraining_checkpoint(
      modeling.AlbertConfig.from_dict(padded), checkpoint)
  caplog.set_level("WARNING")
  summary = run_classifier.run(options_for(
      pretrained, data_dir, str(tmp_path / "out"), do_train=True,
      do_eval=True, train_step=2, save_checkpoints_steps=2,
      albert_config_file=str(config_file), init_checkpoint=checkpoint))
  assert sorted(summary["eval_history"]) == [0, 2]
  warnings = [r.getMessage() for r in caplog.records
              if "fewer than the config's vocab_size" in r.getMessage()]
  assert len(warnings) == 1
  assert "has %d token ids, fewer than the config's vocab_size %d" % (
      size, size + 8) in warnings[0]


@pytest.mark.slow
def test_bf16_accumulated_mirrored_fine_tuning_learns(pretrained, glue,
                                                     tmp_path):
  """--precision, --gradient_accumulation_steps and --strategy go through
  the shared driver: steps count updates of 8 x 2 examples, each batch of 8
  split over 2 replicas (virtual CPU devices). (--use_xla: the STS-B
  test.)"""
  data_dir, _ = glue
  out = str(tmp_path / "sst2_bf16")
  summary = run_classifier.run(options_for(
      pretrained, data_dir, out, do_train=True, do_eval=True,
      train_batch_size=8, gradient_accumulation_steps=2, precision="bf16",
      train_step=100, save_checkpoints_steps=50, strategy="mirrored",
      num_devices=2))
  assert summary["best"]["eval_accuracy"] > 0.9
  assert sorted(summary["eval_history"])[-2:] == [50, 100]
  reader = tf.train.load_checkpoint(os.path.join(out, "model.ckpt-best"))
  dtypes = reader.get_variable_to_dtype_map()
  # The released names, all float32, nothing of the run's machinery.
  assert "output_weights" in dtypes and "bert/pooler/dense/kernel" in dtypes
  assert set(dtypes.values()) == {tf.float32, tf.int64}
  assert not [name for name in dtypes if "accumulat" in name or
              "loss_scale" in name or "replica" in name]
