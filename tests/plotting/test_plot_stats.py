"""The numbers the plots draw (lemma_helpers/plotting/_stats.py), computed without matplotlib.

Each function is checked against the formula in its plot's docstring; the
plot tests check that the plots draw these numbers.
"""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import lemma_helpers as lh
from lemma_helpers.plotting import _stats


def test_the_computations_need_no_matplotlib():
    code = """if True:
        import sys
        import lemma_helpers as lh
        from lemma_helpers.plotting import _stats
        exam = lh.load_dataset("exam")
        m = lh.fit("normexam ~ standlrt + (1 + standlrt | school)", data=exam)
        _stats.caterpillar_table(m, "Intercept", 0.05)
        _stats.group_means_table(exam, "normexam", "school", 0.05)
        _stats.group_lines(m, exam.loc[m.design.index], "standlrt")
        _stats.variance_curves(m, "standlrt", [2, "vpc"])
        _stats.qq_points(m, 1)
        _stats.single_level_sample(exam, "normexam", 5, 1)
        _stats.two_level_sample(exam, "normexam", "school", [1, 2], 3, 1)
        _stats.se_pairs(m, m)
        print("matplotlib" in sys.modules)
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- ranked intervals ----------------------------------------------------------------------
def test_caterpillar_table_is_the_group_effects_with_their_intervals(ssls_rs):
    table = _stats.caterpillar_table(ssls_rs, "cohort90", 0.1)
    ge = ssls_rs.group_effects("cohort90", alpha=0.1)
    assert list(table.columns) == ["centre", "lower", "upper"]
    assert list(table.index) == list(ge.index)
    np.testing.assert_array_equal(table.to_numpy(), ge[["effect", "ci_lower", "ci_upper"]].to_numpy())


def test_group_means_table_t_intervals_and_overall_mean(ess):
    means = _stats.group_means_table(ess, "hedonism", "country", 0.05)
    rows = ess[["country", "hedonism"]].dropna()
    for name in ("Poland", "Denmark"):
        y = rows.loc[rows["country"] == name, "hedonism"].to_numpy()
        half = sps.t.ppf(0.975, len(y) - 1) * y.std(ddof=1) / np.sqrt(len(y))
        assert means.table.loc[name].tolist() == pytest.approx([y.mean(), y.mean() - half, y.mean() + half])
    assert means.overall == pytest.approx(rows["hedonism"].mean())
    assert means.limits is None   # 20 large countries: every interval lies inside the data


def test_group_means_table_limits_the_axis_when_small_groups_run_off(ssls):
    means = _stats.group_means_table(ssls, "score", "schoolid", 0.05)
    lo, hi = ssls["score"].min(), ssls["score"].max()
    assert (means.table["lower"] < lo).any() or (means.table["upper"] > hi).any()
    assert means.limits == pytest.approx((lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo)))
    alone = ssls.groupby("schoolid", observed=True)["score"].count() == 1
    assert means.table.loc[alone[alone].index, "lower"].isna().all()   # a group of one has no interval


# ---- group lines and variance functions --------------------------------------------------
def test_group_lines_are_the_predictions_over_each_groups_x(ess, ess_ri):
    rows = ess.loc[ess_ri.design.index]
    lines = _stats.group_lines(ess_ri, rows, "age")
    assert sorted(lines.segments) == list(range(20))
    b = ess_ri.fixed["estimate"]
    u = ess_ri.group_effects()["effect"].to_numpy()
    for code, seg in lines.segments.items():
        x = np.sort(rows.loc[ess_ri.design.groups == code, "age"].unique())
        np.testing.assert_allclose(seg[:, 0], x)
        np.testing.assert_allclose(seg[:, 1], b["Intercept"] + u[code] + b["age46"] * (x - 46))
    x = np.sort(rows["age"].unique())
    np.testing.assert_allclose(lines.average.index, x)
    np.testing.assert_allclose(lines.average.to_numpy(), b["Intercept"] + b["age46"] * (x - 46))


def test_group_lines_refuse_predictions_that_vary_at_one_x(ess):
    m = lh.fit("hedonism ~ age46 + female + (1 | country)", data=ess)
    rows = ess.loc[m.design.index]
    with pytest.raises(lh.LemmaError, match=r"other than 'age46'.*at=\{'female': 0\}"):
        _stats.group_lines(m, rows, "age46")
    lines = _stats.group_lines(m, rows.assign(female=1), "age46")
    assert len(lines.segments) == 20


def test_sample_groups_draws_that_many_plus_the_kept_ones():
    codes = list(range(100))
    assert _stats.sample_groups(codes[::-1], None, 0) == (codes, set())
    assert _stats.sample_groups(codes, 100, 0, keep=[5]) == (codes, set())   # as many as there are: all
    shown, extra = _stats.sample_groups(codes, 10, 3, keep=[1, 2])
    picked = set(np.random.default_rng(3).choice(codes, size=10, replace=False).tolist())
    assert extra == {1, 2} - picked
    assert shown == sorted(picked | extra)
    assert _stats.sample_groups(codes, 10, 3, keep=[1, 2]) == (shown, extra)
    for bad in (0, True, 2.5, "3"):
        with pytest.raises(lh.LemmaError, match="sample must be a whole number of groups"):
            _stats.sample_groups(codes, bad, 0)


def test_variance_curves_over_the_observed_range_with_a_rug(ssls_rs):
    curves = _stats.variance_curves(ssls_rs, "cohort90", [2, "vpc"], num=50)
    assert not curves.discrete and curves.band is None
    np.testing.assert_allclose(curves.grid, np.linspace(-6, 8, 50))
    np.testing.assert_allclose(curves.curves[2], ssls_rs.level2_variance(cohort90=curves.grid))
    np.testing.assert_allclose(curves.curves["vpc"], ssls_rs.vpc(cohort90=curves.grid)["vpc"])
    assert list(curves.rug) == [-6, -4, -2, 0, 6, 8]


def test_variance_curves_many_x_values_give_the_middle_90_percent(ess, ess_rs):
    curves = _stats.variance_curves(ess_rs, "age46", [1])
    assert curves.rug is None
    x = ess.loc[ess_rs.design.index, "age46"]
    assert curves.band == pytest.approx(tuple(np.quantile(x, [0.05, 0.95])))
    assert (curves.grid[0], curves.grid[-1]) == (x.min(), x.max())
    np.testing.assert_allclose(curves.curves[1], ess_rs.level1_var)


def test_variance_curves_binary_and_categorical_x_one_value_each(small):
    m = lh.fit("y ~ x + b + (1 + x | g)", data=small, level1="~ 0 + C(b)")
    curves = _stats.variance_curves(m, "b", [1])
    assert curves.discrete and curves.rug is None and curves.band is None
    np.testing.assert_allclose(curves.grid, [0, 1])
    np.testing.assert_allclose(curves.curves[1], np.diag(m.level1_cov))
    data = small.assign(s=pd.Categorical(np.where(small["b"] == 1, "high", "low"), ["low", "high", "none"]))
    m2 = lh.fit("y ~ x + (1 | g)", data=data, level1="~ 0 + C(s)")
    curves = _stats.variance_curves(m2, "s", [1])
    assert curves.discrete and curves.grid == ["low", "high"]   # categories present in the data, in order
    np.testing.assert_allclose(curves.curves[1], m2.level1_variance(s=["low", "high"]))


def test_variance_curves_errors(ess, ess_rs):
    with pytest.raises(lh.LemmaError, match="Cannot find 'agee' in the model's terms"):
        _stats.variance_curves(ess_rs, "agee", [2])
    with pytest.raises(lh.LemmaError, match=r"In plot_variance_function give x=\.\.\."):
        _stats.variance_curves(ess_rs, "age", [2])   # in the kept data, not in the model
    with pytest.raises(lh.LemmaError, match="not the DataFrame this model was fitted on"):
        _stats.variance_curves(ess_rs, "age46", [2], data=ess.iloc[:100])


# ---- residuals ------------------------------------------------------------------------------
def test_qq_points_level1_and_level2(ess_ri, ssls_null):
    qq = _stats.qq_points(ess_ri, 1)
    resid = ess_ri.design.y - ess_ri.predict()["group_specific"].to_numpy()
    np.testing.assert_allclose(qq.sample, np.sort(resid / np.sqrt(ess_ri.level1_var)))
    n = ess_ri.n_obs
    np.testing.assert_allclose(qq.theory, sps.norm.ppf((np.arange(1, n + 1) - 0.5) / n))
    assert qq.ends == [min(qq.theory[0], qq.sample[0]), max(qq.theory[-1], qq.sample[-1])]
    assert qq.label == "standardised level-1 residual"
    qq2 = _stats.qq_points(ssls_null, 2)
    ge = ssls_null.group_effects()
    np.testing.assert_allclose(qq2.sample, np.sort(ge["effect"] / np.sqrt(ssls_null.level2_cov.iloc[0, 0]
                                                                          - ge["se"] ** 2)))
    assert len(qq2.theory) == 508 and qq2.label == "standardised level-2 residual (Intercept)"
    with pytest.raises(lh.LemmaError, match="Unknown level 3"):
        _stats.qq_points(ess_ri, 3)


# ---- teaching diagrams ----------------------------------------------------------------------
def test_single_level_sample_is_seeded_rows_and_the_overall_mean(ess):
    mean, yi = _stats.single_level_sample(ess, "hedonism", 8, 4)
    values = ess["hedonism"].dropna()
    assert mean == pytest.approx(values.mean())
    take = np.random.default_rng(4).choice(len(values), size=8, replace=False)
    np.testing.assert_array_equal(yi, values.to_numpy()[take])
    with pytest.raises(lh.LemmaError, match="n=50000 but data has only 36527 rows"):
        _stats.single_level_sample(ess, "hedonism", 50000, 1)


def test_two_level_sample_draws_from_each_group_in_turn(ess):
    sample = _stats.two_level_sample(ess, "hedonism", "country", ["Poland", "Denmark"], 5, 2)
    rows = ess[["country", "hedonism"]].dropna()
    assert sample.overall == pytest.approx(rows["hedonism"].mean())
    rng = np.random.default_rng(2)
    assert [name for name, _, _ in sample.groups] == ["Poland", "Denmark"]
    for name, gmean, yi in sample.groups:
        y = rows.loc[rows["country"] == name, "hedonism"].to_numpy()
        assert gmean == pytest.approx(y.mean())
        np.testing.assert_array_equal(yi, y[rng.choice(len(y), size=5, replace=False)])
    with pytest.raises(lh.LemmaError, match="Unknown group 'Danmark'. Did you mean 'Denmark'"):
        _stats.two_level_sample(ess, "hedonism", "country", ["Poland", "Danmark"], 5, 2)


def test_se_pairs_ratio_and_common_terms(ess):
    rows = ess.dropna(subset=["income"])
    ols = lh.fit_ols("hedonism ~ income + income_mean", data=rows)
    m = lh.fit("hedonism ~ income + income_mean + (1 | country)", data=rows)
    table = _stats.se_pairs(ols, m)
    assert list(table.index) == ["Intercept", "income", "income_mean"]
    np.testing.assert_array_equal(table["single"], ols.fixed["std_err"])
    np.testing.assert_array_equal(table["multilevel"], m.fixed["std_err"])
    np.testing.assert_array_equal(table["ratio"], m.fixed["std_err"].to_numpy() / ols.fixed["std_err"].to_numpy())
    assert list(_stats.se_pairs(ols.fixed, m, terms=["income_mean"]).index) == ["income_mean"]
    with pytest.raises(lh.LemmaError, match="Unknown term 'incme'"):
        _stats.se_pairs(ols, m, terms=["incme"])
    with pytest.raises(TypeError, match="multilevel must be a fitted model"):
        _stats.se_pairs(ols, "m")
