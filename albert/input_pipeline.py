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
"""TFRecord features shared by every task: caching, writing, reading.

Fine-tuning tasks convert examples to features once and cache them as
TFRecords. A cache file is named by a hash of everything that changes its
contents, so a changed flag or tokenizer file never reuses a stale cache,
and it is written under a temporary name so a crash never leaves a partial
file that a later run would trust.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import hashlib
import json
import os

import tensorflow.compat.v1 as tf


def int64_feature(values):
  """A tf.train.Feature of int64 values."""
  return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def float_feature(values):
  """A tf.train.Feature of float values."""
  return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))


def file_fingerprint(path):
  """Identifies a file's version: path, size and modification time."""
  if not path:
    return None
  if "://" in path:
    stat = tf.io.gfile.stat(path)
    return {"path": path, "size": stat.length, "mtime_nsec": stat.mtime_nsec}
  # os.stat, not gfile: gfile's local mtime has whole-second resolution, so
  # a same-size edit within a second would look unchanged.
  stat = os.stat(path)
  return {"path": os.path.abspath(path), "size": stat.st_size,
          "mtime_nsec": stat.st_mtime_ns}


def cached_features_path(cache_dir, name, key):
  """The cache file for features determined by `key`.

  Args:
    cache_dir: directory of the cache.
    name: readable prefix, e.g. "sst-2_train".
    key: JSON-serialisable dict of everything that changes the features
      (task, split, max_seq_length, tokenizer file fingerprints,
      do_lower_case, ...).

  Returns:
    "<cache_dir>/<name>_<hash>.tf_record". Nothing is written.
  """
  digest = hashlib.sha256(
      json.dumps(key, sort_keys=True, default=str).encode("utf-8"))
  return os.path.join(cache_dir, "%s_%s.tf_record" %
                      (name, digest.hexdigest()[:16]))


def write_examples(path, serialized_examples, key=None):
  """Writes serialized tf.train.Examples atomically; returns the count.

  Args:
    path: final TFRecord path.
    serialized_examples: iterable of bytes.
    key: (optional) the cache key; written beside the file as
      "<path>.json" so a person can see what the cache holds.

  Returns:
    Number of records written.
  """
  tf.io.gfile.makedirs(os.path.dirname(path) or ".")
  tmp_path = "%s.tmp-%d" % (path, os.getpid())
  count = 0
  try:
    with tf.io.TFRecordWriter(tmp_path) as writer:
      for serialized in serialized_examples:
        writer.write(serialized)
        count += 1
    if key is not None:
      with tf.io.gfile.GFile(path + ".json.tmp", "w") as f:
        f.write(json.dumps(key, sort_keys=True, indent=2, default=str))
      tf.io.gfile.rename(path + ".json.tmp", path + ".json", overwrite=True)
    tf.io.gfile.rename(tmp_path, path, overwrite=True)
  except BaseException:
    if tf.io.gfile.exists(tmp_path):
      tf.io.gfile.remove(tmp_path)
    raise
  return count


def decode_record(record, name_to_features):
  """Parses one record; int64 becomes int32 (TPUs only support int32)."""
  example = tf.parse_single_example(record, name_to_features)
  for name in list(example.keys()):
    if example[name].dtype == tf.int64:
      example[name] = tf.cast(example[name], tf.int32)
  return example


def file_based_input_fn_builder(input_file, name_to_features, is_training,
                                drop_remainder, shuffle_buffer_size=100):
  """An input_fn reading one TFRecord file of features.

  Args:
    input_file: TFRecord path (or list of paths).
    name_to_features: parsing spec.
    is_training: repeat forever and shuffle.
    drop_remainder: drop the last partial batch (TPUs need static shapes).
    shuffle_buffer_size: records in the shuffle buffer when training.

  Returns:
    input_fn(params) -> tf.data.Dataset of feature dicts; the batch size is
    params["batch_size"].
  """

  def input_fn(params):
    """The actual input function."""
    d = tf.data.TFRecordDataset(input_file)
    if is_training:
      d = d.repeat()
      d = d.shuffle(buffer_size=shuffle_buffer_size)
    d = d.map(lambda record: decode_record(record, name_to_features),
              num_parallel_calls=tf.data.experimental.AUTOTUNE)
    d = d.batch(params["batch_size"], drop_remainder=drop_remainder)
    return d.prefetch(tf.data.experimental.AUTOTUNE)

  return input_fn
