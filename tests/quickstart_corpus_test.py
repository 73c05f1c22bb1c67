# coding=utf-8
"""Tests for albert.quickstart_corpus: size, format, determinism, atomicity."""

import os
import sys

import pytest

from albert import quickstart_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  """Builds the full corpus once; returns (path, summary)."""
  path = str(tmp_path_factory.mktemp("corpus") / "corpus.txt")
  summary = quickstart_corpus.build_corpus(path)
  return path, summary


def read_documents(path):
  with open(path, "rb") as f:
    text = f.read().decode("utf-8")
  assert text.endswith("\n") and not text.endswith("\n\n")
  return [block.split("\n") for block in text[:-1].split("\n\n")]


def test_corpus_is_large_multi_document_prose(corpus):
  path, summary = corpus
  size = os.path.getsize(path)
  assert size >= 500 * 1024
  assert size == summary.bytes
  documents = read_documents(path)
  assert len(documents) >= 100
  assert len(documents) == summary.documents
  assert sum(len(d) for d in documents) == summary.sentences
  assert summary.modules_scanned >= 100
  for sentences in documents:
    # Splitting on "\n\n" leaves "" lines if a separator were doubled.
    assert len(sentences) >= 2
    for sentence in sentences:
      assert sentence and sentence == sentence.strip()
      assert not sentence.startswith((">>>", "..."))
      assert len(sentence.split()) >= 4
      assert "http://" not in sentence and "https://" not in sentence
      assert sentence[-1] in ".!?\"')"


def test_corpus_is_mostly_letters(corpus):
  path, _ = corpus
  with open(path, encoding="utf-8") as f:
    text = f.read().replace("\n", " ")
  letters = sum(1 for c in text if c.isalpha() or c == " ")
  assert letters / len(text) > 0.9


def test_corpus_has_no_duplicate_sentences(corpus):
  path, _ = corpus
  sentences = [s for d in read_documents(path) for s in d]
  assert len(sentences) == len(set(sentences))


def test_build_is_deterministic(corpus, tmp_path):
  path, summary = corpus
  again = str(tmp_path / "again.txt")
  assert quickstart_corpus.build_corpus(again) == summary._replace(path=again)
  with open(path, "rb") as a, open(again, "rb") as b:
    assert a.read() == b.read()


def test_max_bytes_keeps_whole_documents(tmp_path):
  path = str(tmp_path / "capped.txt")
  summary = quickstart_corpus.build_corpus(
      path, min_bytes=0, max_bytes=20000, modules=["email", "json"])
  assert 0 < summary.bytes <= 20000
  assert os.path.getsize(path) == summary.bytes
  assert all(len(d) >= 2 for d in read_documents(path))


def test_failed_write_leaves_no_files(tmp_path, monkeypatch):
  def failing_writer(handle, documents):
    handle.write("\n".join(documents[0]).encode("utf-8"))
    raise OSError("disk full")

  monkeypatch.setattr(quickstart_corpus, "_write_documents", failing_writer)
  path = tmp_path / "corpus.txt"
  with pytest.raises(OSError, match="disk full"):
    quickstart_corpus.build_corpus(str(path), min_bytes=0, modules=["json"])
  assert os.listdir(str(tmp_path)) == []


def test_failed_write_keeps_previous_corpus(tmp_path, monkeypatch):
  path = tmp_path / "corpus.txt"
  path.write_text("old corpus\n")

  def failing_writer(handle, documents):
    raise OSError("disk full")

  monkeypatch.setattr(quickstart_corpus, "_write_documents", failing_writer)
  with pytest.raises(OSError):
    quickstart_corpus.build_corpus(str(path), min_bytes=0, modules=["json"])
  assert path.read_text() == "old corpus\n"
  assert os.listdir(str(tmp_path)) == ["corpus.txt"]


def test_too_small_corpus_is_a_clear_error(tmp_path):
  path = tmp_path / "corpus.txt"
  with pytest.raises(quickstart_corpus.CorpusTooSmallError,
                     match=r"only \d+ bytes .* from 1 modules") as info:
    quickstart_corpus.build_corpus(str(path), modules=["colorsys"])
  assert "600000 bytes are required" in str(info.value)
  assert not path.exists()


def test_unknown_module_is_rejected(tmp_path):
  with pytest.raises(ValueError, match="tkinter"):
    quickstart_corpus.build_corpus(str(tmp_path / "c.txt"), min_bytes=0,
                                   modules=["tkinter"])


def test_module_listing_is_sorted_and_excludes_non_prose():
  names = [name for name, _ in quickstart_corpus.list_stdlib_modules()]
  assert names == sorted(names)
  assert "json" in names and "email.message" in names
  for excluded in ("test", "idlelib", "tkinter", "lib2to3", "__future__"):
    assert excluded not in names
  assert not any(n.startswith(("test.", "_sysconfigdata")) for n in names)


def test_sources_are_parsed_not_imported(tmp_path):
  # Modules this test process has no other reason to load.
  probes = ["mailbox", "nntplib", "imaplib"]
  before = {name for name in probes if name in sys.modules}
  quickstart_corpus.build_corpus(str(tmp_path / "c.txt"), min_bytes=0,
                                 modules=probes)
  assert {name for name in probes if name in sys.modules} == before


def test_paragraphs_drop_code_and_markup():
  docstring = "\n".join([
      "Return the frobnicated value of the given widget.",
      "",
      "Example::",
      "",
      "    x = frob(widget)",
      "    print(x)",
      "",
      ">>> frob(1)",
      "2",
      "",
      "Args:",
      "  widget: the widget.",
      "",
      "Notes",
      "-----",
      "The result is cached, so repeated calls are cheap. See",
      "``frob_all`` for the :func:`batch <frob_all>` version.",
      "",
      ":param widget: ignored",
  ])
  paragraphs = quickstart_corpus.docstring_paragraphs(docstring)
  assert paragraphs == [
      "Return the frobnicated value of the given widget.",
      "Example:",
      # A colon line is kept (the prose filter drops it) but not its body.
      "Args:",
      "The result is cached, so repeated calls are cheap. See frob_all for "
      "the batch version.",
  ]


def test_sentence_splitter_respects_abbreviations():
  text = ("Use a codec, e.g. UTF-8 or Latin-1. It is fast! Is it? Ask "
          "J. Smith about it etc. Then stop.")
  assert quickstart_corpus.split_sentences(text) == [
      "Use a codec, e.g. UTF-8 or Latin-1.", "It is fast!", "Is it?",
      "Ask J. Smith about it etc. Then stop."]


def test_prose_filter():
  is_prose = quickstart_corpus.is_prose_sentence
  assert is_prose("Return the number of items in the queue.")
  assert not is_prose("Return x.")
  assert not is_prose("If mode == P_WAIT return the exit code.")
  assert not is_prose("See https://example.com for the full details.")
  assert not is_prose("This sentence never ends with punctuation")
  assert not is_prose("Long " * 80 + "sentence.")


def test_main_prints_summary(tmp_path, capsys):
  path = str(tmp_path / "c.txt")
  assert quickstart_corpus.main(
      ["--output_file=" + path, "--min_bytes=0", "--modules=json"]) == 0
  assert "documents" in capsys.readouterr().out
  assert os.path.exists(path)
  assert quickstart_corpus.main(
      ["--output_file=" + path, "--modules=colorsys"]) == 1
  assert "only" in capsys.readouterr().err
