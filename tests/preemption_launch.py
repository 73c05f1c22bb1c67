# coding=utf-8
"""Runs a training command that waits for SIGTERM after a given step.

  python preemption_launch.py STEP MARKER MODULE FLAGS...

runs `python -m MODULE FLAGS...`, except that after step STEP (0: never)
it writes the file MARKER and waits there until SIGTERM arrives, so that a
test (preemption_test) can send the signal at a known step by polling for
the marker. Nothing else is imported before MODULE: another command's
flags, defined first, would bring their defaults along.
"""

import os
import runpy
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow.compat.v1 as tf

from albert import preemption

# The longest wait for SIGTERM, in seconds (the test gives up before).
WAIT_SECS = 600


def pausing_hook(at_step, marker):
  """A `preemption.StopHook` that waits for SIGTERM after step at_step."""

  class PausingHook(preemption.StopHook):

    def after_create_session(self, session, coord):
      super(PausingHook, self).after_create_session(session, coord)
      self.step = int(session.run(tf.train.get_global_step()))

    def after_run(self, run_context, run_values):
      self.step += 1
      if self.step == at_step:
        with open(marker, "w") as f:
          f.write(str(self.step))
        deadline = time.time() + WAIT_SECS
        while not preemption.requested() and time.time() < deadline:
          time.sleep(0.05)  # SIGTERM's handler runs in here.
      super(PausingHook, self).after_run(run_context, run_values)

  return PausingHook


def main(argv):
  at_step, marker, module = int(argv[1]), argv[2], argv[3]
  preemption.StopHook = pausing_hook(at_step, marker)
  sys.argv = [module] + argv[4:]
  runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
  main(sys.argv)
