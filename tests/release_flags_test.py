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
"""Every flag of the released commands exists here, with the same default.

Command lines written for google-research/albert (its README, run_glue.sh,
people's scripts) must run unchanged with `python -m albert.<command>`. The
tables below record, for each released command, every flag it defines with
its kind and default, as released. They are checked twice:

* in this process, against each module's own table of defaults
  (`FLAG_DEFAULTS`, or the flags `create_pretraining_data.define_flags()`
  declares, collected into a private FlagValues so the global FLAGS is not
  touched);
* in a fresh interpreter per command, through absl itself: there only that
  command's module has defined flags, exactly as on a real command line, so
  the default and kind absl reports are what a user gets.

Our commands may define more flags than the release; that is allowed.
A test at the end parses a release-style run_pretraining command line with
absl's parser to show the release's flag syntax is understood.
"""

import functools
import importlib
import json
import os
import subprocess
import sys

from absl import flags
from absl.testing import flagsaver
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STRING, INTEGER, FLOAT, BOOL, ENUM = "string", "integer", "float", "bool", "enum"

# absl's name for each kind (Flag.flag_type()).
ABSL_KIND = {STRING: "string", INTEGER: "int", FLOAT: "float", BOOL: "bool",
             ENUM: "string enum"}


def _strings(*names):
  return {name: (STRING, None) for name in names}


# The TPU/cluster flags every released run_* script defines.
_TPU = dict(_strings("tpu_name", "tpu_zone", "gcp_project", "master"),
            use_tpu=(BOOL, False), num_tpu_cores=(INTEGER, 8))

# run_squad_v1.py and run_squad_v2.py share these.
_SQUAD = dict(
    _TPU,
    **_strings("albert_config_file", "vocab_file", "spm_model_file",
               "output_dir", "train_file", "predict_file",
               "train_feature_file", "predict_feature_file",
               "predict_feature_left_file", "init_checkpoint",
               "albert_hub_module_handle"),
    do_lower_case=(BOOL, True), max_seq_length=(INTEGER, 384),
    doc_stride=(INTEGER, 128), max_query_length=(INTEGER, 64),
    do_train=(BOOL, False), do_predict=(BOOL, False),
    train_batch_size=(INTEGER, 32), predict_batch_size=(INTEGER, 8),
    learning_rate=(FLOAT, 5e-5), num_train_epochs=(FLOAT, 3.0),
    warmup_proportion=(FLOAT, 0.1), save_checkpoints_steps=(INTEGER, 1000),
    iterations_per_loop=(INTEGER, 1000), n_best_size=(INTEGER, 20),
    max_answer_length=(INTEGER, 30))

# Module name -> {flag: (kind, released default)}, from the release's last
# version of each script.
RELEASED = {
    "albert.run_classifier": dict(
        _TPU,
        **_strings("data_dir", "albert_config_file", "task_name",
                   "vocab_file", "spm_model_file", "output_dir",
                   "cached_dir", "init_checkpoint",
                   "albert_hub_module_handle"),
        do_lower_case=(BOOL, True), max_seq_length=(INTEGER, 512),
        do_train=(BOOL, False), do_eval=(BOOL, False),
        do_predict=(BOOL, False), train_batch_size=(INTEGER, 32),
        eval_batch_size=(INTEGER, 8), predict_batch_size=(INTEGER, 8),
        learning_rate=(FLOAT, 5e-5), train_step=(INTEGER, 1000),
        warmup_step=(INTEGER, 0), save_checkpoints_steps=(INTEGER, 1000),
        keep_checkpoint_max=(INTEGER, 5), iterations_per_loop=(INTEGER, 1000),
        optimizer=(STRING, "adamw")),
    "albert.run_pretraining": dict(
        _TPU,
        **_strings("albert_config_file", "input_file", "output_dir",
                   "init_checkpoint"),
        max_seq_length=(INTEGER, 512), max_predictions_per_seq=(INTEGER, 20),
        do_train=(BOOL, True), do_eval=(BOOL, False),
        train_batch_size=(INTEGER, 4096), eval_batch_size=(INTEGER, 64),
        optimizer=(ENUM, "lamb"), learning_rate=(FLOAT, 0.00176),
        poly_power=(FLOAT, 1.0), num_train_steps=(INTEGER, 125000),
        num_warmup_steps=(INTEGER, 3125), start_warmup_step=(INTEGER, 0),
        save_checkpoints_steps=(INTEGER, 5000),
        keep_checkpoint_max=(INTEGER, 5), iterations_per_loop=(INTEGER, 1000),
        max_eval_steps=(INTEGER, 100), init_from_group0=(BOOL, False),
        masked_lm_budget=(FLOAT, 0)),
    "albert.create_pretraining_data": dict(
        _strings("input_file", "output_file", "vocab_file", "spm_model_file"),
        input_file_mode=(STRING, "r"), do_lower_case=(BOOL, True),
        do_whole_word_mask=(BOOL, True), do_permutation=(BOOL, False),
        favor_shorter_ngram=(BOOL, True), random_next_sentence=(BOOL, False),
        max_seq_length=(INTEGER, 512), ngram=(INTEGER, 3),
        max_predictions_per_seq=(INTEGER, 20), random_seed=(INTEGER, 12345),
        dupe_factor=(INTEGER, 40), masked_lm_prob=(FLOAT, 0.15),
        short_seq_prob=(FLOAT, 0.1), parallel=(BOOL, False)),
    "albert.export_to_tfhub": dict(
        _strings("albert_directory", "export_path"),
        checkpoint_name=(STRING, "model.ckpt-best"),
        do_lower_case=(BOOL, True), use_einsum=(BOOL, True)),
    "albert.run_squad_v1": dict(
        _SQUAD, use_einsum=(BOOL, True), export_dir=(STRING, None)),
    "albert.run_squad_v2": dict(
        _SQUAD, start_n_top=(INTEGER, 5), end_n_top=(INTEGER, 5),
        dropout_prob=(FLOAT, 0.1)),
    "albert.run_race": dict(
        _TPU,
        **_strings("data_dir", "albert_config_file", "vocab_file",
                   "train_file", "eval_file", "predict_file",
                   "spm_model_file", "output_dir", "init_checkpoint",
                   "albert_hub_module_handle"),
        task_name=(STRING, "race"), do_lower_case=(BOOL, True),
        dropout_prob=(FLOAT, 0.1), max_seq_length=(INTEGER, 512),
        max_qa_length=(INTEGER, 128), num_keep_checkpoint=(INTEGER, 5),
        high_only=(BOOL, False), middle_only=(BOOL, False),
        do_train=(BOOL, True), do_eval=(BOOL, True), do_predict=(BOOL, False),
        train_batch_size=(INTEGER, 32), eval_batch_size=(INTEGER, 8),
        predict_batch_size=(INTEGER, 8), learning_rate=(FLOAT, 1e-5),
        train_step=(INTEGER, 12000), warmup_step=(INTEGER, 1000),
        save_checkpoints_steps=(INTEGER, 100),
        iterations_per_loop=(INTEGER, 1000)),
}

# Enum values the release accepts for its own enum flags; ours must accept
# at least these.
RELEASED_ENUM_VALUES = {
    ("albert.run_pretraining", "optimizer"): {"adamw", "lamb"},
}

# Deliberate differences, asserted explicitly: released free-form string
# flags that are enums here. Each enum holds every value the released code
# can actually run with, so no working release command line is refused;
# anything else failed later in the release (run_classifier's optimizer
# raised "Not supported optimizer" once training started; input_file_mode
# was handed to tf.gfile.GFile, which reads only with "r" or "rb") and is
# now refused when the flags are parsed.
NARROWED_TO_ENUM = {
    ("albert.run_classifier", "optimizer"): {"adamw", "lamb"},
    ("albert.create_pretraining_data", "input_file_mode"): {"r", "rb"},
}

COMMANDS = sorted(RELEASED)


def _command_id(module_name):
  return module_name.split(".")[-1]


class _FlagsBoundTo(object):
  """Stands in for the `absl.flags` module with every DEFINE_* and mark_*
  function writing into `flag_values` instead of the global FLAGS."""

  def __init__(self, flag_values):
    self._flag_values = flag_values

  def __getattr__(self, name):
    value = getattr(flags, name)
    if name.startswith(("DEFINE", "mark_flag", "mark_bool_flags")):
      return functools.partial(value, flag_values=self._flag_values)
    return value


def create_pretraining_data_defaults():
  """{flag: default} declared by create_pretraining_data.define_flags().

  The module defines its flags only when run as a program, and several of
  their names (input_file, vocab_file, max_seq_length, ...) belong to other
  commands in this process too, so its definitions are collected into a
  private FlagValues.
  """
  module = importlib.import_module("albert.create_pretraining_data")
  private = flags.FlagValues()
  original = module.flags
  module.flags = _FlagsBoundTo(private)
  try:
    module.define_flags()
  finally:
    module.flags = original
  names = list(private)
  assert names, ("create_pretraining_data.define_flags() defined nothing "
                 "through its module's `flags`; update this helper")
  return {name: private[name].default for name in names}


def in_process_defaults(module_name):
  if module_name == "albert.create_pretraining_data":
    return create_pretraining_data_defaults()
  return importlib.import_module(module_name).FLAG_DEFAULTS


def default_mismatches(module_name, ours):
  """Lines naming each released flag missing or with another default."""
  problems = []
  for name, (_, released) in sorted(RELEASED[module_name].items()):
    if name not in ours:
      problems.append("%s: --%s missing (released default %r)" %
                      (_command_id(module_name), name, released))
    elif (ours[name] != released or
          isinstance(ours[name], bool) != isinstance(released, bool)):
      problems.append("%s: --%s default %r, released %r" %
                      (_command_id(module_name), name, ours[name], released))
  return problems


@pytest.mark.parametrize("module_name", COMMANDS, ids=_command_id)
def test_module_table_has_every_released_flag_and_default(module_name):
  ours = in_process_defaults(module_name)
  assert default_mismatches(module_name, ours) == []


def test_reading_create_pretraining_data_flags_leaves_global_flags_alone():
  before = set(flags.FLAGS)
  create_pretraining_data_defaults()
  create_pretraining_data_defaults()  # And can be repeated.
  assert set(flags.FLAGS) == before


# Run in a fresh interpreter: imports one command's module, defines its
# flags the way its `__main__` block does, and prints what absl knows of the
# requested names as JSON on the last line of stdout.
_DESCRIBE_FLAGS = r"""
import importlib, json, sys
from absl import flags
module = importlib.import_module(sys.argv[1])
if not hasattr(module, "FLAG_DEFAULTS"):
  module.define_flags()
found = {}
for name in json.loads(sys.argv[2]):
  if name in flags.FLAGS:
    flag = flags.FLAGS[name]
    found[name] = {
        "kind": flag.flag_type(), "default": flag.default,
        "enum_values": list(getattr(flag.parser, "enum_values", None) or [])}
print(json.dumps(found))
"""


def describe_in_fresh_process(module_name, names, cwd):
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  proc = subprocess.run(
      [sys.executable, "-c", _DESCRIBE_FLAGS, module_name, json.dumps(names)],
      cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("module_name", COMMANDS, ids=_command_id)
def test_command_line_has_every_released_flag_kind_and_default(module_name,
                                                               tmp_path):
  released = RELEASED[module_name]
  found = describe_in_fresh_process(module_name, sorted(released),
                                    str(tmp_path))
  command = _command_id(module_name)
  problems = default_mismatches(
      module_name, {name: info["default"] for name, info in found.items()})
  for name, (kind, _) in sorted(released.items()):
    if name not in found:
      continue  # Already listed as missing.
    info = found[name]
    key = (module_name, name)
    if key in NARROWED_TO_ENUM:
      # Deliberate difference (see NARROWED_TO_ENUM).
      if info["kind"] != ABSL_KIND[ENUM] or not NARROWED_TO_ENUM[key] <= set(
          info["enum_values"]):
        problems.append("%s: --%s is %s %r, expected an enum accepting %s" %
                        (command, name, info["kind"], info["enum_values"],
                         sorted(NARROWED_TO_ENUM[key])))
    elif info["kind"] != ABSL_KIND[kind]:
      problems.append("%s: --%s is %s, released %s" %
                      (command, name, info["kind"], ABSL_KIND[kind]))
    elif key in RELEASED_ENUM_VALUES and not RELEASED_ENUM_VALUES[key] <= set(
        info["enum_values"]):
      problems.append("%s: --%s accepts %r, released %r" %
                      (command, name, info["enum_values"],
                       sorted(RELEASED_ENUM_VALUES[key])))
  assert problems == []


def test_release_tables_cover_what_was_read():
  # The number of flags each released command defines; guards the tables
  # above against an accidentally dropped entry.
  assert {_command_id(m): len(f) for m, f in RELEASED.items()} == {
      "run_classifier": 30, "run_pretraining": 28,
      "create_pretraining_data": 18, "export_to_tfhub": 5,
      "run_squad_v1": 34, "run_squad_v2": 35, "run_race": 35}


@pytest.fixture
def parsed_global_flags_restored():
  """Restores flag values and whether FLAGS counts as parsed."""
  was_parsed = flags.FLAGS.is_parsed()
  with flagsaver.flagsaver():
    yield flags.FLAGS
  if not was_parsed:
    # flagsaver restores every flag but not FlagValues' own "parsed" mark;
    # undo exactly what parsing set (the counterpart of mark_as_parsed()).
    flags.FLAGS.__dict__["__flags_parsed"] = False


@pytest.mark.parametrize("argv, expected", [
    # The README's spelling: bare booleans.
    (["--input_file=data/*.tfrecord", "--output_dir=out",
      "--init_checkpoint=base/model.ckpt-best",
      "--albert_config_file=base/albert_config.json", "--do_train",
      "--do_eval", "--train_batch_size=4096", "--eval_batch_size=64",
      "--max_seq_length=512", "--max_predictions_per_seq=20",
      "--optimizer=lamb", "--learning_rate=.00176",
      "--num_train_steps=125000", "--num_warmup_steps=3125",
      "--save_checkpoints_steps=5000"],
     dict(input_file="data/*.tfrecord", output_dir="out",
          init_checkpoint="base/model.ckpt-best", do_train=True,
          do_eval=True, train_batch_size=4096, optimizer="lamb",
          learning_rate=0.00176, num_warmup_steps=3125,
          save_checkpoints_steps=5000)),
    # =true/=False values, the --no prefix, a TPU run's flags.
    (["--input_file=gs://b/a.tfrecord,gs://b/b.tfrecord", "--output_dir=o",
      "--albert_config_file=c.json", "--do_train=true", "--nodo_eval",
      "--use_tpu=True", "--tpu_name=grpc://10.0.0.2:8470",
      "--num_tpu_cores=8", "--optimizer=adamw", "--poly_power=1.0",
      "--start_warmup_step=0", "--iterations_per_loop=1000",
      "--init_from_group0=False", "--max_eval_steps=100",
      "--masked_lm_budget=0"],
     dict(input_file="gs://b/a.tfrecord,gs://b/b.tfrecord", do_train=True,
          do_eval=False, use_tpu=True, tpu_name="grpc://10.0.0.2:8470",
          optimizer="adamw", init_from_group0=False, masked_lm_budget=0.0,
          num_tpu_cores=8)),
], ids=["readme_bare_booleans", "explicit_and_no_prefixed_booleans"])
def test_release_style_run_pretraining_command_line_parses(
    parsed_global_flags_restored, argv, expected):
  from albert import run_pretraining  # pylint: disable=unused-import,g-import-not-at-top
  # Only values given on the command line are compared: in this process
  # a shared name's default is whichever command defined it first.
  fv = parsed_global_flags_restored
  leftover = fv(["run_pretraining.py"] + argv)
  assert leftover == ["run_pretraining.py"]
  for name, value in expected.items():
    assert fv[name].value == value, name


def test_run_pretraining_refuses_an_optimizer_the_release_refuses(
    parsed_global_flags_restored):
  from albert import run_pretraining  # pylint: disable=unused-import,g-import-not-at-top
  with pytest.raises(flags.IllegalFlagValueError):
    parsed_global_flags_restored(["run_pretraining.py", "--optimizer=sgd"])
