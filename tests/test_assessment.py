"""An answer is earned, never shown: no committed notebook holds a quiz verdict or a worked answer, the concept
notebooks ask rather than answer, and running a fresh student copy from top to bottom shows no answer."""
import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
CONCEPTS = sorted((ROOT / "notebooks").glob("0[0-7]_*.ipynb"))
STUDENT = sorted((ROOT / "notebooks" / "student").glob("*.ipynb"))
SHOWN = re.compile(r"Worked answer|recorded: |: correct \(|: not correct yet|application/vnd\.lemma\.answer\+json")


def _outputs(path: Path):
    for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        for out in cell.get("outputs", []):
            yield i, "".join(out.get("text", "")) + json.dumps(out.get("data", {}), ensure_ascii=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_no_committed_notebook_shows_a_verdict_or_a_worked_answer(path):
    shown = [(i, SHOWN.search(text).group(0)) for i, text in _outputs(path) if SHOWN.search(text)]
    assert shown == [], f"{path.name}: stored outputs show answers in cells {shown}"


def _check_calls(source: str):
    """(question id, answer source) of every lh.check call with a literal id."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and ast.unparse(node.func) == "lh.check" and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant)):
            yield node.args[0].value, ast.unparse(node.args[1])


@pytest.mark.parametrize("path", CONCEPTS, ids=lambda p: p.name)
def test_the_concept_notebooks_ask_and_leave_the_answer_to_the_reader(path):
    nb = nbformat.read(str(path), as_version=4)
    answered = [(qid, answer) for c in nb.cells if c.cell_type == "code"
                for qid, answer in _check_calls(c.source) if answer != "..."]
    given = [line.strip() for c in nb.cells if c.cell_type == "code" and "quiz-answers" in c.metadata.get("tags", [])
             for line in c.source.splitlines() if re.match(r'\s*"[^"]+\.q\d+":', line) and not line.strip().endswith("...,")]
    assert answered == [] and given == [], (answered, given)
    words = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Worked answers to" not in words and "Some answers" not in words


@pytest.mark.kernel
@pytest.mark.parametrize("path", STUDENT, ids=lambda p: p.name)
def test_running_a_fresh_student_copy_shows_no_answer(path, tmp_path):
    """"Run All" on a copy whose exercises still hold ... : every cell runs, and nothing shows an exercise's
    result, a check's verdict or a quiz answer."""
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(ROOT / "notebooks" / "student")}}).execute()
    printed = "\n".join(text for i, text in _outputs_of(nb))
    assert "Correct:" not in printed and "Worked answer" not in printed
    assert "Not done yet" in printed and "which an exercise above has not made yet" in printed
    assert not re.search(r"statistic = \d", printed)            # no likelihood ratio test of an exercise's model


def _outputs_of(nb):
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            yield i, "".join(out.get("text", "")) + json.dumps(out.get("data", {}), ensure_ascii=False)


def test_a_near_miss_on_the_data_names_a_fit_that_stopped_short():
    """A wrong value just outside the key of a question on the data (as statsmodels' default MixedLM optimiser
    gives when it stops short) gets feedback that names that route; a far one does not."""
    from lemma_helpers._bank import question
    from lemma_helpers._scoring import NEAR_MISS, score

    q = question("5.1.q1")
    centre, half = (q.key.low + q.key.high) / 2, (q.key.high - q.key.low) / 2
    assert q.compute and score(q, centre + 3 * half).feedback == NEAR_MISS
    assert score(q, centre - 3 * half).feedback == NEAR_MISS
    assert score(q, centre + 20 * half).feedback != NEAR_MISS and score(q, centre + half / 2).correct
    given = next(p for p in (question(f"5.1.q{i}") for i in range(1, 20)) if p.params and p.type == "numeric")
    mid, width = (given.key.low + given.key.high) / 2, (given.key.high - given.key.low) / 2
    assert score(given, mid + 3 * width).feedback != NEAR_MISS     # numbers given in the prompt: no fit to blame


def test_the_near_miss_blames_statsmodels_only_conditionally_and_names_an_optimiser_the_course_shows_working():
    """lh.fit users must not be told that their fit stopped short, and L-BFGS (which notebook 02's appendix shows
    failing) is not the advice: Powell's method is."""
    from lemma_helpers._scoring import NEAR_MISS

    assert "if you fitted with statsmodels" in NEAR_MISS.casefold()
    assert "powell" in NEAR_MISS and "lbfgs" not in NEAR_MISS.casefold() and "l-bfgs" not in NEAR_MISS.casefold()
    appendix = (ROOT / "notebooks" / "02_comparing_groups.ipynb").read_text(encoding="utf-8")
    assert "Powell's method reaches the maximum" in appendix and "L-BFGS fails" in appendix


@pytest.mark.parametrize("qid, answer, places", [
    ("P5.6.q3", 0.222, "4 decimal places"),                   # the worked answer's sum of rounded estimates
    ("P5.6.q3", 0.090 + 0.072 + 0.060, "4 decimal places"),   # the same, typed as the sum
    ("P5.3.q4", 6.4, "2 decimal places"),                     # the notebook's "near x = 6.4"
    ("5.0.q3", 170, "1 decimal place"),                       # rounded to two significant digits
])
def test_an_answer_from_rounded_numbers_is_told_so(qid, answer, places):
    from lemma_helpers._bank import question
    from lemma_helpers._scoring import NEAR_MISS, score

    out = score(question(qid), answer)
    assert not out.correct and out.feedback != NEAR_MISS
    assert out.feedback.startswith("Close: that looks like the answer from rounded numbers") and places in out.feedback
    assert "stopped short" not in out.feedback


def test_the_decimals_the_check_wants_are_enough_for_the_accepted_range():
    """The decimals named by the rounding feedback (the prompt's, else worked out from the tolerance): rounding the
    key to that many places always stays within the accepted range."""
    from lemma_helpers._bank import _questions
    from lemma_helpers._scoring import wanted_decimals

    for q in _questions().values():
        if q.type == "numeric" and q.key.high > q.key.low:
            n = wanted_decimals(q, q.key)
            assert 0.5 * 10.0 ** -n <= (q.key.high - q.key.low) / 2 * (1 + 1e-6), q.id
