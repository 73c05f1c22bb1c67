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
every task of TF_CONFIG's cluster has registered, for as long as it takes.
`runtime.distribution_from_options` therefore starts this file as a small
separate process (it imports nothing but the standard library):

  python peer_watch.py PID TIMEOUT_SECS PROGRAM TASK NAME=HOST:PORT ...

It connects to every peer's port until each has answered once, then exits
quietly. If TIMEOUT_SECS pass first, it prints one line naming the address
it could not reach and terminates process PID. It also exits when PID does.
"""

import os
import signal
import socket
import sys
import time

# How often peers are tried, in seconds.
POLL_SECS = 0.5


def answers(address):
  """Whether something accepts TCP connections at host:port."""
  host, _, port = address.rpartition(":")
  try:
    socket.create_connection((host.strip("[]"), int(port)), timeout=1).close()
    return True
  except (OSError, ValueError):
    return False


def alive(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def watch(pid, timeout_secs, program, task, peers):
  """Returns when every peer answered or `pid` ended; else ends `pid`.

  Args:
    pid: the training process.
    timeout_secs: how long to wait for the peers.
    program: the command's name, for the error line.
    task: this task's name ("worker 0").
    peers: [(name, "host:port")].

  Returns:
    0 when all peers answered (or pid ended), 1 when pid was ended.
  """
  deadline = time.time() + timeout_secs
  waiting = list(peers)
  while waiting:
    if not alive(pid):
      return 0
    waiting = [(name, address) for name, address in waiting
               if not answers(address)]
    if waiting and time.time() > deadline:
      name, address = waiting[0]
      sys.stderr.write(
          "%s: error: %s could not reach %s at %s within "
          "--worker_timeout_secs=%g: start every task of TF_CONFIG's "
          "cluster, and check the address and that the port is open "
          "between the machines\n" % (program, task, name, address,
                                      timeout_secs))
      sys.stderr.flush()
      os.kill(pid, signal.SIGTERM)
      # TensorFlow may hold off SIGTERM's default action only through a
      # handler, and a handler cannot run while it waits; make sure.
      for _ in range(50):
        if not alive(pid):
          return 1
        time.sleep(0.1)
      os.kill(pid, signal.SIGKILL)
      return 1
    time.sleep(POLL_SECS)
  return 0


def main(argv):
  pid, timeout_secs, program, task = (int(argv[1]), float(argv[2]), argv[3],
                                      argv[4])
  peers = [tuple(arg.split("=", 1)) for arg in argv[5:]]
  return watch(pid, timeout_secs, program, task, peers)


if __name__ == "__main__":
  sys.exit(main(sys.argv))
