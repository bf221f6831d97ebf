"""The class list (``--roster roster.csv``) and who each submitted notebook belongs to.

A roster is read as the platform exported it (:func:`load_roster`):

``lemma``
    columns ``id`` (required), ``name``, ``email``, ``platform_id`` (Moodle's
    participant id or Canvas's user id).
``moodle``
    Moodle's participants or gradebook export: ``First name``, ``Last name``
    (or ``Surname``), ``ID number``, ``Email address``, ...; the id is the
    ID number, else the e-mail address.
``moodle-worksheet``
    an assignment's own grading worksheet (``Identifier``, ``Full name``,
    ``Email address``, ..., ``Feedback comments``): its participant ids are
    the ones this assignment's uploads need, and its comments are kept.
``canvas``
    Canvas's gradebook export: ``Student`` (``Last, First``), ``ID`` (the
    user id), ``SIS User ID``, ``SIS Login ID``, ``Section``, ...; its
    ``Points Possible`` row is skipped; the id is the SIS User ID, else the
    SIS Login ID, else the user id; the course's test student (``Student,
    Test``) is left out.

With a roster the gradebook has one row per student on it, those who did not
submit included (status ``missing``). A submission is matched
(:func:`assign`) by the platform id where the layout gives one and it is on
the roster, else by the student id, the e-mail address, or the full name
(ignoring case, accents, apostrophes, hyphens and spacing; a Canvas
``lastfirst`` name matches ``First Last``). A name that two students on the
roster share, and a submission that matches nobody, are listed as problems
and graded under the name they came with: never silently joined to a student.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .._validation import LemmaError
from .text import clean_text


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""
    platform_id: str = ""
    comment: str = ""       # feedback already in the platform (a Moodle grading worksheet's comments)


# each format: the (lower-case) columns that identify it, and how a row becomes a Student
def _lemma(row: dict) -> Student:
    return Student(row.get("id", ""), row.get("name", ""), row.get("email", ""), row.get("platform_id", ""))


def _moodle(row: dict) -> Student:
    name = " ".join(x for x in (row.get("first name", ""), row.get("last name") or row.get("surname", "")) if x)
    email = row.get("email address", "")
    return Student(row.get("id number") or email, name, email)


def _worksheet(row: dict) -> Student:
    pid = re.sub(r"\D", "", row.get("identifier", ""))
    email = row.get("email address", "")
    return Student(row.get("id number") or email or pid, row.get("full name", ""), email, pid,
                   row.get("feedback comments", ""))


def _canvas(row: dict) -> Student:
    last, comma, first = row.get("student", "").partition(",")
    name = f"{first.strip()} {last.strip()}" if comma else last.strip()
    return Student(row.get("sis user id") or row.get("sis login id") or row.get("id", ""), name, "",
                   row.get("id", ""))


FORMATS = (
    ("moodle-worksheet", {"identifier", "full name"}, _worksheet),
    ("canvas", {"student", "id", "sis user id"}, _canvas),
    ("moodle", {"first name", "email address"}, _moodle),
    ("lemma", {"id"}, _lemma),
)


def roster_format(header: list) -> tuple:
    """``(name, row reader)`` of the roster format whose columns ``header`` has; LemmaError if none."""
    cols = {h.strip().lower() for h in header}
    cols |= {"last name"} if "surname" in cols else set()
    for name, needs, read in FORMATS:
        if needs <= cols:
            return name, read
    raise LemmaError("a roster needs a column named id (and may have name, email, platform_id), or is a Moodle "
                     "participants export (First name, Last name, ID number, Email address), a Moodle grading "
                     "worksheet (Identifier, Full name, ...) or a Canvas gradebook export (Student, ID, SIS User "
                     f"ID, ...); its columns are {', '.join(h.strip() for h in header) or 'none'}.")


def load_roster(path: str | Path) -> list:
    """Read a roster CSV in any of the formats of the module docstring; every mistake is a LemmaError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise LemmaError(f"Cannot read the roster {str(path)!r}: {err.strerror}.") from None
    except UnicodeDecodeError:
        raise LemmaError(f"{path.name}: the roster is not UTF-8 text; save it as CSV UTF-8 and try again.") from None
    header = next(csv.reader(io.StringIO(text)), []) if text.strip() else []
    try:
        fmt, read = roster_format(header)
    except LemmaError as err:
        raise LemmaError(f"{path.name}: {err}") from None
    students, seen = [], set()
    for i, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        if fmt == "canvas" and ("points possible" in row.get("student", "").lower()
                                or row.get("student") == "Student, Test"):      # Canvas's own test student
            continue
        if not any(row.values()):
            continue
        st = read(row)
        if not st.id:
            what = {"moodle": "the ID number and the e-mail address are", "canvas": "the SIS User ID, SIS Login "
                    "ID and ID are"}.get(fmt, "the id is")
            raise LemmaError(f"{path.name}, line {i}: {what} empty.")
        if st.id in seen:
            raise LemmaError(f"{path.name}, line {i}: the id {st.id!r} appears twice.")
        seen.add(st.id)
        students.append(st)
    if not students:
        raise LemmaError(f"{path.name}: the roster has no students.")
    return students


# --------------------------------------------------------------------------
# Matching submissions to students
# --------------------------------------------------------------------------

def name_key(text: str) -> str:
    """A name as compared: no accents, case, apostrophes, hyphens, dots or spaces (``O'Brien-Núñez`` ->
    ``obriennunez``)."""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    return "".join(ch for ch in s if ch.isalnum())


def _name_keys(name: str) -> set:
    """Every key a full name may be written as: the words in turn (``First Last``, ``Last First``: Canvas's
    ``lastfirst``), and ``Last, First`` read as ``First Last``."""
    last, comma, first = name.partition(",")
    words = (first.split() + last.split()) if comma else name.split()
    if not words:
        return set()
    return {name_key("".join(words[i:] + words[:i])) for i in range(len(words))} - {""}


@dataclass
class Match:
    """Who each notebook belongs to (:func:`assign`), and what could not be matched."""

    by_owner: dict          # student id (or the submission's own name) -> (Student or None, [entries])
    problems: list          # ambiguous or unmatched submissions, one line each
    notes: list             # matches worth a look (by name where a platform id was expected)


class _Index:
    def __init__(self, roster: list):
        self.platform = {s.platform_id: s for s in roster if s.platform_id}
        self.id = {s.id: s for s in roster}
        self.email, self.name = {}, {}
        for s in roster:
            if s.email:
                self.email.setdefault(s.email.casefold(), []).append(s)
            for k in _name_keys(s.name):
                self.name.setdefault(k, []).append(s)

    def by_name(self, name: str) -> list:
        found = {s.id: s for k in _name_keys(name) for s in self.name.get(k, [])}
        return list(found.values())


def _match(e, ix: _Index) -> tuple:
    """``(Student or None, how, [ambiguous candidates])`` for one entry."""
    platform = e.layout in ("moodle", "canvas")
    if platform and e.owner in ix.platform:
        st = ix.platform[e.owner]
        named = ix.by_name(e.name) if e.name else []
        if not e.name or st in named or len(named) != 1:
            return st, "platform id", []
        return named[0], "name (its platform id is another student's on the roster)", []
    if not platform and e.owner in ix.id:
        return ix.id[e.owner], "id", []
    for text in (e.owner, e.name):
        if text and "@" in text and len(ix.email.get(text.casefold(), [])) == 1:
            return ix.email[text.casefold()][0], "e-mail", []
    candidates = ix.by_name(e.name if platform else (e.name or e.owner))
    if len(candidates) == 1:
        return candidates[0], "name", []
    return None, "", candidates


def assign(entries: list, roster: list | None, layout: str | None = None) -> Match:
    """Match every entry to a student of ``roster`` (see the module docstring); roster order first, then
    anyone not matched, by the name they came with. Each student's entries are in the order they count:
    oldest first, newest last (then by name). ``layout`` replaces the entries' own layouts (tests)."""
    ix = _Index(roster or [])
    found: dict = {}
    problems, by_name = [], {}
    for e in entries:
        if layout is not None and e.layout != layout:
            e = type(e)(e.owner, e.path, e.name, e.platform, layout, e.mtime)
        student, how, candidates = _match(e, ix) if roster is not None else (None, "", [])
        key = student.id if student else e.owner
        if roster is not None and student is None:
            shown = clean_text(e.name or e.owner, 60) + (f" ({clean_text(e.owner, 40)})" if e.name else "")
            line = (f"{shown}: the name matches {len(candidates)} students on the roster "
                    f"({', '.join(s.id for s in candidates)}); add their platform_id or e-mail to the roster, or "
                    "rename the submission to the student's id" if candidates else
                    f"{shown}: not on the roster (no id, platform id, e-mail or name matches); graded under "
                    "that name")
            if line not in problems:
                problems.append(line)
        elif how.startswith("name") and e.layout in ("moodle", "canvas"):
            by_name.setdefault(student.id, f"{clean_text(e.name, 40)} ({e.owner})")
        found.setdefault(key, (student, []))[1].append(e)
    for _, es in found.values():
        es.sort(key=lambda e: (e.mtime, e.path.name if e.path is not None else ""))
    out = {s.id: found.pop(s.id, (s, [])) for s in roster or []}
    out.update(sorted(found.items()))
    notes = [f"{len(by_name)} submission(s) of a platform download matched to the roster by name, as their "
             "platform ids are not the roster's (a download of another assignment, or a roster without them): "
             + ", ".join(f"{v} -> {k}" for k, v in list(by_name.items())[:10]) + (" ..." if len(by_name) > 10 else "")
             ] if by_name else []
    return Match(out, problems, notes)


def owners(entries: list, roster: list | None, layout: str | None = None) -> dict:
    """``{student id: (Student or None, [entries])}``: :func:`assign` without its problems and notes."""
    return assign(entries, roster, layout).by_owner
