"""Fit two-level linear models: ``lh.fit``.

The estimation itself is in ``likelihood.py`` (what is maximised), ``derivatives.py`` and
``optimise.py`` (how); this module turns a formula and a DataFrame into their inputs, rescales
the variables so that raw and centred predictors reach the same optimum, and hands the estimates
to :class:`MultilevelResult` (``result.py``), which reads like a published table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_dataframe, check_formula_first
from .blas import one_blas_thread
from .cells import CellStats, cell_stats
from .design import Design, build_design
from .optimise import optimise
from .parameters import level1_spec, phi_matrix, theta_to_T
from .result import MultilevelResult

__all__ = ["fit"]


def _standardiser(M: np.ndarray, mean: np.ndarray, square: np.ndarray, ones: list):
    """Matrix T with M = M_s @ T, where M_s has centred (if an intercept exists) and scaled columns.

    ``mean`` and ``square`` are the columns' means and mean squares, ``ones`` the columns of ones.
    Only a scale for the search: sums of squares are precise enough."""
    k = M.shape[1]
    T = np.eye(k)
    var = square - mean ** 2
    sd = np.where(var > 1e-12 * square, np.sqrt(np.abs(var)), 0.0)   # a constant column: 0
    for j in range(k):
        if j in ones:
            continue
        s = sd[j] if sd[j] > 0 else (np.abs(M[:, j]).max() or 1.0)
        T[j, j] = s
        if len(ones):
            T[ones[0], j] = mean[j]
    return T


def _column_moments(d: Design, stats):
    """Means and mean squares of the columns of [X Z y], from the cells' cross-products when there
    is an intercept (its cross-products with the other columns are their sums), and the columns
    of ones of X and of Z."""
    p = d.X.shape[1]
    ones_x = [j for j, name in enumerate(d.fixed_names) if name == "Intercept" and np.all(d.X[:, j] == 1.0)]
    ones_z = [j for j, name in enumerate(d.random_names) if name == "Intercept" and np.all(d.Z[:, j] == 1.0)]
    tot = stats.S.sum(axis=0)
    square = np.diag(tot) / stats.n_obs
    if ones_x or ones_z:
        one = ones_x[0] if ones_x else p + ones_z[0]
        mean = tot[one] / stats.n_obs
    else:
        mean = np.r_[d.X.mean(axis=0), d.Z.mean(axis=0), d.y.mean()]
    return mean, square, ones_x, ones_z



def fit(formula: str, data: pd.DataFrame, *, reml: bool = False, level1: str | None = None,
        reference: dict | None = None) -> MultilevelResult:
    """Fit a two-level linear model by maximum likelihood (or REML).

    Parameters
    ----------
    formula : str
        ``'y ~ fixed part + (random part | group)'``, as in lme4. Both parts
        accept patsy syntax: ``C(sclass)``, ``I(age - 46)``, ``x:z``.
    data : DataFrame
        Rows with a missing value in any variable of the model are dropped
        (listwise deletion); the result says how many.
    reml : bool, default False
        Maximum likelihood (False; the equivalent of MLwiN's IGLS) or
        restricted maximum likelihood (True; lme4's and statsmodels' default).
    level1 : str, optional
        A right-hand-side formula for a level-1 variance that depends on
        explanatory variables (MLwiN's complex level-1 variation): ``'~ 1 + x'``
        gives ``s2_e0 + 2 s_e01 x + s2_e1 x^2``; ``'~ 0 + C(female)'`` gives a
        separate variance for each category.
    reference : dict, optional
        Reference categories, e.g. ``{'sclass': 'working'}``.

    Returns
    -------
    MultilevelResult

    Notes
    -----
    For group j with rows i, ``y_ij = x_ij' beta + z_ij' u_j + e_ij`` with
    ``u_j ~ N(0, D)`` and ``e_ij ~ N(0, s2_e)``. The log-likelihood is
    computed exactly from per-group cross-products (Woodbury identity); beta
    and the level-1 variance are profiled out and the covariance of the random
    effects is searched over its Cholesky factor, as lme4 does. Standard errors
    of fixed effects are ``sqrt(diag(s2_e (X'V^-1 X)^-1))``.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> exam = lh.load_dataset("exam")
    >>> m = lh.fit("normexam ~ 1 + (1 | school)", data=exam)
    >>> round(m.deviance, 2), round(m.level1_var, 3), round(float(m.level2_cov.iloc[0, 0]), 3)
    (11010.65, 0.848, 0.169)
    """
    check_formula_first(formula, data, "lh.fit")
    check_dataframe(data)
    if not isinstance(reml, bool):
        raise TypeError("reml must be True or False.")
    with one_blas_thread():
        design = build_design(formula, data, level1=level1, reference=reference)
        return _fit_design(design, formula, reml, level1, reference, data)


def _fit_design(d: Design, formula, reml, level1, reference, data=None) -> MultilevelResult:
    """Fit the model to a built design (``lh.fit`` after the formula, and explore's refits)."""
    stats = cell_stats(d.X, d.Z, d.y, d.groups, d.Z1)
    # work on rescaled variables: C_s = C N, so S_s = N' S N in every cell
    p, q = d.X.shape[1], d.Z.shape[1]
    mean, square, ones_x, ones_z = _column_moments(d, stats)
    Mx = _standardiser(d.X, mean[:p], square[:p], ones_x)
    Mz = _standardiser(d.Z, mean[p:p + q], square[p:p + q], ones_z)
    ysd = float(np.sqrt(max(square[-1] - mean[-1] ** 2, 0.0))) or 1.0
    N = np.zeros((p + q + 1, p + q + 1))
    N[:p, :p] = np.linalg.inv(Mx)
    N[p:p + q, p:p + q] = np.linalg.inv(Mz)
    N[-1, -1] = 1 / ysd
    s1 = None
    spec = None
    Q_s = None
    if d.Z1 is not None:
        sd1 = d.Z1.std(axis=0)
        s1 = np.where(sd1 > 0, sd1, np.abs(d.Z1).max(axis=0))
        s1 = np.where(s1 > 0, s1, 1.0)
        iu = np.triu_indices(len(s1))
        Q_s = stats.Q / (s1[iu[0]] * s1[iu[1]])
    cells, k, _ = stats.S.shape
    SN = (stats.S.reshape(-1, k) @ N).reshape(cells, k, k)        # S N, then (S N)' N = N' S N:
    S_s = (SN.transpose(0, 2, 1).reshape(-1, k) @ N).reshape(cells, k, k)   # two products in all
    std_stats = CellStats(S=S_s, n=stats.n,
                            cell_group=stats.cell_group, group_start=stats.group_start,
                            Q=Q_s, p=p, q=q, n_obs=stats.n_obs, agg=stats.agg)
    if d.Z1 is not None:
        spec = level1_spec(std_stats, d.level1_names)
    opt = optimise(std_stats, reml, spec)
    T_s = theta_to_T(opt.theta, q)
    Mz_inv = np.linalg.inv(Mz)
    T = Mz_inv @ T_s @ Mz_inv.T
    phi = None
    if spec is not None:
        phi_s = phi_matrix(opt.phi_free, spec)
        iu = np.triu_indices(len(s1))
        phi = phi_s / (s1[iu[0]] * s1[iu[1]])
    return MultilevelResult(design=d, stats=stats, std=(std_stats, N, Mx, Mz, ysd, s1),
                            T=T, phi=phi, spec=spec, reml=reml, formula=formula,
                            level1=level1, reference=reference, optimum=opt, data=data)

