"""What ``lemma-grade`` writes: marks, the gradebook, feedback files, the summary and the journal.

Everything a submission controls (its file name, error messages, answers) is
treated as data: text is cleaned of control characters and line breaks before
it goes into the summary or a feedback file, and gradebook cells that a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) are written with a leading apostrophe.
"""
from __future__ import annotations

import csv
import json
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import _bank as B
from . import _scoring as S
from ._assignment import partial_points
from ._validation import LemmaError
from .quiz import describe_key

# the status of a submission: the most serious of what happened, in this order
STATUSES = ("missing", "not a notebook", "not run", "kernel died", "timed out", "output cut", "errors", "no code",
            "no answers", "ok")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def clean_text(text: Any, limit: int = 300) -> str:
    """One line of plain text: control characters, line breaks and direction marks become spaces."""
    s = unicodedata.normalize("NFC", str(text))
    s = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", s)          # terminal colour codes
    s = re.sub(r"\s+", " ", _CONTROL.sub(" ", s)).strip()
    return s if len(s) <= limit else s[:limit - 3] + "..."


def csv_safe(value: Any) -> Any:
    """A gradebook cell that a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@dataclass
class Submission:
    """One student's submission and what happened to it."""

    student: str
    file: str
    sha256: str = ""
    answers: dict = field(default_factory=dict)   # question id -> list of recorded answers, in order
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    declared: list = field(default_factory=list)  # what lh.start_assignment recorded: [{"assignment", "code"}]
    executed: Any = None

    def problem(self, text: str, status: str) -> None:
        self.problems.append(clean_text(text))
        self.statuses.append(status)

    @property
    def status(self) -> str:
        found = set(self.statuses)
        if not found and not self.answers:
            found.add("no answers")
        return next((s for s in STATUSES if s in found), "ok")

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("executed")
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Submission":
        return cls(**{k: d[k] for k in ("student", "file", "sha256", "answers", "problems", "notes", "statuses")},
                   declared=d.get("declared", []))


@dataclass(frozen=True)
class Mark:
    """The grade of one answer."""

    answer: Any
    times: int
    correct: bool
    points: float
    feedback: str


def score_submission(sub: Submission, key: dict, overridden: set, assignment=None) -> dict:
    """``{question id: Mark}`` for the last answer to each known question; never raises.

    With an assignment, only its questions are scored; answers to others are listed in the notes.
    """
    marks, outside = {}, []
    for qid, answers in sorted(sub.answers.items()):
        try:
            q = B.question(qid)
        except (LemmaError, TypeError):
            note = f"ignored an answer to unknown question {clean_text(qid, 40)!r}"
            if note not in sub.notes:
                sub.notes.append(note)
            continue
        if assignment is not None and q.id not in assignment.keys:
            outside.append(q.id)
            continue
        answer = answers[-1]
        try:
            if isinstance(answer, dict) and "unsupported" in answer:
                out = S.Outcome(False, False, 0, f"The answer was a {clean_text(answer['unsupported'], 60)}, "
                                                 "which cannot be graded.")
            else:
                out = S.score(q, answer, key[q.id])
        except Exception as err:   # noqa: BLE001 - one answer never stops the run
            out = S.Outcome(False, False, 0, f"This answer could not be scored ({type(err).__name__}).")
        feedback, points = out.feedback, float(out.points)
        if q.id in overridden and q.type in ("single", "multiple") and out.valid:
            feedback = "Correct." if out.correct else "Not correct."   # bank feedback was written for the shipped key
        if (assignment is not None and assignment.partial_credit and q.type == "multiple" and out.valid
                and not out.correct):
            points = partial_points(S._as_labels(q, answer), key[q.id].correct, q.labels, key[q.id].points)
            feedback += f"\nPartial credit: {_fmt(points)} of {_fmt(key[q.id].points)}."
        marks[q.id] = Mark(answer, len(answers), out.correct, points, feedback)
    if outside:
        note = ("answers to questions that are not part of this assignment were not marked: "
                + ", ".join(sorted(outside, key=question_order)))
        if note not in sub.notes:
            sub.notes.append(note)
    return marks


def _fmt(x: float) -> str:
    return f"{x:g}"


def question_order(qid: str) -> tuple:
    section, _, number = qid.rpartition(".q")
    return B.section_sort_key(section) + (int(number),)


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


def feedback_text(sub: Submission, marks: dict, columns: list, key: dict, reveal: bool, assignment=None) -> str:
    """The Markdown feedback file for one student."""
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
        if reveal:
            lines += [f"Accepted answer: {describe_key(q, key[qid])}", ""]
            if key[qid].explanation:
                lines += [f"Worked answer: {key[qid].explanation.strip()}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary(subs, marks, columns, key, *, overrides, key_file, out, directory, seconds, skipped, sandbox,
            notes=(), assignment=None) -> str:
    """The text printed at the end and saved as ``grading_summary.txt``."""
    possible = sum(key[c].points for c in columns)
    totals = [sum(m.points for m in marks[s.student].values()) for s in subs]
    src = "the shipped self-test key"
    if assignment is not None:
        changed = sum(1 for q in assignment.questions if assignment.keys[q] is not B.question(q).key)
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
        shown = ", ".join(clean_text(s, 60) for s in skipped[:20]) + (" ..." if len(skipped) > 20 else "")
        lines.append(f"Skipped {_n(len(skipped), 'file')} that {'is' if len(skipped) == 1 else 'are'} not "
                     f"*.ipynb: {shown}")
    if totals:
        lines.append(f"Totals: mean {sum(totals) / len(totals):.2f}, min {_fmt(min(totals))}, "
                     f"max {_fmt(max(totals))}")
    counts = {}
    for s in subs:
        counts[s.status] = counts.get(s.status, 0) + 1
    lines.append("Status: " + ", ".join(f"{st} {counts[st]}" for st in STATUSES if st in counts))
    broken = [s for s in subs if s.problems]
    if broken:
        lines.append(f"Problems in {len(broken)} submission(s) (each scored what it could):")
        for s in broken:
            lines.append(f"  {clean_text(s.student, 80)}: " + clean_text("; ".join(s.problems), 600))
    else:
        lines.append("No problems: every notebook ran to the end.")
    return "\n".join(lines) + "\n"


class Journal:
    """One JSON line per graded submission, appended and flushed as each finishes (``--resume`` reads it)."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> dict:
        done = {}
        if not self.path.exists():
            return done
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                sub = Submission.from_json(json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue                  # a line cut short by a killed run
            done[sub.student] = sub
        return done

    def append(self, sub: Submission) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(sub.to_json(), ensure_ascii=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
