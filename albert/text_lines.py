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
"""Lines of text as ALBERT inputs: one text, or `text_a ||| text_b`, a line.

BERT's extract_features input format. `check_input_file` counts a file's
lines in a quick first pass and fails, in one line naming them as
file:line, on every bad one (empty, more than one `|||`, an empty side of
it, invalid UTF-8); `read_examples` streams the lines as `Example`s;
`convert_example` makes [CLS] a [SEP] (b [SEP]) with segment ids 0 and 1,
truncated as run_classifier truncates; `batches` and `feed_arrays` group
them into int32 arrays padded to each batch's longest line. Files are read
through tf.io.gfile (gs:// paths work) and never held in memory whole.

Not here: the model, and what is written (extract_features).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import itertools

import numpy as np
import tensorflow.compat.v1 as tf

from albert import classifier_utils

SEPARATOR = "|||"


class InputLineError(ValueError):
  """A line of --input_file that is no text and no `text_a ||| text_b`."""


# One input line: unique_id is its 0-based position (BERT's linex_index),
# line_number its 1-based line in the file; text_b is None for a single
# sequence.
Example = collections.namedtuple(
    "Example", ["unique_id", "line_number", "text_a", "text_b"])

# One line's model input: tokens (real ones, [CLS] and [SEP] included) and
# the int lists [n] (n <= max_seq_length, unpadded); truncated tells whether
# tokens were dropped.
Feature = collections.namedtuple(
    "Feature", ["unique_id", "line_number", "tokens", "input_ids",
                "input_mask", "segment_ids", "truncated", "example"])

def parse_line(data, path, line_number):
  """The texts of one input line.

  Args:
    data: the line's bytes (its newline may still be there).
    path: --input_file, for messages.
    line_number: 1-based.

  Returns:
    (text_a, text_b): str, and str or None for a single sequence.

  Raises:
    InputLineError: "path:N: what is wrong", one line.
  """
  where = "%s:%d" % (path, line_number)
  try:
    text = data.decode("utf-8")
  except UnicodeDecodeError as e:
    raise InputLineError("%s: invalid UTF-8 (byte 0x%02x at offset %d)" %
                         (where, data[e.start], e.start))
  text = text.strip()
  if not text:
    raise InputLineError("%s: empty line" % where)
  parts = text.split(SEPARATOR)
  if len(parts) > 2:
    raise InputLineError("%s: %d '%s' separators; a line holds one text or "
                         "`text_a %s text_b`" % (where, len(parts) - 1,
                                                 SEPARATOR, SEPARATOR))
  parts = [part.strip() for part in parts]
  if not all(parts):
    raise InputLineError("%s: empty text %s '%s'" % (
        where, "before" if not parts[0] else "after", SEPARATOR))
  return parts[0], (parts[1] if len(parts) == 2 else None)


def _raw_lines(path):
  """(1-based line number, bytes) of every line of a file, streamed."""
  with tf.io.gfile.GFile(path, "rb") as f:
    for number, data in enumerate(f, 1):
      yield number, data


def check_input_file(path, max_named=5):
  """Counts the lines of --input_file, failing on any bad one.

  A quick pass before the model loads, so a bad line costs no model time
  and the line count gives the progress lines an ETA.

  Args:
    path: --input_file.
    max_named: how many bad lines the message names.

  Returns:
    The number of lines.

  Raises:
    ValueError: the file is missing or empty, or has bad lines (all
      counted, the first `max_named` named as file:line), in one line.
  """
  if not path:
    raise ValueError("--input_file is required")
  if not tf.io.gfile.exists(path) or tf.io.gfile.isdir(path):
    raise ValueError("--input_file=%s: %s" % (path, "is a directory; "
                     "expected a text file" if tf.io.gfile.exists(path) else
                     "not found"))
  count, bad, problems = 0, 0, []
  for number, data in _raw_lines(path):
    count = number
    try:
      parse_line(data, path, number)
    except InputLineError as e:
      bad += 1
      if len(problems) < max_named:
        problems.append(str(e))
  if bad:
    raise InputLineError(
        "--input_file has %d bad line(s): %s%s (every line must be a text or "
        "`text_a %s text_b`)" % (bad, "; ".join(problems),
                                 "; ..." if bad > max_named else "",
                                 SEPARATOR))
  if not count:
    raise ValueError("--input_file=%s is empty" % path)
  return count


def read_examples(path):
  """Streams the `Example`s of --input_file, one a line, in order.

  Raises:
    InputLineError: at the first bad line, naming it as file:line.
  """
  for number, data in _raw_lines(path):
    text_a, text_b = parse_line(data, path, number)
    yield Example(number - 1, number, text_a, text_b)


def convert_example(example, tokenizer, max_seq_length):
  """[CLS] a [SEP] (b [SEP]) as model input, at most max_seq_length long.

  A pair loses tokens from the end of its longer text until it fits
  (classifier_utils' rule, BERT's _truncate_seq_pair); a single text keeps
  its first max_seq_length - 2 tokens.

  Args:
    example: `Example`.
    tokenizer: `tokenization.FullTokenizer`.
    max_seq_length: S, at least 3.

  Returns:
    `Feature`; input_ids, input_mask, segment_ids are int lists [n], n <= S,
    not padded (`feed_arrays` pads a batch to its longest).
  """
  tokens_a = tokenizer.tokenize(example.text_a)
  tokens_b = (tokenizer.tokenize(example.text_b)
              if example.text_b is not None else None)
  length = len(tokens_a) + len(tokens_b or ())
  if tokens_b is not None:
    classifier_utils._truncate_seq_pair(  # pylint: disable=protected-access
        tokens_a, tokens_b, max_seq_length - 3)
  else:
    tokens_a = tokens_a[:max_seq_length - 2]
  truncated = len(tokens_a) + len(tokens_b or ()) < length
  tokens = ["[CLS]"] + tokens_a + ["[SEP]"]
  segment_ids = [0] * len(tokens)
  if tokens_b is not None:
    tokens += tokens_b + ["[SEP]"]
    segment_ids += [1] * (len(tokens_b) + 1)
  return Feature(example.unique_id, example.line_number, tokens,
                 tokenizer.convert_tokens_to_ids(tokens), [1] * len(tokens),
                 segment_ids, truncated, example)


def feed_arrays(batch):
  """A batch of `Feature`s as zero-padded int32 arrays [B, longest].

  Padding to the batch's longest sequence rather than max_seq_length
  saves the encoder's work on padding (most lines are short); the mask
  keeps padding out of every real token's output.

  Returns:
    dict: "input_ids", "input_mask", "segment_ids" -> int32 [B, n].
  """
  longest = max(len(feature.tokens) for feature in batch)
  arrays = {}
  for name in ("input_ids", "input_mask", "segment_ids"):
    array = np.zeros([len(batch), longest], np.int32)
    for row, feature in enumerate(batch):
      values = getattr(feature, name)
      array[row, :len(values)] = values
    arrays[name] = array
  return arrays


def batches(items, batch_size):
  """Lists of up to batch_size consecutive items, streamed."""
  items = iter(items)
  batch = list(itertools.islice(items, batch_size))
  while batch:
    yield batch
    batch = list(itertools.islice(items, batch_size))
