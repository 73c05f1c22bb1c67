# coding=utf-8
"""Bad input files get one clear line: configs, vocabularies, GLUE TSVs.

Each test names the mistake a user makes (a config key missing or misspelt,
a header line deleted, a SentencePiece file passed as a WordPiece vocab,
...) and asserts the error or warning names the file, the line or key and
what was expected, on one line, as a ValueError (which the command lines
print as `prog: error: ...`).
"""

import json
import logging
import os
import sys

import pytest

# tests/conftest.py puts tests/ on sys.path under pytest's default import
# mode; this keeps `import hub_fixtures` working under the others too.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import hub_fixtures  # noqa: E402  pylint: disable=g-import-not-at-top

from albert import classifier_utils as cu  # noqa: E402
from albert import modeling  # noqa: E402
from albert import tokenization  # noqa: E402

# albert_base v2's albert_config.json as released.
RELEASED_V2 = {
    "attention_probs_dropout_prob": 0, "hidden_act": "gelu",
    "hidden_dropout_prob": 0, "embedding_size": 128, "hidden_size": 768,
    "initializer_range": 0.02, "intermediate_size": 3072,
    "max_position_embeddings": 512, "num_attention_heads": 12,
    "num_hidden_layers": 12, "num_hidden_groups": 1, "net_structure_type": 0,
    "layers_to_keep": [], "gap_size": 0, "num_memory_blocks": 0,
    "inner_group_num": 1, "down_scale_factor": 1, "type_vocab_size": 2,
    "vocab_size": 30000}

# A v1-style config: only the architecture and the BERT-era keys.
MINIMAL = {
    "vocab_size": 30000, "embedding_size": 128, "hidden_size": 768,
    "num_hidden_layers": 12, "num_attention_heads": 12,
    "intermediate_size": 3072, "max_position_embeddings": 512,
    "type_vocab_size": 2, "hidden_act": "gelu"}


class _Warnings(logging.Handler):

  def __init__(self):
    super(_Warnings, self).__init__(logging.WARNING)
    self.messages = []

  def emit(self, record):
    self.messages.append(record.getMessage())


@pytest.fixture
def tf_warnings():
  """The messages tf.logging.warning logs while the test runs."""
  handler = _Warnings()
  logger = logging.getLogger("tensorflow")
  logger.addHandler(handler)
  try:
    yield handler.messages
  finally:
    logger.removeHandler(handler)


def one_line(error):
  """The error's message, asserting it is one line of a ValueError."""
  assert isinstance(error, ValueError)
  message = str(error)
  assert message and "\n" not in message
  return message


def write_config(tmp_path, config, name="albert_config.json"):
  path = tmp_path / name
  path.write_text(json.dumps(config) if not isinstance(config, str)
                  else config)
  return str(path)


# Finding 1: albert_config.json -----------------------------------------------


@pytest.mark.parametrize("key", modeling.REQUIRED_KEYS)
def test_config_without_a_required_key_fails_naming_file_and_key(tmp_path,
                                                                 key):
  """Without hidden_size the 4096-wide xxlarge default was used silently."""
  config = dict(RELEASED_V2)
  del config[key]
  path = write_config(tmp_path, config)
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  message = one_line(raised.value)
  assert message.startswith("albert_config_file %s is missing required "
                            "key(s) %s;" % (path, key))


def test_config_missing_keys_are_all_named(tmp_path):
  path = write_config(tmp_path, {"vocab_size": 30000, "hidden_size": 768})
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  assert ("missing required key(s) embedding_size, num_hidden_layers, "
          "num_attention_heads, intermediate_size, max_position_embeddings, "
          "type_vocab_size;") in one_line(raised.value)


def test_config_typo_of_a_required_key_is_pointed_out(tmp_path, tf_warnings):
  config = dict(RELEASED_V2)
  config["hiddne_size"] = config.pop("hidden_size")
  path = write_config(tmp_path, config)
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  assert ("missing required key(s) hidden_size (a typo? it has "
          "'hiddne_size' for 'hidden_size')") in one_line(raised.value)


def test_config_unknown_keys_are_warned_by_name_with_a_suggestion(
    tmp_path, tf_warnings):
  """A misspelt optional key left its default in place without a word."""
  config = dict(RELEASED_V2, hiden_dropout_prob=0.1, my_note="kept")
  path = write_config(tmp_path, config)
  loaded = modeling.AlbertConfig.from_json_file(path)
  assert loaded.hidden_dropout_prob == 0  # The typo set nothing...
  assert sorted(tf_warnings) == sorted([  # ...but it was said, by name.
      "albert_config_file %s: unknown key 'hiden_dropout_prob' (did you "
      "mean 'hidden_dropout_prob'?); it is kept but the model does not use "
      "it" % path,
      "albert_config_file %s: unknown key 'my_note'; it is kept but the "
      "model does not use it" % path])
  # Unknown keys still survive a round trip.
  assert loaded.to_dict() == config
  assert modeling.AlbertConfig.from_dict(loaded.to_dict()).to_dict() == config


def test_released_configs_load_without_warnings(tmp_path, tf_warnings):
  for name, config in (("v2.json", RELEASED_V2), ("v1.json", MINIMAL)):
    loaded = modeling.AlbertConfig.from_json_file(
        write_config(tmp_path, config, name))
    assert loaded.hidden_size == 768
  assert tf_warnings == []


def test_constructor_keeps_defaults_but_warns_on_unknown_keyword(
    tf_warnings):
  """Code that builds configs in Python keeps working."""
  config = modeling.AlbertConfig(vocab_size=10)
  config.validate()
  assert config.hidden_size == 4096 and tf_warnings == []
  config = modeling.AlbertConfig(vocab_size=10, hiddne_size=32)
  assert config.hidden_size == 4096 and config.extra == {"hiddne_size": 32}
  assert tf_warnings == [
      "AlbertConfig: unknown key 'hiddne_size' (did you mean "
      "'hidden_size'?); it is kept but the model does not use it"]


@pytest.mark.parametrize("key,value,expected", [
    ("hidden_size", "768", "an integer, got the string \"768\""),
    ("hidden_size", "abc", "an integer, got the string \"abc\""),
    ("hidden_size", 768.5, "an integer, got 768.5"),
    ("hidden_size", None, "an integer, got null"),
    ("num_hidden_layers", True, "an integer, got the boolean true"),
    ("num_hidden_groups", False, "an integer, got the boolean false"),
    ("vocab_size", [30000], "an integer, got a list"),
    ("hidden_dropout_prob", "0.1", "a number, got the string \"0.1\""),
    ("initializer_range", True, "a number, got the boolean true"),
    ("hidden_act", 1, "a string, got 1"),
])
def test_config_value_of_the_wrong_type_names_file_key_and_type(
    tmp_path, key, value, expected):
  path = write_config(tmp_path, dict(RELEASED_V2, **{key: value}))
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  assert one_line(raised.value) == (
      "albert_config_file %s: key %r must be %s" % (path, key, expected))


def test_config_nan_dropout_is_refused(tmp_path):
  config = dict(RELEASED_V2)
  del config["attention_probs_dropout_prob"]
  path = write_config(tmp_path, json.dumps(config)[:-1] +
                      ', "attention_probs_dropout_prob": NaN}')
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  assert "key 'attention_probs_dropout_prob' must be a number, got nan" in (
      one_line(raised.value))


def test_from_dict_is_as_strict_as_the_file():
  config = dict(RELEASED_V2)
  del config["num_attention_heads"]
  with pytest.raises(modeling.AlbertConfigError,
                     match="ALBERT config is missing required key"):
    modeling.AlbertConfig.from_dict(config)
  with pytest.raises(modeling.AlbertConfigError,
                     match="ALBERT config must be a JSON object of config "
                           "keys, got a list"):
    modeling.AlbertConfig.from_dict([RELEASED_V2])
  # Complete dicts, as tests and tools build them, are fine.
  tiny = hub_fixtures.tiny_config_dict(50)
  assert modeling.AlbertConfig.from_dict(tiny).to_dict()["vocab_size"] == 50


@pytest.mark.parametrize("text,expected", [
    ("", "is empty; expected a JSON object of config keys"),
    ("  \n", "is empty; expected a JSON object of config keys"),
    ("[1, 2]", "must be a JSON object of config keys, got a list"),
    ('"albert"', "must be a JSON object of config keys, got the string"),
    ("{vocab_size: 3", "is not valid JSON: Expecting property name"),
    ('{"vocab_size": 30000, "vocab_size": 300}',
     ": key 'vocab_size' is set twice"),
])
def test_config_file_that_is_no_config_object(tmp_path, text, expected):
  path = write_config(tmp_path, text)
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  message = one_line(raised.value)
  assert message.startswith("albert_config_file %s" % path)
  assert expected in message


def test_config_file_not_utf8_or_a_directory(tmp_path):
  path = tmp_path / "albert_config.json"
  path.write_bytes(b'{"vocab_size": 30000, "note": "caf\xe9"}')
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(str(path))
  assert one_line(raised.value) == (
      "albert_config_file %s is not a UTF-8 JSON file (byte 0xe9 at offset "
      "34)" % path)
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(str(tmp_path))
  assert one_line(raised.value) == (
      "albert_config_file %s is a directory; expected the albert_config.json "
      "file in it" % tmp_path)


@pytest.mark.parametrize("overrides,expected", [
    ({"num_attention_heads": 5},
     "hidden_size (768) is not a multiple of num_attention_heads (5)"),
    ({"num_attention_heads": 0},
     "config key num_attention_heads must be a positive integer, got 0"),
    ({"hidden_dropout_prob": 1.0},
     "config key hidden_dropout_prob must be a probability in [0, 1), got "
     "1.0"),
    ({"hidden_act": "gleu"}, "Unknown hidden_act 'gleu'"),
])
def test_config_that_describes_no_model_names_the_file(tmp_path, overrides,
                                                       expected):
  path = write_config(tmp_path, dict(RELEASED_V2, **overrides))
  with pytest.raises(modeling.AlbertConfigError) as raised:
    modeling.AlbertConfig.from_json_file(path)
  message = one_line(raised.value)
  assert message.startswith("albert_config_file %s: " % path)
  assert expected in message


def test_validate_refuses_bools_for_sizes():
  with pytest.raises(ValueError, match="num_hidden_layers must be a "
                                       "positive integer, got True"):
    modeling.AlbertConfig(vocab_size=10, num_hidden_layers=True).validate()


def test_effective_config_is_complete_and_loggable(tmp_path):
  """Keys the file leaves out show up with the values the model uses."""
  config = modeling.AlbertConfig.from_json_file(
      write_config(tmp_path, dict(MINIMAL, my_note="x")))
  effective = json.loads(config.to_json_string())
  assert effective["num_hidden_groups"] == 1
  assert effective["inner_group_num"] == 1
  assert effective["hidden_dropout_prob"] == 0
  assert effective["initializer_range"] == 0.02
  assert effective["my_note"] == "x"
  line = config.describe()
  assert "\n" not in line and json.loads(line) == effective


# Finding 2 and 3: GLUE TSV files ---------------------------------------------

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


# Finding 4: SentencePiece files passed as a WordPiece vocab --------------


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


# Finding 5: a vocabulary larger than the config's vocab_size -----------------


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


def test_data_ids_past_vocab_size():
  config = modeling.AlbertConfig(vocab_size=30)
  config.check_num_token_ids(30, "input_file a.tfrecord", exact=False)
  config.check_num_token_ids(12, "input_file a.tfrecord", exact=False)
  with pytest.raises(modeling.VocabSizeMismatchError) as raised:
    config.check_num_token_ids(60, "input_file a.tfrecord", exact=False)
  assert one_line(raised.value) == (
      "input_file a.tfrecord holds token id 59 but the config's vocab_size "
      "is 30 (ids 0 to 29); was it made with another vocabulary?")


def test_wordpiece_num_token_ids_counts_blank_lines(tmp_path):
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n[MASK]\nthe\n")
  tokenizer = tokenization.FullTokenizer(str(vocab))
  assert tokenizer.num_token_ids() == 7
  assert tokenizer.source == "vocab_file %s" % vocab


# Finding 6: other broken vocabularies ----------------------------------------


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


def test_errors_are_value_errors_for_the_command_lines():
  for error in (modeling.AlbertConfigError, modeling.VocabSizeMismatchError,
                tokenization.VocabFileError, cu.DataFormatError):
    assert issubclass(error, ValueError)
