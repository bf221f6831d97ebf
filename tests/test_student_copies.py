"""The student copies of the practicals are up to date and hold no solutions.

``scripts/make_student_copies.py`` writes ``notebooks/student/<name>.ipynb``
from each instructor practical (``notebooks/NN_p5_*.ipynb``). These tests
regenerate the copies in a temporary folder and compare them with the
committed ones, and check that the solutions are gone and the blanks are
there. That the copies run (up to and past every blank) is tested by
``pytest --nbval-lax notebooks/student`` in ``make test``.
"""
import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_student_copies.py"
INSTRUCTOR = sorted((ROOT / "notebooks").glob("[0-9][0-9]_p5_*.ipynb"))


def _load_script():
    spec = importlib.util.spec_from_file_location("make_student_copies", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


msc = _load_script()

pytestmark = pytest.mark.skipif(not INSTRUCTOR, reason="no practical notebooks yet")


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.name)
def test_student_copy_is_up_to_date(path, tmp_path):
    assert msc.main(["--out", str(tmp_path), str(path)]) == 0
    committed = ROOT / "notebooks" / "student" / path.name
    assert committed.exists(), f"{committed.name} is missing: run `make students`."
    assert (tmp_path / path.name).read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
        f"notebooks/student/{path.name} is out of date: run `make students` and commit the result.")


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.name)
def test_student_copy_has_blanks_and_no_solutions(path):
    instructor = nbformat.read(path, as_version=4)
    student = nbformat.read(ROOT / "notebooks" / "student" / path.name, as_version=4)
    text = "\n".join(c.source for c in student.cells)
    solutions = msc.solution_lines(instructor)
    assert solutions, "an instructor practical must contain exercises (cells tagged 'solution')"
    for rhs in solutions:
        if len(rhs) < 4:
            continue   # short answers such as 2 or "b" also appear in the prose
        assert rhs not in text, f"solution text left in the student copy: {rhs!r}"
    assert "# blank" not in text
    n_blanks = sum(c.source.count("...") for c in student.cells
                   if c.cell_type == "code" and "solution" in c.metadata.get("tags", []))
    assert n_blanks >= len(solutions)
    answers = [c for c in instructor.cells if "answer" in c.metadata.get("tags", [])]
    assert answers and all(
        c.source == msc.ANSWER_PLACEHOLDER for c in student.cells if "answer" in c.metadata.get("tags", []))
    for c in instructor.cells:
        if "answer" in c.metadata.get("tags", []):
            assert c.source not in text
    assert not any("instructor" in c.metadata.get("tags", []) for c in student.cells)
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


def test_blank_line_rules():
    assert msc.blank_line('m0 = lh.fit("score ~ 1 + (1 | schoolid)", data=df)  # blank') == "m0 = ..."
    assert msc.blank_line('    df["x"] = f(y)  # blank') == '    df["x"] = ...'
    assert msc.blank_line("lh.fit(f, data=df)  # blank") == "..."
    src = 'm = lh.fit("y ~ x"  # blank\n         " + (1 | g)", data=df)\nm'
    assert msc.student_source(src) == "m = ...\nm"
