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
"""What run_squad_v1 and run_squad_v2 share: flags, data, caches, flow.

SQuAD on the training driver (albert/driver.py, albert/fine_tuning.py).
The release had two modes: --do_train, and --do_predict, which evaluated
every checkpoint on predict_file. Here --do_predict on a file with answers
(a dev set) evaluates every checkpoint once, keeps the best by F1 as
model.ckpt-best, and writes the best checkpoint's predictions; on a file
without answers (a test set) it only predicts, with model.ckpt-best or the
latest checkpoint. Nothing waits for checkpoints and nothing deletes them.

Data files are checked in full when read, before any model work
(squad_data): a malformed question, a repeated id or, in a file with
answers, a question without the answers its scoring needs fails at once in
one line naming the file and the question. Integer question ids are read
as their decimal strings, both for prediction and for scoring.

Feature caches are named and checked by everything that changes them
(input file contents, every length flag, tokenizer files, lower-casing);
the release's explicit cache flags still name where they go.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import os
import random

import tensorflow.compat.v1 as tf

from albert import command_line
from albert import driver
from albert import fine_tuning
from albert import input_pipeline
from albert import progress
from albert import squad_data
from albert import squad_utils

# Bumped when the features written for the same inputs change.
_FEATURES_FORMAT = 1

# The release shuffled training examples with this seed before conversion.
_TRAIN_SHUFFLE_SEED = 12345


def flag_specs():
  """The flags both SQuAD commands have, with the release's defaults."""
  return fine_tuning.common_flag_specs(
      max_seq_length=384, learning_rate=5e-5, train_batch_size=32,
      predict_batch_size=8) + [
          ("string", "train_file",
           None, "SQuAD json for training. E.g., train-v1.1.json"),
          ("string", "predict_file", None,
           "SQuAD json for predictions. E.g., dev-v1.1.json or "
           "test-v1.1.json. With answers, every checkpoint is evaluated on "
           "it; without, it is only predicted."),
          ("string", "train_feature_file", None,
           "training feature file (default: a name in output_dir made from "
           "everything that changes the features)."),
          ("string", "predict_feature_file", None,
           "Location of predict features. If it doesn't exist, it will be "
           "written. If it does exist, it will be read when it was made "
           "from the same data and flags (its .json sidecar says), and "
           "written again otherwise."),
          ("string", "predict_feature_left_file", None,
           "Location of predict features not passed to TPU (host-side, for "
           "post-processing; JSON lines, not pickle)."),
          ("integer", "doc_stride", 128,
           "When splitting up a long document into chunks, how much stride "
           "to take between chunks."),
          ("integer", "max_query_length", 64,
           "The maximum number of tokens for the question. Questions longer "
           "than this will be truncated to this length."),
          ("float", "num_train_epochs", 3.0,
           "Total number of training epochs to perform."),
          ("float", "warmup_proportion", 0.1,
           "Proportion of training to perform linear learning rate warmup "
           "for. E.g., 0.1 = 10% of training."),
          ("integer", "n_best_size", 20,
           "The total number of n-best predictions to generate in the "
           "nbest_predictions.json output file."),
          ("integer", "max_answer_length", 30,
           "The maximum length of an answer that can be generated. This is "
           "needed because the start and end predictions are not "
           "conditioned on one another."),
      ] + command_line.run_flag_specs(save_checkpoints_steps=1000,
                                      iterations_per_loop=1000,
                                      keep_checkpoint_max=0)


class SquadTask(fine_tuning.Task):
  """SQuAD's pieces for the driver; v1 and v2 fill in head and scoring."""

  name = "run_squad"
  main_metric = "f1"
  is_v2 = False

  @classmethod
  def modes_for(cls, options):
    evaluate = bool(options.do_predict and options.predict_file and
                    squad_data.file_has_answers(options.predict_file))
    return driver.Modes(options.do_train, evaluate, options.do_predict,
                        bool(options.export_dir))

  @classmethod
  def check_options(cls, options):
    if options.do_train and not options.train_file:
      raise ValueError(
          "If `do_train` is True, then `train_file` must be specified.")
    if options.do_predict and not options.predict_file:
      raise ValueError(
          "If `do_predict` is True, then `predict_file` must be specified.")
    if options.max_seq_length <= options.max_query_length + 3:
      raise ValueError(
          "--max_seq_length=%d must be longer than --max_query_length=%d "
          "plus 3 ([CLS] and two [SEP]s), or no paragraph fits" %
          (options.max_seq_length, options.max_query_length))

  def read_data(self):
    o = self.options
    if self.tokenizer.sp_model is None:
      raise ValueError(
          "SQuAD needs a sentencepiece model: pass --spm_model_file (or a "
          "hub module, whose own model is used); --vocab_file alone is not "
          "enough")
    self.train_examples = None
    self.train_stats = collections.Counter()
    if o.do_train:
      self.train_examples = squad_utils.read_squad_examples(
          o.train_file, is_training=True, stats=self.train_stats)
      if not self.train_examples:
        raise ValueError("train_file %s holds no usable question" %
                         o.train_file)
      # As released: a fixed shuffle, so the features (and their cache)
      # are the same from run to run.
      random.Random(_TRAIN_SHUFFLE_SEED).shuffle(self.train_examples)
      _log_stats("train_file " + o.train_file, self.train_stats)
    self.eval_examples = None
    self.eval_stats = collections.Counter()
    self.dataset = None
    if o.do_predict:
      self.eval_examples = squad_utils.read_squad_examples(
          o.predict_file, is_training=False, stats=self.eval_stats)
      if not self.eval_examples:
        raise ValueError("predict_file %s holds no question" %
                         o.predict_file)
      if squad_data.file_has_answers(o.predict_file):
        # Every question is checked for the answers scoring reads now, not
        # after a whole prediction run.
        self.dataset = squad_data.read_squad_dataset(
            o.predict_file, squad_data.V2 if self.is_v2 else squad_data.V1)
    self._eval_features = None

  def train_steps(self):
    o = self.options
    if not self.train_examples:
      return 0, 0
    # As released, steps count questions, not windows; a step is one
    # update of the effective (accumulated) batch.
    update_batch_size = o.train_batch_size * o.gradient_accumulation_steps
    num_train_steps = int(len(self.train_examples) / update_batch_size *
                          o.num_train_epochs)
    if num_train_steps < 1:
      accumulation = ""
      if o.gradient_accumulation_steps > 1:
        accumulation = (
            " x --gradient_accumulation_steps=%d (one step updates on %d "
            "questions)" % (o.gradient_accumulation_steps, update_batch_size))
      raise ValueError(
          "%d training questions at --train_batch_size=%d%s for "
          "--num_train_epochs=%s make no training step; lower %s or raise "
          "--num_train_epochs" %
          (len(self.train_examples), o.train_batch_size, accumulation,
           o.num_train_epochs,
           "--gradient_accumulation_steps" if accumulation else
           "--train_batch_size"))
    return num_train_steps, int(num_train_steps * o.warmup_proportion)

  def batch_sizes(self):
    o = self.options
    return o.train_batch_size, o.predict_batch_size, o.predict_batch_size

  def _key(self, split, path):
    o = self.options
    return self.features.key(
        format=_FEATURES_FORMAT, task="squad_v2" if self.is_v2 else "squad",
        split=split, data=input_pipeline.data_file_key(path),
        doc_stride=o.doc_stride, max_query_length=o.max_query_length)

  def _convert(self, examples, is_training, output_fn, stats):
    o = self.options
    return squad_utils.convert_examples_to_features(
        examples=examples, tokenizer=self.tokenizer,
        max_seq_length=o.max_seq_length, doc_stride=o.doc_stride,
        max_query_length=o.max_query_length, is_training=is_training,
        output_fn=output_fn, do_lower_case=self.tokenizer.do_lower_case,
        stats=stats)

  def train_input_fn(self):
    o = self.options
    key = self._key("train", o.train_file)
    path = self.features.path("squad_train", key, o.train_feature_file)

    def write(path):
      stats = collections.Counter()
      with input_pipeline.atomic_record_writer(path, key) as writer:
        self._convert(
            self.train_examples, True,
            lambda f: writer.write(squad_utils.feature_to_tf_example(f, True)),
            stats)
      _log_stats("training features", stats)

    input_pipeline.reuse_or_write(path, key, write,
                                  what="SQuAD training features")
    return squad_utils.input_fn_builder(
        input_file=path, seq_length=o.max_seq_length, is_training=True,
        drop_remainder=True, use_tpu=o.use_tpu, bsz=o.train_batch_size,
        is_v2=self.is_v2)

  def eval_features(self):
    """(TFRecord path, host-side features) of predict_file, cached."""
    if self._eval_features is not None:
      return self._eval_features
    o = self.options
    key = self._key("predict", o.predict_file)
    record_path = self.features.path("squad_predict", key,
                                     o.predict_feature_file)
    host_path = self.features.path("squad_predict", key,
                                   o.predict_feature_left_file,
                                   extension=".features.jsonl")
    if (input_pipeline.cache_is_valid(record_path, key) and
        input_pipeline.cache_is_valid(host_path, key)):
      tf.logging.info("Reusing cached SQuAD predict features %s and %s",
                      record_path, host_path)
      features = squad_utils.read_eval_features(host_path)
    else:
      tf.logging.info("Writing SQuAD predict features to %s and %s",
                      record_path, host_path)
      features = []
      stats = collections.Counter()

      def add(feature):
        features.append(feature)
        writer.write(squad_utils.feature_to_tf_example(feature, False))

      with input_pipeline.atomic_record_writer(record_path, key) as writer:
        self._convert(self.eval_examples, False, add, stats)
      if tf.io.gfile.exists(host_path + ".json"):
        tf.io.gfile.remove(host_path + ".json")
      squad_utils.write_eval_features(host_path, features)
      input_pipeline.write_key(host_path, key)
      _log_stats("predict features", stats)
    self._eval_features = (record_path, features)
    self._eval_features_key = key
    return self._eval_features

  def raw_results(self, estimator, checkpoint):
    """Runs the model on predict_file's features; yields per-feature dicts."""
    o = self.options
    record_path, features = self.eval_features()
    input_fn = squad_utils.input_fn_builder(
        input_file=record_path, seq_length=o.max_seq_length,
        is_training=False, drop_remainder=False, use_tpu=o.use_tpu,
        bsz=o.predict_batch_size, is_v2=self.is_v2)
    count = 0
    for result in estimator.predict(input_fn, checkpoint_path=checkpoint,
                                    yield_single_examples=True):
      count += 1
      if count % 1000 == 0:
        progress.log_progress("predicted %d of %d windows", count,
                              len(features))
      yield result
    if count != len(features):
      raise RuntimeError("got %d results for %d SQuAD windows of %s" %
                         (count, len(features), o.predict_file))

  def score(self, estimator, checkpoint, output_files):
    """Predicts predict_file with `checkpoint`; returns the metrics.

    Args:
      estimator: the estimator.
      checkpoint: checkpoint path.
      output_files: write predictions.json and the other files to
        output_dir.

    Returns:
      dict of metrics ({} for a file without answers).
    """
    raise NotImplementedError

  def eval_sets(self, estimator):
    self.eval_features()
    return [fine_tuning.EvalSet(
        None, lambda checkpoint: self.score(estimator, checkpoint, False),
        eval_key={"features": self._eval_features_key,
                  "scoring": self.scoring_key()})]

  def scoring_key(self):
    """Flags that change the metrics of the same predictions."""
    o = self.options
    return {"n_best_size": o.n_best_size,
            "max_answer_length": o.max_answer_length}

  def predict(self, estimator, checkpoint):
    progress.log_progress("predicting %s with %s", self.options.predict_file,
                          checkpoint)
    return self.score(estimator, checkpoint, True)

  def output_path(self, name):
    return os.path.join(self.options.output_dir, name)


def _log_stats(what, stats):
  """One summary line of what reading or conversion counted."""
  if stats:
    progress.log_progress("%s: %s", what, ", ".join(
        "%s %d" % (name.replace("_", " "), stats[name])
        for name in sorted(stats)))
