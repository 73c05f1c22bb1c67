# coding=utf-8
"""Tests of albert.tflite_export on small hand-made SavedModels.

The fine-tuned models' exports (run_squad_v1, run_classifier, float and
int8, with the commands' agreement checks) are tested beside the commands'
fixtures in run_squad_test and run_classifier_test; here the conversion,
renaming, operator check, metadata and the int8 bookkeeping are tested on
graphs that take a second to build.
"""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import tflite_checks
import tflite_metadata_test
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from albert import file_io
from albert import tflite_export

tf.disable_v2_behavior()

SEQ = 8
VOCAB = 20


def save_model(directory, outputs_fn):
  """A SavedModel over the three serving placeholders (int32 [None, SEQ]).

  outputs_fn(embedded [B, SEQ, 4]) -> {signature key: float tensor}.
  """
  with tf.Graph().as_default():
    inputs = {name: tf.placeholder(tf.int32, [None, SEQ], name=name)
              for name in ("input_ids", "input_mask", "segment_ids")}
    table = tf.get_variable(
        "table", [VOCAB, 4], initializer=tf.random_normal_initializer(seed=1))
    embedded = (tf.gather(table, inputs["input_ids"]) *
                tf.cast(inputs["input_mask"], tf.float32)[:, :, None] +
                tf.cast(inputs["segment_ids"], tf.float32)[:, :, None])
    outputs = outputs_fn(embedded)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      builder = tf.saved_model.builder.SavedModelBuilder(directory)
      builder.add_meta_graph_and_variables(
          sess, ["serve"], signature_def_map={
              "serving_default":
                  tf.saved_model.signature_def_utils.predict_signature_def(
                      inputs, outputs)})
      builder.save()
  return directory


def squad_like(embedded):
  kernel = tf.constant(np.linspace(-1, 1, 8).reshape(4, 2), tf.float32)
  logits = tf.reshape(tf.matmul(tf.reshape(embedded, [-1, 4]), kernel),
                      [-1, SEQ, 2])
  start, end = tf.unstack(logits, axis=-1)
  return {"start_log_prob": tf.identity(start, name="start_logits"),
          "end_log_prob": tf.identity(end, name="end_logits")}


def classifier_like(embedded):
  kernel = tf.constant(np.linspace(-1, 1, 12).reshape(4, 3), tf.float32)
  pooled = tf.reduce_mean(embedded, axis=1)
  return {"probabilities": tf.nn.softmax(tf.matmul(pooled, kernel)),
          "predictions": tf.cast(tf.reduce_sum(pooled, -1), tf.float32)}


@pytest.fixture(scope="module")
def squad_saved_model(tmp_path_factory):
  return save_model(str(tmp_path_factory.mktemp("squad") / "1"), squad_like)


@pytest.fixture(scope="module")
def classifier_saved_model(tmp_path_factory):
  return save_model(str(tmp_path_factory.mktemp("cls") / "1"),
                    classifier_like)


def random_inputs(count, seed=0):
  rng = np.random.RandomState(seed)
  mask = (np.arange(SEQ)[None, :] < rng.randint(2, SEQ + 1, [count, 1]))
  return {"input_ids": rng.randint(0, VOCAB, [count, SEQ]) * mask,
          "input_mask": mask.astype(np.int32),
          "segment_ids": (np.arange(SEQ)[None, :] >= 3) * mask}


def saved_model_outputs(path, arrays):
  with tf.Graph().as_default(), tf.Session() as sess:
    meta = tf.saved_model.loader.load(sess, ["serve"], path)
    signature = meta.signature_def["serving_default"]
    return sess.run({k: v.name for k, v in signature.outputs.items()},
                    {signature.inputs[k].name: v for k, v in arrays.items()})


def as_tflite_inputs(arrays):
  return {"ids": arrays["input_ids"], "mask": arrays["input_mask"],
          "segment_ids": arrays["segment_ids"]}


def test_squad_conversion_has_the_task_librarys_names_and_outputs(
    squad_saved_model, tmp_path):
  model = tflite_export.convert(squad_saved_model, SEQ, tflite_export.SQUAD)
  path = str(tmp_path / "m.tflite")
  with open(path, "wb") as f:
    f.write(model)
  interpreter = tf.lite.Interpreter(model_path=path)
  assert [d["name"] for d in interpreter.get_input_details()] == [
      "ids", "mask", "segment_ids"]
  # End first: without metadata the Task Library reads output 0 as the end.
  assert [(d["name"], list(d["shape"])) for d in
          interpreter.get_output_details()] == [
              ("end_logits", [1, SEQ]), ("start_logits", [1, SEQ])]
  assert tflite_export.non_builtin_ops(model) == []
  arrays = random_inputs(5)
  expected = saved_model_outputs(squad_saved_model, arrays)
  got = tflite_export.run_model(model, as_tflite_inputs(arrays))
  np.testing.assert_allclose(got["start_logits"], expected["start_log_prob"],
                             atol=1e-5)
  np.testing.assert_allclose(got["end_logits"], expected["end_log_prob"],
                             atol=1e-5)


def test_classifier_export_writes_model_tokenizer_and_metadata(
    classifier_saved_model, tmp_path):
  spm = tflite_metadata_test.sentencepiece_file()
  export_dir = str(tmp_path / "export")
  os.makedirs(export_dir)
  exported = tflite_export.export(
      classifier_saved_model, export_dir, "c.tflite",
      tflite_export.CLASSIFIER, SEQ, spm, quantize="dynamic",
      labels=["a", "b", "c"])
  # The int8 model waits for its check; nothing else is written.
  assert sorted(os.listdir(export_dir)) == sorted(["c.tflite", spm.name])
  model = tflite_checks.check_contract(
      exported.path, SEQ, [("probability", [1, 3])],
      [spm.name, "labels.txt"])
  assert tflite_checks.packed_file(model, "labels.txt") == b"a\nb\nc\n"
  assert tflite_checks.packed_file(model, spm.name) == spm.data
  with open(os.path.join(export_dir, spm.name), "rb") as f:
    assert f.read() == spm.data
  arrays = random_inputs(6)
  expected = saved_model_outputs(classifier_saved_model,
                                 arrays)["probabilities"]
  for candidate in (exported.model, exported.int8_model):
    got = tflite_export.run_model(candidate, as_tflite_inputs(arrays))
    np.testing.assert_allclose(got["probability"], expected, atol=2e-2)
  assert tflite_export.non_builtin_ops(exported.int8_model) == []


def test_ops_that_need_the_flex_delegate_fail_at_export(tmp_path):
  def needs_flex(embedded):
    strings = tf.strings.as_string(tf.reduce_sum(embedded, axis=[1, 2]))
    return {"probabilities": tf.strings.to_number(strings)[:, None]}

  path = save_model(str(tmp_path / "1"), needs_flex)
  with pytest.raises(ValueError) as raised:
    tflite_export.convert(path, SEQ, tflite_export.CLASSIFIER)
  message = str(raised.value)
  assert "\n" not in message
  assert message.startswith("TFLite conversion of %s with builtin ops only "
                            "failed" % path), message


def test_custom_and_flex_ops_are_found(squad_saved_model):
  """The operator check itself: a Flex op in the operator codes is named."""
  model = tflite_export.convert(squad_saved_model, SEQ, tflite_export.SQUAD)
  model_object = flatbuffer_utils.convert_bytearray_to_object(model)
  code = model_object.operatorCodes[0]
  code.builtinCode = code.deprecatedBuiltinCode = (
      schema.BuiltinOperator.CUSTOM)
  code.customCode = "FlexStringToNumber"
  edited = flatbuffer_utils.convert_object_to_bytearray(model_object)
  assert tflite_export.non_builtin_ops(edited) == ["FlexStringToNumber"]


def test_renaming_names_what_is_missing(squad_saved_model):
  model = tflite_export.convert(squad_saved_model, SEQ, tflite_export.SQUAD)
  with pytest.raises(ValueError, match=r"TFLite outputs are \['end_logits', "
                                       r"'start_logits'\]; expected "
                                       r"\['logits'\]"):
    tflite_export.rename_tensors(
        model, [("ids", "a"), ("mask", "b"), ("segment_ids", "c")],
        [("logits", "x")])


@pytest.mark.parametrize("overrides, message", [
    (dict(quantize="int4"), r"--quantize=int4: expected one of none, "
                            r"dynamic"),
    (dict(export_dir=None), r"--quantize=dynamic quantizes the TFLite "
                            r"export: pass --export_dir"),
    (dict(has=False), r"--quantize=dynamic checks the int8 model on the "
                      r"run's own features: pass --do_eval"),
])
def test_quantize_flag_needs_an_export_and_features(overrides, message):
  values = dict(quantize="dynamic", export_dir="out", has=True)
  values.update(overrides)
  has = values.pop("has")
  options = type("Options", (), values)
  with pytest.raises(ValueError, match=message):
    tflite_export.check_quantize_flag(options, has, "--do_eval")
  tflite_export.check_quantize_flag(type("Options", (), dict(
      quantize="none", export_dir=None)), False, "--do_eval")


def test_whole_questions_are_checked():
  features = [type("F", (), {"example_index": i})
              for i in (0, 0, 1, 1, 1, 2)]
  whole = tflite_export._whole_examples  # pylint: disable=protected-access
  # Never half a question's windows; a first question longer than the
  # limit is checked whole.
  assert [whole(features, limit) for limit in (10, 6, 5, 4, 3, 2, 1)] == [
      6, 6, 5, 2, 2, 2, 2]


def test_a_disagreeing_int8_model_is_not_written(tmp_path):
  path = str(tmp_path / "m.tflite")
  int8_path = str(tmp_path / "m.int8.tflite")
  file_io.atomic_write_bytes(int8_path, b"an earlier run's")
  exported = tflite_export.Exported(path, b"float", int8_path, b"int8", 0)
  with pytest.raises(tflite_export.AgreementError) as raised:
    tflite_export.finish_int8(exported, False, "agreement 10%")
  assert str(raised.value) == (
      "agreement 10%: the int8 TFLite model disagrees with the float32 one; "
      "m.int8.tflite not written (m.tflite is)")
  assert not os.path.exists(int8_path)
  tflite_export.finish_int8(exported, True, "agreement 100%")
  with open(int8_path, "rb") as f:
    assert f.read() == b"int8"
  assert [n for n in os.listdir(str(tmp_path))] == ["m.int8.tflite"]
