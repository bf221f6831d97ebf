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


def test_value_exercise_right_wrong_and_unfinished(exam_null, capsys):
    assert lh.check_exercise("X.example.vpc", 0.16592, m=exam_null) == 0.16592
    assert capsys.readouterr().out == "Correct: the VPC = 0.1659.\n"
    back = lh.check_exercise("X.example.vpc", 0.5, m=exam_null)
    assert back == pytest.approx(exam_null.vpc())          # the expected value, so later cells run
    out = capsys.readouterr().out
    assert out == "Not yet: 0.5000 is not the VPC. Hint: divide the level-2 variance by the total variance.\n"
    assert "0.166" not in out                                # a wrong answer never shows the answer
    lh.check_exercise("X.example.vpc", ..., m=exam_null)
    assert capsys.readouterr().out.startswith("Not done yet")


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
