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
"""Tokenization for ALBERT: SentencePiece, with a WordPiece fallback.

ALBERT models are trained on SentencePiece pieces; the WordPiece classes are
kept so BERT-style vocab.txt files still work with the same FullTokenizer.
Files are read through tf.gfile so that gs:// paths work as well as local ones.
"""

import collections
import re
import unicodedata

import six
import sentencepiece as spm
import tensorflow.compat.v1 as tf

SPIECE_UNDERLINE = u"▁"

# The special tokens the WordPiece path emits ([UNK]) or the tasks add.
_WORDPIECE_SPECIALS = ("[UNK]", "[CLS]", "[SEP]", "[MASK]")


class TokenizerFileNotFoundError(FileNotFoundError, ValueError):
  """A vocabulary or SentencePiece model file does not exist.

  It is both a FileNotFoundError and a ValueError so that callers written for
  either convention catch it.
  """


class VocabFileError(ValueError):
  """A vocabulary or SentencePiece model file of the wrong kind or broken."""


def validate_case_matches_checkpoint(do_lower_case, init_checkpoint):
  """Raises ValueError if do_lower_case disagrees with a known BERT checkpoint.

  Only the original Google BERT checkpoint names can be recognised, so any
  other checkpoint path passes without a check.

  Args:
    do_lower_case: the casing flag the run was started with.
    init_checkpoint: path of the checkpoint, or None/empty for none.
  """
  if not init_checkpoint:
    return
  found = re.match(r"^.*?([A-Za-z0-9_-]+)/bert_model\.ckpt", init_checkpoint)
  if found is None:
    return
  model_name = found.group(1)
  uncased_models = ("uncased_L-24_H-1024_A-16", "uncased_L-12_H-768_A-12",
                    "multilingual_L-12_H-768_A-12", "chinese_L-12_H-768_A-12")
  cased_models = ("cased_L-12_H-768_A-12", "cased_L-24_H-1024_A-16",
                  "multi_cased_L-12_H-768_A-12")
  if model_name in uncased_models and not do_lower_case:
    raise ValueError(
        "do_lower_case=False but checkpoint %s (%s) is an uncased model; "
        "pass --do_lower_case=True." % (init_checkpoint, model_name))
  if model_name in cased_models and do_lower_case:
    raise ValueError(
        "do_lower_case=True but checkpoint %s (%s) is a cased model; "
        "pass --do_lower_case=False." % (init_checkpoint, model_name))


def preprocess_text(inputs, remove_space=True, lower=False):
  """Normalises text the way ALBERT's SentencePiece model was trained.

  Args:
    inputs: str or utf-8 bytes.
    remove_space: fold every run of whitespace into one space and strip the
      ends.
    lower: lower-case the result.

  Returns:
    The normalised text as str, with accents stripped (NFKD, then
    combining marks dropped). Quotes are left alone: replacing LaTeX-style
    `` and '' is XLNet's preprocessing, not ALBERT's.
  """
  outputs = convert_to_unicode(inputs)
  if remove_space:
    outputs = " ".join(outputs.strip().split())
  outputs = unicodedata.normalize("NFKD", outputs)
  outputs = "".join(c for c in outputs if not unicodedata.combining(c))
  if lower:
    outputs = outputs.lower()
  return outputs


def encode_pieces(sp_model, text, return_unicode=True, sample=False):
  """Splits text into SentencePiece pieces, with a number-comma fix.

  The unigram model tends to learn pieces such as "2019," that glue a number
  to the comma after it; those are split so the comma is its own piece and
  the number is re-encoded on its own.

  Args:
    sp_model: a loaded spm.SentencePieceProcessor.
    text: str or utf-8 bytes, usually already run through preprocess_text.
    return_unicode: kept for API compatibility; on Python 3 pieces are
      always str.
    sample: draw a segmentation by subword sampling instead of the best one.

  Returns:
    A list of str pieces.
  """
  del return_unicode  # Only Python 2 ever returned bytes.
  text = convert_to_unicode(text)
  if sample:
    pieces = sp_model.SampleEncodeAsPieces(text, 64, 0.1)
  else:
    pieces = sp_model.EncodeAsPieces(text)
  new_pieces = []
  for piece in pieces:
    piece = convert_to_unicode(piece)
    if len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit():
      number = piece[:-1].replace(SPIECE_UNDERLINE, "")
      cur_pieces = [convert_to_unicode(p)
                    for p in sp_model.EncodeAsPieces(number)]
      # Encoding the number alone adds a word-start marker; a piece from the
      # middle of a word must not gain one, or detokenizing adds a space.
      if (piece[0] != SPIECE_UNDERLINE and cur_pieces and
          cur_pieces[0][0] == SPIECE_UNDERLINE):
        if len(cur_pieces[0]) == 1:
          cur_pieces = cur_pieces[1:]
        else:
          cur_pieces[0] = cur_pieces[0][1:]
      cur_pieces.append(piece[-1])
      new_pieces.extend(cur_pieces)
    else:
      new_pieces.append(piece)
  return new_pieces


def encode_ids(sp_model, text, sample=False):
  """Like encode_pieces, but returns SentencePiece ids."""
  pieces = encode_pieces(sp_model, text, sample=sample)
  return [sp_model.PieceToId(piece) for piece in pieces]


def convert_to_unicode(text):
  """Returns text as str, decoding utf-8 bytes (invalid bytes are dropped)."""
  if isinstance(text, six.text_type):
    return text
  if isinstance(text, bytes):
    return text.decode("utf-8", "ignore")
  raise ValueError("Unsupported string type: %s" % type(text))


def printable_text(text):
  """Returns text as str, suitable for printing or tf.logging."""
  return convert_to_unicode(text)


def _check_file_exists(path, argument):
  """Raises TokenizerFileNotFoundError naming argument if path is missing."""
  if not tf.gfile.Exists(path):
    raise TokenizerFileNotFoundError("%s not found: %s" % (argument, path))
  if tf.gfile.IsDirectory(path):
    raise VocabFileError("%s %s is a directory; expected a file" %
                         (argument, path))


# A line of a SentencePiece ".vocab" file: the piece, a tab, its score.
_SPM_VOCAB_LINE = re.compile(
    r"^[^\t]+\t-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")


def _looks_like_spm_vocab(lines):
  """True if the first non-blank lines are all "piece<TAB>score" lines."""
  sample = [line for line in lines[:100] if line.strip()][:50]
  return bool(sample) and all(_SPM_VOCAB_LINE.match(line.rstrip("\r"))
                              for line in sample)


def _is_utf8(data):
  """True if the bytes data decode as UTF-8."""
  try:
    data.decode("utf-8")
  except UnicodeDecodeError:
    return False
  return True


def _is_spm_model(data):
  """True if data parses as a serialized SentencePiece model."""
  try:
    spm.SentencePieceProcessor().LoadFromSerializedProto(data)
  except (RuntimeError, TypeError, ValueError):
    return False
  return True


def load_vocab(vocab_file):
  """Loads a WordPiece vocabulary file (one token a line) into a dict.

  As released, ids are given in order of first appearance: a line's token
  is its first whitespace-separated field (" " for a blank line), and a
  token seen before keeps its first id and takes no new one. These are the
  embedding rows the released models were trained with (for a vocabulary
  without repeats, ids are line numbers).

  SentencePiece files are refused: WordPiece over their pieces would turn
  almost every word into [UNK] without a word of warning.

  Args:
    vocab_file: path of the vocabulary file.

  Returns:
    collections.OrderedDict mapping token (str) to its id.

  Raises:
    TokenizerFileNotFoundError: the file does not exist.
    VocabFileError: the file is empty, is not UTF-8 text, or is a
      SentencePiece .model or .vocab file (which belong in spm_model_file).
  """
  _check_file_exists(vocab_file, "vocab_file")
  with tf.gfile.GFile(vocab_file, "rb") as reader:
    data = reader.read()
  # A serialized model is binary: it holds NULs or bytes that are not UTF-8.
  if b"\x00" in data or not _is_utf8(data):
    if _is_spm_model(data):
      raise VocabFileError(
          "vocab_file %s looks like a SentencePiece model (a binary .model "
          "file), not a WordPiece vocab.txt; pass it as --spm_model_file "
          "instead" % vocab_file)
  lines = data.split(b"\n")
  if lines and not lines[-1]:
    lines.pop()  # The file's final newline ends the last line.
  for line_number, line in enumerate(lines, 1):
    try:
      lines[line_number - 1] = line.decode("utf-8")
    except UnicodeDecodeError as e:
      raise VocabFileError(
          "vocab_file %s:%d is not UTF-8 text (byte 0x%02x); expected a "
          "WordPiece vocab.txt, one token a line" %
          (vocab_file, line_number, line[e.start]))
  if _looks_like_spm_vocab(lines):
    raise VocabFileError(
        "vocab_file %s looks like a SentencePiece .vocab file (piece<TAB>"
        "score lines), not a WordPiece vocab.txt; pass the SentencePiece "
        ".model file as --spm_model_file instead" % vocab_file)
  vocab = collections.OrderedDict()
  for line in lines:
    fields = line.split()
    token = fields[0] if fields else " "
    if token not in vocab:
      vocab[token] = len(vocab)
  if not any(token.strip() for token in vocab):
    raise VocabFileError("vocab_file %s is empty; expected a WordPiece "
                         "vocab.txt, one token a line" % vocab_file)
  return vocab


def convert_by_vocab(vocab, items):
  """Maps every item through vocab (a dict), keeping the order."""
  return [vocab[item] for item in items]


def convert_tokens_to_ids(vocab, tokens):
  """Maps tokens to ids with a token->id dict."""
  return convert_by_vocab(vocab, tokens)


def convert_ids_to_tokens(inv_vocab, ids):
  """Maps ids to tokens with an id->token dict."""
  return convert_by_vocab(inv_vocab, ids)


def whitespace_tokenize(text):
  """Strips text and splits it on whitespace."""
  text = text.strip()
  if not text:
    return []
  return text.split()


def _load_sentencepiece(spm_model_file):
  """Loads a SentencePiece model through tf.gfile, naming the file on error."""
  _check_file_exists(spm_model_file, "spm_model_file")
  # Reading the bytes ourselves lets gs:// paths work, which SentencePiece's
  # own file loader cannot open.
  with tf.gfile.GFile(spm_model_file, "rb") as reader:
    serialized = reader.read()
  if not serialized:
    raise VocabFileError("spm_model_file %s is empty; expected a "
                         "SentencePiece .model file" % spm_model_file)
  sp_model = spm.SentencePieceProcessor()
  try:
    sp_model.LoadFromSerializedProto(serialized)
  except RuntimeError as e:
    hint = ""
    try:
      lines = serialized.decode("utf-8").split("\n")
    except UnicodeDecodeError:
      lines = None
    if lines is not None and _looks_like_spm_vocab(lines):
      hint = ("; it looks like a SentencePiece .vocab file (piece<TAB>score "
              "lines): pass the binary .model file made with it")
    elif lines is not None:
      hint = ("; it is a text file, not a binary .model (a WordPiece "
              "vocab.txt belongs in --vocab_file)")
    else:
      detail = str(e).strip().splitlines()
      hint = " (%s)" % detail[0] if detail else ""
    raise VocabFileError(
        "spm_model_file is not a valid SentencePiece model: %s%s" %
        (spm_model_file, hint))
  return sp_model


class FullTokenizer(object):
  """Runs end-to-end tokenization: SentencePiece, or Basic + WordPiece."""

  def __init__(self, vocab_file, do_lower_case=True, spm_model_file=None):
    """Builds the tokenizer.

    Args:
      vocab_file: WordPiece vocabulary; ignored when spm_model_file is given.
      do_lower_case: lower-case the input (on both paths).
      spm_model_file: SentencePiece model file; selects the SentencePiece
        path.

    Raises:
      ValueError: neither file given, or the model file is not a model.
      TokenizerFileNotFoundError: a given file does not exist.
    """
    self.do_lower_case = bool(do_lower_case)
    self.vocab = None
    self.sp_model = None
    if spm_model_file:
      self.source = "spm_model_file %s" % spm_model_file
      self.sp_model = _load_sentencepiece(spm_model_file)
      tf.logging.info("Loaded SentencePiece model %s", spm_model_file)
      # A vocab dict gives both paths the same interface (e.g. len(vocab)).
      self.vocab = {self.sp_model.IdToPiece(i): i
                    for i in range(self.sp_model.GetPieceSize())}
    elif vocab_file:
      self.source = "vocab_file %s" % vocab_file
      self.vocab = load_vocab(vocab_file)
      missing = [token for token in _WORDPIECE_SPECIALS
                 if token not in self.vocab]
      if missing:
        tf.logging.warning(
            "%s has no %s; a BERT-style vocab.txt has %s, and a text that "
            "needs a missing one will fail", self.source, ", ".join(missing),
            ", ".join(_WORDPIECE_SPECIALS))
      self.basic_tokenizer = BasicTokenizer(do_lower_case=do_lower_case)
      self.wordpiece_tokenizer = WordpieceTokenizer(vocab=self.vocab)
    else:
      raise ValueError(
          "FullTokenizer needs a vocabulary: pass spm_model_file (a "
          "SentencePiece .model) or vocab_file (a WordPiece vocab.txt).")
    self.inv_vocab = {v: k for k, v in self.vocab.items()}

  @classmethod
  def from_scratch(cls, vocab_file, do_lower_case, spm_model_file):
    """Builds a tokenizer from files; same as calling the constructor."""
    return cls(vocab_file, do_lower_case, spm_model_file)

  @classmethod
  def from_hub_module(cls, hub_module, use_spm=True):
    """Builds the tokenizer a TF1 Hub module was exported with.

    Args:
      hub_module: handle or path of a module with a "tokenization_info"
        signature returning "vocab_file" and "do_lower_case".
      use_spm: the module's vocab_file is a SentencePiece model (ALBERT);
        otherwise it is a WordPiece vocab.txt.

    Returns:
      A FullTokenizer.
    """
    import tensorflow_hub as hub  # Only this path needs it.
    with tf.Graph().as_default():
      module = hub.Module(hub_module)
      info = module(signature="tokenization_info", as_dict=True)
      with tf.Session() as sess:
        vocab_file, do_lower_case = sess.run(
            [info["vocab_file"], info["do_lower_case"]])
    vocab_file = convert_to_unicode(vocab_file)
    do_lower_case = bool(do_lower_case)
    if use_spm:
      return cls(vocab_file=None, do_lower_case=do_lower_case,
                 spm_model_file=vocab_file)
    return cls(vocab_file=vocab_file, do_lower_case=do_lower_case)

  def tokenize(self, text):
    """Splits text into a list of str tokens."""
    if self.sp_model is not None:
      text = preprocess_text(text, lower=self.do_lower_case)
      return encode_pieces(self.sp_model, text, return_unicode=False)
    split_tokens = []
    for token in self.basic_tokenizer.tokenize(text):
      split_tokens.extend(self.wordpiece_tokenizer.tokenize(token))
    return split_tokens

  def num_token_ids(self):
    """How many token ids there are: the embedding rows the model needs.

    Compare it with the config, e.g.
    `albert_config.check_num_token_ids(tokenizer.num_token_ids(),
    tokenizer.source)`.
    """
    if self.sp_model is not None:
      return self.sp_model.GetPieceSize()
    return max(self.vocab.values()) + 1

  def convert_tokens_to_ids(self, tokens):
    """Maps tokens to ids; unknown pieces get the SentencePiece unk id.

    Raises:
      VocabFileError: (WordPiece) a token such as [CLS] is not in the
        vocabulary.
    """
    if self.sp_model is not None:
      return [self.sp_model.PieceToId(printable_text(token))
              for token in tokens]
    try:
      return convert_by_vocab(self.vocab, tokens)
    except KeyError as e:
      raise VocabFileError(
          "token %r is not in %s; a BERT-style vocab.txt has %s" %
          (e.args[0], self.source, ", ".join(_WORDPIECE_SPECIALS)))

  def convert_ids_to_tokens(self, ids):
    """Maps ids to tokens."""
    if self.sp_model is not None:
      return [self.sp_model.IdToPiece(int(id_)) for id_ in ids]
    return convert_by_vocab(self.inv_vocab, ids)


class BasicTokenizer(object):
  """Cleans text and splits it on whitespace, punctuation and CJK characters."""

  def __init__(self, do_lower_case=True):
    """Builds the tokenizer.

    Args:
      do_lower_case: lower-case the input and strip its accents.
    """
    self.do_lower_case = do_lower_case

  def tokenize(self, text):
    """Returns the list of str tokens of text."""
    text = convert_to_unicode(text)
    text = self._clean_text(text)
    # CJK scripts do not put spaces between words, so every ideograph is
    # treated as a word; WordPiece would otherwise see whole sentences.
    text = self._tokenize_chinese_chars(text)
    output_tokens = []
    for token in whitespace_tokenize(text):
      if self.do_lower_case:
        token = self._run_strip_accents(token.lower())
      output_tokens.extend(self._run_split_on_punc(token))
    return whitespace_tokenize(" ".join(output_tokens))

  def _run_strip_accents(self, text):
    """Removes accents (combining marks after NFD)."""
    text = unicodedata.normalize("NFD", text)
    return "".join(c for c in text if unicodedata.category(c) != "Mn")

  def _run_split_on_punc(self, text):
    """Splits text so that every punctuation character is its own token."""
    pieces = []
    start_new = True
    for char in text:
      if _is_punctuation(char):
        pieces.append([char])
        start_new = True
      else:
        if start_new:
          pieces.append([])
          start_new = False
        pieces[-1].append(char)
    return ["".join(p) for p in pieces]

  def _tokenize_chinese_chars(self, text):
    """Puts spaces around every CJK character."""
    output = []
    for char in text:
      if self._is_chinese_char(ord(char)):
        output.extend([" ", char, " "])
      else:
        output.append(char)
    return "".join(output)

  def _is_chinese_char(self, cp):
    """True if code point cp is in a CJK Unified Ideographs block.

    Only ideographs count: Hangul, Hiragana and Katakana are written with
    spaces between words and are split like any other script.
    """
    return ((0x4E00 <= cp <= 0x9FFF) or
            (0x3400 <= cp <= 0x4DBF) or
            (0x20000 <= cp <= 0x2A6DF) or
            (0x2A700 <= cp <= 0x2B73F) or
            (0x2B740 <= cp <= 0x2B81F) or
            (0x2B820 <= cp <= 0x2CEAF) or
            (0xF900 <= cp <= 0xFAFF) or
            (0x2F800 <= cp <= 0x2FA1F))

  def _clean_text(self, text):
    """Drops invalid and control characters and maps whitespace to spaces."""
    output = []
    for char in text:
      cp = ord(char)
      if cp == 0 or cp == 0xFFFD or _is_control(char):
        continue
      output.append(" " if _is_whitespace(char) else char)
    return "".join(output)


class WordpieceTokenizer(object):
  """Splits words into WordPiece sub-tokens, greedy longest match first."""

  def __init__(self, vocab, unk_token="[UNK]", max_input_chars_per_word=200):
    """Builds the tokenizer.

    Args:
      vocab: dict (or set) of known tokens; continuations carry a "##" prefix.
      unk_token: token for a word that cannot be split into known pieces.
      max_input_chars_per_word: longer words become unk_token outright.
    """
    self.vocab = vocab
    self.unk_token = unk_token
    self.max_input_chars_per_word = max_input_chars_per_word

  def tokenize(self, text):
    """Splits words into pieces, e.g. "unaffable" -> un ##aff ##able.

    Args:
      text: a word or words, already run through BasicTokenizer.

    Returns:
      A list of WordPiece tokens.
    """
    text = convert_to_unicode(text)
    output_tokens = []
    for token in whitespace_tokenize(text):
      chars = list(token)
      if len(chars) > self.max_input_chars_per_word:
        output_tokens.append(self.unk_token)
        continue
      sub_tokens = []
      start = 0
      while start < len(chars):
        end = len(chars)
        match = None
        while start < end:
          candidate = "".join(chars[start:end])
          if start > 0:
            candidate = "##" + candidate
          if candidate in self.vocab:
            match = candidate
            break
          end -= 1
        if match is None:
          # One unknown stretch spoils the whole word: partial pieces would
          # give the model a misleading half-word.
          sub_tokens = None
          break
        sub_tokens.append(match)
        start = end
      if sub_tokens is None:
        output_tokens.append(self.unk_token)
      else:
        output_tokens.extend(sub_tokens)
    return output_tokens


def _is_whitespace(char):
  """True for space, tab, newline, carriage return and Unicode Zs."""
  if char in (" ", "\t", "\n", "\r"):
    return True
  return unicodedata.category(char) == "Zs"


def _is_control(char):
  """True for control (Cc) and format (Cf) characters but tab/newline/return.

  As released: private-use and unassigned characters are not dropped; they
  reach WordPiece and become [UNK].
  """
  # Tab, newline and return are control characters to Unicode, but here they
  # are whitespace and must survive to become spaces.
  if char in ("\t", "\n", "\r"):
    return False
  return unicodedata.category(char) in ("Cc", "Cf")


def _is_punctuation(char):
  """True for ASCII non-alphanumeric symbols and Unicode P* characters."""
  cp = ord(char)
  # ASCII symbols such as ^ $ ` are not Unicode punctuation, but splitting
  # them off like punctuation is what the models were trained with.
  if ((33 <= cp <= 47) or (58 <= cp <= 64) or
      (91 <= cp <= 96) or (123 <= cp <= 126)):
    return True
  return unicodedata.category(char).startswith("P")
