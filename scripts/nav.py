"""Write the previous/next links into the first cell of every course notebook.

The first markdown cell of each notebook holds a line between the markers
``<!-- nav:start -->`` and ``<!-- nav:end -->``; this script fills it from the
ordered list of notebooks, so the links never go stale. Outputs are untouched.
A concept notebook's link to a practical goes to the practical's student copy
when the folder has one (``student/``): the solved practical shows every answer.

The course notebooks are the files whose names start with a number, an
optional lower-case letter and ``_`` (``07_summary.ipynb``,
``07a_extra.ipynb``), in natural order: by the number, then the letter, so
an inserted ``07a_...`` comes after ``07_...`` and before ``08_...``.

    python scripts/nav.py                  # rewrite the links in notebooks/
    python scripts/nav.py --check          # exit 1 if any notebook's links are stale
    python scripts/nav.py --check FOLDER   # the same for the notebooks of another folder
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
MARKERS = re.compile(r"<!-- nav:start -->.*?<!-- nav:end -->", re.S)
COURSE_NOTEBOOK = re.compile(r"^(?P<number>[0-9]+)(?P<letter>[a-z]*)_.*\.ipynb$")


def natural_key(name: str) -> tuple:
    """Sort key of a course notebook's file name: ``07_x`` < ``07a_x`` < ``07b_x`` < ``08_x`` < ``10_x``.

    >>> sorted(["08_a.ipynb", "07a_extra.ipynb", "10_b.ipynb", "07_summary.ipynb", "9_c.ipynb"], key=natural_key)
    ['07_summary.ipynb', '07a_extra.ipynb', '08_a.ipynb', '9_c.ipynb', '10_b.ipynb']
    """
    m = COURSE_NOTEBOOK.match(name)
    if not m:
        return (float("inf"), "", name)
    return (int(m["number"]), m["letter"], name)


def course_notebooks(folder: Path = NOTEBOOKS) -> list:
    """The course notebooks of ``folder`` (not its sub-folders), in course order."""
    return sorted((p for p in Path(folder).glob("*.ipynb") if COURSE_NOTEBOOK.match(p.name)),
                  key=lambda p: natural_key(p.name))


PRACTICAL = re.compile(r"_p(?P<module>[0-9]+)_(?P<number>[0-9]+)_")


def interleaved(paths: list) -> list:
    """The concept/practical order of docs/SCHEDULE.md: each concept notebook of section M.k (file number
    k + 1: ``02_...`` is 5.1) is followed by the practicals of that section (``..._p5_1_...``).

    >>> names = ["00_start", "01_why", "02_groups", "03_ri", "07_summary", "08_p5_1_schools", "09_p5_2_ri",
    ...          "13_p5_6_exam", "14_extra"]
    >>> [p.stem for p in interleaved([Path(n + ".ipynb") for n in names])]
    ['00_start', '01_why', '02_groups', '08_p5_1_schools', '03_ri', '09_p5_2_ri', '07_summary', '13_p5_6_exam', '14_extra']
    """
    practicals = {p: PRACTICAL.search(p.name) for p in paths}
    concepts = [p for p in paths if not practicals[p]]
    order, placed = [], set()
    for c in concepts:
        order.append(c)
        m = COURSE_NOTEBOOK.match(c.name)
        section = int(m["number"]) - 1 if m and not m["letter"] else None
        for p, pm in practicals.items():
            if pm and section is not None and section >= 1 and int(pm["number"]) == section and p not in placed:
                order.append(p)
                placed.add(p)
    order += [p for p, pm in practicals.items() if pm and p not in placed]
    return order


def title(nb) -> str:
    first = "".join(nb.cells[0].source).splitlines()[0]
    return first.lstrip("# ").strip()


def target(path: Path, here: Path) -> str:
    """The link from notebook ``here`` to ``path``: from a concept notebook, a practical's student copy when the
    folder has one (``student/08_...``: the solved practical beside it shows every answer), else the file."""
    copy = path.parent / "student" / path.name
    if PRACTICAL.search(path.name) and not PRACTICAL.search(here.name) and copy.exists():
        return f"student/{path.name}"
    return path.name


def nav_line(prev_nb, prev_path, next_nb, next_path, here: Path | None = None) -> str:
    here = here or Path("00_x.ipynb")
    parts = []
    if prev_path:
        parts.append(f"Previous: [{title(prev_nb)}]({target(prev_path, here)})")
    parts.append("[Start page](00_start.ipynb)" if prev_path else "")
    if next_path:
        parts.append(f"Next: [{title(next_nb)}]({target(next_path, here)})")
    return "<!-- nav:start -->\n" + " | ".join(p for p in parts if p) + "\n<!-- nav:end -->"


def main(check: bool = False, folder: Path = NOTEBOOKS, order: str = "numbered") -> int:
    """Write (or with ``check``, check) the links; ``order`` is ``"numbered"`` (file names) or
    ``"interleaved"`` (each concept notebook followed by its practical, as in docs/SCHEDULE.md)."""
    paths = course_notebooks(folder)
    if order == "interleaved":
        paths = interleaved(paths)
    elif order != "numbered":
        raise ValueError(f"order is 'numbered' or 'interleaved', not {order!r}")
    nbs = [nbformat.read(p, as_version=4) for p in paths]
    stale = []
    for i, (path, nb) in enumerate(zip(paths, nbs)):
        prev = (nbs[i - 1], paths[i - 1]) if i > 0 else (None, None)
        nxt = (nbs[i + 1], paths[i + 1]) if i + 1 < len(paths) else (None, None)
        cell = nb.cells[0]
        if not MARKERS.search(cell.source):
            print(f"{path.name}: first cell has no nav markers", file=sys.stderr)
            stale.append(path.name)
            continue
        new = MARKERS.sub(nav_line(*prev, *nxt, here=path).replace("\\", "\\\\"), cell.source)
        if new != cell.source:
            stale.append(path.name)
            if not check:
                cell.source = new
                nbformat.write(nb, path)
    if check and stale:
        print("stale navigation links in: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", nargs="?", type=Path, default=NOTEBOOKS,
                    help="the folder of the course notebooks (default: notebooks/)")
    ap.add_argument("--check", action="store_true", help="exit 1 if any notebook's links are stale")
    ap.add_argument("--order", choices=["numbered", "interleaved"], default="numbered",
                    help="numbered (all concepts, then all practicals; the repository's notebooks) or "
                         "interleaved (each concept followed by its practical, as in docs/SCHEDULE.md)")
    args = ap.parse_args()
    sys.exit(main(check=args.check, folder=args.folder, order=args.order))
