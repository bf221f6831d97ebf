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

The search is Newton's method: the exact gradient and Hessian of the profiled
deviance (see "exact second derivatives" below) give the optimum in a handful
of steps, kept safe by a trust region; the same Hessian, in the variance
parameters themselves, gives their standard errors.

Learners are welcome to read this file; it is the whole estimation method.
"""
from __future__ import annotations

import functools
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


def _row_patterns(Z1):
    """Number the distinct rows of Z1 in sorted (lexicographic) order, as np.unique(axis=0)
    does, but column by column: sorting rows as records is slow."""
    code = np.zeros(len(Z1), dtype=np.int64)
    size = 1
    for column in Z1.T:
        values, inverse = np.unique(column, return_inverse=True)
        size *= len(values)
        if size > 2 ** 62:
            return np.unique(Z1, axis=0, return_inverse=True)[1].ravel()
        code = code * len(values) + inverse.ravel()
    return np.unique(code, return_inverse=True)[1].ravel()


def _stable_order(key):
    """np.argsort(key, kind="stable") for non-negative integers, in linear time: numpy sorts
    16-bit integers by radix sort, larger ones by merge sort (several times slower on a million
    rows), so sort by the low 16 bits, then stably by the rest."""
    if key.max() < 2 ** 16:
        return np.argsort(key.astype(np.uint16), kind="stable")
    low = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    return low.take(_stable_order(key.take(low) >> 16))


def cell_stats(X, Z, y, groups, Z1=None) -> CellStats:
    """Sum the cross-products of [X Z y] within cells; done once per fit."""
    n, p = X.shape
    q = Z.shape[1]
    if Z1 is None:
        pattern = np.zeros(n, dtype=np.int64)
    else:
        pattern = _row_patterns(Z1)
    key = groups * (pattern.max() + 1) + pattern
    # data usually come sorted by group already; then nothing needs reordering
    order = None if np.all(key[1:] >= key[:-1]) else _stable_order(key)
    key_sorted = key if order is None else key.take(order)
    starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
    Cs = np.column_stack([X, Z, y])
    if order is not None:
        Cs = Cs.take(order, axis=0)          # whole rows at once: a fraction of the cost of each column
    k = Cs.shape[1]
    counts = np.diff(np.r_[starts, n])
    S = np.empty((len(starts), k, k))
    # one matrix product C_c'C_c per cell costs about 2 microseconds a cell, summing the row
    # products a column at a time about a nanosecond per row and element of S: take the cheaper
    if 2000 * len(starts) <= n * k * k:
        for c, (a, b) in enumerate(zip(starts.tolist(), (starts + counts).tolist())):
            block = Cs[a:b]
            np.matmul(block.T, block, out=S[c])
    else:
        for a in range(k):
            S[:, a:, a] = np.add.reduceat(Cs[:, a:] * Cs[:, a:a + 1], starts, axis=0)
        upper = np.triu_indices(k, 1)
        S[:, upper[0], upper[1]] = S[:, upper[1], upper[0]]
    cell_group = (groups if order is None else groups.take(order))[starts]
    group_start = np.flatnonzero(np.r_[True, cell_group[1:] != cell_group[:-1]])
    Q = None
    if Z1 is not None:
        z = (Z1 if order is None else Z1.take(order, axis=0))[starts]
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
    iu = _triu(m)
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


@functools.cache
def _tril(q: int):
    """np.tril_indices(q), kept: the engine asks for it at every evaluation."""
    return np.tril_indices(q)


@functools.cache
def _triu(m: int):
    """np.triu_indices(m), kept."""
    return np.triu_indices(m)


@functools.cache
def _upper_weights(m: int):
    """How often each upper-triangle element of an m x m symmetric matrix counts in z' Omega z:
    once on the diagonal, twice off it."""
    iu = _triu(m)
    return np.where(iu[0] == iu[1], 1.0, 2.0)


def n_theta(q: int) -> int:
    return q * (q + 1) // 2


def theta_to_T(theta, q):
    L = np.zeros((q, q))
    L[_tril(q)] = theta
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
    return stats.Q @ (_upper_weights(m) * phi_upper)


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


def _unpack(stats: CellStats, x, spec: Level1Spec | None):
    """The Cholesky factor L, T = L L' and Phi (upper triangle, or None) at x = (theta, level-1 parameters)."""
    q = stats.q
    nt = n_theta(q)
    L = np.zeros((q, q))
    L[_tril(q)] = x[:nt]
    return L, L @ L.T, None if spec is None else phi_matrix(x[nt:], spec)


def deviance_and_gradient(stats: CellStats, x, reml=False, spec: Level1Spec | None = None):
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
    L, T, phi_upper = _unpack(stats, x, spec)
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
    grad = ((G + G.T) @ L)[_tril(q)]
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
    dphi = (dw[:, None] * stats.Q).sum(axis=0) * _upper_weights(spec.m)
    others = [i for i in spec.free if i != spec.scale_index]
    return dev, np.r_[grad, dphi[others]]


def full_deviance(stats: CellStats, D, omega_upper, scale_index=0, reml=False):
    """-2 log-likelihood (or REML criterion) at given variance parameters, beta profiled.

    ``D`` is the level-2 covariance; ``omega_upper`` the level-1 covariance
    (upper triangle, its element ``scale_index`` a variance), or a 1-element
    array holding the level-1 variance. The unprofiled deviance written out directly: the
    tests check variance_derivatives and the optimum against it.
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


# ---- exact second derivatives -------------------------------------------------------------
#
# For the standard errors of the variance parameters and for Newton steps the optimiser needs
# the curvature of the deviance, not only its slope. With V = sum_k psi_k G_k linear in the
# variance parameters psi (G_k = Z E_k Z' for an element of D, a diagonal F_a of level-1
# features for an element of Omega) and beta at its GLS value for each psi,
#
#   d dev / d psi_k = tr(V^-1 G_k) - r'V^-1 G_k V^-1 r                     [- tr(H P_k)]
#   d2 dev / d psi_k d psi_l = - tr(V^-1 G_k V^-1 G_l) + 2 r'V^-1 G_k V^-1 G_l V^-1 r
#                              - 2 b_k' H b_l     [- tr(H P_k H P_l) + 2 tr(H X'V^-1 G_k V^-1 G_l V^-1 X)]
#
# with r = y - X beta, H = (X'V^-1 X)^-1, b_k = X'V^-1 G_k V^-1 r, P_k = X'V^-1 G_k V^-1 X and
# the bracketed REML terms. Within a group V^-1 C = W C R with R = I - [0 I 0]' M (Z'WC),
# M = (I + D Z'WZ)^-1 D and W the level-1 precisions, so every term above is a small product
# of the cells' cross-products S_c: nothing of size rows x rows is ever formed.


def _by_pair(T, q):
    """Apply T, a form bilinear in a symmetric unit matrix E = e_i e_j' + e_j e_i' (or e_i e_i'),
    to every element: T has the two indices of E first; returns one entry per (i, j) pair."""
    i, j = _tril(q)                  # the (i, j) of each element of D, in the order of theta
    out = T[i, j]
    k, a, b = _off_diagonal(q)
    if len(k):
        out[k] += T[b, a]
    return out


@functools.cache
def _off_diagonal(q: int):
    """The positions in _tril(q) of the elements off the diagonal, and their (i, j)."""
    i, j = _tril(q)
    k = np.flatnonzero(i != j)
    return k, i[k], j[k]


@functools.cache
def _diagonal(q: int):
    """The positions in _tril(q) (and in theta) of the diagonal of L."""
    i, j = _tril(q)
    return np.flatnonzero(i == j)


def _sum_outer(A, B):
    """sum over groups g of A_g (x) B_g: for A (G, a...) and B (G, b...), shape (a..., b...)."""
    G = len(A)
    return (A.reshape(G, -1).T @ B.reshape(G, -1)).reshape(A.shape[1:] + B.shape[1:])


def _trace_of_products(A, B):
    """sum over groups (and any leading axes of B) of tr(A_g B_g), one value per leading axis."""
    return (A * np.swapaxes(B, -1, -2)).sum(axis=(-3, -2, -1))


def _weighted_group_sums(stats: CellStats, weights, values=None):
    """sum over the cells c of each group of weights[c, i] values[c], for every column i of the
    weights: shape (i, G) + values.shape[1:]. The values are the cells' S_c unless given."""
    values = stats.S if values is None else values
    cells, shape = len(values), values.shape[1:]
    if stats.agg is None:                                      # one cell per group
        return weights.T.reshape((weights.shape[1], cells) + (1,) * len(shape)) * values[None]
    from scipy import sparse

    # a sparse (m * G, cells) matrix whose row i * G + g holds the weights[:, i] of the cells of
    # group g; the cells come sorted by group, so it is written down directly in CSR form
    m, G = weights.shape[1], len(stats.group_start)
    per_group = np.diff(np.r_[stats.group_start, cells])
    indptr = np.r_[0, np.cumsum(np.tile(per_group, m))]
    combine = sparse.csr_matrix((weights.T.ravel(), np.tile(np.arange(cells), m), indptr), shape=(m * G, cells))
    return (combine @ values.reshape(cells, -1)).reshape((m, G) + shape)


def _by_pairs(T4, q):
    """As _by_pair for a form in two such matrices (indices of the first, then the second)."""
    return _by_pair(_by_pair(T4, q).transpose(1, 2, 0), q).T


def variance_derivatives(stats: CellStats, D, omega_upper, free, reml=False):
    """Deviance (beta profiled out), its gradient and its Hessian in psi = (lower triangle of D,
    the elements ``free`` of the level-1 covariance ``omega_upper``), or None where V is not
    positive definite. Without a level-1 function ``omega_upper`` is [sigma2] and ``free`` [0]."""
    parts = _derivative_parts(stats, D, omega_upper, free, reml)
    if parts is None:
        return None
    dev, _, g_trace, g_resid, h_trace, h_resid = parts
    return dev, g_trace + g_resid, h_trace + h_resid


def _derivative_parts(stats: CellStats, D, omega_upper, free, reml=False):
    """variance_derivatives in parts: (deviance, r'V^-1 r, gradient and Hessian terms with traces,
    gradient and Hessian terms with the residuals). Scaling all of D and Omega by s scales the
    trace terms by 1/s (gradient) and 1/s^2 (Hessian), the residual terms by 1/s^2 and 1/s^3."""
    p, q = stats.p, stats.q
    k = p + q + 1
    Xs, Zs = slice(0, p), slice(p, p + q)
    S = stats.S
    if stats.Q is None:                                        # a constant level-1 variance
        omega = float(omega_upper[0])
        if not (np.isfinite(omega) and omega > 0):
            return None
        Sw = S / omega                                         # C'WC per group (one cell each)
        logdet_w = stats.n_obs * np.log(omega)
    else:
        Qf = stats.Q * _upper_weights(int((np.sqrt(8 * len(omega_upper) + 1) - 1) / 2))
        omega_c = Qf @ np.asarray(omega_upper, dtype=float)    # each cell's level-1 variance
        if np.any(omega_c <= 0) or not np.all(np.isfinite(omega_c)):
            return None
        w = 1 / omega_c
        f = Qf[:, free]                                        # (cells, m1) features F_a
        m1 = f.shape[1]
        Sw = _weighted_group_sums(stats, w[:, None])[0]        # C'WC per group
        logdet_w = np.sum(stats.n * np.log(omega_c))
    ZWZ = Sw[:, Zs, Zs]
    A = np.eye(q) + D @ ZWZ
    if q == 1:                                                 # random intercepts: scalars
        if np.any(A <= 0):
            return None
        logdet_a, Mm = np.log(A), D / A
    else:
        sign, logdet_a = np.linalg.slogdet(A)
        if np.any(sign <= 0):
            return None
        Mm = np.linalg.solve(A, np.broadcast_to(D, A.shape))
        Mm = (Mm + Mm.transpose(0, 2, 1)) / 2
    G = len(Sw)
    MZC = Mm @ Sw[:, Zs, :]                                    # M Z'WC, so that R = I - [0 I 0]' MZC
    Sig = Sw - Sw[:, :, Zs] @ MZC                              # C'V^-1 C = C'WC R, per group
    tot = Sig.sum(axis=0)
    XVX = (tot[Xs, Xs] + tot[Xs, Xs].T) / 2
    try:
        chol = np.linalg.cholesky(XVX)
    except np.linalg.LinAlgError:
        return None
    H = np.linalg.inv(XVX)
    beta = H @ tot[Xs, -1]
    c0 = np.concatenate((-beta, np.zeros(q), [1.0]))           # r = C c0
    r2 = float(c0 @ tot @ c0)
    dev = float(logdet_w + logdet_a.sum() + r2 + stats.n_obs * LOG2PI)
    if reml:
        dev += 2 * np.log(np.diag(chol)).sum() - p * LOG2PI

    # level-2 parameters: E_k in the Z'...Z block
    Phi, Xi = Sig[:, Zs, Zs], Sig[:, Xs, Zs]                    # Z'V^-1 Z, X'V^-1 Z
    rho = Sig[:, Zs, :] @ c0                                   # Z'V^-1 r
    g2_t, g2_r = _by_pair(Phi.sum(0).T, q), -_by_pair(rho.T @ rho, q)
    # sum_g Phi_bc Phi_da and sum_g rho_a Phi_bc rho_d, as [a, b, c, d]
    h22_t = -_by_pairs(_sum_outer(Phi, Phi).transpose(3, 0, 1, 2), q)
    h22_r = 2 * _by_pairs(_sum_outer(rho[:, :, None] * rho[:, None, :], Phi).transpose(0, 2, 3, 1), q)
    b2 = _by_pair(_sum_outer(Xi, rho).transpose(1, 2, 0), q)             # (n2, p)
    P2 = _by_pair(_sum_outer(Xi, Xi).transpose(1, 3, 0, 2), q)           # (n2, p, p)
    # the terms of beta's profiling (- 2 b_k' H b_l) and of REML for the level-2 block
    h22_r = h22_r - 2 * b2 @ H @ b2.T
    if reml:
        HP2 = H @ P2
        HXi = H @ Xi                                           # H Xi per group
        # 2 tr(H X'V^-1 G_k V^-1 G_l V^-1 X), symmetrised over (k, l)
        K = Xi.transpose(0, 2, 1) @ HXi                        # Xi' H Xi per group
        t22 = _by_pairs(_sum_outer(Phi, K).transpose(3, 0, 1, 2), q)
        g2_t = g2_t - np.einsum("kii->k", HP2)
        h22_t = h22_t - np.einsum("kij,lji->kl", HP2, HP2) + t22 + t22.T
    if stats.Q is None:
        # a constant level-1 variance: its entries follow from the level-2 ones (by scaling)
        nu = stats.n_obs - p if reml else stats.n_obs
        return (dev, r2) + _complete_by_scaling(D[_tril(q)], float(omega_upper[0]), nu, r2,
                                                g2_t, g2_r, h22_t, h22_r)

    # level-1 parameters: diagonal F_a, constant within a cell. V^-1 r = W C rt row by row with
    # rt = R c0, so everything below is a sum over cells of w_c^2 f_ac (or w_c^3 f_ac f_bc) times
    # S_c rt, rt'S_c rt or the Z'Z block of S_c: S_a = sum_c w_c^2 f_ac S_c is never formed.
    rt = np.tile(c0, (G, 1))
    rt[:, Zs] -= MZC @ c0
    Bz = np.eye(q) - MZC[:, :, Zs]                             # R's Z rows and columns (I - M Z'WZ)
    pairs = [(a, b) for a in range(m1) for b in range(a, m1)]
    wf = w[:, None] ** 2 * f                                   # (cells, m1)
    wff = np.column_stack([w ** 3 * f[:, a] * f[:, b] for a, b in pairs])
    rt_c = rt[stats.cell_group] if stats.agg is not None else rt
    S_rt = (S @ rt_c[:, :, None])[:, :, 0]                     # S_c rt, (cells, k)
    SZZ = S[:, Zs, Zs]
    Sr = _weighted_group_sums(stats, wf, S_rt)                 # S_a rt, (m1, G, k)
    SwfZ = _weighted_group_sums(stats, wf, SZZ)                # Z'W F_a W Z, (m1, G, q, q)
    SwffZ = dict(zip(pairs, _weighted_group_sums(stats, wff, SZZ)))
    quad_ff = dict(zip(pairs, _weighted_group_sums(stats, wff, np.einsum("ci,ci->c", S_rt, rt_c)).sum(1)))
    gam = Sr[:, :, Zs]                                         # Z'W F_a V^-1 r
    g1_t, g1_r = (stats.n * w) @ f - _trace_of_products(Mm, SwfZ), -(Sr * rt).sum(axis=(1, 2))
    b1 = (Sr[:, :, Xs] - (MZC[:, :, Xs].transpose(0, 2, 1)[None] @ gam[..., None])[..., 0]).sum(1)  # R_X' S_a rt
    YZZ = Bz.transpose(0, 2, 1)[None] @ SwfZ @ Bz[None]        # Z'V^-1 F_a V^-1 Z
    v1 = (Bz.transpose(0, 2, 1)[None] @ gam[..., None])[..., 0]          # Z'V^-1 F_a V^-1 r
    h11_t, h11_r = np.empty((m1, m1)), np.empty((m1, m1))
    for a, b in pairs:
        trace = (np.sum(stats.n * w ** 2 * f[:, a] * f[:, b])
                 - 2 * _trace_of_products(Mm, SwffZ[a, b])
                 + _trace_of_products(Mm @ SwfZ[a], Mm @ SwfZ[b]))
        # r'V^-1 F_a V^-1 F_b V^-1 r = rt' S_ab rt - gam_a' M gam_b
        quad = quad_ff[a, b] - np.sum((Mm @ gam[b][..., None])[..., 0] * gam[a])
        h11_t[a, b] = h11_t[b, a] = -trace
        h11_r[a, b] = h11_r[b, a] = 2 * quad
    h21_t = -_by_pair(YZZ.sum(1).transpose(2, 1, 0), q)
    h21_r = 2 * _by_pair((rho.T @ v1).transpose(1, 2, 0), q)
    h21_r = h21_r - 2 * b2 @ H @ b1.T
    h11_r = h11_r - 2 * b1 @ H @ b1.T
    if reml:
        RX = np.zeros((G, k, p))                               # R's X columns
        RX[:, Xs, :] = np.eye(p)
        RX[:, Zs, :] = -MZC[:, :, Xs]
        Swf = _weighted_group_sums(stats, wf)                  # S_a in full, (m1, G, k, k)
        Swff = dict(zip(pairs, _weighted_group_sums(stats, wff)))
        U = Swf @ RX[None]                                     # S_a R_X, (m1, G, k, p)
        HP1 = H @ (RX.transpose(0, 2, 1)[None] @ U).sum(1)     # H X'V^-1 F_a V^-1 X
        YZX = Bz.transpose(0, 2, 1)[None] @ U[:, :, Zs, :]     # Z'V^-1 F_a V^-1 X
        t21 = _by_pair((YZX @ HXi).sum(1).transpose(2, 1, 0), q)
        t11 = np.empty((m1, m1))
        for a, b in pairs:
            Yab = (RX.transpose(0, 2, 1) @ Swff[a, b] @ RX
                   - U[a][:, Zs, :].transpose(0, 2, 1) @ Mm @ U[b][:, Zs, :]).sum(0)
            t11[a, b] = np.sum(H * Yab.T)
            t11[b, a] = np.sum(H * Yab)
        g1_t = g1_t - np.einsum("kii->k", HP1)
        h21_t = h21_t - np.einsum("kij,lji->kl", HP2, HP1) + 2 * t21
        h11_t = h11_t - np.einsum("kij,lji->kl", HP1, HP1) + t11 + t11.T
    g_trace, g_resid = np.r_[g2_t, g1_t], np.r_[g2_r, g1_r]
    h_trace = np.block([[h22_t, h21_t], [h21_t.T, h11_t]])
    h_resid = np.block([[h22_r, h21_r], [h21_r.T, h11_r]])
    return (dev, r2, g_trace, g_resid, (h_trace + h_trace.T) / 2, (h_resid + h_resid.T) / 2)


def _complete_by_scaling(psi2, omega, nu, r2, g_t, g_r, h_t, h_r):
    """The level-1 variance omega's entries of the gradient and Hessian parts, from the level-2
    parameters' entries (psi2, the lower triangle of D) when the level-1 variance is constant.

    Multiplying every variance by s multiplies V by s: the trace part of the deviance gains
    nu log s and the residual part is divided by s. Euler's relations for such functions give
    g_t'psi = nu, g_r'psi = -r2, H_t psi = -g_t and H_r psi = -2 g_r, with psi = (psi2, omega),
    and these fix the last row and column. Much cheaper than computing them: a group's level-1
    terms are sums over its rows, the level-2 terms only over its random effects."""
    n2 = len(psi2)

    def complete(g, h, total, degree):
        g_full, h_full = np.empty(n2 + 1), np.empty((n2 + 1, n2 + 1))
        g_full[:n2], h_full[:n2, :n2] = g, (h + h.T) / 2
        g_full[n2] = (total - g @ psi2) / omega
        h_full[:n2, n2] = h_full[n2, :n2] = (-degree * g - h @ psi2) / omega
        h_full[n2, n2] = (-degree * g_full[n2] - h_full[n2, :n2] @ psi2) / omega
        return g_full, h_full

    g_trace, h_trace = complete(g_t, h_t, nu, 1)
    g_resid, h_resid = complete(g_r, h_r, -r2, 2)
    return g_trace, g_resid, h_trace, h_resid


def profiled_derivatives(stats: CellStats, x, reml=False, spec: Level1Spec | None = None):
    """Profiled deviance with its exact gradient and Hessian in x = (theta, free level-1 parameters).

    sigma2 is profiled out: with psi(x, s) = s (L L', Phi), the Hessian of dev(psi(x, s)) over
    (x, s) follows from variance_derivatives by the chain rule, and the Schur complement of s
    gives the Hessian of the profiled deviance. Returns (inf, None, None) where it is undefined.
    """
    q = stats.q
    nt = n_theta(q)
    L, T, phi_upper = _unpack(stats, x, spec)
    if spec is None:
        phi, free, others = np.array([1.0]), [0], []
    else:
        phi, free = phi_upper, list(spec.free)
        others = [i for i in spec.free if i != spec.scale_index]
    # the derivatives at s = 1 (D = T, Omega = Phi), then scaled to the profiled s = r'V^-1 r / nu
    parts = _derivative_parts(stats, T, phi, free, reml)
    if parts is None:
        return np.inf, None, None
    dev1, r2, g_trace, g_resid, h_trace, h_resid = parts
    nu = stats.n_obs - stats.p if reml else stats.n_obs
    if not (np.isfinite(dev1) and r2 > 0):
        return np.inf, None, None
    s = r2 / nu
    dev = dev1 + nu * np.log(s) + r2 / s - r2
    g = g_trace / s + g_resid / s ** 2
    H = h_trace / s ** 2 + h_resid / s ** 3
    omega = s * phi
    psi = np.concatenate((s * T[_tril(q)], omega[free]))
    J = np.zeros((len(psi), len(x)))                 # d psi / d x
    i, j = _tril(q)
    for col, (a, b) in enumerate(zip(*_tril(q))):
        # d (L L')_ij / d L_ab = delta_ia L_jb + delta_ja L_ib
        J[:nt, col] = s * ((i == a) * L[j, b] + (j == a) * L[i, b])
    for col, idx in enumerate(others):
        J[nt + free.index(idx), nt + col] = s
    Js = psi / s                                     # d psi / d s
    # second derivatives of psi: only the L-L block, s * delta_bd * (g as a symmetric matrix)
    Gm = np.zeros((q, q))
    Gm[i, j] = g[:nt]
    Gm = Gm + Gm.T                                   # off-diagonal once each side, diagonal twice
    HJ = H @ J
    Hxx = J.T @ HJ
    a, b = _tril(q)
    Hxx[:nt, :nt] += s * (b[:, None] == b[None, :]) * Gm[a[:, None], a[None, :]]
    Hxs = J.T @ (H @ Js + g / s)
    Hss = Js @ H @ Js
    hess = Hxx - np.outer(Hxs, Hxs) / Hss
    return dev, J.T @ g, (hess + hess.T) / 2


def _profiled_at(stats, x, reml, spec):
    """The profiled deviance at x = (theta, free level-1 parameters)."""
    _, T, phi_upper = _unpack(stats, x, spec)
    return profiled_deviance(stats, T, phi_upper, reml)


def _newton_gain(g, H):
    """What a full Newton step would still lower the deviance by, times 2 (g'H^-1 g); inf where H
    is not positive definite."""
    try:
        c = np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        return np.inf
    return float(np.sum(np.linalg.solve(c, g) ** 2))


def _trust_step(g, H, radius):
    """The step s that minimises g's + s'Hs/2 subject to |s| <= radius (the trust-region
    subproblem), solved exactly through the eigenvalues of H (a few parameters only).

    The full Newton step -H^-1 g if H is positive definite and the step is short enough;
    otherwise the step -(H + mu I)^-1 g on the boundary, with mu >= max(0, -smallest eigenvalue)
    found by Newton's method on 1/|s(mu)| (which is concave in mu, so it converges from below)."""
    lam, vec = np.linalg.eigh(H)
    gq = vec.T @ g
    if lam[0] > 0:
        step = -gq / lam
        if np.linalg.norm(step) <= radius:
            return vec @ step
    lo = max(0.0, -lam[0])
    mu = lo + 1e-12 * max(1.0, abs(lam[-1]))
    step = -gq / (lam + mu)
    if np.linalg.norm(step) < radius:
        # the "hard case": g has (almost) nothing along the direction of the smallest eigenvalue;
        # go as far as the boundary along it
        step = np.where(lam + lo > 1e-12 * max(1.0, abs(lam[-1])), -gq / (lam + lo + 1e-300), 0.0)
        step[0] += np.sqrt(max(radius ** 2 - step @ step, 0.0))
        return vec @ step
    for _ in range(100):
        size = np.linalg.norm(step)
        if abs(size - radius) <= 1e-8 * radius:
            break
        slope = np.sum(gq ** 2 / (lam + mu) ** 3) / size ** 3       # d(1/|s|)/d mu
        mu += (1 / radius - 1 / size) / slope
        step = -gq / (lam + mu)
    return vec @ step


def _newton(stats, x, reml, spec, max_steps=200):
    """Newton's method (_newton_steps), with numpy's warnings about overflow and division by zero
    silenced: trial points outside the parameter space are expected, and rejected."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return _newton_steps(stats, x, reml, spec, max_steps)


def _newton_steps(stats, x, reml, spec, max_steps):
    """Newton's method with the exact Hessian, kept safe by a trust region: a step is taken only
    if it lowers the deviance; the radius shrinks when the quadratic model predicted the change
    badly and grows when a full step did well. It stops at the first point where even a full
    Newton step could not change the deviance beyond its rounding error.
    Returns x, the deviance, its gradient and Hessian there, the evaluations used and whether
    it converged."""
    x = np.asarray(x, dtype=float)
    f, g, H = profiled_derivatives(stats, x, reml, spec)
    evals, radius = 1, 1.0
    diagonal, tried = _diagonal(stats.q), set()
    for _ in range(max_steps):
        if not np.isfinite(f) or _newton_gain(g, H) < 1e-11 or radius < 1e-12 * (1 + np.linalg.norm(x)):
            break
        step = _trust_step(g, H, radius)
        if not np.all(np.isfinite(step)):          # the subproblem broke down (rounding): smaller steps
            radius /= 4
            continue
        predicted = -(g @ step + step @ H @ step / 2)
        f_new, g_new, H_new = profiled_derivatives(stats, x + step, reml, spec)
        evals += 1
        ratio = (f - f_new) / predicted if predicted > 0 and np.isfinite(f_new) else -1.0
        length = np.linalg.norm(step)
        if ratio < 0.25:
            radius = length / 4
        elif ratio > 0.75 and length > 0.99 * radius:
            radius = min(2 * radius, 1e3)
        if (ratio > 0 and f_new <= f) or (np.isfinite(f_new) and f_new <= f + 1e-12 * abs(f)
                                          and _newton_gain(g_new, H_new) < 1e-11):
            # (a point that is as low within the rounding of the deviance and where nothing is
            # left to gain is the optimum, even if rounding makes it look a hair higher)
            x, x_before, f, g, H = x + step, x, f_new, g_new, H_new
            # A variance that heads for zero (a singular optimum) gets there only linearly: the
            # deviance is flat to fourth order there. Where a diagonal element of L has shrunk by
            # a third in a step (Newton's rate on x^4) and the next Newton step would shrink it
            # by a third again, try zero at once (once for each element).
            try:
                ahead = x - np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                ahead = x
            for i in diagonal:
                if (i not in tried and 0 < abs(x[i]) <= 0.7 * abs(x_before[i])
                        and abs(ahead[i]) <= 0.7 * abs(x[i])):
                    tried.add(i)
                    trial = x.copy()
                    trial[i] = 0.0
                    f_0, g_0, H_0 = profiled_derivatives(stats, trial, reml, spec)
                    evals += 1
                    if np.isfinite(f_0) and f_0 <= f:
                        x, f, g, H = trial, f_0, g_0, H_0
    ok = bool(np.isfinite(f) and (np.max(np.abs(g)) < 1e-6 or _newton_gain(g, H) < 1e-8))
    return x, f, g, H, evals, ok


def _moment_start(stats: CellStats):
    """theta from moment estimates, a start for Newton's method (None where too few groups
    allow them). Each group's own least-squares coefficients on Z (after the pooled
    least-squares fit of the fixed part) vary between groups by D plus their sampling variance
    sigma2 (Z_j'Z_j)^-1, with sigma2 from the residuals within groups: so D is about the
    covariance of the coefficients less the mean sampling variance (kept positive definite).
    All of it comes from the groups' cross-products."""
    p, q = stats.p, stats.q
    S = stats.S if stats.agg is None else _sum_cells(stats, stats.S)
    n = stats.n if stats.agg is None else np.bincount(stats.cell_group, weights=stats.n)
    tot = S.sum(axis=0)
    try:
        beta = np.linalg.solve(tot[:p, :p], tot[:p, -1])
    except np.linalg.LinAlgError:
        return None
    c = np.concatenate((-beta, np.zeros(q), [1.0]))
    ZZ, Zr = S[:, p:p + q, p:p + q], S[:, p:p + q, :] @ c
    eig = np.linalg.eigvalsh(ZZ)
    ok = (n > q) & (eig[:, 0] > 1e-8 * eig[:, -1])             # groups with their own fit
    if ok.sum() < q + 2:
        return None
    ZZ_inv = np.linalg.inv(ZZ[ok])
    b = (ZZ_inv @ Zr[ok][:, :, None])[:, :, 0]
    rss = S[ok] @ c @ c - np.sum(Zr[ok] * b, axis=1)
    sigma2 = rss.sum() / (n[ok] - q).sum()
    if not sigma2 > 0:
        return None
    D = np.cov(b.T).reshape(q, q) - sigma2 * ZZ_inv.mean(axis=0)
    lam, vec = np.linalg.eigh(D / sigma2)
    lam = np.maximum(lam, 1e-2 * max(lam[-1], 1e-2))          # positive definite
    return np.linalg.cholesky((vec * lam) @ vec.T)[_tril(q)]


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
    theta0 = np.zeros(nt)
    theta0[_diagonal(q)] = 1.0
    if spec is not None:
        others = [i for i in spec.free if i != spec.scale_index]
        # start from a constant level-1 variance where the design allows it
        F = stats.Q[:, spec.free] * _upper_weights(spec.m)[spec.free]
        sol, *_ = np.linalg.lstsq(F, np.ones(len(F)), rcond=None)
        sol = sol / sol[list(spec.free).index(spec.scale_index)]
        phi0 = np.array([sol[list(spec.free).index(i)] for i in others])
        if np.any(F @ sol <= 0):
            phi0 = np.zeros(len(others))
    else:
        phi0 = np.zeros(0)

    if len(phi0):
        phi0[np.abs(phi0) < 1e-12] = 0.0
    # Newton's method is fastest from near the optimum: start from the moment estimates where
    # the groups allow them, else from the best of a few sizes of the random part (on the
    # rescaled variables the relative variances are of order 0.01 to 1)
    moment = _moment_start(stats)
    if moment is not None and spec is not None:
        # the moment estimates are relative to the level-1 variance, T to the scale element of
        # Phi: rescale by the mean relative level-1 variance at the start
        level1 = _weights(stats, phi_matrix(phi0, spec))
        mean = float(stats.n @ level1) / stats.n_obs
        moment = moment * np.sqrt(mean) if mean > 0 else None
    if moment is not None:
        x0, n_evals = np.r_[moment, phi0], 0
    else:
        starts = [np.r_[c * theta0, phi0] for c in (1.0, 0.3, 0.1)]
        values = [_profiled_at(stats, x, reml, spec) for x in starts]
        x0 = starts[int(np.argmin(values))]
        n_evals = len(starts)

    def search(start_x):
        nonlocal n_evals
        # Newton steps with the exact Hessian converge in a few iterations from the start
        x, f, g, H, evals, ok = _newton(stats, start_x, reml, spec)
        n_evals += evals
        if ok:
            return x, f, g, H, "Newton's method converged"
        # rarely needed: quasi-Newton steps from where Newton stopped, then Newton again.
        # Unbounded: the sign of a column of L does not change T = L L', and bounds would
        # trap the search at a zero diagonal, where the gradient in that direction vanishes.
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            res = optimize.minimize(lambda y: deviance_and_gradient(stats, y, reml, spec), x, jac=True,
                                    method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 10000,
                                                                "maxfun": 20000})
        n_evals += res.nfev
        x, f, g, H, evals, ok = _newton(stats, res.x, reml, spec)
        n_evals += evals
        return x, f, g, H, str(res.message)

    x, f, g, H, how = search(x0)
    # A zero diagonal of L is a stationary point in its own direction, which may be a saddle
    # (when the variance should be positive). Where the exact Hessian there is positive
    # definite it is a minimum; otherwise restart from a small positive value to make sure.
    big = max(np.max(np.abs(x[:nt])), 1e-3)
    eig = np.linalg.eigvalsh(H)
    minimum = bool(eig[0] > 1e-8 * abs(eig[-1]))
    for i in _diagonal(q):
        if abs(x[i]) < 1e-6 * big and not minimum:
            trial = x.copy()
            trial[i] = 0.1 * big
            found = search(trial)
            if found[1] < f - 1e-9:
                x, f, g, H, how = found
    # lme4 flags max|gradient| of the deviance above 0.002; use the same yardstick
    ok = bool(np.isfinite(f) and np.max(np.abs(g)) < 2e-3)
    msg = "the gradient vanishes at the optimum" if ok else (
        f"the gradient is still {np.max(np.abs(g)):.2g} at the end ({how})")
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
