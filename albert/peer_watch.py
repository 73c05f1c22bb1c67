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
"""Ends a multi-worker run that cannot reach its peers, in bounded time.

When a worker of a --strategy=multi_worker_mirrored run starts, TensorFlow
waits inside C++ (holding Python's lock, so no Python thread can run) until
every task of TF_CONFIG's cluster has registered, for as long as it takes;
and when a peer dies during training, the survivors' sessions fail and are
re-created from the last checkpoint over and over, for ever.
`distributed.distribution_from_options` therefore starts this file as a small
separate process (it imports nothing but the standard library):

  python peer_watch.py PID TIMEOUT_SECS PROGRAM TASK NAME=HOST:PORT ...

It connects to every peer's port until each has answered once, then keeps
checking them. If TIMEOUT_SECS pass before a peer first answers, or after
it last did, it kills process PID and then prints one line naming the peer
and its address (last, after whatever TensorFlow logged). It exits when PID
does (SIGTERM, a preemption notice, leaves it watching); PID stops it when
training is over (peers that finished then close their ports, as they
should).
"""

import os
import signal
import socket
import sys
import time

# How often peers are tried, in seconds.
POLL_SECS = 1.0


def answers(address):
  """Whether something accepts TCP connections at host:port."""
  host, _, port = address.rpartition(":")
  try:
    socket.create_connection((host.strip("[]"), int(port)), timeout=1).close()
    return True
  except (OSError, ValueError):
    return False


def process_alive(pid):
  """False only if no process with this pid exists on this machine.

  (Standard library only, like this whole file; the modules that clean up
  a dead run's leftovers use it too.)
  """
  if pid <= 0:
    return True  # Not a pid a process can have; never treat it as dead.
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except OSError:
    return True  # It exists, but belongs to someone else.
  return True


def watch(pid, timeout_secs, program, task, peers):
  """Watches the peers while `pid` lives; ends `pid` when one is missing.

  Args:
    pid: the training process.
    timeout_secs: how long a peer may not answer.
    program: the command's name, for the error line.
    task: this task's name ("worker 0").
    peers: [(name, "host:port")].

  Returns:
    0 when `pid` ended by itself, 1 when this ended it.
  """
  started = time.time()
  last_answer = {peer: None for peer in peers}
  while process_alive(pid):
    now = time.time()
    for peer in peers:
      if answers(peer[1]):
        last_answer[peer] = now
      elif now - (last_answer[peer] or started) > timeout_secs:
        name, address = peer
        if last_answer[peer] is None:
          problem = "could not reach %s at %s within" % (name, address)
        else:
          problem = ("lost %s at %s: it has not answered for" %
                     (name, address))
        _end(pid, "%s: error: %s %s --worker_timeout_secs=%g: %s\n" % (
            program, task, problem, timeout_secs,
            "start every task of TF_CONFIG's cluster, and check the address "
            "and that the port is open between the machines"
            if last_answer[peer] is None else
            "restart every worker with the same command; training resumes "
            "from the last checkpoint"))
        return 1
    time.sleep(POLL_SECS)
  return 0


def _end(pid, message):
  """Ends `pid`, then prints `message`: the last line the user sees."""
  # Not SIGTERM: to the training commands that is a preemption notice
  # (finish the step, save, exit 75), which a worker waiting for a peer
  # that is gone can never act on. Killed, it writes nothing more; the
  # line goes out at once, before whoever waits for the worker reads.
  os.kill(pid, signal.SIGKILL)
  sys.stderr.write(message)
  sys.stderr.flush()


def main(argv):
  # A preemption notice is SIGTERM to every process of the machine; the
  # watch stays to bound the worker's last step (it leaves with the worker).
  signal.signal(signal.SIGTERM, signal.SIG_IGN)
  pid, timeout_secs, program, task = (int(argv[1]), float(argv[2]), argv[3],
                                      argv[4])
  peers = [tuple(arg.split("=", 1)) for arg in argv[5:]]
  return watch(pid, timeout_secs, program, task, peers)


if __name__ == "__main__":
  sys.exit(main(sys.argv))
