"""The numbers the course asks for, computed from fitted models: one function per quantity.

These functions are the one definition of an answer. Three things use them:

* the checks of the notebooks' exercises (``lh.check_exercise``, in
  :mod:`lemma_helpers.exercises`) compute the expected value with them;
* a quiz question whose answer depends on the data says how it is computed
  (``compute:`` in the question bank) by naming one of them in
  :data:`QUANTITIES`; :func:`compute_values` evaluates such rules;
* the grader computes each student's own key on their variant of the data
  with :func:`compute_values`.

The ``compute:`` rule of a question::

    compute:
      dataset: ssls                        # a course dataset
      models:                              # names for lh.fit formulas (fitted by maximum likelihood)
        m0: "score ~ 1 + (1 | schoolid)"
        m1: "score ~ cohort90 + (1 | schoolid)"
      value: {quantity: vpc, model: m0}    # which quantity, of which model(s)
      tolerance: 0.002                     # absolute

Quantities of one model (``model: m0``): ``vpc``, ``level2_var``,
``level1_var``, ``fixed`` and ``se`` (of ``term``), ``n_groups``, ``n_obs``.
Quantities of two models (``models: [smaller, bigger]``): ``lr`` (the
likelihood-ratio statistic), ``reduction_level2`` and ``reduction_level1``
(the proportional fall in a variance from the smaller to the bigger model).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ._validation import LemmaError

__all__ = ["vpc", "level2_var", "level1_var", "fixed", "se", "n_groups", "n_obs", "lr", "reduction_level2",
           "reduction_level1", "QUANTITIES", "check_spec", "compute_values"]


# --------------------------------------------------------------------------
# One model
# --------------------------------------------------------------------------

def vpc(m) -> float:
    """The variance partition coefficient: level-2 variance / (level-2 + level-1 variance)."""
    return float(m.vpc())


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


@dataclass(frozen=True)
class Quantity:
    """A quantity a ``compute:`` rule may name: its function, how many models it takes, whether it needs a term."""

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
# compute: rules
# --------------------------------------------------------------------------

def _named_models(value: dict) -> list:
    q = QUANTITIES[value["quantity"]]
    return list(value.get("models") or []) if q.models == 2 else [value.get("model")]


def check_spec(spec: dict, where: str) -> None:
    """Checks of a ``compute:`` rule that the bank's schema cannot express."""
    models = spec.get("models") or {}
    value = spec.get("value") or {}
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


def compute_values(specs: list, code: str | None) -> list:
    """The answers of several ``compute:`` rules on the variant ``code`` (None: the full data), in order.

    Each distinct (dataset, formula) is fitted once, and only the numbers are
    kept: no fitted model outlives the call, so computing the keys of a whole
    class needs the memory of one student's models at a time.
    """
    from .datasets import load_dataset
    from .model import fit

    frames, fits = {}, {}

    def model(dataset: str, formula: str):
        if (dataset, formula) not in fits:
            if dataset not in frames:
                frames[dataset] = load_dataset(dataset, variant=code, quiet=True)
            fits[dataset, formula] = fit(formula, data=frames[dataset])
        return fits[dataset, formula]

    out = []
    for spec in specs:
        value = spec["value"]
        q = QUANTITIES[value["quantity"]]
        ms = [model(spec["dataset"], spec["models"][name]) for name in _named_models(value)]
        out.append(float(q.function(*ms, value["term"]) if q.term else q.function(*ms)))
    return out


def compute_value(spec: dict, code: str | None) -> float:
    """The answer of one ``compute:`` rule on the variant ``code`` (None: the full data)."""
    return compute_values([spec], code)[0]
