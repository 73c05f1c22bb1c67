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
"""Fine-tunes ALBERT on a GLUE task, evaluates it, writes GLUE submissions.

python -m albert.run_classifier --task_name=MNLI --data_dir=glue_data \
    --albert_config_file=albert_base/albert_config.json \
    --spm_model_file=albert_base/30k-clean.model \
    --init_checkpoint=albert_base/model.ckpt-best \
    --output_dir=out/mnli --max_seq_length=128 \
    --do_train --do_eval --do_predict

`data_dir` is the GLUE root (one folder per task). Training resumes from
output_dir's last checkpoint. Evaluation goes once over every checkpoint
kept in output_dir that was not evaluated before, appending a `key = value`
block per checkpoint to eval_results.txt, and keeps the best one (by
`matthew_corr` for CoLA, `pearson` for STS-B, `eval_accuracy` otherwise) as
model.ckpt-best. MNLI also evaluates every checkpoint on dev_mismatched
(eval_results_mismatched.txt). Prediction uses model.ckpt-best (or the
latest checkpoint) and writes the GLUE submission file(s) to output_dir
(`SST-2.tsv`; for MNLI `MNLI-m.tsv`, `MNLI-mm.tsv` and `AX.tsv`) plus
`test_results_<name>.tsv` with every class probability.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import hashlib
import math
import os

from absl import app
from absl import flags
import tensorflow.compat.v1 as tf

from albert import classifier_utils
from albert import fine_tuning_utils
from albert import input_pipeline
from albert import modeling
from albert import runtime
from albert import tokenization

FLAGS = flags.FLAGS

FLAG_DEFAULTS = runtime.define_flags([
    ("string", "data_dir", None,
     "The GLUE data directory: one folder per task (SST-2/train.tsv, "
     "MNLI/dev_matched.tsv, diagnostic/diagnostic.tsv, ...)."),
    ("string", "albert_config_file", None,
     "The config json file corresponding to the pre-trained ALBERT model. "
     "This specifies the model architecture."),
    ("string", "task_name", None,
     "The name of the task to train: " +
     ", ".join(sorted(classifier_utils.processors)) + " (any case)."),
    ("string", "vocab_file", None,
     "The vocabulary file that the ALBERT model was trained on."),
    ("string", "spm_model_file", None,
     "The model file for sentence piece tokenization."),
    ("string", "output_dir", None,
     "The output directory where the model checkpoints will be written."),
    ("string", "cached_dir", None,
     "Path to cached training, dev and test tfrecord files (default "
     "output_dir). A file is named by a hash of everything that changes "
     "it, so changed flags or files never reuse a stale cache."),
    ("string", "init_checkpoint", None,
     "Initial checkpoint (usually from a pre-trained ALBERT model)."),
    ("string", "albert_hub_module_handle", None,
     "If set, the ALBERT hub module to use."),
    ("bool", "do_lower_case", True,
     "Whether to lower case the input text. Should be True for uncased "
     "models and False for cased models."),
    ("integer", "max_seq_length", 512,
     "The maximum total input sequence length after tokenization. Longer "
     "sequences are truncated, shorter ones padded."),
    ("bool", "do_train", False, "Whether to run training."),
    ("bool", "do_eval", False, "Whether to run eval on the dev set."),
    ("bool", "do_predict", False,
     "Whether to run the model in inference mode on the test set."),
    ("integer", "train_batch_size", 32, "Total batch size for training."),
    ("integer", "eval_batch_size", 8, "Total batch size for eval."),
    ("integer", "predict_batch_size", 8, "Total batch size for predict."),
    ("float", "learning_rate", 5e-5, "The initial learning rate for Adam."),
    ("integer", "train_step", 1000,
     "Total number of training steps to perform."),
    ("integer", "warmup_step", 0,
     "number of steps to perform linear learning rate warmup for."),
    ("enum", "optimizer", "adamw", "Optimizer to use",
     {"enum_values": ["adamw", "lamb"]}),
    ("float", "classifier_dropout_prob", 0.1,
     "Dropout on the pooled output before the classifier, when training "
     "(the encoder's dropout comes from albert_config_file)."),
    ("bool", "use_einsum", True,
     "Compute the encoder's dense layers with einsum (False: matmul and "
     "reshape only)."),
    ("string", "export_dir", None,
     "The directory where the exported SavedModel will be stored (from "
     "model.ckpt-best, or the latest checkpoint)."),
    ("float", "threshold_to_export", float("nan"),
     "The threshold value that should be used with the exported classifier. "
     "When specified, the threshold will be attached to the exported "
     "SavedModel, and served along with the predictions (output "
     "\"threshold\")."),
] + runtime.run_flag_specs(save_checkpoints_steps=1000,
                           iterations_per_loop=1000))

# GLUE submission file names (without .tsv) by task.
SUBMISSION_NAMES = {
    "cola": "CoLA",
    "sst-2": "SST-2",
    "mrpc": "MRPC",
    "sts-b": "STS-B",
    "qqp": "QQP",
    "mnli": "MNLI-m",
    "mismnli": "MNLI-mm",
    "mnli-mm": "MNLI-mm",
    "qnli": "QNLI",
    "rte": "RTE",
    "wnli": "WNLI",
    "ax": "AX",
}

# Bumped when the features written for the same inputs change.
_FEATURES_FORMAT = 1

# One set of examples: its name in cache files and eval results, the file
# it was read from, and the examples.
_Split = collections.namedtuple("_Split", ["name", "path", "examples"])


def default_options(**overrides):
  """The flag defaults as an object, with overrides; for calling `run`."""
  return runtime.options(FLAG_DEFAULTS, overrides)


def _fingerprint(path):
  return input_pipeline.file_fingerprint(path) if path else None


def _vocabulary_digest(tokenizer):
  """A hash of the tokenizer's vocabulary itself (any source)."""
  if tokenizer.sp_model is not None:
    data = tokenizer.sp_model.serialized_model_proto()
  else:
    data = "\n".join("%s\t%d" % item for item in sorted(
        tokenizer.vocab.items())).encode("utf-8")
  return hashlib.sha256(data).hexdigest()[:16]


def _file_digest(path):
  """sha256 of a file's bytes (mtimes can be too coarse to see an edit)."""
  digest = hashlib.sha256()
  with tf.gfile.GFile(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()[:16]


def _read_split(processor, data_dir, name, file_name, read):
  path = processor.task_path(data_dir, file_name)
  examples = read(data_dir)
  if not examples:
    raise ValueError("%s holds no examples" % path)
  return _Split(name, path, examples)


def _eval_splits(task, processor, data_dir):
  """The dev sets: (name for results files or None, split)."""
  splits = [(None, _read_split(processor, data_dir, "dev",
                               processor.DEV_FILE,
                               processor.get_dev_examples))]
  if task == "mnli":
    splits.append(("mismatched", _read_split(
        processor, data_dir, "dev_mismatched", "dev_mismatched.tsv",
        processor.get_dev_mismatched_examples)))
  return splits


def _predict_splits(task, processor, data_dir):
  """The test sets: (submission name, processor, split)."""
  splits = [(SUBMISSION_NAMES[task], processor, _read_split(
      processor, data_dir, "test", processor.TEST_FILE,
      processor.get_test_examples))]
  if task == "mnli":
    splits.append(("MNLI-mm", processor, _read_split(
        processor, data_dir, "test_mismatched", "test_mismatched.tsv",
        processor.get_test_mismatched_examples)))
    ax = classifier_utils.AXProcessor(use_spm=processor.use_spm,
                                      do_lower_case=processor.do_lower_case)
    try:
      splits.append(("AX", ax, _read_split(ax, data_dir, "test",
                                           ax.TEST_FILE,
                                           ax.get_test_examples)))
    except classifier_utils.DataFileNotFoundError as e:
      tf.logging.warning("Not predicting AX (the GLUE diagnostic set) with "
                         "this MNLI model: %s", e)
  return splits


class _Features(object):
  """Writes (or reuses) the feature TFRecords of a run's splits."""

  def __init__(self, options, task, label_list, tokenizer):
    self._options = options
    self._task = task
    self._label_list = label_list
    self._tokenizer = tokenizer
    self._cache_dir = options.cached_dir or options.output_dir

  def key(self, task, split, pad_to):
    """Everything that changes a split's features."""
    o = self._options
    return {
        "format": _FEATURES_FORMAT,
        "task": task,
        "split": split.name,
        "data_file": _fingerprint(split.path),
        "data_sha256": _file_digest(split.path),
        "max_seq_length": o.max_seq_length,
        "do_lower_case": self._tokenizer.do_lower_case,
        "use_spm": self._tokenizer.sp_model is not None,
        "spm_model_file": (None if o.albert_hub_module_handle
                           else _fingerprint(o.spm_model_file)),
        "vocab_file": (None if o.albert_hub_module_handle or
                       o.spm_model_file else _fingerprint(o.vocab_file)),
        "hub_module": o.albert_hub_module_handle,
        "vocabulary": _vocabulary_digest(self._tokenizer),
        "pad_to_multiple_of": pad_to,
    }

  def file_for(self, split, pad_to=1, task=None):
    """The TFRecord of a split, written unless a valid cache exists.

    Returns:
      (path, number of examples including padding).
    """
    task = task or self._task
    examples = list(split.examples)
    while len(examples) % pad_to:
      examples.append(classifier_utils.PaddingInputExample())
    key = self.key(task, split, pad_to)
    path = input_pipeline.cached_features_path(
        self._cache_dir, "%s_%s" % (task, split.name), key)
    if tf.gfile.Exists(path):
      tf.logging.info("Reusing cached features %s", path)
    else:
      tf.logging.info("Writing %d examples' features to %s", len(examples),
                      path)
      classifier_utils.file_based_convert_examples_to_features(
          examples, self._label_list, self._options.max_seq_length,
          self._tokenizer, path, task, key=key)
    return path, len(examples)


def _add_threshold_to_model_fn(model_fn, threshold):
  """Serves `threshold` beside the predictions (the release's option)."""

  def new_model_fn(features, labels, mode, params):
    spec = model_fn(features, labels, mode, params)
    if mode != tf.estimator.ModeKeys.PREDICT:
      return spec
    key = tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY
    outputs = dict(spec.export_outputs[key].outputs)
    outputs["threshold"] = tf.constant(threshold, dtype=tf.float32)
    export_outputs = dict(spec.export_outputs)
    export_outputs[key] = tf.estimator.export.PredictOutput(outputs)
    return spec._replace(export_outputs=export_outputs)

  return new_model_fn


def _format_label(prediction, label_list, regression):
  if regression:
    return "%.6f" % float(prediction["predictions"])
  return label_list[int(prediction["predictions"])]


def _write_predictions(estimator, input_fn, checkpoint, split, label_list,
                       regression, output_dir, submission_name):
  """Writes <name>.tsv (GLUE format) and test_results_<name>.tsv."""
  submission = ["index\tprediction\n"]
  if regression:
    probabilities = ["index\tscore\n"]
  else:
    probabilities = ["index\t%s\n" % "\t".join(label_list)]
  results = estimator.predict(input_fn=input_fn, checkpoint_path=checkpoint,
                              yield_single_examples=True)
  for example, prediction in zip(split.examples, results):
    submission.append("%s\t%s\n" % (
        example.guid, _format_label(prediction, label_list, regression)))
    probabilities.append("%s\t%s\n" % (example.guid, "\t".join(
        "%.6f" % p for p in prediction["probabilities"].reshape(-1))))
  written = len(submission) - 1
  if written != len(split.examples):
    raise RuntimeError("got %d predictions for %d examples of %s" %
                       (written, len(split.examples), split.path))
  path = os.path.join(output_dir, submission_name + ".tsv")
  runtime.atomic_write_text(path, "".join(submission))
  runtime.atomic_write_text(
      os.path.join(output_dir, "test_results_%s.tsv" % submission_name),
      "".join(probabilities))
  runtime.log_progress("wrote %d predictions of %s to %s", written,
                       split.path, path)
  return path


def run(options):
  """Trains, evaluates, predicts and/or exports, as the options ask.

  Args:
    options: an object with this module's flag names as attributes (FLAGS,
      or `default_options(...)`).

  Returns:
    dict with "best" (the best checkpoint's eval results, or None),
    "eval_history" (global step -> results), "best_mismatched" and
    "eval_history_mismatched" (MNLI), "submission_files" (GLUE name ->
    path) and "export_path" (or None).

  Raises:
    ValueError: on missing or inconsistent flags, data or checkpoints;
      nothing is trained or written before these checks pass.
  """
  if not (options.do_train or options.do_eval or options.do_predict):
    raise ValueError(
        "At least one of `do_train`, `do_eval` or `do_predict' must be True.")
  for name in ("task_name", "data_dir", "output_dir"):
    if not getattr(options, name):
      raise ValueError("--%s is required" % name)
  task = options.task_name.lower()
  processor = classifier_utils.get_processor(task)  # Checks the name.
  if task == "ax" and (options.do_train or options.do_eval):
    raise ValueError(
        "task_name=ax is the GLUE diagnostic set, which has only a test set: "
        "train and evaluate with task_name=mnli, then use --do_predict "
        "(task_name=mnli also writes AX.tsv)")

  hub_module = options.albert_hub_module_handle
  init_note = None
  if options.do_train:
    init_note = fine_tuning_utils.check_init_source(
        options.init_checkpoint, hub_module, "run_classifier %s" % task)
  elif options.init_checkpoint and hub_module:
    fine_tuning_utils.check_init_source(options.init_checkpoint, hub_module,
                                        "run_classifier %s" % task)
  tokenization.validate_case_matches_checkpoint(options.do_lower_case,
                                                options.init_checkpoint)

  albert_config = None
  if options.albert_config_file:
    albert_config = modeling.AlbertConfig.from_json_file(
        options.albert_config_file)
    albert_config.validate()
    if options.max_seq_length > albert_config.max_position_embeddings:
      raise ValueError(
          "--max_seq_length=%d is longer than max_position_embeddings=%d of "
          "--albert_config_file=%s" %
          (options.max_seq_length, albert_config.max_position_embeddings,
           options.albert_config_file))
  elif not hub_module:
    raise ValueError("At least one of `--albert_config_file` and "
                     "`--albert_hub_module_handle` must be set")

  tokenizer = fine_tuning_utils.create_vocab(
      vocab_file=options.vocab_file,
      do_lower_case=options.do_lower_case,
      spm_model_file=options.spm_model_file,
      hub_module=hub_module)
  if albert_config is not None:
    fine_tuning_utils.check_vocab_matches_config(
        tokenizer, albert_config,
        hub_module or options.spm_model_file or options.vocab_file)

  processor = classifier_utils.get_processor(
      task, use_spm=tokenizer.sp_model is not None,
      do_lower_case=tokenizer.do_lower_case)
  label_list = processor.get_labels()
  regression = classifier_utils.is_regression(task)

  # Read every split this run needs before anything slow happens, so a
  # missing or malformed file fails now, not after training.
  train_split = None
  if options.do_train:
    train_split = _read_split(processor, options.data_dir, "train",
                              processor.TRAIN_FILE,
                              processor.get_train_examples)
  eval_splits = (_eval_splits(task, processor, options.data_dir)
                 if options.do_eval else [])
  predict_splits = (_predict_splits(task, processor, options.data_dir)
                    if options.do_predict else [])

  runtime.check_output_dir_writable(options.output_dir)
  latest = tf.train.latest_checkpoint(options.output_dir)
  if not options.do_train:
    if options.do_eval and latest is None:
      missing = "evaluate"
    elif runtime.best_or_latest_checkpoint(options.output_dir) is None:
      missing = "predict with" if options.do_predict else "export"
    else:
      missing = None
    if missing:
      raise ValueError(
          "output_dir %s has no checkpoint to %s; train first (--do_train) "
          "or point --output_dir at a fine-tuned model" %
          (options.output_dir, missing))
  elif latest:
    tf.logging.info("Resuming from %s (output_dir already has checkpoints)",
                    latest)

  model_fn = classifier_utils.model_fn_builder(
      albert_config=albert_config,
      num_labels=len(label_list),
      init_checkpoint=options.init_checkpoint,
      learning_rate=options.learning_rate,
      num_train_steps=options.train_step,
      num_warmup_steps=options.warmup_step,
      use_tpu=options.use_tpu,
      use_one_hot_embeddings=options.use_tpu,
      task_name=task,
      hub_module=hub_module,
      optimizer=options.optimizer,
      classifier_dropout_prob=options.classifier_dropout_prob,
      use_einsum=options.use_einsum)
  if not math.isnan(options.threshold_to_export):
    model_fn = _add_threshold_to_model_fn(model_fn,
                                          options.threshold_to_export)

  iterations_per_loop = options.iterations_per_loop
  if options.do_train:
    iterations_per_loop = min(iterations_per_loop,
                              options.save_checkpoints_steps)
  run_config = runtime.run_config_from_options(
      options, iterations_per_loop=iterations_per_loop)
  estimator = runtime.make_estimator(
      model_fn, run_config, use_tpu=options.use_tpu,
      train_batch_size=options.train_batch_size,
      eval_batch_size=options.eval_batch_size,
      predict_batch_size=options.predict_batch_size)
  features = _Features(options, task, label_list, tokenizer)

  def input_fn(path, is_training, batch_size, task_name=task):
    return classifier_utils.file_based_input_fn_builder(
        input_file=path, seq_length=options.max_seq_length,
        is_training=is_training, drop_remainder=is_training or (
            options.use_tpu),
        task_name=task_name, use_tpu=options.use_tpu, bsz=batch_size)

  summary = {"best": None, "eval_history": None, "best_mismatched": None,
             "eval_history_mismatched": None, "submission_files": {},
             "export_path": None}

  if options.do_train:
    train_file, _ = features.file_for(train_split)
    tf.logging.info("***** Running training *****")
    tf.logging.info("  Num examples = %d", len(train_split.examples))
    tf.logging.info("  Batch size = %d", options.train_batch_size)
    tf.logging.info("  Num steps = %d", options.train_step)
    estimator.train(
        input_fn=input_fn(train_file, True, options.train_batch_size),
        max_steps=options.train_step)

  pad_eval = options.eval_batch_size if options.use_tpu else 1
  for name, split in eval_splits:
    eval_file, num_padded = features.file_for(split, pad_to=pad_eval)
    tf.logging.info("***** Running evaluation on %s *****", split.path)
    tf.logging.info("  Num examples = %d (%d actual, %d padding)",
                    num_padded, len(split.examples),
                    num_padded - len(split.examples))
    tf.logging.info("  Batch size = %d", options.eval_batch_size)
    eval_steps = (num_padded // options.eval_batch_size if options.use_tpu
                  else None)
    history, best = runtime.evaluate_checkpoints(
        estimator, input_fn(eval_file, False, options.eval_batch_size),
        eval_steps, options.output_dir,
        classifier_utils.main_metric(task),
        extra_results={"note": init_note} if init_note else None,
        name=name)
    suffix = "_" + name if name else ""
    summary["best" + suffix] = best
    summary["eval_history" + suffix] = history

  if predict_splits or options.export_dir:
    checkpoint = runtime.best_or_latest_checkpoint(options.output_dir)
    if checkpoint is None:
      raise ValueError("output_dir %s has no checkpoint to predict with" %
                       options.output_dir)
  pad_predict = options.predict_batch_size if options.use_tpu else 1
  for submission_name, split_processor, split in predict_splits:
    split_task = "ax" if submission_name == "AX" else task
    predict_file, _ = features.file_for(split, pad_to=pad_predict,
                                        task=split_task)
    tf.logging.info("***** Running prediction on %s with %s *****",
                    split.path, checkpoint)
    summary["submission_files"][submission_name] = _write_predictions(
        estimator, input_fn(predict_file, False, options.predict_batch_size),
        checkpoint, split, split_processor.get_labels(), regression,
        options.output_dir, submission_name)

  if options.export_dir:
    summary["export_path"] = runtime.export_saved_model(
        estimator, options.export_dir, options.max_seq_length,
        checkpoint_path=checkpoint)
  return summary


main = runtime.cli_main(run)


if __name__ == "__main__":
  flags.mark_flag_as_required("data_dir")
  flags.mark_flag_as_required("task_name")
  flags.mark_flag_as_required("output_dir")
  app.run(main)
