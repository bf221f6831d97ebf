"""The search for the optimum: Newton's method with a trust region, from moment estimates.

The exact gradient and Hessian of the profiled deviance (``derivatives.py``) give the optimum in
a handful of steps, kept safe by a trust region whose subproblem is solved exactly from the
eigenvalues of the (small) Hessian. The start comes from moment estimates. Where Newton's method
does not converge, L-BFGS with the same exact gradient takes over and Newton finishes from there.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .cells import CellStats, _sum_cells
from .derivatives import deviance_and_gradient, profiled_derivatives
from .likelihood import level1_weights, profiled_deviance
from .parameters import Level1Spec, _diagonal, _tril, _unpack, _upper_weights, n_theta, phi_matrix


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
    """Where the search ended: theta, the free level-1 parameters, the deviance there, whether it
    converged (in words too) and the deviance evaluations it used."""

    theta: np.ndarray
    phi_free: np.ndarray
    deviance: float
    converged: bool
    message: str
    n_evals: int


def _level1_start(stats: CellStats, spec: Level1Spec | None):
    """The level-1 parameters to start from: a constant level-1 variance where the level-1 design
    allows it, else zeros (empty without a level-1 function)."""
    if spec is None:
        return np.zeros(0)
    others = [i for i in spec.free if i != spec.scale_index]
    F = stats.Q[:, spec.free] * _upper_weights(spec.m)[spec.free]
    sol, *_ = np.linalg.lstsq(F, np.ones(len(F)), rcond=None)
    sol = sol / sol[list(spec.free).index(spec.scale_index)]
    phi0 = np.array([sol[list(spec.free).index(i)] for i in others])
    if np.any(F @ sol <= 0):
        phi0 = np.zeros(len(others))
    if len(phi0):
        phi0[np.abs(phi0) < 1e-12] = 0.0
    return phi0


def _start(stats: CellStats, reml: bool, spec: Level1Spec | None):
    """Where Newton's method starts, and the evaluations spent choosing it.

    Newton's method is fastest from near the optimum: start from the moment estimates where the
    groups allow them, else from the best of a few sizes of the random part (on the rescaled
    variables the relative variances are of order 0.01 to 1)."""
    q = stats.q
    phi0 = _level1_start(stats, spec)
    moment = _moment_start(stats)
    if moment is not None and spec is not None:
        # the moment estimates are relative to the level-1 variance, T to the scale element of
        # Phi: rescale by the mean relative level-1 variance at the start
        level1 = level1_weights(stats, phi_matrix(phi0, spec))
        mean = float(stats.n @ level1) / stats.n_obs
        moment = moment * np.sqrt(mean) if mean > 0 else None
    if moment is not None:
        return np.r_[moment, phi0], 0
    theta0 = np.zeros(n_theta(q))
    theta0[_diagonal(q)] = 1.0
    starts = [np.r_[c * theta0, phi0] for c in (1.0, 0.3, 0.1)]
    values = [_profiled_at(stats, x, reml, spec) for x in starts]
    return starts[int(np.argmin(values))], len(starts)


def _search(stats: CellStats, x, reml: bool, spec: Level1Spec | None):
    """Newton's method from x; where it does not converge (rarely), L-BFGS steps with the same
    exact gradient from where it stopped, then Newton again. Returns x, the deviance, its gradient
    and Hessian, how it ended and the evaluations used.

    L-BFGS runs unbounded: the sign of a column of L does not change T = L L', and bounds would
    trap the search at a zero diagonal, where the gradient in that direction vanishes."""
    x, f, g, H, evals, ok = _newton(stats, x, reml, spec)
    if ok:
        return x, f, g, H, "Newton's method converged", evals
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        res = optimize.minimize(lambda y: deviance_and_gradient(stats, y, reml, spec), x, jac=True,
                                method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 10000,
                                                            "maxfun": 20000})
    x, f, g, H, more, ok = _newton(stats, res.x, reml, spec)
    return x, f, g, H, str(res.message), evals + res.nfev + more


def optimise(stats: CellStats, reml: bool, spec: Level1Spec | None) -> Optimum:
    """Minimise the profiled deviance over the Cholesky factor of T and the level-1 parameters."""
    q = stats.q
    nt = n_theta(q)
    x0, n_evals = _start(stats, reml, spec)
    x, f, g, H, how, evals = _search(stats, x0, reml, spec)
    n_evals += evals
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
            found = _search(stats, trial, reml, spec)
            n_evals += found[-1]
            if found[1] < f - 1e-9:
                x, f, g, H, how = found[:5]
    # lme4 flags max|gradient| of the deviance above 0.002; use the same yardstick
    ok = bool(np.isfinite(f) and np.max(np.abs(g)) < 2e-3)
    msg = "the gradient vanishes at the optimum" if ok else (
        f"the gradient is still {np.max(np.abs(g)):.2g} at the end ({how})")
    return Optimum(theta=x[:nt], phi_free=x[nt:], deviance=f, converged=ok, message=msg,
                   n_evals=int(n_evals))
