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
"""How a command ends when it cannot go on: one line and an exit code.

`run_command` runs a command's work; bad input (ValueError), what the
machine reports (OSError), TensorFlow's errors and Ctrl-C end it with one
line on stderr, "<program>: error: <what>" and exit code 1, or
"<program>: interrupted" and 130, since a traceback would only bury the
line that says what to change. ALBERT_TRACEBACK=1 shows the traceback
instead. `raise_on_sigterm` makes SIGTERM end a run like Ctrl-C (exit 143),
so the same clean-up runs; a `Terminated` may carry its own exit status
(the training commands' preemption, albert/preemption.py: 75).
`error_line` is the one line for an error.

Standard library only: the quickstart ends through it before TensorFlow's
compat.v1 API and the model code are loaded. A TensorFlow error can only
come from a loaded TensorFlow, so it is recognised through sys.modules, and
described by command_line.error_line (which names corrupt checkpoints),
found there too: command_line imports this module, not the other way.

Not here: flags and the absl main of the run_* scripts (command_line), what
a command cleans up before it ends (the command).
"""

import errno
import os
import signal
import sys
import traceback

# Set to show the traceback of an error instead of its one line.
TRACEBACK_ENV = "ALBERT_TRACEBACK"


class Terminated(KeyboardInterrupt):
  """A signal (SIGTERM), raised like Ctrl-C so that the same clean-up runs.

  Attributes:
    signum: the signal.
    words: what the command's last line says happened ("terminated").
    exit_status: the exit code: 128 + signum unless given (a preempted
      training run's is preemption.EXIT_STATUS).
  """

  def __init__(self, signum, words="terminated", exit_status=None):
    super(Terminated, self).__init__(words)
    self.signum = signum
    self.words = words
    self.exit_status = exit_status or 128 + signum


def raise_on_sigterm(words="terminated"):
  """From now on, SIGTERM raises `Terminated(SIGTERM, words)` (main thread)."""

  def handler(signum, frame):
    del frame  # unused
    raise Terminated(signum, words)

  signal.signal(signal.SIGTERM, handler)


def _tensorflow_error_class():
  """tf.errors.OpError if TensorFlow is loaded, else None."""
  errors_impl = sys.modules.get("tensorflow.python.framework.errors_impl")
  return errors_impl.OpError if errors_impl is not None else None


def is_expected(error, more=()):
  """Whether `error` is bad input or the machine's, not a bug.

  Args:
    error: an Exception.
    more: further exception classes a command expects (its own).
  """
  expected = (ValueError, OSError) + tuple(more)
  op_error = _tensorflow_error_class()
  if op_error is not None:
    expected += (op_error,)
  return isinstance(error, expected)


def error_line(error):
  """One line saying what went wrong, for a command's last words.

  A TensorFlow error is command_line.error_line's; an OSError names its
  file and the reason (with a hint when the disk is full); anything else
  is its message.
  """
  op_error = _tensorflow_error_class()
  if op_error is not None and isinstance(error, op_error):
    # TensorFlow raised it, so it is loaded, and with it (every command
    # that uses TensorFlow imports it) command_line, which reads its errors.
    # Looked up rather than imported: command_line imports this module.
    command_line = sys.modules.get("albert.command_line")
    if command_line is not None:
      return command_line.error_line(error)
    lines = (getattr(error, "message", None) or str(error)).strip()
    return lines.splitlines()[0] if lines else type(error).__name__
  if isinstance(error, OSError) and not isinstance(error, ValueError):
    where = error.filename or ""
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
      reason += "; free some space and run again (completed outputs are kept)"
    return "%s%s" % ("%s: " % where if where else "", reason)
  return str(error) or type(error).__name__


def run_command(program, work, expected=(), describe=error_line,
                after_interrupt=""):
  """Runs work(); ends expected errors and Ctrl-C with one line and a code.

  Args:
    program: the command's name, which starts the line.
    work: fn() doing the command's work.
    expected: further exception classes that are not bugs (ValueError,
      OSError and TensorFlow's errors always are).
    describe: fn(error) -> the line's text.
    after_interrupt: appended to "interrupted" / "terminated", e.g.
      "; run it again to resume".

  Returns:
    What work() returns.

  Raises:
    SystemExit: 1 after an expected error, 128 + the signal after Ctrl-C
      or `Terminated` (its exit_status when it has its own, such as a
      preempted run's). Other errors propagate with their traceback.
  """
  try:
    return work()
  except KeyboardInterrupt as e:
    status = getattr(e, "exit_status", 128 + signal.SIGINT)
    if os.environ.get(TRACEBACK_ENV):
      if status == 128 + getattr(e, "signum", signal.SIGINT):
        raise
      # A status of its own is what callers loop on (a preempted run's
      # "try again"): shown with the traceback, not replaced by it.
      traceback.print_exc()
    words = getattr(e, "words", "interrupted")
    sys.stderr.write("%s: %s%s\n" % (program, words, after_interrupt))
    sys.exit(status)
  except Exception as e:  # pylint: disable=broad-except
    if os.environ.get(TRACEBACK_ENV) or not is_expected(e, expected):
      raise
    sys.stderr.write("%s: error: %s\n" % (program, describe(e)))
    sys.exit(1)
