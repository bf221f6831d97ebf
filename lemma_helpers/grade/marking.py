"""Written answers: a marking sheet out, the marks back in (``lemma-grade merge``)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .._validation import LemmaError
from .text import csv_safe


def _fmt(x: float) -> str:
    return f"{x:g}"

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
