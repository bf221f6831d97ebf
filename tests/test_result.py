"""MultilevelResult: its tables, notes, group effects, predictions and variance functions."""
import numpy as np
import pandas as pd
import pytest

import lemma_helpers as lh


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


def test_shrinkage_factor_formula(ess):
    m = lh.fit("hedonism ~ 1 + (1 | country)", data=ess)
    ge = m.group_effects()
    s2u, s2e = m.level2_cov.iloc[0, 0], m.level1_var
    assert np.allclose(ge["shrinkage"], s2u / (s2u + s2e / ge["n"]))
    assert list(ge.columns) == ["n", "effect", "se", "ci_lower", "ci_upper", "shrinkage", "rank"]
    assert sorted(ge["rank"]) == list(range(1, 21))


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


def test_boundary_fit_gets_a_note():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y": rng.normal(size=200), "g": np.repeat(np.arange(20), 10)})
    m = lh.fit("y ~ 1 + (1 | g)", data=df)
    assert m.level2_cov.iloc[0, 0] < 1e-6
    assert any("boundary" in n for n in m.notes)
    assert "Note:" in repr(m)


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


def test_singular_covariance_note_fits_the_size_of_the_random_part(ssls):
    # P5.3's random coefficients for social class: lme4 reports a singular fit too
    # (lmer(score ~ cohort90 + female + sclass + (1 + cohort90 + sclass | schoolid), REML = FALSE): isSingular TRUE)
    m5 = lh.fit("score ~ cohort90 + female + sclass + (1 + cohort90 + sclass | schoolid)", data=ssls,
                reference={"sclass": "working"})
    note = next(n for n in m5.notes if "singular" in n)
    assert "one random effect is an exact combination of the others" in note and "+1 or -1" not in note
