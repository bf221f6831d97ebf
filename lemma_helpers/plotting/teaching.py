"""Teaching figures: the single-level and two-level decompositions of a response, and the
standard errors of a single-level fit against those of a multilevel fit.

The points drawn (random individuals, group means, pairs of standard errors)
come from ``_stats.single_level_sample``, ``_stats.two_level_sample`` and ``_stats.se_pairs``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D

from .._validation import LemmaError, check_columns, check_dataframe
from ._common import _axes, _check_numeric
from ._stats import se_pairs, single_level_sample, two_level_sample
from .theme import BLUE, DARK, GREEN, GREY, MAIN, ORANGE

__all__ = ["plot_single_level_residuals", "plot_two_level_decomposition", "plot_se_comparison"]


def plot_single_level_residuals(data: pd.DataFrame, *, y: str, n: int = 10, seed: int | None = None,
                                ax: Axes | None = None, **kwargs) -> Axes:
    """Teaching diagram: a few individuals' residuals around one mean line, ``y_i = b0 + e_i``.

    Parameters
    ----------
    data : DataFrame
    y : str
        The response column.
    n : int, default 10
        Number of individuals drawn at random.
    seed : int, optional
        Seed for the random choice; give one for the same picture every run.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.scatter`` for the individuals.

    Notes
    -----
    The line is the mean of ``y`` over all of ``data`` (the estimate of b0);
    each dashed segment is a residual ``e_i = y_i - b0``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import lemma_helpers as lh
    >>> ess = lh.load_dataset("ess_hedonism")
    >>> fig, ax = plt.subplots()
    >>> ax = lh.plot_single_level_residuals(ess, y="hedonism", n=8, seed=1, ax=ax)
    >>> ax.get_xlabel()
    'individual $i$'
    """
    check_dataframe(data)
    _check_numeric(data, y)
    mean, yi = single_level_sample(data, y, n, seed)
    xi = np.arange(1, n + 1)
    ax = _axes(ax)
    ax.axhline(mean, color=DARK, linewidth=2, zorder=2, gid="mean_line",
               label=r"overall mean $\hat\beta_0$")
    ax.vlines(xi, mean, yi, colors=GREY, linestyles="--", linewidth=1.2, zorder=1, gid="residuals",
              label=r"residual $e_i = y_i - \hat\beta_0$")
    kwargs.setdefault("s", 45)
    ax.scatter(xi, yi, color=MAIN, zorder=3, gid="points", **kwargs)
    k = int(np.argmax(np.abs(yi - mean)))
    ax.annotate(r"$e_i$", (xi[k], (mean + yi[k]) / 2), xytext=(6, 0), textcoords="offset points",
                va="center", fontsize="large")
    ax.set_xticks(xi)
    ax.set_xlim(0.4, n + 0.6)
    ax.set_xlabel("individual $i$")
    ax.set_ylabel(y)
    ax.grid(False, axis="x")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_two_level_decomposition(data: pd.DataFrame, *, y: str, group: str, groups: Sequence,
                                 n: int = 6, seed: int | None = None, ax: Axes | None = None,
                                 **kwargs) -> Axes:
    """Teaching diagram: ``y_ij = b0 + u_j + e_ij`` drawn for a few individuals in two groups.

    Shows the overall mean (b0), each group's mean (b0 + u_j), the group
    effects u_j as arrows from the overall mean, every individual's residual
    e_ij from their group mean, and one e_ij annotated.

    Parameters
    ----------
    data : DataFrame
    y, group : str
        The response and grouping columns.
    groups : pair of group names
        The two groups to draw, e.g. ``['Poland', 'Denmark']``.
    n : int, default 6
        Individuals drawn at random from each group.
    seed : int, optional
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.scatter`` for the individuals.

    Notes
    -----
    The means are raw means of ``y``: the overall mean of all rows and the
    mean of each group's rows. A fitted model's estimates of b0 + u_j are
    close to these but shrunk slightly towards b0.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import lemma_helpers as lh
    >>> ess = lh.load_dataset("ess_hedonism")
    >>> fig, ax = plt.subplots()
    >>> ax = lh.plot_two_level_decomposition(ess, y="hedonism", group="country",
    ...                                      groups=["Poland", "Denmark"], seed=2, ax=ax)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['Poland\\n(j = 1)', 'Denmark\\n(j = 2)']
    """
    check_dataframe(data)
    check_columns(data, [group])
    _check_numeric(data, y)
    if isinstance(groups, (str, int)) or len(groups) != 2:
        raise LemmaError(f"groups must name exactly two groups, e.g. groups=['a', 'b']; got {groups!r}.")
    ax = _axes(ax)
    sample = two_level_sample(data, y, group, groups, n, seed)
    overall = sample.overall
    overall_line = ax.axhline(overall, color=DARK, linewidth=2, zorder=2, gid="mean_line",
                              label=r"overall mean $\hat\beta_0$")
    kwargs.setdefault("s", 45)
    ticks = []
    for j, ((name, gmean, yi), colour) in enumerate(zip(sample.groups, (ORANGE, GREEN)), start=1):
        xi = np.arange(1, n + 1) + (j - 1) * (n + 2)
        ax.hlines(gmean, xi[0] - 0.5, xi[-1] + 0.5, colors=colour, linewidth=2.5, zorder=2,
                  gid="group_means")
        ax.vlines(xi, gmean, yi, colors=GREY, linestyles=":", linewidth=1.2, zorder=1, gid="residuals")
        ax.scatter(xi, yi, color=colour, zorder=3, gid="points", **kwargs)
        ax.annotate("", (xi[0] - 0.9, gmean), xytext=(xi[0] - 0.9, overall),
                    arrowprops=dict(arrowstyle="->", color=DARK, lw=1.5))
        ax.annotate(f"$u_{j}$", (xi[0] - 0.9, (overall + gmean) / 2), xytext=(-4, 0),
                    textcoords="offset points", ha="right", va="center", fontsize="large")
        if j == 2:
            k = int(np.argmax(np.abs(yi - gmean)))
            ax.annotate("", (xi[k], yi[k]), xytext=(xi[k], gmean),
                        arrowprops=dict(arrowstyle="->", color=DARK, lw=1.2, shrinkB=4))
            ax.annotate(f"$e_{{i{j}}}$", (xi[k], (gmean + yi[k]) / 2), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize="large")
        ticks.append(((xi[0] + xi[-1]) / 2, f"{name}\n(j = {j})"))
    ax.set_xticks([t for t, _ in ticks], [s for _, s in ticks])
    ax.set_xlim(-0.5, 2 * n + 3)
    ax.set_xlabel(group)
    ax.set_ylabel(y)
    ax.grid(False, axis="x")
    means = (Line2D([], [], color=ORANGE, lw=2.5), Line2D([], [], color=GREEN, lw=2.5))
    ax.legend([overall_line, means], [overall_line.get_label(), r"group mean $\hat\beta_0 + u_j$"],
              handler_map={tuple: HandlerTuple(ndivide=None)}, loc="best", fontsize="small")
    return ax


def plot_se_comparison(single, multilevel, *, terms: Sequence[str] | None = None,
                       labels: Sequence[str] = ("single-level (OLS)", "multilevel"),
                       ax: Axes | None = None, **kwargs) -> Axes:
    """Standard errors of the same coefficients from a single-level and a multilevel fit.

    Ignoring clustering makes standard errors too small, most of all for
    group-level variables; the plot shows each pair on a log scale with
    their ratio written beside it.

    Parameters
    ----------
    single, multilevel : fitted model or DataFrame
        Anything with a ``.fixed`` table (``lh.fit_ols``, ``lh.fit``) or such a
        table itself: columns ``estimate, std_err``, indexed by term.
    terms : list of str, optional
        Terms to show (default: all terms in both, in the multilevel order).
    labels : pair of str
        Legend labels of the two fits.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to both ``Axes.scatter`` calls.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import lemma_helpers as lh
    >>> ess = lh.load_dataset("ess_hedonism")
    >>> ols = lh.fit_ols("hedonism ~ 1", data=ess)
    >>> m = lh.fit("hedonism ~ 1 + (1 | country)", data=ess)
    >>> fig, ax = plt.subplots()
    >>> ax = lh.plot_se_comparison(ols, m, ax=ax)
    >>> [t.get_text() for t in ax.texts]  # the multilevel SE is 13 times the naive one
    ['\u00d713.0']
    """
    table = se_pairs(single, multilevel, terms)
    terms = list(table.index)
    se_a, se_b = table["single"].to_numpy(), table["multilevel"].to_numpy()
    pos = np.arange(len(terms))[::-1]
    ax = _axes(ax)
    ax.hlines(pos, np.minimum(se_a, se_b), np.maximum(se_a, se_b), colors=GREY, linewidth=2, zorder=1)
    kwargs.setdefault("s", 60)
    ax.scatter(se_a, pos, color=ORANGE, marker="o", zorder=3, label=labels[0], gid="single_se", **kwargs)
    ax.scatter(se_b, pos, color=BLUE, marker="D", zorder=3, label=labels[1], gid="multilevel_se", **kwargs)
    for p, s1, s2, ratio in zip(pos, se_a, se_b, table["ratio"].to_numpy()):
        ax.annotate(f"\u00d7{ratio:.1f}", (max(s1, s2), p), xytext=(8, 0), textcoords="offset points",
                    va="center", fontsize="small", gid="ratio")
    ax.set_xscale("log")
    ax.set_yticks(pos, terms)
    ax.set_ylim(-0.7, len(terms) - 0.3)
    ax.margins(x=0.15)
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel("standard error (log scale)")
    ax.set_ylabel("term")
    ax.grid(False, axis="y")
    ax.legend(loc="best", fontsize="small", title="\u00d7k: multilevel SE = k \u00d7 single-level SE",
              title_fontsize="small")
    return ax
