"""A class around lemma-grade: layouts of submissions, rosters, several notebooks per student, platform exports.

The platform formats follow their documentation: Moodle's "Download all submissions" folders
(``<Full name>_<participant id>_assignsubmission_file_``) and offline grading worksheet columns
(Identifier, Full name, Email address, Status, Grade, Maximum Grade, Grade can be changed, Last modified
(submission), Last modified (grade), Feedback comments); Canvas's "Download Submissions" file names
(``<lastfirst>_<user id>_<submission id>_<name>``, ``_LATE`` when late) and gradebook import columns
(Student, ID, SIS User ID, SIS Login ID, Section, then one column per assignment, with a "Points Possible"
row).
"""
import csv
import importlib
import io
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import lemma_helpers as lh
from lemma_helpers.grade import exports as E, layouts as C, roster as R
from inprocess import in_process

G = importlib.import_module("lemma_helpers.grading")


def _nb(*sources):
    return new_notebook(cells=[new_code_cell("import lemma_helpers as lh"), *map(new_code_cell, sources)])


def _touch(path, nb=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb or _nb("lh.check('5.1.q2', 'c')"), str(path))


def test_a_flat_folder_and_one_folder_per_student(tmp_path):
    _touch(tmp_path / "flat" / "bob.ipynb")
    _touch(tmp_path / "flat" / "amy.ipynb")
    (tmp_path / "flat" / "readme.txt").write_text("x")
    entries, skipped, layout = C.find_submissions(tmp_path / "flat")
    assert layout == "flat" and [(e.owner, e.path.name) for e in entries] == [("amy", "amy.ipynb"), ("bob", "bob.ipynb")]
    assert skipped == ["readme.txt"]
    _touch(tmp_path / "folders" / "amy" / "quiz.ipynb")
    _touch(tmp_path / "folders" / "amy" / "extra.ipynb")
    _touch(tmp_path / "folders" / "bob" / "work" / "q.ipynb")
    (tmp_path / "folders" / "cat").mkdir()
    entries, skipped, layout = C.find_submissions(tmp_path / "folders")
    assert layout == "folders"
    assert [(e.owner, e.path.name) for e in entries] == [("amy", "extra.ipynb"), ("amy", "quiz.ipynb"), ("bob", "q.ipynb")]
    assert skipped == ["cat/ (no notebook)"]


def test_moodle_and_canvas_downloads(tmp_path):
    _touch(tmp_path / "m" / "Amy Adams_101_assignsubmission_file_" / "quiz.ipynb")
    (tmp_path / "m" / "Amy Adams_101_assignsubmission_file_" / "notes.pdf").write_bytes(b"%PDF")
    _touch(tmp_path / "m" / "Ben Brown_102_assignsubmission_file_" / "a.ipynb")
    entries, skipped, layout = C.find_submissions(tmp_path / "m")
    assert layout == "moodle"
    assert [(e.owner, e.name) for e in entries] == [("101", "Amy Adams"), ("102", "Ben Brown")]
    assert skipped == ["Amy Adams_101_assignsubmission_file_/notes.pdf"]
    _touch(tmp_path / "c" / "adamsamy_201_9001_quiz.ipynb")
    _touch(tmp_path / "c" / "brownben_LATE_202_9002_quiz-1.ipynb")
    entries, _, layout = C.find_submissions(tmp_path / "c")
    assert layout == "canvas"
    assert [(e.owner, e.platform["canvas"]) for e in entries] == [("201", "adamsamy_201_9001"),
                                                                  ("202", "brownben_202_9002")]


def test_a_zip_is_read_safely(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("Amy Adams_101_assignsubmission_file_/quiz.ipynb", nbformat.writes(_nb("1")))
    folder, skipped = C.unzip(good, tmp_path / "x")
    assert (folder / "Amy Adams_101_assignsubmission_file_" / "quiz.ipynb").exists() and skipped == []
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../escape.ipynb", "{}")
        z.writestr("amy.ipynb", "{}")
    _, skipped = C.unzip(bad, tmp_path / "y")      # the unsafe entry is skipped and listed, the rest extracted
    assert skipped == ["../escape.ipynb in bad.zip (an unsafe path: not extracted)"]
    assert not (tmp_path / "escape.ipynb").exists() and (tmp_path / "y" / "amy.ipynb").exists()
    (tmp_path / "junk.zip").write_text("not a zip")
    with pytest.raises(lh.LemmaError, match="not a readable zip file"):
        C.unzip(tmp_path / "junk.zip", tmp_path / "z")


@pytest.mark.parametrize("text, message", [
    ("name,email\nAmy,a@x\n", "needs a column named id"),
    ("id,name\n,Amy\n", "line 2: the id is empty"),
    ("id,name\namy,Amy\namy,Amy again\n", "line 3: the id 'amy' appears twice"),
    ("id\n", "the roster has no students"),
])
def test_roster_mistakes_are_explained(tmp_path, text, message):
    (tmp_path / "r.csv").write_text(text)
    with pytest.raises(lh.LemmaError, match=message):
        R.load_roster(tmp_path / "r.csv")


def test_owners_follow_the_roster_and_flag_strangers():
    roster = [R.Student("s1", "Amy Adams", "amy@x", "101"), R.Student("s2", "Ben Brown", "", "102"),
              R.Student("s3", "Cat Cole", "", "103")]
    entries = [C.Entry("101", None, "Amy Adams"), C.Entry("101", None, "Amy Adams"), C.Entry("999", None, "Zed")]
    found = R.owners(entries, roster, "moodle")
    assert list(found) == ["s1", "s2", "s3", "999"]
    assert len(found["s1"][1]) == 2 and found["s2"][1] == [] and found["999"][0] is None


# ----- end to end: a Moodle download and a roster, to import files and bulk feedback --------------------

ASSIGNMENT = "assignment: quiz-5.1\ntitle: Quiz 5.1\nquestions: [5.1.q1, 5.1.q2]\n"


@pytest.fixture(scope="module")
def moodle_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("moodle")
    download = root / "download.zip"
    with zipfile.ZipFile(download, "w") as z:
        z.writestr("Amy Adams_101_assignsubmission_file_/part1.ipynb",
                   nbformat.writes(_nb("lh.check('5.1.q1', 0.5)")))
        z.writestr("Amy Adams_101_assignsubmission_file_/part2.ipynb",
                   nbformat.writes(_nb("lh.check('5.1.q1', 0.0921)", "lh.check('5.1.q2', 'c')")))
        z.writestr("Zed Zorn_999_assignsubmission_file_/quiz.ipynb", nbformat.writes(_nb("lh.check('5.1.q2', 'a')")))
    (root / "roster.csv").write_text("id,name,email,platform_id\ns1,Amy Adams,amy@uni.example,101\n"
                                     "s2,Ben Brown,ben@uni.example,102\n")
    (root / "a.yaml").write_text(ASSIGNMENT)
    out = root / "out"
    stdout = io.StringIO()
    import contextlib
    with contextlib.redirect_stdout(stdout), in_process():
        rc = G.main([str(download), "--out", str(out / "grades.csv"), "--roster", str(root / "roster.csv"),
                     "--assignment", str(root / "a.yaml"), "--export", "moodle", "canvas", "--jobs", "2",
                     "--quiet"])
    return rc, out, stdout.getvalue()


def test_one_row_per_student_on_the_roster_missing_included(moodle_run):
    rc, out, summary = moodle_run
    assert rc == 0
    assert (out / "grades.csv").read_text() == (
        "student,name,status,5.1.q1,5.1.q2,total\n"
        "s1,Amy Adams,ok,1,1,2\n"
        "s2,Ben Brown,missing,,,0\n"
        "999,Zed Zorn,ok,,0,0\n")
    assert (out / "grades_by_notebook.csv").read_text() == (
        "student,notebook,status,total\ns1,part1.ipynb,ok,0\ns1,part2.ipynb,ok,2\n999,quiz.ipynb,ok,0\n")
    assert "submissions from names not on the roster: 999" in summary
    assert "layout: moodle; 3 notebook(s) from 2 student(s); roster of 2" in summary
    assert "no notebook was submitted" in (out / "feedback" / "s2.md").read_text()
    amy = (out / "feedback" / "s1.md").read_text()
    assert "Submission: `part1.ipynb, part2.ipynb`" in amy and "you checked this question 2 times" in amy


def test_moodle_and_canvas_import_files(moodle_run):
    _, out, _ = moodle_run
    rows = list(csv.reader(open(out / "moodle_grades.csv", newline="")))
    assert rows[0] == E.MOODLE_COLUMNS
    assert rows[1][:7] == ["Participant 101", "Amy Adams", "amy@uni.example", "", "2", "2", "Yes"]
    # issue #25: a student with no submission has an empty Grade (Moodle leaves it alone), not 0
    assert rows[2][:6] == ["Participant 102", "Ben Brown", "ben@uni.example", "", "", "2"]
    assert all(r[8] for r in rows[1:])            # Last modified (grade) filled: Moodle takes the grades
    assert rows[3][:3] == ["Participant 999", "Zed Zorn", ""] and len(rows) == 4
    canvas = list(csv.reader(open(out / "canvas_grades.csv", newline="")))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Quiz 5.1"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "2"]
    assert canvas[2] == ["Amy Adams", "101", "s1", "", "", "2"]


def test_feedback_is_packed_for_bulk_return(moodle_run):
    _, out, _ = moodle_run
    with zipfile.ZipFile(out / "feedback_moodle.zip") as z:
        assert sorted(z.namelist()) == ["Amy Adams_101_assignsubmission_file_feedback.md",
                                        "Zed Zorn_999_assignsubmission_file_feedback.md"]
        assert z.read("Amy Adams_101_assignsubmission_file_feedback.md").decode() == \
            (out / "feedback" / "s1.md").read_text()
    with zipfile.ZipFile(out / "feedback.zip") as z:
        assert sorted(z.namelist()) == ["999.md", "s1.md", "s2.md"]


# ----- written answers: a marking sheet out, the marks back in -------------------------------------------

def test_written_answers_round_trip(tmp_path, capsys):
    from nbformat.v4 import new_markdown_cell

    nb = _nb("lh.check('5.1.q2', 'c')")
    nb.cells += [new_markdown_cell("**Question 1.** What does the VPC of 0.19 mean?"),
                 new_markdown_cell("About a fifth of the variance lies between schools.", metadata={"tags": ["answer"]}),
                 new_markdown_cell("**Question 2.** Which schools differ from the average?"),
                 new_markdown_cell("*Write your answer here.*", metadata={"tags": ["answer"]})]
    (tmp_path / "subs").mkdir()
    nbformat.write(nb, str(tmp_path / "subs" / "amy.ipynb"))
    out = tmp_path / "out"
    with in_process():
        assert G.main([str(tmp_path / "subs"), "--out", str(out / "grades.csv"), "--quiet"]) == 0
    rows = list(csv.DictReader(open(out / "marking_sheet.csv", newline="")))
    assert [(r["student"], r["item"], r["question"], r["answer"], r["marks"]) for r in rows] == [
        ("amy", "1", "**Question 1.** What does the VPC of 0.19 mean?",
         "About a fifth of the variance lies between schools.", ""),
        ("amy", "2", "**Question 2.** Which schools differ from the average?", "(not answered)", "")]
    sheet = (out / "marking_sheet.csv").read_text()
    # issue #25: the sheet has a max per item (1 without an assignment) and a status; grades_final.csv has the
    # columns a platform import needs
    (out / "marked.csv").write_text(sheet.replace('schools.,1,,,new', 'schools.,1,1,good,new').replace(
        "(not answered),1,,,new", "(not answered),1,0,,new"))
    assert G.main(["merge", str(out / "grades.csv"), str(out / "marked.csv"), "--out", str(out / "final.csv")]) == 0
    assert (out / "final.csv").read_text() == ("student,name,email,platform_id,status,5.1.q2,automatic,written,total,"
                                               "maximum\namy,amy,,,ok,1,1,1,2,3\n")
    assert "merged the marks of 2 written answer(s) for 1 student(s)" in capsys.readouterr().out
    (out / "unmarked.csv").write_text(sheet)
    assert G.main(["merge", str(out / "grades.csv"), str(out / "unmarked.csv"), "--out", str(out / "f2.csv")]) == 2
    assert "line 2: no marks for amy, item 1 (write 0 for none)" in capsys.readouterr().err
    assert G.main(["merge", str(out / "grades.csv"), str(out / "marked.csv"), "--out", str(out / "grades.csv")]) == 2
    assert "--out must be a new file" in capsys.readouterr().err
