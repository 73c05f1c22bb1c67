# coding=utf-8
"""Tests for albert.driver: the one sequence every training command runs."""

import pytest
import tensorflow.compat.v1 as tf

from albert import checkpoints
from albert import command_line
from albert import driver
from albert import input_pipeline
from albert import run_classifier
from albert import run_pretraining
from albert import run_race
from albert import run_squad_v1
from albert import run_squad_v2

import estimator_fixtures

tf.disable_v2_behavior()

# The driver's calls into a task, in the order it makes them.
SEQUENCE = ["check_required", "check_options", "make_context", "__init__",
            "read_data", "check_checkpoints", "train_steps", "model_fn",
            "train_input_fn", "log_training", "evaluate", "predict",
            "log_summary"]


def _options(output_dir):
  """The run flags (TPU, checkpoints, precision, strategy) and a batch."""
  defaults = {spec[1]: spec[2] for spec in command_line.run_flag_specs()}
  defaults.update(output_dir=None, train_batch_size=None)
  return command_line.options(defaults, dict(
      output_dir=output_dir, train_batch_size=8, save_checkpoints_steps=2,
      iterations_per_loop=2, random_seed=1))


def _recording_task(records, events, built):
  """A linear regressor as a `driver.Task` that records the driver's calls.

  Once built, setting any attribute on it fails: whatever the driver
  decides after construction must reach the task as arguments.
  """
  spec = estimator_fixtures.SPEC

  class RecordingTask(driver.Task):
    """Trains 4 steps, evaluates the latest checkpoint, predicts."""

    name = "recording"
    main_metric = "eval_mse"

    def __init__(self, context):
      events.append("__init__")
      super(RecordingTask, self).__init__(context)
      built.append(self)
      self._frozen = True

    def __setattr__(self, name, value):
      if getattr(self, "_frozen", False):
        raise AssertionError("task.%s set after the task was built" % name)
      super(RecordingTask, self).__setattr__(name, value)

    @classmethod
    def modes_for(cls, options):
      return driver.Modes(train=True, evaluate=True, predict=True,
                          export=False)

    @classmethod
    def check_required(cls, options, modes):
      events.append("check_required")

    @classmethod
    def check_options(cls, options):
      events.append("check_options")

    @classmethod
    def make_context(cls, options, modes):
      events.append("make_context")
      return driver.TaskContext(options, modes, albert_config=None,
                                tokenizer=None, features=None,
                                init_checkpoint=None, init_note=None)

    def read_data(self):
      events.append("read_data")

    def check_checkpoints(self):
      events.append("check_checkpoints")
      return driver.CheckpointPlan(init_checkpoint=None,
                                   model_checkpoint=None)

    def train_steps(self):
      events.append("train_steps")
      return 4, 0

    def batch_sizes(self):
      return 8, 8, 8

    def model_fn(self, init_checkpoint, num_train_steps, num_warmup_steps):
      events.append("model_fn")
      assert (init_checkpoint, num_train_steps, num_warmup_steps) == (
          None, 4, 0)
      return estimator_fixtures.linear_model_fn

    def train_input_fn(self):
      events.append("train_input_fn")
      return input_pipeline.file_based_input_fn_builder(records, spec, True,
                                                        True)

    def log_training(self, num_train_steps, num_warmup_steps, batch,
                     precision):
      events.append("log_training")
      assert (batch, precision) == ("batch 8", "")

    def log_left_to_chief(self, task_name):
      raise AssertionError("one machine is its own chief")

    def evaluate(self, estimator):
      events.append("evaluate")
      eval_fn = input_pipeline.file_based_input_fn_builder(records, spec,
                                                           False, True)
      latest = tf.train.latest_checkpoint(self.options.output_dir)
      return {"eval_results": checkpoints.plain_results(estimator.evaluate(
          eval_fn, checkpoint_path=latest))}

    def predict(self, estimator, checkpoint):
      events.append("predict")
      predict_fn = input_pipeline.file_based_input_fn_builder(
          records, spec, False, False)
      return {"checkpoint": checkpoint,
              "count": len(list(estimator.predict(
                  predict_fn, checkpoint_path=checkpoint)))}

    def log_summary(self, summary):
      events.append("log_summary")

  return RecordingTask


@pytest.fixture(scope="module")
def records(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("records") / "data.tf_record")
  estimator_fixtures.write_regression_records(path, 64, seed=0)
  return path


def test_a_task_is_built_with_its_context_and_then_only_called(records,
                                                                tmp_path):
  events, built = [], []
  task_class = _recording_task(records, events, built)
  options = _options(str(tmp_path / "out"))
  summary = driver.run(options, task_class)
  assert events == SEQUENCE
  (task,) = built
  assert isinstance(task.context, driver.TaskContext)
  assert task.context.options is options and task.options is options
  assert task.modes == driver.Modes(True, True, True, False)
  assert task.name == "recording"
  assert summary["eval_results"]["global_step"] == 4
  assert summary["predictions"]["count"] == 64
  assert summary["predictions"]["checkpoint"].endswith("model.ckpt-4")
  assert summary["export_path"] is None


def test_every_training_command_runs_on_the_driver(monkeypatch):
  calls = []

  def recording_run(options, task_class):
    calls.append((options, task_class))
    return {"best": None, "eval_history": None, "predictions": None,
            "export_path": None, "eval_results": {"masked_lm_loss": 1.0}}

  monkeypatch.setattr(driver, "run", recording_run)
  options = run_pretraining.default_options()
  assert run_pretraining.run(options) == {"masked_lm_loss": 1.0}
  assert calls[-1] == (options, run_pretraining.PretrainingTask)
  for module, task_class in ((run_classifier, run_classifier.GlueTask),
                             (run_race, run_race.RaceTask),
                             (run_squad_v1, run_squad_v1.SquadV1Task),
                             (run_squad_v2, run_squad_v2.SquadV2Task)):
    options = module.default_options()
    module.run(options)
    assert calls[-1] == (options, task_class)
    assert issubclass(task_class, driver.Task)
  assert issubclass(run_pretraining.PretrainingTask, driver.Task)
