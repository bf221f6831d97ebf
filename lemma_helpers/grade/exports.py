"""Grades and feedback for learning platforms: Moodle's grading worksheet, a Canvas gradebook import, and the
feedback files zipped for return in bulk.

Each platform export is one entry of :data:`EXPORTS` (its name -> the function that writes its file).
"""
from __future__ import annotations

import csv
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
    return f"{x:g}"


def write_moodle(path: Path, rows: list, title: str, maximum: float) -> int:
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
    write: Callable        # (path, rows, title, maximum) -> rows written
    report: Callable       # (rows written, students) -> text for the summary


# --export NAME: one entry per platform
EXPORTS = {
    "moodle": Export("moodle_grades.csv", write_moodle,
                     lambda n, total: f"moodle_grades.csv ({n} of {total} students have a Moodle participant id)"),
    "canvas": Export("canvas_grades.csv", write_canvas, lambda n, total: "canvas_grades.csv"),
}
