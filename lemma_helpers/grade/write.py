"""The write stage: every file a grading run leaves, written once from the scored results.

Next to the gradebook (``--out``): ``grades_by_notebook.csv``, ``feedback/``
(one Markdown file per student, graded against that student's own key),
``feedback.zip`` and the platforms' feedback zips, ``marking_sheet.csv`` when
notebooks have written answers, the platform files of ``--export``, and
``grading_summary.txt``. The executed copies (``executed/``) and the journal
are written by the run stage, as each notebook finishes.
"""
from __future__ import annotations

import csv
from pathlib import Path

from .exports import feedback_archives
from .marks import question_order, total
from .report import feedback_text, summary, write_gradebook
from .roundtrip import write_round_trip
from .text import clean_text, csv_safe


def columns_of(graded: list, marking) -> list:
    """The gradebook's question columns: the assignment's, else every question anyone was marked on."""
    if marking.columns is not None:
        return marking.columns
    return sorted({qid for g in graded for qid in g.marks}, key=question_order)


def write_by_notebook(path: Path, graded: list) -> None:
    """One row per submitted notebook: student, notebook, status, points from that notebook's own answers."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["student", "notebook", "status", "total"])
        for g in graded:
            for _, part, marks in g.parts:
                w.writerow([csv_safe(g.sub.student), csv_safe(part.file), part.status, f"{total(marks):g}"])


def write_feedback(out_dir: Path, graded: list, columns: list, names: dict, reveal: bool, marking) -> dict:
    """``feedback/<name>.md`` for every student; returns ``{student: text}``."""
    folder = out_dir / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    texts = {}
    for g in graded:
        texts[g.sub.student] = feedback_text(g.sub, g.marks, columns, g.key, reveal, marking.assignment,
                                             set_questions=marking.columns is not None)
        (folder / f"{names[g.sub.student]}.md").write_text(texts[g.sub.student], encoding="utf-8")
    return texts


def write_all(out: Path, graded: list, found, plan, settings, *, notes: list, sandbox: str, directory: Path,
              seconds: float) -> str:
    """Write every output of the run; returns the summary (also saved as ``grading_summary.txt``)."""
    marking, a = plan.marking, plan.marking.assignment
    columns = columns_of(graded, marking)
    subs = [g.sub for g in graded]
    marks = {g.sub.student: g.marks for g in graded}
    roster = plan.students is not None
    write_gradebook(out, subs, marks, columns, {g.sub.student: g.name for g in graded} if roster else None,
                    {g.sub.student: g.variant for g in graded} if plan.secret is not None else None)
    write_by_notebook(out.with_name("grades_by_notebook.csv"), graded)
    texts = write_feedback(out.parent, graded, columns, found.names, settings.reveal, marking)
    platforms = {g.sub.student: g.platform for g in graded}
    written = [p.name for p in feedback_archives(out.parent, texts, platforms, found.names)]
    more, trip_notes, problems = write_round_trip(out, graded, found, plan, settings, columns)
    written += more
    present = sum(1 for s in subs if s.status != "missing")
    if marking.columns is None:
        notes = notes + ["no --assignment, --key or --questions: every question anyone answered counts (a "
                         "self-test run; to grade for marks, name the questions)"]
    notes = notes + found.name_notes + [
        f"layout: {found.layout}; {len(found.notebooks)} notebook(s) from {present} student(s)"
        + (f"; roster of {len(plan.students)}" if roster else "")]
    for g in graded:
        if len(g.parts) > 1:
            notes.append(f"{clean_text(g.sub.student, 40)}: {len(g.parts)} notebooks put together, oldest first (a "
                         "later answer to a question replaces an earlier one): "
                         + ", ".join(clean_text(part.file, 60) for _, part, _ in g.parts))
    strangers = [o for o, (st, _) in found.by_owner.items() if roster and st is None]
    if strangers:
        notes.append("submissions from names not on the roster: " + ", ".join(clean_text(x, 40) for x in strangers))
    notes += trip_notes + found.roster_notes
    notes.append("also written: " + ", ".join(written))
    text = summary(subs, marks, columns, plan.key, overrides=plan.overrides, key_file=settings.key_file, out=out,
                   directory=directory, seconds=seconds, skipped=found.skipped, sandbox=sandbox, notes=notes,
                   assignment=a, problems=problems)
    (out.parent / "grading_summary.txt").write_text(text, encoding="utf-8")
    return text
