"""Assignments and summative mode: lemma-grade --assignment, lemma-grade template, lh.start_assignment."""
import importlib
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import lemma_helpers as lh
from lemma_helpers.grade import assignment as A
Q = importlib.import_module("lemma_helpers.quiz")

G = importlib.import_module("lemma_helpers.grading")

ASSIGNMENT = """\
assignment: quiz-5.1
title: Comparing groups
due: 2026-12-10
mode: summative
partial_credit: true
questions:
  - 5.1.q1
  - 5.1.q2: {points: 2}
  - 5.0.q7
key:
  5.1.q1: {value: 0.105, tolerance: 0.001}
"""


@pytest.fixture(autouse=True)
def _formative_again():
    yield
    lh.reset_session()


def _write(tmp_path, text, name="a.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_assignment_file_names_questions_points_and_keys(tmp_path):
    a = A.load_assignment(_write(tmp_path, ASSIGNMENT))
    assert (a.id, a.title, a.due, a.mode, a.partial_credit) == ("quiz-5.1", "Comparing groups", "2026-12-10",
                                                                 "summative", True)
    assert a.questions == ("5.1.q1", "5.1.q2", "5.0.q7")
    assert a.max_points == 4
    assert (a.keys["5.1.q1"].low, a.keys["5.1.q1"].high) == pytest.approx((0.104, 0.106))
    a2 = A.load_assignment(_write(tmp_path, "assignment: p51\nquestions:\n  - section: P5.1\n", "b.yaml"))
    assert a2.questions == tuple(lh.list_questions("P5.1")["id"]) and a2.mode == "formative"


@pytest.mark.parametrize("text, message", [
    ("questions: [5.1.q1]\n", "`assignment:` must be a short id"),
    ("assignment: a b\nquestions: [5.1.q1]\n", "`assignment:` must be a short id"),
    ("assignment: a\nquestions: [5.1.q1]\npoints: 3\n", "unknown field\\(s\\) 'points'"),
    ("assignment: a\nquestions: []\n", "`questions:` must list question ids"),
    ("assignment: a\nquestions: [5.1.q99]\n", "Unknown question '5.1.q99'"),
    ("assignment: a\nquestions: [5.1.q1, 5.1.q1]\n", "listed more than once: 5.1.q1"),
    ("assignment: a\nquestions:\n  - 5.1.q2: {points: -1}\n", "a positive number of points"),
    ("assignment: a\nquestions: [5.1.q1]\nkey:\n  5.1.q2: {correct: a}\n", "not among the assignment's questions"),
    ("assignment: a\nquestions: [5.1.q1]\nkey:\n  5.1.q1: {correct: a}\n", "5.1.q1 is a numeric question"),
    ("assignment: a\nmode: exam\nquestions: [5.1.q1]\n", "formative or summative"),
    ("assignment: a\nquestions:\n  - section: 9.9\n", "Unknown section"),
])
def test_mistakes_in_an_assignment_file_are_explained(tmp_path, text, message):
    with pytest.raises(lh.LemmaError, match=message):
        A.load_assignment(_write(tmp_path, text))


def test_the_template_lists_every_question_with_its_shipped_answer_and_loads(tmp_path, capsys):
    assert G.main(["template", "--sections", "5.1", "P5.1", "--assignment", "week-2",
                   "--out", str(tmp_path / "t.yaml")]) == 0
    a = A.load_assignment(tmp_path / "t.yaml")
    ids = list(lh.list_questions("5.1")["id"]) + list(lh.list_questions("P5.1")["id"])
    assert list(a.questions) == ids and a.id == "week-2" and a.summative
    for qid in ids:                                  # the written answers are the shipped ones
        q = Q.question(qid)
        assert Q.describe_key(q, a.keys[qid]) == Q.describe_key(q, q.key), qid
    assert G.main(["template", "--sections", "5.1", "--out", str(tmp_path / "t.yaml")]) == 2
    assert "exists" in capsys.readouterr().err
    assert G.main(["template", "--sections", "5.9"]) == 2


def test_partial_credit_right_options_earn_and_wrong_ones_cost_their_share():
    correct = frozenset({"b", "d", "e"})
    labels = list("abcde")
    assert A.partial_points(["b", "d"], correct, labels, 3) == pytest.approx(2)
    assert A.partial_points(["b", "d", "a"], correct, labels, 3) == pytest.approx(0.5)   # 3 x (2/3 - 1/2)
    assert A.partial_points(["a", "c"], correct, labels, 3) == 0
    assert A.partial_points(list("abcde"), correct, labels, 3) == 0


def test_summative_mode_records_without_a_verdict(capsys):
    lh.start_assignment("quiz-5.1")
    assert "your answers are recorded" in capsys.readouterr().out
    r = lh.check("5.1.q1", 0.5)
    assert isinstance(r, Q.Recorded) and "answer recorded" in repr(r) and "correct" not in repr(r).lower()
    for label in ("a", "b", "c", "d"):                  # looping over the options reveals nothing
        assert "correct" not in repr(lh.check("5.1.q2", label)).lower()
    with pytest.raises(lh.LemmaError, match="not shown during a summative assignment"):
        lh.list_questions("5.1", with_key=True)
    with pytest.raises(lh.LemmaError, match="stays summative until the kernel restarts"):
        lh.start_assignment("quiz-5.1", mode="formative")       # no switching to get verdicts
    assert isinstance(lh.check("5.1.q1", 0.0921), Q.Recorded)
    with pytest.raises(lh.LemmaError, match="not shown during a summative assignment"):
        lh.reveal("5.1.q1")
    lh.reset_session()                                          # a fresh kernel: a practice run
    lh.start_assignment("quiz-5.1", mode="formative")
    assert lh.check("5.1.q1", 0.0921).correct


def test_the_grader_s_kernels_only_record(monkeypatch):
    monkeypatch.setenv("LEMMA_CHECK_MODE", "record")
    assert isinstance(lh.check("5.1.q1", 0.0921), Q.Recorded)


def _nb(*sources):
    return new_notebook(cells=[new_code_cell("import lemma_helpers as lh\nlh.start_assignment('quiz-5.1')"),
                               *map(new_code_cell, sources)])


@pytest.fixture(scope="module")
def graded(tmp_path_factory, run_args):
    root = tmp_path_factory.mktemp("assignment")
    subs = root / "subs"
    subs.mkdir()
    notebooks = {
        "perfect": _nb("lh.check('5.1.q1', 0.105)", "lh.check('5.1.q2', 'c')", "lh.check('5.0.q7', ['b', 'd', 'e'])"),
        # loops over every option (ends on a wrong one), answers the shipped VPC, misses one option
        "brute": _nb("for o in 'abcd':\n    lh.check('5.1.q2', o)", "lh.check('5.1.q1', 0.0921)",
                     "lh.check('5.0.q7', ['b', 'd'])"),
        # answers questions of other sections, whose answers the concept notebooks print
        "cross": _nb("lh.check('5.2.q1', 'b')", "lh.check('5.0.q1', 'c')", "lh.check('5.0.q3', 169)",
                     "lh.check('5.1.q2', 'c')"),
    }
    for name, nb in notebooks.items():
        nbformat.write(nb, str(subs / f"{name}.ipynb"))
    (root / "a.yaml").write_text(ASSIGNMENT)
    out = root / "out"
    rc = G.main([str(subs), "--out", str(out / "grades.csv"), "--assignment", str(root / "a.yaml"),
                 "--jobs", "2", "--quiet", *run_args])
    return rc, out


@pytest.mark.kernel
def test_an_assignment_grades_exactly_its_questions_out_of_a_fixed_maximum(graded):
    rc, out = graded
    assert rc == 0
    assert (out / "grades.csv").read_text() == (
        "student,status,5.1.q1,5.1.q2,5.0.q7,total\n"
        "brute,ok,0,0,0.666667,0.666667\n"
        "cross,ok,,2,,2\n"
        "perfect,ok,1,2,1,4\n")
    perfect = (out / "feedback" / "perfect.md").read_text()
    assert "Score: 4 of 4 points" in perfect and "Assignment: Comparing groups (`quiz-5.1`), due 2026-12-10" in perfect
    cross = (out / "feedback" / "cross.md").read_text()
    assert "not part of this assignment were not marked: 5.0.q1, 5.0.q3, 5.2.q1" in cross
    assert "Score: 2 of 4 points" in cross
    assert "Partial credit: 0.666667 of 1" in (out / "feedback" / "brute.md").read_text()
    summary = (out / "grading_summary.txt").read_text()
    assert "Key: assignment quiz-5.1 (3 questions, summative" in summary and "4 points" in summary


@pytest.mark.kernel
def test_executed_copies_show_no_verdict_of_their_own(graded):
    _, out = graded
    brute = nbformat.read(str(out / "executed" / "brute.ipynb"), as_version=4)
    shown = " ".join(o.get("data", {}).get("text/plain", "") + o.get("text", "")
                     for c in brute.cells for o in c.get("outputs", []))
    assert "answer recorded" in shown
    assert "correct" not in shown.lower() and "Worked answer" not in shown


def test_summative_checks_record_questions_that_only_the_grader_knows(capsys):
    lh.start_assignment("final")
    r = lh.check("W9.q3", 12.5)          # an instructor-only question: its bank is on the grading machine only
    assert isinstance(r, Q.Recorded) and r.question == "W9.q3" and r.answer == 12.5
    assert "no answer yet" in repr(lh.check("W9.q3", ...))
    with pytest.raises(TypeError):
        lh.check(5, 1)


def test_the_summary_names_a_wrong_assignment_a_mode_switch_and_a_missing_start(tmp_path):
    from inprocess import in_process

    (tmp_path / "a.yaml").write_text(ASSIGNMENT)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbs = {"right": "lh.start_assignment('quiz-5.1')", "typo": "lh.start_assignment('quiz-5.2')",
           "switch": "lh.start_assignment('quiz-5.1', mode='formative')", "none": "pass"}
    for name, start in nbs.items():
        nb = new_notebook(cells=[new_code_cell("import lemma_helpers as lh\n" + start),
                                 new_code_cell("lh.check('5.1.q2', 'c')")])
        nbformat.write(nb, str(subs / f"{name}.ipynb"))
    with in_process():
        assert G.main([str(subs), "--out", str(tmp_path / "out" / "grades.csv"), "--assignment",
                       str(tmp_path / "a.yaml"), "--quiet"]) == 0
    summary = (tmp_path / "out" / "grading_summary.txt").read_text()
    problems = summary.split("Problems in ")[1]
    assert "typo: started as assignment 'quiz-5.2', not 'quiz-5.1'" in problems
    assert "switch: switched to formative mode in a summative assignment" in problems
    assert 'none: lh.start_assignment("quiz-5.1") never ran' in problems
    assert "right:" not in problems


def test_a_summative_assignment_on_public_keys_is_named_in_the_summary(tmp_path, capsys):
    """A summative assignment whose questions could have each student's own key, graded with the shipped one:
    the run warns (on standard error and in the summary) and says what to do; a key of one's own, or variants,
    make it quiet."""
    from inprocess import in_process
    from lemma_helpers.grade.run import public_summative

    public = ASSIGNMENT.replace("key:\n  5.1.q1: {value: 0.105, tolerance: 0.001}\n", "")
    assert public_summative(A.load_assignment(_write(tmp_path, ASSIGNMENT))) == ""
    assert public_summative(A.load_assignment(_write(tmp_path, public.replace("summative", "formative")))) == ""
    assert public_summative(A.load_assignment(_write(tmp_path, public + "variants: true\n"))) == ""
    said = public_summative(A.load_assignment(_write(tmp_path, public)))
    assert "5.1.q1 is graded against the key that ships with the course package" in said and "variants: true" in said
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_nb("lh.check('5.1.q1', 0.0921)"), str(subs / "ana.ipynb"))
    out = tmp_path / "out"
    with in_process():
        assert G.main([str(subs), "--out", str(out / "grades.csv"), "--assignment", str(tmp_path / "a.yaml"),
                       "--quiet"]) == 0
    assert "lemma-grade: warning: assignment quiz-5.1 is summative, but 5.1.q1" in capsys.readouterr().err
    assert "Note: assignment quiz-5.1 is summative, but 5.1.q1" in (out / "grading_summary.txt").read_text()
