"""Text from submissions made safe for the grader's outputs: one clean line, a spreadsheet cell, a file name.

Everything a submission controls (its file name, error messages, answers) is
treated as data: text is cleaned of control characters and line breaks before
it goes into the summary or a feedback file, gradebook cells that a
spreadsheet would run as a formula are written with a leading apostrophe, and
every output file is named by :func:`file_names`, the one place that turns a
student id into a file name.
"""
from __future__ import annotations

import functools
import os
import re
import sys
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Iterable

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+")
MAX_NAME = 100          # characters of a student id kept in a file name


def clean_text(text: Any, limit: int = 300) -> str:
    """One line of plain text: control characters, line breaks and direction marks become spaces."""
    s = unicodedata.normalize("NFC", str(text))
    s = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", s)          # terminal colour codes
    s = re.sub(r"\s+", " ", _CONTROL.sub(" ", s)).strip()
    return s if len(s) <= limit else s[:limit - 3] + "..."


@functools.lru_cache(maxsize=1)
def _host_folders() -> tuple:
    """The grader's own folders, longest first, with what a student is shown instead."""
    package = Path(__file__).resolve().parents[1]
    pairs = {str(package): "<course package>", str(package.parent): "<course>",
             sys.prefix: "<python>", sys.base_prefix: "<python>", os.path.realpath(sys.prefix): "<python>",
             tempfile.gettempdir(): "<tmp>", str(Path.home()): "~", os.getcwd(): "."}
    return tuple(sorted(((k, v) for k, v in pairs.items() if len(k) > 1), key=lambda kv: -len(kv[0])))


def scrub_paths(text: str) -> str:
    """``text`` without the grader's own folders (its Python, environment, course package, home, working and
    temporary folders): what goes back to a student tells nothing about the grading machine."""
    for folder, shown in _host_folders():
        text = text.replace(folder, shown)
    return text


def csv_safe(value: Any) -> Any:
    """A gradebook cell that a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def safe_name(student: str) -> str:
    """A file name for ``student``: letters, digits, ``-``, ``_``, ``~`` and ``.`` kept, anything else ``_``."""
    kept = "".join(ch if ch.isalnum() or ch in "-_.~" else "_" for ch in clean_text(student, MAX_NAME))
    return kept.lstrip(".") or "_"


def file_names(students) -> tuple:
    """``({student: file name}, [notes])``: a distinct file name for every student.

    ``students`` are ids, or a mapping of ids to the labels to name them by.
    Two that make the same name (``ana lee`` and ``ana_lee``) are told apart
    by a suffix (``ana_lee~2``), in the order given; names are compared
    without case, as on a case-insensitive file system. Each clash is noted.
    """
    labels = dict(students) if isinstance(students, dict) else {s: s for s in students}
    names, taken, notes = {}, set(), []
    for student, label in labels.items():
        base = name = safe_name(label)
        n = 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}~{n}"
        if n > 1:
            notes.append(f"the files of {clean_text(student, 60)!r} are named {name} ({base} was taken by "
                         "another student)")
        taken.add(name.casefold())
        names[student] = name
    return names, notes
