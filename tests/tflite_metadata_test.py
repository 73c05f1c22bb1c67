# coding=utf-8
"""Tests of albert.tflite_metadata: the M001 flatbuffer and packed files.

The metadata is read back here with flatbuffers' generic table reader, slot
by slot as tflite-support's metadata_schema.fbs lays the tables out, so a
field written to the wrong slot fails. (Checked once by hand against
tflite-support 0.4.4's MetadataDisplayer, which cannot be installed beside
this project's packages.)
"""

import io
import zipfile

import flatbuffers
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import tflite_metadata
from albert import tokenization

tf.disable_v2_behavior()


class FakeSentencePiece(object):

  def serialized_model_proto(self):
    return b"\x0a\x05piece"


def sentencepiece_file():
  """A `TokenizerFile` of a SentencePiece tokenizer whose file is gone (a
  hub module's)."""
  tokenizer = tokenization.FullTokenizer.__new__(tokenization.FullTokenizer)
  tokenizer.sp_model = FakeSentencePiece()
  return tflite_metadata.tokenizer_file(tokenizer,
                                        "/no/such/30k-clean.model")


class Table(object):
  """A flatbuffers table read by slot number."""

  def __init__(self, buf, pos):
    self._table = flatbuffers.table.Table(buf, pos)

  def _offset(self, slot):
    return self._table.Offset(4 + 2 * slot)

  def string(self, slot):
    offset = self._offset(slot)
    return (self._table.String(offset + self._table.Pos).decode("utf-8")
            if offset else None)

  def byte(self, slot):
    offset = self._offset(slot)
    return (self._table.Get(flatbuffers.number_types.Int8Flags,
                            offset + self._table.Pos) if offset else 0)

  def table(self, slot):
    offset = self._offset(slot)
    if not offset:
      return None
    return Table(self._table.Bytes, self._table.Indirect(
        offset + self._table.Pos))

  def tables(self, slot):
    offset = self._offset(slot)
    if not offset:
      return []
    start = self._table.Vector(offset)
    return [Table(self._table.Bytes,
                  self._table.Indirect(start + 4 * i))
            for i in range(self._table.VectorLen(offset))]


def read_root(metadata):
  position = flatbuffers.encode.Get(flatbuffers.packer.uoffset, metadata, 0)
  return Table(bytearray(metadata), position)


def test_metadata_fields_sit_in_the_schemas_slots():
  spm = sentencepiece_file()
  metadata = tflite_metadata.model_metadata(
      "qa", "answers", [("ids", "i"), ("mask", "m"), ("segment_ids", "s")],
      [("end_logits", "e"), ("start_logits", "b")], spm)
  assert metadata[4:8] == b"M001"
  root = read_root(metadata)
  assert (root.string(0), root.string(1), root.string(7)) == (
      "qa", "answers", "1.1.0")
  subgraph, = root.tables(3)
  assert [t.string(0) for t in subgraph.tables(2)] == [
      "ids", "mask", "segment_ids"]
  assert [t.string(0) for t in subgraph.tables(3)] == [
      "end_logits", "start_logits"]
  content = subgraph.tables(2)[0].table(3)
  assert content.byte(0) == 1  # FeatureProperties
  unit, = subgraph.tables(5)
  assert unit.byte(0) == 5  # SentencePieceTokenizerOptions
  model_file, = unit.table(1).tables(0)
  assert model_file.string(0) == "30k-clean.model"
  assert model_file.byte(2) == 1  # DESCRIPTIONS


def test_a_classifiers_labels_and_a_wordpiece_vocabulary(tmp_path):
  vocab = tmp_path / "my_vocab.txt"
  vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\ncat\n")
  tokenizer = tokenization.FullTokenizer(str(vocab), True)
  packed = tflite_metadata.tokenizer_file(tokenizer, None, str(vocab))
  assert packed.name == "my_vocab.txt"
  assert packed.data == vocab.read_bytes()  # One token a line, by id.
  metadata = tflite_metadata.model_metadata(
      "c", "classifies", [("ids", "i")], [("probability", "p")], packed,
      labels_file="labels.txt")
  subgraph, = read_root(metadata).tables(3)
  labels, = subgraph.tables(3)[0].tables(6)
  assert (labels.string(0), labels.byte(2)) == ("labels.txt", 2)
  unit, = subgraph.tables(5)
  assert unit.byte(0) == 4  # BertTokenizerOptions
  vocab_file, = unit.table(1).tables(0)
  assert (vocab_file.string(0), vocab_file.byte(2)) == ("my_vocab.txt", 5)
  # A hub module's SentencePiece model gets the release's file name.
  assert sentencepiece_file().name == "30k-clean.model"


@pytest.fixture(scope="module")
def tiny_model():
  with tf.Graph().as_default(), tf.Session() as sess:
    x = tf.placeholder(tf.float32, [1, 3], name="x")
    y = tf.identity(x * 2.0, name="y")
    return tf.lite.TFLiteConverter.from_session(sess, [x], [y]).convert()


def test_attached_metadata_and_files_read_back_and_the_model_runs(
    tiny_model):
  metadata = tflite_metadata.model_metadata(
      "m", "doubles", [("x", "in")], [("y", "out")], sentencepiece_file())
  model = tflite_metadata.attach_metadata(
      tiny_model, metadata, [("30k-clean.model", b"spm"),
                             ("labels.txt", b"a\nb\n")])
  got, names = tflite_metadata.read_metadata(model)
  assert got == metadata
  assert names == ["30k-clean.model", "labels.txt"]
  with zipfile.ZipFile(io.BytesIO(model)) as zf:
    assert zf.read("labels.txt") == b"a\nb\n"
    # Stored: a reader maps the files in place.
    assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
  interpreter = tf.lite.Interpreter(model_content=model)
  interpreter.allocate_tensors()
  interpreter.set_tensor(interpreter.get_input_details()[0]["index"],
                         np.array([[1, 2, 3]], np.float32))
  interpreter.invoke()
  np.testing.assert_allclose(
      interpreter.get_tensor(interpreter.get_output_details()[0]["index"]),
      [[2, 4, 6]])
  # A model without ours: no metadata, no files.
  assert tflite_metadata.read_metadata(tiny_model) == (None, [])
