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
"""Pretrains ALBERT with masked-LM and sentence-order prediction.

python -m albert.run_pretraining --input_file=... --output_dir=... \
    --albert_config_file=... --do_train --do_eval

Re-running with the same output_dir resumes from its last checkpoint, and
from the data position that checkpoint was saved at (training_position).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

from absl import app
from absl import flags
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import driver
from albert import file_io
from albert import input_pipeline
from albert import pretraining
from albert import progress

# Re-exported so code written against the released module keeps working.
model_fn_builder = pretraining.model_fn_builder
input_fn_builder = pretraining.input_fn_builder
get_masked_lm_output = pretraining.get_masked_lm_output
get_sentence_order_output = pretraining.get_sentence_order_output
gather_indexes = pretraining.gather_indexes

FLAGS = flags.FLAGS

FLAG_DEFAULTS = command_line.define_flags([
    ("string", "albert_config_file", None,
     "The config json file corresponding to the pre-trained ALBERT model. "
     "This specifies the model architecture."),
    ("string", "input_file", None,
     "Input TF example files (can be a glob or comma separated)."),
    ("string", "output_dir", None,
     "The output directory where the model checkpoints will be written."),
    ("string", "init_checkpoint", None,
     "Initial checkpoint (usually from a pre-trained ALBERT model)."),
    ("integer", "max_seq_length", 512,
     "The maximum total input sequence length after tokenization. Must "
     "match the data files."),
    ("integer", "max_predictions_per_seq", 20,
     "Maximum number of masked LM predictions per sequence. Must match the "
     "data files."),
    ("bool", "do_train", True, "Whether to run training."),
    ("bool", "do_eval", False, "Whether to run eval on the dev set."),
    ("bool", "eval_untrained", False,
     "With --do_eval and an output_dir without checkpoints: evaluate the "
     "randomly initialised model (a baseline) instead of failing."),
    ("integer", "train_batch_size", 4096, "Total batch size for training."),
    ("integer", "eval_batch_size", 64, "Total batch size for eval."),
    ("enum", "optimizer", "lamb", "The optimizer for training.",
     {"enum_values": ["adamw", "lamb"]}),
    ("float", "learning_rate", 0.00176, "The initial learning rate."),
    ("float", "poly_power", 1.0, "The power of poly decay."),
    ("integer", "num_train_steps", 125000, "Number of training steps."),
    ("integer", "num_warmup_steps", 3125, "Number of warmup steps."),
    ("integer", "start_warmup_step", 0, "The starting step of warmup."),
    ("integer", "max_eval_steps", 100, "Maximum number of eval steps."),
    ("bool", "init_from_group0", False,
     "Whether to initialize parameters of other groups from group 0"),
    ("integer", "log_every_n_steps", 100,
     "How often to log loss and examples/s (CPU/GPU)."),
    ("float", "masked_lm_budget", 0,
     "Accepted for release command lines and must stay 0: masking is done "
     "offline by create_pretraining_data (the release's dynamic masking "
     "with a budget was never finished)."),
] + command_line.run_flag_specs(save_checkpoints_steps=5000))


default_options = command_line.default_options_of(FLAG_DEFAULTS)


class PretrainingTask(driver.Task):
  """Pretraining's pieces for the training driver (albert/driver.py).

  The heads, input and model_fn are albert/pretraining.py's. --do_eval
  evaluates output_dir's latest checkpoint (keeping the best by masked-LM
  accuracy so far as model.ckpt-best) or, when there is none, the
  --init_checkpoint's or (--eval_untrained) random weights, and appends
  the results to output_dir/eval_results.txt.
  """

  name = "pretraining"
  main_metric = "masked_lm_accuracy"

  @classmethod
  def modes_for(cls, options):
    return driver.Modes(options.do_train, options.do_eval, False, False)

  @classmethod
  def check_required(cls, options, modes):
    if not any(modes):
      raise ValueError("At least one of `do_train` or `do_eval` must be True.")
    command_line.check_required_flags(
        options, ["albert_config_file", "input_file", "output_dir"])

  @classmethod
  def check_options(cls, options):
    if options.masked_lm_budget:
      raise ValueError(
          "--masked_lm_budget=%s: dynamic masking is not implemented (nor "
          "was it in the release); leave it 0 and mask offline with "
          "create_pretraining_data" % options.masked_lm_budget)

  def read_data(self):
    """Expands --input_file and checks every file's first record."""
    o = self.options
    self.input_files = pretraining.expand_input_files(o.input_file)
    # The counts place a resumed run in its epoch (training_position).
    self.record_counts = [
        pretraining.check_pretraining_file(path, o.max_seq_length,
                                           o.max_predictions_per_seq,
                                           self.albert_config)
        for path in self.input_files]
    tf.logging.info("*** Input Files *** %s", ", ".join(self.input_files))

  def check_checkpoints(self):
    """Resumes from output_dir's latest checkpoint, else starts from
    --init_checkpoint; evaluation needs one of them, or --eval_untrained."""
    o = self.options
    resume_from = tf.train.latest_checkpoint(o.output_dir)
    if resume_from and o.do_train:
      tf.logging.info("Resuming from %s (output_dir already has "
                      "checkpoints)%s", resume_from,
                      "; --init_checkpoint is not used"
                      if o.init_checkpoint else "")
    if (not o.do_train and resume_from is None and not o.init_checkpoint and
        not o.eval_untrained):
      raise ValueError(
          "output_dir %s has no checkpoint to evaluate; train first "
          "(--do_train), point --output_dir at a pretrained model or "
          "--init_checkpoint at one, or pass --eval_untrained to measure a "
          "randomly initialised baseline" % o.output_dir)
    # init_checkpoint gives the first weights only: resumed training and
    # the evaluation of a trained output_dir restore its checkpoints.
    init_checkpoint = None
    if not resume_from:
      init_checkpoint = checkpoints.resolve_init_checkpoint(o.init_checkpoint)
    return driver.CheckpointPlan(init_checkpoint, model_checkpoint=None)

  def train_steps(self):
    return self.options.num_train_steps, self.options.num_warmup_steps

  def batch_sizes(self):
    # Pretraining never predicts.
    return self.options.train_batch_size, self.options.eval_batch_size, None

  def model_fn(self, init_checkpoint, num_train_steps, num_warmup_steps):
    o = self.options
    return pretraining.model_fn_builder(
        albert_config=self.albert_config,
        init_checkpoint=init_checkpoint,
        learning_rate=o.learning_rate,
        num_train_steps=num_train_steps,
        num_warmup_steps=num_warmup_steps,
        use_tpu=o.use_tpu,
        use_one_hot_embeddings=o.use_tpu,
        optimizer=o.optimizer,
        poly_power=o.poly_power,
        start_warmup_step=o.start_warmup_step,
        init_from_group0=o.init_from_group0,
        log_every_n_steps=o.log_every_n_steps)

  def _input_fn(self, is_training):
    o = self.options
    return pretraining.input_fn_builder(
        self.input_files, o.max_seq_length, o.max_predictions_per_seq,
        is_training=is_training, record_counts=self.record_counts)

  def train_input_fn(self):
    return self._input_fn(is_training=True)

  def log_training(self, num_train_steps, num_warmup_steps, batch,
                   precision):
    del num_warmup_steps  # Pretraining's line names batch and precision only.
    tf.logging.info("***** Running training *****")
    progress.log_progress("pretraining to step %d (%s%s)", num_train_steps,
                          batch, precision)

  def log_left_to_chief(self, task_name):
    if self.modes.evaluate:
      progress.log_progress("%s done; the chief evaluates", task_name)

  def evaluate(self, estimator):
    """Evaluates output_dir's latest checkpoint, else the initial weights.

    Returns:
      {"eval_results": dict of metrics}, also appended to
      output_dir/eval_results.txt.
    """
    o = self.options
    tf.logging.info("***** Running evaluation *****")
    tf.logging.info("  Batch size = %d", o.eval_batch_size)
    eval_input_fn = self._input_fn(is_training=False)
    latest = tf.train.latest_checkpoint(o.output_dir)
    if latest is None:
      # The init checkpoint's weights, or (--eval_untrained) random ones.
      result = checkpoints.plain_results(estimator.evaluate(
          input_fn=eval_input_fn, steps=o.max_eval_steps))
      file_io.write_results(
          tf.io.gfile.join(o.output_dir, "eval_results.txt"), result,
          append=True)
    else:
      # As released: the latest checkpoint is evaluated, and the best by
      # masked-LM accuracy so far is kept as model.ckpt-best.
      history, _ = checkpoints.evaluate_checkpoints(
          checkpoints.estimator_evaluate_fn(estimator, eval_input_fn,
                                            o.max_eval_steps),
          o.output_dir, self.main_metric,
          eval_key={"input_files": [input_pipeline.file_fingerprint(path)
                                    for path in self.input_files],
                    "max_eval_steps": o.max_eval_steps,
                    "eval_batch_size": o.eval_batch_size},
          checkpoints=[latest])
      result = history[checkpoints.checkpoint_step(latest)]
    tf.logging.info("***** Eval results *****")
    for key in sorted(result):
      tf.logging.info("  %s = %s", key, result[key])
    return {"eval_results": result}


def run(options):
  """Trains and/or evaluates; returns the eval results dict (or None).

  Args:
    options: an object with this module's flag names as attributes (FLAGS,
      or `default_options(...)`).

  Returns:
    dict of eval metrics (also written to output_dir/eval_results.txt), or
    None when do_eval is off (and on workers other than the chief).

  Raises:
    ValueError: on missing or inconsistent flags or input files.
  """
  return driver.run(options, PretrainingTask).get("eval_results")


main = command_line.cli_main(run)


if __name__ == "__main__":
  flags.mark_flag_as_required("input_file")
  flags.mark_flag_as_required("albert_config_file")
  flags.mark_flag_as_required("output_dir")
  app.run(main)
