"""Teaching figures (lemma_helpers/plotting/teaching.py): the decompositions of y and the standard errors."""
import types

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import lemma_helpers as lh
from drawn import artists, offsets, segments


# ---- teaching diagrams ---------------------------------------------------------------------------
def test_single_level_residuals_around_the_overall_mean(ess):
    ax = lh.plot_single_level_residuals(ess, y="hedonism", n=8, seed=4)
    pts = offsets(ax, "points")
    assert len(pts) == 8
    mean = ess["hedonism"].mean()
    assert artists(ax, "mean_line")[0].get_ydata()[0] == pytest.approx(mean)
    seg = segments(ax, "residuals")
    np.testing.assert_allclose(seg[:, 0, 1], mean)
    np.testing.assert_allclose(seg[:, 1, 1], pts[:, 1])
    assert set(pts[:, 1]) <= set(ess["hedonism"])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("individual $i$", "hedonism")
    again = lh.plot_single_level_residuals(ess, y="hedonism", n=8, seed=4, ax=plt.subplots()[1])
    np.testing.assert_array_equal(offsets(again, "points"), pts)


def test_single_level_residuals_errors(ess):
    with pytest.raises(lh.LemmaError, match="n=50000 but data has only 36527 rows"):
        lh.plot_single_level_residuals(ess, y="hedonism", n=50000)
    with pytest.raises(lh.LemmaError, match="n must be a whole number"):
        lh.plot_single_level_residuals(ess, y="hedonism", n=0)
    with pytest.raises(lh.LemmaError, match="'country' is category, not numbers"):
        lh.plot_single_level_residuals(ess, y="country")


def test_two_level_decomposition_draws_the_means_of_two_groups(ess):
    ax = lh.plot_two_level_decomposition(ess, y="hedonism", group="country",
                                         groups=["Poland", "Denmark"], n=5, seed=2)
    means = ess.groupby("country", observed=True)["hedonism"].mean()
    seg = [s for c in artists(ax, "group_means") for s in c.get_segments()]
    np.testing.assert_allclose([s[0][1] for s in seg], means[["Poland", "Denmark"]])
    assert artists(ax, "mean_line")[0].get_ydata()[0] == pytest.approx(ess["hedonism"].mean())
    points = [p for c in artists(ax, "points") for p in c.get_offsets()]
    assert len(points) == 10
    assert set(np.asarray(points)[:5, 1]) <= set(ess.loc[ess["country"] == "Poland", "hedonism"])
    texts = {t.get_text() for t in ax.texts}
    assert {"$u_1$", "$u_2$", "$e_{i2}$"} <= texts
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Poland\n(j = 1)", "Denmark\n(j = 2)"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("country", "hedonism")


def test_two_level_decomposition_errors(ess):
    with pytest.raises(lh.LemmaError, match="groups must name exactly two groups"):
        lh.plot_two_level_decomposition(ess, y="hedonism", group="country", groups=["Poland"])
    with pytest.raises(lh.LemmaError, match="Unknown group 'Danmark'. Did you mean 'Denmark'"):
        lh.plot_two_level_decomposition(ess, y="hedonism", group="country", groups=["Poland", "Danmark"])
    with pytest.raises(lh.LemmaError, match="Column 'contry' is not in data"):
        lh.plot_two_level_decomposition(ess, y="hedonism", group="contry", groups=["a", "b"])


# ---- standard errors -----------------------------------------------------------------------------
def test_se_comparison_draws_both_standard_errors(ess, ess_null):
    ols = smf.ols("hedonism ~ 1", data=ess).fit()
    table = pd.DataFrame({"estimate": ols.params, "std_err": ols.bse})
    ax = lh.plot_se_comparison(types.SimpleNamespace(fixed=table), ess_null)
    assert offsets(ax, "single_se")[0, 0] == pytest.approx(ols.bse["Intercept"])
    assert offsets(ax, "multilevel_se")[0, 0] == pytest.approx(ess_null.fixed.loc["Intercept", "std_err"])
    ratio = ess_null.fixed.loc["Intercept", "std_err"] / ols.bse["Intercept"]
    assert artists(ax, "ratio")[0].get_text() == f"\u00d7{ratio:.1f}"  # about 13 (COURSE.md)
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Intercept"]
    assert ax.get_xlabel() == "standard error (log scale)"


def test_se_comparison_takes_an_ols_result(ess):
    rows = ess.dropna(subset=["income"])
    ols = lh.fit_ols("hedonism ~ income + income_mean", data=rows)
    m = lh.fit("hedonism ~ income + income_mean + (1 | country)", data=rows)
    ax = lh.plot_se_comparison(ols, m)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Intercept", "income", "income_mean"]
    np.testing.assert_allclose(offsets(ax, "single_se")[:, 0], ols.fixed["std_err"])
    np.testing.assert_allclose(offsets(ax, "multilevel_se")[:, 0], m.fixed["std_err"])
    # COURSE.md: country mean income SE 0.0046 under OLS vs 0.0387 multilevel
    assert offsets(ax, "single_se")[2, 0] == pytest.approx(0.0046, abs=5e-5)
    assert offsets(ax, "multilevel_se")[2, 0] == pytest.approx(0.0387, abs=5e-5)


def test_se_comparison_chooses_common_terms(ess_ri, ess_null):
    ax = lh.plot_se_comparison(ess_null, ess_ri)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Intercept"]
    ax2 = lh.plot_se_comparison(ess_ri.fixed, ess_ri, terms=["age46"], ax=plt.subplots()[1])
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["age46"]


def test_se_comparison_errors(ess_ri, ssls_null):
    with pytest.raises(lh.LemmaError, match="Unknown term 'age'. Did you mean 'age46'"):
        lh.plot_se_comparison(ess_ri, ess_ri, terms=["age"])
    with pytest.raises(TypeError, match="single must be a fitted model"):
        lh.plot_se_comparison([0.1], ess_ri)
    with pytest.raises(lh.LemmaError, match="Column 'std_err' is not in the single table"):
        lh.plot_se_comparison(ess_ri.fixed[["estimate"]], ess_ri)
    with pytest.raises(lh.LemmaError, match="no fixed term in common"):
        lh.plot_se_comparison(ess_ri.fixed.loc[["age46"]], ssls_null)
