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
"""Checkpoints: reading them safely, initialising from them, choosing the best.

Initialisation (`resolve_init_checkpoint`, `check_checkpoint_files`,
`init_from_checkpoint`, which fails on a mismatch and names what it did not
load instead of training from random weights), recognising a pretrained
checkpoint, naming a corrupt one (`describe_corrupt_checkpoint`), and the
evaluation loop that evaluates every kept checkpoint once and copies the
best to model.ckpt-best (`evaluate_checkpoints`, `best_or_latest_checkpoint`).

Not here: writing result files (file_io), the estimator (estimators).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import json
import os
import re

import tensorflow.compat.v1 as tf

from albert import file_io
from albert import modeling
from albert import progress
from albert import staging


def check_checkpoint_shapes(checkpoint, variables, what="checkpoint"):
  """Fails when a checkpoint cannot restore `variables` (names, shapes).

  Raises:
    CheckpointMismatchError: listing the first variables that differ.
  """
  shapes = dict(tf.train.list_variables(checkpoint))
  problems = []
  for var in variables:
    name = var.op.name
    if name not in shapes:
      problems.append("  %s: in the model, not in the checkpoint" % name)
    elif list(shapes[name]) != var.shape.as_list():
      problems.append("  %s: model %s, checkpoint %s" %
                      (name, var.shape.as_list(), shapes[name]))
  if problems:
    raise CheckpointMismatchError(
        "%s %s does not fit the model: %d variable(s) differ (was it made "
        "with another config or task? use a new --output_dir)\n%s" %
        (what, checkpoint, len(problems), "\n".join(problems[:20])))


def describe_corrupt_checkpoint(reason):
  """What to tell a user whose checkpoint data fails its checksum, or None.

  Args:
    reason: TensorFlow's line, e.g. "TensorBundle at dir/model.ckpt-5 shard
      0 (4000 bytes): Checksum does not match: stored ... vs. calculated
      ...".
  """
  match = re.search(r"TensorBundle at (\S+) shard (\d+) \((\d+) bytes\): "
                    r"Checksum does not match", reason)
  if not match:
    return None
  prefix, shard, size = match.group(1), int(match.group(2)), match.group(3)
  data_files = sorted(tf.gfile.Glob("%s.data-%05d-of-*" % (prefix, shard)))
  data_file = data_files[0] if data_files else "%s.data-*" % prefix
  return ("checkpoint %s is corrupt: its data file %s fails its checksum "
          "(a %s-byte tensor differs from what was saved); copy or download "
          "the checkpoint again" % (prefix, data_file, size))


class CheckpointMismatchError(ValueError):
  """The init checkpoint does not fit the model (shapes, or nothing at all)."""


def check_checkpoint_files(checkpoint, what="checkpoint"):
  """Fails when a checkpoint's files are missing, unreadable or truncated.

  TensorFlow finds a truncated .data file only when it restores, deep in a
  session, with an OutOfRangeError that names no file. The index says how
  many bytes every tensor takes; the data files must hold at least that.

  Args:
    checkpoint: checkpoint prefix.
    what: the flag or role, for the message (e.g. "init_checkpoint").

  Raises:
    CheckpointMismatchError: naming the checkpoint and what is wrong.
  """
  try:
    reader = tf.train.load_checkpoint(checkpoint)
  except (tf.errors.OpError, ValueError) as e:
    raise CheckpointMismatchError(
        "%s %s cannot be read: %s" %
        (what, checkpoint, str(getattr(e, "message", e)).splitlines()[0]))
  shapes = reader.get_variable_to_shape_map()
  dtypes = reader.get_variable_to_dtype_map()
  expected = 0
  for name, shape in shapes.items():
    if dtypes[name] != tf.string:
      count = 1
      for dim in shape:
        count *= dim
      expected += count * dtypes[name].size
  data_files = tf.gfile.Glob(checkpoint + ".data-*")
  actual = sum(tf.io.gfile.stat(path).length for path in data_files)
  if actual < expected:
    raise CheckpointMismatchError(
        "%s %s is truncated: its data file(s) %s hold %d bytes but its index "
        "describes %d; copy or download it again" %
        (what, checkpoint, ", ".join(os.path.basename(p) for p in data_files)
         or "(none)", actual, expected))


def is_pretraining_checkpoint(checkpoint):
  """True if a checkpoint carries the masked-LM head (cls/predictions/).

  Pretrained models (the release's and run_pretraining's) have it;
  fine-tuned ones do not: fine-tuning graphs build no masked-LM head, and
  Savers write only what the graph holds.
  """
  try:
    names = [name for name, _ in tf.train.list_variables(checkpoint)]
  except (tf.errors.OpError, ValueError):
    return False
  return any(name.startswith("cls/predictions/") for name in names)


def resolve_init_checkpoint(init_checkpoint):
  """A checkpoint prefix from what users pass as --init_checkpoint.

  "model.ckpt-best.index" (release issue #135), ".meta" or a ".data-…"
  shard name all mean the prefix; TensorFlow would find no checkpoint at
  them and, in the release, training then went on from random weights.
  """
  if not init_checkpoint:
    return init_checkpoint
  prefix = re.sub(r"\.(index|meta|data-\d+-of-\d+)$", "", init_checkpoint)
  if prefix != init_checkpoint:
    tf.logging.info("--init_checkpoint=%s names one file of a checkpoint; "
                    "using its prefix %s", init_checkpoint, prefix)
  return prefix


def init_from_checkpoint(init_checkpoint,
                         tvars=None,
                         use_tpu=False,
                         num_of_group=0,
                         expected_unmatched=()):
  """Initialises model variables from a checkpoint, loudly.

  Fails when no variable matches (wrong checkpoint) or shapes differ (the
  config does not match the checkpoint); warns, listing the names, when
  model variables outside `expected_unmatched` get no value (they start
  from random weights).

  Args:
    init_checkpoint: checkpoint path/prefix, or None for no initialisation.
    tvars: variables to initialise; defaults to all trainable variables.
    use_tpu: return a scaffold_fn for TPUEstimatorSpec instead of calling
      tf.train.init_from_checkpoint directly.
    num_of_group: > 1 to initialise every group from the checkpoint's
      group_0 (`init_from_group0`).
    expected_unmatched: name prefixes (e.g. "cls/classifier") of variables
      that are new by design and should not be warned about.

  Returns:
    (scaffold_fn or None, initialized_variable_names dict).

  Raises:
    CheckpointMismatchError: no variable matched, or a shape differs.
  """
  if tvars is None:
    tvars = tf.trainable_variables()
  if not init_checkpoint:
    return None, {}
  if tf.gfile.IsDirectory(init_checkpoint):
    latest = tf.train.latest_checkpoint(init_checkpoint)
    if latest is None:
      raise CheckpointMismatchError(
          "init_checkpoint %s is a directory without a checkpoint in it" %
          init_checkpoint)
    init_checkpoint = latest
  if not tf.gfile.Exists(init_checkpoint + ".index") and not tf.gfile.Exists(
      init_checkpoint):
    raise CheckpointMismatchError(
        "init_checkpoint not found: %s (expected a checkpoint prefix such as "
        "model.ckpt-1000, with a .index file beside it)" % init_checkpoint)
  check_checkpoint_files(init_checkpoint, "init_checkpoint")

  result = modeling.get_assignment_map_from_checkpoint(
      tvars, init_checkpoint, num_of_group=num_of_group)
  if result.shape_mismatches:
    lines = ["  %s: model %s, checkpoint %s %s" % (name, shape, ckpt_name,
                                                   ckpt_shape)
             for name, shape, ckpt_name, ckpt_shape in result.shape_mismatches]
    raise CheckpointMismatchError(
        "init_checkpoint %s does not match the model: %d variable(s) have "
        "other shapes (does albert_config_file describe this checkpoint?)\n%s"
        % (init_checkpoint, len(lines), "\n".join(lines[:20])))
  matched = [v for v in tvars
             if modeling._variable_name(v) in  # pylint: disable=protected-access
             result.initialized_variable_names]
  if not matched:
    raise CheckpointMismatchError(
        "init_checkpoint %s matched none of the model's %d variables; is it "
        "an ALBERT checkpoint? It holds e.g. %s" %
        (init_checkpoint, len(tvars),
         ", ".join(result.unused_checkpoint_variables[:5])))
  surprising = [n for n in result.unmatched_variables
                if not any(n.startswith(p) for p in expected_unmatched)]
  if surprising:
    tf.logging.warning(
        "*** %d model variable(s) are NOT in init_checkpoint %s and start "
        "from random weights: %s", len(surprising), init_checkpoint,
        ", ".join(surprising))
  tf.logging.info("Initialised %d of %d variables from %s", len(matched),
                  len(tvars), init_checkpoint)

  maps = (result.assignment_map if num_of_group > 0
          else [result.assignment_map])
  if use_tpu:
    def tpu_scaffold():
      for amap in maps:
        tf.train.init_from_checkpoint(init_checkpoint, amap)
      return tf.train.Scaffold()
    return tpu_scaffold, result.initialized_variable_names
  for amap in maps:
    tf.train.init_from_checkpoint(init_checkpoint, amap)
  return None, result.initialized_variable_names


def log_variables(tvars, initialized_variable_names):
  """Logs every trainable variable, its shape, and whether it was loaded."""
  tf.logging.info("**** Trainable Variables ****")
  for var in tvars:
    init_string = ""
    if var.name in initialized_variable_names:
      init_string = ", *INIT_FROM_CKPT*"
    tf.logging.info("  name = %s, shape = %s%s", var.name, var.shape,
                    init_string)


def warn_random_initialisation(what):
  """The loud warning for fine-tuning that starts from random weights."""
  tf.logging.warning(
      "*** %s: neither init_checkpoint nor a hub module was given, so the "
      "encoder starts from RANDOM weights. Results will be far below a "
      "pretrained model's. ***", what)


BEST_CHECKPOINT_NAME = "model.ckpt-best"


def checkpoint_step(path):
  """model.ckpt-1200 -> 1200 (None for names without a step)."""
  m = re.search(r"-(\d+)$", path)
  return int(m.group(1)) if m else None


def list_checkpoints(output_dir):
  """Checkpoints kept in output_dir, oldest first (model.ckpt-best aside).

  Both those the checkpoint state file lists and every other
  `<name>-<step>.index` in the directory: with keep_checkpoint_max=0
  (keep all) TensorFlow keeps every checkpoint but lists only the last.
  """
  paths = set()
  state = tf.train.get_checkpoint_state(output_dir)
  for path in (state.all_model_checkpoint_paths if state else []):
    # TensorFlow already prefixes relative entries with output_dir; only a
    # bare name (a hand-edited state file) still needs the directory.
    if not tf.gfile.Exists(path + ".index"):
      path = os.path.join(output_dir, os.path.basename(path))
    paths.add(path)
  for index in tf.gfile.Glob(os.path.join(output_dir, "*.index")):
    paths.add(index[:-len(".index")])
  return sorted((p for p in paths
                 if checkpoint_step(p) is not None and
                 tf.gfile.Exists(p + ".index")), key=checkpoint_step)


def copy_checkpoint(source, target):
  """Copies a checkpoint's files (source.* -> target.*).

  Every file is copied under a hidden temporary name first; then the old
  target.index goes, the new files are renamed into place and the new
  .index comes last. A copy that dies half-way leaves no .index, never an
  index that points into other data files.

  Returns:
    (source file, target file) pairs.
  """
  directory, base = os.path.split(target)
  copies = []
  for path in tf.gfile.Glob(source + ".*"):
    suffix = path[len(source):]
    if ".tmp" in suffix:
      continue
    tmp = staging.temporary_path(os.path.join(directory, base + suffix))
    tf.gfile.Copy(path, tmp, overwrite=True)
    copies.append((suffix, tmp))
  if tf.gfile.Exists(target + ".index"):
    tf.gfile.Remove(target + ".index")
  for suffix, tmp in sorted(copies, key=lambda c: c[0] == ".index"):
    tf.gfile.Rename(tmp, target + suffix, overwrite=True)
  return [(source + suffix, target + suffix) for suffix, _ in sorted(copies)]


def checkpoint_global_step(checkpoint):
  """The global_step stored in a checkpoint, or None."""
  try:
    return int(tf.train.load_variable(checkpoint, "global_step"))
  except (tf.errors.OpError, ValueError):
    return None


def best_or_latest_checkpoint(output_dir):
  """output_dir/model.ckpt-best if present and sound, else the latest.

  model.ckpt-best is checked against best_checkpoint.txt (its step): an
  update that was interrupted is repaired from the recorded checkpoint,
  and a best that cannot be trusted is an error rather than a silent
  prediction from other weights. A model.ckpt-best without a record (made
  by the release) is used as it is.

  Raises:
    ValueError: model.ckpt-best disagrees with its record and the recorded
      checkpoint is gone.
  """
  best = os.path.join(output_dir, BEST_CHECKPOINT_NAME)
  record_path = os.path.join(output_dir, "best_checkpoint.txt")
  if tf.gfile.Exists(record_path):
    record = file_io.read_results(record_path)
    step = int(record.get("global_step", -1))
    if (tf.gfile.Exists(best + ".index") and
        checkpoint_global_step(best) == step):
      return best
    source = record.get("checkpoint", "")
    if (source and tf.gfile.Exists(source + ".index") and
        checkpoint_global_step(source) == step):
      tf.logging.warning(
          "%s does not match %s (an interrupted update); copying it again "
          "from %s", best, record_path, source)
      copy_checkpoint(source, best)
      return best
    raise ValueError(
        "%s does not match %s (step %d) and %s is gone; evaluate again "
        "(--do_eval) to choose the best checkpoint" %
        (best, record_path, step, source or "the recorded checkpoint"))
  if tf.gfile.Exists(best + ".index"):
    return best
  return tf.train.latest_checkpoint(output_dir)


def plain_results(result):
  """Estimator eval results as Python numbers (global_step an int)."""
  return {key: (int(value) if key == "global_step" else float(value))
          for key, value in result.items()}


def estimator_evaluate_fn(estimator, input_fn, steps=None, name=None):
  """An `evaluate_checkpoints` evaluate_fn running `estimator.evaluate`."""

  def evaluate_fn(checkpoint_path):
    return plain_results(estimator.evaluate(
        input_fn=input_fn, steps=steps, checkpoint_path=checkpoint_path,
        name=name))

  return evaluate_fn


def evaluate_checkpoints(evaluate_fn, output_dir, key_name,
                         higher_is_better=True, extra_results=None,
                         name=None, eval_key=None, checkpoints=None):
  """Evaluates every kept checkpoint once and keeps the best one.

  Each checkpoint not evaluated before (oldest first) is evaluated and its
  results appended to eval_results.txt as a block of `key = value` lines,
  as the released scripts wrote them. The best checkpoint by `key_name` is
  copied to model.ckpt-best.* and described in best_checkpoint.txt. It
  never waits for checkpoints that are not there, and deletes none.

  Args:
    evaluate_fn: fn(checkpoint_path) -> dict of metric name to number, e.g.
      from `estimator_evaluate_fn`.
    output_dir: model_dir holding the checkpoints.
    key_name: metric that decides the best checkpoint.
    higher_is_better: direction of key_name.
    extra_results: (optional) dict added to every results block.
    name: (optional) a second eval set (e.g. "mismatched"): its results go
      to eval_results_<name>.txt and best_checkpoint_<name>.txt, and it
      does not replace model.ckpt-best.
    eval_key: (optional) JSON-serialisable description of the eval set.
      Results remembered for another eval set (another dev file, other
      flags) are not reused: every checkpoint is evaluated again.
    checkpoints: (optional) the checkpoint paths to consider (default:
      every one in output_dir); the best is chosen among them and those
      evaluated before.

  Returns:
    (results_by_step, best): dict of global step to results dict, and the
    best results dict (with "checkpoint").

  Raises:
    ValueError: output_dir has no checkpoint.
  """
  suffix = "_" + name if name else ""
  results_path = os.path.join(output_dir, "eval_results%s.txt" % suffix)
  history_path = os.path.join(output_dir, "eval_history%s.json" % suffix)
  best_path = os.path.join(output_dir, "best_checkpoint%s.txt" % suffix)
  if checkpoints is None:
    checkpoints = list_checkpoints(output_dir)
  if not checkpoints:
    raise ValueError("output_dir %s has no checkpoint to evaluate; train "
                     "first (--do_train) or point --output_dir at a trained "
                     "model" % output_dir)
  eval_key = json.loads(json.dumps(eval_key, sort_keys=True, default=str))
  history = _read_history(history_path, eval_key)

  def save_history():
    file_io.atomic_write_text(history_path, json.dumps(
        {"eval_key": eval_key,
         "results": {str(k): v for k, v in history.items()}},
        indent=1, sort_keys=True))

  pick = max if higher_is_better else min

  def best_step_of(steps):
    return pick(steps, key=lambda s: (history[s][key_name], -s))

  for path in checkpoints:
    step = checkpoint_step(path)
    if step in history:
      continue
    result = dict(evaluate_fn(path))
    result.setdefault("global_step", step)
    result.update(extra_results or {})
    if key_name not in result:
      raise ValueError("eval results have no %r to pick the best checkpoint "
                       "by; they have %s" % (key_name, sorted(result)))
    progress.log_progress("checkpoint %s: %s = %.4f", os.path.basename(path),
                          key_name, result[key_name])
    history[step] = dict(result, checkpoint=path)
    # The release's block: the results, the best value so far, a rule.
    file_io.append_text(results_path, "%sbest = %s\n%s\n" % (
        file_io._results_text(result), history[best_step_of(history)][key_name],
        "=" * 50))
    save_history()

  best_step = best_step_of(history)
  best = history[best_step]
  best_lines = {"checkpoint": best["checkpoint"], "global_step": best_step,
                        key_name: best[key_name]}
  best_prefix = os.path.join(output_dir, BEST_CHECKPOINT_NAME)
  previous = None
  if tf.gfile.Exists(best_path):
    with tf.gfile.GFile(best_path) as f:
      previous = f.read()
  # The copy comes first and the record last, so a record never describes
  # a model.ckpt-best that was not (completely) copied.
  if not name and (previous != file_io._results_text(best_lines) or
                   not tf.gfile.Exists(best_prefix + ".index")):
    if tf.gfile.Exists(best["checkpoint"] + ".index"):
      copied = copy_checkpoint(best["checkpoint"], best_prefix)
      file_io.append_text(results_path, "".join(
          "saved %s to %s\n" % pair for pair in copied))
  file_io.write_results(best_path, best_lines)
  if not name:
    # The release's record of the evaluation: last step, best step, value.
    file_io.atomic_write_text(
        os.path.join(output_dir, "best_trial.txt"),
        "%d:%d:%s" % (max(history), best_step, best[key_name]))
  progress.log_progress("best checkpoint: step %d, %s = %.4f", best_step,
                        key_name, best[key_name])
  return history, best


def _read_history(history_path, eval_key):
  """Remembered results by step, if they are for the same eval set."""
  if not tf.gfile.Exists(history_path):
    return {}
  with tf.gfile.GFile(history_path) as f:
    data = json.load(f)
  if "results" in data and "eval_key" in data:
    if data["eval_key"] != eval_key:
      tf.logging.warning(
          "%s holds results for another eval set (other data or flags); "
          "evaluating every checkpoint again", history_path)
      return {}
    data = data["results"]
  return {int(step): result for step, result in data.items()}
