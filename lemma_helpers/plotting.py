"""Pictures of multilevel models: axes-level plots for the course notebooks.

Every function draws on one matplotlib Axes (the current one when ``ax`` is
None), labels the axes from column and term names, leaves the title to the
notebook and returns the Axes. Nothing happens at import: call
:func:`set_theme` in a notebook's set-up cell for the course look.

The colours are fixed hex codes from seaborn's colour-blind palette, so a
figure looks the same with or without the theme.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib import patheffects, ticker
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from scipy import stats as sps

from ._validation import LemmaError, check_columns, check_dataframe, did_you_mean, unknown_name

__all__ = [
    "set_theme", "plot_caterpillar", "plot_group_lines", "plot_variance_function",
    "plot_residual_pairs", "plot_residual_qq", "plot_group_means",
    "plot_single_level_residuals", "plot_two_level_decomposition", "plot_se_comparison",
]

# seaborn "colorblind" palette
BLUE, ORANGE, GREEN, VERMILLION, GREY = "#0173B2", "#DE8F05", "#029E73", "#D55E00", "#949494"
DARK = "#333333"
MAIN, HIGHLIGHT = BLUE, VERMILLION
MANY_GROUPS = 40  # above this, group names are not written on the axis


def set_theme(*, context: str = "notebook", font_scale: float = 1.0) -> None:
    """Set the course's plot theme: seaborn whitegrid, colour-blind palette, notebook-width figures.

    Call it once in a notebook's set-up cell. It changes matplotlib's global
    settings (``rcParams``), which importing ``lemma_helpers`` never does.

    Parameters
    ----------
    context : {'notebook', 'paper', 'talk', 'poster'}
        seaborn's scaling of fonts and lines.
    font_scale : float
        Extra scaling of the fonts.
    """
    import seaborn as sns

    sns.set_theme(context=context, style="whitegrid", palette="colorblind", font_scale=font_scale,
                  rc={"figure.figsize": (7.0, 4.3), "figure.dpi": 100, "savefig.dpi": 150,
                      "savefig.bbox": "tight", "axes.spines.top": False,
                      "axes.spines.right": False, "legend.frameon": False})


# ---- checks shared by the plots ------------------------------------------------
def _axes(ax) -> Axes:
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


# ---- ranked intervals: caterpillar plot and group means ------------------------------
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


def _name(name, group: str) -> str:
    """'Poland' stays 'Poland'; a numbered group 17 becomes 'schoolid 17'."""
    return name if isinstance(name, str) else f"{group} {name}"


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
    ge = m.group_effects(term, alpha=alpha)
    table = ge.rename(columns={"effect": "centre", "ci_lower": "lower", "ci_upper": "upper"})
    hl = _match_groups(highlight, list(ge.index), "m.group_effects().index")
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
    rows = data[[group, y]].dropna()
    stats = rows.groupby(group, observed=True)[y].agg(["count", "mean", "std"])
    half = sps.t.ppf(1 - alpha / 2, stats["count"] - 1) * stats["std"] / np.sqrt(stats["count"])
    table = pd.DataFrame({"centre": stats["mean"], "lower": stats["mean"] - half,
                          "upper": stats["mean"] + half})
    hl = _match_groups(highlight, list(table.index), f"data[{group!r}].unique()")
    lo, hi = float(rows[y].min()), float(rows[y].max())
    pad = 0.03 * (hi - lo)
    wide = (table["lower"] < lo).any() or (table["upper"] > hi).any()
    return _draw_ranked(_axes(ax), table, value_label=f"mean {y} with {1 - alpha:.0%} CI",
                        group_label=group, ref=float(rows[y].mean()), ref_label="overall mean",
                        orient=orient, labels=labels, highlight=hl, mark_differences=False,
                        limits=(lo - pad, hi + pad) if wide else None, **kwargs)


# ---- model pictures ---------------------------------------------------------------------
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
    pred = m.predict(rows)
    frame = pd.DataFrame({"g": m.design.groups, "x": rows[x].to_numpy(),
                          "line": pred["group_specific"].to_numpy(), "fixed": pred["fixed"].to_numpy()})
    cells = frame.groupby(["g", "x"])["line"]
    spread = (cells.max() - cells.min()).max()
    if spread > 1e-8 * max(1.0, float(np.abs(frame["line"]).max())):
        others = [t for t in m.fixed_terms if t != "Intercept" and x not in t]
        raise LemmaError(
            f"Within a group the predictions change with variables other than {x!r} "
            f"(the model also has {', '.join(map(repr, others))}), so there is no single line per "
            "group. Fix the other variables, e.g. at={'" + (others[0] if others else "z") + "': 0}.")
    lines = frame.groupby(["g", "x"], sort=True)["line"].first().reset_index()
    names = list(m.design.group_names)
    segs = {int(g): part[["x", "line"]].to_numpy() for g, part in lines.groupby("g")}
    wanted = _match_groups(highlight, names, "m.group_effects().index")
    shown, extra = sorted(segs), set()
    if sample is not None:
        if not isinstance(sample, (int, np.integer)) or isinstance(sample, bool) or sample < 1:
            raise LemmaError(f"sample must be a whole number of groups, at least 1; got {sample!r}.")
        if sample < len(shown):
            rng = np.random.default_rng(seed)
            picked = set(rng.choice(shown, size=sample, replace=False).tolist())
            extra = {names.index(w) for w in wanted} - picked
            shown = sorted(picked | extra)
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
        avg = frame.groupby("x", sort=True)["fixed"].mean()
        ax.plot(avg.index, avg.to_numpy(), color=DARK, linewidth=3, zorder=5, gid="average_line",
                label="average (fixed part)")
    ax.autoscale_view()
    ax.set_xlabel(x)
    ax.set_ylabel(m.design.response)
    ax.legend(loc="best", fontsize="small")
    return ax


RUG_MAX = 20   # distinct x values up to which plot_variance_function draws a rug
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
    Curves are drawn over the observed range of x only. Ticks along the
    bottom mark the observed values when there are at most 20 of them;
    otherwise a shaded band marks the middle 90% of the observed values (from
    the 5th to the 95th percentile). For a binary or categorical x (separate
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
    d = m.design
    observed = None
    if data is None:
        observed = next((pd.Series(M[:, names.index(x)]) for M, names in
                         ((d.Z, d.random_names), (d.X, d.fixed_names), (d.Z1, d.level1_names))
                         if names and x in names), None)
        kept = getattr(m, "_data", None)
        if observed is None and kept is not None and x in kept:
            data = kept
    if data is not None:
        observed = _fitted_rows(m, data)[x] if x in data else None
    if observed is None:
        where = "data" if data is not None else "the model's terms"
        raise LemmaError(f"Cannot find {x!r} in {where}, so its observed range is unknown. Name a "
                         f"variable of the model's random part ({', '.join(map(repr, m.random_terms))})"
                         " and, if the formula transforms it, pass data=the fitted DataFrame.")
    observed = observed.dropna()
    # a binary or categorical x has a variance for each value, not a curve
    discrete = not pd.api.types.is_numeric_dtype(observed) or observed.nunique() <= 2
    if isinstance(observed.dtype, pd.CategoricalDtype):
        grid = [c for c in observed.cat.categories if c in set(observed)]
    elif discrete:
        grid = np.sort(observed.unique())
    else:
        grid = np.linspace(observed.min(), observed.max(), num)
    values = {**(at or {}), x: grid}
    functions = {2: m.level2_variance, 1: m.level1_variance, "vpc": lambda **v: m.vpc(**v)["vpc"]}
    try:
        curves = {lev: np.asarray(functions[lev](**values)) for lev in levels}
    except LemmaError as exc:
        raise LemmaError(f"{exc} In plot_variance_function give x=... and the others in at={{...}}.") from None
    ax = _axes(ax)
    style = dict(marker="o", linestyle="none", markersize=9) if discrete else {}
    for lev in levels:
        label, colour = _LEVELS[lev]
        ax.plot(grid, curves[lev], color=colour, label=label, gid=f"level_{lev}", **{**style, **kwargs})
    if discrete and pd.api.types.is_numeric_dtype(observed):
        ax.set_xticks(grid)
        ax.set_xmargin(0.3)
    elif not discrete and observed.nunique() <= RUG_MAX:
        ax.plot(np.unique(observed), np.zeros(observed.nunique()), "|", color=DARK, markersize=12,
                markeredgewidth=1.5, transform=ax.get_xaxis_transform(), gid="observed_x",
                label=f"observed values of {x}")
    elif not discrete:
        # a rug of dozens of distinct values is a solid comb: shade where most of the data are instead
        lo, hi = np.quantile(observed.to_numpy(dtype=float), [0.05, 0.95])
        ax.axvspan(lo, hi, color=GREY, alpha=0.15, linewidth=0, zorder=0, gid="observed_x",
                   label=f"middle 90% of observed {x}")
    ax.set_xlabel(x)
    ax.set_ylabel(_LEVELS[levels[0]][0] if len(levels) == 1 else "variance")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small")
    return ax


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
    if level == 1:
        d = m.design
        resid = d.y - m.predict()["group_specific"].to_numpy()
        if d.Z1 is None:
            var = np.full(len(resid), m.level1_cov.iloc[0, 0])
        else:
            var = np.einsum("ij,jk,ik->i", d.Z1, m.level1_cov.to_numpy(), d.Z1)
        std = resid / np.sqrt(var)
        label = "standardised level-1 residual"
    elif level == 2:
        term = _check_term(m, term)
        ge = m.group_effects(term)
        diag_var = m.level2_cov.loc[term, term] - ge["se"] ** 2
        std = (ge["effect"] / np.sqrt(diag_var.clip(lower=1e-300))).to_numpy()
        label = f"standardised level-2 residual ({term})"
    else:
        raise unknown_name("level", level, [1, 2])
    n = len(std)
    theory = sps.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    ax = _axes(ax)
    kwargs.setdefault("s", 30 if n <= MANY_GROUPS else 12 if n <= 1000 else 4)
    ax.scatter(theory, np.sort(std), color=MAIN, zorder=3, gid="residuals",
               rasterized=n > 1000, **kwargs)
    ends = [min(theory[0], np.min(std)), max(theory[-1], np.max(std))]
    ax.plot(ends, ends, color=DARK, linewidth=1, zorder=2, gid="reference")
    ax.set_xlabel("normal quantile")
    ax.set_ylabel(label)
    return ax


# ---- teaching diagrams -------------------------------------------------------------------
def _sample(rows: pd.DataFrame, n: int, rng: np.random.Generator, what: str) -> pd.DataFrame:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise LemmaError(f"n must be a whole number of points, at least 1; got {n!r}.")
    if n > len(rows):
        raise LemmaError(f"n={n} but {what} has only {len(rows)} rows with a value; choose a smaller n.")
    take = rng.choice(len(rows), size=n, replace=False)
    return rows.iloc[take]


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
    values = data[y].dropna()
    mean = float(values.mean())
    yi = _sample(values.to_frame(), n, np.random.default_rng(seed), "data")[y].to_numpy()
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
    rows = data[[group, y]].dropna()
    present = list(pd.unique(rows[group]))
    chosen = _match_groups(groups, present, f"data[{group!r}].unique()")
    overall = float(rows[y].mean())
    rng = np.random.default_rng(seed)
    ax = _axes(ax)
    overall_line = ax.axhline(overall, color=DARK, linewidth=2, zorder=2, gid="mean_line",
                              label=r"overall mean $\hat\beta_0$")
    kwargs.setdefault("s", 45)
    ticks = []
    for j, (name, colour) in enumerate(zip(chosen, (ORANGE, GREEN)), start=1):
        in_group = rows[rows[group] == name]
        gmean = float(in_group[y].mean())
        yi = _sample(in_group, n, rng, f"group {name!r}")[y].to_numpy()
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


# ---- standard errors -----------------------------------------------------------------------
def _fixed_table(obj, what: str) -> pd.DataFrame:
    table = obj if isinstance(obj, pd.DataFrame) else getattr(obj, "fixed", None)
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{what} must be a fitted model (lh.fit or lh.fit_ols) or a DataFrame with "
                        f"columns 'estimate' and 'std_err' indexed by term; got {type(obj).__name__}.")
    check_columns(table, ["estimate", "std_err"], what=f"the {what} table")
    return table


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
    a, b = _fixed_table(single, "single"), _fixed_table(multilevel, "multilevel")
    common = [t for t in b.index if t in a.index]
    if not common:
        raise LemmaError("The two fits have no fixed term in common, so there is nothing to compare. "
                         "Fit both with the same explanatory variables.")
    terms = common if terms is None else list(terms)
    for t in terms:
        if t not in common:
            raise unknown_name("term", t, common)
    se_a, se_b = a.loc[terms, "std_err"].to_numpy(float), b.loc[terms, "std_err"].to_numpy(float)
    pos = np.arange(len(terms))[::-1]
    ax = _axes(ax)
    ax.hlines(pos, np.minimum(se_a, se_b), np.maximum(se_a, se_b), colors=GREY, linewidth=2, zorder=1)
    kwargs.setdefault("s", 60)
    ax.scatter(se_a, pos, color=ORANGE, marker="o", zorder=3, label=labels[0], gid="single_se", **kwargs)
    ax.scatter(se_b, pos, color=BLUE, marker="D", zorder=3, label=labels[1], gid="multilevel_se", **kwargs)
    for p, s1, s2 in zip(pos, se_a, se_b):
        ax.annotate(f"\u00d7{s2 / s1:.1f}", (max(s1, s2), p), xytext=(8, 0), textcoords="offset points",
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
