"""How long each notebook takes a learner: reading time, run time and an allowance for the exercises.

For each course notebook (``notebooks/NN*_*.ipynb``) the estimate is a model of
reading and working, not a measurement of learners (none has been timed):

* **reading and studying**: the words of its Markdown cells at ``WPM`` = 130
  words a minute (a formula or a name in code type counts as one word; LaTeX
  display equations, HTML comments, link targets, navigation links, solutions
  folded in ``<details>`` and instructor text left out), plus ``EQUATION_MIN``
  for each display equation, ``CODE_LINE_MIN`` for each line of code shown,
  ``FIGURE_MIN`` for each figure and ``OUTPUT_MIN`` for each printed table or
  output. Brysbaert (2019, "How many words do we read per minute?", *Journal
  of Memory and Language* 109, 104047) puts silent reading of English
  non-fiction at 238 words a minute; technical text read for understanding
  goes much slower, hence 130;
* **working**: ``EXPLORE_MIN`` for each exploration; in a concept notebook
  ``EXERCISE_MIN`` for each exercise check plus ``BLANK_MIN`` for each line
  the learner writes (``= ...``); in a practical ``BLANK_MIN`` for each line
  of its solutions (``# blank``) and ``ANSWER_MIN`` for each written answer
  (Markdown cells tagged ``answer``);
* **the quiz**: ``NUMERIC_MIN`` for each numeric question and ``CHOICE_MIN``
  for each other question of the sections it shows with ``lh.quiz(...)``;
* **running the code**: the notebook is executed once (a copy, in a temporary
  folder) and the wall-clock time is measured; ``--no-run`` skips this.

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

WPM = 130            # words a minute, for technical text read for understanding
EQUATION_MIN = 0.75  # each display equation
CODE_LINE_MIN = 0.1  # each line of code shown (comments and blank lines aside)
FIGURE_MIN = 1.0     # each figure
OUTPUT_MIN = 0.5     # each printed table or output
EXPLORE_MIN = 5.0    # each exploration (lh.explore_...)
EXERCISE_MIN = 3.0   # each exercise check of a concept notebook ...
BLANK_MIN = 4.0      # ... and each line a learner writes (concept: "= ...", practical: "# blank")
ANSWER_MIN = 6.0     # each written answer
NUMERIC_MIN = 3.0    # each numeric quiz question
CHOICE_MIN = 1.5     # each other quiz question

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
    """Words a learner reads in a Markdown text (a formula or a name in code type counts as one; display
    equations, comments, link targets, tags and folded solutions left out).

    >>> words("## A title\\n\\nThe **VPC** is $\\\\sigma^2_u / (\\\\sigma^2_u + \\\\sigma^2_e)$, see [notebook 02](02_x.ipynb).")
    9
    """
    text = NOTE.sub(" ", markdown)                     # the time note itself
    text = re.sub(r"<!-- nav:start -->.*?<!-- nav:end -->", " ", text, flags=re.S)   # navigation links
    text = re.sub(r"<details>.*?</details>", " ", text, flags=re.S)                  # read after trying
    text = re.sub(r"<!-- instructor -->.*?<!-- /instructor -->", " ", text, flags=re.S)
    text = _COMMENT.sub(" ", text)
    text = re.sub(r"\$\$.+?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+?\$|`[^`]+`", " X ", text)
    text = _LINK_TARGET.sub("]", text)
    text = _TAG.sub(" ", text)
    return len(_WORD.findall(text))


def _quiz_questions(sections) -> tuple:
    """(numeric, other) questions of the sections."""
    from lemma_helpers import _bank

    bank = _bank._shipped_bank()
    qs = [q for s in sections if s in bank for q in bank[s][1]]
    return sum(q.type == "numeric" for q in qs), sum(q.type != "numeric" for q in qs)


_BLANK = re.compile(r"^\s*\w[\w\[\]\"' ]*= \.\.\.\s*(#.*)?$", re.M)
_SKIP = {"hide-input", "instructor", "quiz-answers"}


def _code_counts(cells, practical: bool) -> dict:
    """What a learner reads and does in the code cells: lines shown, figures, outputs, explorations, exercise
    checks and lines to write."""
    n = dict(lines=0, figures=0, outputs=0, explore=0, checks=0, blanks=0)
    for c in cells:
        tags = set(c.get("metadata", {}).get("tags", []))
        src = _source(c)
        if c["cell_type"] != "code" or tags & _SKIP or "NBVAL_IGNORE_OUTPUT" in src:
            continue
        n["checks"] += src.count("check_exercise(")
        if "solution" in tags:
            n["blanks"] += sum(1 for line in src.splitlines() if line.rstrip().endswith("# blank"))
        elif not practical:
            n["blanks"] += len(_BLANK.findall(src))
        shown = "check_exercise" not in src and "lh.quiz(" not in src
        if shown:
            n["lines"] += sum(1 for line in src.splitlines() if line.strip() and not line.strip().startswith("#"))
        explorations = len(re.findall(r"lh\.explore_\w+\(", src))
        n["explore"] += explorations
        for out in c.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                n["figures"] += 1
            elif shown and ("text/plain" in data or out.get("output_type") == "stream"):
                n["outputs"] += 1
        n["figures"] -= min(explorations, n["figures"])     # an exploration's stored figure counts with it
    return n


def measure(path: Path, run: bool = True) -> dict:
    """The parts of the estimate for one notebook (minutes, except ``words``)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    practical = bool(re.match(r"\d+_p\d", path.name))
    markdown = [c for c in cells if c["cell_type"] == "markdown"]
    answers = sum(1 for c in markdown if "answer" in c.get("metadata", {}).get("tags", []))
    read_cells = [_source(c) for c in markdown if "answer" not in c.get("metadata", {}).get("tags", [])]
    n_words = sum(words(s) for s in read_cells)
    equations = sum(len(re.findall(r"\$\$", s)) // 2 for s in read_cells)
    n = _code_counts(cells, practical)
    quizzes = sorted({s for c in cells if c["cell_type"] == "code" for s in _QUIZ.findall(_source(c))})
    numeric, choice = _quiz_questions(quizzes)
    run_min = execute_copy(path) / 60 if run else 0.0
    reading = (n_words / WPM + equations * EQUATION_MIN + n["lines"] * CODE_LINE_MIN + n["figures"] * FIGURE_MIN
               + n["outputs"] * OUTPUT_MIN)
    if practical:
        work = n["blanks"] * BLANK_MIN + answers * ANSWER_MIN
    else:
        work = (n["checks"] * EXERCISE_MIN + n["blanks"] * BLANK_MIN) if n["checks"] else 0.0
    work += n["explore"] * EXPLORE_MIN
    quiz = numeric * NUMERIC_MIN + choice * CHOICE_MIN
    total = reading + work + quiz + run_min
    return {"notebook": path.name, "title": _title(cells), "words": n_words, "reading": reading,
            "run": run_min if run else None, "exercises": n["checks"], "answers": answers,
            "questions": numeric + choice, "explorations": n["explore"], "work": work, "quiz": quiz,
            "total": 5 * math.ceil(total / 5)}


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
    lines = ["| Notebook | Words | Reading and studying (min) | Code run (min) | Explorations | Exercise checks "
             "| Written answers | Quiz questions | Working (min) | Quiz (min) | **About (min)** |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        run = "not run" if r["run"] is None else f"{r['run']:.1f}"
        lines.append(f"| [{r['title'] or r['notebook']}](../notebooks/{r['notebook']}) | {r['words']} | "
                     f"{r['reading']:.0f} | {run} | {r['explorations']} | {r['exercises']} | {r['answers']} | "
                     f"{r['questions']} | {r['work']:.0f} | {r['quiz']:.0f} | **{r['total']}** |")
    total = sum(r["total"] for r in rows)
    lines.append(f"| **Total** | {sum(r['words'] for r in rows)} | | | | | | | | | **{total}** "
                 f"(about {total / 60:.1f} hours) |")
    return "\n".join(lines) + "\n"


def _duration(minutes: int) -> str:
    """'45 minutes', 'an hour', '1 hour 25 minutes', '2 hours'."""
    h, m = divmod(int(minutes), 60)
    if not h:
        return f"{m} minutes"
    hours = "an hour" if h == 1 and not m else f"{h} hour{'s' if h > 1 else ''}"
    return hours if not m else f"{hours} {m} minutes"


def note(r: dict) -> str:
    """The one-line note for a notebook's first cell."""
    parts = [f"{r['reading']:.0f} to read the text and code and study the output"]
    if round(r["work"]):
        parts.append(f"{r['work']:.0f} for the {'exercises' if r['exercises'] or r['answers'] else 'explorations'}")
    if round(r["quiz"]):
        parts.append(f"{r['quiz']:.0f} for the quiz")
    said = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return (f"{LABEL}<!-- time:start -->*About {_duration(r['total'])}: {said} (minutes; an estimate, not a "
            "measurement: take the time you need).*<!-- time:end -->")


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
