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
"""Fine-tunes ALBERT on SQuAD v1.1, evaluates it and predicts answers.

python -m albert.run_squad_v1 \
    --albert_config_file=albert_base/albert_config.json \
    --spm_model_file=albert_base/30k-clean.model \
    --init_checkpoint=albert_base/model.ckpt-best \
    --train_file=train-v1.1.json --predict_file=dev-v1.1.json \
    --output_dir=out/squad1 --do_train --do_predict

Writes predictions.json {id: answer} and nbest_predictions.json to
output_dir and, for a predict_file with answers, `exact_match` and `f1`
(the official SQuAD v1.1 definitions) per checkpoint to eval_results.txt.
--export_dir writes a SavedModel returning start and end logits and,
beside it, albert_model.tflite for the TFLite Task Library's
BertQuestionAnswerer (builtin ops, inputs ids/mask/segment_ids, outputs
end_logits/start_logits, metadata naming the tokenizer) with the
SentencePiece model; --quantize=dynamic adds albert_model.int8.tflite once
its answers on predict_file agree (albert/tflite_export.py).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

from absl import app
from absl import flags

from albert import command_line
from albert import driver
from albert import progress
from albert import squad_heads
from albert import squad_metrics
from albert import squad_task
from albert import squad_utils
from albert import tflite_export

FLAGS = flags.FLAGS

FLAG_DEFAULTS = command_line.define_flags(
    squad_task.flag_specs() + [tflite_export.quantize_flag_spec()])

TFLITE_NAME = "albert_model.tflite"


default_options = command_line.default_options_of(FLAG_DEFAULTS)


class SquadV1Task(squad_task.SquadTask):
  """SQuAD v1.1: start/end logits, never a null answer."""

  name = "run_squad_v1"

  @classmethod
  def check_options(cls, options):
    super(SquadV1Task, cls).check_options(options)
    tflite_export.check_quantize_flag(
        options, bool(options.do_predict and options.predict_file),
        "--do_predict with --predict_file")

  def model_fn(self, init_checkpoint, num_train_steps, num_warmup_steps):
    o = self.options
    return squad_heads.v1_model_fn_builder(
        albert_config=self.albert_config,
        init_checkpoint=init_checkpoint,
        learning_rate=o.learning_rate,
        num_train_steps=num_train_steps,
        num_warmup_steps=num_warmup_steps,
        use_tpu=o.use_tpu,
        use_one_hot_embeddings=o.use_tpu,
        use_einsum=o.use_einsum,
        hub_module=o.albert_hub_module_handle,
        optimizer=o.optimizer)

  def score(self, estimator, checkpoint, output_files):
    o = self.options
    _, features = self.eval_features()
    results = [
        squad_utils.RawResult(
            unique_id=int(r["unique_ids"]),
            start_log_prob=[float(x) for x in r["start_log_prob"].flat],
            end_log_prob=[float(x) for x in r["end_log_prob"].flat])
        for r in self.raw_results(estimator, checkpoint)]
    result_dict = {}
    squad_utils.accumulate_predictions_v1(
        result_dict, self.eval_examples, features, results, o.n_best_size,
        o.max_answer_length)
    predictions, _ = squad_utils.write_predictions_v1(
        result_dict, self.eval_examples, features, results, o.n_best_size,
        o.max_answer_length,
        self.output_path("predictions.json") if output_files else None,
        self.output_path("nbest_predictions.json") if output_files else None)
    if output_files:
      progress.log_progress("wrote %d answers to %s", len(predictions),
                            self.output_path("predictions.json"))
    if self.dataset is None:
      return {}
    return dict(squad_metrics.evaluate_v1(self.dataset, predictions))

  def export(self, estimator, checkpoint):
    path = super(SquadV1Task, self).export(estimator, checkpoint)
    tflite_export.export_squad(path, self.options, self.tokenizer,
                               TFLITE_NAME, self._tflite_check_data)
    return path

  def _tflite_check_data(self):
    record_path, features = self.eval_features()
    return record_path, features, self.eval_examples, self.dataset


run, main = driver.command(SquadV1Task)


if __name__ == "__main__":
  flags.mark_flag_as_required("output_dir")
  app.run(main)
