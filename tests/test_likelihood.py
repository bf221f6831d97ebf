"""The likelihood (model/likelihood.py): an independent check by dense matrices, the optimum, and the
fast batched path of derivatives.py against the readable one."""
import numpy as np
import pytest
from scipy import stats as sps

import lemma_helpers as lh
from lemma_helpers.model import derivatives, likelihood, parameters

import likelihood_reference as reference


def _dense_loglik(y, X, Z, groups, D, level1_var, beta):
    """Log-likelihood by building V_j for every group: slow, but obviously right."""
    total = 0.0
    for g in np.unique(groups):
        rows = groups == g
        V = Z[rows] @ D @ Z[rows].T + np.diag(level1_var[rows])
        total += sps.multivariate_normal(X[rows] @ beta, V).logpdf(y[rows])
    return total


@pytest.mark.parametrize("level1", [None, "~ 0 + C(b)", "~ 1 + x"])
def test_loglik_matches_dense_computation(small, level1):
    m = lh.fit("y ~ x + z + (1 + x | g)", data=small, level1=level1)
    d = m.design
    var1 = m.level1_variance(x=small["x"], b=small["b"])
    dense = _dense_loglik(d.y, d.X, d.Z, d.groups, m.level2_cov.to_numpy(), var1,
                          m.fixed["estimate"].to_numpy())
    assert m.loglik == pytest.approx(dense, abs=1e-8)


def test_optimum_is_a_maximum(small):
    m = lh.fit("y ~ x + z + (1 + x | g)", data=small)
    D = m.level2_cov.to_numpy()
    st = m._stats
    best = reference.full_deviance(st, D, np.array([m.level1_var]))
    for k in range(20):
        rng = np.random.default_rng(k)
        P = rng.normal(scale=1e-3, size=(2, 2))
        P = P + P.T
        assert reference.full_deviance(st, D + P, np.array([m.level1_var * (1 + rng.normal(scale=1e-3))])) >= best - 1e-9


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("level1", [None, "~ 0 + C(b)", "~ 1 + x"])
@pytest.mark.parametrize("random", ["1", "1 + x", "1 + x + z"])
def test_batched_derivatives_compute_the_readable_deviance(small, random, level1, reml):
    """The fast path (derivatives.py, which Newton and its L-BFGS fallback both use) computes the same
    profiled deviance as likelihood.py, at the optimum and away from it, to 1e-10 relative; and its
    gradient is that of likelihood_reference.py (a derivation of its own) to 1e-10 relative too."""
    m = lh.fit(f"y ~ x + z + ({random} | g)", data=small, level1=level1, reml=reml)
    st, spec = m._std[0], m._spec
    optimum = np.r_[m._opt.theta, m._opt.phi_free]
    rng = np.random.default_rng(len(optimum))
    for x in [optimum, optimum * 1.3 + 0.05, optimum + rng.normal(scale=0.1, size=len(optimum))]:
        _, T, phi_upper = parameters._unpack(st, x, spec)
        readable = likelihood.profiled_deviance(st, T, phi_upper, reml)
        dev, grad, _ = derivatives.profiled_derivatives(st, x, reml, spec)
        assert np.isfinite(readable)
        assert dev == pytest.approx(readable, rel=1e-10)
        # (near the optimum the gradient is rounding noise: compare it on the deviance's scale)
        _, other = reference.deviance_and_gradient(st, x, reml, spec)
        assert np.allclose(grad, other, rtol=1e-10, atol=1e-10 * abs(readable))


@pytest.mark.parametrize("reml", [False, True])
def test_batched_derivatives_compute_the_readable_deviance_on_course_data(ssls, reml):
    """As above on the course's largest level-1 function (2,631 school-by-cohort cells)."""
    m = lh.fit("score ~ cohort90 + female + (1 + cohort90 | schoolid)", data=ssls, level1="~ 1 + cohort90",
               reml=reml)
    st, spec = m._std[0], m._spec
    optimum = np.r_[m._opt.theta, m._opt.phi_free]
    for x in [optimum, optimum * 1.1 + 0.01]:
        _, T, phi_upper = parameters._unpack(st, x, spec)
        readable = likelihood.profiled_deviance(st, T, phi_upper, reml)
        dev, grad, _ = derivatives.profiled_derivatives(st, x, reml, spec)
        assert dev == pytest.approx(readable, rel=1e-10)
        _, other = reference.deviance_and_gradient(st, x, reml, spec)
        assert np.allclose(grad, other, rtol=1e-10, atol=1e-10 * abs(readable))
