# coding=utf-8
"""The GLUE fine-tuning tutorial notebook, run top to bottom in a fresh kernel.

The notebook runs on tiny sizes (ALBERT_TUTORIAL_TINY=1) in a kernel of this
very Python: a kernelspec naming sys.executable is written to a temporary
JUPYTER_PATH, so a fresh clone's .venv needs nothing installed beyond
requirements-test.txt. Its WORK_DIR and working directory are in tmp_path,
and QUICKSTART_DIR names nothing, so it runs the (tiny) quickstart itself.
That one full run also finds a previous run's (marked) output and a file of
the user's in its WORK_DIR. The other tests run only the first cells, up to
a refusal or a choice of the model that does nothing slow.
"""

import glob
import json
import os
import re
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, "albert_glue_fine_tuning_tutorial.ipynb")
KERNEL_NAME = "albert-tutorial-test"
# The tiny sizes the notebook uses (its TINY branch).
TINY_STEPS, TINY_SAVE_EVERY, TINY_TEST_PAIRS = 20, 10, 8
RUN_DIRS = ("mrpc_python", "mrpc_cli")
# What the notebook makes in WORK_DIR (without GLUE_DIR or a released
# model), each directory holding its marker file.
OWN_DIRS = ("export", "glue", "mrpc_cli", "mrpc_python")
MARKER = ".albert-tutorial"


def read_notebook():
  return nbformat.read(NOTEBOOK, as_version=4)


def tagged(notebook, tag):
  """The index of the one cell tagged `tag`."""
  found = [i for i, cell in enumerate(notebook.cells)
           if tag in cell.metadata.get("tags", [])]
  assert len(found) == 1, (tag, found)
  return found[0]


def jupyter_environment(tmp, monkeypatch):
  """A kernelspec for this Python; Jupyter and IPython state kept in tmp."""
  kernel_dir = os.path.join(tmp, "jupyter", "kernels", KERNEL_NAME)
  os.makedirs(kernel_dir)
  with open(os.path.join(kernel_dir, "kernel.json"), "w") as f:
    json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                        "{connection_file}"],
               "display_name": "ALBERT tests", "language": "python"}, f)
  monkeypatch.setenv("JUPYTER_PATH", os.path.join(tmp, "jupyter"))
  monkeypatch.setenv("JUPYTER_RUNTIME_DIR", os.path.join(tmp, "runtime"))
  monkeypatch.setenv("IPYTHONDIR", os.path.join(tmp, "ipython"))
  monkeypatch.setenv("MPLCONFIGDIR", os.path.join(tmp, "matplotlib"))
  monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
      [ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
  for name in list(os.environ):
    if name.startswith("ALBERT_TUTORIAL_"):
      monkeypatch.delenv(name)


def fake_quickstart(directory):
  """Empty files where a finished quickstart run has its model.

  The notebook takes the directory as QUICKSTART_DIR's finished run, so its
  choice of the model (section 2) runs nothing slow.
  """
  for name in ("albert_config.json", "spm.model",
               os.path.join("model", "model.ckpt-best.index")):
    path = os.path.join(directory, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").close()
  return directory


def run_first_cells(tmp, monkeypatch, settings, last_tag, extra_source=None,
                    timeout=120):
  """Runs the cells up to the one tagged last_tag, then extra_source.

  The kernel starts in tmp; ALBERT_TUTORIAL_WORK_DIR is tmp/work and
  QUICKSTART_DIR a fake finished quickstart unless `settings` (NAME: value,
  for ALBERT_TUTORIAL_NAME) say otherwise. Returns the executed notebook;
  raises CellExecutionError for a cell's error.
  """
  jupyter_environment(tmp, monkeypatch)
  monkeypatch.delenv("TFHUB_CACHE_DIR", raising=False)
  settings = dict(
      {"WORK_DIR": os.path.join(tmp, "work"),
       "QUICKSTART_DIR": fake_quickstart(os.path.join(tmp, "quickstart"))},
      **settings)
  for name, value in settings.items():
    monkeypatch.setenv("ALBERT_TUTORIAL_" + name, value)
  notebook = read_notebook()
  notebook.cells = notebook.cells[:tagged(notebook, last_tag) + 1]
  if extra_source:
    notebook.cells.append(nbformat.v4.new_code_cell(extra_source))
  execute(notebook, tmp, timeout=timeout)
  return notebook


def execute(notebook, cwd, timeout=600):
  """Runs `notebook` (in place) in a fresh kernel started in cwd."""
  NotebookClient(notebook, timeout=timeout, kernel_name=KERNEL_NAME,
                 resources={"metadata": {"path": cwd}}).execute()


def printed(cell):
  """What a code cell printed (stdout, stderr) and displayed, as text."""
  parts = []
  for output in cell.outputs:
    if output.output_type == "stream":
      parts.append(output.text)
    elif "data" in output:
      parts.append(output.data.get("text/plain", ""))
  return "".join(parts)


def read_tsv(path):
  with open(path, encoding="utf-8") as f:
    return [line.rstrip("\n").split("\t") for line in f]


def eval_blocks(output_dir):
  """eval_results.txt: {global_step: {key: value}}."""
  blocks, block = [], {}
  with open(os.path.join(output_dir, "eval_results.txt")) as f:
    for line in f:
      if " = " in line:
        key, value = line.rstrip("\n").split(" = ", 1)
        if key in block:
          blocks.append(block)
          block = {}
        block[key] = value
  blocks.append(block)
  return {int(b["global_step"]): b for b in blocks if "global_step" in b}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
  """The notebook, executed once on tiny sizes: (notebook, text, dirs)."""
  tmp = str(tmp_path_factory.mktemp("notebook"))
  dirs = {name: os.path.join(tmp, name)
          for name in ("work", "cwd", "no_quickstart")}
  os.makedirs(dirs["cwd"])
  # A previous run's output (marked directories with stale files), and a
  # file of the user's.
  for name in OWN_DIRS:
    os.makedirs(os.path.join(dirs["work"], name, "stale"))
    open(os.path.join(dirs["work"], name, MARKER), "w").close()
    with open(os.path.join(dirs["work"], name, "stale", "saved_model.pb"),
              "w") as f:
      f.write("from the previous run")
  with open(os.path.join(dirs["work"], "notes.txt"), "w") as f:
    f.write("the user's\n")
  notebook = read_notebook()
  with pytest.MonkeyPatch.context() as monkeypatch:
    jupyter_environment(tmp, monkeypatch)
    monkeypatch.setenv("ALBERT_TUTORIAL_TINY", "1")
    monkeypatch.setenv("ALBERT_TUTORIAL_WORK_DIR", dirs["work"])
    monkeypatch.setenv("ALBERT_TUTORIAL_QUICKSTART_DIR",
                       dirs["no_quickstart"])
    execute(notebook, dirs["cwd"])
  text = "\n".join(printed(cell) for cell in notebook.cells
                   if cell.cell_type == "code")
  return notebook, text, dirs


def test_committed_notebook_is_valid_and_has_no_outputs():
  notebook = read_notebook()
  nbformat.validate(notebook)
  code_cells = [c for c in notebook.cells if c.cell_type == "code"]
  assert len(code_cells) > 5
  for cell in code_cells:
    assert cell.outputs == [] and cell.execution_count is None, cell.source
  # The parameters come first, and papermill-style tools find them.
  first = tagged(notebook, "parameters")
  assert first == min(i for i, c in enumerate(notebook.cells)
                      if c.cell_type == "code")
  assert "ALBERT_TUTORIAL_" in notebook.cells[first].source


@pytest.mark.slow
def test_every_cell_ran(ran):
  notebook, _, _ = ran
  for cell in notebook.cells:
    if cell.cell_type == "code":
      assert cell.execution_count is not None
      assert not [o for o in cell.outputs if o.output_type == "error"]


@pytest.mark.slow
def test_the_quickstart_model_was_made_in_the_work_dir(ran):
  _, text, dirs = ran
  quickstart = os.path.join(dirs["work"], "quickstart")
  assert "running it in %s" % quickstart in text
  assert "--init_checkpoint=%s" % os.path.join(
      quickstart, "model", "model.ckpt-best") in text
  assert os.path.exists(os.path.join(quickstart, "model",
                                     "model.ckpt-best.index"))


@pytest.mark.slow
def test_the_task_has_the_mrpc_layout(ran):
  _, _, dirs = ran
  task = os.path.join(dirs["work"], "glue", "MRPC")
  header = ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]
  for name in ("train.tsv", "dev.tsv"):
    rows = read_tsv(os.path.join(task, name))
    assert rows[0] == header
    assert {len(r) for r in rows} == {5}
    labels = [r[0] for r in rows[1:]]
    assert set(labels) == {"0", "1"}
    # Both classes are well represented.
    assert 0.25 < labels.count("1") / len(labels) < 0.75
  test = read_tsv(os.path.join(task, "test.tsv"))
  assert test[0] == ["index"] + header[1:]
  assert [r[0] for r in test[1:]] == [str(i) for i in range(TINY_TEST_PAIRS)]
  # Dev and test pairs come from documents training never saw.
  train = {r[3] for r in read_tsv(os.path.join(task, "train.tsv"))[1:]}
  dev = {r[3] for r in read_tsv(os.path.join(task, "dev.tsv"))[1:]}
  assert not train & dev and not train & {r[3] for r in test[1:]}


@pytest.mark.slow
def test_eval_accuracy_is_printed_for_every_checkpoint(ran):
  _, text, dirs = ran
  printed_values = [float(v) for v in
                    re.findall(r"eval_accuracy = ([0-9.]+)", text)]
  assert printed_values
  assert all(0.0 <= v <= 1.0 for v in printed_values)
  steps = list(range(0, TINY_STEPS + 1, TINY_SAVE_EVERY))
  history = {}
  for run in RUN_DIRS:
    history[run] = eval_blocks(os.path.join(dirs["work"], run))
    assert sorted(history[run]) == steps
    # The text plot has one bar per checkpoint, with the file's value.
    for step, block in history[run].items():
      accuracy = float(block["eval_accuracy"])
      assert 0.0 <= accuracy <= 1.0
      assert re.search(r"step +%d \|#* *\| %.4f" % (step, accuracy), text)
  python_best = max(history["mrpc_python"].values(),
                    key=lambda b: float(b["eval_accuracy"]))
  assert "eval_accuracy = %.4f" % float(python_best["eval_accuracy"]) in text
  # Both runs start from the same weights and seed: the Python API and the
  # command line agree at step 0; training then changed the model.
  assert float(history["mrpc_python"][0]["eval_loss"]) == pytest.approx(
      float(history["mrpc_cli"][0]["eval_loss"]), abs=1e-6)
  for run in RUN_DIRS:
    assert (history[run][0]["eval_loss"] !=
            history[run][TINY_STEPS]["eval_loss"])
  assert "python -m albert.run_classifier \\" in text
  assert "--learning_rate=" in text


@pytest.mark.slow
def test_test_predictions_are_written_and_shown(ran):
  _, text, dirs = ran
  shown = re.findall(r"^ *(\d+) +([01]) +([01]\.\d{6})  ", text, re.M)
  assert len(shown) == TINY_TEST_PAIRS
  written = [d for d in (os.path.join(dirs["work"], r) for r in RUN_DIRS)
             if os.path.exists(os.path.join(d, "MRPC.tsv"))]
  assert len(written) == 1  # the better run's
  submission = read_tsv(os.path.join(written[0], "MRPC.tsv"))
  probabilities = read_tsv(os.path.join(written[0],
                                        "test_results_MRPC.tsv"))
  assert submission[0] == ["index", "prediction"]
  assert [(i, label) for i, label, _ in shown] == [
      tuple(r) for r in submission[1:]]
  assert [p for _, _, p in shown] == [r[2] for r in probabilities[1:]]
  assert re.search(r"test accuracy .*: \d+/%d = [01]\.\d{4}" %
                   TINY_TEST_PAIRS, text)


@pytest.mark.slow
def test_the_exported_model_classifies_two_new_pairs(ran):
  _, text, dirs = ran
  exports = glob.glob(os.path.join(dirs["work"], "export", "*",
                                   "saved_model.pb"))
  assert len(exports) == 1
  results = re.findall(r"-> label ([01]), P\(paraphrase\) = ([0-9.]+)", text)
  assert len(results) == 2
  for label, p in results:
    assert 0.0 <= float(p) <= 1.0
    assert (label == "1") == (float(p) > 0.5)
  assert ("The SavedModel gives run_classifier's test probabilities for all "
          "%d test pairs" % TINY_TEST_PAIRS) in text


@pytest.mark.slow
def test_the_command_lines_progress_is_shown(ran):
  """The cell shows run_classifier's own progress lines, which print
  without TensorFlow's "INFO:tensorflow:" prefix, and none of
  TensorFlow's."""
  notebook, _, _ = ran
  shown = printed(notebook.cells[tagged(notebook, "finetune-cli")])
  assert re.search(r"^step \d+/%d  " % TINY_STEPS, shown, re.M), shown
  assert "\nrun_classifier mrpc done: best checkpoint step " in shown
  assert "INFO:tensorflow:" not in shown


@pytest.mark.slow
def test_the_notebook_writes_only_in_its_work_dir(ran):
  _, _, dirs = ran
  assert os.listdir(dirs["cwd"]) == []
  assert not os.path.exists(dirs["no_quickstart"])
  assert sorted(os.listdir(dirs["work"])) == sorted(
      OWN_DIRS + ("notes.txt", "quickstart"))
  with open(os.path.join(dirs["work"], "notes.txt")) as f:
    assert f.read() == "the user's\n"
  with open(os.path.join(dirs["work"], "mrpc_cli", "command.log")) as f:
    assert "\nrun_classifier mrpc done: best checkpoint step " in f.read()


@pytest.mark.slow
def test_a_second_run_replaces_its_own_marked_output(ran):
  _, _, dirs = ran
  for name in OWN_DIRS:
    path = os.path.join(dirs["work"], name)
    assert os.path.isfile(os.path.join(path, MARKER)), name
    assert not os.path.exists(os.path.join(path, "stale")), name


@pytest.mark.slow
def test_a_hub_module_fine_tunes_on_a_glue_dir(ran, tmp_path, monkeypatch):
  """HUB_MODULE and GLUE_DIR, through the fine-tuning from Python."""
  import hub_fixtures  # pylint: disable=g-import-not-at-top
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  _, _, dirs = ran
  hub = hub_fixtures.make_hub_module(
      hub_fixtures.make_tiny_albert_dir(str(tmp_path / "albert")),
      str(tmp_path / "hub"))
  glue = os.path.join(dirs["work"], "glue")  # the first run's, MRPC layout
  work = str(tmp_path / "work")
  jupyter_environment(str(tmp_path), monkeypatch)
  for name, value in (("TINY", "1"), ("WORK_DIR", work),
                      ("HUB_MODULE", hub), ("GLUE_DIR", glue)):
    monkeypatch.setenv("ALBERT_TUTORIAL_" + name, value)
  notebook = read_notebook()
  notebook.cells = notebook.cells[:tagged(notebook, "finetune-python") + 1]
  execute(notebook, str(tmp_path))
  text = "\n".join(printed(c) for c in notebook.cells if c.cell_type == "code")
  assert "--albert_hub_module_handle=%s\n" % hub in text
  assert "--init_checkpoint" not in text
  assert "The real MRPC, from %s" % os.path.join(glue, "MRPC") in text
  run_dir = os.path.join(work, "mrpc_python")
  assert sorted(eval_blocks(run_dir)) == list(
      range(0, TINY_STEPS + 1, TINY_SAVE_EVERY))
  names = [name for name, _ in tf.train.list_variables(run_dir)]
  assert "output_weights" in names
  assert any(name.startswith("module/bert/") for name in names)
  assert sorted(os.listdir(work)) == ["mrpc_python"]


@pytest.mark.parametrize("setting,value,message", [
    ("TINY", "yes", r"TINY \(ALBERT_TUTORIAL_TINY\) must be 0 or 1"),
    ("MODEL_DIR", "{tmp}", r"MODEL_DIR .* has no albert_config\.json"),
    ("GLUE_DIR", "{tmp}", r"GLUE_DIR .* has no MRPC folder"),
    ("TRAIN_STEPS", "abc", r"^TRAIN_STEPS \(ALBERT_TUTORIAL_TRAIN_STEPS\) "
     r"must be a whole number, not 'abc'$"),
    ("LEARNING_RATE", "fast", r"^LEARNING_RATE \(ALBERT_TUTORIAL_LEARNING_"
     r"RATE\) must be a number, such as 3e-5, not 'fast'$"),
    ("NUM_TEST", "0", r"^NUM_TEST \(ALBERT_TUTORIAL_NUM_TEST\) must be a "
     r"whole number of at least 1, not 0$"),
    ("WORK_DIR", "", r"^WORK_DIR \(ALBERT_TUTORIAL_WORK_DIR\) is empty: "),
    ("WORK_DIR", ".", r"^WORK_DIR '\.' is the current directory \({tmp}\)"),
    ("WORK_DIR", "{root}", r"^WORK_DIR {root} is or holds the repository "),
    ("WORK_DIR", "{above_root}", r"^WORK_DIR {above_root} is or holds the "
     r"repository {root}: "),
    ("WORK_DIR", "{tmp}/a_file", r"^WORK_DIR {tmp}/a_file is a file, not a "
     r"directory: "),
])
@pytest.mark.slow
def test_bad_parameters_fail_with_one_line(setting, value, message, tmp_path,
                                           monkeypatch):
  places = dict(tmp=str(tmp_path), root=ROOT,
                above_root=os.path.dirname(ROOT))
  (tmp_path / "a_file").write_text("the user's\n")
  with pytest.raises(CellExecutionError) as error:
    # Up to the choice of the pretrained model: nothing slow runs.
    run_first_cells(str(tmp_path), monkeypatch,
                    {setting: value.format(**places)}, "pretrained-model")
  assert error.value.ename == "ValueError"
  assert re.search(message.format(**{k: re.escape(v)
                                     for k, v in places.items()}),
                   error.value.evalue), error.value.evalue
  assert "\n" not in error.value.evalue
  assert (tmp_path / "a_file").read_text() == "the user's\n"


# What the notebook would write in WORK_DIR, in each setting: directories
# of the user's at those names (and one at a name it would not write).
@pytest.mark.parametrize("settings,refused,kept", [
    ({}, ("mrpc_python", "mrpc_cli", "export", "glue"), ("corpus",)),
    # A TF-Hub handle (not fetched: the set-up cell refuses first) needs a
    # corpus and a module cache, a file of the user's here.
    ({"HUB_MODULE": "https://tfhub.dev/google/albert_base/3"},
     ("mrpc_python", "corpus", "tfhub_cache"), ("quickstart",)),
])
@pytest.mark.slow
def test_what_the_notebook_did_not_make_is_refused_and_kept(
    settings, refused, kept, tmp_path, monkeypatch):
  work = tmp_path / "work"
  mine = {}
  for name in refused + kept:
    path = work / name / "mine.txt"
    if name == "tfhub_cache":
      path = work / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("the user's " + name)
    mine[path] = "the user's " + name
  (work / "empty").mkdir()  # not one of the notebook's names: left alone
  before = sorted(p.relative_to(work) for p in work.rglob("*"))
  with pytest.raises(CellExecutionError) as error:
    run_first_cells(str(tmp_path), monkeypatch, settings, "setup")
  assert error.value.ename == "ValueError"
  message = error.value.evalue
  assert "\n" not in message
  assert message.startswith(", ".join(str(work / n) for n in refused) +
                            " are not this notebook's (no %s marker)" %
                            MARKER), message
  assert message.endswith("move them away, or choose another WORK_DIR")
  for name in kept:
    assert str(work / name) not in message
  assert sorted(p.relative_to(work) for p in work.rglob("*")) == before
  for path, text in mine.items():
    assert path.read_text() == text


@pytest.mark.slow
def test_one_directory_of_the_users_is_named_alone(tmp_path, monkeypatch):
  work = tmp_path / "work"
  (work / "export" / "model").mkdir(parents=True)
  # The previous run's, and an empty one: both the notebook's to use.
  (work / "mrpc_python").mkdir()
  (work / "mrpc_python" / MARKER).write_text("")
  (work / "mrpc_python" / "checkpoint").write_text("stale")
  (work / "glue").mkdir()
  with pytest.raises(CellExecutionError) as error:
    run_first_cells(str(tmp_path), monkeypatch, {}, "setup")
  assert error.value.evalue == (
      "%s is not this notebook's (no %s marker), and the notebook would "
      "replace or write into it: move it away, or choose another WORK_DIR" %
      (work / "export", MARKER))
  assert (work / "export" / "model").is_dir()
  assert (work / "mrpc_python" / "checkpoint").read_text() == "stale"


_SHOW_PARAMETERS = """
import json
print(json.dumps({name: globals()[name] for name in (
    "TINY", "MAX_SEQ_LENGTH", "TRAIN_BATCH_SIZE", "TRAIN_STEPS",
    "WARMUP_STEPS", "SAVE_EVERY", "LEARNING_RATE", "CLI_LEARNING_RATE",
    "SEED", "NUM_TRAIN", "NUM_DEV", "NUM_TEST")}))
"""


@pytest.mark.parametrize("settings,expected", [
    # TINY's sizes for what is not set; the environment's values win.
    ({"TINY": "1", "TRAIN_STEPS": "6", "SAVE_EVERY": "3",
      "LEARNING_RATE": "3e-5", "NUM_TEST": "5"},
     dict(TINY=True, MAX_SEQ_LENGTH=32, TRAIN_BATCH_SIZE=16, TRAIN_STEPS=6,
          WARMUP_STEPS=2, SAVE_EVERY=3, LEARNING_RATE=3e-5,
          CLI_LEARNING_RATE=5e-4, SEED=12345, NUM_TRAIN=160, NUM_DEV=48,
          NUM_TEST=5)),
    ({"TRAIN_STEPS": "150", "MAX_SEQ_LENGTH": "128",
      "CLI_LEARNING_RATE": "0.002", "SEED": "7", "WARMUP_STEPS": "0"},
     dict(TINY=False, MAX_SEQ_LENGTH=128, TRAIN_BATCH_SIZE=32,
          TRAIN_STEPS=150, WARMUP_STEPS=0, SAVE_EVERY=75,
          LEARNING_RATE=1e-4, CLI_LEARNING_RATE=0.002, SEED=7,
          NUM_TRAIN=3000, NUM_DEV=400, NUM_TEST=200)),
])
@pytest.mark.slow
def test_parameters_set_from_the_environment_are_used(settings, expected,
                                                      tmp_path, monkeypatch):
  notebook = run_first_cells(str(tmp_path), monkeypatch, settings,
                             "check-parameters", _SHOW_PARAMETERS)
  values = json.loads(printed(notebook.cells[-1]))
  assert values == expected
  assert {name: type(value) for name, value in values.items()} == {
      name: type(value) for name, value in expected.items()}
  shown = printed(notebook.cells[tagged(notebook, "check-parameters")])
  assert ("set from the environment: %s\n" %
          ", ".join(sorted(list(settings) + ["QUICKSTART_DIR", "WORK_DIR"]))
          in shown)
  for name in ("TRAIN_STEPS", "LEARNING_RATE", "CLI_LEARNING_RATE", "SEED"):
    assert "  %s = %r\n" % (name, expected[name]) in shown
