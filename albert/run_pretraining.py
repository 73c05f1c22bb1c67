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

Re-running with the same output_dir resumes from its last checkpoint.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

from absl import app
from absl import flags
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import distributed
from albert import estimators
from albert import file_io
from albert import input_pipeline
from albert import modeling
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


def default_options(**overrides):
  """The flag defaults as an object, with overrides; for calling `run`."""
  return command_line.options(FLAG_DEFAULTS, overrides)


def run(options):
  """Trains and/or evaluates; returns the eval results dict (or None).

  Args:
    options: an object with this module's flag names as attributes (FLAGS,
      or `default_options(...)`).

  Returns:
    dict of eval metrics (also written to output_dir/eval_results.txt), or
    None when do_eval is off.

  Raises:
    ValueError: on missing or inconsistent flags or input files.
  """
  if not options.do_train and not options.do_eval:
    raise ValueError("At least one of `do_train` or `do_eval` must be True.")
  for name in ("albert_config_file", "input_file", "output_dir"):
    if not getattr(options, name):
      raise ValueError("--%s is required" % name)
  command_line.check_numeric_flags(options)
  estimators.check_performance_flags(options, use_tpu=options.use_tpu,
                                     hub_module=None)
  train_batch_size = options.train_batch_size if options.do_train else None
  distributed.check_distribution_flags(options, train_batch_size,
                                      use_tpu=options.use_tpu)
  if options.masked_lm_budget:
    raise ValueError(
        "--masked_lm_budget=%s: dynamic masking is not implemented (nor was "
        "it in the release); leave it 0 and mask offline with "
        "create_pretraining_data" % options.masked_lm_budget)

  albert_config = modeling.load_albert_config(options.albert_config_file,
                                              options.max_seq_length)

  input_files = pretraining.expand_input_files(options.input_file)
  for path in input_files:
    pretraining.check_pretraining_file(path, options.max_seq_length,
                                       options.max_predictions_per_seq,
                                       albert_config)
  tf.logging.info("*** Input Files *** %s", ", ".join(input_files))

  resume_from = tf.train.latest_checkpoint(options.output_dir)
  if resume_from and options.do_train:
    tf.logging.info("Resuming from %s (output_dir already has checkpoints)%s",
                    resume_from, "; --init_checkpoint is not used"
                    if options.init_checkpoint else "")
  if (not options.do_train and resume_from is None and
      not options.init_checkpoint and not options.eval_untrained):
    raise ValueError(
        "output_dir %s has no checkpoint to evaluate; train first "
        "(--do_train), point --output_dir at a pretrained model or "
        "--init_checkpoint at one, or pass --eval_untrained to measure a "
        "randomly initialised baseline" % options.output_dir)
  file_io.check_output_dir_writable(options.output_dir)
  # init_checkpoint gives the first weights only: resumed training and the
  # evaluation of a trained output_dir restore its checkpoints.
  init_checkpoint = None
  if not resume_from:
    init_checkpoint = checkpoints.resolve_init_checkpoint(
        options.init_checkpoint)

  model_fn = pretraining.model_fn_builder(
      albert_config=albert_config,
      init_checkpoint=init_checkpoint,
      learning_rate=options.learning_rate,
      num_train_steps=options.num_train_steps,
      num_warmup_steps=options.num_warmup_steps,
      use_tpu=options.use_tpu,
      use_one_hot_embeddings=options.use_tpu,
      optimizer=options.optimizer,
      poly_power=options.poly_power,
      start_warmup_step=options.start_warmup_step,
      init_from_group0=options.init_from_group0,
      log_every_n_steps=options.log_every_n_steps)
  # Last: with several machines this waits for the whole cluster.
  distribution = distributed.distribution_from_options(
      options, train_batch_size, use_tpu=options.use_tpu)
  estimator = estimators.make_estimator(
      model_fn,
      estimators.run_config_from_options(options, distribution=distribution),
      use_tpu=options.use_tpu,
      train_batch_size=options.train_batch_size,
      eval_batch_size=options.eval_batch_size,
      params=estimators.model_params(options),
      distribution=distribution)
  is_chief = distribution is None or distribution.is_chief

  if options.do_train:
    if is_chief:
      file_io.remove_dead_run_leftovers(options.output_dir)
    tf.logging.info("***** Running training *****")
    progress.log_progress(
        "pretraining to step %d (%s%s)", options.num_train_steps,
        estimators.describe_batch(options, options.train_batch_size,
                                  distribution),
        estimators.describe_precision(options))
    estimator.train(
        input_fn=pretraining.input_fn_builder(
            input_files, options.max_seq_length,
            options.max_predictions_per_seq, is_training=True),
        max_steps=options.num_train_steps)

  if not options.do_eval:
    return None
  if not is_chief:
    progress.log_progress("%s done; the chief evaluates",
                          distribution.task_name)
    return None
  tf.logging.info("***** Running evaluation *****")
  tf.logging.info("  Batch size = %d", options.eval_batch_size)
  eval_input_fn = pretraining.input_fn_builder(
      input_files, options.max_seq_length, options.max_predictions_per_seq,
      is_training=False)
  results_path = tf.io.gfile.join(options.output_dir, "eval_results.txt")
  latest = tf.train.latest_checkpoint(options.output_dir)
  if latest is None:
    # The init checkpoint's weights, or (--eval_untrained) random ones.
    result = checkpoints.plain_results(estimator.evaluate(
        input_fn=eval_input_fn, steps=options.max_eval_steps))
    file_io.write_results(results_path, result, append=True)
  else:
    # As released: the latest checkpoint is evaluated, and the best by
    # masked-LM accuracy so far is kept as model.ckpt-best.
    history, _ = checkpoints.evaluate_checkpoints(
        checkpoints.estimator_evaluate_fn(estimator, eval_input_fn,
                                          options.max_eval_steps),
        options.output_dir, "masked_lm_accuracy",
        eval_key={"input_files": [input_pipeline.file_fingerprint(path)
                                  for path in input_files],
                  "max_eval_steps": options.max_eval_steps,
                  "eval_batch_size": options.eval_batch_size},
        checkpoints=[latest])
    result = history[checkpoints.checkpoint_step(latest)]
  tf.logging.info("***** Eval results *****")
  for key in sorted(result):
    tf.logging.info("  %s = %s", key, result[key])
  return result


main = command_line.cli_main(run)


if __name__ == "__main__":
  flags.mark_flag_as_required("input_file")
  flags.mark_flag_as_required("albert_config_file")
  flags.mark_flag_as_required("output_dir")
  app.run(main)
