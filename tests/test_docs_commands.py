"""Every shell command of docs/INSTRUCTORS.md and docs/VARIANTS.md runs as written (issue #25).

The commands are taken from the pages' fenced ``console`` (lines after ``$ ``) and ``bash`` blocks, in order,
and run by bash in a fresh temporary folder, after the README's set-up (this checkout's ``.venv``). The one
placeholder, ``/path/to/lemma-course``, becomes this checkout. In the quick tests ``lemma-grade`` runs the
notebooks in the test's own process (``tests/lemma_grade_inprocess.py``: no kernel); the test marked
``kernel`` runs them for real, in the sandbox where it works.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = "/path/to/lemma-course"
PAGES = ["docs/INSTRUCTORS.md", "docs/VARIANTS.md"]


def commands(text: str) -> list:
    """The shell commands of a Markdown page: ``console`` blocks' ``$`` lines (with their ``\\`` continuation
    lines; other lines are output) and every line of ``bash`` blocks but comments."""
    out = []
    for lang, body in re.findall(r"^[ \t]*```(console|bash)[ \t]*\n(.*?)^[ \t]*```", text, re.M | re.S):
        lines, current = [ln.strip() for ln in body.splitlines()], None
        for ln in lines:
            if current is not None:
                current += " " + ln.rstrip("\\").strip()
                if not ln.endswith("\\"):
                    out.append(current)
                    current = None
                continue
            if lang == "console" and not ln.startswith("$ "):
                continue
            cmd = ln[2:] if lang == "console" else ln
            if not cmd or cmd.startswith("#"):
                continue
            if cmd.endswith("\\"):
                current = cmd.rstrip("\\").strip()
            else:
                out.append(cmd)
    return out


def test_commands_are_found_in_the_pages():
    text = (ROOT / "docs/INSTRUCTORS.md").read_text()
    found = commands(text)
    assert found[:2] == [f"export LEMMA_COURSE={PLACEHOLDER}", 'source "$LEMMA_COURSE/.venv/bin/activate"']
    assert any(c.startswith("lemma-grade merge ") for c in found)
    assert commands("```console\n$ a \\\n   --b\noutput\n$ c\n```\n```bash\n# x\nd\n```\n") == ["a --b", "c", "d"]


def _run(page: str, tmp_path: Path, in_process: bool) -> subprocess.CompletedProcess:
    if not (ROOT / ".venv" / "bin" / "activate").exists():
        pytest.skip("the README's set-up (.venv) is not there: run make venv")
    script = ["set -euo pipefail"]
    if in_process:
        script.append(f'lemma-grade() {{ "{sys.executable}" "{ROOT / "tests" / "lemma_grade_inprocess.py"}" "$@"; }}')
    for cmd in commands((ROOT / page).read_text()):
        script += [f"echo '>>> {cmd.replace(chr(39), '')}'", cmd.replace(PLACEHOLDER, str(ROOT))]
    env = {k: v for k, v in os.environ.items() if k not in ("LEMMA_QUIZ_DIRS", "VIRTUAL_ENV")}
    return subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=1200)


def _check(page: str, tmp_path: Path, proc) -> None:
    assert proc.returncode == 0, f"{page}: a command failed\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    if page.endswith("INSTRUCTORS.md"):
        results = tmp_path / "practice-term" / "results"
        final = (results / "grades_final.csv").read_text(encoding="utf-8").splitlines()
        assert final[0] == ("student,name,email,platform_id,status,5.1.q1,5.1.q2,5.1.q3,5.1.q4,automatic,written,"
                            "total,maximum")
        assert len(final) == 7 and ",missing," in final[4]          # six on the roster, Ana Lopez missing
        assert "Roster problems" not in (results / "grading_summary.txt").read_text(encoding="utf-8")
        assert (results / "item_analysis.png").exists() and (results / "moodle_grades.csv").exists()
        assert "Quiz 5.1 (12345)" in (results / "canvas_grades.csv").read_text(encoding="utf-8")
        assert len(list(results.glob("marking_sheet.*.csv"))) == 2     # a backup before each re-run
        assert (tmp_path / "practice-term" / "student-pack").is_dir()
    else:
        grades = (tmp_path / "results" / "grades.csv").read_text(encoding="utf-8")
        assert "another student's code (s001)" in grades and ",ok," in grades


@pytest.mark.parametrize("page", PAGES)
def test_every_command_of_the_page_runs_as_written(page, tmp_path):
    _check(page, tmp_path, _run(page, tmp_path, in_process=True))


@pytest.mark.kernel
@pytest.mark.parametrize("page", PAGES)
def test_every_command_of_the_page_runs_as_written_with_kernels(page, tmp_path, sandbox_why):
    if sandbox_why:
        pytest.skip(f"the grader's sandbox does not run here: {sandbox_why}")
    _check(page, tmp_path, _run(page, tmp_path, in_process=False))


def test_the_architecture_map_names_files_that_exist():
    """docs/ARCHITECTURE.md names modules and folders by path: each one is there (a moved module updates the map)."""
    text = (ROOT / "docs/ARCHITECTURE.md").read_text()
    named = set(re.findall(r"`((?:[\w.-]+/)*[\w.-]+(?:\.py|\.R|\.md|/))`", text))
    bases = [ROOT, ROOT / "lemma_helpers", *(p for p in (ROOT / "lemma_helpers").iterdir() if p.is_dir())]
    missing = sorted(p for p in named if not any((b / p).exists() for b in bases))
    assert len(named) > 30 and not missing
