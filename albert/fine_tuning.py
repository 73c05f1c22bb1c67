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
"""What GLUE, SQuAD v1/v2 and RACE share on the training driver.

`Task` holds the fine-tuning rules for each of the driver's steps
(albert/driver.py): the flags (`common_flag_specs`, `dev_set_flag_specs`),
a context with the init source, config, vocabulary and a `FeatureCache`,
the checkpoint rules (resume from output_dir, refuse a pretrained model's
directory, predict or export with --init_checkpoint when output_dir has no
checkpoint), evaluation of every checkpoint once keeping the best
(`EvalSet`), and the SavedModel export. A task supplies only its own
pieces: data, features, head, metrics and output files.

Not here: the sequence itself (driver), the model_fn the heads plug into
(task_model; its names are kept here for code written against this
module), the heads (classifier_utils, race_utils, squad_heads).
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
from albert import driver
from albert import estimators
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

# One evaluation of every checkpoint: results go to eval_results<_name>.txt.
#   name: None for the main eval set (it picks model.ckpt-best).
#   evaluate_fn: fn(checkpoint_path) -> dict of metric name to number.
#   eval_key: describes the eval set (see checkpoints.evaluate_checkpoints).
EvalSet = collections.namedtuple("EvalSet", ["name", "evaluate_fn",
                                             "eval_key"])


def common_flag_specs(max_seq_length=512, learning_rate=5e-5,
                      train_batch_size=32, predict_batch_size=8,
                      do_train=False, export_dir_note=""):
  """The flags every fine-tuning command has, with the release's help.

  Args:
    max_seq_length, learning_rate, train_batch_size, predict_batch_size,
      do_train: the command's defaults.
    export_dir_note: appended to --export_dir's help (what the inputs are).
  """
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
      ("enum", "optimizer", "adamw", "Optimizer to use",
       {"enum_values": ["adamw", "lamb"]}),
      ("string", "export_dir", None,
       "The directory where the exported SavedModel will be stored (from "
       "model.ckpt-best, or the latest checkpoint)" + export_dir_note + "."),
  ]


def dev_set_flag_specs(do_eval, train_step, warmup_step):
  """The flags of the commands that evaluate on a dev set (GLUE, RACE).

  --do_eval, --eval_batch_size, and the schedule in steps (--train_step,
  --warmup_step), with the command's defaults.
  """
  return [
      ("bool", "do_eval", do_eval, "Whether to run eval on the dev set."),
      ("integer", "eval_batch_size", 8, "Total batch size for eval."),
      ("integer", "train_step", train_step,
       "Total number of training steps to perform."),
      ("integer", "warmup_step", warmup_step,
       "number of steps to perform linear learning rate warmup for."),
  ]


class Task(driver.Task):
  """A fine-tuning task's pieces (GLUE, RACE, SQuAD) for the driver.

  The fine-tuning rules for the driver's steps are here; subclasses set
  `name` and `main_metric` and implement `read_data`, `train_steps`,
  `model_fn`, `train_input_fn`, `eval_sets` and `predict` (and may add
  `modes_for`, `check_options`, `cache_dir`, `batch_sizes`, `export`).
  `self.init_note` (from the context) is None unless the encoder starts
  from random weights.
  """

  name = "fine-tuning"
  main_metric = "eval_accuracy"

  def __init__(self, context):
    super(Task, self).__init__(context)
    self.init_note = context.init_note

  @classmethod
  def modes_for(cls, options):
    """A task with a dev set (`dev_set_flag_specs`) and --export_dir."""
    return driver.Modes(options.do_train, options.do_eval,
                        options.do_predict, bool(options.export_dir))

  @classmethod
  def check_required(cls, options, modes):
    if not any(modes):
      raise ValueError("Nothing to do: pass at least one of --do_train, "
                       "--do_eval, --do_predict (or --export_dir where the "
                       "command has it)")
    command_line.check_required_flags(options, ["output_dir"])

  @classmethod
  def hub_module_of(cls, options):
    return options.albert_hub_module_handle

  @classmethod
  def cache_dir(cls, options):
    """Where the `FeatureCache` keeps its files: output_dir by default."""
    return options.output_dir

  @classmethod
  def make_context(cls, options, modes):
    """Init source, config and vocabulary, checked against each other."""
    init_checkpoint = checkpoints.resolve_init_checkpoint(
        options.init_checkpoint)
    hub_module = options.albert_hub_module_handle
    albert_config = None
    if options.albert_config_file:
      albert_config = modeling.load_albert_config(options.albert_config_file,
                                                  options.max_seq_length)
    elif not hub_module:
      raise ValueError("At least one of `--albert_config_file` and "
                       "`--albert_hub_module_handle` must be set")
    init_note = None
    if modes.train:
      init_note = fine_tuning_utils.check_init_source(
          init_checkpoint, hub_module, cls.name_for(options))
    elif init_checkpoint and hub_module:
      fine_tuning_utils.check_init_source(init_checkpoint, hub_module,
                                          cls.name_for(options))
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
    return driver.TaskContext(
        options, modes, albert_config, tokenizer,
        FeatureCache(options, tokenizer, cls.cache_dir(options)),
        init_checkpoint, init_note)

  def check_checkpoints(self):
    resuming, model_checkpoint = _check_checkpoints(
        self.options, self.modes, self.context.init_checkpoint)
    # Weights come from init_checkpoint only when training starts afresh;
    # resumed training and evaluation restore output_dir's checkpoints.
    return driver.CheckpointPlan(
        self.context.init_checkpoint if self.modes.train and not resuming
        else None, model_checkpoint)

  def iterations_per_loop(self):
    o = self.options
    if self.modes.train:
      # On TPU checkpoints are saved between loops: a longer loop would
      # save less often than --save_checkpoints_steps asks.
      return min(o.iterations_per_loop, o.save_checkpoints_steps)
    return o.iterations_per_loop

  def batch_sizes(self):
    o = self.options
    return o.train_batch_size, o.eval_batch_size, o.predict_batch_size

  def log_training(self, num_train_steps, num_warmup_steps, batch,
                   precision):
    progress.log_progress("%s: training to step %d (%s, warmup %d steps%s)",
                          self.name, num_train_steps, batch,
                          num_warmup_steps, precision)

  def log_left_to_chief(self, task_name):
    progress.log_progress("%s: %s done; the chief evaluates, predicts and "
                          "exports", self.name, task_name)

  def eval_sets(self, estimator):
    """The `EvalSet`s evaluated on every checkpoint."""
    raise NotImplementedError

  def evaluate(self, estimator):
    """Every checkpoint evaluated once on every eval set; the best kept.

    Returns:
      {"best<_name>": results of the best checkpoint, "eval_history<_name>":
      step -> results}, the suffix naming eval sets other than the main.
    """
    summary = {}
    for eval_set in self.eval_sets(estimator):
      history, best = checkpoints.evaluate_checkpoints(
          eval_set.evaluate_fn, self.options.output_dir, self.main_metric,
          higher_is_better=self.higher_is_better,
          extra_results={"note": self.init_note} if self.init_note else None,
          name=eval_set.name, eval_key=eval_set.eval_key)
      suffix = "_" + eval_set.name if eval_set.name else ""
      summary["best" + suffix] = best
      summary["eval_history" + suffix] = history
    return summary

  def export(self, estimator, checkpoint):
    return estimators.export_saved_model(
        estimator, self.options.export_dir, self.options.max_seq_length,
        checkpoint_path=checkpoint)

  def log_summary(self, summary):
    """Logs '<name> done: best checkpoint step N (<metric> = x); ...'."""
    parts = []
    if summary["best"]:
      parts.append("best checkpoint step %d (%s = %.4f)" % (
          summary["best"]["global_step"], self.main_metric,
          summary["best"][self.main_metric]))
    if summary["predictions"] is not None:
      parts.append("predictions in %s" % self.options.output_dir)
    if summary["export_path"]:
      parts.append("SavedModel %s" % summary["export_path"])
    progress.log_progress("%s done%s", self.name,
                          ": " + "; ".join(parts) if parts else "")


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


def same_path(a, b):
  """True if paths a and b name the same file or directory (local paths
  resolved)."""
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
      same_path(os.path.dirname(init_checkpoint) or ".", output_dir)):
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
