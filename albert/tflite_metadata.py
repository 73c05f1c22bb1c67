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
"""TFLite model metadata, written without the tflite-support package.

The TFLite Task Library reads a model's metadata from the flatbuffer's
`metadata` entry "TFLITE_METADATA": a buffer holding a ModelMetadata
flatbuffer (file identifier "M001", tflite-support's public
metadata_schema.fbs), here written field by field with the `flatbuffers`
Builder: tensor names and descriptions, the tokenizer as the subgraph's
input process unit (SentencePieceTokenizerOptions or BertTokenizerOptions)
and, for a classifier, a labels file. The files the metadata names are
packed as a zip archive (stored, uncompressed) appended to the model file.
tflite-support's own writer cannot be installed beside this project's
pinned packages (its protobuf<4 clashes with onnxruntime's).

`tokenizer_file` turns the run's tokenizer into the file to pack,
`model_metadata` writes the metadata, `attach_metadata` adds it and the
files to a model, `read_metadata` reads both back.

Not here: the conversion and the Task Library's tensor contract
(tflite_export).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import io
import os
import zipfile

import flatbuffers
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

METADATA_NAME = "TFLITE_METADATA"
METADATA_IDENTIFIER = b"M001"
# SentencePieceTokenizerOptions and input_process_units came with 1.1.0.
_MIN_PARSER_VERSION = "1.1.0"


# metadata_schema.fbs enum values.
_FEATURE_PROPERTIES = 1  # ContentProperties.FeatureProperties
_BERT_TOKENIZER = 4  # ProcessUnitOptions.BertTokenizerOptions
# ProcessUnitOptions.SentencePieceTokenizerOptions
_SENTENCE_PIECE_TOKENIZER = 5
DESCRIPTIONS = 1  # AssociatedFileType.DESCRIPTIONS
_TENSOR_AXIS_LABELS = 2  # AssociatedFileType.TENSOR_AXIS_LABELS
VOCABULARY = 5  # AssociatedFileType.VOCABULARY

# A file packed with the model: its name, bytes and AssociatedFileType.
TokenizerFile = collections.namedtuple("TokenizerFile",
                                       ["name", "data", "file_type"])


def _table(builder, slots):
  """A table from {slot: ("offset" | "ubyte" | "byte", value)}."""
  builder.StartObject(max(slots) + 1 if slots else 0)
  for slot in sorted(slots):
    kind, value = slots[slot]
    if kind == "offset":
      builder.PrependUOffsetTRelativeSlot(slot, value, 0)
    elif kind == "ubyte":
      builder.PrependUint8Slot(slot, value, 0)
    else:
      builder.PrependInt8Slot(slot, value, 0)
  return builder.EndObject()


def _vector(builder, offsets):
  builder.StartVector(4, len(offsets), 4)
  for offset in reversed(offsets):
    builder.PrependUOffsetTRelative(offset)
  return builder.EndVector()


def _associated_file(builder, name, description, file_type):
  # AssociatedFile: name 0, description 1, type 2.
  name = builder.CreateString(name)
  description = builder.CreateString(description)
  return _table(builder, {0: ("offset", name), 1: ("offset", description),
                          2: ("byte", file_type)})


def _tensor_metadata(builder, name, description, associated_files=()):
  """TensorMetadata: name 0, description 1, content 3, associated_files 6."""
  name = builder.CreateString(name)
  description = builder.CreateString(description)
  files = [_associated_file(builder, *f) for f in associated_files]
  files = _vector(builder, files) if files else None
  feature_properties = _table(builder, {})
  # Content: content_properties_type 0 (a union's type), content_properties 1.
  content = _table(builder, {0: ("ubyte", _FEATURE_PROPERTIES),
                             1: ("offset", feature_properties)})
  slots = {0: ("offset", name), 1: ("offset", description),
           3: ("offset", content)}
  if files is not None:
    slots[6] = ("offset", files)
  return _table(builder, slots)


def _tokenizer_unit(builder, tokenizer):
  """A ProcessUnit naming the tokenizer file (SentencePiece or WordPiece)."""
  if tokenizer.file_type == VOCABULARY:
    # BertTokenizerOptions: vocab_file 0.
    files = _vector(builder, [_associated_file(
        builder, tokenizer.name, "WordPiece vocabulary.", VOCABULARY)])
    options, options_type = _table(builder, {0: ("offset", files)}), (
        _BERT_TOKENIZER)
  else:
    # SentencePieceTokenizerOptions: sentencePiece_model 0.
    files = _vector(builder, [_associated_file(
        builder, tokenizer.name, "SentencePiece model.", DESCRIPTIONS)])
    options, options_type = _table(builder, {0: ("offset", files)}), (
        _SENTENCE_PIECE_TOKENIZER)
  # ProcessUnit: options_type 0, options 1.
  return _table(builder, {0: ("ubyte", options_type),
                          1: ("offset", options)})


def model_metadata(name, description, inputs, outputs, tokenizer,
                   labels_file=None):
  """A ModelMetadata flatbuffer (file identifier "M001").

  Args:
    name: the model's (and its subgraph's) name.
    description: what the model does.
    inputs: [(tensor name, description)], in the subgraph's input order.
    outputs: [(tensor name, description)], in its output order.
    tokenizer: `TokenizerFile`, the subgraph's input process unit.
    labels_file: (optional) name of the outputs' TENSOR_AXIS_LABELS file.

  Returns:
    bytes.
  """
  builder = flatbuffers.Builder(1024)
  labels = ([(labels_file, "Class labels, one a line.", _TENSOR_AXIS_LABELS)]
            if labels_file else [])
  input_vector = _vector(builder, [_tensor_metadata(builder, *tensor)
                                   for tensor in inputs])
  output_vector = _vector(builder, [
      _tensor_metadata(builder, tensor_name, text, labels)
      for tensor_name, text in outputs])
  unit_vector = _vector(builder, [_tokenizer_unit(builder, tokenizer)])
  subgraph_name = builder.CreateString(name)
  # SubGraphMetadata: name 0, input_tensor_metadata 2,
  # output_tensor_metadata 3, input_process_units 5.
  subgraph = _table(builder, {0: ("offset", subgraph_name),
                              2: ("offset", input_vector),
                              3: ("offset", output_vector),
                              5: ("offset", unit_vector)})
  model_name = builder.CreateString(name)
  description = builder.CreateString(description)
  subgraphs = _vector(builder, [subgraph])
  license_text = builder.CreateString("Apache License 2.0")
  version = builder.CreateString(_MIN_PARSER_VERSION)
  # ModelMetadata: name 0, description 1, subgraph_metadata 3, license 5,
  # min_parser_version 7.
  root = _table(builder, {0: ("offset", model_name),
                          1: ("offset", description),
                          3: ("offset", subgraphs),
                          5: ("offset", license_text),
                          7: ("offset", version)})
  builder.Finish(root, file_identifier=METADATA_IDENTIFIER)
  return bytes(builder.Output())


def attach_metadata(model, metadata, files):
  """The model with its metadata buffer and associated files.

  Args:
    model: TFLite flatbuffer bytes (without metadata of ours).
    metadata: `model_metadata` bytes.
    files: [(name, bytes)] packed as a zip archive appended to the model
      (stored, not compressed, so a reader can map them in place).

  Returns:
    bytes.
  """
  model_object = flatbuffer_utils.convert_bytearray_to_object(model)
  buffer = schema.BufferT()
  buffer.data = np.frombuffer(metadata, dtype=np.uint8)
  model_object.buffers.append(buffer)
  entry = schema.MetadataT()
  entry.name = METADATA_NAME
  entry.buffer = len(model_object.buffers) - 1
  model_object.metadata = list(model_object.metadata or []) + [entry]
  packed = io.BytesIO()
  packed.write(flatbuffer_utils.convert_object_to_bytearray(model_object))
  # Append mode on bytes that are no zip adds an archive after them.
  with zipfile.ZipFile(packed, "a", compression=zipfile.ZIP_STORED) as zf:
    for name, data in files:
      zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)),
                  data)
  return packed.getvalue()


def read_metadata(model):
  """(metadata bytes or None, associated file names) of a TFLite model."""
  model_object = flatbuffer_utils.convert_bytearray_to_object(model)
  metadata = None
  for entry in model_object.metadata or []:
    name = entry.name.decode("utf-8") if isinstance(entry.name, bytes) else (
        entry.name)
    if name == METADATA_NAME:
      metadata = bytes(bytearray(model_object.buffers[entry.buffer].data))
  try:
    with zipfile.ZipFile(io.BytesIO(model)) as zf:
      names = zf.namelist()
  except zipfile.BadZipFile:
    names = []
  return metadata, names


def tokenizer_file(tokenizer, spm_model_file=None, vocab_file=None):
  """The tokenizer as a `TokenizerFile`, from the tokenizer itself.

  The SentencePiece model (any source, a hub module's too) keeps its file
  name (30k-clean.model by default); a WordPiece vocabulary is written one
  token a line in id order.
  """
  if tokenizer.sp_model is not None:
    name = "30k-clean.model"
    if spm_model_file and tf.io.gfile.exists(spm_model_file):
      name = os.path.basename(spm_model_file)
    return TokenizerFile(name, tokenizer.sp_model.serialized_model_proto(),
                         DESCRIPTIONS)
  tokens = [token for token, _ in sorted(tokenizer.vocab.items(),
                                         key=lambda item: item[1])]
  name = os.path.basename(vocab_file) if vocab_file else "vocab.txt"
  return TokenizerFile(name, ("\n".join(tokens) + "\n").encode("utf-8"),
                       VOCABULARY)
