"""How long each notebook takes a learner: reading time, run time and an allowance for the exercises.

For each course notebook (``notebooks/NN*_*.ipynb``) the estimate adds up

* **reading**: the words of its Markdown cells (LaTeX, HTML comments, link
  targets, navigation links and Markdown markup left out) at ``WPM`` = 200 words a minute.
  Brysbaert (2019, "How many words do we read per minute? A review and
  meta-analysis of reading rate", *Journal of Memory and Language* 109,
  104047) puts silent reading of English non-fiction at 238 words a minute on
  average; the course's text is technical and full of formulas and output to
  look at, so a slower rate is used;
* **running the code**: the notebook is executed once (a copy, in a temporary
  folder) and the wall-clock time is measured; ``--no-run`` skips this and
  counts 0;
* **exercises**: an allowance, not a measurement: ``EXERCISE_MIN`` minutes for
  each exercise check (``lh.check_exercise``) or exercise cell tagged
  ``solution`` outside the quiz, ``ANSWER_MIN`` minutes for each written answer
  (Markdown cells tagged ``answer``) and ``QUIZ_MIN`` minutes for each quiz
  question of the sections the notebook shows with ``lh.quiz(...)``.

The total is rounded up to 5 minutes. The script writes

* a course overview table into ``docs/SCHEDULE.md``, between
  ``<!-- timing:start -->`` and ``<!-- timing:end -->``, and
* with ``--notes``, a one-line note "About N minutes ..." into the first cell
  of each notebook, between ``<!-- time:start -->`` and ``<!-- time:end -->``
  (placed before the navigation links if the markers are not there yet).
  Only that cell's text changes: outputs, ids and metadata are kept.

The note's line starts with the label ``**Time:**``: a line that starts with
``<!--`` is a raw HTML block to CommonMark (JupyterLab, the website), whose
Markdown is not read, so the note's emphasis showed as literal asterisks.
``--reformat`` rewrites the notes already in the notebooks in this form,
keeping their text, without measuring anything.

Usage: ``python scripts/timing.py [--no-run] [--notes] [--table PATH] [NOTEBOOK ...]``,
``python scripts/timing.py --reformat [NOTEBOOK ...]``
(default: every course notebook and ``docs/SCHEDULE.md``). Needs LEMMA_DATA_DIR
(or the network) unless ``--no-run``.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SCHEDULE = ROOT / "docs" / "SCHEDULE.md"
COURSE_NOTEBOOK = re.compile(r"^[0-9]+[a-z]*_.*\.ipynb$")

WPM = 200            # words a minute (see the module docstring for the source)
EXERCISE_MIN = 4     # minutes for each exercise with a check
ANSWER_MIN = 5       # minutes for each written answer
QUIZ_MIN = 1.5       # minutes for each quiz question

TABLE = re.compile(r"(<!-- timing:start -->\n).*?(<!-- timing:end -->)", re.S)
NOTE = re.compile(r"(?:\*\*Time:\*\* )?<!-- time:start -->(.*?)<!-- time:end -->", re.S)
LABEL = "**Time:** "
NAV = "<!-- nav:start -->"

_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.,-]*")
_QUIZ = re.compile(r"""lh\.quiz\(\s*["']([^"']+)["']""")


def _source(cell) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def words(markdown: str) -> int:
    """Words a learner reads in a Markdown text (formulas, comments, link targets and tags left out).

    >>> words("## A title\\n\\nThe **VPC** is $\\\\sigma^2_u / (\\\\sigma^2_u + \\\\sigma^2_e)$, see [notebook 02](02_x.ipynb).")
    8
    """
    text = NOTE.sub(" ", markdown)                     # the time note itself
    text = re.sub(r"<!-- nav:start -->.*?<!-- nav:end -->", " ", text, flags=re.S)   # navigation links
    text = _COMMENT.sub(" ", text)
    text = _MATH.sub(" ", text)
    text = _LINK_TARGET.sub("]", text)
    text = _TAG.sub(" ", text)
    return len(_WORD.findall(text))


def _quiz_questions(sections) -> int:
    from lemma_helpers import _bank

    bank = _bank._shipped_bank()
    return sum(len(bank[s][1]) for s in sections if s in bank)


def measure(path: Path, run: bool = True) -> dict:
    """The parts of the estimate for one notebook (minutes, except ``words``)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    n_words = sum(words(_source(c)) for c in cells if c["cell_type"] == "markdown")
    checks = sum(_source(c).count("check_exercise(") for c in cells if c["cell_type"] == "code")
    solutions = sum(1 for c in cells if c["cell_type"] == "code"
                    and "solution" in c.get("metadata", {}).get("tags", [])
                    and "check_exercise(" not in _source(c) and "lh.check(" not in _source(c))
    exercises = max(checks, solutions)
    answers = sum(1 for c in cells if c["cell_type"] == "markdown" and "answer" in c.get("metadata", {}).get("tags", []))
    quizzes = sorted({s for c in cells if c["cell_type"] == "code" for s in _QUIZ.findall(_source(c))})
    questions = _quiz_questions(quizzes)
    run_min = execute_copy(path) / 60 if run else 0.0
    reading = n_words / WPM
    work = exercises * EXERCISE_MIN + answers * ANSWER_MIN + questions * QUIZ_MIN
    total = reading + run_min + work
    return {"notebook": path.name, "title": _title(cells), "words": n_words, "reading": reading,
            "run": run_min if run else None, "exercises": exercises, "answers": answers,
            "questions": questions, "work": work, "total": 5 * math.ceil(total / 5)}


def _title(cells) -> str:
    first = _source(cells[0]) if cells else ""
    m = re.search(r"^#\s+(.+)$", first, re.M)
    return m.group(1).strip() if m else ""


def execute_copy(path: Path) -> float:
    """Run a copy of the notebook (in a temporary folder next to nothing else) and return the seconds taken."""
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        nb = nbformat.read(copy, as_version=4)
        start = time.perf_counter()
        # the working folder is the notebook's own, as in JupyterLab; the file itself is never written
        NotebookClient(nb, timeout=900, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return time.perf_counter() - start


def table(rows: list) -> str:
    """The course overview table (Markdown)."""
    lines = ["| Notebook | Words | Reading (min) | Code run (min) | Exercises | Written answers | Quiz questions "
             "| Exercise allowance (min) | **About (min)** |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        run = "not run" if r["run"] is None else f"{r['run']:.1f}"
        lines.append(f"| [{r['title'] or r['notebook']}](../notebooks/{r['notebook']}) | {r['words']} | "
                     f"{r['reading']:.0f} | {run} | {r['exercises']} | {r['answers']} | {r['questions']} | "
                     f"{r['work']:.0f} | **{r['total']}** |")
    total = sum(r["total"] for r in rows)
    lines.append(f"| **Total** | {sum(r['words'] for r in rows)} | | | | | | | **{total}** "
                 f"(about {total / 60:.1f} hours) |")
    return "\n".join(lines) + "\n"


def note(r: dict) -> str:
    """The one-line note for a notebook's first cell."""
    return (f"{LABEL}<!-- time:start -->*About {r['total']} minutes: {r['reading']:.0f} to read, "
            f"{r['work']:.0f} for the exercises and questions"
            + ("" if r["run"] is None or r["run"] < 0.5 else f", {r['run']:.0f} for the code to run")
            + " (an estimate: reading at 200 words a minute, plus a few minutes for each exercise)."
            "*<!-- time:end -->")


def reformat(source: str) -> str:
    """The cell's text with its time note in the current form (label, markers), its words kept.

    >>> reformat("Intro.\\n\\n<!-- time:start -->*About 5 minutes.*<!-- time:end -->\\n")
    'Intro.\\n\\n**Time:** <!-- time:start -->*About 5 minutes.*<!-- time:end -->\\n'
    """
    return NOTE.sub(lambda m: f"{LABEL}<!-- time:start -->{m.group(1)}<!-- time:end -->", source)


def reformat_notebook(path: Path) -> bool:
    """Rewrite the time note of the notebook's first cell in the current form; return whether it changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[0]
    new = reformat(cell.source)
    if new == cell.source:
        return False
    cell.source = new
    nbformat.write(nb, path)
    return True


def write_note(path: Path, r: dict) -> bool:
    """Put the note into the notebook's first cell; return whether the file changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[0]
    line = note(r)
    if NOTE.search(cell.source):
        new = NOTE.sub(lambda m: line, cell.source)
    elif NAV in cell.source:
        new = cell.source.replace(NAV, line + "\n\n" + NAV, 1)
    else:
        new = cell.source.rstrip("\n") + "\n\n" + line
    if new == cell.source:
        return False
    cell.source = new
    nbformat.write(nb, path)
    return True


def write_table(path: Path, rows: list) -> bool:
    text = path.read_text(encoding="utf-8")
    if not TABLE.search(text):
        raise SystemExit(f"{path}: no <!-- timing:start --> ... <!-- timing:end --> markers for the table.")
    new = TABLE.sub(lambda m: m.group(1) + table(rows) + m.group(2), text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--no-run", action="store_true", help="do not execute the notebooks (code run time 0)")
    ap.add_argument("--notes", action="store_true", help="write the 'About N minutes' note into each notebook")
    ap.add_argument("--table", type=Path, default=SCHEDULE, help="the Markdown file that gets the table")
    ap.add_argument("--reformat", action="store_true", help="only rewrite the existing notes in the current "
                                                            "form (no measuring, no table)")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted(p for p in NOTEBOOKS.glob("*.ipynb") if COURSE_NOTEBOOK.match(p.name))
    if args.reformat:
        for p in paths:
            if reformat_notebook(p):
                print(f"{p.name}: time note rewritten")
        return 0
    rows = []
    for p in paths:
        r = measure(p, run=not args.no_run)
        rows.append(r)
        ran = "not run" if r["run"] is None else f"{r['run']:.1f} min run"
        print(f"{p.name}: about {r['total']} min ({r['words']} words, {ran})")
        if args.notes:
            write_note(p, r)
    write_table(args.table, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
