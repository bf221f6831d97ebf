"""lh.fit: published results (the course's and MLwiN's), and the messages for bad input.

lme4 references for every course model are in test_lme4_references.py; this
file checks the behaviour around them."""
import numpy as np
import pytest

import lemma_helpers as lh


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


def test_agrees_with_statsmodels_where_statsmodels_is_right():
    import statsmodels.formula.api as smf

    exam = lh.load_dataset("exam")
    ours = lh.fit("normexam ~ standlrt + (1 | school)", data=exam, reml=True)
    theirs = smf.mixedlm("normexam ~ standlrt", exam, groups=exam["school"]).fit(reml=True)
    assert theirs.converged
    assert ours.loglik == pytest.approx(theirs.llf, abs=1e-6)
    assert np.allclose(ours.fixed["estimate"], theirs.fe_params, atol=1e-5)
    assert ours.level1_var == pytest.approx(theirs.scale, rel=1e-4)


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


def test_uncorrelated_random_effects_are_refused_with_what_is_supported(small):
    """lme4's '||' is not 'no random part': the message names the shorthand and what lh.fit fits instead."""
    with pytest.raises(lh.LemmaError, match=r"uses '\|\|'.*uncorrelated.*does not fit that.*'\(1 \+ x \| group\)'") as err:
        lh.fit("y ~ x + (1 + x || g)", data=small)
    assert "no random part" not in str(err.value)
    with pytest.raises(lh.LemmaError, match=r"2 random parts.*cannot hold a covariance at 0"):
        lh.fit("y ~ x + (1 | g) + (0 + x | g)", data=small)


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        lh.fit("y ~ x + (1 | g)", data={"y": [1]})


def test_unidentifiable_level1_function(small):
    with pytest.raises(lh.LemmaError, match=r"cannot tell them all apart.*'~ 0 \+ C\(x\)'"):
        lh.fit("y ~ x + (1 | g)", data=small, level1="~ 1 + b")


def test_bad_reference_level(ssls):
    with pytest.raises(lh.LemmaError, match=r"'workers' is not a level of 'sclass'.*Did you mean 'working'"):
        lh.fit("score ~ sclass + (1 | schoolid)", data=ssls, reference={"sclass": "workers"})


def test_level1_function_that_vanishes_for_some_rows(small):
    with pytest.raises(lh.LemmaError, match=r"level-1 variance would be 0 for some rows.*C\(female\)"):
        lh.fit("y ~ x + (1 | g)", data=small, level1="~ 0 + b")


@pytest.mark.parametrize("fitter, name", [(lh.fit, "lh.fit"), (lh.fit_ols, "lh.fit_ols")])
def test_data_and_formula_swapped_are_named(fitter, name):
    exam = lh.load_dataset("exam")
    formula = "normexam ~ 1 + (1 | school)" if fitter is lh.fit else "normexam ~ 1"
    with pytest.raises(TypeError) as err:
        fitter(exam, formula)
    message = str(err.value)
    assert message.startswith(f"The formula comes first: {name}(formula, data).")
    assert f"{name}({formula!r}, data=df)" in message and "got str" not in message
