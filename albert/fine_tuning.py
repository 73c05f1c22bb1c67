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
"""The one fine-tuning driver that GLUE, SQuAD v1/v2 and RACE share.

A task supplies only its own pieces (data, features, head, metrics, output
files); this module does the rest in the same order for every task:

  1. check the flags, the init source, the config, the vocabulary and the
     output directory, and read every data file the run needs;
  2. build the estimator (estimators, distributed);
  3. train;
  4. evaluate every checkpoint once and keep the best;
  5. predict with the best (or latest) checkpoint;
  6. export a SavedModel.

The model_fn is built the same way for every task too (task_model): the
task's head returns its loss, predictions and eval metrics, and
`model_fn_builder` adds checkpoint initialisation, the optimizer and the
estimator specs.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import hashlib
import os

import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import distributed
from albert import estimators
from albert import file_io
from albert import fine_tuning_utils
from albert import input_pipeline
from albert import modeling
from albert import progress
from albert import task_model
from albert import tokenization

# Kept here for code written against this module (squad_heads among it).
HeadOutputs = task_model.HeadOutputs
model_fn_builder = task_model.model_fn_builder
labels_and_weights = task_model.labels_and_weights


# Which phases a run has.
Modes = collections.namedtuple("Modes",
                               ["train", "evaluate", "predict", "export"])

# One evaluation of every checkpoint: results go to eval_results<_name>.txt.
#   name: None for the main eval set (it picks model.ckpt-best).
#   evaluate_fn: fn(checkpoint_path) -> dict of metric name to number.
#   eval_key: describes the eval set (see checkpoints.evaluate_checkpoints).
EvalSet = collections.namedtuple("EvalSet", ["name", "evaluate_fn",
                                             "eval_key"])


def common_flag_specs(max_seq_length=512, learning_rate=5e-5,
                      train_batch_size=32, predict_batch_size=8,
                      do_train=False):
  """The flags every fine-tuning command has, with the release's help."""
  return [
      ("string", "albert_config_file", None,
       "The config json file corresponding to the pre-trained ALBERT model. "
       "This specifies the model architecture."),
      ("string", "vocab_file", None,
       "The vocabulary file that the ALBERT model was trained on."),
      ("string", "spm_model_file", None,
       "The model file for sentence piece tokenization."),
      ("string", "output_dir", None,
       "The output directory where the model checkpoints will be written."),
      ("string", "init_checkpoint", None,
       "Initial checkpoint (usually from a pre-trained ALBERT model): the "
       "prefix, e.g. albert_base/model.ckpt-best (a .index suffix is "
       "accepted and dropped)."),
      ("string", "albert_hub_module_handle", None,
       "If set, the ALBERT hub module to use."),
      ("bool", "do_lower_case", True,
       "Whether to lower case the input text. Should be True for uncased "
       "models and False for cased models."),
      ("integer", "max_seq_length", max_seq_length,
       "The maximum total input sequence length after WordPiece "
       "tokenization. Sequences longer than this will be truncated, and "
       "sequences shorter than this will be padded."),
      ("bool", "do_train", do_train, "Whether to run training."),
      ("bool", "do_predict", False, "Whether to run prediction."),
      ("integer", "train_batch_size", train_batch_size,
       "Total batch size for training."),
      ("integer", "predict_batch_size", predict_batch_size,
       "Total batch size for predictions."),
      ("float", "learning_rate", learning_rate,
       "The initial learning rate for Adam."),
      ("bool", "use_einsum", True,
       "Compute the encoder's dense layers with einsum (False: matmul and "
       "reshape only, e.g. for TFLite)."),
  ]


class Task(object):
  """A fine-tuning task's own pieces; `run` calls them in a fixed order.

  Subclasses set `name` (for messages) and `main_metric` (picks the best
  checkpoint) and implement the methods below. `self.options`,
  `self.tokenizer`, `self.albert_config` (None with a hub module) and
  `self.features` (a `FeatureCache`) are set by `run` before `read_data`;
  `self.init_checkpoint` (the checkpoint prefix to warm-start from, None
  when resuming or not training) before `model_fn`.
  """

  name = "fine-tuning"
  main_metric = "eval_accuracy"
  higher_is_better = True

  def modes(self, options):
    """Which phases the options ask for: a `Modes`."""
    raise NotImplementedError

  def check_options(self, options):
    """Task flag checks; raise ValueError naming the flag."""

  def read_data(self):
    """Reads every data file the run needs (bad files fail here, early)."""
    raise NotImplementedError

  def train_steps(self):
    """(num_train_steps, num_warmup_steps)."""
    raise NotImplementedError

  def model_fn(self, num_train_steps, num_warmup_steps):
    """The TPUEstimator model_fn (see `model_fn_builder`)."""
    raise NotImplementedError

  def batch_sizes(self):
    """(train, eval, predict) global batch sizes."""
    o = self.options
    return (o.train_batch_size, getattr(o, "eval_batch_size",
                                        o.predict_batch_size),
            o.predict_batch_size)

  def train_input_fn(self):
    """The training input_fn (features written or reused here)."""
    raise NotImplementedError

  def eval_sets(self, estimator):
    """The `EvalSet`s evaluated on every checkpoint."""
    raise NotImplementedError

  def predict(self, estimator, checkpoint):
    """Writes the task's prediction files; returns a dict for the summary."""
    raise NotImplementedError

  def export(self, estimator, checkpoint):
    """Exports a SavedModel; returns its path."""
    return estimators.export_saved_model(
        estimator, self.options.export_dir, self.options.max_seq_length,
        checkpoint_path=checkpoint)


class FeatureCache(object):
  """Feature files named and checked by everything that changes them."""

  def __init__(self, options, tokenizer, cache_dir):
    self._options = options
    self._tokenizer = tokenizer
    self.cache_dir = cache_dir

  def key(self, **fields):
    """`fields` plus the tokenizer: a cache key."""
    o = self._options
    hub_module = o.albert_hub_module_handle
    key = {
        "max_seq_length": o.max_seq_length,
        "do_lower_case": self._tokenizer.do_lower_case,
        "use_spm": self._tokenizer.sp_model is not None,
        "spm_model_file": (None if hub_module else
                           input_pipeline.file_fingerprint(o.spm_model_file)),
        "vocab_file": (None if hub_module or o.spm_model_file else
                       input_pipeline.file_fingerprint(o.vocab_file)),
        "hub_module": hub_module,
        "vocabulary": vocabulary_digest(self._tokenizer),
    }
    key.update(fields)
    return key

  def path(self, name, key, explicit_path=None, extension=".tf_record"):
    """explicit_path if given (a release cache flag), else a keyed name."""
    return explicit_path or input_pipeline.cached_features_path(
        self.cache_dir, name, key, extension)


def vocabulary_digest(tokenizer):
  """A hash of the tokenizer's vocabulary itself (any source)."""
  if tokenizer.sp_model is not None:
    data = tokenizer.sp_model.serialized_model_proto()
  else:
    data = "\n".join("%s\t%d" % item for item in sorted(
        tokenizer.vocab.items())).encode("utf-8")
  return hashlib.sha256(data).hexdigest()[:16]


def load_config(options):
  """The AlbertConfig of --albert_config_file (None with a hub module)."""
  if not options.albert_config_file:
    if not options.albert_hub_module_handle:
      raise ValueError("At least one of `--albert_config_file` and "
                       "`--albert_hub_module_handle` must be set")
    return None
  return modeling.load_albert_config(options.albert_config_file,
                                     options.max_seq_length)


def _same_directory(a, b):
  """True if paths a and b name the same directory."""
  if "://" in a or "://" in b:
    return a.rstrip("/") == b.rstrip("/")
  return os.path.realpath(a) == os.path.realpath(b)


def _refuse_pretrained_output_dir(options, modes, init_checkpoint):
  """Fails when output_dir is a pretrained model's directory.

  Its checkpoint would be taken for this task's own training: resumed
  (with no head to train), skipped as already past num_train_steps, and
  its model.ckpt-best replaced by a fine-tuned one.
  """
  output_dir = options.output_dir
  if (modes.train and init_checkpoint and
      _same_directory(os.path.dirname(init_checkpoint) or ".", output_dir)):
    raise ValueError(
        "--output_dir=%s is the directory of --init_checkpoint=%s: "
        "fine-tuning there would mix this run's checkpoints with the one it "
        "starts from and could replace its model.ckpt-best; choose a new "
        "--output_dir (a fine-tuning run in it resumes without "
        "--init_checkpoint)" % (output_dir, init_checkpoint))
  if not tf.gfile.IsDirectory(output_dir):
    return
  best = os.path.join(output_dir, checkpoints.BEST_CHECKPOINT_NAME)
  for checkpoint in (best if tf.gfile.Exists(best + ".index") else None,
                     tf.train.latest_checkpoint(output_dir)):
    if checkpoint and checkpoints.is_pretraining_checkpoint(checkpoint):
      raise ValueError(
          "--output_dir=%s holds a pretrained model (%s has the masked-LM "
          "head, no fine-tuned one), not a fine-tuning run to resume or "
          "predict with; pass it as --init_checkpoint=%s and choose a new "
          "--output_dir" % (output_dir, checkpoint, checkpoint))


def _check_checkpoints(options, modes, init_checkpoint):
  """Fails early when a run cannot use output_dir's checkpoints.

  Returns:
    (resuming, model_checkpoint): resuming is True when training resumes
    from output_dir's latest checkpoint; model_checkpoint is
    --init_checkpoint when a run without training predicts or exports
    with it because output_dir has no checkpoint, else None.
  """
  _refuse_pretrained_output_dir(options, modes, init_checkpoint)
  latest = tf.train.latest_checkpoint(options.output_dir)
  if modes.train:
    if latest:
      tf.logging.info("Resuming from %s (output_dir already has "
                      "checkpoints)%s", latest,
                      "; --init_checkpoint is not used"
                      if options.init_checkpoint else "")
    return bool(latest), None
  if modes.evaluate and latest is None:
    missing = "evaluate"
  elif ((modes.predict or modes.export) and
        checkpoints.best_or_latest_checkpoint(options.output_dir) is None):
    if init_checkpoint:
      return False, _fine_tuned_init_checkpoint(options, modes,
                                                init_checkpoint)
    missing = "predict with" if modes.predict else "export"
  else:
    return False, None
  raise ValueError(
      "output_dir %s has no checkpoint to %s; train first (--do_train), "
      "point --output_dir at a fine-tuned model%s" %
      (options.output_dir, missing, "" if missing == "evaluate" else
       " or pass one as --init_checkpoint"))


def _fine_tuned_init_checkpoint(options, modes, init_checkpoint):
  """--init_checkpoint as the model to predict or export with.

  Raises:
    ValueError: it is missing or truncated, or a pretrained model (its
      task head would be random).
  """
  checkpoints.check_checkpoint_files(init_checkpoint, "init_checkpoint")
  if checkpoints.is_pretraining_checkpoint(init_checkpoint):
    raise ValueError(
        "--init_checkpoint=%s is a pretrained model (it has the masked-LM "
        "head), not one fine-tuned for this task: its task head would be "
        "random. Fine-tune it first (--do_train), or pass a fine-tuned "
        "checkpoint" % init_checkpoint)
  progress.log_progress(
      "output_dir %s has no checkpoint: %s with --init_checkpoint=%s",
      options.output_dir,
      "predicting" if modes.predict else "exporting", init_checkpoint)
  return init_checkpoint


def run(options, task):
  """Fine-tunes, evaluates, predicts and exports, as the options ask.

  Args:
    options: flag values (FLAGS, or `command_line.options(...)`).
    task: a `Task`.

  Returns:
    dict: "best" (the best checkpoint's results, or None), "eval_history"
    (step -> results), the same with a "_<name>" suffix for other eval
    sets, "predictions" (what task.predict returned, or None) and
    "export_path" (or None).

  Raises:
    ValueError: on missing or inconsistent flags, data or checkpoints;
      nothing is trained or written before these checks pass.
  """
  modes = task.modes(options)
  if not any(modes):
    raise ValueError("Nothing to do: pass at least one of --do_train, "
                     "--do_eval, --do_predict (or --export_dir where the "
                     "command has it)")
  if not options.output_dir:
    raise ValueError("--output_dir is required")
  command_line.check_numeric_flags(options)
  estimators.check_performance_flags(
      options, use_tpu=options.use_tpu,
      hub_module=options.albert_hub_module_handle)
  task.check_options(options)
  train_batch_size = options.train_batch_size if modes.train else None
  distributed.check_distribution_flags(options, train_batch_size,
                                      use_tpu=options.use_tpu)
  init_checkpoint = checkpoints.resolve_init_checkpoint(options.init_checkpoint)

  # 1. Config, init source, vocabulary, data and output dir.
  albert_config = load_config(options)
  hub_module = options.albert_hub_module_handle
  init_note = None
  if modes.train:
    init_note = fine_tuning_utils.check_init_source(
        init_checkpoint, hub_module, task.name)
  elif init_checkpoint and hub_module:
    fine_tuning_utils.check_init_source(init_checkpoint, hub_module,
                                        task.name)
  tokenization.validate_case_matches_checkpoint(options.do_lower_case,
                                                init_checkpoint)
  tokenizer = fine_tuning_utils.create_vocab(
      vocab_file=options.vocab_file,
      do_lower_case=options.do_lower_case,
      spm_model_file=options.spm_model_file,
      hub_module=hub_module)
  if albert_config is not None:
    fine_tuning_utils.check_vocab_matches_config(
        tokenizer, albert_config,
        hub_module or options.spm_model_file or options.vocab_file)
  task.options = options
  task.tokenizer = tokenizer
  task.albert_config = albert_config
  task.init_note = init_note
  task.features = FeatureCache(
      options, tokenizer,
      getattr(options, "cached_dir", None) or options.output_dir)
  task.read_data()
  # Before anything is created: a run that cannot go on leaves no
  # output_dir behind.
  resuming, model_checkpoint = _check_checkpoints(options, modes,
                                                  init_checkpoint)
  file_io.check_output_dir_writable(options.output_dir)
  # Weights come from init_checkpoint only when training starts afresh;
  # resumed training and evaluation restore output_dir's checkpoints.
  task.init_checkpoint = (init_checkpoint if modes.train and not resuming
                          else None)

  # 2. The estimator.
  num_train_steps, num_warmup_steps = task.train_steps()
  iterations_per_loop = options.iterations_per_loop
  if modes.train:
    iterations_per_loop = min(iterations_per_loop,
                              options.save_checkpoints_steps)
  # Last: with several machines this waits for the whole cluster.
  distribution = distributed.distribution_from_options(
      options, train_batch_size, use_tpu=options.use_tpu)
  run_config = estimators.run_config_from_options(
      options, iterations_per_loop=iterations_per_loop,
      distribution=distribution)
  train_batch_size, eval_batch_size, predict_batch_size = task.batch_sizes()
  estimator = estimators.make_estimator(
      task.model_fn(num_train_steps, num_warmup_steps), run_config,
      use_tpu=options.use_tpu, train_batch_size=train_batch_size,
      eval_batch_size=eval_batch_size,
      predict_batch_size=predict_batch_size,
      params=estimators.model_params(options), distribution=distribution)
  summary = {"best": None, "eval_history": None, "predictions": None,
             "export_path": None}
  is_chief = distribution is None or distribution.is_chief

  # 3. Training.
  if modes.train:
    if is_chief:
      file_io.remove_dead_run_leftovers(options.output_dir)
    input_fn = task.train_input_fn()
    progress.log_progress(
        "%s: training to step %d (%s, warmup %d steps%s)", task.name,
        num_train_steps,
        estimators.describe_batch(options, train_batch_size, distribution),
        num_warmup_steps, estimators.describe_precision(options))
    estimator.train(input_fn=input_fn, max_steps=num_train_steps)
  if not is_chief:
    # Evaluation, predictions and the export are the chief's.
    progress.log_progress("%s: %s done; the chief evaluates, predicts and "
                          "exports", task.name, distribution.task_name)
    return summary

  # 4. Every checkpoint evaluated once; the best kept.
  if modes.evaluate:
    for eval_set in task.eval_sets(estimator):
      history, best = checkpoints.evaluate_checkpoints(
          eval_set.evaluate_fn, options.output_dir, task.main_metric,
          higher_is_better=task.higher_is_better,
          extra_results={"note": init_note} if init_note else None,
          name=eval_set.name, eval_key=eval_set.eval_key)
      suffix = "_" + eval_set.name if eval_set.name else ""
      summary["best" + suffix] = best
      summary["eval_history" + suffix] = history

  # 5. Predictions and 6. the export, from the best checkpoint.
  if modes.predict or modes.export:
    checkpoint = (checkpoints.best_or_latest_checkpoint(options.output_dir) or
                  model_checkpoint)
    if checkpoint is None:
      raise ValueError("output_dir %s has no checkpoint to predict with" %
                       options.output_dir)
    if modes.predict:
      summary["predictions"] = task.predict(estimator, checkpoint)
    if modes.export:
      summary["export_path"] = task.export(estimator, checkpoint)
  _log_summary(task, summary)
  return summary


def _log_summary(task, summary):
  """The run's last line: what it produced, where."""
  parts = []
  if summary["best"]:
    parts.append("best checkpoint step %d (%s = %.4f)" % (
        summary["best"]["global_step"], task.main_metric,
        summary["best"][task.main_metric]))
  if summary["predictions"] is not None:
    parts.append("predictions in %s" % task.options.output_dir)
  if summary["export_path"]:
    parts.append("SavedModel %s" % summary["export_path"])
  progress.log_progress("%s done%s", task.name,
                        ": " + "; ".join(parts) if parts else "")


def command(task_class):
  """(run, main) of a fine-tuning command whose pieces are `task_class`.

  run(options) fine-tunes, evaluates, predicts and/or exports as the
  options (FLAGS, or the module's `default_options(...)`) ask and returns
  the driver's summary (see `run`); main is its absl entry point.
  """

  def run_command(options):
    """Runs the command on FLAGS or `default_options(...)`."""
    return run(options, task_class())

  return run_command, command_line.cli_main(run_command)
