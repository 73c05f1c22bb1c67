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
"""Exports an ALBERT checkpoint as a Hugging Face `transformers` model.

python -m albert.export_to_hf --albert_directory=albert_base \
    --checkpoint_name=model.ckpt-best --export_path=hf/albert_base

`albert_directory` holds `albert_config.json`, the checkpoint and
`30k-clean.model`, as the released archives do. export_path gets

  config.json              transformers' AlbertConfig (model_type "albert")
  model.safetensors        the weights, named as transformers names them
  spiece.model             a copy of the sentencepiece model
  tokenizer_config.json    AlbertTokenizer's options (do_lower_case, ...)
  special_tokens_map.json  [CLS], [SEP], <unk>, <pad>, [MASK]

so that AlbertForPreTraining / AlbertModel / AlbertTokenizer
.from_pretrained(export_path) load it. Neither PyTorch nor transformers is
needed to write it.

The architecture follows the heads the checkpoint has: both pretraining
heads give AlbertForPreTraining; the masked-LM head alone (as in the
published albert-base-v2) AlbertForMaskedLM; none (a fine-tuned checkpoint:
its task head has no transformers name and is left out, with a log line)
AlbertModel, which transformers' other ALBERT classes also load, with
freshly initialised heads. --noinclude_heads exports the encoder alone
whatever the checkpoint has. See hf_format.py for the name mapping.

As every export here, the checkpoint is checked against the config before
anything is written, and the directory is written under a hidden name and
renamed into place only when complete.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import json
import os
import tempfile

from absl import app
from absl import flags
import numpy as np
import sentencepiece as spm
import tensorflow.compat.v1 as tf

from albert import command_line
from albert import export_utils
from albert import hf_format

ExportError = export_utils.ExportError

FLAG_DEFAULTS = command_line.define_flags([
    ("string", "albert_directory", None,
     "The directory where the ALBERT model (albert_config.json, the "
     "checkpoint and 30k-clean.model) resides."),
    ("string", "checkpoint_name", export_utils.DEFAULT_CHECKPOINT_NAME,
     "Name of the checkpoint under albert_directory to be exported."),
    ("string", "export_path", None,
     "The transformers model directory to create."),
    ("string", "spm_model_file", None,
     "The sentencepiece model to ship as spiece.model. Default: "
     "<albert_directory>/30k-clean.model."),
    ("bool", "do_lower_case", True,
     "The do_lower_case of tokenizer_config.json: whether the model "
     "expects lower-cased input (the released ALBERT models do)."),
    ("bool", "include_heads", True,
     "Export the pretraining heads the checkpoint has (AlbertForPreTraining "
     "or AlbertForMaskedLM). False exports the encoder alone "
     "(AlbertModel)."),
    ("bool", "overwrite_export_path", False,
     "Replace export_path if it holds a previous export; anything else "
     "there is an error. The old export is removed only after the new one "
     "is complete; files in it that the export did not write (a model "
     "card) are kept."),
])

# Every file the export writes, for overwrite's check of the files a user
# added to a previous export.
HF_FILES = (hf_format.WEIGHTS_NAME, hf_format.HF_CONFIG_NAME,
            hf_format.HF_SPM_NAME, hf_format.TOKENIZER_CONFIG_NAME,
            hf_format.SPECIAL_TOKENS_MAP_NAME)

HFExportSummary = collections.namedtuple(
    "HFExportSummary",
    ["export_path", "init_checkpoint", "architecture", "num_tensors",
     "num_parameters", "do_lower_case", "unused_checkpoint_variables"])


def special_token_ids(spm_model_file):
  """pad/bos/eos token ids of config.json, from the sentencepiece model.

  Raises:
    ExportError: the model lacks one of AlbertTokenizer's special tokens,
      naming them.
  """
  processor = spm.SentencePieceProcessor()
  try:
    processor.Load(spm_model_file)
  except (OSError, RuntimeError) as e:
    raise ExportError("spm_model_file %s cannot be loaded: %s" %
                      (spm_model_file, e))
  ids = {}
  missing = []
  for token in sorted(set(hf_format.SPECIAL_TOKENS.values())):
    token_id = processor.PieceToId(token)
    if processor.IdToPiece(token_id) != token:
      missing.append(token)
    ids[token] = token_id
  if missing:
    raise ExportError(
        "spm_model_file %s has no %s; transformers' AlbertTokenizer needs "
        "%s as pieces of the model" %
        (spm_model_file, ", ".join(missing),
         ", ".join(sorted(set(hf_format.SPECIAL_TOKENS.values())))))
  return {"pad_token_id": ids["<pad>"], "bos_token_id": ids["[CLS]"],
          "eos_token_id": ids["[SEP]"]}


def _present_heads(stored, expected):
  """(include_mlm, include_sop) as far as the checkpoint has them whole.

  Raises:
    ExportError: a head only partly there.
  """
  present = []
  for scope in (hf_format.MLM_SCOPE, hf_format.SOP_SCOPE):
    names = [n for n in expected if n.startswith(scope)]
    found = [n for n in names if n in stored]
    if found and len(found) != len(names):
      raise ExportError(
          "the checkpoint has only part of the %s head: it lacks %s" %
          (scope.rstrip("/"), ", ".join(n for n in names if n not in stored)))
    present.append(bool(found))
  return tuple(present)


def write_safetensors(tensors, path):
  """Writes model.safetensors with the metadata transformers requires."""
  safetensors = hf_format.require_safetensors()
  if not export_utils.is_remote(path):
    safetensors.numpy.save_file(tensors, path,
                                metadata=hf_format.SAFETENSORS_METADATA)
    return
  # safetensors writes local files only.
  handle, scratch = tempfile.mkstemp(suffix=".safetensors")
  os.close(handle)
  try:
    safetensors.numpy.save_file(tensors, scratch,
                                metadata=hf_format.SAFETENSORS_METADATA)
    tf.gfile.Copy(scratch, path)
  finally:
    os.remove(scratch)


def _write_json(path, value):
  with tf.gfile.GFile(path, "w") as f:
    f.write(json.dumps(value, indent=2) + "\n")


def export_to_hf(albert_config, init_checkpoint, export_path,
                 spm_model_file, do_lower_case=True, include_heads=True,
                 overwrite=False):
  """Writes a transformers model directory; see the module docstring.

  Args:
    albert_config: `AlbertConfig`, or the path of albert_config.json.
    init_checkpoint: checkpoint prefix (or a directory: its latest).
    export_path: the directory to create.
    spm_model_file: the sentencepiece model, shipped as spiece.model.
    do_lower_case: tokenizer_config.json's do_lower_case.
    include_heads: export the pretraining heads the checkpoint has.
    overwrite: replace export_path if it holds a previous export.

  Returns:
    `HFExportSummary`.

  Raises:
    ExportError: missing or unreadable inputs, a checkpoint that does not
      fit the config, a config transformers cannot run the same way, an
      export_path that is (or holds) an input, or a failed write. Nothing
      is left at export_path when it fails.
  """
  # Before any work: without it nothing can be written.
  hf_format.require_safetensors()
  if not export_path or not export_path.rstrip("/"):
    raise ExportError("export_path %r is empty or the filesystem root; "
                      "expected a directory to create" % (export_path,))
  export_path = export_path.rstrip("/")
  if not export_utils.is_remote(export_path):
    export_path = os.path.abspath(export_path)
  config = export_utils.load_config(albert_config)
  hf_format.check_group_assignment(config)
  if not spm_model_file:
    raise ExportError("no spm_model_file given: the export ships the "
                      "sentencepiece model as spiece.model")
  spm_model_file = export_utils.check_vocabulary(config, spm_model_file,
                                                 None)
  token_ids = special_token_ids(spm_model_file)
  init_checkpoint = export_utils.resolve_checkpoint(init_checkpoint)
  inputs = export_utils.input_files(albert_config, spm_model_file,
                                    init_checkpoint)
  export_utils.check_export_path_clear_of_inputs(export_path, inputs)

  reader = tf.train.load_checkpoint(init_checkpoint)
  stored = reader.get_variable_to_shape_map()
  include_mlm, include_sop = False, False
  if include_heads:
    include_mlm, include_sop = _present_heads(
        stored, hf_format.model_variable_shapes(config))
  layout = hf_format.layout_for(include_mlm, include_sop)
  if layout == hf_format.BASE:
    # A warning, so that the command line shows it: the heads are gone.
    tf.logging.warning(
        "Exporting the encoder alone as %s: %s", layout,
        "--noinclude_heads" if include_heads is False else
        "the checkpoint has no pretraining heads (%s*, %s*); a fine-tuned "
        "checkpoint's task head has no transformers name" %
        (hf_format.MLM_SCOPE, hf_format.SOP_SCOPE))
  expected = hf_format.model_variable_shapes(config, include_mlm,
                                             include_sop)
  variables = hf_format.read_variables(
      reader, expected, "init checkpoint %s" % init_checkpoint,
      config.num_attention_heads)
  tensors = hf_format.to_hf_tensors(config, variables, layout)
  unused = sorted(n for n in stored if n not in variables)
  if unused:
    tf.logging.info("%d checkpoint variable(s) not exported (optimizer "
                    "slots, global_step, task heads): %s", len(unused),
                    hf_format.name_list(unused))

  hf_config = hf_format.hf_config_dict(config, layout, token_ids)
  tokenizer_config, special_tokens = hf_format.tokenizer_files(
      do_lower_case, config.max_position_embeddings)
  with export_utils.staged_export(export_path, inputs, overwrite,
                                  "transformers model",
                                  expected_files=HF_FILES) as staged:
    tf.gfile.MakeDirs(staged)
    write_safetensors(tensors, os.path.join(staged, hf_format.WEIGHTS_NAME))
    _write_json(os.path.join(staged, hf_format.HF_CONFIG_NAME), hf_config)
    tf.gfile.Copy(spm_model_file, os.path.join(staged, hf_format.HF_SPM_NAME))
    _write_json(os.path.join(staged, hf_format.TOKENIZER_CONFIG_NAME),
                tokenizer_config)
    _write_json(os.path.join(staged, hf_format.SPECIAL_TOKENS_MAP_NAME),
                special_tokens)

  return HFExportSummary(
      export_path=export_path,
      init_checkpoint=init_checkpoint,
      architecture=layout,
      num_tensors=len(tensors),
      num_parameters=int(sum(np.prod(t.shape) for t in tensors.values())),
      do_lower_case=bool(do_lower_case),
      unused_checkpoint_variables=unused)


def format_summary(summary):
  """A few lines for people: where, what architecture, how many weights."""
  lines = ["Exported transformers model (%s) to %s" % (summary.architecture,
                                                      summary.export_path),
           "  from checkpoint %s" % summary.init_checkpoint,
           "  %d tensors, %d parameters in %s" % (
               summary.num_tensors, summary.num_parameters,
               hf_format.WEIGHTS_NAME),
           "  tokenizer %s, do_lower_case=%s" % (hf_format.HF_SPM_NAME,
                                                 summary.do_lower_case)]
  if summary.unused_checkpoint_variables:
    lines.append("  %d checkpoint variable(s) not exported (optimizer "
                 "slots, global_step, task heads)" %
                 len(summary.unused_checkpoint_variables))
  return "\n".join(lines)


def run(options):
  """Exports from flag-like options (FLAGS, or `default_options(...)`).

  Returns:
    `HFExportSummary`.

  Raises:
    ExportError: on missing flags or files, checkpoint mismatches, an
      export_path that would replace the model, or a failed write.
  """
  directory, config_file, checkpoint = export_utils.model_from_options(
      options)
  export_utils.check_export_path_clear_of_inputs(
      options.export_path, [("albert_directory", directory)])
  spm_model_file = options.spm_model_file or os.path.join(
      directory, export_utils.SPM_MODEL_NAME)
  return export_to_hf(config_file, checkpoint, options.export_path,
                      spm_model_file, do_lower_case=options.do_lower_case,
                      include_heads=options.include_heads,
                      overwrite=options.overwrite_export_path)


default_options = command_line.default_options_of(FLAG_DEFAULTS)


main = export_utils.cli_main(run, format_summary)


if __name__ == "__main__":
  flags.mark_flag_as_required("albert_directory")
  flags.mark_flag_as_required("export_path")
  app.run(main)
