"""Self-test quizzes: ``lh.quiz``, ``lh.check`` and ``lh.list_questions``.

The questions are data: one YAML file per course section in
``lemma_helpers/quizzes/`` (``5.0.yaml`` ... ``5.6.yaml``, ``P5.1.yaml`` ...
``P5.5.yaml``), validated against ``quizzes/schema.json`` when they are
loaded. Each question carries its own answer key (the self-test key); an
instructor can grade against a different key with ``lemma-grade --key``.

How a learner uses it::

    lh.quiz("5.1")                 # show the questions of section 5.1
    lh.check("5.1.q2", 0.092)      # check one answer; prints feedback

How answers are recorded: inside a notebook, every :func:`check` call
displays one output: the verdict (``text/plain`` and ``text/html``) and, in
the same MIME bundle, ``application/vnd.lemma.answer+json``
(``{"id": "5.1.q2", "answer": 0.092}``). Nothing else goes into that record:
no correctness, no time stamp. The returned result knows it has been shown,
so a call that ends a cell is not displayed a second time. ``lemma-grade`` re-executes the notebook,
reads these records back (the last one for each question counts) and scores
them itself against the instructor's key.

How many tries: a wrong answer gets the feedback written for that mistake,
never the right answer. From the second wrong try of a question the hint is
added; from the third, the worked explanation (which shows the answer), so
that nobody stays stuck. A correct answer shows the worked explanation at
once. Tries are counted in the running Python process only, so re-running a
notebook from the top gives the same output every time.
"""
from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ._bank import (  # noqa: F401 - the bank's names are part of this module's (internal) interface
    TYPES, Key, Option, Question, _bank, _canonical_section, _load_yaml, _normalise_text, _schema_check,
    _questions, describe_key, load_key, parse_bank, question, schema, section_sort_key, sections, shipped_key,
)
from ._validation import LemmaError, did_you_mean, unknown_name
from .state import session
from .variant_keys import original_answer, own_key, prompt_for, shown_options
from .variants import normalise_code
from ._scoring import (  # noqa: F401
    ANSWER_MIME, Outcome, _BadAnswer, _example, _example_value, answer_record, jsonable, score,
)

__all__ = ["quiz", "check", "list_questions", "start_assignment", "reveal", "CheckResult", "Recorded", "Quiz",
           "ANSWER_MIME"]

ASSIGNMENT_MIME = "application/vnd.lemma.assignment+json"

HINT_FROM_TRY = 2      # wrong tries before the hint is shown
WORKED_FROM_TRY = 3    # wrong tries before the worked explanation is shown


# --------------------------------------------------------------------------
# What the learner sees
# --------------------------------------------------------------------------

_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$\n]+?\$)", re.S)


def markdown_html(text: str) -> str:
    """A small Markdown-to-HTML converter for prompts and feedback.

    Handles paragraphs, lists of lines starting with a dash, inline code in
    backticks, bold and italic with asterisks; LaTeX between dollar signs is
    left for MathJax (JupyterLab and static renders typeset it).
    """
    maths = []

    def keep(m):
        maths.append(html.escape(m.group(0), quote=False))
        return f"\x00{len(maths) - 1}\x00"

    text = html.escape(_MATH.sub(keep, text), quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if lines and all(re.match(r"\s*- ", ln) for ln in lines):
            items = "".join("<li>" + re.sub(r"^\s*- ", "", ln) + "</li>" for ln in lines)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append("<p>" + " ".join(ln.strip() for ln in lines) + "</p>")
    return re.sub(r"\x00(\d+)\x00", lambda m: maths[int(m.group(1))], "".join(blocks))


def _fmt_points(x: float) -> str:
    return f"{x:g}"


def _plural(x: float) -> str:
    return "point" if x == 1 else "points"


def _how_to_answer(q: Question) -> str:
    how = {"single": "one option label", "multiple": "a list of every true option",
           "numeric": "a number", "text": "a word or short phrase"}[q.type]
    return f"Answer with {how}: {_example(q)}"


_KINDS = {"single": "single choice", "multiple": "choose all that apply", "numeric": "numeric",
          "text": "short text"}


def _question_text(q: Question, code: str | None = None) -> str:
    """A question as text; with a variant ``code``, with that student's own numbers and order of options."""
    lines = [f"{q.id} ({_KINDS[q.type]}, {_fmt_points(q.key.points)} {_plural(q.key.points)})", prompt_for(q, code)]
    lines += [f"  ({label}) {o.text}" for label, o in shown_options(q, code)]
    lines.append(_how_to_answer(q))
    return "\n".join(lines)


def _question_html(q: Question, code: str | None = None) -> str:
    opts = "".join(f"<li><code>{label}</code>&nbsp; {markdown_html(o.text)[3:-4]}</li>"
                   for label, o in shown_options(q, code))
    opts = f"<ul style='list-style:none;padding-left:1em'>{opts}</ul>" if opts else ""
    return (f"<div style='margin-bottom:1em'><p><strong>{q.id}</strong> <small>({_KINDS[q.type]}, "
            f"{_fmt_points(q.key.points)} {_plural(q.key.points)})</small></p>{markdown_html(prompt_for(q, code))}"
            f"{opts}<p><small>{html.escape(_how_to_answer(q))}</small></p></div>")


@dataclass(frozen=True)
class Quiz:
    """The questions of one section, displayed as text or HTML."""

    section: str
    title: str
    questions: tuple
    code: str | None = None      # a variant code: each student's own numbers and order of options

    def _your_data(self) -> str:
        """A line for a quiz with questions on the data: what "your data" is."""
        if not any(q.compute for q in self.questions):
            return ""
        return ("Your data is the data as you loaded it with lh.load_dataset: working on your own, the course's "
                "data; in an assignment whose instructor gave you a variant code, your own version of it.")

    def __repr__(self) -> str:
        head = f"Quiz {self.section}: {self.title} ({len(self.questions)} questions)"
        body = "\n\n".join(_question_text(q, self.code) for q in self.questions)
        note = f"{self._your_data()}\n\n" if self._your_data() else ""
        return f"{head}\n{'=' * len(head)}\n\n{note}{body}"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        body = "".join(_question_html(q, self.code) for q in self.questions)
        return (f"<div class='lemma-quiz'><h4>Quiz {self.section}: {html.escape(self.title)}</h4>"
                f"<p><small>Check each answer with <code>lh.check(id, answer)</code>; "
                f"the feedback explains what a wrong answer usually means."
                f"{' ' + html.escape(self._your_data()) if self._your_data() else ''}</small></p>{body}</div>")

    def to_frame(self) -> pd.DataFrame:
        return list_questions(self.section)


def quiz(section: str) -> Quiz:
    """Show the self-test questions of one section.

    Parameters
    ----------
    section : str
        ``'5.0'`` to ``'5.6'`` for the concepts (``'C5.1'`` also works) or
        ``'P5.1'`` to ``'P5.5'`` for the practicals.

    Returns
    -------
    Quiz
        Displays as HTML in a notebook (with LaTeX) and as plain text in a
        terminal. Answer each question with :func:`check`.

    Examples
    --------
    >>> q = quiz("5.1")
    >>> print(repr(q).splitlines()[0])
    Quiz 5.1: Comparing groups (... questions)
    """
    s = _canonical_section(section)
    title, questions = _bank()[s]
    return Quiz(s, title, questions, session().code)


def list_questions(section: str | None = None, *, with_key: bool = False) -> pd.DataFrame:
    """List the questions of the bank, optionally of one section.

    Parameters
    ----------
    section : str, optional
        Restrict to one section, e.g. ``'5.1'`` or ``'P5.4'``.
    with_key : bool, default False
        For instructors: add ``key`` (the accepted answer) and ``explanation``.

    Returns
    -------
    DataFrame
        One row per question with columns ``id``, ``section``, ``number``,
        ``type`` (``'single'``, ``'multiple'``, ``'numeric'``, ``'text'``),
        ``kind`` (``'interpretation'`` or ``'computation'``), ``points``,
        ``options`` (the labels a learner may answer with, for choice
        questions; ``None`` otherwise) and ``prompt``.

    Examples
    --------
    >>> df = list_questions("5.1")
    >>> df.loc[0, "id"], df.columns[:4].tolist()
    ('5.1.q1', ['id', 'section', 'number', 'type'])
    """
    if with_key and recording_only():
        raise LemmaError("The answers are not shown during a summative assignment: you get feedback after "
                         "it has been graded.")
    chosen = [_canonical_section(section)] if section is not None else sections()
    rows = []
    for s in chosen:
        for q in _bank()[s][1]:
            row = {"id": q.id, "section": q.section, "number": q.number, "type": q.type, "kind": q.kind,
                   "points": float(q.key.points), "options": q.labels if q.options else None, "prompt": q.prompt}
            if with_key:
                row["key"] = describe_key(q, q.key)
                row["explanation"] = q.key.explanation.strip()
            rows.append(row)
    return pd.DataFrame(rows)


def _emit(bundle: dict) -> bool:
    """Display a MIME bundle in IPython (a notebook); False in plain Python, where there is nothing to record into."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return False
    if get_ipython() is None:
        return False
    display(bundle, raw=True)
    return True


def _cell() -> int | None:
    """The number of the cell being run in IPython (None in plain Python)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return None if shell is None else shell.execution_count


class _ShownOnce:
    """A result that :func:`check` has already displayed together with its answer record.

    When the call ends a cell, IPython would display the returned value a
    second time; ``_ipython_display_`` skips it in the cell that showed it,
    and shows it as usual anywhere else (``r`` in a later cell).
    """

    def _ipython_display_(self) -> None:
        if self._shown_in is not None and self._shown_in == _cell():
            return
        from IPython.display import display
        display({"text/plain": repr(self), "text/html": self._repr_html_()}, raw=True)

    def _shown_with(self, record: dict | None):
        """Display this result with the answer record in one output; returns self, marked as shown."""
        bundle = {**(record or {}), "text/plain": repr(self), "text/html": self._repr_html_()}
        if _emit(bundle):
            object.__setattr__(self, "_shown_in", _cell())
        return self


@dataclass(frozen=True)
class CheckResult(_ShownOnce):
    """The verdict on one answer: ``correct``, ``points`` and ``feedback``.

    ``points`` is what the answer earns (0 unless correct) out of
    ``max_points``. ``valid`` is False when the answer had the wrong form
    (text for a numeric question, an unknown option label); such an answer is
    not counted as a try. ``tries`` counts the checked answers to this
    question in this Python session.
    """

    question: str
    answer: Any
    correct: bool
    points: float
    max_points: float
    feedback: str
    valid: bool = True
    tries: int = 1
    _shown_in: int | None = field(default=None, compare=False, repr=False)

    def _status(self) -> str:
        if not self.valid:
            return "answer not understood (not counted as a try)"
        if self.correct:
            return f"correct ({_fmt_points(self.points)} of {_fmt_points(self.max_points)} {_plural(self.max_points)})"
        return (f"not correct yet ({_fmt_points(self.points)} of {_fmt_points(self.max_points)} "
                f"{_plural(self.max_points)}, try {self.tries})")

    def __repr__(self) -> str:
        return f"{self.question}: {self._status()}\n{self.feedback}"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.correct else ("#9a6700" if not self.valid else "#cf222e")
        mark = "&#10004;" if self.correct else ("?" if not self.valid else "&#10008;")
        body = "".join(markdown_html(part) for part in self.feedback.split("\n"))
        return (f"<div style='border-left:4px solid {colour};padding:2px 10px'>"
                f"<p><strong style='color:{colour}'>{mark} {self.question}</strong>: "
                f"{html.escape(self._status())}</p>{body}</div>")

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"question": self.question, "answer": self.answer, "correct": self.correct,
                              "points": self.points, "max_points": self.max_points, "valid": self.valid,
                              "tries": self.tries, "feedback": self.feedback}])


_QID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}\.[qQ][1-9][0-9]{0,3}$")   # the shape of a question id


def recording_only() -> bool:
    """True when ``lh.check`` only records answers: in a summative assignment, and whenever
    ``lemma-grade`` runs a notebook (so that the executed copies never show a verdict of their own)."""
    return session().summative or os.environ.get("LEMMA_CHECK_MODE") == "record"


@dataclass(frozen=True)
class Recorded(_ShownOnce):
    """What :func:`check` returns when it only records the answer (summative work, or during grading)."""

    question: str
    answer: Any
    assignment: str = ""
    _shown_in: int | None = field(default=None, compare=False, repr=False)

    def __repr__(self) -> str:
        if self.answer is None:
            return f"{self.question}: no answer yet: replace the ... with your answer."
        return (f"{self.question}: answer recorded. It is marked when the "
                f"{'assignment ' + self.assignment if self.assignment else 'work'} is graded; "
                "the last answer you give counts.")

    __str__ = __repr__

    def _repr_html_(self) -> str:
        return (f"<div style='border-left:4px solid #6e7781;padding:2px 10px'><p><strong>{html.escape(self.question)}"
                f"</strong>: {html.escape(repr(self).split(': ', 1)[1])}</p></div>")


def start_assignment(name: str, *, mode: str = "summative", code: str | None = None) -> None:
    """Start a graded assignment in this notebook: from now on :func:`check` records answers without saying
    whether they are right (``mode="summative"``), and the worked answers stay hidden.

    Parameters
    ----------
    name : str
        The assignment's id, as your instructor gave it (e.g. ``'quiz-5.1'``).
    mode : {'summative', 'formative'}
        ``'formative'`` keeps the usual feedback (a practice run of the assignment).
    code : str, optional
        Your variant code, when your instructor gave you one (``'ABCD-EFGH'``):
        from now on ``lh.load_dataset`` returns your own version of the data
        (a subset of its groups, each moved a little, on a scale of its own),
        and the code is recorded with your answers.

    Examples
    --------
    >>> start_assignment("quiz-5.1")
    Assignment quiz-5.1: your answers are recorded, and you get feedback once it has been graded.
    >>> check("5.1.q1", 0.092)
    5.1.q1: answer recorded. It is marked when the assignment quiz-5.1 is graded; the last answer you give counts.

    A summative session stays summative; a practice run is a session of its own:

    >>> from lemma_helpers import reset_session
    >>> reset_session()
    >>> start_assignment("quiz-5.1", mode="formative")
    Assignment quiz-5.1 (practice): lh.check gives feedback as usual.
    >>> reset_session()
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"The assignment name is a string such as 'quiz-5.1', got {name!r}.")
    if mode not in ("summative", "formative"):
        raise unknown_name("mode", mode, ["summative", "formative"])
    if code is not None:
        code = normalise_code(code)
    state = session()
    if state.summative and mode != "summative":
        raise LemmaError(f"This session started the summative assignment {state.assignment}: it stays summative "
                         "until the kernel restarts, and lh.check only records answers. For a practice run, use a "
                         "notebook of its own.")
    state.assignment, state.mode, state.code = name.strip(), mode, code
    message = (f"Assignment {name.strip()}: your answers are recorded, and you get feedback once it has been "
               "graded." if mode == "summative" else
               f"Assignment {name.strip()} (practice): lh.check gives feedback as usual.")
    if code:
        message += f" Your variant code is {code}: lh.load_dataset now gives your own version of the data."
    record = {"assignment": name.strip(), "mode": mode, **({"code": code} if code else {})}
    if not _emit({"text/plain": message, ASSIGNMENT_MIME: record}):
        print(message)


def check(question_id: str, answer: Any) -> "CheckResult | Recorded":
    """Check an answer to a quiz question and record it for grading.

    Parameters
    ----------
    question_id : str
        The question's id, as shown by :func:`quiz`, e.g. ``'5.1.q3'``.
    answer
        An option label (``'b'``) for single choice; a list of labels
        (``['a', 'c']``) for "choose all that apply"; a number (a numpy
        number or a numeric string also works) for numeric questions; a word
        or phrase for short-text questions (case, spaces and punctuation are
        ignored).

    Returns
    -------
    CheckResult
        ``correct``, ``points`` and ``feedback``. A wrong first try gets the
        feedback for that mistake, never the answer; the hint follows on the
        second wrong try and the worked explanation on the third. An answer of
        the wrong type gets a message saying what the question expects.

    Notes
    -----
    In a notebook the call displays the verdict once (also inside a loop),
    with a machine-readable copy of the answer in the same output (MIME type
    ``application/vnd.lemma.answer+json``) that ``lemma-grade`` reads back.
    Only the last answer to each question counts.

    Examples
    --------
    >>> r = check("5.1.q1", "0.092")
    >>> r.correct, r.points
    (True, 1.0)
    >>> print(check("5.1.q1", "about nine percent").feedback)   # doctest: +ELLIPSIS
    Question 5.1.q1 asks for a number, but you gave the text 'about nine percent', which is not one...
    """
    if recording_only() and isinstance(question_id, str) and _QID.match(question_id.strip()):
        try:
            qid = question(question_id).id
        except LemmaError:    # an instructor's question from a bank only the grader has: record it as given
            qid = question_id.strip()
        if answer is Ellipsis or answer is None:
            return Recorded(qid, None, session().assignment or "")._shown_with(None)
        return Recorded(qid, jsonable(answer), session().assignment or "")._shown_with(answer_record(qid, answer))
    q = question(question_id)
    if answer is Ellipsis or answer is None:
        empty = CheckResult(q.id, None, False, 0.0, float(q.key.points),
                            f"No answer yet: replace `{'...' if answer is Ellipsis else 'None'}` with your answer. "
                            + _how_to_answer(q) + ".", valid=False, tries=session().tries.get(q.id, 0))
        return empty._shown_with(None)
    return _verdict(q, answer)._shown_with(answer_record(q.id, answer))


def _verdict(q: Question, answer: Any) -> CheckResult:
    """Score one answer against the learner's own key and count the try; the feedback grows with wrong tries."""
    code = session().code                 # a variant: the student's own key, numbers and order of options
    key = own_key(q, code)
    out = score(q, original_answer(q, answer, code), key)
    if not out.valid:
        return CheckResult(q.id, jsonable(answer), False, 0.0, float(q.key.points), out.feedback, False,
                           session().tries.get(q.id, 0))
    state = session()
    wrong_before = state.tries.get(q.id, 0)
    parts = [out.feedback]
    if out.correct:
        state.last_wrong.pop(q.id, None)
        if key.explanation:
            parts.append("Worked answer: " + key.explanation.strip())
        return CheckResult(q.id, jsonable(answer), True, float(out.points), float(q.key.points), "\n".join(parts),
                           True, wrong_before + 1)
    if wrong_before and state.last_wrong.get(q.id) == jsonable(answer):     # the same answer again: no new try
        wrong = wrong_before
        parts.append("(The same answer as your last try: it does not count as a new one.)")
    else:
        state.last_wrong[q.id] = jsonable(answer)
        state.tries[q.id] = wrong = wrong_before + 1
    hint = prompt_for(q, code, "hint")
    if wrong >= HINT_FROM_TRY and hint:
        parts.append("Hint: " + hint)
    if wrong >= WORKED_FROM_TRY and key.explanation:
        parts.append("Worked answer: " + key.explanation.strip())
    return CheckResult(q.id, jsonable(answer), False, float(out.points), float(q.key.points), "\n".join(parts),
                       True, wrong)


def reveal(item_id: str, **inputs: Any) -> str:
    r"""Show the worked answer of a quiz question or a notebook exercise, on request.

    A wrong answer never shows the answer: ``lh.check`` adds the worked answer
    from the third wrong try, ``lh.check_exercise`` likewise. ``reveal`` is
    for when you have tried and want it now. It is refused during a summative
    assignment.

    Parameters
    ----------
    item_id : str
        A question id (``'5.1.q3'``) or an exercise id (``'P5.1.vpc'``).
    **inputs
        For an exercise: what its check cell passes (``m0=m0``), from which
        the answer is worked out.

    Returns
    -------
    str
        The worked answer, shown once (typeset in a notebook, printed elsewhere).

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> m = lh.fit("normexam ~ 1 + (1 | school)", data=lh.load_dataset("exam"))
    >>> text = reveal("X.example.vpc", m=m)    # doctest: +ELLIPSIS
    Worked ...: divide the level-2 variance by the total variance; the VPC comes to 0.1659.
    """
    if recording_only():
        raise LemmaError("Answers are not shown during a summative assignment: you get feedback after it has "
                         "been graded.")
    from .exercises import exercise_ids, is_exercise, reveal_exercise

    if is_exercise(item_id):
        text = reveal_exercise(item_id, **inputs)
    else:
        try:
            q = question(item_id)
        except LemmaError:
            known = [*_questions(), *exercise_ids()]
            raise LemmaError(f"Unknown question or exercise {item_id!r}: question ids look like '5.1.q3', exercise "
                             f"ids like 'P5.1.vpc'.{did_you_mean(item_id, known)} The check cell below an exercise "
                             "names it; lh.list_questions() lists the questions.") from None
        if inputs:
            raise LemmaError(f"{q.id} is a quiz question: reveal it with lh.reveal({q.id!r}) alone.")
        text = (f"Worked answer to {q.id}: {q.key.explanation.strip() or '(none written)'}\n"
                f"Accepted: {_accepted(q).rstrip('.')}.")
    return Revealed(text)._show()


class Revealed(str):
    """A worked answer: the text itself, shown once, rendered (its maths typeset) in a notebook."""

    _shown_in = None

    def _bundle(self) -> dict:
        return {"text/plain": str(self), "text/html": "".join(markdown_html(p) for p in str(self).split("\n"))}

    def _show(self) -> "Revealed":
        if _emit(self._bundle()):
            self._shown_in = _cell()
        else:
            print(str(self))
        return self

    def _ipython_display_(self) -> None:
        if self._shown_in is None or self._shown_in != _cell():
            from IPython.display import display
            display(self._bundle(), raw=True)


def _accepted(q: Question) -> str:
    if q.type == "numeric":
        return f"between {q.key.low:.6g} and {q.key.high:.6g}"
    if q.type in ("single", "multiple"):
        return ", ".join(f"({o.label}) {o.text}" for o in q.options if o.label in q.key.correct)
    return " or ".join(q.key.shown or q.key.accept)
