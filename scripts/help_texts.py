#!/usr/bin/env python
# coding=utf-8
"""Prints or records every command's --help text.

    python scripts/help_texts.py --write   # record into tests/help_texts/
    python scripts/help_texts.py --check   # exit 1 and show what changed

A command's --help is part of what users see: tests/help_texts_test.py
compares each command's text with the recorded one, so a refactoring that
changes a flag, a default or a help line is caught. The repository's path
in absl's "flags defined by" headers is written as <ROOT>.
"""

import argparse
import concurrent.futures
import difflib
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORDED = os.path.join(ROOT, "tests", "help_texts")
COMMANDS = ("benchmark", "create_pretraining_data", "export_checkpoints",
            "export_to_hf", "export_to_onnx", "export_to_tfhub",
            "extract_features", "import_from_hf",
            "quickstart", "quickstart_corpus", "run_classifier",
            "run_pretraining", "run_race", "run_squad_v1", "run_squad_v2")


def help_text(command):
  """`python -m albert.<command> --help`, with the repository as <ROOT>."""
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3",
             COLUMNS="80")
  result = subprocess.run(
      [sys.executable, "-m", "albert." + command, "--help"], cwd=ROOT,
      env=env, capture_output=True, text=True, timeout=300)
  # absl's --help exits 1, argparse's 0.
  if result.returncode not in (0, 1) or not result.stdout:
    raise RuntimeError("albert.%s --help exited %d:\n%s" %
                       (command, result.returncode, result.stderr))
  return result.stdout.replace(ROOT, "<ROOT>")


def all_help_texts():
  """{command: text}, two commands at a time (each imports TensorFlow)."""
  with concurrent.futures.ThreadPoolExecutor(2) as pool:
    return dict(zip(COMMANDS, pool.map(help_text, COMMANDS)))


def differences(texts):
  """{command: unified diff} of the commands whose text changed."""
  changed = {}
  for command, text in sorted(texts.items()):
    path = os.path.join(RECORDED, command + ".txt")
    with open(path, encoding="utf-8") as f:
      recorded = f.read()
    if text != recorded:
      changed[command] = "".join(difflib.unified_diff(
          recorded.splitlines(True), text.splitlines(True),
          "recorded/" + command, "now/" + command))
  return changed


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  mode = parser.add_mutually_exclusive_group(required=True)
  mode.add_argument("--write", action="store_true",
                    help="record the current texts in tests/help_texts/")
  mode.add_argument("--check", action="store_true",
                    help="compare the current texts with the recorded ones")
  args = parser.parse_args()
  texts = all_help_texts()
  if args.write:
    os.makedirs(RECORDED, exist_ok=True)
    for command, text in texts.items():
      with open(os.path.join(RECORDED, command + ".txt"), "w",
                encoding="utf-8") as f:
        f.write(text)
    print("recorded %d help texts in %s" % (len(texts), RECORDED))
    return 0
  changed = differences(texts)
  for diff in changed.values():
    sys.stdout.write(diff)
  print("%d of %d help texts changed" % (len(changed), len(texts)))
  return 1 if changed else 0


if __name__ == "__main__":
  sys.exit(main())
