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

--export_dir writes the SavedModel and, beside it, albert_classifier.tflite
for the TFLite Task Library's BertNLClassifier (builtin ops, inputs
ids/mask/segment_ids, output `probability` [1, num_labels]; for STS-B the
score [1, 1]; metadata naming the tokenizer and labels) with the
SentencePiece model; --quantize=dynamic adds albert_classifier.int8.tflite
once it agrees on the dev (or test) features (albert/tflite_export.py).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import math
import os

from absl import app
from absl import flags
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import classifier_utils
from albert import command_line
from albert import driver
from albert import file_io
from albert import fine_tuning
from albert import input_pipeline
from albert import progress
from albert import tflite_export

FLAGS = flags.FLAGS

FLAG_DEFAULTS = command_line.define_flags(
    fine_tuning.common_flag_specs(max_seq_length=512, learning_rate=5e-5) +
    fine_tuning.dev_set_flag_specs(do_eval=False, train_step=1000,
                                   warmup_step=0) + [
        ("string", "data_dir", None,
         "The GLUE data directory: one folder per task (SST-2/train.tsv, "
         "MNLI/dev_matched.tsv, diagnostic/diagnostic.tsv, ...)."),
        ("string", "task_name", None,
         "The name of the task to train: " +
         ", ".join(sorted(classifier_utils.processors)) + " (any case)."),
        ("string", "cached_dir", None,
         "Path to cached training, dev and test tfrecord files (default "
         "output_dir). A file is named by a hash of everything that changes "
         "it, so changed flags or files never reuse a stale cache."),
        ("float", "classifier_dropout_prob", 0.1,
         "Dropout on the pooled output before the classifier, when training "
         "(the encoder's dropout comes from albert_config_file)."),
        ("float", "threshold_to_export", float("nan"),
         "The threshold value that should be used with the exported "
         "classifier. When specified, the threshold will be attached to the "
         "exported SavedModel, and served along with the predictions "
         "(output \"threshold\")."),
        tflite_export.quantize_flag_spec(),
    ] + command_line.run_flag_specs(save_checkpoints_steps=1000,
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

TFLITE_NAME = "albert_classifier.tflite"

# Bumped when the features written for the same inputs change.
_FEATURES_FORMAT = 1

# One set of examples: its name in cache files and eval results, the file
# it was read from, and the examples.
_Split = collections.namedtuple("_Split", ["name", "path", "examples"])


default_options = command_line.default_options_of(FLAG_DEFAULTS)


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


def _remove_stale_submissions(output_dir, predict_splits):
  """Removes MNLI's AX files that a previous run wrote and this one does not.

  AX is predicted only when the diagnostic set is there; an AX.tsv left
  from another run would be submitted beside predictions of another model.
  """
  predicted = set(name for name, _, _ in predict_splits)
  if "MNLI-m" not in predicted or "AX" in predicted:
    return
  for name in ("AX.tsv", "test_results_AX.tsv"):
    file_io.remove_stale_result(
        os.path.join(output_dir, name),
        "this run has no GLUE diagnostic set to predict")


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
                       regression, output_dir, submission_name,
                       release_files=False):
  """Writes <name>.tsv (GLUE format) and test_results_<name>.tsv.

  With release_files, also the release's test_results.tsv (the raw
  probabilities, no header) and submit_results.tsv.
  """
  submission = ["index\tprediction\n"]
  if regression:
    probabilities = ["index\tscore\n"]
  else:
    probabilities = ["index\t%s\n" % "\t".join(label_list)]
  raw_probabilities = []
  results = estimator.predict(input_fn=input_fn, checkpoint_path=checkpoint,
                              yield_single_examples=True)
  for example, prediction in zip(split.examples, results):
    submission.append("%s\t%s\n" % (
        example.guid, _format_label(prediction, label_list, regression)))
    values = prediction["probabilities"].reshape(-1)
    probabilities.append("%s\t%s\n" % (example.guid, "\t".join(
        "%.6f" % p for p in values)))
    raw_probabilities.append("\t".join(str(p) for p in values) + "\n")
  written = len(submission) - 1
  if written != len(split.examples):
    raise RuntimeError("got %d predictions for %d examples of %s" %
                       (written, len(split.examples), split.path))
  path = os.path.join(output_dir, submission_name + ".tsv")
  file_io.atomic_write_text(path, "".join(submission))
  file_io.atomic_write_text(
      os.path.join(output_dir, "test_results_%s.tsv" % submission_name),
      "".join(probabilities))
  if release_files:
    file_io.atomic_write_text(os.path.join(output_dir, "test_results.tsv"),
                              "".join(raw_probabilities))
    file_io.atomic_write_text(os.path.join(output_dir, "submit_results.tsv"),
                              "".join(submission))
  progress.log_progress("wrote %d predictions of %s to %s", written,
                        split.path, path)
  return path


class GlueTask(fine_tuning.Task):
  """A GLUE task's pieces for the fine-tuning driver."""

  def __init__(self, context):
    super(GlueTask, self).__init__(context)
    self.task = context.options.task_name.lower()
    self.main_metric = classifier_utils.main_metric(self.task)

  @classmethod
  def name_for(cls, options):
    return "run_classifier %s" % options.task_name.lower()

  @classmethod
  def check_options(cls, options):
    command_line.check_required_flags(options, ["task_name", "data_dir"])
    task = options.task_name.lower()
    classifier_utils.get_processor(task)  # Checks the name.
    if task == "ax" and (options.do_train or options.do_eval):
      raise ValueError(
          "task_name=ax is the GLUE diagnostic set, which has only a test "
          "set: train and evaluate with task_name=mnli, then use "
          "--do_predict (task_name=mnli also writes AX.tsv)")
    tflite_export.check_quantize_flag(
        options, bool(options.do_eval or options.do_predict),
        "--do_eval or --do_predict")

  @classmethod
  def cache_dir(cls, options):
    return options.cached_dir or options.output_dir

  def read_data(self):
    # Every split this run needs is read before anything slow happens, so
    # a missing or malformed file fails now, not after training.
    o = self.options
    self.processor = classifier_utils.get_processor(
        self.task, use_spm=self.tokenizer.sp_model is not None,
        do_lower_case=self.tokenizer.do_lower_case)
    self.label_list = self.processor.get_labels()
    self.regression = classifier_utils.is_regression(self.task)
    self.train_split = None
    if o.do_train:
      self.train_split = _read_split(
          self.processor, o.data_dir, "train", self.processor.TRAIN_FILE,
          self.processor.get_train_examples)
    self.eval_splits = (_eval_splits(self.task, self.processor, o.data_dir)
                        if o.do_eval else [])
    self.predict_splits = (
        _predict_splits(self.task, self.processor, o.data_dir)
        if o.do_predict else [])

  def train_steps(self):
    return self.options.train_step, self.options.warmup_step

  def model_fn(self, init_checkpoint, num_train_steps, num_warmup_steps):
    o = self.options
    model_fn = classifier_utils.model_fn_builder(
        albert_config=self.albert_config,
        num_labels=len(self.label_list),
        init_checkpoint=init_checkpoint,
        learning_rate=o.learning_rate,
        num_train_steps=num_train_steps,
        num_warmup_steps=num_warmup_steps,
        use_tpu=o.use_tpu,
        use_one_hot_embeddings=o.use_tpu,
        task_name=self.task,
        hub_module=o.albert_hub_module_handle,
        optimizer=o.optimizer,
        classifier_dropout_prob=o.classifier_dropout_prob,
        use_einsum=o.use_einsum)
    if not math.isnan(o.threshold_to_export):
      model_fn = _add_threshold_to_model_fn(model_fn, o.threshold_to_export)
    return model_fn

  def _features_file(self, split, pad_to=1, task=None):
    """The TFRecord of a split, written unless a valid cache exists.

    Returns:
      (path, number of examples including padding).
    """
    task = task or self.task
    examples = list(split.examples)
    while len(examples) % pad_to:
      examples.append(classifier_utils.PaddingInputExample())
    key = self.features.key(
        format=_FEATURES_FORMAT, task=task, split=split.name,
        data=input_pipeline.data_file_key(split.path),
        pad_to_multiple_of=pad_to)
    path = self.features.path("%s_%s" % (task, split.name), key)

    def write(path):
      classifier_utils.file_based_convert_examples_to_features(
          examples, self.label_list, self.options.max_seq_length,
          self.tokenizer, path, task, key=key)

    input_pipeline.reuse_or_write(
        path, key, write, what="features of %d examples" % len(examples))
    return path, len(examples)

  def _input_fn(self, path, is_training, batch_size, task_name=None):
    o = self.options
    return classifier_utils.file_based_input_fn_builder(
        input_file=path, seq_length=o.max_seq_length,
        is_training=is_training, drop_remainder=is_training or o.use_tpu,
        task_name=task_name or self.task, use_tpu=o.use_tpu, bsz=batch_size)

  def train_input_fn(self):
    train_file, _ = self._features_file(self.train_split)
    return self._input_fn(train_file, True, self.options.train_batch_size)

  def eval_sets(self, estimator):
    o = self.options
    pad_eval = o.eval_batch_size if o.use_tpu else 1
    sets = []
    for name, split in self.eval_splits:
      eval_file, num_padded = self._features_file(split, pad_to=pad_eval)
      progress.log_progress(
          "evaluating on %s: %d examples (%d padding), batch %d",
          split.path, num_padded, num_padded - len(split.examples),
          o.eval_batch_size)
      eval_steps = (num_padded // o.eval_batch_size if o.use_tpu else None)
      sets.append(fine_tuning.EvalSet(
          name, checkpoints.estimator_evaluate_fn(
              estimator, self._input_fn(eval_file, False, o.eval_batch_size),
              eval_steps, name=name),
          eval_key={"features": os.path.basename(eval_file)}))
    return sets

  def predict(self, estimator, checkpoint):
    o = self.options
    pad_predict = o.predict_batch_size if o.use_tpu else 1
    submission_files = {}
    for index, (submission_name, split_processor, split) in enumerate(
        self.predict_splits):
      split_task = "ax" if submission_name == "AX" else self.task
      predict_file, _ = self._features_file(split, pad_to=pad_predict,
                                            task=split_task)
      progress.log_progress("predicting %s with %s", split.path, checkpoint)
      submission_files[submission_name] = _write_predictions(
          estimator, self._input_fn(predict_file, False,
                                    o.predict_batch_size, split_task),
          checkpoint, split, split_processor.get_labels(), self.regression,
          o.output_dir, submission_name, release_files=index == 0)
    _remove_stale_submissions(o.output_dir, self.predict_splits)
    return submission_files

  def export(self, estimator, checkpoint):
    path = super(GlueTask, self).export(estimator, checkpoint)
    tflite_export.export_classifier(
        path, self.options, self.tokenizer, TFLITE_NAME, self.label_list,
        self.regression, self._tflite_check_features)
    return path

  def _tflite_check_features(self):
    """(TFRecord, data file) of the dev set, or else the test set."""
    split = (self.eval_splits[0][1] if self.eval_splits else
             self.predict_splits[0][2])
    return self._features_file(split)[0], split.path


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
  summary = driver.run(options, GlueTask)
  summary["submission_files"] = summary.pop("predictions") or {}
  summary.setdefault("best_mismatched", None)
  summary.setdefault("eval_history_mismatched", None)
  return summary


main = command_line.cli_main(run)


if __name__ == "__main__":
  flags.mark_flag_as_required("data_dir")
  flags.mark_flag_as_required("task_name")
  flags.mark_flag_as_required("output_dir")
  app.run(main)
