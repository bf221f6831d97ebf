"""Interactive explorations: move a slider and watch a multilevel formula change.

Each ``explore_*`` function returns an :class:`Exploration`, a Jupyter widget
with sliders above a picture. Moving a slider redraws the picture from the
model's formulas (only :func:`explore_refit` refits, with the fast engine).
``.static()`` draws the same pictures for three or four slider settings side by
side, for readers of a stored notebook, a web page or a PDF, where sliders do
not move.

The widget (``_explore_widget.py``) draws with matplotlib's Agg renderer into a
PNG image widget, so JupyterLab needs only the widget manager that comes with
ipywidgets, and it can be driven from code: ``w.set(sigma2_u=0.2)`` moves a
slider exactly as a reader would, and ``w.numbers`` holds the values the
picture shows.
"""
from __future__ import annotations

import time
from dataclasses import replace

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from ._validation import LemmaError, check_dataframe
from .plotting.theme import BLUE, DARK, GREEN, GREY, ORANGE, VERMILLION

if TYPE_CHECKING:
    from ._explore_widget import Exploration

__all__ = ["explore_shrinkage", "explore_vpc", "explore_random_slopes", "explore_level1_variance",
           "explore_refit"]

_SEED = 2026


def _widgets():
    """The widget module, imported on first use: ipywidgets takes a while to import, and
    ``import lemma_helpers`` (also used by the grading command) should stay quick."""
    from . import _explore_widget

    return _explore_widget


# ---- 1. shrinkage ------------------------------------------------------------------------
def explore_shrinkage(m=None) -> Exploration:
    """Shrinkage factors and shrunken group effects as the variances and group sizes change.

    Parameters
    ----------
    m : MultilevelResult, optional
        A random intercept model; its variances are the starting values
        (without it, those of the hedonism model: 0.0898 and 0.885).

    Returns
    -------
    Exploration
        Sliders ``sigma2_u``, ``sigma2_e`` and ``n`` (typical group size). Left:
        ``k_j`` against ``n_j``. Right: twelve simulated groups whose sizes
        range from a tenth of ``n`` to twice ``n``, with raw and shrunken effects.

    Notes
    -----
    ``k_j = sigma2_u / (sigma2_u + sigma2_e / n_j)``; shrunken effect =
    ``k_j`` x raw effect. ``k_j = 0.5`` at ``n_j = sigma2_e / sigma2_u``.
    The simulated groups keep the same random draws as the sliders move, so
    only the formula changes what you see.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> w = lh.explore_shrinkage()
    >>> w.set(sigma2_u=0.09, sigma2_e=0.9, n=10)
    >>> round(w.numbers["k_at"][10], 3)   # 0.09 / (0.09 + 0.9 / 10)
    0.5
    """
    W = _widgets()
    m = W._variances(m, "explore_shrinkage")
    s2_u, s2_e = (0.08977, 0.88506) if m is None else (float(m.level2_cov.iloc[0, 0]), float(m.level1_cov.iloc[0, 0]))
    # one fixed, typical draw (seed 2024): as on average, the shrunken effects of these twelve
    # groups lie closer to the true ones than the raw effects do, at every slider setting
    rng = np.random.default_rng(2024)
    z_u, z_e = rng.standard_normal(12), rng.standard_normal(12)
    share = np.geomspace(0.1, 2.0, 12)

    def sizes(v):
        return np.maximum(1, np.round(v["n"] * share)).astype(int)

    def curve(ax, v):
        su, se = v["sigma2_u"], v["sigma2_e"]
        nmax = max(200, 3 * int(sizes(v).max()))
        n = np.arange(1, nmax + 1)
        k = su / (su + se / n)
        smooth = np.geomspace(1, nmax, 300)
        ax.plot(smooth, su / (su + se / smooth), color=BLUE, lw=2, label="$k_j$ for a group of size $n_j$")
        ax.plot(n, k, ls="none", gid="shrinkage_factor")  # the exact values at whole sizes, for tests
        nj = sizes(v)
        ax.plot(nj, su / (su + se / nj), "o", color=ORANGE, ms=5, gid="groups",
                label="the simulated groups")
        ax.set(xscale="log", ylim=(0, 1.02), xlabel="group size $n_j$",
               ylabel="shrinkage factor $k_j$")
        ticks = [1, 3, 10, 30, 100, 300, 1000, 3000]   # only those inside the axis are drawn
        ax.xaxis.set_major_locator(FixedLocator(ticks))        # a few plain ticks: quick to draw
        ax.xaxis.set_major_formatter(FixedFormatter([f"{t:,}" for t in ticks]))
        ax.xaxis.set_minor_locator(NullLocator())
        out = {"k_at": {int(i): float(x) for i, x in zip(n[:100], k[:100])}}
        if su > 0:
            half = se / su
            ax.axvline(half, color=GREY, ls="--", lw=1, gid="half_way")
            W._note(ax, f"$k_j$ = 0.5 at $n_j = \\sigma^2_e/\\sigma^2_u$ = {half:.3g}")
            out["half_size"] = half
        else:
            W._note(ax, "$\\sigma^2_u$ = 0: groups do not differ,\nso every effect is shrunk to 0")
            out["half_size"] = np.inf
        ax.legend(loc="lower right", fontsize=8.5)
        return out

    def groups(ax, v):
        su, se = v["sigma2_u"], v["sigma2_e"]
        nj = sizes(v)
        true = np.sqrt(su) * z_u
        raw = true + np.sqrt(se / nj) * z_e
        k = su / (su + se / nj)
        shrunk = k * raw
        pos = np.arange(len(nj))
        ax.hlines(pos, raw, shrunk, color=GREY, lw=1)
        ax.plot(raw, pos, "o", mfc="white", mec=BLUE, ms=6, gid="raw", label="raw effect (group mean - overall mean)")
        ax.plot(shrunk, pos, "o", color=BLUE, ms=6, gid="shrunken", label="shrunken effect $k_j \\times$ raw")
        ax.plot(true, pos, "|", color=DARK, ms=10, mew=2, gid="true", label="true effect $u_j$ (simulated)")
        ax.axvline(0, color=DARK, lw=0.8)
        ax.set_yticks(pos, [f"{n:,}" for n in nj], fontsize=8.5)
        lim = 1.1 * max(np.abs(raw).max(), np.abs(true).max(), 1e-3)
        ax.set(xlim=(-lim, lim), ylim=(-0.6, len(nj) + 4.6), xlabel="group effect (from the overall mean)",
               ylabel="group size $n_j$")
        ax.legend(loc="upper left", fontsize=8.5, ncols=1)
        rmse = lambda est: float(np.sqrt(np.mean((est - true) ** 2)))
        return {"sizes": nj, "k": k, "raw": raw, "shrunken": shrunk, "true": true,
                "rmse_raw": rmse(raw), "rmse_shrunken": rmse(shrunk)}

    sliders = {"sigma2_u": W._variance_slider("between-group variance σ²ᵤ", s2_u),
               "sigma2_e": W._variance_slider("within-group variance σ²ₑ", s2_e, positive=True),
               "n": W.widgets.IntSlider(value=30, min=1, max=500, description="typical group size n")}
    settings = [{"n": 2}, {"n": 10}, {"n": 100}, {"n": 10, "sigma2_u": sliders["sigma2_u"].max / 2}]
    label = lambda v: f"$\\sigma^2_u$ = {v['sigma2_u']:.3g}, $\\sigma^2_e$ = {v['sigma2_e']:.3g}, n = {v['n']}"
    return W.Exploration("explore_shrinkage", sliders, [curve, groups], settings, label)


# ---- 2. VPC ------------------------------------------------------------------------------
def explore_vpc(m=None) -> Exploration:
    """The VPC (intra-class correlation) and the design effect from the two variances.

    Parameters
    ----------
    m : MultilevelResult, optional
        A random intercept model whose variances are the starting values.

    Returns
    -------
    Exploration
        Sliders ``sigma2_u``, ``sigma2_e`` and ``n`` (cluster size). Left:
        eight simulated groups of 25 people. Right: the design effect against
        cluster size, with the chosen size marked.

    Notes
    -----
    ``VPC = sigma2_u / (sigma2_u + sigma2_e)``, which in a random intercept
    model is also the intra-class correlation ``rho``; design effect
    ``1 + (n - 1) rho``; standard errors that ignore clustering are too small
    by the factor ``sqrt(design effect)``.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> w = lh.explore_vpc()
    >>> w.set(sigma2_u=0.1, sigma2_e=0.9, n=11)
    >>> round(w.numbers["vpc"], 3), round(w.numbers["design_effect"], 3)
    (0.1, 2.0)
    """
    W = _widgets()
    m = W._variances(m, "explore_vpc")
    s2_u, s2_e = (0.08977, 0.88506) if m is None else (float(m.level2_cov.iloc[0, 0]), float(m.level1_cov.iloc[0, 0]))
    n0 = 30 if m is None else int(round(m.n_obs / m.n_groups))
    rng = np.random.default_rng(_SEED)
    a, b = rng.standard_normal(8), rng.standard_normal((8, 25))
    jitter = rng.uniform(-0.3, 0.3, (8, 25))

    def people(ax, v):
        su, se = v["sigma2_u"], v["sigma2_e"]
        vpc = su / (su + se)
        y = np.sqrt(su) * a[:, None] + np.sqrt(se) * b
        pos = np.arange(8)[:, None] + jitter
        ax.scatter(pos.ravel(), y.ravel(), s=8, color=BLUE, alpha=0.6, gid="people")
        ax.hlines(y.mean(axis=1), np.arange(8) - 0.4, np.arange(8) + 0.4, color=ORANGE, lw=2.5,
                  gid="group_means", label="group mean")
        ax.set_xticks(range(8), [str(j + 1) for j in range(8)])
        ax.set(xlabel="group (25 simulated people each)", ylabel="response")
        W._note(ax, f"VPC = intra-class correlation = {vpc:.3f}\n"
                  f"{100 * vpc:.0f}% of the variance lies between groups")
        ax.legend(loc="lower right", fontsize=8)
        return {"vpc": vpc, "icc": vpc}

    def deff(ax, v):
        su, se, n = v["sigma2_u"], v["sigma2_e"], v["n"]
        rho = su / (su + se)
        grid = np.arange(1, max(2 * n, 50) + 1)
        ax.plot(grid, 1 + (grid - 1) * rho, color=GREEN, lw=2, gid="design_effect")
        d = 1 + (n - 1) * rho
        ax.plot([n], [d], "o", color=VERMILLION, ms=7, gid="chosen")
        ax.set(xlabel="cluster size n", ylabel="design effect 1 + (n - 1) × ICC")
        ax.set_ylim(bottom=0)
        shown = f"{d:,.0f}" if d >= 100 else f"{d:.3g}"
        W._note(ax, f"n = {n:,}: design effect {shown}\nsingle-level standard errors need\n"
                  f"multiplying by √{shown} = {np.sqrt(d):.3g}")
        return {"design_effect": d, "se_ratio": float(np.sqrt(d))}

    # sigma2_u reaches past sigma2_e, so that the VPC can pass 0.5
    sliders = {"sigma2_u": W._variance_slider("between-group variance σ²ᵤ", s2_u, reach=1.2 * s2_e),
               "sigma2_e": W._variance_slider("within-group variance σ²ₑ", s2_e, positive=True),
               "n": W.widgets.IntSlider(value=min(n0, 5000), min=1, max=max(5000, n0), description="cluster size n")}
    top = sliders["sigma2_u"].max
    settings = [{"sigma2_u": 0.0}, {"sigma2_u": top / 4}, {"sigma2_u": top}]
    label = lambda v: f"$\\sigma^2_u$ = {v['sigma2_u']:.3g}, $\\sigma^2_e$ = {v['sigma2_e']:.3g}"
    return W.Exploration("explore_vpc", sliders, [people, deff], settings, label)


# ---- 3. random slopes --------------------------------------------------------------------
def explore_random_slopes(m=None) -> Exploration:
    """Group lines and the level-2 variance function of a random slope model.

    Parameters
    ----------
    m : MultilevelResult, optional
        A model with a random intercept and one random slope, ``(1 + x | group)``;
        its fixed intercept and slope, variances, correlation and the range of
        x are the starting values (without it, the hedonism-on-age model).

    Returns
    -------
    Exploration
        Sliders ``sigma2_u0``, ``sigma2_u1`` and ``corr`` (the correlation of
        intercept and slope residuals, from -1 to 1, so the covariance matrix is
        always valid). Left: twelve simulated group lines. Right: the level-2
        variance against x, its lowest point marked.

    Notes
    -----
    ``sigma_u01 = corr sqrt(sigma2_u0 sigma2_u1)``; level-2 variance
    ``sigma2_u0 + 2 sigma_u01 x + sigma2_u1 x^2``, lowest at
    ``x = -sigma_u01 / sigma2_u1``, where the lines are closest together.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> w = lh.explore_random_slopes()
    >>> w.set(sigma2_u0=0.09, sigma2_u1=1e-5, corr=-0.5)
    >>> round(w.numbers["turning_point"], 1)   # 0.5 * sqrt(0.09 / 1e-5)
    47.4
    """
    W = _widgets()
    m = W._variances(m, "explore_random_slopes")
    if m is None:
        x, (b0, b1), (lo, hi) = "age46", (-0.1999, -0.01763), (-32.0, 52.0)
        s0, s1, r = 0.090112, 1.81e-5, 0.71
    else:
        if len(m.random_terms) != 2 or m.random_terms[0] != "Intercept":
            raise LemmaError("explore_random_slopes needs a model with a random intercept and one random "
                             f"slope, e.g. (1 + x | group); this model's random part is {m.random_terms}.")
        x = m.random_terms[1]
        if x not in m.fixed_terms:
            raise LemmaError(f"The random slope {x!r} is not in the fixed part of the model.")
        b0, b1 = float(m.fixed.loc["Intercept", "estimate"]), float(m.fixed.loc[x, "estimate"])
        D = m.level2_cov.to_numpy()
        s0, s1 = float(D[0, 0]), float(D[1, 1])
        r = float(D[0, 1] / np.sqrt(s0 * s1)) if s0 * s1 > 0 else 0.0
        lo, hi = float(m.design.Z[:, 1].min()), float(m.design.Z[:, 1].max())
    rng = np.random.default_rng(_SEED)
    z0, z1 = rng.standard_normal(12), rng.standard_normal(12)
    grid = np.linspace(lo, hi, 201)

    def parts(v):
        sd0, sd1, c = np.sqrt(v["sigma2_u0"]), np.sqrt(v["sigma2_u1"]), v["corr"]
        cov = c * sd0 * sd1
        turn = float(-cov / v["sigma2_u1"]) + 0.0 if v["sigma2_u1"] > 0 else np.nan
        return sd0, sd1, c, cov, turn

    def lines(ax, v):
        sd0, sd1, c, cov, turn = parts(v)
        u0 = sd0 * z0
        u1 = sd1 * (c * z0 + np.sqrt(max(0.0, 1 - c * c)) * z1)
        for j in range(12):
            ax.plot(grid, b0 + b1 * grid + u0[j] + u1[j] * grid, color=BLUE, lw=1, alpha=0.8, gid=f"group_{j}")
        ax.plot(grid, b0 + b1 * grid, color=DARK, lw=2.5, gid="average", label="average line")
        if lo <= turn <= hi:
            ax.axvline(turn, color=VERMILLION, ls=":", lw=1.5, gid="turning_point")
        ax.set(xlabel=x, ylabel="predicted response")
        ax.legend(loc="lower left", fontsize=8)
        return {"intercepts": b0 + u0, "slopes": b1 + u1}

    def variance(ax, v):
        sd0, sd1, c, cov, turn = parts(v)
        var = v["sigma2_u0"] + 2 * cov * grid + v["sigma2_u1"] * grid ** 2
        ax.plot(grid, var, color=BLUE, lw=2, gid="level2_variance")
        if np.isnan(turn):
            pattern = "no slope variance: parallel lines"
        elif turn <= lo:
            pattern = "fanning out: lines spread as x grows"
        elif turn >= hi:
            pattern = "fanning in: lines close up as x grows"
        else:
            pattern = "lines close up, cross, then spread"
            low = v["sigma2_u0"] + 2 * cov * turn + v["sigma2_u1"] * turn ** 2
            ax.plot([turn], [low], "o", color=VERMILLION, ms=7, gid="lowest")
        where = ("lowest point: none" if np.isnan(turn)
                 else f"lowest point at {x} = {turn:.3g}" + ("" if lo <= turn <= hi else " (outside the data)"))
        W._note(ax, f"covariance $\\sigma_{{u01}}$ = {cov:.3g}\n{where}\n{pattern}")
        ax.set(xlabel=x, ylabel="between-group (level-2) variance")
        ax.set_ylim(bottom=0)
        return {"covariance": cov, "turning_point": turn, "grid": grid, "level2_variance": var,
                "pattern": pattern}

    sliders = {"sigma2_u0": W._variance_slider("intercept variance σ²ᵤ₀", s0),
               "sigma2_u1": W._variance_slider("slope variance σ²ᵤ₁", s1),
               "corr": W._float_slider("intercept-slope correlation", r, -1.0, 1.0, 0.01)}
    settings = [{"corr": -0.9}, {"corr": -0.3}, {"corr": 0.0}, {"corr": round(r, 2)}]
    label = lambda v: f"intercept-slope correlation {v['corr']:+.2f}"
    return W.Exploration("explore_random_slopes", sliders, [lines, variance], settings, label)


# ---- 4. complex level-1 variation --------------------------------------------------------
def explore_level1_variance(m=None) -> Exploration:
    """Level-1 and level-2 variance functions and the VPC across x.

    Parameters
    ----------
    m : MultilevelResult, optional
        A random intercept model fitted with ``level1='~ 1 + x'``; its
        variances and the range of x are the starting values (without it, the
        hedonism model with a level-1 variance quadratic in age).

    Returns
    -------
    Exploration
        Sliders ``sigma2_e0``, ``sigma_e01``, ``sigma2_e1`` (the coefficients
        of the level-1 function) and ``sigma2_u``. Left: both variances
        against x. Right: the VPC against x. Where the level-1 function falls
        to 0 or below, the figure shades that range and says why it is impossible.

    Notes
    -----
    level-1 variance ``sigma2_e0 + 2 sigma_e01 x + sigma2_e1 x^2``; its
    coefficients are not variances, so ``sigma2_e1`` may be negative as long as
    the function stays positive over the data. ``VPC(x) = sigma2_u /
    (sigma2_u + level-1 variance(x))``.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> w = lh.explore_level1_variance()
    >>> w.set(sigma2_e0=0.8, sigma_e01=0.0, sigma2_e1=0.0, sigma2_u=0.2)
    >>> round(float(w.numbers["vpc"][0]), 3)   # 0.2 / (0.2 + 0.8)
    0.2
    """
    W = _widgets()
    m = W._variances(m, "explore_level1_variance")
    if m is None:
        x, (lo, hi) = "age46", (-32.0, 52.0)
        e0, e01, e1, su = 0.7796, 0.002651, 1.2e-5, 0.0853
    else:
        names = m.design.level1_names
        if m.random_terms != ["Intercept"] or not names or len(names) != 2 or names[0] != "Intercept":
            raise LemmaError("explore_level1_variance needs a random intercept model with a level-1 "
                             "variance function of one variable, e.g. lh.fit(..., level1='~ 1 + x').")
        x = names[1]
        om = m.level1_cov.to_numpy()
        e0, e01, e1, su = float(om[0, 0]), float(om[0, 1]), float(om[1, 1]), float(m.level2_cov.iloc[0, 0])
        col = list(m.design.level1_names).index(x)
        lo, hi = float(m.design.Z1[:, col].min()), float(m.design.Z1[:, col].max())
    grid = np.linspace(lo, hi, 201)
    # the VPC axis: up to three times the fitted VPC, so that its changes show (a 0-1 axis flattens them)
    vpc_top = _vpc_top(su / (su + (e0 + 2 * e01 * grid + e1 * grid ** 2).clip(min=1e-12)) * 3, 0.0)

    def functions(v):
        l1 = v["sigma2_e0"] + 2 * v["sigma_e01"] * grid + v["sigma2_e1"] * grid ** 2
        return l1, np.full_like(grid, v["sigma2_u"])

    def bad_range(ax, l1):
        bad = l1 <= 0
        if bad.any():
            ax.fill_between(grid, 0, 1, where=bad, transform=ax.get_xaxis_transform(), color=VERMILLION,
                            alpha=0.15, gid="impossible")
        return bad

    def variances(ax, v):
        l1, l2 = functions(v)
        ax.plot(grid, l1, color=ORANGE, lw=2, gid="level1_variance", label="level-1 (within-group) variance")
        ax.plot(grid, l2, color=BLUE, lw=2, gid="level2_variance", label="level-2 (between-group) variance")
        bad = bad_range(ax, l1)
        if bad.any():
            W._note(ax, "shaded: impossible settings, where the\nlevel-1 variance would be 0 or negative",
                    color=VERMILLION)
        ax.set(xlabel=x, ylabel="variance")
        ax.set_ylim(bottom=min(0.0, float(l1.min()) * 1.1))
        ax.legend(loc="best", fontsize=8.5)
        return {"grid": grid, "level1_variance": l1, "level2_variance": l2, "impossible": bool(bad.any())}

    def vpc(ax, v):
        l1, l2 = functions(v)
        ok = l1 > 0
        out = np.where(ok, l2 / np.where(ok, l2 + l1, 1.0), np.nan)
        ax.plot(grid, out, color=GREEN, lw=2, gid="vpc")
        bad = bad_range(ax, l1)
        ax.set(xlabel=x, ylabel="VPC (share of variance between groups)", ylim=(0, _vpc_top(out, vpc_top)))
        if ok.any():
            W._note(ax, f"VPC from {np.nanmin(out):.3f} to {np.nanmax(out):.3f}"
                        + ("\n(not defined in the shaded, impossible range)" if bad.any() else ""))
        return {"vpc": out}

    span = max(abs(lo), abs(hi))
    e01_top = W._nice(max(abs(e01), e0 / span / 4))
    e1_top = W._nice(max(abs(e1), e0 / span ** 2 / 4))
    sliders = {"sigma2_e0": W._variance_slider("level-1 intercept σ²ₑ₀", e0, positive=True),
               "sigma_e01": W._float_slider("level-1 linear coefficient σₑ₀₁", e01, -e01_top, e01_top),
               "sigma2_e1": W._float_slider("level-1 quadratic coefficient σ²ₑ₁", e1, -e1_top, e1_top),
               "sigma2_u": W._variance_slider("between-group variance σ²ᵤ", su)}
    settings = [{}, {"sigma_e01": 0.0, "sigma2_e1": 0.0}, {"sigma_e01": e01_top / 2}, {"sigma_e01": -e01_top / 2}]
    label = lambda v: f"$\\sigma_{{e01}}$ = {v['sigma_e01']:.3g}, $\\sigma^2_{{e1}}$ = {v['sigma2_e1']:.2g}"
    return W.Exploration("explore_level1_variance", sliders, [variances, vpc], settings, label)


# ---- 5. refitting on fewer groups or fewer people ----------------------------------------
def _subsets(design, seed: int):
    """The rows kept at each slider setting: groups and people in an order drawn once with ``seed``.

    Returns ``(subset, largest group size)``, where ``subset(values)`` is the design on the rows of
    the first ``values["groups"]`` groups and, in each, of its first ``values["size"]`` people."""
    G = len(design.group_names)
    rng = np.random.default_rng(seed)
    group_rank = np.empty(G, dtype=int)
    group_rank[rng.permutation(G)] = np.arange(G)
    key = rng.random(len(design.y))
    person_rank = (pd.Series(key).groupby(design.groups).rank(method="first").to_numpy() - 1).astype(int)

    def subset(v):
        keep = (group_rank[design.groups] < v["groups"]) & (person_rank < v["size"])
        codes, groups = np.unique(design.groups[keep], return_inverse=True)
        return replace(design, y=design.y[keep], X=design.X[keep], Z=design.Z[keep],
                       groups=groups.ravel(), group_names=[design.group_names[c] for c in codes],
                       index=design.index[keep])

    return subset, int(np.bincount(design.groups).max())


def explore_refit(data: pd.DataFrame, formula: str, *, seed: int = _SEED) -> Exploration:
    """Refit a model on fewer groups or fewer people per group and watch the estimates move.

    Parameters
    ----------
    data : DataFrame
        The course data, e.g. ``lh.load_dataset('ess_hedonism')``.
    formula : str
        A model formula as for :func:`lemma_helpers.fit`.
    seed : int
        Which groups and people are kept is drawn once with this seed; the
        sliders then keep the first ``groups`` groups and, in each, the first
        ``size`` people of that random order.

    Returns
    -------
    Exploration
        Sliders ``groups`` and ``size``. Left: each fixed effect with its 95%
        interval (estimate +/- 1.96 SE), on the chosen subset and on all the
        data. Right: the variance estimates with 95% profile likelihood
        intervals (for a random intercept model; other models show the
        estimates alone). ``numbers["random"]`` holds the estimates, their
        standard errors and the intervals' ends (``ci_lower``, ``ci_upper``).

    Notes
    -----
    The design matrices are built once; each move refits by maximum
    likelihood on the chosen rows only, with the engine of ``lh.fit``
    (``benchmarks/explore_benchmark.py`` times it). A variance's interval
    holds the values that a likelihood ratio test at the 5% level would not
    reject (``model/profile.py``, as lme4's ``confint(method = "profile")``):
    it never reaches below 0, unlike estimate +/- 1.96 SE, which does with
    few groups or few people.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> exam = lh.load_dataset("exam")
    >>> w = lh.explore_refit(exam, "normexam ~ 1 + (1 | school)")
    >>> w.set(groups=65, size=10000)   # all the data
    >>> round(float(w.numbers["fixed"].loc["Intercept", "std_err"]), 4)
    0.0536
    """
    W = _widgets()
    from .model.blas import one_blas_thread as _one_blas_thread
    from .model.fit import _fit_design
    from .model.design import build_design

    from .model.profile import variance_intervals

    check_dataframe(data)
    design = build_design(formula, data)
    full = _fit_design(design, formula, False, None, None)
    full_ci = variance_intervals(full)
    G = len(design.group_names)
    if G < 3:
        raise LemmaError(f"explore_refit needs at least 3 groups; the data have {G}.")
    subset, max_size = _subsets(design, seed)
    cache: dict = {}

    def refit(v):
        k = (v["groups"], v["size"])
        if k not in cache:
            t0, c0 = time.perf_counter(), time.process_time()
            with _one_blas_thread():
                res = _fit_design(subset(v), formula, False, None, None)
                secs, cpu = time.perf_counter() - t0, time.process_time() - c0
                ci = variance_intervals(res)
            cache.clear()
            cache[k] = (res, secs, cpu, ci)
        return cache[k]

    def fixed(ax, v):
        res, secs, cpu, _ = refit(v)
        pos = np.arange(len(design.fixed_names))
        for off, fx, colour, lab in ((-0.15, full.fixed, GREY, "all the data"),
                                     (0.15, res.fixed, BLUE, "chosen subset")):
            est, se = fx["estimate"].to_numpy(), fx["std_err"].to_numpy()
            W._intervals(ax, est, est - 1.96 * se, est + 1.96 * se, pos + off, colour, "o", lab,
                         f"fixed_{'subset' if colour == BLUE else 'full'}")
        ax.set_yticks(pos, design.fixed_names)
        ax.set(xlabel="fixed effect, 95% interval (estimate ± 1.96 SE)", ylim=(-0.7, len(pos) + 0.3))
        ax.invert_yaxis()
        ax.legend(loc="lower left", fontsize=8)
        timing = "" if v.get("_static") else f"\nrefit in {1000 * secs:.0f} ms"   # stored figures stay the same
        W._note(ax, f"{res.n_obs:,} rows in {res.n_groups} groups\n(all the data: {full.n_obs:,} in "
                  f"{full.n_groups}){timing}")
        return {"fixed": res.fixed[["estimate", "std_err"]], "n_obs": res.n_obs,
                "n_groups": res.n_groups, "fit_seconds": secs, "fit_cpu_seconds": cpu,
                "rows": res.design.index}

    def random(ax, v):
        res, _, _, ci = refit(v)
        names = [p for _, p in full.random.index]
        pos = np.arange(len(names))
        for off, rd, ends, colour in ((-0.15, full.random, full_ci, GREY), (0.15, res.random, ci, BLUE)):
            est = rd["estimate"].to_numpy()
            lo, hi = (est, est) if ends is None else (ends[:, 0], ends[:, 1])
            W._intervals(ax, est, lo, hi, pos + off, colour, "s", None, f"random_{'subset' if colour == BLUE else 'full'}")
        ax.set_yticks(pos, names)
        ax.set(ylim=(-0.7, len(pos) + 0.3), xlabel="variance, 95% profile likelihood interval"
               if ci is not None else "variance (no interval drawn for this model)")
        ax.set_xlim(left=0)
        ax.invert_yaxis()
        table = res.random.copy()
        table["ci_lower"], table["ci_upper"] = (np.nan, np.nan) if ci is None else (ci[:, 0], ci[:, 1])
        return {"random": table}

    sliders = {"groups": W.widgets.IntSlider(value=G, min=3, max=G, description="groups kept",
                                             continuous_update=False),
               "size": W.widgets.IntSlider(value=max_size, min=2, max=max_size,
                                           description="people per group (at most)", continuous_update=False)}
    settings = [{"groups": G, "size": max_size}, {"groups": G, "size": 10},
                {"groups": max(3, G // 4), "size": max_size}]
    label = lambda v: f"{v['groups']} groups, at most {v['size']:,} per group"
    w = W.Exploration("explore_refit", sliders, [fixed, random], settings, label)
    w.full_fit = full
    return w


def _vpc_top(values, floor: float) -> float:
    """The top of a VPC axis: ``floor`` or a round number (a multiple of 0.05) above the largest value, at most 1."""
    values = np.asarray(values, dtype=float)
    high = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    return float(min(1.0, max(floor, np.ceil(high * 1.05 / 0.05) * 0.05, 0.05)))

