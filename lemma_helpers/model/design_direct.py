"""The design built directly from the columns, with patsy's rules, for formulas of plain columns.

Formulas whose factors are column names and ``C(column name)``, with at most one categorical
factor in a term (``x``, ``C(k)``, ``x:C(k)``, ``x * z``; most of the course's), are built here
from the columns: the same columns, names and complete cases as patsy, in a fraction of the time
(patsy spends a millisecond or more per fit on its checks, which is most of a fit on small
data). ``benchmarks/design_benchmark.py`` measures it against patsy and formulaic. Anything else
goes to patsy (``design_patsy.py``).
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import patsy

from .design_patsy import _column_factor, _is_text, _numbers, _term_lists


class _Unsupported(Exception):
    """The direct design does not cover this formula or column: patsy builds it instead."""


def _factor_values(code: str, data: pd.DataFrame):
    """A factor of a formula as ('numerical', float values with NaN for missing, None, None) or
    ('categorical', codes with -1 for missing, levels, whether the levels are a pandas
    Categorical's own categories, in its order; otherwise they are the sorted distinct values of
    text or of C(numbers)). Raises _Unsupported for anything else."""
    found = _column_factor(code)
    if found is None:
        raise _Unsupported(code)
    name, boxed = found
    if name not in data.columns or (boxed and "C" in data.columns):
        raise _Unsupported(code)
    column = data[name]
    if not isinstance(column, pd.Series):
        raise _Unsupported(code)                 # a duplicated column name
    if isinstance(column.dtype, pd.CategoricalDtype):
        return ("categorical", *_codes(column), True)
    values = _numbers(column)
    if values is None:
        if _is_text(column):
            return ("categorical", *_codes(column), False)
        raise _Unsupported(code)                 # bool, dates, mixed objects: patsy's rules
    if boxed:                                    # C(numbers): the sorted distinct values are the levels
        codes, levels = pd.factorize(values, sort=True)
        return "categorical", codes.astype(np.int64), list(levels), False
    values = values.astype(float)
    return "numerical", values, None, None


def _ordered_terms(terms, kind):
    """patsy's order of the terms and coding of their categorical factor.

    patsy groups the terms by their set of numerical factors (the group without any first, the
    others in order of appearance) and sorts each group by the number of factors. Within a group
    a term with a categorical factor gets all of its levels (full rank) when the group has not
    yet had a term without categories (e.g. the intercept), and levels after the first (treatment
    contrasts) otherwise. Yields (term, categorical factor or None, full rank)."""
    buckets: dict = {}
    for term in terms:
        numeric = frozenset(f for f in term.factors if kind[f] == "numerical")
        if sum(kind[f] == "categorical" for f in term.factors) > 1:
            raise _Unsupported("an interaction of two categorical factors")
        buckets.setdefault(numeric, []).append(term)
    order = sorted(buckets, key=lambda b: len(b) > 0)          # stable: the empty set first
    for bucket in order:
        has_plain = False
        for term in sorted(buckets[bucket], key=lambda t: len(t.factors)):
            cat = next((f for f in term.factors if kind[f] == "categorical"), None)
            if cat is None:
                has_plain = True
                yield term, None, False
            else:
                yield term, cat, not has_plain
                has_plain = True


def _direct_design(formulas: list, data: pd.DataFrame, no_group: np.ndarray):
    """Build the designs of the formulas from the columns directly, without patsy's machinery:
    the same columns, names and complete cases as patsy, in a fraction of the time (patsy
    spends a millisecond or more per fit on its checks, which is most of a fit on small data).

    Covers formulas whose factors are column names and C(column name), with at most one
    categorical factor in a term (``x``, ``C(k)``, ``x:C(k)``, ``x * z``). Returns None for
    anything else, which patsy then builds. Returns the matrices (response first) on the rows
    used, their column names, the mask of rows used and a function that makes the prototype
    rows for _PatsyInfos."""
    try:
        term_lists = _term_lists(formulas)
        factors = {}
        for terms in term_lists:
            for term in terms:
                for factor in term.factors:
                    if factor not in factors:
                        factors[factor] = _factor_values(factor.code, data)
        kind = {f: v[0] for f, v in factors.items()}
        if len(term_lists[0]) != 1 or any(kind[f] != "numerical" for f in term_lists[0][0].factors):
            raise _Unsupported("the response")
        plans = [list(_ordered_terms(terms, kind)) for terms in term_lists]
    except (_Unsupported, patsy.PatsyError):
        return None

    missing = no_group.copy()
    for k, values, _, _ in factors.values():
        missing |= (values < 0) if k == "categorical" else np.isnan(values)
    used = ~missing
    n = int(used.sum())
    columns, names = {}, {}
    for factor, (k, values, levels, fixed) in factors.items():
        values = values[used]
        if k == "categorical":                   # a level not in the rows used is not a column
            values, levels = _only_present(values, levels)
        columns[factor], names[factor] = values, levels
    matrices, column_names = [], []
    for plan in plans:
        blocks, labels = [], []
        for term, cat, full in plan:
            numeric, pieces = None, []
            for factor in term.factors:
                if factor is not cat:
                    numeric = columns[factor] if numeric is None else numeric * columns[factor]
                    pieces.append(factor.name())
            if numeric is None:
                numeric = np.ones(n)
            if cat is None:
                blocks.append(numeric[:, None])
                labels.append(":".join(pieces) or "Intercept")
                continue
            levels = names[cat] if full else names[cat][1:]
            first = 0 if full else 1
            dummies = columns[cat][:, None] == np.arange(first, first + len(levels))
            blocks.append(dummies * numeric[:, None])
            where = term.factors.index(cat)
            for level in levels:
                piece = f"{cat.name()}[{'' if full else 'T.'}{level}]"
                labels.append(":".join(pieces[:where] + [piece] + pieces[where:]))
        matrices.append(np.column_stack(blocks) if blocks else np.zeros((n, 0)))
        column_names.append(labels)
    kinds = {factor: (k, fixed) for factor, (k, _, _, fixed) in factors.items()}
    return matrices, column_names, used, functools.partial(_prototype, kinds, names)


def _prototype(kinds: dict, levels: dict) -> pd.DataFrame:
    """A few rows on which patsy builds the same designs: each category's levels, in order."""
    size = max([len(v) for v in levels.values() if v is not None] + [1])
    frame = {}
    for factor, (kind, fixed) in kinds.items():
        name, boxed = _column_factor(factor.code)
        found = levels[factor]
        cycle = np.arange(size) % max(len(found or [0]), 1)
        if kind == "numerical":
            frame.setdefault(name, np.zeros(size))
        elif boxed and not fixed and found and not isinstance(found[0], str):
            frame[name] = np.asarray(found)[cycle]                      # C(numbers): the levels as numbers
        else:
            frame[name] = pd.Categorical.from_codes(cycle, categories=found)
    return pd.DataFrame(frame)


def _codes(column: pd.Series):
    """Integer codes (-1 where missing) and the sorted distinct values of a column (a
    Categorical's own categories, in their order)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy().astype(np.int64), list(column.cat.categories)
    codes, uniques = pd.factorize(column, sort=True)
    return codes.astype(np.int64), list(uniques)


def _only_present(codes: np.ndarray, levels: list):
    """The codes renumbered over the levels that occur in them, and those levels."""
    present = np.bincount(codes, minlength=len(levels)) > 0
    if present.all():
        return codes, levels
    return (np.cumsum(present) - 1)[codes], [lv for lv, keep in zip(levels, present) if keep]
