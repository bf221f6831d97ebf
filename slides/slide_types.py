"""Choose which cells of a notebook go on slides, and how, from the notebook's structure.

:func:`set_slide_types` sets the cell metadata ``slideshow.slide_type`` that
nbconvert's reveal.js exporter reads. It works on a copy of the notebook in
memory (``slides/build.py`` never writes the notebook back), so the notebooks
need no slide metadata of their own; a cell that already has a
``slideshow`` entry keeps it, so an author can override the rules cell by cell.

The rules:

* the first cell (title, what you learn) is a slide, without its navigation links;
* a Markdown cell is first cut at each ``##`` or ``###`` heading that is not
  at its start (outside code blocks), so that every heading begins a cell;
  then a cell that starts with a ``##`` heading starts a new slide, one with a
  ``###`` heading a sub-slide (reveal.js's vertical slides), and other
  Markdown continues the current slide (``-``);
* a code cell that draws a figure (an ``image/png`` or ``image/svg+xml``
  output) is a fragment: it appears on the next key press, after the text
  that introduces it;
* skipped: code cells without output (imports, set-up), cells tagged
  ``instructor``, ``hide-input`` or ``remove-cell``, cells whose source is
  hidden in JupyterLab (check cells), quiz and answer-check cells
  (``lh.quiz``, ``lh.check``) and the closing version cell (``NBVAL_IGNORE_OUTPUT``);
* other code cells (a table or a test result) continue the current slide.

>>> import nbformat
>>> nb = nbformat.v4.new_notebook(cells=[
...     nbformat.v4.new_markdown_cell("# Title\\n\\n<!-- nav:start -->links<!-- nav:end -->"),
...     nbformat.v4.new_code_cell("import lemma_helpers as lh"),
...     nbformat.v4.new_markdown_cell("## 1. A section"),
...     nbformat.v4.new_markdown_cell("More text."),
...     nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output("display_data", {"image/png": ""})])])
>>> [c.metadata["slideshow"]["slide_type"] for c in set_slide_types(nb).cells]
['slide', 'skip', 'slide', '-', 'fragment']
>>> "nav:start" in nb.cells[0].source
False
>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"),
...     nbformat.v4.new_markdown_cell("Text.\\n\\n```\\n## not a heading\\n```\\n\\n## 2. Next\\n\\nMore.")])
>>> [(c.metadata["slideshow"]["slide_type"], c.source[:9]) for c in set_slide_types(nb).cells]
[('slide', '# T'), ('-', 'Text.\\n\\n``'), ('slide', '## 2. Nex')]
"""
from __future__ import annotations

import re

NAV = re.compile(r"\s*<!-- nav:start -->.*?<!-- nav:end -->\s*", re.S)
SKIP_TAGS = {"instructor", "hide-input", "remove-cell"}
SKIP_SOURCE = ("lh.quiz(", "lh.check(", "NBVAL_IGNORE_OUTPUT")
FIGURE = ("image/png", "image/svg+xml")
HEADING = re.compile(r"^#{2,3} ")


def slide_type(cell, first: bool = False) -> str:
    """The slide type of one cell by the rules of the module docstring."""
    if first:
        return "slide"
    tags = set(cell.get("metadata", {}).get("tags", []))
    if tags & SKIP_TAGS or cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
        return "skip"
    source = cell.source.lstrip()
    if cell.cell_type == "markdown":
        if source.startswith("## "):
            return "slide"
        if source.startswith("### "):
            return "subslide"
        return "-"
    if cell.cell_type != "code" or any(s in cell.source for s in SKIP_SOURCE):
        return "skip"
    outputs = cell.get("outputs", [])
    if not outputs:
        return "skip"
    if any(k in o.get("data", {}) for o in outputs for k in FIGURE):
        return "fragment"
    return "-"


def split_at_headings(source: str) -> list:
    """The parts of a Markdown text, cut before each ``##``/``###`` heading line outside code blocks."""
    parts, current, fenced = [], [], False
    for line in source.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and HEADING.match(line) and "".join(current).strip():
            parts.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    parts.append("\n".join(current).strip("\n"))
    return [p for p in parts if p.strip()] or [source]


def set_slide_types(nb):
    """Set ``metadata.slideshow.slide_type`` on every cell of ``nb`` (in place) and return it."""
    import copy

    cells = []
    for i, cell in enumerate(nb.cells):
        if i > 0 and cell.cell_type == "markdown" and "slideshow" not in cell.metadata:
            for k, part in enumerate(split_at_headings(cell.source)):
                piece = copy.deepcopy(cell)
                piece.source = part
                if k:
                    piece["id"] = f"{cell.get('id', 'cell')}-{k}"[:64]
                cells.append(piece)
        else:
            cells.append(cell)
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        if i == 0 and cell.cell_type == "markdown":
            cell.source = NAV.sub("\n\n", cell.source).strip()
        if "slideshow" not in cell.metadata:
            cell.metadata["slideshow"] = {"slide_type": slide_type(cell, first=(i == 0))}
    return nb
