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

Training reads an endless stream of epochs whose order is a function of a
seed and the epoch alone (`epochs_dataset`), so a run can start at any
`DataPosition`: whole epochs are skipped without reading them and the rest
of the current one by reading raw records only. Record counts come from
the files' framing (`check_tfrecord_framing`), cached beside the file
(`record_count`).

Not here: the temporary names and atomic writes themselves (staging,
file_io); where a resumed run starts (training_position).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import contextlib
import hashlib
import json
import os
import random
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
# Params key of where this machine's training records start (a
# `DataPosition`; see training_position). Without it training starts at
# the beginning with a fresh seed.
DATA_POSITION = "data_position"

# Where a machine's training stream starts.
#   seed: the run's seed; every epoch's order is a function of it and the
#     epoch.
#   examples: training records this machine has consumed before (its
#     share, counted from the start of the first epoch).
DataPosition = collections.namedtuple("DataPosition", ["seed", "examples"])


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


def fresh_seed():
  """A seed for a run without --random_seed (recorded for its resumption)."""
  return random.SystemRandom().randrange(1, 2**31 - 1)


def position_of(params):
  """The params' `DataPosition`, or the start with a fresh seed."""
  position = params.get(DATA_POSITION)
  if position is None:
    return DataPosition(seed=fresh_seed(), examples=0)
  return position


def shard_size(num_records, params):
  """Records of `num_records` that `shard(..., params)` keeps."""
  index, count = params.get(INPUT_SHARD, (0, 1))
  return max(0, (num_records - index + count - 1) // count)


def shuffle_epoch(dataset, buffer_size, epoch, stream):
  """`dataset` shuffled with a seed of (the pinned graph seed, epoch).

  Args:
    dataset: one epoch's elements.
    buffer_size: shuffle buffer.
    epoch: int64 scalar Tensor, the epoch.
    stream: 0 or 1, so that two shuffles of one epoch (files, records)
      differ.
  """
  return dataset.shuffle(buffer_size, seed=epoch * 2 + stream,
                         reshuffle_each_iteration=False)


def epochs_dataset(epoch_fn, records_per_epoch, position, what):
  """The endless training stream, from `position`: epoch after epoch.

  Each epoch is `epoch_fn(epoch)` built afresh, with the epoch function's
  graph seed pinned to `position.seed`: tf.data derives a shuffle's seeds
  from its op seed (see `shuffle_epoch`) and the graph's seed, and the
  model's graph has its own. Every epoch's order is then a function of
  (seed, epoch) only, so the stream can start anywhere: the epochs before
  the position are never read, and the rest is skipped as raw records,
  before any parsing.

  Args:
    epoch_fn: fn(epoch int64 Tensor) -> dataset of one epoch's serialized
      records of this machine, in the epoch's order.
    records_per_epoch: how many records `epoch_fn` yields.
    position: `DataPosition`.
    what: the data, for the error.

  Returns:
    A dataset of serialized records.

  Raises:
    ValueError: an epoch is empty.
  """
  if records_per_epoch < 1:
    raise ValueError("%s: this machine's share of the training records is "
                     "empty" % what)
  epoch, offset = divmod(position.examples, records_per_epoch)
  if position.examples:
    tf.logging.info("%s: starting at epoch %d, record %d of %d (seed %d)",
                    what, epoch, offset, records_per_epoch, position.seed)

  def one_epoch(epoch):
    tf.get_default_graph().seed = position.seed
    return epoch_fn(epoch)

  d = tf.data.Dataset.range(epoch, 2**62).flat_map(one_epoch)
  return d.skip(offset) if offset else d


def _count_sidecar_text(path, count):
  return json.dumps({"file": file_fingerprint(path), "records": count},
                    sort_keys=True)


def record_count(path):
  """Records in a TFRecord file; cached in "<path>.records.json".

  Counting walks the file's record headers (`check_tfrecord_framing`):
  a seek per record, cheap on a local disk but slow on remote storage, so
  the count is kept beside the file with its size and mtime and reused
  while they are unchanged. A file whose directory is not writable is
  counted every time.
  """
  sidecar = path + ".records.json"
  if tf.io.gfile.exists(sidecar):
    with tf.io.gfile.GFile(sidecar) as f:
      recorded = json.loads(f.read() or "{}")
    if (recorded.get("file") == json.loads(json.dumps(file_fingerprint(path)))
        and isinstance(recorded.get("records"), int)):
      return recorded["records"]
  count = check_tfrecord_framing(path)
  try:
    file_io.atomic_write_text(sidecar, _count_sidecar_text(path, count))
  except (OSError, tf.errors.OpError) as e:
    tf.logging.info("Not caching the record count of %s: %s", path, e)
  return count


def training_records(input_files, params, shuffle_buffer_size, what):
  """This machine's endless stream of serialized training records.

  Its share (`shard`) of the files' records, each epoch shuffled with a
  buffer of `shuffle_buffer_size`, from `position_of(params)`.
  """
  total = sum(record_count(path) for path in input_files)

  def epoch_fn(epoch):
    d = shard(tf.data.TFRecordDataset(input_files), params)
    return shuffle_epoch(d, shuffle_buffer_size, epoch, 1)

  return epochs_dataset(epoch_fn, shard_size(total, params),
                        position_of(params), what)


def file_based_input_fn_builder(input_file, name_to_features, is_training,
                                drop_remainder, shuffle_buffer_size=100):
  """An input_fn reading one TFRecord file of features.

  Args:
    input_file: TFRecord path (or list of paths).
    name_to_features: parsing spec.
    is_training: read epoch after epoch, each shuffled, from the params'
      `DataPosition` (see `training_records`).
    drop_remainder: drop the last partial batch (TPUs need static shapes).
    shuffle_buffer_size: records in the shuffle buffer when training.

  Returns:
    input_fn(params) -> tf.data.Dataset of feature dicts; the batch size is
    `batch_size_of(params)`, and training reads `shard(..., params)`.
  """
  input_files = (list(input_file) if isinstance(input_file, (list, tuple))
                 else [input_file])

  def input_fn(params):
    """The actual input function."""
    if is_training:
      d = training_records(input_files, params, shuffle_buffer_size,
                           ", ".join(input_files))
    else:
      d = tf.data.TFRecordDataset(input_file)
    # Batching the serialized records first parses a whole batch per op.
    d = d.batch(batch_size_of(params), drop_remainder=drop_remainder)
    d = d.map(lambda records: decode_batch(records, name_to_features),
              num_parallel_calls=tf.data.experimental.AUTOTUNE)
    return d.prefetch(tf.data.experimental.AUTOTUNE)

  return input_fn
