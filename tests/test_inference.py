"""Tests and single-level comparisons (inference.py): likelihood ratio and Wald tests, OLS, design effects."""
import pytest
from scipy import stats as sps

import lemma_helpers as lh


def test_lr_test_messages(small):
    a = lh.fit("y ~ x + (1 | g)", data=small, reml=True)
    b = lh.fit("y ~ x + z + (1 | g)", data=small, reml=True)
    with pytest.raises(lh.LemmaError, match="REML likelihoods of models with different fixed parts"):
        lh.lr_test(a, b)
    ml_a, ml_b = lh.fit("y ~ x + (1 | g)", data=small), lh.fit("y ~ x + z + (1 | g)", data=small)
    with pytest.raises(lh.LemmaError) as err:
        lh.lr_test(ml_b, ml_a)
    assert str(err.value) == ("The simpler model goes first: lh.lr_test(small, big). The second model you passed has "
                              f"{ml_a.n_params} parameters and the first has {ml_b.n_params}, so swap them.")
    assert "'big'" not in str(err.value) and "'small'" not in str(err.value)
    with pytest.raises(lh.LemmaError, match="Both models have .* parameters, so there is nothing to test"):
        lh.lr_test(ml_a, ml_a)
    with pytest.raises(lh.LemmaError, match="REML fit and the other an ML fit"):
        lh.lr_test(ml_a, b)
    res = lh.lr_test(ml_a, ml_b)
    assert res.df == 1 and "boundary" not in res.method
    assert res.p_value == pytest.approx(sps.chi2.sf(res.statistic, 1))


def test_boundary_mixture_for_random_slope(small):
    ri = lh.fit("y ~ x + (1 | g)", data=small)
    rs = lh.fit("y ~ x + (1 + x | g)", data=small)
    res = lh.lr_test(ri, rs)
    assert res.df == 2
    assert res.p_value == pytest.approx(0.5 * sps.chi2.sf(res.statistic, 1) + 0.5 * sps.chi2.sf(res.statistic, 2))
    plain = lh.lr_test(ri, rs, boundary=False)
    assert plain.p_value > res.p_value


def test_test_result_repr_p_value():
    """A p-value that underflows to 0 prints as 'p < 1e-300', never as 'p = 0.00e+00'."""
    def text(p):
        return repr(lh.TestResult(statistic=5625.48, df=1.0, p_value=p, method="Likelihood ratio test"))
    assert text(0.0).endswith("p < 1e-300") and "0.00e+00" not in text(0.0)
    assert text(sps.chi2.sf(5625.48, 1)).endswith("p < 1e-300")
    assert text(1.12e-255).endswith("p = 1.12e-255")
    assert text(0.0123).endswith("p = 0.0123")
    html = lh.TestResult(statistic=1.0, df=1.0, p_value=0.0, method="LR")._repr_html_()
    assert "p &lt; 1e-300" in html


def test_wald_test(ssls):
    m = lh.fit("score ~ cohort90 + sclass + (1 | schoolid)", data=ssls, reference={"sclass": "working"})
    w = lh.wald_test(m, "sclass")
    assert w.df == 3 and w.p_value < 1e-10
    single = lh.wald_test(m, ["cohort90"])
    assert single.statistic == pytest.approx(m.fixed.loc["cohort90", "z"] ** 2)
    with pytest.raises(lh.LemmaError, match="Unknown fixed term"):
        lh.wald_test(m, ["cohort"])


def test_design_effect():
    assert lh.design_effect(1826, 0.0921) == pytest.approx(169.1, abs=0.05)
    with pytest.raises(lh.LemmaError, match="between 0 and 1"):
        lh.design_effect(10, 1.5)


def test_fit_ols_cluster_robust_ses_are_larger(ess):
    naive = lh.fit_ols("hedonism ~ income_mean", data=ess)
    robust = lh.fit_ols("hedonism ~ income_mean", data=ess, cluster="country")
    assert robust.fixed.loc["income_mean", "std_err"] > 5 * naive.fixed.loc["income_mean", "std_err"]
    with pytest.raises(lh.LemmaError, match="has a random part"):
        lh.fit_ols("y ~ x + (1 | g)", data=ess)
