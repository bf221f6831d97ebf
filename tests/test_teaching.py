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
