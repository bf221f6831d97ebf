"""Exercise checks whose expected answers live in the package: ``lh.check_exercise``.

A check cell in a notebook reads ``x = lh.check_exercise("P5.2.vpc", x, m1=m1)``:
it names the exercise and passes what the check needs (the learner's answer and
the fitted models it is computed from). The definition of each exercise, what
it asks for and how its expected answer is computed, is kept here, one module
per course section (``p5_2.py`` for practical P5.2, ``c5_1.py`` for concept
section 5.1), so that a check cell never prints or shows the solution.

Two kinds of exercise, each declared as a module-level object:

* **value**: a number or an array of numbers; :func:`value_exercise` declares
  how the expected value is computed from the objects the check cell passes
  (``m0=m0, m1=m1``): with ``answer=`` one of the answer functions of
  :mod:`lemma_helpers.answers` (the ones quiz keys and variant keys use too),
  or by decorating a function of its own; with a tolerance and a hint.
* **model**: a fitted model; :func:`model_exercise` declares the model's
  specification (response, fixed and random variables, group, reference
  categories, level-1 function), compared with :func:`lemma_helpers.check_model`.

The catalogue of exercises is read from these modules once (:func:`exercise_ids`);
nothing registers itself at import.

Each check prints feedback and never raises for a wrong or unfinished answer,
so a notebook runs from top to bottom; it returns the learner's own answer,
right or wrong, and never shows the expected one until the third wrong try
(or ``lh.reveal``). Cells below that need an exercise's result start with
``if lh.ready(m1=m1):``.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._bank import section_sort_key
from .._validation import LemmaError, did_you_mean
from ..practice import Verdict, _digits, expected_formula, is_blank, model_verdict, value_verdict
from ..state import session

__all__ = ["check_exercise", "value_exercise", "model_exercise", "exercise_ids", "Exercise"]

@dataclass(frozen=True)
class Exercise:
    """One exercise with a check: what it asks for and how its expected answer is computed."""

    id: str
    kind: str                        # "value" or "model"
    what: str = ""                   # value: what the number is, in words ("the VPC")
    compute: Callable | None = None  # value: (**inputs) -> expected
    needs: tuple = ()                # names of the inputs the check cell passes
    tol: float = 0.0
    hint: str | None = None
    spec: dict = field(default_factory=dict)   # model: arguments of check_model
    ml: bool = False                 # value: the models it is given must be maximum likelihood fits (an LR test)


def value_exercise(exercise_id: str, what: str, *, tol: float, needs: tuple = (), hint: str | None = None,
                   answer: Callable | None = None, ml: bool | None = None):
    """Declare a value exercise.

    With ``answer`` (a function of :mod:`lemma_helpers.answers`, taking the
    inputs named in ``needs`` in that order) the exercise is returned at once;
    without it, decorate the function that computes the expected answer from
    the inputs named in ``needs`` (as keyword arguments). ``ml=True`` makes the
    check refuse a REML fit among the inputs (the default for a likelihood-ratio
    statistic, ``answer=answers.lr``).
    """
    from ..answers import lr

    ml = answer is lr if ml is None else ml

    def declare(fn: Callable) -> Exercise:
        return Exercise(exercise_id, "value", what=what, compute=fn, needs=tuple(needs), tol=tol, hint=hint, ml=ml)

    if answer is not None:
        return declare(lambda **inputs: answer(*(inputs[n] for n in needs)))
    return declare


def model_exercise(exercise_id: str, **spec) -> Exercise:
    """Declare a model exercise: ``spec`` holds the arguments of :func:`lemma_helpers.check_model`
    other than the model and ``data`` (``response``, ``fixed``, ``random``, ``group``, ...)."""
    return Exercise(exercise_id, "model", needs=("data",), spec=spec)


@functools.lru_cache(maxsize=None)
def _catalogue() -> dict:
    """``{exercise id: Exercise}``: every exercise declared in this package's modules."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Exercise):
                if value.id in found and found[value.id] is not value:
                    raise LemmaError(f"Exercise {value.id!r} is defined twice.")
                found[value.id] = value
    return found


def exercise_ids() -> list:
    """The ids of every exercise with a check, in course order."""
    return sorted(_catalogue(), key=lambda i: (section_sort_key(i.rsplit(".", 1)[0]), i))


def _exercise(exercise_id: str) -> Exercise:
    if not isinstance(exercise_id, str):
        raise TypeError(f"The exercise id must be a string such as 'P5.2.vpc', got {type(exercise_id).__name__}.")
    if exercise_id not in _catalogue():
        section = exercise_id.rsplit(".", 1)[0]
        same = [i for i in exercise_ids() if i.startswith(section + ".")]
        listed = f" Exercises of {section}: {', '.join(same)}." if same else ""
        raise LemmaError(f"Unknown exercise {exercise_id!r}.{did_you_mean(exercise_id, _catalogue())}{listed} "
                         "The check cell below the exercise names it; copy the id from there.")
    return _catalogue()[exercise_id]


WORKED_FROM_TRY = 3        # wrong tries of an exercise before its worked answer is shown


def _inputs_checked(ex: Exercise, inputs: dict, function: str = "check_exercise") -> None:
    """Refuse inputs that are missing or not used, showing the call of ``lh.<function>`` that works."""
    missing = [n for n in ex.needs if n not in inputs]
    extra = [n for n in inputs if n not in ex.needs]
    if missing or extra:
        answer = ["answer"] if function == "check_exercise" else []
        call = ", ".join([repr(ex.id), *answer, *(f"{n}={n}" for n in ex.needs)])
        what = "The check" if function == "check_exercise" else "The worked answer"
        raise LemmaError(f"{what} of {ex.id} needs {', '.join(ex.needs) or 'nothing but the answer'}"
                         + (f" (missing: {', '.join(missing)})" if missing else "")
                         + (f" (not used: {', '.join(extra)})" if extra else "")
                         + f". Call it as lh.{function}({call}).")


def _unfinished_inputs(ex: Exercise, inputs: dict) -> list:
    """The inputs a check needs that an earlier exercise has not made yet (still ``...`` or None)."""
    return [n for n in ex.needs if n != "data" and (inputs[n] is None or is_blank(inputs[n]))]


def _reml_message(ex: Exercise, inputs: dict) -> str | None:
    """Why the check cannot compare the models it was given: one of them is a REML fit (an LR test needs ML)."""
    reml = [n for n in ex.needs if ex.ml and getattr(inputs[n], "reml", False) is True]
    if not reml:
        return None
    names, verb = " and ".join(reml), "are REML fits" if len(reml) > 1 else "is a REML fit"
    return (f"Not yet: {names} {verb} (reml=True), and a likelihood-ratio test compares maximum likelihood fits "
            "(lh.lr_test refuses a REML fit with an ML one). Refit "
            f"{names} with reml=False (lh.fit's default), then run this check again.")


def _worked(ex: Exercise, inputs: dict) -> str:
    """The worked answer of an exercise: how its answer is found, and (for a value) what it comes to."""
    if ex.kind == "model":
        return f"Worked answer: {expected_formula(ex.spec)}"
    expected = np.asarray(ex.compute(**inputs), dtype=float)
    counts = ex.tol >= 0.5 and bool(np.all(np.isfinite(expected))) and bool(np.all(expected % 1 == 0))
    d = 0 if counts else _digits(ex.tol)            # a count shows as a whole number: 198, not 198.0
    shown = (f"{float(expected):.{d}f}" if expected.ndim == 0 else
             f"[{', '.join(f'{v:.{d}f}' for v in expected.ravel()[:6])}" + (", ...]" if expected.size > 6 else "]"))
    return f"Worked answer: {(ex.hint or ex.what).rstrip('.')}; {ex.what} comes to {shown}."


def _verdict(ex: Exercise, answer: Any, inputs: dict) -> Verdict:
    if ex.kind == "model":
        return model_verdict(answer, inputs["data"], ex.spec)
    return value_verdict(ex.what, answer, ex.compute(**inputs), tol=ex.tol, hint=ex.hint)


def _signature(answer: Any):
    """What makes two checked answers the same try: a fitted model's formula and log-likelihood, or the value."""
    loglik = getattr(answer, "loglik", None)
    if loglik is not None:
        return ("model", str(getattr(answer, "formula", "")), round(float(loglik), 6))
    try:
        return ("value", repr(np.round(np.asarray(answer, dtype=float), 12).tolist()))
    except (TypeError, ValueError):
        return ("other", repr(answer)[:200])


def check_exercise(exercise_id: str, answer: Any, **inputs: Any) -> Any:
    """Check the answer to a notebook exercise and print feedback; return the learner's answer.

    Parameters
    ----------
    exercise_id : str
        The exercise, as named in the check cell (e.g. ``'P5.2.vpc'``).
    answer
        The learner's answer: a number, an array of numbers or a fitted
        model; ``...`` while not done.
    **inputs
        What the check needs to work out the expected answer, as named in the
        check cell: fitted models (``m0=m0``) or, for a model exercise, the
        ``data`` it is to be fitted on.

    Returns
    -------
    The learner's ``answer``, right or wrong: a check never replaces it.

    Notes
    -----
    The expected answer is computed inside the package from ``inputs``; the
    check cell does not show it, and a wrong answer gets a hint, never the
    answer, until the third wrong try of the exercise in this session, which
    adds the worked answer (``lh.reveal(exercise_id, ...)`` shows it on
    request). Value answers are compared within an absolute tolerance. A
    check whose inputs come from an exercise not done yet says so.
    ``lh.solved(exercise_id)`` tells whether the last answer checked was right.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> exam = lh.load_dataset("exam")
    >>> m = lh.fit("normexam ~ 1 + (1 | school)", data=exam)
    >>> x = lh.check_exercise("X.example.vpc", 0.1659, m=m)
    Correct: the VPC = 0.1659.
    >>> x = lh.check_exercise("X.example.vpc", 0.83, m=m)
    Not yet: 0.8300 is not the VPC. Hint: divide the level-2 variance by the total variance.
    >>> x
    0.83
    """
    ex = _exercise(exercise_id)
    _inputs_checked(ex, inputs)
    state = session()
    unfinished = _unfinished_inputs(ex, inputs)
    if unfinished:
        state.solved.discard(ex.id)
        print(f"This check needs {' and '.join(unfinished)}, which an earlier exercise has not made yet: finish "
              "that exercise first, then run this check again.")
        return answer
    refused = _reml_message(ex, inputs)
    verdict = Verdict(False, False, refused) if refused else _verdict(ex, answer, inputs)
    lines = [verdict.message]
    if verdict.correct:
        state.solved.add(ex.id)
        state.last_wrong.pop(ex.id, None)
    else:
        state.solved.discard(ex.id)
        if verdict.done:
            seen = _signature(answer)
            if state.last_wrong.get(ex.id) != seen:          # the same answer checked again is not a new try
                state.last_wrong[ex.id] = seen
                state.tries[ex.id] = state.tries.get(ex.id, 0) + 1
            if state.tries[ex.id] >= WORKED_FROM_TRY:
                lines.append(_worked(ex, inputs))
    print("\n".join(lines))
    return answer


def reveal_exercise(exercise_id: str, **inputs: Any) -> str:
    """The worked answer of an exercise (for :func:`lemma_helpers.reveal`)."""
    ex = _exercise(exercise_id)
    _inputs_checked(ex, inputs, "reveal")
    unfinished = _unfinished_inputs(ex, inputs)
    if unfinished:
        return (f"The worked answer of {ex.id} is computed from {' and '.join(unfinished)}, which an earlier "
                "exercise has not made yet: finish that exercise first.")
    return _reml_message(ex, inputs) or _worked(ex, inputs)


def is_exercise(exercise_id: str) -> bool:
    return isinstance(exercise_id, str) and exercise_id in _catalogue()
