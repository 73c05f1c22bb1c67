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
"""Builds the quickstart's English pretraining corpus from stdlib docstrings.

The quickstart must run on a machine without network access, so the corpus is
made from English prose that every Python installation already carries: the
docstrings of the standard library, plus the Language Reference text that
pydoc_data/topics.py holds for help(). Sources are parsed with `ast`, never
imported, because importing stdlib modules can have side effects (GUI windows,
network probes, slow start-up) and would make the output depend on the
environment rather than on the source files alone. Installed third-party
packages are not read, so the corpus does not depend on what else is installed.

The output is what create_pretraining_data reads: one sentence per line and a
blank line between documents. For one Python version the bytes are the same on
every run and every machine with an unmodified standard library.

Usage:
  python -m albert.quickstart_corpus --output_file=corpus.txt
"""

import argparse
import ast
import collections
import os
import re
import sys
import sysconfig

from albert import staging

DEFAULT_MIN_BYTES = 600000

# Holds the Language Reference as plain text for help(); read as data.
_TOPICS_MODULE = "pydoc_data.topics"

# Packages and modules left out of the corpus. Tests and demos are code rather
# than prose; the GUI modules (tkinter, turtle, idlelib), 2to3, ensurepip and
# distutils are split into separate, optional OS packages by several Linux
# distributions, so reading them would make the corpus differ between machines
# running the same Python version; antigravity and this are jokes.
EXCLUDED_PACKAGES = frozenset([
    "test", "tests", "idlelib", "tkinter", "turtledemo", "lib2to3",
    "ensurepip", "distutils", "site-packages", "dist-packages",
    "__pycache__", "turtle", "antigravity", "this",
])

# A class whose cleaned docstrings yield at least this many sentences becomes
# a document of its own; smaller ones are folded into their module's document
# so that documents stay long enough to supply sentence pairs.
MIN_CLASS_DOCUMENT_SENTENCES = 4

MIN_DOCUMENT_SENTENCES = 2
MIN_SENTENCE_WORDS = 4
MAX_SENTENCE_CHARS = 300
MIN_LETTER_FRACTION = 0.85

# Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset([
    "e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "vs", "cf", "approx", "no",
    "fig", "st", "jr", "sr", "al", "resp", "ca", "viz", "eg", "ie", "incl",
    "esp", "ref", "sec", "vol", "ch", "ed",
])

_UNDERLINE_RE = re.compile(r"^([-=~^*+#`'\"_.:])\1{2,}\s*$")
_DOCTEST_RE = re.compile(r"^(>>>|\.\.\.)(\s|$)")
_DIRECTIVE_RE = re.compile(r"^\.\.\s")
_FIELD_RE = re.compile(r"^:[\w ]+:")
_BULLET_RE = re.compile(r"^([-*+\u2022]|\(?\d+[.)]|\(?[a-z][.)])\s+")
_ROLE_RE = re.compile(r":[\w:.-]+:`~?!?([^`<]*?)\s*(<[^`]*>)?`")
_LITERAL_RE = re.compile(r"``([^`]*)``|`([^`]*)`")
_EMPHASIS_RE = re.compile(r"\*{1,2}([^*\s][^*]*?)\*{1,2}")
_URL_RE = re.compile(r"(https?://|ftp://|www\.|mailto:)", re.I)
# Characters that only appear in code, markup or tables, not in prose.
_CODE_CHARS_RE = re.compile(r"[=<>{}\[\]|\\#@$^~`]")
_SENTENCE_END_RE = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(]?[A-Z])")
_TERMINAL_RE = re.compile(r"[.!?][\"')]*$")

CorpusSummary = collections.namedtuple(
    "CorpusSummary",
    ["path", "documents", "sentences", "bytes", "modules_scanned"])


class CorpusTooSmallError(ValueError):
  """The docstrings found yield less text than the caller asked for."""


def stdlib_dir():
  """The directory holding the pure-Python standard library."""
  return sysconfig.get_paths()["stdlib"]


def _is_excluded(parts):
  for part in parts:
    if part in EXCLUDED_PACKAGES:
      return True
    # Dunder modules are frozen-import fixtures (__hello__, __phello__) and
    # __future__'s feature table; _sysconfigdata_* is generated per build and
    # platform, so reading it would make the corpus machine-specific. Other
    # private modules stay: _pydecimal and _pyio carry the documentation of
    # decimal and io, whose public modules just import the C versions.
    if part.startswith("__") or part.startswith("_sysconfigdata"):
      return True
  return False


def _public_top_level_names():
  """Names the interpreter itself calls stdlib, or None before Python 3.10."""
  names = getattr(sys, "stdlib_module_names", None)
  return frozenset(names) if names is not None else None


def list_stdlib_modules(root=None):
  """Sorted (dotted_name, source_path) pairs of the stdlib modules to read.

  Args:
    root: the stdlib directory; defaults to this interpreter's.

  Returns:
    A list sorted by dotted module name. A package appears under its own name
    with its __init__.py as the source.
  """
  root = root or stdlib_dir()
  known = _public_top_level_names()
  modules = []
  for dirpath, dirnames, filenames in os.walk(root):
    rel = os.path.relpath(dirpath, root)
    parts = [] if rel == "." else rel.split(os.sep)
    # Only descend into packages; plain directories (lib-dynload, config-*)
    # hold no importable Python sources.
    dirnames[:] = sorted(
        d for d in dirnames
        if not _is_excluded([d]) and
        os.path.isfile(os.path.join(dirpath, d, "__init__.py")))
    if parts and not os.path.isfile(os.path.join(dirpath, "__init__.py")):
      continue
    for filename in sorted(filenames):
      if not filename.endswith(".py"):
        continue
      stem = filename[:-3]
      if stem == "__init__":
        if not parts:
          continue
        name_parts = parts
      else:
        if _is_excluded([stem]):
          continue
        name_parts = parts + [stem]
      if known is not None and name_parts[0] not in known:
        continue
      modules.append((".".join(name_parts), os.path.join(dirpath, filename)))
  modules.sort()
  return modules


def _strip_markup(text):
  """Turns reST/Markdown inline markup into the words it marks up."""
  text = _ROLE_RE.sub(lambda m: m.group(1), text)
  text = _LITERAL_RE.sub(lambda m: m.group(1) or m.group(2) or "", text)
  text = _EMPHASIS_RE.sub(lambda m: m.group(1), text)
  # A trailing "::" introduces a literal block in reST; as prose it is ":".
  text = re.sub(r"::$", ":", text)
  return re.sub(r"\s+", " ", text).strip()


def docstring_paragraphs(docstring):
  """Splits a cleaned docstring (or other reST-like text) into paragraphs.

  A line ending in ":" introduces a literal block, an argument list or a
  definition list, so everything indented deeper than it is dropped as code;
  so are doctests with their output, reST field lists, directives and
  headings with their underlines. Other indented paragraphs are
  kept, because plain-text renderings of the manual indent running prose.
  Wrapped lines are joined.

  Args:
    docstring: text as returned by ast.get_docstring (already dedented).

  Returns:
    A list of paragraph strings, one line each.
  """
  paragraphs = []
  current = []

  def flush():
    if current:
      paragraphs.append(_strip_markup(" ".join(current)))
      del current[:]

  lines = docstring.expandtabs().splitlines()
  block_indent = None  # Lines indented deeper than this are code.
  in_doctest = False
  para_indent = None
  hanging_indent = None  # Where a bullet item's wrapped lines continue.
  for i, line in enumerate(lines):
    stripped = line.strip()
    if not stripped:
      flush()
      in_doctest = False
      continue
    indent = len(line) - len(line.lstrip())
    if block_indent is not None:
      if indent > block_indent:
        continue
      block_indent = None
    if in_doctest:
      # Expected output runs until the next blank line.
      continue
    following = lines[i + 1].strip() if i + 1 < len(lines) else ""
    if _DOCTEST_RE.match(stripped):
      flush()
      in_doctest = True
      continue
    if current and indent == hanging_indent:
      current.append(stripped)
      continue
    if indent != para_indent:
      flush()
      para_indent = indent
      hanging_indent = None
    if _UNDERLINE_RE.match(stripped):
      flush()
      continue
    if _DIRECTIVE_RE.match(stripped) or _FIELD_RE.match(stripped):
      # Their indented bodies are options, field text or list entries.
      flush()
      block_indent = indent
      continue
    if following and _UNDERLINE_RE.match(following):
      # A heading: a title, not a sentence.
      flush()
      continue
    bullet = _BULLET_RE.match(stripped)
    if bullet:
      flush()
      hanging_indent = indent + bullet.end()
      stripped = stripped[bullet.end():]
    current.append(stripped)
    if stripped.endswith(":"):
      # Sentences before the colon survive; the clause it ends is not one.
      flush()
      block_indent = indent
  flush()
  return [p for p in paragraphs if p]


def _ends_at_abbreviation(text, end):
  """Whether the period at text[end] belongs to an abbreviation or initial."""
  start = end
  while start > 0 and not text[start - 1].isspace():
    start -= 1
  word = text[start:end].lstrip("(\"'").lower()
  if word in _ABBREVIATIONS:
    return True
  # Single letters are initials ("J. Smith") or list labels ("a. b.").
  return len(word) == 1 and word.isalpha()


def split_sentences(paragraph):
  """Rule-based sentence splitter for English prose.

  A sentence ends at ".", "!" or "?" (optionally followed by closing quotes
  or brackets) when whitespace and an upper-case letter follow, unless the
  period closes a common abbreviation or a single-letter initial.

  Args:
    paragraph: one paragraph of text on a single line.

  Returns:
    A list of sentence strings.
  """
  sentences = []
  start = 0
  for match in _SENTENCE_END_RE.finditer(paragraph):
    if (paragraph[match.start()] == "." and
        _ends_at_abbreviation(paragraph, match.start())):
      continue
    sentence = paragraph[start:match.end()].strip()
    if sentence:
      sentences.append(sentence)
    start = match.end()
  tail = paragraph[start:].strip()
  if tail:
    sentences.append(tail)
  return sentences


def is_prose_sentence(sentence):
  """Whether a sentence looks like English prose rather than code or markup."""
  if len(sentence) > MAX_SENTENCE_CHARS:
    return False
  if len(sentence.split()) < MIN_SENTENCE_WORDS:
    return False
  # Paragraphs may open with a lower-case identifier ("env must be a dict.");
  # mid-paragraph sentences always start upper-case by construction.
  if not sentence[0].isalpha() or not _TERMINAL_RE.search(sentence):
    return False
  if _URL_RE.search(sentence) or _CODE_CHARS_RE.search(sentence):
    return False
  letters = sum(1 for c in sentence if c.isalpha() or c == " ")
  return letters >= MIN_LETTER_FRACTION * len(sentence)


def _text_sentences(text):
  """Prose sentences of a docstring-like text."""
  sentences = []
  for paragraph in docstring_paragraphs(text):
    sentences.extend(s for s in split_sentences(paragraph)
                     if is_prose_sentence(s))
  return sentences


def _docstring_sentences(node):
  """Prose sentences of one node's own docstring (not its children's)."""
  docstring = ast.get_docstring(node, clean=True)
  return _text_sentences(docstring) if docstring else []


def _class_sentences(node):
  """Sentences of a class docstring followed by its methods' docstrings."""
  sentences = _docstring_sentences(node)
  for child in node.body:
    if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
      sentences.extend(_docstring_sentences(child))
    elif isinstance(child, ast.ClassDef):
      sentences.extend(_class_sentences(child))
  return sentences


def _parse_source(source_path):
  """The ast of a Python source file (never imported), or None if invalid."""
  with open(source_path, "rb") as f:
    source = f.read()
  try:
    # Bytes let ast honour the file's own coding declaration.
    return ast.parse(source, filename=source_path)
  except (SyntaxError, ValueError):
    return None


def module_documents(source_path):
  """Documents (lists of sentences) made from one source file's docstrings.

  The first document holds the module docstring, the top-level functions'
  docstrings and those of small classes, in source order; each class with
  enough prose follows as a document of its own. Sentences are not yet
  de-duplicated and documents may still be short.

  Args:
    source_path: path of a Python source file.

  Returns:
    A list of lists of sentences; empty if the file does not parse.
  """
  tree = _parse_source(source_path)
  if tree is None:
    return []
  main_document = list(_docstring_sentences(tree))
  class_documents = []
  for node in tree.body:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
      main_document.extend(_docstring_sentences(node))
    elif isinstance(node, ast.ClassDef):
      sentences = _class_sentences(node)
      if len(sentences) >= MIN_CLASS_DOCUMENT_SENTENCES:
        class_documents.append(sentences)
      else:
        main_document.extend(sentences)
  return [main_document] + class_documents


def topic_documents(source_path):
  """Documents from pydoc_data/topics.py, the manual text behind help().

  That module holds no docstrings but a dict of plain-text renderings of the
  Python Language Reference, one per help topic; each topic is a document,
  in sorted topic order.

  Args:
    source_path: path of pydoc_data/topics.py.

  Returns:
    A list of lists of sentences; empty if the expected dict is not found.
  """
  tree = _parse_source(source_path)
  if tree is None:
    return []
  topics = {}
  for node in tree.body:
    if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and
        any(isinstance(t, ast.Name) and t.id == "topics"
            for t in node.targets)):
      for key, value in zip(node.value.keys, node.value.values):
        if (isinstance(key, ast.Constant) and isinstance(key.value, str) and
            isinstance(value, ast.Constant) and isinstance(value.value, str)):
          topics[key.value] = value.value
  documents = []
  for name in sorted(topics):
    documents.append(_text_sentences(topics[name]))
  return documents


def _select_modules(all_modules, names):
  """The modules named in `names` (a package name selects its submodules)."""
  if names is None:
    return all_modules
  if isinstance(names, str):
    names = [names]
  selected = []
  for name in names:
    matches = [(m, p) for m, p in all_modules
               if m == name or m.startswith(name + ".")]
    if not matches:
      raise ValueError(
          "%r is not a standard-library module the corpus builder reads (test, "
          "GUI and build-specific modules are excluded)." % name)
    selected.extend(matches)
  return sorted(set(selected))


def collect_documents(modules=None, max_bytes=None):
  """Gathers de-duplicated documents from stdlib docstrings.

  Args:
    modules: optional list of dotted module names to restrict the corpus to;
      a package name includes its submodules. None scans the whole library.
    max_bytes: optional cap on the UTF-8 size of the corpus; whole documents
      are kept until the next one would exceed it.

  Returns:
    (documents, modules_scanned): documents as lists of sentences, in the
    order they are written.
  """
  selected = _select_modules(list_stdlib_modules(), modules)
  seen = set()
  documents = []
  size = 0
  for name, path in selected:
    if name == _TOPICS_MODULE:
      module_docs = topic_documents(path)
    else:
      module_docs = module_documents(path)
    for sentences in module_docs:
      # Docstrings repeat a lot ("Return self." in every subclass), and
      # repeated lines would let the model memorise rather than learn.
      unique = []
      for sentence in sentences:
        if sentence not in seen:
          seen.add(sentence)
          unique.append(sentence)
      if len(unique) < MIN_DOCUMENT_SENTENCES:
        continue
      doc_bytes = len(_format_document(unique, first=not documents))
      if max_bytes is not None and size + doc_bytes > max_bytes:
        return documents, len(selected)
      documents.append(unique)
      size += doc_bytes
  return documents, len(selected)


def _format_document(sentences, first):
  """UTF-8 bytes of one document, with the blank line that separates it."""
  text = "\n".join(sentences) + "\n"
  if not first:
    text = "\n" + text
  return text.encode("utf-8")


def _write_documents(handle, documents):
  """Writes the documents to an open binary file."""
  for i, sentences in enumerate(documents):
    handle.write(_format_document(sentences, first=(i == 0)))


def _write_atomically(output_path, documents):
  """Writes to a temporary file beside output_path, then renames it.

  A reader (or a rerun after a crash) thus sees either no corpus or a whole
  one, never a truncated file that would silently shrink the training data.
  """
  with staging.staged_path(output_path) as tmp_path:
    with open(tmp_path, "wb") as handle:
      _write_documents(handle, documents)
      # On disk before the rename: a crash then leaves the previous corpus
      # or the whole new one, never an empty file under the final name.
      handle.flush()
      os.fsync(handle.fileno())


def build_corpus(output_path, min_bytes=DEFAULT_MIN_BYTES, max_bytes=None,
                 modules=None):
  """Writes the stdlib-docstring corpus to output_path.

  Args:
    output_path: file to create (replaced atomically if it exists).
    min_bytes: raise CorpusTooSmallError, writing nothing, if the corpus is
      smaller than this.
    max_bytes: optional cap on the corpus size (whole documents only).
    modules: optional list of dotted stdlib module names to restrict to.

  Returns:
    A CorpusSummary(path, documents, sentences, bytes, modules_scanned).

  Raises:
    CorpusTooSmallError: if the corpus would be under min_bytes.
    ValueError: if a name in `modules` is not an available stdlib module.
  """
  if max_bytes is not None and max_bytes < min_bytes:
    raise ValueError("max_bytes (%d) is below min_bytes (%d)." %
                     (max_bytes, min_bytes))
  documents, modules_scanned = collect_documents(modules, max_bytes)
  size = sum(len(_format_document(d, first=(i == 0)))
             for i, d in enumerate(documents))
  if size < min_bytes:
    raise CorpusTooSmallError(
        "The docstring corpus is only %d bytes (%d documents from %d modules "
        "scanned under %s); at least %d bytes are required. Lower min_bytes "
        "or scan more modules." %
        (size, len(documents), modules_scanned, stdlib_dir(), min_bytes))
  _write_atomically(output_path, documents)
  return CorpusSummary(
      path=output_path, documents=len(documents),
      sentences=sum(len(d) for d in documents), bytes=size,
      modules_scanned=modules_scanned)


def main(argv=None):
  """Command-line entry point; prints the summary of the corpus it wrote."""
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--output_file", required=True,
                      help="Where to write the corpus.")
  parser.add_argument("--min_bytes", type=int, default=DEFAULT_MIN_BYTES,
                      help="Fail if the corpus comes out smaller than this.")
  parser.add_argument("--max_bytes", type=int, default=None,
                      help="Stop adding documents at this size.")
  parser.add_argument("--modules", default=None,
                      help="Comma-separated stdlib modules to restrict to.")
  args = parser.parse_args(argv)
  modules = args.modules.split(",") if args.modules else None
  try:
    summary = build_corpus(args.output_file, min_bytes=args.min_bytes,
                           max_bytes=args.max_bytes, modules=modules)
  except ValueError as e:
    # Bad arguments or too little text: the message says what to change.
    sys.stderr.write("error: %s\n" % e)
    return 1
  print("Wrote %s: %d documents, %d sentences, %d bytes from %d modules." %
        (summary.path, summary.documents, summary.sentences, summary.bytes,
         summary.modules_scanned))
  return 0


if __name__ == "__main__":
  sys.exit(main())
