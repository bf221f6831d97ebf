"""Independent derivations of the deviance and its gradient, for the tests only.

``lemma_helpers.model`` computes the deviance in ``likelihood.py`` and its derivatives in
``derivatives.py``; the tests check both against these, which are written another way:
``full_deviance`` puts sigma2 in by hand instead of profiling it out, and
``deviance_and_gradient`` differentiates the profiled deviance in reverse (from the deviance back
to T = L L' and to each cell's weighted cross-products) instead of through the variance parameters.
"""
import numpy as np

from lemma_helpers.model.likelihood import criterion, level1_weights, pieces
from lemma_helpers.model.parameters import _tril, _unpack, _upper_weights


def full_deviance(stats, D, omega_upper, scale_index=0, reml=False):
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
    _, XWX, beta, r2 = criterion(stats, pc)
    if beta is None:
        return np.inf
    dev = pc.logdet_a + pc.logdet_w + n * np.log(2 * np.pi * sigma2) + r2 / sigma2
    if reml:
        dev += np.linalg.slogdet(XWX)[1] - p * np.log(2 * np.pi * sigma2)
    return dev


def deviance_and_gradient(stats, x, reml=False, spec=None):
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
    A, B, S = pc.A, pc.B, pc.S
    dev, XWX, beta, r2 = criterion(stats, pc, reml)
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
    w = level1_weights(stats, phi_upper)
    dw = -np.einsum("cab,cab->c", GS[stats.cell_group], stats.S) / w ** 2 + stats.n / w
    dphi = (dw[:, None] * stats.Q).sum(axis=0) * _upper_weights(spec.m)
    others = [i for i in spec.free if i != spec.scale_index]
    return dev, np.r_[grad, dphi[others]]
