"""Feedback for the practical exercises: ``lh.check_model`` and ``lh.check_value``.

A practical asks the learner to complete a code cell (``m1 = ...``) and then
runs a check cell. The checks here print one line of deterministic feedback
("Correct: ...", "Not yet: ..." with a hint, or "Not done yet: ..." while the
``...`` is still there) and never raise, so a notebook with unfinished
exercises still runs from top to bottom. Each check returns something the
rest of the notebook can use: the learner's answer when it is right, and
otherwise the expected one (the message says so), so later cells keep working.
"""
from __future__ import annotations

import math
import re
from typing import Any, Iterable

import numpy as np
import pandas as pd

__all__ = ["check_model", "check_value", "is_blank"]

_NOT_DONE = "Not done yet: replace the ... with your code, run that cell, then run this check again."


def is_blank(value: Any) -> bool:
    """True while an exercise answer is still the placeholder ``...`` (Ellipsis)."""
    if value is Ellipsis:
        return True
    if isinstance(value, (list, tuple)):
        return any(v is Ellipsis for v in value)
    return False


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


def _formula(response, fixed, random, group) -> str:
    fx = " + ".join(fixed) if fixed else "1"
    rd = " + ".join(["1", *random])
    return f"{response} ~ {fx} + ({rd} | {group})"


def check_model(model: Any, *, data: pd.DataFrame, response: str, fixed: Iterable[str] = (),
                random: Iterable[str] = (), group: str, reference: dict | None = None,
                level1: str | None = None, reml: bool = False, quiet_fit: bool = True):
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
    MultilevelResult
        The learner's model when it matches; otherwise the expected model,
        fitted here, so that the cells below still run (the message says so).

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
    (Until then the cells below use the expected model, fitted by this check.)
    """
    from .model import MultilevelResult, fit

    fixed, random = list(fixed), list(random)

    def fallback(lines):
        print("\n".join(lines))
        print("(Until then the cells below use the expected model, fitted by this check.)")
        return fit(_formula(response, fixed, random, group), data=data, reml=reml,
                   level1=level1, reference=reference)

    if is_blank(model):
        return fallback([_NOT_DONE])
    if not isinstance(model, MultilevelResult):
        return fallback([f"Not yet: expected a model fitted with lh.fit(...), got {type(model).__name__}."])
    hints = []
    got_response = model.formula.split("~")[0].strip()
    if got_response != response:
        hints.append(f"the response should be {response!r}, not {got_response!r}")
    if model.group != group:
        hints.append(f"the random part should be grouped by {group!r} (you used {model.group!r})")
    want_fx, got_fx = _variables(fixed), _variables(model.fixed_terms)
    if "Intercept" not in model.fixed_terms:
        hints.append("keep the intercept in the fixed part")
    if want_fx - got_fx:
        hints.append(f"the fixed part is missing {_listed(want_fx - got_fx)}")
    if got_fx - want_fx:
        hints.append(f"the fixed part has terms this step does not ask for: {_listed(got_fx - want_fx)}")
    want_rd, got_rd = _variables(random), _variables(model.random_terms)
    if "Intercept" not in model.random_terms:
        hints.append("keep a random intercept: write (1 + ... | group)")
    if want_rd - got_rd:
        hints.append(f"the random part (inside the brackets) is missing {_listed(want_rd - got_rd)}")
    if got_rd - want_rd:
        hints.append(f"the random part has terms this step does not ask for: {_listed(got_rd - want_rd)}")
    for var, ref in (reference or {}).items():
        if (model.reference or {}).get(var) != ref:
            hints.append(f"make {ref!r} the reference category: add reference={{{var!r}: {ref!r}}}")
    if _normalise_rhs(model.level1) != _normalise_rhs(level1):
        hints.append("no level-1 variance function here (leave out level1=)" if level1 is None
                     else f"give the level-1 variance function with level1={level1!r}")
    if model.reml != reml:
        hints.append("fit by maximum likelihood (leave out reml=True)" if not reml else "fit by REML (reml=True)")
    if not hints:
        used = [response, group, *(v for t in fixed + random for v in t.split(":"))]
        used += [v for v in _variables([level1.replace("~", "")]) if v in data] if level1 else []
        complete = int(data[[c for c in dict.fromkeys(used) if c in data]].notna().all(axis=1).sum())
        if model.n_obs != complete:
            hints.append(f"the model uses {model.n_obs:,} rows but the data have {complete:,} complete "
                         "rows: fit it on the data frame this practical uses")
    if hints:
        return fallback(["Not yet: " + "; ".join(hints) + "."])
    rd = " + ".join(["1", *sorted(got_rd)])
    var1 = f", with level-1 variance {level1}" if level1 else ""
    print(f"Correct: {response} ~ {' + '.join(sorted(got_fx)) or '1'} with random part ({rd} | {group}){var1}, "
          f"fitted by {'REML' if reml else 'maximum likelihood'} on {model.n_obs:,} rows.")
    return model


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
    The learner's value when it is right, otherwise ``expected`` (so the
    cells below can go on).

    Examples
    --------
    >>> x = check_value("the VPC", 0.1911, 0.19107, tol=5e-4)
    Correct: the VPC = 0.1911.
    >>> x = check_value("the VPC", 0.25, 0.19107, tol=5e-4, hint="divide by the total variance")
    Not yet: 0.2500 is not the VPC. Hint: divide by the total variance.
    """
    if is_blank(value):
        print(_NOT_DONE)
        return expected
    exp = np.asarray(expected, dtype=float)
    try:
        got = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        extra = (" That looks like a test result: its number is .statistic."
                 if isinstance(getattr(value, "statistic", None), (int, float)) else "")
        print(f"Not yet: {name} should be a number, got {type(value).__name__}.{extra}")
        return expected
    d = 0 if tol >= 0.5 and np.all(np.asarray(value, dtype=float) % 1 == 0) else _digits(tol)
    if got.shape != exp.shape:
        if exp.ndim == 0 and got.size == 1:
            got = got.reshape(())
        elif got.size == exp.size:
            got = got.reshape(exp.shape)
        else:
            should = "a single number" if exp.ndim == 0 else f"{exp.size:,} values"
            print(f"Not yet: {name} should be {should}, got {got.size:,} values."
                  + (f" Hint: {hint.rstrip('.')}." if hint else ""))
            return expected
    if got.ndim == 0:
        shown = f"{float(got):.{d}f}"
    elif got.size <= 6:
        shown = "[" + ", ".join(f"{v:.{d}f}" for v in got.ravel()) + "]"
    else:
        shown = f"({got.size:,} values)"
    if not np.all(np.isfinite(got)):
        print(f"Not yet: {name} is not a finite number ({shown}).")
        return expected
    if np.all(np.abs(got - exp) <= tol):
        print(f"Correct: {name} = {shown}." if got.size <= 6 else f"Correct: {name} {shown}.")
        return value
    if got.size > 6:
        bad = int(np.sum(np.abs(got - exp) > tol))
        print(f"Not yet: {bad:,} of the {got.size:,} values of {name} are not right."
              + (f" Hint: {hint.rstrip('.')}." if hint else ""))
        return expected
    print(f"Not yet: {shown} is not {name}." + (f" Hint: {hint.rstrip('.')}." if hint else ""))
    return expected
