"""Checks and small helpers shared by the plots.

Nothing here imports matplotlib at import time (``_axes`` does when called), so
the computations in ``_stats`` can use these checks without it.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .._validation import LemmaError, check_columns, check_dataframe, did_you_mean, unknown_name

MANY_GROUPS = 40  # above this, group names are not written on the axis


def _axes(ax):
    """``ax``, checked to be a matplotlib Axes, or the current Axes when ``ax`` is None."""
    from matplotlib.axes import Axes

    if ax is None:
        import matplotlib.pyplot as plt

        return plt.gca()
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. from fig, ax = plt.subplots()), "
                        f"got {type(ax).__name__}.")
    return ax


def _check_model(m, func: str):
    if not (hasattr(m, "group_effects") and hasattr(m, "design")):
        hint = (" To plot group means of the raw data use lh.plot_group_means(data, y=..., group=...)."
                if isinstance(m, pd.DataFrame) else "")
        raise TypeError(f"{func} needs a model fitted with lh.fit(...), got {type(m).__name__}.{hint}")


def _check_term(m, term):
    if term is None:
        return m.random_terms[0]
    if term not in m.random_terms:
        raise unknown_name("random term", term, m.random_terms)
    return term


def _check_numeric(data: pd.DataFrame, col: str) -> None:
    check_columns(data, [col])
    if not pd.api.types.is_numeric_dtype(data[col]):
        raise LemmaError(f"Column {col!r} is {data[col].dtype}, not numbers, so it cannot go on a "
                         "numeric axis. Choose a numeric column, or convert it first.")


def _match_groups(wanted: Iterable | None, names: Sequence, hint: str) -> list:
    """Map the groups a learner names (as given or as text) onto the group names."""
    if wanted is None:
        return []
    if isinstance(wanted, (str, int, np.integer)):
        wanted = [wanted]
    as_text = {str(n): n for n in names}
    out = []
    for w in wanted:
        if w in as_text.values():
            out.append(w)
        elif str(w) in as_text:
            out.append(as_text[str(w)])
        elif len(names) <= 30:
            raise unknown_name("group", w, list(names))
        else:
            raise LemmaError(f"Unknown group {w!r}.{did_you_mean(w, as_text)} There are "
                             f"{len(names)} groups; {hint} lists their names.")
    return out


def _group_label(m, group_label) -> str:
    """The name shown for the groups: ``group_label`` when given ("school"), else the column name."""
    if group_label is None:
        return m.group
    if not isinstance(group_label, str) or not group_label.strip():
        raise TypeError(f"group_label must be a word such as 'school', got {group_label!r}.")
    return group_label.strip()


def _effect_label(m, term: str, group_label: str | None = None) -> str:
    """'country effect $u_j$', 'country intercept effect $u_{0j}$', 'age slope effect $u_{1j}$'."""
    one = len(m.random_terms) == 1
    symbol = "u_j" if one else f"u_{{{m.random_terms.index(term)}j}}"
    if term == "Intercept":
        return f"{_group_label(m, group_label)} {'' if one else 'intercept '}effect ${symbol}$"
    return f"{term} slope effect ${symbol}$"


def _name(name, group: str) -> str:
    """'Poland' stays 'Poland'; a numbered group 17 becomes 'schoolid 17'."""
    return name if isinstance(name, str) else f"{group} {name}"


def _fitted_rows(m, data: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of ``data`` used in the fit, checked to be the data the model saw.

    ``data=None`` takes the DataFrame the model was fitted on (``lh.fit`` keeps a reference to it).
    """
    kept = data is None
    if kept:
        data = getattr(m, "_data", None)
        if data is None:
            raise LemmaError("This model does not hold the data it was fitted on: pass data=the DataFrame "
                             "you gave to lh.fit.")
    check_dataframe(data)
    check_columns(data, [m.group])
    idx = m.design.index
    ok = idx.isin(data.index).all()
    if ok and m.design.response in data:
        ok = np.allclose(data.loc[idx, m.design.response].to_numpy(dtype=float), m.design.y)
    if not ok:
        raise LemmaError(
            "The DataFrame this model was fitted on has changed since the fit (rows removed or response "
            "values edited): fit the model again, or pass the original data with data=..." if kept else
            "data is not the DataFrame this model was fitted on (its rows or response values differ). "
            "Pass the same DataFrame you gave to lh.fit, or leave data out to use it.")
    return data.loc[idx]
