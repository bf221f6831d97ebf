"""Tests of lh.check_exercise: exercise checks whose expected answers live in the package."""
import json
import re
from pathlib import Path

import pytest

import lemma_helpers as lh
from lemma_helpers.exercises import exercise_ids

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def exam_null():
    # lme4: lmer(normexam ~ 1 + (1 | school), Exam, REML = FALSE): VPC 0.1659
    return lh.fit("normexam ~ 1 + (1 | school)", data=lh.load_dataset("exam"))


@pytest.fixture(autouse=True)
def _fresh_session():
    lh.reset_session()
    yield
    lh.reset_session()


def test_value_exercise_right_wrong_and_unfinished(exam_null, capsys):
    assert lh.check_exercise("X.example.vpc", 0.16592, m=exam_null) == 0.16592
    assert capsys.readouterr().out == "Correct: the VPC = 0.1659.\n" and lh.solved("X.example.vpc")
    back = lh.check_exercise("X.example.vpc", 0.5, m=exam_null)
    assert back == 0.5 and not lh.solved("X.example.vpc")       # the learner's own value, never the expected one
    out = capsys.readouterr().out
    assert out == "Not yet: 0.5000 is not the VPC. Hint: divide the level-2 variance by the total variance.\n"
    assert "0.166" not in out                                # a wrong answer never shows the answer
    assert lh.check_exercise("X.example.vpc", ..., m=exam_null) is Ellipsis
    assert capsys.readouterr().out.startswith("Not done yet")


def test_the_worked_answer_comes_at_the_third_wrong_try_or_on_request(exam_null, capsys):
    for answer in (0.5, 0.6):
        lh.check_exercise("X.example.vpc", answer, m=exam_null)
        assert "0.166" not in capsys.readouterr().out
    lh.check_exercise("X.example.vpc", ..., m=exam_null)             # not an answer: not a try
    assert "Worked answer" not in capsys.readouterr().out
    lh.check_exercise("X.example.vpc", 0.7, m=exam_null)
    assert capsys.readouterr().out.splitlines()[1] == (
        "Worked answer: divide the level-2 variance by the total variance; the VPC comes to 0.1659.")
    lh.reset_session()
    assert lh.reveal("X.example.vpc", m=exam_null).endswith("the VPC comes to 0.1659.")
    lh.start_assignment("quiz-x")
    with pytest.raises(lh.LemmaError, match="not shown during a summative assignment"):
        lh.reveal("X.example.vpc", m=exam_null)


def test_a_check_whose_inputs_are_not_done_says_so(capsys):
    assert lh.check_exercise("X.example.vpc", 0.2, m=...) == 0.2
    assert capsys.readouterr().out == ("This check needs m, which an earlier exercise has not made yet: finish that "
                                       "exercise first, then run this check again.\n")


def test_a_model_exercise_s_worked_answer_is_the_call(capsys):
    lh.reset_session()
    exam = lh.load_dataset("exam")
    for formula in ("normexam ~ 1 + (1 | school)", "normexam ~ female + (1 | school)",
                    "normexam ~ avslrt + (1 | school)"):                      # three different wrong models
        lh.check_exercise("P5.6.m1", lh.fit(formula, data=exam), data=exam)
    assert capsys.readouterr().out.splitlines()[-1] == (
        'Worked answer: lh.fit("normexam ~ standlrt + (1 | school)", data=...)')


def test_the_same_wrong_answer_checked_again_is_not_a_new_try(exam_null, capsys):
    lh.reset_session()
    for _ in range(4):                          # a check cell run four times with the same wrong value
        lh.check_exercise("X.example.vpc", 0.5, m=exam_null)
    assert "Worked answer" not in capsys.readouterr().out and lh.session().tries["X.example.vpc"] == 1
    wrong = lh.fit("normexam ~ 1 + (1 | school)", data=lh.load_dataset("exam"))
    for _ in range(3):
        lh.check_exercise("P5.6.m1", wrong, data=lh.load_dataset("exam"))
    assert lh.session().tries["P5.6.m1"] == 1


def test_unknown_exercise_and_wrong_inputs_are_explained(exam_null):
    with pytest.raises(lh.LemmaError, match=r"Unknown exercise 'X.example.vcp'. Did you mean 'X.example.vpc'"):
        lh.check_exercise("X.example.vcp", 0.1, m=exam_null)
    with pytest.raises(lh.LemmaError, match=r"needs m \(missing: m\).*lh.check_exercise\('X.example.vpc', answer, m=m\)"):
        lh.check_exercise("X.example.vpc", 0.1)
    with pytest.raises(lh.LemmaError, match=r"not used: m0"):
        lh.check_exercise("X.example.vpc", 0.1, m=exam_null, m0=exam_null)
    with pytest.raises(TypeError, match="exercise id must be a string"):
        lh.check_exercise(3, 0.1)


def _used_in_notebooks() -> dict:
    used = {}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for ex in re.findall(r"check_exercise\(\s*[\"']([^\"']+)[\"']", "".join(cell["source"])):
                used.setdefault(ex, path.name)
    return used


def test_every_exercise_a_notebook_checks_is_defined_and_every_definition_is_used():
    used = _used_in_notebooks()
    defined = [e for e in exercise_ids() if not e.startswith("X.")]
    assert sorted(set(used) - set(defined)) == []
    assert sorted(set(defined) - set(used)) == []


def test_an_lr_check_refuses_a_reml_fit_and_says_to_refit_by_ml(capsys):
    """P5.1 exercise 4: with m0 fitted by REML the LR check must not call the statistic correct, since
    lh.lr_test(ols, m0) refuses the pair; every LR check on the learner's models refuses it likewise."""
    from lemma_helpers.exercises import _catalogue
    from lemma_helpers.inference import lr_test

    ssls = lh.load_dataset("ssls")
    ols = lh.fit_ols("score ~ 1", data=ssls)
    m0 = lh.fit("score ~ 1 + (1 | schoolid)", data=ssls, reml=True)
    with pytest.raises(lh.LemmaError, match="REML fit and the other an ML fit"):
        lr_test(ols, m0)
    stat = 2 * (m0.loglik - ols.loglik)
    assert lh.check_exercise("P5.1.lr", stat, ols=ols, m0=m0) == stat
    out = capsys.readouterr().out
    assert out.startswith("Not yet: m0 is a REML fit") and "reml=False" in out and "Correct" not in out
    assert not lh.solved("P5.1.lr") and "REML fit" in lh.reveal("P5.1.lr", ols=ols, m0=m0)
    lr_checks = [i for i in exercise_ids() if _catalogue()[i].kind == "value" and "LR statistic" in _catalogue()[i].what
                 and any(n.startswith("m") for n in _catalogue()[i].needs)]
    assert {"P5.1.lr", "P5.2.lr", "P5.3.lr_slope", "P5.5.lr_stat", "P5.6.lr_slope"} <= set(lr_checks)
    assert all(_catalogue()[i].ml for i in lr_checks)


def test_reveal_messages_name_reveal_and_suggest_exercise_ids_too(exam_null):
    with pytest.raises(lh.LemmaError) as err:
        lh.reveal("P5.1.vpc")
    assert "lh.reveal('P5.1.vpc', m0=m0)" in str(err.value) and "check_exercise" not in str(err.value)
    with pytest.raises(lh.LemmaError) as err:
        lh.check_exercise("P5.1.vpc", 0.2)
    assert "lh.check_exercise('P5.1.vpc', answer, m0=m0)" in str(err.value)
    with pytest.raises(lh.LemmaError) as err:
        lh.reveal("P5.1.vcp", m0=exam_null)
    assert "Did you mean 'P5.1.vpc'?" in str(err.value) and "'P5.1.vpc'" in str(err.value)
    with pytest.raises(lh.LemmaError, match="Did you mean '5.1.q3'"):
        lh.reveal("5.1.q3x")


def test_a_count_s_worked_answer_is_a_whole_number():
    exam = lh.load_dataset("exam")
    text = lh.reveal("start.exam_largest", exam=exam)
    assert text.endswith("comes to 198.") and "198.0" not in text


def test_a_text_question_s_revealed_answer_lists_its_forms_as_written_and_once_each():
    text = str(lh.reveal("5.5.q6"))
    accepted = text.split("Accepted: ", 1)[1]
    assert "non-constant variance" in accepted and "complex level-1 variation" in accepted
    assert "nonconstantvariance" not in accepted
    forms = accepted.rstrip(".").split(" or ")
    assert len(forms) == len(set(forms))
