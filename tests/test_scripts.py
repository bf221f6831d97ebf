"""Generated parts of the notebooks are up to date with their scripts."""
import subprocess
import sys
from pathlib import Path

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
