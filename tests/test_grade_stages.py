"""The stages of a grading run, each on its own and without kernels: names, scoring, combining, writing.

The run stage (kernels in sandboxes) is tested end to end in test_grading.py and test_grading_hostile.py;
here it is replaced by :func:`inprocess.in_process` or by hand-made results.
"""
import importlib
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import lemma_helpers as lh
from inprocess import in_process
from lemma_helpers import answers as A
from lemma_helpers.grade import marks as M
from lemma_helpers.grade import run as R
from lemma_helpers.grade import sandbox as SB
from lemma_helpers.grade.layouts import Entry
from lemma_helpers.grade.results import Submission
from lemma_helpers.grade.text import file_names, safe_name

G = importlib.import_module("lemma_helpers.grading")
B = importlib.import_module("lemma_helpers._bank")


def _nb(*sources):
    return new_notebook(cells=[new_code_cell("import lemma_helpers as lh"), *map(new_code_cell, sources)])


# ----- names --------------------------------------------------------------------------------------------

def test_every_student_gets_a_distinct_file_name_and_a_clash_is_reported():
    names, notes = file_names(["ana_lee", "ana lee", "Ana_Lee", "bo", "../etc/passwd", ".hidden"])
    assert names == {"ana_lee": "ana_lee", "ana lee": "ana_lee~2", "Ana_Lee": "Ana_Lee~3", "bo": "bo",
                     "../etc/passwd": "_etc_passwd", ".hidden": "hidden"}
    assert len({n.casefold() for n in names.values()}) == len(names)
    assert notes == ["the files of 'ana lee' are named ana_lee~2 (ana_lee was taken by another student)",
                     "the files of 'Ana_Lee' are named Ana_Lee~3 (Ana_Lee was taken by another student)"]
    assert safe_name("x" * 500) == "x" * 97 + "..."


def test_two_students_whose_ids_make_one_file_name_get_their_own_feedback(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_nb('lh.check("5.1.q2", "c")'), str(subs / "ana_lee.ipynb"))
    nbformat.write(_nb('lh.check("5.1.q2", "a")'), str(subs / "ana lee.ipynb"))
    out = tmp_path / "out"
    with in_process():
        assert G.main([str(subs), "--out", str(out / "grades.csv"), "--quiet"]) == 0
    first, second = (out / "feedback" / "ana_lee.md").read_text(), (out / "feedback" / "ana_lee~2.md").read_text()
    assert "# Feedback for ana lee" in first and "## 5.1.q2: not correct" in first
    assert "# Feedback for ana_lee" in second and "## 5.1.q2: correct" in second
    import zipfile
    with zipfile.ZipFile(out / "feedback.zip") as z:
        assert sorted(z.namelist()) == ["ana_lee.md", "ana_lee~2.md"]
        assert z.read("ana_lee~2.md").decode() == second
    assert "the files of 'ana_lee' are named ana_lee~2" in (out / "grading_summary.txt").read_text()


# ----- scoring: once per notebook ------------------------------------------------------------------------

def test_a_student_s_notebooks_combined_mark_as_their_answers_put_together():
    marking = M.Marking(B.shipped_key())
    parts = [{"5.1.q1": [0.5], "5.1.q2": ["c"]}, {"5.1.q1": [0.0921, 0.3], "5.0.q8": ["pupil"]},
             {"5.1.q1": [0.0921]}]
    combined = M.combine([M.mark_answers(p, marking.key, marking) for p in parts])
    together = {}
    for p in parts:
        for q, given in p.items():
            together.setdefault(q, []).extend(given)
    assert combined == M.mark_answers(together, marking.key, marking)
    assert combined["5.1.q1"].times == 4 and combined["5.1.q1"].correct


def test_each_notebook_is_scored_once_and_nothing_else_scores(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    (subs / "amy").mkdir(parents=True)
    nbformat.write(_nb('lh.check("5.1.q2", "c")'), str(subs / "amy" / "a.ipynb"))
    nbformat.write(_nb('lh.check("5.1.q1", 0.0921)'), str(subs / "amy" / "b.ipynb"))
    (subs / "ben").mkdir()
    nbformat.write(_nb('lh.check("5.1.q2", "b")', 'lh.check("9.9.q1", 1)'), str(subs / "ben" / "quiz.ipynb"))
    calls = []
    real = M.mark_answers
    monkeypatch.setattr(R, "mark_answers", lambda answers, key, marking, counts: calls.append(sorted(answers)) or
                        real(answers, key, marking, counts))
    with in_process():
        assert G.main([str(subs), "--out", str(tmp_path / "out" / "grades.csv"), "--quiet"]) == 0
    assert sorted(calls) == [["5.1.q1"], ["5.1.q2"], ["5.1.q2", "9.9.q1"]]
    assert (tmp_path / "out" / "grades.csv").read_text() == (
        "student,status,5.1.q1,5.1.q2,total\namy,ok,1,1,2\nben,ok,,0,0\n")
    ben = (tmp_path / "out" / "feedback" / "ben.md").read_text()
    assert ben.count("ignored an answer to unknown question '9.9.q1'") == 1


def test_the_score_stage_needs_no_kernel_and_uses_each_student_s_key():
    amy = Entry("amy", Path("amy.ipynb"))
    found = R.Collected("flat", [], {"amy": (None, [amy]), "ben": (None, [])}, {"amy": [("amy", amy)], "ben": []},
                        [], {"amy": "amy", "ben": "ben"}, [])
    results = {"amy": Submission("amy", "amy.ipynb", answers={"5.1.q1": [0.105]})}
    key = {**B.shipped_key(), "5.1.q1": B._override(B.question("5.1.q1"), {"value": 0.105, "tolerance": 0.001}, "t")}
    plan = R.Plan(key, M.Marking(key, frozenset({"5.1.q1"})), {}, None, None)
    graded = R.score(found, results, plan)
    assert [(g.sub.student, g.sub.status, M.total(g.marks)) for g in graded] == [("amy", "ok", 1.0),
                                                                               ("ben", "missing", 0)]


# ----- the sandbox's user ids ----------------------------------------------------------------------------

def test_every_sandboxed_run_gets_a_user_id_no_process_uses():
    import random

    rng = random.Random(1)
    uids = {SB.fresh_uid(rng) for _ in range(200)}
    assert len(uids) == 200 and all(SB.UID_BASE <= u < SB.UID_BASE + SB.UID_SPAN for u in uids)
    assert all(SB._tasks_of(u) == 0 for u in uids)


# ----- one definition of an answer -----------------------------------------------------------------------

def test_exercises_and_compute_rules_use_the_same_answer_functions():
    from lemma_helpers.exercises import _exercise

    exam = lh.load_dataset("exam")
    m0 = lh.fit("normexam ~ 1 + (1 | school)", data=exam)
    m1 = lh.fit("normexam ~ standlrt + (1 | school)", data=exam)
    assert _exercise("P5.6.red_u").compute(m0=m0, m1=m1) == A.reduction_level2(m0, m1)
    assert _exercise("P5.6.vpc").compute(m0=m0) == A.vpc(m0)
    spec = {"dataset": "exam", "models": {"a": "normexam ~ 1 + (1 | school)", "b": "normexam ~ standlrt + (1 | school)"},
            "value": {"quantity": "reduction_level2", "models": ["a", "b"]}, "tolerance": 0.01}
    assert A.compute_value(spec, None) == pytest.approx(A.reduction_level2(m0, m1), abs=1e-12)


def test_compute_rules_keep_no_fitted_model(monkeypatch):
    import gc
    import weakref

    models = importlib.import_module("lemma_helpers.model")
    fitted, real = [], models.fit
    monkeypatch.setattr(models, "fit", lambda *a, **k: fitted.append(weakref.ref(m := real(*a, **k))) or m)
    spec = {"dataset": "exam", "models": {"a": "normexam ~ 1 + (1 | school)"},
            "value": {"quantity": "vpc", "model": "a"}, "tolerance": 0.01}
    assert A.compute_values([spec, spec], None)[0] == A.compute_values([spec], None)[0]
    gc.collect()
    assert len(fitted) == 2 and all(ref() is None for ref in fitted)      # one fit per call, none kept


def test_the_sandbox_imports_the_course_package_the_grader_imported():
    """The kernels import the copy of the package the grader runs (mounted at its own path), also when the grader
    runs from a checkout or a PYTHONPATH the environment's install does not point at."""
    env = SB.inside_env(sys.executable)
    assert env["PYTHONPATH"] == str(Path(lh.__file__).resolve().parent.parent)
    assert str(Path(lh.__file__).resolve().parent) in SB._python_roots()
