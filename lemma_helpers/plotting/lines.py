"""Model pictures against an explanatory variable: every group's line, and the variance functions.

:func:`plot_group_lines` draws the predicted line of each group (parallel for
random intercepts, fanning for random slopes); :func:`plot_variance_function`
the level-2 variance, level-1 variance or VPC as a function of x. The numbers
come from ``_stats.group_lines`` and ``_stats.variance_curves``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

from .._validation import LemmaError, unknown_name
from ._common import (MANY_GROUPS, _axes, _check_model, _check_numeric, _fitted_rows, _group_label,
                      _match_groups, _name)
from ._stats import group_lines, sample_groups, variance_curves
from .theme import DARK, GREEN, GREY, HIGHLIGHT, MAIN, ORANGE

__all__ = ["plot_group_lines", "plot_variance_function"]


def plot_group_lines(m, data: pd.DataFrame | None = None, *, x: str, at: dict | None = None,
                     points: bool = False, average: bool = True, highlight=None, sample: int | None = None,
                     seed: int = 0, group_label: str | None = None, ax: Axes | None = None,
                     **kwargs) -> Axes:
    """Predicted line of every group against ``x``, over the range of x observed in that group.

    Random-intercept models give parallel lines, random-slope models lines that fan.

    Parameters
    ----------
    m : MultilevelResult
    data : DataFrame, optional
        The DataFrame the model was fitted on (default: the one ``lh.fit``
        was given, which the model keeps; it is checked to be unchanged).
    x : str
        A numeric column of ``data`` for the horizontal axis (e.g. ``'cohort90'``).
    at : dict, optional
        Values for the model's other explanatory variables that vary within a
        group, e.g. ``{'female': 0}``; a group's line is drawn at these values.
    points : bool, default False
        Draw the observed responses behind the lines.
    average : bool, default True
        Emphasise the average line (the fixed part of the model).
    highlight : group name or list of them, optional
        Groups drawn in a contrasting colour and named at the end of their line.
    sample : int, optional
        Draw the lines of this many groups, chosen at random (with ``seed``),
        instead of all of them: with hundreds of groups the lines merge into a
        solid band. Highlighted groups are always drawn; the average line is
        that of all groups.
    seed : int, default 0
        Seed of the random choice of groups for ``sample``.
    group_label : str, optional
        What to call a group in the legend and labels, e.g. ``'school'``.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to the ``LineCollection`` of group lines (e.g. ``alpha``, ``linewidth``,
        ``color``; the default colour is the main blue).

    Returns
    -------
    matplotlib Axes
        The vertical axis reaches a little above the lines, so that the legend
        (top left) covers none of them.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import lemma_helpers as lh
    >>> ess = lh.load_dataset("ess_hedonism")
    >>> m = lh.fit("hedonism ~ age + (1 + age | country)", data=ess)
    >>> fig, ax = plt.subplots()
    >>> ax = lh.plot_group_lines(m, ess, x="age", ax=ax)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('age', 'hedonism')
    """
    _check_model(m, "plot_group_lines")
    rows = _fitted_rows(m, data)
    _check_numeric(rows, x)
    rows = rows.assign(**(at or {}))
    segs, avg = group_lines(m, rows, x)
    names = list(m.design.group_names)
    wanted = _match_groups(highlight, names, "m.group_effects().index")
    shown, extra = sample_groups(segs, sample, seed, keep=[names.index(w) for w in wanted])
    n = len(shown)
    label = _group_label(m, group_label)
    ax = _axes(ax)
    if points:
        ax.scatter(rows[x], m.design.y, s=4, color=GREY, alpha=0.2, linewidth=0, rasterized=True,
                   zorder=0, gid="points")
    kwargs.setdefault("alpha", 0.7 if n <= MANY_GROUPS else 0.3)
    kwargs.setdefault("linewidth", 1.2 if n <= MANY_GROUPS else 0.7)
    if n == len(segs):
        what = f"{label} lines"
    else:
        what = f"{sample} of {len(segs)} {label} lines, chosen at random" + (
            f", and {len(extra)} highlighted" if extra else "")
    if "color" not in kwargs and "colors" not in kwargs:   # a colour passed in kwargs wins
        kwargs["colors"] = MAIN
    ax.add_collection(LineCollection([segs[g] for g in shown], gid="group_lines", label=what, **kwargs))
    for name in wanted:
        seg = segs[names.index(name)]
        ax.plot(seg[:, 0], seg[:, 1], color=HIGHLIGHT, linewidth=2.2, zorder=4, gid="highlight")
        ax.annotate(_name(name, label), seg[-1], xytext=(4, 0), textcoords="offset points", va="center",
                    color=HIGHLIGHT, fontsize="small", fontweight="bold")
    if average:
        ax.plot(avg.index, avg.to_numpy(), color=DARK, linewidth=3, zorder=5, gid="average_line",
                label="average (fixed part)")
    ax.autoscale_view()
    # the lines fill the panel, so the legend gets a band of its own above them
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.22 * (high - low))
    ax.set_xlabel(x)
    ax.set_ylabel(m.design.response)
    ax.legend(loc="upper left", fontsize="small")
    return ax


_LEVELS = {2: ("level-2 variance", MAIN), 1: ("level-1 variance", ORANGE), "vpc": ("VPC", GREEN)}


def plot_variance_function(m, *, x: str, level: Any = 2, data: pd.DataFrame | None = None,
                           at: dict | None = None, num: int = 100, ax: Axes | None = None,
                           **kwargs) -> Axes:
    """Between-group variance, level-1 variance or VPC as a function of ``x``.

    Parameters
    ----------
    m : MultilevelResult
    x : str
        The variable on the horizontal axis, as named in the model's formula
        (e.g. ``'age'`` for a random slope on ``age``).
    level : 2, 1, 'vpc' or a list of 1 and 2
        What to draw: the level-2 (between-group) variance, the level-1
        variance, the variance partition coefficient, or both variances.
    data : DataFrame, optional
        The data the model was fitted on; needed only when ``x`` is not itself
        a term of the model (e.g. the formula uses ``I(age - 46)``), and then
        taken from the model when not given.
    at : dict, optional
        Values of other variables in the variance functions, e.g. ``{'female': 1}``.
    num : int
        Number of points on the curve.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    For a random slope on x the level-2 variance is
    ``s2_u0 + 2 s_u01 x + s2_u1 x^2`` (``m.level2_variance``), the level-1
    variance is ``m.level1_variance`` and ``VPC(x) = level2 / (level2 + level1)``.
    Curves are drawn over the observed range of x only. Dots on each curve
    mark the observed values when there are at most 20 of them; otherwise a
    shaded band marks the middle 90% of the observed values (from the 5th to
    the 95th percentile). For a binary or categorical x (separate
    variances for men and women, say) there is one point per value instead.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import lemma_helpers as lh
    >>> ess = lh.load_dataset("ess_hedonism")
    >>> m = lh.fit("hedonism ~ age + (1 + age | country)", data=ess)
    >>> fig, ax = plt.subplots()
    >>> ax = lh.plot_variance_function(m, x="age", level="vpc", ax=ax)
    >>> ax.get_ylabel()
    'VPC'
    """
    _check_model(m, "plot_variance_function")
    levels = list(level) if isinstance(level, (list, tuple)) else [level]
    for lev in levels:
        if lev not in _LEVELS:
            raise unknown_name("level", lev, list(_LEVELS))
    if "vpc" in levels and len(levels) > 1:
        raise LemmaError("The VPC is a proportion and the variances are not, so they cannot share an "
                         "axis: draw level='vpc' on its own Axes.")
    curves = variance_curves(m, x, levels, data=data, at=at, num=num)
    grid, discrete = curves.grid, curves.discrete
    ax = _axes(ax)
    style = dict(marker="o", linestyle="none", markersize=9) if discrete else {}
    for lev in levels:
        label, colour = _LEVELS[lev]
        ax.plot(grid, curves.curves[lev], color=colour, label=label, gid=f"level_{lev}", **{**style, **kwargs})
    if discrete and pd.api.types.is_numeric_dtype(curves.observed):
        ax.set_xticks(grid)
        ax.set_xmargin(0.3)
    elif curves.rug is not None:
        # a few distinct values (cohorts, say): mark them on each curve, where they are easy to see
        for k, lev in enumerate(levels):
            ax.plot(curves.rug, curves.on_rug[lev], "o", color=_LEVELS[lev][1], markersize=6.5,
                    markeredgecolor="white", markeredgewidth=1, zorder=3, gid="observed_x",
                    label=f"observed values of {x}" if k == 0 else None)
    elif curves.band is not None:
        # a rug of dozens of distinct values is a solid comb: shade where most of the data are instead
        ax.axvspan(*curves.band, color=GREY, alpha=0.15, linewidth=0, zorder=0, gid="observed_x",
                   label=f"middle 90% of observed {x}")
    ax.set_xlabel(x)
    ax.set_ylabel(_LEVELS[levels[0]][0] if len(levels) == 1 else "variance")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small")
    return ax
