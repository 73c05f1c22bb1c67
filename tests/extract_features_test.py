# coding=utf-8
"""Tests for albert.extract_features: features equal the model's own outputs,
embeddings and their index, hub modules, bad input and what failures leave."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import extract_features
from albert import modeling
from albert import tokenization

import hub_fixtures
from error_checks import one_line

tf.disable_v2_behavior()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Outputs are rounded to 6 decimals (BERT's format): half a unit of the 6th
# decimal on top of the float32 tolerance.
TOLERANCE = 1e-5 + 5e-7

LINES = [
    "The quick cat sees a river.",
    "Albert reads the text ||| and the model learns a word.",
    "Green house",
    "A lazy dog runs on the road with the bird ||| Star",
    "the the the the the the the the the the the the the the the the the",
    "Happy!",
    "Blue cloud ||| red rain",
]


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
  return tmp_path_factory.mktemp("extract_features")


@pytest.fixture(scope="module")
def tiny(work_dir):
  return hub_fixtures.make_tiny_albert_dir(str(work_dir / "albert"),
                                           max_position_embeddings=32)


@pytest.fixture(scope="module")
def tokenizer(tiny):
  return tokenization.FullTokenizer(None, True, tiny.spm_model_file)


@pytest.fixture(scope="module")
def input_file(work_dir):
  path = str(work_dir / "lines.txt")
  with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(LINES) + "\n")
  return path


class ModelOutputs(object):
  """The tiny model's own outputs, one unpadded sequence at a time."""

  def __init__(self, tiny):
    self.graph = tf.Graph()
    with self.graph.as_default():
      self.ids = tf.placeholder(tf.int32, [1, None])
      self.segments = tf.placeholder(tf.int32, [1, None])
      model = modeling.AlbertModel(tiny.config, is_training=False,
                                   input_ids=self.ids,
                                   token_type_ids=self.segments)
      self.fetches = {"layers": model.get_all_encoder_layers(),
                      "pooled": model.get_pooled_output()}
      self.session = tf.Session()
      tf.train.Saver().restore(self.session, tiny.init_checkpoint)

  def __call__(self, ids, segment_ids):
    """{"layers": list of [n, H], "pooled": [H]} of one sequence."""
    out = self.session.run(self.fetches, {self.ids: [ids],
                                          self.segments: [segment_ids]})
    return {"layers": [layer[0] for layer in out["layers"]],
            "pooled": out["pooled"][0]}


@pytest.fixture(scope="module")
def reference(tiny):
  outputs = ModelOutputs(tiny)
  yield outputs
  outputs.session.close()


def tokens_of(tokenizer, line):
  """[CLS] a [SEP] (b [SEP]) and the segment ids, untruncated."""
  parts = [p.strip() for p in line.split("|||")]
  tokens = ["[CLS]"] + tokenizer.tokenize(parts[0]) + ["[SEP]"]
  segments = [0] * len(tokens)
  if len(parts) == 2:
    b = tokenizer.tokenize(parts[1]) + ["[SEP]"]
    tokens += b
    segments += [1] * len(b)
  return tokens, segments


def options(tiny, input_file, **overrides):
  values = dict(input_file=input_file, albert_directory=tiny.directory,
                max_seq_length=32, batch_size=3, layers="-1,-2")
  values.update(overrides)
  return extract_features.default_options(**values)


def read_jsonl(path):
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def json_run(tiny, input_file, work_dir):
  path = str(work_dir / "features.jsonl")
  summary = extract_features.run(options(tiny, input_file, output_file=path,
                                         layers="-1,-2"))
  return summary, read_jsonl(path)


def test_json_features_equal_the_models_layers(json_run, tokenizer,
                                               reference):
  summary, lines = json_run
  assert summary.num_lines == len(LINES) and summary.num_pairs == 3
  assert [line["linex_index"] for line in lines] == list(range(len(LINES)))
  worst = 0.0
  for text, line in zip(LINES, lines):
    tokens, segments = tokens_of(tokenizer, text)
    assert [f["token"] for f in line["features"]] == tokens
    expected = reference(tokenizer.convert_tokens_to_ids(tokens), segments)
    for position, feature in enumerate(line["features"]):
      assert [layer["index"] for layer in feature["layers"]] == [-1, -2]
      for layer in feature["layers"]:
        values = np.array(layer["values"])
        assert values.shape == (32,)
        # BERT's rounding: no value has more than 6 decimals.
        assert np.array_equal(values, np.round(values, 6))
        diff = np.abs(values -
                      expected["layers"][layer["index"]][position]).max()
        worst = max(worst, diff)
  assert worst <= TOLERANCE, worst


def test_pairs_get_segment_ids_0_and_1(json_run, tokenizer, reference):
  _, lines = json_run
  tokens, segments = tokens_of(tokenizer, LINES[1])
  assert 0 < sum(segments) < len(segments)
  ids = tokenizer.convert_tokens_to_ids(tokens)
  as_pair = reference(ids, segments)["layers"][-1]
  as_single = reference(ids, [0] * len(ids))["layers"][-1]
  got = np.array([f["layers"][0]["values"] for f in lines[1]["features"]])
  assert np.abs(got - as_pair).max() <= TOLERANCE
  # The test would see segment ids of 0 only: the model's outputs differ.
  assert np.abs(got - as_single).max() > 1e-3


def embeddings_run(tiny, input_file, path, **overrides):
  summary = extract_features.run(options(tiny, input_file,
                                         embeddings_file=path, **overrides))
  return summary, np.load(path), read_jsonl(path + ".index.jsonl")


@pytest.mark.parametrize("pooling", ["cls", "mean", "pooled"])
def test_embeddings_equal_the_pooled_model_outputs(tiny, input_file,
                                                   work_dir, tokenizer,
                                                   reference, pooling):
  path = str(work_dir / ("emb_%s.npy" % pooling))
  summary, matrix, index = embeddings_run(tiny, input_file, path,
                                          pooling=pooling)
  assert matrix.dtype == np.float32 and matrix.shape == (len(LINES), 32)
  assert summary.hidden_size == 32 and summary.index_file == (
      path + ".index.jsonl")
  for row, text in enumerate(LINES):
    tokens, segments = tokens_of(tokenizer, text)
    out = reference(tokenizer.convert_tokens_to_ids(tokens), segments)
    expected = {"cls": out["layers"][-1][0],
                "mean": out["layers"][-1].mean(axis=0),
                "pooled": out["pooled"]}[pooling]
    np.testing.assert_allclose(matrix[row], expected, atol=1e-5)
    parts = [p.strip() for p in text.split("|||")]
    assert index[row] == {"row": row, "line": row + 1, "text_a": parts[0],
                          "text_b": parts[1] if len(parts) > 1 else None,
                          "num_tokens": len(tokens), "truncated": False}


def test_batches_that_do_not_divide_the_lines_change_nothing(
    tiny, input_file, work_dir):
  by_three = [embeddings_run(tiny, input_file,
                             str(work_dir / ("b3_%d.npy" % i)),
                             batch_size=3) for i in range(2)]
  _, by_one, index = embeddings_run(tiny, input_file,
                                    str(work_dir / "b1.npy"), batch_size=1)
  # Deterministic: the same run twice writes the same bytes.
  with open(str(work_dir / "b3_0.npy"), "rb") as a, open(
      str(work_dir / "b3_1.npy"), "rb") as b:
    assert a.read() == b.read()
  np.testing.assert_allclose(by_three[0][1], by_one, atol=1e-6)
  assert by_three[0][2] == index
  assert [entry["line"] for entry in index] == list(range(1, 8))


def test_truncation_follows_bert(tiny, work_dir, tokenizer):
  long_a = " ".join(["river"] * 20)
  path = str(work_dir / "long.txt")
  with open(path, "w") as f:
    f.write("%s\n%s ||| blue cloud\n" % (long_a, long_a))
  out = str(work_dir / "long.jsonl")
  summary = extract_features.run(options(
      tiny, path, max_seq_length=10, output_file=out,
      embeddings_file=out + ".npy", layers="-1"))
  lines = read_jsonl(out)
  pieces = tokenizer.tokenize(long_a)
  assert [f["token"] for f in lines[0]["features"]] == (
      ["[CLS]"] + pieces[:8] + ["[SEP]"])
  b = tokenizer.tokenize("blue cloud")
  assert len(b) < 4
  # The longer text loses tokens until the pair fits in 10 - 3.
  assert [f["token"] for f in lines[1]["features"]] == (
      ["[CLS]"] + pieces[:7 - len(b)] + ["[SEP]"] + b + ["[SEP]"])
  assert summary.num_truncated == 2
  index = read_jsonl(out + ".npy.index.jsonl")
  assert [entry["truncated"] for entry in index] == [True, True]
  assert [entry["num_tokens"] for entry in index] == [10, 10]


@pytest.fixture(scope="module")
def hub_module(tiny, work_dir):
  return hub_fixtures.make_hub_module(tiny, str(work_dir / "hub"))


def test_hub_module_gives_the_directorys_features(tiny, input_file,
                                                  work_dir, hub_module,
                                                  json_run):
  path = str(work_dir / "hub_emb.npy")
  out = str(work_dir / "hub.jsonl")
  summary = extract_features.run(extract_features.default_options(
      input_file=input_file, albert_hub_module_handle=hub_module,
      max_seq_length=32, embeddings_file=path, pooling="pooled",
      output_file=out, layers="-1"))
  assert "hub module" in summary.model
  _, direct, _ = embeddings_run(tiny, input_file,
                                str(work_dir / "direct_emb.npy"),
                                pooling="pooled")
  np.testing.assert_allclose(np.load(path), direct, atol=1e-6)
  hub_lines = read_jsonl(out)
  for hub_line, line in zip(hub_lines, json_run[1]):
    assert ([f["token"] for f in hub_line["features"]] ==
            [f["token"] for f in line["features"]])
    np.testing.assert_allclose(
        [f["layers"][0]["values"] for f in hub_line["features"]],
        [f["layers"][0]["values"] for f in line["features"]], atol=2e-6)


def test_hub_module_with_other_layers_is_one_line(tiny, input_file,
                                                  work_dir, hub_module):
  with pytest.raises(ValueError) as e:
    extract_features.run(extract_features.default_options(
        input_file=input_file, albert_hub_module_handle=hub_module,
        max_seq_length=32, output_file=str(work_dir / "x.jsonl"),
        layers="-1,-2"))
  assert "last layer only" in one_line(e.value)
  assert not os.path.exists(str(work_dir / "x.jsonl"))


def write_lines(path, data):
  with open(path, "wb") as f:
    f.write(data)
  return path


@pytest.mark.parametrize("data,where,what", [
    (b"fine\n\nfine\n", ":2:", "empty line"),
    (b"fine\na ||| b ||| c\n", ":2:", "2 '|||' separators"),
    (b"\xff\xfeabc\n", ":1:", "invalid UTF-8"),
    (b"ok\n  ||| b\n", ":2:", "empty text before '|||'"),
])
def test_bad_lines_are_named_with_file_and_line(tiny, work_dir, data, where,
                                                what):
  path = write_lines(str(work_dir / "bad.txt"), data)
  out = str(work_dir / "bad.jsonl")
  with pytest.raises(extract_features.InputLineError) as e:
    extract_features.run(options(tiny, path, output_file=out))
  message = one_line(e.value)
  assert path + where in message and what in message
  assert not os.path.exists(out)


@pytest.mark.parametrize("overrides,expected", [
    (dict(), "nothing to write"),
    (dict(output_file="o.jsonl", albert_directory=None), "no model"),
    (dict(output_file="o.jsonl", pooling="max"), "--pooling=max"),
    (dict(output_file="o.jsonl", layers="-1,x"), "--layers=-1,x"),
    (dict(output_file="o.jsonl", layers="2"), "out of range"),
    (dict(output_file="o.jsonl", batch_size=0), "--batch_size=0"),
    (dict(output_file="o.jsonl", max_seq_length=64),
     "max_position_embeddings"),
    (dict(embeddings_file="lines.txt"), "different files"),
    (dict(output_file="o.jsonl", init_checkpoint="x"),
     "not --albert_directory and --init_checkpoint"),
    (dict(output_file="o.jsonl", checkpoint_name="model.ckpt-9"),
     "--checkpoint_name=model.ckpt-9"),
])
def test_bad_flags_are_one_line(tiny, input_file, overrides, expected):
  values = dict(albert_directory=tiny.directory, max_seq_length=32)
  values.update(overrides)
  if values.get("embeddings_file") == "lines.txt":
    values["embeddings_file"] = input_file
  with pytest.raises(ValueError) as e:
    extract_features.run(extract_features.default_options(
        input_file=input_file, **values))
  assert expected in one_line(e.value)


def test_config_alone_is_refused_not_random_weights(tiny, input_file):
  with pytest.raises(ValueError) as e:
    extract_features.run(extract_features.default_options(
        input_file=input_file, output_file="o.jsonl", max_seq_length=32,
        albert_config_file=tiny.config_file,
        spm_model_file=tiny.spm_model_file))
  assert "random weights" in one_line(e.value)


def test_init_checkpoint_and_config_give_the_directorys_embeddings(
    tiny, input_file, work_dir):
  path = str(work_dir / "flags_emb.npy")
  # A file of the checkpoint (its .index) means its prefix.
  extract_features.run(extract_features.default_options(
      input_file=input_file, embeddings_file=path, max_seq_length=32,
      batch_size=3, albert_config_file=tiny.config_file,
      init_checkpoint=tiny.init_checkpoint + ".index",
      spm_model_file=tiny.spm_model_file))
  _, direct, _ = embeddings_run(tiny, input_file,
                                str(work_dir / "dir_emb.npy"))
  np.testing.assert_array_equal(np.load(path), direct)


def test_hub_tokenizer_larger_than_the_modules_table_fails(
    input_file, work_dir, hub_module, monkeypatch):
  real = tokenization.FullTokenizer.num_token_ids
  monkeypatch.setattr(tokenization.FullTokenizer, "num_token_ids",
                      lambda self: real(self) + 1)
  with pytest.raises(modeling.VocabSizeMismatchError) as e:
    extract_features.run(extract_features.default_options(
        input_file=input_file, albert_hub_module_handle=hub_module,
        max_seq_length=32, embeddings_file=str(work_dir / "v.npy")))
  assert "hub module" in one_line(e.value)
  assert not os.path.exists(str(work_dir / "v.npy"))


def write_config(tiny, path, **changes):
  with open(tiny.config_file) as f:
    config = json.load(f)
  config.update(changes)
  with open(path, "w") as f:
    json.dump(config, f)
  return path


def test_checkpoint_that_does_not_fit_the_config_fails(tiny, input_file,
                                                       work_dir):
  config = write_config(tiny, str(work_dir / "wide.json"), hidden_size=64,
                        intermediate_size=128)
  with pytest.raises(ValueError) as e:
    extract_features.run(extract_features.default_options(
        input_file=input_file, output_file=str(work_dir / "w.jsonl"),
        max_seq_length=32, albert_config_file=config, layers="-1",
        init_checkpoint=tiny.init_checkpoint,
        spm_model_file=tiny.spm_model_file))
  message = one_line(e.value)
  assert "does not fit the config" in message and "[64]" in message
  assert not os.path.exists(str(work_dir / "w.jsonl"))


def test_vocabulary_larger_than_the_config_fails(tiny, input_file,
                                                 work_dir):
  config = write_config(tiny, str(work_dir / "small_vocab.json"),
                        vocab_size=tiny.config.vocab_size - 1)
  with pytest.raises(modeling.VocabSizeMismatchError) as e:
    extract_features.run(extract_features.default_options(
        input_file=input_file, output_file="o.jsonl", max_seq_length=32,
        albert_config_file=config, init_checkpoint=tiny.init_checkpoint,
        spm_model_file=tiny.spm_model_file))
  assert "vocab_size" in one_line(e.value)


def test_a_failure_mid_run_leaves_no_output(tiny, input_file, work_dir,
                                            monkeypatch):
  real = extract_features.json_line
  calls = []

  def failing(*args):
    calls.append(1)
    if len(calls) == 4:
      raise OSError(28, "No space left on device")
    return real(*args)

  monkeypatch.setattr(extract_features, "json_line", failing)
  directory = work_dir / "failed"
  out, emb = str(directory / "f.jsonl"), str(directory / "f.npy")
  with pytest.raises(OSError):
    extract_features.run(options(tiny, input_file, output_file=out,
                                 embeddings_file=emb, batch_size=2))
  assert len(calls) == 4
  assert os.listdir(str(directory)) == []


def test_progress_lines_give_count_rate_and_eta(tiny, input_file, work_dir,
                                                monkeypatch, caplog):
  monkeypatch.setattr(extract_features, "PROGRESS_EVERY_SECS", 0.0)
  caplog.set_level("INFO", logger="tensorflow")
  summary = extract_features.run(options(
      tiny, input_file, embeddings_file=str(work_dir / "p.npy"),
      batch_size=4))
  lines = [r.getMessage() for r in caplog.records
           if "lines/s" in r.getMessage()]
  assert lines[0].startswith("extract_features: 4/7 lines (57.1%)")
  assert lines[-1].startswith("extract_features: 7/7 lines (100.0%)")
  assert "ETA 0s" in lines[-1]
  text = extract_features.format_summary(summary)
  assert "7 lines (3 pairs, 0 truncated)" in text
  assert "float32 [7, 32], mean pooling" in text


def run_cli(*args):
  return subprocess.run(
      [sys.executable, "-m", "albert.extract_features"] + list(args),
      cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_command_line(tiny, input_file, work_dir):
  directory = work_dir / "cli"
  directory.mkdir()
  bad = write_lines(str(directory / "bad.txt"), b"one\n\ntwo\n")
  out = str(directory / "out.jsonl")
  result = run_cli("--input_file=" + bad, "--output_file=" + out,
                   "--albert_directory=" + tiny.directory,
                   "--max_seq_length=32")
  assert result.returncode == 1
  last = result.stderr.strip().splitlines()[-1]
  assert last.startswith("extract_features: error: ") and (bad + ":2:" in
                                                           last)
  assert sorted(os.listdir(str(directory))) == ["bad.txt"]
  emb = str(directory / "emb.npy")
  result = run_cli("--input_file=" + input_file, "--output_file=" + out,
                   "--embeddings_file=" + emb, "--layers=-1",
                   "--albert_directory=" + tiny.directory,
                   "--max_seq_length=32", "--pooling=cls")
  assert result.returncode == 0, result.stderr
  assert "Extracted features of 7 lines" in result.stdout
  assert sorted(os.listdir(str(directory))) == [
      "bad.txt", "emb.npy", "emb.npy.index.jsonl", "out.jsonl"]
  assert np.load(emb).shape == (7, 32) and len(read_jsonl(out)) == 7
