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
"""The command line every command shares: flag specs with their range rules,
flag-like option objects, and the one `main` wrapper.

`define_flags` defines absl flags from (kind, name, default, help) specs
and attributes them to the calling script; `run_flag_specs` are the
release's TPU/run-config flags plus precision and distribution;
`NUMERIC_FLAG_RULES` is the one table of numeric ranges
(`check_numeric_flags`); `check_required_flags` names a missing one;
`options` builds a FLAGS-like object for tests and
library callers (`default_options_of`: a script's `default_options`);
`cli_main` turns a `run(options)` into an absl main that ends bad input,
TensorFlow errors and Ctrl-C in one line.

Not here: what the flags build (estimators, distributed), checkpoints, files
and logging.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import os
import re
import sys
import types

from absl import flags
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import cli_errors
from albert import modeling
from albert import progress


def define_flags(specs):
  """Defines absl flags from specs, skipping names already defined.

  Every run_* script defines its flags at import; several scripts share
  names (albert_config_file, output_dir, ...), and tests import more than
  one of them into a process, so a name defined twice is skipped instead of
  raising DuplicateFlagError.

  Args:
    specs: (kind, name, default, help) or (kind, name, default, help,
      extra_kwargs) tuples; kind is "string", "integer", "float", "bool" or
      "enum" (extra_kwargs={"enum_values": [...]}).

  Returns:
    dict of flag name to this caller's default, for `options`.
  """
  # Attribute the flags to the calling script, as absl would have, so that
  # `python -m albert.run_x --help` lists them (absl shows the main
  # module's flags, and names the main module after sys.argv[0]).
  module_name = sys._getframe(1).f_globals.get("__name__")  # pylint: disable=protected-access
  if module_name == "__main__":
    module_name = sys.argv[0]
  defaults = {}
  for spec in specs:
    kind, name, default, help_text = spec[:4]
    extra = spec[4] if len(spec) > 4 else {}
    if name not in flags.FLAGS:
      getattr(flags, "DEFINE_" + kind)(
          name=name, default=default, help=help_text,
          module_name=module_name, **extra)
    defaults[name] = default
  return defaults


def run_flag_specs(save_checkpoints_steps=1000, iterations_per_loop=1000,
                   keep_checkpoint_max=5):
  """The released TPU/run-config flags, as `define_flags` specs."""
  return [
      ("bool", "use_tpu", False, "Whether to use TPU or GPU/CPU."),
      ("string", "tpu_name", None,
       "The Cloud TPU to use for training. This should be either the name "
       "used when creating the Cloud TPU, or a grpc://ip.address.of.tpu:8470 "
       "url."),
      ("string", "tpu_zone", None,
       "[Optional] GCE zone where the Cloud TPU is located in. If not "
       "specified, we will attempt to automatically detect the GCE project "
       "from metadata."),
      ("string", "gcp_project", None,
       "[Optional] Project name for the Cloud TPU-enabled project. If not "
       "specified, we will attempt to automatically detect the GCE project "
       "from metadata."),
      ("string", "master", None, "[Optional] TensorFlow master URL."),
      ("integer", "num_tpu_cores", 8,
       "Only used if `use_tpu` is True. Total number of TPU cores to use."),
      ("integer", "iterations_per_loop", iterations_per_loop,
       "How many steps to make in each estimator call."),
      ("integer", "save_checkpoints_steps", save_checkpoints_steps,
       "How often to save the model checkpoint."),
      ("integer", "keep_checkpoint_max", keep_checkpoint_max,
       "How many checkpoints to keep (0: all of them)."),
      ("integer", "random_seed", None,
       "Seed of new variables' initialisation, dropout masks and the "
       "training data's order; unset: a fresh seed for a new run (the same "
       "on every worker of a cluster), and a resumed run keeps the seed it "
       "was started with (output_dir/data_position.json)."),
  ] + performance_flag_specs() + distribution_flag_specs()


# --strategy's values (distributed.py builds them).
STRATEGIES = ("none", "mirrored", "multi_worker_mirrored")


def distribution_flag_specs():
  """--strategy, --num_devices and --worker_timeout_secs specs."""
  return [
      ("enum", "strategy", "none",
       "tf.distribute strategy for training on CPUs/GPUs: none (one "
       "device), mirrored (the devices of this machine) or "
       "multi_worker_mirrored (several machines; the cluster comes from "
       "the TF_CONFIG environment variable). --train_batch_size is the "
       "global batch, split evenly across all replicas.",
       {"enum_values": list(STRATEGIES)}),
      ("integer", "num_devices", None,
       "Replicas per machine: GPUs when this machine has them (default: "
       "all of them); on a machine without GPUs, --strategy=mirrored makes "
       "this many virtual CPU devices (default 1), so the path runs "
       "anywhere."),
      ("integer", "worker_timeout_secs", 600,
       "With --strategy=multi_worker_mirrored: how long a worker waits for "
       "the others in TF_CONFIG to come up before failing, naming the "
       "address it could not reach."),
  ]


def performance_flag_specs():
  """--precision, --use_xla and --gradient_accumulation_steps specs."""
  return [
      ("enum", "precision", "fp32",
       "Compute precision of the encoder: fp32, bf16 (CPUs with AVX512_BF16 "
       "or AMX, GPUs from Ampere, TPUs) or fp16 (GPUs; adds dynamic loss "
       "scaling). Variables, optimizer state and checkpoints stay float32.",
       {"enum_values": list(modeling.PRECISIONS)}),
      ("bool", "use_xla", False,
       "Compile the training and inference steps with XLA."),
      ("integer", "gradient_accumulation_steps", 1,
       "Batches whose mean gradient makes one optimizer update: the "
       "effective batch is this times --train_batch_size, and "
       "--num_train_steps, warmup and checkpoint steps count updates."),
  ]


# What every numeric flag of every command must satisfy, by flag name (the
# commands share names, so one table serves them all). A flag is checked
# when it is set (not None).
_POSITIVE = ("> 0", lambda v: v > 0)


_NON_NEGATIVE = (">= 0", lambda v: v >= 0)


_FRACTION = ("within [0, 1]", lambda v: 0 <= v <= 1)


_DROPOUT = ("within [0, 1)", lambda v: 0 <= v < 1)


NUMERIC_FLAG_RULES = {
    # Sizes and lengths.
    "max_seq_length": _POSITIVE, "max_predictions_per_seq": _POSITIVE,
    "max_query_length": _POSITIVE, "doc_stride": _POSITIVE,
    "max_qa_length": _POSITIVE, "max_answer_length": _POSITIVE,
    "n_best_size": _POSITIVE, "start_n_top": _POSITIVE,
    "end_n_top": _POSITIVE, "ngram": _POSITIVE,
    # Batches.
    "train_batch_size": _POSITIVE, "eval_batch_size": _POSITIVE,
    "predict_batch_size": _POSITIVE, "batch_size": _POSITIVE,
    # Optimisation.
    "learning_rate": _POSITIVE, "num_train_steps": _POSITIVE,
    "train_step": _POSITIVE, "num_train_epochs": _POSITIVE,
    "num_warmup_steps": _NON_NEGATIVE, "warmup_step": _NON_NEGATIVE,
    "warmup_proportion": _FRACTION, "max_eval_steps": _POSITIVE,
    "dropout_prob": _DROPOUT, "classifier_dropout_prob": _DROPOUT,
    # Checkpoints and loops.
    "gradient_accumulation_steps": _POSITIVE,
    "save_checkpoints_steps": _POSITIVE, "iterations_per_loop": _POSITIVE,
    "keep_checkpoint_max": _NON_NEGATIVE, "num_tpu_cores": _POSITIVE,
    "log_every_n_steps": _POSITIVE,
    # distributed.Distribution.
    "num_devices": _POSITIVE, "worker_timeout_secs": _POSITIVE,
    # Benchmark runs.
    "num_steps": _POSITIVE, "warmup_steps": _NON_NEGATIVE,
    # Data creation.
    "dupe_factor": _POSITIVE, "masked_lm_prob": _FRACTION,
    "short_seq_prob": _FRACTION, "num_workers": _POSITIVE,
    "chunk_size": _POSITIVE,
}


def check_numeric_flags(values):
  """Fails on the first numeric flag outside its range, naming it.

  Args:
    values: FLAGS, an `options(...)` object or a dict; every attribute
      named in NUMERIC_FLAG_RULES is checked.

  Raises:
    ValueError: "--name=value must be > 0" (or the rule broken).
  """
  if not isinstance(values, dict):
    values = {name: getattr(values, name) for name in NUMERIC_FLAG_RULES
              if hasattr(values, name)}
  for name in sorted(values):
    if name not in NUMERIC_FLAG_RULES or values[name] is None:
      continue
    what, ok = NUMERIC_FLAG_RULES[name]
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
      raise ValueError("--%s=%r must be a number %s" % (name, value, what))
    if value != value or not ok(value):  # value != value: NaN
      raise ValueError("--%s=%s must be %s" % (name, value, what))


def check_required_flags(values, names):
  """Fails on the first of `names` that is unset (None or empty).

  Args:
    values: FLAGS or an `options(...)` object.
    names: flag names, in the order to check them.

  Raises:
    ValueError: "--name is required".
  """
  for name in names:
    if not getattr(values, name):
      raise ValueError("--%s is required" % name)


def options(defaults, overrides):
  """A flag-like object: `defaults` updated with `overrides`.

  Lets tests and other code call a script's `run(options)` without going
  through absl's global FLAGS.

  Raises:
    ValueError: an override names no flag of the script.
  """
  unknown = sorted(set(overrides) - set(defaults))
  if unknown:
    raise ValueError("unknown option(s) %s; known: %s" %
                     (", ".join(unknown), ", ".join(sorted(defaults))))
  values = dict(defaults)
  values.update(overrides)
  return types.SimpleNamespace(**values)


def default_options_of(defaults):
  """A script's public `default_options(**overrides)` over its defaults.

  Args:
    defaults: the script's FLAG_DEFAULTS (from `define_flags`).

  Returns:
    default_options(**overrides) -> `options(defaults, overrides)`.
  """

  def default_options(**overrides):
    """The flag defaults as an object, with overrides; for calling `run`."""
    return options(defaults, overrides)

  return default_options


def cli_main(run_fn):
  """The absl `main` of a run_* script: INFO logs, each line once, run.

  Bad input raises ValueError with a message that names the flag or file
  and what was expected; the CLI prints just that line and exits 1, since
  a traceback would only bury it. The same goes for what the machine or
  TensorFlow report about files (a full disk, an unreadable checkpoint),
  and Ctrl-C ends with one line and exit code 130. ALBERT_TRACEBACK=1
  shows the traceback (cli_errors.run_command).
  """

  def main(argv):
    program = os.path.splitext(os.path.basename(sys.argv[0]))[0]

    def run():
      # absl's app.run passes the remaining argv; the release's tests call
      # main(None).
      if argv is not None and len(argv) > 1:
        raise ValueError("unexpected arguments: %s" % " ".join(argv[1:]))
      tf.logging.set_verbosity(tf.logging.INFO)
      progress.log_each_line_once()
      run_fn(flags.FLAGS)

    cli_errors.run_command(program, run)

  return main


def error_line(error):
  """One line saying what went wrong, for a CLI's last words.

  TensorFlow's errors are described here (corrupt checkpoints named);
  everything else by cli_errors.error_line.
  """
  if isinstance(error, tf.errors.OpError):
    text = op_error_reason(error)
    corrupt = checkpoints.describe_corrupt_checkpoint(text)
    if corrupt:
      return "%s (TensorFlow %s)" % (corrupt, type(error).__name__)
    if "checkpoint" in text.lower() or isinstance(
        error, (tf.errors.NotFoundError, tf.errors.InvalidArgumentError)):
      return "%s (TensorFlow %s; is the checkpoint complete and made for " \
             "this config?)" % (text, type(error).__name__)
    return "%s (TensorFlow %s)" % (text, type(error).__name__)
  return cli_errors.error_line(error)


# Lines of a TensorFlow 2 graph error that say where, not what: the cause
# comes after them ("Graph execution error:", the Python stack of the
# node, "Node: '...'", "[[{{node ...}}]]").
_OP_ERROR_FRAME = re.compile(
    r"^(Graph execution error:|Detected at node|File \"|Node: |\[\[|"
    r"\d+ root error\(s\) found|\d+ successful operations|"
    r"\d+ derived errors ignored)")


def op_error_reason(error):
  """The line of a TensorFlow error that says what went wrong.

  TensorFlow 2's first line is often just "Graph execution error:"; the
  cause (e.g. a checkpoint's failed checksum) is further down.
  """
  message = error.message or str(error)
  for line in message.splitlines():
    line = re.sub(r"^\s*\(\d+\)\s*", "", line.strip())
    if line and not _OP_ERROR_FRAME.match(line):
      return line
  return type(error).__name__
