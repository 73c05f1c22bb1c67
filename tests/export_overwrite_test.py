# coding=utf-8
"""--overwrite_export_path replaces only what the exporter itself wrote.

For every exporter (export_to_tfhub in both formats, export_checkpoints,
export_to_hf, import_from_hf): files a user added to a previous export (a
model card, notes in a subdirectory) survive the overwrite at their paths,
with a warning naming them; the exporter's own files are replaced; files a
previous export wrote that the new one does not are removed; a run killed
after the swap loses nothing (the next run carries the files over); a
file at a path the new export writes is refused before anything is
written; and each exporter names its own format when refusing a directory
that is not a previous export.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import uuid

import pytest
import tensorflow.compat.v1 as tf

from error_checks import warnings  # pylint: disable=unused-import
import hub_fixtures
from albert import export_checkpoints
from albert import export_files
from albert import export_to_hf
from albert import export_to_tfhub
from albert import import_from_hf

tf.disable_v2_behavior()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = export_files.EXPORT_MARKER
CARD = "README.md"
NOTES = "notes/run.txt"
CHECKPOINT_NAME = "model.ckpt-best"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  return hub_fixtures.make_tiny_albert_dir(
      str(tmp_path_factory.mktemp("overwrite") / "albert"))


@pytest.fixture(scope="module")
def hf_source(tiny, tmp_path_factory):
  """A transformers model directory, the input of import_from_hf."""
  path = str(tmp_path_factory.mktemp("hf_source") / "hf")
  export_to_hf.export_to_hf(tiny.config_file, tiny.init_checkpoint, path,
                            tiny.spm_model_file)
  return path


def run_export(name, tiny, hf_source, directory, overwrite=False):
  """Exports with exporter `name` into directory (through its `run`)."""
  if name in ("tfhub", "tf2"):
    return export_to_tfhub.run(export_to_tfhub.default_options(
        albert_directory=tiny.directory, export_path=directory,
        hub_format="tf1" if name == "tfhub" else "tf2",
        overwrite_export_path=overwrite))
  if name == "checkpoints":
    return export_checkpoints.run(export_checkpoints.default_options(
        albert_directory=tiny.directory,
        export_path=os.path.join(directory, CHECKPOINT_NAME),
        overwrite_export_path=overwrite))
  if name == "hf":
    return export_to_hf.run(export_to_hf.default_options(
        albert_directory=tiny.directory, export_path=directory,
        overwrite_export_path=overwrite))
  return import_from_hf.run(import_from_hf.default_options(
      hf_directory=hf_source, export_path=directory,
      overwrite_export_path=overwrite))


EXPORTERS = ["tfhub", "tf2", "checkpoints", "hf", "import"]


def write(directory, relative, text):
  path = os.path.join(directory, relative)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    f.write(text)


def read(directory, relative):
  with open(os.path.join(directory, relative)) as f:
    return f.read()


def manifest(directory):
  _, paths = export_files.read_marker(directory)
  return paths


def rewrite_marker(directory, paths, kind=None):
  """The marker of an export, as another version of the exporter wrote it."""
  old_kind, _ = export_files.read_marker(directory)
  text = export_files.marker_text(kind or old_kind, sorted(paths))
  write(directory, MARKER, text)


def digest_tree(directory):
  """{relative path: sha256} of every file below directory."""
  return {path: hashlib.sha256(open(os.path.join(directory, path),
                                    "rb").read()).hexdigest()
          for path in export_files.entries(directory)}


def dead_pid():
  """The pid of a process that has ended."""
  process = subprocess.Popen(["true"])
  process.wait()
  return process.pid


@pytest.mark.parametrize("name", EXPORTERS)
def test_overwrite_keeps_added_files_and_replaces_the_exporters(
    name, tiny, hf_source, tmp_path, warnings):
  export_dir = str(tmp_path / "export")
  run_export(name, tiny, hf_source, export_dir)
  own = manifest(export_dir)
  assert own and MARKER not in own and CARD not in own
  # The previous export: an older exporter also wrote retired.bin; the
  # user added a card and notes, and every file of the export is stale.
  rewrite_marker(export_dir, own | {"retired.bin"})
  write(export_dir, "retired.bin", "written by the exporter")
  for path in own:
    write(export_dir, path, "stale")
  write(export_dir, CARD, "my model card")
  write(export_dir, NOTES, "my notes")

  run_export(name, tiny, hf_source, export_dir, overwrite=True)
  assert read(export_dir, CARD) == "my model card"
  assert read(export_dir, NOTES) == "my notes"
  assert not os.path.exists(os.path.join(export_dir, "retired.bin"))
  assert manifest(export_dir) == own
  for path in own:
    with open(os.path.join(export_dir, path), "rb") as f:
      assert f.read() != b"stale", path
  assert set(export_files.entries(export_dir)) == own | {MARKER, CARD, NOTES}
  kept = [w for w in warnings if w.startswith("Kept 2 file(s) in %s" %
                                              export_dir)]
  assert len(kept) == 1 and kept[0].endswith(": %s, %s" % (CARD, NOTES))
  assert os.listdir(str(tmp_path)) == ["export"]


@pytest.mark.parametrize("name", EXPORTERS)
def test_killed_after_the_swap_the_next_run_keeps_added_files(
    name, tiny, hf_source, tmp_path, warnings):
  """The new export is in place, the previous one still aside."""
  export_dir = str(tmp_path / "export")
  run_export(name, tiny, hf_source, export_dir)
  old = str(tmp_path / (".export.old-%d-%s" % (dead_pid(),
                                               uuid.uuid4().hex[:8])))
  shutil.copytree(export_dir, old)
  rewrite_marker(old, manifest(old) | {"retired.bin"})
  write(old, "retired.bin", "written by the exporter")
  write(old, CARD, "my model card")
  write(old, NOTES, "my notes")

  run_export(name, tiny, hf_source, export_dir, overwrite=True)
  assert read(export_dir, CARD) == "my model card"
  assert read(export_dir, NOTES) == "my notes"
  assert not os.path.exists(os.path.join(export_dir, "retired.bin"))
  assert os.listdir(str(tmp_path)) == ["export"]
  assert any("killed export" in w and w.endswith("%s, %s" % (CARD, NOTES))
             for w in warnings), warnings


def test_killed_after_the_swap_then_a_run_without_overwrite(tiny, hf_source,
                                                            tmp_path):
  export_dir = str(tmp_path / "export")
  run_export("hf", tiny, hf_source, export_dir)
  before = digest_tree(export_dir)
  old = str(tmp_path / (".export.old-%d-0123abcd" % dead_pid()))
  shutil.copytree(export_dir, old)
  write(old, CARD, "my model card")
  with pytest.raises(export_to_hf.ExportError, match="already exists"):
    run_export("hf", tiny, hf_source, export_dir)
  assert read(export_dir, CARD) == "my model card"
  assert os.listdir(str(tmp_path)) == ["export"]
  before[CARD] = digest_tree(export_dir)[CARD]
  assert digest_tree(export_dir) == before


def test_a_file_that_cannot_be_carried_over_is_left_aside(tmp_path):
  """Never removed: the next run tries again."""
  new, old = str(tmp_path / "export"), str(tmp_path / ".export.old")
  for directory in (new, old):
    write(directory, "model.bin", "exporter's")
    rewrite_marker(directory, ["model.bin"], kind="test")
  write(old, CARD, "old card")
  write(old, NOTES, "my notes")
  write(new, CARD, "someone put a card in the new export meanwhile")
  assert export_files.finish_replacement(old, new) == [NOTES]
  assert read(new, NOTES) == "my notes"
  assert read(old, CARD) == "old card"
  assert sorted(os.listdir(old)) == [MARKER, CARD, "notes"]
  os.remove(os.path.join(new, CARD))
  assert export_files.finish_replacement(old, new) == [CARD]
  assert read(new, CARD) == "old card"
  assert not os.path.exists(old)


def test_added_file_at_a_path_the_new_export_writes_is_refused(
    tiny, hf_source, tmp_path, monkeypatch):
  """An older export did not write special_tokens_map.json; a user did."""
  export_dir = str(tmp_path / "hf")
  run_export("hf", tiny, hf_source, export_dir)
  rewrite_marker(export_dir, manifest(export_dir) -
                 {"special_tokens_map.json"})
  write(export_dir, "special_tokens_map.json", "mine")
  before = digest_tree(export_dir)
  written = []
  monkeypatch.setattr(export_to_hf, "write_safetensors",
                      lambda *args: written.append(args))
  with pytest.raises(export_to_hf.ExportError) as raised:
    run_export("hf", tiny, hf_source, export_dir, overwrite=True)
  message = str(raised.value)
  assert "\n" not in message
  assert "holds %s, which the previous export did not write" % (
      os.path.join(export_dir, "special_tokens_map.json")) in message
  assert not written  # Refused before writing anything.
  assert digest_tree(export_dir) == before
  assert os.listdir(str(tmp_path)) == ["hf"]


def test_clash_found_only_once_the_export_is_written_is_refused(
    tiny, hf_source, tmp_path):
  """The hub exporter does not name its assets before writing them."""
  export_dir = str(tmp_path / "hub")
  run_export("tfhub", tiny, hf_source, export_dir)
  asset = "assets/" + hub_fixtures.SPM_MODEL_NAME
  rewrite_marker(export_dir, manifest(export_dir) - {asset})
  before = digest_tree(export_dir)
  with pytest.raises(export_to_tfhub.ExportError) as raised:
    run_export("tfhub", tiny, hf_source, export_dir, overwrite=True)
  assert "holds %s, which" % os.path.join(export_dir, asset) in str(
      raised.value)
  assert digest_tree(export_dir) == before
  assert os.listdir(str(tmp_path)) == ["hub"]


def test_exports_without_a_manifest(tiny, hf_source, tmp_path, warnings):
  """Earlier markers and hub modules made elsewhere: unsure means keep."""
  # A TF1 module made elsewhere (no marker), replaced by a TF2 SavedModel:
  # its hub file would make the SavedModel look like a TF1 module.
  hub_dir = str(tmp_path / "hub")
  run_export("tfhub", tiny, hf_source, hub_dir)
  os.remove(os.path.join(hub_dir, MARKER))
  write(hub_dir, CARD, "card")
  write(hub_dir, "variables/notes.txt", "inside the hub layout")
  run_export("tf2", tiny, hf_source, hub_dir, overwrite=True)
  assert not os.path.exists(os.path.join(hub_dir, "tfhub_module.pb"))
  assert not os.path.exists(os.path.join(hub_dir, "variables/notes.txt"))
  assert read(hub_dir, CARD) == "card"

  # An earlier export_checkpoints' marker (first line only), replaced by an
  # export under another prefix: its checkpoint's files are its own.
  ckpt_dir = str(tmp_path / "ckpt")
  run_export("checkpoints", tiny, hf_source, ckpt_dir)
  write(ckpt_dir, MARKER, "checkpoint written by albert\n")
  write(ckpt_dir, "other.ckpt.index", "not the state file's checkpoint")
  write(ckpt_dir, CARD, "card")
  export_checkpoints.run(export_checkpoints.default_options(
      albert_directory=tiny.directory,
      export_path=os.path.join(ckpt_dir, "model.ckpt-2"),
      overwrite_export_path=True))
  names = set(os.listdir(ckpt_dir))
  assert not {n for n in names if n.startswith(CHECKPOINT_NAME + ".")}
  assert {"model.ckpt-2.index", "other.ckpt.index", CARD} <= names
  assert any(w.endswith(": %s, other.ckpt.index" % CARD) for w in warnings)


@pytest.mark.parametrize("name,fragment", [
    ("tfhub", "is not a previous export (no tfhub_module.pb or "
              ".albert_export marker in it); --overwrite_export_path "
              "replaces only exported modules"),
    ("tf2", "is not a previous TF2 SavedModel export (no .albert_export "
            "marker in it)"),
    ("checkpoints", "is not a previous checkpoint export (no "
                    ".albert_export marker in it)"),
    ("hf", "is not a previous Hugging Face export (no .albert_export "
           "marker in it)"),
    ("import", "is not a model directory written by import_from_hf (no "
               ".albert_export marker in it)"),
])
def test_each_exporter_names_its_format_refusing_other_directories(
    name, fragment, tiny, hf_source, tmp_path):
  other = str(tmp_path / "other")
  write(other, "notes.txt", "mine")
  with pytest.raises(ValueError) as raised:
    run_export(name, tiny, hf_source, other, overwrite=True)
  message = str(raised.value)
  assert fragment in message and "\n" not in message
  if name != "tfhub":
    assert "tfhub_module.pb" not in message
  assert os.listdir(other) == ["notes.txt"]


@pytest.mark.slow
def test_command_line_keeps_the_model_card_and_says_so(tiny, tmp_path):
  export_dir = str(tmp_path / "hf")
  run_export("hf", tiny, None, export_dir)
  write(export_dir, CARD, "my model card")
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("ALBERT_TRACEBACK", None)
  result = subprocess.run(
      [sys.executable, "-m", "albert.export_to_hf",
       "--albert_directory=" + tiny.directory, "--export_path=" + export_dir,
       "--overwrite_export_path"], capture_output=True, text=True,
      env=env, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  assert ("Kept 1 file(s) in %s that the previous export did not write: %s"
          % (export_dir, CARD)) in result.stderr
  assert read(export_dir, CARD) == "my model card"
