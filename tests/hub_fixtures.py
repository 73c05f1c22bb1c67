# coding=utf-8
"""Tiny pretrained-style ALBERT directories and hub modules, for tests.

Other test files import this (pytest puts tests/ on sys.path):

  import hub_fixtures
  tiny = hub_fixtures.make_tiny_albert_dir(str(tmp_path / "albert"))
  module_path = hub_fixtures.make_hub_module(tiny.directory,
                                             str(tmp_path / "hub"))

A directory looks like a released model archive: `albert_config.json`,
`30k-clean.model` (+ `.vocab`) and the checkpoint `model.ckpt-best` with
every variable of AlbertModel, the masked-LM head and the sentence-order
head (plus global_step, as real checkpoints have). Everything takes about a
second.
"""

import collections
import json
import os
import random

import numpy as np
import sentencepiece as spm
import tensorflow.compat.v1 as tf

from albert import export_to_tfhub
from albert import modeling
from albert import pretraining

CONFIG_NAME = export_to_tfhub.CONFIG_NAME
SPM_MODEL_NAME = export_to_tfhub.SPM_MODEL_NAME
CHECKPOINT_NAME = export_to_tfhub.DEFAULT_CHECKPOINT_NAME

TinyAlbert = collections.namedtuple(
    "TinyAlbert",
    ["directory", "config_file", "spm_model_file", "init_checkpoint",
     "config"])

_WORDS = (
    "the a an of to in and is was for on with as by at from that this it "
    "model language text token sentence word piece order mask predict layer "
    "shared weight embedding hidden attention head encoder lite bert albert "
    "train small large fast slow good new old first last next other same "
    "reads writes learns knows makes takes gives finds sees uses runs keeps "
    "cat dog bird tree river stone house city road ship star cloud rain "
    "red green blue black white quick lazy bright quiet happy").split()


def make_corpus(num_sentences=400, seed=0):
  """Deterministic lines of English-like text: list of str."""
  rng = random.Random(seed)
  lines = []
  for _ in range(num_sentences):
    words = [rng.choice(_WORDS) for _ in range(rng.randint(4, 12))]
    sentence = " ".join(words).capitalize() + rng.choice([".", "!", "?"])
    lines.append(sentence)
  return lines


def train_spm_model(directory, vocab_size=120, seed=0,
                    model_name=SPM_MODEL_NAME):
  """Trains a sentencepiece model with the release's special symbols.

  Args:
    directory: where `<model_name>` and its `.vocab` go.
    vocab_size: requested size; hard_vocab_limit=False lets a small corpus
      give fewer pieces, so read the real size from the result.
    seed: corpus seed.
    model_name: file name of the model.

  Returns:
    (model path, number of pieces).
  """
  if not model_name.endswith(".model"):
    raise ValueError("model_name must end with .model: %s" % model_name)
  corpus = os.path.join(directory, "spm_corpus.txt")
  with open(corpus, "w") as f:
    f.write("\n".join(make_corpus(seed=seed)) + "\n")
  prefix = os.path.join(directory, model_name[:-len(".model")])
  spm.SentencePieceTrainer.train(
      input=corpus, model_prefix=prefix, vocab_size=vocab_size,
      hard_vocab_limit=False, pad_id=0, unk_id=1, eos_id=-1, bos_id=-1,
      control_symbols=["[CLS]", "[SEP]", "[MASK]"], model_type="unigram",
      minloglevel=2)
  os.remove(corpus)
  processor = spm.SentencePieceProcessor()
  processor.Load(prefix + ".model")
  return prefix + ".model", processor.GetPieceSize()


def tiny_config_dict(vocab_size, hidden_size=32, embedding_size=16,
                     num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, dropout_prob=0.1,
                     max_position_embeddings=64, **overrides):
  """albert_config.json contents for a tiny model."""
  config = dict(
      vocab_size=vocab_size, embedding_size=embedding_size,
      hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
      num_hidden_groups=1, inner_group_num=1,
      num_attention_heads=num_attention_heads,
      intermediate_size=intermediate_size, hidden_act="gelu",
      hidden_dropout_prob=dropout_prob,
      attention_probs_dropout_prob=dropout_prob,
      max_position_embeddings=max_position_embeddings, type_vocab_size=2,
      initializer_range=0.02)
  config.update(overrides)
  return config


def save_pretraining_checkpoint(albert_config, checkpoint_path, seed=0,
                                with_mlm_head=True, with_sop_head=True):
  """Saves every pretraining variable with random, non-trivial values.

  Zero biases and unit LayerNorm gammas (the initial values) would hide a
  bias or gamma that failed to load, so every variable gets noise on top of
  its initializer.

  Args:
    albert_config: `AlbertConfig`.
    checkpoint_path: prefix to write (e.g. dir/model.ckpt-best).
    seed: graph and numpy seed.
    with_mlm_head: include cls/predictions/* (False mimics a fine-tuned
      checkpoint).
    with_sop_head: include cls/seq_relationship/*.

  Returns:
    {variable name: numpy value} of what was saved.
  """
  with tf.Graph().as_default():
    tf.set_random_seed(seed)
    input_ids = tf.placeholder(tf.int32, [None, None])
    model = modeling.AlbertModel(albert_config, is_training=False,
                                 input_ids=input_ids)
    if with_mlm_head:
      positions = tf.placeholder(tf.int32, [None, None])
      pretraining.get_masked_lm_output(
          albert_config, model.get_sequence_output(),
          model.get_embedding_table(), positions, positions,
          tf.ones_like(positions, tf.float32))
    if with_sop_head:
      pretraining.get_sentence_order_output(
          albert_config, model.get_pooled_output(),
          tf.zeros_like(input_ids[:, 0]))
    tf.train.get_or_create_global_step()
    return save_with_noise(tf.trainable_variables(), checkpoint_path, seed)


def save_with_noise(variables, checkpoint_path, seed):
  """Saves the current graph's variables, `variables` with noise added.

  Noise (N(0, 0.05)) on top of the initializers, so that a zero bias or a
  unit gamma that failed to load cannot pass for a loaded one.

  Returns:
    {variable name: numpy value} of every global variable saved.
  """
  rng = np.random.RandomState(seed)
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for var in variables:
      value = sess.run(var)
      var.load(value + rng.normal(0.0, 0.05, value.shape).astype(
          value.dtype), sess)
    tf.train.Saver().save(sess, checkpoint_path, write_meta_graph=False,
                          write_state=False)
    return {v.op.name: sess.run(v) for v in tf.global_variables()}


def make_tiny_albert_dir(directory, vocab_size=120, hidden_size=32,
                         embedding_size=16, num_hidden_layers=2,
                         num_attention_heads=4, intermediate_size=64,
                         dropout_prob=0.1, max_position_embeddings=64,
                         seed=0, with_mlm_head=True, with_sop_head=True,
                         **config_overrides):
  """Writes a tiny released-style model directory.

  Args:
    directory: created if needed.
    vocab_size: the requested sentencepiece size; the config gets the
      model's real piece count.
    hidden_size, embedding_size, num_hidden_layers, num_attention_heads,
    intermediate_size, max_position_embeddings: config sizes.
    dropout_prob: hidden and attention dropout (> 0 lets tests see dropout
      in the {"train"} graph).
    seed: corpus and weight seed.
    with_mlm_head: False leaves cls/predictions/* out of the checkpoint.
    with_sop_head: False leaves cls/seq_relationship/* out of it.
    **config_overrides: other albert_config.json keys.

  Returns:
    `TinyAlbert` (directory, config_file, spm_model_file, init_checkpoint,
    config).
  """
  os.makedirs(directory, exist_ok=True)
  spm_model_file, pieces = train_spm_model(directory, vocab_size, seed)
  config_dict = tiny_config_dict(
      pieces, hidden_size=hidden_size, embedding_size=embedding_size,
      num_hidden_layers=num_hidden_layers,
      num_attention_heads=num_attention_heads,
      intermediate_size=intermediate_size, dropout_prob=dropout_prob,
      max_position_embeddings=max_position_embeddings, **config_overrides)
  config_file = os.path.join(directory, CONFIG_NAME)
  with open(config_file, "w") as f:
    json.dump(config_dict, f, indent=2)
  config = modeling.AlbertConfig.from_dict(config_dict)
  init_checkpoint = os.path.join(directory, CHECKPOINT_NAME)
  save_pretraining_checkpoint(config, init_checkpoint, seed=seed,
                              with_mlm_head=with_mlm_head,
                              with_sop_head=with_sop_head)
  return TinyAlbert(directory, config_file, spm_model_file, init_checkpoint,
                    config)


def make_hub_module(albert_dir, export_path, **kwargs):
  """Exports a directory from `make_tiny_albert_dir` as a hub module.

  Args:
    albert_dir: the directory (or a `TinyAlbert`).
    export_path: the module directory to create.
    **kwargs: more `export_to_tfhub.export_hub_module` arguments
      (do_lower_case, use_einsum, include_mlm, overwrite, ...).

  Returns:
    export_path.
  """
  if isinstance(albert_dir, TinyAlbert):
    albert_dir = albert_dir.directory
  export_to_tfhub.export_hub_module(
      os.path.join(albert_dir, CONFIG_NAME),
      os.path.join(albert_dir, CHECKPOINT_NAME),
      export_path,
      spm_model_file=os.path.join(albert_dir, SPM_MODEL_NAME),
      **kwargs)
  return export_path
