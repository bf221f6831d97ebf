"""The files of a class's round trip, written at the end of a grading run beside the gradebook.

- ``marking_sheet.csv``, updated and never overwritten (:mod:`.marking`);
- ``grading_record.json``, what ``lemma-grade merge`` needs (:mod:`.record`);
- the platform files of ``--export`` (:mod:`.exports`);
- ``item_analysis.csv`` and ``item_analysis.png`` (:mod:`.analysis`).

Called once by :func:`lemma_helpers.grade.write.write_all`; returns what the
summary says of them.
"""
from __future__ import annotations

from pathlib import Path

from .analysis import LOW_FACILITY, item_analysis, write_item_analysis
from .exports import Target, write_exports
from .marking import describe, sheet_rows, update_marking_sheet
from .record import Record, rows_of, write_record


def _points(assignment):
    return assignment.written_points if assignment is not None else (lambda item: 1.0)


def write_round_trip(out: Path, graded: list, found, plan, settings, columns: list) -> tuple:
    """``(files written, notes, problems)`` for the summary."""
    a = plan.marking.assignment
    folder, written, notes = out.parent, [], []
    points = _points(a)
    sheet = sheet_rows(graded, points)
    path = out.with_name("marking_sheet.csv")
    if sheet or path.exists():
        written.append(describe(update_marking_sheet(path, sheet), path))
    items = sorted({int(r["item"]) for r in sheet})
    written_max = sum(points(i) for i in items)
    automatic = sum(plan.key[c].points for c in columns)
    target = Target(a.title if a is not None else "lemma-grade", automatic + written_max,
                    a.moodle_maximum if a is not None else None, a.canvas_id if a is not None else "",
                    getattr(settings, "missing_zero", False))
    rows = rows_of(graded, plan.students)
    written += write_exports(folder, list(settings.exports), rows, target)
    if written_max and settings.exports:
        notes.append(f"the platform files count the written answers ({written_max:g} points) as 0 until "
                     "lemma-grade merge writes them again with the marks")
    record = Record(target, list(settings.exports), rows, dict(found.names),
                    {g.sub.student: g.platform for g in graded},
                    {str(i): points(i) for i in items}, a.written_default if a is not None else 1.0, automatic)
    write_record(folder, record)
    stats = item_analysis(graded, columns, plan.key)
    if stats:
        written += write_item_analysis(folder, stats)
        notes += [f"item analysis: {line}" for line in flagged(stats)]
    return written, notes, list(found.roster_problems)


def flagged(stats: list) -> list:
    """The questions to look at again: facility under 0.3 or negative discrimination."""
    out = []
    for s in stats:
        why = []
        if s.answered and s.facility < LOW_FACILITY:
            why.append(f"facility {s.facility:.2f} (under {LOW_FACILITY})")
        if s.discrimination is not None and s.discrimination < 0:
            why.append(f"discrimination {s.discrimination:.2f} (negative: stronger students got it wrong more)")
        if why:
            out.append(f"{s.question}: " + ", ".join(why) + "; check its key and wording")
    return out
