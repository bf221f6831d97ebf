"""What ``lemma-grade`` writes for the instructor and the students: the gradebook, feedback files, the summary.

Everything a submission controls (its file name, error messages, answers) goes
through :mod:`lemma_helpers.grade.text` first: one clean line of text, and
gradebook cells that a spreadsheet would run as a formula written with a
leading apostrophe.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from .. import _bank as B
from .results import STATUSES, Submission
from .text import clean_text, csv_safe, scrub_paths


def _fmt(x: float) -> str:
    return f"{x:g}"



def write_gradebook(path: Path, subs: list, marks: dict, columns: list, names: dict | None = None,
                    variants: dict | None = None) -> None:
    """CSV: ``student`` (and ``name`` with a roster), ``status`` (and ``variant`` with per-student variants),
    one column per question (points; empty = not answered), ``total``."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["student", *(["name"] if names is not None else []), "status",
                    *(["variant"] if variants is not None else []), *columns, "total"])
        for sub in subs:
            m = marks[sub.student]
            row = [_fmt(m[c].points) if c in m else "" for c in columns]
            name = [csv_safe(names.get(sub.student, ""))] if names is not None else []
            variant = [csv_safe(variants.get(sub.student, ""))] if variants is not None else []
            w.writerow([csv_safe(sub.student), *name, sub.status, *variant, *row,
                        _fmt(sum(mk.points for mk in m.values()))])
    os.replace(tmp, path)


def _answer_text(answer: Any) -> str:
    text = json.dumps(answer, ensure_ascii=True)
    return text if len(text) <= 200 else text[:197] + "..."


def feedback_text(sub: Submission, marks: dict, columns: list, key: dict, reveal: bool, assignment=None,
                  set_questions: bool = True) -> str:
    """The Markdown feedback file for one student. With ``reveal`` the accepted answers are shown for the
    questions the student was set (``set_questions``: every column; else only those they answered)."""
    total = sum(m.points for m in marks.values())
    possible = sum(key[c].points for c in columns)
    lines = [f"# Feedback for {clean_text(sub.student, 80)}", ""]
    if assignment is not None:
        lines += [f"Assignment: {clean_text(assignment.title, 120)} (`{assignment.id}`)"
                  + (f", due {assignment.due}" if assignment.due else "")]
    lines += [f"Submission: `{clean_text(sub.file, 120)}`", f"Score: {_fmt(total)} of {_fmt(possible)} points", ""]
    if sub.problems or sub.notes:
        lines += ["## What happened when your notebook was run", ""]
        lines += [f"- {clean_text(p)}" for p in sub.problems + sub.notes]
        lines += ["", "Answers recorded before a problem still count.", ""]
    for qid in columns:
        q, mark = B.question(qid), marks.get(qid)
        worth = key[qid].points
        if mark is None:
            lines += [f"## {qid}: not answered (0 of {_fmt(worth)})", ""]
        else:
            verdict = "correct" if mark.correct else "not correct"
            lines += [f"## {qid}: {verdict} ({_fmt(mark.points)} of {_fmt(worth)})", "",
                      f"Your answer: `{_answer_text(mark.answer)}`"
                      + (f" (you checked this question {mark.times} times; the last answer counts)"
                         if mark.times > 1 else ""), "", mark.feedback, ""]
        if reveal and (set_questions or mark is not None):
            lines += [f"Accepted answer: {B.describe_key(q, key[qid])}", ""]
            if key[qid].explanation:
                lines += [f"Worked answer: {key[qid].explanation.strip()}", ""]
    return scrub_paths("\n".join(lines).rstrip() + "\n")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary(subs, marks, columns, key, *, overrides, key_file, out, directory, seconds, skipped, sandbox,
            notes=(), assignment=None, problems=()) -> str:
    """The text printed at the end and saved as ``grading_summary.txt``."""
    possible = sum(key[c].points for c in columns)
    totals = [sum(m.points for m in marks[s.student].values()) for s in subs]
    src = "the shipped self-test key"
    if assignment is not None:
        changed = sum(1 for q in assignment.questions if not B.same_answer(assignment.keys[q], B.question(q).key)
                      or assignment.keys[q].points != B.question(q).key.points)
        src = (f"assignment {assignment.id} ({len(assignment.questions)} questions, {assignment.mode}; "
               f"{changed} answer(s) or points set by the assignment)")
    if overrides:
        src += f", with {len(overrides)} question(s) replaced from {Path(key_file).name}"
    lines = [f"lemma-grade: graded {len(subs)} submission(s) from {directory} in {seconds:.0f} s",
             f"Key: {src}",
             f"Sandbox: {sandbox}",
             f"Gradebook: {out} ({_n(len(subs), 'student')} x {_n(len(columns), 'question')}, "
             f"{_fmt(possible)} {'point' if possible == 1 else 'points'})",
             f"Feedback: {out.parent / 'feedback'}"]
    lines += [f"Note: {clean_text(n, 400)}" for n in notes]
    if skipped:
        shown = ", ".join(clean_text(s, 160) for s in skipped[:20]) + (" ..." if len(skipped) > 20 else "")
        lines.append(f"Skipped {_n(len(skipped), 'file')} that {'is' if len(skipped) == 1 else 'are'} not "
                     f"*.ipynb, or not a regular file: {shown}")
    if totals:
        lines.append(f"Totals: mean {sum(totals) / len(totals):.2f}, min {_fmt(min(totals))}, "
                     f"max {_fmt(max(totals))}")
    counts = {}
    for s in subs:
        counts[s.status] = counts.get(s.status, 0) + 1
    lines.append("Status: " + ", ".join(f"{st} {counts[st]}" for st in STATUSES if st in counts))
    if problems:
        lines.append(f"Roster problems ({len(problems)}): each graded under the name it came with, joined to no "
                     "student")
        lines += [f"  {clean_text(p, 400)}" for p in problems]
    broken = [s for s in subs if s.problems]
    if broken:
        lines.append(f"Problems in {len(broken)} submission(s) (each scored what it could):")
        for s in broken:
            lines.append(f"  {clean_text(s.student, 80)}: " + clean_text("; ".join(s.problems), 600))
    else:
        lines.append("No problems: every notebook ran to the end.")
    return "\n".join(lines) + "\n"
