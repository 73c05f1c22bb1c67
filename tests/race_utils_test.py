# coding=utf-8
"""Tests for albert.race_utils: RACE reader, features, head and metrics.

The data are small files in the exact official layout
(RACE/<split>/<level>/<n>.txt, one JSON object each); the tokenizer is a
tiny sentencepiece model trained here.
"""

import json
import logging as std_logging
import math
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import hub_fixtures
from albert import classifier_utils as cu
from albert import modeling
from albert import race_utils
from albert import tokenization

tf.disable_v2_behavior()


def race_file(example_id, article, questions, options, answers=None):
  """A RACE file's JSON object, keys in the official files' order."""
  data = {}
  if answers is not None:
    data["answers"] = answers
  data["options"] = options
  data["questions"] = questions
  data["article"] = article
  data["id"] = example_id
  return data


def write_file(path, content):
  """Writes a dict as JSON, str as text and bytes as they are."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  if isinstance(content, dict):
    content = json.dumps(content)
  mode = "wb" if isinstance(content, bytes) else "w"
  with open(path, mode) as f:
    f.write(content)


OPTS = ["cat", "dog", "bird", "star"]


def one_question(example_id, answer="A"):
  return race_file(example_id, "Some article.", ["Which one?"], [OPTS],
                   [answer])


def write_race(root):
  """The fixture star; returns root (the data_dir)."""
  j = lambda *parts: os.path.join(root, "RACE", *parts)  # noqa: E731
  write_file(j("train", "middle", "1.txt"), race_file(
      "middle1.txt", "The  cat ``reads'' the text.\nThe dog writes.",
      ["What reads the text?", "The cat _ the text.",
       "The _ and the _ are happy."],
      [OPTS, ["reads", "writes", "sees", "keeps"],
       ["cat", "dog", "bird", "star"]],
      ["B", "A", "D"]))
  # "10.txt" sorts between "1.txt" and "2.txt": string order, as sorted().
  write_file(j("train", "middle", "10.txt"), one_question("middle10.txt",
                                                          "C"))
  write_file(j("train", "middle", "2.txt"), race_file(
      "middle2.txt", "Another article.", ["First?", "Second?"],
      [OPTS, OPTS], ["D", "A"]))
  # The released one-JSON-per-line variant and a macOS resource fork: both
  # are skipped (each would fail to parse as one JSON object).
  write_file(j("train", "middle", "all.txt"),
             json.dumps(one_question("x")) + "\n" +
             json.dumps(one_question("y")) + "\n")
  write_file(j("train", "middle", "._1.txt"), b"\x00\x05\x16\x07\xff")
  write_file(j("train", "high", "1.txt"), race_file(
      "high1.txt", "A high article.", ["Why?", "How?"], [OPTS, OPTS],
      ["B", "C"]))
  for split in ("dev", "test"):
    write_file(j(split, "middle", "5.txt"),
               one_question("middle5.txt", "A"))
    write_file(j(split, "high", "7.txt"), one_question("high7.txt", "D"))
  return root


@pytest.fixture(scope="module")
def race_dir(tmp_path_factory):
  return write_race(str(tmp_path_factory.mktemp("race")))


def processor(**kwargs):
  return race_utils.RaceProcessor(use_spm=True, do_lower_case=True, **kwargs)


# Reader ---------------------------------------------------------------------


def test_train_order_guids_labels_and_endings(race_dir):
  examples = processor().get_train_examples(race_dir)
  assert [e.guid for e in examples] == [
      "train-middle-middle1.txt-0", "train-middle-middle1.txt-1",
      "train-middle-middle1.txt-2", "train-middle-middle10.txt-0",
      "train-middle-middle2.txt-0", "train-middle-middle2.txt-1",
      "train-high-high1.txt-0", "train-high-high1.txt-1"]
  assert [e.label for e in examples] == [1, 0, 3, 2, 3, 0, 1, 2]
  assert [e.level for e in examples] == ["middle"] * 6 + ["high"] * 2
  assert [e.question_index for e in examples] == [0, 1, 2, 0, 0, 1, 0, 1]
  first, cloze, two_blanks = examples[:3]
  assert first.example_id == "middle1.txt"
  assert first.start_ending is None
  # preprocess_text: whitespace folded, quotes kept, lower-cased.
  assert first.context_sentence == (
      "the cat ``reads'' the text. the dog writes.")
  assert first.endings == ["what reads the text? cat",
                           "what reads the text? dog",
                           "what reads the text? bird",
                           "what reads the text? star"]
  assert cloze.endings == ["the cat reads the text.",
                           "the cat writes the text.",
                           "the cat sees the text.",
                           "the cat keeps the text."]
  # Every blank takes the option.
  assert two_blanks.endings[3] == "the star and the star are happy."
  assert processor().get_labels() == ["A", "B", "C", "D"]


def test_dev_and_test_levels_and_filters(race_dir):
  dev = processor().get_dev_examples(race_dir)
  assert [e.guid for e in dev] == ["dev-middle-middle5.txt-0",
                                   "dev-high-high7.txt-0"]
  test = processor().get_test_examples(race_dir)
  assert [(e.guid, e.label) for e in test] == [
      ("test-middle-middle5.txt-0", 0), ("test-high-high7.txt-0", 3)]
  high = processor(high_only=True)
  assert [e.level for e in high.get_dev_examples(race_dir)] == ["high"]
  assert [e.level for e in high.get_train_examples(race_dir)] == ["high"] * 2
  middle = processor(middle_only=True)
  assert [e.guid for e in middle.read_examples(race_dir, "test")] == [
      "test-middle-middle5.txt-0"]
  with pytest.raises(ValueError, match="--high_only and --middle_only"):
    processor(high_only=True, middle_only=True)
  with pytest.raises(ValueError, match="split must be one of"):
    processor().read_examples(race_dir, "valid")


def test_without_spm_text_is_kept(race_dir):
  p = race_utils.RaceProcessor(use_spm=False, do_lower_case=True)
  first = p.get_train_examples(race_dir)[0]
  assert first.context_sentence == (
      "The  cat ``reads'' the text.\nThe dog writes.")
  assert first.endings[0] == "What reads the text? cat"


def test_file_without_answers_gives_unlabeled_examples(tmp_path):
  root = str(tmp_path)
  write_file(os.path.join(root, "RACE", "test", "middle", "1.txt"),
             race_file("middle1.txt", "Art.", ["Q?", "R?"], [OPTS, OPTS]))
  examples = processor(middle_only=True).get_test_examples(root)
  assert [(e.guid, e.label) for e in examples] == [
      ("test-middle-middle1.txt-0", None), ("test-middle-middle1.txt-1", None)]


def test_bom_is_accepted(tmp_path):
  root = str(tmp_path)
  write_file(os.path.join(root, "RACE", "dev", "high", "1.txt"),
             b"\xef\xbb\xbf" + json.dumps(one_question("high1.txt", "B"))
             .encode("utf-8"))
  examples = processor(high_only=True).get_dev_examples(root)
  assert [e.label for e in examples] == [1]


def assert_one_line_error(fn, *patterns):
  """Runs fn, expecting a one-line RaceDataError matching every pattern."""
  with pytest.raises(race_utils.RaceDataError) as info:
    fn()
  message = str(info.value)
  assert "\n" not in message
  assert isinstance(info.value, ValueError)
  for pattern in patterns:
    assert pattern in message, message
  return message


def test_missing_directories_are_named(tmp_path):
  root = str(tmp_path)
  race = os.path.join(root, "RACE")
  assert_one_line_error(
      lambda: processor().get_train_examples(root),
      "RACE directory not found: %s" % race, "data_dir=%s" % root,
      "RACE/<split>/<level>/*.txt")
  write_file(os.path.join(race, "train", "middle", "1.txt"),
             one_question("m"))
  # data_dir pointing at RACE/ itself.
  assert_one_line_error(lambda: processor().get_train_examples(race),
                        "pass its parent")
  assert_one_line_error(lambda: processor().get_dev_examples(root),
                        "RACE dev split directory not found: %s" %
                        os.path.join(race, "dev"))
  high_dir = os.path.join(race, "train", "high")
  assert_one_line_error(lambda: processor().get_train_examples(root),
                        "RACE train/high directory not found: %s" % high_dir,
                        "--middle_only")
  # Filtered away, the missing level does not matter.
  assert len(processor(middle_only=True).get_train_examples(root)) == 1
  assert_one_line_error(
      lambda: processor(high_only=True).get_train_examples(root),
      high_dir)


def test_level_without_question_files(tmp_path):
  root = str(tmp_path)
  level_dir = os.path.join(root, "RACE", "dev", "middle")
  os.makedirs(level_dir)
  os.makedirs(os.path.join(root, "RACE", "dev", "high"))
  message = assert_one_line_error(
      lambda: processor().get_dev_examples(root),
      "no RACE question files in %s" % level_dir)
  assert "all.txt" not in message
  write_file(os.path.join(level_dir, "all.txt"),
             json.dumps(one_question("x")) + "\n")
  write_file(os.path.join(level_dir, "notes.md"), "not a question file")
  assert_one_line_error(lambda: processor().get_dev_examples(root),
                        "no RACE question files in %s" % level_dir,
                        "only all.txt")


VALID = one_question("middle1.txt")


def replaced(**changes):
  data = dict(VALID)
  data.update(changes)
  return {k: v for k, v in data.items() if v is not DELETE}


DELETE = object()


@pytest.mark.parametrize("content,expected", [
    ('{"id": "m",\n "article": }', ':2:13: invalid JSON, Expecting value'),
    (json.dumps(VALID) + "\n" + json.dumps(VALID),
     ":2:1: invalid JSON, Extra data (several JSON values: is this an "
     "all.txt-style file?)"),
    ("", ":1:1: invalid JSON"),
    ([VALID], "the JSON value is a list, expected one JSON object"),
    (b'{"id": "m\xff\xfe"}', "not UTF-8 text (byte 9"),
    (replaced(options=DELETE), "missing key(s) options"),
    (replaced(id=DELETE, article=DELETE), "missing key(s) id, article"),
    (replaced(id=7), '"id" is a number, expected a string'),
    (replaced(article=" \n"), 'empty "article"'),
    (replaced(article=["a"]), '"article" is a list, expected a string'),
    (replaced(questions="Which one?"),
     '"questions" is a string, expected a list'),
    (replaced(answers="A"), '"answers" is a string, expected a list'),
    (replaced(options=None), '"options" is null, expected a list'),
    (replaced(questions=["Q?", "R?"], answers=["A", "B"]),
     "2 questions, 1 options lists and 2 answers"),
    (replaced(answers=[]), "1 questions, 1 options lists and 0 answers"),
    (replaced(questions=["Q?", "R?"], options=[OPTS, OPTS[:3]],
              answers=["A", "B"]),
     "options[1] is not a list of exactly 4 strings"),
    (replaced(options=[OPTS + ["x"]]),
     "options[0] is not a list of exactly 4 strings"),
    (replaced(options=[["a", "b", 3, "d"]]),
     "options[0] is not a list of exactly 4 strings"),
    (replaced(options=["abcd"]),
     "options[0] is not a list of exactly 4 strings"),
    (replaced(questions=[None]), "questions[0] is null, expected a string"),
    (replaced(answers=["E"]), "answers[0] is 'E', expected one of A, B, C, D"),
    (replaced(answers=["a"]), "answers[0] is 'a'"),
    (replaced(answers=[0]), "answers[0] is 0"),
])
def test_bad_files_are_named(content, expected, tmp_path):
  root = str(tmp_path)
  good = os.path.join(root, "RACE", "dev", "middle", "1.txt")
  bad = os.path.join(root, "RACE", "dev", "middle", "2.txt")
  write_file(good, VALID)
  if isinstance(content, list):
    content = json.dumps(content)
  write_file(bad, content)
  assert_one_line_error(
      lambda: processor(middle_only=True).get_dev_examples(root),
      bad + ("" if expected.startswith(":") else ": ") + expected)


# Features -------------------------------------------------------------------

L = 12
QA = 3
WORDS = ("cat dog bird star cloud stone rain city text ship red quick blue "
         "black white").split()


@pytest.fixture(scope="module")
def spm_tokenizer(tmp_path_factory):
  model, _ = hub_fixtures.train_spm_model(
      str(tmp_path_factory.mktemp("spm")), vocab_size=120)
  tokenizer = tokenization.FullTokenizer(None, True, spm_model_file=model)
  # The tests count pieces by words: each word must be one piece.
  assert tokenizer.tokenize(" ".join(WORDS)) == ["\u2581" + w for w in WORDS]
  return tokenizer


def ids(tokenizer, text):
  return tokenizer.convert_tokens_to_ids(["\u2581" + w for w in text.split()])


CLS, SEP = 2, 3
LABELS = ["A", "B", "C", "D"]


def long_example(label=2):
  return race_utils.RaceExample(
      example_id="high3.txt",
      context_sentence="cat dog bird star cloud stone rain city text ship",
      start_ending=None,
      endings=["red quick blue", "red", "red quick blue black white",
               "white"],
      label=label, question_index=1, level="high",
      guid="dev-high-high3.txt-1")


def short_example(label=None):
  return race_utils.RaceExample(
      "middle4.txt", "cat dog", None, ["red", "quick", "blue", "black"],
      label=label, question_index=0, level="middle",
      guid="test-middle-middle4.txt-0")


def test_convert_layout_truncation_and_segments(spm_tokenizer):
  assert spm_tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]"]) == [CLS, SEP]
  t = spm_tokenizer
  f = race_utils.convert_single_example(0, long_example(), LABELS, L, t, QA)
  assert len(f.input_ids) == len(f.input_mask) == len(f.segment_ids) == 4 * L
  choices = [f.input_ids[c * L:(c + 1) * L] for c in range(4)]
  # 3 qa pieces leave 12 - 3 - 3 = 6 article pieces.
  assert choices[0] == ([CLS] + ids(t, "cat dog bird star cloud stone") +
                        [SEP] + ids(t, "red quick blue") + [SEP])
  # 1 qa piece leaves 8.
  assert choices[1] == ([CLS] + ids(t, "cat dog bird star cloud stone rain "
                                       "city") + [SEP] + ids(t, "red") +
                        [SEP])
  # A long question+option keeps its LAST 3 pieces.
  assert choices[2] == ([CLS] + ids(t, "cat dog bird star cloud stone") +
                        [SEP] + ids(t, "blue black white") + [SEP])
  assert choices[3][-3:] == [SEP] + ids(t, "white") + [SEP]
  segments = [f.segment_ids[c * L:(c + 1) * L] for c in range(4)]
  assert segments[0] == [0] * 8 + [1] * 4
  assert segments[1] == segments[3] == [0] * 10 + [1] * 2
  assert segments[2] == segments[0]
  assert f.input_mask == [1] * (4 * L)
  assert (f.label_id, f.is_real_example) == (2, True)
  assert (f.guid, f.example_id) == ("dev-high-high3.txt-1", "high3.txt")


def test_convert_pads_each_choice_and_unknown_label(spm_tokenizer):
  t = spm_tokenizer
  f = race_utils.convert_single_example(7, short_example(), LABELS, L, t, QA)
  for c, word in enumerate(["red", "quick", "blue", "black"]):
    assert f.input_ids[c * L:(c + 1) * L] == (
        [CLS] + ids(t, "cat dog") + [SEP] + ids(t, word) + [SEP] + [0] * 6)
    assert f.input_mask[c * L:(c + 1) * L] == [1] * 6 + [0] * 6
    assert f.segment_ids[c * L:(c + 1) * L] == [0] * 4 + [1] * 2 + [0] * 6
  # No answer: label 0, still a real example.
  assert (f.label_id, f.is_real_example) == (0, True)
  pad = race_utils.convert_single_example(0, cu.PaddingInputExample(), LABELS,
                                          L, t, QA)
  assert pad.input_ids == pad.input_mask == pad.segment_ids == [0] * (4 * L)
  assert (pad.label_id, pad.is_real_example) == (0, False)


def test_convert_start_ending_comes_first(spm_tokenizer):
  t = spm_tokenizer
  example = short_example()
  example.start_ending = "ship"
  f = race_utils.convert_single_example(0, example, LABELS, L, t, QA)
  assert f.input_ids[:L] == ([CLS] + ids(t, "cat dog") + [SEP] +
                             ids(t, "ship red") + [SEP] + [0] * 5)


def test_convert_bad_lengths_and_examples(spm_tokenizer):
  t = spm_tokenizer
  for seq, qa in [(8, 5), (8, 0), (3, 1)]:
    with pytest.raises(ValueError, match="--max_qa_length=%d does not fit "
                       "--max_seq_length=%d" % (qa, seq)):
      race_utils.convert_single_example(0, short_example(), LABELS, seq, t,
                                        qa)
  # max_qa_length = max_seq_length - 4 is the most allowed: one article
  # piece always fits.
  f = race_utils.convert_single_example(0, long_example(), LABELS, 8, t, 4)
  assert f.input_ids[16:24] == ([CLS] + ids(t, "cat") + [SEP] +
                                ids(t, "quick blue black white") + [SEP])
  example = short_example()
  example.endings = example.endings[:3]
  with pytest.raises(ValueError, match="has 3 endings, expected 4"):
    race_utils.convert_single_example(0, example, LABELS, L, t, QA)
  with pytest.raises(ValueError, match="label 4 is not an index"):
    race_utils.convert_single_example(0, short_example(4), LABELS, L, t, QA)


class BytesTokenizer(object):
  """Gives bytes pieces, as the release's encode_pieces could (issue #67)."""

  def __init__(self):
    self.seen = []

  def tokenize(self, text):
    return [p.encode("utf-8") if i % 2 else p
            for i, p in enumerate(text.split())]

  def convert_tokens_to_ids(self, tokens):
    self.seen.extend(tokens)
    return [len(token) for token in tokens]


def test_bytes_pieces_are_decoded_and_logged(caplog):
  caplog.set_level(std_logging.INFO)
  caplog.set_level(std_logging.INFO, logger="tensorflow")
  tokenizer = BytesTokenizer()
  example = race_utils.RaceExample(
      "m.txt", "caf\u00e9 dog", None, ["a b", "c", "d", "e"], label=1,
      guid="g")
  race_utils.convert_single_example(0, example, LABELS, 8, tokenizer, 3)
  assert all(isinstance(token, str) for token in tokenizer.seen)
  assert "tokens: [CLS] caf\u00e9 dog [SEP] a b [SEP]" in caplog.text
  assert "label: B (id = 1)" in caplog.text


def test_tfrecord_round_trip(spm_tokenizer, tmp_path):
  t = spm_tokenizer
  examples = [long_example(), short_example(), cu.PaddingInputExample()]
  path = str(tmp_path / "train.tf_record")
  count = race_utils.file_based_convert_examples_to_features(
      examples, LABELS, L, t, path, QA, key={"task": "race"})
  assert count == 3
  assert sorted(os.listdir(str(tmp_path))) == ["train.tf_record",
                                               "train.tf_record.json"]
  expected = [race_utils.convert_single_example(i, e, LABELS, L, t, QA)
              for i, e in enumerate(examples)]
  input_fn = cu.file_based_input_fn_builder(
      path, L, is_training=False, drop_remainder=False, task_name="race",
      use_tpu=False, bsz=8, multiple=4)
  with tf.Graph().as_default():
    batch = tf.data.make_one_shot_iterator(
        input_fn({"batch_size": 2})).get_next()
    with tf.Session() as sess:
      got = sess.run(batch)
  assert sorted(got) == ["input_ids", "input_mask", "is_real_example",
                         "label_ids", "segment_ids"]
  for name, attr in [("input_ids", "input_ids"), ("input_mask", "input_mask"),
                     ("segment_ids", "segment_ids")]:
    assert got[name].shape == (3, 4 * L)
    assert got[name].dtype == np.int32
    np.testing.assert_array_equal(got[name],
                                  [getattr(f, attr) for f in expected])
  np.testing.assert_array_equal(got["label_ids"], [2, 0, 0])
  np.testing.assert_array_equal(got["is_real_example"], [1, 1, 0])


def test_file_based_convert_checks_lengths_before_writing(spm_tokenizer,
                                                          tmp_path):
  path = str(tmp_path / "eval.tf_record")
  with pytest.raises(ValueError, match="--max_qa_length"):
    race_utils.file_based_convert_examples_to_features(
        [short_example()], LABELS, 8, spm_tokenizer, path, 5)
  assert os.listdir(str(tmp_path)) == []


# Model ----------------------------------------------------------------------


SEQ = 16


def tiny_config(vocab_size):
  return modeling.AlbertConfig(
      vocab_size=vocab_size, embedding_size=16, hidden_size=32,
      num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
      max_position_embeddings=SEQ)


def random_inputs(vocab_size, batch, seed=0):
  """Features [batch, 4 * SEQ] with a different length per choice."""
  rng = np.random.RandomState(seed)
  input_ids = rng.randint(4, vocab_size, size=(batch, 4, SEQ))
  lengths = rng.randint(3, SEQ + 1, size=(batch, 4))
  mask = (np.arange(SEQ)[None, None, :] < lengths[..., None]).astype(np.int32)
  segments = ((np.arange(SEQ)[None, None, :] >= 2) * mask).astype(np.int32)
  return (input_ids * mask).reshape(batch, -1), mask.reshape(batch, -1), (
      segments.reshape(batch, -1))


def test_create_model_variables_shapes_and_choice_layout(spm_tokenizer):
  vocab = len(spm_tokenizer.vocab)
  input_ids, mask, segments = random_inputs(vocab, 2)
  with tf.Graph().as_default():
    tf.set_random_seed(1)
    ids_ph = tf.placeholder(tf.int32, [None, 4 * SEQ])
    mask_ph = tf.placeholder(tf.int32, [None, 4 * SEQ])
    seg_ph = tf.placeholder(tf.int32, [None, 4 * SEQ])
    labels = tf.constant([3, 0])
    loss, per_example, probs, logits, predictions = race_utils.create_model(
        tiny_config(vocab), False, ids_ph, mask_ph, seg_ph, labels, 4, False,
        SEQ, 0.1)
    names = {v.op.name: v.shape.as_list() for v in tf.trainable_variables()}
    assert names["output_weights"] == [1, 32]
    assert names["output_bias"] == [1]
    assert any(n.startswith("bert/") for n in names)
    assert logits.shape.as_list() == probs.shape.as_list() == [None, 4]
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      # A non-zero bias checks that it is added.
      sess.run(tf.assign(tf.trainable_variables("output_bias")[0], [0.5]))
      run = lambda i, m, s: sess.run(  # noqa: E731
          dict(loss=loss, per_example=per_example, probs=probs,
               logits=logits, predictions=predictions),
          {ids_ph: i, mask_ph: m, seg_ph: s})
      got = run(input_ids, mask, segments)
      # Choice c of example b is block c of row b: swapping two blocks of
      # example 0 swaps its two scores and leaves example 1 alone.
      order = np.concatenate([np.arange(SEQ) + c * SEQ for c in (2, 1, 0, 3)])
      swapped = run(*(np.concatenate([x[:1, order], x[1:]])
                      for x in (input_ids, mask, segments)))
      # One example's score of one choice, run on its own.
      alone = run(*(np.tile(x[1:2, SEQ:2 * SEQ], [1, 4])
                    for x in (input_ids, mask, segments)))
  assert got["logits"].shape == got["probs"].shape == (2, 4)
  assert got["predictions"].shape == got["per_example"].shape == (2,)
  np.testing.assert_allclose(swapped["logits"][0], got["logits"][0, [2, 1, 0,
                                                                     3]],
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(swapped["logits"][1], got["logits"][1],
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(alone["logits"][0], [got["logits"][1, 1]] * 4,
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(got["probs"].sum(-1), 1.0, rtol=1e-5)
  np.testing.assert_array_equal(got["predictions"], got["probs"].argmax(-1))
  np.testing.assert_allclose(got["per_example"],
                             -np.log(got["probs"][[0, 1], [3, 0]]), rtol=1e-5)
  assert got["loss"] == pytest.approx(got["per_example"].mean(), rel=1e-5)


def test_create_model_checks_the_width(spm_tokenizer):
  with tf.Graph().as_default():
    narrow = tf.zeros([2, 3 * SEQ], tf.int32)
    with pytest.raises(ValueError, match="48 wide, expected num_labels"):
      race_utils.create_model(tiny_config(120), False, narrow, narrow, narrow,
                              tf.zeros([2], tf.int32), 4, False, SEQ, 0.1)


def test_model_fn_eval_and_predict(spm_tokenizer):
  vocab = len(spm_tokenizer.vocab)
  input_ids, mask, segments = random_inputs(vocab, 3, seed=2)
  model_fn = race_utils.model_fn_builder(
      tiny_config(vocab), 4, None, 1e-5, 10, 1, False, False, SEQ, 0.1)
  with tf.Graph().as_default():
    features = {k: tf.constant(v, tf.int32) for k, v in
                (("input_ids", input_ids), ("input_mask", mask),
                 ("segment_ids", segments))}
    spec = model_fn(features, None, tf.estimator.ModeKeys.PREDICT,
                    {"batch_size": 3})
    assert sorted(spec.predictions) == ["predictions", "probabilities"]
    assert spec.predictions["probabilities"].shape.as_list() == [3, 4]
    assert spec.predictions["predictions"].shape.as_list() == [3]
    names = [v.op.name for v in tf.trainable_variables()]
    assert "output_weights" in names and "output_bias" in names

  with tf.Graph().as_default():
    features = {k: tf.constant(v, tf.int32) for k, v in
                (("input_ids", input_ids), ("input_mask", mask),
                 ("segment_ids", segments))}
    features["label_ids"] = tf.constant([0, 1, 2], tf.int32)
    # The third example is TPU padding: it counts in no metric.
    features["is_real_example"] = tf.constant([1, 1, 0], tf.int32)
    spec = model_fn(features, None, tf.estimator.ModeKeys.EVAL,
                    {"batch_size": 3})
    metric_fn, tensors = spec.eval_metrics
    metrics = metric_fn(*tensors)
    assert sorted(metrics) == ["eval_accuracy", "eval_loss"]
    per_example_loss, _, logits, _ = tensors
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(tf.local_variables_initializer())
      losses, logit_values = sess.run([per_example_loss, logits])
      sess.run([update for _, update in metrics.values()])
      values = sess.run({k: v for k, (v, _) in metrics.items()})
  correct = (logit_values.argmax(-1) == [0, 1, 2])[:2]
  assert values["eval_accuracy"] == pytest.approx(correct.mean())
  assert values["eval_loss"] == pytest.approx(losses[:2].mean(), rel=1e-5)


# Host-side metrics and predictions -------------------------------------------


def scored_examples():
  def ex(level, label, index):
    return race_utils.RaceExample("%s%d.txt" % (level, index), "art", None,
                                  ["a", "b", "c", "d"], label=label,
                                  question_index=index, level=level,
                                  guid="dev-%s-%d" % (level, index))
  examples = [ex("middle", 0, 0), ex("middle", 1, 1), ex("high", 3, 0),
              ex("middle", 2, 2), ex("high", 0, 1), ex("high", None, 2),
              cu.PaddingInputExample()]
  probabilities = [[0.7, 0.1, 0.1, 0.1],   # middle, right
                   [0.4, 0.3, 0.2, 0.1],   # middle, wrong
                   [0.1, 0.2, 0.3, 0.4],   # high, right
                   [0.1, 0.1, 0.5, 0.3],   # middle, right
                   [0.2, 0.6, 0.1, 0.1],   # high, wrong
                   [0.0, 0.0, 0.0, 1.0],   # unlabeled: skipped
                   [1.0, 0.0, 0.0, 0.0],   # padding: skipped
                   [1.0, 0.0, 0.0, 0.0]]   # TPU padding row: ignored
  return examples, probabilities


def test_accuracy_by_level_against_hand_values():
  examples, probabilities = scored_examples()
  results = race_utils.accuracy_by_level(examples, probabilities)
  expected_loss = -(math.log(0.7) + math.log(0.3) + math.log(0.4) +
                    math.log(0.5) + math.log(0.2)) / 5
  assert results == pytest.approx({
      "eval_accuracy": 3 / 5, "eval_loss": expected_loss, "total": 5,
      "middle_accuracy": 2 / 3, "middle_total": 3,
      "high_accuracy": 1 / 2, "high_total": 2})
  middle = race_utils.accuracy_by_level(examples[:2], probabilities[:2])
  assert middle == pytest.approx({
      "eval_accuracy": 0.5, "total": 2, "middle_accuracy": 0.5,
      "middle_total": 2,
      "eval_loss": -(math.log(0.7) + math.log(0.3)) / 2})
  # A zero probability of the answer gives a large, finite loss.
  zero = race_utils.accuracy_by_level(examples[:1], [[0.0, 1.0, 0.0, 0.0]])
  assert zero["eval_loss"] == pytest.approx(-math.log(1e-12))
  assert race_utils.accuracy_by_level(examples[5:7], probabilities[5:7]) == {}
  with pytest.raises(ValueError, match="N >= 7 examples"):
    race_utils.accuracy_by_level(examples, probabilities[:6])


def test_write_predictions(tmp_path):
  examples, probabilities = scored_examples()
  path = str(tmp_path / "out" / "predictions.tsv")
  assert race_utils.write_predictions(path, examples, probabilities) == 6
  # Written again over an existing file.
  assert race_utils.write_predictions(path, examples, probabilities) == 6
  assert os.listdir(str(tmp_path / "out")) == ["predictions.tsv"]
  with open(path) as f:
    lines = f.read().splitlines()
  assert lines == [
      "id\tquestion_index\tlevel\tprediction\tprob_A\tprob_B\tprob_C\tprob_D",
      "middle0.txt\t0\tmiddle\tA\t0.700000\t0.100000\t0.100000\t0.100000",
      "middle1.txt\t1\tmiddle\tA\t0.400000\t0.300000\t0.200000\t0.100000",
      "high0.txt\t0\thigh\tD\t0.100000\t0.200000\t0.300000\t0.400000",
      "middle2.txt\t2\tmiddle\tC\t0.100000\t0.100000\t0.500000\t0.300000",
      "high1.txt\t1\thigh\tB\t0.200000\t0.600000\t0.100000\t0.100000",
      "high2.txt\t2\thigh\tD\t0.000000\t0.000000\t0.000000\t1.000000"]
