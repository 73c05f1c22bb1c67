# coding=utf-8
"""Tests for albert.export_tf2 (TF2 SavedModels for hub.KerasLayer).

The exports are loaded and run in a subprocess (this file run as a script,
`probe`): other test modules call tf.disable_v2_behavior() at import, which
turns eager execution off for the whole pytest process, and hub.KerasLayer
fine-tuning needs TF2 behaviour. Exporting itself works either way, so it
runs in-process (in whatever mode the process is in) and through the
command line (which always disables TF2 behaviour).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import hub_fixtures
from albert import export_tf2
from albert import export_to_tfhub
from albert import modeling
from albert import pretraining

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.dirname(os.path.abspath(__file__))

# Two sequences, the second padded; segment ids 0/1 as a sentence pair.
INPUT_IDS = np.array([[2, 10, 11, 12, 3, 20, 21, 3],
                      [2, 30, 31, 3, 0, 0, 0, 0]], np.int32)
INPUT_MASK = np.array([[1] * 8, [1, 1, 1, 1, 0, 0, 0, 0]], np.int32)
TYPE_IDS = np.array([[0, 0, 0, 0, 0, 1, 1, 1],
                     [0, 0, 0, 0, 0, 0, 0, 0]], np.int32)
MLM_POSITIONS = np.array([[1, 6, 0], [2, 1, 0]], np.int32)
INPUTS = dict(input_word_ids=INPUT_IDS, input_mask=INPUT_MASK,
              input_type_ids=TYPE_IDS)
TOLERANCE = dict(rtol=1e-5, atol=1e-5)


def _env():
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join(
      [ROOT, TESTS] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
  return env


def _run(args, timeout=300):
  return subprocess.run([sys.executable] + args, capture_output=True,
                        text=True, cwd=ROOT, env=_env(), timeout=timeout)


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
  return tmp_path_factory.mktemp("export_tf2")


@pytest.fixture(scope="module")
def tiny(work_dir):
  return hub_fixtures.make_tiny_albert_dir(str(work_dir / "albert"),
                                          dropout_prob=0.1)


@pytest.fixture(scope="module")
def finetuned(work_dir):
  """A checkpoint without pretraining heads, as after fine-tuning."""
  return hub_fixtures.make_tiny_albert_dir(
      str(work_dir / "finetuned"), dropout_prob=0.1, with_mlm_head=False,
      with_sop_head=False)


@pytest.fixture(scope="module")
def export(tiny, work_dir):
  """In-process export (eager, or graph mode if another module set it)."""
  path = str(work_dir / "tf2")
  summary = export_tf2.export_tf2_saved_model(
      tiny.config_file, tiny.init_checkpoint, path,
      spm_model_file=tiny.spm_model_file)
  return path, summary


@pytest.fixture(scope="module")
def wordpiece_export(finetuned, work_dir):
  """Encoder only (no MLM head), a WordPiece vocab, do_lower_case=False."""
  vocab = str(work_dir / "vocab.txt")
  with open(vocab, "w") as f:
    f.write("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the",
                       "a", "cat", "dog", "##s"]) + "\n")
  path = str(work_dir / "tf2_wordpiece")
  summary = export_tf2.export_tf2_saved_model(
      finetuned.config, finetuned.init_checkpoint, path, vocab_file=vocab,
      do_lower_case=False, include_mlm=False)
  return path, summary


@pytest.fixture(scope="module")
def cli_export(tiny, work_dir):
  """The command line's export (always with TF2 behaviour disabled)."""
  path = str(work_dir / "tf2_cli")
  proc = _run(["-m", "albert.export_to_tfhub",
               "--albert_directory=" + tiny.directory,
               "--export_path=" + path, "--hub_format=tf2"])
  return path, proc


@pytest.fixture(scope="module")
def probed(export, wordpiece_export, cli_export, work_dir):
  """What the exports do when loaded with TF2 behaviour (one subprocess)."""
  out = str(work_dir / "probe")
  proc = _run([os.path.abspath(__file__), "probe", out, export[0],
               wordpiece_export[0], cli_export[0]])
  assert proc.returncode == 0, proc.stderr[-5000:]
  with open(out + ".json") as f:
    meta = json.load(f)
  arrays = dict(np.load(out + ".npz"))
  return meta, arrays


def reference_outputs(tiny):
  """AlbertModel and the MLM head in a TF1 graph, from the checkpoint."""
  with tf.Graph().as_default():
    model = modeling.AlbertModel(
        tiny.config, is_training=False, input_ids=tf.constant(INPUT_IDS),
        input_mask=tf.constant(INPUT_MASK),
        token_type_ids=tf.constant(TYPE_IDS))
    logits = pretraining.get_masked_lm_logits(
        tiny.config, model.get_sequence_output(),
        model.get_embedding_table(), tf.constant(MLM_POSITIONS))
    fetches = {"pooled_output": model.get_pooled_output(),
               "sequence_output": model.get_sequence_output(),
               "encoder_outputs": model.get_all_encoder_layers(),
               "mlm_logits": logits}
    with tf.Session() as sess:
      tf.train.Saver().restore(sess, tiny.init_checkpoint)
      values = sess.run(fetches)
  batch, predictions = MLM_POSITIONS.shape
  values["mlm_logits"] = values["mlm_logits"].reshape(batch, predictions, -1)
  return values


def encoder_names(tiny):
  return sorted(name for name, _ in tf.train.list_variables(
      tiny.init_checkpoint) if name.startswith("bert/"))


@pytest.mark.slow
def test_outputs_equal_the_tf1_model(tiny, probed):
  meta, got = probed
  want = reference_outputs(tiny)
  num_layers = tiny.config.num_hidden_layers
  assert len(want["encoder_outputs"]) == num_layers
  # hub.KerasLayer(training=False), the loaded object's own call with the
  # default training, and the command line's export all match.
  for prefix in ("eval0", "call_default", "cli"):
    np.testing.assert_allclose(got[prefix + "/pooled_output"],
                               want["pooled_output"], **TOLERANCE)
    np.testing.assert_allclose(got[prefix + "/default"],
                               want["pooled_output"], **TOLERANCE)
    np.testing.assert_allclose(got[prefix + "/sequence_output"],
                               want["sequence_output"], **TOLERANCE)
    assert meta["num_encoder_outputs"][prefix] == num_layers
    for i in range(num_layers):
      np.testing.assert_allclose(got["%s/encoder_outputs/%d" % (prefix, i)],
                                 want["encoder_outputs"][i], **TOLERANCE)
  assert got["eval0/pooled_output"].shape == (2, tiny.config.hidden_size)
  np.testing.assert_allclose(got["mlm/mlm_logits"], want["mlm_logits"],
                             **TOLERANCE)
  assert got["mlm/mlm_logits"].shape == (2, 3, tiny.config.vocab_size)
  np.testing.assert_allclose(got["mlm/pooled_output"],
                             want["pooled_output"], **TOLERANCE)


@pytest.mark.slow
def test_dropout_only_when_training(probed):
  _, got = probed
  for name in ("pooled_output", "sequence_output"):
    np.testing.assert_array_equal(got["eval0/" + name], got["eval1/" + name])
    assert np.abs(got["train0/" + name] - got["train1/" + name]).max() > 1e-3
    assert np.abs(got["train0/" + name] - got["eval0/" + name]).max() > 1e-3
  # A KerasLayer that is not trainable runs in inference mode, as
  # BatchNormalization does, even when the model trains.
  np.testing.assert_array_equal(got["frozen_train/pooled_output"],
                                got["eval0/pooled_output"])
  assert np.abs(got["mlm_train0/mlm_logits"] -
                got["mlm_train1/mlm_logits"]).max() > 1e-3


@pytest.mark.slow
def test_gradients_reach_every_encoder_variable(tiny, probed):
  meta, _ = probed
  names = encoder_names(tiny)
  assert len(names) == 25
  # The layer's trainable weights are exactly the encoder's variables (the
  # MLM head belongs to the mlm function only), under checkpoint names.
  assert sorted(meta["trainable_weights"]) == names
  assert sorted(meta["weights"]) == names
  assert meta["gradients_none"] == []
  # The key bias adds the same q.b to every score of a query, which the
  # softmax ignores: its gradient is zero but for rounding, so it may not
  # move. Every other variable must.
  key_bias = [n for n in names if n.endswith("/self/key/bias")]
  assert len(key_bias) == 1
  assert set(meta["gradients_zero"]) <= set(key_bias)
  # One optimizer step of a Keras model around the layer moves them.
  assert set(names) - set(key_bias) <= set(meta["changed_by_training"])
  mlm_names = names + sorted(
      name for name, _ in tf.train.list_variables(tiny.init_checkpoint)
      if name.startswith("cls/predictions/"))
  assert sorted(meta["mlm_trainable_variables"]) == mlm_names
  assert meta["mlm_gradients_none"] == []


@pytest.mark.slow
def test_tokenizer_attributes(tiny, probed, export, wordpiece_export):
  meta, _ = probed
  main = meta["attributes"][export[0]]
  assert main["sp_model_file"].startswith(os.path.join(export[0], "assets"))
  assert main["sp_model_file_exists"]
  with open(tiny.spm_model_file, "rb") as f:
    assert main["sp_model_file_size"] == len(f.read())
  assert main["do_lower_case"] is True
  assert main["do_lower_case_trainable"] is False
  assert main["has_mlm"] is True
  assert main["vocab_file"] is None

  wordpiece = meta["attributes"][wordpiece_export[0]]
  assert wordpiece["vocab_file"].endswith("vocab.txt")
  assert wordpiece["vocab_file_exists"]
  assert wordpiece["sp_model_file"] is None
  assert wordpiece["do_lower_case"] is False
  assert wordpiece["has_mlm"] is False


def test_summary(export, wordpiece_export):
  path, summary = export
  assert summary.export_path == path
  assert summary.hub_format == "tf2"
  assert summary.num_trainable_variables == 25
  assert summary.num_variables == 30  # + cls/predictions/* (5)
  assert summary.vocab_file == hub_fixtures.SPM_MODEL_NAME
  assert sorted(summary.signatures) == ["__call__", "mlm"]
  assert "cls/seq_relationship/output_bias" in (
      summary.unused_checkpoint_variables)
  assert os.path.exists(os.path.join(path, "saved_model.pb"))
  assert not [n for n in os.listdir(os.path.dirname(path))
              if n.startswith(".")]  # no staging leftovers
  _, summary = wordpiece_export
  assert sorted(summary.signatures) == ["__call__"]
  assert summary.num_variables == 25


@pytest.mark.slow
def test_command_line(cli_export, export):
  path, proc = cli_export
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "Exported TF2 SavedModel (hub.KerasLayer) to " + path in proc.stdout
  assert "callables (training=False|True):" in proc.stdout
  assert "mlm" in proc.stdout
  # The same weights as the in-process export.
  ours = dict(tf.train.list_variables(os.path.join(export[0], "variables",
                                                   "variables")))
  theirs = dict(tf.train.list_variables(os.path.join(path, "variables",
                                                     "variables")))
  assert ours == theirs
  mine = tf.train.load_checkpoint(os.path.join(export[0], "variables",
                                               "variables"))
  cli = tf.train.load_checkpoint(os.path.join(path, "variables",
                                              "variables"))
  for name in ours:
    if name.endswith(".ATTRIBUTES/VARIABLE_VALUE"):
      np.testing.assert_array_equal(mine.get_tensor(name),
                                    cli.get_tensor(name))


def test_missing_mlm_head_is_one_line(finetuned, tmp_path):
  path = str(tmp_path / "tf2")
  with pytest.raises(export_tf2.ExportError) as error:
    export_tf2.export_tf2_saved_model(
        finetuned.config_file, finetuned.init_checkpoint, path,
        spm_model_file=finetuned.spm_model_file)
  message = str(error.value)
  assert "\n" not in message
  assert "no masked-LM head" in message and "--noinclude_mlm" in message
  assert not os.path.exists(path)


def test_missing_encoder_variable_is_one_line(tiny, tmp_path):
  checkpoint = str(tmp_path / "partial" / "model.ckpt")
  reader = tf.train.load_checkpoint(tiny.init_checkpoint)
  with tf.Graph().as_default():
    kept = [tf.Variable(reader.get_tensor(name), name=name)
            for name, _ in tf.train.list_variables(tiny.init_checkpoint)
            if name != "bert/pooler/dense/kernel"]
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      tf.train.Saver(kept).save(sess, checkpoint, write_meta_graph=False)
  path = str(tmp_path / "tf2")
  with pytest.raises(export_tf2.ExportError) as error:
    export_tf2.export_tf2_saved_model(tiny.config, checkpoint, path,
                                      spm_model_file=tiny.spm_model_file)
  message = str(error.value)
  assert "\n" not in message
  assert "bert/pooler/dense/kernel" in message and checkpoint in message
  assert not os.path.exists(path)


def test_export_path_rules(tiny, tmp_path):
  taken = tmp_path / "taken"
  taken.mkdir()
  (taken / "notes.txt").write_text("mine")
  with pytest.raises(export_tf2.ExportError, match="already exists"):
    export_tf2.export_tf2_saved_model(tiny.config, tiny.init_checkpoint,
                                      str(taken),
                                      spm_model_file=tiny.spm_model_file)
  with pytest.raises(export_tf2.ExportError,
                     match="not a previous TF2 SavedModel export"):
    export_tf2.export_tf2_saved_model(tiny.config, tiny.init_checkpoint,
                                      str(taken),
                                      spm_model_file=tiny.spm_model_file,
                                      overwrite=True)
  assert (taken / "notes.txt").read_text() == "mine"
  with pytest.raises(export_tf2.ExportError, match="input of this export"):
    export_tf2.export_tf2_saved_model(tiny.config, tiny.init_checkpoint,
                                      tiny.directory, overwrite=True,
                                      spm_model_file=tiny.spm_model_file)
  with pytest.raises(export_tf2.ExportError, match="no export_path"):
    export_tf2.export_tf2_saved_model(tiny.config, tiny.init_checkpoint, "",
                                      spm_model_file=tiny.spm_model_file)


def test_run_rejects_unknown_hub_format(tiny, tmp_path):
  options = export_to_tfhub.default_options(
      albert_directory=tiny.directory, export_path=str(tmp_path / "x"),
      hub_format="tf3")
  with pytest.raises(export_to_tfhub.ExportError, match="--hub_format=tf3"):
    export_to_tfhub.run(options)


# ---------------------------------------------------------------------------
# The subprocess side: loads the exports with TF2 behaviour and records what
# they do; the tests above compare it with the TF1 model.


def _record(arrays, prefix, outputs):
  for name, value in outputs.items():
    if isinstance(value, (list, tuple)):
      for i, layer in enumerate(value):
        arrays["%s/%s/%d" % (prefix, name, i)] = np.asarray(layer)
    else:
      arrays["%s/%s" % (prefix, name)] = np.asarray(value)


def _attributes(path):
  """The tokenizer attributes of the loaded SavedModel at path."""
  import tensorflow_hub as hub  # pylint: disable=g-import-not-at-top
  obj = hub.load(path)
  described = {"has_mlm": hasattr(obj, "mlm"),
               "do_lower_case": bool(obj.do_lower_case.numpy()),
               "do_lower_case_trainable": bool(obj.do_lower_case.trainable)}
  for name in ("sp_model_file", "vocab_file"):
    asset = getattr(obj, name, None)
    if asset is None:
      described[name] = None
      continue
    asset_path = asset.asset_path.numpy().decode("utf-8")
    described[name] = asset_path
    described[name + "_exists"] = os.path.exists(asset_path)
    described[name + "_size"] = os.path.getsize(asset_path)
  return described


def probe(out, path, wordpiece_path, cli_path):
  """Runs the exports with TF2 behaviour; writes out.npz and out.json."""
  import tensorflow_hub as hub  # pylint: disable=g-import-not-at-top
  assert tf.executing_eagerly()
  tf.set_random_seed(1)
  inputs = {k: tf.constant(v) for k, v in INPUTS.items()}
  mlm_inputs = dict(inputs, masked_lm_positions=tf.constant(MLM_POSITIONS))
  arrays, meta = {}, {"num_encoder_outputs": {}}

  layer = hub.KerasLayer(path, trainable=True)
  for prefix, training in (("eval0", False), ("eval1", False),
                           ("train0", True), ("train1", True)):
    _record(arrays, prefix, layer(inputs, training=training))
  obj = hub.load(path)
  for prefix, outputs in (("call_default", obj(inputs)),
                          ("cli", hub.load(cli_path)(inputs,
                                                     training=False))):
    _record(arrays, prefix, outputs)
    meta["num_encoder_outputs"][prefix] = len(outputs["encoder_outputs"])
  meta["num_encoder_outputs"]["eval0"] = len(
      [k for k in arrays if k.startswith("eval0/encoder_outputs/")])
  frozen = hub.KerasLayer(path, trainable=False)
  _record(arrays, "frozen_train", frozen(inputs, training=True))
  _record(arrays, "mlm", obj.mlm(mlm_inputs))
  _record(arrays, "mlm_train0", obj.mlm(mlm_inputs, training=True))
  _record(arrays, "mlm_train1", obj.mlm(mlm_inputs, training=True))

  name = lambda v: v.name.split(":")[0]
  meta["trainable_weights"] = [name(v) for v in layer.trainable_weights]
  meta["weights"] = [name(v) for v in layer.weights]
  with tf.GradientTape() as tape:
    outputs = layer(inputs, training=True)
    loss = (tf.reduce_sum(tf.square(outputs["pooled_output"])) +
            tf.reduce_sum(tf.square(outputs["sequence_output"])))
  grads = tape.gradient(loss, layer.trainable_weights)
  meta["gradients_none"] = [name(v) for v, g in
                            zip(layer.trainable_weights, grads) if g is None]
  meta["gradients_zero"] = [
      name(v) for v, g in zip(layer.trainable_weights, grads)
      if g is not None and not np.any(tf.convert_to_tensor(g).numpy())]

  mlm_variables = obj.mlm.trainable_variables
  meta["mlm_trainable_variables"] = [name(v) for v in mlm_variables]
  with tf.GradientTape() as tape:
    outputs = obj.mlm(mlm_inputs, training=True)
    loss = (tf.reduce_sum(tf.square(outputs["mlm_logits"])) +
            tf.reduce_sum(tf.square(outputs["pooled_output"])))
  grads = tape.gradient(loss, mlm_variables)
  meta["mlm_gradients_none"] = [name(v) for v, g in
                                zip(mlm_variables, grads) if g is None]

  # Fine-tuning as users do it: a Keras model around the layer, one step.
  keras = tf.keras
  model_inputs = {k: keras.Input(shape=(None,), dtype=tf.int32, name=k)
                  for k in INPUTS}
  pooled = layer(model_inputs)["pooled_output"]
  model = keras.Model(model_inputs, keras.layers.Dense(2)(pooled))
  model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5),
                loss=keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True))
  before = [v.numpy() for v in layer.trainable_weights]
  model.train_on_batch(INPUTS, np.array([0, 1], np.int32))
  meta["changed_by_training"] = [
      name(v) for v, old in zip(layer.trainable_weights, before)
      if np.any(v.numpy() != old)]

  meta["attributes"] = {p: _attributes(p) for p in (path, wordpiece_path)}
  np.savez(out + ".npz", **arrays)
  with open(out + ".json", "w") as f:
    json.dump(meta, f)


if __name__ == "__main__":
  if len(sys.argv) != 6 or sys.argv[1] != "probe":
    sys.exit("usage: export_tf2_test.py probe OUT EXPORT WORDPIECE_EXPORT "
             "CLI_EXPORT")
  probe(*sys.argv[2:])
