"""What this Python session remembers, in one visible place: ``lh.session()``.

A notebook's session remembers four things that change what the course's
functions do:

* the **assignment** started with ``lh.start_assignment``: its id, its mode
  (``summative``: ``lh.check`` only records answers; ``formative``: feedback
  as usual) and the student's **variant code**, if any (then
  ``lh.load_dataset`` returns the student's own version of the data, and
  says so);
* the **tries**: wrong answers per quiz question and per exercise, which
  decide when ``lh.check`` adds the hint (second wrong try) and the worked
  answer (third), and when ``lh.check_exercise`` adds the worked answer
  (third); the same wrong answer checked again (a cell of answers run once
  more) is not a new try; and which exercises are **solved** (``lh.solved``);
* the **question-bank folders** added with ``lh.add_question_bank``.

``lh.session()`` shows all of it; ``lh.reset_session()`` forgets it (as a
fresh kernel would). Nothing else in the package keeps state that changes a
result.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Session", "session", "reset_session", "solved"]


@dataclass
class Session:
    """The state of this Python session (see the module docstring)."""

    assignment: str | None = None
    mode: str | None = None             # "summative" or "formative" once an assignment is started
    code: str | None = None             # the variant code given to lh.start_assignment
    tries: dict = field(default_factory=dict)          # question or exercise id -> wrong tries so far
    last_wrong: dict = field(default_factory=dict)     # question id -> the last wrong answer (a repeat is no try)
    solved: set = field(default_factory=set)           # exercises whose last checked answer was right
    bank_folders: list = field(default_factory=list)   # folders given to lh.add_question_bank

    @property
    def summative(self) -> bool:
        return self.mode == "summative"

    def _lines(self) -> list:
        if self.assignment is None:
            lines = ["No assignment started: lh.check gives feedback, lh.load_dataset gives the full data."]
        else:
            lines = [f"Assignment {self.assignment} ({self.mode}): "
                     + ("lh.check records answers without a verdict." if self.summative
                        else "lh.check gives feedback as usual.")]
            lines.append(f"Variant code {self.code}: lh.load_dataset gives your own version of the data."
                         if self.code else "No variant code: lh.load_dataset gives the full data.")
        wrong = {q: n for q, n in self.tries.items() if n}
        lines.append("Wrong tries so far: " + (", ".join(f"{q} {n}" for q, n in sorted(wrong.items()))
                                               if wrong else "none") + ".")
        if self.solved:
            lines.append("Exercises solved: " + ", ".join(sorted(self.solved)) + ".")
        if self.bank_folders:
            lines.append("Extra question banks: " + ", ".join(str(p) for p in self.bank_folders) + ".")
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._lines())

    __str__ = __repr__

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self._lines())
        return f"<div class='lemma-session'><strong>This session</strong><ul>{items}</ul></div>"


_SESSION = Session()


def session() -> Session:
    """What this session remembers: the assignment, its mode and variant code, the tries, extra banks.

    Returns
    -------
    Session
        Shows as a short list in a notebook. Its fields are ``assignment``,
        ``mode``, ``code``, ``tries`` (wrong answers per question) and
        ``bank_folders``.

    Examples
    --------
    >>> reset_session()
    >>> session()
    No assignment started: lh.check gives feedback, lh.load_dataset gives the full data.
    Wrong tries so far: none.
    """
    return _SESSION


def reset_session() -> None:
    """Forget the assignment, the variant code, the tries and the extra question banks, as a fresh kernel would."""
    _SESSION.assignment = _SESSION.mode = _SESSION.code = None
    _SESSION.tries.clear()
    _SESSION.last_wrong.clear()
    _SESSION.solved.clear()
    _SESSION.bank_folders.clear()


def add_bank_folder(folder: Path) -> None:
    if folder not in _SESSION.bank_folders:
        _SESSION.bank_folders.append(folder)


def solved(exercise_id: str) -> bool:
    """Whether the last answer checked for an exercise (``lh.check_exercise``) was right, in this session.

    A notebook shows what follows from an exercise only once it is solved:
    ``if lh.solved("P5.1.lr"): display(lh.lr_test(ols, m0))``.
    """
    return exercise_id in _SESSION.solved
