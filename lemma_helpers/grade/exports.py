"""Grades and feedback for learning platforms: Moodle's grading worksheet, a Canvas gradebook import, and the
feedback files zipped for return in bulk.

Each platform export is one entry of :data:`EXPORTS` (its name -> the function that writes its file).
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .text import csv_safe

# --------------------------------------------------------------------------

MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _fmt(x: float) -> str:
    return f"{round(x, 4):g}"


@dataclass(frozen=True)
class Row:
    """One student as the platform files need them (from a grading run, or from its record after ``merge``)."""

    student: str                  # lemma-grade's id
    name: str
    email: str = ""
    moodle_pid: str = ""          # Moodle participant id of this assignment
    canvas_uid: str = ""          # Canvas user id
    sis_id: str = ""
    status: str = ""
    points: float | None = None   # None: no submission
    comment: str = ""             # what to tell the student beside the grade
    earlier: str = ""             # feedback already in the platform (a Moodle worksheet's), kept


@dataclass(frozen=True)
class Target:
    """What the platform files are for: the assignment's title, its maximum in points and the platforms'
    own settings (``moodle: {maximum_grade}``, ``canvas: {assignment_id}``)."""

    title: str
    maximum: float
    moodle_maximum: float | None = None
    canvas_id: str = ""
    missing_zero: bool = False    # a student with no submission gets 0 (else an empty cell: left alone)
    when: str = ""                # the time stamp of the grades (ISO 8601); now if empty

    def points(self, row: Row) -> float | None:
        return 0.0 if row.points is None and self.missing_zero else row.points


def _now(target: Target) -> str:
    return target.when or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def moodle_comment(row: Row, shown: str, maximum: str) -> str:
    """The Feedback comments cell: any feedback already in Moodle (without an earlier lemma-grade line), then
    this grade's line; Moodle replaces the comment with the cell, so what was there is carried over."""
    earlier = row.earlier.split("lemma-grade:")[0].strip()
    ours = f"lemma-grade: {row.status}; {shown} of {maximum}" + (f". {row.comment}" if row.comment else "") + \
        "; see your feedback file"
    return f"{earlier}\n\n{ours}" if earlier else ours


def write_moodle(path: Path, rows: list, target: Target) -> int:
    """Moodle's offline grading worksheet (Assignment > View all submissions > Upload grading worksheet).

    A student needs a participant id of this assignment (from its download's folder names, else the
    roster's platform_id). The Grade is the points scaled to Moodle's maximum grade when the assignment
    gives one (Moodle skips a grade above its maximum); ``Last modified (grade)`` is the time of this file,
    so that Moodle takes the grades over its own earlier ones; a student with no submission has an empty
    Grade, which Moodle leaves alone (``missing_zero``: 0). Returns the number of rows written.
    """
    top = target.moodle_maximum or target.maximum
    scale = top / target.maximum if target.maximum else 1.0
    when, n = _now(target), 0
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(MOODLE_COLUMNS)
        for row in rows:
            if not row.moodle_pid:
                continue
            points = target.points(row)
            grade = "" if points is None else _fmt(points * scale)
            shown = "no submission" if points is None else (
                f"{_fmt(points)} points" if scale == 1 else f"{_fmt(points)} points, grade {grade}")
            w.writerow([f"Participant {row.moodle_pid}", csv_safe(row.name), csv_safe(row.email), "", grade,
                        _fmt(top), "Yes", "", when,
                        csv_safe(moodle_comment(row, shown, f"{_fmt(target.maximum)} points"))])
            n += 1
    os.replace(tmp, path)
    return n


def canvas_column(target: Target) -> str:
    """The assignment's column: ``Title (ID)`` fills that assignment; a bare title makes a new one."""
    return f"{target.title} ({target.canvas_id})" if target.canvas_id else target.title


def write_canvas(path: Path, rows: list, target: Target) -> int:
    """A Canvas gradebook import file (Grades > Import): the student columns, one column for the assignment
    (``Title (ID)`` with the assignment's Canvas id, which fills it), a Points Possible row. A student with
    no submission has an empty cell, which Canvas leaves alone (``missing_zero``: 0)."""
    n = 0
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CANVAS_COLUMNS + [canvas_column(target)])
        w.writerow(["Points Possible", "", "", "", ""] + [_fmt(target.maximum)])
        for row in rows:
            points = target.points(row)
            w.writerow([csv_safe(row.name), row.canvas_uid, csv_safe(row.sis_id), "", "",
                        "" if points is None else _fmt(points)])
            n += 1
    os.replace(tmp, path)
    return n


def feedback_archives(out_dir: Path, feedback: dict, platforms: dict, names: dict) -> list:
    """Zip the feedback files for return in bulk; returns the archives written.

    ``feedback.zip``: ``<student>.md`` for every student (``names``: the file name of each, as in ``feedback/``). ``feedback_moodle.zip``: named as Moodle's "Upload
    multiple feedback files in a zip" expects (``<Full name>_<participant id>_assignsubmission_file_feedback.md``).
    ``feedback_canvas.zip``: named as in Canvas's download (``<lastfirst>_<user id>_<submission id>_feedback.md``)
    for SpeedGrader's "Re-upload submissions", which attaches each file to its student's submission as a comment.
    """
    written = []
    with zipfile.ZipFile(out_dir / "feedback.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for sid, text in sorted(feedback.items()):
            z.writestr(f"{names[sid]}.md", text)
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



@dataclass(frozen=True)
class Export:
    """A grade-import file for a platform: its file name, the function that writes it, and how the summary
    reports it (from the rows written and the number of students)."""

    file: str
    write: Callable        # (path, [Row], Target) -> rows written
    report: Callable       # (rows written, students) -> text for the summary


# --export NAME: one entry per platform
EXPORTS = {
    "moodle": Export("moodle_grades.csv", write_moodle,
                     lambda n, total: f"moodle_grades.csv ({n} of {total} students have a Moodle participant id)"),
    "canvas": Export("canvas_grades.csv", write_canvas, lambda n, total: "canvas_grades.csv"),
}


def write_exports(folder: Path, names: list, rows: list, target: Target) -> list:
    """Write the platform files of ``names`` into ``folder``; returns what the summary says of each."""
    said = []
    for name in names:
        export = EXPORTS[name]
        n = export.write(folder / export.file, rows, target)
        said.append(export.report(n, len(rows)))
        if name == "canvas" and not target.canvas_id:
            said[-1] += (" (no canvas: {assignment_id: ...} in the assignment file: Canvas will make a new "
                         "assignment column)")
    return said



