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
"""Fine-tunes ALBERT on RACE (reading comprehension, 4 options).

python -m albert.run_race --data_dir=. \
    --albert_config_file=albert_base/albert_config.json \
    --spm_model_file=albert_base/30k-clean.model \
    --init_checkpoint=albert_base/model.ckpt-best \
    --output_dir=out/race --max_seq_length=512 --max_qa_length=128 \
    --do_train --do_eval --do_predict

`data_dir` holds the official download: RACE/{train,dev,test}/{middle,
high}/*.txt, one JSON object per file. Evaluation goes once over every
checkpoint, writes accuracy overall and per level (middle, high) to
eval_results.txt and keeps the best as model.ckpt-best. --do_predict
writes test_predictions.tsv (one row per question: id, question index,
level, predicted letter, the four probabilities) from the best checkpoint,
and predict_results.txt with the test accuracy when the test files carry
answers (the official ones do).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import hashlib
import os

from absl import app
from absl import flags
import numpy as np

from albert import classifier_utils
from albert import command_line
from albert import driver
from albert import estimators
from albert import file_io
from albert import fine_tuning
from albert import input_pipeline
from albert import progress
from albert import race_utils

FLAGS = flags.FLAGS

FLAG_DEFAULTS = command_line.define_flags(
    fine_tuning.common_flag_specs(
        max_seq_length=512, learning_rate=1e-5, train_batch_size=32,
        predict_batch_size=8, do_train=True,
        export_dir_note="; its inputs are [B, 4 * max_seq_length], the four "
        "choices one after another") +
    fine_tuning.dev_set_flag_specs(do_eval=True, train_step=12000,
                                   warmup_step=1000) + [
        ("string", "data_dir", None,
         "The input data dir: it holds RACE/{train,dev,test}/{middle,high}/"
         "*.txt, as downloaded."),
        ("string", "task_name", "race", "The name of the task to train."),
        ("string", "train_file", None,
         "Training features cache (default: a name in output_dir made from "
         "everything that changes the features)."),
        ("string", "eval_file", None, "Dev features cache (same default)."),
        ("string", "predict_file", None,
         "Test features cache (same default)."),
        ("integer", "max_qa_length", 128,
         "The maximum total input length of question plus option after "
         "tokenization (the last pieces are kept)."),
        ("bool", "high_only", False, "Whether to only run the model on the "
         "high school set."),
        ("bool", "middle_only", False, "Whether to only run the model on the "
         "middle school set."),
        ("float", "dropout_prob", 0.1,
         "Dropout on the pooled output before the classifier, when training "
         "(the encoder's dropout comes from albert_config_file)."),
        ("integer", "num_keep_checkpoint", 5,
         "Kept for release command lines; checkpoints are kept as "
         "--keep_checkpoint_max says (default: all)."),
    ] + command_line.run_flag_specs(save_checkpoints_steps=100,
                                    iterations_per_loop=1000,
                                    keep_checkpoint_max=0))

NUM_CHOICES = 4

# Bumped when the features written for the same inputs change.
_FEATURES_FORMAT = 1

# A split: its name, the cache flag naming its file, and its examples.
_Split = collections.namedtuple("_Split", ["name", "cache_flag", "examples"])


default_options = command_line.default_options_of(FLAG_DEFAULTS)


class RaceTask(fine_tuning.Task):
  """RACE's pieces for the fine-tuning driver."""

  name = "run_race"
  main_metric = "eval_accuracy"

  @classmethod
  def check_options(cls, options):
    if not options.data_dir:
      raise ValueError("--data_dir is required (it holds RACE/)")
    if options.high_only and options.middle_only:
      raise ValueError("Give at most one of --high_only and --middle_only")
    race_utils.check_lengths(options.max_seq_length, options.max_qa_length)

  def read_data(self):
    o = self.options
    processor = race_utils.RaceProcessor(
        use_spm=self.tokenizer.sp_model is not None,
        do_lower_case=self.tokenizer.do_lower_case,
        high_only=o.high_only, middle_only=o.middle_only)
    self.label_list = processor.get_labels()
    self._feature_files = {}
    self.train_split = self.eval_split = self.predict_split = None
    if o.do_train:
      self.train_split = _Split("train", "train_file",
                                processor.get_train_examples(o.data_dir))
    if o.do_eval:
      self.eval_split = _Split("dev", "eval_file",
                               processor.get_dev_examples(o.data_dir))
    if o.do_predict:
      self.predict_split = _Split("test", "predict_file",
                                  processor.get_test_examples(o.data_dir))

  def train_steps(self):
    return self.options.train_step, self.options.warmup_step

  def model_fn(self, init_checkpoint, num_train_steps, num_warmup_steps):
    o = self.options
    return race_utils.model_fn_builder(
        albert_config=self.albert_config,
        num_labels=len(self.label_list),
        init_checkpoint=init_checkpoint,
        learning_rate=o.learning_rate,
        num_train_steps=num_train_steps,
        num_warmup_steps=num_warmup_steps,
        use_tpu=o.use_tpu,
        use_one_hot_embeddings=o.use_tpu,
        max_seq_length=o.max_seq_length,
        dropout_prob=o.dropout_prob,
        hub_module=o.albert_hub_module_handle,
        use_einsum=o.use_einsum,
        optimizer=o.optimizer)

  def _features_file(self, split, pad_to=1):
    """(TFRecord path, cache key) of a split, written unless cached."""
    o = self.options
    if (split.name, pad_to) in self._feature_files:
      return self._feature_files[(split.name, pad_to)]
    examples = list(split.examples)
    while len(examples) % pad_to:
      examples.append(classifier_utils.PaddingInputExample())
    key = self.features.key(
        format=_FEATURES_FORMAT, task="race", split=split.name,
        data=_examples_digest(split.examples), max_qa_length=o.max_qa_length,
        high_only=o.high_only, middle_only=o.middle_only,
        pad_to_multiple_of=pad_to)
    path = self.features.path("race_%s" % split.name, key,
                              getattr(o, split.cache_flag))

    def write(path):
      race_utils.file_based_convert_examples_to_features(
          examples, self.label_list, o.max_seq_length, self.tokenizer, path,
          o.max_qa_length, key=key)

    input_pipeline.reuse_or_write(
        path, key, write, what="features of %d questions" % len(examples))
    self._feature_files[(split.name, pad_to)] = (path, key)
    return path, key

  def _input_fn(self, path, is_training, batch_size):
    o = self.options
    return classifier_utils.file_based_input_fn_builder(
        input_file=path, seq_length=o.max_seq_length,
        is_training=is_training, drop_remainder=is_training or o.use_tpu,
        task_name="race", use_tpu=o.use_tpu, bsz=batch_size,
        multiple=NUM_CHOICES)

  def train_input_fn(self):
    path, _ = self._features_file(self.train_split)
    return self._input_fn(path, True, self.options.train_batch_size)

  def _probabilities(self, estimator, checkpoint, split, batch_size):
    """[N, 4] probabilities of a split's questions under `checkpoint`."""
    o = self.options
    pad_to = batch_size if o.use_tpu else 1
    path, _ = self._features_file(split, pad_to)
    probabilities = []
    for prediction in estimator.predict(
        self._input_fn(path, False, batch_size), checkpoint_path=checkpoint,
        yield_single_examples=True):
      probabilities.append(prediction["probabilities"])
      if len(probabilities) == len(split.examples):
        break
    if len(probabilities) != len(split.examples):
      raise RuntimeError("got %d predictions for %d questions" %
                         (len(probabilities), len(split.examples)))
    return np.array(probabilities)

  def eval_sets(self, estimator):
    o = self.options

    def evaluate(checkpoint):
      return race_utils.accuracy_by_level(
          self.eval_split.examples, self._probabilities(
              estimator, checkpoint, self.eval_split, o.eval_batch_size))

    pad_to = o.eval_batch_size if o.use_tpu else 1
    _, key = self._features_file(self.eval_split, pad_to)
    return [fine_tuning.EvalSet(None, evaluate, eval_key={"features": key})]

  def predict(self, estimator, checkpoint):
    o = self.options
    examples = self.predict_split.examples
    probabilities = self._probabilities(estimator, checkpoint,
                                        self.predict_split,
                                        o.predict_batch_size)
    path = os.path.join(o.output_dir, "test_predictions.tsv")
    race_utils.write_predictions(path, examples, probabilities)
    progress.log_progress("wrote %d predictions to %s", len(examples), path)
    results = race_utils.accuracy_by_level(examples, probabilities)
    results_path = os.path.join(o.output_dir, "predict_results.txt")
    if results:
      results["checkpoint"] = checkpoint
      file_io.write_results(results_path, results)
      progress.log_progress("test accuracy %.4f (%d questions)",
                            results["eval_accuracy"], len(examples))
    else:
      file_io.remove_stale_result(
          results_path, "the test files have no answers, so there is no "
          "accuracy for test_predictions.tsv")
    return {"predictions_file": path, "results": results}

  def export(self, estimator, checkpoint):
    return estimators.export_saved_model(
        estimator, self.options.export_dir,
        NUM_CHOICES * self.options.max_seq_length,
        checkpoint_path=checkpoint)


def _examples_digest(examples):
  """Identifies a split's examples (the RACE files are many small ones)."""
  digest = hashlib.sha256()
  for example in examples:
    digest.update(repr((example.guid, example.context_sentence,
                        example.endings, example.label)).encode("utf-8"))
  return digest.hexdigest()[:16]


run, main = driver.command(RaceTask)


if __name__ == "__main__":
  flags.mark_flag_as_required("data_dir")
  flags.mark_flag_as_required("output_dir")
  app.run(main)
