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
"""Running and quantizing ALBERT's ONNX models with ONNX Runtime.

  require_onnx()            the onnx and onnxruntime modules, or one line
                            saying how to install them (the optional
                            `pip install .[onnx]` extra)
  session(path_or_model)    an InferenceSession on the CPU
  run_onnx(model, input_ids, input_mask, segment_ids[, batch_size])
                            {output name: numpy array}
  quantize_int8(float_path, int8_path)
                            ONNX Runtime's dynamic int8 quantization

Neither onnx nor onnxruntime is imported before a function needs them, so
the rest of the package (and `--help`) works without the extra.

Not here: building the graph (onnx_graph), the export command and its
agreement check (export_to_onnx, onnx_check).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import importlib
import logging
import os

import numpy as np

INSTALL_HINT = "pip install .[onnx]"
# Dynamic quantization: activations are quantized per batch to uint8,
# weights ahead of time to this type. Signed weights with unsigned
# activations (U8S8) are what ONNX Runtime's x86 and ARM kernels are made
# for; on ALBERT-base they agreed with float32 as well as QUInt8 weights
# (mean cosine of pooled outputs 0.9992 both) and ran 1.8x as fast.
WEIGHT_TYPE = "QInt8"
# The ops whose constant weights are quantized: every dense layer (shared
# layers once) and the embedding lookups, whose tables are the largest
# tensors (Gather of an activation, the pooler's first token, stays float).
# The attention products (activations times activations) stay float.
QUANTIZED_OPS = ("MatMul", "Gemm", "Gather")


class OnnxMissingError(ValueError):
  """onnx or onnxruntime is not installed (a ValueError: one CLI line)."""


def require_onnx(command="export_to_onnx"):
  """(onnx, onnxruntime), imported now.

  Raises:
    OnnxMissingError: "<command> needs the onnx extra: pip install .[onnx]
      (no module named ...)".
  """
  try:
    return (importlib.import_module("onnx"),
            importlib.import_module("onnxruntime"))
  except ImportError as e:
    raise OnnxMissingError("%s needs the onnx extra: %s (%s)" %
                           (command, INSTALL_HINT, e))


def session(path_or_model, num_threads=None):
  """An onnxruntime.InferenceSession on the CPU.

  Args:
    path_or_model: a .onnx path, serialized bytes, an onnx.ModelProto or
      an InferenceSession (returned as is).
    num_threads: (optional) intra-op threads; default ONNX Runtime's.
  """
  _, ort = require_onnx()
  if isinstance(path_or_model, ort.InferenceSession):
    return path_or_model
  if hasattr(path_or_model, "SerializeToString"):
    path_or_model = path_or_model.SerializeToString()
  options = ort.SessionOptions()
  if num_threads:
    options.intra_op_num_threads = num_threads
  return ort.InferenceSession(path_or_model, sess_options=options,
                              providers=["CPUExecutionProvider"])


def _int32(name, value):
  """A 2-D int32 array of an input; rejects other shapes by name."""
  value = np.asarray(value)
  if value.ndim != 2:
    raise ValueError("%s must be 2-D [batch, sequence], got shape %s" %
                     (name, list(value.shape)))
  if not np.issubdtype(value.dtype, np.integer):
    raise ValueError("%s must hold integer ids, got dtype %s" %
                     (name, value.dtype))
  return value.astype(np.int32)


def run_onnx(path_or_session, input_ids, input_mask, segment_ids,
             batch_size=None):
  """Runs an exported model on numpy inputs.

  Args:
    path_or_session: what `session` takes (a session is reused as is).
    input_ids, input_mask, segment_ids: int [B, S] (int32 is what the
      model takes; other integer types are converted). For a RACE model
      [B, 4 * L].
    batch_size: (optional) run this many rows at a time and concatenate
      (bounded memory for long check sets).

  Returns:
    {output name: numpy array}: sequence_output [B, S, H], pooled_output
    [B, H] and the head's outputs (see onnx_graph).

  Raises:
    ValueError: inputs of other shapes than [B, S] or not alike.
  """
  arrays = [_int32(name, value) for name, value in zip(
      ("input_ids", "input_mask", "segment_ids"),
      (input_ids, input_mask, segment_ids))]
  if len(set(a.shape for a in arrays)) != 1:
    raise ValueError("input_ids, input_mask and segment_ids differ in "
                     "shape: %s" % ", ".join(str(list(a.shape))
                                             for a in arrays))
  sess = session(path_or_session)
  names = [o.name for o in sess.get_outputs()]
  step = batch_size or max(1, len(arrays[0]))
  parts = []
  for start in range(0, len(arrays[0]), step):
    feed = {name: a[start:start + step] for name, a in zip(
        ("input_ids", "input_mask", "segment_ids"), arrays)}
    parts.append(sess.run(names, feed))
  if not parts:
    raise ValueError("no rows to run: input_ids has batch size 0")
  return {name: np.concatenate([p[i] for p in parts])
          for i, name in enumerate(names)}


def quantize_int8(float_path, int8_path):
  """Writes ONNX Runtime's dynamic int8 quantization of a float model.

  MatMul and Gemm weights (the shared layers' once) become int8, the
  embedding tables uint8, each with a per-tensor scale; activations are
  quantized at run time (QUANTIZED_OPS, WEIGHT_TYPE). The file keeps the
  float model's producer name and properties, plus "quantization".

  Args:
    float_path: the float32 .onnx file.
    int8_path: the file to write (written directly: stage it yourself).

  Returns:
    int8_path.
  """
  onnx, _ = require_onnx()
  from onnxruntime import quantization  # pylint: disable=g-import-not-at-top
  root = logging.getLogger()
  quiet = _DropPreprocessingAdvice()
  # The quantizer advises its pre-processing tool through the root logger
  # on every call; for these graphs it changes nothing.
  root.addFilter(quiet)
  try:
    quantization.quantize_dynamic(
        float_path, int8_path, op_types_to_quantize=list(QUANTIZED_OPS),
        weight_type=getattr(quantization.QuantType, WEIGHT_TYPE))
  finally:
    root.removeFilter(quiet)
  # The quantizer writes its own producer name; the float model's (and its
  # albert_config and head) tell what the file is and let
  # --overwrite_export_path recognise it.
  source = onnx.load(float_path, load_external_data=False)
  model = onnx.load(int8_path)
  model.producer_name = source.producer_name
  props = {p.key: p.value for p in source.metadata_props}
  props["quantization"] = "dynamic int8 (onnxruntime %s, %s weights)" % (
      _onnxruntime_version(), WEIGHT_TYPE)
  onnx.helper.set_model_props(model, props)
  with open(int8_path, "wb") as f:
    f.write(model.SerializeToString())
  return int8_path


def _onnxruntime_version():
  _, ort = require_onnx()
  return ort.__version__


class _DropPreprocessingAdvice(logging.Filter):
  """Drops onnxruntime.quantization's "consider pre-processing" line."""

  def filter(self, record):
    return "pre-processing before quantization" not in record.getMessage()


def file_size(path):
  """Bytes of a local file."""
  return os.path.getsize(path)
