# coding=utf-8
"""Every command shown in README.md and docs/*.md runs as written.

The conventions the documentation follows:

- A fenced block marked ```bash is a shell block; a plain ``` block is an
  output sample and is not looked at (```sh and ```shell are refused, so
  that no shell block escapes the test by its marker).
- Every shell block is CHECKED: in each command (continuation lines joined,
  comments dropped, split at newlines, `;`, `&&`, `||`, `|` and `&`),
  `python -m albert.<command>` must name a command (albert/<command>.py with
  a main) and each --flag, --flag=value or --noflag must be one of its
  flags. The flags are read from tests/help_texts/<command>.txt (the
  recorded --help, which tests/help_texts_test.py keeps current) plus
  absl's own (--helpfull, --flagfile, --logtostderr, ...).
  `bash scripts/quickstart.sh` takes the quickstart's flags. A script run
  with bash, sh, source or python (scripts/x.sh, run_glue.sh, ...) must
  exist in the repository. `[--flag]` optional-flag notation is refused:
  a shell would take it literally.
- A shell block is also RUN, as written, with `bash -e`, unless the line
  before it (blank lines between are allowed) is
  `<!-- docs-test: check-only: <why> -->` (released models, a GPU, data to
  download, hours of training). It runs in a new scratch directory of its
  own holding a tiny released-style model `albert_base/` (albert_config.json
  with 4 layers and 512 positions, model.ckpt-best, 30k-clean.model,
  30k-clean.vocab) and `sentences.txt`, with the virtual environment's
  python first on PATH and the repository on PYTHONPATH, so
  `python -m albert.X` works there. The repository's `scripts/` and the
  virtual environment (as `.venv`) are symlinked into it, so
  `bash scripts/...` and `source .venv/bin/activate` work too; the scripts
  resolve the symlink and run on the repository itself. Blocks share
  nothing: each one needs what it uses. A block may run for
  DOCS_TEST_TIMEOUT seconds (default 120).

A failure is one line naming the file, the line and the command, then the
command's last lines of output. Blocks are parametrized by file:line (the
line of the ```bash fence), e.g.
`pytest "tests/docs_test.py::test_block_runs_as_written[README.md:75]"`.
"""

import collections
import difflib
import glob
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELP_TEXTS = os.path.join(ROOT, "tests", "help_texts")
TIMEOUT = float(os.environ.get("DOCS_TEST_TIMEOUT", "120"))
# Flags every absl command accepts besides its own (absl.app, absl.logging,
# absl.flags); its --help lists only the command's.
ABSL_FLAGS = frozenset((
    "help helpfull helpshort helpxml only_check_args pdb pdb_post_mortem "
    "profile_file run_with_pdb run_with_profiling use_cprofile_for_profiling "
    "alsologtostderr log_dir logger_levels logtostderr showprefixforinfo "
    "stderrthreshold verbosity v flagfile undefok").split())
ABSL_BOOLEANS = frozenset((
    "help helpfull helpshort helpxml only_check_args pdb pdb_post_mortem "
    "run_with_pdb run_with_profiling use_cprofile_for_profiling "
    "alsologtostderr logtostderr showprefixforinfo").split())
# Scripts that pass their arguments to a command.
SCRIPT_COMMANDS = {"scripts/quickstart.sh": "quickstart"}
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
CHECK_ONLY = re.compile(r"^check-only:\s*(\S.*)$")
FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)")
# `[--use_xla]`, not a test like `[ -f x ]`.
OPTIONAL_FLAG = re.compile(r"\[--?[A-Za-z]")
# Leading words that run the command after them.
PREFIXES = frozenset(("while", "until", "if", "then", "do", "else", "elif",
                      "!", "time", "exec", "nohup", "env", "{", "command"))
ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")

Block = collections.namedtuple(
    "Block", ["path", "line", "text", "check_only"])
Block.__doc__ = """A ```bash block: its file (relative to the repository),
the line of its fence, its text, and the reason it is not run (or None)."""


class DocsError(Exception):
  """A documentation problem, its message starting with file:line."""


def block_id(block):
  return "%s:%d" % (block.path, block.line)


def extract_blocks(markdown, path):
  """The shell blocks of a markdown text.

  Args:
    markdown: the file's text.
    path: its name in messages.

  Returns:
    [Block].

  Raises:
    DocsError: a ```sh/```shell block, an unclosed fence, or a docs-test
      marker that is unknown or precedes no ```bash block.
  """
  blocks, marker, fence = [], None, None
  for number, line in enumerate(markdown.splitlines(), 1):
    if fence is not None:
      if line.strip() == "```":
        if fence[1] == "bash":
          blocks.append(Block(path, fence[0], "\n".join(body) + "\n",
                              fence[2]))
        fence = None
      else:
        body.append(line[len(fence[3]):] if line.startswith(fence[3])
                    else line.lstrip())
      continue
    found = MARKER.match(line)
    if found:
      reason = CHECK_ONLY.match(found.group(1))
      if not reason:
        raise DocsError("%s:%d: unknown docs-test marker %r (expected "
                        "'check-only: <why>')" % (path, number, line.strip()))
      marker = (number, reason.group(1))
      continue
    opening = FENCE.match(line)
    if opening:
      language = opening.group(2)
      if language in ("sh", "shell", "zsh"):
        raise DocsError("%s:%d: mark shell blocks ```bash (the docs test "
                        "reads only those), not ```%s" % (path, number,
                                                          language))
      if marker and language != "bash":
        raise DocsError("%s:%d: the docs-test marker is followed by a "
                        "```%s block, not ```bash" % (path, marker[0],
                                                      language))
      fence = (number, language, marker and marker[1], opening.group(1))
      body, marker = [], None
    elif marker and line.strip():
      raise DocsError("%s:%d: the docs-test marker is not followed by a "
                      "```bash block" % (path, marker[0]))
  if fence is not None:
    raise DocsError("%s:%d: the ``` fence is never closed" % (path, fence[0]))
  if marker:
    raise DocsError("%s:%d: the docs-test marker is not followed by a "
                    "```bash block" % (path, marker[0]))
  return blocks


class _Scanner(object):
  """Splits shell text into simple commands, as bash would word-split them.

  Handles quotes, backslashes, line continuations, comments, the separators
  newline ; & && | || ( ) and redirections (dropped with their target).
  Not a shell: no expansion, no here-documents.
  """

  def __init__(self, text, first_line):
    self.text, self.i, self.line = text, 0, first_line
    self.commands, self.words, self.word = [], [], None
    self.start, self.skip_target = None, False

  def end_word(self):
    if self.word is not None:
      if self.skip_target:
        self.skip_target = False
      else:
        if not self.words:
          self.start = self.word_line
        self.words.append(self.word)
      self.word = None

  def end_command(self):
    self.end_word()
    if self.words:
      self.commands.append((self.start, self.words))
    self.words = []

  def add(self, char):
    if self.word is None:
      self.word, self.word_line = "", self.line
    self.word += char

  def quoted(self, quote):
    """Reads up to the closing quote (self.i is past the opening one)."""
    self.add("")
    while self.i < len(self.text) and self.text[self.i] != quote:
      char = self.text[self.i]
      if quote == '"' and char == "\\" and self.text[self.i + 1:self.i + 2] in (
          '"', "\\", "$", "`", "\n"):
        self.i += 1
        char = self.text[self.i]
        if char == "\n":
          self.line += 1
          self.i += 1
          continue
      self.line += char == "\n"
      self.word += char
      self.i += 1
    self.i += 1

  def redirection(self):
    """Drops `[n]>file`, `>>file`, `2>&1`, `<file`, `&>file`."""
    if self.word is not None and self.word.isdigit():
      self.word = None
    self.end_word()
    while self.text[self.i:self.i + 1] in (">", "<", "&"):
      self.i += 1
    if self.text[self.i:self.i + 1].isdigit() and self.text[self.i - 1] == "&":
      while self.text[self.i:self.i + 1].isdigit():
        self.i += 1
    else:
      self.skip_target = True

  def scan(self):
    """[(line, [word])] for each simple command."""
    text = self.text
    while self.i < len(text):
      char = text[self.i]
      self.i += 1
      if char == "\\":
        following = text[self.i:self.i + 1]
        self.i += 1
        if following == "\n":
          self.line += 1
        else:
          self.add(following)
      elif char in "'\"":
        self.quoted(char)
      elif char == "#" and self.word is None:
        while self.i < len(text) and text[self.i] != "\n":
          self.i += 1
      elif char in "<>" or (char == "&" and text[self.i:self.i + 1] == ">"):
        self.i -= 1
        self.redirection()
      elif char in " \t":
        self.end_word()
      elif char in "\n;&|()":
        self.end_command()
        self.line += char == "\n"
      else:
        self.add(char)
    self.end_command()
    return self.commands


def split_commands(text, first_line=1):
  """The simple commands of shell text: [(line, [word])]."""
  return _Scanner(text, first_line).scan()


def strip_prefixes(words):
  """The words from the command that runs: no VAR=x, while, env, ..."""
  i = 0
  while i < len(words) and (words[i] in PREFIXES or
                            ASSIGNMENT.match(words[i])):
    i += 1
  return words[i:]


def command_flags(command):
  """(flags, booleans) that `python -m albert.<command>` accepts.

  Raises:
    DocsError: without a location; the caller adds it.
  """
  source = os.path.join(ROOT, "albert", command + ".py")
  if not re.match(r"^\w+$", command) or not os.path.exists(source):
    raise DocsError("albert.%s is not a command (there is no albert/%s.py)"
                    % (command, command))
  with open(source, encoding="utf-8") as f:
    # What `python -m` runs: the module's `if __name__ == "__main__":`.
    if not re.search(r"^if __name__ == [\"']__main__[\"']:", f.read(),
                     re.M):
      raise DocsError("albert.%s is not a command (albert/%s.py has no "
                      "`if __name__ == \"__main__\"` main)" % (command,
                                                              command))
  recorded = os.path.join(HELP_TEXTS, command + ".txt")
  if not os.path.exists(recorded):
    raise DocsError("albert.%s has no recorded --help in tests/help_texts/ "
                    "(add it to scripts/help_texts.py's COMMANDS and run "
                    "--write)" % command)
  with open(recorded, encoding="utf-8") as f:
    text = f.read()
  flags, booleans = set(), set()
  for no, name in re.findall(r"^  (?:-\w, )?--(\[no\])?([\w-]+)", text,
                             re.M):
    flags.add(name)
    if no:
      booleans.add(name)
  if "\nflags:\n" in text:  # absl
    flags |= ABSL_FLAGS
    booleans |= ABSL_BOOLEANS
  return flags, booleans


def check_flags(command, arguments):
  """Problems with `arguments` of albert.<command>: [str]."""
  flags, booleans = command_flags(command)
  problems = []
  for word in arguments:
    if word == "--":
      break
    if not word.startswith("--") or word == "--":
      continue
    name = word[2:].split("=", 1)[0]
    if name in flags or (name.startswith("no") and name[2:] in booleans):
      continue
    near = difflib.get_close_matches(name, sorted(flags), 1)
    problems.append("albert.%s has no flag --%s%s" % (
        command, name, " (did you mean --%s?)" % near[0] if near else ""))
  return problems


def check_command(words):
  """Problems with one simple command (its words): [str]."""
  words = strip_prefixes(words)
  if not words:
    return []
  program = os.path.basename(words[0])
  if re.match(r"^python(3(\.\d+)?)?$", program) and len(words) > 1:
    if words[1] == "-m" and len(words) > 2 and words[2].startswith("albert."):
      return check_flags(words[2][len("albert."):], words[3:])
    if words[1].endswith(".py"):
      return check_script(words[1])
  if program in ("bash", "sh", "source", ".") and len(words) > 1:
    if words[1].startswith("-"):
      return []
    problems = check_script(words[1])
    command = SCRIPT_COMMANDS.get(os.path.normpath(words[1]))
    if command and not problems:
      problems = check_flags(command, words[2:])
    return problems
  return []


def check_script(path):
  """[problem] if a script the docs run is not in the repository."""
  # .venv is made by scripts/env.sh; $VAR and absolute paths are the
  # reader's own.
  if "$" in path or os.path.isabs(path) or path.startswith(".venv/"):
    return []
  if not os.path.isfile(os.path.join(ROOT, path)):
    return ["%s is not in the repository" % path]
  return []


def check_block(block):
  """Every problem the check finds in a block: ['file:line: problem']."""
  problems = []
  for offset, line in enumerate(block.text.splitlines()):
    if OPTIONAL_FLAG.search(line.split("#", 1)[0]):
      problems.append(
          "%s:%d: [--flag] optional-flag notation: a shell takes the "
          "brackets literally; show a command that runs, and list the "
          "options in prose" % (block.path, block.line + 1 + offset))
  if problems:
    return problems
  for line, words in split_commands(block.text, block.line + 1):
    for problem in check_command_safely(words):
      problems.append("%s:%d: %s" % (block.path, line, problem))
  return problems


def check_command_safely(words):
  try:
    return check_command(words)
  except DocsError as e:
    return [str(e)]


def doc_files(root=ROOT):
  """README.md and docs/*.md, relative to `root`."""
  found = ["README.md"] if os.path.exists(
      os.path.join(root, "README.md")) else []
  return found + sorted(os.path.relpath(p, root) for p in glob.glob(
      os.path.join(root, "docs", "**", "*.md"), recursive=True))


def all_blocks(root=ROOT):
  """(blocks, problems): every file's shell blocks, and marker errors."""
  blocks, problems = [], []
  for path in doc_files(root):
    with open(os.path.join(root, path), encoding="utf-8") as f:
      try:
        blocks += extract_blocks(f.read(), path)
      except DocsError as e:
        problems.append(str(e))
  return blocks, problems


# Commands that install or download: a block with one is check-only.
UNSAFE = (("pip", "install"), ("pip3", "install"), ("python", "-m", "pip"),
          ("git", "clone"), ("wget",), ("curl",), ("sudo",), ("apt-get",),
          ("apt",))


# Scripts that work on the repository itself (the suite, and the quickstart
# writing <repository>/quickstart_output for minutes), unless given these.
REPOSITORY_SCRIPTS = {"scripts/test.sh": (), "scripts/quickstart.sh": (
    "--help", "-h")}


def unsafe_commands(block):
  """['file:line: ...'] for commands a runnable block must not run here."""
  if block.check_only:
    return []
  problems = []
  for line, words in split_commands(block.text, block.line + 1):
    words = strip_prefixes(words)
    why = None
    if any(tuple(words[:len(unsafe)]) == unsafe for unsafe in UNSAFE):
      why = "installs or downloads"
    elif len(words) > 1 and words[0] in ("bash", "sh"):
      script = os.path.normpath(words[1])
      if script in REPOSITORY_SCRIPTS and not set(words[2:]) & set(
          REPOSITORY_SCRIPTS[script]):
        why = "works on the repository itself"
    if why:
      problems.append("%s:%d: `%s` %s: mark the block <!-- docs-test: "
                      "check-only: <why> -->" % (block.path, line,
                                                 " ".join(words[:2]), why))
  return problems


# The scratch directory's text file, for commands reading sentences.
SENTENCES = ("The cat sat on the mat.\n"
             "ALBERT shares its parameters across layers.\n"
             "A lite model learns language from text.\n")
# Names the failing command: line number within the script and its text.
ERR_TRAP = "trap 'echo \"docs-test: line $LINENO: $BASH_COMMAND\" >&2' ERR\n"
TAIL_LINES = 15


def venv_dir():
  """The virtual environment running the tests, or None."""
  return sys.prefix if sys.prefix != sys.base_prefix else None


def make_scratch(directory, model_dir):
  """A block's working directory: albert_base/, sentences.txt, symlinks."""
  os.makedirs(directory)
  shutil.copytree(model_dir, os.path.join(directory, "albert_base"))
  with open(os.path.join(directory, "sentences.txt"), "w") as f:
    f.write(SENTENCES)
  os.symlink(os.path.join(ROOT, "scripts"),
             os.path.join(directory, "scripts"))
  if venv_dir():
    os.symlink(venv_dir(), os.path.join(directory, ".venv"))
  return directory


def run_env():
  """The venv's python first on PATH, the repository on PYTHONPATH."""
  env = dict(os.environ)
  bin_dir = os.path.dirname(sys.executable)
  env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
  env["PYTHONPATH"] = ROOT
  env["TF_CPP_MIN_LOG_LEVEL"] = "2"
  if venv_dir():
    # scripts/env.sh finds it set up (its stamp is current): no install.
    env["ALBERT_VENV"] = env["VIRTUAL_ENV"] = venv_dir()
  return env


def run_block(block, scratch, timeout=TIMEOUT):
  """Runs a block with `bash -e` in `scratch`.

  Returns:
    None, or the failure: 'file:line: `command` exited N; ...' and the last
    lines of output.
  """
  script = scratch.rstrip(os.sep) + ".sh"  # beside it, not in it
  with open(script, "w") as f:
    f.write(ERR_TRAP + block.text)
  # A session of its own, so a timeout kills the commands it started too.
  process = subprocess.Popen(
      ["bash", "-e", script], cwd=scratch, env=run_env(),
      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT, text=True, start_new_session=True)
  try:
    output, _ = process.communicate(timeout=timeout)
  except subprocess.TimeoutExpired:
    os.killpg(process.pid, signal.SIGKILL)
    output, _ = process.communicate()
    return "%s:%d: still running after %d s (DOCS_TEST_TIMEOUT); mark it " \
        "check-only or make it smaller; its last output:\n%s" % (
            block.path, block.line, timeout, tail(output))
  if process.returncode == 0:
    return None
  failed = re.findall(r"^docs-test: line (\d+): (.*)$", output, re.M)
  if failed:
    line, command = failed[-1]
    # Script line 1 is the trap; line 2 is the line after the fence.
    where = "%s:%d: `%s`" % (block.path, block.line + int(line) - 1,
                             command)
  else:
    where = "%s:%d: the block" % (block.path, block.line)
  output = re.sub(r"^docs-test: line .*\n?", "", output, flags=re.M)
  return "%s exited %d; its last output:\n%s" % (
      where, process.returncode, tail(output))


def tail(output):
  return "\n".join(output.rstrip("\n").splitlines()[-TAIL_LINES:])


def runnable(blocks):
  return [block for block in blocks if not block.check_only]


BLOCKS, MARKER_PROBLEMS = all_blocks()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
  """A released-style albert_base/: tiny, but with 512 positions and 4
  layers, so the sequence lengths and layer choices (extract_features'
  default -1..-4) the docs show for the released models fit it too."""
  import hub_fixtures  # pylint: disable=g-import-not-at-top
  directory = str(tmp_path_factory.mktemp("docs_model") / "albert_base")
  hub_fixtures.make_tiny_albert_dir(directory, num_hidden_layers=4,
                                    max_position_embeddings=512)
  return directory


# --- The documentation ----------------------------------------------------


def test_docs_markers_and_fences_are_well_formed():
  assert not MARKER_PROBLEMS, "\n".join(MARKER_PROBLEMS)


@pytest.mark.parametrize("block", BLOCKS, ids=block_id)
def test_block_commands_and_flags_exist(block):
  problems = check_block(block) + unsafe_commands(block)
  assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("block", runnable(BLOCKS), ids=block_id)
def test_block_runs_as_written(block, tiny_model, tmp_path):
  problems = unsafe_commands(block)
  assert not problems, "\n".join(problems)
  failure = run_block(block, make_scratch(str(tmp_path / "scratch"),
                                          tiny_model))
  assert failure is None, failure


# --- The extractor, the checker and the runner, on synthetic markdown ------


SYNTHETIC = """\
# Title

```
python -m albert.no_such_command --output: an output sample, not checked
```

<!-- docs-test: check-only: needs the released model -->

```bash
python -m albert.run_classifier --task_name=MNLI \\
  --do_train --nodo_eval  # a comment --not_a_flag
```

- In a list:

  ```bash
  echo "a; b" && python -m albert.export_to_hf --albert_directory=albert_base \\
    --export_path='x y' > log.txt 2>&1
  ```
"""


def test_extract_blocks_finds_bash_blocks_their_lines_and_markers():
  blocks = extract_blocks(SYNTHETIC, "DOC.md")
  assert [(b.line, b.check_only) for b in blocks] == [
      (9, "needs the released model"), (16, None)]
  assert blocks[0].text.startswith("python -m albert.run_classifier")
  assert blocks[1].text.startswith('echo "a; b"')  # list indentation gone
  assert [block_id(b) for b in blocks] == ["DOC.md:9", "DOC.md:16"]


def test_split_commands_joins_lines_and_drops_comments_and_redirections():
  text = ('A=1 python -m albert.x --a="1 2" \\\n  --b  # --c\n'
          "while python y --d; [ $? -eq 75 ]; do :; done\n"
          "cat f | grep 'p|q' && echo \"x\\\"y\" >> out 2>&1 || true &\n")
  assert split_commands(text, 10) == [
      (10, ["A=1", "python", "-m", "albert.x", "--a=1 2", "--b"]),
      (12, ["while", "python", "y", "--d"]), (12, ["[", "$?", "-eq", "75",
                                                 "]"]),
      (12, ["do", ":"]), (12, ["done"]), (13, ["cat", "f"]),
      (13, ["grep", "p|q"]), (13, ["echo", 'x"y']), (13, ["true"])]
  assert strip_prefixes(["A=1", "env", "B=2", "python", "z"]) == [
      "python", "z"]


def test_known_commands_and_flags_pass():
  for block in extract_blocks(SYNTHETIC, "DOC.md"):
    assert check_block(block) == []
  block = Block("DOC.md", 1, "python -m albert.run_pretraining --helpfull "
                "--alsologtostderr --flagfile=f\n"
                "bash scripts/quickstart.sh --num_train_steps=5 --fresh\n"
                "source scripts/env.sh && bash run_glue.sh --dry-run\n", None)
  assert check_block(block) == []


def check_text(text):
  return check_block(Block("DOC.md", 10, text, None))


def test_a_renamed_flag_fails_naming_file_line_and_the_flag():
  assert check_text("ls\npython -m albert.run_classifier \\\n"
                    "  --taskname=MNLI --do_train\n") == [
                        "DOC.md:12: albert.run_classifier has no flag "
                        "--taskname (did you mean --task_name?)"]
  assert check_text("python -m albert.run_classifier --nodata_dir=x\n") == [
      "DOC.md:11: albert.run_classifier has no flag --nodata_dir (did you "
      "mean --data_dir?)"]  # --no only for booleans
  assert check_text("bash scripts/quickstart.sh --steps=5\n") == [
      "DOC.md:11: albert.quickstart has no flag --steps"]


def test_an_unknown_command_or_script_fails():
  assert check_text("python -m albert.run_glue --task_name=x\n") == [
      "DOC.md:11: albert.run_glue is not a command (there is no "
      "albert/run_glue.py)"]
  problems = check_text("cd x; python -m albert.staging\n")
  assert len(problems) == 1 and problems[0].startswith(
      "DOC.md:11: albert.staging is not a command (albert/staging.py has no")
  assert check_text("bash scripts/setup.sh\npython scripts/gone.py\n") == [
      "DOC.md:11: scripts/setup.sh is not in the repository",
      "DOC.md:12: scripts/gone.py is not in the repository"]


def test_optional_flag_notation_fails_with_file_and_line():
  problems = check_text("python -m albert.benchmark --batch_size=8 \\\n"
                        "  [--use_xla] [--mode=train|infer]\n")
  assert len(problems) == 1
  assert problems[0].startswith("DOC.md:12: [--flag] optional-flag notation")
  assert check_text('[ -f x ] && echo "[CLS]"\n') == []


def test_bad_markers_and_fences_fail_with_file_and_line():
  cases = {
      "<!-- docs-test: skip -->\n```bash\nls\n```\n":
          "DOC.md:1: unknown docs-test marker",
      "<!-- docs-test: check-only: gpu -->\ntext\n```bash\nls\n```\n":
          "DOC.md:1: the docs-test marker is not followed by a ```bash",
      "<!-- docs-test: check-only: gpu -->\n```python\n1\n```\n":
          "DOC.md:1: the docs-test marker is followed by a ```python",
      "```sh\nls\n```\n": "DOC.md:1: mark shell blocks ```bash",
      "```bash\nls\n": "DOC.md:1: the ``` fence is never closed",
  }
  for markdown, message in cases.items():
    with pytest.raises(DocsError) as raised:
      extract_blocks(markdown, "DOC.md")
    assert str(raised.value).startswith(message), markdown


def test_installing_or_repository_wide_commands_must_be_check_only():
  text = ("pip install .[onnx]\nbash scripts/test.sh --fast\n"
          "bash scripts/quickstart.sh\nbash scripts/quickstart.sh --help\n")
  assert [p.split(": `")[0] for p in unsafe_commands(
      Block("DOC.md", 1, text, None))] == ["DOC.md:2", "DOC.md:3",
                                           "DOC.md:4"]
  assert unsafe_commands(Block("DOC.md", 1, text, "downloads")) == []


RUN_DOC = """\
<!-- docs-test: check-only: must not run -->
```bash
touch ran_check_only
```

```bash
# the scratch directory, the scripts and the venv, as the docs promise
test -f albert_base/albert_config.json -a -f albert_base/model.ckpt-best.index
test -f albert_base/30k-clean.model -a -f albert_base/30k-clean.vocab
test -s sentences.txt
bash scripts/quickstart.sh --help | grep -q "default: 1500"
source .venv/bin/activate
python -m albert.extract_features --albert_directory=albert_base \\
  --input_file=sentences.txt --output_file=features.jsonl
test "$(wc -l < features.jsonl)" -eq 3
touch "$OLDPWD_MARK"
```

```bash
echo "first line"
echo "an error for the reader" >&2
python -m albert.export_to_tfhub --albert_directory=missing \\
  --export_path=hub
echo "not reached"
```
"""


@pytest.mark.slow
def test_runnable_blocks_run_in_the_scratch_dir_and_failures_name_the_line(
    tiny_model, tmp_path, monkeypatch):
  monkeypatch.setenv("OLDPWD_MARK", str(tmp_path / "second_block_ran"))
  blocks = extract_blocks(RUN_DOC, "DOC.md")
  to_run = runnable(blocks)
  assert [block_id(b) for b in to_run] == ["DOC.md:6", "DOC.md:19"]
  scratches = []
  for i, block in enumerate(to_run):
    scratches.append(make_scratch(str(tmp_path / ("s%d" % i)), tiny_model))
  assert run_block(to_run[0], scratches[0]) is None
  assert (tmp_path / "second_block_ran").exists()
  failure = run_block(to_run[1], scratches[1])
  first_line, output = failure.split("\n", 1)
  assert first_line == (
      "DOC.md:22: `python -m albert.export_to_tfhub --albert_directory=missing"
      " --export_path=hub` exited 1; its last output:"), failure
  assert "an error for the reader" in output and "missing" in output
  assert "not reached" not in output and "docs-test: line" not in output
  for scratch in scratches:
    assert not os.path.exists(os.path.join(scratch, "ran_check_only"))


@pytest.mark.slow
def test_a_block_that_runs_too_long_is_stopped_and_named(tmp_path):
  block = Block("DOC.md", 7, "echo started\nsleep 60\n", None)
  scratch = str(tmp_path / "s")
  os.makedirs(scratch)
  failure = run_block(block, scratch, timeout=2)
  assert failure.startswith("DOC.md:7: still running after 2 s")
  assert failure.endswith("\nstarted")
