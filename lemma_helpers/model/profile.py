"""Profile likelihood intervals for the two variances of a random intercept model.

A variance cannot be negative and its estimates are skewed to the right, so "estimate +/- 1.96
SE" is a poor interval for it: with few groups it even reaches below 0. The profile likelihood
interval inverts the likelihood ratio test instead. It holds every value v of the variance that
a test of "the variance is v" would not reject at the 5% level:

    2 (log L(estimates) - max log L with the variance held at v) <= 3.84 (chi-square, 1 df),

where the maximum is taken over all the other parameters. It never leaves the values a variance
can take (its lower end is 0 when the test would not reject a variance of 0) and it is longer
above the estimate than below, as the sampling distribution is. ``confint(m, method = "profile")``
in lme4 gives the same interval (for the standard deviations; squared, for the variances).

For a random intercept model, with theta = s2_u / s2_e, the deviance with beta profiled out is

    dev(s2_u, s2_e) = sum_j log A_j(theta) + n log(2 pi s2_e) + r2(theta) / s2_e,

where A_j and r2 are those of ``likelihood.py``; holding one variance fixed leaves a search over
the other alone.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize

from .likelihood import criterion, pieces

CHI2_1_95 = 3.841458820694124      # the 95% point of a chi-square on 1 df


def _deviance(stats, s2_u: float, s2_e: float) -> float:
    """-2 log L at the two variances, beta profiled out (ML)."""
    if not (s2_e > 0 and s2_u >= 0):
        return np.inf
    pc = pieces(stats, np.array([[s2_u / s2_e]]))
    if pc is None:
        return np.inf
    _, _, beta, r2 = criterion(stats, pc, reml=False)
    if beta is None:
        return np.inf
    return float(pc.logdet_a + stats.n_obs * np.log(2 * np.pi * s2_e) + r2 / s2_e)


def _profile_u(stats, v: float, s2_e_hat: float) -> float:
    """The smallest deviance with s2_u held at v: a search over log s2_e."""
    res = optimize.minimize_scalar(lambda t: _deviance(stats, v, np.exp(t)), method="bounded",
                                   bounds=(np.log(s2_e_hat) - 4, np.log(s2_e_hat) + 4),
                                   options={"xatol": 1e-7})
    return float(res.fun)


def _profile_e(stats, s: float, top: float) -> float:
    """The smallest deviance with s2_e held at s: a search over sqrt(s2_u) in [0, sqrt(top)]."""
    res = optimize.minimize_scalar(lambda r: _deviance(stats, r * r, s), method="bounded",
                                   bounds=(0.0, np.sqrt(top)), options={"xatol": 1e-7})
    return float(min(res.fun, _deviance(stats, 0.0, s)))


def _end(excess, start: float, step: float) -> float:
    """Where ``excess`` (the deviance above the interval's edge) crosses 0, going out from ``start``
    (where it is negative) by factors of ``step``: upwards for a step above 1, downwards below 1.
    inf (or 0) if it never does."""
    prev = start
    for _ in range(80):
        x = prev * step
        if excess(x) > 0:
            lo, hi = sorted((prev, x))
            return float(optimize.brentq(excess, lo, hi, xtol=1e-10 * hi, rtol=1e-8))
        prev = x
    return np.inf if step > 1 else 0.0


def variance_intervals(res, level: float = 0.95):
    """Profile likelihood intervals of s2_u and s2_e of a random intercept model fitted by ML.

    Parameters
    ----------
    res : MultilevelResult
        A model with a random intercept only and one level-1 variance, fitted by ML.
    level : float
        0.95 only (the interval inverts the 5% likelihood ratio test).

    Returns
    -------
    ndarray of shape (2, 2) or None
        Rows ``s2_u`` and ``s2_e``, columns lower and upper end; None for a model of another kind
        (random slopes, a level-1 variance function, REML), whose variances are not profiled here.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> from lemma_helpers.model.profile import variance_intervals
    >>> m = lh.fit("normexam ~ 1 + (1 | school)", data=lh.load_dataset("exam"))
    >>> variance_intervals(m).round(4)          # lme4: confint(m, method = "profile")^2
    array([[0.1167, 0.2512],
           [0.8116, 0.8861]])
    """
    if level != 0.95:
        raise ValueError("Only 95% intervals are computed.")
    if res.reml or res._phi is not None or res.random_terms != ["Intercept"]:
        return None
    stats = res._stats
    s2_u, s2_e = float(res._D[0, 0]), float(res._sigma2)
    best = _deviance(stats, s2_u, s2_e)
    top = 100 * max(s2_u, s2_e)
    out = np.empty((2, 2))

    def excess_u(v):
        return _profile_u(stats, v, s2_e) - best - CHI2_1_95

    def excess_e(s):
        return _profile_e(stats, s, top) - best - CHI2_1_95

    out[0, 0] = 0.0 if s2_u == 0 or excess_u(0.0) <= 0 else _end(excess_u, s2_u, 0.5)
    out[0, 1] = _end(excess_u, max(s2_u, 1e-6 * s2_e), 2.0)
    out[1, 0] = _end(excess_e, s2_e, 0.9)
    out[1, 1] = _end(excess_e, s2_e, 1.1)
    return out
