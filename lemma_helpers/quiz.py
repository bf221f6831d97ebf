"""Self-test quizzes: ``lh.quiz``, ``lh.check`` and ``lh.list_questions``.

The questions are data: one YAML file per course section in
``lemma_helpers/quizzes/`` (``5.0.yaml`` ... ``5.6.yaml``, ``P5.1.yaml`` ...
``P5.5.yaml``), validated against ``quizzes/schema.json`` when they are
loaded. Each question carries its own answer key (the self-test key); an
instructor can grade against a different key with ``lemma-grade --key``.

How a learner uses it::

    lh.quiz("5.1")                 # show the questions of section 5.1
    lh.check("5.1.q2", 0.092)      # check one answer; prints feedback

How answers are recorded: inside a notebook, every :func:`check` call also
displays a small output whose MIME bundle holds ``text/plain`` (one line,
``Answer to 5.1.q2 recorded: 0.092``) and ``application/vnd.lemma.answer+json``
(``{"id": "5.1.q2", "answer": 0.092}``). Nothing else goes into that record:
no correctness, no time stamp. ``lemma-grade`` re-executes the notebook,
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

import functools
import html
import json
import math
import numbers
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ._validation import LemmaError, did_you_mean, unknown_name

__all__ = ["quiz", "check", "list_questions", "CheckResult", "Quiz", "ANSWER_MIME"]

ANSWER_MIME = "application/vnd.lemma.answer+json"
TYPES = ("single", "multiple", "numeric", "text")
HINT_FROM_TRY = 2      # wrong tries before the hint is shown
WORKED_FROM_TRY = 3    # wrong tries before the worked explanation is shown
_SECTION_RE = re.compile(r"^(P?)(\d+)\.(\d+)$")
_TRIES: dict[str, int] = {}   # wrong tries per question, this process only


# --------------------------------------------------------------------------
# The bank
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """One option of a choice question."""

    label: str
    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class Key:
    """What counts as right for one question and how many points it is worth.

    ``correct`` holds option labels (choice questions), ``low``/``high`` the
    accepted interval (numeric), ``accept`` the accepted forms (text).
    ``distractors`` are anticipated wrong answers with their own feedback:
    ``(low, high, feedback)`` for numeric questions, ``(forms, feedback)`` for
    text questions.
    """

    points: float
    correct: frozenset = frozenset()
    low: float | None = None
    high: float | None = None
    accept: tuple = ()
    distractors: tuple = ()
    explanation: str = ""


@dataclass(frozen=True)
class Question:
    """A question of the bank, with its self-test key."""

    id: str
    section: str
    number: int
    type: str
    kind: str
    prompt: str
    options: tuple
    hint: str
    feedback_wrong: str
    key: Key

    @property
    def labels(self) -> list:
        return [o.label for o in self.options]


def _bank_dir():
    return resources.files("lemma_helpers") / "quizzes"


@functools.lru_cache(maxsize=None)
def schema() -> dict:
    """The JSON schema of a bank file (``quizzes/schema.json``)."""
    return json.loads((_bank_dir() / "schema.json").read_text(encoding="utf-8"))


def _load_yaml(text: str, source: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)    # JSON is valid YAML too
    except yaml.YAMLError as err:
        raise LemmaError(f"{source} is not valid YAML or JSON: {err}") from None


def _schema_check(data: Any, ref: str, source: str) -> None:
    full = schema()
    sub = {"$schema": full["$schema"], "$defs": full["$defs"], "$ref": f"#/$defs/{ref}"} if ref else full
    import jsonschema  # imported here: it is slow to import and only needed to validate

    validator = jsonschema.Draft202012Validator(sub)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise LemmaError(f"{source} does not follow the quiz schema at {where}: {error.message}")


def section_sort_key(section: str) -> tuple:
    """Concept sections first (5.0 ... 5.6), then practicals (P5.1 ...)."""
    m = _SECTION_RE.match(section)
    return (bool(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (True, 99, 99)


def _interval(spec: dict, default_tol: float | None = None) -> tuple:
    if "value" in spec:
        tol = spec.get("tolerance", default_tol)
        if tol is None:
            tol = 0.005 * abs(spec["value"])
        return float(spec["value"]) - float(tol), float(spec["value"]) + float(tol)
    return float(spec["min"]), float(spec["max"])


def _numeric_distractors(items, answer_spec) -> tuple:
    tol = answer_spec.get("tolerance") if answer_spec else None
    return tuple(_interval(d, tol) + (d["feedback"],) for d in items or ())


def _text_distractors(items) -> tuple:
    return tuple((tuple(_normalise_text(f) for f in d["forms"]), d["feedback"]) for d in items or ())


def _question_from_dict(d: dict, section: str, source: str) -> Question:
    qtype = d["type"]
    options = tuple(Option(o["label"], o["text"], bool(o.get("correct", False)), o["feedback"])
                    for o in d.get("options", ()))
    if qtype in ("single", "multiple"):
        key = Key(d["points"], correct=frozenset(o.label for o in options if o.correct),
                  explanation=d["explanation"])
    elif qtype == "numeric":
        low, high = _interval(d["answer"])
        key = Key(d["points"], low=low, high=high, explanation=d["explanation"],
                  distractors=_numeric_distractors(d.get("distractors"), d["answer"]))
    else:
        key = Key(d["points"], accept=tuple(_normalise_text(a) for a in d["accept"]),
                  explanation=d["explanation"], distractors=_text_distractors(d.get("distractors")))
    number = int(d["id"].rsplit(".q", 1)[1])
    q = Question(d["id"], section, number, qtype, d["kind"], d["prompt"].strip(), options,
                 d.get("hint", "").strip(), d.get("feedback_wrong", "").strip(), key)
    _check_question(q, source)
    return q


def _check_question(q: Question, source: str) -> None:
    """Checks that the schema cannot express."""
    where = f"{source}, question {q.id}"
    if not q.id.startswith(q.section + ".q"):
        raise LemmaError(f"{where}: the id must start with '{q.section}.q' (the file's section).")
    if len(set(q.labels)) != len(q.labels):
        raise LemmaError(f"{where}: option labels must be unique, got {q.labels}.")
    k = q.key
    if q.type == "single" and len(k.correct) != 1:
        raise LemmaError(f"{where}: a single-choice question needs exactly one correct option.")
    if q.type == "multiple" and not k.correct:
        raise LemmaError(f"{where}: a multiple-choice question needs at least one correct option.")
    if q.type == "numeric":
        if not k.low <= k.high:
            raise LemmaError(f"{where}: the accepted interval is empty ({k.low} > {k.high}).")
        for low, high, _ in k.distractors:
            if low <= k.high and k.low <= high:
                raise LemmaError(f"{where}: distractor [{low}, {high}] overlaps the accepted answer.")
    if q.type == "text":
        for forms, _ in k.distractors:
            if set(forms) & set(k.accept):
                raise LemmaError(f"{where}: a distractor form is also an accepted form.")


def parse_bank(data: Any, source: str, section: str | None = None) -> tuple:
    """Validate one bank file's content; return ``(section, title, questions)``."""
    _schema_check(data, "", source)
    sec = data["section"]
    if section is not None and sec != section:
        raise LemmaError(f"{source} declares section {sec!r} but its file name says {section!r}.")
    questions = tuple(_question_from_dict(d, sec, source) for d in data["questions"])
    numbers_ = [q.number for q in questions]
    if numbers_ != list(range(1, len(questions) + 1)):
        raise LemmaError(f"{source}: questions must be numbered q1, q2, ... in order; got {numbers_}.")
    return sec, data["title"], questions


@functools.lru_cache(maxsize=None)
def _bank() -> dict:
    """All sections: ``{section: (title, questions)}`` in course order."""
    found = {}
    for entry in _bank_dir().iterdir():
        stem, _, ext = entry.name.rpartition(".")
        if ext in ("yaml", "yml", "json") and _SECTION_RE.match(stem):
            sec, title, questions = parse_bank(_load_yaml(entry.read_text(encoding="utf-8"), entry.name),
                                               entry.name, stem)
            if sec in found:
                raise LemmaError(f"Section {sec} has more than one question file.")
            found[sec] = (title, questions)
    return {s: found[s] for s in sorted(found, key=section_sort_key)}


@functools.lru_cache(maxsize=None)
def _questions() -> dict:
    return {q.id: q for _, qs in _bank().values() for q in qs}


def sections() -> list:
    """The course sections that have a quiz, in course order."""
    return list(_bank())


def _canonical_section(section: Any) -> str:
    if not isinstance(section, str):
        raise TypeError(f"section must be a string such as '5.1' or 'P5.3', got {type(section).__name__}.")
    s = section.strip()
    s = re.sub(r"^[Cc](?=\d)", "", s)            # 'C5.1' is what the text calls 5.1
    s = re.sub(r"^p(?=\d)", "P", s)
    if s not in _bank():
        raise unknown_name("section", section, sections())
    return s


def question(qid: str) -> Question:
    """The question with id ``qid`` (e.g. ``'5.1.q3'``)."""
    if not isinstance(qid, str):
        raise TypeError(f"The question id must be a string such as '5.1.q3', got {type(qid).__name__}.")
    s = qid.strip()
    s = re.sub(r"^[Cc](?=\d)", "", s)
    s = re.sub(r"^p(?=\d)", "P", s)
    s = re.sub(r"\.Q(\d+)$", r".q\1", s)
    if s not in _questions():
        sec = s.rsplit(".q", 1)[0]
        in_section = [q for q in _questions() if q.startswith(sec + ".q")]
        if in_section:
            raise LemmaError(f"Unknown question {qid!r}.{did_you_mean(qid, in_section)} "
                             f"Section {sec} has questions {', '.join(in_section)}.")
        raise LemmaError(f"Unknown question {qid!r}: ids look like '5.1.q3' or 'P5.4.q2'."
                         f"{did_you_mean(qid, _questions())} Sections with a quiz: {', '.join(sections())}. "
                         "lh.list_questions() lists every id.")
    return _questions()[s]


def shipped_key() -> dict:
    """The self-test key that ships with the package: ``{question id: Key}``."""
    return {qid: q.key for qid, q in _questions().items()}


def load_key(path: str | Path) -> dict:
    """Read an instructor's key file (YAML or JSON) into ``{question id: Key}``.

    The file maps question ids to answer specifications that replace the
    shipped ones, for example::

        5.1.q1: {value: 0.105, tolerance: 0.001}
        5.1.q2: {correct: c}
        5.3.q4: {correct: [a, d], points: 2}
        5.6.q4: {accept: [cross-classified, cross classification]}

    Numeric keys take ``value`` with ``tolerance`` or ``min`` with ``max``.
    Optional ``points``, ``explanation`` and ``distractors`` replace the
    shipped ones; the shipped numeric distractors and explanation are dropped
    when a numeric answer is replaced, because they were written for the
    shipped numbers.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise LemmaError(f"Cannot read the key file {str(path)!r}: {err.strerror}.") from None
    data = _load_yaml(text, path.name)
    _schema_check(data, "keyfile", path.name)
    out = {}
    for qid, spec in data.items():
        q = question(qid)
        out[q.id] = _override(q, spec, f"{path.name}, {qid}")
    return out


def _override(q: Question, spec: dict, where: str) -> Key:
    k = q.key
    fields = {"points": spec.get("points", k.points), "explanation": spec.get("explanation", k.explanation)}
    kinds = {"forms" in d for d in spec.get("distractors", ())}
    if (q.type != "numeric" and False in kinds) or (q.type != "text" and True in kinds):
        raise LemmaError(f"{where}: these distractors do not fit a {q.type} question "
                         "(numeric questions take value/tolerance or min/max, text questions take forms).")
    wanted = {"single": "correct", "multiple": "correct", "numeric": "value/tolerance or min/max",
              "text": "accept"}[q.type]
    if q.type in ("single", "multiple"):
        if "correct" not in spec:
            raise LemmaError(f"{where}: {q.id} is a {q.type}-choice question; give `correct` (option labels).")
        labels = [spec["correct"]] if isinstance(spec["correct"], str) else list(spec["correct"])
        bad = [lab for lab in labels if lab not in q.labels]
        if bad or (q.type == "single" and len(labels) != 1) or not labels:
            raise LemmaError(f"{where}: `correct` must be {'one' if q.type == 'single' else 'some'} of "
                             f"{q.labels}, got {spec['correct']!r}.")
        return Key(correct=frozenset(labels), **fields)
    if q.type == "numeric":
        if not ("value" in spec or "min" in spec):
            raise LemmaError(f"{where}: {q.id} is a numeric question; give {wanted}.")
        low, high = _interval(spec)
        if low > high:
            raise LemmaError(f"{where}: the accepted range is empty (min {low} > max {high}).")
        if "explanation" not in spec:
            fields["explanation"] = ""
        return Key(low=low, high=high, distractors=_numeric_distractors(spec.get("distractors"), spec), **fields)
    if "accept" not in spec:
        raise LemmaError(f"{where}: {q.id} is a text question; give `accept` (a list of accepted forms).")
    accept = [spec["accept"]] if isinstance(spec["accept"], str) else spec["accept"]
    return Key(accept=tuple(_normalise_text(a) for a in accept),
               distractors=_text_distractors(spec.get("distractors")) or k.distractors, **fields)


# --------------------------------------------------------------------------
# Scoring (shared by check and lemma-grade)
# --------------------------------------------------------------------------

class _BadAnswer(Exception):
    """An answer of the wrong type or form; the message is for the learner."""


def _normalise_text(s: str) -> str:
    """Case, spaces, hyphens and punctuation do not matter in text answers."""
    s = unicodedata.normalize("NFKC", str(s)).casefold()
    return "".join(ch for ch in s if ch.isalnum())


def _describe(answer: Any) -> str:
    if isinstance(answer, str):
        return f"the text {answer!r}"
    if isinstance(answer, bool):
        return f"the truth value {answer}"
    if isinstance(answer, (list, tuple, set, frozenset)):
        return f"a {type(answer).__name__} of {len(answer)} item(s)"
    return f"a {type(answer).__name__}"


def _example_value(q: Question) -> str:
    return {"single": json.dumps(q.labels[0] if q.options else "a"),
            "multiple": json.dumps(q.labels[:2] if q.options else ["a", "b"]),
            "numeric": "0.25", "text": '"your answer"'}[q.type]


def _example(q: Question) -> str:
    return f'lh.check("{q.id}", {_example_value(q)})'


def _as_number(q: Question, answer: Any) -> float:
    if isinstance(answer, (bool, np.bool_)):
        raise _BadAnswer(f"Question {q.id} asks for a number, but you gave {_describe(answer)}. "
                         f"Pass the number itself, for example {_example(q)}.")
    if isinstance(answer, str):
        text = answer.strip().replace("\u2212", "-")
        if text.endswith("%"):
            raise _BadAnswer(f"Question {q.id} asks for a number: write it without the % sign "
                             "(a proportion such as 0.25, not '25%').")
        try:
            value = float(text)
        except ValueError:
            raise _BadAnswer(f"Question {q.id} asks for a number, but you gave {_describe(answer)}, "
                             f"which is not one. Pass a number, for example {_example(q)}.") from None
    elif isinstance(answer, numbers.Real):
        value = float(answer)
    elif isinstance(answer, np.ndarray) and answer.ndim == 0 and np.issubdtype(answer.dtype, np.number):
        value = float(answer)
    elif isinstance(answer, (pd.Series, pd.DataFrame, np.ndarray, list, tuple)):
        raise _BadAnswer(f"Question {q.id} asks for one number, but you gave {_describe(answer)}. "
                         "Pick out the single value first, e.g. float(result.iloc[0]) or x[0].")
    else:
        raise _BadAnswer(f"Question {q.id} asks for a number, but you gave {_describe(answer)}. "
                         f"Pass a number, for example {_example(q)}.")
    if not math.isfinite(value):
        raise _BadAnswer(f"Question {q.id} asks for a finite number, but you gave {value}. "
                         "Check the calculation for a division by zero or a missing value.")
    return value


def _as_label(q: Question, answer: Any) -> str:
    if not isinstance(answer, str):
        extra = " One label only: this question has a single right option." if isinstance(
            answer, (list, tuple, set)) else ""
        raise _BadAnswer(f"Question {q.id} is answered with the label of one option "
                         f"({', '.join(map(repr, q.labels))}), but you gave {_describe(answer)}.{extra} "
                         f"For example {_example(q)}.")
    label = answer.strip().strip("()").strip().casefold()
    if label not in q.labels:
        raise _BadAnswer(f"{answer!r} is not an option of question {q.id}: "
                         f"answer with one of {', '.join(map(repr, q.labels))}.")
    return label


def _as_labels(q: Question, answer: Any) -> list:
    if isinstance(answer, str):
        items = [t for t in re.split(r"[,;\s]+", answer) if t]
    elif isinstance(answer, (list, tuple, set, frozenset, np.ndarray, pd.Series)):
        items = list(answer)
    else:
        raise _BadAnswer(f"Question {q.id} may have several right options: answer with a list of labels, "
                         f"for example {_example(q)}; you gave {_describe(answer)}.")
    if len(items) == 1 and isinstance(items[0], str) and len(items[0]) > 1 and all(
            ch in q.labels for ch in items[0].casefold()):
        items = list(items[0].casefold())          # "ac" means ["a", "c"]
    labels = []
    for item in items:
        if not isinstance(item, str) or item.strip().strip("()").strip().casefold() not in q.labels:
            raise _BadAnswer(f"{item!r} is not an option of question {q.id}: use labels from "
                             f"{', '.join(map(repr, q.labels))}, in a list such as {_example_value(q)}.")
        labels.append(item.strip().strip("()").strip().casefold())
    return sorted(set(labels))


def _as_text(q: Question, answer: Any) -> str:
    if not isinstance(answer, str):
        raise _BadAnswer(f"Question {q.id} asks for a word or short phrase in quotes, but you gave "
                         f"{_describe(answer)}. For example {_example(q)}.")
    if not _normalise_text(answer):
        raise _BadAnswer(f"Your answer to {q.id} is empty: write a word or short phrase.")
    return answer


@dataclass(frozen=True)
class Outcome:
    """The verdict on one answer, before any try-dependent hints."""

    valid: bool
    correct: bool
    points: float
    feedback: str


def score(q: Question, answer: Any, key: Key | None = None) -> Outcome:
    """Score ``answer`` to ``q`` against ``key`` (default: the shipped key).

    Never raises for a badly formed answer: the outcome is then ``valid=False``
    with a message saying what form of answer the question expects.
    """
    key = key or q.key
    try:
        if q.type == "numeric":
            x = _as_number(q, answer)
            eps = 1e-9 * max(1.0, abs(key.low), abs(key.high))
            if key.low - eps <= x <= key.high + eps:
                return Outcome(True, True, key.points, "Correct.")
            for low, high, feedback in key.distractors:
                if low - eps <= x <= high + eps:
                    return Outcome(True, False, 0, feedback)
            if abs(key.high) <= 1 and key.low * 100 - eps <= x <= key.high * 100 + eps and x != 0:
                msg = "That looks like a percentage: give the proportion (divide by 100)."
            elif key.low <= -x <= key.high:
                msg = "The size is right but the sign is not: check the direction of the effect."
            else:
                msg = q.feedback_wrong or "Not within the accepted range. Redo the calculation step by step."
            return Outcome(True, False, 0, msg)
        if q.type == "single":
            label = _as_label(q, answer)
            opt = q.options[q.labels.index(label)]
            ok = label in key.correct
            return Outcome(True, ok, key.points if ok else 0, opt.feedback)
        if q.type == "multiple":
            chosen = _as_labels(q, answer)
            ok = set(chosen) == set(key.correct)
            if ok:
                return Outcome(True, True, key.points, "Correct: all the true statements and nothing else.")
            lines = [f"({o.label}) {o.feedback}" for o in q.options if o.label in chosen and o.label not in key.correct]
            if set(key.correct) - set(chosen):
                lines.append("At least one true statement is missing from your answer.")
            return Outcome(True, False, 0, "\n".join(lines))
        text = _normalise_text(_as_text(q, answer))
        if text in key.accept:
            return Outcome(True, True, key.points, "Correct.")
        for forms, feedback in key.distractors:
            if text in forms:
                return Outcome(True, False, 0, feedback)
        return Outcome(True, False, 0, q.feedback_wrong or "Not the term we are looking for.")
    except _BadAnswer as bad:
        return Outcome(False, False, 0, str(bad))


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


def _question_text(q: Question) -> str:
    kind = {"single": "single choice", "multiple": "choose all that apply", "numeric": "numeric",
            "text": "short text"}[q.type]
    lines = [f"{q.id} ({kind}, {_fmt_points(q.key.points)} {_plural(q.key.points)})", q.prompt]
    lines += [f"  ({o.label}) {o.text}" for o in q.options]
    lines.append(_how_to_answer(q))
    return "\n".join(lines)


def _question_html(q: Question) -> str:
    kind = {"single": "single choice", "multiple": "choose all that apply", "numeric": "numeric",
            "text": "short text"}[q.type]
    opts = "".join(f"<li><code>{o.label}</code>&nbsp; {markdown_html(o.text)[3:-4]}</li>" for o in q.options)
    opts = f"<ul style='list-style:none;padding-left:1em'>{opts}</ul>" if opts else ""
    return (f"<div style='margin-bottom:1em'><p><strong>{q.id}</strong> <small>({kind}, "
            f"{_fmt_points(q.key.points)} {_plural(q.key.points)})</small></p>{markdown_html(q.prompt)}{opts}"
            f"<p><small>{html.escape(_how_to_answer(q))}</small></p></div>")


@dataclass(frozen=True)
class Quiz:
    """The questions of one section, displayed as text or HTML."""

    section: str
    title: str
    questions: tuple

    def __repr__(self) -> str:
        head = f"Quiz {self.section}: {self.title} ({len(self.questions)} questions)"
        body = "\n\n".join(_question_text(q) for q in self.questions)
        return f"{head}\n{'=' * len(head)}\n\n{body}"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        body = "".join(_question_html(q) for q in self.questions)
        return (f"<div class='lemma-quiz'><h4>Quiz {self.section}: {html.escape(self.title)}</h4>"
                f"<p><small>Check each answer with <code>lh.check(id, answer)</code>; "
                f"the feedback explains what a wrong answer usually means.</small></p>{body}</div>")

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
    return Quiz(s, title, questions)


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


def describe_key(q: Question, key: Key) -> str:
    """The accepted answer of ``q`` under ``key``, in words (for instructors)."""
    if q.type in ("single", "multiple"):
        return ", ".join(sorted(key.correct))
    if q.type == "numeric":
        return f"between {key.low:.6g} and {key.high:.6g}"
    return " | ".join(key.accept)


def jsonable(answer: Any) -> Any:
    """The answer as it is recorded: plain JSON values, deterministic."""
    if answer is None or isinstance(answer, (str, bool)):
        return answer
    if isinstance(answer, np.bool_):
        return bool(answer)
    if isinstance(answer, numbers.Integral):
        return int(answer)
    if isinstance(answer, numbers.Real):
        x = float(answer)
        return x if math.isfinite(x) else str(x)
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        return jsonable(answer.item())
    if isinstance(answer, (set, frozenset)):
        return [jsonable(a) for a in sorted(answer, key=str)]
    if isinstance(answer, (list, tuple, np.ndarray, pd.Series)) and len(answer) <= 50:
        return [jsonable(a) for a in (answer.tolist() if hasattr(answer, "tolist") else answer)]
    return {"unsupported": type(answer).__name__}


def answer_record(qid: str, answer: Any) -> dict:
    """The MIME bundle that :func:`check` displays so that a grader can read it back."""
    value = jsonable(answer)
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return {"text/plain": f"Answer to {qid} recorded: {shown}", ANSWER_MIME: {"id": qid, "answer": value}}


def _emit(bundle: dict) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:       # plain Python: nothing to record into
        return
    if get_ipython() is not None:
        display(bundle, raw=True)


@dataclass(frozen=True)
class CheckResult:
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


def check(question_id: str, answer: Any) -> CheckResult:
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
    In a notebook the call also displays a one-line record of the answer,
    with a machine-readable copy (MIME type ``application/vnd.lemma.answer+json``)
    that ``lemma-grade`` reads back. Only the last answer to each question
    counts.

    Examples
    --------
    >>> r = check("5.1.q1", "0.092")
    >>> r.correct, r.points
    (True, 1.0)
    >>> print(check("5.1.q1", "about nine percent").feedback)   # doctest: +ELLIPSIS
    Question 5.1.q1 asks for a number, but you gave the text 'about nine percent', which is not one...
    """
    q = question(question_id)
    if answer is Ellipsis or answer is None:
        return CheckResult(q.id, None, False, 0.0, float(q.key.points),
                           f"No answer yet: replace `{'...' if answer is Ellipsis else 'None'}` with your answer. "
                           + _how_to_answer(q) + ".", valid=False, tries=_TRIES.get(q.id, 0))
    _emit(answer_record(q.id, answer))
    out = score(q, answer)
    if not out.valid:
        return CheckResult(q.id, jsonable(answer), False, 0.0, float(q.key.points), out.feedback, False,
                           _TRIES.get(q.id, 0))
    wrong_before = _TRIES.get(q.id, 0)
    parts = [out.feedback]
    if out.correct:
        if q.key.explanation:
            parts.append("Worked answer: " + q.key.explanation.strip())
    else:
        _TRIES[q.id] = wrong = wrong_before + 1
        if wrong >= HINT_FROM_TRY and q.hint:
            parts.append("Hint: " + q.hint)
        if wrong >= WORKED_FROM_TRY and q.key.explanation:
            parts.append("Worked answer: " + q.key.explanation.strip())
    return CheckResult(q.id, jsonable(answer), out.correct, float(out.points), float(q.key.points),
                       "\n".join(p for p in parts if p), True, wrong_before + 1)
