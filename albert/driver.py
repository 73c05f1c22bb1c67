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
"""The one driver every training command runs: `run(options, task_class)`.

run_pretraining, run_classifier, run_race and run_squad_v1/v2 are each a
`Task` class; `run` takes every one of them through the same sequence:

  1. check the flags: the task's required ones, numeric ranges, precision
     and XLA, the task's own, the distribution;
  2. build the task's context (config, vocabulary, init source) and, from
     it, the task;
  3. read every data file the run needs;
  4. check output_dir's checkpoints (resume, start afresh, or what to
     evaluate) and that output_dir is writable;
  5. build the estimator (estimators, distributed);
  6. train (SIGTERM stops after the step in flight and saves it; the run
     then ends with preemption.Preempted, exit status 75);
  7. evaluate;
  8. predict and export with the best (or latest) checkpoint.

Nothing is trained or written before steps 1-4 pass. What a family of
tasks does within a step is its `Task` subclass's: fine_tuning.Task for
GLUE, RACE and SQuAD, run_pretraining.PretrainingTask for pretraining.

Not here: flags (command_line), the estimator and its RunConfig
(estimators, distributed), checkpoint evaluation (checkpoints), the
fine-tuning rules (fine_tuning), SIGTERM's handling (preemption).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections

from albert import checkpoints
from albert import command_line
from albert import distributed
from albert import estimators
from albert import file_io
from albert import modeling
from albert import preemption
from albert import training_position

# Which phases a run has.
Modes = collections.namedtuple("Modes",
                               ["train", "evaluate", "predict", "export"])

# What a task is built with (see `Task.make_context`).
#   options: flag values (FLAGS, or `command_line.options(...)`).
#   modes: the run's `Modes`.
#   albert_config: `modeling.AlbertConfig` (None with a hub module).
#   tokenizer: `tokenization.FullTokenizer`, or None (pretraining reads
#     token ids).
#   features: a `fine_tuning.FeatureCache`, or None.
#   init_checkpoint: --init_checkpoint as a checkpoint prefix, where the
#     task family resolves it up front (fine-tuning), else None.
#   init_note: (optional) a note for the results files about where the
#     weights came from (random initialisation).
TaskContext = collections.namedtuple(
    "TaskContext", ["options", "modes", "albert_config", "tokenizer",
                    "features", "init_checkpoint", "init_note"])

# What output_dir's checkpoints decide (see `Task.check_checkpoints`).
#   init_checkpoint: the checkpoint the model_fn starts from, or None
#     (training resumes, or evaluation restores output_dir's checkpoints).
#   model_checkpoint: the checkpoint to predict or export with when
#     output_dir has none, or None.
CheckpointPlan = collections.namedtuple(
    "CheckpointPlan", ["init_checkpoint", "model_checkpoint"])


class Task(object):
  """A training command's own pieces; `run` calls them in a fixed order.

  The class methods run before the task exists (flag checks, the context);
  the task is then built with its `TaskContext`, which it keeps as
  `self.context` and unpacks into `self.options`, `self.modes`,
  `self.albert_config`, `self.tokenizer` and `self.features`. Nothing is
  set on a task from outside: what later steps decide (the checkpoint to
  start from, the estimator) is passed to the methods that need it.

  Subclasses set `name` (for messages), `main_metric` and
  `higher_is_better` (which checkpoint is best).
  """

  name = "training"
  main_metric = None
  higher_is_better = True

  def __init__(self, context):
    """Keeps the context the driver built (see `TaskContext`)."""
    self.context = context
    self.options = context.options
    self.modes = context.modes
    self.name = self.name_for(context.options)
    self.albert_config = context.albert_config
    self.tokenizer = context.tokenizer
    self.features = context.features

  # Before the task exists.

  @classmethod
  def name_for(cls, options):
    """The task's name in messages (the class's `name` by default)."""
    del options  # Unused by default.
    return cls.name

  @classmethod
  def modes_for(cls, options):
    """Which phases the options ask for: a `Modes`."""
    raise NotImplementedError

  @classmethod
  def check_required(cls, options, modes):
    """The first check: something to do, and where; ValueError if not."""
    raise NotImplementedError

  @classmethod
  def hub_module_of(cls, options):
    """--albert_hub_module_handle, or None for commands without it."""
    del options  # Unused by default.
    return None

  @classmethod
  def check_options(cls, options):
    """The task's own flag checks; raise ValueError naming the flag."""

  @classmethod
  def make_context(cls, options, modes):
    """The `TaskContext` the task is built with; checks what it reads.

    By default the config of --albert_config_file and nothing else.
    """
    albert_config = modeling.load_albert_config(options.albert_config_file,
                                                options.max_seq_length)
    return TaskContext(options, modes, albert_config, tokenizer=None,
                       features=None, init_checkpoint=None, init_note=None)

  # Reading and checking, before anything is written.

  def read_data(self):
    """Reads every data file the run needs (bad files fail here, early)."""
    raise NotImplementedError

  def check_checkpoints(self):
    """Checks output_dir's checkpoints against the modes: a `CheckpointPlan`.

    Raises:
      ValueError: the run cannot use them (e.g. nothing to evaluate).
    """
    raise NotImplementedError

  # The estimator.

  def train_steps(self):
    """(num_train_steps, num_warmup_steps)."""
    raise NotImplementedError

  def iterations_per_loop(self):
    """Steps per TPU loop (and per CPU/GPU logging interval)."""
    return self.options.iterations_per_loop

  def batch_sizes(self):
    """(train, eval, predict) global batch sizes (None: not run)."""
    raise NotImplementedError

  def model_fn(self, init_checkpoint, num_train_steps, num_warmup_steps):
    """The TPUEstimator model_fn.

    Args:
      init_checkpoint: the checkpoint training starts from, or None (see
        `CheckpointPlan`).
      num_train_steps: the step the schedule ends at.
      num_warmup_steps: linear warmup steps.
    """
    raise NotImplementedError

  # Training.

  def train_input_fn(self):
    """The training input_fn (features written or reused here)."""
    raise NotImplementedError

  def log_training(self, num_train_steps, num_warmup_steps, batch,
                   precision):
    """Logs the lines before training.

    Args:
      num_train_steps: the step training ends at.
      num_warmup_steps: linear warmup steps.
      batch: `estimators.describe_batch`'s text.
      precision: `estimators.describe_precision`'s text.
    """
    raise NotImplementedError

  def log_left_to_chief(self, task_name):
    """The last line of a worker that is not the chief (`task_name`)."""
    raise NotImplementedError

  # After training, on the chief.

  def evaluate(self, estimator):
    """Evaluates the checkpoints; returns entries for the run's summary."""
    raise NotImplementedError

  def predict(self, estimator, checkpoint):
    """Writes the task's prediction files; returns a dict for the summary."""
    raise NotImplementedError

  def export(self, estimator, checkpoint):
    """Exports a SavedModel; returns its path."""
    raise NotImplementedError

  def log_summary(self, summary):
    """The run's last line, from `run`'s summary."""


def run(options, task_class):
  """Trains, evaluates, predicts and exports as the options ask.

  Args:
    options: flag values (FLAGS, or the command's `default_options(...)`).
    task_class: a `Task` subclass.

  Returns:
    dict: "best" (the best checkpoint's results, or None), "eval_history"
    (step -> results), "predictions" (what task.predict returned, or None),
    "export_path" (or None), and whatever task.evaluate added.

  Raises:
    ValueError: on missing or inconsistent flags, data or checkpoints;
      nothing is trained or written before these checks pass.
    preemption.Preempted: SIGTERM arrived; training stopped after the step
      in flight and saved its checkpoint (nothing is evaluated, predicted
      or exported). Rerunning the same command continues.
  """
  # SIGTERM is a preemption notice: stop after this step, save, exit 75.
  with preemption.handling_sigterm(options.output_dir):
    return _run(options, task_class)


def _run(options, task_class):
  """`run` with SIGTERM handled."""
  modes = task_class.modes_for(options)
  _check_flags(options, task_class, modes)
  task = task_class(task_class.make_context(options, modes))
  task.read_data()
  # Before anything is created: a run that cannot go on leaves no
  # output_dir behind.
  plan = task.check_checkpoints()
  file_io.check_output_dir_writable(options.output_dir)

  num_train_steps, num_warmup_steps = task.train_steps()
  # One seed orders the data and draws dropout: a resumed run keeps it.
  seed = training_position.run_seed(options, modes.train)
  distribution, estimator = _make_estimator(
      task, task.model_fn(plan.init_checkpoint, num_train_steps,
                          num_warmup_steps), seed)
  summary = {"best": None, "eval_history": None, "predictions": None,
             "export_path": None}
  is_chief = distribution is None or distribution.is_chief
  if modes.train:
    if is_chief:
      file_io.remove_dead_run_leftovers(options.output_dir)
    # The records the uninterrupted run would read next.
    input_fn = training_position.with_position(
        task.train_input_fn(), training_position.resume_position(
            options, seed, distribution, is_chief))
    task.log_training(
        num_train_steps, num_warmup_steps,
        estimators.describe_batch(options, task.batch_sizes()[0],
                                  distribution),
        estimators.describe_precision(options))
    with preemption.while_training():
      estimator.train(input_fn=input_fn, max_steps=num_train_steps)
      preemption.stop_if_preempted(
          options.output_dir, is_chief,
          distribution and distribution.worker_timeout_secs)
  if not is_chief:
    # Evaluation, predictions and the export are the chief's.
    task.log_left_to_chief(distribution.task_name)
    return summary

  if modes.evaluate:
    summary.update(task.evaluate(estimator))
  if modes.predict or modes.export:
    checkpoint = _checkpoint_to_use(options.output_dir, plan)
    if modes.predict:
      summary["predictions"] = task.predict(estimator, checkpoint)
    if modes.export:
      summary["export_path"] = task.export(estimator, checkpoint)
  task.log_summary(summary)
  return summary


def _train_batch_size(options, modes):
  """The global training batch when the run trains, else None."""
  return options.train_batch_size if modes.train else None


def _check_flags(options, task_class, modes):
  """Step 1: every flag check, before anything is read."""
  task_class.check_required(options, modes)
  command_line.check_numeric_flags(options)
  estimators.check_performance_flags(
      options, use_tpu=options.use_tpu,
      hub_module=task_class.hub_module_of(options))
  task_class.check_options(options)
  distributed.check_distribution_flags(
      options, _train_batch_size(options, modes), use_tpu=options.use_tpu)


def _make_estimator(task, model_fn, seed):
  """Step 5: (the `distributed.Distribution` or None, the estimator)."""
  options = task.options
  # Last: with several machines this waits for the whole cluster.
  distribution = distributed.distribution_from_options(
      options, _train_batch_size(options, task.modes),
      use_tpu=options.use_tpu)
  run_config = estimators.run_config_from_options(
      options, iterations_per_loop=task.iterations_per_loop(),
      distribution=distribution, random_seed=seed)
  train_batch_size, eval_batch_size, predict_batch_size = task.batch_sizes()
  estimator = estimators.make_estimator(
      model_fn, run_config, use_tpu=options.use_tpu,
      train_batch_size=train_batch_size, eval_batch_size=eval_batch_size,
      predict_batch_size=predict_batch_size,
      params=estimators.model_params(options), distribution=distribution)
  return distribution, estimator


def _checkpoint_to_use(output_dir, plan):
  """Step 8's checkpoint: output_dir's best or latest, else the plan's."""
  checkpoint = (checkpoints.best_or_latest_checkpoint(output_dir) or
                plan.model_checkpoint)
  if checkpoint is None:
    raise ValueError("output_dir %s has no checkpoint to predict with" %
                     output_dir)
  return checkpoint


def command(task_class):
  """(run, main) of a training command whose pieces are `task_class`.

  run(options) trains, evaluates, predicts and/or exports as the options
  (FLAGS, or the module's `default_options(...)`) ask and returns the
  driver's summary (see `run`); main is its absl entry point.
  """

  def run_command(options):
    """Runs the command on FLAGS or `default_options(...)`."""
    return run(options, task_class)

  return run_command, command_line.cli_main(run_command)
