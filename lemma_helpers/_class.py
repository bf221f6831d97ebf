"""A class around ``lemma-grade``: where submissions come from, who they belong to, and where grades go.

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

A roster (``--roster roster.csv``) has a column ``id`` and optionally ``name``,
``email`` and ``platform_id`` (Moodle's participant id or Canvas's user id).
With a roster the gradebook has one row per student on it, those who did not
submit included (status ``missing``); submissions from anyone not on it are
graded and flagged. Several notebooks from one student become one row: their
answers are put together in file-name order (the last answer to a question
counts), and ``grades_by_notebook.csv`` has one row per notebook.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ._gradebook import Submission, clean_text, csv_safe
from ._validation import LemmaError

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


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""
    platform_id: str = ""


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


def owners(entries: list, roster: list | None, layout: str) -> dict:
    """``{student id: (Student or None, [entries])}``: who each notebook belongs to, roster order first."""
    by_platform = {s.platform_id: s for s in roster or [] if s.platform_id}
    by_id = {s.id: s for s in roster or []}
    found: dict = {}
    for e in entries:
        student = (by_platform.get(e.owner) if layout in ("moodle", "canvas") else None) or by_id.get(e.owner)
        key = student.id if student else e.owner
        found.setdefault(key, (student, []))[1].append(e)
    out = {s.id: found.pop(s.id, (s, [])) for s in roster or []}
    out.update(sorted(found.items()))
    return out


def merge(student: str, subs: list) -> Submission:
    """One student's notebooks as one submission: answers in file order (the last counts), problems by file."""
    if len(subs) == 1:
        one = subs[0]
        return Submission(student, one.file, one.sha256, one.answers, list(one.problems), list(one.notes),
                          list(one.statuses), list(one.declared), one.executed)
    merged = Submission(student, ", ".join(s.file for s in subs))
    for s in subs:
        for qid, answers in s.answers.items():
            merged.answers.setdefault(qid, []).extend(answers)
        merged.problems += [f"{s.file}: {p}" for p in s.problems]
        merged.notes += [f"{s.file}: {n}" for n in s.notes]
        merged.statuses += s.statuses
        merged.declared += s.declared
    return merged


# --------------------------------------------------------------------------
# Exports for learning platforms
# --------------------------------------------------------------------------

MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_moodle(path: Path, rows: list, maximum: float) -> int:
    """Moodle's offline grading worksheet (Assignment > View all submissions > Upload grading worksheet).

    ``rows`` are ``(student id, Student or None, platform info, status, total)``; a student needs a
    Moodle participant id (from the download's folder names or the roster's platform_id). Returns the
    number of rows written.
    """
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(MOODLE_COLUMNS)
        for sid, student, platform, status, total in rows:
            pid = (student.platform_id if student and student.platform_id else platform.get("moodle_pid", ""))
            if not pid:
                continue
            name = student.name if student and student.name else platform.get("name", sid)
            w.writerow([f"Participant {pid}", csv_safe(name), csv_safe(student.email if student else ""),
                        "", _fmt(total), _fmt(maximum), "Yes", "", "",
                        csv_safe(f"lemma-grade: {status}; {_fmt(total)} of {_fmt(maximum)} points; "
                                 "see your feedback file")])
            n += 1
    return n


def write_canvas(path: Path, rows: list, title: str, maximum: float) -> int:
    """A Canvas gradebook import file (Grades > Import): one column for the assignment."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CANVAS_COLUMNS + [title])
        w.writerow(["Points Possible", "", "", "", ""] + [_fmt(maximum)])
        for sid, student, platform, status, total in rows:
            uid = student.platform_id if student and student.platform_id else platform.get("canvas_uid", "")
            name = student.name if student and student.name else platform.get("name", sid)
            w.writerow([csv_safe(name), uid, csv_safe(student.id if student else sid), "", "", _fmt(total)])
            n += 1
    return n


def feedback_archives(out_dir: Path, feedback: dict, platforms: dict) -> list:
    """Zip the feedback files for return in bulk; returns the archives written.

    ``feedback.zip``: ``<student>.md`` for every student. ``feedback_moodle.zip``: named as Moodle's "Upload
    multiple feedback files in a zip" expects (``<Full name>_<participant id>_assignsubmission_file_feedback.md``).
    ``feedback_canvas.zip``: named as in Canvas's download (``<lastfirst>_<user id>_<submission id>_feedback.md``)
    for SpeedGrader's "Re-upload submissions", which attaches each file to its student's submission as a comment.
    """
    written = []
    with zipfile.ZipFile(out_dir / "feedback.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for sid, text in sorted(feedback.items()):
            z.writestr(f"{_safe(sid)}.md", text)
    written.append(out_dir / "feedback.zip")
    moodle = {sid: p["moodle"] for sid, p in platforms.items() if p.get("moodle")}
    if moodle:
        with zipfile.ZipFile(out_dir / "feedback_moodle.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for sid, folder in sorted(moodle.items()):
                prefix = re.sub(r"_assign(?:submission|feedback)_[a-z]+_?$", "", folder)
                z.writestr(f"{prefix}_assignsubmission_file_feedback.md", feedback[sid])
        written.append(out_dir / "feedback_moodle.zip")
    canvas = {sid: p["canvas"] for sid, p in platforms.items() if p.get("canvas")}
    if canvas:
        with zipfile.ZipFile(out_dir / "feedback_canvas.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for sid, prefix in sorted(canvas.items()):
                z.writestr(f"{prefix}_feedback.md", feedback[sid])
        written.append(out_dir / "feedback_canvas.zip")
    return written


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in clean_text(name, 100)).lstrip(".") or "_"


# --------------------------------------------------------------------------
# Written answers: a marking sheet out, the marks back in
# --------------------------------------------------------------------------

SHEET_COLUMNS = ["student", "name", "notebook", "item", "question", "answer", "marks", "comment"]


def write_marking_sheet(path: Path, rows: list) -> int:
    """One row per student and written answer (``rows``: student, name, notebook, item, question, answer);
    the instructor fills in ``marks`` (and ``comment``) and merges it back with ``lemma-grade merge``."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SHEET_COLUMNS)
        for student, name, notebook, item, question, answer in rows:
            w.writerow([csv_safe(student), csv_safe(name), csv_safe(notebook), item, csv_safe(question),
                        csv_safe(answer) if answer else "(not answered)", "", ""])
    return len(rows)


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LemmaError(f"{where}: marks must be a number, got {text!r}.") from None
    if not value >= 0:
        raise LemmaError(f"{where}: marks must be 0 or more, got {text!r}.")
    return value


def merge_marks(gradebook: Path, sheet: Path, out: Path) -> str:
    """Add the marks of a filled-in marking sheet to a gradebook: a ``written`` column, and ``total`` updated.

    Every answer row must have marks (a number, 0 for none); students on the sheet but not in the gradebook
    are an error. Returns a one-line report.
    """
    def read(path):
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as err:
            raise LemmaError(f"Cannot read {str(path)!r}: {err.strerror}.") from None
        return list(csv.DictReader(io.StringIO(text)))

    grades, marks = read(gradebook), read(sheet)
    if not grades or "student" not in grades[0] or "total" not in grades[0]:
        raise LemmaError(f"{Path(gradebook).name} is not a lemma-grade gradebook (no student and total columns).")
    if marks and not {"student", "marks"} <= set(marks[0]):
        raise LemmaError(f"{Path(sheet).name} is not a marking sheet (it needs student and marks columns).")
    written: dict = {}
    students = {row["student"] for row in grades}
    for i, row in enumerate(marks, start=2):
        where = f"{Path(sheet).name}, line {i}"
        if row["student"] not in students:
            raise LemmaError(f"{where}: student {row['student']!r} is not in {Path(gradebook).name}.")
        if not (row.get("marks") or "").strip():
            raise LemmaError(f"{where}: no marks for {row['student']}, item {row.get('item', '?')} (write 0 for none).")
        written[row["student"]] = written.get(row["student"], 0.0) + _number(row["marks"].strip(), where)
    header = list(grades[0])
    if "written" not in header:
        header.insert(header.index("total"), "written")
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header, lineterminator="\n")
        w.writeheader()
        for row in grades:
            before = float(row["total"]) - float(row.get("written") or 0)
            row["written"] = _fmt(written.get(row["student"], float(row.get("written") or 0)))
            row["total"] = _fmt(before + float(row["written"]))
            w.writerow(row)
    return f"merged the marks of {len(marks)} written answer(s) for {len(written)} student(s) into {out}"
