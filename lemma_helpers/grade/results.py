"""The plain data that flows between the stages of a grading run, and the journal that keeps it.

A :class:`Submission` is what running one notebook gave (answers, what
``lh.start_assignment`` declared, problems, notes), and, merged, what one
student handed in; a :class:`Mark` is the grade of one answer. The
:class:`Journal` appends each finished submission as a JSON line, so that a
run that is killed keeps what it graded and ``--resume`` continues it.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .text import clean_text

# the status of a submission: the most serious of what happened, in this order
STATUSES = ("missing", "not a notebook", "not run", "kernel died", "timed out", "output cut", "errors", "no code",
            "no answers", "ok")


@dataclass
class Submission:
    """One notebook (or one student's notebooks) and what happened when it ran."""

    student: str
    file: str
    sha256: str = ""
    answers: dict = field(default_factory=dict)   # question id -> [the last answer recorded]
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    declared: list = field(default_factory=list)  # what lh.start_assignment recorded: [{"assignment", "code"}]
    written: list = field(default_factory=list)   # written answers: [(item, question, answer)]
    counts: dict = field(default_factory=dict)    # question id -> times it was answered
    executed: Any = None

    def problem(self, text: str, status: str) -> None:
        self.problems.append(clean_text(text))
        self.statuses.append(status)

    def flag(self, text: str) -> None:
        """A problem with how the notebook was done (not how it ran): listed with the problems, status unchanged."""
        text = clean_text(text)
        if text not in self.problems:
            self.problems.append(text)

    def note(self, text: str) -> None:
        """Add a note once (the same note twice is kept once)."""
        if text not in self.notes:
            self.notes.append(text)

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
                   declared=d.get("declared", []), written=[tuple(w) for w in d.get("written", [])],
                   counts=d.get("counts", {}))


@dataclass(frozen=True)
class Mark:
    """The grade of one answer."""

    answer: Any
    times: int
    correct: bool
    points: float
    feedback: str


def merge(student: str, subs: list) -> Submission:
    """One student's notebooks as one submission: answers in the given order (the last counts), problems by file."""
    if len(subs) == 1:
        one = subs[0]
        return Submission(student, one.file, one.sha256, dict(one.answers), list(one.problems), list(one.notes),
                          list(one.statuses), list(one.declared), list(one.written), dict(one.counts), one.executed)
    merged = Submission(student, ", ".join(s.file for s in subs))
    for s in subs:
        for qid, answers in s.answers.items():
            merged.answers[qid] = answers[-1:]                  # a later notebook's answer replaces
            merged.counts[qid] = merged.counts.get(qid, 0) + s.counts.get(qid, len(answers))
        merged.problems += [f"{s.file}: {p}" for p in s.problems]
        merged.notes += [f"{s.file}: {n}" for n in s.notes]
        merged.statuses += s.statuses
        merged.declared += s.declared
        merged.written += s.written
    return merged


class Journal:
    """One JSON line per graded notebook, appended and flushed as each finishes (``--resume`` reads it)."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> dict:
        done = {}
        if not self.path.exists():
            return done
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:                # line by line: a journal is never read whole into memory
                try:
                    sub = Submission.from_json(json.loads(line))
                except (ValueError, KeyError, TypeError, RecursionError):
                    continue                  # a line cut short by a killed run
                done[sub.student] = sub
        return done

    def append(self, sub: Submission) -> None:
        """Append one record; a record that cannot be written is noted in the submission (never raised)."""
        try:
            line = json.dumps(sub.to_json(), ensure_ascii=True) + "\n"
        except (ValueError, TypeError, RecursionError) as err:
            sub.note(f"not kept in the journal ({type(err).__name__}): --resume will run it again")
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
