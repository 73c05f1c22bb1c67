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
"""Tests for albert.tokenization.

A small SentencePiece model is trained here on generated text, so the tests
need no download and run in a few seconds.
"""

import collections
import os
import random
import re
import shutil

import pytest
import sentencepiece as spm
import tensorflow.compat.v1 as tf

from albert import modeling
from albert import tokenization

from error_checks import one_line
from error_checks import tf_warnings  # pylint: disable=unused-import
import hub_fixtures


UNDERLINE = tokenization.SPIECE_UNDERLINE

_WORDS = ("the quick brown fox jumps over lazy dog river market price year "
          "report company people city water house light music paris london "
          "running wanted apples and in of").split()
_ACCENTED = ("café", "naïve", "résumé", "zürich", "façade", "são")
_NUMBERS = ("1,000", "2,500", "10,000")
_NUMBERS_WITH_COMMA = ("2019,", "2020,", "1999,", "3,", "4,", "5,", "12,")

SAMPLE_TEXTS = (
    "The quick brown fox jumps over the lazy dog.",
    "In 2019, the company sold 1,000 apples in Paris and 3, 4, 5, more.",
    "  Water   and\tlight\n in   London ",
    "A café in Zürich with a naïve façade!",
    "``Music'' in the city",
    "THE RIVER MARKET",
)


def _generated_corpus(num_lines=3000, seed=1234):
  """English-like lines mixing cases, accents and numbers glued to commas."""
  rng = random.Random(seed)
  lines = []
  for _ in range(num_lines):
    words = []
    for _ in range(rng.randint(5, 14)):
      r = rng.random()
      word = rng.choice(_WORDS)
      if r < 0.08:
        word = rng.choice(_ACCENTED)
      elif r < 0.16:
        word = rng.choice(_NUMBERS)
      elif r < 0.24:
        word = rng.choice(_NUMBERS_WITH_COMMA)
      elif r < 0.30:
        word = word.upper()
      elif r < 0.38:
        word = word.capitalize()
      words.append(word)
    lines.append(" ".join(words) + rng.choice((".", "!", "?", "")))
  return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def spm_model_file(tmp_path_factory):
  """Path of a unigram SentencePiece model trained the ALBERT-README way."""
  work_dir = tmp_path_factory.mktemp("spm")
  corpus = work_dir / "corpus.txt"
  corpus.write_text(_generated_corpus(), encoding="utf-8")
  prefix = str(work_dir / "test_spm")
  spm.SentencePieceTrainer.train(
      input=str(corpus), model_prefix=prefix, vocab_size=300,
      hard_vocab_limit=False, pad_id=0, unk_id=1, eos_id=-1, bos_id=-1,
      control_symbols=["[CLS]", "[SEP]", "[MASK]"],
      user_defined_symbols=["(", ")", "-", "£", "€"],
      character_coverage=1.0, model_type="unigram", minloglevel=2)
  return prefix + ".model"


@pytest.fixture(scope="module")
def sp_model(spm_model_file):
  """The trained model, loaded."""
  model = spm.SentencePieceProcessor()
  model.Load(spm_model_file)
  return model


@pytest.fixture(scope="module")
def spm_tokenizer(spm_model_file):
  """A lower-casing FullTokenizer on the trained model."""
  return tokenization.FullTokenizer(
      vocab_file=None, do_lower_case=True, spm_model_file=spm_model_file)


def _detokenize(pieces):
  """Inverts SentencePiece tokenization of preprocessed text."""
  return "".join(pieces).replace(UNDERLINE, " ").strip()


# preprocess_text ------------------------------------------------------------


def test_preprocess_text_folds_whitespace():
  """Runs of whitespace become one space only when remove_space is set."""
  assert tokenization.preprocess_text("  a \t b\n\n c  ") == "a b c"
  assert (tokenization.preprocess_text("  a \t b ", remove_space=False) ==
          "  a \t b ")


def test_preprocess_text_keeps_latex_quotes():
  """`` and '' stay: replacing them is XLNet's preprocessing, not ALBERT's."""
  assert tokenization.preprocess_text("``hi'' she said") == "``hi'' she said"


def test_preprocess_text_strips_accents():
  """Accented letters lose their combining marks."""
  assert tokenization.preprocess_text("café") == "cafe"
  assert tokenization.preprocess_text("naïve Ångström") == "naive Angstrom"


def test_preprocess_text_lower_flag_and_bytes():
  """Case is kept unless lower is set; utf-8 bytes are accepted."""
  assert tokenization.preprocess_text("Hello World") == "Hello World"
  assert tokenization.preprocess_text("Hello World", lower=True) == (
      "hello world")
  assert tokenization.preprocess_text(u"Café".encode("utf-8"),
                                      lower=True) == "cafe"


# SentencePiece path ---------------------------------------------------------


@pytest.mark.parametrize("text", SAMPLE_TEXTS)
def test_spm_tokenize_round_trips_preprocessed_text(spm_tokenizer, text):
  """Joining the pieces gives back the preprocessed text."""
  pieces = spm_tokenizer.tokenize(text)
  assert pieces and all(isinstance(p, str) for p in pieces)
  assert _detokenize(pieces) == tokenization.preprocess_text(text, lower=True)


def test_spm_ids_and_tokens_round_trip(spm_tokenizer, sp_model):
  """Pieces map to known ids and back, consistently with vocab/inv_vocab."""
  pieces = spm_tokenizer.tokenize(SAMPLE_TEXTS[1])
  ids = spm_tokenizer.convert_tokens_to_ids(pieces)
  assert all(isinstance(i, int) for i in ids)
  assert sp_model.unk_id() not in ids
  assert spm_tokenizer.convert_ids_to_tokens(ids) == pieces
  assert len(spm_tokenizer.vocab) == sp_model.GetPieceSize()
  assert all(spm_tokenizer.vocab[p] == i for p, i in zip(pieces, ids))
  assert all(spm_tokenizer.inv_vocab[i] == p for p, i in zip(pieces, ids))


def test_spm_control_symbols_have_distinct_ids(spm_tokenizer, sp_model):
  """[CLS], [SEP] and [MASK] are real, distinct vocabulary entries."""
  symbols = ["[CLS]", "[SEP]", "[MASK]"]
  ids = spm_tokenizer.convert_tokens_to_ids(symbols)
  assert len(set(ids)) == 3
  assert sp_model.unk_id() not in ids and sp_model.pad_id() not in ids
  assert spm_tokenizer.convert_ids_to_tokens(ids) == symbols


def test_spm_honours_do_lower_case(spm_model_file):
  """do_lower_case lower-cases on the SentencePiece path, and only then."""
  lower = tokenization.FullTokenizer(None, True, spm_model_file)
  cased = tokenization.FullTokenizer(None, False, spm_model_file)
  upper_text = "THE QUICK BROWN Fox IN PARIS"
  assert lower.tokenize(upper_text) == lower.tokenize(upper_text.lower())
  assert cased.tokenize(upper_text) != cased.tokenize(upper_text.lower())
  assert _detokenize(cased.tokenize(upper_text)) == upper_text


def test_encode_pieces_splits_digit_comma_pieces(sp_model):
  """Pieces like '2019,' are split into the number and ','."""
  text = "in 2019, the 1,000 apples and 3, 4, 5, more 12,"
  raw = sp_model.EncodeAsPieces(text)
  # The model must have learnt number+comma pieces for this test to mean
  # anything.
  assert any(re.search(r"\d,$", p) for p in raw), raw
  pieces = tokenization.encode_pieces(sp_model, text)
  assert not any(len(p) > 1 and re.search(r"\d,$", p) for p in pieces)
  assert _detokenize(pieces) == text
  # A comma inside a number is not at the end of a piece and stays glued.
  assert UNDERLINE + "1,000" in pieces
  assert pieces.count(",") == 5


class _ScriptedModel(object):
  """Stands in for a SentencePieceProcessor with fixed segmentations."""

  def __init__(self, segmentations):
    self.segmentations = segmentations

  def EncodeAsPieces(self, text):  # pylint: disable=invalid-name
    return list(self.segmentations[text])


@pytest.mark.parametrize("number_pieces, expected", [
    # The re-encoded number gains a word-start marker; a mid-word piece
    # must lose it again.
    ([UNDERLINE + "7"], [UNDERLINE + "x", "7", ","]),
    # A lone marker piece is dropped entirely.
    ([UNDERLINE, "7"], [UNDERLINE + "x", "7", ","]),
    # Without a marker nothing is removed.
    (["7"], [UNDERLINE + "x", "7", ","]),
])
def test_encode_pieces_mid_word_number_keeps_no_marker(number_pieces,
                                                       expected):
  """A split piece from inside a word gains no word-start marker."""
  model = _ScriptedModel({"x7,": [UNDERLINE + "x", "7,"], "7": number_pieces})
  assert tokenization.encode_pieces(model, "x7,") == expected


def test_encode_pieces_word_start_number_keeps_marker():
  """A split piece that started a word keeps its marker."""
  model = _ScriptedModel({
      "12, ab": [UNDERLINE + "12,", UNDERLINE + "ab"],
      "12": [UNDERLINE + "12"],
  })
  assert tokenization.encode_pieces(model, b"12, ab") == [
      UNDERLINE + "12", ",", UNDERLINE + "ab"]


def test_encode_ids_matches_pieces(sp_model):
  """encode_ids is PieceToId over encode_pieces."""
  text = tokenization.preprocess_text(SAMPLE_TEXTS[1], lower=True)
  pieces = tokenization.encode_pieces(sp_model, text)
  assert tokenization.encode_ids(sp_model, text) == [
      sp_model.PieceToId(p) for p in pieces]


def test_encode_pieces_sampling_still_reconstructs(sp_model):
  """Sampled segmentations still spell out the text."""
  text = "the quick brown fox jumps over the lazy dog"
  for _ in range(5):
    assert _detokenize(
        tokenization.encode_pieces(sp_model, text, sample=True)) == text


# WordPiece path -------------------------------------------------------------

_VOCAB_LINES = [
    "[UNK]", "[CLS]", "[SEP]", "", "want", "##want", "   ", "##ed", "wa",
    "un", "runn", "##ing", ",", "\t", "low", "lowest", "中", "国", "!",
]
# The released loader: a line's first field (" " for a blank line), ids in
# order of first appearance; a repeated token takes no new id.
_VOCAB_IDS = collections.OrderedDict()
for _line in _VOCAB_LINES + [""]:
  _VOCAB_IDS.setdefault(_line.split()[0] if _line.split() else " ",
                        len(_VOCAB_IDS))


@pytest.fixture(scope="module")
def vocab_file(tmp_path_factory):
  """A WordPiece vocab.txt with blank and whitespace-only lines in it."""
  path = tmp_path_factory.mktemp("wordpiece") / "vocab.txt"
  path.write_text("\n".join(_VOCAB_LINES) + "\n\n", encoding="utf-8")
  return str(path)


def test_load_vocab_gives_the_released_ids(vocab_file, tmp_path):
  """Ids in order of first appearance, as the release's load_vocab gave.

  The released models' embedding rows were assigned by that rule: a blank
  line is the token " " (once), a repeated token keeps its first id and
  takes no new one, so later ids do not follow line numbers.
  """
  vocab = tokenization.load_vocab(vocab_file)
  assert vocab == _VOCAB_IDS
  assert vocab["##ed"] == 6 != _VOCAB_LINES.index("##ed")
  repeated = tmp_path / "repeated.txt"
  repeated.write_text("[UNK]\nb\n[UNK]\nc 17\n", encoding="utf-8")
  assert list(tokenization.load_vocab(str(repeated)).items()) == [
      ("[UNK]", 0), ("b", 1), ("c", 2)]


def test_basic_tokenizer_lower():
  """Lower-casing mode lower-cases, strips accents and splits punctuation."""
  tokenizer = tokenization.BasicTokenizer(do_lower_case=True)
  assert tokenizer.tokenize(u" \tHeLLo!how  \n Are yoU?  ") == [
      "hello", "!", "how", "are", "you", "?"]
  assert tokenizer.tokenize(u"H\u00E9llo") == ["hello"]


def test_basic_tokenizer_no_lower():
  """Cased mode keeps case and accents."""
  tokenizer = tokenization.BasicTokenizer(do_lower_case=False)
  assert tokenizer.tokenize(u" \tHeLLo!how  \n Are yoU?  ") == [
      "HeLLo", "!", "how", "Are", "yoU", "?"]
  assert tokenizer.tokenize(u"H\u00E9llo") == [u"H\u00E9llo"]


def test_basic_tokenizer_splits_cjk_and_drops_control_chars():
  """CJK ideographs are single tokens; NUL, U+FFFD and controls vanish."""
  tokenizer = tokenization.BasicTokenizer()
  assert tokenizer.tokenize(u"ah\u535A\u63A8zz") == [
      "ah", u"\u535A", u"\u63A8", "zz"]
  assert tokenizer.tokenize(u"a\x00b\ufffdc\x07d e$f") == [
      "abcd", "e", "$", "f"]
  # As released, only Cc and Cf characters are dropped (here U+200B, a
  # format character); private-use and unassigned ones stay, to become
  # [UNK] in WordPiece.
  assert tokenizer.tokenize(u"a\u200bb \ue000 c\U000e0080") == [
      "ab", u"\ue000", u"c\U000e0080"]


def test_spm_tokenize_preprocesses_idempotently(spm_tokenizer, sp_model):
  """tokenize() runs preprocess_text; on preprocessed text it changes nothing.

  The release's tokenize did not preprocess, and its callers passed
  preprocessed text; ours gives the same ids on that text (and also
  honours do_lower_case on raw text).
  """
  for text in list(SAMPLE_TEXTS) + [u"  Caf\u00e9  ``quoted''  Text\tHere "]:
    processed = tokenization.preprocess_text(text, lower=True)
    released = tokenization.encode_pieces(sp_model, processed)
    assert spm_tokenizer.tokenize(processed) == released
    assert spm_tokenizer.tokenize(text) == released


def test_wordpiece_tokenizer(vocab_file):
  """Greedy longest-match-first, [UNK] for unknown or over-long words."""
  tokenizer = tokenization.WordpieceTokenizer(
      vocab=tokenization.load_vocab(vocab_file))
  assert tokenizer.tokenize("") == []
  assert tokenizer.tokenize("unwanted running") == [
      "un", "##want", "##ed", "runn", "##ing"]
  assert tokenizer.tokenize("unwantedX running") == [
      "[UNK]", "runn", "##ing"]
  short = tokenization.WordpieceTokenizer(
      vocab=tokenization.load_vocab(vocab_file), max_input_chars_per_word=4)
  assert short.tokenize("want unwanted") == ["want", "[UNK]"]


def test_full_tokenizer_wordpiece(vocab_file):
  """FullTokenizer on a vocab.txt: tokens, ids and back."""
  tokenizer = tokenization.FullTokenizer(vocab_file, do_lower_case=True)
  tokens = tokenizer.tokenize(u"UNwant\u00E9d,running 中国!")
  assert tokens == ["un", "##want", "##ed", ",", "runn", "##ing", "中", "国",
                    "!"]
  ids = tokenizer.convert_tokens_to_ids(tokens)
  assert ids == [_VOCAB_IDS[t] for t in tokens]
  assert tokenizer.convert_ids_to_tokens(ids) == tokens


def test_from_scratch_matches_constructor(vocab_file):
  """from_scratch builds a working tokenizer."""
  tokenizer = tokenization.FullTokenizer.from_scratch(vocab_file, True, None)
  assert tokenizer.tokenize("unwanted") == ["un", "##want", "##ed"]


def test_whitespace_tokenize_and_convert_helpers():
  """The small module-level helpers."""
  assert tokenization.whitespace_tokenize(" a\tb \n") == ["a", "b"]
  assert tokenization.whitespace_tokenize("   ") == []
  assert tokenization.convert_tokens_to_ids({"a": 3, "b": 5}, ["b", "a"]) == [
      5, 3]
  assert tokenization.convert_ids_to_tokens({3: "a"}, [3, 3]) == ["a", "a"]
  assert tokenization.convert_to_unicode(b"caf\xc3\xa9") == u"café"
  assert tokenization.printable_text(u"café") == u"café"
  with pytest.raises(ValueError):
    tokenization.convert_to_unicode(3)


# TF Hub ---------------------------------------------------------------------


def _export_hub_module(export_dir, spm_path, do_lower_case):
  """Exports a TF1 Hub module with an ALBERT-style tokenization_info."""
  import tensorflow_hub as hub  # pylint: disable=g-import-not-at-top

  def module_fn():
    vocab_file = tf.constant(spm_path)
    # Registered as an asset so the export copies the model file into the
    # module and the loaded constant points at that copy.
    tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, vocab_file)
    hub.add_signature(
        name="tokenization_info", inputs={},
        outputs={"vocab_file": vocab_file,
                 "do_lower_case": tf.constant(do_lower_case)})
    inputs = tf.placeholder(tf.float32, [None])
    scale = tf.get_variable("scale", [], initializer=tf.ones_initializer())
    hub.add_signature(inputs=inputs, outputs=inputs * scale)

  spec = hub.create_module_spec(module_fn)
  with tf.Graph().as_default():
    module = hub.Module(spec)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      module.export(export_dir, sess)


@pytest.mark.parametrize("do_lower_case", [True, False])
def test_from_hub_module(tmp_path, spm_model_file, do_lower_case):
  """A Hub module's tokenization_info gives the same tokenizer as the files."""
  # The module is built from a copy that is then deleted, which proves the
  # tokenizer reads the model file stored inside the module.
  staged = str(tmp_path / "staged.model")
  shutil.copy(spm_model_file, staged)
  export_dir = str(tmp_path / "hub_module")
  _export_hub_module(export_dir, staged, do_lower_case)
  os.remove(staged)

  from_hub = tokenization.FullTokenizer.from_hub_module(export_dir)
  direct = tokenization.FullTokenizer(None, do_lower_case, spm_model_file)
  assert from_hub.do_lower_case is do_lower_case
  text = "The Quick brown FOX in 2019, café"
  assert from_hub.tokenize(text) == direct.tokenize(text)
  assert from_hub.vocab == direct.vocab


# Bad input ------------------------------------------------------------------


def test_missing_spm_model_file_names_path(tmp_path):
  """A missing spm_model_file error names the argument and the path."""
  missing = str(tmp_path / "nope.model")
  with pytest.raises(ValueError, match=re.escape(missing)) as info:
    tokenization.FullTokenizer(None, True, spm_model_file=missing)
  assert "spm_model_file" in str(info.value)
  assert isinstance(info.value, FileNotFoundError)


def test_missing_vocab_file_names_path(tmp_path):
  """A missing vocab_file error names the argument and the path."""
  missing = str(tmp_path / "vocab.txt")
  with pytest.raises(FileNotFoundError, match=re.escape(missing)) as info:
    tokenization.FullTokenizer(missing, True)
  assert "vocab_file" in str(info.value)


def test_no_vocabulary_given():
  """Neither file given is a clear ValueError."""
  with pytest.raises(ValueError, match="spm_model_file.*vocab_file"):
    tokenization.FullTokenizer(None, True, None)


def test_invalid_spm_model_file_names_path(tmp_path):
  """A file that is not a SentencePiece model is named in the error."""
  bogus = tmp_path / "bogus.model"
  bogus.write_bytes(b"this is not a sentencepiece model")
  with pytest.raises(ValueError, match=re.escape(str(bogus))):
    tokenization.FullTokenizer(None, True, spm_model_file=str(bogus))


def test_validate_case_matches_checkpoint():
  """Casing is checked against known BERT checkpoint names only."""
  tokenization.validate_case_matches_checkpoint(True, None)
  tokenization.validate_case_matches_checkpoint(False, "/x/albert/model.ckpt")
  tokenization.validate_case_matches_checkpoint(
      True, "/x/uncased_L-12_H-768_A-12/bert_model.ckpt")
  with pytest.raises(ValueError, match="uncased"):
    tokenization.validate_case_matches_checkpoint(
        False, "/x/uncased_L-12_H-768_A-12/bert_model.ckpt")
  with pytest.raises(ValueError, match="is a cased model"):
    tokenization.validate_case_matches_checkpoint(
        True, "/x/cased_L-12_H-768_A-12/bert_model.ckpt")


# Bad vocabularies get one clear line (moved from tests/reliability/) -------


@pytest.fixture(scope="module")
def spm_files(tmp_path_factory):
  """(model path, .vocab path, number of pieces) of a tiny spm model."""
  directory = str(tmp_path_factory.mktemp("spm"))
  model, pieces = hub_fixtures.train_spm_model(directory, vocab_size=60)
  return model, model[:-len(".model")] + ".vocab", pieces


def _copy(source, target):
  with open(source, "rb") as f, open(target, "wb") as g:
    g.write(f.read())
  return target


@pytest.mark.parametrize("renamed", [False, True])
def test_spm_model_as_vocab_file_says_pass_it_as_spm_model_file(
    tmp_path, spm_files, renamed):
  model = spm_files[0]
  if renamed:  # Found by content, not by its extension.
    model = _copy(model, str(tmp_path / "vocab.txt"))
  with pytest.raises(tokenization.VocabFileError) as raised:
    tokenization.FullTokenizer(model, do_lower_case=True)
  assert one_line(raised.value) == (
      "vocab_file %s looks like a SentencePiece model (a binary .model "
      "file), not a WordPiece vocab.txt; pass it as --spm_model_file "
      "instead" % model)


@pytest.mark.parametrize("renamed", [False, True])
def test_spm_vocab_as_vocab_file_says_pass_the_model(tmp_path, spm_files,
                                                     renamed):
  """WordPiece over "▁piece<TAB>score" lines made nearly every word [UNK]."""
  vocab = spm_files[1]
  if renamed:
    vocab = _copy(vocab, str(tmp_path / "vocab.txt"))
  with pytest.raises(tokenization.VocabFileError) as raised:
    tokenization.FullTokenizer(vocab, do_lower_case=True)
  assert one_line(raised.value) == (
      "vocab_file %s looks like a SentencePiece .vocab file (piece<TAB>score "
      "lines), not a WordPiece vocab.txt; pass the SentencePiece .model "
      "file as --spm_model_file instead" % vocab)


def test_spm_vocab_is_not_loaded_when_the_model_is_given(spm_files):
  """The release's commands pass both; the model takes precedence."""
  model, vocab, pieces = spm_files
  tokenizer = tokenization.FullTokenizer(vocab, True, spm_model_file=model)
  assert tokenizer.num_token_ids() == pieces


def test_wrong_files_as_spm_model_file_say_what_they_are(tmp_path, spm_files):
  vocab = spm_files[1]
  with pytest.raises(tokenization.VocabFileError) as raised:
    tokenization.FullTokenizer(None, True, spm_model_file=vocab)
  assert one_line(raised.value) == (
      "spm_model_file is not a valid SentencePiece model: %s; it looks like "
      "a SentencePiece .vocab file (piece<TAB>score lines): pass the binary "
      ".model file made with it" % vocab)
  wordpiece = tmp_path / "vocab.txt"
  wordpiece.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n")
  with pytest.raises(tokenization.VocabFileError) as raised:
    tokenization.FullTokenizer(None, True, spm_model_file=str(wordpiece))
  assert one_line(raised.value) == (
      "spm_model_file is not a valid SentencePiece model: %s; it is a text "
      "file, not a binary .model (a WordPiece vocab.txt belongs in "
      "--vocab_file)" % wordpiece)
  empty = tmp_path / "empty.model"
  empty.write_bytes(b"")
  with pytest.raises(tokenization.VocabFileError) as raised:
    tokenization.FullTokenizer(None, True, spm_model_file=str(empty))
  assert one_line(raised.value) == (
      "spm_model_file %s is empty; expected a SentencePiece .model file" %
      empty)


def test_spm_model_larger_than_config_vocab_size(spm_files):
  """Ids past vocab_size failed deep in a session (CPU) or read zeros."""
  model, _, pieces = spm_files
  tokenizer = tokenization.FullTokenizer(None, True, spm_model_file=model)
  config = modeling.AlbertConfig(vocab_size=pieces - 10)
  with pytest.raises(modeling.VocabSizeMismatchError) as raised:
    config.check_num_token_ids(tokenizer.num_token_ids(), tokenizer.source)
  assert one_line(raised.value) == (
      "spm_model_file %s has %d token ids but the config's vocab_size is "
      "%d; the vocabulary and the model do not belong together" %
      (model, pieces, pieces - 10))
  modeling.AlbertConfig(vocab_size=pieces).check_num_token_ids(
      tokenizer.num_token_ids(), tokenizer.source)


def test_wordpiece_num_token_ids_counts_blank_lines(tmp_path):
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n[MASK]\nthe\n")
  tokenizer = tokenization.FullTokenizer(str(vocab))
  assert tokenizer.num_token_ids() == 7
  assert tokenizer.source == "vocab_file %s" % vocab


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_vocab_file(tmp_path, content):
  vocab = tmp_path / "vocab.txt"
  vocab.write_bytes(content)
  with pytest.raises(tokenization.VocabFileError) as raised:
    tokenization.FullTokenizer(str(vocab))
  assert one_line(raised.value) == (
      "vocab_file %s is empty; expected a WordPiece vocab.txt, one token a "
      "line" % vocab)


def test_vocab_file_not_utf8_names_the_line(tmp_path):
  vocab = tmp_path / "vocab.txt"
  vocab.write_bytes(b"[PAD]\n[UNK]\ncaf\xe9\n")
  with pytest.raises(tokenization.VocabFileError) as raised:
    tokenization.load_vocab(str(vocab))
  assert one_line(raised.value) == (
      "vocab_file %s:3 is not UTF-8 text (byte 0xe9); expected a WordPiece "
      "vocab.txt, one token a line" % vocab)


def test_directory_as_vocabulary(tmp_path):
  for kwargs, argument in (({"vocab_file": str(tmp_path)}, "vocab_file"),
                           ({"vocab_file": None,
                             "spm_model_file": str(tmp_path)},
                            "spm_model_file")):
    with pytest.raises(tokenization.VocabFileError) as raised:
      tokenization.FullTokenizer(**kwargs)
    assert one_line(raised.value) == (
        "%s %s is a directory; expected a file" % (argument, tmp_path))


def test_vocab_without_special_tokens_warns_then_fails_clearly(tmp_path,
                                                               tf_warnings):
  """A word list is no BERT vocab: [CLS] used to be a bare KeyError."""
  vocab = tmp_path / "words.txt"
  vocab.write_text("the\ncat\nsat\n")
  tokenizer = tokenization.FullTokenizer(str(vocab))
  assert tf_warnings == [
      "vocab_file %s has no [UNK], [CLS], [SEP], [MASK]; a BERT-style "
      "vocab.txt has [UNK], [CLS], [SEP], [MASK], and a text that needs a "
      "missing one will fail" % vocab]
  assert tokenizer.convert_tokens_to_ids(["the", "sat"]) == [0, 2]
  with pytest.raises(tokenization.VocabFileError) as raised:
    tokenizer.convert_tokens_to_ids(["[CLS]", "the"])
  assert one_line(raised.value) == (
      "token '[CLS]' is not in vocab_file %s; a BERT-style vocab.txt has "
      "[UNK], [CLS], [SEP], [MASK]" % vocab)
