"""Tests for lemma-grade (lemma_helpers.grading).

One grading run over a folder of realistic submissions (correct, partly
wrong, erroring and crashing, an endless loop, tampered, empty, cut short,
answered twice, never calling check, cells deleted), graded against an
instructor key with variant numbers; the gradebook is asserted exactly.
Six of the submissions need a kernel; they run two at a time.
"""
import contextlib
import hashlib
import importlib
import io
import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

G = importlib.import_module("lemma_helpers.grading")
MIME = "application/vnd.lemma.answer+json"

# The honest cases run in the sandbox where bubblewrap works, and as plain processes elsewhere (the
# run_args fixture; the hostile cases, in test_grading_hostile.py, need the sandbox and skip without it).

# The instructor key replaces two shipped answers: 5.1.q1 by the VPC of a variant
# dataset (0.105 instead of 0.0921) and 5.0.q8 by other accepted words, worth 2 points.
KEY = """\
5.1.q1: {value: 0.105, tolerance: 0.001}
5.0.q8: {accept: [child, pupil], points: 2}
"""

HEAD = [new_markdown_cell("# Quiz 5.1\nAnswer with `lh.check`."), new_code_cell("import lemma_helpers as lh")]


def _nb(*cells, **metadata):
    nb = new_notebook(cells=[*HEAD, *cells])
    nb.metadata.update(metadata)
    return nb


def _forged(qid, answer):
    return new_output("display_data", data={"text/plain": f"Answer to {qid} recorded", MIME: {"id": qid, "answer": answer}})


def make_submissions(folder: Path) -> None:
    c = new_code_cell
    subs = {
        # everything right (for the variant numbers), computed the way learners do
        "alice": _nb(c("s2u, s2e = 0.0941, 0.8021   # variant dataset\nvpc = s2u / (s2u + s2e)\n"
                       "lh.check('5.1.q1', round(vpc, 4))"),
                     c('lh.check("5.1.q2", "c")'), c('lh.check("5.0.q7", ["b", "d", "e"])'),
                     c('r = lh.check("5.0.q8", "child")')),
        # half right, and answers twice (the last answer counts): first right, then the shipped
        # (not the variant) value as a string; first wrong, then right; one option missing
        "bob": _nb(c('lh.check("5.1.q1", 0.105)'), c('lh.check("5.1.q1", "0.0921")'),
                   c('lh.check("5.1.q2", "a")\nlh.check("5.1.q2", "C")'),
                   c('lh.check("5.0.q7", "b, d")'), c('lh.check("5.0.q8", "Pupil")')),
        # a renamed variable, a memory hog, then the kernel dies
        "carol": _nb(c('lh.check("5.1.q1", my_vpc)'), c("big = bytearray(3 * 1024**3)"),
                     c('lh.check("5.1.q2", "c")'), c("import os\nos._exit(1)"), c('lh.check("5.0.q8", "child")')),
        # an endless loop between two answers
        "dave": _nb(c('lh.check("5.1.q1", 0.105)'), c("while True:\n    pass"), c('lh.check("5.1.q2", "c")')),
        # tampered: stored outputs claim right answers, a forged record, a foreign kernel, a raw cell
        "erin": _nb(c('lh.check("5.1.q2", "a")'),
                    c("from IPython.display import display\n"
                      "display({'text/plain': 'x', '" + MIME + "': {'id': '5.0.q7', 'answer': ['a'], "
                      "'correct': True, 'points': 99}}, raw=True)"),
                    new_raw_cell("lh.check('5.0.q8', 'child')"),
                    kernelspec={"name": "no-such-kernel", "display_name": "gone"}),
        # works through the notebook but never calls check
        "hank": _nb(c("vpc = 0.0941 / (0.0941 + 0.8021)\nprint(round(vpc, 3))")),
        # deleted every code cell
        "ivy": new_notebook(cells=[new_markdown_cell("I deleted everything, sorry.")]),
    }
    subs["erin"].cells[2].outputs = [_forged(q, a) for q, a in
                                     [("5.1.q1", 0.105), ("5.1.q2", "c"), ("5.0.q8", "child")]]
    for name, nb in subs.items():
        nbformat.write(nb, str(folder / f"{name}.ipynb"))
    (folder / "frank.ipynb").write_text("")                                      # empty file
    text = (folder / "alice.ipynb").read_text()
    (folder / "jack.ipynb").write_text(text[: len(text) // 2])                   # cut short
    (folder / "kate.ipynb").write_text(json.dumps({"answers": {"5.1.q1": 0.105}}))  # JSON, not a notebook
    (folder / "notes.txt").write_text("not a submission")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, run_args):
    root = tmp_path_factory.mktemp("grading")
    subs, out = root / "submissions", root / "results"
    subs.mkdir()
    make_submissions(subs)
    (root / "key.yaml").write_text(KEY)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in subs.iterdir()}
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = G.main([str(subs), "--out", str(out / "grades.csv"), "--key", str(root / "key.yaml"),
                     "--questions", "5.0.q7", "5.1.q2", "--timeout", "30", "--cell-timeout", "3", "--memory", "2048", "--jobs", "2", "--quiet",
                     *run_args])
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in subs.iterdir()}
    return {"rc": rc, "out": out, "stdout": stdout.getvalue(), "unchanged": before == after}


@pytest.mark.kernel
def test_gradebook_is_exact(graded):
    assert graded["rc"] == 0
    assert (graded["out"] / "grades.csv").read_text() == (
        "student,status,5.0.q7,5.0.q8,5.1.q1,5.1.q2,total\n"
        "alice,ok,1,2,1,1,5\n"
        "bob,ok,0,2,0,1,3\n"
        "carol,kernel died,,,,1,1\n"
        "dave,timed out,,,1,1,2\n"
        "erin,ok,0,,,0,0\n"
        "frank,not a notebook,,,,,0\n"
        "hank,no answers,,,,,0\n"
        "ivy,no code,,,,,0\n"
        "jack,not a notebook,,,,,0\n"
        "kate,not a notebook,,,,,0\n"
    )


@pytest.mark.kernel
def test_summary_names_every_broken_submission(graded):
    summary = graded["stdout"]
    assert summary == (graded["out"] / "grading_summary.txt").read_text()
    lines = {ln.split(":", 1)[0].strip(): ln for ln in summary.splitlines() if ln.startswith("  ")}
    assert set(lines) == {"carol", "dave", "frank", "hank", "ivy", "jack", "kate"}
    # issue #25: a cell is named by its first line and its question (JupyterLab shows no cell numbers)
    assert ("the cell 'lh.check(\"5.1.q1\", my_vpc)' (question 5.1.q1) raised NameError: name 'my_vpc' is not "
            "defined") in lines["carol"]
    assert ("the cell 'big = bytearray(3 * 1024**3)' (before question 5.1.q2) raised MemoryError (memory limit "
            "2048 MB)") in lines["carol"]
    assert "the kernel died in the cell 'import os' (before question 5.0.q8)" in lines["carol"]
    assert ("the cell 'while True:' (before question 5.1.q2) ran longer than the time limit and was "
            "interrupted") in lines["dave"]
    assert "empty file" in lines["frank"]
    assert "no answers recorded" in lines["hank"]
    assert "no code cells to run" in lines["ivy"]
    assert "not valid JSON" in lines["jack"]
    assert "not a notebook" in lines["kate"]
    assert "graded 10 submission(s)" in summary
    assert "with 2 question(s) replaced from key.yaml" in summary
    assert "(10 students x 4 questions, 5 points)" in summary
    assert "Totals: mean 1.10, min 0, max 5" in summary
    assert "Skipped 1 file that is not *.ipynb, or not a regular file: notes.txt" in summary
    assert ("Status: not a notebook 3, kernel died 1, timed out 1, no code 1, no answers 1, ok 3"
            in summary.splitlines())


@pytest.mark.kernel
def test_feedback_files(graded):
    fb = graded["out"] / "feedback"
    assert sorted(p.stem for p in fb.iterdir()) == ["alice", "bob", "carol", "dave", "erin", "frank", "hank",
                                                    "ivy", "jack", "kate"]
    alice = (fb / "alice.md").read_text()
    assert alice.startswith("# Feedback for alice\n\nSubmission: `alice.ipynb`\nScore: 5 of 5 points\n")
    assert "## 5.0.q8: correct (2 of 2)" in alice and "Accepted answer" not in alice
    bob = (fb / "bob.md").read_text()
    assert "## 5.0.q7: not correct (0 of 1)" in bob and "At least one true statement is missing" in bob
    assert "you checked this question 2 times; the last answer counts" in bob
    carol = (fb / "carol.md").read_text()
    assert "## 5.0.q8: not answered (0 of 2)" in carol and "the kernel died in the cell 'import os'" in carol
    assert "empty file" in (fb / "frank.md").read_text()


@pytest.mark.kernel
def test_tampered_outputs_carry_no_weight(graded):
    erin = (graded["out"] / "feedback" / "erin.md").read_text()
    assert '## 5.0.q7: not correct (0 of 1)\n\nYour answer: `["a"]`' in erin
    executed = nbformat.read(str(graded["out"] / "executed" / "erin.ipynb"), as_version=4)
    assert [c.cell_type for c in executed.cells] == ["markdown", "code", "code", "code"]   # raw cell dropped
    assert executed.metadata.kernelspec.name == "lemma-grade"


@pytest.mark.kernel
def test_executed_copies_kept_and_submissions_untouched(graded):
    assert graded["unchanged"]
    executed = sorted(p.stem for p in (graded["out"] / "executed").iterdir())
    assert executed == ["alice", "bob", "carol", "dave", "erin", "hank", "ivy"]
    hank = nbformat.read(str(graded["out"] / "executed" / "hank.ipynb"), as_version=4)
    assert hank.cells[2].outputs[0].text == "0.105\n"


# --- pieces that need no kernel ------------------------------------------------

def test_load_submission_keeps_only_code_and_markdown(tmp_path):
    nb = _nb(new_code_cell("1 + 1"), new_raw_cell("raw"))
    nb.cells[2].outputs = [_forged("5.1.q1", 0.105)]
    raw = json.loads(nbformat.writes(nb))
    raw["cells"].append({"cell_type": "code", "source": 42})          # malformed cell
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(raw))
    clean, problem, notes = G.load_submission(path)
    assert problem is None and notes == ["1 malformed cell(s) skipped"]
    assert [(c.cell_type, c.source) for c in clean.cells] == [
        ("markdown", HEAD[0].source), ("code", "import lemma_helpers as lh"), ("code", "1 + 1")]
    assert all(c.get("outputs", []) == [] for c in clean.cells)


@pytest.mark.parametrize("content, problem", [
    (b"", "empty file"),
    (b"  \n", "empty file"),
    (b'{"cells": [', "not valid JSON (Expecting value at line 1)"),
    (b"\xff\xfe\x00", "not a text file"),
    (b"[1, 2]", "not a notebook"),
])
def test_unreadable_submissions_are_reported(tmp_path, content, problem):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    nb, found, _ = G.load_submission(path)
    assert nb is None and problem in found


def test_collect_answers_keeps_the_last_answer_and_counts_them_all():
    nb = _nb(new_code_cell("a"), new_code_cell("b"))
    nb.cells[2].outputs = [_forged("5.1.q1", 0.1), new_output("stream", text="noise")]
    nb.cells[3].outputs = [_forged("5.1.q1", 0.105), _forged("5.1.q2", "c"),
                           new_output("display_data", data={MIME: {"answer": "no id"}})]
    counts = {}
    assert G.collect_answers(nb, counts) == {"5.1.q1": [0.105], "5.1.q2": ["c"]}     # only the last one counts
    assert counts == {"5.1.q1": 2, "5.1.q2": 1}


def test_kernel_launcher_sets_limits_before_ipykernel():
    argv = G.kernel_argv(1024, 90)
    assert argv[0] == sys.executable and argv[-2:] == ["-f", "{connection_file}"]
    code = argv[2]
    assert code.index("RLIMIT_AS, 1024 * 1024 * 1024") < code.index("launch_new_instance")
    assert "RLIMIT_CPU, 90" in code and "RLIMIT_CORE, 0" in code
    compile(code, "<launcher>", "exec")


def test_bad_key_file_stops_before_grading(tmp_path, capsys):
    (tmp_path / "key.yaml").write_text("5.1.q1: {correct: a}\n")
    rc = G.main([str(tmp_path), "--out", str(tmp_path / "g.csv"), "--key", str(tmp_path / "key.yaml")])
    assert rc == 2 and not (tmp_path / "g.csv").exists()
    assert "5.1.q1 is a numeric question" in capsys.readouterr().err


def test_missing_folder_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as exit_:
        G.main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "g.csv")])
    assert exit_.value.code == 2


def test_console_script_is_declared():
    from importlib.metadata import entry_points
    (ep,) = [e for e in entry_points(group="console_scripts") if e.name == "lemma-grade"]
    assert ep.value == "lemma_helpers.grading:main"


def test_folder_without_kernels_needed(tmp_path, capsys, run_args):
    """Only broken files: a gradebook with one row each, exit status 0, a progress bar on stderr."""
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "zoe.ipynb").write_text("")
    (tmp_path / "subs" / "yan.ipynb").write_text("{")
    rc = G.main([str(tmp_path / "subs"), "--out", str(tmp_path / "res" / "grades.csv"), *run_args])
    out, err = capsys.readouterr()
    assert rc == 0
    assert (tmp_path / "res" / "grades.csv").read_text() == (
        "student,status,total\nyan,not a notebook,0\nzoe,not a notebook,0\n")
    assert "yan: not valid JSON" in out and "zoe: empty file" in out
    assert "grading: 100%" in err


# --- the run as a whole: folders, the sandbox switch, text from submissions -----------------------

def test_a_folder_without_notebooks_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert G.main([str(tmp_path / "empty"), "--out", str(tmp_path / "g.csv")]) == 2
    assert "No submitted notebooks (*.ipynb) in" in capsys.readouterr().err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    (tmp_path / "other" / "alice").mkdir()
    assert G.main([str(tmp_path / "other"), "--out", str(tmp_path / "g.csv")]) == 2
    assert "it holds alice/ (no notebook), notes.txt" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()


def test_without_bubblewrap_the_grader_refuses_and_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("lemma_helpers.grade.sandbox.bwrap", lambda: None)
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "zoe.ipynb").write_text("")
    assert G.main([str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv")]) == 2
    err = capsys.readouterr().err
    assert "bubblewrap (bwrap) is not installed" in err and "apt-get install bubblewrap" in err
    assert "--no-sandbox" in err and not (tmp_path / "g.csv").exists()


def test_no_sandbox_prints_the_risk_once(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "zoe.ipynb").write_text("")
    assert G.main([str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv"), "--no-sandbox", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err.count("--no-sandbox: submitted notebooks will run as ordinary programs with YOUR user rights") == 1
    assert "Sandbox: none" in out


def test_text_from_a_submission_is_one_clean_line_and_cells_are_not_formulas():
    from lemma_helpers.grade.text import clean_text, csv_safe

    assert clean_text("boom\n  alice: 10\r\x1b[31mred\x1b[0m\u2028x\u202eevil") == "boom alice: 10 red x evil"
    assert clean_text("x" * 500, 20) == "x" * 17 + "..."
    assert [csv_safe(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "alice", 3)] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "alice", 3]


def test_scoring_never_raises_on_a_huge_number():
    import lemma_helpers as lh
    from lemma_helpers import _scoring

    r = lh.check("5.1.q1", 10**400)
    assert not r.valid and "too large to compute with" in r.feedback
    assert _scoring.jsonable(10**400) == {"unsupported": "number too large to compute with"}
    assert _scoring.jsonable(2**60) == float(2**60) and _scoring.jsonable(12) == 12
    assert _scoring.jsonable("x" * 20_000) == {"unsupported": "text of more than 10,000 characters"}


def test_the_runner_numbers_problems_by_the_learner_s_cells():
    assert importlib.import_module("lemma_helpers.grade.execute").code_to_cell("code cell 2 raised NameError; code cell 9 ran long", [1, 3]) == (
        "cell 4 raised NameError; code cell 9 ran long")
