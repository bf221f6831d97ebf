"""Residual plots: intercept against slope effects, and normal Q-Q plots at level 1 or 2.

The standardised residuals and normal quantiles come from ``_stats.qq_points``.
"""
from __future__ import annotations

from typing import Sequence

from matplotlib.axes import Axes

from .._validation import LemmaError
from ._common import (MANY_GROUPS, _axes, _check_model, _check_term, _effect_label, _group_label,
                      _match_groups, _name)
from ._stats import qq_points
from .theme import DARK, GREY, HIGHLIGHT, MAIN

__all__ = ["plot_residual_pairs", "plot_residual_qq"]


def plot_residual_pairs(m, *, terms: Sequence[str] | None = None, highlight=None,
                        group_label: str | None = None, ax: Axes | None = None, **kwargs) -> Axes:
    """Intercept effect against slope effect: one point per group (random slope models).

    A positive correlation means groups with higher intercepts also have
    steeper slopes, so the group lines fan out as x increases.

    Parameters
    ----------
    m : MultilevelResult
        A model with at least two random terms.
    terms : pair of str, optional
        The random terms for the x and y axes (default: the first two).
    highlight : group name or list of them, optional
    group_label : str, optional
        What to call a group on the axes, e.g. ``'school'``.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.scatter``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import lemma_helpers as lh
    >>> ess = lh.load_dataset("ess_hedonism")
    >>> m = lh.fit("hedonism ~ age + (1 + age | country)", data=ess)
    >>> fig, ax = plt.subplots()
    >>> ax = lh.plot_residual_pairs(m, ax=ax)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('country intercept effect $u_{0j}$', 'age slope effect $u_{1j}$')
    """
    _check_model(m, "plot_residual_pairs")
    if len(m.random_terms) < 2:
        raise LemmaError("This model has one random term (a random intercept), so there is no slope "
                         "effect to plot against it. Fit a random slope model, e.g. "
                         "'y ~ x + (1 + x | group)'.")
    terms = list(terms) if terms is not None else m.random_terms[:2]
    if len(terms) != 2:
        raise LemmaError(f"terms must name two random terms, got {len(terms)}.")
    terms = [_check_term(m, t) for t in terms]
    ge = m.group_effects()
    ax = _axes(ax)
    ax.axhline(0, color=GREY, linewidth=1, zorder=1)
    ax.axvline(0, color=GREY, linewidth=1, zorder=1)
    kwargs.setdefault("s", 30 if len(ge) <= MANY_GROUPS else 10)
    kwargs.setdefault("alpha", 0.9 if len(ge) <= MANY_GROUPS else 0.5)
    ax.scatter(ge[terms[0]], ge[terms[1]], color=MAIN, zorder=3, gid="effects", **kwargs)
    for name in _match_groups(highlight, list(ge.index), "m.group_effects().index"):
        xy = (ge.loc[name, terms[0]], ge.loc[name, terms[1]])
        ax.scatter(*xy, color=HIGHLIGHT, s=kwargs["s"] * 1.5, zorder=4, gid="highlight")
        ax.annotate(_name(name, _group_label(m, group_label)), xy, xytext=(5, 5), textcoords="offset points",
                    color=HIGHLIGHT, fontsize="small", fontweight="bold")
    ax.set_xlabel(_effect_label(m, terms[0], group_label))
    ax.set_ylabel(_effect_label(m, terms[1], group_label))
    return ax


def plot_residual_qq(m, *, level: int = 1, term: str | None = None, ax: Axes | None = None,
                     **kwargs) -> Axes:
    """Normal Q-Q plot of standardised residuals at level 1 or level 2.

    Points close to the line y = x support the normality assumption at that level.

    Parameters
    ----------
    m : MultilevelResult
    level : {1, 2}
        Level-1 residuals (one per row) or level-2 group effects (one per group).
    term : str, optional
        At level 2, the random term (default: the first).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.scatter``.

    Notes
    -----
    Level 1: ``e_ij = y_ij - (x_ij' beta + z_ij' u_j)`` divided by the square
    root of the level-1 variance at that row. Level 2: ``u_j`` divided by its
    diagnostic standard error ``sqrt(s2_u - se_j^2)``, where ``se_j`` is the
    comparative standard error (MLwiN's standardised residual). The
    theoretical quantiles are ``Phi^-1((i - 0.5) / n)``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import lemma_helpers as lh
    >>> ess = lh.load_dataset("ess_hedonism")
    >>> m = lh.fit("hedonism ~ 1 + (1 | country)", data=ess)
    >>> fig, ax = plt.subplots()
    >>> ax = lh.plot_residual_qq(m, level=2, ax=ax)
    >>> ax.get_ylabel()
    'standardised level-2 residual (Intercept)'
    """
    _check_model(m, "plot_residual_qq")
    qq = qq_points(m, level, term)
    n = len(qq.sample)
    ax = _axes(ax)
    kwargs.setdefault("s", 30 if n <= MANY_GROUPS else 12 if n <= 1000 else 4)
    ax.scatter(qq.theory, qq.sample, color=MAIN, zorder=3, gid="residuals",
               rasterized=n > 1000, **kwargs)
    ax.plot(qq.ends, qq.ends, color=DARK, linewidth=1, zorder=2, gid="reference")
    ax.set_xlabel("normal quantile")
    ax.set_ylabel(qq.label)
    return ax
