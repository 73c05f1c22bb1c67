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
"""TFLite models the TFLite Task Library runs, from an exported SavedModel.

run_squad_v1 and run_classifier call `export_squad` and `export_classifier`
after writing their SavedModel; the .tflite files go beside it in
--export_dir:

  albert_model.tflite        SQuAD, the Task Library's BertQuestionAnswerer
  albert_classifier.tflite   GLUE, its BertNLClassifier
  <name>.int8.tflite         with --quantize=dynamic, when it agrees
  30k-clean.model            the tokenizer (or vocab.txt for WordPiece)

The contract (what the Task Library looks up): builtin ops only (nothing
that needs the Flex delegate: such a graph fails here, at export), int32
inputs `ids`, `mask`, `segment_ids` of shape [1, max_seq_length], and
outputs `end_logits`, `start_logits` [1, max_seq_length] (in that order:
without metadata the Task Library takes output 0 as the end logits) or
`probability` [1, num_labels] (the name BertNLClassifier looks for; for
STS-B the one score). The release named the inputs input_ids, input_mask
and segment_ids. Every file carries TFLite metadata (the flatbuffer
"TFLITE_METADATA", schema "M001": tensor names, the tokenizer as an input
process unit) with the tokenizer (and the classifier's labels.txt) packed as
a zip archive at the end of the file, which is where the Task Library's
metadata-only factories find them; the tokenizer is also written beside the
file for the two-file factories (CreateAlbertQuestionAnswererFromFile).

--quantize=dynamic also writes dynamic-range int8 weights and checks them
on (at most MAX_CHECK_FEATURES of) the run's own dev or predict features,
batch 1 in tf.lite.Interpreter, against the float32 TFLite model: the same
argmax for at least MIN_SAME_ARGMAX of a classifier's examples (a
regression's score within REGRESSION_TOLERANCE), and SQuAD answers whose
F1 is at most MAX_F1_DROP points below the float32 answers' F1 (against the
gold answers, or the float32 answers themselves for a file without
answers). The int8 file is written only when it agrees; otherwise the
export fails with `AgreementError` (one line on the command line).

Not here: the metadata flatbuffer and packed files (tflite_metadata), the
SavedModel (estimators.export_saved_model), the features (the tasks),
SQuAD post-processing and metrics (squad_utils, squad_metrics).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import os

import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.lite.python import convert_phase
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from albert import file_io
from albert import progress
from albert import squad_metrics
from albert import squad_utils
from albert import tflite_metadata

QUANTIZE_VALUES = ("none", "dynamic")

# The SavedModel's input names and the Task Library's, in input order.
INPUTS = (("input_ids", "ids"), ("input_mask", "mask"),
          ("segment_ids", "segment_ids"))

# What the agreement check reads and demands (module level, so a test can
# tighten them).
MAX_CHECK_FEATURES = 200
MIN_SAME_ARGMAX = 0.99
REGRESSION_TOLERANCE = 0.1
MAX_F1_DROP = 1.0

# The Task Library's BertQuestionAnswerer pads every question to this.
TASK_LIBRARY_QA_SEQ_LENGTH = 384

# A Task Library contract: the API, its outputs as (SavedModel output key,
# TFLite name, description), and the model's description.
Contract = collections.namedtuple(
    "Contract", ["task_library", "outputs", "description"])

SQUAD = Contract(
    "BertQuestionAnswerer",
    (("end_log_prob", "end_logits", "End logits of the answer span."),
     ("start_log_prob", "start_logits",
      "Start logits of the answer span.")),
    "ALBERT fine-tuned on SQuAD v1.1: start and end logits of the answer "
    "span in the paragraph.")

CLASSIFIER = Contract(
    "BertNLClassifier",
    (("probabilities", "probability",
      "Class probabilities (a regression task: the predicted score)."),),
    "ALBERT fine-tuned for sentence (pair) classification.")

_INPUT_DESCRIPTIONS = {
    "ids": "Token ids: [CLS] first [SEP] (second [SEP]), zero-padded.",
    "mask": "1 for real tokens, 0 for padding.",
    "segment_ids": "0 for the first segment, 1 for the second.",
}


class AgreementError(ValueError):
  """The int8 model disagrees with the float32 one (a ValueError, so the
  command ends in one line)."""


def quantize_flag_spec():
  """--quantize, as a `command_line.define_flags` spec."""
  return ("enum", "quantize", "none",
          "With --export_dir, also write the TFLite model with dynamic-range "
          "int8 weights (<name>.int8.tflite) and check it on up to %d of the "
          "run's dev or predict features against the float32 TFLite model "
          "(classifier: >= %d%% same argmax; SQuAD: F1 at most %g point "
          "lower); it is written only when it agrees. none: float32 only." %
          (MAX_CHECK_FEATURES, round(MIN_SAME_ARGMAX * 100), MAX_F1_DROP),
          {"enum_values": list(QUANTIZE_VALUES)})


def check_quantize_flag(options, has_check_features, features_flags):
  """Fails on a --quantize the run cannot honour.

  Args:
    options: the command's options (quantize, export_dir).
    has_check_features: the run reads features the check can use.
    features_flags: the flags that give them, for the message.

  Raises:
    ValueError: naming the flag.
  """
  quantize = getattr(options, "quantize", "none")
  if quantize not in QUANTIZE_VALUES:
    raise ValueError("--quantize=%s: expected one of %s" %
                     (quantize, ", ".join(QUANTIZE_VALUES)))
  if quantize == "none":
    return
  if not options.export_dir:
    raise ValueError("--quantize=%s quantizes the TFLite export: pass "
                     "--export_dir" % quantize)
  if not has_check_features:
    raise ValueError(
        "--quantize=%s checks the int8 model on the run's own features: "
        "pass %s" % (quantize, features_flags))


def int8_name(file_name):
  """albert_model.tflite -> albert_model.int8.tflite."""
  root, extension = os.path.splitext(file_name)
  return root + ".int8" + extension


# Conversion ----------------------------------------------------------------


def serving_signature(saved_model_dir):
  """The serving signature's tensor names, read from saved_model.pb.

  Returns:
    (inputs, outputs): dicts of signature key -> graph tensor name
    (without ":0").
  """
  saved_model = saved_model_pb2.SavedModel()
  with tf.io.gfile.GFile(os.path.join(saved_model_dir, "saved_model.pb"),
                         "rb") as f:
    saved_model.ParseFromString(f.read())
  for meta_graph in saved_model.meta_graphs:
    if "serve" in meta_graph.meta_info_def.tags:
      signature = meta_graph.signature_def["serving_default"]
      return tuple({key: info.name.split(":")[0]
                    for key, info in tensors.items()}
                   for tensors in (signature.inputs, signature.outputs))
  raise ValueError("%s has no meta graph tagged 'serve'" % saved_model_dir)


def convert(saved_model_dir, max_seq_length, contract, quantize=False):
  """The SavedModel as a TFLite flatbuffer in the contract's names.

  Args:
    saved_model_dir: an `estimators.export_saved_model` export.
    max_seq_length: S; the inputs become [1, S].
    contract: SQUAD or CLASSIFIER.
    quantize: dynamic-range int8 weights (no representative dataset).

  Returns:
    bytes: builtin ops only, tensors renamed (see `rename_tensors`).

  Raises:
    ValueError: the graph needs ops that are not TFLite builtins.
  """
  inputs, outputs = serving_signature(saved_model_dir)
  converter = tf.lite.TFLiteConverter.from_saved_model(
      saved_model_dir,
      input_shapes={name: [1, max_seq_length] for name, _ in INPUTS},
      output_arrays=[outputs[key] for key, _, _ in contract.outputs])
  # No SELECT_TF_OPS: a model that would need the Flex delegate (which the
  # Task Library does not link) fails here rather than on a phone.
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
  if quantize:
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  try:
    model = converter.convert()
  except convert_phase.ConverterError as e:
    raise ValueError(
        "TFLite conversion of %s with builtin ops only failed (the graph "
        "needs ops TFLite lacks): %s" % (
            saved_model_dir, str(e).strip().splitlines()[0]))
  model = rename_tensors(
      model, [(inputs[key], name) for key, name in INPUTS],
      [(outputs[key], name) for key, name, _ in contract.outputs])
  others = non_builtin_ops(model)
  if others:
    raise ValueError("the TFLite model of %s needs ops that are not TFLite "
                     "builtins: %s" % (saved_model_dir, ", ".join(others)))
  return model


def _tensor_name(tensor):
  name = tensor.name
  return name.decode("utf-8") if isinstance(name, bytes) else name


def rename_tensors(model, inputs, outputs):
  """Renames the subgraph's inputs and outputs, in the given order.

  Args:
    model: TFLite flatbuffer bytes.
    inputs: [(current name, new name)], the new input order.
    outputs: [(current name, new name)], the new output order.

  Returns:
    bytes.

  Raises:
    ValueError: a name is not among the subgraph's inputs or outputs.
  """
  model_object = flatbuffer_utils.convert_bytearray_to_object(model)
  subgraph = model_object.subgraphs[0]
  for attribute, renames in (("inputs", inputs), ("outputs", outputs)):
    indexes = {_tensor_name(subgraph.tensors[i]): i
               for i in getattr(subgraph, attribute)}
    missing = [old for old, _ in renames if old not in indexes]
    if missing or len(renames) != len(indexes):
      raise ValueError("TFLite %s are %s; expected %s" % (
          attribute, sorted(indexes), [old for old, _ in renames]))
    for old, new in renames:
      subgraph.tensors[indexes[old]].name = new
    setattr(subgraph, attribute, [indexes[old] for old, _ in renames])
  return flatbuffer_utils.convert_object_to_bytearray(model_object)


def operator_names(model):
  """The model's operator codes: builtin names, custom ops' own names."""
  model_object = flatbuffer_utils.convert_bytearray_to_object(model)
  names = []
  for index, code in enumerate(model_object.operatorCodes):
    if code.customCode is not None:
      custom = code.customCode
      names.append(custom.decode("utf-8") if isinstance(custom, bytes)
                   else custom)
    else:
      names.append(flatbuffer_utils.opcode_to_name(model_object, index))
  return names


def non_builtin_ops(model):
  """Custom and Flex ops (FlexXxx) of a TFLite model: [] for builtins only."""
  model_object = flatbuffer_utils.convert_bytearray_to_object(model)
  return sorted(set(
      name for name, code in zip(operator_names(model),
                                 model_object.operatorCodes)
      if code.customCode is not None or
      max(code.builtinCode, code.deprecatedBuiltinCode) ==
      schema.BuiltinOperator.CUSTOM))


# Export and the int8 check -------------------------------------------------

# The float32 model as written, the int8 one (None without
# --quantize=dynamic) until its check passes, and how many of each file's
# bytes are the packed tokenizer and labels.
Exported = collections.namedtuple(
    "Exported", ["path", "model", "int8_path", "int8_model", "packed_bytes"])


def _packed_files(tokenizer, labels):
  files = [(tokenizer.name, tokenizer.data)]
  if labels:
    files.append(("labels.txt", ("\n".join(labels) + "\n").encode("utf-8")))
  return files


def _with_metadata(model, contract, tokenizer, labels):
  metadata = tflite_metadata.model_metadata(
      "ALBERT " + contract.task_library, contract.description,
      [(name, _INPUT_DESCRIPTIONS[name]) for _, name in INPUTS],
      [(name, text) for _, name, text in contract.outputs], tokenizer,
      "labels.txt" if labels else None)
  return tflite_metadata.attach_metadata(model, metadata,
                                         _packed_files(tokenizer, labels))


def export(saved_model_dir, export_dir, file_name, contract, max_seq_length,
           tokenizer, quantize="none", labels=None):
  """Writes the float32 TFLite model and the tokenizer into export_dir.

  Args:
    saved_model_dir: the SavedModel to convert.
    export_dir: where the files go.
    file_name: the float32 model's file name.
    contract: SQUAD or CLASSIFIER.
    max_seq_length: S.
    tokenizer: `tflite_metadata.TokenizerFile`, written beside the model
      and packed in it.
    quantize: "dynamic" also converts with int8 weights (kept in memory:
      `finish_int8` writes it once checked).
    labels: (optional) class labels, packed as labels.txt.

  Returns:
    `Exported`.
  """
  path = os.path.join(export_dir, file_name)
  model = _with_metadata(convert(saved_model_dir, max_seq_length, contract),
                         contract, tokenizer, labels)
  file_io.atomic_write_bytes(path, model)
  file_io.atomic_write_bytes(os.path.join(export_dir, tokenizer.name),
                             tokenizer.data)
  progress.log_progress(
      "wrote TFLite model %s (%s; builtin ops only) and its tokenizer %s",
      path, contract.task_library, tokenizer.name)
  int8_path = os.path.join(export_dir, int8_name(file_name))
  int8_model = None
  if quantize == "dynamic":
    int8_model = _with_metadata(
        convert(saved_model_dir, max_seq_length, contract, quantize=True),
        contract, tokenizer, labels)
  else:
    file_io.remove_stale_result(int8_path, "this export is not quantized")
  return Exported(path, model, int8_path, int8_model, sum(
      len(data) for _, data in _packed_files(tokenizer, labels)))


def _size(num_bytes):
  if num_bytes >= 1 << 20:
    return "%.1f MB" % (num_bytes / float(1 << 20))
  return "%.1f KB" % (num_bytes / 1024.0)


def finish_int8(exported, agrees, agreement):
  """Writes the int8 model if it agrees; else fails in one line.

  Args:
    exported: `Exported` with an int8 model.
    agrees: whether the check passed.
    agreement: the check's summary line.

  Raises:
    AgreementError: it does not agree; no int8 file is left in export_dir
      (a previous run's is removed), the float32 one stays.
  """
  if not agrees:
    file_io.remove_stale_result(exported.int8_path,
                                "this export's int8 model disagrees")
    raise AgreementError("%s: the int8 TFLite model disagrees with the "
                         "float32 one; %s not written (%s is)" % (
                             agreement, os.path.basename(exported.int8_path),
                             os.path.basename(exported.path)))
  progress.log_progress("%s", agreement)
  file_io.atomic_write_bytes(exported.int8_path, exported.int8_model)
  float_model, int8_model = (len(exported.model) - exported.packed_bytes,
                             len(exported.int8_model) - exported.packed_bytes)
  progress.log_progress(
      "TFLite sizes: %s %s (float32), %s %s (dynamic-range int8); without "
      "the %s of packed tokenizer/labels %s and %s (%.0f%%)",
      os.path.basename(exported.path), _size(len(exported.model)),
      os.path.basename(exported.int8_path), _size(len(exported.int8_model)),
      _size(exported.packed_bytes), _size(float_model), _size(int8_model),
      100.0 * int8_model / float_model)


def run_model(model, inputs):
  """Runs a TFLite model in tf.lite.Interpreter, one example at a time.

  Args:
    model: the flatbuffer (bytes) or a .tflite path.
    inputs: {input name: integer [N, S]} (fed as int32).

  Returns:
    {output name: [N, ...] array}, the batch axis of 1 dropped per example.
  """
  if isinstance(model, bytes):
    interpreter = tf.lite.Interpreter(model_content=model)
  else:
    interpreter = tf.lite.Interpreter(model_path=model)
  interpreter.allocate_tensors()
  input_details = interpreter.get_input_details()
  output_details = interpreter.get_output_details()
  count = len(next(iter(inputs.values())))
  results = {detail["name"]: [] for detail in output_details}
  for i in range(count):
    for detail in input_details:
      interpreter.set_tensor(detail["index"], np.asarray(
          inputs[detail["name"]][i:i + 1], dtype=np.int32))
    interpreter.invoke()
    for detail in output_details:
      results[detail["name"]].append(
          interpreter.get_tensor(detail["index"])[0])
  return {name: np.array(values) for name, values in results.items()}


def read_inputs(record_path, limit):
  """The first `limit` records of a features TFRecord, as TFLite inputs.

  Returns:
    ({"ids", "mask", "segment_ids": int32 [N, S]}, unique_ids: the records'
    "unique_ids" (SQuAD), [] when they have none).
  """
  columns = {name: [] for _, name in INPUTS}
  unique_ids = []
  for record in tf.io.tf_record_iterator(record_path):
    if len(columns["ids"]) >= limit:
      break
    feature = tf.train.Example.FromString(record).features.feature
    for key, name in INPUTS:
      columns[name].append(list(feature[key].int64_list.value))
    if "unique_ids" in feature:
      unique_ids.append(int(feature["unique_ids"].int64_list.value[0]))
  return ({name: np.array(values, dtype=np.int32)
           for name, values in columns.items()}, unique_ids)


def export_classifier(saved_model_dir, options, tokenizer, file_name, labels,
                      regression, check_features):
  """run_classifier's TFLite export (BertNLClassifier) and int8 check.

  Args:
    saved_model_dir: the classifier's SavedModel.
    options: the command's options (export_dir, max_seq_length, quantize,
      spm_model_file, vocab_file).
    tokenizer: the run's `tokenization.FullTokenizer`.
    file_name: the float32 model's name.
    labels: the task's labels (packed as labels.txt unless regression).
    regression: STS-B: the output is the score.
    check_features: fn() -> (features TFRecord, data file it came from),
      called with --quantize=dynamic only.

  Returns:
    `Exported`.
  """
  exported = export(
      saved_model_dir, options.export_dir, file_name, CLASSIFIER,
      options.max_seq_length,
      tflite_metadata.tokenizer_file(tokenizer, options.spm_model_file,
                                     options.vocab_file),
      options.quantize, labels=None if regression else labels)
  if exported.int8_model is None:
    return exported
  record_path, data_path = check_features()
  inputs, _ = read_inputs(record_path, MAX_CHECK_FEATURES)
  name = CLASSIFIER.outputs[0][1]
  full = run_model(exported.model, inputs)[name]
  int8 = run_model(exported.int8_model, inputs)[name]
  if regression:
    same = np.abs(full[:, 0] - int8[:, 0]) <= REGRESSION_TOLERANCE
    what = "score within %g of" % REGRESSION_TOLERANCE
  else:
    same = full.argmax(-1) == int8.argmax(-1)
    what = "argmax as"
  share = float(np.mean(same))
  finish_int8(exported, share >= MIN_SAME_ARGMAX,
              "TFLite int8 agreement: %.1f%% of %d examples of %s give the "
              "same %s float32 (%.0f%% needed)" % (
                  100.0 * share, len(same), data_path, what,
                  100.0 * MIN_SAME_ARGMAX))
  return exported


def _whole_examples(features, limit):
  """How many leading features make whole questions, at most `limit`
  (or the first question's windows, however many)."""
  if len(features) <= limit:
    return len(features)
  count = limit
  while count > 0 and (features[count].example_index ==
                       features[count - 1].example_index):
    count -= 1
  if count == 0:
    while (count < len(features) and
           features[count].example_index == features[0].example_index):
      count += 1
  return count


def _squad_answers(logits, features, examples, n_best_size,
                   max_answer_length):
  """{question id: answer} of the questions whose windows are `features`."""
  results = [squad_utils.RawResult(unique_id=f.unique_id,
                                   start_log_prob=[float(x) for x in start],
                                   end_log_prob=[float(x) for x in end])
             for f, start, end in zip(features, logits["start_logits"],
                                      logits["end_logits"])]
  result_dict = {}
  squad_utils.accumulate_predictions_v1(result_dict, examples, features,
                                        results, n_best_size,
                                        max_answer_length)
  predictions, _ = squad_utils.write_predictions_v1(
      result_dict, examples, features, results, n_best_size,
      max_answer_length, None, None)
  asked = set(examples[f.example_index].qas_id for f in features)
  return {qid: text for qid, text in predictions.items() if qid in asked}


def _squad_f1(answers, dataset):
  """({precision: F1}, what it was measured against)."""
  if dataset is not None:
    asked = set(answers["float32"])
    subset = [{"paragraphs": [
        {"qas": [qa for qa in paragraph["qas"] if str(qa["id"]) in asked]}
        for paragraph in article["paragraphs"]]} for article in dataset]
    return ({precision: squad_metrics.evaluate_v1(subset, predicted)["f1"]
             for precision, predicted in answers.items()},
            "the gold answers")
  reference = answers["float32"]

  def f1(predicted):
    # Equal texts score 1 even when normalisation leaves nothing to count.
    return 100.0 * np.mean([
        1.0 if predicted[q] == reference[q] else
        squad_metrics.f1_score(predicted[q], reference[q])
        for q in reference])

  return ({precision: f1(predicted)
           for precision, predicted in answers.items()},
          "the float32 answers")


def export_squad(saved_model_dir, options, tokenizer, file_name, check_data):
  """run_squad_v1's TFLite export (BertQuestionAnswerer) and int8 check.

  Args:
    saved_model_dir: the SQuAD v1 SavedModel.
    options: the command's options (export_dir, max_seq_length, quantize,
      spm_model_file, n_best_size, max_answer_length, predict_file).
    tokenizer: the run's `tokenization.FullTokenizer`.
    file_name: the float32 model's name.
    check_data: fn() -> (features TFRecord, their host-side features,
      the examples, the parsed dataset or None without answers), called
      with --quantize=dynamic only.

  Returns:
    `Exported`.
  """
  o = options
  if o.max_seq_length != TASK_LIBRARY_QA_SEQ_LENGTH:
    tf.logging.warning(
        "The TFLite Task Library's BertQuestionAnswerer feeds %d tokens; "
        "this model takes --max_seq_length=%d (fine in tf.lite.Interpreter)",
        TASK_LIBRARY_QA_SEQ_LENGTH, o.max_seq_length)
  exported = export(
      saved_model_dir, o.export_dir, file_name, SQUAD, o.max_seq_length,
      tflite_metadata.tokenizer_file(tokenizer, o.spm_model_file,
                                     o.vocab_file), o.quantize)
  if exported.int8_model is None:
    return exported
  record_path, features, examples, dataset = check_data()
  features = features[:_whole_examples(features, MAX_CHECK_FEATURES)]
  inputs, unique_ids = read_inputs(record_path, len(features))
  if unique_ids != [f.unique_id for f in features]:
    raise ValueError("%s does not hold the features of %s in order; remove "
                     "it to have it written again" % (record_path,
                                                      o.predict_file))
  answers = {precision: _squad_answers(
      run_model(model, inputs), features, examples, o.n_best_size,
      o.max_answer_length) for precision, model in (
          ("float32", exported.model), ("int8", exported.int8_model))}
  f1, reference = _squad_f1(answers, dataset)
  finish_int8(exported, f1["int8"] >= f1["float32"] - MAX_F1_DROP,
              "TFLite int8 agreement: F1 %.2f (int8) vs %.2f (float32) "
              "against %s of %d questions (%d windows) of %s; at most %g "
              "lower allowed" % (f1["int8"], f1["float32"], reference,
                                 len(answers["float32"]), len(features),
                                 o.predict_file, MAX_F1_DROP))
  return exported
