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
"""ALBERT: A Lite BERT, on TensorFlow 2.15 through tensorflow.compat.v1.

The platform check runs here, at import, so that a wrong Python or TensorFlow
fails with one line saying what to install instead of an obscure error deep
inside tf.estimator lookups. TensorFlow is then imported without its
spurious C++ start-up errors, which read as failures but are not.
"""

import contextlib
import os
import re
import sys
import tempfile

__version__ = "2.0.0"

SUPPORTED_PYTHON = ((3, 9), (3, 11))
SUPPORTED_TENSORFLOW = "2.15"


def _installed_tensorflow_version():
  """The installed TensorFlow version string, or None; does not import TF."""
  try:
    from importlib import metadata
  except ImportError:  # pragma: no cover - Python < 3.8 is rejected earlier.
    return None
  for dist in ("tensorflow", "tensorflow-cpu", "tensorflow-gpu",
               "tensorflow-intel", "tensorflow-macos", "tf-nightly"):
    try:
      return metadata.version(dist)
    except metadata.PackageNotFoundError:
      continue
  return None


def check_platform(python_version=None, tensorflow_version="installed"):
  """Raises ImportError with an install hint if the platform is unsupported.

  Args:
    python_version: (major, minor) tuple; defaults to the running interpreter.
    tensorflow_version: version string, None for "not installed", or
      "installed" to look up the installed distribution.
  """
  if python_version is None:
    python_version = tuple(sys.version_info[:2])
  low, high = SUPPORTED_PYTHON
  if not low <= tuple(python_version) <= high:
    raise ImportError(
        "albert needs Python 3.9-3.11 (TensorFlow 2.15 supports no other); "
        "this is Python %d.%d." % tuple(python_version))
  if tensorflow_version == "installed":
    tensorflow_version = _installed_tensorflow_version()
  if tensorflow_version is None:
    raise ImportError(
        "albert needs TensorFlow 2.15: pip install 'tensorflow==2.15.*' "
        "(or: pip install -r requirements.txt).")
  if not (tensorflow_version == SUPPORTED_TENSORFLOW or
          tensorflow_version.startswith(SUPPORTED_TENSORFLOW + ".")):
    raise ImportError(
        "albert needs TensorFlow 2.15 (the last release with tf.estimator and "
        "TPUEstimator); found %s: pip install 'tensorflow==2.15.*'." %
        tensorflow_version)


check_platform()


# Printed by TensorFlow's C++ start-up on every machine without CUDA
# libraries registered twice; nothing is wrong.
_SPURIOUS_STARTUP_LINE = re.compile(
    r"Unable to register cu(?:DNN|FFT|BLAS) factory: Attempting to register "
    r"factory for plugin \w+ when one has already been registered")


@contextlib.contextmanager
def without_tensorflow_startup_noise():
  """Within the block (importing TensorFlow): drops its spurious C++ lines.

  They are written by C++ to file descriptor 2, so stderr is caught in an
  unnamed temporary file and copied back without them when the block ends,
  whatever happened in it.
  """
  try:
    sys.stderr.flush()
    saved = os.dup(2)
  except (AttributeError, OSError, ValueError):  # no stderr to speak of
    yield
    return
  captured = tempfile.TemporaryFile()
  try:
    os.dup2(captured.fileno(), 2)
    try:
      yield
    finally:
      try:
        sys.stderr.flush()
      finally:
        os.dup2(saved, 2)
      captured.seek(0)
      text = captured.read().decode("utf-8", "replace")
      kept = [line for line in text.splitlines(True)
              if not _SPURIOUS_STARTUP_LINE.search(line)]
      if kept:
        sys.stderr.write("".join(kept))
        sys.stderr.flush()
  finally:
    os.close(saved)
    captured.close()


if "tensorflow" not in sys.modules:
  with without_tensorflow_startup_noise():
    import tensorflow  # pylint: disable=g-import-not-at-top,unused-import
