"""Marking: each notebook's answers scored once against its student's key, then one student's notebooks combined.

Scoring uses the learner's own rules (:func:`lemma_helpers._scoring.score`,
what ``lh.check`` uses), outside the sandbox, against a key the sandbox never
sees. Nothing here raises for anything a submission holds: an answer that
cannot be scored earns 0 with feedback saying why.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import _bank as B
from .. import _scoring as S
from ..variant_keys import original_answer
from .._validation import LemmaError
from .assignment import partial_points
from .results import Mark
from .text import clean_text


@dataclass(frozen=True)
class Marking:
    """How a run marks: the class key, the questions whose key is not the shipped one, and which questions
    count: an assignment's, or a set named on the command line (``scope``), or (neither) any question."""

    key: dict                       # question id -> Key
    overridden: frozenset = frozenset()
    assignment: object = None       # an Assignment: only its questions are marked, with its partial credit
    scope: frozenset | None = None  # without an assignment: the questions that count (None: any)

    @property
    def columns(self) -> list | None:
        """The gradebook's columns when they are fixed in advance, else None."""
        if self.assignment is not None:
            return list(self.assignment.questions)
        return sorted(self.scope, key=question_order) if self.scope is not None else None

    def counts(self, qid: str) -> bool:
        """Whether an answer to ``qid`` (a known question) is marked."""
        if self.assignment is not None:
            return qid in self.assignment.keys
        return self.scope is None or qid in self.scope


def question_order(qid: str) -> tuple:
    section, _, number = qid.rpartition(".q")
    return B.section_sort_key(section) + (int(number),)


def mark_answers(answers: dict, key: dict, marking: Marking, counts: dict | None = None) -> dict:
    """``{question id: Mark}`` for the last answer to each question that is marked; never raises.

    ``key`` is the student's own key (the class key, or their variant's);
    ``counts`` says how many times each question was answered. With an
    assignment only its questions are marked (:func:`unmarked` lists the rest).
    """
    marks = {}
    for qid, given in sorted(answers.items()):
        q = _known(qid)
        if q is not None and marking.counts(q.id):
            marks[q.id] = _mark(q, given, key[q.id], marking, (counts or {}).get(qid, len(given)))
    return marks


def unmarked(answers: dict, marking: Marking) -> list:
    """Notes on the answers that :func:`mark_answers` leaves out: unknown questions, questions outside the
    assignment."""
    notes, outside = [], []
    for qid in sorted(answers):
        q = _known(qid)
        if q is None:
            notes.append(f"ignored an answer to unknown question {clean_text(qid, 40)!r}")
        elif not marking.counts(q.id):
            outside.append(q.id)
    if outside:
        what = "this assignment" if marking.assignment is not None else "this grading"
        notes.append(f"answers to questions that are not part of {what} were not marked: "
                     + ", ".join(sorted(outside, key=question_order)[:30]) + (" ..." if len(outside) > 30 else ""))
    return notes


def in_bank_labels(answers: dict, code: str | None) -> dict:
    """A variant student's answers to choice questions, from the labels of their own order of the options
    (:func:`lemma_helpers.variant_keys.option_order`) back to the bank's labels."""
    if not code:
        return answers
    out = {}
    for qid, given in answers.items():
        q = _known(qid)
        out[qid] = [original_answer(q, a, code) for a in given] if q is not None else given
    return out


def _known(qid):
    try:
        return B.question(qid)
    except (LemmaError, TypeError):
        return None


def _mark(q, given: list, key, marking: Marking, times: int) -> Mark:
    answer = given[-1]
    try:
        if isinstance(answer, dict) and "unsupported" in answer:
            out = S.Outcome(False, False, 0, f"The answer was a {clean_text(answer['unsupported'], 60)}, "
                                             "which cannot be graded.")
        else:
            out = S.score(q, answer, key)
    except Exception as err:   # noqa: BLE001 - one answer never stops the run
        out = S.Outcome(False, False, 0, f"This answer could not be scored ({type(err).__name__}).")
    feedback, points = out.feedback, float(out.points)
    if q.id in marking.overridden and q.type in ("single", "multiple") and out.valid:
        feedback = "Correct." if out.correct else "Not correct."   # bank feedback was written for the shipped key
    a = marking.assignment
    if a is not None and a.partial_credit and q.type == "multiple" and out.valid and not out.correct:
        points = partial_points(S._as_labels(q, answer), key.correct, q.labels, key.points)
        feedback += f"\nPartial credit: {points:g} of {key.points:g}."
    return Mark(answer, times, out.correct, points, feedback)


def combine(parts: list) -> dict:
    """One student's marks from the marks of their notebooks, in the order the notebooks count: the last
    answer to a question counts, and the times it was answered add up."""
    marks: dict = {}
    for part in parts:
        for qid, mark in part.items():
            before = marks.get(qid)
            marks[qid] = mark if before is None else Mark(mark.answer, before.times + mark.times, mark.correct,
                                                          mark.points, mark.feedback)
    return marks


def total(marks: dict) -> float:
    return sum(m.points for m in marks.values())
