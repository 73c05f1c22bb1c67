# coding=utf-8
"""Runs a training command that stops dead after a given checkpoint.

python tests/resume_child.py MARKER STEP MODULE [FLAGS...]

Runs `python -m MODULE FLAGS...`, except that right after the periodic
checkpoint of global step STEP is saved it writes MARKER (the process id)
and waits for ever, so that a test can kill it (kill -9) at exactly that
point without sleeping for a guessed time. Only tests use this: the
commands themselves have no such flag.
"""

import os
import runpy
import sys
import threading

from tensorflow.python.training import basic_session_run_hooks


def _stop_after(marker, stop_step):
  """Patches the checkpoint saver: after step `stop_step`, mark and wait."""
  save = basic_session_run_hooks.CheckpointSaverHook._save  # pylint: disable=protected-access

  def save_then_stop(self, session, step):
    result = save(self, session, step)
    if step == stop_step:
      with open(marker + ".tmp", "w") as f:
        f.write(str(os.getpid()))
      os.rename(marker + ".tmp", marker)
      threading.Event().wait()  # Until killed.
    return result

  basic_session_run_hooks.CheckpointSaverHook._save = save_then_stop  # pylint: disable=protected-access


def main():
  marker, stop_step, module = sys.argv[1], int(sys.argv[2]), sys.argv[3]
  _stop_after(marker, stop_step)
  sys.argv = [module] + sys.argv[4:]
  runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
  main()
