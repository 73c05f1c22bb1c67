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
"""GLUE classification and regression: data, features, model and metrics.

`data_dir` is the GLUE root as `download_glue_data.py` makes it, one folder
per task (`$data_dir/SST-2/train.tsv`, `$data_dir/MNLI/dev_matched.tsv`,
`$data_dir/diagnostic/diagnostic.tsv`, ...), read in the official TSV
layouts. Test splits have no labels; their examples carry the task's first
label as a placeholder, as the release did.

Evaluation metrics (keys of `eval_results.txt`):

  every classification task  eval_accuracy, eval_loss
  CoLA                       + matthew_corr (Matthews correlation)
  MRPC, QQP                  + eval_f1, eval_precision, eval_recall
                               (class "1" is the positive class)
  STS-B                      pearson, spearman, MSE, eval_loss

`matthew_corr`, `pearson` and `MSE` are the release's names. A correlation
whose inputs have no variance is reported as 0. The `np_*` functions are
plain numpy versions of the same metrics.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import csv
import os

import numpy as np
import tensorflow.compat.v1 as tf

from albert import dropout_seeds
from albert import fine_tuning_utils
from albert import input_pipeline
from albert import task_model
from albert import tokenization


class DataFileNotFoundError(FileNotFoundError, ValueError):
  """A task's folder or data file does not exist under data_dir."""


class DataFormatError(ValueError):
  """A data file does not have the task's official layout."""


class InputExample(object):
  """A single training/test example for simple sequence classification."""

  def __init__(self, guid, text_a, text_b=None, label=None):
    """Constructs an InputExample.

    Args:
      guid: unique id; for test examples, the file's index column, which
        the GLUE submission files are keyed by.
      text_a: the untokenized text of the first sequence.
      text_b: (optional) the untokenized text of the second sequence.
      label: the label string (a float for STS-B); test examples carry a
        placeholder.
    """
    self.guid = guid
    self.text_a = text_a
    self.text_b = text_b
    self.label = label

  def __repr__(self):
    return "InputExample(guid=%r, text_a=%r, text_b=%r, label=%r)" % (
        self.guid, self.text_a, self.text_b, self.label)


class PaddingInputExample(object):
  """Fake example so the number of examples is a multiple of the batch size.

  TPUs need every batch full, so eval and predict sets are padded with these
  instead of dropping the last batch. Their features have
  is_real_example=0, so they count in no metric.
  """


class InputFeatures(object):
  """A single set of features of data."""

  def __init__(self,
               input_ids,
               input_mask,
               segment_ids,
               label_id,
               guid=None,
               example_id=None,
               is_real_example=True):
    self.input_ids = input_ids
    self.input_mask = input_mask
    self.segment_ids = segment_ids
    self.label_id = label_id
    self.example_id = example_id
    self.guid = guid
    self.is_real_example = is_real_example


# A split's layout: its header (None: the file has none; else the official
# header's names of the guid, text_a, text_b and label columns, None for a
# field that is not read), the column of each field (guid None:
# "<set_type>-<line number>"; label None: the split has no labels; -1: the
# last column) and the fewest columns a valid row has.
_Layout = collections.namedtuple(
    "_Layout", ["header", "guid", "text_a", "text_b", "label", "min_columns"])


def _header_name(name):
  """A header cell as compared: no byte-order mark, case or padding."""
  return name.replace(u"\ufeff", u"").strip().lower()


class DataProcessor(object):
  """Base class for data converters for sequence classification data sets."""

  def __init__(self, use_spm=True, do_lower_case=True):
    """Args: whether the tokenizer is SentencePiece, and lower-casing."""
    super(DataProcessor, self).__init__()
    self.use_spm = use_spm
    self.do_lower_case = do_lower_case

  def get_train_examples(self, data_dir):
    """Gets a collection of `InputExample`s for the train set."""
    raise NotImplementedError()

  def get_dev_examples(self, data_dir):
    """Gets a collection of `InputExample`s for the dev set."""
    raise NotImplementedError()

  def get_test_examples(self, data_dir):
    """Gets a collection of `InputExample`s for prediction."""
    raise NotImplementedError()

  def get_labels(self):
    """Gets the list of labels for this data set."""
    raise NotImplementedError()

  @classmethod
  def _read_tsv(cls, input_file, quotechar=None):
    """Reads a tab separated value file: one list of fields per line.

    Quote characters are ordinary text (GLUE files are not quoted), so row
    i is line i + 1 of the file; a blank line is an empty list.

    Raises:
      DataFileNotFoundError: the file does not exist.
      DataFormatError: a line is not UTF-8, naming the file and line.
    """
    if not tf.gfile.Exists(input_file):
      raise DataFileNotFoundError("data file not found: %s" % input_file)

    def decoded_lines(f):
      for line_number, line in enumerate(f, 1):
        try:
          yield line.decode("utf-8")
        except UnicodeDecodeError as e:
          raise DataFormatError(
              "%s:%d: not UTF-8 text (byte 0x%02x at column %d); GLUE "
              "files are UTF-8, re-save this one as UTF-8" %
              (input_file, line_number, line[e.start], e.start + 1))

    # Lines are split on "\n" alone, as the file's line numbers count them.
    with tf.gfile.GFile(input_file, "rb") as f:
      reader = csv.reader(decoded_lines(f), delimiter="\t",
                          quotechar=quotechar)
      return [line for line in reader]

  def process_text(self, text):
    """Normalises text as the tokenizer's training data was."""
    if self.use_spm:
      return tokenization.preprocess_text(text, lower=self.do_lower_case)
    return tokenization.convert_to_unicode(text)


class GlueProcessor(DataProcessor):
  """A GLUE task read from `$data_dir/<TASK_DIR>/<split>.tsv`.

  Subclasses give the folder, file names, labels and each split's column
  layout. Rows with too few columns are an error naming the file and line,
  except in tasks with SKIP_MALFORMED (QQP and MNLI, whose official files
  hold a few broken rows): there they are skipped and counted in a warning.
  A label outside `get_labels()` is an error naming file, line and the
  valid labels.
  """

  TASK_DIR = None
  TRAIN_FILE = "train.tsv"
  DEV_FILE = "dev.tsv"
  TEST_FILE = "test.tsv"
  LABELS = ("0", "1")
  SKIP_MALFORMED = False
  TRAIN_LAYOUT = None
  TEST_LAYOUT = None

  def get_labels(self):
    """See base class."""
    return list(self.LABELS)

  def get_train_examples(self, data_dir):
    """See base class."""
    return self._examples_from(data_dir, self.TRAIN_FILE, "train")

  def get_dev_examples(self, data_dir):
    """See base class."""
    return self._examples_from(data_dir, self.DEV_FILE, "dev")

  def get_test_examples(self, data_dir):
    """See base class."""
    return self._examples_from(data_dir, self.TEST_FILE, "test")

  def task_path(self, data_dir, file_name):
    """The path of one of the task's files; raises if it does not exist."""
    if not data_dir:
      raise ValueError("data_dir is required: the GLUE root holding a %s/ "
                       "folder" % self.TASK_DIR)
    task_dir = os.path.join(data_dir, self.TASK_DIR)
    if not tf.gfile.IsDirectory(task_dir):
      raise DataFileNotFoundError(
          "task directory not found: %s (data_dir must be the GLUE root, "
          "holding one folder per task such as %s/)" %
          (task_dir, self.TASK_DIR))
    path = os.path.join(task_dir, file_name)
    if not tf.gfile.Exists(path):
      raise DataFileNotFoundError("%s file not found: %s" %
                                  (self.TASK_DIR, path))
    return path

  def _examples_from(self, data_dir, file_name, set_type):
    path = self.task_path(data_dir, file_name)
    return self._create_examples(self._read_tsv(path), set_type,
                                 input_file=path)

  def _layout(self, set_type):
    return self.TEST_LAYOUT if set_type.startswith("test") else (
        self.TRAIN_LAYOUT)

  def _label(self, raw, location):
    label = self.process_text(raw)
    if label not in self.LABELS:
      raise DataFormatError(
          "%s: label %r is not one of the %s labels %s" %
          (location, raw, self.TASK_DIR, ", ".join(self.LABELS)))
    return label

  def _check_header(self, row, layout, name, set_type):
    """Raises DataFormatError unless row is the split's official header.

    Only the columns that are read are compared (by name, ignoring case), so
    a file whose header line was removed, or a file of another task or
    split, fails here instead of losing its first row or being read from
    the wrong columns.
    """
    expected = []
    for field, column in zip(layout.header, (layout.guid, layout.text_a,
                                             layout.text_b, layout.label)):
      if field is not None and column is not None:
        expected.append((column, field))
    found = list(row or [])
    if all(-len(found) <= column < len(found) and
           _header_name(found[column]) == _header_name(field)
           for column, field in expected):
      return

    def where(column):
      return "the last column" if column == -1 else "column %d" % (column + 1)

    raise DataFormatError(
        "%s:1: expected the official %s %s header, with %s; found %s "
        "(is the header line missing, or is this another task's file?)" % (
            name, self.TASK_DIR, set_type.split("_")[0],
            ", ".join("%r in %s" % (field, where(column))
                      for column, field in expected),
            "an empty file" if row is None else
            "%d column(s) %r" % (len(found), "\t".join(found)[:200])))

  def _create_examples(self, lines, set_type, input_file=None):
    """Creates examples from the rows of one split's file.

    Args:
      lines: rows from `_read_tsv` (row i is line i + 1 of the file).
      set_type: "train", "dev" or "test" (or "dev_*" / "test_*").
      input_file: the file's path, for messages.

    Returns:
      list of `InputExample`.
    """
    layout = self._layout(set_type)
    name = input_file or ("%s %s" % (self.TASK_DIR, set_type))
    if layout.header is not None:
      self._check_header(lines[0] if lines else None, layout, name, set_type)
    examples = []
    skipped, first_skipped = 0, None
    for i, line in enumerate(lines):
      if layout.header is not None and i == 0:
        continue
      if not line or (len(line) == 1 and not line[0].strip()):
        continue  # A blank line is no row.
      location = "%s:%d" % (name, i + 1)
      if len(line) < layout.min_columns:
        if self.SKIP_MALFORMED:
          skipped += 1
          first_skipped = first_skipped or location
          continue
        raise DataFormatError(
            "%s: %d column(s), but a %s %s row has at least %d "
            "(is this the official GLUE file?)" %
            (location, len(line), self.TASK_DIR, set_type.split("_")[0],
             layout.min_columns))
      if layout.guid is None:
        guid = "%s-%d" % (set_type, i)
      else:
        guid = self.process_text(line[layout.guid])
      text_a = self.process_text(line[layout.text_a])
      text_b = (None if layout.text_b is None
                else self.process_text(line[layout.text_b]))
      if layout.label is None:
        label = self.get_labels()[0]  # Placeholder: test sets are unlabeled.
      else:
        label = self._label(line[layout.label], location)
      examples.append(InputExample(guid=guid, text_a=text_a, text_b=text_b,
                                   label=label))
    if skipped:
      tf.logging.warning(
          "Skipped %d malformed row(s) with too few columns in %s (the "
          "first at %s); the official %s files have a few of these.",
          skipped, name, first_skipped, self.TASK_DIR)
    if not examples:
      raise DataFormatError(
          "%s has no data rows%s; expected the official %s file" %
          (name, " (%d malformed row(s) skipped)" % skipped if skipped
           else "", self.TASK_DIR))
    return examples


class ColaProcessor(GlueProcessor):
  """CoLA: train/dev have no header (label col 1, sentence col 3)."""

  TASK_DIR = "CoLA"
  TRAIN_LAYOUT = _Layout(header=None, guid=None, text_a=3, text_b=None,
                         label=1, min_columns=4)
  TEST_LAYOUT = _Layout(header=("index", "sentence", None, None), guid=0,
                        text_a=1, text_b=None, label=None, min_columns=2)


class Sst2Processor(GlueProcessor):
  """SST-2: sentence, label; test: index, sentence."""

  TASK_DIR = "SST-2"
  TRAIN_LAYOUT = _Layout(header=(None, "sentence", None, "label"), guid=None,
                         text_a=0, text_b=None, label=1, min_columns=2)
  TEST_LAYOUT = _Layout(header=("index", "sentence", None, None), guid=0,
                        text_a=1, text_b=None, label=None, min_columns=2)


class MrpcProcessor(GlueProcessor):
  """MRPC: Quality, #1 ID, #2 ID, #1 String, #2 String."""

  TASK_DIR = "MRPC"
  TRAIN_LAYOUT = _Layout(header=(None, "#1 String", "#2 String", "Quality"),
                         guid=None, text_a=3, text_b=4, label=0,
                         min_columns=5)
  TEST_LAYOUT = _Layout(header=("index", "#1 String", "#2 String", None),
                        guid=0, text_a=3, text_b=4, label=None,
                        min_columns=5)


class StsbProcessor(GlueProcessor):
  """STS-B: 10 columns, sentence1 col 7, sentence2 col 8, score col 9."""

  TASK_DIR = "STS-B"
  LABELS = (None,)
  TRAIN_LAYOUT = _Layout(header=("index", "sentence1", "sentence2", "score"),
                         guid=0, text_a=7, text_b=8, label=9, min_columns=10)
  TEST_LAYOUT = _Layout(header=("index", "sentence1", "sentence2", None),
                        guid=0, text_a=7, text_b=8, label=None,
                        min_columns=9)

  def _label(self, raw, location):
    try:
      return float(raw)
    except ValueError:
      raise DataFormatError("%s: STS-B score %r is not a number" %
                            (location, raw))

  def _create_examples(self, lines, set_type, input_file=None):
    examples = super(StsbProcessor, self)._create_examples(
        lines, set_type, input_file)
    if set_type.startswith("test"):
      for example in examples:
        example.label = 0.0
    return examples


class QqpProcessor(GlueProcessor):
  """QQP: id, qid1, qid2, question1, question2, is_duplicate."""

  TASK_DIR = "QQP"
  SKIP_MALFORMED = True
  TRAIN_LAYOUT = _Layout(
      header=("id", "question1", "question2", "is_duplicate"), guid=0,
      text_a=3, text_b=4, label=5, min_columns=6)
  TEST_LAYOUT = _Layout(header=("id", "question1", "question2", None),
                        guid=0, text_a=1, text_b=2, label=None,
                        min_columns=3)


class MnliProcessor(GlueProcessor):
  """MNLI: sentence1 col 8, sentence2 col 9, gold_label the last column.

  The dev and test sets are the matched ones; `get_dev_mismatched_examples`
  and `get_test_mismatched_examples` read the others.
  """

  TASK_DIR = "MNLI"
  DEV_FILE = "dev_matched.tsv"
  TEST_FILE = "test_matched.tsv"
  LABELS = ("contradiction", "entailment", "neutral")
  SKIP_MALFORMED = True
  # Labeled rows: index .. sentence2 (10 columns), label1 .., gold_label.
  TRAIN_LAYOUT = _Layout(
      header=("index", "sentence1", "sentence2", "gold_label"), guid=0,
      text_a=8, text_b=9, label=-1, min_columns=11)
  TEST_LAYOUT = _Layout(header=("index", "sentence1", "sentence2", None),
                        guid=0, text_a=8, text_b=9, label=None,
                        min_columns=10)

  def get_dev_mismatched_examples(self, data_dir):
    """The mismatched dev set (dev_mismatched.tsv)."""
    return self._examples_from(data_dir, "dev_mismatched.tsv",
                               "dev_mismatched")

  def get_test_mismatched_examples(self, data_dir):
    """The mismatched test set (test_mismatched.tsv)."""
    return self._examples_from(data_dir, "test_mismatched.tsv",
                               "test_mismatched")


class MisMnliProcessor(MnliProcessor):
  """MNLI with the mismatched dev and test sets (the release's "mismnli")."""

  DEV_FILE = "dev_mismatched.tsv"
  TEST_FILE = "test_mismatched.tsv"


class QnliProcessor(GlueProcessor):
  """QNLI: index, question, sentence, label."""

  TASK_DIR = "QNLI"
  LABELS = ("entailment", "not_entailment")
  TRAIN_LAYOUT = _Layout(header=("index", "question", "sentence", "label"),
                         guid=0, text_a=1, text_b=2, label=3, min_columns=4)
  TEST_LAYOUT = _Layout(header=("index", "question", "sentence", None),
                        guid=0, text_a=1, text_b=2, label=None,
                        min_columns=3)


class RteProcessor(QnliProcessor):
  """RTE: index, sentence1, sentence2, label."""

  TASK_DIR = "RTE"
  TRAIN_LAYOUT = _Layout(header=("index", "sentence1", "sentence2", "label"),
                         guid=0, text_a=1, text_b=2, label=3, min_columns=4)
  TEST_LAYOUT = _Layout(header=("index", "sentence1", "sentence2", None),
                        guid=0, text_a=1, text_b=2, label=None,
                        min_columns=3)


class WnliProcessor(GlueProcessor):
  """WNLI: index, sentence1, sentence2, label (0/1)."""

  TASK_DIR = "WNLI"
  TRAIN_LAYOUT = RteProcessor.TRAIN_LAYOUT
  TEST_LAYOUT = RteProcessor.TEST_LAYOUT


class AXProcessor(GlueProcessor):
  """The GLUE diagnostic set: `diagnostic/diagnostic.tsv`, test only.

  Rows are index, sentence1, sentence2; it is predicted by an MNLI model,
  with the MNLI labels.
  """

  TASK_DIR = "diagnostic"
  TEST_FILE = "diagnostic.tsv"
  LABELS = MnliProcessor.LABELS
  TEST_LAYOUT = _Layout(header=("index", "sentence1", "sentence2", None),
                        guid=0, text_a=1, text_b=2, label=None,
                        min_columns=3)

  def get_train_examples(self, data_dir):
    raise ValueError("AX (the GLUE diagnostic set) has only a test set; "
                     "train an MNLI model and predict AX with it")

  get_dev_examples = get_train_examples


# Lower-case task names, as the release's run_classifier used them, plus
# "mnli-mm" for the release's "mismnli" and "ax" for the diagnostic set.
processors = {
    "cola": ColaProcessor,
    "mnli": MnliProcessor,
    "mismnli": MisMnliProcessor,
    "mnli-mm": MisMnliProcessor,
    "mrpc": MrpcProcessor,
    "rte": RteProcessor,
    "sst-2": Sst2Processor,
    "sts-b": StsbProcessor,
    "qqp": QqpProcessor,
    "qnli": QnliProcessor,
    "wnli": WnliProcessor,
    "ax": AXProcessor,
}


def get_processor(task_name, use_spm=True, do_lower_case=True):
  """The processor of a task name (any case); lists valid names if unknown."""
  key = (task_name or "").lower()
  if key not in processors:
    raise ValueError("Unknown task_name %r; valid task names are %s" %
                     (task_name, ", ".join(sorted(processors))))
  return processors[key](use_spm=use_spm, do_lower_case=do_lower_case)


def is_regression(task_name):
  """True for STS-B, the one task with a float label."""
  return (task_name or "").lower() == "sts-b"


def _truncate_seq_pair(tokens_a, tokens_b, max_length):
  """Truncates a sequence pair in place to the maximum length.

  Always shortens the longer one (tokens_b on a tie), one token at a time:
  a token cut from a short sequence likely carries more information.
  """
  while len(tokens_a) + len(tokens_b) > max_length:
    if len(tokens_a) > len(tokens_b):
      tokens_a.pop()
    else:
      tokens_b.pop()


def convert_single_example(ex_index, example, label_list, max_seq_length,
                           tokenizer, task_name):
  """Converts a single `InputExample` into a single `InputFeatures`.

  [CLS] A [SEP] (B [SEP]), segment ids 0 for [CLS] A [SEP] and 1 for
  B [SEP], zero-padded to max_seq_length; a pair longer than that loses
  tokens from the end of its longer sequence.

  Args:
    ex_index: the example's position (the first five are logged).
    example: `InputExample` or `PaddingInputExample`.
    label_list: the task's labels; label_id is the index in it.
    max_seq_length: length of the features.
    tokenizer: `tokenization.FullTokenizer`.
    task_name: the task; "sts-b" keeps the float label as label_id.

  Returns:
    `InputFeatures`.

  Raises:
    ValueError: the label is not in label_list, or max_seq_length is too
      short for [CLS] and [SEP]s.
  """
  if isinstance(example, PaddingInputExample):
    return InputFeatures(
        input_ids=[0] * max_seq_length,
        input_mask=[0] * max_seq_length,
        segment_ids=[0] * max_seq_length,
        label_id=0.0 if is_regression(task_name) else 0,
        is_real_example=False)

  tokens_a = tokenizer.tokenize(example.text_a)
  tokens_b = tokenizer.tokenize(example.text_b) if example.text_b else None
  specials = 3 if tokens_b else 2
  if max_seq_length < specials + 1:
    raise ValueError("max_seq_length=%d leaves no room for text" %
                     max_seq_length)
  if tokens_b:
    _truncate_seq_pair(tokens_a, tokens_b, max_seq_length - 3)
  elif len(tokens_a) > max_seq_length - 2:
    tokens_a = tokens_a[0:(max_seq_length - 2)]

  tokens = ["[CLS]"] + tokens_a + ["[SEP]"]
  segment_ids = [0] * len(tokens)
  if tokens_b:
    tokens += tokens_b + ["[SEP]"]
    segment_ids += [1] * (len(tokens_b) + 1)

  input_ids = tokenizer.convert_tokens_to_ids(tokens)
  input_mask = [1] * len(input_ids)
  padding = max_seq_length - len(input_ids)
  input_ids += [0] * padding
  input_mask += [0] * padding
  segment_ids += [0] * padding

  if is_regression(task_name):
    label_id = float(example.label)
  else:
    try:
      label_id = list(label_list).index(example.label)
    except ValueError:
      raise ValueError("example %s: label %r is not one of %s" %
                       (example.guid, example.label, label_list))

  if ex_index < 5:
    tf.logging.info("*** Example ***")
    tf.logging.info("guid: %s", example.guid)
    tf.logging.info("tokens: %s", " ".join(
        tokenization.printable_text(x) for x in tokens))
    tf.logging.info("input_ids: %s", " ".join(str(x) for x in input_ids))
    tf.logging.info("input_mask: %s", " ".join(str(x) for x in input_mask))
    tf.logging.info("segment_ids: %s", " ".join(str(x) for x in segment_ids))
    tf.logging.info("label: %s (id = %s)", example.label, label_id)

  return InputFeatures(
      input_ids=input_ids,
      input_mask=input_mask,
      segment_ids=segment_ids,
      label_id=label_id,
      guid=example.guid,
      is_real_example=True)


def feature_to_tf_example(feature, task_name):
  """`InputFeatures` -> serialized tf.train.Example (the release's layout)."""
  features = collections.OrderedDict()
  features["input_ids"] = input_pipeline.int64_feature(feature.input_ids)
  features["input_mask"] = input_pipeline.int64_feature(feature.input_mask)
  features["segment_ids"] = input_pipeline.int64_feature(feature.segment_ids)
  if is_regression(task_name):
    features["label_ids"] = input_pipeline.float_feature([feature.label_id])
  else:
    features["label_ids"] = input_pipeline.int64_feature([feature.label_id])
  features["is_real_example"] = input_pipeline.int64_feature(
      [int(feature.is_real_example)])
  return tf.train.Example(
      features=tf.train.Features(feature=features)).SerializeToString()


def file_based_convert_examples_to_features(
    examples, label_list, max_seq_length, tokenizer, output_file, task_name,
    key=None):
  """Converts `InputExample`s to a TFRecord file, atomically.

  Args:
    examples: list of `InputExample` (and `PaddingInputExample`).
    label_list: the task's labels.
    max_seq_length: feature length.
    tokenizer: `tokenization.FullTokenizer`.
    output_file: TFRecord path; written under a temporary name first.
    task_name: the task.
    key: (optional) cache key, written beside the file (see
      `input_pipeline.write_examples`).

  Returns:
    Number of records written.
  """

  def serialized():
    for ex_index, example in enumerate(examples):
      if ex_index % 10000 == 0:
        tf.logging.info("Writing example %d of %d", ex_index, len(examples))
      feature = convert_single_example(ex_index, example, label_list,
                                       max_seq_length, tokenizer, task_name)
      yield feature_to_tf_example(feature, task_name)

  return input_pipeline.write_examples(output_file, serialized(), key=key)


def name_to_features(seq_length, task_name, multiple=1):
  """The parsing spec of the classifier's TFRecords."""
  label_type = tf.float32 if is_regression(task_name) else tf.int64
  return {
      "input_ids": tf.FixedLenFeature([seq_length * multiple], tf.int64),
      "input_mask": tf.FixedLenFeature([seq_length * multiple], tf.int64),
      "segment_ids": tf.FixedLenFeature([seq_length * multiple], tf.int64),
      "label_ids": tf.FixedLenFeature([], label_type),
      "is_real_example": tf.FixedLenFeature([], tf.int64),
  }


def file_based_input_fn_builder(input_file, seq_length, is_training,
                                drop_remainder, task_name, use_tpu, bsz,
                                multiple=1):
  """Creates an `input_fn` closure to be passed to TPUEstimator.

  Args:
    input_file: TFRecord file from `file_based_convert_examples_to_features`.
    seq_length: max_seq_length of the file.
    is_training: repeat and shuffle.
    drop_remainder: drop a last partial batch (TPU).
    task_name: the task (STS-B has float labels).
    use_tpu: take the batch size from params (per TPU core) rather than bsz.
    bsz: batch size when not on TPU.
    multiple: features hold `multiple` sequences each (RACE-style).

  Returns:
    input_fn(params).
  """
  inner = input_pipeline.file_based_input_fn_builder(
      input_file, name_to_features(seq_length, task_name, multiple),
      is_training=is_training, drop_remainder=drop_remainder)

  def input_fn(params):
    """The actual input function."""
    params = dict(params or {})
    if not use_tpu:
      params["batch_size"] = bsz
    return inner(params)

  return input_fn


def create_model(albert_config, is_training, input_ids, input_mask,
                 segment_ids, labels, num_labels, use_one_hot_embeddings,
                 task_name, hub_module, classifier_dropout_prob=0.1,
                 use_einsum=True):
  """Creates a classification (or, for STS-B, regression) model.

  The classifier's variables are `output_weights` [num_labels, H] and
  `output_bias` [num_labels] at the top-level scope, as in the released
  fine-tuned checkpoints.

  Args:
    albert_config: `AlbertConfig` (None with a hub module).
    is_training: enables dropout.
    input_ids, input_mask, segment_ids: int32 [B, S].
    labels: int32 [B] label ids, or float32 [B] scores for STS-B.
    num_labels: number of classes (1 for STS-B).
    use_one_hot_embeddings: one-hot embedding lookups (TPU).
    task_name: the task.
    hub_module: (optional) TF-Hub module handle or path.
    classifier_dropout_prob: dropout on the pooled output before the
      classifier, when training; the encoder's own dropout comes from the
      config.
    use_einsum: einsum or matmul-only dense layers in the encoder.

  Returns:
    (loss, per_example_loss [B], probabilities, logits, predictions [B]):
    for classification probabilities and logits are [B, num_labels] and
    predictions the argmax; for STS-B probabilities is the score [B, 1],
    logits and predictions the score [B].
  """
  output_layer, _ = fine_tuning_utils.create_albert(
      albert_config=albert_config,
      is_training=is_training,
      input_ids=input_ids,
      input_mask=input_mask,
      segment_ids=segment_ids,
      use_one_hot_embeddings=use_one_hot_embeddings,
      use_einsum=use_einsum,
      hub_module=hub_module)

  hidden_size = output_layer.shape[-1]
  hidden_size = getattr(hidden_size, "value", hidden_size)

  output_weights = tf.get_variable(
      "output_weights", [num_labels, hidden_size],
      initializer=tf.truncated_normal_initializer(stddev=0.02))
  output_bias = tf.get_variable(
      "output_bias", [num_labels], initializer=tf.zeros_initializer())

  with tf.variable_scope("loss"):
    if is_training and classifier_dropout_prob > 0:
      output_layer = dropout_seeds.dropout(output_layer, classifier_dropout_prob)
    logits = tf.matmul(output_layer, output_weights, transpose_b=True)
    logits = tf.nn.bias_add(logits, output_bias)
    if not is_regression(task_name):
      probabilities = tf.nn.softmax(logits, axis=-1)
      predictions = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
      log_probs = tf.nn.log_softmax(logits, axis=-1)
      one_hot_labels = tf.one_hot(labels, depth=num_labels, dtype=tf.float32)
      per_example_loss = -tf.reduce_sum(one_hot_labels * log_probs, axis=-1)
    else:
      probabilities = logits
      logits = tf.squeeze(logits, [-1])
      predictions = logits
      per_example_loss = tf.square(logits - tf.cast(labels, tf.float32))
    loss = tf.reduce_mean(per_example_loss)
    return (loss, per_example_loss, probabilities, logits, predictions)


# Numpy reference metrics ---------------------------------------------------


def _weights(weights, n):
  if weights is None:
    return np.ones(n, np.float64)
  return np.asarray(weights, np.float64).reshape(-1)


def np_accuracy(labels, predictions, weights=None):
  """Weighted fraction of predictions equal to labels."""
  labels = np.asarray(labels).reshape(-1)
  predictions = np.asarray(predictions).reshape(-1)
  w = _weights(weights, len(labels))
  total = w.sum()
  return float((w * (labels == predictions)).sum() / total) if total else 0.0


def _confusion(labels, predictions, weights):
  labels = np.asarray(labels).reshape(-1).astype(bool)
  predictions = np.asarray(predictions).reshape(-1).astype(bool)
  w = _weights(weights, len(labels))
  tp = (w * (labels & predictions)).sum()
  tn = (w * (~labels & ~predictions)).sum()
  fp = (w * (~labels & predictions)).sum()
  fn = (w * (labels & ~predictions)).sum()
  return tp, tn, fp, fn


def np_matthews_corr(labels, predictions, weights=None):
  """Matthews correlation of binary labels and predictions (0 if undefined)."""
  tp, tn, fp, fn = _confusion(labels, predictions, weights)
  denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
  return float((tp * tn - fp * fn) / denominator) if denominator else 0.0


def np_precision_recall_f1(labels, predictions, weights=None):
  """(precision, recall, F1) of class 1; each 0 where undefined."""
  tp, _, fp, fn = _confusion(labels, predictions, weights)
  precision = tp / (tp + fp) if tp + fp else 0.0
  recall = tp / (tp + fn) if tp + fn else 0.0
  f1 = (2 * precision * recall / (precision + recall)
        if precision + recall else 0.0)
  return float(precision), float(recall), float(f1)


def rankdata(values):
  """1-based ranks; tied values share the mean of their ranks."""
  values = np.asarray(values, np.float64).reshape(-1)
  order = np.argsort(values, kind="mergesort")
  ranks = np.empty(len(values), np.float64)
  sorted_values = values[order]
  start = 0
  while start < len(values):
    end = start
    while end + 1 < len(values) and sorted_values[end + 1] == (
        sorted_values[start]):
      end += 1
    ranks[order[start:end + 1]] = (start + end) / 2.0 + 1.0
    start = end + 1
  return ranks


def np_pearson(x, y):
  """Pearson correlation; 0 when either side has no variance."""
  x = np.asarray(x, np.float64).reshape(-1)
  y = np.asarray(y, np.float64).reshape(-1)
  if len(x) < 2:
    return 0.0
  dx, dy = x - x.mean(), y - y.mean()
  denominator = np.sqrt((dx * dx).sum() * (dy * dy).sum())
  return float((dx * dy).sum() / denominator) if denominator > 0 else 0.0


def np_spearman(x, y):
  """Spearman rank correlation (ties get average ranks)."""
  return np_pearson(rankdata(x), rankdata(y))


# Streaming TF metrics ------------------------------------------------------


def _streaming_concat(values, name):
  """A metric that collects every value it sees: (all values, update_op)."""
  values = tf.reshape(tf.cast(values, tf.float32), [-1])
  with tf.variable_scope(None, default_name=name):
    # A resource variable may have a partly unknown shape: it grows.
    store = tf.Variable(
        tf.zeros([0], tf.float32), trainable=False, use_resource=True,
        shape=tf.TensorShape([None]), name="values",
        collections=[tf.GraphKeys.LOCAL_VARIABLES,
                     tf.GraphKeys.METRIC_VARIABLES])
  update_op = store.assign(tf.concat([store.read_value(), values], 0))
  return store.read_value(), update_op


def _numpy_metric(fn, x, y, name):
  value = tf.numpy_function(
      lambda a, b: np.float32(fn(a, b)), [x, y], tf.float32, name=name)
  value.set_shape([])
  return value


def streaming_correlations(predictions, labels, weights):
  """Pearson and Spearman over the whole eval set, as eval metric ops.

  Predictions and labels of real examples (weight > 0) are collected in
  local variables across batches; the correlations are computed from them
  exactly (in numpy, float64) when the metrics are read.

  Returns:
    {"pearson": (value, update_op), "spearman": (value, update_op)}.
  """
  keep = tf.reshape(weights, [-1]) > 0
  predictions = tf.boolean_mask(tf.reshape(predictions, [-1]), keep)
  labels = tf.boolean_mask(tf.reshape(labels, [-1]), keep)
  all_predictions, update_predictions = _streaming_concat(
      predictions, "predictions_concat")
  all_labels, update_labels = _streaming_concat(labels, "labels_concat")
  update_op = tf.group(update_predictions, update_labels)
  return {
      "pearson": (_numpy_metric(np_pearson, all_predictions, all_labels,
                                "pearson"), update_op),
      "spearman": (_numpy_metric(np_spearman, all_predictions, all_labels,
                                 "spearman"), update_op),
  }


def metric_fn_for(task_name):
  """The TPUEstimator metric_fn of a task (see the module docstring)."""
  task = (task_name or "").lower()

  def metric_fn(per_example_loss, label_ids, logits, is_real_example):
    """Eval metrics from one batch's tensors."""
    loss = tf.metrics.mean(values=per_example_loss, weights=is_real_example)
    if is_regression(task):
      metrics = streaming_correlations(logits, label_ids, is_real_example)
      metrics["MSE"] = tf.metrics.mean_squared_error(
          label_ids, logits, weights=is_real_example)
      metrics["eval_loss"] = loss
      return metrics

    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    metrics = {
        "eval_accuracy": tf.metrics.accuracy(
            labels=label_ids, predictions=predictions,
            weights=is_real_example),
        "eval_loss": loss,
    }
    if task == "cola":
      tp, tp_op = tf.metrics.true_positives(
          label_ids, predictions, weights=is_real_example)
      tn, tn_op = tf.metrics.true_negatives(
          label_ids, predictions, weights=is_real_example)
      fp, fp_op = tf.metrics.false_positives(
          label_ids, predictions, weights=is_real_example)
      fn, fn_op = tf.metrics.false_negatives(
          label_ids, predictions, weights=is_real_example)
      tp, tn, fp, fn = [tf.cast(t, tf.float64) for t in (tp, tn, fp, fn)]
      mcc = tf.div_no_nan(
          tp * tn - fp * fn,
          tf.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
      metrics["matthew_corr"] = (tf.cast(mcc, tf.float32),
                                 tf.group(tp_op, tn_op, fp_op, fn_op))
    if task in ("mrpc", "qqp"):
      precision, precision_op = tf.metrics.precision(
          label_ids, predictions, weights=is_real_example)
      recall, recall_op = tf.metrics.recall(
          label_ids, predictions, weights=is_real_example)
      f1 = tf.div_no_nan(2.0 * precision * recall, precision + recall)
      metrics["eval_precision"] = (precision, precision_op)
      metrics["eval_recall"] = (recall, recall_op)
      metrics["eval_f1"] = (f1, tf.group(precision_op, recall_op))
    return metrics

  return metric_fn


def main_metric(task_name):
  """The eval_results key the best checkpoint is chosen by."""
  task = (task_name or "").lower()
  if task == "sts-b":
    return "pearson"
  if task == "cola":
    return "matthew_corr"
  return "eval_accuracy"


def model_fn_builder(albert_config, num_labels, init_checkpoint, learning_rate,
                     num_train_steps, num_warmup_steps, use_tpu,
                     use_one_hot_embeddings, task_name, hub_module=None,
                     optimizer="adamw", classifier_dropout_prob=0.1,
                     use_einsum=True, log_every_n_steps=100):
  """Returns the `model_fn` closure for TPUEstimator.

  Args:
    albert_config: `AlbertConfig` (None with a hub module).
    num_labels: number of labels (1 for STS-B).
    init_checkpoint: (optional) pretrained checkpoint; the classifier's
      output_weights/output_bias are new and start random. Not used with a
      hub module (the module holds the weights).
    learning_rate: peak learning rate.
    num_train_steps: total steps (the schedule decays to 0 there).
    num_warmup_steps: linear warmup steps.
    use_tpu: whether running on TPU.
    use_one_hot_embeddings: one-hot embedding lookups (TPU).
    task_name: the task.
    hub_module: (optional) TF-Hub module handle or path.
    optimizer: "adamw" or "lamb".
    classifier_dropout_prob: dropout before the classifier, when training.
    use_einsum: einsum or matmul-only dense layers.
    log_every_n_steps: loss/throughput logging interval (CPU/GPU).

  Returns:
    model_fn(features, labels, mode, params). PREDICT gives "probabilities"
    and "predictions", also as the default serving signature.
  """
  regression = is_regression(task_name)

  def build_head(features, mode, params):  # pylint: disable=unused-argument
    """The encoder and classifier; see `task_model.model_fn_builder`."""
    label_ids, is_real_example = task_model.labels_and_weights(
        features, tf.float32 if regression else tf.int32)
    (total_loss, per_example_loss, probabilities, logits,
     predictions) = create_model(
         albert_config, mode == tf.estimator.ModeKeys.TRAIN,
         features["input_ids"],
         features["input_mask"], features["segment_ids"], label_ids,
         num_labels, use_one_hot_embeddings, task_name, hub_module,
         classifier_dropout_prob=classifier_dropout_prob,
         use_einsum=use_einsum)
    return task_model.HeadOutputs(
        loss=total_loss,
        predictions={"probabilities": probabilities,
                     "predictions": predictions},
        eval_metrics=(metric_fn_for(task_name),
                      [per_example_loss, label_ids, logits,
                       is_real_example]))

  return task_model.model_fn_builder(
      build_head, init_checkpoint, learning_rate, num_train_steps,
      num_warmup_steps, use_tpu, optimizer=optimizer, hub_module=hub_module,
      new_variable_prefixes=("output_weights", "output_bias"),
      log_every_n_steps=log_every_n_steps)


# Kept for the Colab and other code written against the release.
def input_fn_builder(features, seq_length, is_training, drop_remainder):
  """An in-memory input_fn over a list of `InputFeatures` (small sets only)."""
  all_input_ids = [f.input_ids for f in features]
  all_input_mask = [f.input_mask for f in features]
  all_segment_ids = [f.segment_ids for f in features]
  all_label_ids = [f.label_id for f in features]

  def input_fn(params):
    """The actual input function."""
    num_examples = len(features)
    d = tf.data.Dataset.from_tensor_slices({
        "input_ids": tf.constant(all_input_ids, shape=[num_examples,
                                                       seq_length],
                                 dtype=tf.int32),
        "input_mask": tf.constant(all_input_mask, shape=[num_examples,
                                                         seq_length],
                                  dtype=tf.int32),
        "segment_ids": tf.constant(all_segment_ids, shape=[num_examples,
                                                           seq_length],
                                   dtype=tf.int32),
        "label_ids": tf.constant(all_label_ids, shape=[num_examples]),
    })
    if is_training:
      d = d.repeat()
      d = d.shuffle(buffer_size=100)
    return d.batch(batch_size=params["batch_size"],
                   drop_remainder=drop_remainder)

  return input_fn


def convert_examples_to_features(examples, label_list, max_seq_length,
                                 tokenizer, task_name):
  """Converts `InputExample`s to a list of `InputFeatures`."""
  return [convert_single_example(i, example, label_list, max_seq_length,
                                 tokenizer, task_name)
          for i, example in enumerate(examples)]
