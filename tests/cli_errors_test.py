# coding=utf-8
"""Tests for cli_errors: how every command ends, in one line and a code."""

import errno
import os
import signal
import time

import pytest
import tensorflow.compat.v1 as tf

from albert import cli_errors


class OwnError(RuntimeError):
  """An error one command expects (e.g. a dead worker)."""


def end(work, capsys, **kwargs):
  """Runs work through run_command; returns (exit code, stderr)."""
  with pytest.raises(SystemExit) as exit_info:
    cli_errors.run_command("prog", work, **kwargs)
  return exit_info.value.code, capsys.readouterr().err


def raiser(error):
  def work():
    raise error
  return work


@pytest.fixture(autouse=True)
def no_traceback(monkeypatch):
  monkeypatch.delenv(cli_errors.TRACEBACK_ENV, raising=False)


def test_returns_what_the_work_returns():
  assert cli_errors.run_command("prog", lambda: 42) == 42


def test_bad_input_and_machine_errors_are_one_line_and_exit_1(capsys):
  assert end(raiser(ValueError("--x=0 must be > 0")), capsys) == (
      1, "prog: error: --x=0 must be > 0\n")
  code, err = end(raiser(OSError(errno.ENOSPC, "No space left on device",
                                 "/out/x")), capsys)
  assert code == 1
  assert err == ("prog: error: /out/x: No space left on device; free some "
                 "space and run again (completed outputs are kept)\n")
  code, err = end(raiser(tf.errors.NotFoundError(None, None, "gone\nmore")),
                  capsys)
  assert code == 1 and len(err.splitlines()) == 1
  assert err.startswith("prog: error: gone (TensorFlow NotFoundError")


def test_a_commands_own_errors_and_description(capsys):
  assert end(raiser(OwnError("a worker died")), capsys, expected=(OwnError,),
             describe=lambda e: "<%s>" % e) == (
                 1, "prog: error: <a worker died>\n")
  with pytest.raises(OwnError):  # not expected: a bug, with its traceback
    cli_errors.run_command("prog", raiser(OwnError("x")))


def test_interrupts_end_with_128_plus_the_signal(capsys):
  assert end(raiser(KeyboardInterrupt()), capsys,
             after_interrupt="; run it again") == (
                 130, "prog: interrupted; run it again\n")
  terminated = cli_errors.Terminated(signal.SIGTERM, "terminated by SIGTERM")
  assert end(raiser(terminated), capsys,
             after_interrupt="; no output was written") == (
                 143, "prog: terminated by SIGTERM; no output was written\n")


def test_sigterm_raises_terminated():
  previous = signal.getsignal(signal.SIGTERM)
  try:
    cli_errors.raise_on_sigterm()
    with pytest.raises(cli_errors.Terminated) as raised:
      os.kill(os.getpid(), signal.SIGTERM)
      time.sleep(5)  # the handler interrupts this at once
    assert raised.value.signum == signal.SIGTERM
    assert raised.value.words == "terminated"
  finally:
    signal.signal(signal.SIGTERM, previous)


def test_albert_traceback_shows_the_traceback(monkeypatch):
  monkeypatch.setenv(cli_errors.TRACEBACK_ENV, "1")
  with pytest.raises(ValueError):
    cli_errors.run_command("prog", raiser(ValueError("bad")))
  with pytest.raises(KeyboardInterrupt):
    cli_errors.run_command("prog", raiser(KeyboardInterrupt()))
