"""The exact gradient and Hessian of the deviance, for Newton steps and standard errors.

The deviance itself is explained in ``likelihood.py``; this module differentiates it twice, all
groups at once. For the standard errors of the variance parameters and for Newton steps the
optimiser needs the curvature of the deviance, not only its slope. With V = sum_k psi_k G_k linear
in the variance parameters psi (G_k = Z E_k Z' for an element of D, a diagonal F_a of level-1
features for an element of Omega) and beta at its GLS value for each psi,

  d dev / d psi_k = tr(V^-1 G_k) - r'V^-1 G_k V^-1 r                     [- tr(H P_k)]
  d2 dev / d psi_k d psi_l = - tr(V^-1 G_k V^-1 G_l) + 2 r'V^-1 G_k V^-1 G_l V^-1 r
                             - 2 b_k' H b_l     [- tr(H P_k H P_l) + 2 tr(H X'V^-1 G_k V^-1 G_l V^-1 X)]

with r = y - X beta, H = (X'V^-1 X)^-1, b_k = X'V^-1 G_k V^-1 r, P_k = X'V^-1 G_k V^-1 X and
the bracketed REML terms. Within a group V^-1 C = W C R with R = I - [0 I 0]' M (Z'WC),
M = (I + D Z'WZ)^-1 D and W the level-1 precisions, so every term above is a small product
of the cells' cross-products S_c: nothing of size rows x rows is ever formed.

``profiled_derivatives`` turns these into the gradient and Hessian of the profiled deviance over
the search's parameters (theta, phi): Newton's method and its rare L-BFGS fallback both use it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import CellStats, _weighted_group_sums
from .parameters import Level1Spec, _off_diagonal, _tril, _unpack, _upper_weights, n_theta

LOG2PI = np.log(2 * np.pi)


def _by_pair(T, q):
    """Apply T, a form bilinear in a symmetric unit matrix E = e_i e_j' + e_j e_i' (or e_i e_i'),
    to every element: T has the two indices of E first; returns one entry per (i, j) pair."""
    i, j = _tril(q)                  # the (i, j) of each element of D, in the order of theta
    out = T[i, j]
    k, a, b = _off_diagonal(q)
    if len(k):
        out[k] += T[b, a]
    return out



def _sum_outer(A, B):
    """sum over groups g of A_g (x) B_g: for A (G, a...) and B (G, b...), shape (a..., b...)."""
    G = len(A)
    return (A.reshape(G, -1).T @ B.reshape(G, -1)).reshape(A.shape[1:] + B.shape[1:])


def _trace_of_products(A, B):
    """sum over groups (and any leading axes of B) of tr(A_g B_g), one value per leading axis."""
    return (A * np.swapaxes(B, -1, -2)).sum(axis=(-3, -2, -1))



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



@dataclass
class _Solved:
    """The groups' systems at given D and Omega, shared by every derivative (see the module's notes).

    Sw is C'WC per group, Mm = M = (I + D Z'WZ)^-1 D, MZC = M Z'WC (so that R = I - [0 I 0]' MZC),
    Sig = C'V^-1 C per group, H = (X'V^-1 X)^-1, c0 the coefficients of r = C c0, r2 = r'V^-1 r;
    ZVZ = Z'V^-1 Z, XVZ = X'V^-1 Z and ZVr = Z'V^-1 r per group (Phi, Xi and rho in the formulas
    below). w and f are the cells' level-1 precisions and features F_a (None without a level-1
    function)."""

    dev: float
    r2: float
    Sw: np.ndarray
    Mm: np.ndarray
    MZC: np.ndarray
    H: np.ndarray
    c0: np.ndarray
    ZVZ: np.ndarray
    XVZ: np.ndarray
    ZVr: np.ndarray
    w: np.ndarray | None
    f: np.ndarray | None


def _level1_precisions(stats: CellStats, omega_upper, free):
    """C'WC per group, log|W^-1|, and each cell's precision w_c and features F_a (the columns
    ``free`` of the level-1 design's quadratic features; w and F are None for a constant level-1
    variance). None where a level-1 variance is not positive."""
    if stats.Q is None:                                        # a constant level-1 variance
        omega = float(omega_upper[0])
        if not (np.isfinite(omega) and omega > 0):
            return None
        return stats.S / omega, stats.n_obs * np.log(omega), None, None   # one cell per group
    Qf = stats.Q * _upper_weights(int((np.sqrt(8 * len(omega_upper) + 1) - 1) / 2))
    omega_c = Qf @ np.asarray(omega_upper, dtype=float)        # each cell's level-1 variance
    if np.any(omega_c <= 0) or not np.all(np.isfinite(omega_c)):
        return None
    w = 1 / omega_c
    Sw = _weighted_group_sums(stats, w[:, None])[0]            # C'WC per group
    return Sw, np.sum(stats.n * np.log(omega_c)), w, Qf[:, free]


def _solve(stats: CellStats, D, omega_upper, free, reml) -> _Solved | None:
    """The deviance (beta profiled out, sigma2 not) and the groups' systems at D and Omega; None
    where V or X'V^-1 X is not positive definite."""
    p, q = stats.p, stats.q
    Xs, Zs = slice(0, p), slice(p, p + q)
    level1 = _level1_precisions(stats, omega_upper, free)
    if level1 is None:
        return None
    Sw, logdet_w, w, f = level1
    A = np.eye(q) + D @ Sw[:, Zs, Zs]
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
    return _Solved(dev=dev, r2=r2, Sw=Sw, Mm=Mm, MZC=MZC, H=H, c0=c0, ZVZ=Sig[:, Zs, Zs],
                   XVZ=Sig[:, Xs, Zs], ZVr=Sig[:, Zs, :] @ c0, w=w, f=f)


def _level2_terms(s: _Solved, q: int, reml: bool):
    """The level-2 parameters' gradient and Hessian terms (E_k in the Z'...Z block): (trace and
    residual parts of the gradient and of the Hessian, b_k of beta's profiling, and for REML
    H P_k and H Xi, which the level-1 terms need too)."""
    Phi, Xi, rho, H = s.ZVZ, s.XVZ, s.ZVr, s.H
    g2_t, g2_r = _by_pair(Phi.sum(0).T, q), -_by_pair(rho.T @ rho, q)
    # sum_g Phi_bc Phi_da and sum_g rho_a Phi_bc rho_d, as [a, b, c, d]
    h22_t = -_by_pairs(_sum_outer(Phi, Phi).transpose(3, 0, 1, 2), q)
    h22_r = 2 * _by_pairs(_sum_outer(rho[:, :, None] * rho[:, None, :], Phi).transpose(0, 2, 3, 1), q)
    b2 = _by_pair(_sum_outer(Xi, rho).transpose(1, 2, 0), q)             # (n2, p)
    P2 = _by_pair(_sum_outer(Xi, Xi).transpose(1, 3, 0, 2), q)           # (n2, p, p)
    # the terms of beta's profiling (- 2 b_k' H b_l) and of REML for the level-2 block
    h22_r = h22_r - 2 * b2 @ H @ b2.T
    HP2 = HXi = None
    if reml:
        HP2 = H @ P2
        HXi = H @ Xi                                           # H Xi per group
        # 2 tr(H X'V^-1 G_k V^-1 G_l V^-1 X), symmetrised over (k, l)
        K = Xi.transpose(0, 2, 1) @ HXi                        # Xi' H Xi per group
        t22 = _by_pairs(_sum_outer(Phi, K).transpose(3, 0, 1, 2), q)
        g2_t = g2_t - np.einsum("kii->k", HP2)
        h22_t = h22_t - np.einsum("kij,lji->kl", HP2, HP2) + t22 + t22.T
    return g2_t, g2_r, h22_t, h22_r, b2, HP2, HXi


def _level1_terms(stats: CellStats, s: _Solved, b2):
    """The level-1 parameters' gradient and Hessian terms (diagonal F_a, constant within a cell),
    ML part: (g1_t, g1_r, h11_t, h11_r, h21_t, h21_r, b1), with b1 from beta's profiling.

    V^-1 r = W C rt row by row with rt = R c0, so everything here is a sum over cells of
    w_c^2 f_ac (or w_c^3 f_ac f_bc) times S_c rt, rt'S_c rt or the Z'Z block of S_c:
    S_a = sum_c w_c^2 f_ac S_c is never formed."""
    p, q, S = stats.p, stats.q, stats.S
    Xs, Zs = slice(0, p), slice(p, p + q)
    w, f, Mm, MZC, H = s.w, s.f, s.Mm, s.MZC, s.H
    m1 = f.shape[1]
    rt = np.tile(s.c0, (len(s.Sw), 1))
    rt[:, Zs] -= MZC @ s.c0
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
    h21_r = 2 * _by_pair((s.ZVr.T @ v1).transpose(1, 2, 0), q)
    h21_r = h21_r - 2 * b2 @ H @ b1.T
    h11_r = h11_r - 2 * b1 @ H @ b1.T
    return g1_t, g1_r, h11_t, h11_r, h21_t, h21_r


def _level1_reml_terms(stats: CellStats, s: _Solved, HXi):
    """The REML terms of the level-1 parameters: H X'V^-1 F_a V^-1 X for each a, and the
    2 tr(H X'V^-1 G_k V^-1 G_l V^-1 X) terms of the level-2/level-1 (t21) and level-1 (t11) blocks."""
    p, q = stats.p, stats.q
    Xs, Zs = slice(0, p), slice(p, p + q)
    w, f, Mm, MZC, H = s.w, s.f, s.Mm, s.MZC, s.H
    m1 = f.shape[1]
    pairs = [(a, b) for a in range(m1) for b in range(a, m1)]
    wf = w[:, None] ** 2 * f
    wff = np.column_stack([w ** 3 * f[:, a] * f[:, b] for a, b in pairs])
    Bz = np.eye(q) - MZC[:, :, Zs]
    RX = np.zeros((len(s.Sw), p + q + 1, p))                   # R's X columns
    RX[:, Xs, :] = np.eye(p)
    RX[:, Zs, :] = -MZC[:, :, Xs]
    Swf = _weighted_group_sums(stats, wf)                      # S_a in full, (m1, G, k, k)
    Swff = dict(zip(pairs, _weighted_group_sums(stats, wff)))
    U = Swf @ RX[None]                                         # S_a R_X, (m1, G, k, p)
    HP1 = H @ (RX.transpose(0, 2, 1)[None] @ U).sum(1)         # H X'V^-1 F_a V^-1 X
    YZX = Bz.transpose(0, 2, 1)[None] @ U[:, :, Zs, :]         # Z'V^-1 F_a V^-1 X
    t21 = _by_pair((YZX @ HXi).sum(1).transpose(2, 1, 0), q)
    t11 = np.empty((m1, m1))
    for a, b in pairs:
        Yab = (RX.transpose(0, 2, 1) @ Swff[a, b] @ RX
               - U[a][:, Zs, :].transpose(0, 2, 1) @ Mm @ U[b][:, Zs, :]).sum(0)
        t11[a, b] = np.sum(H * Yab.T)
        t11[b, a] = np.sum(H * Yab)
    return HP1, t21, t11


def _derivative_parts(stats: CellStats, D, omega_upper, free, reml=False):
    """variance_derivatives in parts: (deviance, r'V^-1 r, gradient and Hessian terms with traces,
    gradient and Hessian terms with the residuals). Scaling all of D and Omega by s scales the
    trace terms by 1/s (gradient) and 1/s^2 (Hessian), the residual terms by 1/s^2 and 1/s^3."""
    q = stats.q
    s = _solve(stats, D, omega_upper, free, reml)
    if s is None:
        return None
    g2_t, g2_r, h22_t, h22_r, b2, HP2, HXi = _level2_terms(s, q, reml)
    if stats.Q is None:
        # a constant level-1 variance: its entries follow from the level-2 ones (by scaling)
        nu = stats.n_obs - stats.p if reml else stats.n_obs
        return (s.dev, s.r2) + _complete_by_scaling(D[_tril(q)], float(omega_upper[0]), nu, s.r2,
                                                    g2_t, g2_r, h22_t, h22_r)
    g1_t, g1_r, h11_t, h11_r, h21_t, h21_r = _level1_terms(stats, s, b2)
    if reml:
        HP1, t21, t11 = _level1_reml_terms(stats, s, HXi)
        g1_t = g1_t - np.einsum("kii->k", HP1)
        h21_t = h21_t - np.einsum("kij,lji->kl", HP2, HP1) + 2 * t21
        h11_t = h11_t - np.einsum("kij,lji->kl", HP1, HP1) + t11 + t11.T
    g_trace, g_resid = np.r_[g2_t, g1_t], np.r_[g2_r, g1_r]
    h_trace = np.block([[h22_t, h21_t], [h21_t.T, h11_t]])
    h_resid = np.block([[h22_r, h21_r], [h21_r.T, h11_r]])
    return (s.dev, s.r2, g_trace, g_resid, (h_trace + h_trace.T) / 2, (h_resid + h_resid.T) / 2)


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


def deviance_and_gradient(stats: CellStats, x, reml=False, spec: Level1Spec | None = None):
    """The profiled deviance and its exact gradient in x = (theta, free level-1 parameters): those
    of profiled_derivatives (for a search that needs no Hessian, such as L-BFGS); (inf, zeros)
    where the deviance is undefined."""
    dev, grad, _ = profiled_derivatives(stats, x, reml, spec)
    return (dev, grad) if grad is not None else (np.inf, np.zeros_like(x))
