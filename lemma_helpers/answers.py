"""The numbers the course asks for, computed from fitted models: one function per quantity.

These functions are the one definition of an answer. Three things use them:

* the checks of the notebooks' exercises (``lh.check_exercise``, in
  :mod:`lemma_helpers.exercises`) compute the expected value with them;
* a quiz question whose answer depends on the data says how it is computed
  (``compute:`` in the question bank), as an expression of these functions;
  :func:`compute_values` evaluates it, on the full data or on a student's
  variant of it (the grader's per-student keys);
* a question on given numbers (``params:`` and ``formula:``) computes its key
  from its numbers with the same arithmetic (:mod:`lemma_helpers.variant_keys`).

The ``compute:`` rule of a question::

    compute:
      dataset: ess_hedonism                # a course dataset
      prepare: {age46: "age - 46"}         # optional: new columns, from the data's own
      dropna: [age]                        # optional: only the rows with these known
      models:                              # names for lh.fit formulas (fitted by maximum likelihood)
        m: "hedonism ~ age46 + (1 | country)"
      value: "30 * fixed(m, 'age46')"      # an expression of the functions below
      tolerance: 0.002                     # absolute
      distractors:                         # optional: wrong routes, with feedback
        - {value: "fixed(m, 'age46')", feedback: "That is the effect of one year, not thirty."}

The expression may use numbers, ``+ - * / **``, ``sqrt``, ``abs``, ``log``,
``exp``, the models by name and the functions of :data:`FUNCTIONS`. (The older
mapping form ``value: {quantity: vpc, model: m0}`` of :data:`QUANTITIES` is
still read.)
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Callable

from ._validation import LemmaError

__all__ = ["vpc", "level2_var", "level1_var", "fixed", "se", "n_groups", "n_obs", "lr", "reduction_level2",
           "reduction_level1", "level2_variance", "level1_variance", "level2_cov", "level1_cov", "FUNCTIONS",
           "QUANTITIES", "evaluate", "check_spec", "compute_values", "compute_value"]


# --------------------------------------------------------------------------
# One model
# --------------------------------------------------------------------------

def vpc(m, **at) -> float:
    """The variance partition coefficient: level-2 variance / (level-2 + level-1 variance), at ``at``
    (values of the variables the variances depend on) where they depend on some."""
    if not at:
        return float(m.vpc())
    return float(m.vpc(**at)["vpc"].iloc[0])


def level2_var(m) -> float:
    """The level-2 (intercept) variance."""
    return float(m.level2_cov.iloc[0, 0])


def level1_var(m) -> float:
    """The level-1 variance."""
    return float(m.level1_var)


def _term(m, term: str) -> str:
    if term not in m.fixed.index:
        raise LemmaError(f"The term {term!r} is not in the model; its terms are {', '.join(m.fixed.index)}.")
    return term


def fixed(m, term: str) -> float:
    """The estimated coefficient of a fixed-part ``term``."""
    return float(m.fixed.loc[_term(m, term), "estimate"])


def se(m, term: str) -> float:
    """The standard error of a fixed-part ``term``."""
    return float(m.fixed.loc[_term(m, term), "std_err"])


def n_groups(m) -> float:
    """The number of level-2 units used."""
    return float(m.n_groups)


def n_obs(m) -> float:
    """The number of level-1 units used."""
    return float(m.n_obs)


def level2_variance(m, **at) -> float:
    """The between-group variance at the values ``at`` of the random part's variables."""
    return float(m.level2_variance(**at)[0])


def level1_variance(m, **at) -> float:
    """The level-1 variance at the values ``at`` of the level-1 function's variables."""
    return float(m.level1_variance(**at)[0])


def level2_cov(m, row: str, column: str) -> float:
    """One element of the level-2 covariance matrix (rows and columns named by the random terms)."""
    return float(m.level2_cov.loc[row, column])


def level1_cov(m, row: str, column: str) -> float:
    """One element of the level-1 covariance matrix of a level-1 variance function."""
    return float(m.level1_cov.loc[row, column])


# --------------------------------------------------------------------------
# Two models: a smaller one and a bigger one
# --------------------------------------------------------------------------

def lr(small, big) -> float:
    """The likelihood-ratio statistic: twice the bigger model's log-likelihood minus the smaller one's."""
    return float(2 * (big.loglik - small.loglik))


def reduction_level2(small, big) -> float:
    """The proportional fall in the level-2 variance from ``small`` to ``big``."""
    return float(1 - level2_var(big) / level2_var(small))


def reduction_level1(small, big) -> float:
    """The proportional fall in the level-1 variance from ``small`` to ``big``."""
    return float(1 - level1_var(big) / level1_var(small))


FUNCTIONS = {f.__name__: f for f in (vpc, level2_var, level1_var, fixed, se, n_groups, n_obs, level2_variance,
                                     level1_variance, level2_cov, level1_cov, lr, reduction_level2,
                                     reduction_level1)}
MATHS = {"sqrt": math.sqrt, "abs": abs, "log": math.log, "exp": math.exp, "min": min, "max": max}


@dataclass(frozen=True)
class Quantity:
    """A quantity the older mapping form of a ``compute:`` rule may name."""

    function: Callable
    models: int = 1
    term: bool = False


QUANTITIES = {
    "vpc": Quantity(vpc), "level2_var": Quantity(level2_var), "level1_var": Quantity(level1_var),
    "fixed": Quantity(fixed, term=True), "se": Quantity(se, term=True),
    "n_groups": Quantity(n_groups), "n_obs": Quantity(n_obs),
    "lr": Quantity(lr, models=2), "reduction_level2": Quantity(reduction_level2, models=2),
    "reduction_level1": Quantity(reduction_level1, models=2),
}


# --------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------

_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Call, ast.keyword, ast.Load,
          ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.List, ast.Tuple)


def _parse(expr: str, names: set) -> ast.Expression:
    """The expression's tree, refused if it holds anything but arithmetic, known names and known calls."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as err:
        raise LemmaError(f"{expr!r} is not an expression ({err.msg}).") from None
    known = set(FUNCTIONS) | set(MATHS) | names
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise LemmaError(f"{expr!r} uses {type(node).__name__}: an expression may hold numbers, "
                             "+ - * / **, and calls of " + ", ".join(sorted(set(FUNCTIONS) | set(MATHS))) + ".")
        if isinstance(node, ast.Name) and node.id not in known:
            raise LemmaError(f"{expr!r} names {node.id!r}, which is neither a model here ({', '.join(sorted(names))}) "
                             f"nor a function ({', '.join(sorted(set(FUNCTIONS) | set(MATHS)))}).")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in known):
            raise LemmaError(f"{expr!r} calls something that is not one of the answer functions.")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str)):
            raise LemmaError(f"{expr!r} holds the constant {node.value!r}.")
    return tree


def names_in(expr: str) -> set:
    """The names an expression uses (models, params)."""
    tree = ast.parse(expr, mode="eval")
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(FUNCTIONS) - set(MATHS)


def evaluate(expr: str, names: dict) -> float:
    """The value of ``expr`` (see the module docstring) with ``names`` (models or numbers) bound.

    Examples
    --------
    >>> evaluate("s2u / (s2u + s2e)", {"s2u": 0.25, "s2e": 0.75})
    0.25
    """
    tree = _parse(expr, set(names))
    return float(eval(compile(tree, "<answer>", "eval"), {"__builtins__": {}}, {**FUNCTIONS, **MATHS, **names}))


# --------------------------------------------------------------------------
# compute: rules
# --------------------------------------------------------------------------

def _named_models(value: dict) -> list:
    q = QUANTITIES[value["quantity"]]
    return list(value.get("models") or []) if q.models == 2 else [value.get("model")]


def _check_mapping(spec: dict, where: str) -> None:
    models, value = spec.get("models") or {}, spec.get("value") or {}
    name = value.get("quantity")
    if name not in QUANTITIES:
        raise LemmaError(f"{where}: compute.value.quantity must be one of {', '.join(QUANTITIES)}, not {name!r}.")
    named = _named_models(value)
    if QUANTITIES[name].models == 2 and len(named) != 2:
        raise LemmaError(f"{where}: compute.value for {name} needs models: [smaller, bigger].")
    missing = [m for m in named if m not in models]
    if missing:
        raise LemmaError(f"{where}: compute.value names model(s) {', '.join(map(repr, missing))} that "
                         f"compute.models does not define (it defines {', '.join(models) or 'none'}).")
    if QUANTITIES[name].term and not isinstance(value.get("term"), str):
        raise LemmaError(f"{where}: compute.value for {name} needs term: (a fixed-part term such as cohort90).")


def check_spec(spec: dict, where: str) -> None:
    """Checks of a ``compute:`` rule that the bank's schema cannot express."""
    if isinstance(spec.get("value"), dict):
        return _check_mapping(spec, where)
    models = set(spec.get("models") or {})
    for expr in [spec["value"], *(d["value"] for d in spec.get("distractors") or [])]:
        try:
            _parse(expr, models)
        except LemmaError as err:
            raise LemmaError(f"{where}: compute: {err}") from None


def expression(spec: dict) -> str:
    """The rule's value as an expression (the mapping form rewritten)."""
    value = spec["value"]
    if isinstance(value, str):
        return value
    q = value["quantity"]
    args = [*_named_models(value)] + ([repr(value["term"])] if QUANTITIES[q].term else [])
    return f"{q}({', '.join(args)})"


def _frame(spec: dict, code: str | None):
    from .datasets import load_dataset

    data = load_dataset(spec["dataset"], variant=code, quiet=True)
    if spec.get("dropna"):
        data = data.dropna(subset=list(spec["dropna"]))
    for column, expr in (spec.get("prepare") or {}).items():
        data[column] = data.eval(expr)
    return data


def compute_values(specs: list, code: str | None, *, reml: bool = False) -> list:
    """The answers of several ``compute:`` rules on the variant ``code`` (None: the full data), in order: for
    each rule, ``(value, [distractor values])``.

    Each distinct (data, formula) is fitted once, and only the numbers are
    kept: no fitted model outlives the call, so computing the keys of a whole
    class needs the memory of one student's models at a time. ``reml=True``
    fits every model by REML instead (a wrong route the feedback can name).
    """
    from .model import fit

    frames, fits, out = {}, {}, []
    for spec in specs:
        where = (spec["dataset"], repr(spec.get("prepare")), repr(spec.get("dropna")))
        if where not in frames:
            frames[where] = _frame(spec, code)
        models = {}
        for name, formula in spec["models"].items():
            if (where, formula) not in fits:
                fits[where, formula] = fit(formula, data=frames[where], reml=reml)
            models[name] = fits[where, formula]
        value = evaluate(expression(spec), models)
        out.append((value, [evaluate(d["value"], models) for d in spec.get("distractors") or []]))
    return out


def compute_value(spec: dict, code: str | None) -> float:
    """The answer of one ``compute:`` rule on the variant ``code`` (None: the full data)."""
    return compute_values([spec], code)[0][0]
