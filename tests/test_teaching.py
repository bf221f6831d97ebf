"""Tests of the teaching material: the instructor guide, the schedule and timing, the slides."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


guide = _script("instructor_guide")


def test_instructor_guide_is_up_to_date():
    # the generated blocks (objectives, common mistakes, model answers) follow the notebooks and the bank:
    # after changing them, run `python scripts/instructor_guide.py`
    assert guide.main(["--check"]) == 0


def test_instructor_guide_has_every_section_and_its_parts():
    from lemma_helpers import _bank

    text = (ROOT / "docs" / "INSTRUCTOR_GUIDE.md").read_text(encoding="utf-8")
    for section in _bank._shipped_bank():
        start = text.index(f"<!-- guide:{section}:start -->")
        heading = text.rindex("\n## ", 0, start)
        part = text[heading:text.index(f"<!-- guide:{section}:end -->")]
        assert "**Discussion" in part and "**Where learners get stuck.**" in part, section
        assert "**Learning objectives**" in part and "**Common mistakes**" in part, section
        if section.startswith("P"):
            assert "**Model answers to the written questions.**" in part, section
    assert "INSTRUCTORS.md" in text and "SCHEDULE.md" in text


def test_guide_block_is_rewritten_and_the_rest_kept(tmp_path):
    src = (ROOT / "docs" / "INSTRUCTOR_GUIDE.md").read_text(encoding="utf-8")
    stale = src.replace("**Common mistakes**", "**Old mistakes**", 1).replace("Discussion.", "Talk.", 1)
    path = tmp_path / "guide.md"
    path.write_text(stale, encoding="utf-8")
    assert guide.main(["--check", "--guide", str(path)]) == 1
    assert guide.main(["--guide", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == src.replace("Discussion.", "Talk.", 1)   # hand-written text kept


def test_guide_without_a_block_for_a_section_is_an_error(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text("# Guide\n\n<!-- guide:5.1:start -->\n<!-- guide:5.1:end -->\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="no block for section"):
        guide.main(["--guide", str(path)])


# ---- the final project (docs/project/, notebooks/project/exemplar.ipynb) ------------------------

PROJECT = ROOT / "docs" / "project"
EXEMPLAR = ROOT / "notebooks" / "project" / "exemplar.ipynb"


def test_project_brief_rubric_and_exemplar_link_to_each_other():
    import re
    for doc in ["BRIEF.md", "RUBRIC.md"]:
        text = (PROJECT / doc).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if not target.startswith("http"):
                assert (PROJECT / target).resolve().exists(), f"{doc}: broken link {target}"
    rubric = (PROJECT / "RUBRIC.md").read_text(encoding="utf-8")
    marks = [int(m) for m in re.findall(r"^\| \d \| \*\*[^|]+\*\* \| (\d+) \|", rubric, re.M)]
    assert len(marks) == 6 and sum(marks) == 100


def test_exemplar_is_marked_against_every_criterion_and_adds_up():
    import json
    import re
    cells = json.loads(EXEMPLAR.read_text(encoding="utf-8"))["cells"]
    marker = "\n".join("".join(c["source"]) for c in cells if "marker" in c["metadata"].get("tags", []))
    given = {int(c): (int(a), int(b)) for c, a, b in re.findall(r"\*Criterion (\d) \([^)]*\), (\d+)/(\d+)\.\*", marker)}
    assert sorted(given) == [1, 2, 3, 4, 5, 6]
    rubric = (PROJECT / "RUBRIC.md").read_text(encoding="utf-8")
    out_of = [int(m) for m in re.findall(r"^\| \d \| \*\*[^|]+\*\* \| (\d+) \|", rubric, re.M)]
    assert [given[i][1] for i in range(1, 7)] == out_of
    total = sum(a for a, _ in given.values())
    assert f"= {total}/100" in marker and f"({total}/100)" in rubric
    for cell in cells:                                   # links from notebooks/project/ resolve
        for target in re.findall(r"\]\(([^)#\s]+)", "".join(cell["source"])):
            if not target.startswith("http"):
                assert (EXEMPLAR.parent / target).resolve().exists(), target


def test_exemplar_orderings_are_machine_independent():
    # the notebook is under notebooks/project/, which tests/test_determinism.py does not scan
    determinism = _script_from_tests("test_determinism")
    assert determinism.notebook_report(EXEMPLAR) == []


def _script_from_tests(name):
    spec = importlib.util.spec_from_file_location(f"_teaching_{name}", ROOT / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- slides (make slides: slides/build.py) -------------------------------------------------------

CDN = ("cdnjs", "unpkg.com", "jsdelivr", "googleapis", "cloudflare")


def _slides_build():
    spec = importlib.util.spec_from_file_location("_teaching_slides_build", ROOT / "slides" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reveal_available(build) -> str | None:
    """None if the build can get reveal.js (npm, or a cached .tgz); otherwise the reason to skip."""
    import os
    import shutil
    version = build.PACKAGES["reveal.js"][0]
    cached = [build.BUILD / "npm", Path(os.environ.get("LEMMA_SLIDES_NPM_DIR", build.BUILD / "npm"))]
    if any((d / f"reveal.js-{version}.tgz").is_file() for d in cached) or shutil.which("npm"):
        return None
    return "neither npm nor a cached reveal.js package (slides/_build/npm/) is available"


def test_make_slides_target_runs_the_build():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\nslides: $(STAMP)\n\t$(BIN)/python slides/build.py --out $(SLIDES_OUT)\n" in makefile
    assert "slides/_build/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_slides_build_offline_from_copies(tmp_path):
    import re
    build = _slides_build()
    reason = _reveal_available(build)
    if reason:
        pytest.skip(reason)
    names = ["01_why_multilevel.ipynb", "04_random_slopes.ipynb"]
    before = {n: (ROOT / "notebooks" / n).read_bytes() for n in names}
    try:
        assert build.main(["--out", str(tmp_path), *(str(ROOT / "notebooks" / n) for n in names)]) == 0
    except build.SlidesError as err:          # npm there, but neither its cache nor the registry has the package
        pytest.skip(str(err))
    assert {n: (ROOT / "notebooks" / n).read_bytes() for n in names} == before       # notebooks untouched
    assert (tmp_path / "vendor" / "reveal.js" / "dist" / "reveal.js").is_file()
    assert (tmp_path / "vendor" / "mathjax" / "MathJax.js").is_file()
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for n in names:
        deck = tmp_path / n.replace(".ipynb", ".slides.html")
        text = deck.read_text(encoding="utf-8")
        loaded = re.findall(r"""(?:<script[^>]*\ssrc|<link[^>]*\shref|import [^;]*? from)\s*=?\s*["']([^"']*)["']""", text)
        assert loaded and not [u for u in loaded if re.match(r"(https?:)?//", u)], loaded
        for url in loaded:                      # every library the deck loads is in the build
            assert (tmp_path / url.split("?")[0]).is_file(), url
        assert not any(host in text for host in CDN)
        assert text.count("<section") >= 5 and 'class="fragment"' in text
        assert "nav:start" not in text and deck.name in index


def test_slide_type_rules():
    import doctest
    spec = importlib.util.spec_from_file_location("_teaching_slide_types", ROOT / "slides" / "slide_types.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert doctest.testmod(module).failed == 0
    import nbformat
    check = nbformat.v4.new_code_cell("x = lh.check_exercise('P5.2.vpc', x, m1=m1)", outputs=[])
    check.metadata["jupyter"] = {"source_hidden": True}
    own = nbformat.v4.new_markdown_cell("Keep me.")
    own.metadata["slideshow"] = {"slide_type": "notes"}
    nb = module.set_slide_types(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), check, own]))
    assert [c.metadata["slideshow"]["slide_type"] for c in nb.cells] == ["slide", "skip", "notes"]
