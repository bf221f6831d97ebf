"""The exact gradient and Hessian (model/derivatives.py) against finite differences and an
independent derivation (likelihood_reference.py)."""
import numpy as np
import pytest

import lemma_helpers as lh
from lemma_helpers.model import cells, derivatives, likelihood, parameters
from lemma_helpers.model.design import build_design

import likelihood_reference as reference


def test_exact_gradient_matches_finite_differences(ssls):
    d = build_design("score ~ cohort90 + female + (1 + cohort90 + female | schoolid)", ssls)
    st = cells.cell_stats(d.X, d.Z, d.y / d.y.std(), d.groups)
    theta = np.array([0.5, 0.1, 0.3, -0.05, 0.02, 0.2])
    for reml in (False, True):
        _, grad = derivatives.deviance_and_gradient(st, theta, reml)
        f = lambda t: likelihood.profiled_deviance(st, parameters.theta_to_T(t, 3), None, reml)  # noqa: E731
        h = 1e-6
        num = [(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(6)]
        assert np.allclose(grad, num, rtol=1e-5, atol=1e-3)


def _central(fun, x, h):
    """Central differences of fun (a number or an array) at x, one column per parameter."""
    return np.array([(fun(x + h[i] * e) - fun(x - h[i] * e)) / (2 * h[i]) for i, e in enumerate(np.eye(len(x)))])


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("level1", [None, "~ 0 + C(b)", "~ 1 + x"])
def test_exact_hessian_of_the_variance_parameters(small, level1, reml):
    """variance_derivatives: deviance, gradient and Hessian (standard errors, Newton steps) agree with
    finite differences of the deviance and of the gradient, away from the optimum too."""
    m = lh.fit("y ~ x + z + (1 + x | g)", data=small, level1=level1, reml=reml)
    st = m._std[0]
    free = [0] if m._spec is None else list(m._spec.free)
    x0 = m._var_vector_std() * np.linspace(0.8, 1.3, len(m._var_vector_std()))

    def at(v):
        D, om, _ = m._unpack_std(v)
        return derivatives.variance_derivatives(st, D, om, free, reml)

    dev, grad, hess = at(x0)
    D, om, k = m._unpack_std(x0)
    assert dev == pytest.approx(reference.full_deviance(st, D, om, k, reml), abs=1e-9)
    h = 1e-5 * np.maximum(np.abs(x0), 1e-3)
    assert np.allclose(grad, _central(lambda v: at(v)[0], x0, h), rtol=1e-5, atol=1e-5)
    assert np.allclose(hess, _central(lambda v: at(v)[1], x0, h), rtol=1e-6, atol=1e-6 * np.abs(hess).max())


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("level1", [None, "~ 1 + x"])
def test_exact_hessian_of_the_profiled_deviance(small, level1, reml):
    """profiled_derivatives (theta and the level-1 parameters, sigma2 profiled out) agrees with the
    gradient of deviance_and_gradient and with finite differences of that gradient."""
    m = lh.fit("y ~ x + z + (1 + x | g)", data=small, level1=level1, reml=reml)
    st, spec = m._std[0], m._spec
    x0 = np.r_[m._opt.theta, m._opt.phi_free] * 1.1 + 0.01
    dev, grad, hess = derivatives.profiled_derivatives(st, x0, reml, spec)
    dev2, grad2 = reference.deviance_and_gradient(st, x0, reml, spec)
    assert dev == pytest.approx(dev2, abs=1e-9)
    assert np.allclose(grad, grad2, rtol=1e-9, atol=1e-9)
    h = 1e-5 * np.maximum(np.abs(x0), 1e-3)
    numeric = _central(lambda v: reference.deviance_and_gradient(st, v, reml, spec)[1], x0, h)
    assert np.allclose(hess, numeric, rtol=1e-6, atol=1e-6 * np.abs(hess).max())
