"""Scoring an answer to a quiz question, shared by ``lh.check`` and ``lemma-grade``.

:func:`score` never raises for a badly formed answer (text for a numeric
question, an unknown option label, a number too large for a float): the
outcome is then ``valid=False`` with a message saying what form of answer the
question expects. :func:`answer_record` is what ``lh.check`` displays so that
the grader can read the answer back.
"""
from __future__ import annotations

import json
import math
import numbers
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._bank import Key, Question, _normalise_text

ANSWER_MIME = "application/vnd.lemma.answer+json"
MAX_TEXT = 10_000      # longest text answer that is recorded as it is


class _BadAnswer(Exception):
    """An answer of the wrong type or form; the message is for the learner."""



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
    elif isinstance(answer, (numbers.Real, np.ndarray)) and not (
            isinstance(answer, np.ndarray) and (answer.ndim != 0 or not np.issubdtype(answer.dtype, np.number))):
        try:
            value = float(answer)
        except (OverflowError, ValueError, TypeError):
            raise _BadAnswer(f"Question {q.id} asks for a number of ordinary size, but you gave a number too "
                             "large to compute with. Check the calculation.") from None
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


NEAR = 6          # a wrong answer on the data within NEAR half-widths of the key is a near miss
NEAR_MISS = ("Close, but outside the accepted range. If you fitted with statsmodels: its MixedLM with the default "
             "optimiser can stop short of the maximum of the likelihood (notebook 02's appendix shows it); refit "
             "with reml=False and method=['powell'], which reaches the maximum there, or fit with lh.fit. Otherwise "
             "redo the calculation from the unrounded estimates.")
ROUNDED = ("Close: that looks like the answer from rounded numbers. Carry more decimals through the calculation "
           "(the unrounded estimates, not the printed ones): the check wants {n}.")


def wanted_decimals(q: Question, key: Key) -> int:
    """The decimal places an answer needs: as many as the prompt asks for ("Give 3 decimals"), or else the fewest
    whose rounding always stays within the accepted range."""
    asked = re.search(r"\b(\d+) decimals?\b", q.prompt)
    if asked:
        return int(asked.group(1))
    half = (key.high - key.low) / 2
    return next((d for d in range(0, 12) if 10.0 ** -d < 2 * half * (1 - 1e-6)), 12)


def _decimals(x: float) -> int:
    """How many decimals ``x`` is written with (negative for a round number such as 170: -1)."""
    return next((d for d in range(-6, 16) if abs(x - round(x, d)) <= 1e-9 * max(1.0, abs(x))), 16)


def _rounded(q: Question, key: Key, x: float) -> str | None:
    """The feedback for an answer that is the key rounded, or computed from rounded estimates: it has fewer
    decimals than the check wants and lies within rounding (or, on the data, near-miss) distance of the key."""
    n, d = wanted_decimals(q, key), _decimals(x)
    half, mid = (key.high - key.low) / 2, (key.low + key.high) / 2
    if x == 0 or d >= n:
        return None
    if abs(x - mid) <= 0.5 * 10.0 ** -d + half or (q.compute and abs(x - mid) <= NEAR * half):
        return ROUNDED.format(n="the nearest whole number" if n == 0 else f"{n} decimal place{'s' if n > 1 else ''}")
    return None


def score(q: Question, answer: Any, key: Key | None = None) -> Outcome:
    """Score ``answer`` to ``q`` against ``key`` (default: the shipped key).

    Never raises for a badly formed answer: the outcome is then ``valid=False``
    with a message saying what form of answer the question expects.
    """
    key = key or q.key
    try:
        return _score(q, answer, key)
    except _BadAnswer as bad:
        return Outcome(False, False, 0, str(bad))
    except Exception as err:   # noqa: BLE001 - an answer must never break a check or a grading run
        return Outcome(False, False, 0, f"This answer could not be checked ({type(err).__name__}). "
                                        "Give a plain number, option label or word.")


def _score(q: Question, answer: Any, key: Key) -> Outcome:
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
        elif _rounded(q, key, x):
            msg = _rounded(q, key, x)
        elif q.compute and abs(x - (key.low + key.high) / 2) <= NEAR * (key.high - key.low) / 2:
            msg = NEAR_MISS
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


def jsonable(answer: Any) -> Any:
    """The answer as it is recorded: plain JSON values, deterministic."""
    if isinstance(answer, str) and len(answer) > MAX_TEXT:
        return {"unsupported": f"text of more than {MAX_TEXT:,} characters"}
    if answer is None or isinstance(answer, (str, bool)):
        return answer
    if isinstance(answer, np.bool_):
        return bool(answer)
    if isinstance(answer, numbers.Integral):
        value = int(answer)
        if abs(value) <= 2 ** 53:
            return value
        try:                      # a huge integer: record it as a float when it fits in one
            return float(value)
        except OverflowError:
            return {"unsupported": "number too large to compute with"}
    if isinstance(answer, numbers.Real):
        x = float(answer)
        return x if math.isfinite(x) else str(x)
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        return jsonable(answer.item())
    if isinstance(answer, (set, frozenset)):
        return _items(sorted(answer, key=str))
    if isinstance(answer, (list, tuple, np.ndarray, pd.Series)) and len(answer) <= 50:
        return _items(answer.tolist() if hasattr(answer, "tolist") else answer)
    return {"unsupported": type(answer).__name__}


def _items(items) -> Any:
    """A list answer as recorded: its items plain values (a list of lists, or a long text in it, is not an
    answer to any question)."""
    if any(isinstance(a, (list, tuple, set, frozenset, dict, np.ndarray, pd.Series)) for a in items):
        return {"unsupported": "a list of lists"}
    out = [jsonable(a) for a in items]
    if any(isinstance(a, dict) or (isinstance(a, str) and len(a) > 200) for a in out):
        return {"unsupported": "a list of long or unusual items"}
    return out


def answer_record(qid: str, answer: Any) -> dict:
    """The answer record that :func:`check` displays (with its verdict, in one output) for a grader to read back."""
    value = jsonable(answer)
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return {"text/plain": f"Answer to {qid} recorded: {shown}", ANSWER_MIME: {"id": qid, "answer": value}}


