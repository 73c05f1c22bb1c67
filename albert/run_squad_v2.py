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
"""Fine-tunes ALBERT on SQuAD v2.0, evaluates it and predicts answers.

python -m albert.run_squad_v2 \
    --albert_config_file=albert_base/albert_config.json \
    --spm_model_file=albert_base/30k-clean.model \
    --init_checkpoint=albert_base/model.ckpt-best \
    --train_file=train-v2.0.json --predict_file=dev-v2.0.json \
    --output_dir=out/squad2 --do_train --do_predict

The head is the release's XLNet-style one: a start/end beam
(start_n_top x end_n_top) and an answerability logit. A question gets no
answer ("") when its null score difference (null_odds.json) is above the
null threshold, which is, in this order:
  --null_score_diff_threshold;
  the one in --null_score_diff_threshold_file (null_threshold.json of a run
    on another file, e.g. the dev set), for an honest test prediction;
  tuned on predict_file itself, as the release did (an oracle: its
    exact/f1 are best_exact/best_f1), when predict_file has answers;
  0.0 (even odds of the answerability logit) otherwise.
A given threshold must be a finite number (NaN would silently predict no
null answer). eval_results.txt states the threshold and where it came from.
A run on a file with answers writes null_threshold.json, the threshold
tuned on it; a run on a file without answers tunes none and removes an
earlier run's null_threshold.json from output_dir, unless that file is its
--null_score_diff_threshold_file.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import json
import math

from absl import app
from absl import flags
import tensorflow.compat.v1 as tf

from albert import command_line
from albert import driver
from albert import file_io
from albert import fine_tuning
from albert import progress
from albert import squad_heads
from albert import squad_metrics
from albert import squad_task
from albert import squad_utils

FLAGS = flags.FLAGS

FLAG_DEFAULTS = command_line.define_flags(squad_task.flag_specs() + [
    ("integer", "start_n_top", 5, "beam size for the start positions"),
    ("integer", "end_n_top", 5, "beam size for the end positions"),
    ("float", "dropout_prob", 0.1, "dropout probability (answer_class)"),
    ("float", "null_score_diff_threshold", None,
     "Predict no answer when a question's null score difference is above "
     "this (default: tuned on predict_file when it has answers, else 0)."),
    ("string", "null_score_diff_threshold_file", None,
     "null_threshold.json written by a run on another file (e.g. the dev "
     "set): use the threshold tuned there."),
])

THRESHOLD_FILE = "null_threshold.json"


default_options = command_line.default_options_of(FLAG_DEFAULTS)


def _is_finite_number(value):
  """True for an int or float that is neither NaN nor infinite."""
  return (isinstance(value, (int, float)) and not isinstance(value, bool) and
          math.isfinite(value))


def check_threshold_flag(value):
  """Fails unless --null_score_diff_threshold is a finite number.

  NaN compares false with every score difference, so it would silently
  predict no null answer at all; +-inf would make every or no answer null.
  """
  if value is not None and not _is_finite_number(value):
    raise ValueError(
        "--null_score_diff_threshold=%s: expected a finite number (a null "
        "score difference, e.g. 0.0 or -1.5; see null_odds.json)" % value)


def read_threshold_file(path):
  """(threshold, description) from a null_threshold.json.

  Raises:
    ValueError: one line naming the file when it cannot be read, is not
      a JSON object or its "null_score_diff_threshold" is not a finite
      number (JSON parsers accept NaN and Infinity).
  """
  flag = "--null_score_diff_threshold_file=%s" % path
  if not tf.io.gfile.exists(path):
    raise ValueError("%s: file not found; expected the %s a run_squad_v2 "
                     "run wrote" % (flag, THRESHOLD_FILE))
  try:
    with tf.gfile.GFile(path) as f:
      data = json.load(f)
  except (tf.errors.OpError, OSError) as e:
    reason = getattr(e, "message", None) or getattr(e, "strerror", None)
    raise ValueError("%s cannot be read: %s" % (flag, reason or e))
  except ValueError as e:
    raise ValueError("%s is not JSON (%s); expected the %s a run_squad_v2 "
                     "run wrote" % (flag, e, THRESHOLD_FILE))
  key = "null_score_diff_threshold"
  value = data.get(key) if isinstance(data, dict) else None
  if not _is_finite_number(value):
    if not isinstance(data, dict):
      found = "a JSON %s" % type(data).__name__
    elif key not in data:
      found = "no such key"
    else:
      found = json.dumps(value)
    raise ValueError(
        "%s: expected a JSON object whose \"%s\" is a finite number (the "
        "%s a run_squad_v2 run wrote), got %s" %
        (flag, key, THRESHOLD_FILE, found))
  return float(value), "tuned on %s" % data.get("tuned_on", "?")


class SquadV2Task(squad_task.SquadTask):
  """SQuAD v2.0: the beam head, answerability and the null threshold."""

  name = "run_squad_v2"
  is_v2 = True

  def __init__(self, context):
    super(SquadV2Task, self).__init__(context)
    options = context.options
    self.threshold, self.threshold_source = None, None
    if options.null_score_diff_threshold is not None:
      self.threshold = options.null_score_diff_threshold
      self.threshold_source = "--null_score_diff_threshold"
    elif options.null_score_diff_threshold_file:
      self.threshold, self.threshold_source = read_threshold_file(
          options.null_score_diff_threshold_file)

  @classmethod
  def check_options(cls, options):
    super(SquadV2Task, cls).check_options(options)
    if (options.null_score_diff_threshold is not None and
        options.null_score_diff_threshold_file):
      raise ValueError("Give either --null_score_diff_threshold or "
                       "--null_score_diff_threshold_file, not both")
    check_threshold_flag(options.null_score_diff_threshold)

  def read_data(self):
    super(SquadV2Task, self).read_data()
    if (self.options.do_predict and self.dataset is None and
        self.threshold is None):
      tf.logging.warning(
          "predict_file %s has no answers to tune the null threshold on and "
          "no --null_score_diff_threshold(_file) was given: using 0.0. Tune "
          "one on a dev set and pass its %s with "
          "--null_score_diff_threshold_file.", self.options.predict_file,
          THRESHOLD_FILE)

  def remove_stale_threshold_file(self):
    """Removes output_dir's null_threshold.json left by an earlier run.

    A run on a file without answers tunes no threshold, so that file would
    describe another file's predictions than the ones beside it. Kept when
    it is this run's --null_score_diff_threshold_file: it then says which
    threshold these predictions used ("tuned_on" names its data).
    """
    path = self.output_path(THRESHOLD_FILE)
    given = self.options.null_score_diff_threshold_file
    if given and fine_tuning.same_path(given, path):
      return
    if tf.io.gfile.exists(path):
      tf.io.gfile.remove(path)
      progress.log_progress(
          "removed %s of an earlier run: %s has no answers to tune a "
          "threshold on", path, self.options.predict_file)

  def model_fn(self, init_checkpoint, num_train_steps, num_warmup_steps):
    o = self.options
    return squad_heads.v2_model_fn_builder(
        albert_config=self.albert_config,
        init_checkpoint=init_checkpoint,
        learning_rate=o.learning_rate,
        num_train_steps=num_train_steps,
        num_warmup_steps=num_warmup_steps,
        use_tpu=o.use_tpu,
        use_one_hot_embeddings=o.use_tpu,
        max_seq_length=o.max_seq_length,
        start_n_top=o.start_n_top,
        end_n_top=o.end_n_top,
        dropout_prob=o.dropout_prob,
        hub_module=o.albert_hub_module_handle,
        use_einsum=o.use_einsum,
        optimizer=o.optimizer)

  def scoring_key(self):
    o = self.options
    return dict(super(SquadV2Task, self).scoring_key(),
                start_n_top=o.start_n_top, end_n_top=o.end_n_top,
                threshold=self.threshold)

  def score(self, estimator, checkpoint, output_files):
    o = self.options
    _, features = self.eval_features()
    results = [
        squad_utils.RawResultV2(
            unique_id=int(r["unique_ids"]),
            start_top_log_probs=[float(x) for x in
                                 r["start_top_log_probs"].flat],
            start_top_index=[int(x) for x in r["start_top_index"].flat],
            end_top_log_probs=[float(x) for x in r["end_top_log_probs"].flat],
            end_top_index=[int(x) for x in r["end_top_index"].flat],
            cls_logits=float(r["cls_logits"]))
        for r in self.raw_results(estimator, checkpoint)]
    result_dict, cls_dict = {}, {}
    squad_utils.accumulate_predictions_v2(
        result_dict, cls_dict, self.eval_examples, features, results,
        o.n_best_size, o.max_answer_length, o.start_n_top, o.end_n_top)

    def predictions_at(threshold, write):
      return squad_utils.write_predictions_v2(
          result_dict, cls_dict, self.eval_examples, features, results,
          o.n_best_size, o.max_answer_length,
          self.output_path("predictions.json") if write else None,
          self.output_path("nbest_predictions.json") if write else None,
          self.output_path("null_odds.json") if write else None,
          threshold)

    # Every question's best non-null answer and its null score difference;
    # the threshold then decides which become "".
    answers, _, null_odds = predictions_at(None, False)
    threshold, source = self.threshold, self.threshold_source
    metrics = {}
    if self.dataset is not None:
      tuned = squad_metrics.evaluate_v2(self.dataset, answers,
                                        na_probs=null_odds)
      if threshold is None:
        threshold = tuned["best_f1_thresh"]
        source = "tuned on predict_file (oracle: the dev set it scores)"
      metrics = dict(squad_metrics.evaluate_v2(
          self.dataset, answers, na_probs=null_odds,
          na_prob_thresh=threshold))
      if output_files:
        file_io.atomic_write_text(self.output_path(THRESHOLD_FILE),
                                  json.dumps({
                                      "null_score_diff_threshold":
                                          tuned["best_f1_thresh"],
                                      "best_f1": tuned["best_f1"],
                                      "tuned_on": o.predict_file,
                                      "checkpoint": checkpoint,
                                  }, indent=2) + "\n")
    else:
      if output_files:
        self.remove_stale_threshold_file()
      if threshold is None:
        threshold, source = 0.0, "default (no answers to tune on)"
    metrics["null_score_diff_threshold"] = threshold
    metrics["null_score_diff_threshold_source"] = source
    if output_files:
      predictions, _, _ = predictions_at(threshold, True)
      progress.log_progress(
          "wrote %d answers (%d null at threshold %.4f, %s) to %s",
          len(predictions), sum(1 for a in predictions.values() if not a),
          threshold, source, self.output_path("predictions.json"))
    return metrics if self.dataset is not None else {}


run, main = driver.command(SquadV2Task)


if __name__ == "__main__":
  flags.mark_flag_as_required("output_dir")
  app.run(main)
