"""The search (model/optimise.py): Newton's method ends where L-BFGS ends, at singular optima and on a million rows."""
import warnings

import numpy as np
import pandas as pd
import pytest

import lemma_helpers as lh
from lemma_helpers.model import cells, optimise
from lemma_helpers.model.design import build_design

import likelihood_reference as reference


def test_newton_reaches_the_optimum_that_quasi_newton_reaches(ssls):
    """The trust-region Newton search ends where L-BFGS (with exact gradients) ends."""
    from scipy import optimize

    d = build_design("score ~ cohort90 + female + (1 + cohort90 + female | schoolid)", ssls)
    st = cells.cell_stats(d.X, d.Z, d.y / d.y.std(), d.groups)
    opt = optimise.optimise(st, False, None)
    assert opt.converged
    res = optimize.minimize(lambda t: reference.deviance_and_gradient(st, t, False), np.r_[1.0, 0, 1, 0, 0, 1], jac=True,
                            method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 10000})
    assert opt.deviance <= res.fun + 1e-8
    assert opt.n_evals < 60


@pytest.mark.parametrize("seed", range(6))
def test_newton_finds_singular_optima(seed):
    """Random slopes on x where x has none, in groups of 3: the optimum is often singular (a zero
    diagonal of L, reached by a jump to zero). Newton ends where L-BFGS ends."""
    from scipy import optimize

    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(40), 3)
    x = rng.normal(size=g.size)
    y = 1 + 0.5 * x + rng.normal(0, 0.6, 40)[g] + rng.normal(size=g.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the singular fit's warning
        m = lh.fit("y ~ x + (1 + x | g)", data=pd.DataFrame({"y": y, "x": x, "g": g}))
    st = m._std[0]
    res = optimize.minimize(lambda t: reference.deviance_and_gradient(st, t, False), np.r_[1.0, 0, 1], jac=True,
                            method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-10})
    assert m.converged
    assert m._opt.deviance <= res.fun + 1e-9
    assert m._opt.n_evals <= 15


@pytest.mark.parametrize("formula", ["y ~ x + (1 | g)", "y ~ x + (1 + x | g)"])
def test_newton_stops_where_rounding_makes_the_optimum_look_higher(formula):
    """A million rows: the deviance (about 2.4e6) is rounded at about 1e-9, so the Newton step onto
    the optimum can look like a rise. The search must stop there and say it converged (it once
    went on shrinking its steps and reported a gradient of 0.005). Data as benchmarks/growth."""
    rng = np.random.default_rng([20261130, 1_000_000, 1000])
    g = rng.permutation(np.arange(1_000_000) % 1000).astype(np.int32)
    x = rng.standard_normal(1_000_000)
    u0, u1 = rng.normal(0.0, 0.5, 1000), rng.normal(0.0, 0.2, 1000)
    y = 1.0 + 0.5 * x + u0[g] + u1[g] * x + rng.standard_normal(1_000_000)
    m = lh.fit(formula, data=pd.DataFrame({"y": y, "x": x, "g": g}))
    assert m.converged, m._opt.message
    assert m._opt.n_evals < 10
