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
* All outputs and execution counts are cleared, and the tags ``solution`` and
  ``answer`` are kept so that a later run can find the exercises.

Every check cell in the practicals accepts an unfinished ``...`` (it prints
"Not done yet" and lets the notebook go on with the expected result), so a
student copy runs from top to bottom without errors.

Usage: ``python scripts/make_student_copies.py [--out DIR] [NOTEBOOK ...]``
(defaults: all practicals, ``notebooks/student``). ``make students`` runs it.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PRACTICALS = "[0-9][0-9]_p5_*.ipynb"
BLANK = re.compile(r"\s*#\s*blank\s*$")
ASSIGN = re.compile(r"^(?P<indent>\s*)(?P<lhs>[^=#()\[\]'\"]+?(?:\[[^\]]*\])?)\s*(?P<op>[-+*/]?=)(?!=)")
ANSWER_PLACEHOLDER = "*Write your answer here.*"


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


def make_student(nb):
    """Return the student copy of an instructor notebook (a new notebook object)."""
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
        out.cells.append(new)
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
    ap.add_argument("--out", type=Path, default=NOTEBOOKS / "student")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob(PRACTICALS))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        target = args.out / path.name
        target.write_text(render(make_student(nb)), encoding="utf-8")
        print(f"{path.name}: {len(solution_lines(nb))} blanks -> {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
