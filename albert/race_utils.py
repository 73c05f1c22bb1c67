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
"""RACE reading comprehension: data, features, model and metrics.

`data_dir` holds the official RACE release as it unpacks:

  $data_dir/RACE/{train,dev,test}/{middle,high}/<n>.txt

Each file is one JSON object {"id", "article", "questions", "options",
"answers"} with one options list (of four) and one answer letter per
question. Every question becomes one `RaceExample` with four endings, the
question joined with each option. The official test files carry answers;
a file without "answers" gives unlabeled examples, for prediction only.

Features hold the four choices one after the other ("choice-major"), so
`input_ids`, `input_mask` and `segment_ids` are 4 * max_seq_length long;
`classifier_utils.file_based_input_fn_builder(..., multiple=4)` reads them.
The head scores each choice's pooled output with one shared vector and
takes a softmax over the four scores.

Differences from the release (its bugs, see the README):
  * The reader loops over the official per-article files; the release
    opened an `all.txt` that the official data does not have.
  * Tokens are always str, so logging the first examples cannot fail on
    bytes (release issue #67).
  * The head reads the hidden size without `.shape[-1].value`, which fails
    with TF2 behaviour.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import json
import os

import numpy as np
import tensorflow.compat.v1 as tf

from albert import classifier_utils
from albert import file_io
from albert import fine_tuning_utils
from albert import input_pipeline
from albert import modeling
from albert import task_model
from albert import tokenization

SPLITS = ("train", "dev", "test")
LEVELS = ("middle", "high")
LABELS = ("A", "B", "C", "D")
NUM_CHOICES = len(LABELS)
# The released layout variant: a level's articles concatenated one JSON per
# line. The official data has no such file; where both exist, reading it
# too would count every question twice.
ALL_FILE = "all.txt"
_REQUIRED_KEYS = ("id", "article", "questions", "options")
_LAYOUT_HINT = "RACE/<split>/<level>/*.txt (e.g. RACE/train/middle/1.txt)"
_FILE_HINT = ('expected one JSON object {"id", "article", "questions", '
              '"options", "answers"}')


class RaceDataError(classifier_utils.DataFormatError):
  """RACE data is missing or not in the official layout (a ValueError)."""


class RaceExample(object):
  """One RACE question: an article and the question with each option."""

  def __init__(self, example_id, context_sentence, start_ending, endings,
               label=None, question_index=0, level=None, guid=None):
    """Constructs a RaceExample.

    Args:
      example_id: the file's "id", e.g. "middle1.txt".
      context_sentence: the processed article.
      start_ending: (optional) text put before every ending (always None
        for RACE; kept from the release's multiple-choice interface).
      endings: list of 4 strings, the question joined with each option.
      label: int 0-3 (the answer's index), or None when the file has no
        answers.
      question_index: the question's position in the file.
      level: "middle" or "high".
      guid: unique id, "<split>-<level>-<example_id>-<question_index>".
    """
    self.example_id = example_id
    self.context_sentence = context_sentence
    self.start_ending = start_ending
    self.endings = endings
    self.label = label
    self.question_index = question_index
    self.level = level
    self.guid = guid

  def __repr__(self):
    return ("RaceExample(guid=%r, level=%r, endings=%r, label=%r)" %
            (self.guid, self.level, self.endings, self.label))


def _described(value):
  """A decoded JSON value's type with its article ("a list", "null")."""
  if value is None:
    return "null"
  if isinstance(value, dict):
    return "an object"
  if isinstance(value, list):
    return "a list"
  if isinstance(value, str):
    return "a string"
  if isinstance(value, bool):
    return "a boolean"
  return "a number"


class RaceProcessor(object):
  """Reads RACE from `$data_dir/RACE/<split>/<level>/*.txt`.

  Levels are read middle first, then high, and each level's files in
  sorted (string) order, so example order never depends on the file
  system. Hidden files (such as the "._1.txt" that macOS archives add) and
  `all.txt` are skipped. `high_only` / `middle_only` keep one level in
  every split.
  """

  def __init__(self, use_spm, do_lower_case, high_only=False,
               middle_only=False):
    """Args: SentencePiece tokenizer, lower-casing, and the level filter."""
    if high_only and middle_only:
      raise ValueError("--high_only and --middle_only exclude each other "
                       "(both were set, which would leave no RACE level)")
    self.use_spm = use_spm
    self.do_lower_case = do_lower_case
    self.high_only = high_only
    self.middle_only = middle_only

  def get_train_examples(self, data_dir):
    """`RaceExample`s of RACE/train."""
    return self.read_examples(data_dir, "train")

  def get_dev_examples(self, data_dir):
    """`RaceExample`s of RACE/dev."""
    return self.read_examples(data_dir, "dev")

  def get_test_examples(self, data_dir):
    """`RaceExample`s of RACE/test."""
    return self.read_examples(data_dir, "test")

  def get_labels(self):
    """The answer letters; a label is an index into them."""
    return list(LABELS)

  def levels(self):
    """The levels read, in order."""
    if self.high_only:
      return ["high"]
    if self.middle_only:
      return ["middle"]
    return list(LEVELS)

  def process_text(self, text):
    """Normalises text as the tokenizer's training data was."""
    if self.use_spm:
      return tokenization.preprocess_text(text, lower=self.do_lower_case)
    return tokenization.convert_to_unicode(text)

  def read_examples(self, data_dir, split):
    """Reads one split of every selected level.

    Args:
      data_dir: the folder holding RACE/.
      split: "train", "dev" or "test".

    Returns:
      list of `RaceExample`, one per question.

    Raises:
      RaceDataError: a folder is missing or empty, or a file is not in the
        official format (the message names the file).
    """
    if split not in SPLITS:
      raise ValueError("split must be one of %s, not %r" %
                       (", ".join(SPLITS), split))
    split_dir = self._split_dir(data_dir, split)
    examples = []
    for level in self.levels():
      paths = self._level_files(split_dir, split, level)
      count = len(examples)
      for path in paths:
        examples.extend(self._read_file(path, split, level))
      tf.logging.info("RACE %s/%s: %d questions from %d files", split, level,
                      len(examples) - count, len(paths))
    return examples

  def _split_dir(self, data_dir, split):
    """`$data_dir/RACE/<split>`, after checking it exists."""
    if not data_dir:
      raise ValueError("data_dir is required: the folder holding %s" %
                       _LAYOUT_HINT)
    race_dir = os.path.join(data_dir, "RACE")
    if not tf.gfile.IsDirectory(race_dir):
      hint = ""
      if tf.gfile.IsDirectory(os.path.join(data_dir, split)):
        hint = " (data_dir looks like the RACE folder itself: pass its parent)"
      raise RaceDataError(
          "RACE directory not found: %s; data_dir=%s must hold %s%s" %
          (race_dir, data_dir, _LAYOUT_HINT, hint))
    split_dir = os.path.join(race_dir, split)
    if not tf.gfile.IsDirectory(split_dir):
      raise RaceDataError("RACE %s split directory not found: %s (expected "
                          "%s/{middle,high}/*.txt)" %
                          (split, split_dir, split_dir))
    return split_dir

  def _level_files(self, split_dir, split, level):
    """The sorted question files of one level; raises if there are none."""
    level_dir = os.path.join(split_dir, level)
    other = "middle" if level == "high" else "high"
    flag_hint = "; --%s_only reads only %s" % (other, other)
    if not tf.gfile.IsDirectory(level_dir):
      raise RaceDataError("RACE %s/%s directory not found: %s (expected "
                          "%s/*.txt%s)" % (split, level, level_dir, level_dir,
                                           flag_hint))
    names = sorted(
        name for name in tf.gfile.ListDirectory(level_dir)
        if name.endswith(".txt") and not name.startswith(".") and
        name != ALL_FILE)
    paths = [os.path.join(level_dir, name) for name in names]
    paths = [path for path in paths if not tf.gfile.IsDirectory(path)]
    if not paths:
      has_all = tf.gfile.Exists(os.path.join(level_dir, ALL_FILE))
      raise RaceDataError(
          "no RACE question files in %s%s: expected the official *.txt "
          "files, one JSON object each%s" %
          (level_dir, " (only %s, the one-JSON-per-line variant, which is "
           "not read)" % ALL_FILE if has_all else "", flag_hint))
    return paths

  def _load_json(self, path):
    """The one JSON object of a file, as a dict."""
    with tf.gfile.GFile(path, "rb") as f:
      raw = f.read()
    try:
      text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
      raise RaceDataError("%s: not UTF-8 text (byte %d: %s); %s" %
                          (path, e.start, e.reason, _FILE_HINT))
    try:
      data = json.loads(text)
    except json.JSONDecodeError as e:
      extra = (" (several JSON values: is this an all.txt-style file?)"
               if e.msg == "Extra data" else "")
      raise RaceDataError("%s:%d:%d: invalid JSON, %s%s; %s" %
                          (path, e.lineno, e.colno, e.msg, extra, _FILE_HINT))
    if not isinstance(data, dict):
      raise RaceDataError("%s: the JSON value is %s, %s" %
                          (path, _described(data), _FILE_HINT))
    return data

  def _read_file(self, path, split, level):
    """The examples of one article file (one per question)."""
    data = self._load_json(path)
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
      raise RaceDataError("%s: missing key(s) %s; %s" %
                          (path, ", ".join(missing), _FILE_HINT))
    example_id, article = data["id"], data["article"]
    questions, options = data["questions"], data["options"]
    # The official test files carry answers too; without them the
    # examples are unlabeled (prediction only).
    answers = data["answers"] if "answers" in data else None
    if not isinstance(example_id, str):
      raise RaceDataError('%s: "id" is %s, expected a string' %
                          (path, _described(example_id)))
    if not isinstance(article, str):
      raise RaceDataError('%s: "article" is %s, expected a string' %
                          (path, _described(article)))
    if not article.strip():
      raise RaceDataError('%s: empty "article"' % path)
    for key in ("questions", "options", "answers"):
      value = data.get(key, [])
      if not isinstance(value, list):
        raise RaceDataError('%s: "%s" is %s, expected a list with one '
                            'entry per question' %
                            (path, key, _described(value)))
    if len(options) != len(questions) or (
        answers is not None and len(answers) != len(questions)):
      raise RaceDataError(
          "%s: %d questions, %d options lists and %s answers; expected one "
          "of each per question" %
          (path, len(questions), len(options),
           "no" if answers is None else len(answers)))

    context = self.process_text(article)
    examples = []
    for i, question in enumerate(questions):
      if not isinstance(question, str):
        raise RaceDataError("%s: questions[%d] is %s, expected a string" %
                            (path, i, _described(question)))
      choices = options[i]
      if (not isinstance(choices, list) or len(choices) != NUM_CHOICES or
          not all(isinstance(choice, str) for choice in choices)):
        raise RaceDataError(
            "%s: options[%d] is not a list of exactly %d strings (one per "
            "answer letter %s)" % (path, i, NUM_CHOICES, ", ".join(LABELS)))
      label = None
      if answers is not None:
        if answers[i] not in LABELS:
          raise RaceDataError("%s: answers[%d] is %r, expected one of %s" %
                              (path, i, answers[i], ", ".join(LABELS)))
        label = ord(answers[i]) - ord("A")
      question = self.process_text(question)
      endings = []
      for choice in choices:
        choice = self.process_text(choice)
        # A cloze question marks its blank(s) with "_": the option fills
        # every blank. Other questions are followed by the option.
        if "_" in question:
          endings.append(question.replace("_", choice))
        else:
          endings.append(question + " " + choice)
      examples.append(RaceExample(
          example_id=example_id, context_sentence=context,
          start_ending=None, endings=endings, label=label,
          question_index=i, level=level,
          guid="%s-%s-%s-%d" % (split, level, example_id, i)))
    return examples


# Features --------------------------------------------------------------------


def check_lengths(max_seq_length, max_qa_length):
  """Checks that a choice always fits: [CLS] >=1 article piece [SEP] qa [SEP].

  The question and option keep up to max_qa_length pieces and the article
  gets the rest, so max_qa_length may be at most max_seq_length - 4: then
  at least one article piece is always left (the release allowed - 3, which
  can leave a choice without its article).

  Args:
    max_seq_length: --max_seq_length, length of one choice's sequence.
    max_qa_length: --max_qa_length, most pieces kept of question + option.

  Raises:
    ValueError: naming both flags, when they do not fit.
  """
  if max_qa_length < 1 or max_seq_length - 3 - max_qa_length < 1:
    raise ValueError(
        "--max_qa_length=%d does not fit --max_seq_length=%d: need "
        "1 <= max_qa_length <= max_seq_length - 4, so [CLS], two [SEP]s and "
        "at least one article piece fit beside the question and option" %
        (max_qa_length, max_seq_length))


def _pieces(tokenizer, text):
  """Tokenizes text into str pieces (never bytes; release issue #67)."""
  return [tokenization.convert_to_unicode(piece)
          for piece in tokenizer.tokenize(text)]


def convert_single_example(ex_index, example, label_list, max_seq_length,
                           tokenizer, max_qa_length):
  """Converts one `RaceExample` into `InputFeatures` with four choices.

  Each choice is "[CLS] article [SEP] question+option [SEP]": the
  question+option keeps its LAST max_qa_length pieces (a long question's
  end, next to the option, matters most), the article is cut at its end
  to fill the rest. Segment ids are 0 for [CLS] article [SEP] and 1 for
  the rest; each choice is zero-padded to max_seq_length and the four are
  concatenated in label order.

  Args:
    ex_index: the example's position (the first five are logged).
    example: `RaceExample` or `classifier_utils.PaddingInputExample`.
    label_list: the answer letters (its length is the number of choices).
    max_seq_length: L, the length of one choice.
    tokenizer: `tokenization.FullTokenizer`.
    max_qa_length: most pieces kept of question + option.

  Returns:
    `classifier_utils.InputFeatures`; input_ids, input_mask and
    segment_ids are lists of len(label_list) * L ints, label_id an int (0
    when the example has no label), is_real_example False only for padding.

  Raises:
    ValueError: the lengths do not fit (see `check_lengths`), or the
      example has the wrong number of endings or a label out of range.
  """
  check_lengths(max_seq_length, max_qa_length)
  num_choices = len(label_list)
  if isinstance(example, classifier_utils.PaddingInputExample):
    zeros = [0] * (num_choices * max_seq_length)
    return classifier_utils.InputFeatures(
        input_ids=list(zeros), input_mask=list(zeros),
        segment_ids=list(zeros), label_id=0, example_id=0,
        is_real_example=False)
  if len(example.endings) != num_choices:
    raise ValueError("example %s has %d endings, expected %d" %
                     (example.guid, len(example.endings), num_choices))
  if example.label is not None and not 0 <= example.label < num_choices:
    raise ValueError("example %s: label %r is not an index into %s" %
                     (example.guid, example.label, list(label_list)))

  # The article is the long part: tokenize it once for all four choices.
  context_tokens = _pieces(tokenizer, example.context_sentence)
  start_tokens = (_pieces(tokenizer, example.start_ending)
                  if example.start_ending is not None else [])
  input_ids, input_mask, segment_ids = [], [], []
  for choice, ending in enumerate(example.endings):
    ending_tokens = (start_tokens + _pieces(tokenizer, ending))[
        -max_qa_length:]
    context = context_tokens[:max_seq_length - 3 - len(ending_tokens)]
    tokens = ["[CLS]"] + context + ["[SEP]"] + ending_tokens + ["[SEP]"]
    choice_segments = ([0] * (len(context) + 2) +
                       [1] * (len(ending_tokens) + 1))
    choice_ids = tokenizer.convert_tokens_to_ids(tokens)
    padding = [0] * (max_seq_length - len(choice_ids))
    input_ids += choice_ids + padding
    input_mask += [1] * len(choice_ids) + padding
    segment_ids += choice_segments + padding
    if ex_index < 5:
      tf.logging.info("*** Example %s, choice %s ***", example.guid,
                      label_list[choice])
      tf.logging.info("tokens: %s", " ".join(tokens))
      tf.logging.info("input_ids: %s", " ".join(str(x) for x in choice_ids))
      tf.logging.info("segment_ids: %s",
                      " ".join(str(x) for x in choice_segments))
  label_id = 0 if example.label is None else int(example.label)
  if ex_index < 5:
    tf.logging.info("label: %s", "unknown" if example.label is None
                    else "%s (id = %d)" % (label_list[label_id], label_id))
  return classifier_utils.InputFeatures(
      input_ids=input_ids,
      input_mask=input_mask,
      segment_ids=segment_ids,
      label_id=label_id,
      guid=example.guid,
      example_id=example.example_id,
      is_real_example=True)


def file_based_convert_examples_to_features(examples, label_list,
                                            max_seq_length, tokenizer,
                                            output_file, max_qa_length,
                                            key=None):
  """Converts examples to a TFRecord file, atomically.

  Records hold int64 `input_ids`, `input_mask`, `segment_ids` (each
  len(label_list) * max_seq_length long), `label_ids` and
  `is_real_example`. An unlabeled example (label None) is written with
  label 0 and is_real_example 1: it is a real question, only its eval
  metrics are meaningless, and prediction ignores labels.

  Args:
    examples: list of `RaceExample` (and `PaddingInputExample`).
    label_list: the answer letters.
    max_seq_length: L, the length of one choice.
    tokenizer: `tokenization.FullTokenizer`.
    output_file: TFRecord path; written under a temporary name first.
    max_qa_length: most pieces kept of question + option.
    key: (optional) cache key, written beside the file (see
      `input_pipeline.write_examples`).

  Returns:
    Number of records written.
  """
  # Fail on the flags before anything is written.
  check_lengths(max_seq_length, max_qa_length)

  def serialized():
    for ex_index, example in enumerate(examples):
      if ex_index % 10000 == 0:
        tf.logging.info("Writing example %d of %d", ex_index, len(examples))
      feature = convert_single_example(ex_index, example, label_list,
                                       max_seq_length, tokenizer,
                                       max_qa_length)
      yield classifier_utils.feature_to_tf_example(feature, "race")

  return input_pipeline.write_examples(output_file, serialized(), key=key)


# Model -----------------------------------------------------------------------


def create_model(albert_config, is_training, input_ids, input_mask,
                 segment_ids, labels, num_labels, use_one_hot_embeddings,
                 max_seq_length, dropout_prob, hub_module=None,
                 use_einsum=True):
  """Creates the multiple-choice model: one score per choice, softmax.

  Every choice runs through the encoder as its own sequence; its pooled
  output is scored with `output_weights` [1, H] and `output_bias` [1],
  top-level variables named as in the GLUE head (with a different shape),
  as in the released RACE checkpoints.

  Args:
    albert_config: `AlbertConfig` (None with a hub module).
    is_training: enables dropout.
    input_ids, input_mask, segment_ids: int32 [B, num_labels * L], the
      choices one after the other.
    labels: int32 [B], the answer's index.
    num_labels: number of choices (4).
    use_one_hot_embeddings: one-hot embedding lookups (TPU).
    max_seq_length: L, the length of one choice.
    dropout_prob: dropout on the pooled output when training (the
      encoder's own dropout comes from the config).
    hub_module: (optional) TF-Hub module handle or path.
    use_einsum: einsum or matmul-only dense layers in the encoder.

  Returns:
    (loss scalar, per_example_loss [B], probabilities [B, num_labels],
     logits [B, num_labels], predictions int32 [B]).
  """
  width = modeling.get_shape_list(input_ids, expected_rank=2)[1]
  if isinstance(width, int) and width != num_labels * max_seq_length:
    raise ValueError("input_ids are %d wide, expected num_labels * "
                     "max_seq_length = %d * %d" %
                     (width, num_labels, max_seq_length))
  # [B, num_labels * L] -> [B * num_labels, L]: choice c of example b is
  # row b * num_labels + c, the layout the features were written in.
  flat_shape = [-1, max_seq_length]
  pooled_output, _ = fine_tuning_utils.create_albert(
      albert_config=albert_config,
      is_training=is_training,
      input_ids=tf.reshape(input_ids, flat_shape),
      input_mask=tf.reshape(input_mask, flat_shape),
      segment_ids=tf.reshape(segment_ids, flat_shape),
      use_one_hot_embeddings=use_one_hot_embeddings,
      use_einsum=use_einsum,
      hub_module=hub_module)
  hidden_size = modeling.get_shape_list(pooled_output, expected_rank=2)[1]

  output_weights = tf.get_variable(
      "output_weights", [1, hidden_size],
      initializer=tf.truncated_normal_initializer(stddev=0.02))
  output_bias = tf.get_variable(
      "output_bias", [1], initializer=tf.zeros_initializer())

  with tf.variable_scope("loss"):
    if is_training and dropout_prob > 0:
      pooled_output = modeling.dropout(pooled_output, dropout_prob)
    logits = tf.matmul(pooled_output, output_weights, transpose_b=True)
    logits = tf.nn.bias_add(logits, output_bias)
    logits = tf.reshape(logits, [-1, num_labels])
    probabilities = tf.nn.softmax(logits, axis=-1)
    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    log_probs = tf.nn.log_softmax(logits, axis=-1)
    one_hot_labels = tf.one_hot(labels, depth=num_labels, dtype=tf.float32)
    per_example_loss = -tf.reduce_sum(one_hot_labels * log_probs, axis=-1)
    loss = tf.reduce_mean(per_example_loss)
    return (loss, per_example_loss, probabilities, logits, predictions)


def model_fn_builder(albert_config, num_labels, init_checkpoint, learning_rate,
                     num_train_steps, num_warmup_steps, use_tpu,
                     use_one_hot_embeddings, max_seq_length, dropout_prob,
                     hub_module=None, use_einsum=True, optimizer="adamw"):
  """The TPUEstimator model_fn of RACE (see `task_model.model_fn_builder`).

  Args:
    albert_config: `AlbertConfig` (None with a hub module).
    num_labels: number of choices (4).
    init_checkpoint: (optional) pretrained checkpoint; output_weights and
      output_bias are new and start random.
    learning_rate: peak learning rate.
    num_train_steps: total steps.
    num_warmup_steps: linear warmup steps.
    use_tpu: running on TPU.
    use_one_hot_embeddings: one-hot embedding lookups (TPU).
    max_seq_length: L, the length of one choice.
    dropout_prob: dropout before the scoring layer, when training.
    hub_module: (optional) TF-Hub module handle or path.
    use_einsum: einsum or matmul-only dense layers.
    optimizer: "adamw" or "lamb".

  Returns:
    model_fn(features, labels, mode, params). EVAL reports eval_accuracy
    and eval_loss over real examples; PREDICT gives "probabilities"
    [B, num_labels] and "predictions" [B].
  """

  def build_head(features, mode, params):  # pylint: disable=unused-argument
    """The RACE head on the features' [B, num_labels * L] inputs."""
    label_ids, is_real_example = task_model.labels_and_weights(features)
    (loss, per_example_loss, probabilities, logits,
     predictions) = create_model(
         albert_config, mode == tf.estimator.ModeKeys.TRAIN,
         features["input_ids"],
         features["input_mask"], features["segment_ids"], label_ids,
         num_labels, use_one_hot_embeddings, max_seq_length, dropout_prob,
         hub_module=hub_module, use_einsum=use_einsum)
    # GLUE's metric_fn: eval_accuracy and eval_loss, weighted so TPU padding
    # examples count in neither.
    eval_metrics = (classifier_utils.metric_fn_for("race"),
                    [per_example_loss, label_ids, logits, is_real_example])
    return task_model.HeadOutputs(
        loss=loss,
        predictions={"probabilities": probabilities,
                     "predictions": predictions},
        eval_metrics=eval_metrics)

  return task_model.model_fn_builder(
      build_head, init_checkpoint, learning_rate, num_train_steps,
      num_warmup_steps, use_tpu, optimizer=optimizer, hub_module=hub_module,
      new_variable_prefixes=("output_weights", "output_bias"))


# Host-side metrics and outputs -----------------------------------------------


def _scored(examples, probabilities):
  """Pairs real examples with their rows of probabilities [N, 4].

  Rows beyond len(examples) (predictions of TPU padding records) are
  ignored; `PaddingInputExample`s are skipped with their rows.
  """
  probabilities = np.asarray(probabilities, np.float64)
  if probabilities.ndim != 2 or len(probabilities) < len(examples):
    raise ValueError("probabilities must be [N, %d] with N >= %d examples, "
                     "got shape %s" % (NUM_CHOICES, len(examples),
                                       probabilities.shape))
  return [(example, probs) for example, probs in zip(examples, probabilities)
          if not isinstance(example, classifier_utils.PaddingInputExample)]


def accuracy_by_level(examples, probabilities):
  """Accuracy and loss over all labeled questions and per level.

  Args:
    examples: list of `RaceExample` (padding examples are skipped).
    probabilities: [N, 4] array, row i for examples[i].

  Returns:
    {} when no example has a label; else a dict with eval_accuracy,
    eval_loss (mean -log p[answer]; p is floored at 1e-12 so a float32
    underflow does not give inf), total, and <level>_accuracy and
    <level>_total for each level present. Unlabeled examples are skipped.
  """
  correct = collections.OrderedDict((level, 0) for level in LEVELS)
  totals = collections.OrderedDict((level, 0) for level in LEVELS)
  losses = []
  for example, probs in _scored(examples, probabilities):
    if example.label is None:
      continue
    totals[example.level] = totals.get(example.level, 0) + 1
    correct[example.level] = correct.get(example.level, 0) + int(
        int(np.argmax(probs)) == example.label)
    losses.append(-np.log(max(probs[example.label], 1e-12)))
  total = sum(totals.values())
  if not total:
    return {}
  results = {"eval_accuracy": float(sum(correct.values())) / total,
             "eval_loss": float(np.mean(losses)),
             "total": total}
  for level, count in totals.items():
    if count:
      results["%s_accuracy" % level] = float(correct[level]) / count
      results["%s_total" % level] = count
  return results


def write_predictions(path, examples, probabilities):
  """Writes one TSV row per question, atomically.

  Columns: id, question_index, level, prediction (the letter of the most
  probable option), prob_A .. prob_D. The file is written under a hidden
  temporary name in the same folder and renamed when complete.

  Args:
    path: the TSV file.
    examples: list of `RaceExample` (padding examples are skipped).
    probabilities: [N, 4] array, row i for examples[i].

  Returns:
    Number of rows written (without the header).
  """
  scored = _scored(examples, probabilities)
  lines = ["\t".join(["id", "question_index", "level", "prediction"] +
                     ["prob_%s" % label for label in LABELS])]
  for example, probs in scored:
    lines.append("\t".join(
        [example.example_id, str(example.question_index), example.level,
         LABELS[int(np.argmax(probs))]] + ["%.6f" % p for p in probs]))
  directory = os.path.dirname(path)
  if directory:
    tf.io.gfile.makedirs(directory)
  file_io.atomic_write_text(path, "\n".join(lines) + "\n")
  return len(scored)
