"""Per-student variants: codes, variant data, computed keys, and grading each student against their own key.

The example bank and assignment are those of docs/examples/variants (section V5.1: five numeric questions
on the school leavers data, each with a compute: rule).
"""
import contextlib
import re
import importlib
import io
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import lemma_helpers as lh
from lemma_helpers.grade import assignment as A
from lemma_helpers import answers, variants
from lemma_helpers.grade import codes as C
from inprocess import in_process

G = importlib.import_module("lemma_helpers.grading")
B = importlib.import_module("lemma_helpers._bank")
Q = importlib.import_module("lemma_helpers.quiz")
EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "variants"
SECRET = b"test-secret-0123456789"


@pytest.fixture(autouse=True)
def example_bank():
    """A fresh session with the example bank, and nothing left behind."""
    lh.reset_session()
    lh.add_question_bank(EXAMPLE / "bank")
    yield
    lh.reset_session()


def test_codes_are_deterministic_private_and_well_formed():
    a = C.student_code(SECRET, "quiz-v51", "s001")
    assert a == C.student_code(SECRET, "quiz-v51", "s001") == "3IBC-XSJW"
    others = {C.student_code(SECRET, "quiz-v51", f"s{i:03d}") for i in range(200)}
    assert len(others) == 200                                            # every student their own code
    assert C.student_code(b"another-secret-012345", "quiz-v51", "s001") != a
    assert C.student_code(SECRET, "quiz-v52", "s001") != a
    assert variants.normalise_code(" 3ibc xsjw ") == a
    with pytest.raises(lh.LemmaError, match="is not a variant code: a code has 8 letters"):
        variants.normalise_code("1234-5678")


def test_the_secret_must_be_long_enough(tmp_path):
    (tmp_path / "s").write_text("short")
    with pytest.raises(lh.LemmaError, match="too short .* at least 16 random characters"):
        C.read_secret(tmp_path / "s")
    for guessable in ("aaaaaaaaaaaaaaaa", "abcdefghijklmnop", "Password1234567890"):
        (tmp_path / "s").write_text(guessable)
        with pytest.raises(lh.LemmaError, match=r"too easy to guess .* lemma-grade secret --out secret.txt"):
            C.read_secret(tmp_path / "s")


def test_lemma_grade_secret_writes_a_strong_private_secret_once(tmp_path, capsys):
    path = tmp_path / "secret.txt"
    assert G.main(["secret", "--out", str(path)]) == 0
    secret = C.read_secret(path)
    assert len(secret) == 32 and C.estimated_bits(secret) > 120 and (path.stat().st_mode & 0o777) == 0o600
    assert f"--secret-file {path}" in capsys.readouterr().out
    assert G.main(["secret", "--out", str(path)]) == 2
    assert "exists: a secret is never overwritten" in capsys.readouterr().err and C.read_secret(path) == secret


def test_variant_data_are_the_same_for_a_code_and_differ_between_codes():
    a = lh.load_dataset("ssls", variant="3IBC-XSJW")
    assert a["schoolid"].nunique() == 254 and a.equals(lh.load_dataset("ssls", variant="3ibc-xsjw"))
    b = lh.load_dataset("ssls", variant=C.student_code(SECRET, "quiz-v51", "s002"))
    assert set(a["schoolid"]) != set(b["schoolid"])
    full = lh.load_dataset("ssls")
    sizes = full.groupby("schoolid", observed=True).size()
    kept = a.groupby("schoolid", observed=True).size()
    assert (kept.to_numpy() == sizes.loc[list(kept.index)].to_numpy()).all()     # whole schools are kept
    both = a.merge(full[["caseid", "score"]], on="caseid", suffixes=("", "_full"))
    scale, shift = np.polyfit(both["score_full"], both["score"], 1)               # the response on a scale of its own
    assert 0.75 <= scale <= 1.3 and abs(scale - 1) > 0.01
    moved = both["score"] - (scale * both["score_full"] + shift)                  # each school's shift, each row's noise
    by_school = moved.groupby(both["schoolid"], observed=True)
    assert by_school.mean().var() > 1 and moved.var() > by_school.mean().var()
    assert np.corrcoef(both["score_full"], both["score"])[0, 1] > 0.8           # still the same data, mostly
    countries = [lh.load_dataset("ess_hedonism", variant=C.student_code(SECRET, "quiz-v51", f"s{i:03d}"), quiet=True)
                 ["country"].nunique() for i in range(20)]
    assert min(countries) >= 13 and max(countries) <= 17 and len(set(countries)) > 1
    lh.start_assignment("quiz-v51", code="3IBC-XSJW")
    assert lh.load_dataset("ssls").equals(a)                             # the assignment's code is used


def test_keys_agree_with_lme4_on_one_variant():
    # R: v <- the variant's rows as lh.load_dataset("ssls", variant = "3IBC-XSJW") gives them (254 schools, each
    #    moved by its own shift, each row by its own noise, the score on the code's scale; written to CSV with
    #    DataFrame.to_csv and read with read.csv, schoolid a factor); lme4 1.1-31:
    #    m0 <- lmer(score ~ 1 + (1 | schoolid), v, REML = FALSE): deviance 143502.556660, s2_u 44.874988,
    #    s2_e 178.358351, VPC 0.201023; m1 <- lmer(score ~ cohort90 + (1 | schoolid), v, REML = FALSE):
    #    deviance 140725.069187, cohort90 0.982302, s2_u 35.871161; fall in s2_u 0.200642; LR 2777.4875
    v = lh.load_dataset("ssls", variant="3IBC-XSJW")
    assert len(v) == 17804
    keys = A.variant_keys(A.load_assignment(EXAMPLE / "quiz-v51.yaml"), "3IBC-XSJW")
    middle = {q: (k.low + k.high) / 2 for q, k in keys.items()}
    assert middle["V5.1.q1"] == pytest.approx(0.201023, abs=1e-6)
    assert middle["V5.1.q2"] == pytest.approx(44.874988, abs=1e-4)
    assert middle["V5.1.q3"] == pytest.approx(0.982302, abs=1e-6)
    assert middle["V5.1.q4"] == pytest.approx(0.200642, abs=1e-6)
    assert middle["V5.1.q5"] == pytest.approx(2777.4875, abs=1e-3)


def test_the_bank_s_answers_are_the_computed_values_on_the_full_data():
    """For every question on the data, the self-test key (and each wrong route's feedback interval) holds what
    its compute: rule gives on the full data."""
    computed = [q for q in B._questions().values() if q.compute]
    assert len(computed) >= 20
    for q, (value, wrong) in zip(computed, answers.compute_values([q.compute for q in computed], None)):
        assert q.key.low <= value <= q.key.high, q.id
        if isinstance(q.compute["value"], str):
            assert len(q.key.distractors) == len(wrong), q.id
            assert all(low <= w <= high for (low, high, _), w in zip(q.key.distractors, wrong)), q.id


def test_every_shipped_numeric_question_has_a_key_of_its_own_for_each_student():
    """Summative-ready: every numeric question of the shipped sections varies between students, and a question on
    the data never quotes a number in its prompt."""
    from lemma_helpers.variant_keys import keys_for, varies

    numeric = [q for q in B._questions().values() if q.type == "numeric" and not q.section.startswith("V")]
    assert numeric and all(varies(q) for q in numeric), [q.id for q in numeric if not varies(q)]
    for q in numeric:
        if q.compute:     # what a student with their own data reads quotes no number of the full data
            shown = [q.prompt, q.hint or ""] + [d["feedback"] for d in q.compute.get("distractors") or []]
            assert not any(re.search(r"\d\.\d{2}|\d{3,}", re.sub(r"\b19\d\d\b|1\.96", "", t)) for t in shown), (q.id, shown)
    given = [q for q in numeric if q.params]
    a, b = keys_for(given, "3IBC-XSJW", routes=False), keys_for(given, "ABCD-EFGH", routes=False)
    assert all(a[q.id].low != b[q.id].low for q in given if any(s.get("draw") for s in q.params.values()))


def test_every_student_has_their_own_key_and_right_answers_fail_on_another_s():
    a = A.load_assignment(EXAMPLE / "quiz-v51.yaml")
    codes = [C.student_code(SECRET, a.id, s) for s in ("s001", "s002", "s003")]
    keys = [A.variant_keys(a, c) for c in codes]
    for qid in a.questions:
        mids = [(k[qid].low + k[qid].high) / 2 for k in keys]
        assert len(set(np.round(mids, 8))) == 3, qid                 # different on every question
        assert all(k[qid].low <= m <= k[qid].high for k, m in zip(keys, mids))
        assert not keys[1][qid].low <= mids[0] <= keys[1][qid].high, qid   # s001's answer fails on s002's key


def test_a_variant_assignment_needs_compute_rules_and_a_secret(tmp_path):
    (tmp_path / "a.yaml").write_text("assignment: x\nvariants: true\nquestions: [5.1.q2]\n")
    with pytest.raises(lh.LemmaError, match="needs at least one question with a compute: rule"):
        A.load_assignment(tmp_path / "a.yaml")
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "s1.ipynb").write_text("")
    rc = G.main([str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv"), "--assignment",
                 str(EXAMPLE / "quiz-v51.yaml")])
    assert rc == 2


def test_codes_and_key_commands(tmp_path, capsys):
    (tmp_path / "secret").write_bytes(SECRET)
    (tmp_path / "roster.csv").write_text("id,name,email\ns001,Amy,amy@x\ns002,Ben,ben@x\n")
    assert G.main(["codes", "--assignment", str(EXAMPLE / "quiz-v51.yaml"), "--roster", str(tmp_path / "roster.csv"),
                   "--secret-file", str(tmp_path / "secret")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == ["id,name,email,code", "s001,Amy,amy@x,3IBC-XSJW"]
    assert G.main(["key", "--assignment", str(EXAMPLE / "quiz-v51.yaml"), "--student", "s001",
                   "--secret-file", str(tmp_path / "secret")]) == 0
    out = capsys.readouterr().out
    assert "variant code 3IBC-XSJW" in out and "V5.1.q1: between 0.199023 and 0.203023  (computed on the variant)" in out   # 0.201023 (lme4) +- 0.002


# ----- grading a class: each against their own key; shared codes and no code are caught ----------------

SOLUTION = """\
ssls = lh.load_dataset("ssls")
m0 = lh.fit("score ~ 1 + (1 | schoolid)", data=ssls)
m1 = lh.fit("score ~ cohort90 + (1 | schoolid)", data=ssls)
lh.check("V5.1.q1", round(m0.vpc(), 3))
lh.check("V5.1.q2", round(float(m0.level2_cov.iloc[0, 0]), 2))
lh.check("V5.1.q3", round(float(m1.fixed.loc["cohort90", "estimate"]), 3))
lh.check("V5.1.q4", round(1 - float(m1.level2_cov.iloc[0, 0] / m0.level2_cov.iloc[0, 0]), 3))
lh.check("V5.1.q5", round(lh.lr_test(m0, m1).statistic, 1))
"""


def _nb(code):
    start = "import lemma_helpers as lh\n" + (f"lh.start_assignment('quiz-v51', code='{code}')" if code else "")
    return new_notebook(cells=[new_code_cell(start), new_code_cell(SOLUTION)])


def test_each_student_is_graded_against_their_own_variant(tmp_path):
    (tmp_path / "secret").write_bytes(SECRET)
    (tmp_path / "roster.csv").write_text("id,name\ns001,Amy\ns002,Ben\ns004,Cat\n")
    subs = tmp_path / "subs"
    subs.mkdir()
    amy = C.student_code(SECRET, "quiz-v51", "s001")
    nbformat.write(_nb(amy), str(subs / "s001.ipynb"))          # her own code: all right
    nbformat.write(_nb(amy), str(subs / "s002.ipynb"))          # Ben ran Amy's notebook, with her code
    # Cat never entered a code and used the full data. (A student's variant can come close to the full data on
    # one question by chance: s003's VPC is within the tolerance of the full data's, so Cat is s004.)
    nbformat.write(_nb(None), str(subs / "s004.ipynb"))
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), in_process():
        rc = G.main([str(subs), "--out", str(tmp_path / "out" / "grades.csv"), "--roster", str(tmp_path / "roster.csv"),
                     "--assignment", str(EXAMPLE / "quiz-v51.yaml"), "--secret-file", str(tmp_path / "secret"),
                     "--jobs", "2", "--quiet"])
    assert rc == 0, stdout.getvalue()
    assert (tmp_path / "out" / "grades.csv").read_text() == (
        "student,name,status,variant,V5.1.q1,V5.1.q2,V5.1.q3,V5.1.q4,V5.1.q5,total\n"
        "s001,Amy,ok,ok,1,1,1,1,1,5\n"
        "s002,Ben,ok,another student's code (s001),0,0,0,0,0,0\n"
        "s004,Cat,ok,no code,0,0,0,0,0,0\n")
    ben = (tmp_path / "out" / "feedback" / "s002.md").read_text()
    assert "used another student's code (s001), not their own" in ben
    assert "used the same variant code as s001" in ben
    assert 'lh.start_assignment("quiz-v51", code="...") never ran' in (tmp_path / "out" / "feedback" / "s004.md").read_text()
    summary = stdout.getvalue()                       # the Problems section names each, not only the variant column
    assert "s002: used another student's code (s001), not their own; used the same variant code as s001" in summary
    assert "s001: used the same variant code as s002" in summary and "s004: lh.start_assignment(" in summary


def test_the_example_notebook_asks_exactly_the_assignment_s_questions():
    import re

    nb = nbformat.read(str(EXAMPLE / "quiz-v51.ipynb"), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    asked = re.findall(r'lh\.check\("([^"]+)"', code)
    assert asked == list(A.load_assignment(EXAMPLE / "quiz-v51.yaml").questions)
    assert 'lh.start_assignment("quiz-v51", code=' in code


def test_no_code_says_whether_start_assignment_ran_without_its_code(tmp_path):
    """Issue #25: 'lh.start_assignment(..., code=...) was not run' was said of a notebook where it ran without
    a code; the note now tells the two apart."""
    (tmp_path / "secret").write_bytes(SECRET)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("import lemma_helpers as lh\nlh.start_assignment('quiz-v51')"),
                                       new_code_cell("lh.check('V5.1.q1', 0.19)")]), str(subs / "s001.ipynb"))
    nbformat.write(new_notebook(cells=[new_code_cell("import lemma_helpers as lh"),
                                       new_code_cell("lh.check('V5.1.q1', 0.19)")]), str(subs / "s002.ipynb"))
    with contextlib.redirect_stdout(io.StringIO()), in_process():
        assert G.main([str(subs), "--out", str(tmp_path / "out" / "grades.csv"), "--assignment",
                       str(EXAMPLE / "quiz-v51.yaml"), "--secret-file", str(tmp_path / "secret"), "--quiet"]) == 0
    fb = tmp_path / "out" / "feedback"
    assert "no variant code was given to lh.start_assignment" in (fb / "s001.md").read_text()
    assert 'lh.start_assignment("quiz-v51", code="...") never ran' in (fb / "s002.md").read_text()
