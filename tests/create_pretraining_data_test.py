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
"""Tests for albert.create_pretraining_data.

A generated corpus and a small SentencePiece model trained on it stand in for
real data. Every sentence starts and ends with a marker word zqd<doc>x<sent>q,
so the document and sentence that a segment came from can be read back out
of the written examples.
"""

import collections
import json
import logging as std_logging
import os
import random
import re
import subprocess
import sys

import pytest
import sentencepiece as spm

import hub_fixtures
import tensorflow.compat.v1 as tf

from albert import create_pretraining_data as cpd
from albert import tokenization

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
