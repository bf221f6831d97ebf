"""Generated parts of the notebooks are up to date with their scripts."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_navigation_links_are_current():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "nav.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_every_notebook_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for nb in sorted((ROOT / "notebooks").glob("0[0-7]_*.ipynb")):
        assert f"`{nb.stem}`" in readme, nb.name


def _nav_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("nav", ROOT / "scripts" / "nav.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _nav_notebook(path, heading):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {heading}\n\n<!-- nav:start -->\n<!-- nav:end -->"),
                nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, path)


def test_nav_orders_and_links_inserted_notebooks(tmp_path):
    import nbformat
    nav = _nav_module()
    names = {"00_start.ipynb": "Start", "07_summary.ipynb": "Summary", "07a_extra.ipynb": "Extra",
             "08_p5_1_schools.ipynb": "Practical 5.1", "10_p5_3_slopes.ipynb": "Practical 5.3",
             "09b_p5_2b_more.ipynb": "Practical 5.2b", "09_p5_2_intercepts.ipynb": "Practical 5.2"}
    for name, heading in names.items():
        _nav_notebook(tmp_path / name, heading)
    (tmp_path / "notes.ipynb").write_text("{}")                   # not a course notebook: ignored
    order = [p.name for p in nav.course_notebooks(tmp_path)]
    assert order == ["00_start.ipynb", "07_summary.ipynb", "07a_extra.ipynb", "08_p5_1_schools.ipynb",
                     "09_p5_2_intercepts.ipynb", "09b_p5_2b_more.ipynb", "10_p5_3_slopes.ipynb"]
    assert nav.main(check=True, folder=tmp_path) == 1              # nothing written yet: stale
    assert nav.main(folder=tmp_path) == 0
    assert nav.main(check=True, folder=tmp_path) == 0
    first = lambda name: nbformat.read(tmp_path / name, as_version=4).cells[0].source  # noqa: E731
    assert "Next: [Extra](07a_extra.ipynb)" in first("07_summary.ipynb")
    assert ("Previous: [Summary](07_summary.ipynb) | [Start page](00_start.ipynb) | "
            "Next: [Practical 5.1](08_p5_1_schools.ipynb)") in first("07a_extra.ipynb")
    assert "Next: [Practical 5.2b](09b_p5_2b_more.ipynb)" in first("09_p5_2_intercepts.ipynb")
    # the command line takes the folder too
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "nav.py"), "--check", str(tmp_path)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_student_copies_find_inserted_practicals():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_student_copies", ROOT / "scripts" / "make_student_copies.py")
    msc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(msc)
    assert msc.PRACTICAL.match("10a_p5_3b_extra.ipynb") and msc.PRACTICAL.match("08_p5_1_comparing_schools.ipynb")
    assert not msc.PRACTICAL.match("07a_extra.ipynb") and not msc.PRACTICAL.match("07_summary.ipynb")


def _timing_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("timing", ROOT / "scripts" / "timing.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_timing_writes_the_table_and_the_notes_on_copies(tmp_path):
    import json
    import shutil
    timing = _timing_module()
    names = ["02_comparing_groups.ipynb", "13_p5_6_exam_practice.ipynb"]
    for name in names:
        shutil.copyfile(ROOT / "notebooks" / name, tmp_path / name)
    table = tmp_path / "SCHEDULE.md"
    table.write_text("# Plan\n\n<!-- timing:start -->\n<!-- timing:end -->\n\nAfter.\n", encoding="utf-8")
    paths = [str(tmp_path / n) for n in names]
    assert timing.main(["--no-run", "--notes", "--table", str(table), *paths]) == 0
    text = table.read_text(encoding="utf-8")
    assert text.startswith("# Plan\n\n<!-- timing:start -->\n| Notebook |") and text.endswith("<!-- timing:end -->\n\nAfter.\n")
    for name in names:
        assert f"](../notebooks/{name})" in text
        before = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
        after = json.loads((tmp_path / name).read_text(encoding="utf-8"))
        first = "".join(after["cells"][0]["source"])
        assert first.count("<!-- time:start -->*About ") == 1 and first.index("<!-- time:end -->") < first.index("<!-- nav:start -->")
        assert [c["id"] for c in after["cells"]] == [c["id"] for c in before["cells"]]
        assert after["cells"][1:] == before["cells"][1:]           # only the first cell's text changes
    r = timing.measure(tmp_path / names[1], run=False)
    assert r["answers"] == 5 and r["questions"] == 7 and r["total"] % 5 == 0
    assert r["total"] >= r["reading"] + r["work"]
    snapshot = [(tmp_path / n).read_text(encoding="utf-8") for n in names] + [text]
    assert timing.main(["--no-run", "--notes", "--table", str(table), *paths]) == 0     # a second run changes nothing
    assert [(tmp_path / n).read_text(encoding="utf-8") for n in names] + [table.read_text(encoding="utf-8")] == snapshot


@pytest.mark.kernel
def test_timing_runs_a_copy_and_leaves_the_notebook_alone(tmp_path):
    import nbformat
    timing = _timing_module()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T1 A test\n\nSome words to read here."),
                                         nbformat.v4.new_code_cell("x = sum(range(10))\nx")])
    path = tmp_path / "01_t.ipynb"
    nbformat.write(nb, path)
    before = path.read_text(encoding="utf-8")
    r = timing.measure(path, run=True)
    assert r["run"] is not None and 0 < r["run"] < 5 and r["words"] == 8
    assert path.read_text(encoding="utf-8") == before


def test_benchmark_sections_are_replaced_between_their_markers(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_section", ROOT / "benchmarks" / "readme_section.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n")
    mod.write_section("grading", "Grading", ["first"], readme)
    mod.write_section("grading", "Grading", ["second", "run"], readme)
    assert readme.read_text() == "# Benchmarks\n\n## Grading\n\n<!-- grading:start -->\nsecond\nrun\n<!-- grading:end -->\n"


def _random_models():
    import importlib.util
    spec = importlib.util.spec_from_file_location("check_random_models", ROOT / "scripts" / "check_random_models.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_random_model_check_runs_and_flags_a_degenerate_fit():
    """scripts/check_random_models.py (a maintainers' check of the optimum against L-BFGS) runs; seed 30
    is a level-1 function that reaches 0 (no maximum exists), seed 0 an ordinary model."""
    mod = _random_models()
    assert mod.check(0) is None
    kind, text = mod.check(30)
    assert kind == "bad" and "level1=~ 1 + x" in text


def test_a_level1_function_that_reaches_zero_is_explained_without_numpy_warnings():
    """Seed 30 of the random models: '~ 1 + x' on data whose level-1 variance does not depend on x, so
    the fitted quadratic can reach 0 at a data point, where the likelihood has no maximum. The learner
    gets a note in plain words (not only "did not converge"), and no RuntimeWarning from the search."""
    import warnings

    import lemma_helpers as lh

    data, formula, _, reml, level1 = _random_models().simulate(30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        m = lh.fit(formula, data=data, reml=reml, level1=level1)
        text = repr(m)
    assert level1 == "~ 1 + x"
    assert any("comes close to 0" in note for note in m.notes)
    assert "comes close to 0" in " ".join(text.split())


def test_design_benchmark_builds_one_design_each_way():
    """benchmarks/design_benchmark.py: the direct path, patsy (and formulaic, where installed) give designs
    of the same shape, which the benchmark checks before timing them."""
    import importlib.util

    import lemma_helpers as lh

    spec = importlib.util.spec_from_file_location("design_benchmark", ROOT / "benchmarks" / "design_benchmark.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ways = mod.builders("normexam ~ standlrt + (1 + standlrt | school)", None, lh.load_dataset("exam"))
    shapes = {way: fn() for way, fn in ways.items()}
    assert {"direct", "patsy"} <= set(shapes)
    assert all(shape == (4059, [1, 2, 2]) for shape in shapes.values()), shapes


def test_the_package_keeps_its_shape(capsys):
    """scripts/check_shape.py on lemma_helpers: no module over 600 lines, no function body over 80
    (docstrings aside), no import cycle (imports inside functions too), no learner module importing the grader."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_shape", ROOT / "scripts" / "check_shape.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main([str(ROOT / "lemma_helpers")]) == 0, capsys.readouterr().out
    assert mod.cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


def test_variants_benchmark_pass_rates():
    """benchmarks/variants_benchmark.py: the classmate rate counts ordered pairs of distinct students, the
    full-data rate students, and the widest tolerance meeting both targets is 0 when equal answers break them."""
    import importlib.util

    import numpy as np

    spec = importlib.util.spec_from_file_location("variants_benchmark", ROOT / "benchmarks" / "variants_benchmark.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    centre = np.array([0.0, 0.05, 1.0, 2.0])
    low, high = centre - 0.1, centre + 0.1
    assert mod.classmate_rate(low, high, centre) == 2 / 12           # (0, 0.05) and (0.05, 0)
    assert mod.full_rate(low, high, 1.05) == 0.25
    assert mod.widest_tolerance(centre, 5.0) == 0.05
    assert mod.widest_tolerance(np.array([1.0, 1.0, 2.0, 3.0]), 5.0) == 0.0
    assert len(mod.varying_questions()) > 0 and all(mod.varies(q) for q in mod.varying_questions())


def test_hostile_benchmark_reconstructs_each_submission_s_slot():
    """benchmarks/hostile_benchmark.py: with two jobs taken in order, a submission starts when an earlier one
    finishes; the rows of the tests' expected gradebooks are the ones the benchmark checks."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("hostile_benchmark", ROOT / "benchmarks" / "hostile_benchmark.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    slots = mod.slots(["a", "b", "c", "d"], {"a": 3.0, "b": 2.0, "c": 5.0, "d": 6.0}, 0.0, 2)
    assert slots == {"a": (0.0, 3.0), "b": (0.0, 2.0), "c": (2.0, 5.0), "d": (3.0, 6.0)}
    assert mod.running_at(slots, 4.0) == "c, d"
    assert set(mod.honest_rows(3, 1)) == {"student1", "student2", "student3"}
    assert mod.honest_rows(3, 2)["student2"] == "student2,ok,1,0,1"
