"""Execute course notebooks in place, then refresh navigation links and student copies.

    python scripts/execute_notebooks.py                 # every notebook
    python scripts/execute_notebooks.py 02 10           # the ones whose names start so

Notebooks are committed executed (nbval compares against the stored outputs),
except the cells where the reader answers the quiz (tagged ``quiz-answers``):
they are run, then stored without outputs, so that no notebook shows a quiz
verdict or a worked answer the reader has not earned (nbval ignores their
output: they are also tagged ``nbval-ignore-output``). Execution timestamps are
not recorded, so re-running a notebook whose results did not change leaves its
file unchanged. Needs LEMMA_DATA_DIR or network.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor   # nbconvert comes with jupyterlab

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


ANSWER_TAG = "quiz-answers"


def strip_timing(nb) -> None:
    for cell in nb.cells:
        cell.metadata.pop("execution", None)


def strip_answers(nb) -> None:
    """The reader's answer cells keep no output: it would show verdicts and worked answers."""
    for cell in nb.cells:
        if cell.cell_type == "code" and ANSWER_TAG in cell.metadata.get("tags", []):
            cell.outputs = []
            cell.execution_count = None


def stable_widget_ids(nb) -> None:
    """A widget's view in the stored outputs names a model id that is random on every run (its state is
    not stored, so the id points nowhere): number them by cell, so that a re-run leaves the file as it was."""
    key = "application/vnd.jupyter.widget-view+json"
    for cell in nb.cells:
        views = [o for o in cell.get("outputs", []) if key in o.get("data", {})]
        for i, out in enumerate(views):
            out["data"][key]["model_id"] = f"{cell.get('id', 'cell')}-{i}"


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # store_widget_state=False: the explorations' widgets would otherwise put their state (PNG
    # images, random model ids) into the notebook's metadata, a new version on every run
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False, store_widget_state=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    strip_timing(nb)
    strip_answers(nb)
    # consecutive outputs on one stream joined: how the kernel splits its text into messages varies
    # from run to run, and would make a new version of the file each time
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    stable_widget_ids(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(prefixes: list[str]) -> None:
    paths = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")
                   if not prefixes or any(p.name.startswith(x) for x in prefixes))
    for path in paths:
        print(f"{path.name}: {execute(path):.1f} s", flush=True)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "nav.py")], check=True)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_student_copies.py")], check=True,
                   stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main(sys.argv[1:])
