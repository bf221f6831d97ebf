"""The class list (``--roster roster.csv``) and who each submitted notebook belongs to.

A roster has a column ``id`` and optionally ``name``, ``email`` and
``platform_id`` (Moodle's participant id or Canvas's user id). With a roster
the gradebook has one row per student on it, those who did not submit
included (status ``missing``); submissions from anyone not on it are graded
and flagged.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .._validation import LemmaError


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""
    platform_id: str = ""


def load_roster(path: str | Path) -> list:
    """Read a roster CSV: a column ``id`` (required), ``name``, ``email``, ``platform_id`` (optional)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise LemmaError(f"Cannot read the roster {str(path)!r}: {err.strerror}.") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    header = [h.strip().lower() for h in (csv.reader(io.StringIO(text)).__next__() if text.strip() else [])]
    if "id" not in header:
        raise LemmaError(f"{path.name}: a roster needs a column named id (and may have name, email, platform_id); "
                         f"its columns are {', '.join(header) or 'none'}.")
    students, seen = [], set()
    for i, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        sid = row.get("id", "")
        if not sid:
            raise LemmaError(f"{path.name}, line {i}: the id is empty.")
        if sid in seen:
            raise LemmaError(f"{path.name}, line {i}: the id {sid!r} appears twice.")
        seen.add(sid)
        students.append(Student(sid, row.get("name", ""), row.get("email", ""), row.get("platform_id", "")))
    if not students:
        raise LemmaError(f"{path.name}: the roster has no students.")
    return students


def owners(entries: list, roster: list | None, layout: str | None = None) -> dict:
    """``{student id: (Student or None, [entries])}``: who each notebook belongs to, roster order first.

    A platform download's entries (``moodle``, ``canvas``: each entry's own layout, unless ``layout`` is
    given) are matched by the roster's ``platform_id``, the others by ``id``. Each student's entries are
    in the order they count: oldest first, newest last (then by name).
    """
    by_platform = {s.platform_id: s for s in roster or [] if s.platform_id}
    by_id = {s.id: s for s in roster or []}
    found: dict = {}
    for e in entries:
        platform = (layout or e.layout) in ("moodle", "canvas")
        student = (by_platform.get(e.owner) if platform else None) or by_id.get(e.owner)
        key = student.id if student else e.owner
        found.setdefault(key, (student, []))[1].append(e)
    for _, es in found.values():
        es.sort(key=lambda e: (e.mtime, e.path.name if e.path is not None else ""))
    out = {s.id: found.pop(s.id, (s, [])) for s in roster or []}
    out.update(sorted(found.items()))
    return out
