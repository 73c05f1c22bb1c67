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
"""Turns a Hugging Face `transformers` ALBERT into a released-style model.

python -m albert.import_from_hf --hf_directory=albert-base-v2 \
    --export_path=albert_base

hf_directory holds config.json (model_type "albert"), the weights as
model.safetensors (or shards with model.safetensors.index.json) and the
sentencepiece model spiece.model: what export_to_hf writes, or a
downloaded model such as albert-base-v2. Only safetensors weights are read:
pytorch_model.bin needs PyTorch, which this package does not use.

export_path gets what the released archives hold:

  albert_config.json                   the config, in this package's keys
  model.ckpt-best.{index,data-*}       the weights, under the checkpoint
  checkpoint                           names (with a relative state file)
  30k-clean.model                      a copy of spiece.model

usable as --init_checkpoint, and by export_to_tfhub and export_to_hf. The
pretraining heads the weights have are kept (albert-base-v2 has the
masked-LM head but no sentence-order head); every tensor must map to a
variable of this model (hf_format.py), or nothing is written.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import json
import os
import struct
import tempfile

from absl import app
from absl import flags
import numpy as np
import tensorflow.compat.v1 as tf

from albert import command_line
from albert import export_utils
from albert import hf_format

ExportError = export_utils.ExportError

# Weight files of other frameworks, for the message when they are all there
# is.
_OTHER_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json",
                  "tf_model.h5", "flax_model.msgpack")

# The files of the model directory written, as far as known before writing
# (the checkpoint's data shards are named by TensorFlow); for overwrite's
# check of the files a user added to a previous one.
MODEL_FILES = (export_utils.CONFIG_NAME, export_utils.SPM_MODEL_NAME,
               "checkpoint", export_utils.DEFAULT_CHECKPOINT_NAME + ".index")

FLAG_DEFAULTS = command_line.define_flags([
    ("string", "hf_directory", None,
     "The transformers model directory: config.json, model.safetensors and "
     "spiece.model."),
    ("string", "export_path", None,
     "The model directory to create (albert_config.json, model.ckpt-best, "
     "30k-clean.model)."),
    ("bool", "overwrite_export_path", False,
     "Replace export_path if it holds a previous export; anything else "
     "there is an error. The old one is removed only after the new one is "
     "complete; files in it that the import did not write are kept."),
])

ImportSummary = collections.namedtuple(
    "ImportSummary",
    ["export_path", "hf_directory", "init_checkpoint", "heads",
     "num_variables", "num_parameters", "do_lower_case"])


def read_json(path, what):
  """A JSON object from a file; one-line errors naming it."""
  if not tf.gfile.Exists(path):
    raise ExportError("%s not found: %s" % (what, path))
  with tf.gfile.GFile(path, "rb") as f:
    data = f.read()
  try:
    value = json.loads(data.decode("utf-8"))
  except (UnicodeDecodeError, ValueError) as e:
    raise ExportError("%s %s is not valid JSON: %s" % (what, path, e))
  if not isinstance(value, dict):
    raise ExportError("%s %s must hold a JSON object" % (what, path))
  return value


def weight_files(directory):
  """The safetensors files of a model directory, sharded or not.

  Raises:
    ExportError: none there (naming the other frameworks' files found), or
      an index naming files that are missing.
  """
  single = os.path.join(directory, hf_format.WEIGHTS_NAME)
  if tf.gfile.Exists(single):
    return [single]
  index_file = os.path.join(directory, hf_format.WEIGHTS_INDEX_NAME)
  if tf.gfile.Exists(index_file):
    weight_map = read_json(index_file, "safetensors index").get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
      raise ExportError("safetensors index %s has no weight_map" % index_file)
    shards = [os.path.join(directory, name)
              for name in sorted(set(weight_map.values()))]
    missing = [path for path in shards if not tf.gfile.Exists(path)]
    if missing:
      raise ExportError("safetensors index %s names missing file(s): %s" %
                        (index_file, ", ".join(missing)))
    return shards
  others = [name for name in _OTHER_WEIGHTS
            if tf.gfile.Exists(os.path.join(directory, name))]
  if others:
    raise ExportError(
        "hf_directory %s has %s but no %s; only safetensors weights can be "
        "read (no PyTorch here): save the model with transformers' "
        "save_pretrained(..., safe_serialization=True) first" %
        (directory, " and ".join(others), hf_format.WEIGHTS_NAME))
  raise ExportError("hf_directory %s has no %s (nor %s)" %
                    (directory, hf_format.WEIGHTS_NAME,
                     hf_format.WEIGHTS_INDEX_NAME))


def _bfloat16_tensors(path):
  """{name: float32 array} of the bfloat16 tensors of a safetensors file.

  numpy has no bfloat16; its bits are the top half of a float32's.
  """
  with open(path, "rb") as f:
    (header_size,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(header_size).decode("utf-8"))
    start = 8 + header_size
    tensors = {}
    for name, info in header.items():
      if name == "__metadata__" or info.get("dtype") != "BF16":
        continue
      begin, end = info["data_offsets"]
      f.seek(start + begin)
      bits = np.frombuffer(f.read(end - begin), dtype="<u2")
      tensors[name] = (bits.astype("<u4") << 16).view("<f4").reshape(
          info["shape"])
  return tensors


def load_tensors(path):
  """{name: numpy array} of one safetensors file.

  Raises:
    ExportError: the file is not a readable safetensors file.
  """
  safetensors = hf_format.require_safetensors()
  if export_utils.is_remote(path):
    # safetensors reads local files only.
    handle, scratch = tempfile.mkstemp(suffix=".safetensors")
    os.close(handle)
    try:
      tf.gfile.Copy(path, scratch, overwrite=True)
      return load_tensors(scratch)
    finally:
      os.remove(scratch)
  try:
    return safetensors.numpy.load_file(path)
  except TypeError:
    pass  # bfloat16, which numpy cannot represent: read below.
  except (safetensors.SafetensorError, OSError, ValueError) as e:
    raise ExportError("%s is not a readable safetensors file: %s" %
                      (path, str(e).splitlines()[0] if str(e) else e))
  try:
    tensors = _bfloat16_tensors(path)
    with safetensors.safe_open(path, framework="np") as f:
      for name in f.keys():
        if name not in tensors:
          tensors[name] = f.get_tensor(name)
  except (safetensors.SafetensorError, OSError, ValueError, TypeError,
          KeyError) as e:
    raise ExportError("%s is not a readable safetensors file: %s" % (path, e))
  tf.logging.info("%s holds bfloat16 tensors; they are imported as float32",
                  path)
  return tensors


def load_all_tensors(paths):
  """{name: array} of every file; a name in two shards is an error."""
  tensors = collections.OrderedDict()
  for path in paths:
    for name, value in load_tensors(path).items():
      if name in tensors:
        raise ExportError("tensor %s is in more than one weights file (%s)" %
                          (name, path))
      tensors[name] = value
  return tensors


def write_checkpoint(albert_config, variables, include_mlm, include_sop,
                     checkpoint_path):
  """Saves the variables under their names, with a relative state file.

  The model (and heads) is built so that the checkpoint holds exactly the
  variables, names and shapes the other commands build and restore.

  Args:
    albert_config: `AlbertConfig`.
    variables: {checkpoint name: float32 array}.
    include_mlm: build the masked-LM head.
    include_sop: build the sentence-order head.
    checkpoint_path: the prefix to write, e.g. <dir>/model.ckpt-best.
  """
  with tf.Graph().as_default():
    tvars = hf_format.build_model_variables(albert_config, include_mlm,
                                            include_sop)
    by_name = collections.OrderedDict((v.op.name, v) for v in tvars)
    if set(by_name) != set(variables):
      # hf_format.from_hf_tensors built its list from the same graph.
      raise ExportError("internal error: variables %s do not match the "
                        "model's" % hf_format.name_list(
                            set(by_name) ^ set(variables)))
    # Relative paths: the state file must stay right after the staged
    # directory is renamed into place.
    saver = tf.train.Saver(var_list=by_name, save_relative_paths=True)
    with tf.Session() as sess:
      for name, value in variables.items():
        by_name[name].load(value, sess)
      saver.save(sess, checkpoint_path, write_meta_graph=False)


def import_from_hf(hf_directory, export_path, overwrite=False):
  """Writes a released-style model directory; see the module docstring.

  Args:
    hf_directory: the transformers model directory.
    export_path: the directory to create.
    overwrite: replace export_path if it holds a previous export.

  Returns:
    `ImportSummary`.

  Raises:
    ExportError: one line, nothing written: not an ALBERT config, missing
      weights or tokenizer, tensors that do not map or fit, an export_path
      that is (or holds) the input, or a failed write.
  """
  # Before any work: without it no weights can be read.
  hf_format.require_safetensors()
  if not hf_directory:
    raise ExportError("no hf_directory given")
  if not tf.gfile.IsDirectory(hf_directory):
    raise ExportError("hf_directory %s %s; expected a transformers model "
                      "directory" % (hf_directory,
                                     "is a file" if tf.gfile.Exists(
                                         hf_directory) else "not found"))
  if not export_path or not export_path.rstrip("/"):
    raise ExportError("export_path %r is empty or the filesystem root; "
                      "expected a directory to create" % (export_path,))
  export_path = export_path.rstrip("/")
  if not export_utils.is_remote(export_path):
    export_path = os.path.abspath(export_path)
  export_utils.check_export_path_clear_of_inputs(
      export_path, [("hf_directory", hf_directory)])

  config_file = os.path.join(hf_directory, hf_format.HF_CONFIG_NAME)
  config = hf_format.albert_config_from_hf(
      read_json(config_file, "transformers config"), config_file)
  spm_model_file = os.path.join(hf_directory, hf_format.HF_SPM_NAME)
  if not tf.gfile.Exists(spm_model_file):
    raise ExportError(
        "hf_directory %s has no %s; the model needs its sentencepiece model "
        "(a tokenizer.json alone cannot be converted)" %
        (hf_directory, hf_format.HF_SPM_NAME))
  export_utils.check_vocabulary(config, spm_model_file, None)
  paths = weight_files(hf_directory)
  tensors = load_all_tensors(paths)
  source = paths[0] if len(paths) == 1 else os.path.join(
      hf_directory, hf_format.WEIGHTS_INDEX_NAME)
  variables, include_mlm, include_sop = hf_format.from_hf_tensors(
      config, tensors, source)
  del tensors

  do_lower_case = None
  tokenizer_config_file = os.path.join(hf_directory,
                                       hf_format.TOKENIZER_CONFIG_NAME)
  if tf.gfile.Exists(tokenizer_config_file):
    do_lower_case = read_json(tokenizer_config_file,
                              "tokenizer config").get("do_lower_case")

  inputs = [("transformers config", config_file),
            ("sentencepiece model", spm_model_file)]
  inputs += [("weights file", path) for path in paths]
  with export_utils.staged_export(export_path, inputs, overwrite,
                                  "model directory",
                                  expected_files=MODEL_FILES) as staged:
    tf.gfile.MakeDirs(staged)
    with tf.gfile.GFile(os.path.join(staged, export_utils.CONFIG_NAME),
                        "w") as f:
      f.write(config.to_json_string())
    tf.gfile.Copy(spm_model_file,
                  os.path.join(staged, export_utils.SPM_MODEL_NAME))
    write_checkpoint(config, variables, include_mlm, include_sop,
                     os.path.join(staged,
                                  export_utils.DEFAULT_CHECKPOINT_NAME))

  heads = [name for name, present in (("masked-LM", include_mlm),
                                      ("sentence-order", include_sop))
           if present]
  return ImportSummary(
      export_path=export_path,
      hf_directory=hf_directory,
      init_checkpoint=os.path.join(export_path,
                                   export_utils.DEFAULT_CHECKPOINT_NAME),
      heads=heads,
      num_variables=len(variables),
      num_parameters=int(sum(v.size for v in variables.values())),
      do_lower_case=do_lower_case)


def format_summary(summary):
  """A few lines for people: where, what heads, how to tokenize."""
  lines = ["Imported %s to %s" % (summary.hf_directory, summary.export_path),
           "  checkpoint %s: %d variables, %d parameters" % (
               summary.init_checkpoint, summary.num_variables,
               summary.num_parameters),
           "  pretraining heads: %s" % (", ".join(summary.heads) or
                                        "none (encoder only)")]
  if summary.do_lower_case is not None:
    lines.append("  tokenizer_config.json: do_lower_case=%s (pass the same "
                 "--do_lower_case to the other commands)" %
                 summary.do_lower_case)
  return "\n".join(lines)


def run(options):
  """Imports from flag-like options (FLAGS, or `default_options(...)`)."""
  for name in ("hf_directory", "export_path"):
    if not getattr(options, name):
      raise ExportError("--%s is required" % name)
  command_line.check_numeric_flags(options)
  return import_from_hf(options.hf_directory, options.export_path,
                        overwrite=options.overwrite_export_path)


default_options = command_line.default_options_of(FLAG_DEFAULTS)


main = export_utils.cli_main(run, format_summary)


if __name__ == "__main__":
  flags.mark_flag_as_required("hf_directory")
  flags.mark_flag_as_required("export_path")
  app.run(main)
