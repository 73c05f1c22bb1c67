# coding=utf-8
"""The checks of the release's own test files, restated against our package.

google-research/albert ships modeling_test.py, tokenization_test.py,
optimization_test.py and run_pretraining_test.py. Each test below makes the
same check as one of theirs (same inputs, same expected values), written
for pytest and in graph mode. The section comments name the released test
each group mirrors.
"""

import collections
import json
import os
import random
import re

from absl import flags
from absl.testing import flagsaver
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from albert import modeling
from albert import optimization
from albert import run_pretraining
from albert import tokenization

tf.disable_v2_behavior()


# ---------------------------------------------------------------------------
# modeling_test.py
# ---------------------------------------------------------------------------

# The released model tester's sizes.
BATCH = 13
SEQ = 7
VOCAB = 99
EMBED = 32
HIDDEN = 32
LAYERS = 5
HEADS = 4
INTERMEDIATE = 37
TYPES = 16

# Ops the released reachability check does not count: shape helpers and
# asserts that are built but never feed an output.
UNREACHABLE_OK = [re.compile(p) for p in (
    r"^.*/assert_less_equal/.*$",
    r"^.*/dilation_rate$",
    r"^.*/Tensordot/concat$",
    r"^.*/Tensordot/concat/axis$",
    r"^testing/.*$",
    # tf.custom_gradient's own spare identity of its result
    # (layer_ops.gelu_for_training, the training graph's GELU).
    r"^.*/ffn_1/intermediate/dense/Gelu/Identity$",
)]


def random_ids(rng, shape, upper):
  """An int32 constant of `shape` with values drawn from [0, upper)."""
  count = int(np.prod(shape))
  values = [rng.randint(0, upper - 1) for _ in range(count)]
  return tf.constant(values, dtype=tf.int32, shape=shape)


def flatten(item):
  """The leaves of nested lists, tuples and dicts, in a flat list."""
  if isinstance(item, dict):
    children = list(item.values())
  elif isinstance(item, (list, tuple)):
    children = list(item)
  else:
    return [item]
  leaves = []
  for child in children:
    leaves.extend(flatten(child))
  return leaves


def ops_not_reached(graph, fetches):
  """Ops with a tensor that a walk back from `fetches` never touches.

  The walk goes from a tensor to the op that produced it and from there to
  every input and output of that op. A ref-variable `Assign` also links its
  inputs (the variable and its initial value) with its output, so the
  initializer subgraph of every reached variable counts as reached.
  """
  producers = collections.defaultdict(list)   # tensor -> ops making it
  op_tensors = collections.defaultdict(list)  # op -> its inputs + outputs
  assign_links = collections.defaultdict(set)  # tensor -> linked tensors
  for op in graph.get_operations():
    inputs = [t.name for t in op.inputs]
    outputs = [t.name for t in op.outputs]
    op_tensors[op.name] = inputs + outputs
    for name in outputs:
      producers[name].append(op.name)
    if op.type == "Assign":
      for source in inputs:
        assign_links[source].update(outputs)
        assign_links[source].update(n for n in inputs if n != source)

  reached = set()
  pending = [x.name for x in flatten(fetches)]
  while pending:
    name = pending.pop()
    if name in reached:
      continue
    reached.add(name)
    for op_name in producers.get(name, ()):
      pending.extend(op_tensors[op_name])
    pending.extend(assign_links.get(name, ()))

  missing = []
  for op in graph.get_operations():
    names = [t.name for t in op.inputs] + [t.name for t in op.outputs]
    if any(n not in reached for n in names):
      missing.append(op)
  return missing


def test_model_output_shapes_and_every_op_reachable():
  # Released test_default: a 5-layer model with input mask and token types,
  # in training mode; the three outputs have the expected shapes, and no op
  # of the graph hangs loose (unreachable from the outputs and initializer).
  rng = random.Random(12345)
  with tf.Graph().as_default() as graph:
    input_ids = random_ids(rng, [BATCH, SEQ], VOCAB)
    input_mask = random_ids(rng, [BATCH, SEQ], 2)
    token_type_ids = random_ids(rng, [BATCH, SEQ], TYPES)
    config = modeling.AlbertConfig(
        vocab_size=VOCAB, embedding_size=EMBED, hidden_size=HIDDEN,
        num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        intermediate_size=INTERMEDIATE, hidden_act="gelu",
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        max_position_embeddings=512, type_vocab_size=TYPES,
        initializer_range=0.02)
    model = modeling.AlbertModel(
        config=config, is_training=True, input_ids=input_ids,
        input_mask=input_mask, token_type_ids=token_type_ids, scope=None)
    fetches = {
        "embedding_output": model.get_embedding_output(),
        "sequence_output": model.get_sequence_output(),
        "pooled_output": model.get_pooled_output(),
        "all_encoder_layers": model.get_all_encoder_layers(),
    }
    init_op = tf.group(tf.global_variables_initializer(),
                       tf.local_variables_initializer())
    with tf.Session(graph=graph) as sess:
      sess.run(init_op)
      values = sess.run(fetches)

    assert list(values["embedding_output"].shape) == [BATCH, SEQ, EMBED]
    assert list(values["sequence_output"].shape) == [BATCH, SEQ, HIDDEN]
    assert list(values["pooled_output"].shape) == [BATCH, HIDDEN]

    loose = [op.name for op in ops_not_reached(graph, [init_op, fetches])
             if not any(p.match(op.name) for p in UNREACHABLE_OK)]
    assert loose == [], "unreachable ops: %s" % " ".join(loose)


def test_config_json_string_keeps_given_values():
  # Released test_config_to_json_string.
  config = modeling.AlbertConfig(vocab_size=99, hidden_size=37)
  parsed = json.loads(config.to_json_string())
  assert parsed["vocab_size"] == 99
  assert parsed["hidden_size"] == 37


@pytest.mark.parametrize("equation, input_shape, w_shape, inner", [
    # [batch, seq, hidden] x [hidden, heads, head_size]
    ("BFH,HND->BFND", [8, 12, 10], [10, 3, 6], 1),
    # [batch, seq, heads, head_size] x [heads, head_size, hidden]
    ("BFND,NDH->BFH", [8, 12, 3, 6], [3, 6, 10], 2),
])
def test_einsum_via_matmul_matches_einsum(equation, input_shape, w_shape,
                                          inner):
  # Released test_einsum_via_matmul: both projections it replaces.
  rng = np.random.RandomState(7)
  with tf.Graph().as_default():
    x = tf.constant(rng.uniform(0, 1, input_shape), dtype=tf.float32)
    w = tf.constant(rng.uniform(0, 1, w_shape), dtype=tf.float32)
    reference = tf.einsum(equation, x, w)
    ours = modeling.einsum_via_matmul(x, w, inner)
    with tf.Session() as sess:
      want, got = sess.run([reference, ours])
  assert got.shape == want.shape
  np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------
# tokenization_test.py
# ---------------------------------------------------------------------------

WORDPIECE_VOCAB = ["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa",
                   "un", "runn", "##ing"]


def test_full_tokenizer_tokens_and_ids(tmp_path):
  # Released test_full_tokenizer: a WordPiece vocab file (with ","), lower
  # casing and accent stripping, then ids in file order.
  vocab_file = tmp_path / "vocab.txt"
  vocab_file.write_bytes(
      "".join(t + "\n" for t in WORDPIECE_VOCAB + [","]).encode("utf-8"))
  tokenizer = tokenization.FullTokenizer(str(vocab_file))

  tokens = tokenizer.tokenize(u"UNwant\u00E9d,running")
  assert tokens == ["un", "##want", "##ed", ",", "runn", "##ing"]
  assert tokenizer.convert_tokens_to_ids(tokens) == [7, 4, 5, 10, 8, 9]


def test_basic_tokenizer_splits_chinese_characters():
  # Released test_chinese.
  tokenizer = tokenization.BasicTokenizer()
  assert tokenizer.tokenize(u"ah\u535A\u63A8zz") == [
      u"ah", u"\u535A", u"\u63A8", u"zz"]


def test_basic_tokenizer_lower_case():
  # Released test_basic_tokenizer_lower.
  tokenizer = tokenization.BasicTokenizer(do_lower_case=True)
  assert tokenizer.tokenize(u" \tHeLLo!how  \n Are yoU?  ") == [
      "hello", "!", "how", "are", "you", "?"]
  assert tokenizer.tokenize(u"H\u00E9llo") == ["hello"]


def test_basic_tokenizer_keeps_case():
  # Released test_basic_tokenizer_no_lower.
  tokenizer = tokenization.BasicTokenizer(do_lower_case=False)
  assert tokenizer.tokenize(u" \tHeLLo!how  \n Are yoU?  ") == [
      "HeLLo", "!", "how", "Are", "yoU", "?"]


@pytest.mark.parametrize("text, expected", [
    ("", []),
    ("unwanted running", ["un", "##want", "##ed", "runn", "##ing"]),
    # One piece of the word has no match: the whole word is [UNK].
    ("unwantedX running", ["[UNK]", "runn", "##ing"]),
])
def test_wordpiece_tokenizer(text, expected):
  # Released test_wordpiece_tokenizer.
  vocab = {token: index for index, token in enumerate(WORDPIECE_VOCAB)}
  tokenizer = tokenization.WordpieceTokenizer(vocab=vocab)
  assert tokenizer.tokenize(text) == expected


def test_convert_tokens_to_ids():
  # Released test_convert_tokens_to_ids (the module-level function).
  vocab = {token: index for index, token in enumerate(WORDPIECE_VOCAB)}
  ids = tokenization.convert_tokens_to_ids(
      vocab, ["un", "##want", "##ed", "runn", "##ing"])
  assert list(ids) == [7, 4, 5, 8, 9]


@pytest.mark.parametrize("char, expected", [
    (u" ", True), (u"\t", True), (u"\r", True), (u"\n", True),
    (u"\u00A0", True),  # no-break space (Zs)
    (u"A", False), (u"-", False),
])
def test_is_whitespace(char, expected):
  # Released test_is_whitespace.
  assert tokenization._is_whitespace(char) is expected


@pytest.mark.parametrize("char, expected", [
    (u"\u0005", True),  # ENQ, a Cc control character
    (u"A", False), (u" ", False), (u"\t", False), (u"\r", False),
    (u"\U0001F4A9", False),  # an emoji (So) outside the BMP
])
def test_is_control(char, expected):
  # Released test_is_control.
  assert tokenization._is_control(char) is expected


@pytest.mark.parametrize("char, expected", [
    (u"-", True), (u"$", True), (u"`", True), (u".", True),
    (u"A", False), (u" ", False),
])
def test_is_punctuation(char, expected):
  # Released test_is_punctuation.
  assert tokenization._is_punctuation(char) is expected


# ---------------------------------------------------------------------------
# optimization_test.py
# ---------------------------------------------------------------------------


def test_adam_weight_decay_reaches_quadratic_minimum():
  # Released test_adam: 100 steps at learning rate 0.2 on the mean squared
  # distance to a fixed point bring the weights within 1e-2 of it.
  target = [0.4, 0.2, -0.5]
  with tf.Graph().as_default():
    w = tf.get_variable(
        "w", shape=[3], initializer=tf.constant_initializer([0.1, -0.2, -0.1]))
    loss = tf.reduce_mean(tf.square(tf.constant(target) - w))
    tvars = tf.trainable_variables()
    grads = tf.gradients(loss, tvars)
    global_step = tf.train.get_or_create_global_step()
    optimizer = optimization.AdamWeightDecayOptimizer(learning_rate=0.2)
    train_op = optimizer.apply_gradients(list(zip(grads, tvars)), global_step)
    init_op = tf.group(tf.global_variables_initializer(),
                       tf.local_variables_initializer())
    with tf.Session() as sess:
      sess.run(init_op)
      for _ in range(100):
        sess.run(train_op)
      final = sess.run(w)
  np.testing.assert_allclose(final.flat, target, rtol=1e-2, atol=1e-2)


# ---------------------------------------------------------------------------
# run_pretraining_test.py
# ---------------------------------------------------------------------------

PRETRAIN_VOCAB = 97
PRETRAIN_SEQ = 13
PRETRAIN_PREDICTIONS = 7
PRETRAIN_RECORDS = 1000


def write_release_style_config(path, max_seq_length, vocab_size):
  """The released test's config, built positionally and saved as JSON."""
  config = modeling.AlbertConfig(
      vocab_size, embedding_size=5, hidden_size=14, num_hidden_layers=3,
      num_hidden_groups=1, num_attention_heads=2, intermediate_size=19,
      inner_group_num=1, down_scale_factor=1, hidden_act="gelu",
      hidden_dropout_prob=0, attention_probs_dropout_prob=0,
      max_position_embeddings=max_seq_length, type_vocab_size=2,
      initializer_range=0.02)
  with tf.gfile.Open(path, "w") as f:
    f.write(config.to_json_string())


def random_pretraining_example(rng, max_predictions, max_seq_length,
                               vocab_size):
  """A tf.train.Example of random values, the release test's seven features.

  As released: no token_boundary feature, a random 0/1 input mask, random
  masked positions (repeats allowed) and all segment ids 0.
  """
  def ints(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

  def floats(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))

  features = {
      "input_ids": ints([rng.randint(0, vocab_size - 1)
                         for _ in range(max_seq_length)]),
      "input_mask": ints([rng.randint(0, 1) for _ in range(max_seq_length)]),
      "masked_lm_positions": ints([rng.randint(0, max_seq_length - 1)
                                   for _ in range(max_predictions)]),
      "masked_lm_ids": ints([rng.randint(0, vocab_size - 1)
                             for _ in range(max_predictions)]),
      "masked_lm_weights": floats([1.0] * max_predictions),
      "segment_ids": ints([0] * max_seq_length),
      "next_sentence_labels": ints([rng.randint(0, 1)]),
  }
  return tf.train.Example(features=tf.train.Features(feature=features))


@pytest.fixture
def global_flags_restored():
  """Global FLAGS usable here, with values and the parsed mark put back."""
  was_parsed = flags.FLAGS.is_parsed()
  with flagsaver.flagsaver():
    if not was_parsed:
      flags.FLAGS.mark_as_parsed()
    yield flags.FLAGS
  if not was_parsed:
    # flagsaver restores values, not FlagValues' own "parsed" mark.
    flags.FLAGS.__dict__["__flags_parsed"] = False


def test_pretraining_main_writes_checkpoints_and_eval(tmp_path, capsys,
                                                      global_flags_restored):
  # Released test_pretraining: main(None) trains one step and evaluates,
  # leaving model.ckpt-1, model.ckpt-best, eval_results.txt and checkpoint.
  FLAGS = global_flags_restored
  FLAGS.max_predictions_per_seq = PRETRAIN_PREDICTIONS
  FLAGS.max_seq_length = PRETRAIN_SEQ
  FLAGS.output_dir = str(tmp_path / "output_dir")
  os.makedirs(FLAGS.output_dir)
  config_dir = tmp_path / "config_dir"
  input_dir = tmp_path / "input_dir"
  config_dir.mkdir()
  input_dir.mkdir()
  FLAGS.albert_config_file = str(config_dir / "albert_config.json")
  FLAGS.input_file = str(input_dir / "input_data.tfrecord")
  FLAGS.do_train = True
  FLAGS.do_eval = True
  FLAGS.num_train_steps = 1
  FLAGS.save_checkpoints_steps = 1

  write_release_style_config(FLAGS.albert_config_file, FLAGS.max_seq_length,
                             PRETRAIN_VOCAB)
  rng = random.Random(2019)
  with tf.io.TFRecordWriter(FLAGS.input_file) as writer:
    for _ in range(PRETRAIN_RECORDS):
      example = random_pretraining_example(
          rng, FLAGS.max_predictions_per_seq, FLAGS.max_seq_length,
          PRETRAIN_VOCAB)
      writer.write(example.SerializeToString())

  try:
    run_pretraining.main(None)
  except SystemExit as e:
    pytest.fail("run_pretraining.main exited with %r: %s"
                % (e.code, capsys.readouterr().err.strip()[-2000:]))

  expected = []
  for prefix in ("model.ckpt-best", "model.ckpt-1"):
    expected += [prefix + suffix for suffix in
                 (".meta", ".index", ".data-00000-of-00001")]
  expected += ["eval_results.txt", "checkpoint"]
  missing = [name for name in expected
             if not tf.gfile.Exists(os.path.join(FLAGS.output_dir, name))]
  assert missing == [], "missing from output_dir: %s (has %s)" % (
      missing, sorted(os.listdir(FLAGS.output_dir)))
