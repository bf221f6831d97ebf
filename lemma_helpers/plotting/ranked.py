"""Ranked intervals: the caterpillar plot of group effects and the group means of raw data.

Both rank the groups by their estimate and draw each with its interval
against a reference line (0, or the overall mean); ``_draw_ranked`` draws
either from a table of centre, lower and upper values (``_stats``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from .._validation import LemmaError, check_columns, check_dataframe, unknown_name
from ._common import (MANY_GROUPS, _axes, _check_model, _check_numeric, _check_term, _effect_label,
                      _group_label, _match_groups, _name)
from ._stats import caterpillar_table, group_means_table
from .theme import DARK, GREY, HIGHLIGHT, MAIN

__all__ = ["plot_caterpillar", "plot_group_means"]


def _draw_ranked(ax, table, *, value_label, group_label, ref, ref_label, orient, labels, highlight,
                 mark_differences, limits=None, **kwargs):
    """Draw ``table`` (index: group names; columns centre, lower, upper), ranked by centre."""
    if orient not in ("auto", "h", "v"):
        raise unknown_name("orient", orient, ["auto", "h", "v"])
    if not (labels in ("auto", True, False) or (isinstance(labels, (int, np.integer)) and labels > 0)):
        raise LemmaError(f"labels must be 'auto', True, False or a whole number k (name every k-th "
                         f"group); got {labels!r}.")
    table = table.sort_values("centre", kind="stable")
    names, n = list(table.index), len(table)
    pos = np.arange(1, n + 1)
    few = n <= MANY_GROUPS
    h = orient == "h" or (orient == "auto" and few)
    labels = few if labels == "auto" else labels
    lo, hi, c = (table[k].to_numpy() for k in ("lower", "upper", "centre"))
    hl = set(highlight)
    is_hl = np.array([g in hl for g in names], dtype=bool)

    colours = np.full(n, MAIN, dtype=object)
    if mark_differences:
        colours[(lo <= ref) & (hi >= ref)] = GREY
    colours[is_hl] = HIGHLIGHT
    dots = colours.copy()
    if not few:  # hundreds of groups: dark dots stand out from the band of intervals
        dots[~is_hl] = DARK
    lines, refline = (ax.hlines, ax.axvline) if h else (ax.vlines, ax.axhline)
    size, width = (32, 1.6) if few else (14, 1.0) if n <= 150 else (5, 0.6)
    lines(pos, lo, hi, colors=list(colours), linewidth=width, gid="intervals")
    kwargs.setdefault("s", size)
    ax.scatter(*((c, pos) if h else (pos, c)), c=list(dots), zorder=3, gid="estimates", **kwargs)
    if is_hl.any() and not few:  # on top of the neighbours that would hide them
        lines(pos[is_hl], lo[is_hl], hi[is_hl], colors=HIGHLIGHT, linewidth=2, zorder=4, gid="highlight")
    ref_line = refline(ref, color=DARK, linewidth=1, zorder=1, gid="reference", label=ref_label)

    value_axis, group_axis = (ax.xaxis, ax.yaxis) if h else (ax.yaxis, ax.xaxis)
    value_axis.set_label_text(value_label)
    pad = 0 if few else 0.01 * n
    (ax.set_ylim if h else ax.set_xlim)(0.5 - pad, n + 0.5 + pad)
    if limits is not None:
        (ax.set_xlim if h else ax.set_ylim)(*limits)
    step = 1 if labels is True else 0 if labels is False else int(labels)
    named = set(names[::step]) if step else set()
    if step:
        group_axis.set_label_text(group_label)
        ticks = pos[::step]
        (ax.set_yticks if h else ax.set_xticks)(ticks, [str(names[t - 1]) for t in ticks],
                                                 rotation=0 if h else 90)
        for tick, name in zip(group_axis.get_ticklabels(), names[::step]):
            if name in hl:
                tick.set_color(HIGHLIGHT)
    else:
        group_axis.set_label_text(f"{group_label} (rank)")
    for k in np.flatnonzero(is_hl):
        if names[k] not in named or not few:
            _annotate_rank(ax, k + 1, hi[k], _name(names[k], group_label), h)

    handles = [ref_line] if ref_label else []
    if mark_differences:
        handles += [Line2D([], [], color=MAIN, marker="o", label=f"interval excludes {ref:g}"),
                    Line2D([], [], color=GREY, marker="o", label=f"interval includes {ref:g}")]
    if handles:  # the upper left and lower right corners of a ranked plot are empty
        ax.legend(handles=handles, loc="upper left" if h else "lower right", fontsize="small")
    ax.grid(False, axis="y" if h else "x")
    return ax


def _annotate_rank(ax, pos, end, text, horizontal):
    """Name a group just beyond the upper end of its interval."""
    xy = (end, pos) if horizontal else (pos, end)
    ax.annotate(text, xy, xytext=(4, 0) if horizontal else (0, 4), textcoords="offset points",
                ha="left" if horizontal else "center", va="center" if horizontal else "bottom",
                color=HIGHLIGHT, fontsize="small", fontweight="bold",
                path_effects=[patheffects.withStroke(linewidth=3, foreground="white")])


def plot_caterpillar(m, *, term: str | None = None, alpha: float = 0.05, highlight=None,
                     labels: Any = "auto", orient: str = "auto", mark_differences: bool = False,
                     group_label: str | None = None, ax: Axes | None = None, **kwargs) -> Axes:
    """Caterpillar plot: estimated group effects, ranked, with comparative intervals.

    Parameters
    ----------
    m : MultilevelResult
        A model fitted with ``lh.fit``.
    term : str, optional
        The random term whose effects to plot (default: the first, usually the intercept).
    alpha : float, default 0.05
        1 - confidence level of the intervals.
    highlight : group name or list of them, optional
        Groups drawn in a contrasting colour and named on the plot.
    labels : 'auto', bool or int
        Write the group names on the axis: all of them (True), none (False;
        the axis shows the rank), every k-th (an int k), or all when there are
        at most 40 groups ('auto').
    orient : {'auto', 'h', 'v'}
        'h' puts the groups on the y axis (readable names), 'v' on the x axis
        (the classic caterpillar for hundreds of groups). 'auto' chooses 'h'
        for at most 40 groups.
    mark_differences : bool, default False
        Grey out the groups whose interval includes 0, i.e. that do not differ
        significantly from the average group.
    group_label : str, optional
        What to call a group on the axes, e.g. ``'school'`` (default: the
        name of the grouping column, e.g. ``'schoolid'``).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.scatter`` for the estimates.

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    The interval for group j is ``u_j +/- z * se_j`` where ``se_j`` is the
    comparative standard error from ``m.group_effects()`` (the conditional SD
    of u_j given the data), so two groups whose intervals do not overlap
    differ at roughly the 5% level, as in MLwiN's caterpillar plots.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import lemma_helpers as lh
    >>> ess = lh.load_dataset("ess_hedonism")
    >>> m = lh.fit("hedonism ~ 1 + (1 | country)", data=ess)
    >>> fig, ax = plt.subplots()
    >>> ax = lh.plot_caterpillar(m, highlight=["Poland", "Denmark"], ax=ax)
    >>> ax.get_ylabel(), ax.get_yticklabels()[-1].get_text()
    ('country', 'Denmark')
    """
    _check_model(m, "plot_caterpillar")
    term = _check_term(m, term)
    table = caterpillar_table(m, term, alpha)
    hl = _match_groups(highlight, list(table.index), "m.group_effects().index")
    label = f"{_effect_label(m, term, group_label)} with {1 - alpha:.0%} interval"
    return _draw_ranked(_axes(ax), table, value_label=label, group_label=_group_label(m, group_label), ref=0.0,
                        ref_label=None, orient=orient, labels=labels, highlight=hl,
                        mark_differences=mark_differences, **kwargs)


def plot_group_means(data: pd.DataFrame, *, y: str, group: str, alpha: float = 0.05,
                     highlight=None, labels: Any = "auto", orient: str = "auto",
                     ax: Axes | None = None, **kwargs) -> Axes:
    """Group means of ``y`` with confidence intervals, sorted, against the overall mean.

    The first picture of group differences, before any model is fitted.
    Options ``highlight``, ``labels`` and ``orient`` are as in :func:`plot_caterpillar`.

    Notes
    -----
    The interval for group j is ``mean_j +/- t(n_j - 1) * sd_j / sqrt(n_j)``
    (none for a group of one). The reference line is the mean of all rows.
    The value axis stops at the range of ``y`` in the data: the very wide
    intervals of groups with two or three members run off its edge.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import lemma_helpers as lh
    >>> ess = lh.load_dataset("ess_hedonism")
    >>> fig, ax = plt.subplots()
    >>> ax = lh.plot_group_means(ess, y="hedonism", group="country", ax=ax)
    >>> ax.get_xlabel()
    'mean hedonism with 95% CI'
    """
    check_dataframe(data)
    check_columns(data, [group])
    _check_numeric(data, y)
    means = group_means_table(data, y, group, alpha)
    hl = _match_groups(highlight, list(means.table.index), f"data[{group!r}].unique()")
    return _draw_ranked(_axes(ax), means.table, value_label=f"mean {y} with {1 - alpha:.0%} CI",
                        group_label=group, ref=means.overall, ref_label="overall mean",
                        orient=orient, labels=labels, highlight=hl, mark_differences=False,
                        limits=means.limits, **kwargs)
