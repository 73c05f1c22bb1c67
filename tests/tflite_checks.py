# coding=utf-8
"""Checks of a .tflite file against the TFLite Task Library's contract.

Shared by tflite_export_test, run_squad_test and run_classifier_test: the
inputs and outputs `tf.lite.Interpreter` sees (names, dtypes, shapes, in
order), builtin ops only, and the metadata and packed files the Task
Library reads.
"""

import io
import zipfile

import numpy as np

import tensorflow.compat.v1 as tf
from albert import tflite_export
from albert import tflite_metadata

INPUT_NAMES = ["ids", "mask", "segment_ids"]


def check_contract(path, seq_length, outputs, packed):
  """Asserts the contract; returns the model's bytes.

  Args:
    path: the .tflite file.
    seq_length: S of the [1, S] inputs.
    outputs: [(name, shape)] in the model's output order.
    packed: the file names the zip at the end of the model holds.
  """
  with open(path, "rb") as f:
    model = f.read()
  interpreter = tf.lite.Interpreter(model_path=path)
  interpreter.allocate_tensors()
  inputs = interpreter.get_input_details()
  assert [d["name"] for d in inputs] == INPUT_NAMES
  for detail in inputs:
    assert detail["dtype"] == np.int32
    assert list(detail["shape"]) == [1, seq_length]
    assert list(detail["shape_signature"]) == [1, seq_length]
  got = [(d["name"], list(d["shape"])) for d in
         interpreter.get_output_details()]
  assert got == [(name, list(shape)) for name, shape in outputs]
  assert all(d["dtype"] == np.float32
             for d in interpreter.get_output_details())
  # No custom op, so nothing the Flex delegate would have to run.
  assert tflite_export.non_builtin_ops(model) == []
  assert not [n for n in tflite_export.operator_names(model)
              if n is None or n.startswith("Flex")]
  metadata, names = tflite_metadata.read_metadata(model)
  assert metadata[4:8] == b"M001"
  for name in INPUT_NAMES + [name for name, _ in outputs] + packed:
    assert name.encode("utf-8") in metadata, name
  assert sorted(names) == sorted(packed)
  return model


def packed_file(model, name):
  """The bytes of a file packed at the end of a TFLite model."""
  with zipfile.ZipFile(io.BytesIO(model)) as zf:
    return zf.read(name)


def run_batch(path, arrays):
  """Runs a .tflite file on {input name: [N, S]}; {output: [N, ...]}."""
  return tflite_export.run_model(path, {
      name: np.asarray(value, np.int32) for name, value in arrays.items()})
