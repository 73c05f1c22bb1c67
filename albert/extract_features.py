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
"""Per-token features and sentence embeddings of a pretrained ALBERT.

python -m albert.extract_features --input_file=lines.txt \
    --albert_directory=albert_base --output_file=features.jsonl \
    --embeddings_file=embeddings.npy --pooling=mean

google-research/bert's extract_features.py, with its flags and format, for
ALBERT. Input: one text a line, or `text_a ||| text_b` (segment ids 0 and
1), as [CLS] a [SEP] (b [SEP]), truncated as run_classifier truncates. A bad
line (empty, more than one `|||`, invalid UTF-8) fails the run before the
model loads, naming the bad lines as file:line (BERT silently stopped
reading at the first empty line).

Outputs, each written under a hidden temporary name, renamed when complete:
  --output_file: JSON lines in BERT's format, {"linex_index": i, "features":
    [{"token": "[CLS]", "layers": [{"index": -1, "values": [...]}, ...]},
    ...]}, values rounded to 6 decimals, real tokens only.
  --embeddings_file: float32 .npy [lines, H] by --pooling: mean (the last
    layer over the real tokens, [CLS] and [SEP] included), cls (its first
    token) or pooled (the pooler output); and <embeddings_file>.index.jsonl,
    a line a row: {"row", "line", "text_a", "text_b", "num_tokens",
    "truncated"}.

The model comes from --albert_directory (albert_config.json, 30k-clean.model,
--checkpoint_name), from --init_checkpoint with --albert_config_file and
--spm_model_file or --vocab_file, or from a TF1 hub module (only its last
layer per token). Never from random weights: the checkpoint must hold every
variable. Lines stream through one graph and session in batches (each
padded to its longest line, not to --max_seq_length), in order, without
dropout: the same --batch_size writes the same bytes again (other sizes
agree to float rounding, ~1e-7).

Not here: the encoder (modeling), the tokenizer (tokenization), checkpoint
and directory checks (checkpoints, export_utils), atomic files (file_io).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import contextlib
import json
import os
import time

from absl import app
import numpy as np
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import export_utils
from albert import file_io
from albert import fine_tuning_utils
from albert import modeling
from albert import progress
from albert import text_lines
from albert import tokenization

POOLINGS = ("mean", "cls", "pooled")
DEFAULT_LAYERS = "-1,-2,-3,-4"
INDEX_SUFFIX = ".index.jsonl"

FLAG_DEFAULTS = command_line.define_flags([
    ("string", "input_file", None,
     "Text file: one sequence a line, or `text_a ||| text_b` for a pair."),
    ("string", "output_file", None,
     "JSON lines of per-token features (BERT's extract_features format)."),
    ("string", "embeddings_file", None,
     "float32 .npy matrix [lines, hidden_size] of one embedding a line "
     "(--pooling), with <embeddings_file>.index.jsonl naming each row's "
     "line. At least one of --output_file and --embeddings_file is needed."),
    ("string", "layers", DEFAULT_LAYERS,
     "Comma-separated encoder layers for --output_file; -1 is the last. A "
     "hub module gives only -1."),
    ("enum", "pooling", "mean",
     "--embeddings_file rows: mean (the last layer averaged over the real "
     "tokens), cls (the last layer's [CLS] token) or pooled (the pooler's "
     "tanh output, what classifiers read).", {"enum_values": list(POOLINGS)}),
    ("integer", "max_seq_length", 128,
     "Tokens per sequence, [CLS] and [SEP] included; longer lines are "
     "truncated (counted in the summary and the index)."),
    ("integer", "batch_size", 8,
     "Lines per session run (BERT used 32; 8 keeps the per-token JSON of a "
     "batch and the activations of large models small on a CPU)."),
    ("string", "albert_config_file", None,
     "The config json of the model; with --init_checkpoint."),
    ("string", "init_checkpoint", None,
     "The pretrained checkpoint (prefix, e.g. albert_base/model.ckpt-best)."),
    ("string", "spm_model_file", None,
     "The sentencepiece model; default <albert_directory>/30k-clean.model."),
    ("string", "vocab_file", None,
     "A WordPiece vocab.txt, for models without a sentencepiece model."),
    ("bool", "do_lower_case", True,
     "Whether to lower case the input text (True for the released models; "
     "a hub module says it itself)."),
    ("string", "albert_directory", None,
     "A released-style model directory (albert_config.json, 30k-clean.model "
     "and the checkpoint), instead of the three flags above."),
    ("string", "checkpoint_name", export_utils.DEFAULT_CHECKPOINT_NAME,
     "Name of the checkpoint under albert_directory."),
    ("string", "albert_hub_module_handle", None,
     "A TF1 hub module (albert.export_to_tfhub) instead of a checkpoint; "
     "its tokenizer comes with it."),
])


default_options = command_line.default_options_of(FLAG_DEFAULTS)

# The input side, where tests and library callers of this command look for
# it.
InputLineError = text_lines.InputLineError
check_input_file = text_lines.check_input_file
read_examples = text_lines.read_examples
convert_example = text_lines.convert_example


# Where the weights and the tokenizer come from: albert_config is None for
# a hub module, whose handle is then hub_module; description names it.
ModelSource = collections.namedtuple(
    "ModelSource", ["albert_config", "init_checkpoint", "hub_module",
                    "tokenizer", "description"])

# What `run` did, for people (format_summary) and tests.
ExtractSummary = collections.namedtuple(
    "ExtractSummary", ["num_lines", "num_pairs", "num_truncated", "seconds",
                       "output_file", "embeddings_file", "index_file",
                       "layers", "pooling", "hidden_size", "model"])


def check_layers(layers, num_layers, hub_module):
  """Fails on a layer index the model does not have.

  Args:
    layers: the --layers indexes.
    num_layers: how many encoder layers the model applies (None: a hub
      module, which gives the last one only).
    hub_module: the handle, for the message.

  Raises:
    ValueError: naming the layer and what there is.
  """
  if num_layers is None:
    others = [layer for layer in layers if layer != -1]
    if others:
      raise ValueError(
          "--layers=%s: a hub module gives per-token features of its last "
          "layer only (the \"tokens\" signature's sequence_output); pass "
          "--layers=-1, or --albert_directory or --init_checkpoint for "
          "other layers (%s)" % (",".join(map(str, layers)), hub_module))
    return
  for layer in layers:
    if not -num_layers <= layer < num_layers:
      raise ValueError("--layers: the model has %d encoder layers, so %d is "
                       "out of range (-%d to %d)" %
                       (num_layers, layer, num_layers, num_layers - 1))


def check_options(options):
  """Flag checks that need no file: outputs, numbers, pooling, layers.

  Returns:
    The --layers list.

  Raises:
    ValueError: naming the flag and what was expected, in one line.
  """
  if not options.output_file and not options.embeddings_file:
    raise ValueError("nothing to write: pass --output_file (per-token JSON "
                     "lines) and/or --embeddings_file (a .npy of one "
                     "embedding a line)")
  command_line.check_numeric_flags(options)
  if options.max_seq_length < 3:
    raise ValueError("--max_seq_length=%d leaves no room for text: [CLS] a "
                     "[SEP] b [SEP] needs at least 3 positions" %
                     options.max_seq_length)
  if options.pooling not in POOLINGS:
    raise ValueError("--pooling=%s: expected one of %s" %
                     (options.pooling, ", ".join(POOLINGS)))
  outputs = [p for p in (options.output_file, options.embeddings_file,
                         index_file_of(options.embeddings_file)) if p]
  paths = [os.path.abspath(p) if "://" not in p else p
           for p in [options.input_file or ""] + outputs]
  if len(set(paths)) < len(paths):
    raise ValueError("--input_file, --output_file, --embeddings_file and its "
                     "index (%s) must be different files" %
                     ", ".join([options.input_file or "-"] + outputs))
  try:
    return [int(part) for part in (options.layers or "").split(",")]
  except ValueError:
    raise ValueError("--layers=%s: expected comma-separated integers such "
                     "as %s (-1 is the last layer)" % (options.layers,
                                                       DEFAULT_LAYERS))


def index_file_of(embeddings_file):
  """<embeddings_file>.index.jsonl (None without an embeddings file)."""
  return embeddings_file + INDEX_SUFFIX if embeddings_file else None


def _check_one_source(options):
  """Fails unless exactly one weight source is given, naming the flags."""
  given = [name for name in ("albert_directory", "init_checkpoint",
                             "albert_hub_module_handle")
           if getattr(options, name)]
  if not given:
    raise ValueError(
        "no model to extract with: pass --albert_directory, --init_checkpoint "
        "(with --albert_config_file and --spm_model_file or --vocab_file) or "
        "--albert_hub_module_handle; features of random weights are "
        "meaningless, so there is no default")
  if len(given) > 1:
    raise ValueError("give one of --albert_directory, --init_checkpoint and "
                     "--albert_hub_module_handle, not %s" %
                     " and ".join("--" + name for name in given))
  if options.albert_config_file and not options.init_checkpoint:
    raise ValueError(
        "--albert_config_file goes with --init_checkpoint; --%s brings its "
        "own config" % given[0])
  return given[0]


def resolve_model(options):
  """The config, checkpoint and tokenizer the flags name, checked.

  Returns:
    `ModelSource`.

  Raises:
    ValueError: no source or several, a missing file, a vocabulary larger
      than the config's vocab_size, or max_seq_length longer than its
      max_position_embeddings; in one line.
  """
  source = _check_one_source(options)
  if source == "albert_hub_module_handle":
    hub_module = options.albert_hub_module_handle
    tokenizer = fine_tuning_utils.create_vocab(
        options.vocab_file, options.do_lower_case, options.spm_model_file,
        hub_module)
    return ModelSource(None, None, hub_module, tokenizer,
                       "hub module %s" % hub_module)
  spm_model_file, vocab_file = options.spm_model_file, options.vocab_file
  if source == "albert_directory":
    config_file, checkpoint = export_utils.model_directory(
        options.albert_directory, options.checkpoint_name)
    if not spm_model_file and not vocab_file:
      spm_model_file = os.path.join(options.albert_directory,
                                    export_utils.SPM_MODEL_NAME)
  else:
    command_line.check_required_flags(options, ["albert_config_file"])
    if not spm_model_file and not vocab_file:
      raise ValueError("--init_checkpoint needs its tokenizer: pass "
                       "--spm_model_file (or --vocab_file)")
    config_file = options.albert_config_file
    checkpoint = export_utils.resolve_checkpoint(options.init_checkpoint)
  albert_config = modeling.load_albert_config(config_file,
                                              options.max_seq_length)
  tokenization.validate_case_matches_checkpoint(options.do_lower_case,
                                                checkpoint)
  tokenizer = fine_tuning_utils.create_vocab(
      vocab_file, options.do_lower_case, spm_model_file, None)
  fine_tuning_utils.check_vocab_matches_config(
      tokenizer, albert_config, spm_model_file or vocab_file)
  return ModelSource(albert_config, checkpoint, None, tokenizer,
                     "checkpoint %s" % checkpoint)


def pool(sequence_output, pooled_output, input_mask, pooling):
  """One embedding per sequence.

  Args:
    sequence_output: float Tensor [B, S, H], the last layer.
    pooled_output: float Tensor [B, H], the pooler's output.
    input_mask: int32 Tensor [B, S], 1 for real tokens.
    pooling: "mean", "cls" or "pooled".

  Returns:
    float Tensor [B, H].
  """
  if pooling == "pooled":
    return pooled_output
  if pooling == "cls":
    return sequence_output[:, 0, :]
  mask = tf.cast(input_mask, sequence_output.dtype)[:, :, None]  # [B, S, 1]
  total = tf.reduce_sum(sequence_output * mask, axis=1)  # [B, H]
  # Every real sequence has [CLS] and [SEP], so the count is at least 2.
  return total / tf.reduce_sum(mask, axis=1)


def build_fetches(source, inputs, layers, pooling):
  """The tensors a batch run fetches.

  Args:
    source: `ModelSource`.
    inputs: dict of int32 placeholders "input_ids", "input_mask",
      "segment_ids" [B, S].
    layers: layer indexes for the per-token output, or None for none.
    pooling: embedding kind, or None for no embeddings.

  Returns:
    dict: "layers" (list of [B, S, H], one per index) and/or "embeddings"
    ([B, H]).
  """
  if source.hub_module:
    pooled, sequence = fine_tuning_utils.create_albert(
        None, False, inputs["input_ids"], inputs["input_mask"],
        inputs["segment_ids"], use_one_hot_embeddings=False,
        hub_module=source.hub_module)
    all_layers = [sequence]
  else:
    model = modeling.AlbertModel(
        config=source.albert_config, is_training=False,
        input_ids=inputs["input_ids"], input_mask=inputs["input_mask"],
        token_type_ids=inputs["segment_ids"])
    pooled = model.get_pooled_output()
    all_layers = model.get_all_encoder_layers()
  fetches = {}
  if layers is not None:
    fetches["layers"] = [all_layers[layer] for layer in layers]
  if pooling is not None:
    fetches["embeddings"] = pool(all_layers[-1], pooled,
                                 inputs["input_mask"], pooling)
  return fetches


def restore_weights(session, source):
  """Loads every model variable, or fails: never random weights.

  A hub module loads its own weights in its initializers. A checkpoint
  must hold every variable of the graph, in its shape.

  Raises:
    CheckpointMismatchError: naming the checkpoint and the variables, in
      one line.
  """
  session.run(tf.global_variables_initializer())
  if source.hub_module:
    _check_hub_vocab(source)
    return
  tvars = tf.global_variables()
  assignment = modeling.get_assignment_map_from_checkpoint(
      tvars, source.init_checkpoint)
  problems = ["%s: model %s, checkpoint %s" % (name, shape, ckpt_shape)
              for name, shape, _, ckpt_shape in assignment.shape_mismatches]
  problems += ["%s: not in the checkpoint" % name
               for name in assignment.unmatched_variables]
  if problems:
    raise checkpoints.CheckpointMismatchError(
        "checkpoint %s does not fit the config (is the albert_config.json "
        "this checkpoint's?): %d of %d variables differ: %s%s" %
        (source.init_checkpoint, len(problems), len(tvars),
         "; ".join(problems[:5]), "; ..." if len(problems) > 5 else ""))
  by_name = {var.op.name: var for var in tvars}
  saver = tf.train.Saver(
      var_list={ckpt: by_name[name]
                for ckpt, name in assignment.assignment_map.items()})
  saver.restore(session, source.init_checkpoint)
  tf.logging.info("Restored %d variables from %s", len(tvars),
                  source.init_checkpoint)


def _check_hub_vocab(source):
  """Fails when the module's tokenizer has ids past its embedding table."""
  tables = [var for var in tf.global_variables()
            if var.op.name.endswith("embeddings/word_embeddings")]
  if len(tables) == 1:
    rows = tables[0].shape.as_list()[0]
    modeling.AlbertConfig(vocab_size=rows).check_num_token_ids(
        source.tokenizer.num_token_ids(),
        "The vocabulary of hub module %s" % source.hub_module)


def json_line(feature, layers, layer_values):
  """One --output_file line, BERT's format.

  Args:
    feature: `text_lines.Feature`.
    layers: the layer indexes, as given.
    layer_values: per index, float array [S, H] of this sequence.

  Returns:
    str: the JSON object and a newline.
  """
  count = len(feature.tokens)
  # Rounded in numpy: float64(rint(x * 1e6) / 1e6) prints with at most 6
  # decimals, as round(x, 6) does, at a fraction of the cost.
  rounded = [np.round(values[:count].astype(np.float64), 6).tolist()
             for values in layer_values]
  features = [{"token": token,
               "layers": [{"index": layer, "values": rounded[j][i]}
                          for j, layer in enumerate(layers)]}
              for i, token in enumerate(feature.tokens)]
  return json.dumps({"linex_index": feature.unique_id, "features": features},
                    ensure_ascii=False) + "\n"


def index_line(feature):
  """One <embeddings_file>.index.jsonl line: which input line a row is."""
  example = feature.example
  return json.dumps({"row": feature.unique_id, "line": feature.line_number,
                     "text_a": example.text_a, "text_b": example.text_b,
                     "num_tokens": len(feature.tokens),
                     "truncated": feature.truncated},
                    ensure_ascii=False) + "\n"


class NpyRowWriter(object):
  """Writes a float32 .npy [num_rows, H] row block by row block.

  The header needs the full shape, which the line count gives up front;
  H is known from the first block. Streaming keeps memory flat for any
  number of rows, through any tf.io.gfile file.
  """

  def __init__(self, f, num_rows):
    self._f = f
    self._num_rows = num_rows
    self.rows_written = 0
    self.width = None

  def write(self, block):
    """Appends block, float array [n, H]."""
    block = np.ascontiguousarray(block, dtype="<f4")
    if self.width is None:
      self.width = block.shape[1]
      np.lib.format.write_array_header_1_0(self._f, {
          "descr": "<f4", "fortran_order": False,
          "shape": (self._num_rows, self.width)})
    self._f.write(block.tobytes())
    self.rows_written += len(block)

  def check_complete(self):
    """Raises ValueError unless exactly num_rows rows were written."""
    if self.rows_written != self._num_rows:
      raise ValueError("wrote %d embedding rows for %d lines (did --input_file "
                       "change while it was read?)" %
                       (self.rows_written, self._num_rows))


class ProgressLine(object):
  """Logs lines done, lines/s and ETA, after the first batch and then at
  most every `every_secs` seconds."""

  def __init__(self, total, every_secs=10.0):
    self._total = total
    self._every_secs = every_secs
    self._start = time.time()
    self._last = None

  def update(self, done):
    now = time.time()
    if self._last is not None and now - self._last < self._every_secs:
      return
    self._last = now
    rate = done / max(now - self._start, 1e-9)
    progress.log_progress(
        "extract_features: %d/%d lines (%.1f%%), %.1f lines/s, ETA %s", done,
        self._total, 100.0 * done / self._total, rate,
        progress.format_seconds((self._total - done) / max(rate, 1e-9)))

  def elapsed(self):
    return time.time() - self._start


# How often (seconds) a progress line is logged.
PROGRESS_EVERY_SECS = 10.0


def _placeholders():
  """int32 [B, n] inputs, named as the hub module's; n varies by batch."""
  return {name: tf.placeholder(tf.int32, [None, None], name)
          for name in ("input_ids", "input_mask", "segment_ids")}


def _open_outputs(stack, options, num_lines):
  """Atomic output files: (json file or None, NpyRowWriter or None,
  index file or None)."""
  for path in (options.output_file, options.embeddings_file):
    if path and os.path.dirname(path):
      tf.io.gfile.makedirs(os.path.dirname(path))
  json_file = npy = index = None
  if options.output_file:
    json_file = stack.enter_context(file_io.atomic_open(options.output_file))
  if options.embeddings_file:
    npy = NpyRowWriter(stack.enter_context(
        file_io.atomic_open(options.embeddings_file, "wb")), num_lines)
    index = stack.enter_context(
        file_io.atomic_open(index_file_of(options.embeddings_file)))
  return json_file, npy, index


def _run_batches(session, inputs, fetches, features, outputs, layers,
                 progress_line):
  """Runs every batch, writing its lines; returns (lines, pairs, truncated).

  Args:
    session: with the weights restored.
    inputs: the placeholders.
    fetches: from `build_fetches`.
    features: batches (lists) of `text_lines.Feature`s.
    outputs: from `_open_outputs`.
    layers: the --layers indexes.
    progress_line: `ProgressLine`.
  """
  json_file, npy, index = outputs
  lines = pairs = truncated = 0
  for batch in features:
    arrays = text_lines.feed_arrays(batch)
    values = session.run(fetches, {inputs[name]: arrays[name]
                                   for name in inputs})
    for row, feature in enumerate(batch):
      if json_file is not None:
        json_file.write(json_line(
            feature, layers, [layer[row] for layer in values["layers"]]))
      if index is not None:
        index.write(index_line(feature))
      pairs += feature.example.text_b is not None
      truncated += feature.truncated
    if npy is not None:
      npy.write(values["embeddings"])
    lines += len(batch)
    progress_line.update(lines)
  if npy is not None:
    npy.check_complete()
  return lines, pairs, truncated


def run(options):
  """Extracts features from flag-like options (FLAGS or default_options).

  Checks the flags, then every input line, then the model, before any
  output is opened; outputs appear only when complete.

  Returns:
    `ExtractSummary`.

  Raises:
    ValueError: bad flags, input lines, model files or a checkpoint that
      does not fit the config; one line each.
  """
  layers = check_options(options)
  num_lines = check_input_file(options.input_file)
  source = resolve_model(options)
  want_layers = layers if options.output_file else None
  if want_layers is not None:
    config = source.albert_config
    check_layers(layers, config and (config.num_hidden_layers *
                                     config.inner_group_num),
                 source.hub_module)
  progress.log_progress("extract_features: %d lines from %s with %s",
                        num_lines, options.input_file, source.description)
  with tf.Graph().as_default():
    inputs = _placeholders()
    fetches = build_fetches(
        source, inputs, want_layers,
        options.pooling if options.embeddings_file else None)
    with tf.Session() as session, contextlib.ExitStack() as stack:
      restore_weights(session, source)
      features = (convert_example(example, source.tokenizer,
                                  options.max_seq_length)
                  for example in read_examples(options.input_file))
      outputs = _open_outputs(stack, options, num_lines)
      progress_line = ProgressLine(num_lines, PROGRESS_EVERY_SECS)
      lines, pairs, truncated = _run_batches(
          session, inputs, fetches,
          text_lines.batches(features, options.batch_size),
          outputs, want_layers, progress_line)
      hidden_size = outputs[1].width if outputs[1] is not None else None
  return ExtractSummary(
      lines, pairs, truncated, progress_line.elapsed(), options.output_file,
      options.embeddings_file, index_file_of(options.embeddings_file),
      want_layers, options.pooling if options.embeddings_file else None,
      hidden_size, source.description)


extract = run


def format_summary(summary):
  """A few lines for people: what was read, written, and how fast."""
  lines = ["Extracted features of %d lines (%d pairs, %d truncated) with %s "
           "in %s (%.1f lines/s)" % (
               summary.num_lines, summary.num_pairs, summary.num_truncated,
               summary.model, progress.format_seconds(summary.seconds),
               summary.num_lines / max(summary.seconds, 1e-9))]
  if summary.output_file:
    lines.append("  %s: per-token features of layers %s (JSON lines)" % (
        summary.output_file, ",".join(map(str, summary.layers))))
  if summary.embeddings_file:
    lines.append("  %s: float32 [%d, %d], %s pooling; rows named in %s" % (
        summary.embeddings_file, summary.num_lines, summary.hidden_size,
        summary.pooling, summary.index_file))
  return "\n".join(lines)


def _main(options):
  # Graph-building chatter would bury the progress lines and the summary.
  with progress.show_only_own_logs():
    tf.disable_v2_behavior()
    summary = run(options)
  print(format_summary(summary))


main = command_line.cli_main(_main)


if __name__ == "__main__":
  # --input_file is checked by `run`, whose one line names the problem.
  app.run(main)
