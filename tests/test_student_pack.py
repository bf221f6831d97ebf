"""The student pack (``make student-pack``, ``scripts/make_student_pack.py``).

The pack is built into a temporary folder from the committed notebooks: it
must hold exactly the concept notebooks, the student copies of the
practicals and a README; every relative link must lead to a file of the
pack; no solution, instructor cell or (for ``--summative``) model answer may
travel with it; and a practical copy from the pack must run from top to
bottom (nbval-lax on one of them: running them all takes minutes).
"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


msp = _load("make_student_pack")
msc = msp.msc
CONCEPTS, PRACTICALS = msp.pack_notebooks()
LINK = re.compile(r"\]\(([^)\s]+)\)|(?:src|href)=[\"']([^\"']+)[\"']")


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "student-pack"
    msp.build(out)
    return out


@pytest.fixture(scope="module")
def summative_pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("summative") / "pack"
    assert msp.main(["--out", str(out), "--summative"]) == 0
    return out


def _notebooks(folder):
    return {p.name: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}


def _relative_links(text):
    for m in LINK.finditer(text):
        target = m.group(1) or m.group(2)
        if not (target.startswith(("#", "/")) or msp.EXTERNAL.match(target)):
            yield target


def _broken_links(folder):
    broken = []
    texts = {name: [c.source for c in nb.cells if c.cell_type == "markdown"]
             for name, nb in _notebooks(folder).items()}
    texts["README.md"] = [(folder / "README.md").read_text(encoding="utf-8")]
    for name, sources in texts.items():
        for source in sources:
            for target in _relative_links(source):
                path = target.partition("#")[0]
                if not (folder / path).is_file() or (folder / path).resolve().parent != folder.resolve():
                    broken.append(f"{name} -> {target}")
    return broken


def test_the_course_has_concepts_and_practicals():
    assert [p.name for p in CONCEPTS][0] == "00_start.ipynb" and "07_summary.ipynb" in [p.name for p in CONCEPTS]
    assert PRACTICALS and all(msc.PRACTICAL.match(p.name) for p in PRACTICALS)


def test_pack_holds_exactly_the_concepts_the_student_copies_and_a_readme(pack):
    files = sorted(str(p.relative_to(pack)) for p in pack.rglob("*"))
    assert files == sorted([p.name for p in CONCEPTS + PRACTICALS] + ["README.md"])
    assert (pack / "README.md").read_text(encoding="utf-8").startswith(msp.PACK_MARK)


def test_every_link_works_inside_the_pack(pack, summative_pack):
    assert _broken_links(pack) == []
    assert _broken_links(summative_pack) == []
    # the concept notebooks' last "Next" leads to the first practical's student copy, in the pack
    summary = nbformat.read(pack / "07_summary.ipynb", as_version=4).cells[0].source
    assert f"]({PRACTICALS[0].name})" in summary
    # the student copies no longer point one folder up
    for name, nb in _notebooks(pack).items():
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                assert "../" not in "".join(_relative_links(cell.source)), name


def test_concept_notebooks_keep_their_outputs(pack):
    for p in CONCEPTS:
        original, copy = nbformat.read(p, as_version=4), nbformat.read(pack / p.name, as_version=4)
        code = [(c.source, c.outputs) for c in original.cells if c.cell_type == "code"
                and "instructor" not in msc.tags(c)]
        assert [(c.source, c.outputs) for c in copy.cells if c.cell_type == "code"] == code, p.name


def _answer_texts(nb):
    return [msc.ANSWER_PREFIX.sub("", c.source).strip() for c in nb.cells
            if c.cell_type == "markdown" and "answer" in msc.tags(c)]


@pytest.mark.parametrize("path", PRACTICALS, ids=lambda p: p.name)
def test_no_solutions_answers_or_instructor_cells_in_the_pack(pack, summative_pack, path):
    instructor = nbformat.read(path, as_version=4)
    solutions = [c.source for c in instructor.cells if c.cell_type == "code" and "solution" in msc.tags(c)]
    answers = _answer_texts(instructor)
    hidden = [c.source for c in instructor.cells if "instructor" in msc.tags(c)]
    assert solutions and answers
    for folder, summative in ((pack, False), (summative_pack, True)):
        nb = nbformat.read(folder / path.name, as_version=4)
        assert not [c for c in nb.cells if "instructor" in msc.tags(c)]
        assert not [c for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count)]
        given = [c.source for c in nb.cells if c.cell_type == "code" and "solution" in msc.tags(c)]
        assert given == [msc.student_source(s) for s in solutions]
        for line in msc.solution_lines(instructor):
            if len(line) >= 6:                     # short ones ("b", 2) occur in given code by chance
                assert not any(line in g for g in given), line
        assert "# blank" not in "\n".join(given)
        assert [c.source for c in nb.cells if "answer" in msc.tags(c)] == [msc.ANSWER_PLACEHOLDER] * len(answers)
        model = [c.source for c in nb.cells if msc.MODEL_ANSWER_TAG in msc.tags(c)]
        everything = "\n".join(c.source for c in nb.cells)
        if summative:
            assert model == [] and msc.MODEL_ANSWER_SUMMARY not in everything
            for text in answers:
                assert text not in everything
        else:
            assert len(model) == len(answers)
        for source in hidden:
            assert source not in everything


def test_pack_readme_lists_every_notebook_and_says_how_to_hand_in(pack, summative_pack):
    text = (pack / "README.md").read_text(encoding="utf-8")
    for p in CONCEPTS + PRACTICALS:
        assert f"[{p.name}]({p.name})" in text
    assert "student id" in text and "model answer" in text
    assert "no model answers" in (summative_pack / "README.md").read_text(encoding="utf-8")


needs_data = pytest.mark.skipif(not os.environ.get("LEMMA_DATA_DIR"), reason="set LEMMA_DATA_DIR to run notebooks")


@needs_data
@pytest.mark.kernel
def test_a_practical_copy_from_the_pack_runs_top_to_bottom(pack):
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                          "--nbval-lax", PRACTICALS[0].name], cwd=pack, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]


# --- on a small made-up course: inserted notebooks, instructor text, bad links, rebuilds -----

def _md(text, tags=()):
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": list(tags)} if tags else {})


def _course(folder):
    folder.mkdir()
    nav = "<!-- nav:start -->\n{}\n<!-- nav:end -->"
    nbs = {
        "00_start.ipynb": [_md("# Start\n\n" + nav.format("Next: [Summary](07_summary.ipynb)")),
                           _md("Work through the notebooks.<!-- instructor --> Compare with the "
                               "[solutions](08_p5_1_x.ipynb) in notebooks/.<!-- /instructor -->"
                               "<!-- student: Ask your tutor for help. -->"),
                           _md("<!-- instructor -->Only for instructors.<!-- /instructor -->")],
        "07_summary.ipynb": [_md("# Summary\n\n" + nav.format("Next: [Extra](07a_extra.ipynb)"))],
        "07a_extra.ipynb": [_md("# Extra\n\n" + nav.format("Next: [P1](08_p5_1_x.ipynb)")),
                            nbformat.v4.new_code_cell("assert 1 == 1", metadata={"tags": ["instructor"]})],
        "08_p5_1_x.ipynb": [_md("# P1\n\n" + nav.format("Previous: [Extra](07a_extra.ipynb) | "
                                                         "[Start page](00_start.ipynb)")),
                            nbformat.v4.new_code_cell("x = 6 * 7  # blank", metadata={"tags": ["solution"]}),
                            _md("**Answer.** It is forty-two.", tags=["answer"])],
    }
    for name, cells in nbs.items():
        nb = nbformat.v4.new_notebook()
        nb.cells = cells
        nbformat.write(nb, folder / name)
    return folder


def test_inserted_notebooks_and_instructor_text(tmp_path):
    course = _course(tmp_path / "notebooks")
    out = tmp_path / "pack"
    written = msp.build(out, notebooks=course)
    assert written == ["00_start.ipynb", "07_summary.ipynb", "07a_extra.ipynb", "08_p5_1_x.ipynb", "README.md"]
    assert _broken_links(out) == []
    start = nbformat.read(out / "00_start.ipynb", as_version=4)
    assert [c.source for c in start.cells[1:]] == ["Work through the notebooks.Ask your tutor for help."]
    assert not nbformat.read(out / "07a_extra.ipynb", as_version=4).cells[1:]
    practical = nbformat.read(out / "08_p5_1_x.ipynb", as_version=4)
    assert "x = ..." in [c.source for c in practical.cells]
    assert "](07a_extra.ipynb)" in practical.cells[0].source and "](00_start.ipynb)" in practical.cells[0].source


def test_a_link_out_of_the_pack_stops_the_build(tmp_path):
    course = _course(tmp_path / "notebooks")
    nb = nbformat.read(course / "07_summary.ipynb", as_version=4)
    nb.cells.append(_md("See the [grading guide](../docs/GRADING.md)."))
    nbformat.write(nb, course / "07_summary.ipynb")
    with pytest.raises(msp.PackError, match=r"07_summary\.ipynb links to '\.\./docs/GRADING\.md', which is "
                                            r"not in the student pack"):
        msp.build(tmp_path / "pack", notebooks=course)
    assert not (tmp_path / "pack").exists()                  # nothing half-written


def test_rebuild_keeps_git_and_refuses_a_folder_that_is_not_a_pack(tmp_path, capsys):
    course = _course(tmp_path / "notebooks")
    out = tmp_path / "pack"
    msp.build(out, notebooks=course)
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "old_notebook.ipynb").write_text("{}")
    msp.build(out, notebooks=course, summative=True)
    assert (out / ".git" / "HEAD").is_file() and not (out / "old_notebook.ipynb").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(msp.PackError, match="is not empty and does not hold a student pack"):
        msp.build(other, notebooks=course)
    assert (other / "notes.txt").read_text() == "mine"
    assert msp.main(["--out", str(other)]) == 1
    assert "does not hold a student pack" in capsys.readouterr().err


def test_nbgitpuller_link():
    link = msp.nbgitpuller_link("https://hub.example.ac.uk/", "https://github.com/x/pack.git", "spring")
    assert link == ("https://hub.example.ac.uk/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Fx%2F"
                    "pack.git&branch=spring&urlpath=lab%2Ftree%2Fpack%2F00_start.ipynb")


def test_a_pack_can_follow_the_interleaved_order(tmp_path):
    msp.build(tmp_path / "pack", order="interleaved")

    def next_of(name):
        first = nbformat.read(str(tmp_path / "pack" / name), as_version=4).cells[0].source
        m = re.search(r"Next: \[[^\]]*\]\(([^)]+)\)", first)
        return m.group(1) if m else None
    assert next_of("02_comparing_groups.ipynb") == "08_p5_1_comparing_schools.ipynb"
    assert next_of("08_p5_1_comparing_schools.ipynb") == "03_random_intercepts.ipynb"
    assert next_of("07_summary.ipynb") == "13_p5_6_exam_practice.ipynb"
