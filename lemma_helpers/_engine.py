"""The likelihood of a two-level linear model, computed exactly and fast.

The model for group j (rows i = 1..n_j) is

    y_j = X_j beta + Z_j u_j + e_j,   u_j ~ N(0, D),   e_ij ~ N(0, omega_ij)

with a level-1 variance omega_ij = z1_ij' Omega z1_ij (the MLwiN form;
constant when there is no level-1 function). Writing D = sigma2 T and
Omega = sigma2 Phi, the likelihood depends on the data only through
cross-products summed within "cells": rows of one group that share the same
level-1 design row (one cell per group when the level-1 variance is
constant). With C = [X Z y] and S_c = sum over the cell of C_i C_i', each
group's contribution follows from the Woodbury identity

    V_j^-1 sigma2 = W_j - W_j Z_j (I + T Z_j'W_j Z_j)^-1 T Z_j'W_j,
    log|V_j| = n_j log sigma2 + log|W_j^-1| + log|I + T Z_j'W_j Z_j|,

where W_j = diag(1 / phi_ij). beta and sigma2 are then profiled out, so the
optimiser only searches over T (through its Cholesky factor, as lme4 does)
and the free elements of Phi. Everything is computed for all groups at once
with batched numpy linear algebra.

Learners are welcome to read this file; it is the whole estimation method.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

LOG2PI = np.log(2 * np.pi)


@dataclass
class CellStats:
    """Cross-products of C = [X Z y] summed within each (group, level-1 pattern) cell."""

    S: np.ndarray            # (cells, k, k)
    n: np.ndarray            # (cells,) rows in each cell
    cell_group: np.ndarray   # (cells,) group code of each cell
    group_start: np.ndarray  # index of each group's first cell (cells sorted by group)
    Q: np.ndarray | None     # (cells, m) level-1 quadratic features z_k z_l of each cell's pattern
    p: int
    q: int
    n_obs: int
    agg: object = None       # sparse (groups x cells) matrix that adds up the cells of a group


def cell_stats(X, Z, y, groups, Z1=None) -> CellStats:
    """Sum the cross-products of [X Z y] within cells; done once per fit."""
    n, p = X.shape
    q = Z.shape[1]
    C = np.column_stack([X, Z, y])
    if Z1 is None:
        pattern = np.zeros(n, dtype=np.int64)
    else:
        _, pattern = np.unique(Z1, axis=0, return_inverse=True)
        pattern = pattern.ravel()
    key = groups * (pattern.max() + 1) + pattern
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
    Cs = C[order]
    k = C.shape[1]
    S = np.empty((len(starts), k, k))
    for a in range(k):
        S[:, :, a] = np.add.reduceat(Cs * Cs[:, a:a + 1], starts, axis=0)
    counts = np.diff(np.r_[starts, n])
    cell_group = groups[order][starts]
    group_start = np.flatnonzero(np.r_[True, cell_group[1:] != cell_group[:-1]])
    Q = None
    if Z1 is not None:
        z = Z1[order][starts]
        iu = np.triu_indices(Z1.shape[1])
        Q = (z[:, :, None] * z[:, None, :])[:, iu[0], iu[1]]
    agg = None
    if len(starts) != len(group_start):
        from scipy import sparse

        agg = sparse.csr_matrix((np.ones(len(starts)), (cell_group, np.arange(len(starts)))),
                                shape=(len(group_start), len(starts)))
    return CellStats(S=S, n=counts, cell_group=cell_group, group_start=group_start,
                     Q=Q, p=p, q=q, n_obs=n, agg=agg)


@dataclass
class Level1Spec:
    """Which elements of the level-1 covariance Phi are free (upper triangle order)."""

    m: int                   # number of level-1 columns
    free: np.ndarray         # indices (into the upper triangle) of estimated elements
    scale_index: int         # the element fixed at 1 (absorbed by sigma2)


def level1_spec(stats: CellStats, names: list) -> Level1Spec:
    """Decide which level-1 variance parameters are estimable from the data."""
    m = len(names)
    iu = np.triu_indices(m)
    structural_zero = np.all(stats.Q == 0, axis=0)
    free = np.flatnonzero(~structural_zero)
    diag_positions = [i for i, (a, b) in enumerate(zip(*iu)) if a == b and i in set(free)]
    if not diag_positions:
        raise ValueError("no estimable level-1 variance")
    if np.any(np.all(stats.Q == 0, axis=1)):
        from ._validation import LemmaError

        raise LemmaError(
            f"With the level-1 function over {names} the level-1 variance would be 0 for some rows "
            "(those where every term of the function is 0), which a variance cannot be. For a "
            "separate variance per category write the category with C(), e.g. level1='~ 0 + C(female)'; "
            "for a function of x include the intercept, e.g. level1='~ 1 + x'."
        )
    features = stats.Q[:, free]
    if np.linalg.matrix_rank(features) < len(free):
        from ._validation import LemmaError

        raise LemmaError(
            f"The level-1 variance function over {names} has {len(free)} parameters, but the "
            "data cannot tell them all apart (there are too few distinct values). For separate "
            "variances per category use level1='~ 0 + C(x)'; for a quadratic function of x use "
            "level1='~ 1 + x' with a variable taking at least three values."
        )
    return Level1Spec(m=m, free=free, scale_index=diag_positions[0])


def _sum_cells(stats: CellStats, S):
    """Add up the cells of each group: a sparse (groups x cells) product, one pass."""
    cells, k, _ = S.shape
    return (stats.agg @ S.reshape(cells, k * k)).reshape(-1, k, k)


def n_theta(q: int) -> int:
    return q * (q + 1) // 2


def theta_to_T(theta, q):
    L = np.zeros((q, q))
    L[np.tril_indices(q)] = theta
    return L @ L.T


def phi_matrix(phi_free, spec: Level1Spec):
    """Full upper-triangle vector of Phi from its free elements (scale element = 1)."""
    full = np.zeros(spec.m * (spec.m + 1) // 2)
    others = [i for i in spec.free if i != spec.scale_index]
    full[spec.scale_index] = 1.0
    full[others] = phi_free
    return full


def _weights(stats: CellStats, phi_upper):
    """Relative level-1 variance w of each cell (z' Phi z), or None if homoscedastic."""
    if stats.Q is None:
        return None
    m = int((np.sqrt(8 * len(phi_upper) + 1) - 1) / 2)
    iu = np.triu_indices(m)
    coef = np.where(iu[0] == iu[1], 1.0, 2.0) * phi_upper
    return stats.Q @ coef


def pieces(stats: CellStats, T, phi_upper=None):
    """Everything the likelihood needs at relative covariances T (level 2) and Phi (level 1).

    Returns None where the level-1 variance is not positive for some cell, otherwise
    a dict with log|I + T Z'WZ| summed, log|W^-1|, and the GLS cross-products.
    """
    p, q = stats.p, stats.q
    S = stats.S
    logdet_w = 0.0
    if stats.Q is not None:
        w = _weights(stats, phi_upper)
        if np.any(w <= 0) or not np.all(np.isfinite(w)):
            return None
        S = S / w[:, None, None]
        logdet_w = float(np.sum(stats.n * np.log(w)))
    if len(stats.group_start) != len(stats.n):
        S = _sum_cells(stats, S)
    xy = np.r_[0:p, p + q]                 # positions of [X y] in C
    ZZ = S[:, p:p + q, p:p + q]
    B = S[:, p:p + q][:, :, xy]            # Z'W[X y], shape (G, q, p+1)
    A = np.eye(q) + T @ ZZ                 # (G, q, q), not symmetric in general
    if q == 1:                             # random intercepts: everything is a scalar
        if np.any(A <= 0):
            return None
        logdet = np.log(A[:, 0, 0])
        AinvTB = (T[0, 0] / A) * B
    else:
        sign, logdet = np.linalg.slogdet(A)
        if np.any(sign <= 0):
            return None
        AinvTB = np.linalg.solve(A, T @ B)  # (I + T Z'WZ)^-1 T Z'W[X y]
    G = len(S)
    M = S[:, xy][:, :, xy].sum(axis=0) - B.reshape(G * q, -1).T @ AinvTB.reshape(G * q, -1)
    return {"logdet_a": float(logdet.sum()), "logdet_w": logdet_w, "M": M, "A": A, "B": B, "S": S}


def _criterion(stats: CellStats, pc, reml=False):
    """From the pieces to the profiled deviance: returns (deviance, X'WX, beta, r2).

    beta is the GLS estimate and r2 = (y - X beta)' V^-1 (y - X beta) sigma2; the
    deviance is inf (and beta None) when X'WX or r2 is degenerate.
    """
    p, n = stats.p, stats.n_obs
    M = pc["M"]
    XWX, XWy, yWy = M[:p, :p], M[:p, p], M[p, p]
    try:
        chol = np.linalg.cholesky(XWX)
    except np.linalg.LinAlgError:
        return np.inf, XWX, None, None
    beta = np.linalg.solve(XWX, XWy)
    r2 = yWy - XWy @ beta
    if not r2 > 0:
        return np.inf, XWX, None, None
    nu = n - p if reml else n
    dev = pc["logdet_a"] + pc["logdet_w"] + nu * (1 + np.log(2 * np.pi * r2 / nu))
    if reml:
        dev += 2 * np.log(np.diag(chol)).sum()
    return dev, XWX, beta, r2


def profiled_deviance(stats: CellStats, T, phi_upper=None, reml=False):
    """-2 log-likelihood (or REML criterion) with beta and sigma2 profiled out."""
    pc = pieces(stats, T, phi_upper)
    return np.inf if pc is None else _criterion(stats, pc, reml)[0]


def deviance_and_gradient(stats: CellStats, x, reml=False, spec: "Level1Spec | None" = None):
    """Profiled deviance and its exact gradient in theta (and the level-1 parameters).

    With A_j = I + T Z_j'W_j Z_j, b_j = Z_j'W_j(y_j - X_j beta) and a_j = A_j^-T b_j,
    d dev / dT = sum_j A_j^-T Z_j'W_j Z_j - (nu / r2) sum_j a_j a_j'
    (REML adds - sum_j P_j (X'WX)^-1 P_j' with P_j = A_j^-T Z_j'W_j X_j), and
    T = L L' turns that into the gradient over the elements of L.
    For the level-1 parameters, the gradient of the deviance with respect to a
    group's weighted cross-products S_j is K_j on the Z'Z block (K_j = A_j^-1 T)
    plus (nu / r2) v_j v_j' with v_j = (-beta, -K_j b_j, 1) (plus the REML term);
    each cell's S_c / w_c and log w_c then give the chain rule to Phi.
    """
    q, p, n = stats.q, stats.p, stats.n_obs
    nt = n_theta(q)
    L = np.zeros((q, q))
    L[np.tril_indices(q)] = x[:nt]
    T = L @ L.T
    phi_upper = None if spec is None else phi_matrix(x[nt:], spec)
    pc = pieces(stats, T, phi_upper)
    if pc is None:
        return np.inf, np.zeros_like(x)
    A, B, S = pc["A"], pc["B"], pc["S"]
    dev, XWX, beta, r2 = _criterion(stats, pc, reml)
    if not np.isfinite(dev):
        return np.inf, np.zeros_like(x)
    nu = n - p if reml else n
    ZZ = S[:, p:p + q, p:p + q]
    Ainv = 1 / A if q == 1 else np.linalg.inv(A)
    AinvT = Ainv.transpose(0, 2, 1)
    b = B[:, :, p] - B[:, :, :p] @ beta
    a = (AinvT @ b[:, :, None])[:, :, 0]
    G = (AinvT @ ZZ).sum(axis=0) - (nu / r2) * a.T @ a
    if reml:
        H = np.linalg.inv(XWX)
        P = AinvT @ B[:, :, :p]
        G -= np.einsum("gia,ab,gjb->ij", P, H, P)
    grad = ((G + G.T) @ L)[np.tril_indices(q)]
    if spec is None:
        return dev, grad
    K = Ainv @ T
    u = (K @ b[:, :, None])[:, :, 0]
    k = p + q + 1
    v = np.zeros((len(S), k))
    v[:, :p], v[:, p:p + q], v[:, -1] = -beta, -u, 1.0
    GS = (nu / r2) * v[:, :, None] * v[:, None, :]
    GS[:, p:p + q, p:p + q] += K
    if reml:
        Em = np.zeros((len(S), k, p))
        Em[:, :p, :] = np.eye(p)
        Em[:, p:p + q, :] = -(K @ B[:, :, :p])
        GS += Em @ H @ Em.transpose(0, 2, 1)
    w = _weights(stats, phi_upper)
    dw = -np.einsum("cab,cab->c", GS[stats.cell_group], stats.S) / w ** 2 + stats.n / w
    iu = np.triu_indices(spec.m)
    coef = np.where(iu[0] == iu[1], 1.0, 2.0)
    dphi = (dw[:, None] * stats.Q).sum(axis=0) * coef
    others = [i for i in spec.free if i != spec.scale_index]
    return dev, np.r_[grad, dphi[others]]


def full_deviance(stats: CellStats, D, omega_upper, scale_index=0, reml=False):
    """-2 log-likelihood (or REML criterion) at given variance parameters, beta profiled.

    ``D`` is the level-2 covariance; ``omega_upper`` the level-1 covariance
    (upper triangle, its element ``scale_index`` a variance), or a 1-element
    array holding the level-1 variance. Used for the observed information.
    """
    sigma2 = float(omega_upper[scale_index])
    if not sigma2 > 0:
        return np.inf
    phi = None if stats.Q is None else np.asarray(omega_upper) / sigma2
    pc = pieces(stats, D / sigma2, phi)
    if pc is None:
        return np.inf
    p, n = stats.p, stats.n_obs
    _, XWX, beta, r2 = _criterion(stats, pc)
    if beta is None:
        return np.inf
    dev = pc["logdet_a"] + pc["logdet_w"] + n * np.log(2 * np.pi * sigma2) + r2 / sigma2
    if reml:
        dev += np.linalg.slogdet(XWX)[1] - p * np.log(2 * np.pi * sigma2)
    return dev


def _newton_polish(raw, x, f, max_iter=60):
    """Damped Newton steps until the gradient vanishes; returns x, f and evaluations used."""
    n = len(x)
    evals = 0
    _, g = raw(x)
    for _ in range(max_iter):
        h = 1e-5 * np.maximum(np.abs(x), 1e-2)
        H = np.empty((n, n))
        for i in range(n):
            e = np.zeros(n)
            e[i] = h[i]
            H[:, i] = (raw(x + e)[1] - raw(x - e)[1]) / (2 * h[i])
        evals += 2 * n
        H = (H + H.T) / 2
        scale = np.max(np.abs(np.diag(H))) or 1.0
        lam = 0.0
        accepted = False
        while lam < 1e8 * scale:
            try:
                c = np.linalg.cholesky(H + lam * np.eye(n))
                d = -np.linalg.solve(c.T, np.linalg.solve(c, g))
            except np.linalg.LinAlgError:
                lam = max(10 * lam, 1e-8 * scale)
                continue
            fn, gn = raw(x + d)
            evals += 1
            if np.isfinite(fn) and fn <= f + 1e-12:
                accepted = True
                break
            lam = max(10 * lam, 1e-8 * scale)
        if not accepted:
            break
        decrease = f - fn
        x, f, g = x + d, fn, gn
        if decrease < 1e-9 and np.max(np.abs(d)) < 1e-7:
            break
    return x, f, evals


@dataclass
class Optimum:
    theta: np.ndarray
    phi_free: np.ndarray
    deviance: float
    converged: bool
    message: str
    n_evals: int


def optimise(stats: CellStats, reml: bool, spec: Level1Spec | None) -> Optimum:
    """Minimise the profiled deviance over the Cholesky factor of T and the level-1 parameters."""
    q = stats.q
    nt = n_theta(q)
    diag = np.array([i == j for i, j in zip(*np.tril_indices(q))])
    theta0 = np.where(diag, 1.0, 0.0)
    if spec is not None:
        others = [i for i in spec.free if i != spec.scale_index]
        # start from a constant level-1 variance where the design allows it
        iu = np.triu_indices(spec.m)
        coef = np.where(iu[0] == iu[1], 1.0, 2.0)
        F = stats.Q[:, spec.free] * coef[spec.free]
        sol, *_ = np.linalg.lstsq(F, np.ones(len(F)), rcond=None)
        sol = sol / sol[list(spec.free).index(spec.scale_index)]
        phi0 = np.array([sol[list(spec.free).index(i)] for i in others])
        if np.any(F @ sol <= 0):
            phi0 = np.zeros(len(others))
    else:
        phi0 = np.zeros(0)

    if len(phi0):
        phi0[np.abs(phi0) < 1e-12] = 0.0
    x0 = np.r_[theta0, phi0]
    options = {"ftol": 1e-15, "gtol": 1e-9, "maxiter": 10000, "maxfun": 20000}
    raw = lambda x: deviance_and_gradient(stats, x, reml, spec)  # noqa: E731
    # Precondition: rescale each parameter by its curvature at the start, so that
    # the first quasi-Newton steps have sensible lengths (a unit step in a level-1
    # parameter could otherwise make the level-1 variance negative somewhere).
    h = 1e-4
    curv = np.array([(raw(x0 + h * e)[1][i] - raw(x0 - h * e)[1][i]) / (2 * h)
                     for i, e in enumerate(np.eye(len(x0)))])
    scale = 1 / np.sqrt(np.where(np.isfinite(curv) & (np.abs(curv) > 1e-8), np.abs(curv), 1.0))
    n_evals = 2 * len(x0)

    def fun(y):
        dev, grad = raw(y * scale)
        return dev, grad * scale

    # Unbounded: the sign of a column of L does not change T = L L', and bounds would
    # trap the search at a zero diagonal, where the gradient in that direction vanishes.
    bounds = [(None, None)] * len(x0)

    def search(start_x):
        nonlocal n_evals
        # exact gradients: quasi-Newton steps converge in a few dozen evaluations
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            res = optimize.minimize(fun, start_x / scale, jac=True, method="L-BFGS-B",
                                    bounds=bounds, options=options)
        n_evals += res.nfev
        # Newton polish with a finite-difference Hessian of the exact gradient: quasi-Newton
        # steps can stall in curved valleys of random parts with several terms, and a
        # precisely located optimum keeps the variance standard errors (curvature there)
        # reproducible to the digits shown.
        x, f, extra = _newton_polish(raw, res.x * scale, float(res.fun))
        n_evals += extra
        return x, f, res

    x, f, res = search(x0)
    # A zero diagonal of L is a stationary point in its own direction (a saddle when the
    # variance should be positive): restart from a small positive value to make sure.
    big = max(np.max(np.abs(x[:nt])), 1e-3)
    for i in np.flatnonzero(diag):
        if abs(x[i]) < 1e-6 * big:
            trial = x.copy()
            trial[i] = 0.1 * big
            x2, f2, res2 = search(trial)
            if f2 < f - 1e-9:
                x, f, res = x2, f2, res2
    _, g = raw(x)
    # lme4 flags max|gradient| of the deviance above 0.002; use the same yardstick
    ok = bool(np.isfinite(f) and np.max(np.abs(g)) < 2e-3)
    msg = "the gradient vanishes at the optimum" if ok else (
        f"the gradient is still {np.max(np.abs(g)):.2g} at the end ({res.message})")
    return Optimum(theta=x[:nt], phi_free=x[nt:], deviance=f, converged=ok, message=msg,
                   n_evals=int(n_evals))


def gls(stats: CellStats, T, phi_upper, reml: bool):
    """beta, its covariance, sigma2, the pieces and the deviance at given T and Phi."""
    pc = pieces(stats, T, phi_upper)
    p, n = stats.p, stats.n_obs
    dev, XWX, beta, r2 = _criterion(stats, pc, reml)
    sigma2 = r2 / (n - p if reml else n)
    cov_beta = sigma2 * np.linalg.inv(XWX)
    return beta, cov_beta, sigma2, pc, float(dev)


def group_effects(stats: CellStats, T, sigma2, beta, pc):
    """Conditional modes of u_j and their conditional covariances (lme4's ranef, condVar)."""
    A, B = pc["A"], pc["B"]
    p = stats.p
    # Z'W r = Z'W y - Z'W X beta
    ZWr = B[:, :, p] - B[:, :, :p] @ beta
    u = np.linalg.solve(A, (T @ ZWr[:, :, None]))[:, :, 0]
    cond_cov = sigma2 * np.linalg.solve(A, np.broadcast_to(T, A.shape))
    return u, cond_cov
