# coding=utf-8
"""Tests for albert/command_line.py: TensorFlow errors as one line, and the
errors of bad input files are ValueErrors, which the command lines print as
one line."""

import errno

import pytest
import tensorflow.compat.v1 as tf

from albert import classifier_utils as cu
from albert import command_line
from albert import modeling
from albert import run_pretraining
from albert import tokenization


tf.disable_v2_behavior()


def test_error_line_skips_the_graph_frames_of_other_errors():
  error = tf.errors.NotFoundError(
      None, None, "Graph execution error:\n\nDetected at node 'x' defined "
      "at (most recent call last):\n  File \"a.py\", line 1\nNode: 'x'\n"
      "Key output_bias not found in checkpoint\n\t [[{{node x}}]]")
  assert command_line.error_line(error) == (
      "Key output_bias not found in checkpoint (TensorFlow NotFoundError; is "
      "the checkpoint complete and made for this config?)")


def test_errors_are_value_errors_for_the_command_lines():
  for error in (modeling.AlbertConfigError, modeling.VocabSizeMismatchError,
                tokenization.VocabFileError, cu.DataFormatError):
    assert issubclass(error, ValueError)


def test_numeric_rules_cover_every_command_and_type():
  command_line.check_numeric_flags(
      {"warmup_proportion": 0.0, "dropout_prob": 0.0, "keep_checkpoint_max": 0,
       "random_seed": -5})
  with pytest.raises(ValueError, match=r"--warmup_proportion=1.5 must be "
                                       r"within \[0, 1\]"):
    command_line.check_numeric_flags({"warmup_proportion": 1.5})
  with pytest.raises(ValueError, match=r"--dropout_prob=1.0 must be within"):
    command_line.check_numeric_flags({"dropout_prob": 1.0})
  with pytest.raises(ValueError, match=r"--doc_stride='8' must be a number"):
    command_line.check_numeric_flags({"doc_stride": "8"})
  from albert import run_classifier, run_race, run_squad_v2  # pylint: disable=g-import-not-at-top
  for module in (run_classifier, run_race, run_squad_v2, run_pretraining):
    numeric = [name for name, value in module.FLAG_DEFAULTS.items()
               if isinstance(value, (int, float)) and
               not isinstance(value, bool) and name not in (
                   "random_seed", "threshold_to_export", "poly_power",
                   "start_warmup_step", "num_keep_checkpoint",
                   "null_score_diff_threshold",
                   "masked_lm_budget")]
    missing = [n for n in numeric if n not in command_line.NUMERIC_FLAG_RULES]
    assert not missing, (module.__name__, missing)


def cli_exit(run_fn, capsys):
  main = command_line.cli_main(run_fn)
  with pytest.raises(SystemExit) as exit_info:
    main(["prog"])
  return exit_info.value.code, capsys.readouterr().err


def test_cli_turns_interrupts_and_machine_errors_into_one_line(capsys,
                                                               monkeypatch):
  monkeypatch.delenv("ALBERT_TRACEBACK", raising=False)

  def interrupted(_):
    raise KeyboardInterrupt

  def disk_full(_):
    raise OSError(errno.ENOSPC, "No space left on device", "/out/x.tfrecord")

  def restore_failed(_):
    raise tf.errors.DataLossError(None, None,
                                  "Checksum does not match\nmore detail")

  code, err = cli_exit(interrupted, capsys)
  assert code == 130 and err.strip().endswith(": interrupted")
  code, err = cli_exit(disk_full, capsys)
  assert code == 1 and len(err.strip().splitlines()) == 1
  assert "/out/x.tfrecord: No space left on device; free some space" in err
  code, err = cli_exit(restore_failed, capsys)
  assert code == 1 and len(err.strip().splitlines()) == 1
  assert "Checksum does not match (TensorFlow DataLossError" in err
  assert "Traceback" not in err


def test_cli_main_accepts_none_as_the_release_tests_call_it(capsys):
  seen = []
  command_line.cli_main(seen.append)(None)
  assert len(seen) == 1
