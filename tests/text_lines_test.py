# coding=utf-8
"""Tests for albert.text_lines: parsing, checking and streaming input lines,
[CLS] a [SEP] b [SEP] inputs with BERT's truncation, batches and padding."""

import numpy as np
import pytest

from albert import text_lines

from error_checks import one_line


class WordTokenizer(object):
  """Splits on spaces; ids are word lengths (enough to check the layout)."""

  def tokenize(self, text):
    return text.split()

  def convert_tokens_to_ids(self, tokens):
    return [len(token) for token in tokens]


def write(tmp_path, data, name="lines.txt"):
  path = tmp_path / name
  path.write_bytes(data)
  return str(path)


@pytest.mark.parametrize("data,expected", [
    (b"a text\n", ("a text", None)),
    (b"  first ||| second \r\n", ("first", "second")),
    (b"no|||spaces", ("no", "spaces")),
    ("caf\u00e9 \u2581x\n".encode("utf-8"), ("caf\u00e9 \u2581x", None)),
])
def test_parse_line(data, expected):
  assert text_lines.parse_line(data, "f.txt", 3) == expected


@pytest.mark.parametrize("data,message", [
    (b"\n", "f.txt:3: empty line"),
    (b"   \t\r\n", "f.txt:3: empty line"),
    (b"a ||| b ||| c", "f.txt:3: 2 '|||' separators"),
    (b"a |||", "f.txt:3: empty text after '|||'"),
    (b"||| b", "f.txt:3: empty text before '|||'"),
    (b"ok \xc3(", "f.txt:3: invalid UTF-8 (byte 0xc3 at offset 3)"),
])
def test_bad_lines_are_named(data, message):
  with pytest.raises(text_lines.InputLineError) as e:
    text_lines.parse_line(data, "f.txt", 3)
  assert one_line(e.value).startswith(message)


def test_every_bad_line_is_counted_the_first_five_named(tmp_path):
  path = write(tmp_path, b"\n" * 8 + b"x\n")
  with pytest.raises(ValueError) as e:
    text_lines.check_input_file(path)
  message = one_line(e.value)
  assert "8 bad line(s)" in message and path + ":5: empty" in message
  assert ":6:" not in message and "; ..." in message


def test_check_input_file_counts_lines(tmp_path):
  assert text_lines.check_input_file(write(tmp_path, b"a\nb ||| c\nd")) == 3


@pytest.mark.parametrize("data,message", [
    (None, "not found"), (b"", "is empty")])
def test_missing_or_empty_input_file(tmp_path, data, message):
  path = str(tmp_path / "lines.txt")
  if data is not None:
    path = write(tmp_path, data)
  with pytest.raises(ValueError) as e:
    text_lines.check_input_file(path)
  assert message in one_line(e.value)


def test_read_examples_streams_in_order(tmp_path):
  path = write(tmp_path, b"one\ntwo ||| three\nfour\n\n")
  examples = text_lines.read_examples(path)
  assert next(examples) == text_lines.Example(0, 1, "one", None)
  assert next(examples) == text_lines.Example(1, 2, "two", "three")
  assert next(examples).text_a == "four"
  # A bad line met while streaming (the file changed) still fails.
  with pytest.raises(text_lines.InputLineError) as e:
    next(examples)
  assert path + ":4: empty line" in one_line(e.value)


def convert(text_a, text_b, max_seq_length):
  example = text_lines.Example(0, 1, text_a, text_b)
  return text_lines.convert_example(example, WordTokenizer(), max_seq_length)


def test_single_text_keeps_its_first_tokens():
  feature = convert("a bb ccc dddd eeeee", None, 5)
  assert feature.tokens == ["[CLS]", "a", "bb", "ccc", "[SEP]"]
  assert feature.segment_ids == [0] * 5 and feature.input_mask == [1] * 5
  assert feature.input_ids == [5, 1, 2, 3, 5] and feature.truncated
  assert not convert("a bb ccc", None, 5).truncated


def test_pair_loses_tokens_of_the_longer_text():
  feature = convert("a1 a2 a3 a4 a5", "b1 b2", 8)
  assert feature.tokens == ["[CLS]", "a1", "a2", "a3", "[SEP]", "b1", "b2",
                            "[SEP]"]
  assert feature.segment_ids == [0, 0, 0, 0, 0, 1, 1, 1]
  assert feature.truncated
  # On a tie the second text loses first (BERT's _truncate_seq_pair).
  assert convert("a1 a2", "b1 b2", 6).tokens == [
      "[CLS]", "a1", "a2", "[SEP]", "b1", "[SEP]"]


def test_batches_and_padding():
  features = [convert(" ".join(["w"] * n), None, 16) for n in (1, 4, 2)]
  batches = list(text_lines.batches(iter(features), 2))
  assert [len(b) for b in batches] == [2, 1]
  arrays = text_lines.feed_arrays(batches[0])
  # Padded to the batch's longest sequence, not to max_seq_length.
  assert arrays["input_ids"].dtype == np.int32
  np.testing.assert_array_equal(arrays["input_mask"],
                                [[1, 1, 1, 0, 0, 0], [1] * 6])
  np.testing.assert_array_equal(arrays["input_ids"][0], [5, 1, 5, 0, 0, 0])
  assert text_lines.feed_arrays(batches[1])["input_ids"].shape == (1, 4)
  assert list(text_lines.batches([], 3)) == []
