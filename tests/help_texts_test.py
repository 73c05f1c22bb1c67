# coding=utf-8
"""Every command's --help text is the recorded one (tests/help_texts/).

What a user sees of a command (flags, defaults, help lines) must not change
by accident, e.g. in a refactoring. A deliberate change is recorded with
`python scripts/help_texts.py --write` and shows in the diff.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "scripts"))
import help_texts  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.mark.slow
def test_every_commands_help_is_the_recorded_one():
  texts = help_texts.all_help_texts()
  assert sorted(texts) == sorted(
      name[:-len(".txt")] for name in os.listdir(help_texts.RECORDED))
  for command, text in texts.items():
    assert "--help" in text or "usage" in text.lower() or "flags" in text, (
        command)
  changed = help_texts.differences(texts)
  assert not changed, "\n".join(changed.values())


def test_a_changed_help_line_is_reported(monkeypatch):
  recorded = {}
  for command in help_texts.COMMANDS:
    with open(os.path.join(help_texts.RECORDED, command + ".txt"),
              encoding="utf-8") as f:
      recorded[command] = f.read()
  assert not help_texts.differences(recorded)
  changed = dict(recorded)
  changed["run_race"] = recorded["run_race"].replace(
      "(default: '512')", "(default: '256')", 1)
  assert changed["run_race"] != recorded["run_race"]
  diff = help_texts.differences(changed)
  assert list(diff) == ["run_race"]
  assert "+    (default: '256')" in diff["run_race"]
