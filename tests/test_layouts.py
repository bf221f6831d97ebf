"""The collect stage: every layout in one folder, only regular files read, zips that cannot stop a run, and the
newest resubmission counting. No kernel is started here (inprocess.py stands in for the run)."""
import importlib
import os
import zipfile

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from inprocess import in_process
from lemma_helpers.grade import layouts as C
from lemma_helpers.grade import roster as R
from lemma_helpers.grade.notebooks import read_bytes

G = importlib.import_module("lemma_helpers.grading")


def _nb(*sources):
    return new_notebook(cells=[new_code_cell("import lemma_helpers as lh"), *map(new_code_cell, sources)])


def _write(path, *sources, when=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(_nb(*sources) if sources else _nb("lh.check('5.1.q2', 'c')"), str(path))
    if when is not None:
        os.utime(path, (when, when))
    return path


def test_every_layout_in_one_folder_is_read_by_its_own_pattern(tmp_path):
    _write(tmp_path / "amy" / "quiz.ipynb")                                    # a hub's per-student folder
    _write(tmp_path / "ben" / "work" / "q.ipynb")
    _write(tmp_path / "Cat Cole_103_assignsubmission_file_" / "quiz.ipynb")    # a Moodle folder
    _write(tmp_path / "núñezjosé_301_9001_quiz.ipynb")                        # Canvas, non-ASCII letters
    _write(tmp_path / "smith_emily_LATE_302_9002_quiz.ipynb")                 # Canvas, an underscore in the name
    _write(tmp_path / "1_mallory_1_quiz.ipynb")                               # not Canvas: a flat file
    _write(tmp_path / "dan.ipynb")                                            # flat
    entries, skipped, layout = C.find_submissions(tmp_path)
    assert layout == "moodle + canvas + folders + flat" and skipped == []
    assert sorted((e.layout, e.owner, e.name) for e in entries) == [
        ("canvas", "301", "núñezjosé"), ("canvas", "302", "smith_emily"),
        ("flat", "1_mallory_1_quiz", ""), ("flat", "dan", ""),
        ("folders", "amy", ""), ("folders", "ben", ""), ("moodle", "103", "Cat Cole")]


def test_a_mixed_class_is_graded_with_nobody_missing(tmp_path):
    subs = tmp_path / "subs"
    _write(subs / "s1" / "quiz.ipynb")
    _write(subs / "s2" / "quiz.ipynb", "lh.check('5.1.q2', 'a')")
    _write(subs / "coleacat_103_9001_quiz.ipynb")
    (tmp_path / "roster.csv").write_text("id,name,platform_id\ns1,Amy,\ns2,Ben,\ns3,Cat Cole,103\ns4,Dan,\n")
    out = tmp_path / "out"
    with in_process():
        assert G.main([str(subs), "--out", str(out / "grades.csv"), "--roster", str(tmp_path / "roster.csv"),
                       "--quiet"]) == 0
    assert (out / "grades.csv").read_text() == (
        "student,name,status,5.1.q2,total\ns1,Amy,ok,1,1\ns2,Ben,ok,0,0\ns3,Cat Cole,ok,1,1\ns4,Dan,missing,,0\n")
    assert "layout: canvas + folders" in (out / "grading_summary.txt").read_text()


def test_links_fifos_and_devices_are_never_read(tmp_path):
    subs = tmp_path / "subs"
    bob = _write(subs / "bob" / "quiz.ipynb", "lh.check('5.1.q1', 0.0921)")
    solution = _write(tmp_path / "instructor" / "solution.ipynb", "lh.check('5.1.q2', 'c')")
    (subs / "alice").mkdir()
    (subs / "alice" / "quiz.ipynb").symlink_to(bob)                   # Bob's answers under Alice's name
    (subs / "mallory.ipynb").symlink_to(solution)                   # the model answer
    (subs / "zero.ipynb").symlink_to("/dev/zero")                    # reads for ever
    os.mkfifo(subs / "fifo.ipynb")                                   # blocks a reader for ever
    (subs / "carl").symlink_to(tmp_path / "instructor")              # a linked folder
    entries, skipped, _ = C.find_submissions(subs)
    assert [(e.owner, e.path.name) for e in entries] == [("bob", "quiz.ipynb")]
    assert sorted(skipped) == ["alice/ (no notebook)", "alice/quiz.ipynb (a link: not read)",
                               "carl (a link: not read)", "fifo.ipynb (a FIFO: not read)",
                               "mallory.ipynb (a link: not read)", "zero.ipynb (a link: not read)"]
    assert read_bytes(subs / "fifo.ipynb") == (None, "not a regular file (a FIFO, device or socket): not read")
    assert read_bytes(subs / "zero.ipynb") == (None, "a link, not a file: not read")


def test_a_zip_with_impossible_names_clashes_and_links_is_read_for_the_rest(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("x" * 300 + ".ipynb", "{}")
        z.writestr("amy", "a file")
        z.writestr("amy/quiz.ipynb", nbformat.writes(_nb("lh.check('5.1.q2', 'c')")))
        link = zipfile.ZipInfo("ben.ipynb")
        link.external_attr = (0o120777 << 16)
        z.writestr(link, "/etc/passwd")
        z.writestr("cat.ipynb", nbformat.writes(_nb("lh.check('5.1.q2', 'c')")))
    out = tmp_path / "out"
    with in_process():
        assert G.main([str(archive), "--out", str(out / "grades.csv"), "--quiet"]) == 0
    assert (out / "grades.csv").read_text() == "student,status,5.1.q2,total\ncat,ok,1,1\n"
    summary = (out / "grading_summary.txt").read_text()
    assert "x" * 57 + "... in download.zip (a name longer than 255 bytes: not extracted)" in summary
    assert "amy/quiz.ipynb in download.zip (could not be extracted: " in summary     # a file amy is in the way
    assert "ben.ipynb in download.zip (a link: not extracted)" in summary


def test_the_newest_resubmission_counts_and_the_summary_says_which(tmp_path):
    subs = tmp_path / "subs"
    _write(subs / "amy" / "quiz1 (1).ipynb", "lh.check('5.1.q2', 'c')", when=2_000_000_000)     # newer
    _write(subs / "amy" / "quiz1.ipynb", "lh.check('5.1.q2', 'a')", when=1_900_000_000)         # older
    found = R.owners(C.find_submissions(subs)[0], None)
    assert [e.path.name for e in found["amy"][1]] == ["quiz1.ipynb", "quiz1 (1).ipynb"]
    out = tmp_path / "out"
    with in_process():
        assert G.main([str(subs), "--out", str(out / "grades.csv"), "--quiet"]) == 0
    assert (out / "grades.csv").read_text() == "student,status,5.1.q2,total\namy,ok,1,1\n"
    assert ("amy: 2 notebooks put together, oldest first (a later answer to a question replaces an earlier "
            "one): quiz1.ipynb, quiz1 (1).ipynb") in (out / "grading_summary.txt").read_text()


def test_the_grader_s_own_output_inside_the_folder_is_not_a_student(tmp_path):
    subs = tmp_path / "subs"
    _write(subs / "amy.ipynb")
    out = subs / "results"
    for _ in range(2):
        with in_process():
            assert G.main([str(subs), "--out", str(out / "grades.csv"), "--quiet"]) == 0
    assert (out / "grades.csv").read_text() == "student,status,5.1.q2,total\namy,ok,1,1\n"
