"""The numbers the plots draw, computed without matplotlib (as seaborn's ``_statistics.py``).

Each plot in this package checks its arguments, asks one function here for
the numbers it shows, and draws them; the functions here are tested on their
own (``tests/plotting/test_plot_stats.py``) against the formulas in the plots'
docstrings.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._validation import LemmaError, check_columns, unknown_name
from ._common import _check_term, _fitted_rows, _match_groups


RUG_MAX = 20   # distinct x values up to which plot_variance_function draws a rug


# ---- ranked intervals ----------------------------------------------------------------
def caterpillar_table(m, term: str, alpha: float) -> pd.DataFrame:
    """Group effects of ``term`` with comparative intervals: columns centre, lower, upper, indexed by group."""
    ge = m.group_effects(term, alpha=alpha)
    table = ge.rename(columns={"effect": "centre", "ci_lower": "lower", "ci_upper": "upper"})
    return table[["centre", "lower", "upper"]]


class GroupMeans(NamedTuple):
    table: pd.DataFrame         # centre (the mean), lower, upper; indexed by group
    overall: float              # the mean of all rows
    limits: tuple | None        # the value axis when an interval runs past the data, else None


def group_means_table(data: pd.DataFrame, y: str, group: str, alpha: float) -> GroupMeans:
    """Group means of ``y`` with t intervals ``mean_j +/- t(n_j - 1) sd_j / sqrt(n_j)``.

    ``limits`` is the range of ``y`` padded by 3% when some interval runs past
    it (groups of two or three), so that the axis stays on the data.
    """
    rows = data[[group, y]].dropna()
    stats = rows.groupby(group, observed=True)[y].agg(["count", "mean", "std"])
    half = sps.t.ppf(1 - alpha / 2, stats["count"] - 1) * stats["std"] / np.sqrt(stats["count"])
    table = pd.DataFrame({"centre": stats["mean"], "lower": stats["mean"] - half,
                          "upper": stats["mean"] + half})
    lo, hi = float(rows[y].min()), float(rows[y].max())
    pad = 0.03 * (hi - lo)
    wide = (table["lower"] < lo).any() or (table["upper"] > hi).any()
    return GroupMeans(table, float(rows[y].mean()), (lo - pad, hi + pad) if wide else None)


# ---- group lines and variance functions ------------------------------------------------
class GroupLines(NamedTuple):
    segments: dict              # group code -> (k, 2) array of (x, predicted y), by increasing x
    average: pd.Series          # the mean fixed-part prediction at each x, indexed by x


def group_lines(m, rows: pd.DataFrame, x: str) -> GroupLines:
    """Each group's predicted line against ``x`` over the x values observed in that group.

    ``rows`` are the fitted rows (with any other variables set to the values
    wanted); a group whose predictions vary at one x is refused.
    """
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
    segs = {int(g): part[["x", "line"]].to_numpy() for g, part in lines.groupby("g")}
    return GroupLines(segs, frame.groupby("x", sort=True)["fixed"].mean())


def sample_groups(codes, sample: int | None, seed: int, keep=()) -> tuple[list, set]:
    """The group codes to draw: all (sorted), or ``sample`` of them at random plus those in ``keep``.

    Returns the codes drawn and the codes of ``keep`` added to the random sample.
    """
    shown, extra = sorted(codes), set()
    if sample is not None:
        if not isinstance(sample, (int, np.integer)) or isinstance(sample, bool) or sample < 1:
            raise LemmaError(f"sample must be a whole number of groups, at least 1; got {sample!r}.")
        if sample < len(shown):
            rng = np.random.default_rng(seed)
            picked = set(rng.choice(shown, size=sample, replace=False).tolist())
            extra = set(keep) - picked
            shown = sorted(picked | extra)
    return shown, extra


class VarianceCurves(NamedTuple):
    grid: object                # the x values: a grid over the observed range, or each value of a discrete x
    curves: dict                # level (2, 1 or 'vpc') -> values at grid
    discrete: bool              # binary or categorical x: one point per value
    observed: pd.Series         # the observed values of x
    rug: np.ndarray | None      # the distinct observed values, when at most RUG_MAX of a continuous x
    band: tuple | None          # the 5th and 95th percentiles of a continuous x with more distinct values
    on_rug: dict | None = None  # level -> values at each value of the rug (the curve at the observed x)


def _observed_x(m, x: str, data: pd.DataFrame | None) -> pd.Series:
    """The values of ``x`` in the fitted rows: from the model's matrices, else from the data."""
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
    return observed.dropna()


def variance_curves(m, x: str, levels: Sequence, *, data: pd.DataFrame | None = None,
                    at: dict | None = None, num: int = 100) -> VarianceCurves:
    """Level-2 variance, level-1 variance and/or VPC against ``x`` over its observed range.

    ``levels`` lists 2, 1 and 'vpc'; the curves are ``m.level2_variance``,
    ``m.level1_variance`` and ``m.vpc(...)['vpc']`` at ``num`` points (or at
    each value of a binary or categorical x), other variables as in ``at``.
    """
    observed = _observed_x(m, x, data)
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
    rug = band = on_rug = None
    if not discrete and observed.nunique() <= RUG_MAX:
        rug = np.unique(observed)
        on_rug = {lev: np.asarray(functions[lev](**{**(at or {}), x: rug})) for lev in levels}
    elif not discrete:
        lo, hi = np.quantile(observed.to_numpy(dtype=float), [0.05, 0.95])
        band = (lo, hi)
    return VarianceCurves(grid, curves, discrete, observed, rug, band, on_rug)


# ---- residuals ----------------------------------------------------------------------------
class QQPoints(NamedTuple):
    theory: np.ndarray          # normal quantiles Phi^-1((i - 0.5) / n)
    sample: np.ndarray          # the standardised residuals, sorted
    ends: list                  # both ends of the reference line y = x
    label: str                  # what the residuals are


def qq_points(m, level: int = 1, term: str | None = None) -> QQPoints:
    """Standardised residuals at level 1 or 2 against normal quantiles (see ``plot_residual_qq``)."""
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
    ends = [min(theory[0], np.min(std)), max(theory[-1], np.max(std))]
    return QQPoints(theory, np.sort(std), ends, label)


# ---- teaching diagrams ------------------------------------------------------------------------
def _sample(rows: pd.DataFrame, n: int, rng: np.random.Generator, what: str) -> pd.DataFrame:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise LemmaError(f"n must be a whole number of points, at least 1; got {n!r}.")
    if n > len(rows):
        raise LemmaError(f"n={n} but {what} has only {len(rows)} rows with a value; choose a smaller n.")
    take = rng.choice(len(rows), size=n, replace=False)
    return rows.iloc[take]


def single_level_sample(data: pd.DataFrame, y: str, n: int, seed: int | None) -> tuple[float, np.ndarray]:
    """The mean of ``y`` over all rows and the values of ``n`` rows drawn at random (with ``seed``)."""
    values = data[y].dropna()
    mean = float(values.mean())
    yi = _sample(values.to_frame(), n, np.random.default_rng(seed), "data")[y].to_numpy()
    return mean, yi


class TwoLevelSample(NamedTuple):
    overall: float              # the mean of y over all rows
    groups: list                # (group name, group mean, y of the n rows drawn) for each group


def two_level_sample(data: pd.DataFrame, y: str, group: str, groups: Sequence, n: int,
                     seed: int | None) -> TwoLevelSample:
    """The overall mean, and for each of ``groups`` its mean and ``n`` of its rows drawn at random."""
    rows = data[[group, y]].dropna()
    present = list(pd.unique(rows[group]))
    chosen = _match_groups(groups, present, f"data[{group!r}].unique()")
    overall = float(rows[y].mean())
    rng = np.random.default_rng(seed)
    drawn = []
    for name in chosen:
        in_group = rows[rows[group] == name]
        gmean = float(in_group[y].mean())
        drawn.append((name, gmean, _sample(in_group, n, rng, f"group {name!r}")[y].to_numpy()))
    return TwoLevelSample(overall, drawn)


def _fixed_table(obj, what: str) -> pd.DataFrame:
    table = obj if isinstance(obj, pd.DataFrame) else getattr(obj, "fixed", None)
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{what} must be a fitted model (lh.fit or lh.fit_ols) or a DataFrame with "
                        f"columns 'estimate' and 'std_err' indexed by term; got {type(obj).__name__}.")
    check_columns(table, ["estimate", "std_err"], what=f"the {what} table")
    return table


def se_pairs(single, multilevel, terms: Sequence[str] | None = None) -> pd.DataFrame:
    """Standard errors of the terms in both fits: columns single, multilevel and ratio (multilevel / single).

    ``terms`` defaults to every term in both, in the multilevel fit's order.
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
    return pd.DataFrame({"single": se_a, "multilevel": se_b, "ratio": se_b / se_a}, index=pd.Index(terms))
