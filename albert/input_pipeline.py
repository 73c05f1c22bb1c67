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

Not here: the temporary names and atomic writes themselves (staging,
file_io).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib
import hashlib
import json
import os
import re
import struct

import tensorflow.compat.v1 as tf

from albert import file_io
from albert import staging


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


def file_digest(path):
  """sha256 (16 hex digits) of a file's bytes; mtimes can miss an edit."""
  digest = hashlib.sha256()
  with tf.io.gfile.GFile(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()[:16]


def data_file_key(path):
  """Identifies a data file's contents for a cache key (None for no file)."""
  if not path:
    return None
  return {"file": file_fingerprint(path), "sha256": file_digest(path)}


def cached_features_path(cache_dir, name, key, extension=".tf_record"):
  """The cache file for features determined by `key`.

  Args:
    cache_dir: directory of the cache.
    name: readable prefix, e.g. "sst-2_train".
    key: JSON-serialisable dict of everything that changes the features
      (task, split, max_seq_length, tokenizer file fingerprints,
      do_lower_case, ...).
    extension: file name ending.

  Returns:
    "<cache_dir>/<name>_<hash><extension>". Nothing is written.
  """
  digest = hashlib.sha256(
      json.dumps(key, sort_keys=True, default=str).encode("utf-8"))
  return os.path.join(cache_dir, "%s_%s%s" %
                      (name, digest.hexdigest()[:16], extension))


# Where an output is written before it is renamed into place (one scheme for
# every writer; the name race_utils and older callers know).
temporary_path = staging.temporary_path


def _key_text(key):
  return json.dumps(key, sort_keys=True, indent=2, default=str)


def write_key(path, key):
  """Writes the cache key sidecar "<path>.json" atomically."""
  file_io.atomic_write_text(path + ".json", _key_text(key))


def cache_is_valid(path, key):
  """True when `path` exists and its sidecar records exactly `key`."""
  if not tf.io.gfile.exists(path) or not tf.io.gfile.exists(path + ".json"):
    return False
  with tf.io.gfile.GFile(path + ".json") as f:
    recorded = f.read()
  # Compared through the same serialisation, so tuples and lists agree.
  return recorded == _key_text(json.loads(_key_text(key)))


def reuse_or_write(path, key, write_fn, what="features"):
  """Reuses a valid cache at `path`, or (re)writes it with `write_fn(path)`.

  A file at `path` whose sidecar is missing or records another key (other
  data, flags or tokenizer) is stale and is written again: a stale cache
  would silently train or evaluate on other data (release issue #267).

  Args:
    path: the cache file.
    key: everything that changes its contents.
    write_fn: fn(path) writing the file atomically (and its sidecar, e.g.
      through `write_examples(..., key=key)`).
    what: the contents, for log lines.

  Returns:
    True if the cache was reused, False if it was written.
  """
  if cache_is_valid(path, key):
    tf.logging.info("Reusing cached %s %s", what, path)
    return True
  if tf.io.gfile.exists(path):
    tf.logging.warning(
        "Cached %s %s were made from other data, flags or tokenizer files "
        "(see %s.json); writing them again", what, path, path)
  else:
    tf.logging.info("Writing %s to %s", what, path)
  write_fn(path)
  return False


class _RecordWriter(object):
  """Counts what it writes (see `atomic_record_writer`)."""

  def __init__(self, writer):
    self._writer = writer
    self.count = 0

  def write(self, serialized):
    self._writer.write(serialized)
    self.count += 1


@contextlib.contextmanager
def atomic_record_writer(path, key=None):
  """A TFRecord writer whose file appears at `path` only when complete.

  Records go to a hidden temporary file that is renamed into place when
  the block ends without an exception (and removed when it raises).

  Args:
    path: final TFRecord path.
    key: (optional) the cache key; written beside the file as
      "<path>.json" for `cache_is_valid` and for a person to read. An old
      sidecar goes first and the new one comes last, so a run that dies
      half-way never leaves a file that a sidecar vouches for wrongly.

  Yields:
    A writer with `write(serialized_bytes)` and `count`.
  """
  tf.io.gfile.makedirs(os.path.dirname(path) or ".")
  if key is not None and tf.io.gfile.exists(path + ".json"):
    tf.io.gfile.remove(path + ".json")
  with file_io.staged_path(path) as tmp_path:
    with tf.io.TFRecordWriter(tmp_path) as writer:
      yield _RecordWriter(writer)
  if key is not None:
    write_key(path, key)


def write_examples(path, serialized_examples, key=None):
  """Writes serialized tf.train.Examples atomically; returns the count.

  Args:
    path: final TFRecord path.
    serialized_examples: iterable of bytes.
    key: (optional) the cache key (see `atomic_record_writer`).

  Returns:
    Number of records written.
  """
  with atomic_record_writer(path, key) as writer:
    for serialized in serialized_examples:
      writer.write(serialized)
  return writer.count


def is_temporary_name(path):
  """True for names that are never data: hidden files and *.tmp-<pid>.

  Our writers stage every output under such a name (see
  `temporary_path`); a run killed half-way leaves one behind, and reading
  it as data would train on a partial file.
  """
  base = os.path.basename(path.rstrip("/"))
  return base.startswith(".") or re.search(r"\.tmp-\d+", base) is not None


def check_tfrecord_framing(path):
  """Walks a TFRecord file's record headers; fails on a truncated file.

  Each record is a uint64 length, a 4-byte length CRC, the data and a
  4-byte data CRC. Seeking from header to header checks that the file ends
  exactly at a record boundary, without reading the records themselves, so
  a file cut short (a killed writer, a full disk, a partial copy) is named
  before training instead of failing mid-run as a DataLossError.

  Args:
    path: TFRecord file (uncompressed).

  Returns:
    Number of records.

  Raises:
    ValueError: naming the file, the record and the byte offset.
  """
  size = tf.io.gfile.stat(path).length
  offset, count = 0, 0
  with tf.io.gfile.GFile(path, "rb") as f:
    while offset < size:
      f.seek(offset)
      header = f.read(8)
      if len(header) < 8:
        break
      length = struct.unpack("<Q", header)[0]
      end = offset + 8 + 4 + length + 4
      if end > size:
        break
      offset, count = end, count + 1
  if offset != size:
    raise ValueError(
        "%s is truncated: record %d starting at byte %d runs past the end of "
        "the file (%d bytes); create the file again" %
        (path, count + 1, offset, size))
  return count


def decode_record(record, name_to_features):
  """Parses one record; int64 becomes int32 (TPUs only support int32)."""
  return _int64_to_int32(tf.parse_single_example(record, name_to_features))


def decode_batch(records, name_to_features):
  """Parses a batch of records [B] at once: one op instead of B.

  Returns:
    dict of feature name to Tensor [B, ...]; int64 becomes int32.
  """
  return _int64_to_int32(tf.io.parse_example(records, name_to_features))


def _int64_to_int32(example):
  for name in list(example.keys()):
    if example[name].dtype == tf.int64:
      example[name] = tf.cast(example[name], tf.int32)
  return example


# Params keys a tf.distribute run adds to an input_fn's params (see
# distributed.DistributedEstimator): the batch of one replica, and which share
# of the records this machine reads, (index, count).
REPLICA_BATCH_SIZE = "replica_batch_size"
INPUT_SHARD = "input_shard"


def batch_size_of(params):
  """The batch an input_fn makes: one replica's under a strategy."""
  return params.get(REPLICA_BATCH_SIZE) or params["batch_size"]


def num_shards_of(params):
  """How many machines split the training records (1 without a cluster)."""
  return params.get(INPUT_SHARD, (0, 1))[1]


def shard(dataset, params):
  """This machine's share of `dataset` (every count-th element), or all.

  Shard before shuffling: the machines then read disjoint records whatever
  their shuffle seeds.
  """
  index, count = params.get(INPUT_SHARD, (0, 1))
  return dataset.shard(count, index) if count > 1 else dataset


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
    `batch_size_of(params)`, and training reads `shard(..., params)`.
  """

  def input_fn(params):
    """The actual input function."""
    d = tf.data.TFRecordDataset(input_file)
    if is_training:
      d = shard(d, params)
      d = d.repeat()
      d = d.shuffle(buffer_size=shuffle_buffer_size)
    # Batching the serialized records first parses a whole batch per op.
    d = d.batch(batch_size_of(params), drop_remainder=drop_remainder)
    d = d.map(lambda records: decode_batch(records, name_to_features),
              num_parallel_calls=tf.data.experimental.AUTOTUNE)
    return d.prefetch(tf.data.experimental.AUTOTUNE)

  return input_fn
