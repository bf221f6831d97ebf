"""Where submissions come from: the layouts of a folder (or zip) of submitted notebooks.

Layouts of a folder of submissions (found by :func:`find_submissions`):

``flat``
    ``DIR/<student id>.ipynb``: the student id is the file name.
``folders``
    ``DIR/<student id>/<any name>.ipynb``: one sub-folder per student, as a
    JupyterHub collection script or a hand-made folder gives.
``moodle``
    A Moodle assignment's "Download all submissions": one folder per student
    named ``<Full name>_<participant id>_assignsubmission_file_``.
``canvas``
    A Canvas assignment's "Download Submissions": files named
    ``<lastfirst>_<user id>_<submission id>_<original name>.ipynb`` (``_LATE``
    after the name when late).

A ``.zip`` of any of these (what the platforms download) is read directly.

Several notebooks from one student become one row of the gradebook: their
answers are put together in file-name order (the last answer to a question
counts), and ``grades_by_notebook.csv`` has one row per notebook.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .._validation import LemmaError

MOODLE_DIR = re.compile(r"^(?P<name>.+)_(?P<pid>\d+)_assign(?:submission|feedback)_[a-z]+_?$")
CANVAS_FILE = re.compile(r"^(?P<name>[a-z0-9-]+)(?:_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<orig>.+)\.ipynb$")
MAX_ZIP_MB = 500


@dataclass(frozen=True)
class Entry:
    """One submitted notebook and whose it is."""

    owner: str          # student id (flat, folders) or platform id (moodle, canvas)
    path: Path
    name: str = ""      # a display name the layout gives (Moodle's full name, Canvas's lastfirst)
    platform: dict = field(default_factory=dict)


def unzip(archive: Path, into: Path) -> Path:
    """Extract a platform's download safely: no absolute paths, no '..', no links, a size limit."""
    total = 0
    try:
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                parts = Path(info.filename).parts
                if info.filename.startswith(("/", "\\")) or ".." in parts or not parts:
                    raise LemmaError(f"{archive.name} holds a file with an unsafe path ({info.filename!r}); "
                                     "it was not extracted.")
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    continue                                  # a symbolic link: skipped
                total += info.file_size
                if total > MAX_ZIP_MB * 2**20:
                    raise LemmaError(f"{archive.name} unpacks to more than {MAX_ZIP_MB} MB; extract it yourself.")
                target = into.joinpath(*parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(info) as src, open(target, "wb") as dst:
                    dst.write(src.read())
    except zipfile.BadZipFile:
        raise LemmaError(f"{archive.name} is not a readable zip file.") from None
    return into


def find_submissions(directory: Path) -> tuple:
    """``(entries, skipped, layout)`` for a folder in any of the layouts of the module docstring."""
    if directory.is_file():
        if directory.suffix == ".ipynb":
            return [Entry(directory.stem, directory)], [], "flat"
        return [], [directory.name], "flat"
    children = sorted((p for p in directory.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)
    folders = [p for p in children if p.is_dir()]
    files = [p for p in children if p.is_file()]
    entries, skipped = [], []
    if folders and all(MOODLE_DIR.match(f.name) for f in folders):
        for f in folders:
            m = MOODLE_DIR.match(f.name)
            notebooks = sorted(f.rglob("*.ipynb"))
            entries += [Entry(m["pid"], nb, m["name"], {"moodle": f.name}) for nb in notebooks]
            skipped += [str(p.relative_to(directory)) for p in sorted(f.rglob("*")) if p.is_file() and p.suffix != ".ipynb"]
        skipped += [p.name for p in files]
        return entries, skipped, "moodle"
    if files and any(CANVAS_FILE.match(p.name) for p in files):
        for p in files:
            m = CANVAS_FILE.match(p.name)
            if m:
                entries.append(Entry(m["uid"], p, m["name"], {"canvas": f"{m['name']}_{m['uid']}_{m['sid']}"}))
            else:
                skipped.append(p.name)
        skipped += [p.name + "/" for p in folders]
        return entries, skipped, "canvas"
    if folders and not any(p.suffix == ".ipynb" for p in files):
        for f in folders:
            notebooks = sorted(f.rglob("*.ipynb"))
            entries += [Entry(f.name, nb) for nb in notebooks]
            if not notebooks:
                skipped.append(f.name + "/ (no notebook)")
        skipped += [p.name for p in files]
        return entries, skipped, "folders"
    for p in children:
        if p.is_file() and p.suffix == ".ipynb":
            entries.append(Entry(p.stem, p))
        else:
            skipped.append(p.name + ("/" if p.is_dir() else ""))
    return entries, skipped, "flat"
