"""Feedback for the practical exercises: ``lh.check_model``, ``lh.check_value`` and ``lh.ready``.

A practical asks the learner to complete a code cell (``m1 = ...``) and then
runs a check cell. The checks here print one line of deterministic feedback
("Correct: ...", "Not yet: ..." with a hint, or "Not done yet: ..." while the
``...`` is still there) and never raise, so a notebook with unfinished
exercises still runs from top to bottom. A check never hands out the answer:
it returns the learner's own answer, right or wrong, and a wrong answer gets
a hint, never the expected value. Cells further down that need an exercise's
result start with ``if lh.ready(m1=m1):``, which says what is missing instead
of failing while the exercise is not done.
"""
from __future__ import annotations

import math
import re
from typing import Any, Iterable, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["check_model", "check_value", "is_blank", "ready"]

_NOT_DONE = "Not done yet: replace the ... with your code, run that cell, then run this check again."


class Verdict(NamedTuple):
    """What a check found: whether the answer is right, whether there is an answer at all, and the message."""

    correct: bool
    done: bool
    message: str


def is_blank(value: Any) -> bool:
    """True while an exercise answer is still the placeholder ``...`` (Ellipsis)."""
    if value is Ellipsis:
        return True
    if isinstance(value, (list, tuple)):
        return any(v is Ellipsis for v in value)
    return False


def ready(**values: Any) -> bool:
    """Whether the results a cell needs exist yet; when one does not, say which and return False.

    Cells that use an exercise's result start with ``if lh.ready(m1=m1):`` so
    that, while the exercise still holds ``...``, they say what is missing
    instead of failing (and "Run All" goes on to the end).

    Examples
    --------
    >>> ready(m1=...)
    This cell needs m1, which an exercise above has not made yet: finish that exercise, then run this cell again.
    False
    >>> ready(x=1.5)
    True
    """
    missing = [name for name, value in values.items() if value is None or is_blank(value)]
    if missing:
        names = " and ".join(missing)
        print(f"This cell needs {names}, which an exercise above has not made yet: finish that exercise, then "
              "run this cell again.")
    return not missing


def _variable_of(part: str) -> str:
    """'C(sclass)[T.managerial]' -> 'sclass'; 'sclass[T.x]' -> 'sclass'; 'cohort90' -> 'cohort90'."""
    part = re.sub(r"\[.*\]$", "", part.strip())
    m = re.fullmatch(r"C\(\s*([^,()]+?)\s*(,.*)?\)", part)
    return m.group(1) if m else part


def _variables(terms: Iterable[str]) -> set:
    """Map model terms to variables; interactions become 'a:b' with the parts sorted."""
    out = set()
    for t in terms:
        if t in ("Intercept", "1"):
            continue
        out.add(":".join(sorted(_variable_of(p) for p in t.split(":"))))
    return out


def _listed(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


def _normalise_rhs(rhs: str | None):
    """A level-1 formula as a comparable set of terms: '~ cohort90' and '~ 1 + cohort90' are equal,
    and so are '~ C(female) - 1' and '~ 0 + C(female)'."""
    if rhs is None:
        return None
    try:
        from patsy import ModelDesc
        desc = ModelDesc.from_formula(rhs)
        return frozenset(t.name() for t in desc.rhs_termlist)
    except Exception:   # not a formula patsy reads: compare the text
        return re.sub(r"\s+", "", rhs)


def check_model(model: Any, *, data: pd.DataFrame, response: str, fixed: Iterable[str] = (),
                random: Iterable[str] = (), group: str, reference: dict | None = None,
                level1: str | None = None, reml: bool = False):
    """Check a model fitted in an exercise and say what, if anything, differs.

    Parameters
    ----------
    model : MultilevelResult or ``...``
        The learner's fit (``lh.fit(...)``); ``...`` while not done.
    data : DataFrame
        The data the exercise uses; the model must use all its complete rows.
    response : str
        The response variable.
    fixed : list of str
        Explanatory variables of the fixed part (an intercept is always
        expected); categorical variables by name (``'sclass'``), interactions
        as ``'cohort90:share1'``.
    random : list of str
        Variables with a random coefficient (a random intercept is always expected).
    group : str
        The level-2 grouping column.
    reference : dict, optional
        Reference categories the exercise asks for, e.g. ``{'sclass': 'working'}``.
    level1 : str, optional
        The level-1 variance formula the exercise asks for (``'~ 1 + cohort90'``).
    reml : bool, default False
        Whether the exercise asks for REML (the practicals use ML).

    Returns
    -------
    The learner's ``model``, right or wrong (never a model fitted here: the
    exercise is the learner's to finish).

    Notes
    -----
    The comparison is structural (response, variables of each part, group,
    reference categories, level-1 function, ML/REML, rows used), so any
    equivalent formula passes: ``(1 + x | g)`` and ``(x | g)``, ``C(sclass)``
    and ``sclass``, ``a:b`` and ``b:a``.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> ssls = lh.load_dataset("ssls")
    >>> m = lh.check_model(..., data=ssls, response="score", group="schoolid")
    Not done yet: replace the ... with your code, run that cell, then run this check again.
    >>> m is Ellipsis
    True
    """
    spec = dict(response=response, fixed=list(fixed), random=list(random), group=group, reference=reference,
                level1=level1, reml=reml)
    print(model_verdict(model, data, spec).message)
    return model


def expected_formula(spec: dict) -> str:
    """The call that fits the model a model exercise asks for (for a worked answer)."""
    fx = " + ".join(spec.get("fixed") or []) or "1"
    rd = " + ".join(["1", *(spec.get("random") or [])])
    extra = "".join(f", {k}={spec[k]!r}" for k in ("level1", "reference") if spec.get(k))
    extra += ", reml=True" if spec.get("reml") else ""
    return f'lh.fit("{spec["response"]} ~ {fx} + ({rd} | {spec["group"]})", data=...{extra})'


def model_verdict(model: Any, data: pd.DataFrame, spec: dict) -> Verdict:
    """What :func:`check_model` says of ``model`` (``spec``: its keyword arguments other than ``data``)."""
    from .model import MultilevelResult

    if is_blank(model):
        return Verdict(False, False, _NOT_DONE)
    if not isinstance(model, MultilevelResult):
        return Verdict(False, True, f"Not yet: expected a model fitted with lh.fit(...), got {type(model).__name__}.")
    hints = _model_hints(model, spec)
    if not hints:
        hints = _rows_hint(model, data, spec)
    if hints:
        return Verdict(False, True, "Not yet: " + "; ".join(hints) + ".")
    rd = " + ".join(["1", *sorted(_variables(model.random_terms))])
    var1 = f", with level-1 variance {spec['level1']}" if spec.get("level1") else ""
    return Verdict(True, True, f"Correct: {spec['response']} ~ {' + '.join(sorted(_variables(model.fixed_terms))) or '1'}"
                               f" with random part ({rd} | {spec['group']}){var1}, fitted by "
                               f"{'REML' if spec.get('reml') else 'maximum likelihood'} on {model.n_obs:,} rows.")


def _model_hints(model, spec: dict) -> list:
    """What differs between ``model`` and the model ``spec`` describes, as hints."""
    hints, response, group = [], spec["response"], spec["group"]
    got_response = model.formula.split("~")[0].strip()
    if got_response != response:
        hints.append(f"the response should be {response!r}, not {got_response!r}")
    if model.group != group:
        hints.append(f"the random part should be grouped by {group!r} (you used {model.group!r})")
    want_fx, got_fx = _variables(spec.get("fixed") or []), _variables(model.fixed_terms)
    if "Intercept" not in model.fixed_terms:
        hints.append("keep the intercept in the fixed part")
    if want_fx - got_fx:
        hints.append(f"the fixed part is missing {_listed(want_fx - got_fx)}")
    if got_fx - want_fx:
        hints.append(f"the fixed part has terms this step does not ask for: {_listed(got_fx - want_fx)}")
    want_rd, got_rd = _variables(spec.get("random") or []), _variables(model.random_terms)
    if "Intercept" not in model.random_terms:
        hints.append("keep a random intercept: write (1 + ... | group)")
    if want_rd - got_rd:
        hints.append(f"the random part (inside the brackets) is missing {_listed(want_rd - got_rd)}")
    if got_rd - want_rd:
        hints.append(f"the random part has terms this step does not ask for: {_listed(got_rd - want_rd)}")
    for var, ref in (spec.get("reference") or {}).items():
        if (model.reference or {}).get(var) != ref:
            hints.append(f"make {ref!r} the reference category: add reference={{{var!r}: {ref!r}}}")
    level1, reml = spec.get("level1"), bool(spec.get("reml"))
    if _normalise_rhs(model.level1) != _normalise_rhs(level1):
        hints.append("no level-1 variance function here (leave out level1=)" if level1 is None
                     else f"give the level-1 variance function with level1={level1!r}")
    if model.reml != reml:
        hints.append("fit by maximum likelihood (leave out reml=True)" if not reml else "fit by REML (reml=True)")
    return hints


def _rows_hint(model, data: pd.DataFrame, spec: dict) -> list:
    fixed, random, level1 = spec.get("fixed") or [], spec.get("random") or [], spec.get("level1")
    used = [spec["response"], spec["group"], *(v for t in fixed + random for v in t.split(":"))]
    used += [v for v in _variables([level1.replace("~", "")]) if v in data] if level1 else []
    complete = int(data[[c for c in dict.fromkeys(used) if c in data]].notna().all(axis=1).sum())
    if model.n_obs != complete:
        return [f"the model uses {model.n_obs:,} rows but the data have {complete:,} complete rows: fit it on "
                "the data frame this practical uses"]
    return []


def _digits(tol: float) -> int:
    return max(0, min(8, -math.floor(math.log10(tol)) if tol > 0 else 4))


def check_value(name: str, value: Any, expected: Any, *, tol: float, hint: str | None = None):
    """Check a number (or an array of numbers) computed in an exercise.

    Parameters
    ----------
    name : str
        What the value is, in words ("the VPC").
    value : float, array-like or ``...``
        The learner's answer; ``...`` while not done.
    expected : float or array-like
        The right answer, computed by the check cell.
    tol : float
        Absolute tolerance.
    hint : str, optional
        Printed after a wrong answer (never the answer itself).

    Returns
    -------
    The learner's ``value``, right or wrong.

    Examples
    --------
    >>> x = check_value("the VPC", 0.1911, 0.19107, tol=5e-4)
    Correct: the VPC = 0.1911.
    >>> x = check_value("the VPC", 0.25, 0.19107, tol=5e-4, hint="divide by the total variance")
    Not yet: 0.2500 is not the VPC. Hint: divide by the total variance.
    >>> x
    0.25
    """
    print(value_verdict(name, value, expected, tol=tol, hint=hint).message)
    return value


def _hinted(text: str, hint: str | None) -> str:
    return text + (f" Hint: {hint.rstrip('.')}." if hint else "")


def _as_numbers(name: str, value: Any, exp: np.ndarray, hint: str | None):
    """``(numbers, None)`` or ``(None, message)`` for a learner's value (a wrong count of values gets the hint)."""
    if value is None:
        return None, (f"Not yet: {name} is None, not a number: the cell that should compute it gave nothing back "
                      "(a print(...) or a function without return?). Store the number itself.")
    predicted = _prediction_table(name, value, exp)
    if predicted:
        return None, predicted
    try:
        got = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        extra = (" That looks like a test result: its number is .statistic."
                 if isinstance(getattr(value, "statistic", None), (int, float)) else "")
        return None, f"Not yet: {name} should be a number, got {type(value).__name__}.{extra}"
    if got.shape != exp.shape:
        if exp.ndim == 0 and got.size == 1:
            got = got.reshape(())
        elif got.size == exp.size:
            got = got.reshape(exp.shape)
        else:
            should = "a single number" if exp.ndim == 0 else f"{exp.size:,} values"
            return None, _hinted(f"Not yet: {name} should be {should}, got {got.size:,} values.", hint)
    return got, None


def _prediction_table(name: str, value: Any, exp: np.ndarray) -> str | None:
    """The message for the whole table that ``.predict()`` returns, given where one of its columns is wanted."""
    columns = ("fixed", "group_specific")
    if not isinstance(value, pd.DataFrame) or not set(columns) <= set(value.columns):
        return None
    for column in columns:
        got = np.asarray(value[column], dtype=float)
        if got.size == exp.size and np.allclose(got.reshape(exp.shape), exp, rtol=0, atol=1e-6, equal_nan=False):
            break
    else:
        column = None
    which = (f"pass its {column!r} column, e.g. pred[{column!r}]" + (".iloc[0]" if exp.ndim == 0 else "")
             if column else "pass one column: 'fixed' for the average group (u_j = 0), 'group_specific' for the "
                            "group's own line")
    return (f"Not yet: {name} should be {'a single number' if exp.ndim == 0 else f'{exp.size:,} values'}, but this "
            f"is the whole table that .predict() returns (columns fixed and group_specific): {which}.")


def _rounded_too_far(got: np.ndarray, exp: np.ndarray, tol: float):
    """``(decimals, needed)`` when a scalar answer is the right value rounded to fewer decimals than the
    tolerance needs (0.19 for a VPC of 0.1911 checked to 0.0005, say); else None."""
    if got.ndim != 0 or not np.all(np.isfinite(exp)) or tol <= 0:
        return None
    g, e = float(got), float(exp)
    needed = next((k for k in range(1, 9) if 0.5 * 10.0 ** -k <= tol * (1 + 1e-9)), 9)
    for decimals in range(1, needed):
        rounded = round(e, decimals)
        if rounded != 0 and abs(g - rounded) <= 1e-9 * max(1.0, abs(e)):
            return decimals, needed
    return None


def _wrong_route(name: str, got: np.ndarray, exp: np.ndarray, tol: float) -> str | None:
    """A known wrong route to a scalar answer: a percentage for a proportion, or the wrong sign."""
    if got.ndim != 0 or not np.all(np.isfinite(exp)):
        return None
    g, e = float(got), float(exp)
    if abs(e) <= 1 and e != 0 and abs(g - 100 * e) <= 100 * tol:
        return f"that looks like a percentage: give {name} as a proportion (divide by 100)"
    if e != 0 and abs(g + e) <= tol:
        return "the size is right but the sign is not: check which way round the difference goes"
    if "LR" in name and e > 0 and abs(abs(g) - e / 2) <= tol:
        return ("that is the difference of the two log-likelihoods" + (", the wrong way round" if g < 0 else "")
                + "; the LR statistic is twice it, 2 x (bigger model - smaller model)")
    if "VPC" in name and 0 < e < 1 and abs(g - e / (1 - e)) <= tol / (1 - e) ** 2:
        return ("that is the between-group variance divided by the within-group variance; the VPC divides it by "
                "the total variance, the sum of the two")
    return None


def _percentages(got: np.ndarray, exp: np.ndarray, tol: float) -> bool:
    """Whether an array of proportions was given as percentages."""
    return bool(np.all(np.isfinite(exp)) and np.all(np.abs(exp) <= 1) and np.any(exp != 0)
                and np.all(np.abs(got - 100 * exp) <= 100 * tol + 1e-9))


def value_verdict(name: str, value: Any, expected: Any, *, tol: float, hint: str | None = None) -> Verdict:
    """What :func:`check_value` says of ``value``."""
    if is_blank(value):
        return Verdict(False, False, _NOT_DONE)
    exp = np.asarray(expected, dtype=float)
    got, problem = _as_numbers(name, value, exp, hint)
    if problem:
        return Verdict(False, True, problem)
    integers = tol >= 0.5 and np.all(np.isfinite(got)) and np.all(got % 1 == 0)
    d = 0 if integers else _digits(tol)
    if got.ndim == 0:
        shown = f"{float(got):.{d}f}"
    elif got.size <= 6:
        shown = "[" + ", ".join(f"{v:.{d}f}" for v in got.ravel()) + "]"
    else:
        shown = f"({got.size:,} values)"
    if not np.all(np.isfinite(got)):
        return Verdict(False, True, f"Not yet: {name} is not a finite number ({shown}).")
    if np.all(np.abs(got - exp) <= tol):
        return Verdict(True, True, f"Correct: {name} = {shown}." if got.size <= 6 else f"Correct: {name} {shown}.")
    if got.size > 1 and _percentages(got, exp, tol):
        return Verdict(False, True, f"Not yet: {name} looks like percentages: give proportions (divide by 100).")
    if got.size > 6:
        bad = int(np.sum(np.abs(got - exp) > tol))
        return Verdict(False, True, _hinted(f"Not yet: {bad:,} of the {got.size:,} values of {name} are not right.",
                                            hint))
    route = _wrong_route(name, got, exp, tol)
    if route:
        return Verdict(False, True, f"Not yet: {shown} is not {name}: {route}.")
    rounded = _rounded_too_far(got, exp, tol)
    if rounded:
        k, needed = rounded
        return Verdict(False, True, f"Not yet: {float(got):g} is {name} rounded to {k} decimal{'s' if k > 1 else ''}, "
                                    f"too coarse for this check: keep at least {needed} decimals, or better, the "
                                    "unrounded value your code computes.")
    return Verdict(False, True, _hinted(f"Not yet: {shown} is not {name}.", hint))
