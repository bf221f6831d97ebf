"""Residual plots (lemma_helpers/plotting/residuals.py): intercept against slope effects, Q-Q plots."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats as sps

import lemma_helpers as lh
from drawn import offsets


# ---- residual pairs ------------------------------------------------------------------------------
def test_residual_pairs_one_point_per_group(ess_rs):
    ax = lh.plot_residual_pairs(ess_rs, highlight="Denmark")
    ge = ess_rs.group_effects()
    np.testing.assert_allclose(offsets(ax, "effects"), ge[["Intercept", "age46"]].to_numpy())
    assert ax.get_xlabel() == "country intercept effect $u_{0j}$"
    assert ax.get_ylabel() == "age46 slope effect $u_{1j}$"
    assert [t.get_text() for t in ax.texts] == ["Denmark"]


def test_residual_pairs_508_schools_and_errors(ssls_rs, ess_null):
    ax = lh.plot_residual_pairs(ssls_rs)
    assert len(offsets(ax, "effects")) == 508
    with pytest.raises(lh.LemmaError, match="one random term.*Fit a random slope model"):
        lh.plot_residual_pairs(ess_null)
    with pytest.raises(lh.LemmaError, match="Unknown random term 'cohort'. Did you mean 'cohort90'"):
        lh.plot_residual_pairs(ssls_rs, terms=["Intercept", "cohort"])


# ---- Q-Q plots -----------------------------------------------------------------------------------
def test_residual_qq_level1_standardised_by_level1_sd(ess_ri):
    ax = lh.plot_residual_qq(ess_ri, level=1)
    pts = offsets(ax, "residuals")
    resid = ess_ri.design.y - ess_ri.predict()["group_specific"]
    np.testing.assert_allclose(pts[:, 1], np.sort(resid / np.sqrt(ess_ri.level1_var)))
    n = ess_ri.n_obs
    np.testing.assert_allclose(pts[:, 0], sps.norm.ppf((np.arange(1, n + 1) - 0.5) / n))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("normal quantile", "standardised level-1 residual")


def test_residual_qq_level1_with_a_variance_function(small):
    m = lh.fit("y ~ x + b + (1 | g)", data=small, level1="~ 0 + C(b)")
    ax = lh.plot_residual_qq(m, level=1)
    resid = m.design.y - m.predict()["group_specific"].to_numpy()
    sd = np.sqrt(m.level1_variance(b=small["b"].to_numpy()))
    np.testing.assert_allclose(offsets(ax, "residuals")[:, 1], np.sort(resid / sd))


def test_residual_qq_level2_one_point_per_group(ssls_null, ssls_rs):
    ax = lh.plot_residual_qq(ssls_null, level=2)
    ge = ssls_null.group_effects()
    expected = ge["effect"] / np.sqrt(ssls_null.level2_cov.iloc[0, 0] - ge["se"] ** 2)
    np.testing.assert_allclose(offsets(ax, "residuals")[:, 1], np.sort(expected))
    assert len(offsets(ax, "residuals")) == 508
    assert ax.get_ylabel() == "standardised level-2 residual (Intercept)"
    ax2 = lh.plot_residual_qq(ssls_rs, level=2, term="cohort90", ax=plt.subplots()[1])
    assert ax2.get_ylabel() == "standardised level-2 residual (cohort90)"


def test_residual_qq_errors(ess_null):
    with pytest.raises(lh.LemmaError, match="Unknown level 3.*Valid levels: 1, 2"):
        lh.plot_residual_qq(ess_null, level=3)
    with pytest.raises(lh.LemmaError, match="Unknown random term 'age'"):
        lh.plot_residual_qq(ess_null, level=2, term="age")
