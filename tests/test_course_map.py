"""The course as a learner finds their way through it: every practical is listed, with a link to the copy to
work in; the concept-then-practical order is given; no notebook is too long to keep in view."""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PRACTICALS = [p for p in NOTEBOOKS if re.match(r"\d\d_p5_\d_", p.name)]
MAX_CELLS = 45


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_has_more_than_45_cells(path):
    assert len(nbformat.read(str(path), as_version=4).cells) <= MAX_CELLS


def test_the_start_page_and_the_readme_list_every_practical():
    start = "".join(c.source for c in nbformat.read(str(ROOT / "notebooks" / "00_start.ipynb"), as_version=4).cells)
    readme = (ROOT / "README.md").read_text()
    assert len(PRACTICALS) == 6
    for p in PRACTICALS:
        assert f"(student/{p.name})" in start, p.name                       # the copy to work in
        assert (ROOT / "notebooks" / "student" / p.name).exists()
    assert "`13`" in readme and "(notebooks 08-13)" in start


def test_each_concept_notebook_names_its_practical_and_each_practical_the_next_concept_notebook():
    pairs = {"02": "08", "03": "09", "04": "10", "05": "11", "06": "12", "07": "13"}
    for concept, practical in pairs.items():
        nb = nbformat.read(str(next((ROOT / "notebooks").glob(f"{concept}_*.ipynb"))), as_version=4)
        stem = next((ROOT / "notebooks").glob(f"{practical}_*.ipynb")).name
        assert f"(student/{stem})" in nb.cells[-2].source, concept
    for practical, concept in {"08": "03", "09": "04", "10": "05", "11": "06", "12": "07"}.items():
        nb = nbformat.read(str(next((ROOT / "notebooks").glob(f"{practical}_*.ipynb"))), as_version=4)
        stem = next((ROOT / "notebooks").glob(f"{concept}_*.ipynb")).name
        assert any(f"({stem})" in c.source for c in nb.cells[-3:] if c.cell_type == "markdown"), practical


@pytest.mark.parametrize("stem", ["02_comparing_groups", "03_random_intercepts", "04_random_slopes",
                                  "05_level2_variables", "06_complex_level1"])
def test_the_notebooks_that_teach_the_model_point_to_its_likelihood(stem):
    """Notebooks 02-06 point to the readable likelihood that lh.fit maximises; the functions they name exist."""
    from lemma_helpers.model import likelihood

    text = "".join(c.source for c in nbformat.read(str(ROOT / "notebooks" / f"{stem}.ipynb"), as_version=4).cells
                   if c.cell_type == "markdown")
    assert "lemma_helpers/model/likelihood.py" in text and "import lemma_helpers.model.likelihood" in text
    for name in re.findall(r"see `(\w+)`|`(\w+)` in `lemma_helpers/model/likelihood\.py`", text):
        assert hasattr(likelihood, "".join(name)), name


def test_every_figure_has_its_alt_text_and_every_text_a_sensible_length(tmp_path):
    """scripts/alt_text.py --check: each figure has a text written for it, 60-700 characters, and the notebooks
    carry the file's texts (the website's browser tests read them too, but run only where Chromium is)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "alt_text.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    long_text = tmp_path / "texts.yaml"
    long_text.write_text("00_start.ipynb:\n  abc: " + "word " * 200 + "\n")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "alt_text.py"), "--check", "--texts",
                           str(long_text), str(ROOT / "notebooks" / "00_start.ipynb")], capture_output=True, text=True)
    assert done.returncode == 1 and "has 999 characters; write 60 to 700" in done.stdout
