"""A class's round trip (issue #25): rosters as the platforms export them, students matched as an instructor
expects, hand marks kept over re-runs, written marks to the end, exact platform files, item analysis.

No kernel: notebooks run in this process (:func:`inprocess.in_process`). The platforms' files are the samples
of ``tests/samples/`` (written from each platform's documentation).
"""
import contextlib
import csv
import importlib
import io
import os
import zipfile
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import lemma_helpers as lh
from inprocess import in_process
from lemma_helpers.grade import analysis as AN, assignment as AS, exports as E, marking as MK, roster as R
from lemma_helpers.grade.layouts import Entry
from lemma_helpers.grade.results import Mark

G = importlib.import_module("lemma_helpers.grading")
SAMPLES = Path(__file__).parent / "samples"

# a class of 30: accents, apostrophes, a hyphen, two Anas
NAMES = ["José Álvarez", "Zoë O'Brien", "Ana García", "Ana Lopez", "Mary-Jane D'Arcy", "Seán Ó Briain",
         "Chloé Dubois", "Bjørn Nærum"] + [f"Student{i:02d} Surname{i:02d}" for i in range(9, 31)]
ASSIGNMENT = """assignment: quiz-5.1
title: Quiz 5.1
mode: summative
questions: [5.1.q1, 5.1.q2, 5.1.q3]
written: {1: 2, default: 1}
moodle: {maximum_grade: 10}
canvas: {assignment_id: 12345}
"""


def _nb(*sources, written=()):
    nb = new_notebook(cells=[new_code_cell("import lemma_helpers as lh"), *map(new_code_cell, sources)])
    for i, answer in enumerate(written, start=1):
        nb.cells += [new_markdown_cell(f"**Question {i}.** Explain the VPC, part {i}."),
                     new_markdown_cell(answer, metadata={"tags": ["answer"]})]
    return nb


def _write(path, nb, mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def _grade(subs, out, *args):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), in_process():
        rc = G.main([str(subs), "--out", str(out / "grades.csv"), "--quiet", *map(str, args)])
    assert rc == 0, buf.getvalue()
    return buf.getvalue()


def _rows(path):
    return list(csv.DictReader(open(path, newline="", encoding="utf-8")))


def _roster(path, platform_ids=True):
    lines = ["id,name,email,platform_id"]
    for i, name in enumerate(NAMES, start=1):
        email = f"{R.name_key(name)}@uni.example"
        lines.append(f"s{i:03d},\"{name}\",{email},{100 + i if platform_ids else ''}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ----- rosters as the platforms export them --------------------------------------------------------------

def test_rosters_exported_from_moodle_and_canvas_are_read_as_they_are():
    moodle = R.load_roster(SAMPLES / "moodle_participants.csv")
    assert [(s.id, s.name, s.email) for s in moodle] == [
        ("s001", "José Álvarez", "jose.alvarez@uni.example"), ("s002", "Zoë O'Brien", "zoe.obrien@uni.example"),
        ("s003", "Ana García", "ana.garcia@uni.example"), ("s004", "Ana Lopez", "ana.lopez@uni.example"),
        ("mj.darcy@uni.example", "Mary-Jane D'Arcy", "mj.darcy@uni.example")]     # no ID number: the e-mail
    sheet = R.load_roster(SAMPLES / "moodle_worksheet.csv")
    assert [(s.id, s.name, s.platform_id) for s in sheet] == [
        ("jose.alvarez@uni.example", "José Álvarez", "7301"), ("zoe.obrien@uni.example", "Zoë O'Brien", "7302"),
        ("ana.garcia@uni.example", "Ana García", "7303")]
    assert sheet[1].comment == "<p>Well argued; see me about question 3.</p>"
    canvas = R.load_roster(SAMPLES / "canvas_gradebook.csv")      # Points Possible and the test student left out
    assert [(s.id, s.name, s.platform_id) for s in canvas] == [
        ("s001", "José Álvarez", "201"), ("s002", "Zoë O'Brien", "202"), ("s003", "Ana García", "203")]


@pytest.mark.parametrize("text, message", [
    ("Full name,Email\nAmy,a@x\n", r"needs a column named id .* Moodle participants export .* Canvas gradebook "
                                   r"export .*; its columns are Full name, Email"),
    ("First name,Last name,ID number,Email address\nAmy,Adams,,\n",
     "line 2: the ID number and the e-mail address are empty"),
    ("Student,ID,SIS User ID,SIS Login ID,Section\n\"Adams, Amy\",,,,\n",
     "line 2: the SIS User ID, SIS Login ID and ID are empty"),
])
def test_platform_roster_mistakes_are_explained(tmp_path, text, message):
    (tmp_path / "r.csv").write_text(text)
    with pytest.raises(lh.LemmaError, match=message):
        R.load_roster(tmp_path / "r.csv")


def test_names_are_compared_without_case_accents_apostrophes_or_spacing():
    assert R.name_key("Zoë  O'Brien") == R.name_key("ZOE OBRIEN") == R.name_key("zoe o’brien") == "zoeobrien"
    roster = [R.Student("s1", "José Álvarez", "jose@uni.example"), R.Student("s2", "Ana García"),
              R.Student("s3", "Ana Garcia"), R.Student("s4", "Zoë O'Brien", "", "202")]
    entries = [Entry("7301", Path("a.ipynb"), "Jose ALVAREZ", {"moodle": "x"}, "moodle"),     # by name
               Entry("202", Path("b.ipynb"), "obrienzoe", {"canvas": "obrienzoe_202_1"}, "canvas"),   # by platform id
               Entry("jose@uni.example", Path("c.ipynb"), layout="folders"),                  # by e-mail
               Entry("7302", Path("d.ipynb"), "Ana García", {"moodle": "y"}, "moodle"),       # two Anas: ambiguous
               Entry("7303", Path("e.ipynb"), "Zed Zorn", {"moodle": "z"}, "moodle")]         # nobody
    m = R.assign(entries, roster)
    assert [p.name for _, (st, es) in m.by_owner.items() for p in [e.path for e in es]] == [
        "a.ipynb", "c.ipynb", "b.ipynb", "d.ipynb", "e.ipynb"]
    assert m.by_owner["s1"][0].id == "s1" and len(m.by_owner["s1"][1]) == 2
    assert m.by_owner["7302"][0] is None and m.by_owner["7303"][0] is None
    assert m.problems == [
        "Ana García (7302): the name matches 2 students on the roster (s2, s3); add their platform_id or e-mail to "
        "the roster, or rename the submission to the student's id",
        "Zed Zorn (7303): not on the roster (no id, platform id, e-mail or name matches); graded under that name"]
    assert "1 submission(s) of a platform download matched to the roster by name" in m.notes[0]


# ----- a class of 30: a second Moodle assignment, a mixed hub folder, a resubmission ------------------------

def _moodle_download(root, n=24, start=7301):
    """A Moodle download of the class's *second* assignment: new participant ids (7301, ...), names as Moodle
    shows them; the first 24 students hand in."""
    folder = root / "download"
    for i, name in enumerate(NAMES[:n]):
        answer = "0.0921" if i % 3 else "0.1014"          # every third makes the between/within mistake
        _write(folder / f"{name}_{start + i}_assignsubmission_file_" / "quiz.ipynb",
               _nb(f"lh.check('5.1.q1', {answer})", "lh.check('5.1.q2', 'c')", "lh.check('5.1.q3', 'a')",
                   written=[f"Answer of {name}", ""]))
    return folder


def test_a_second_moodle_download_is_matched_by_name_and_exported_with_its_own_ids(tmp_path):
    roster = _roster(tmp_path / "roster.csv")         # platform ids 101..130: the first assignment's
    (tmp_path / "a.yaml").write_text(ASSIGNMENT)
    out = tmp_path / "out"
    summary = _grade(_moodle_download(tmp_path), out, "--roster", roster, "--assignment", tmp_path / "a.yaml",
                     "--export", "moodle", "canvas")
    grades = _rows(out / "grades.csv")
    assert [r["student"] for r in grades] == [f"s{i:03d}" for i in range(1, 31)]      # nobody new
    assert [r["status"] for r in grades].count("missing") == 6
    assert "not on the roster" not in summary and "Roster problems" not in summary
    assert "24 submission(s) of a platform download matched to the roster by name" in summary
    moodle = list(csv.reader(open(out / "moodle_grades.csv", newline="", encoding="utf-8")))
    # 1 of 6 points (3 automatic, 3 written still to mark), scaled to Moodle's maximum grade of 10
    assert moodle[1][:6] == ["Participant 7301", "José Álvarez", "josealvarez@uni.example", "", "1.6667", "10"]
    assert moodle[2][4] == "3.3333" and moodle[2][5] == "10"
    assert [r[0] for r in moodle[1:25]] == [f"Participant {7301 + i}" for i in range(24)]
    missing = moodle[25:]
    assert [r[4] for r in missing] == [""] * 6      # no submission: left empty, never 0
    assert all(r[8] for r in moodle[1:])            # Last modified (grade) filled
    canvas = list(csv.reader(open(out / "canvas_grades.csv", newline="", encoding="utf-8")))
    assert canvas[0][-1] == "Quiz 5.1 (12345)" and canvas[1][-1] == "6"
    assert canvas[-1][-1] == ""


def test_missing_students_get_0_only_when_asked(tmp_path):
    roster = _roster(tmp_path / "roster.csv")
    (tmp_path / "a.yaml").write_text(ASSIGNMENT)
    out = tmp_path / "out"
    _grade(_moodle_download(tmp_path, n=2), out, "--roster", roster, "--assignment", tmp_path / "a.yaml",
           "--export", "moodle", "canvas", "--missing-zero")
    canvas = list(csv.reader(open(out / "canvas_grades.csv", newline="", encoding="utf-8")))
    assert canvas[-1][-1] == "0"
    moodle = list(csv.reader(open(out / "moodle_grades.csv", newline="", encoding="utf-8")))
    assert moodle[-1][0] == "Participant 130" and moodle[-1][4] == "0"


def test_a_mixed_hub_folder_with_a_resubmission_and_an_ambiguous_name(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email,platform_id\ns001,José Álvarez,jose@uni.example,\ns002,Ana García,,\n"
                      "s003,Ana García,,\ns004,Zoë O'Brien,,201\ns005,Chloé Dubois,,\n", encoding="utf-8")
    subs = tmp_path / "hub"
    _write(subs / "s001" / "quiz.ipynb", _nb("lh.check('5.1.q2', 'a')"), mtime=1_000)        # hub folder, by id
    _write(subs / "s001" / "quiz-v2.ipynb", _nb("lh.check('5.1.q2', 'c')"), mtime=2_000)     # resubmission
    _write(subs / "obrienzoe_201_9001_quiz.ipynb", _nb("lh.check('5.1.q2', 'c')"))           # Canvas, by user id
    _write(subs / "Ana Garcia_7310_assignsubmission_file_" / "q.ipynb", _nb("lh.check('5.1.q2', 'c')"))
    _write(subs / "CHLOE DUBOIS.ipynb", _nb("lh.check('5.1.q2', 'c')"))                      # flat, by name
    out = tmp_path / "out"
    summary = _grade(subs, out, "--roster", roster, "--questions", "5.1.q2")
    grades = {r["student"]: r for r in _rows(out / "grades.csv")}
    assert grades["s001"]["5.1.q2"] == "1"          # the newer notebook counts
    assert grades["s004"]["status"] == "ok" and grades["s005"]["status"] == "ok"
    assert grades["s002"]["status"] == grades["s003"]["status"] == "missing"
    assert grades["7310"]["name"] == "Ana Garcia"    # graded under the name it came with, joined to no one
    assert "Roster problems (1)" in summary
    assert "Ana Garcia (7310): the name matches 2 students on the roster (s002, s003)" in summary
    assert "layout: moodle + canvas + folders + flat" in summary


# ----- hand marks: kept over re-runs, to the end -------------------------------------------------------------

def _fill(sheet, marks):
    """Type marks and comments into the sheet as a marker would: ``marks[(student, item)] = (marks, comment)``."""
    rows = _rows(sheet)
    for r in rows:
        if (r["student"], r["item"]) in marks:
            r["marks"], r["comment"] = marks[(r["student"], r["item"])]
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def test_hand_marks_survive_two_re_runs_and_reach_every_file(tmp_path, capsys):
    roster = _roster(tmp_path / "roster.csv")
    (tmp_path / "a.yaml").write_text(ASSIGNMENT)
    subs = _moodle_download(tmp_path, n=3)
    out = tmp_path / "out"
    args = ["--roster", roster, "--assignment", tmp_path / "a.yaml", "--export", "moodle", "canvas"]
    _grade(subs, out, *args)
    sheet = out / "marking_sheet.csv"
    rows = _rows(sheet)
    assert list(rows[0]) == MK.SHEET_COLUMNS
    assert [(r["student"], r["item"], r["max"], r["status"]) for r in rows] == [
        ("s001", "1", "2", "new"), ("s001", "2", "1", "new"), ("s002", "1", "2", "new"), ("s002", "2", "1", "new"),
        ("s003", "1", "2", "new"), ("s003", "2", "1", "new")]
    marks = {("s001", "1"): ("2", "Clear."), ("s001", "2"): ("0", ""), ("s002", "1"): ("1", "Say which level."),
             ("s002", "2"): ("1", ""), ("s003", "1"): ("2", ""), ("s003", "2"): ("0", "")}
    _fill(sheet, marks)
    typed = sheet.read_text(encoding="utf-8")
    # re-run 1, with --resume: nothing changed, marks kept, a backup of the typed sheet beside it
    summary = _grade(subs, out, *args, "--resume")
    assert "marking_sheet.csv (6 kept" in summary and "the earlier sheet is kept as marking_sheet." in summary
    backups = sorted(out.glob("marking_sheet.*.csv"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == typed
    assert {(r["student"], r["item"]): (r["marks"], r["comment"]) for r in _rows(sheet)} == marks
    # re-run 2: s002 resubmits a changed answer, s004 hands in for the first time
    name2, name4 = NAMES[1], NAMES[3]
    _write(subs / f"{name2}_7302_assignsubmission_file_" / "quiz.ipynb",
           _nb("lh.check('5.1.q1', 0.0921)", written=["A better answer", ""]))
    _write(subs / f"{name4}_7304_assignsubmission_file_" / "quiz.ipynb", _nb("lh.check('5.1.q2', 'c')",
                                                                              written=["Mine", "Also mine"]))
    summary = _grade(subs, out, *args)
    after = {(r["student"], r["item"]): r for r in _rows(sheet)}
    assert after[("s002", "1")]["status"] == MK.REMARK and after[("s002", "1")]["marks"] == "1"
    assert after[("s002", "1")]["answer"] == "A better answer"
    assert after[("s001", "1")]["status"] == "kept" and after[("s004", "1")]["status"] == "new"
    assert {k: (r["marks"], r["comment"]) for k, r in after.items() if k[0] != "s004"} == marks
    assert len(list(out.glob("marking_sheet.*.csv"))) == 2
    # merge refuses what is not ready, each with the line
    _fill(sheet, {("s004", "1"): ("7", ""), ("s004", "2"): ("1", "")})
    final = out / "grades_final.csv"
    with pytest.raises(lh.LemmaError, match=r"line 4: the answer of s002, item 1 changed since it was marked"):
        MK.merge_marks(out / "grades.csv", sheet, final)
    rows = _rows(sheet)
    for r in rows:
        r["status"] = "kept" if r["status"] == MK.REMARK else r["status"]
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(lh.LemmaError, match=r"line 8: 7 marks for s004, item 1, which is worth at most 2"):
        MK.merge_marks(out / "grades.csv", sheet, final)
    _fill(sheet, {("s004", "1"): ("2", "")})
    assert G.main(["merge", str(out / "grades.csv"), str(sheet), "--out", str(final)]) == 0
    said = capsys.readouterr().out
    assert "merged the marks of 8 written answer(s) for 4 student(s)" in said and "moodle_grades.csv" in said
    got = {r["student"]: r for r in _rows(final)}
    assert list(got["s001"]) == ["student", "name", "email", "platform_id", "status", "5.1.q1", "5.1.q2", "5.1.q3",
                                 "automatic", "written", "total", "maximum"]
    assert (got["s001"]["name"], got["s001"]["email"], got["s001"]["platform_id"]) == (
        "José Álvarez", "josealvarez@uni.example", "7301")
    assert (got["s001"]["automatic"], got["s001"]["written"], got["s001"]["total"], got["s001"]["maximum"]) == (
        "1", "2", "3", "6")
    assert (got["s004"]["automatic"], got["s004"]["written"], got["s004"]["total"]) == ("1", "3", "4")
    assert got["s030"]["status"] == "missing" and got["s030"]["written"] == "0"
    # the feedback files and zips carry the marks and comments; merging twice gives the same files
    fb = (out / "feedback" / "s002.md").read_text(encoding="utf-8")
    assert "## Written answers" in fb and "Marked by hand: 2 of 3 points." in fb and "Comment: Say which level." in fb
    assert G.main(["merge", str(out / "grades.csv"), str(sheet), "--out", str(final)]) == 0
    assert (out / "feedback" / "s002.md").read_text(encoding="utf-8") == fb
    with zipfile.ZipFile(out / "feedback_moodle.zip") as z:
        assert "Comment: Say which level." in z.read(f"{name2}_7302_assignsubmission_file_feedback.md").decode()
    # the platform files again, with the written marks: s001 has 1 + 2 of 6 points, 5 of 10 in Moodle
    moodle = {r["Identifier"]: r for r in _rows(out / "moodle_grades.csv")}
    assert moodle["Participant 7301"]["Grade"] == "5" and moodle["Participant 7301"]["Maximum Grade"] == "10"
    assert "written answers 2 of 3 (item 1: Clear.)" in moodle["Participant 7301"]["Feedback comments"]
    canvas = list(csv.reader(open(out / "canvas_grades.csv", newline="", encoding="utf-8")))
    assert canvas[2][0] == "José Álvarez" and canvas[2][-1] == "3"


def test_a_student_s_written_answers_in_two_notebooks_count_once(tmp_path):
    subs = tmp_path / "subs"
    _write(subs / "amy" / "first.ipynb", _nb("lh.check('5.1.q2', 'c')", written=["Draft", "Part two"]), mtime=1_000)
    _write(subs / "amy" / "final.ipynb", _nb("lh.check('5.1.q2', 'c')", written=["Final answer", ""]), mtime=2_000)
    out = tmp_path / "out"
    _grade(subs, out, "--questions", "5.1.q2")
    rows = _rows(out / "marking_sheet.csv")
    assert [(r["item"], r["answer"], r["notebook"]) for r in rows] == [("1", "Final answer", "final.ipynb"),
                                                                      ("2", "Part two", "first.ipynb")]
    _fill(out / "marking_sheet.csv", {("amy", "1"): ("1", ""), ("amy", "2"): ("1", "")})
    MK.merge_marks(out / "grades.csv", out / "marking_sheet.csv", out / "final.csv")
    assert _rows(out / "final.csv")[0]["written"] == "2"


def test_merge_refuses_a_row_twice_and_a_sheet_that_is_not_one(tmp_path):
    (tmp_path / "g.csv").write_text("student,status,total\namy,ok,1\n")
    (tmp_path / "s.csv").write_text("student,item,question,max,marks,status\namy,1,Q,1,1,new\namy,1,Q,1,1,new\n")
    with pytest.raises(lh.LemmaError, match=r"line 3: amy, item 1 is on the sheet twice \(lines 2 and 3\)"):
        MK.merge_marks(tmp_path / "g.csv", tmp_path / "s.csv", tmp_path / "f.csv")
    (tmp_path / "f.csv").write_text("student,automatic,total\namy,1,1\n")
    with pytest.raises(lh.LemmaError, match="is a merged gradebook already"):
        MK.merge_marks(tmp_path / "f.csv", tmp_path / "s.csv", tmp_path / "f2.csv")


@pytest.mark.parametrize("extra, message", [
    ("written: [2, 1]\n", r"`written:` gives the points of written answers by item number"),
    ("written: {one: 2}\n", r"'one' is not an item number"),
    ("written: {1: -2}\n", r"1: -2 is not a positive number"),
    ("moodle: {maximum_grade: 0}\n", r"`moodle:` is `\{maximum_grade: 10\}`"),
    ("canvas: {assignment_id: abc}\n", r"`canvas:` is `\{assignment_id: 12345\}`"),
])
def test_assignment_platform_fields_are_checked(tmp_path, extra, message):
    (tmp_path / "a.yaml").write_text("assignment: q\nquestions: [5.1.q2]\n" + extra)
    with pytest.raises(lh.LemmaError, match=message):
        AS.load_assignment(tmp_path / "a.yaml")


def test_moodle_comments_already_there_are_kept_and_the_grade_is_scaled(tmp_path):
    rows = [E.Row("s2", "Zoë O'Brien", "zoe@x", "7302", "", "s2", "ok", 3.0, "written answers 1 of 1",
                  "<p>Well argued.</p>\n\nlemma-grade: ok; 2 of 3 points; see your feedback file")]
    E.write_moodle(tmp_path / "m.csv", rows, E.Target("Quiz", 4, moodle_maximum=100, when="2026-12-04T21:00:00+00:00"))
    got = _rows(tmp_path / "m.csv")[0]
    assert got["Grade"] == "75" and got["Maximum Grade"] == "100"
    assert got["Last modified (grade)"] == "2026-12-04T21:00:00+00:00"
    assert got["Feedback comments"] == ("<p>Well argued.</p>\n\nlemma-grade: ok; 3 points, grade 75 of 4 points. "
                                        "written answers 1 of 1; see your feedback file")


# ----- item analysis -----------------------------------------------------------------------------------------

def _graded(status, marks):
    return SimpleNamespace(sub=SimpleNamespace(status=status), marks=marks)


def test_item_analysis_of_known_answers():
    """Four students, three one-point questions (by hand below), and one who handed in nothing.

    q1: 1 1 1 0   q2: 1 1 0 0   q3: 0 0 0 1   totals 2 2 1 1
    facility: 0.75, 0.5, 0.25
    q1 against the rest (1 1 0 1): r = -0.25 / 0.75 = -1/3
    q2 against the rest (1 1 1 1): no spread, no correlation
    q3 against the rest (2 2 1 0): r = -1.25 / sqrt(0.75 x 2.75) = -0.8704
    """
    def m(ok, answer="x", feedback=""):
        return Mark(answer, 1, ok, 1.0 if ok else 0.0, feedback)

    wrong = "That is the within-country share."
    graded = [_graded("ok", {"q1": m(1), "q2": m(1), "q3": m(0, "a", wrong)}),
              _graded("ok", {"q1": m(1), "q2": m(1), "q3": m(0, "a", wrong)}),
              _graded("ok", {"q1": m(1), "q3": m(0, "b", "Other.")}),
              _graded("ok", {"q1": m(0, 0.10141), "q2": m(0, "d"), "q3": m(1)}),
              _graded("missing", {})]
    key = {q: SimpleNamespace(points=1.0) for q in ("q1", "q2", "q3")}
    stats = AN.item_analysis(graded, ["q1", "q2", "q3"], key)
    assert [(s.students, s.answered, s.correct) for s in stats] == [(4, 4, 3), (4, 3, 2), (4, 4, 1)]
    assert [s.facility for s in stats] == [0.75, 0.5, 0.25]
    assert stats[0].discrimination == pytest.approx(-1 / 3)
    assert stats[1].discrimination is None
    assert stats[2].discrimination == pytest.approx(-1.25 / (0.75 * 2.75) ** 0.5) == pytest.approx(-0.8704, abs=1e-4)
    assert stats[2].wrong == [("a", 2, wrong), ("b", 1, "Other.")]
    assert stats[0].wrong == [("0.1014", 1, "")]
    from lemma_helpers.grade.roundtrip import flagged
    assert flagged(stats) == [
        "q1: discrimination -0.33 (negative: stronger students got it wrong more); check its key and wording",
        "q3: facility 0.25 (under 0.3), discrimination -0.87 (negative: stronger students got it wrong more); "
        "check its key and wording"]


def test_every_run_writes_the_item_analysis_and_names_hard_questions(tmp_path):
    roster = _roster(tmp_path / "roster.csv")
    (tmp_path / "a.yaml").write_text(ASSIGNMENT)
    out = tmp_path / "out"
    summary = _grade(_moodle_download(tmp_path, n=9), out, "--roster", roster, "--assignment", tmp_path / "a.yaml")
    rows = {r["question"]: r for r in _rows(out / "item_analysis.csv")}
    assert list(rows) == ["5.1.q1", "5.1.q2", "5.1.q3"]
    assert (rows["5.1.q1"]["students"], rows["5.1.q1"]["answered"], rows["5.1.q1"]["facility"]) == ("9", "9", "0.667")
    assert rows["5.1.q1"]["wrong_1"] == "0.1014" and rows["5.1.q1"]["wrong_1_count"] == "3"
    assert "divided the between-country variance by the within-country" in rows["5.1.q1"]["wrong_1_feedback"]
    assert rows["5.1.q3"]["facility"] == "0.000" and rows["5.1.q3"]["discrimination"] == ""
    assert "item analysis: 5.1.q3: facility 0.00 (under 0.3)" in summary
    assert (out / "item_analysis.png").read_bytes()[:4] == b"\x89PNG"
