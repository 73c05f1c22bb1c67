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
"""`pip install .` installs the albert package and its pinned dependencies.

The dependency pins are read from requirements.txt so there is one list.
"""

import os
import re

from setuptools import find_packages
from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read_requirements(path):
  """Requirement specifiers from a requirements file (comments dropped)."""
  with open(os.path.join(HERE, path)) as f:
    lines = (line.split("#", 1)[0].strip() for line in f)
    return [line for line in lines if line and not line.startswith("-")]


def read_version():
  with open(os.path.join(HERE, "albert", "__init__.py")) as f:
    return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


setup(
    name="albert",
    version=read_version(),
    description="ALBERT: A Lite BERT for self-supervised learning of "
                "language representations (TensorFlow 2.15, compat.v1)",
    long_description=open(os.path.join(HERE, "README.md")).read(),
    long_description_content_type="text/markdown",
    license="Apache 2.0",
    packages=find_packages(include=["albert", "albert.*"]),
    package_data={"albert": ["data/*"]},
    python_requires=">=3.9,<3.12",
    install_requires=read_requirements("requirements.txt"),
    extras_require={
        "test": ["pytest>=7"],
        # export_to_onnx and benchmark --runtime=onnxruntime; onnx 1.18+
        # needs protobuf 6, which TensorFlow 2.15 cannot share a venv with.
        "onnx": ["onnx>=1.15,<1.18", "onnxruntime>=1.17,<2"],
    },
    classifiers=[
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "License :: OSI Approved :: Apache Software License",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
