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
"""Tests for albert.create_pretraining_data, and its reliability.

A generated corpus and a small SentencePiece model trained on it stand in for
real data. Every sentence starts and ends with a marker word zqd<doc>x<sent>q,
so the document and sentence that a segment came from can be read back out
of the written examples.
"""

import collections
import errno
import glob
import json
import logging
import logging as std_logging
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest
import sentencepiece as spm
import tensorflow.compat.v1 as tf

from albert import create_pretraining_data as cpd
from albert import tokenization

import hub_fixtures


UNDERLINE = tokenization.SPIECE_UNDERLINE
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = re.compile(r"zqd(\d+)x(\d+)q")

_SYLLABLES = "ka lo mi ne ru sa to vi de po gu fe".split()


def _make_corpus(num_documents, seed):
  """Documents (lists of sentences) of pseudo-English with marker words."""
  rng = random.Random(seed)
  # Words of up to four syllables: the small model splits the longer ones
  # into several pieces, which whole-word masking must keep together.
  words = sorted({"".join(rng.choice(_SYLLABLES)
                          for _ in range(rng.randint(1, 4)))
                  for _ in range(150)})
  documents = []
  for d in range(num_documents):
    sentences = []
    for s in range(rng.randint(2, 12)):
      marker = "zqd%dx%dq" % (d, s)
      body = [rng.choice(words) for _ in range(rng.randint(3, 10))]
      sentences.append(" ".join([marker] + body + [marker]) +
                       rng.choice((".", "", ",", "!")))
    documents.append(sentences)
  return documents


def _write_corpus(path, documents):
  """Writes documents in the input format; returns the path as str."""
  with open(path, "w", encoding="utf-8") as f:
    f.write("\n\n".join("\n".join(d) for d in documents) + "\n")
  return str(path)


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
  """A directory shared by the module's fixtures."""
  return tmp_path_factory.mktemp("cpd")


@pytest.fixture(scope="module")
def corpus_file(work_dir):
  """400 documents: the reference corpus (and the SentencePiece corpus)."""
  return _write_corpus(work_dir / "corpus.txt", _make_corpus(400, seed=7))


@pytest.fixture(scope="module")
def small_corpus_file(work_dir):
  """60 documents, for the runs that are repeated."""
  return _write_corpus(work_dir / "small.txt", _make_corpus(60, seed=8))


@pytest.fixture(scope="module")
def spm_model_file(work_dir, corpus_file):
  """A unigram SentencePiece model trained on the corpus, ALBERT-style."""
  prefix = str(work_dir / "spm")
  spm.SentencePieceTrainer.train(
      input=corpus_file, model_prefix=prefix, vocab_size=400,
      hard_vocab_limit=False, pad_id=0, unk_id=1, eos_id=-1, bos_id=-1,
      control_symbols=["[CLS]", "[SEP]", "[MASK]"], model_type="unigram",
      minloglevel=2)
  return prefix + ".model"


@pytest.fixture(scope="module")
def tokenizer(spm_model_file):
  """A lower-casing FullTokenizer on the model."""
  return tokenization.FullTokenizer(None, True, spm_model_file)


def _read_records(path):
  """The serialized records of a TFRecord file."""
  return list(tf.io.tf_record_iterator(path))


def _parse(record):
  """A tf.train.Example record as a dict of feature name to list."""
  example = tf.train.Example.FromString(record)
  parsed = {}
  for name, feature in example.features.feature.items():
    kind = feature.WhichOneof("kind")
    parsed[name] = list(getattr(feature, kind).value)
  return parsed


def _run(tmp_path, input_files, spm_model_file, name="out", num_outputs=1,
         **kwargs):
  """Runs the library; returns (summary, output paths)."""
  outputs = [str(tmp_path / ("%s-%d.tfrecord" % (name, k)))
             for k in range(num_outputs)]
  kwargs.setdefault("progress_interval", 1e9)
  summary = cpd.create_pretraining_data(
      input_files, ",".join(outputs), spm_model_file=spm_model_file, **kwargs)
  return summary, outputs


REFERENCE_OPTIONS = cpd.Options(max_seq_length=128, max_predictions_per_seq=20,
                                dupe_factor=6)


@pytest.fixture(scope="module")
def reference(work_dir, corpus_file, spm_model_file):
  """One sentence-order run over the corpus: summary, outputs, examples."""
  out_dir = work_dir / "reference"
  out_dir.mkdir()
  summary, outputs = _run(out_dir, corpus_file, spm_model_file,
                          num_outputs=3, options=REFERENCE_OPTIONS,
                          chunk_size=64)
  examples = [_parse(r) for path in outputs for r in _read_records(path)]
  return summary, outputs, examples


def _original_tokens(example, tokenizer):
  """The unmasked tokens of an example (labels put back), without padding."""
  length = sum(example["input_mask"])
  ids = list(example["input_ids"][:length])
  for position, label, weight in zip(example["masked_lm_positions"],
                                     example["masked_lm_ids"],
                                     example["masked_lm_weights"]):
    if weight:
      ids[position] = label
  return tokenizer.convert_ids_to_tokens(ids)


def _segments(tokens):
  """(tokens of A, tokens of B) of [CLS] A [SEP] B [SEP]."""
  first = tokens.index("[SEP]")
  return tokens[1:first], tokens[first + 1:-1]


def _markers(tokens):
  """[(document, sentence)] of the complete marker words in tokens."""
  text = "".join(tokens).replace(UNDERLINE, " ")
  return [(int(d), int(s)) for d, s in MARKER.findall(text)]


# Output format ---------------------------------------------------------------


def test_feature_names_dtypes_and_lengths(reference):
  """Exactly the released features, with their dtypes and fixed lengths."""
  summary, outputs, _ = reference
  lengths = {"input_ids": 128, "input_mask": 128, "segment_ids": 128,
             "token_boundary": 128, "masked_lm_positions": 20,
             "masked_lm_ids": 20, "masked_lm_weights": 20,
             "next_sentence_labels": 1}
  count = 0
  for path in outputs:
    for record in _read_records(path):
      example = tf.train.Example.FromString(record)
      features = example.features.feature
      assert set(features.keys()) == set(cpd.FEATURE_NAMES)
      for name, length in lengths.items():
        kind = features[name].WhichOneof("kind")
        expected_kind = ("float_list" if name == "masked_lm_weights"
                         else "int64_list")
        assert kind == expected_kind, name
        assert len(getattr(features[name], kind).value) == length, name
      count += 1
  assert count == summary.instances > 1000


def test_instances_are_spread_round_robin(reference):
  """The per-file counts add up and differ by at most one."""
  summary, outputs, _ = reference
  counts = [len(_read_records(p)) for p in outputs]
  assert counts == [summary.instances_per_file[p] for p in outputs]
  assert sum(counts) == summary.instances
  assert max(counts) - min(counts) <= 1


def test_sequence_structure(reference, tokenizer):
  """[CLS] A [SEP] B [SEP], masks, segment ids and padding agree."""
  _, _, examples = reference
  cls_id, sep_id, mask_id = tokenizer.convert_tokens_to_ids(
      ["[CLS]", "[SEP]", "[MASK]"])
  for ex in examples:
    length = sum(ex["input_mask"])
    assert ex["input_mask"] == [1] * length + [0] * (128 - length)
    ids = ex["input_ids"]
    assert ids[length:] == [0] * (128 - length)
    assert ids[0] == cls_id and ids[length - 1] == sep_id
    seps = [k for k in range(length) if ids[k] == sep_id]
    assert len(seps) == 2
    first = seps[0]
    assert 1 < first < length - 2  # A and B are not empty.
    assert ex["segment_ids"] == ([0] * (first + 1) +
                                 [1] * (length - first - 1) +
                                 [0] * (128 - length))
    original = _original_tokens(ex, tokenizer)
    assert ex["token_boundary"][:length] == cpd.compute_token_boundary(
        original)
    assert ex["token_boundary"][length:] == [0] * (128 - length)
    assert ex["next_sentence_labels"][0] in (0, 1)

    weights = ex["masked_lm_weights"]
    n = int(sum(weights))
    assert weights == [1.0] * n + [0.0] * (20 - n) and n >= 1
    positions = ex["masked_lm_positions"][:n]
    assert positions == sorted(set(positions))
    assert ex["masked_lm_positions"][n:] == [0] * (20 - n)
    assert ex["masked_lm_ids"][n:] == [0] * (20 - n)
    assert all(0 < p < length and p not in seps for p in positions)
    # [MASK] appears exactly where a prediction is made.
    masked = {k for k in range(length) if ids[k] == mask_id}
    assert masked <= set(positions)


def test_masked_fraction_and_80_10_10(reference, tokenizer):
  """~15% of tokens are predicted; of those 80% [MASK], 10% kept, 10% random.
  """
  _, _, examples = reference
  mask_id = tokenizer.convert_tokens_to_ids(["[MASK]"])[0]
  control_ids = set(tokenizer.convert_tokens_to_ids(
      ["[CLS]", "[SEP]", "[MASK]", "<pad>", "<unk>"]))
  wanted = 0
  predicted = 0
  kinds = collections.Counter()
  for ex in examples:
    length = sum(ex["input_mask"])
    target = min(20, max(1, int(round(length * 0.15))))
    n = int(sum(ex["masked_lm_weights"]))
    assert n <= target
    wanted += target
    predicted += n
    for position, label in zip(ex["masked_lm_positions"][:n],
                               ex["masked_lm_ids"][:n]):
      shown = ex["input_ids"][position]
      if shown == mask_id:
        kinds["mask"] += 1
      elif shown == label:
        kinds["keep"] += 1
      else:
        assert shown not in control_ids
        kinds["random"] += 1
  assert predicted / wanted > 0.95
  total = sum(kinds.values())
  assert total > 30000
  assert abs(kinds["mask"] / total - 0.8) < 0.015, kinds
  assert abs(kinds["keep"] / total - 0.1) < 0.015, kinds
  assert abs(kinds["random"] / total - 0.1) < 0.015, kinds


def _words(token_boundary, length, special):
  """Lists of positions forming words, from the token_boundary feature."""
  words = []
  for k in range(length):
    if k in special:
      continue
    if token_boundary[k] or not words or (k - 1) in special:
      words.append([k])
    else:
      words[-1].append(k)
  return words


def test_whole_word_masking_never_splits_a_word(reference, tokenizer):
  """Every word is masked entirely or not at all."""
  _, _, examples = reference
  sep_id = tokenizer.convert_tokens_to_ids(["[SEP]"])[0]
  multi_piece_masked = 0
  for ex in examples:
    length = sum(ex["input_mask"])
    special = {0} | {k for k in range(length) if ex["input_ids"][k] == sep_id}
    n = int(sum(ex["masked_lm_weights"]))
    masked = set(ex["masked_lm_positions"][:n])
    for word in _words(ex["token_boundary"], length, special):
      hit = [p in masked for p in word]
      assert all(hit) or not any(hit), (word, sorted(masked))
      if len(word) > 1 and all(hit):
        multi_piece_masked += 1
  # The property is only tested if many multi-piece words were masked.
  assert multi_piece_masked > 500


def test_without_whole_word_mask_pieces_are_masked_alone():
  """Control for the test above: piece-level masking does split words."""
  tokens = ["[CLS]"] + [UNDERLINE + "a", "b", "c"] * 60 + ["[SEP]"]
  split = 0
  for seed in range(50):
    for whole_word in (True, False):
      result = cpd.create_masked_lm_predictions(
          tokens, 0.15, 30, ["x"], random.Random(seed),
          do_whole_word_mask=whole_word)
      masked = set(result.masked_lm_positions)
      for start in range(1, len(tokens) - 1, 3):
        hit = [p in masked for p in range(start, start + 3)]
        if any(hit) and not all(hit):
          assert not whole_word
          split += 1
  assert split > 50


def _span_length_fractions(favor_shorter_ngram, ngram):
  """Observed fraction of masked spans of length 1..ngram."""
  tokens = ["[CLS]"] + [UNDERLINE + "w%d" % k for k in range(300)] + ["[SEP]"]
  counts = collections.Counter()
  for seed in range(600):
    result = cpd.create_masked_lm_predictions(
        tokens, 0.15, 45, ["x"], random.Random(seed), ngram=ngram,
        favor_shorter_ngram=favor_shorter_ngram)
    counts.update(result.span_lengths)
    # The spans account for exactly the masked positions.
    assert len(result.masked_lm_positions) == 45
  total = sum(counts.values())
  return [counts[n] / total for n in range(1, ngram + 1)]


def test_ngram_lengths_favor_short_spans():
  """With favor_shorter_ngram, P(n) is about proportional to 1/n."""
  fractions = _span_length_fractions(True, 3)
  expected = [6 / 11, 3 / 11, 2 / 11]
  assert fractions[0] > fractions[1] > fractions[2]
  for got, want in zip(fractions, expected):
    assert abs(got - want) < 0.05, fractions


def test_ngram_lengths_favor_long_spans_without_favor():
  """Without favor_shorter_ngram the 1/n weights are reversed (released)."""
  fractions = _span_length_fractions(False, 3)
  expected = [2 / 11, 3 / 11, 6 / 11]
  assert fractions[0] < fractions[1] < fractions[2]
  for got, want in zip(fractions, expected):
    assert abs(got - want) < 0.05, fractions


def test_ngram_one_gives_single_word_spans():
  """ngram=1 masks single words only."""
  assert _span_length_fractions(True, 1) == [1.0]


def test_permutation_shuffles_extra_spans():
  """do_permutation predicts permuted positions within the budget."""
  tokens = ["[CLS]"] + [UNDERLINE + "w%d" % k for k in range(100)] + ["[SEP]"]
  moved = 0
  for seed in range(40):
    result = cpd.create_masked_lm_predictions(
        tokens, 0.15, 40, ["x"], random.Random(seed), do_permutation=True)
    permuted = result.permuted_positions
    assert permuted and len(result.masked_lm_positions) <= 40
    assert set(permuted) <= set(result.masked_lm_positions)
    # The permuted positions hold the same multiset of original tokens.
    assert (sorted(result.tokens[p] for p in permuted) ==
            sorted(tokens[p] for p in permuted))
    moved += sum(result.tokens[p] != tokens[p] for p in permuted)
    for p, label in zip(result.masked_lm_positions, result.masked_lm_labels):
      assert label == tokens[p]
  assert moved > 100


# Sentence order --------------------------------------------------------------


def _check_order(examples, tokenizer, random_next_sentence):
  """Checks segment provenance; returns (label-1 fraction, strict pairs)."""
  labels = collections.Counter()
  checked = 0
  strict = 0
  for ex in examples:
    label = ex["next_sentence_labels"][0]
    labels[label] += 1
    a, b = _segments(_original_tokens(ex, tokenizer))
    markers_a, markers_b = _markers(a), _markers(b)
    if not markers_a or not markers_b:
      continue  # Truncation cut every marker off one side.
    checked += 1
    docs_a = {d for d, _ in markers_a}
    docs_b = {d for d, _ in markers_b}
    assert len(docs_a) == 1 and len(docs_b) == 1
    sents_a = [s for _, s in markers_a]
    sents_b = [s for _, s in markers_b]
    if random_next_sentence and label == 1:
      assert docs_a != docs_b
      continue
    assert docs_a == docs_b
    if label == 0:
      assert max(sents_a) <= min(sents_b), (sents_a, sents_b)
      strict += max(sents_a) < min(sents_b)
    else:
      assert max(sents_b) <= min(sents_a), (sents_a, sents_b)
      strict += max(sents_b) < min(sents_a)
  assert checked > 0.8 * len(examples)
  return labels[1] / len(examples), strict


def test_sentence_order_labels(reference, tokenizer):
  """Label 1 = one document's segments swapped, label 0 = in order; ~50/50.
  """
  _, _, examples = reference
  fraction, strict = _check_order(examples, tokenizer, False)
  assert abs(fraction - 0.5) < 0.03
  assert strict > 0.5 * len(examples)


def test_random_next_sentence_labels(tmp_path, small_corpus_file,
                                     spm_model_file, tokenizer):
  """With random_next_sentence, label 1 pairs two different documents."""
  options = cpd.Options(max_seq_length=96, max_predictions_per_seq=15,
                        dupe_factor=8, random_next_sentence=True)
  _, outputs = _run(tmp_path, small_corpus_file, spm_model_file,
                    options=options, chunk_size=20)
  examples = [_parse(r) for r in _read_records(outputs[0])]
  fraction, _ = _check_order(examples, tokenizer, True)
  assert abs(fraction - 0.5) < 0.06


def test_single_sentence_documents_are_split_in_order():
  """A one-sentence document is cut at a word start into two segments."""
  sentence = [UNDERLINE + "t%d" % k for k in range(30)]
  options = cpd.Options(max_seq_length=64, short_seq_prob=0.0,
                        masked_lm_prob=0.1, max_predictions_per_seq=5)
  labels = collections.Counter()
  for seed in range(200):
    instances = cpd.create_instances_from_document(
        [[sentence]], 0, options, ["x"], random.Random(seed))
    assert len(instances) == 1
    instance = instances[0]
    tokens = list(instance.tokens)
    for p, label in zip(instance.masked_lm_positions,
                        instance.masked_lm_labels):
      tokens[p] = label
    a, b = _segments(tokens)
    labels[instance.next_sentence_label] += 1
    if instance.next_sentence_label == 0:
      assert a + b == sentence
    else:
      assert b + a == sentence
  assert 70 < labels[1] < 130


def test_multi_sentence_segments_keep_sentence_boundaries():
  """Segments are whole sentences, in order (label 0) or swapped (label 1)."""
  document = [[UNDERLINE + "s%dw%d" % (j, k) for k in range(4)]
              for j in range(6)]
  options = cpd.Options(max_seq_length=64, short_seq_prob=0.0,
                        masked_lm_prob=0.1, max_predictions_per_seq=5)
  flat = [t for s in document for t in s]
  for seed in range(100):
    (instance,) = cpd.create_instances_from_document(
        [document], 0, options, ["x"], random.Random(seed))
    tokens = list(instance.tokens)
    for p, label in zip(instance.masked_lm_positions,
                        instance.masked_lm_labels):
      tokens[p] = label
    a, b = _segments(tokens)
    assert len(a) % 4 == 0 and len(b) % 4 == 0
    first, second = (a, b) if instance.next_sentence_label == 0 else (b, a)
    assert first + second == flat


def test_single_token_document_is_skipped_and_counted():
  """A one-token sentence alone cannot make a pair: skipped and counted."""
  counts = collections.Counter()
  instances = cpd.create_instances_from_document(
      [[[UNDERLINE + "x"]]], 0, cpd.Options(max_seq_length=32), ["x"],
      random.Random(0), counts=counts)
  assert instances == [] and counts["unsplittable_segments"] == 1


def test_truncate_seq_pair_trims_longer_side():
  """Truncation takes from the longer list until the pair fits."""
  a = list(range(10))
  b = list(range(100, 103))
  cpd.truncate_seq_pair(a, b, 8, random.Random(0))
  assert len(a) == 5 and b == [100, 101, 102]
  assert a == list(range(a[0], a[0] + 5))  # Contiguous: cut at the ends.


# Determinism -----------------------------------------------------------------


def _bytes(paths):
  """The contents of files."""
  result = []
  for path in paths:
    with open(path, "rb") as f:
      result.append(f.read())
  return result


@pytest.mark.slow
@pytest.mark.parametrize("random_next_sentence", [False, True])
def test_output_is_independent_of_num_workers(tmp_path, small_corpus_file,
                                              spm_model_file,
                                              random_next_sentence):
  """Same seed: byte-identical files for 1, 2 and 3 workers."""
  options = cpd.Options(max_seq_length=64, max_predictions_per_seq=10,
                        dupe_factor=3,
                        random_next_sentence=random_next_sentence)
  workers = (1, 2, 3) if not random_next_sentence else (1, 2)
  outputs = {}
  for num_workers in workers:
    _, paths = _run(tmp_path, small_corpus_file, spm_model_file,
                    name="w%d" % num_workers, num_outputs=2, options=options,
                    num_workers=num_workers, chunk_size=17)
    outputs[num_workers] = _bytes(paths)
  assert all(len(b) > 1000 for b in outputs[1])
  for num_workers in workers[1:]:
    assert outputs[num_workers] == outputs[1]
  _, paths = _run(tmp_path, small_corpus_file, spm_model_file, name="seed",
                  num_outputs=2, options=cpd.Options(
                      max_seq_length=64, max_predictions_per_seq=10,
                      dupe_factor=3, random_next_sentence=random_next_sentence,
                      random_seed=99), chunk_size=17)
  other_seed = _bytes(paths)
  assert other_seed[0] != outputs[1][0] and other_seed[1] != outputs[1][1]


@pytest.mark.slow
def test_spawned_workers_give_the_same_bytes(tmp_path, small_corpus_file,
                                            spm_model_file):
  """Workers started with spawn (macOS, Windows) get a working tokenizer."""
  options = cpd.Options(max_seq_length=64, max_predictions_per_seq=10,
                        dupe_factor=1)
  _, forked = _run(tmp_path, small_corpus_file, spm_model_file, name="one",
                   options=options, chunk_size=25)
  _, spawned = _run(tmp_path, small_corpus_file, spm_model_file,
                    name="spawn", options=options, chunk_size=25,
                    num_workers=2, start_method="spawn")
  assert _bytes(spawned) == _bytes(forked)


@pytest.mark.slow
def test_stable_rng_is_a_function_of_its_key():
  """Seeds come from a stable hash, not Python's per-process salted hash()."""
  assert (cpd.stable_rng("document", 1, 2, 3).random() ==
          cpd.stable_rng("document", 1, 2, 3).random())
  assert (cpd.stable_rng("document", 1, 2, 3).random() !=
          cpd.stable_rng("document", 1, 2, 4).random())
  code = ("from albert import create_pretraining_data as c;"
          "print(repr(c.stable_rng('document', 1, 2, 3).random()))")
  env = dict(os.environ, PYTHONPATH=REPO_ROOT, PYTHONHASHSEED="random")
  first = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True)
  assert first.stdout.strip() == repr(
      cpd.stable_rng("document", 1, 2, 3).random())


# Atomic output, progress ------------------------------------------------------


def test_failure_midway_leaves_no_files(tmp_path, small_corpus_file,
                                        spm_model_file, monkeypatch):
  """A crash after some examples leaves neither final nor temporary files."""
  out_dir = tmp_path / "out"
  out_dir.mkdir()
  existing = out_dir / "out-1.tfrecord"
  existing.write_bytes(b"from an earlier run")
  original_write = cpd.ExampleWriter.write
  written = []

  def failing_write(self, serialized):
    if len(written) == 25:
      raise RuntimeError("disk on fire")
    written.append(serialized)
    original_write(self, serialized)

  monkeypatch.setattr(cpd.ExampleWriter, "write", failing_write)
  with pytest.raises(RuntimeError, match="disk on fire"):
    _run(out_dir, small_corpus_file, spm_model_file, num_outputs=2,
         options=cpd.Options(max_seq_length=64, max_predictions_per_seq=10,
                             dupe_factor=2), num_workers=2, chunk_size=10)
  assert len(written) == 25
  # Only the file of an earlier run is there, untouched.
  assert sorted(os.listdir(out_dir)) == ["out-1.tfrecord"]
  assert existing.read_bytes() == b"from an earlier run"


def test_progress_and_summary_are_logged(tmp_path, small_corpus_file,
                                         spm_model_file, caplog):
  """Progress lines carry docs/s, counts and an ETA; a summary follows."""
  caplog.set_level(std_logging.INFO)
  summary, outputs = _run(
      tmp_path, small_corpus_file, spm_model_file,
      options=cpd.Options(max_seq_length=64, max_predictions_per_seq=10,
                          dupe_factor=2), chunk_size=20, progress_interval=0)
  text = caplog.text
  progress = [line for line in text.splitlines() if "progress:" in line]
  assert len(progress) >= 3
  assert "docs/s" in progress[0] and "ETA" in progress[0]
  assert "instances written" in progress[0]
  assert "100.0% of input bytes" in progress[-1]
  assert "%d instances written" % summary.instances in progress[-1]
  assert "%d documents" % 60 in text and outputs[0] in text
  assert summary.documents == 60 and summary.input_tokens > 0
  assert summary.instance_tokens > summary.input_tokens  # dupe_factor=2
  assert summary.elapsed_seconds > 0


# Bad input -------------------------------------------------------------------


def test_glob_matching_nothing_names_the_pattern(tmp_path, small_corpus_file,
                                                 spm_model_file):
  """A pattern that matches nothing is named; nothing is written."""
  pattern = str(tmp_path / "nothing-*.txt")
  with pytest.raises(ValueError, match=re.escape(pattern)):
    _run(tmp_path, small_corpus_file + "," + pattern, spm_model_file)
  assert os.listdir(tmp_path) == []


def test_empty_input_file_is_named(tmp_path, small_corpus_file,
                                   spm_model_file):
  """An empty input file is named; nothing is written."""
  empty = tmp_path / "empty.txt"
  empty.write_bytes(b"")
  out_dir = tmp_path / "out"
  out_dir.mkdir()
  with pytest.raises(ValueError, match="empty.*" + re.escape(str(empty))):
    _run(out_dir, [small_corpus_file, str(empty)], spm_model_file)
  assert os.listdir(out_dir) == []


def test_glob_patterns_expand_in_sorted_order(tmp_path):
  """Globs expand sorted, so document order does not depend on the FS."""
  for name, word in (("b.txt", "second"), ("a.txt", "first")):
    (tmp_path / name).write_text(word + " line\n", encoding="utf-8")
  paths = cpd.resolve_input_files(str(tmp_path / "*.txt"))
  assert [os.path.basename(p) for p in paths] == ["a.txt", "b.txt"]


def test_read_documents_splits_on_blank_lines_and_files(tmp_path):
  """Blank (or whitespace-only) lines and file ends end documents."""
  first = tmp_path / "1.txt"
  first.write_bytes(b"a b\nc d\n\n \t\n\ne f\n")
  second = tmp_path / "2.txt"
  second.write_bytes(b"g h\r\n\r\ni j\n")
  stats = cpd.InputStats()
  documents = list(cpd.read_documents([str(first), str(second)],
                                      stats=stats))
  assert documents == [["a b", "c d"], ["e f"], ["g h"], ["i j"]]
  assert stats.bytes_read == os.path.getsize(first) + os.path.getsize(second)


def test_non_utf8_lines_are_skipped_and_counted(tmp_path, spm_model_file,
                                                tokenizer):
  """Undecodable lines are dropped, counted and located; the rest is used."""
  good = _make_corpus(30, seed=3)
  lines = []
  for d, document in enumerate(good):
    for s, sentence in enumerate(document):
      lines.append(sentence.encode("utf-8"))
      if d % 5 == 1 and s == 0:
        lines.append(b"bad \xff\xfe bytes zqd999x9q here")
    lines.append(b"")
  path = tmp_path / "mixed.txt"
  path.write_bytes(b"\n".join(lines) + b"\n")
  first_bad = lines.index(b"bad \xff\xfe bytes zqd999x9q here") + 1
  summary, outputs = _run(
      tmp_path, str(path), spm_model_file,
      options=cpd.Options(max_seq_length=64, max_predictions_per_seq=10,
                          dupe_factor=1))
  assert summary.skipped_lines == 6
  assert summary.first_skipped_line == "%s:%d" % (path, first_bad)
  assert summary.documents == 30
  assert summary.sentences == sum(len(d) for d in good)
  examples = [_parse(r) for r in _read_records(outputs[0])]
  assert examples
  for ex in examples:
    assert all(d != 999 for d, _ in _markers(_original_tokens(ex, tokenizer)))


def test_missing_output_directory_fails_before_any_work(
    tmp_path, small_corpus_file, spm_model_file, monkeypatch):
  """The directory is named and no input is read."""
  def no_reading(*args, **kwargs):
    raise AssertionError("input was read before the output was checked")

  monkeypatch.setattr(cpd, "read_documents", no_reading)
  missing = tmp_path / "no" / "such" / "dir"
  with pytest.raises(ValueError, match=re.escape(str(missing))):
    cpd.create_pretraining_data(small_corpus_file,
                                str(missing / "out.tfrecord"),
                                spm_model_file=spm_model_file)
  blocker = tmp_path / "a-file"
  blocker.write_text("x")
  with pytest.raises(ValueError, match=re.escape(str(blocker))):
    cpd.create_pretraining_data(small_corpus_file,
                                str(blocker / "out.tfrecord"),
                                spm_model_file=spm_model_file)
  assert sorted(os.listdir(tmp_path)) == ["a-file"]


def test_config_checks(tmp_path, small_corpus_file, spm_model_file,
                       tokenizer):
  """max_seq_length and vocabulary size are checked against the config."""
  size = tokenizer.sp_model.GetPieceSize()
  config = tmp_path / "albert_config.json"
  tiny = hub_fixtures.tiny_config_dict
  config.write_text(json.dumps(tiny(size, max_position_embeddings=64)))
  out_dir = tmp_path / "out"
  out_dir.mkdir()
  with pytest.raises(ValueError) as info:
    _run(out_dir, small_corpus_file, spm_model_file,
         albert_config_file=str(config),
         options=cpd.Options(max_seq_length=128))
  message = str(info.value)
  assert "max_seq_length=128" in message
  assert "max_position_embeddings=64" in message
  config.write_text(json.dumps(tiny(size - 5, max_position_embeddings=512)))
  with pytest.raises(ValueError, match="%d token ids but the config's "
                                       "vocab_size is %d" % (size, size - 5)):
    _run(out_dir, small_corpus_file, spm_model_file,
         albert_config_file=str(config),
         options=cpd.Options(max_seq_length=64))
  assert os.listdir(out_dir) == []
  config.write_text(json.dumps(tiny(size, max_position_embeddings=64)))
  summary, _ = _run(out_dir, small_corpus_file, spm_model_file,
                    albert_config_file=str(config),
                    options=cpd.Options(max_seq_length=64,
                                        max_predictions_per_seq=10,
                                        dupe_factor=1))
  assert summary.instances > 0


def test_no_vocabulary_is_a_clear_error(tmp_path, small_corpus_file):
  """Neither spm_model_file nor vocab_file: the error names both."""
  with pytest.raises(ValueError, match="spm_model_file.*vocab_file"):
    cpd.create_pretraining_data(small_corpus_file,
                                str(tmp_path / "out.tfrecord"))
  assert os.listdir(tmp_path) == []


def test_bad_options_are_rejected(tmp_path, small_corpus_file,
                                  spm_model_file):
  """Impossible option values are rejected before any output exists."""
  with pytest.raises(ValueError, match="input_file_mode"):
    _run(tmp_path, small_corpus_file, spm_model_file, input_file_mode="w")
  with pytest.raises(ValueError, match="max_seq_length"):
    _run(tmp_path, small_corpus_file, spm_model_file,
         options=cpd.Options(max_seq_length=4))
  assert os.listdir(tmp_path) == []


def test_max_predictions_warning(tmp_path, small_corpus_file, spm_model_file,
                                 caplog):
  """Too small a max_predictions_per_seq is reported with both numbers."""
  message = cpd.masking_budget_warning(512, 20, 0.15)
  assert "max_predictions_per_seq=20" in message and "wants 77" in message
  assert cpd.masking_budget_warning(128, 20, 0.15) is None
  assert cpd.masking_budget_warning(20, 3, 0.15) is None
  caplog.set_level(std_logging.WARNING)
  summary, _ = _run(tmp_path, small_corpus_file, spm_model_file,
                    options=cpd.Options(max_seq_length=64,
                                        max_predictions_per_seq=5,
                                        dupe_factor=1))
  assert len(summary.warnings) == 1 and "wants 10" in summary.warnings[0]
  assert "max_predictions_per_seq=5" in caplog.text


# WordPiece -------------------------------------------------------------------


def test_wordpiece_vocabulary(tmp_path):
  """vocab_file works too; '##' pieces are not word starts and stay whole."""
  vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ","]
  vocab += _SYLLABLES + ["##" + s for s in _SYLLABLES]
  vocab_file = tmp_path / "vocab.txt"
  vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
  rng = random.Random(5)
  documents = [[" ".join("".join(rng.choice(_SYLLABLES)
                                 for _ in range(rng.randint(1, 3)))
                         for _ in range(rng.randint(4, 9))) + "."
                for _ in range(rng.randint(2, 6))] for _ in range(40)]
  corpus = _write_corpus(tmp_path / "wp.txt", documents)
  output = str(tmp_path / "wp.tfrecord")
  summary = cpd.create_pretraining_data(
      corpus, output, vocab_file=str(vocab_file),
      options=cpd.Options(max_seq_length=48, max_predictions_per_seq=8,
                          dupe_factor=3), progress_interval=1e9)
  wp_tokenizer = tokenization.FullTokenizer(str(vocab_file), True)
  examples = [_parse(r) for r in _read_records(output)]
  assert len(examples) == summary.instances > 50
  sep_id = vocab.index("[SEP]")
  for ex in examples:
    length = sum(ex["input_mask"])
    tokens = _original_tokens(ex, wp_tokenizer)
    assert "[UNK]" not in tokens
    assert ex["token_boundary"][:length] == [
        0 if t.startswith("##") else 1 for t in tokens]
    special = {0} | {k for k in range(length) if ex["input_ids"][k] == sep_id}
    masked = set(ex["masked_lm_positions"][:int(sum(ex["masked_lm_weights"]))])
    for word in _words(ex["token_boundary"], length, special):
      hit = [p in masked for p in word]
      assert all(hit) or not any(hit)


# Command line ----------------------------------------------------------------


def _cli(args):
  """Runs the module as a program; returns the CompletedProcess."""
  env = dict(os.environ, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="2")
  return subprocess.run(
      [sys.executable, "-m", "albert.create_pretraining_data"] + args,
      cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_command_line(tmp_path, small_corpus_file, spm_model_file):
  """The CLI writes a readable file and logs its summary."""
  output = str(tmp_path / "cli.tfrecord")
  result = _cli(["--input_file=" + small_corpus_file,
                 "--output_file=" + output,
                 "--spm_model_file=" + spm_model_file,
                 "--max_seq_length=64", "--max_predictions_per_seq=10",
                 "--dupe_factor=2", "--num_workers=2"])
  assert result.returncode == 0, result.stderr
  examples = [_parse(r) for r in _read_records(output)]
  assert len(examples) > 50
  assert all(len(ex["input_ids"]) == 64 for ex in examples)
  assert "%d instances" % len(examples) in result.stderr
  assert "ETA" in result.stderr
  assert os.listdir(tmp_path) == ["cli.tfrecord"]


@pytest.mark.slow
def test_command_line_error_is_one_clear_line(tmp_path, small_corpus_file):
  """A missing vocabulary exits non-zero with a message, writing nothing."""
  output = str(tmp_path / "cli.tfrecord")
  result = _cli(["--input_file=" + small_corpus_file,
                 "--output_file=" + output])
  assert result.returncode != 0
  assert "error: no vocabulary" in result.stderr
  assert "Traceback" not in result.stderr
  assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("piece, starts", [
    (u"\u2581the", True), (u"\u2581", True), ("<unk>", True), ("ing", False),
    ("ed-", False), (",", True), ("'", True), ("',", True), ("=", True),
    (">", True), ("19", True), ("x9", True), (u"\u00e9t\u00e9", True),
    (u"\u4e2d", True), ("ABC", False), ("a.b", False),
])
def test_word_starts_follow_the_released_sentencepiece_rule(piece, starts):
  """A piece starts a word if it has the marker, is "<...>" or punctuation,
  or holds any character (lower-cased) outside a-z and the punctuation set,
  as the release's create_pretraining_data decided."""
  assert cpd.is_start_piece(piece) is starts
  assert cpd.is_start_piece(piece, sentencepiece=False) is True
  assert cpd.is_start_piece("##" + piece, sentencepiece=False) is False


# Reliability: dead workers, interrupts, leftovers --------------------------
#
# Regression tests for what a hostile-user probe found: a run that waited
# forever after the out-of-memory killer took a worker, temporary files that a
# later "dir/*" glob read as data, a traceback for Ctrl-C and for a full disk,
# a 300,000-word line cut down silently, impossible flag values accepted.
#
# Tests that stop a run do so at a known point: ALBERT_TEST_WORKER_MARKER makes
# every task create <dir>/<pid> and wait for <dir>/go, so the test acts once
# the marker exists, never after a sleep. These tests use their own corpus
# (hub_corpus_file) and SentencePiece model (hub_spm_model), made with
# hub_fixtures.

SMALL = cpd.Options(max_seq_length=32, max_predictions_per_seq=5,
                    dupe_factor=2)
SMALL_FLAGS = ["--max_seq_length=32", "--max_predictions_per_seq=5",
               "--dupe_factor=2"]
# Bounds a broken run, so that a regression fails instead of hanging.
DEADLINE_SECONDS = 60


@pytest.fixture(scope="module")
def hub_spm_model(tmp_path_factory):
  """A tiny SentencePiece model with the release's special symbols."""
  directory = str(tmp_path_factory.mktemp("cpd_spm"))
  path, _ = hub_fixtures.train_spm_model(directory)
  return path


@pytest.fixture(scope="module")
def hub_corpus_file(tmp_path_factory):
  """40 documents of five sentences each, in their own directory."""
  directory = tmp_path_factory.mktemp("cpd_corpus")
  lines = hub_fixtures.make_corpus(num_sentences=200, seed=3)
  documents = ["\n".join(lines[k:k + 5]) for k in range(0, len(lines), 5)]
  path = directory / "corpus.txt"
  path.write_text("\n\n".join(documents) + "\n", encoding="utf-8")
  return str(path)


def _run_into(out_dir, hub_corpus_file, hub_spm_model, name="out.tfrecord",
              **kwargs):
  """Runs the library into out_dir/name; returns (summary, output path)."""
  output = os.path.join(str(out_dir), name)
  kwargs.setdefault("options", SMALL)
  kwargs.setdefault("progress_interval", 1e9)
  summary = cpd.create_pretraining_data(
      hub_corpus_file, output, spm_model_file=hub_spm_model, **kwargs)
  return summary, output


def _env(**extra):
  env = dict(os.environ, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="2")
  env.pop("ALBERT_TRACEBACK", None)
  env.update(extra)
  return env


def _default_sigint():
  # A shell starts background jobs with SIGINT ignored, and Python keeps an
  # ignored SIGINT ignored; the interrupt test needs the usual Ctrl-C.
  signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli_run(args, code=None):
  """Runs the command line to completion; returns the CompletedProcess.

  With code, runs that Python source first (to patch the library) and then
  the command line's main, in the same process.
  """
  if code is None:
    command = [sys.executable, "-m", "albert.create_pretraining_data"]
  else:
    command = [sys.executable, "-c", code + (
        "\nfrom absl import app\n"
        "from albert import create_pretraining_data as cpd\n"
        "cpd.define_flags()\n"
        "app.run(cpd.main)\n")]
  return subprocess.run(command + args, cwd=REPO_ROOT, env=_env(),
                        capture_output=True, text=True,
                        timeout=DEADLINE_SECONDS * 5)


def _error_lines(stderr):
  """The lines of stderr that are not log lines."""
  return [line for line in stderr.splitlines()
          if line.startswith("create_pretraining_data:")]


def _gone(pid):
  """True if no process runs under pid (a zombie counts as gone)."""
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return True
  try:
    with open("/proc/%d/stat" % pid) as f:
      return f.read().rsplit(")", 1)[1].split()[0] == "Z"
  except OSError:
    return True


def _start_at_marker(tmp_path, hub_corpus_file, hub_spm_model, num_workers=2):
  """Starts the CLI; returns (process, output dir, marker pids) once a task
  of it waits at the test marker."""
  markers = tmp_path / "markers"
  markers.mkdir()
  out_dir = tmp_path / "out"
  out_dir.mkdir()
  process = subprocess.Popen(
      [sys.executable, "-m", "albert.create_pretraining_data",
       "--input_file=" + hub_corpus_file,
       "--output_file=" + str(out_dir / "out.tfrecord"),
       "--spm_model_file=" + hub_spm_model,
       "--num_workers=%d" % num_workers] + SMALL_FLAGS,
      cwd=REPO_ROOT, env=_env(ALBERT_TEST_WORKER_MARKER=str(markers)),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      preexec_fn=_default_sigint)
  deadline = time.time() + DEADLINE_SECONDS
  while not os.listdir(str(markers)):
    if process.poll() is not None or time.time() > deadline:
      process.kill()
      _, stderr = process.communicate()
      pytest.fail("no task reached the marker:\n%s" % stderr)
    time.sleep(0.02)
  return process, out_dir, [int(name) for name in os.listdir(str(markers))]


def _finish(process, marker_pids):
  """Waits (bounded) for process to end; returns (returncode, stderr)."""
  try:
    _, stderr = process.communicate(timeout=DEADLINE_SECONDS)
  except subprocess.TimeoutExpired:
    # The regression: clean up what the test started, then fail.
    process.kill()
    for pid in marker_pids:
      if pid != process.pid and not _gone(pid):
        os.kill(pid, signal.SIGKILL)
    _, stderr = process.communicate()
    pytest.fail("the run did not end within %d s after the signal:\n%s" %
                (DEADLINE_SECONDS, stderr))
  return process.returncode, stderr


# Dead workers and interrupts -------------------------------------------------


@pytest.mark.slow
def test_killed_worker_ends_the_run_with_one_line(tmp_path, hub_corpus_file,
                                                  hub_spm_model):
  """kill -9 of a worker (the OOM killer) ends the run at once, cleanly."""
  process, out_dir, pids = _start_at_marker(tmp_path, hub_corpus_file,
                                            hub_spm_model)
  workers = [pid for pid in pids if pid != process.pid]
  assert workers, "the marker should come from a worker process"
  os.kill(workers[0], signal.SIGKILL)
  returncode, stderr = _finish(process, pids)
  assert returncode == 1, stderr
  errors = _error_lines(stderr)
  assert len(errors) == 1, stderr
  assert ("error: a worker process died (exit code -9, killed by SIGKILL; "
          "out of memory?)" in errors[0])
  assert "Traceback" not in stderr
  # No output, not even a hidden temporary file; no worker left running.
  assert os.listdir(str(out_dir)) == []
  assert all(_gone(pid) for pid in pids)


@pytest.mark.slow
@pytest.mark.parametrize("signum,returncode,message", [
    (signal.SIGINT, 130, "interrupted; no output was written"),
    (signal.SIGTERM, 143, "terminated by SIGTERM; no output was written"),
])
def test_interrupt_is_one_line_and_leaves_nothing(tmp_path, hub_corpus_file,
                                                  hub_spm_model, signum,
                                                  returncode, message):
  """Ctrl-C (or SIGTERM) mid-run: one line, exit 130 (143), no files."""
  process, out_dir, pids = _start_at_marker(tmp_path, hub_corpus_file,
                                            hub_spm_model)
  # The run is under way: its temporary output exists.
  assert os.listdir(str(out_dir)) == [".out.tfrecord.tmp-%d" % process.pid]
  process.send_signal(signum)
  code, stderr = _finish(process, pids)
  assert code == returncode, stderr
  assert _error_lines(stderr) == ["create_pretraining_data: " + message]
  assert "Traceback" not in stderr
  assert os.listdir(str(out_dir)) == []
  assert all(_gone(pid) for pid in pids)


# Temporary and leftover files ------------------------------------------------


def test_output_is_written_under_a_hidden_temporary_name(
    tmp_path, hub_corpus_file, hub_spm_model, monkeypatch):
  """While a run writes, no glob of the output directory sees its file."""
  seen = []
  original_write = cpd.ExampleWriter.write

  def watching_write(self, serialized):
    if not seen:
      seen.append(sorted(os.listdir(str(tmp_path))))
      seen.append(glob.glob(str(tmp_path / "*")))
    original_write(self, serialized)

  monkeypatch.setattr(cpd.ExampleWriter, "write", watching_write)
  _, output = _run_into(tmp_path, hub_corpus_file, hub_spm_model)
  names, globbed = seen
  assert names == [".out.tfrecord.tmp-%d" % os.getpid()]
  assert globbed == []
  assert os.listdir(str(tmp_path)) == ["out.tfrecord"]
  assert len(list(tf.io.tf_record_iterator(output))) > 0


def _dead_pid():
  """The pid of a process that has ended."""
  child = subprocess.Popen([sys.executable, "-c", "pass"])
  child.wait()
  return child.pid


def test_stale_temporary_files_of_dead_runs_are_removed(
    tmp_path, hub_corpus_file, hub_spm_model):
  """Only this output's temporary files whose writer is dead are removed."""
  dead = _dead_pid()
  # A process that stays alive until its stdin closes: a concurrent run.
  alive = subprocess.Popen([sys.executable, "-c",
                            "import sys; sys.stdin.read()"],
                           stdin=subprocess.PIPE)
  try:
    stale = ".out.tfrecord.tmp-%d" % dead
    kept = [
        ".out.tfrecord.tmp-%d" % alive.pid,   # its writer still runs
        ".other.tfrecord.tmp-%d" % dead,      # not an output of this run
        ".out.tfrecord.tmp-%d.keep" % dead,   # not exactly the pattern
        "out.tfrecord.tmp-%d" % dead,         # not our name
        ".out.tfrecord.tmp-",                 # no pid
        "notes.txt",
    ]
    for name in [stale] + kept:
      (tmp_path / name).write_bytes(b"partial")
    _run_into(tmp_path, hub_corpus_file, hub_spm_model)
    assert sorted(os.listdir(str(tmp_path))) == sorted(kept +
                                                       ["out.tfrecord"])
    for name in kept:
      assert (tmp_path / name).read_bytes() == b"partial"
  finally:
    alive.communicate(b"")


# Long lines ------------------------------------------------------------------


def test_very_long_line_is_reported_once(tmp_path, hub_corpus_file,
                                         hub_spm_model, caplog):
  """Lines far longer than max_seq_length: one warning, count, first place.
  """
  long_line = " ".join(hub_fixtures.make_corpus(num_sentences=400, seed=1))
  with open(hub_corpus_file, encoding="utf-8") as f:
    normal = f.read().strip()
  path = tmp_path / "long.txt"
  # The first long line is line 4 of the file: after a two-line document
  # and its blank line.
  path.write_text("A short one.\nAnother short one.\n\n" + long_line +
                  "\nAnd a short end.\n\n" + normal + "\n\n" + long_line +
                  "\n", encoding="utf-8")
  out_dir = tmp_path / "out"
  out_dir.mkdir()
  caplog.set_level(logging.INFO)
  summary, _ = _run_into(out_dir, str(path), hub_spm_model, num_workers=2,
                         chunk_size=7)
  assert summary.long_sentences == 2
  assert summary.first_long_sentence == "%s:4" % path
  warnings = [r.getMessage() for r in caplog.records
              if "input line(s) have more than" in r.getMessage()]
  assert warnings == [
      "2 input line(s) have more than 64 tokens (2 x max_seq_length), first "
      "at %s:4: an example holds at most 29 tokens of one line and drops the "
      "rest. Is the input one sentence per line, with blank lines between "
      "documents?" % path]
  assert warnings == [w for w in summary.warnings if "input line" in w]


def test_ordinary_lines_give_no_long_line_warning(tmp_path, hub_corpus_file,
                                                  hub_spm_model):
  summary, _ = _run_into(tmp_path, hub_corpus_file, hub_spm_model)
  assert summary.long_sentences == 0
  assert summary.first_long_sentence is None
  assert summary.warnings == []


def _naive_truncate(tokens_a, tokens_b, max_num_tokens, rng):
  """The released truncate_seq_pair: one token at a time."""
  while len(tokens_a) + len(tokens_b) > max_num_tokens:
    longer = tokens_a if len(tokens_a) > len(tokens_b) else tokens_b
    if len(longer) < 2:
      raise ValueError("cannot truncate")
    if rng.random() < 0.5:
      del longer[0]
    else:
      longer.pop()


def test_truncate_seq_pair_matches_token_by_token_truncation():
  """The linear-time truncation gives the released result and rng state."""
  sizes = random.Random(5)
  for trial in range(300):
    a = list(range(sizes.randint(1, 60)))
    b = list(range(100, 100 + sizes.randint(1, 60)))
    limit = sizes.randint(2, 80)
    expected_a, expected_b = list(a), list(b)
    expected_rng = random.Random(trial)
    _naive_truncate(expected_a, expected_b, limit, expected_rng)
    rng = random.Random(trial)
    cpd.truncate_seq_pair(a, b, limit, rng)
    assert (a, b) == (expected_a, expected_b)
    assert rng.getstate() == expected_rng.getstate()


# Flags -----------------------------------------------------------------------


def test_more_predictions_than_tokens_is_refused(tmp_path, hub_corpus_file,
                                                 hub_spm_model):
  with pytest.raises(ValueError) as info:
    _run_into(tmp_path, hub_corpus_file, hub_spm_model,
              options=cpd.Options(max_seq_length=32,
                                  max_predictions_per_seq=33))
  assert str(info.value).startswith(
      "--max_predictions_per_seq=33 is larger than --max_seq_length=32")
  assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("overrides,flag", [
    ({"dupe_factor": 0}, "--dupe_factor=0"),
    ({"masked_lm_prob": 1.5}, "--masked_lm_prob=1.5"),
    ({"masked_lm_prob": float("nan")}, "--masked_lm_prob=nan"),
    ({"short_seq_prob": -0.1}, "--short_seq_prob=-0.1"),
    ({"max_seq_length": 0}, "--max_seq_length=0"),
    ({"masked_lm_prob": "0.15"}, "--masked_lm_prob='0.15'"),
    ({"num_workers": 0}, "--num_workers=0"),
    ({"chunk_size": -1}, "--chunk_size=-1"),
])
def test_numeric_flags_are_checked_by_the_shared_rules(
    tmp_path, hub_corpus_file, hub_spm_model, overrides, flag):
  """command_line.check_numeric_flags names the flag and its value."""
  options = dict(overrides)
  kwargs = {key: options.pop(key) for key in ("num_workers", "chunk_size")
            if key in options}
  with pytest.raises(ValueError) as info:
    _run_into(tmp_path, hub_corpus_file, hub_spm_model,
              options=cpd.Options(
                  max_seq_length=options.pop("max_seq_length", 32),
                  max_predictions_per_seq=5, **options), **kwargs)
  assert str(info.value).startswith(flag + " must be")
  assert os.listdir(str(tmp_path)) == []


@pytest.mark.slow
def test_bad_flags_are_one_line_on_the_command_line(tmp_path, hub_corpus_file,
                                                    hub_spm_model):
  output = str(tmp_path / "out.tfrecord")
  common = ["--input_file=" + hub_corpus_file, "--output_file=" + output,
            "--spm_model_file=" + hub_spm_model]
  result = _cli_run(common + ["--max_seq_length=32",
                              "--max_predictions_per_seq=40"])
  assert result.returncode == 1
  assert _error_lines(result.stderr) == [
      "create_pretraining_data: error: --max_predictions_per_seq=40 is "
      "larger than --max_seq_length=32; a sequence cannot have more "
      "predictions than tokens"]
  result = _cli_run(common + ["--masked_lm_prob=1.5"])
  assert result.returncode == 1
  assert _error_lines(result.stderr) == [
      "create_pretraining_data: error: --masked_lm_prob=1.5 must be within "
      "[0, 1]"]
  assert "Traceback" not in result.stderr
  assert os.listdir(str(tmp_path)) == []


# Files that cannot be written or read ----------------------------------------


class _FullDiskWriter(tf.io.TFRecordWriter):
  """A TFRecordWriter on a disk that fills up after `room` records."""
  room = 30
  fail_on = "write"

  def write(self, record):
    if self.fail_on == "write":
      if _FullDiskWriter.room == 0:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
      _FullDiskWriter.room -= 1
    super().write(record)

  def close(self):
    super().close()
    if self.fail_on == "close":
      raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("fail_on", ["write", "close"])
def test_full_disk_names_the_output_file_and_leaves_nothing(
    tmp_path, hub_corpus_file, hub_spm_model, monkeypatch, fail_on):
  """ENOSPC while writing (or flushing at close): one message, no output."""
  monkeypatch.setattr(_FullDiskWriter, "room", 30)
  monkeypatch.setattr(_FullDiskWriter, "fail_on", fail_on)
  monkeypatch.setattr(tf.io, "TFRecordWriter", _FullDiskWriter)
  (tmp_path / "out-1.tfrecord").write_bytes(b"from an earlier run")
  outputs = [str(tmp_path / "out-0.tfrecord"),
             str(tmp_path / "out-1.tfrecord")]
  with pytest.raises(OSError) as info:
    cpd.create_pretraining_data(hub_corpus_file, ",".join(outputs),
                                spm_model_file=hub_spm_model, options=SMALL,
                                num_workers=2, progress_interval=1e9)
  message = str(info.value)
  assert message.startswith("cannot write output file %s/out-" % tmp_path)
  assert "No space left on device; free some space and run again" in message
  assert message.endswith("(no output was written)")
  assert sorted(os.listdir(str(tmp_path))) == ["out-1.tfrecord"]
  assert (tmp_path / "out-1.tfrecord").read_bytes() == b"from an earlier run"


@pytest.mark.slow
def test_full_disk_is_one_line_on_the_command_line(tmp_path, hub_corpus_file,
                                                   hub_spm_model):
  output = str(tmp_path / "out.tfrecord")
  patch = (
      "import errno, os\n"
      "import tensorflow.compat.v1 as tf\n"
      "class Full(tf.io.TFRecordWriter):\n"
      "  def write(self, record):\n"
      "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
      "tf.io.TFRecordWriter = Full\n")
  result = _cli_run(["--input_file=" + hub_corpus_file,
                     "--output_file=" + output,
                     "--spm_model_file=" + hub_spm_model] + SMALL_FLAGS,
                    code=patch)
  assert result.returncode == 1
  assert _error_lines(result.stderr) == [
      "create_pretraining_data: error: cannot write output file %s: No "
      "space left on device; free some space and run again (no output was "
      "written)" % output]
  assert "Traceback" not in result.stderr
  assert os.listdir(str(tmp_path)) == []


def test_unopenable_output_names_the_output_not_the_temporary(
    tmp_path, hub_corpus_file, hub_spm_model, monkeypatch):
  def refuse(path):
    raise tf.errors.PermissionDeniedError(None, None,
                                          "%s; Permission denied" % path)

  monkeypatch.setattr(tf.io, "TFRecordWriter", refuse)
  output = str(tmp_path / "out.tfrecord")
  with pytest.raises(cpd.FileError) as info:
    _run_into(tmp_path, hub_corpus_file, hub_spm_model)
  assert str(info.value).startswith("cannot write output file %s: " % output)
  assert os.listdir(str(tmp_path)) == []


def test_unreadable_input_names_the_file(tmp_path, hub_corpus_file,
                                         hub_spm_model, monkeypatch):
  """A read that fails mid-file (a lost mount) names the input file."""
  original = cpd._binary_lines

  def failing_lines(reader, block_size=1 << 20):
    for number, line in enumerate(original(reader, block_size)):
      if number == 12:
        raise tf.errors.UnavailableError(None, None, "Input/output error")
      yield line

  monkeypatch.setattr(cpd, "_binary_lines", failing_lines)
  with pytest.raises(cpd.FileError) as info:
    _run_into(tmp_path, hub_corpus_file, hub_spm_model)
  assert str(info.value) == ("cannot read input file %s: Input/output error"
                             % hub_corpus_file)
  assert os.listdir(str(tmp_path)) == []


@pytest.mark.slow
def test_tensorflow_errors_are_one_line_on_the_command_line(
    tmp_path, hub_corpus_file, hub_spm_model):
  """Whatever TensorFlow raises about files ends as one line, exit 1."""
  output = str(tmp_path / "out.tfrecord")
  patch = (
      "import tensorflow.compat.v1 as tf\n"
      "from albert import create_pretraining_data as cpd\n"
      "def fail(*args, **kwargs):\n"
      "  raise tf.errors.UnavailableError(None, None, 'bucket gone\\nmore')\n"
      "cpd.create_pretraining_data = fail\n")
  result = _cli_run(["--input_file=" + hub_corpus_file,
                     "--output_file=" + output,
                     "--spm_model_file=" + hub_spm_model], code=patch)
  assert result.returncode == 1
  assert _error_lines(result.stderr) == [
      "create_pretraining_data: error: bucket gone (TensorFlow "
      "UnavailableError)"]
  assert "Traceback" not in result.stderr
