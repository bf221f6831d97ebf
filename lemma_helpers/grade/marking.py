"""Written answers: a marking sheet out, hand marks kept over re-runs, the marks back in (``lemma-grade merge``).

``marking_sheet.csv`` has one row per student and written answer (a Markdown
cell tagged ``answer``): ``student, name, notebook, item, question, answer,
max, marks, comment, status``. A marker fills in ``marks`` (at most ``max``,
the item's points from the assignment's ``written:``, 1 by default) and
``comment``. The sheet is a file a person edits, so a grading run never
overwrites it (:func:`update_marking_sheet`): it keeps every row with its
marks and comment, adds rows for new answers, and says in ``status`` what
changed:

``new``
    an answer not on the sheet before: mark it;
``kept``
    the same answer as before: marks and comment kept;
``changed: re-mark``
    the answer is not the one that was marked (a resubmission): the new answer
    is shown, the old marks kept; mark it again and set the status to ``kept``
    (``merge`` refuses the row until then);
``not in this run``
    a row of the earlier sheet that this run did not produce (a student left
    out of the run): kept as it was, not merged.

Before the sheet is rewritten the previous one is copied to
``marking_sheet.<time>.csv`` beside it, and the new one is written to a
temporary file and moved into place, so that nothing typed is lost.

A student with several notebooks has one row per item: the newest notebook's
answer counts, as for the automatically marked questions.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
from dataclasses import replace
from pathlib import Path

from .._validation import LemmaError
from .text import csv_safe

SHEET_COLUMNS = ["student", "name", "notebook", "item", "question", "answer", "max", "marks", "comment", "status"]
NOT_ANSWERED = "(not answered)"
REMARK = "changed: re-mark"
GONE = "not in this run"


def _fmt(x: float) -> str:
    return f"{round(x, 4):g}"


def sheet_rows(graded: list, points) -> list:
    """The rows a run puts on the sheet: one per student and written item (``{column: text}``, no marks).

    ``points(item)`` gives an item's maximum. Of a student's several notebooks (oldest first) the newest that
    answered an item counts; items are told apart by their number and question."""
    rows = []
    for g in graded:
        mine: dict = {}
        for _, part, _ in g.parts:
            for item, question, answer in part.written:
                key = (str(item), question)
                if answer or key not in mine:
                    mine[key] = {"student": g.sub.student, "name": g.name, "notebook": part.file, "item": str(item),
                                 "question": question, "answer": answer or NOT_ANSWERED,
                                 "max": _fmt(points(item)), "marks": "", "comment": "", "status": "new"}
        rows += mine.values()
    return rows


def _key(row: dict) -> tuple:
    return row.get("student", ""), str(row.get("item", "")), row.get("question", "")


def _plain(value: str) -> str:
    """A cell as the run wrote it, before ``csv_safe`` (a leading apostrophe added to formula-like text)."""
    return value[1:] if value[:2] in ("'=", "'+", "'-", "'@") else value


def read_sheet(path: Path) -> list:
    """The rows of a marking sheet (``{column: text}``); LemmaError when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise LemmaError(f"Cannot read {str(path)!r}: {err.strerror}.") from None
    except UnicodeDecodeError:
        raise LemmaError(f"{Path(path).name} is not UTF-8 text: save it as CSV UTF-8 and try again.") from None
    return [{k: _plain(v or "") if k in ("student", "name", "question", "answer", "notebook") else (v or "")
             for k, v in row.items() if k is not None} for row in csv.DictReader(io.StringIO(text))]


def merge_sheets(old: list, new: list) -> list:
    """The sheet after a run: ``new`` rows with the marks and comments of ``old`` kept (see the module
    docstring), then the rows of ``old`` this run did not produce."""
    before = {_key(r): r for r in old}
    out = []
    for row in new:
        was = before.pop(_key(row), None)
        if was is None:
            out.append(row)
            continue
        merged = {**row, "marks": was.get("marks", ""), "comment": was.get("comment", "")}
        if (was.get("answer") or "") != row["answer"]:
            merged["status"] = REMARK
        elif was.get("status") == REMARK or not merged["marks"].strip():
            merged["status"] = was.get("status") if was.get("status") == REMARK else "new"
        else:
            merged["status"] = "kept"
        out.append(merged)
    for row in before.values():
        out.append({**{c: row.get(c, "") for c in SHEET_COLUMNS}, "status": GONE})
    return out


def _write(path: Path, rows: list) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SHEET_COLUMNS)
        for r in rows:
            w.writerow([csv_safe(r.get(c, "")) for c in SHEET_COLUMNS])
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def update_marking_sheet(path: Path, rows: list) -> dict:
    """Write the sheet for ``rows`` (from :func:`sheet_rows`), keeping what a marker typed into an existing
    one; returns ``{status: count}`` and ``{"backup": file name}`` when the earlier sheet was copied."""
    old = read_sheet(path) if path.exists() else []
    merged = merge_sheets(old, rows)
    counts: dict = {}
    for r in merged:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    if path.exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = path.with_name(f"{path.stem}.{stamp}{path.suffix}")
        n = 1
        while backup.exists():
            n += 1
            backup = path.with_name(f"{path.stem}.{stamp}-{n}{path.suffix}")
        shutil.copy2(path, backup)
        counts["backup"] = backup.name
    _write(path, merged)
    return counts


def describe(counts: dict, path: Path) -> str:
    """What the summary says of the sheet."""
    parts = [f"{counts[s]} {s}" for s in ("new", "kept", REMARK, GONE) if counts.get(s)]
    text = f"{path.name} ({', '.join(parts)}; mark, then lemma-grade merge"
    if counts.get("backup"):
        text += f"; the earlier sheet is kept as {counts['backup']}"
    return text + ")"


# --------------------------------------------------------------------------
# Reading the marks back
# --------------------------------------------------------------------------

def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LemmaError(f"{where}: marks must be a number, got {text!r}.") from None
    if not value >= 0:
        raise LemmaError(f"{where}: marks must be 0 or more, got {text!r}.")
    return value


def read_marks(sheet: Path, students: set, name: str = "") -> tuple:
    """``({student: [(row, marks)]}, rows left out)`` from a filled-in sheet; every mistake is a LemmaError
    naming the line: a student not in the gradebook, no marks, marks above the item's maximum, an answer
    changed since it was marked, a row twice."""
    rows = read_sheet(sheet)
    name = name or Path(sheet).name
    if rows and not {"student", "marks"} <= set(rows[0]):
        raise LemmaError(f"{name} is not a marking sheet (it needs student and marks columns).")
    marks: dict = {}
    seen, left = {}, 0
    for i, row in enumerate(rows, start=2):
        where = f"{name}, line {i}"
        if row.get("status") == GONE:
            left += 1
            continue
        if row["student"] not in students:
            raise LemmaError(f"{where}: student {row['student']!r} is not in the gradebook.")
        if _key(row) in seen:
            raise LemmaError(f"{where}: {row['student']}, item {row.get('item', '?')} is on the sheet twice (lines "
                             f"{seen[_key(row)]} and {i}): delete one.")
        seen[_key(row)] = i
        if row.get("status") == REMARK:
            raise LemmaError(f"{where}: the answer of {row['student']}, item {row.get('item', '?')} changed since it "
                             f"was marked (status {REMARK!r}): mark it again and set its status to kept.")
        if not (row.get("marks") or "").strip():
            raise LemmaError(f"{where}: no marks for {row['student']}, item {row.get('item', '?')} (write 0 for none).")
        value = _number(row["marks"].strip(), where)
        top = (row.get("max") or "").strip()
        if top and value > _number(top, where):
            raise LemmaError(f"{where}: {_fmt(value)} marks for {row['student']}, item {row.get('item', '?')}, "
                             f"which is worth at most {top} (the max column; the assignment's written: sets it).")
        marks.setdefault(row["student"], []).append((row, value))
    return marks, left


# --------------------------------------------------------------------------
# merge: the gradebook, the feedback and the platform files with the written marks
# --------------------------------------------------------------------------

WRITTEN_HEADING = "## Written answers"


def _read_gradebook(path: Path) -> list:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise LemmaError(f"Cannot read {str(path)!r}: {err.strerror}.") from None
    grades = list(csv.DictReader(io.StringIO(text)))
    if not grades or "student" not in grades[0] or "total" not in grades[0]:
        raise LemmaError(f"{Path(path).name} is not a lemma-grade gradebook (no student and total columns).")
    if "automatic" in grades[0]:
        raise LemmaError(f"{Path(path).name} is a merged gradebook already: merge into the grades.csv that "
                         "lemma-grade wrote.")
    return grades


def written_maximum(marks: dict) -> float:
    """The written answers' maximum: each item number's points (the sheet's max column) once."""
    tops: dict = {}
    for rows in marks.values():
        for row, _ in rows:
            item = str(row.get("item", ""))
            tops[item] = max(tops.get(item, 0.0), float((row.get("max") or "0").strip() or 0))
    return sum(tops.values())


def feedback_section(rows: list) -> str:
    """The written answers' part of a student's feedback: marks and the marker's comment, item by item."""
    got = sum(v for _, v in rows)
    top = sum(float(r.get("max") or 0) for r, _ in rows)
    lines = [WRITTEN_HEADING, "", f"Marked by hand: {_fmt(got)} of {_fmt(top)} points.", ""]
    for row, value in sorted(rows, key=lambda rv: (rv[0].get("notebook", ""), int(rv[0].get("item") or 0))):
        lines += [f"### Item {row.get('item', '?')} ({_fmt(value)} of {row.get('max') or '?'})", "",
                  f"{row.get('question', '').strip()}", ""]
        if (row.get("comment") or "").strip():
            lines += [f"Comment: {row['comment'].strip()}", ""]
    return "\n".join(lines).rstrip() + "\n"


def with_written(text: str, section: str) -> str:
    """A feedback file with its written-answers section replaced (merging twice gives the same file)."""
    head = text.split("\n" + WRITTEN_HEADING + "\n")[0].rstrip("\n")
    return head + "\n\n" + section


def platform_comment(rows: list) -> str:
    got, top = sum(v for _, v in rows), sum(float(r.get("max") or 0) for r, _ in rows)
    notes = [f"item {r.get('item')}: {r['comment'].strip()}" for r, _ in rows if (r.get("comment") or "").strip()]
    return f"written answers {_fmt(got)} of {_fmt(top)}" + (f" ({'; '.join(notes)})" if notes else "")


def merge_marks(gradebook: Path, sheet: Path, out: Path) -> str:
    """Add the marks of a filled-in marking sheet to a gradebook, once per student and item.

    Writes ``out`` (``grades_final.csv``: student, name, email, platform_id, status, the questions, automatic,
    written, total, maximum); with the run's record (``grading_record.json`` beside the gradebook) it also
    puts each student's marks and comments into their feedback file and the feedback zips, and writes the
    platform files of the run's ``--export`` again beside ``out`` with the written marks included. Returns
    a report of what was done."""
    from .exports import feedback_archives, write_exports
    from .record import read_record
    gradebook, out = Path(gradebook), Path(out)
    grades = _read_gradebook(gradebook)
    record = read_record(gradebook.parent)
    marks, left = read_marks(sheet, {row["student"] for row in grades})
    top = written_maximum(marks)
    by_id = {r.student: r for r in record.rows} if record else {}
    automatic_max = record.automatic_maximum if record else None
    header = [c for c in grades[0] if c not in ("name", "written", "total")]
    header = ["student", "name", "email", "platform_id"] + header[1:] + ["automatic", "written", "total", "maximum"]
    with open(out.with_name(out.name + ".tmp"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for row in grades:
            r = by_id.get(row["student"])
            automatic = float(row["total"]) - float(row.get("written") or 0)
            written = sum(v for _, v in marks.get(row["student"], []))
            w.writerow({**row, "name": row.get("name") or (r.name if r else ""), "email": r.email if r else "",
                        "platform_id": (r.moodle_pid or r.canvas_uid) if r else "", "automatic": _fmt(automatic),
                        "written": _fmt(written), "total": _fmt(automatic + written),
                        "maximum": "" if automatic_max is None else _fmt(automatic_max + top)})
    os.replace(out.with_name(out.name + ".tmp"), out)
    said = [f"merged the marks of {sum(map(len, marks.values()))} written answer(s) for {len(marks)} student(s) "
            f"into {out}"]
    if left:
        said.append(f"{left} row(s) with status {GONE!r} left out")
    if record is None:
        said.append(f"no {gradebook.parent / 'grading_record.json'} (an older run): feedback and platform files "
                    "not updated; grade again to have them")
        return "; ".join(said)
    texts = _feedback(gradebook.parent, record, marks)
    feedback_archives(gradebook.parent, texts, record.platforms, record.names)
    said.append(f"written marks and comments added to {len(marks)} feedback file(s) and the feedback zips")
    rows = [_with_marks(r, marks.get(r.student, [])) for r in record.rows]
    target = replace(record.target, maximum=record.automatic_maximum + top, when="")
    said += write_exports(out.parent, record.exports, rows, target)
    return "; ".join(said)


def _with_marks(row, rows: list):
    if not rows:
        return row
    written = sum(v for _, v in rows)
    return replace(row, points=(row.points or 0.0) + written, comment=platform_comment(rows))


def _feedback(folder: Path, record, marks: dict) -> dict:
    """Every student's feedback text, with the written section of those on the sheet; files rewritten."""
    texts = {}
    for sid, name in record.names.items():
        path = folder / "feedback" / f"{name}.md"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if sid in marks:
            text = with_written(text, feedback_section(marks[sid]))
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        texts[sid] = text
    return texts
