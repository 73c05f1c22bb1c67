# coding=utf-8
"""Tests for albert.classifier_utils: GLUE readers, features, model, metrics.

Every processor reads small files written in the exact official GLUE
layouts (headers, column positions, unlabeled test splits).
"""

import logging
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import classifier_utils as cu
from albert import modeling
from albert import tokenization

from error_checks import WarningMessages
from error_checks import one_line


tf.disable_v2_behavior()


def write(path, rows):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    for row in rows:
      f.write("\t".join(row) + "\n")


MNLI_HEADER = ["index", "promptID", "pairID", "genre",
               "sentence1_binary_parse", "sentence2_binary_parse",
               "sentence1_parse", "sentence2_parse", "sentence1",
               "sentence2"]


def mnli_row(index, s1, s2, labels=()):
  return [str(index), "31193", "31193n", "government", "( ( bp", "( bp",
          "(ROOT (S", "(ROOT (S", s1, s2] + list(labels)


@pytest.fixture(scope="module")
def glue_dir(tmp_path_factory):
  """A tiny GLUE root with every task's files in the official layout."""
  root = str(tmp_path_factory.mktemp("glue"))
  write_glue_dir(root)
  return root


def write_glue_dir(root):
  """Writes one to three rows of every GLUE file under root."""
  j = lambda *parts: os.path.join(root, *parts)  # noqa: E731
  # CoLA: train/dev have no header.
  write(j("CoLA", "train.tsv"), [
      ["gj04", "1", "", "Our friends won't buy this analysis."],
      ["gj04", "0", "*", "They drank the pub."]])
  write(j("CoLA", "dev.tsv"), [["gj04", "1", "", "The sailors rode."]])
  write(j("CoLA", "test.tsv"), [["index", "sentence"],
                                ["0", "Bill whistled past the house."],
                                ["1", "The car honked."]])
  write(j("SST-2", "train.tsv"), [["sentence", "label"],
                                  ["hide new secretions ", "0"],
                                  ["the greatest musicians ", "1"]])
  write(j("SST-2", "dev.tsv"), [["sentence", "label"],
                                ["it 's a charming journey . ", "1"]])
  write(j("SST-2", "test.tsv"), [["index", "sentence"],
                                 ["0", "uneasy mishmash of styles"],
                                 ["1", "this film 's relationship"]])
  mrpc_header = ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]
  write(j("MRPC", "train.tsv"), [
      mrpc_header,
      ["1", "702876", "702977", "Amrozi accused his brother .",
       "Referring to him as only \" the witness \" ."],
      ["0", "2108705", "2108831", "Yucaipa owned Dominick 's .",
       "Yucaipa bought Dominick 's ."]])
  write(j("MRPC", "dev.tsv"), [mrpc_header,
                               ["1", "1", "2", "He said .", "He says ."]])
  write(j("MRPC", "test.tsv"), [
      ["index", "#1 ID", "#2 ID", "#1 String", "#2 String"],
      ["0", "1089874", "1089925", "PCCW 's chief .", "Chief of PCCW ."]])
  stsb_header = ["index", "genre", "filename", "year", "old_index",
                 "source1", "source2", "sentence1", "sentence2", "score"]
  write(j("STS-B", "train.tsv"), [
      stsb_header,
      ["0", "main-captions", "MSRvid", "2012test", "0001", "none", "none",
       "A plane is taking off.", "An air plane is taking off.", "5.000"],
      ["1", "main-captions", "MSRvid", "2012test", "0004", "none", "none",
       "A man is playing a flute.", "A man is eating.", "0.800"]])
  write(j("STS-B", "dev.tsv"), [
      stsb_header,
      ["0", "main-captions", "MSRvid", "2012test", "0000", "none", "none",
       "A man with a hard hat.", "A man wearing a hard hat.", "5.250"]])
  write(j("STS-B", "test.tsv"), [
      stsb_header[:9],
      ["0", "main-captions", "MSRvid", "2012test", "0024", "none", "none",
       "A girl is styling her hair.", "A girl is brushing her hair."]])
  qqp_header = ["id", "qid1", "qid2", "question1", "question2",
                "is_duplicate"]
  write(j("QQP", "train.tsv"), [
      qqp_header,
      ["133273", "213221", "213222", "How is the life of a math student?",
       "Which level of prepration is enough?", "0"],
      ["402555", "536040", "536041", "How do I control my horny emotions?",
       "How do you control your horniness?", "1"]])
  write(j("QQP", "dev.tsv"), [qqp_header,
                              ["1", "2", "3", "Why?", "Why not?", "0"]])
  write(j("QQP", "test.tsv"), [["id", "question1", "question2"],
                               ["0", "Why do rockets look white?",
                                "Why are rockets white?"]])
  write(j("MNLI", "train.tsv"), [
      MNLI_HEADER + ["label1", "gold_label"],
      mnli_row(0, "Conceptually cream skimming.",
               "Product and geography.", ["neutral", "neutral"]),
      mnli_row(1, "you know during the season", "You lose the things",
               ["entailment", "entailment"])])
  dev_labels = ["label1", "label2", "label3", "label4", "label5",
                "gold_label"]
  write(j("MNLI", "dev_matched.tsv"), [
      MNLI_HEADER + dev_labels,
      mnli_row(0, "The new rights are nice.", "Everyone loves them.",
               ["neutral", "entailment", "neutral", "neutral", "neutral",
                "neutral"])])
  write(j("MNLI", "dev_mismatched.tsv"), [
      MNLI_HEADER + dev_labels,
      mnli_row(0, "Your contribution helped.", "It did not help.",
               ["contradiction"] * 5 + ["contradiction"])])
  write(j("MNLI", "test_matched.tsv"), [
      MNLI_HEADER, mnli_row(0, "Hierbas, ans seco.", "This is a tour.")])
  write(j("MNLI", "test_mismatched.tsv"), [
      MNLI_HEADER, mnli_row(0, "What have you decided?", "Decided?"),
      mnli_row(1, "Another one.", "Yes.")])
  write(j("QNLI", "train.tsv"), [
      ["index", "question", "sentence", "label"],
      ["0", "When did the third Digimon series begin?",
       "Unlike the two seasons before it.", "not_entailment"]])
  write(j("QNLI", "dev.tsv"), [
      ["index", "question", "sentence", "label"],
      ["0", "What came into force?", "The treaty came into force.",
       "entailment"]])
  write(j("QNLI", "test.tsv"), [["index", "question", "sentence"],
                                ["0", "What is it?", "It is a test."]])
  for task, labels in (("RTE", ("not_entailment", "entailment")),
                       ("WNLI", ("1", "0"))):
    header = ["index", "sentence1", "sentence2", "label"]
    write(j(task, "train.tsv"), [header,
                                 ["0", "No weapons.", "Weapons found.",
                                  labels[0]],
                                 ["1", "A place.", "The place.", labels[1]]])
    write(j(task, "dev.tsv"), [header, ["0", "Dana ran.", "Dana moved.",
                                        labels[1]]])
    write(j(task, "test.tsv"), [header[:3],
                                ["0", "Mangla was dry.", "It rained."]])
  write(j("diagnostic", "diagnostic.tsv"), [
      ["index", "sentence1", "sentence2"],
      ["0", "The cat sat on the mat.", "The cat did not sit on the mat."],
      ["1", "The cat sat.", "A cat sat."]])


def processor(task):
  # use_spm=False keeps the text exactly as in the files.
  return cu.get_processor(task, use_spm=False, do_lower_case=False)


def fields(examples):
  return [(e.guid, e.text_a, e.text_b, e.label) for e in examples]


def test_cola(glue_dir):
  p = processor("CoLA")
  assert p.get_labels() == ["0", "1"]
  assert fields(p.get_train_examples(glue_dir)) == [
      ("train-0", "Our friends won't buy this analysis.", None, "1"),
      ("train-1", "They drank the pub.", None, "0")]
  assert fields(p.get_dev_examples(glue_dir)) == [
      ("dev-0", "The sailors rode.", None, "1")]
  assert fields(p.get_test_examples(glue_dir)) == [
      ("0", "Bill whistled past the house.", None, "0"),
      ("1", "The car honked.", None, "0")]


def test_sst2(glue_dir):
  p = processor("sst-2")
  assert fields(p.get_train_examples(glue_dir)) == [
      ("train-1", "hide new secretions ", None, "0"),
      ("train-2", "the greatest musicians ", None, "1")]
  assert fields(p.get_dev_examples(glue_dir))[0][1:] == (
      "it 's a charming journey . ", None, "1")
  assert fields(p.get_test_examples(glue_dir)) == [
      ("0", "uneasy mishmash of styles", None, "0"),
      ("1", "this film 's relationship", None, "0")]


def test_mrpc(glue_dir):
  p = processor("MRPC")
  train = fields(p.get_train_examples(glue_dir))
  assert train == [
      ("train-1", "Amrozi accused his brother .",
       "Referring to him as only \" the witness \" .", "1"),
      ("train-2", "Yucaipa owned Dominick 's .", "Yucaipa bought Dominick 's .",
       "0")]
  assert fields(p.get_dev_examples(glue_dir)) == [
      ("dev-1", "He said .", "He says .", "1")]
  assert fields(p.get_test_examples(glue_dir)) == [
      ("0", "PCCW 's chief .", "Chief of PCCW .", "0")]


def test_stsb_float_labels(glue_dir):
  p = processor("STS-B")
  assert p.get_labels() == [None]
  assert fields(p.get_train_examples(glue_dir)) == [
      ("0", "A plane is taking off.", "An air plane is taking off.", 5.0),
      ("1", "A man is playing a flute.", "A man is eating.", 0.8)]
  assert fields(p.get_dev_examples(glue_dir))[0][3] == 5.25
  assert fields(p.get_test_examples(glue_dir)) == [
      ("0", "A girl is styling her hair.", "A girl is brushing her hair.",
       0.0)]


def test_qqp(glue_dir):
  p = processor("qqp")
  assert fields(p.get_train_examples(glue_dir)) == [
      ("133273", "How is the life of a math student?",
       "Which level of prepration is enough?", "0"),
      ("402555", "How do I control my horny emotions?",
       "How do you control your horniness?", "1")]
  assert fields(p.get_test_examples(glue_dir)) == [
      ("0", "Why do rockets look white?", "Why are rockets white?", "0")]


def test_mnli_matched_and_mismatched(glue_dir):
  p = processor("mnli")
  assert p.get_labels() == ["contradiction", "entailment", "neutral"]
  assert fields(p.get_train_examples(glue_dir)) == [
      ("0", "Conceptually cream skimming.", "Product and geography.",
       "neutral"),
      ("1", "you know during the season", "You lose the things",
       "entailment")]
  # gold_label is the last column, not label1.
  assert fields(p.get_dev_examples(glue_dir)) == [
      ("0", "The new rights are nice.", "Everyone loves them.", "neutral")]
  assert fields(p.get_dev_mismatched_examples(glue_dir))[0][3] == (
      "contradiction")
  assert fields(p.get_test_examples(glue_dir)) == [
      ("0", "Hierbas, ans seco.", "This is a tour.", "contradiction")]
  assert len(p.get_test_mismatched_examples(glue_dir)) == 2
  mm = processor("MisMNLI")
  assert isinstance(processor("mnli-mm"), cu.MisMnliProcessor)
  assert fields(mm.get_dev_examples(glue_dir)) == fields(
      p.get_dev_mismatched_examples(glue_dir))
  assert [e.text_a for e in mm.get_test_examples(glue_dir)] == [
      "What have you decided?", "Another one."]


def test_qnli_rte_wnli(glue_dir):
  qnli = processor("qnli")
  assert qnli.get_labels() == ["entailment", "not_entailment"]
  assert fields(qnli.get_train_examples(glue_dir)) == [
      ("0", "When did the third Digimon series begin?",
       "Unlike the two seasons before it.", "not_entailment")]
  assert fields(qnli.get_test_examples(glue_dir)) == [
      ("0", "What is it?", "It is a test.", "entailment")]
  rte = processor("rte")
  assert rte.get_labels() == ["entailment", "not_entailment"]
  assert [e.label for e in rte.get_train_examples(glue_dir)] == [
      "not_entailment", "entailment"]
  assert fields(rte.get_test_examples(glue_dir)) == [
      ("0", "Mangla was dry.", "It rained.", "entailment")]
  wnli = processor("wnli")
  assert wnli.get_labels() == ["0", "1"]
  assert fields(wnli.get_train_examples(glue_dir)) == [
      ("0", "No weapons.", "Weapons found.", "1"),
      ("1", "A place.", "The place.", "0")]
  assert fields(wnli.get_test_examples(glue_dir))[0][3] == "0"


def test_ax_diagnostic(glue_dir):
  p = processor("AX")
  assert p.get_labels() == ["contradiction", "entailment", "neutral"]
  assert fields(p.get_test_examples(glue_dir)) == [
      ("0", "The cat sat on the mat.", "The cat did not sit on the mat.",
       "contradiction"),
      ("1", "The cat sat.", "A cat sat.", "contradiction")]
  with pytest.raises(ValueError, match="only a test set"):
    p.get_train_examples(glue_dir)


def test_process_text_for_sentencepiece(glue_dir):
  p = cu.get_processor("sst-2", use_spm=True, do_lower_case=True)
  assert p.get_train_examples(glue_dir)[1].text_a == "the greatest musicians"
  p = cu.get_processor("mrpc", use_spm=True, do_lower_case=True)
  assert p.get_dev_examples(glue_dir)[0].text_a == "he said ."


def test_unknown_task_lists_valid_names():
  with pytest.raises(ValueError, match=r"Unknown task_name 'sst2'.*cola.*"
                                       r"sst-2.*sts-b"):
    cu.get_processor("sst2")


def test_missing_directory_and_file_are_named(tmp_path, glue_dir):
  with pytest.raises(cu.DataFileNotFoundError,
                     match=r"task directory not found: .*RTE"):
    processor("rte").get_train_examples(str(tmp_path))
  os.makedirs(str(tmp_path / "RTE"))
  with pytest.raises(FileNotFoundError, match=r"RTE.*dev\.tsv"):
    processor("rte").get_dev_examples(str(tmp_path))


def capture_warnings(fn):
  handler = WarningMessages()
  logger = logging.getLogger("tensorflow")
  logger.addHandler(handler)
  try:
    result = fn()
  finally:
    logger.removeHandler(handler)
  return result, handler.messages


@pytest.mark.parametrize("task", ["qqp", "mnli"])
def test_malformed_rows_are_skipped_and_counted_in_qqp_and_mnli(task,
                                                                tmp_path):
  root = str(tmp_path)
  if task == "qqp":
    rows = [["id", "qid1", "qid2", "question1", "question2", "is_duplicate"],
            ["0", "1", "2", "Good?", "Fine?", "1"],
            ["1", "3", "4", "broken question"],
            ["2", "5"],
            ["3", "6", "7", "Also good?", "Yes?", "0"]]
    write(os.path.join(root, "QQP", "train.tsv"), rows)
  else:
    rows = [MNLI_HEADER + ["label1", "gold_label"],
            mnli_row(0, "a", "b", ["neutral", "neutral"]),
            ["1", "2", "3"],
            mnli_row(2, "c", "d", []),
            mnli_row(3, "e", "f", ["entailment", "entailment"])]
    write(os.path.join(root, "MNLI", "train.tsv"), rows)
  examples, messages = capture_warnings(
      lambda: processor(task).get_train_examples(root))
  assert len(examples) == 2
  assert len(messages) == 1
  assert "Skipped 2 malformed row(s)" in messages[0]
  assert "train.tsv:3" in messages[0]


@pytest.mark.parametrize("task,rows,line", [
    ("sst-2", [["sentence", "label"], ["good", "1"], ["no label here"]], 3),
    ("cola", [["gj04", "1", "", "ok ."], ["gj04", "1"]], 2),
    ("rte", [["index", "sentence1", "sentence2", "label"],
             ["0", "a", "b"]], 2),
])
def test_too_few_columns_is_an_error_elsewhere(task, rows, line, tmp_path):
  folder = {"sst-2": "SST-2", "cola": "CoLA", "rte": "RTE"}[task]
  path = os.path.join(str(tmp_path), folder, "train.tsv")
  write(path, rows)
  with pytest.raises(cu.DataFormatError,
                     match=r"train\.tsv:%d: .*column\(s\)" % line):
    processor(task).get_train_examples(str(tmp_path))


def test_bad_label_names_file_line_and_labels(tmp_path):
  path = os.path.join(str(tmp_path), "RTE", "dev.tsv")
  write(path, [["index", "sentence1", "sentence2", "label"],
               ["0", "a", "b", "entailment"],
               ["1", "c", "d", "contradiction"]])
  with pytest.raises(cu.DataFormatError,
                     match=r"dev\.tsv:3: label 'contradiction' is not one of "
                           r"the RTE labels entailment, not_entailment"):
    processor("rte").get_dev_examples(str(tmp_path))
  path = os.path.join(str(tmp_path), "STS-B", "train.tsv")
  write(path, [["index", "genre", "filename", "year", "old_index", "source1",
                "source2", "sentence1", "sentence2", "score"],
               ["0"] + ["x"] * 8 + ["high"]])
  with pytest.raises(cu.DataFormatError, match=r"train\.tsv:2: .*'high'"):
    processor("sts-b").get_train_examples(str(tmp_path))


def test_blank_lines_are_ignored(tmp_path):
  path = os.path.join(str(tmp_path), "SST-2", "train.tsv")
  os.makedirs(os.path.dirname(path))
  with open(path, "w") as f:
    f.write("sentence\tlabel\ngood\t1\n\nbad\t0\n\n")
  assert [e.label for e in processor("sst-2").get_train_examples(
      str(tmp_path))] == ["1", "0"]


# Features -------------------------------------------------------------------

WORDS = ["a", "b", "c", "d", "e", "f", "g", "h"]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
  """A WordPiece tokenizer: ids 0-4 special, then one id per word."""
  path = str(tmp_path_factory.mktemp("vocab") / "vocab.txt")
  with open(path, "w") as f:
    f.write("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS)
            + "\n")
  return tokenization.FullTokenizer(vocab_file=path, do_lower_case=True)


def ids(*words):
  return [5 + WORDS.index(w) for w in words]


CLS, SEP = 2, 3


def test_convert_single_sentence_pads(tokenizer):
  example = cu.InputExample("x", "a b c", label="1")
  f = cu.convert_single_example(0, example, ["0", "1"], 8, tokenizer, "sst-2")
  assert f.input_ids == [CLS] + ids("a", "b", "c") + [SEP, 0, 0, 0]
  assert f.input_mask == [1] * 5 + [0] * 3
  assert f.segment_ids == [0] * 8
  assert f.label_id == 1 and f.is_real_example


def test_convert_pair_segments_and_truncation(tokenizer):
  example = cu.InputExample("x", "a b", "c d e f g", label="entailment")
  f = cu.convert_single_example(0, example, ["contradiction", "entailment",
                                             "neutral"], 9, tokenizer, "rte")
  # 9 - 3 = 6 tokens: the longer B loses tokens from its end, until A and
  # B are even (a tie cuts B).
  assert f.input_ids == ([CLS] + ids("a", "b") + [SEP] +
                         ids("c", "d", "e", "f") + [SEP])
  assert f.segment_ids == [0, 0, 0, 0, 1, 1, 1, 1, 1]
  assert f.input_mask == [1] * 9
  assert f.label_id == 1
  example = cu.InputExample("x", "a b c d e f", "g h", label="0")
  f = cu.convert_single_example(0, example, ["0", "1"], 8, tokenizer, "mrpc")
  assert f.input_ids == ([CLS] + ids("a", "b", "c") + [SEP] + ids("g", "h")
                         + [SEP])
  tokens_a, tokens_b = list("abcdef"), list("xy")
  cu._truncate_seq_pair(tokens_a, tokens_b, 4)
  assert (tokens_a, tokens_b) == (list("ab"), list("xy"))


def test_convert_single_sentence_truncates(tokenizer):
  example = cu.InputExample("x", "a b c d e f", label="0")
  f = cu.convert_single_example(0, example, ["0", "1"], 5, tokenizer, "cola")
  assert f.input_ids == [CLS] + ids("a", "b", "c") + [SEP]


def test_convert_stsb_float_label_and_padding_example(tokenizer):
  example = cu.InputExample("x", "a", "b", label=3.6)
  f = cu.convert_single_example(0, example, [None], 6, tokenizer, "sts-b")
  assert f.label_id == pytest.approx(3.6)
  assert isinstance(f.label_id, float)
  pad = cu.convert_single_example(0, cu.PaddingInputExample(), ["0", "1"], 6,
                                  tokenizer, "sst-2")
  assert pad.input_ids == pad.input_mask == pad.segment_ids == [0] * 6
  assert pad.label_id == 0 and not pad.is_real_example
  with pytest.raises(ValueError, match="label 'maybe' is not one of"):
    cu.convert_single_example(0, cu.InputExample("x", "a", label="maybe"),
                              ["0", "1"], 6, tokenizer, "sst-2")


@pytest.mark.parametrize("task", ["sst-2", "sts-b"])
def test_tfrecord_round_trip(task, tokenizer, tmp_path):
  label_list = [None] if task == "sts-b" else ["0", "1"]
  labels = [1.5, 4.0] if task == "sts-b" else ["1", "0"]
  examples = [cu.InputExample("0", "a b", "c", labels[0]),
              cu.InputExample("1", "d", None, labels[1]),
              cu.PaddingInputExample()]
  path = str(tmp_path / "features.tf_record")
  count = cu.file_based_convert_examples_to_features(
      examples, label_list, 6, tokenizer, path, task)
  assert count == 3
  input_fn = cu.file_based_input_fn_builder(path, 6, False, False, task,
                                            use_tpu=False, bsz=8)
  with tf.Graph().as_default():
    batch = tf.data.make_one_shot_iterator(
        input_fn({"batch_size": 2})).get_next()
    with tf.Session() as sess:
      got = sess.run(batch)
  assert got["input_ids"].dtype == np.int32
  assert got["input_ids"].shape == (3, 6)  # bsz=8 wins off TPU.
  np.testing.assert_array_equal(got["input_ids"][1],
                                [CLS] + ids("d") + [SEP, 0, 0, 0])
  np.testing.assert_array_equal(got["is_real_example"], [1, 1, 0])
  if task == "sts-b":
    assert got["label_ids"].dtype == np.float32
    np.testing.assert_allclose(got["label_ids"], [1.5, 4.0, 0.0])
  else:
    np.testing.assert_array_equal(got["label_ids"], [1, 0, 0])


# Model ----------------------------------------------------------------------


def tiny_config():
  return modeling.AlbertConfig(
      vocab_size=20, embedding_size=8, hidden_size=16, num_hidden_layers=1,
      num_attention_heads=2, intermediate_size=16,
      max_position_embeddings=8)


@pytest.mark.parametrize("task,num_labels", [("mnli", 3), ("sts-b", 1)])
def test_create_model_variables_and_shapes(task, num_labels):
  with tf.Graph().as_default():
    input_ids = tf.constant([[2, 5, 6, 3, 0, 0], [2, 7, 3, 8, 3, 0]])
    mask = tf.cast(input_ids > 0, tf.int32)
    labels = (tf.constant([1.0, 4.0]) if task == "sts-b"
              else tf.constant([2, 0]))
    loss, per_example, probs, logits, predictions = cu.create_model(
        tiny_config(), True, input_ids, mask, tf.zeros_like(input_ids),
        labels, num_labels, False, task, None, classifier_dropout_prob=0.0)
    names = {v.op.name: v.shape.as_list() for v in tf.trainable_variables()}
    assert names["output_weights"] == [num_labels, 16]
    assert names["output_bias"] == [num_labels]
    assert any(n.startswith("bert/") for n in names)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      got = sess.run(dict(loss=loss, per_example=per_example, probs=probs,
                          logits=logits, predictions=predictions))
  if task == "sts-b":
    assert got["probs"].shape == (2, 1)
    assert got["logits"].shape == got["predictions"].shape == (2,)
    np.testing.assert_allclose(got["per_example"],
                               (got["logits"] - [1.0, 4.0]) ** 2, rtol=1e-5)
  else:
    assert got["probs"].shape == (2, 3)
    np.testing.assert_allclose(got["probs"].sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(got["predictions"],
                                  got["probs"].argmax(-1))
    expected = -np.log(got["probs"][[0, 1], [2, 0]])
    np.testing.assert_allclose(got["per_example"], expected, rtol=1e-5)
  assert got["loss"] == pytest.approx(got["per_example"].mean(), rel=1e-5)


# Metrics --------------------------------------------------------------------


def run_metrics(task, batches):
  """Runs the task's metric_fn over batches of (labels, logits, weights)."""
  regression = task == "sts-b"
  with tf.Graph().as_default():
    label_ph = tf.placeholder(tf.float32 if regression else tf.int32, [None])
    logits_ph = tf.placeholder(tf.float32, [None] if regression
                               else [None, 2])
    weights_ph = tf.placeholder(tf.float32, [None])
    loss_ph = tf.placeholder(tf.float32, [None])
    metrics = cu.metric_fn_for(task)(loss_ph, label_ph, logits_ph, weights_ph)
    values = {k: v[0] for k, v in metrics.items()}
    updates = [v[1] for v in metrics.values()]
    with tf.Session() as sess:
      sess.run(tf.local_variables_initializer())
      for labels, logits, weights in batches:
        sess.run(updates, {label_ph: labels, logits_ph: logits,
                           weights_ph: weights,
                           loss_ph: np.ones(len(labels))})
      return sess.run(values)


def logits_for(predictions):
  return [[0.0, 1.0] if p else [1.0, 0.0] for p in predictions]


def test_accuracy_and_mcc_against_hand_values():
  # tp=3, tn=2, fp=1, fn=1 over two batches, plus padding rows (weight 0)
  # that would change every number if counted.
  labels = [1, 1, 1, 0, 0, 0, 1, 0, 1]
  preds = [1, 1, 1, 0, 0, 1, 0, 1, 0]
  weights = [1, 1, 1, 1, 1, 1, 1, 0, 0]
  got = run_metrics("cola", [
      (labels[:4], logits_for(preds[:4]), weights[:4]),
      (labels[4:], logits_for(preds[4:]), weights[4:])])
  assert got["eval_accuracy"] == pytest.approx(5.0 / 7.0)
  assert got["matthew_corr"] == pytest.approx(5.0 / 12.0, rel=1e-6)
  assert got["eval_loss"] == pytest.approx(1.0)
  assert cu.np_accuracy(labels, preds, weights) == pytest.approx(5.0 / 7.0)
  assert cu.np_matthews_corr(labels, preds, weights) == pytest.approx(
      5.0 / 12.0)
  assert "eval_f1" not in got


def test_f1_against_hand_values():
  # tp=2, fp=1, fn=2, tn=1: precision 2/3, recall 1/2, F1 4/7.
  labels = [1, 1, 1, 1, 0, 0, 1]
  preds = [1, 1, 0, 0, 1, 0, 1]
  weights = [1, 1, 1, 1, 1, 1, 0]
  for task in ("mrpc", "qqp"):
    got = run_metrics(task, [(labels, logits_for(preds), weights)])
    assert got["eval_precision"] == pytest.approx(2.0 / 3.0)
    assert got["eval_recall"] == pytest.approx(0.5)
    assert got["eval_f1"] == pytest.approx(4.0 / 7.0)
    assert got["eval_accuracy"] == pytest.approx(3.0 / 6.0)
    assert "matthew_corr" not in got
  assert cu.np_precision_recall_f1(labels, preds, weights) == pytest.approx(
      (2.0 / 3.0, 0.5, 4.0 / 7.0))


def test_mcc_and_f1_degenerate_cases_are_zero():
  got = run_metrics("mrpc", [([0, 0], logits_for([0, 0]), [1, 1])])
  assert got["eval_f1"] == 0.0 and got["eval_accuracy"] == 1.0
  got = run_metrics("cola", [([1, 0], logits_for([1, 1]), [1, 1])])
  assert got["matthew_corr"] == 0.0
  assert cu.np_matthews_corr([1, 0], [1, 1]) == 0.0


def test_pearson_and_spearman_against_hand_values():
  # Pearson of x=[1,2,3,4], y=[2,4,5,9]: 11 / sqrt(5 * 26).
  pearson = 11.0 / np.sqrt(130.0)
  got = run_metrics("sts-b", [
      ([2.0, 4.0], [1.0, 2.0], [1, 1]),
      ([5.0, 9.0, 100.0], [3.0, 4.0, -50.0], [1, 1, 0])])
  assert got["pearson"] == pytest.approx(pearson, rel=1e-6)
  assert got["spearman"] == pytest.approx(1.0)  # Monotonic.
  # MSE of (x - y): 1, 4, 4, 25 -> 8.5.
  assert got["MSE"] == pytest.approx(8.5)
  assert got["eval_loss"] == pytest.approx(1.0)
  assert "eval_accuracy" not in got
  assert cu.np_pearson([1, 2, 3, 4], [2, 4, 5, 9]) == pytest.approx(pearson)


def test_spearman_with_ties_against_hand_values():
  # Ranks of x=[1,2,2,3] are [1,2.5,2.5,4]; of y=[1,3,2,4] [1,3,2,4];
  # their Pearson is 4.5 / sqrt(4.5 * 5).
  expected = 4.5 / np.sqrt(22.5)
  np.testing.assert_allclose(cu.rankdata([1, 2, 2, 3]), [1, 2.5, 2.5, 4])
  np.testing.assert_allclose(cu.rankdata([3, 1, 3, 3, 0]),
                             [4, 2, 4, 4, 1])
  assert cu.np_spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(
      expected)
  got = run_metrics("sts-b", [([1.0, 3.0], [1.0, 2.0], [1, 1]),
                              ([2.0, 4.0], [2.0, 3.0], [1, 1])])
  assert got["spearman"] == pytest.approx(expected, rel=1e-6)
  # Constant predictions: correlations are undefined, reported as 0.
  got = run_metrics("sts-b", [([1.0, 3.0, 2.0], [0.5, 0.5, 0.5], [1, 1, 1])])
  assert got["pearson"] == 0.0 and got["spearman"] == 0.0


def test_main_metric():
  assert cu.main_metric("CoLA") == "matthew_corr"
  assert cu.main_metric("sts-b") == "pearson"
  assert cu.main_metric("mrpc") == "eval_accuracy"
  assert cu.main_metric("mnli") == "eval_accuracy"


# Bad GLUE TSV files get one clear line (moved from tests/reliability/) -----


MNLI_COLUMNS = ["index", "promptID", "pairID", "genre",
                "sentence1_binary_parse", "sentence2_binary_parse",
                "sentence1_parse", "sentence2_parse", "sentence1",
                "sentence2"]


def _mnli(index, labels):
  return [str(index), "1", "1n", "fiction", "(", "(", "(", "(",
          "First %d ." % index, "Second %d ." % index] + labels


def _stsb(index, score):
  return ([str(index), "main-captions", "MSRvid", "2012test", "0001", "none",
           "none", "A man %d ." % index, "A woman %d ." % index] +
          ([score] if score is not None else []))


# (task, folder, file, split): official header and two data rows.
OFFICIAL = [
    ("cola", "CoLA", "test.tsv", "test", ["index", "sentence"],
     [["0", "Bill whistled ."], ["1", "The car honked ."]]),
    ("sst-2", "SST-2", "train.tsv", "train", ["sentence", "label"],
     [["a good film ", "1"], ["a bad film ", "0"]]),
    ("sst-2", "SST-2", "dev.tsv", "dev", ["sentence", "label"],
     [["a good film ", "1"], ["a bad film ", "0"]]),
    ("sst-2", "SST-2", "test.tsv", "test", ["index", "sentence"],
     [["0", "a good film"], ["1", "a bad film"]]),
    ("mrpc", "MRPC", "train.tsv", "train",
     ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"],
     [["1", "1", "2", "He said .", "He says ."],
      ["0", "3", "4", "She ran .", "It rained ."]]),
    ("mrpc", "MRPC", "test.tsv", "test",
     ["index", "#1 ID", "#2 ID", "#1 String", "#2 String"],
     [["0", "1", "2", "He said .", "He says ."],
      ["1", "3", "4", "She ran .", "It rained ."]]),
    ("sts-b", "STS-B", "dev.tsv", "dev",
     ["index", "genre", "filename", "year", "old_index", "source1",
      "source2", "sentence1", "sentence2", "score"],
     [_stsb(0, "5.000"), _stsb(1, "0.800")]),
    ("sts-b", "STS-B", "test.tsv", "test",
     ["index", "genre", "filename", "year", "old_index", "source1",
      "source2", "sentence1", "sentence2"],
     [_stsb(0, None), _stsb(1, None)]),
    ("qqp", "QQP", "train.tsv", "train",
     ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"],
     [["0", "1", "2", "Why?", "Why not?", "0"],
      ["1", "3", "4", "How?", "How so?", "1"]]),
    ("qqp", "QQP", "test.tsv", "test", ["id", "question1", "question2"],
     [["0", "Why?", "Why not?"], ["1", "How?", "How so?"]]),
    ("mnli", "MNLI", "dev_matched.tsv", "dev",
     MNLI_COLUMNS + ["label1", "label2", "label3", "label4", "label5",
                     "gold_label"],
     [_mnli(0, ["neutral"] * 6), _mnli(1, ["entailment"] * 6)]),
    ("mnli", "MNLI", "test_matched.tsv", "test", MNLI_COLUMNS,
     [_mnli(0, []), _mnli(1, [])]),
    ("qnli", "QNLI", "train.tsv", "train",
     ["index", "question", "sentence", "label"],
     [["0", "What?", "This .", "entailment"],
      ["1", "Who?", "Nobody .", "not_entailment"]]),
    ("rte", "RTE", "dev.tsv", "dev",
     ["index", "sentence1", "sentence2", "label"],
     [["0", "A dog ran .", "A dog moved .", "entailment"],
      ["1", "A dog ran .", "A cat sat .", "not_entailment"]]),
    ("wnli", "WNLI", "train.tsv", "train",
     ["index", "sentence1", "sentence2", "label"],
     [["0", "A dog ran .", "It moved .", "1"],
      ["1", "A dog ran .", "It sat .", "0"]]),
    ("ax", "diagnostic", "diagnostic.tsv", "test",
     ["index", "sentence1", "sentence2"],
     [["0", "The cat sat .", "A cat sat ."], ["1", "It is .", "It isn't ."]]),
]


def write_tsv(path, rows, encoding="utf-8"):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "wb") as f:
    for row in rows:
      f.write(("\t".join(row) + "\n").encode(encoding))


def read_split(task, split, data_dir):
  processor = cu.get_processor(task, use_spm=False, do_lower_case=False)
  return {"train": processor.get_train_examples,
          "dev": processor.get_dev_examples,
          "test": processor.get_test_examples}[split](data_dir)


@pytest.mark.parametrize("task,folder,name,split,header,rows", OFFICIAL)
def test_official_layouts_still_read_every_row(tmp_path, task, folder, name,
                                               split, header, rows):
  write_tsv(str(tmp_path / folder / name), [header] + rows)
  examples = read_split(task, split, str(tmp_path))
  assert len(examples) == 2
  processor = cu.get_processor(task)
  layout = processor._layout(split)  # pylint: disable=protected-access
  text_a = layout.text_a
  assert [e.text_a for e in examples] == [row[text_a] for row in rows]


@pytest.mark.parametrize("task,folder,name,split,header,rows", OFFICIAL)
def test_a_missing_header_line_is_an_error_not_a_lost_row(
    tmp_path, task, folder, name, split, header, rows):
  """Without its header, the file's first data row was silently dropped."""
  path = str(tmp_path / folder / name)
  write_tsv(path, rows)
  with pytest.raises(cu.DataFormatError) as raised:
    read_split(task, split, str(tmp_path))
  message = one_line(raised.value)
  assert message.startswith("%s:1: expected the official %s %s header, "
                            "with " % (path, folder, split))
  assert "found %d column(s) %r" % (len(rows[0]), "\t".join(rows[0])) in (
      message)
  assert "is the header line missing" in message


def test_header_message_says_which_columns_were_expected(tmp_path):
  path = str(tmp_path / "SST-2" / "train.tsv")
  write_tsv(path, [["a fine film", "1"], ["a poor film", "0"]])
  with pytest.raises(cu.DataFormatError) as raised:
    read_split("sst-2", "train", str(tmp_path))
  assert one_line(raised.value) == (
      "%s:1: expected the official SST-2 train header, with 'sentence' in "
      "column 1, 'label' in column 2; found 2 column(s) 'a fine film\\t1' "
      "(is the header line missing, or is this another task's file?)" % path)


def test_another_tasks_file_fails_on_its_header(tmp_path):
  """An RTE file in QNLI/ has the same column count but other names."""
  path = str(tmp_path / "QNLI" / "dev.tsv")
  write_tsv(path, [["index", "sentence1", "sentence2", "label"],
                   ["0", "A .", "B .", "entailment"]])
  with pytest.raises(cu.DataFormatError,
                     match=r"dev\.tsv:1: expected the official QNLI dev "
                           r"header, with 'index' in column 1, 'question' "
                           r"in column 2"):
    read_split("qnli", "dev", str(tmp_path))


def test_header_comparison_ignores_bom_and_case(tmp_path):
  """MRPC's files come from a Microsoft download that starts with a BOM."""
  write_tsv(str(tmp_path / "MRPC" / "train.tsv"), [
      ["\ufeffQuality", "#1 ID", "#2 ID", "#1 string", "#2 String"],
      ["1", "1", "2", "He said .", "He says ."]])
  examples = read_split("mrpc", "train", str(tmp_path))
  assert [(e.text_a, e.label) for e in examples] == [("He said .", "1")]


def test_mnli_header_checks_the_columns_it_reads(tmp_path):
  path = str(tmp_path / "MNLI" / "train.tsv")
  write_tsv(path, [MNLI_COLUMNS + ["label1", "label"],
                   _mnli(0, ["neutral", "neutral"])])
  with pytest.raises(cu.DataFormatError,
                     match=r"train\.tsv:1: .*'gold_label' in the last "
                           r"column; found 12 column\(s\)"):
    read_split("mnli", "train", str(tmp_path))


@pytest.mark.parametrize("rows,expected", [
    ([], ":1: expected the official SST-2 dev header, with 'sentence' in "
         "column 1, 'label' in column 2; found an empty file"),
    ([["sentence", "label"]], " has no data rows; expected the official "
                              "SST-2 file"),
])
def test_empty_glue_files_are_errors(tmp_path, rows, expected):
  path = str(tmp_path / "SST-2" / "dev.tsv")
  write_tsv(path, rows)
  with pytest.raises(cu.DataFormatError) as raised:
    read_split("sst-2", "dev", str(tmp_path))
  assert one_line(raised.value).startswith(path + expected)


def test_headerless_cola_with_no_rows_is_an_error(tmp_path):
  path = str(tmp_path / "CoLA" / "train.tsv")
  write_tsv(path, [])
  with pytest.raises(cu.DataFormatError, match="has no data rows"):
    read_split("cola", "train", str(tmp_path))


def test_non_utf8_bytes_name_file_and_line(tmp_path):
  path = str(tmp_path / "SST-2" / "train.tsv")
  os.makedirs(os.path.dirname(path))
  with open(path, "wb") as f:
    f.write(b"sentence\tlabel\na good film\t1\nun caf\xe9 noir\t0\n")
  with pytest.raises(cu.DataFormatError) as raised:
    read_split("sst-2", "train", str(tmp_path))
  assert one_line(raised.value) == (
      "%s:3: not UTF-8 text (byte 0xe9 at column 7); GLUE files are UTF-8, "
      "re-save this one as UTF-8" % path)


def test_line_numbers_count_newlines_only(tmp_path):
  """A form feed or U+2028 inside a sentence does not split its row."""
  path = str(tmp_path / "SST-2" / "train.tsv")
  write_tsv(path, [["sentence", "label"], ["one\x0ctwo\u2028three", "1"],
                   ["bad", "x"]])
  with pytest.raises(cu.DataFormatError, match=r"train\.tsv:3: label 'x'"):
    read_split("sst-2", "train", str(tmp_path))
