"""Where submissions come from: the layouts of a folder (or zip) of submitted notebooks.

Each entry at the top of the folder is read by the first layout of
:data:`LAYOUTS` that fits it, so one folder may mix them (a hub's per-student
folders beside files downloaded from Canvas, say):

``moodle``
    A folder named as in a Moodle assignment's "Download all submissions"
    (``<Full name>_<participant id>_assignsubmission_file_``): every notebook
    in it is that participant's.
``canvas``
    A file named as in a Canvas assignment's "Download Submissions"
    (``<lastfirst>_<user id>_<submission id>_<original name>.ipynb``, with
    ``_LATE`` after the name when late; names may hold any letters and
    underscores).
``folders``
    Any other folder ``<student id>/``: every notebook in it (at any depth) is
    that student's, as a JupyterHub collection script or a hand-made folder
    gives.
``flat``
    Any other ``<student id>.ipynb``: the student id is the file name.

A ``.zip`` of any of these (what the platforms download) is unpacked first
(:func:`unzip`). Only regular files are read: links, FIFOs, devices and
sockets are never followed or opened, and are listed as skipped with the
reason; so are hidden files, files that are not notebooks, and the grader's
own output folder when it lies inside the folder.

Several notebooks from one student become one row of the gradebook: their
answers are put together oldest first (by the time the platform or the file
system gives, then by name), so that where two notebooks answer the same
question the newer one counts; ``grades_by_notebook.csv`` has one row per
notebook.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .._validation import LemmaError
from .text import clean_text

MOODLE_DIR = re.compile(r"^(?P<name>.+)_(?P<pid>\d+)_assign(?:submission|feedback)_[a-z]+_?$")
CANVAS_FILE = re.compile(r"^(?P<name>[^\W\d][\w'-]*?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<orig>.+)\.ipynb$")
MAX_ZIP_MB = 500
MAX_ZIP_ENTRIES = 20_000
MAX_NAME_BYTES = 255        # longest file name most file systems allow


@dataclass(frozen=True)
class Entry:
    """One submitted notebook and whose it is."""

    owner: str          # student id (flat, folders) or platform id (moodle, canvas)
    path: Path
    name: str = ""      # a display name the layout gives (Moodle's full name, Canvas's lastfirst)
    platform: dict = field(default_factory=dict)
    layout: str = "flat"
    mtime: float = 0.0  # when it was submitted, as far as the download or the file system says


@dataclass(frozen=True)
class Layout:
    """One way a top-level entry of the folder can hold submissions: its name, whether it matches folders or
    files, a test of the entry's name, and what it reads from a matching entry."""

    name: str
    kind: str                     # "dir" or "file"
    match: Callable               # name -> match object or None
    read: Callable                # (path, match, root) -> ([Entry], [skipped])


def _kind(path: Path) -> str:
    """'dir', 'file' (regular), or what else it is, without following a link."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as err:
        return f"unreadable ({err.strerror})"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return {stat.S_IFLNK: "a link", stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device",
            stat.S_IFBLK: "a device"}.get(stat.S_IFMT(mode), "not a regular file")


def _walk(folder: Path, root: Path) -> tuple:
    """``([notebook paths], [skipped])`` in ``folder`` at any depth; links are never followed."""
    notebooks, skipped = [], []
    try:
        children = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as err:
        return [], [f"{folder.relative_to(root)}/ (could not be read: {err.strerror})"]
    for child in children:
        path = Path(child.path)
        kind = _kind(path)
        if child.name.startswith("."):
            continue
        if kind == "dir":
            more, skip = _walk(path, root)
            notebooks += more
            skipped += skip
        elif kind != "file":
            skipped.append(f"{path.relative_to(root)} ({kind}: not read)")
        elif path.suffix == ".ipynb":
            notebooks.append(path)
        else:
            skipped.append(str(path.relative_to(root)))
    return notebooks, skipped


def _mtime(path: Path) -> float:
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return 0.0


def _read_moodle(path: Path, m, root: Path) -> tuple:
    notebooks, skipped = _walk(path, root)
    return [Entry(m["pid"], nb, m["name"], {"moodle": path.name}, "moodle", _mtime(nb)) for nb in notebooks], skipped


def _read_canvas(path: Path, m, root: Path) -> tuple:
    prefix = f"{m['name']}_{m['uid']}_{m['sid']}"
    return [Entry(m["uid"], path, m["name"], {"canvas": prefix}, "canvas", _mtime(path))], []


def _read_folder(path: Path, m, root: Path) -> tuple:
    notebooks, skipped = _walk(path, root)
    refused = [s for s in skipped if s.endswith("not read)")]      # other files in a student's folder are theirs
    if not notebooks:
        return [], [f"{path.name}/ (no notebook)"] + refused
    return [Entry(path.name, nb, layout="folders", mtime=_mtime(nb)) for nb in notebooks], refused


def _read_flat(path: Path, m, root: Path) -> tuple:
    return [Entry(path.stem, path, layout="flat", mtime=_mtime(path))], []


# the first layout that fits an entry reads it
LAYOUTS = (
    Layout("moodle", "dir", MOODLE_DIR.match, _read_moodle),
    Layout("canvas", "file", CANVAS_FILE.match, _read_canvas),
    Layout("folders", "dir", lambda name: re.match(r".", name), _read_folder),
    Layout("flat", "file", lambda name: re.match(r".+\.ipynb$", name), _read_flat),
)


def find_submissions(directory: Path, exclude: tuple = ()) -> tuple:
    """``(entries, skipped, layout)`` for a folder (see the module docstring); ``layout`` names the layouts
    found, in the order of :data:`LAYOUTS` (``"flat"`` when there is none). Folders in ``exclude`` (the
    grader's own output) are passed over."""
    if _kind(directory) == "file":
        if directory.suffix == ".ipynb":
            return [Entry(directory.stem, directory, mtime=_mtime(directory))], [], "flat"
        return [], [directory.name], "flat"
    entries, skipped, used = [], [], set()
    excluded = {Path(p).resolve() for p in exclude}
    for child in sorted(os.scandir(directory), key=lambda e: e.name):
        path = Path(child.path)
        if child.name.startswith(".") or path.resolve() in excluded:
            continue
        kind = _kind(path)
        layout = next((lay for lay in LAYOUTS if lay.kind == kind and lay.match(child.name)), None)
        if layout is None:
            skipped.append(child.name + ("/" if kind == "dir" else "") +
                           ("" if kind in ("dir", "file") else f" ({kind}: not read)"))
            continue
        found, skip = layout.read(path, layout.match(child.name), directory)
        entries += found
        skipped += skip
        used.update(e.layout for e in found)
    names = [lay.name for lay in LAYOUTS if lay.name in used]
    return entries, skipped, " + ".join(names) or "flat"


# --------------------------------------------------------------------------
# Zip downloads
# --------------------------------------------------------------------------

def _unsafe(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry is not extracted, or None."""
    parts = Path(info.filename).parts
    if info.filename.startswith(("/", "\\")) or ".." in parts or not parts or "\\" in info.filename:
        return "an unsafe path"
    if any(len(p.encode()) > MAX_NAME_BYTES for p in parts):
        return f"a name longer than {MAX_NAME_BYTES} bytes"
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        return "a link" if kind == stat.S_IFLNK else "not a regular file"
    return None


def unzip(archive: Path, into: Path) -> tuple:
    """Extract a platform's download safely; returns ``(folder, [skipped entries with the reason])``.

    Entries with an unsafe path (absolute, ``..``), an impossible name, a link
    or a special file, or that clash with an entry already extracted (a file
    beside a folder of the same name) are skipped and listed; each extracted
    file keeps the entry's time stamp. A zip that is not readable, or unpacks
    to more than ``MAX_ZIP_MB``, is an error.
    """
    total, skipped = 0, []
    try:
        with zipfile.ZipFile(archive) as z:
            infos = z.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                raise LemmaError(f"{archive.name} holds {len(infos):,} entries; extract it yourself.")
            for info in infos:
                why = _unsafe(info)
                if why is None:
                    total += info.file_size
                    if total > MAX_ZIP_MB * 2**20:
                        raise LemmaError(f"{archive.name} unpacks to more than {MAX_ZIP_MB} MB; extract it yourself.")
                    why = _extract(z, info, into)
                if why:
                    skipped.append(f"{clean_text(info.filename, 60)} in {archive.name} ({why}: not extracted)")
    except zipfile.BadZipFile:
        raise LemmaError(f"{archive.name} is not a readable zip file.") from None
    return into, skipped


def _extract(z: zipfile.ZipFile, info: zipfile.ZipInfo, into: Path) -> str | None:
    target = into.joinpath(*Path(info.filename).parts)
    try:
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            return "another entry of the same name"
        with z.open(info) as src, open(target, "xb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        when = dt.datetime(*info.date_time).timestamp()
        os.utime(target, (when, when))
    except (OSError, ValueError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as err:
        return f"could not be extracted: {clean_text(getattr(err, 'strerror', None) or err, 80)}"
    return None
