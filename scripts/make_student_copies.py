"""Make the student copies of the practical notebooks (no solutions, no outputs).

The instructor notebooks (``notebooks/08_p5_*.ipynb`` ... ``12_p5_*.ipynb``)
hold the full solutions and are committed with their outputs. This script
writes ``notebooks/student/<same name>.ipynb`` from each of them:

* **Exercise cells** are code cells tagged ``solution`` (cell metadata
  ``tags``). Every line of such a cell that ends with the comment ``# blank``
  is a line the learner writes: its right-hand side is replaced by ``...``
  (``m0 = lh.fit(...)  # blank`` becomes ``m0 = ...``; a line without an
  assignment becomes ``...``). The other lines of the cell are kept as given
  code, and the ``# blank`` markers are removed. A marked statement that
  continues over several lines (open brackets) is blanked whole: mark its
  first line. This is the only mechanism
  (there is no skeleton in the metadata): the solution is the single source.
* **Answer cells** are markdown cells tagged ``answer`` (the instructor's
  answers to the interpretation questions): their text becomes
  ``*Write your answer here.*``.
* **Instructor cells** are cells tagged ``instructor`` (the hidden cells that
  assert the reference numbers): they are left out.
* **Model answers**: after each answer cell the student copy gets a collapsed
  Markdown cell (tagged ``model-answer``) holding the instructor's answer in
  ``<details><summary>Compare with a model answer (open it after writing
  yours)</summary> ... </details>``, so that a learner who has written an
  answer can compare it. ``--no-model-answers`` leaves these cells out (for
  graded use, where the answers must not travel with the copy).
* **Folded results**: Markdown of the instructor notebook may fold what follows
  from an exercise (its interpretation, the numeric Summary, published values
  to compare with) in ``<details><summary>...</summary> ... </details>``; the
  fold is copied as it is, so a learner opens it after trying. With
  ``--no-model-answers`` every such fold is left out as well, since it holds
  the exercises' results.
* **Student text**: in a Markdown cell, text between ``<!-- instructor -->``
  and ``<!-- /instructor -->`` is left out of the student copy, and
  ``<!-- student: some text -->`` (invisible in the instructor notebook)
  becomes ``some text``. A quiz introduction (a Markdown cell that starts with
  a ``## Quiz`` heading) without such markers gets a standard introduction
  that fits the blanked answer cells (its heading and the ``lh.quiz(...)``
  call it names are kept).
* **Links**: relative links in Markdown (``[text](target)``, ``src=``,
  ``href=``) are rewritten to work from ``notebooks/student/``: a link to
  another practical points to its student copy in the same folder, any other
  link goes one folder up (``00_start.ipynb`` becomes ``../00_start.ipynb``).
  The links are written for ``notebooks/student/`` whatever ``--out`` is, so
  that a copy written elsewhere (for the tests) is identical.
* All outputs and execution counts are cleared, and the tags ``solution`` and
  ``answer`` are kept so that a later run can find the exercises.

Every check cell in the practicals accepts an unfinished ``...`` (it prints
"Not done yet" and hands back the learner's own ``...``), and every cell that
needs an exercise's result starts with ``if lh.ready(...)`` or
``if lh.solved(...)``, which says what is missing; so a student copy runs from
top to bottom without errors and shows no result the learner has not made.

Usage: ``python scripts/make_student_copies.py [--out DIR] [--no-model-answers] [NOTEBOOK ...]``
(defaults: all practicals, ``notebooks/student``, with model answers).
``make students`` runs it.
"""
from __future__ import annotations

import argparse
import posixpath
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
# a practical: a number, an optional letter for an inserted notebook, then _p<number>_ (08_p5_1_..., 10a_p5_3b_...)
PRACTICAL = re.compile(r"^[0-9]+[a-z]*_p[0-9]+_[^/]*\.ipynb$")
BLANK = re.compile(r"\s*#\s*blank\s*$")
ASSIGN = re.compile(r"^(?P<indent>\s*)(?P<lhs>[^=#()\[\]'\"]+?(?:\[[^\]]*\])?)\s*(?P<op>[-+*/]?=)(?!=)")
ANSWER_PLACEHOLDER = "*Write your answer here.*"
STUDENT_DIR = "student"   # the copies live in notebooks/student/; links are written for that folder
MODEL_ANSWER_TAG = "model-answer"
MODEL_ANSWER_SUMMARY = "Compare with a model answer (open it after writing yours)"
ANSWER_PREFIX = re.compile(r"^\s*\*\*Answer\.\*\*\s*")
INSTRUCTOR_TEXT = re.compile(r"<!--\s*instructor\s*-->.*?<!--\s*/instructor\s*-->", re.DOTALL)
FOLD = re.compile(r"<details>.*?</details>\n*", re.DOTALL)
STUDENT_TEXT = re.compile(r"<!--\s*student:\s*(.*?)\s*-->", re.DOTALL)
QUIZ_HEADING = re.compile(r"^#+\s*Quiz\b")
QUIZ_CALL = re.compile(r"`lh\.quiz\(([\"'][^\"']+[\"'])\)`")
STUDENT_QUIZ_INTRO = (
    "Answer each question in the code cell below it: replace the `...` with your answer (a number, or the "
    "label of an option in quotes, such as `\"b\"`) and run the cell. `lh.check` tells you whether your "
    "answer is right; if it is not, it gives feedback and a hint, so you can try again.")
MD_LINK = re.compile(r"(\]\()([^)\s]+)(\))")
HTML_LINK = re.compile(r"((?:src|href)=[\"'])([^\"']+)([\"'])")


def blank_line(line: str) -> str:
    """``'x = f(y)  # blank'`` -> ``'x = ...'``; a line without assignment -> ``'...'``."""
    code = BLANK.sub("", line)
    m = ASSIGN.match(code)
    if m:
        return f"{m['indent']}{m['lhs'].rstrip()} {m['op']} ..."
    indent = re.match(r"\s*", code).group(0)
    return f"{indent}..."


def _complete(lines: list) -> bool:
    """True when the lines form a complete Python statement (brackets closed)."""
    import ast
    import textwrap
    try:
        ast.parse(textwrap.dedent("\n".join(BLANK.sub("", l) for l in lines)))
        return True
    except SyntaxError:
        return False


def student_source(source: str) -> str:
    """Blank the marked lines; a marked statement that continues on the next lines is blanked whole."""
    lines, out, i = source.split("\n"), [], 0
    while i < len(lines):
        line = lines[i]
        if BLANK.search(line):
            j = i + 1
            while not _complete(lines[i:j]) and j < len(lines):
                j += 1
            out.append(blank_line(line))
            i = j
        else:
            out.append(line)
            i += 1
    return "\n".join(out)


def tags(cell) -> list:
    return list(cell.get("metadata", {}).get("tags", []))


def student_link(target: str) -> str:
    """A relative link of an instructor notebook (in ``notebooks/``), rewritten for ``notebooks/student/``.

    >>> student_link("00_start.ipynb"), student_link("09_p5_2_random_intercepts.ipynb#quiz")
    ('../00_start.ipynb', '09_p5_2_random_intercepts.ipynb#quiz')
    >>> student_link("https://www.bristol.ac.uk/cmm/"), student_link("#quiz")
    ('https://www.bristol.ac.uk/cmm/', '#quiz')
    >>> student_link("10a_p5_3b_extra.ipynb"), student_link("07a_extra.ipynb")
    ('10a_p5_3b_extra.ipynb', '../07a_extra.ipynb')
    """
    if not target or target.startswith(("#", "/")) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target):
        return target
    path, sep, anchor = target.partition("#")
    resolved = posixpath.normpath(path)
    if "/" not in resolved and PRACTICAL.match(resolved):
        new = resolved                     # the student copy of that practical, in the same folder
    else:
        new = posixpath.relpath(resolved, STUDENT_DIR)
    return new + sep + anchor


def student_links(text: str) -> str:
    """Rewrite every relative Markdown and HTML link of ``text`` with :func:`student_link`."""
    def sub(m):
        return m.group(1) + student_link(m.group(2)) + m.group(3)
    return HTML_LINK.sub(sub, MD_LINK.sub(sub, text))


def student_text(source: str, *, folds: bool = True) -> str:
    """The student version of a Markdown cell: instructor-only text out, student-only text in, a quiz
    introduction that fits blanked answer cells, links that work from ``notebooks/student/``; with
    ``folds=False`` the folded results (``<details>`` blocks) out too.

    >>> student_text("Intro.\\n\\n<details><summary>Results</summary>\\n\\n0.19\\n\\n</details>\\n\\nNext.", folds=False)
    'Intro.\\n\\nNext.'
    """
    if not folds:
        source = FOLD.sub("", source).strip()
    marked = INSTRUCTOR_TEXT.search(source) or STUDENT_TEXT.search(source)
    if marked:
        source = STUDENT_TEXT.sub(lambda m: m.group(1), INSTRUCTOR_TEXT.sub("", source))
        source = re.sub(r"\n{3,}", "\n\n", source).strip()
    elif QUIZ_HEADING.match(source):
        heading = source.split("\n", 1)[0]
        call = QUIZ_CALL.search(source)
        shows = f"`lh.quiz({call.group(1)})` shows the questions. " if call else ""
        source = f"{heading}\n\n{shows}{STUDENT_QUIZ_INTRO}"
    return student_links(source)


def model_answer_cell(answer_source: str):
    """A collapsed Markdown cell holding the instructor's answer."""
    text = ANSWER_PREFIX.sub("", answer_source).strip()
    return nbformat.v4.new_markdown_cell(
        f"<details><summary>{MODEL_ANSWER_SUMMARY}</summary>\n\n{text}\n\n</details>",
        metadata={"tags": [MODEL_ANSWER_TAG]})


def make_student(nb, *, model_answers: bool = True):
    """Return the student copy of an instructor notebook (a new notebook object).

    With ``model_answers=False`` the collapsed model answers are left out.
    """
    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    for cell in nb.cells:
        t = tags(cell)
        if "instructor" in t:
            continue
        new = nbformat.from_dict(dict(cell))
        new.pop("id", None)
        if cell.cell_type == "code":
            new.outputs = []
            new.execution_count = None
            if "solution" in t:
                new.source = student_source(cell.source)
        elif cell.cell_type == "markdown" and "answer" in t:
            new.source = ANSWER_PLACEHOLDER
        elif cell.cell_type == "markdown":
            new.source = student_text(cell.source, folds=model_answers)
        out.cells.append(new)
        if cell.cell_type == "markdown" and "answer" in t and model_answers:
            out.cells.append(model_answer_cell(student_links(cell.source)))
    # deterministic cell ids: the position in the student copy
    for i, cell in enumerate(out.cells):
        cell["id"] = f"cell-{i:03d}"
    return out


def solution_lines(nb) -> list:
    """The right-hand sides the learner has to write (for the tests), one per marked line."""
    out = []
    for c in nb.cells:
        if c.cell_type == "code" and "solution" in tags(c):
            for l in c.source.split("\n"):
                if BLANK.search(l):
                    code = BLANK.sub("", l).strip()
                    m = ASSIGN.match(code)
                    out.append(code[m.end():].strip() if m else code)
    return out


def render(nb) -> str:
    return nbformat.writes(nb) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=NOTEBOOKS / STUDENT_DIR)
    ap.add_argument("--no-model-answers", action="store_true",
                    help="leave out the collapsed model answers to the written questions (for graded use)")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted(p for p in NOTEBOOKS.glob("*.ipynb") if PRACTICAL.match(p.name))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        target = args.out / path.name
        target.write_text(render(make_student(nb, model_answers=not args.no_model_answers)), encoding="utf-8")
        print(f"{path.name}: {len(solution_lines(nb))} blanks -> {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
