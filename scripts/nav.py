"""Write the previous/next links into the first cell of every course notebook.

The first markdown cell of each notebook holds a line between the markers
``<!-- nav:start -->`` and ``<!-- nav:end -->``; this script fills it from the
ordered list of notebooks, so the links never go stale. Outputs are untouched.

    python scripts/nav.py          # rewrite the links
    python scripts/nav.py --check  # exit 1 if any notebook's links are stale
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
MARKERS = re.compile(r"<!-- nav:start -->.*?<!-- nav:end -->", re.S)


def title(nb) -> str:
    first = "".join(nb.cells[0].source).splitlines()[0]
    return first.lstrip("# ").strip()


def nav_line(prev_nb, prev_path, next_nb, next_path) -> str:
    parts = []
    if prev_path:
        parts.append(f"Previous: [{title(prev_nb)}]({prev_path.name})")
    parts.append("[Start page](00_start.ipynb)" if prev_path else "")
    if next_path:
        parts.append(f"Next: [{title(next_nb)}]({next_path.name})")
    return "<!-- nav:start -->\n" + " | ".join(p for p in parts if p) + "\n<!-- nav:end -->"


def main(check: bool = False) -> int:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
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
        new = MARKERS.sub(nav_line(*prev, *nxt).replace("\\", "\\\\"), cell.source)
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
    sys.exit(main(check="--check" in sys.argv))
