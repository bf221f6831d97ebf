"""Write the generated parts of docs/INSTRUCTOR_GUIDE.md from the notebooks and the question bank.

The guide has one part per course section (5.0 ... 5.6, P5.1 ... P5.6). Each part
holds hand-written text (discussion questions for class, where learners get
stuck) and one generated block between the markers

    <!-- guide:SECTION:start -->
    ...
    <!-- guide:SECTION:end -->

which this script fills, so that the guide stays in step with the course:

* **Learning objectives**: the "What you will learn" list of the section's
  notebook (its first cell).
* **Common mistakes**: from the question bank (``lemma_helpers/quizzes/``),
  every anticipated wrong number (numeric distractors), wrong phrase (text
  distractors) and wrong option of a choice question, each with the feedback
  the learner gets, and the hint shown from the second wrong try.
* **Model answers**: for a practical, each written question (the Markdown cell
  that holds ``**Question N.**``) with the model answer of the cell tagged
  ``answer`` that follows it.

Only the text between the markers is rewritten; everything else in the guide
is left as it is. A section of the bank without a block in the guide is an
error (add the markers where its part should go).

Usage: ``python scripts/instructor_guide.py [--check] [--guide PATH]``.
``--check`` writes nothing and exits with 1 if the guide is not up to date
(``tests/test_teaching.py`` runs it).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lemma_helpers import _bank  # noqa: E402  (the shipped bank, validated)

NOTEBOOKS = ROOT / "notebooks"
GUIDE = ROOT / "docs" / "INSTRUCTOR_GUIDE.md"
BLOCK = re.compile(r"(<!-- guide:(?P<section>P?[0-9]+\.[0-9]+):start -->\n)(?P<body>.*?)(<!-- guide:(?P=section):end -->)",
                   re.S)
TITLE = re.compile(r"^#\s+C?(?P<section>P?[0-9]+\.[0-9]+)\s+(?P<title>.+)$", re.M)
QUESTION = re.compile(r"\*\*Question (?P<n>[0-9]+)\.\*\*")
ANSWER_PREFIX = re.compile(r"^\s*\*\*Answer\.\*\*\s*")
INSTRUCTOR_TEXT = re.compile(r"<!--.*?-->", re.S)


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def section_notebooks() -> dict:
    """``{section: notebook path}`` from the title line of each course notebook ("# C5.1 ...", "# P5.2 ...")."""
    found = {}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        m = TITLE.search(_source(cells[0])) if cells else None
        if m and m.group("section") not in found:
            found[m.group("section")] = path
    return found


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def objectives(path: Path) -> list:
    """The bullet list under "What you will learn" in the notebook's first cell."""
    first = _source(json.loads(path.read_text(encoding="utf-8"))["cells"][0])
    after = first.split("What you will learn", 1)[-1].split("\n\n", 2)
    block = after[1] if len(after) > 1 else ""
    return [line[2:].strip() for line in block.splitlines() if line.startswith("- ")]


def _number(low: float, high: float) -> str:
    return f"{(low + high) / 2:.4g}"


def mistakes(questions) -> list:
    """Markdown lines: each question with its anticipated wrong answers and their feedback."""
    lines = []
    for q in questions:
        wrong = []
        if q.type in ("single", "multiple"):
            for o in q.options:
                if not o.correct:
                    wrong.append(f"choosing ({o.label}) *{_one_line(o.text)}*: {_one_line(o.feedback)}")
        elif q.type == "numeric":
            for low, high, feedback in q.key.distractors:
                wrong.append(f"answering {_number(low, high)}: {_one_line(feedback)}")
        else:
            for forms, feedback in q.key.distractors:
                wrong.append(f"answering \"{forms[0]}\": {_one_line(feedback)}")
        if q.feedback_wrong:
            wrong.append(f"any other wrong answer: {_one_line(q.feedback_wrong)}")
        if not wrong and not q.hint:
            continue
        lines.append(f"- **{q.id}** ({q.kind}) {_one_line(q.prompt)}")
        lines += [f"  - {w}" for w in wrong]
        if q.hint:
            lines.append(f"  - hint after two wrong tries: {_one_line(q.hint)}")
    return lines


def model_answers(path: Path) -> list:
    """``[(question text, model answer)]`` from a practical's cells tagged ``answer``."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    out = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown" or "answer" not in cell.get("metadata", {}).get("tags", []):
            continue
        question = ""
        for prev in reversed(cells[:i]):
            m = QUESTION.search(_source(prev)) if prev["cell_type"] == "markdown" else None
            if m:
                question = _source(prev)[m.start():].split("\n\n", 1)[0]
                break
        answer = ANSWER_PREFIX.sub("", INSTRUCTOR_TEXT.sub("", _source(cell))).strip()
        out.append((_one_line(question), _one_line(answer)))
    return out


def block(section: str, title: str, questions, notebook: Path | None) -> str:
    """The generated text of one section."""
    parts = []
    if notebook is not None:
        goals = objectives(notebook)
        parts.append(f"*Generated from [{notebook.name}](../notebooks/{notebook.name}) and "
                     f"`lemma_helpers/quizzes/{section}.yaml` by `scripts/instructor_guide.py`: do not edit by hand.*")
        if goals:
            parts.append("**Learning objectives** (the notebook's *What you will learn*):\n\n"
                         + "\n".join(f"- {g}" for g in goals))
    else:
        parts.append(f"*Generated from `lemma_helpers/quizzes/{section}.yaml` by `scripts/instructor_guide.py`.*")
    lines = mistakes(questions)
    if lines:
        parts.append(f"**Common mistakes** (quiz {section}, {title}: each anticipated wrong answer and the "
                     "feedback the learner gets).\n\n" + "\n".join(lines))
    if notebook is not None and section.startswith("P"):
        answers = model_answers(notebook)
        if answers:
            parts.append("**Model answers to the written questions.**\n\n" + "\n\n".join(
                f"{q or '(question)'}\n\n> {a}" for q, a in answers))
    return "\n\n".join(parts) + "\n"


def render(text: str) -> str:
    """The guide with every generated block rewritten."""
    bank = _bank._shipped_bank()
    notebooks = section_notebooks()
    present = {m.group("section") for m in BLOCK.finditer(text)}
    missing = sorted(set(bank) - present, key=_bank.section_sort_key)
    if missing:
        raise SystemExit(f"{GUIDE.name}: no block for section(s) {', '.join(missing)}: add "
                         "<!-- guide:SECTION:start --> and <!-- guide:SECTION:end --> where each part should go.")

    def fill(m: re.Match) -> str:
        sec = m.group("section")
        if sec not in bank:
            raise SystemExit(f"{GUIDE.name}: block for unknown section {sec}.")
        title, questions = bank[sec]
        return m.group(1) + block(sec, title, questions, notebooks.get(sec)) + m.group(4)

    return BLOCK.sub(fill, text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit with 1 if the guide is out of date; write nothing")
    ap.add_argument("--guide", type=Path, default=GUIDE)
    args = ap.parse_args(argv)
    old = args.guide.read_text(encoding="utf-8")
    new = render(old)
    if args.check:
        if new != old:
            print(f"{args.guide} is out of date: run python scripts/instructor_guide.py")
            return 1
        return 0
    if new != old:
        args.guide.write_text(new, encoding="utf-8")
        print(f"updated {args.guide}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
