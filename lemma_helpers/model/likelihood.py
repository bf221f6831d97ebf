"""The likelihood of a two-level linear model, one equation at a time.

This module is course material: it is what ``lh.fit`` maximises, written so that it can be read
in one sitting. The notebooks that teach the model point here: ``02_comparing_groups`` (groups
and the variance between them), ``03_random_intercepts`` (the likelihood, ML and REML, the group
effects), ``04_random_slopes`` (a random part with several terms), ``05_level2_variables`` and
``06_complex_level1`` (a level-1 variance that depends on explanatory variables).

The model
---------
For group j with n_j rows,

    y_j = X_j beta + Z_j u_j + e_j,    u_j ~ N(0, D),    e_ij ~ N(0, omega_ij),

so y_j ~ N(X_j beta, V_j) with V_j = Z_j D Z_j' + Omega_j, Omega_j = diag(omega_ij). The level-1
variance is omega_ij = z1_ij' Omega z1_ij (MLwiN's "complex level-1 variation"; a constant
sigma2 when the model has no level-1 function). Write every variance relative to sigma2,

    D = sigma2 T,    Omega = sigma2 Phi,    omega_ij = sigma2 w_ij,    W_j = diag(1 / w_ij),

so that T and Phi carry the shape of the variances and sigma2 their size.

The Woodbury identities
-----------------------
V_j is n_j x n_j, but its inverse and determinant need only q x q matrices (q random terms):

    sigma2 V_j^-1 = W_j - W_j Z_j A_j^-1 T Z_j' W_j,       A_j = I + T Z_j' W_j Z_j,
    log|V_j| = n_j log sigma2 + log|W_j^-1| + log|A_j|.

So the likelihood depends on the data only through the cross-products C_j' W_j C_j of
C = [X Z y] (``cells.py`` sums them once per fit).

Profiling
---------
For given T and Phi, beta and sigma2 have closed forms (generalised least squares):

    beta = (X'V^-1 X)^-1 X'V^-1 y,    r2 = sigma2 (y - X beta)' V^-1 (y - X beta),
    sigma2 = r2 / nu,                 nu = n (ML) or n - p (REML).

Putting them back leaves a function of T and Phi alone, the profiled deviance (-2 log-likelihood):

    ML:    sum_j (log|A_j| + log|W_j^-1|) + n (1 + log(2 pi r2 / n))
    REML:  sum_j (log|A_j| + log|W_j^-1|) + (n - p) (1 + log(2 pi r2 / (n - p))) + log|sigma2 X'V^-1 X|

(REML is the likelihood of the residuals, which have n - p free dimensions: with few groups
its variances are less biased than ML's). ``optimise.py`` minimises the profiled deviance over
T (through its Cholesky factor, as lme4 does) and the free elements of Phi; ``derivatives.py``
gives its exact gradient and Hessian. All groups are handled at once: arrays have the group as
their first axis.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import CellStats, _sum_cells
from .parameters import _upper_weights


@dataclass
class Pieces:
    """What the profiled likelihood needs at given T and Phi, per group j and summed.

    Attributes
    ----------
    logdet_a : float
        sum_j log|A_j|, with A_j = I + T Z_j'W_j Z_j.
    logdet_w : float
        sum_j log|W_j^-1| = sum_ij log w_ij (0 without a level-1 function).
    M : ndarray, shape (p + 1, p + 1)
        sigma2 [X y]' V^-1 [X y], summed over the groups.
    A : ndarray, shape (G, q, q)
        A_j for every group.
    B : ndarray, shape (G, q, p + 1)
        Z_j' W_j [X_j y_j] for every group.
    S : ndarray, shape (G, p + q + 1, p + q + 1)
        C_j' W_j C_j for every group, C = [X Z y].
    """

    logdet_a: float
    logdet_w: float
    M: np.ndarray
    A: np.ndarray
    B: np.ndarray
    S: np.ndarray


def level1_weights(stats: CellStats, phi_upper):
    """The relative level-1 variance of each cell, w = z1' Phi z1; None without a level-1 function.

    ``phi_upper`` is Phi's upper triangle; an element off the diagonal counts twice.
    """
    if stats.Q is None:
        return None
    m = int((np.sqrt(8 * len(phi_upper) + 1) - 1) / 2)
    return stats.Q @ (_upper_weights(m) * phi_upper)


def weighted_cross_products(stats: CellStats, phi_upper):
    """C_j' W_j C_j = sum over the cells c of group j of S_c / w_c, and log|W^-1| = sum_c n_c log w_c.

    Returns (S, logdet_w), or None where some w_c is not positive (Phi is then not a covariance).
    """
    S, logdet_w = stats.S, 0.0
    if stats.Q is not None:
        w = level1_weights(stats, phi_upper)
        if np.any(w <= 0) or not np.all(np.isfinite(w)):
            return None
        S = S / w[:, None, None]
        logdet_w = float(np.sum(stats.n * np.log(w)))
    if len(stats.group_start) != len(stats.n):       # several cells in a group: add them up
        S = _sum_cells(stats, S)
    return S, logdet_w


def woodbury(S, T, p: int, q: int):
    """A_j = I + T Z_j'W_j Z_j, log|A_j| and A_j^-1 T B_j with B_j = Z_j'W_j [X_j y_j].

    Returns (A, log|A|, B, A^-1 T B), or None where some A_j has no positive determinant.
    With one random term (q = 1) every A_j is a number.
    """
    xy = np.r_[0:p, p + q]                  # positions of X and y in C = [X Z y]
    B = S[:, p:p + q][:, :, xy]
    A = np.eye(q) + T @ S[:, p:p + q, p:p + q]
    if q == 1:
        if np.any(A <= 0):
            return None
        return A, np.log(A[:, 0, 0]), B, (T[0, 0] / A) * B
    sign, logdet = np.linalg.slogdet(A)
    if np.any(sign <= 0):
        return None
    return A, logdet, B, np.linalg.solve(A, T @ B)


def gls_cross_products(S, B, AinvTB, p: int, q: int):
    """sigma2 [X y]'V^-1 [X y] = sum_j [X_j y_j]'W_j [X_j y_j] - B_j' A_j^-1 T B_j (Woodbury)."""
    xy = np.r_[0:p, p + q]
    G = len(S)
    return S[:, xy][:, :, xy].sum(axis=0) - B.reshape(G * q, -1).T @ AinvTB.reshape(G * q, -1)


def pieces(stats: CellStats, T, phi_upper=None) -> Pieces | None:
    """Everything the likelihood needs at relative covariances T (level 2) and Phi (level 1).

    Parameters
    ----------
    stats : CellStats
        The cells' cross-products (``cells.cell_stats``).
    T : ndarray, shape (q, q)
        The level-2 covariance relative to sigma2, D / sigma2.
    phi_upper : ndarray, optional
        The upper triangle of the level-1 covariance relative to sigma2, Omega / sigma2 (None
        without a level-1 function).

    Returns
    -------
    Pieces or None
        None where V_j is not positive definite for some group.
    """
    p, q = stats.p, stats.q
    weighted = weighted_cross_products(stats, phi_upper)
    if weighted is None:
        return None
    S, logdet_w = weighted
    solved = woodbury(S, T, p, q)
    if solved is None:
        return None
    A, logdet, B, AinvTB = solved
    M = gls_cross_products(S, B, AinvTB, p, q)
    return Pieces(logdet_a=float(logdet.sum()), logdet_w=logdet_w, M=M, A=A, B=B, S=S)


def deviance(logdet_v: float, r2: float, nu: int) -> float:
    """-2 log-likelihood with sigma2 = r2 / nu put in: logdet_v + nu (1 + log(2 pi r2 / nu)).

    ``logdet_v`` is sum_j log|V_j / sigma2|; nu is n for ML and n - p for REML.
    """
    return logdet_v + nu * (1 + np.log(2 * np.pi * r2 / nu))


def criterion(stats: CellStats, pc: Pieces, reml: bool = False):
    """From the pieces to the profiled deviance: returns (deviance, X'WX, beta, r2).

    X'WX here is sigma2 X'V^-1 X, beta the GLS estimate and r2 = sigma2 r'V^-1 r with
    r = y - X beta; the deviance is inf (and beta None) when X'WX or r2 is degenerate.
    """
    p, n = stats.p, stats.n_obs
    XWX, XWy, yWy = pc.M[:p, :p], pc.M[:p, p], pc.M[p, p]
    try:
        chol = np.linalg.cholesky(XWX)
    except np.linalg.LinAlgError:
        return np.inf, XWX, None, None
    beta = np.linalg.solve(XWX, XWy)
    r2 = yWy - XWy @ beta
    if not r2 > 0:
        return np.inf, XWX, None, None
    nu = n - p if reml else n
    dev = deviance(pc.logdet_a + pc.logdet_w, r2, nu)
    if reml:                                         # REML adds log|X'WX|, from its Cholesky factor
        dev += 2 * np.log(np.diag(chol)).sum()
    return dev, XWX, beta, r2


def profiled_deviance(stats: CellStats, T, phi_upper=None, reml: bool = False) -> float:
    """-2 log-likelihood (or the REML criterion) with beta and sigma2 profiled out.

    Parameters
    ----------
    stats, T, phi_upper
        As for :func:`pieces`.
    reml : bool
        The REML criterion instead of -2 log-likelihood.

    Returns
    -------
    float
        The profiled deviance; inf where V is not positive definite.

    Examples
    --------
    Three groups of two rows, an intercept in both parts. With no variance between the groups
    (T = 0) the model is an ordinary regression, whose deviance is n (1 + log(2 pi RSS / n)):

    >>> import numpy as np
    >>> from lemma_helpers.model.cells import cell_stats
    >>> groups = np.repeat([0, 1, 2], 2)
    >>> X, Z, y = np.ones((6, 1)), np.ones((6, 1)), np.array([1.0, 2, 3, 5, 4, 4])
    >>> st = cell_stats(X, Z, y, groups)
    >>> rss = np.sum((y - y.mean()) ** 2)
    >>> round(float(profiled_deviance(st, np.zeros((1, 1)))), 4), round(float(6 * (1 + np.log(2 * np.pi * rss / 6))), 4)
    (20.5725, 20.5725)

    A between-group variance equal to sigma2 (T = 1) fits these groups better:

    >>> round(float(profiled_deviance(st, np.ones((1, 1)))), 4)
    19.5536
    """
    pc = pieces(stats, T, phi_upper)
    return np.inf if pc is None else criterion(stats, pc, reml)[0]


def gls(stats: CellStats, T, phi_upper, reml: bool):
    """The estimates at given T and Phi (at the optimum: the fit's).

    Returns
    -------
    beta : ndarray
        (X'V^-1 X)^-1 X'V^-1 y.
    cov_beta : ndarray
        Its covariance (X'V^-1 X)^-1, whose diagonal gives the standard errors.
    sigma2 : float
        r2 / nu (nu = n for ML, n - p for REML).
    pc : Pieces
    deviance : float
    """
    pc = pieces(stats, T, phi_upper)
    p, n = stats.p, stats.n_obs
    dev, XWX, beta, r2 = criterion(stats, pc, reml)
    sigma2 = r2 / (n - p if reml else n)
    cov_beta = sigma2 * np.linalg.inv(XWX)
    return beta, cov_beta, sigma2, pc, float(dev)


def group_effects(stats: CellStats, T, sigma2, beta, pc: Pieces):
    """The group effects E(u_j | y) = A_j^-1 T Z_j'W_j r_j and their covariances sigma2 A_j^-1 T.

    These are lme4's ranef and condVar, computed from the residuals r_j = y_j - X_j beta. With a
    random intercept alone, E(u_j | y) = k_j mean(r_j) with k_j = s2_u / (s2_u + s2_e / n_j): the
    group's mean residual shrunk towards 0, the more so the fewer rows the group has.

    Returns
    -------
    u : ndarray, shape (G, q)
        E(u_j | y) for every group.
    cond_cov : ndarray, shape (G, q, q)
        The conditional covariances sigma2 A_j^-1 T (their diagonal gives the standard errors).
    """
    A, B = pc.A, pc.B
    p = stats.p
    ZWr = B[:, :, p] - B[:, :, :p] @ beta            # Z'W r = Z'W y - Z'W X beta
    u = np.linalg.solve(A, (T @ ZWr[:, :, None]))[:, :, 0]
    cond_cov = sigma2 * np.linalg.solve(A, np.broadcast_to(T, A.shape))
    return u, cond_cov
