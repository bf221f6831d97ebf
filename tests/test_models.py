"""The engine: published results, an independent likelihood, and the messages for bad input.

lme4 references for every course model are in test_lme4_references.py; this
file checks the behaviour around them.
"""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import lemma_helpers as lh
from lemma_helpers import _engine as E
from lemma_helpers._design import build_design


@pytest.fixture(scope="module")
def small():
    """Simulated two-level data: 30 groups of 3-12, a level-1 and a level-2 x."""
    rng = np.random.default_rng(5)
    sizes = rng.integers(3, 13, 30)
    g = np.repeat(np.arange(30), sizes)
    x = rng.normal(size=g.size)
    z = rng.normal(size=30)[g]
    u0, u1 = rng.normal(0, 0.7, 30), rng.normal(0, 0.3, 30)
    y = 1 + 0.5 * x + 0.3 * z + u0[g] + u1[g] * x + rng.normal(0, 1 + 0.3 * (x > 0), g.size)
    return pd.DataFrame({"y": y, "x": x, "z": z, "b": (x > 0).astype(float), "g": [f"g{i:02d}" for i in g]})


# ---- published results (COURSE.md; MLwiN tutorial) ---------------------------------
def test_exam_null_mlwin_tutorial():
    # MLwiN tutorial: -0.013, 0.169, 0.848, -2LL 11010.65
    m = lh.fit("normexam ~ 1 + (1 | school)", data=lh.load_dataset("exam"))
    assert m.fixed.loc["Intercept", "estimate"] == pytest.approx(-0.013, abs=5e-4)
    assert m.level2_cov.iloc[0, 0] == pytest.approx(0.169, abs=5e-4)
    assert m.level1_var == pytest.approx(0.848, abs=5e-4)
    assert m.deviance == pytest.approx(11010.65, abs=5e-3)


def test_exam_random_slope_mlwin_tutorial():
    # MLwiN tutorial: var(u0) 0.090, cov 0.018, var(u1) 0.015, var(e) 0.554
    m = lh.fit("normexam ~ standlrt + (1 + standlrt | school)", data=lh.load_dataset("exam"))
    D = m.level2_cov
    assert D.loc["Intercept", "Intercept"] == pytest.approx(0.090, abs=5e-4)
    assert D.loc["Intercept", "standlrt"] == pytest.approx(0.018, abs=5e-4)
    assert D.loc["standlrt", "standlrt"] == pytest.approx(0.015, abs=5e-4)
    assert m.level1_var == pytest.approx(0.554, abs=5e-4)


def test_ess_null_course_reference(ess):
    # COURSE.md C5.1: b0 -0.2032 (0.0672), s2_u 0.08977, s2_e 0.88506, VPC 0.092, LR 3286.2
    m = lh.fit("hedonism ~ 1 + (1 | country)", data=ess)
    assert m.fixed.loc["Intercept", "estimate"] == pytest.approx(-0.2032, abs=5e-5)
    assert m.fixed.loc["Intercept", "std_err"] == pytest.approx(0.0672, abs=5e-5)
    assert m.level2_cov.iloc[0, 0] == pytest.approx(0.08977, abs=5e-6)
    assert m.level1_var == pytest.approx(0.88506, abs=5e-6)
    assert m.vpc() == pytest.approx(0.092, abs=5e-4)
    assert m.loglik == pytest.approx(-49651.68, abs=5e-3)
    lr = lh.lr_test(lh.fit_ols("hedonism ~ 1", data=ess), m)
    assert lr.statistic == pytest.approx(3286.2, abs=0.1) and lr.df == 1
    assert "boundary" in lr.method
    effects = m.group_effects()
    assert effects["effect"].idxmin() == "Poland" and effects["effect"].idxmax() == "Denmark"
    assert effects.loc["Poland", "effect"] == pytest.approx(-0.72, abs=0.005)
    assert effects.loc["Denmark", "effect"] == pytest.approx(0.42, abs=0.005)


def test_shrinkage_factor_formula(ess):
    m = lh.fit("hedonism ~ 1 + (1 | country)", data=ess)
    ge = m.group_effects()
    s2u, s2e = m.level2_cov.iloc[0, 0], m.level1_var
    assert np.allclose(ge["shrinkage"], s2u / (s2u + s2e / ge["n"]))
    assert list(ge.columns) == ["n", "effect", "se", "ci_lower", "ci_upper", "shrinkage", "rank"]
    assert sorted(ge["rank"]) == list(range(1, 21))


def test_raw_and_centred_age_reach_the_same_optimum(ess):
    sample = ess.dropna(subset=["age"])
    centred = lh.fit("hedonism ~ age46 + (1 + age46 | country)", data=sample)
    raw = lh.fit("hedonism ~ age + (1 + age | country)", data=sample)
    assert raw.loglik == pytest.approx(centred.loglik, abs=1e-6)
    ages = [18, 46, 86]
    assert np.allclose(raw.level2_variance(age=ages), centred.level2_variance(age46=np.subtract(ages, 46)), rtol=1e-5)
    # COURSE.md C5.3: level-2 variance 0.053 at 18 and 0.192 at 86
    assert np.round(raw.level2_variance(age=[18, 86]), 3).tolist() == [0.053, 0.192]


def test_level1_separate_variances_course_reference(ess):
    # COURSE.md C5.5: men 0.757, women 0.808, LR 18.5 on 1 df
    base = lh.fit("hedonism ~ age46 + female + (1 | country)", data=ess)
    m = lh.fit("hedonism ~ age46 + female + (1 | country)", data=ess, level1="~ 0 + C(female)")
    assert np.round(np.diag(m.level1_cov), 3).tolist() == [0.757, 0.808]
    lr = lh.lr_test(base, m)
    assert lr.df == 1 and lr.statistic == pytest.approx(18.5, abs=0.1)


def test_level1_quadratic_course_reference(ess):
    # COURSE.md C5.5: 0.64 at 18, 0.78 at 46, 0.97 at 80; LR 268 on 2 df
    base = lh.fit("hedonism ~ age46 + female + (1 | country)", data=ess)
    m = lh.fit("hedonism ~ age46 + female + (1 | country)", data=ess, level1="~ 1 + age46")
    assert np.round(m.level1_variance(age46=[-28, 0, 34]), 2).tolist() == [0.64, 0.78, 0.97]
    assert lh.lr_test(base, m).statistic == pytest.approx(268, abs=0.5)
    vpc = m.vpc(age46=[-28, 34])
    assert list(vpc.columns) == ["age46", "level2_var", "level1_var", "vpc"]
    assert vpc["vpc"].iloc[0] > vpc["vpc"].iloc[1]


def test_ssls_null_course_reference(ssls):
    # COURSE.md P5.1: 30.601 (0.369), 61.02, 258.36, VPC 0.191, LR 3749.78
    m = lh.fit("score ~ 1 + (1 | schoolid)", data=ssls)
    assert m.fixed.loc["Intercept", "estimate"] == pytest.approx(30.601, abs=5e-4)
    assert m.fixed.loc["Intercept", "std_err"] == pytest.approx(0.369, abs=5e-4)
    assert m.level2_cov.iloc[0, 0] == pytest.approx(61.02, abs=5e-3)
    assert m.level1_var == pytest.approx(258.36, abs=5e-3)
    assert m.vpc() == pytest.approx(0.191, abs=5e-4)
    assert lh.lr_test(lh.fit_ols("score ~ 1", data=ssls), m).statistic == pytest.approx(3749.78, abs=5e-3)


def test_ssls_random_slope_course_reference(ssls):
    # COURSE.md P5.3: 42.859 - 2.048x + 0.161x^2, LR 227 on 2 df
    ri = lh.fit("score ~ cohort90 + (1 | schoolid)", data=ssls)
    rs = lh.fit("score ~ cohort90 + (1 + cohort90 | schoolid)", data=ssls)
    D = rs.level2_cov
    assert D.loc["Intercept", "Intercept"] == pytest.approx(42.859, abs=5e-3)
    assert 2 * D.loc["Intercept", "cohort90"] == pytest.approx(-2.048, abs=5e-3)
    assert D.loc["cohort90", "cohort90"] == pytest.approx(0.161, abs=5e-4)
    lr = lh.lr_test(ri, rs)
    assert lr.df == 2 and round(lr.statistic) == 227


# ---- an independent check of the likelihood -----------------------------------------
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
    best = E.full_deviance(st, D, np.array([m.level1_var]))
    for k in range(20):
        rng = np.random.default_rng(k)
        P = rng.normal(scale=1e-3, size=(2, 2))
        P = P + P.T
        assert E.full_deviance(st, D + P, np.array([m.level1_var * (1 + rng.normal(scale=1e-3))])) >= best - 1e-9


def test_exact_gradient_matches_finite_differences(ssls):
    d = build_design("score ~ cohort90 + female + (1 + cohort90 + female | schoolid)", ssls)
    st = E.cell_stats(d.X, d.Z, d.y / d.y.std(), d.groups)
    theta = np.array([0.5, 0.1, 0.3, -0.05, 0.02, 0.2])
    for reml in (False, True):
        _, grad = E.deviance_and_gradient(st, theta, reml)
        f = lambda t: E.profiled_deviance(st, E.theta_to_T(t, 3), None, reml)  # noqa: E731
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
        return E.variance_derivatives(st, D, om, free, reml)

    dev, grad, hess = at(x0)
    D, om, k = m._unpack_std(x0)
    assert dev == pytest.approx(E.full_deviance(st, D, om, k, reml), abs=1e-9)
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
    dev, grad, hess = E.profiled_derivatives(st, x0, reml, spec)
    dev2, grad2 = E.deviance_and_gradient(st, x0, reml, spec)
    assert dev == pytest.approx(dev2, abs=1e-9)
    assert np.allclose(grad, grad2, rtol=1e-9, atol=1e-9)
    h = 1e-5 * np.maximum(np.abs(x0), 1e-3)
    numeric = _central(lambda v: E.deviance_and_gradient(st, v, reml, spec)[1], x0, h)
    assert np.allclose(hess, numeric, rtol=1e-6, atol=1e-6 * np.abs(hess).max())


def test_newton_reaches_the_optimum_that_quasi_newton_reaches(ssls):
    """The trust-region Newton search ends where L-BFGS (with exact gradients) ends."""
    from scipy import optimize

    d = build_design("score ~ cohort90 + female + (1 + cohort90 + female | schoolid)", ssls)
    st = E.cell_stats(d.X, d.Z, d.y / d.y.std(), d.groups)
    opt = E.optimise(st, False, None)
    assert opt.converged
    res = optimize.minimize(lambda t: E.deviance_and_gradient(st, t, False), np.r_[1.0, 0, 1, 0, 0, 1], jac=True,
                            method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 10000})
    assert opt.deviance <= res.fun + 1e-8
    assert opt.n_evals < 60


@pytest.mark.parametrize("largest", [5, 70_000, 2 ** 40])
def test_stable_order_is_numpys_stable_argsort(largest):
    """The radix order that cell_stats sorts rows by (16 bits a pass) is argsort(kind="stable")."""
    key = np.random.default_rng(1).integers(0, largest, 50_000)
    assert np.array_equal(E._stable_order(key), np.argsort(key, kind="stable"))


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
    res = optimize.minimize(lambda t: E.deviance_and_gradient(st, t, False), np.r_[1.0, 0, 1], jac=True,
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


@pytest.mark.parametrize("fixed", ["y ~ x + C(k) + b", "y ~ x + C(k, Treatment(2.0))", "y ~ x + C(flag)",
                                   "y ~ x + C(word) + center(z)", "y ~ x + C(k):x"])
def test_design_matrices_are_patsys(small, fixed):
    """The one-pass design (our C() hands numbers to patsy as a Categorical) gives patsy's own
    columns, names and complete cases, with missing values in a C() column and in x."""
    import patsy

    data = small.copy()
    rng = np.random.default_rng(3)
    data["k"] = rng.integers(0, 3, len(data)).astype(float)
    data.loc[data.index[::7], "k"] = np.nan
    data.loc[data.index[::11], "x"] = np.nan
    data["flag"] = data["b"] > 0
    data["word"] = np.where(data["b"] > 0, "high", "low")
    # b: a number written plainly in the fixed part and inside C() in the level-1 part
    d = build_design(fixed + " + (1 + x | g)", data, level1="~ 0 + C(b)")
    y_df, X_df = patsy.dmatrices(fixed, data, NA_action="drop", return_type="dataframe")
    assert d.fixed_names == list(X_df.columns)
    assert list(d.index) == list(X_df.index)
    # patsy's own design on the complete cases (stateful transforms and levels from those rows)
    y_df, X_df = patsy.dmatrices(fixed, data.loc[d.index], return_type="dataframe")
    assert np.array_equal(d.X, X_df.to_numpy())
    assert np.array_equal(d.y, y_df.to_numpy().ravel())
    assert d.level1_names == ["C(b)[0.0]", "C(b)[1.0]"]


def test_a_category_seen_only_in_dropped_rows_is_not_a_column(small):
    data = small.copy()
    data["level"] = np.where(data["b"] > 0, "high", "low")
    data.loc[data.index[:3], "level"] = "rare"
    data.loc[data.index[:3], "x"] = np.nan
    m = lh.fit("y ~ x + level + (1 | g)", data=data)
    assert m.fixed_terms == ["Intercept", "level[T.low]", "x"]
    assert m.n_dropped == 3


def test_nullable_integer_columns_work_like_floats(small):
    """pandas' nullable Int64 (what read_csv gives with dtype_backend) with a missing value."""
    data = small.copy()
    data["k"] = pd.array(np.arange(len(data)) % 4, dtype="Int64")
    data.loc[data.index[5], "k"] = pd.NA
    m = lh.fit("y ~ x + k + (1 | g)", data=data)
    assert m.n_dropped == 1
    same = lh.fit("y ~ x + k + (1 | g)", data=data.astype({"k": "float64"}))
    assert m.loglik == pytest.approx(same.loglik, abs=1e-9)


def test_a_column_named_C_still_works(small):
    data = small.assign(C=small["x"] * 2)
    m = lh.fit("y ~ C + (1 | g)", data=data)
    assert "C" in m.fixed.index


def test_agrees_with_statsmodels_where_statsmodels_is_right():
    import statsmodels.formula.api as smf

    exam = lh.load_dataset("exam")
    ours = lh.fit("normexam ~ standlrt + (1 | school)", data=exam, reml=True)
    theirs = smf.mixedlm("normexam ~ standlrt", exam, groups=exam["school"]).fit(reml=True)
    assert theirs.converged
    assert ours.loglik == pytest.approx(theirs.llf, abs=1e-6)
    assert np.allclose(ours.fixed["estimate"], theirs.fe_params, atol=1e-5)
    assert ours.level1_var == pytest.approx(theirs.scale, rel=1e-4)


# ---- results -------------------------------------------------------------------------
def test_result_is_read_only_and_displays(small):
    m = lh.fit("y ~ x + (1 | g)", data=small)
    with pytest.raises(AttributeError, match="read-only"):
        m.reml = True
    text = repr(m)
    assert "Fixed part" in text and "Random part" in text and "-2 log-likelihood" in text
    assert "<table" in m._repr_html_()
    assert r"\begin{aligned}" in m.equation()._repr_latex_()
    frame = m.to_frame()
    assert list(frame.columns) == ["part", "term", "estimate", "std_err"]
    assert len(frame) == 2 + 2


def test_information_criteria(small):
    m = lh.fit("y ~ x + (1 | g)", data=small)
    assert m.n_params == 4
    assert m.aic == pytest.approx(m.deviance + 8)
    assert m.bic == pytest.approx(m.deviance + 4 * np.log(m.n_obs))


def test_reml_differs_from_ml_and_variance_ses_are_positive(small):
    ml = lh.fit("y ~ x + (1 | g)", data=small)
    reml = lh.fit("y ~ x + (1 | g)", data=small, reml=True)
    assert reml.level2_cov.iloc[0, 0] > ml.level2_cov.iloc[0, 0]
    assert (ml.random["std_err"] > 0).all()


def test_predict_fixed_and_group_specific(small):
    m = lh.fit("y ~ x + (1 + x | g)", data=small)
    pred = m.predict()
    ge = m.group_effects()
    row = small.loc[m.design.index[0]]
    fixed = m.fixed.loc["Intercept", "estimate"] + m.fixed.loc["x", "estimate"] * row["x"]
    assert pred["fixed"].iloc[0] == pytest.approx(fixed)
    u = ge.loc[row["g"]]
    assert pred["group_specific"].iloc[0] == pytest.approx(fixed + u["Intercept"] + u["x"] * row["x"])
    new = pd.DataFrame({"x": [0.0], "z": [0.0], "g": ["unseen"]})
    assert m.predict(new)["group_specific"].iloc[0] == pytest.approx(m.predict(new)["fixed"].iloc[0])


def test_reference_category(ssls):
    m = lh.fit("score ~ sclass + (1 | schoolid)", data=ssls, reference={"sclass": "working"})
    assert "sclass[T.managerial]" in m.fixed.index and "sclass[T.working]" not in m.fixed.index
    assert "sclass = working" in repr(m)


def test_small_sample_tests(ess):
    # A country-level predictor with 20 countries: t with about 18-19 df, not z.
    m = lh.fit("hedonism ~ age46 + income_mean + (1 | country)", data=ess)
    sat = m.fixed_effects("satterthwaite")
    assert 15 < sat.loc["income_mean", "df"] < 22
    assert sat.loc["income_mean", "p_value"] > m.fixed.loc["income_mean", "p_value"]
    bw = m.fixed_effects("between-within")
    assert bw.loc["income_mean", "df"] == 18 and bw.loc["age46", "df"] == m.n_obs - 20 - 1


# ---- bad input -----------------------------------------------------------------------
def test_missing_column_suggests(small):
    with pytest.raises(lh.LemmaError, match=r"Column 'xx'.*not in the data.*Did you mean 'x'"):
        lh.fit("y ~ xx + (1 | g)", data=small)
    with pytest.raises(lh.LemmaError, match=r"Column 'gg' is not in data.*Did you mean 'g'"):
        lh.fit("y ~ x + (1 | gg)", data=small)


def test_missing_values_dropped_with_note(small):
    holes = small.copy()
    holes.loc[holes.index[:7], "x"] = np.nan
    m = lh.fit("y ~ x + (1 | g)", data=holes)
    assert m.n_obs == len(small) - 7 and m.n_dropped == 7
    assert any("7 rows with a missing value were dropped" in n for n in m.notes)
    full = lh.fit("y ~ 1 + (1 | g)", data=holes)
    with pytest.raises(lh.LemmaError, match="different rows"):
        lh.lr_test(full, m)


def test_non_numeric_response(small):
    bad = small.assign(y=np.where(small["y"] > 1, "high", "low"))
    with pytest.raises(lh.LemmaError, match="response 'y' is not numeric"):
        lh.fit("y ~ x + (1 | g)", data=bad)


def test_one_group_only(small):
    with pytest.raises(lh.LemmaError, match="only 1 group"):
        lh.fit("y ~ x + (1 | g)", data=small.assign(g="same"))


def test_random_term_not_in_fixed_part_warns(small):
    with pytest.warns(lh.LemmaWarning, match=r"random term\(s\) 'x' are not in the fixed part"):
        lh.fit("y ~ 1 + (1 + x | g)", data=small)


def test_collinear_fixed_part(small):
    with pytest.raises(lh.LemmaError, match=r"perfectly collinear: 'x2'"):
        lh.fit("y ~ x + x2 + (1 | g)", data=small.assign(x2=2 * small["x"]))


def test_no_random_part_explains(small):
    with pytest.raises(lh.LemmaError, match=r"no random part.*\(1 \| group\).*lh.fit_ols"):
        lh.fit("y ~ x", data=small)
    with pytest.raises(lh.LemmaError, match="no '~'"):
        lh.fit("y x (1 | g)", data=small)
    with pytest.raises(lh.LemmaError, match="2 random parts"):
        lh.fit("y ~ x + (1 | g) + (1 | z)", data=small)


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        lh.fit("y ~ x + (1 | g)", data={"y": [1]})


def test_boundary_fit_gets_a_note():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y": rng.normal(size=200), "g": np.repeat(np.arange(20), 10)})
    m = lh.fit("y ~ 1 + (1 | g)", data=df)
    assert m.level2_cov.iloc[0, 0] < 1e-6
    assert any("boundary" in n for n in m.notes)
    assert "Note:" in repr(m)


def test_unidentifiable_level1_function(small):
    with pytest.raises(lh.LemmaError, match=r"cannot tell them all apart.*'~ 0 \+ C\(x\)'"):
        lh.fit("y ~ x + (1 | g)", data=small, level1="~ 1 + b")


def test_bad_reference_level(ssls):
    with pytest.raises(lh.LemmaError, match=r"'workers' is not a level of 'sclass'.*Did you mean 'working'"):
        lh.fit("score ~ sclass + (1 | schoolid)", data=ssls, reference={"sclass": "workers"})


def test_vpc_needs_values_when_variances_vary(small):
    m = lh.fit("y ~ x + (1 + x | g)", data=small)
    with pytest.raises(lh.LemmaError, match=r"depend on explanatory variables.*m.vpc\(x=\[...\]\)"):
        m.vpc()
    with pytest.raises(lh.LemmaError, match="level1_cov"):
        lh.fit("y ~ x + (1 | g)", data=small, level1="~ 0 + C(b)").level1_var


def test_unknown_test_and_term(small):
    m = lh.fit("y ~ x + (1 + x | g)", data=small)
    with pytest.raises(lh.LemmaError, match="Unknown test 'wald'.*satterthwaite"):
        m.fixed_effects("wald")
    with pytest.raises(lh.LemmaError, match="Unknown random term 'z'"):
        m.group_effects(term="z")


# ---- tests ---------------------------------------------------------------------------
def test_lr_test_messages(small):
    a = lh.fit("y ~ x + (1 | g)", data=small, reml=True)
    b = lh.fit("y ~ x + z + (1 | g)", data=small, reml=True)
    with pytest.raises(lh.LemmaError, match="REML likelihoods of models with different fixed parts"):
        lh.lr_test(a, b)
    ml_a, ml_b = lh.fit("y ~ x + (1 | g)", data=small), lh.fit("y ~ x + z + (1 | g)", data=small)
    with pytest.raises(lh.LemmaError, match="pass the simpler model first"):
        lh.lr_test(ml_b, ml_a)
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


def test_predict_with_missing_values_gives_nan(small):
    m = lh.fit("y ~ x + (1 | g)", data=small)
    holes = small.copy()
    holes.loc[holes.index[:3], "x"] = np.nan
    pred = m.predict(holes)
    assert pred.index.equals(holes.index)
    assert pred["fixed"].isna().sum() == 3 and pred["fixed"].iloc[3:].notna().all()


def test_variance_function_message_names_variables(ess):
    m = lh.fit("hedonism ~ I(age - 46) + (1 + I(age - 46) | country)", data=ess)
    with pytest.raises(lh.LemmaError, match=r"m.vpc\(age=...\)"):
        m.vpc(female=[0, 1])
    assert np.round(m.level2_variance(age=[18, 86]), 3).tolist() == [0.053, 0.192]


def test_predict_new_data_with_plain_string_categories(ssls):
    m = lh.fit("score ~ cohort90 + sclass + (1 | schoolid)", data=ssls, reference={"sclass": "working"})
    new = pd.DataFrame({"cohort90": [0, 0], "sclass": ["working", "managerial"]})
    pred = m.predict(new)["fixed"]
    b = m.fixed["estimate"]
    assert pred.iloc[0] == pytest.approx(b["Intercept"])
    assert pred.iloc[1] == pytest.approx(b["Intercept"] + b["sclass[T.managerial]"])


def test_satterthwaite_df_match_lmertest(ess):
    # lmerTest 3.1 (R 4.2): summary(lmer(hedonism ~ income + income_mean + (1 | country),
    #   data = ess, REML = FALSE)) -> df 20.0133 (Intercept), 29723.99 (income), 20.1930 (income_mean)
    m = lh.fit("hedonism ~ income + income_mean + (1 | country)", data=ess)
    df = m.fixed_effects("satterthwaite")["df"]
    assert df.to_numpy() == pytest.approx([20.01330733, 29723.99270289, 20.19303247], rel=2e-4)
    # summary(lmer(hedonism ~ age46 + income_mean + (1 | country), data = ess, REML = TRUE))
    #   -> income_mean df 17.99832899, p 0.027907459
    r = lh.fit("hedonism ~ age46 + income_mean + (1 | country)", data=ess, reml=True)
    row = r.fixed_effects("satterthwaite").loc["income_mean"]
    assert row["df"] == pytest.approx(17.99832899, rel=2e-4)
    assert row["p_value"] == pytest.approx(0.027907459, rel=1e-3)


def test_variance_standard_errors_match_nlme():
    # nlme 3.1-162: m <- lme(normexam ~ standLRT, random = ~ 1 | school, data = Exam, method = "ML");
    # m$apVar (covariance of log SDs) by the delta method: SE(var_u) 0.01852495, SE(var_e) 0.01266213
    m = lh.fit("normexam ~ standlrt + (1 | school)", data=lh.load_dataset("exam"))
    se = m.random["std_err"].to_numpy()
    assert se == pytest.approx([0.01852495422, 0.01266213379], rel=1e-3)


def test_level1_function_that_vanishes_for_some_rows(small):
    with pytest.raises(lh.LemmaError, match=r"level-1 variance would be 0 for some rows.*C\(female\)"):
        lh.fit("y ~ x + (1 | g)", data=small, level1="~ 0 + b")


def test_equation_keeps_three_significant_digits_for_small_coefficients(small):
    # A coefficient such as 0.00265 must not print as 0.003: the variance
    # function written in the equation has to reproduce the fitted values.
    from lemma_helpers._display import _fmt_sig
    assert _fmt_sig(0.0026543) == "0.00265"
    assert _fmt_sig(0.7796) == "0.780"
    assert _fmt_sig(-0.01781) == "-0.0178"
    assert _fmt_sig(12.3456) == "12.346"
    assert _fmt_sig(1.15e-5) == "1.15e-05"
    m = lh.fit("y ~ x + (1 | g)", data=small, level1="~ 1 + x")
    tex = m.equation()
    cov = m.level1_cov.iloc[1, 0]
    assert f"2 \\times {_fmt_sig(cov)}" in tex


def test_singular_covariance_note_fits_the_size_of_the_random_part(ssls):
    # P5.3's random coefficients for social class: lme4 reports a singular fit too
    # (lmer(score ~ cohort90 + female + sclass + (1 + cohort90 + sclass | schoolid), REML = FALSE): isSingular TRUE)
    m5 = lh.fit("score ~ cohort90 + female + sclass + (1 + cohort90 + sclass | schoolid)", data=ssls,
                reference={"sclass": "working"})
    note = next(n for n in m5.notes if "singular" in n)
    assert "one random effect is an exact combination of the others" in note and "+1 or -1" not in note
