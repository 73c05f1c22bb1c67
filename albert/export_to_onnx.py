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
"""Exports an ALBERT checkpoint as an ONNX model (and its int8 version).

python -m albert.export_to_onnx --albert_directory=albert_base \
    --checkpoint_name=model.ckpt-best --export_path=albert_base.onnx

`albert_directory` is a released-style model directory (albert_config.json,
the checkpoint, 30k-clean.model) or a fine-tuning output_dir; the latter
has no albert_config.json, so give --albert_config_file. The model
(onnx_graph.py, opset 17) takes int32 input_ids, input_mask, segment_ids
[batch, sequence], both axes dynamic, and gives sequence_output [B, S, H]
and pooled_output [B, H]; --head adds a fine-tuned task head:

  classifier  logits, probabilities [B, C]   (run_classifier's
                                              output_weights/output_bias)
  squad       start_logits, end_logits [B, S] (run_squad_v1's cls/squad/*)
  race        choice_logits, probabilities [B, 4] from inputs [B, 4 * L],
              the choices one after the other as run_race's SavedModel
              takes them

SQuAD 2.0's head (a beam over starts and ends) is not exported.

--quantize=int8 also writes OUT.int8.onnx (export_path without ".onnx",
plus ".int8.onnx"): ONNX Runtime's dynamic quantization (int8 weights,
activations quantized at run time; onnx_runtime.quantize_int8). Both models
then run on --check_file (onnx_check.py says what each head takes) and the
int8 model must agree with the float32 one: else the command fails, in one
line giving the agreement, and writes nothing.

Both files are written under hidden temporary names beside export_path and
renamed into place only when the export (and the check) succeeded; a failed
or interrupted export leaves no file and changes no previous one. An
existing export_path is replaced only with --overwrite_export_path and only
if it is an ONNX model this command wrote; never is the checkpoint or any
other input replaced. Needs the optional extra: pip install .[onnx].
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import os

from absl import app
from absl import flags
import tensorflow.compat.v1 as tf

from albert import command_line
from albert import export_utils
from albert import file_io
from albert import hf_format
from albert import modeling
from albert import onnx_check
from albert import onnx_runtime
from albert import staging
from albert import tokenization

ExportError = export_utils.ExportError
# For other modules (benchmark): the runtime helpers, under this command.
quantize_int8 = onnx_runtime.quantize_int8
run_onnx = onnx_runtime.run_onnx
require_onnx = onnx_runtime.require_onnx
import_onnx = onnx_runtime.require_onnx  # (onnx, onnxruntime) or one line.

HEAD_CHOICES = ("none", "classifier", "squad", "race", "squad_v2")
INT8_SUFFIX = ".int8.onnx"

FLAG_DEFAULTS = command_line.define_flags([
    ("string", "albert_directory", None,
     "The model directory: a released model (albert_config.json, the "
     "checkpoint, 30k-clean.model) or a fine-tuning output_dir."),
    ("string", "checkpoint_name", export_utils.DEFAULT_CHECKPOINT_NAME,
     "Name of the checkpoint under albert_directory to be exported."),
    ("string", "albert_config_file", None,
     "The model's albert_config.json. Default: the one in albert_directory "
     "(a fine-tuning output_dir has none: give the pretrained model's)."),
    ("string", "export_path", None,
     "The .onnx file to write; with --quantize=int8 also <export_path "
     "without .onnx>.int8.onnx."),
    ("enum", "head", "none",
     "The task head to add to the encoder's outputs: classifier "
     "(run_classifier), squad (run_squad_v1) or race (run_race); the "
     "checkpoint must have it. squad_v2 is not supported.",
     {"enum_values": list(HEAD_CHOICES)}),
    ("enum", "quantize", "none",
     "int8: also write ONNX Runtime's dynamic int8 quantization, checked "
     "against the float32 model on --check_file.",
     {"enum_values": ["none", "int8"]}),
    ("string", "check_file", None,
     "What --quantize=int8 checks the int8 model on: texts, one per line "
     "or 'text_a ||| text_b' (no head, classifier); a SQuAD v1.1 JSON file "
     "with answers (squad); official RACE question files, a glob (race)."),
    ("string", "spm_model_file", None,
     "The sentencepiece model that tokenizes --check_file. Default: "
     "<albert_directory>/30k-clean.model, unless vocab_file is given."),
    ("string", "vocab_file", None,
     "A WordPiece vocab.txt, for models without a sentencepiece model."),
    ("bool", "do_lower_case", True, "Lower-case --check_file's texts."),
    ("integer", "max_seq_length", 128,
     "Length of --check_file's features (per choice for race); at most "
     "the model's max_position_embeddings."),
    ("integer", "max_query_length", 64, "SQuAD check: question pieces kept."),
    ("integer", "doc_stride", 128, "SQuAD check: stride between windows."),
    ("integer", "max_qa_length", 64,
     "RACE check: question + option pieces kept."),
    ("integer", "batch_size", 32, "Rows per ONNX Runtime run in the check."),
    ("bool", "overwrite_export_path", False,
     "Replace export_path (and its .int8.onnx) if they are ONNX models "
     "this command wrote; anything else there is an error. They are "
     "replaced only once the new ones are complete."),
])

OnnxExportSummary = collections.namedtuple(
    "OnnxExportSummary",
    ["export_path", "init_checkpoint", "head", "file_bytes",
     "parameter_bytes", "int8_path", "int8_bytes", "agreement",
     "unused_checkpoint_variables"])


def int8_path_for(export_path):
  """Where --quantize=int8 writes: "m.onnx" -> "m.int8.onnx"."""
  base = export_path[:-len(".onnx")] if export_path.endswith(
      ".onnx") else export_path
  return base + INT8_SUFFIX


def model_files(options):
  """(albert_directory, config file, checkpoint prefix) of the flags.

  Raises:
    ExportError: a required flag unset, a numeric flag out of range, the
      directory, config or checkpoint missing (naming the flag to give).
  """
  for name in ("albert_directory", "export_path"):
    if not getattr(options, name):
      raise ExportError("--%s is required" % name)
  command_line.check_numeric_flags(options)
  directory = options.albert_directory
  if not tf.gfile.IsDirectory(directory):
    raise ExportError("albert_directory %s is not a directory: expected a "
                      "model directory or fine-tuning output_dir" %
                      directory)
  config_file = options.albert_config_file or os.path.join(
      directory, export_utils.CONFIG_NAME)
  if not tf.gfile.Exists(config_file):
    raise ExportError(
        "%s not found%s" % (config_file, "" if options.albert_config_file
                            else " (a fine-tuning output_dir has no %s: "
                            "pass --albert_config_file, the pretrained "
                            "model's)" % export_utils.CONFIG_NAME))
  if not options.checkpoint_name:
    raise ExportError("--checkpoint_name is empty; expected a checkpoint in "
                      "albert_directory %s" % directory)
  try:
    checkpoint = export_utils.resolve_checkpoint(
        os.path.join(directory, options.checkpoint_name))
  except ExportError as e:
    raise ExportError("--checkpoint_name=%s: %s" % (options.checkpoint_name,
                                                    e))
  return directory, config_file, checkpoint


def _shape_text(shape):
  return "[%s]" % ", ".join(str(d) for d in shape)


def heads_present(stored, hidden_size):
  """Names of the task heads a checkpoint's {name: shape} holds."""
  found = []
  weights = stored.get("output_weights")
  if weights is not None and list(weights[1:]) == [hidden_size]:
    found.append("classifier" if weights[0] > 1 else
                 "classifier (one label: STS-B) or race")
  if "cls/squad/output_weights" in stored:
    found.append("squad")
  if any(name.startswith("start_logits/") for name in stored):
    found.append("squad_v2")
  return found


def _head_shapes(config, stored, head):
  """{name: shape} the head needs, its label count read from the checkpoint.

  Raises:
    ExportError: squad_v2 asked for, or the head is not in the checkpoint.
  """
  from albert import onnx_graph  # pylint: disable=g-import-not-at-top
  h = config.hidden_size
  if head == "squad_v2":
    raise ExportError(
        "--head=squad_v2 is not supported: the SQuAD 2.0 head (a beam over "
        "starts and ends, answer_class) has no ONNX export; export the "
        "encoder alone (--head=none)")
  num_labels = None
  if head == "classifier" and "output_weights" in stored:
    num_labels = int(stored["output_weights"][0])
  shapes = onnx_graph.expected_shapes(config, head, num_labels)
  head_names = [n for n in shapes if not n.startswith("bert/")]
  wrong = [n for n in head_names if n not in stored or
           list(stored[n]) != shapes[n]]
  if head_names and wrong:
    present = heads_present(stored, h)
    raise ExportError(
        "--head=%s: the checkpoint has no %s head: %s (it has %s)" %
        (head, head, "; ".join(
            "%s %s %s" % (n, _shape_text(shapes[n]),
                          "missing" if n not in stored else
                          "is %s" % _shape_text(stored[n]))
            for n in wrong),
         "the %s head" % " and ".join(present) if present else
         "no task head: export the encoder with --head=none"))
  return shapes


def read_weights(config, init_checkpoint, head=None):
  """The checkpoint's variables that the ONNX model needs, checked.

  Args:
    config: `AlbertConfig`.
    init_checkpoint: checkpoint prefix.
    head: None or one of HEAD_CHOICES.

  Returns:
    ({name: float32 array in the 2-D layout}, sorted unused names).

  Raises:
    ExportError: one line naming a missing or misshapen variable (with
      the shape the config needs) or a head not in the checkpoint.
  """
  reader = tf.train.load_checkpoint(init_checkpoint)
  stored = reader.get_variable_to_shape_map()
  shapes = _head_shapes(config, stored, head)
  missing = [n for n in shapes if n not in stored]
  if missing:
    raise ExportError(
        "init checkpoint %s lacks %s %s%s, which the config needs (is it "
        "this config's checkpoint?)" %
        (init_checkpoint, missing[0], _shape_text(shapes[missing[0]]),
         " and %d more" % (len(missing) - 1) if len(missing) > 1 else ""))
  weights = hf_format.read_variables(reader, shapes,
                                     "init checkpoint %s" % init_checkpoint,
                                     config.num_attention_heads)
  unused = sorted(n for n in stored if n not in weights)
  return weights, unused


def is_previous_export(path):
  """True if path is an ONNX model this command (onnx_graph) wrote."""
  onnx, _ = onnx_runtime.require_onnx()
  from albert import onnx_graph  # pylint: disable=g-import-not-at-top
  try:
    model = onnx.load(path, load_external_data=False)
  except Exception:  # pylint: disable=broad-except
    return False  # Not ONNX at all (protobuf raises several kinds).
  props = {p.key for p in model.metadata_props}
  return (model.producer_name == onnx_graph.PRODUCER_NAME and
          "albert_config" in props)


def check_output_path(path, overwrite, inputs, what="export_path"):
  """Fails unless path may be written (see the module docstring).

  Raises:
    ExportError: a remote path, a directory, an input of the export, or an
      existing file without --overwrite_export_path or not our export.
  """
  if export_utils.is_remote(path):
    raise ExportError("%s %s: ONNX models are written to local files only"
                      % (what, path))
  export_utils.check_export_path_clear_of_inputs(path, inputs)
  if os.path.isdir(path):
    raise ExportError("%s %s is a directory; expected the .onnx file to "
                      "write" % (what, path))
  if os.path.lexists(path):
    if not overwrite:
      raise ExportError("%s %s already exists; remove it or pass "
                        "--overwrite_export_path" % (what, path))
    if not is_previous_export(path):
      raise ExportError(
          "%s %s exists and is not an ONNX model written by export_to_onnx; "
          "--overwrite_export_path replaces only those. Remove it yourself "
          "or choose another export_path" % (what, path))


def remove_dead_leftovers(path):
  """Removes the hidden temporary files killed exports to path left."""
  parent, name = os.path.split(path)
  for entry in os.listdir(parent or "."):
    if staging.is_dead_runs(entry, target=name):
      staging.remove_file_quietly(os.path.join(parent, entry))


def _remove_stale_int8(export_path):
  """Removes the int8 model of an earlier quantized export to export_path.

  It would describe the earlier model beside this one. A file of that
  name that this command did not write is left alone.
  """
  stale = int8_path_for(export_path)
  if os.path.isfile(stale) and is_previous_export(stale):
    file_io.remove_stale_result(stale, "this export is not quantized")


def _write_model(model, path):
  """Serializes a ModelProto to a local file (under 2 GB: one protobuf)."""
  with open(path, "wb") as f:
    f.write(model.SerializeToString())


def _quantize_and_check(float_tmp, int8_tmp, head, checked, batch_size):
  """Writes the int8 model and compares it; its `Agreement`.

  Raises:
    ExportError: the models do not agree (the caller's staging then
      removes both files).
  """
  quantize_int8(float_tmp, int8_tmp)
  result = onnx_check.compare(head, checked, float_tmp, int8_tmp,
                              batch_size=batch_size)
  if not result.passed:
    raise ExportError("%s; the int8 model does not agree with the float32 "
                      "one, so nothing was written (export without "
                      "--quantize for the float32 model)" % result.line)
  return result


def export_onnx(albert_config, init_checkpoint, export_path, head=None,
                overwrite=False, quantize=None, checked=None, batch_size=32):
  """Writes the ONNX model (and its int8 version); see the module docstring.

  Args:
    albert_config: `AlbertConfig`, or the path of albert_config.json.
    init_checkpoint: checkpoint prefix (or a directory: its latest).
    export_path: the .onnx file to write.
    head: None, "classifier", "squad" or "race".
    overwrite: replace previous exports of this command.
    quantize: None or "int8".
    checked: with quantize, the `onnx_check.CheckSet` to compare on.
    batch_size: rows per run in the check.

  Returns:
    `OnnxExportSummary`.

  Raises:
    ExportError: bad inputs, a head not in the checkpoint, an unwritable
      or protected path, or an int8 model that does not agree; nothing is
      written then.
  """
  onnx_runtime.require_onnx()
  from albert import onnx_graph  # pylint: disable=g-import-not-at-top
  head = None if head in (None, "none") else head
  if quantize not in (None, "none", "int8"):
    raise ExportError("--quantize=%s: expected none or int8" % quantize)
  quantize = quantize if quantize == "int8" else None
  if quantize and checked is None:
    raise ExportError("--quantize=int8 needs --check_file: the int8 model "
                      "is written only once it agrees with the float32 one")
  export_path = export_utils.clean_export_path(export_path)
  config = export_utils.load_config(albert_config)
  init_checkpoint = export_utils.resolve_checkpoint(init_checkpoint)
  inputs = [(what, path) for what, path in export_utils.input_files(
      albert_config, None, init_checkpoint) if path]
  int8_path = int8_path_for(export_path) if quantize else None
  for what, path in [("export_path", export_path), ("int8 path", int8_path)]:
    if path:
      check_output_path(path, overwrite, inputs, what)
  weights, unused = read_weights(config, init_checkpoint, head)
  try:
    model = onnx_graph.build_model(config, weights, head)
  except ValueError as e:
    raise ExportError("cannot build the ONNX model: %s" % e)
  os.makedirs(os.path.dirname(export_path), exist_ok=True)
  result = None
  try:
    for path in (export_path, int8_path):
      if path:
        remove_dead_leftovers(path)
    with staging.staged_path(export_path) as float_tmp:
      _write_model(model, float_tmp)
      if quantize:
        with staging.staged_path(int8_path) as int8_tmp:
          result = _quantize_and_check(float_tmp, int8_tmp, head, checked,
                                       batch_size)
  except OSError as e:
    raise export_utils.write_failed(export_path, e)
  if not quantize:
    _remove_stale_int8(export_path)
  return OnnxExportSummary(
      export_path=export_path, init_checkpoint=init_checkpoint, head=head,
      file_bytes=os.path.getsize(export_path),
      parameter_bytes=onnx_graph.parameter_bytes(model),
      int8_path=int8_path,
      int8_bytes=os.path.getsize(int8_path) if int8_path else None,
      agreement=result, unused_checkpoint_variables=unused)


def size_text(num_bytes):
  """"46840387 bytes (46.8 MB)"."""
  return "%d bytes (%.1f MB)" % (num_bytes, num_bytes / 1e6)


def format_summary(summary):
  """The summary line (sizes), then the int8 file and its agreement."""
  lines = ["Exported ONNX model (%s, opset 17, int32 inputs) to %s: %s for "
           "%s of float32 parameters (%.2fx)" % (
               "encoder + %s head" % summary.head if summary.head
               else "encoder", summary.export_path,
               size_text(summary.file_bytes), size_text(summary.parameter_bytes),
               summary.file_bytes / float(max(summary.parameter_bytes, 1)))]
  if summary.int8_path:
    lines.append("  int8 model %s: %s (%.2fx the float32 file)" % (
        summary.int8_path, size_text(summary.int8_bytes),
        summary.int8_bytes / float(summary.file_bytes)))
    lines.append("  " + summary.agreement.line)
  lines.append("  from checkpoint %s" % summary.init_checkpoint)
  if summary.unused_checkpoint_variables:
    lines.append("  %d checkpoint variable(s) not exported (optimizer "
                 "slots, global_step, other heads)" %
                 len(summary.unused_checkpoint_variables))
  return "\n".join(lines)


def _check_set(options, directory, config, head):
  """The `onnx_check.CheckSet` of --check_file, or None without it."""
  if not options.check_file:
    return None
  spm_model_file = options.spm_model_file
  if not spm_model_file and not options.vocab_file:
    spm_model_file = os.path.join(directory, export_utils.SPM_MODEL_NAME)
  tokenizer_file = export_utils.check_vocabulary(config, spm_model_file,
                                                 options.vocab_file)
  tokenizer = tokenization.FullTokenizer(
      vocab_file=None if spm_model_file else tokenizer_file,
      do_lower_case=options.do_lower_case, spm_model_file=spm_model_file)
  # The default (128) must not fail a model with shorter positions.
  check_options = onnx_check.CheckOptions(
      min(options.max_seq_length, config.max_position_embeddings),
      options.max_query_length, options.doc_stride, options.max_qa_length,
      options.do_lower_case)
  return onnx_check.check_set(head, options.check_file, tokenizer,
                              check_options)


def run(options):
  """Exports from flag-like options (FLAGS, or `default_options(...)`).

  Returns:
    `OnnxExportSummary`.

  Raises:
    ValueError: one line (ExportError, OnnxMissingError, a bad check file).
  """
  onnx_runtime.require_onnx()
  directory, config_file, checkpoint = model_files(options)
  config = modeling.AlbertConfig.from_json_file(config_file)
  head = None if options.head == "none" else options.head
  if head == "squad_v2":
    _head_shapes(config, {}, head)  # Refuses it, in one line.
  quantize = None if options.quantize == "none" else options.quantize
  if options.check_file and not quantize:
    raise ExportError("--check_file is for --quantize=int8, which was not "
                      "given")
  checked = _check_set(options, directory, config, head) if quantize else None
  return export_onnx(config_file, checkpoint, options.export_path, head=head,
                     overwrite=options.overwrite_export_path,
                     quantize=quantize, checked=checked,
                     batch_size=options.batch_size)


default_options = command_line.default_options_of(FLAG_DEFAULTS)


main = export_utils.cli_main(run, format_summary)


if __name__ == "__main__":
  flags.mark_flag_as_required("albert_directory")
  flags.mark_flag_as_required("export_path")
  app.run(main)
