"""Feedback aimed at the common slips of numeric questions, for every student's own numbers."""
import pytest

from lemma_helpers._bank import question
from lemma_helpers._scoring import score
from lemma_helpers.grade.codes import student_code
from lemma_helpers.variant_keys import own_key, params_for

CODES = [student_code(b"feedback-test-secret", "quiz-x", f"s{i:03d}") for i in range(60)]


def _feedback(qid, answer, code=None):
    q = question(qid)
    out = score(q, answer, own_key(q, code))
    assert out.valid and not out.correct, (qid, answer, code)
    return out.feedback


@pytest.mark.parametrize("qid, slip, says", [
    ("5.3.q3", lambda p: p["s01"] / (p["s0"] * p["s1"]), "square root"),
    ("5.5.q4", lambda p: p["v80"] - p["v18"], "asks for a ratio"),
    ("5.0.q3", lambda p: p["n_obs"] / p["groups"] * p["rho"], "leaves out the 1"),
    ("5.0.q3", lambda p: (p["n_obs"] / p["groups"] - 1) * p["rho"], "leaves out the 1"),
    ("5.4.q1", lambda p: 8.3, "notebook 05's figure"),
    ("5.1.q10", lambda p: 9.86, "variances in the notebook's figure"),
    ("5.3.q1", lambda p: p["s0"], "at $x = 0$, a 46-year-old"),
    ("P5.5.q1", lambda p: p["e0"] + 2 * p["e1"] * -6 + p["e2"] * 36, "You doubled the linear coefficient"),
])
def test_a_slip_on_given_numbers_gets_its_own_feedback_for_every_student(qid, slip, says):
    q = question(qid)
    checked = 0
    for code in [None, *CODES]:
        p = params_for(q, code)
        key = own_key(q, code)
        if qid in ("5.4.q1", "5.1.q10") and abs(slip(p) - (key.low + key.high) / 2) < 0.2:
            continue                         # a student whose own answer is near the notebook's number
        if any(low <= slip(p) <= high and says not in fb for low, high, fb in key.distractors):
            continue                         # two slips that come to the same number for this student's numbers
        assert says in _feedback(qid, slip(p), code), (qid, code, p)
        checked += 1
    assert checked > len(CODES) * 3 // 4


def test_the_design_effect_key_is_narrow_enough_to_reject_n_bar_rho_for_every_drawn_rho():
    """n-bar rho differs from the key by 1 - rho; the key's and the slip's tolerances together stay below that
    for the largest rho that can be drawn."""
    q = question("5.0.q3")
    (formula, tol, _), = [d for d in q.formula_distractors if d[0] == "n_obs / groups * rho"]
    largest = q.params["rho"]["draw"][1]
    assert (q.key.high - q.key.low) / 2 + tol < 1 - largest


@pytest.mark.parametrize("qid, answer, says", [
    ("P5.6.q3", 0.090 + 0.036 + 0.060, "you left out the 2"),      # without the 2, from the rounded estimates
    ("P5.6.q3", 0.184671, "you left out the 2"),
    ("P5.6.q6", 0.343083, "left out the intercept"),
    ("P5.1.q3", 46, "upper end of the range printed"),
])
def test_a_slip_on_the_data_gets_its_own_feedback(qid, answer, says):
    assert says in _feedback(qid, answer)


@pytest.mark.parametrize("qid, answer, accepted", [
    ("5.5.q6", "heterogeneity", True),
    ("5.5.q6", "Heterogeneity of variance", True),
    ("5.5.q6", "homoscedasticity", False),
    ("5.1.q10", 7.9, False),                 # "Give 2 decimals": one decimal is too coarse
    ("5.1.q10", 7.92, True),
])
def test_accepted_forms_and_the_decimals_a_prompt_asks_for(qid, answer, accepted):
    q = question(qid)
    assert score(q, answer, own_key(q, None)).correct is accepted
