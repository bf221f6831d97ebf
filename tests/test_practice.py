"""Tests of lemma_helpers.practice (exercise feedback in the practicals).

The models are fitted on the school leavers data of the practicals, cut to
the first 60 schools to keep the tests fast (score ~ cohort90 with a random
intercept / random slope by school, ML).
"""
import numpy as np
import pytest

import lemma_helpers as lh
from lemma_helpers.practice import _variables


@pytest.fixture(scope="module")
def ssls():
    df = lh.load_dataset("ssls")
    keep = df["schoolid"].cat.categories[:60]
    df = df[df["schoolid"].isin(keep)].copy()
    df["schoolid"] = df["schoolid"].cat.remove_unused_categories()
    return df.reset_index(drop=True)


@pytest.fixture(scope="module")
def slope(ssls):
    return lh.fit("score ~ cohort90 + (1 + cohort90 | schoolid)", data=ssls)


SPEC = dict(response="score", fixed=["cohort90"], random=["cohort90"], group="schoolid")


def test_correct_model_is_returned(ssls, slope, capsys):
    out = lh.check_model(slope, data=ssls, **SPEC)
    assert out is slope
    assert capsys.readouterr().out.startswith("Correct: score ~ cohort90 with random part (1 + cohort90 | schoolid)")


def test_equivalent_formula_passes(ssls, capsys):
    m = lh.fit("score ~ 1 + cohort90 + (cohort90 | schoolid)", data=ssls)
    assert lh.check_model(m, data=ssls, **SPEC) is m
    assert capsys.readouterr().out.startswith("Correct:")


def test_blank_stays_blank_and_no_model_is_handed_out(ssls, capsys):
    out = lh.check_model(..., data=ssls, **SPEC)
    text = capsys.readouterr().out
    assert text == "Not done yet: replace the ... with your code, run that cell, then run this check again.\n"
    assert out is Ellipsis


def test_missing_random_slope_is_named(ssls, capsys):
    m = lh.fit("score ~ cohort90 + (1 | schoolid)", data=ssls)
    out = lh.check_model(m, data=ssls, **SPEC)
    text = capsys.readouterr().out
    assert text.startswith("Not yet: the random part (inside the brackets) is missing cohort90.")
    assert out is m                                   # the learner's own model, not the expected one


def test_extra_term_reml_and_wrong_type(ssls, capsys):
    m = lh.fit("score ~ cohort90 + female + (1 + cohort90 | schoolid)", data=ssls, reml=True)
    lh.check_model(m, data=ssls, **SPEC)
    text = capsys.readouterr().out
    assert "the fixed part has terms this step does not ask for: female" in text
    assert "fit by maximum likelihood (leave out reml=True)" in text
    lh.check_model(3.0, data=ssls, **SPEC)
    assert "expected a model fitted with lh.fit(...), got float" in capsys.readouterr().out


def test_reference_category_and_rows(ssls, capsys):
    spec = dict(response="score", fixed=["sclass"], random=[], group="schoolid")
    m = lh.fit("score ~ sclass + (1 | schoolid)", data=ssls)
    lh.check_model(m, data=ssls, reference={"sclass": "working"}, **spec)
    assert "add reference={'sclass': 'working'}" in capsys.readouterr().out
    half = ssls.iloc[: len(ssls) // 2]
    m_half = lh.fit("score ~ sclass + (1 | schoolid)", data=half)
    lh.check_model(m_half, data=ssls, **spec)
    assert "complete rows" in capsys.readouterr().out


def test_variables_normalises_terms():
    assert _variables(["Intercept", "C(sclass)[T.managerial]", "sclass[T.working]", "share1:cohort90"]) == {
        "sclass", "cohort90:share1"}


def test_check_value(capsys):
    assert lh.check_value("the VPC", 0.1911, 0.19107, tol=5e-4) == 0.1911
    assert capsys.readouterr().out == "Correct: the VPC = 0.1911.\n"
    assert lh.check_value("the VPC", 0.3, 0.19107, tol=5e-4, hint="divide by the total.") == 0.3
    assert capsys.readouterr().out == "Not yet: 0.3000 is not the VPC. Hint: divide by the total.\n"
    assert lh.check_value("x", ..., 2.0, tol=0.01) is Ellipsis
    assert capsys.readouterr().out.startswith("Not done yet")
    lh.check_value("x", "abc", 2.0, tol=0.01)
    assert "should be a number, got str" in capsys.readouterr().out
    lh.check_value("the variances", [1.0, 2.0], [1.0, 2.001], tol=0.01)
    assert capsys.readouterr().out == "Correct: the variances = [1.00, 2.00].\n"
    lh.check_value("the variances", [1.0], [1.0, 2.0], tol=0.01)
    assert "should be 2 values, got 1 values" in capsys.readouterr().out


def test_is_blank():
    assert lh.is_blank(...) and lh.is_blank([1, ...]) and not lh.is_blank(0.0)


def test_check_value_long_arrays(capsys):
    import numpy as np
    x = np.arange(10.0)
    assert lh.check_value("share1", x, x, tol=1e-9) is x
    assert capsys.readouterr().out == "Correct: share1 (10 values).\n"
    y = x.copy(); y[:3] += 1
    lh.check_value("share1", y, x, tol=1e-9, hint="use transform")
    assert capsys.readouterr().out == "Not yet: 3 of the 10 values of share1 are not right. Hint: use transform.\n"


def test_check_value_counts_print_as_integers(capsys):
    lh.check_value("the number of schools above average", 138, 138, tol=0.5)
    assert capsys.readouterr().out == "Correct: the number of schools above average = 138.\n"


def test_equivalent_level1_formulas_pass(ssls, capsys):
    # '~ cohort90' has an implicit intercept, so it is the same function as '~ 1 + cohort90'
    m = lh.fit("score ~ cohort90 + (1 | schoolid)", data=ssls, level1="~ cohort90")
    spec = dict(response="score", fixed=["cohort90"], group="schoolid")
    assert lh.check_model(m, data=ssls, level1="~ 1 + cohort90", **spec) is m
    assert capsys.readouterr().out.startswith("Correct:")
    m2 = lh.fit("score ~ cohort90 + (1 | schoolid)", data=ssls, level1="~ C(female) - 1")
    assert lh.check_model(m2, data=ssls, level1="~ 0 + C(female)", **spec) is m2
    assert capsys.readouterr().out.startswith("Correct:")
    lh.check_model(m2, data=ssls, level1="~ 1 + cohort90", **spec)
    assert "give the level-1 variance function with level1='~ 1 + cohort90'" in capsys.readouterr().out


def test_check_value_wrong_size_and_test_result(capsys):
    import numpy as np
    lh.check_value("share1", np.zeros(3), np.zeros(5), tol=1e-9, hint="one value per row: use transform")
    assert capsys.readouterr().out == (
        "Not yet: share1 should be 5 values, got 3 values. Hint: one value per row: use transform.\n")
    lh.check_value("the count", np.arange(4), 2, tol=0.5)
    assert capsys.readouterr().out == "Not yet: the count should be a single number, got 4 values.\n"
    assert lh.check_value("the variances", np.array([[1.0], [2.0]]), [1.0, 2.0], tol=0.01) is not None
    assert capsys.readouterr().out == "Correct: the variances = [1.00, 2.00].\n"

    class FakeTest:
        statistic = 12.5
    lh.check_value("the LR statistic", FakeTest(), 12.5, tol=0.01)
    assert capsys.readouterr().out == (
        "Not yet: the LR statistic should be a number, got FakeTest. "
        "That looks like a test result: its number is .statistic.\n")


def test_level1_function_is_confirmed_or_asked_for(ssls, capsys):
    # the success message names the level-1 variance function the step asks for,
    # and a model fitted without level1= gets a hint rather than a pass
    spec = dict(response="score", fixed=["cohort90"], group="schoolid")
    m = lh.fit("score ~ cohort90 + (1 | schoolid)", data=ssls, level1="~ 0 + C(female)")
    assert lh.check_model(m, data=ssls, level1="~ 0 + C(female)", **spec) is m
    out = capsys.readouterr().out
    assert out.startswith("Correct:") and ", with level-1 variance ~ 0 + C(female), fitted by" in out
    plain = lh.fit("score ~ cohort90 + (1 | schoolid)", data=ssls)
    lh.check_model(plain, data=ssls, **spec)
    assert "level-1 variance" not in capsys.readouterr().out
    lh.check_model(plain, data=ssls, level1="~ 0 + C(female)", **spec)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "level1='~ 0 + C(female)'" in out


def test_a_value_rounded_too_far_is_named_not_called_wrong(capsys):
    """0.19 is what the text says of P5.1's VPC (0.1911), and the quiz too rejects it: the check says why."""
    lh.check_value("the VPC", 0.19, 0.19107, tol=5e-4, hint="divide by the total")
    assert capsys.readouterr().out == ("Not yet: 0.19 is the VPC rounded to 2 decimals, too coarse for this check: "
                                       "keep at least 3 decimals, or better, the unrounded value your code computes.\n")
    lh.check_value("the VPC", 0.191, 0.19107, tol=5e-4)
    assert capsys.readouterr().out.startswith("Correct:")
    lh.check_value("the VPC", 0.0, 0.19107, tol=5e-4, hint="divide by the total")    # 0 is not a rounding
    assert capsys.readouterr().out == "Not yet: 0.0000 is not the VPC. Hint: divide by the total.\n"
    lh.check_value("the count", 4, 3.6, tol=0.5)                                        # nor a whole number
    assert capsys.readouterr().out.startswith("Correct:")


def test_known_wrong_routes_are_named_and_none_is_explained(capsys):
    lh.check_value("the VPC", 19.1, 0.19107, tol=5e-4, hint="divide by the total")
    assert capsys.readouterr().out == ("Not yet: 19.1000 is not the VPC: that looks like a percentage: give the VPC "
                                       "as a proportion (divide by 100).\n")
    lh.check_value("the LR statistic", -3749.78, 3749.78, tol=0.01, hint="bigger minus smaller")
    assert capsys.readouterr().out == ("Not yet: -3749.78 is not the LR statistic: the size is right but the sign "
                                       "is not: check which way round the difference goes.\n")
    assert lh.check_value("the VPC", None, 0.19107, tol=5e-4) is None
    assert "the VPC is None, not a number: the cell that should compute it gave nothing back" in \
        capsys.readouterr().out


def test_ready_says_what_a_cell_needs(capsys):
    assert lh.ready(m1=1.0, m2="x")
    assert capsys.readouterr().out == ""
    assert not lh.ready(m1=..., m2=None)
    assert capsys.readouterr().out == ("This cell needs m1 and m2, which an exercise above has not made yet: finish "
                                       "that exercise, then run this cell again.\n")


def test_a_vpc_given_as_the_ratio_of_the_variances_is_named(capsys):
    s2u, s2e = 0.0898, 0.8851
    lh.check_value("the VPC", s2u / s2e, s2u / (s2u + s2e), tol=5e-4)
    out = capsys.readouterr().out
    assert "between-group variance divided by the within-group variance" in out and "total variance" in out
    assert f"{s2u / (s2u + s2e):.4f}" not in out


def test_an_lr_statistic_without_its_factor_2_or_the_wrong_way_round_is_named(capsys):
    lr = 3749.62
    lh.check_value("the LR statistic", lr / 2, lr, tol=0.01)
    out = capsys.readouterr().out
    assert "difference of the two log-likelihoods; the LR statistic is twice it" in out and "wrong way" not in out
    lh.check_value("the LR statistic", -lr / 2, lr, tol=0.01)
    out = capsys.readouterr().out
    assert "difference of the two log-likelihoods, the wrong way round" in out
    assert f"{lr:.2f}" not in out


def test_proportions_given_as_percentages_are_named(capsys):
    exp = np.array([0.2, 0.5, 0.0, 0.25, 0.1, 0.4, 0.3, 0.6])
    lh.check_value("share1", exp * 100, exp, tol=1e-9)
    assert capsys.readouterr().out == "Not yet: share1 looks like percentages: give proportions (divide by 100).\n"


def test_a_whole_prediction_table_says_which_column_to_pass(ssls, capsys):
    import pandas as pd

    m = lh.fit("score ~ cohort90 + female + (1 | schoolid)", data=ssls)
    one = pd.DataFrame({"cohort90": [0], "female": [1], "schoolid": [ssls["schoolid"].iloc[0]]})
    pred = m.predict(one)
    wanted = float(pred["fixed"].iloc[0])
    lh.check_value("the prediction for the average school", pred, wanted, tol=5e-4)
    out = capsys.readouterr().out
    assert "whole table that .predict() returns" in out and "pred['fixed'].iloc[0]" in out
    lh.check_value("the prediction for the average school", pred, wanted + 1, tol=5e-4)
    assert "pass one column: 'fixed' for the average group" in capsys.readouterr().out
