"""The student copies of the practicals are up to date and hold no solutions.

``scripts/make_student_copies.py`` writes ``notebooks/student/<name>.ipynb``
from each instructor practical (``notebooks/NN_p5_*.ipynb``). These tests
regenerate the copies in a temporary folder and compare them with the
committed ones, and check that the solutions are gone and the blanks are
there. That the copies run (up to and past every blank) is tested by
``pytest --nbval-lax notebooks/student`` in ``make test``.
"""
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_student_copies.py"
INSTRUCTOR = sorted((ROOT / "notebooks").glob("[0-9][0-9]_p5_*.ipynb"))
STUDENT = ROOT / "notebooks" / "student"
LINK = re.compile(r"\]\(([^)\s]+)\)|(?:src|href)=[\"']([^\"']+)[\"']")


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
    outside_model_answers = "\n".join(c.source for c in student.cells
                                       if msc.MODEL_ANSWER_TAG not in c.metadata.get("tags", []))
    for c in instructor.cells:
        if "answer" in c.metadata.get("tags", []):
            assert c.source not in outside_model_answers
    assert not any("instructor" in c.metadata.get("tags", []) for c in student.cells)
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


def test_blank_line_rules():
    assert msc.blank_line('m0 = lh.fit("score ~ 1 + (1 | schoolid)", data=df)  # blank') == "m0 = ..."
    assert msc.blank_line('    df["x"] = f(y)  # blank') == '    df["x"] = ...'
    assert msc.blank_line("lh.fit(f, data=df)  # blank") == "..."
    src = 'm = lh.fit("y ~ x"  # blank\n         " + (1 | g)", data=df)\nm'
    assert msc.student_source(src) == "m = ...\nm"


def _tags(cell) -> list:
    return cell.metadata.get("tags", [])


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.name)
def test_links_in_student_copies_resolve_from_the_student_folder(path):
    student = nbformat.read(STUDENT / path.name, as_version=4)
    targets = [t for c in student.cells if c.cell_type == "markdown"
               for m in LINK.finditer(c.source) for t in m.groups() if t]
    assert targets, "a practical links at least to the start page"
    for target in targets:
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        file = target.split("#", 1)[0]
        assert (STUDENT / file).resolve().exists(), f"{path.name}: link {target!r} does not resolve from notebooks/student/"


def test_links_are_rewritten_for_the_student_folder():
    assert msc.student_link("00_start.ipynb") == "../00_start.ipynb"
    assert msc.student_link("07_summary.ipynb#where-next") == "../07_summary.ipynb#where-next"
    assert msc.student_link("11_p5_4_school_variables.ipynb") == "11_p5_4_school_variables.ipynb"
    assert msc.student_link("figures/plot.png") == "../figures/plot.png"
    assert msc.student_link("https://www.bristol.ac.uk/cmm/") == "https://www.bristol.ac.uk/cmm/"
    assert msc.student_links('[a](00_start.ipynb) <img src="fig.png">') == '[a](../00_start.ipynb) <img src="../fig.png">'


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.name)
def test_model_answers_by_default_and_not_with_the_option(path, tmp_path):
    instructor = nbformat.read(path, as_version=4)
    answers = [c.source for c in instructor.cells if "answer" in _tags(c)]
    default = nbformat.read(STUDENT / path.name, as_version=4)
    for i, cell in enumerate(default.cells):
        if "answer" in _tags(cell):
            nxt = default.cells[i + 1]
            assert msc.MODEL_ANSWER_TAG in _tags(nxt), "each answer cell is followed by its model answer"
            assert nxt.source.startswith(f"<details><summary>{msc.MODEL_ANSWER_SUMMARY}</summary>")
            assert nxt.source.rstrip().endswith("</details>")
    models = [c.source for c in default.cells if msc.MODEL_ANSWER_TAG in _tags(c)]
    assert len(models) == len(answers)
    for answer, model in zip(answers, models):
        assert msc.student_links(msc.ANSWER_PREFIX.sub("", answer).strip()) in model

    assert msc.main(["--no-model-answers", "--out", str(tmp_path), str(path)]) == 0
    graded = nbformat.read(tmp_path / path.name, as_version=4)
    assert not any(msc.MODEL_ANSWER_TAG in _tags(c) or "<details>" in c.source for c in graded.cells)
    text = "\n".join(c.source for c in graded.cells)
    for answer in answers:
        assert msc.ANSWER_PREFIX.sub("", answer).strip() not in text
    assert len(graded.cells) == len(default.cells) - len(answers)


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.name)
def test_no_check_cell_in_a_student_copy_shows_the_expected_answer(path):
    """Checks name an exercise (lh.check_exercise); the expected value or model spec stays in the package."""
    student = nbformat.read(STUDENT / path.name, as_version=4)
    for cell in student.cells:
        if cell.cell_type == "code":
            assert "check_value(" not in cell.source and "check_model(" not in cell.source, (
                f"{path.name}: a check cell computes or spells out the answer; use lh.check_exercise:\n{cell.source}")


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.name)
def test_quiz_introduction_fits_the_blanked_cells(path):
    student = nbformat.read(STUDENT / path.name, as_version=4)
    quiz = [c.source for c in student.cells if c.cell_type == "markdown" and msc.QUIZ_HEADING.match(c.source)]
    assert quiz, "a practical has a quiz section"
    for text in quiz:
        assert "computed from" not in text and "answers below" not in text and "<!--" not in text
        assert "replace the `...`" in text


def test_student_text_markers():
    src = "## Quiz\n\nIntro.\n<!-- instructor -->Computed below.<!-- /instructor -->\n<!-- student: Fill in. -->"
    assert msc.student_text(src) == "## Quiz\n\nIntro.\n\nFill in."
    plain = msc.student_text('## Quiz\n\n`lh.quiz("P5.2")` shows the questions; the answers below are computed.')
    assert plain.startswith('## Quiz\n\n`lh.quiz("P5.2")` shows the questions. ') and "computed" not in plain
