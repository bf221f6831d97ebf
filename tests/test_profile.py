"""Profile likelihood intervals of the variances of a random intercept model (model/profile.py)."""
import numpy as np
import pytest

import lemma_helpers as lh
from lemma_helpers.model.profile import variance_intervals


@pytest.fixture(scope="module")
def exam():
    return lh.load_dataset("exam")


# lme4 1.1, mlmRev::Exam: confint(lmer(f, REML = FALSE), parm = "theta_", method = "profile")^2
LME4 = {
    "normexam ~ 1 + (1 | school)": [[0.11674649, 0.25118397], [0.81163946, 0.88605700]],
    "normexam ~ standlrt + (1 | school)": [[0.06291683, 0.13879835], [0.54162159, 0.59129278]],
}


@pytest.mark.parametrize("formula", list(LME4))
def test_intervals_agree_with_lme4(exam, formula):
    m = lh.fit(formula, data=exam)
    np.testing.assert_allclose(variance_intervals(m), LME4[formula], rtol=2e-5)


def test_each_end_is_where_the_likelihood_ratio_test_rejects_at_5_percent(exam):
    from lemma_helpers.model.profile import CHI2_1_95, _profile_e, _profile_u

    m = lh.fit("normexam ~ 1 + (1 | school)", data=exam)
    ci = variance_intervals(m)
    s2_e = m.level1_var
    for v in ci[0]:
        assert _profile_u(m._stats, v, s2_e) - m.deviance == pytest.approx(CHI2_1_95, abs=1e-6)
    for s in ci[1]:
        assert _profile_e(m._stats, s, 100.0) - m.deviance == pytest.approx(CHI2_1_95, abs=1e-6)


def test_lower_end_is_zero_when_the_test_would_not_reject_a_variance_of_zero(exam):
    few = exam[exam["school"].cat.codes < 4].groupby("school", observed=True).head(5)
    m = lh.fit("normexam ~ 1 + (1 | school)", data=few)
    ci = variance_intervals(m)
    assert ci[0, 0] == 0 and ci[0, 1] > m.level2_cov.iloc[0, 0]
    assert 0 < ci[1, 0] < m.level1_var < ci[1, 1]


def test_other_models_have_no_interval_here(exam):
    assert variance_intervals(lh.fit("normexam ~ 1 + (1 | school)", data=exam, reml=True)) is None
    assert variance_intervals(lh.fit("normexam ~ standlrt + (1 + standlrt | school)", data=exam)) is None
    assert variance_intervals(lh.fit("normexam ~ 1 + (1 | school)", data=exam, level1="~ 0 + C(female)")) is None
