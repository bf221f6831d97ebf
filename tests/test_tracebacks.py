"""A LemmaError in a notebook: its message first, the learner's line, no frames of the package; the
variables its cell did not make explained when a later cell uses them (lemma_helpers/_tracebacks.py)."""
import re

import pytest

import lemma_helpers as lh
from lemma_helpers._tracebacks import _assigned_names, short_traceback

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_the_names_a_cell_assigns():
    source = ("import numpy as np\nx = 1\na, (b, c) = f()\nif ok:\n    d: int = 2\nfor i in r:\n    e += 1\n"
              "def g():\n    hidden = 3\nwith open(p) as fh:\n    h = fh.read()\n")
    assert _assigned_names(source) == ["x", "a", "b", "c", "d", "i", "e", "h"]
    assert _assigned_names("this is not python") == []


def test_message_first_then_the_line_that_called_the_package():
    exam = lh.load_dataset("exam")
    try:
        lh.fit("normexam ~ standlrtt + (1 | school)", data=exam)
    except lh.LemmaError as err:
        lines = [ANSI.sub("", line) for line in err._render_traceback_()]
    assert lines[0].startswith("LemmaError: Column 'standlrtt'") and "Did you mean 'standlrt'" in lines[0]
    assert "lh.fit(\"normexam ~ standlrtt" in lines[1] or "lh.fit('normexam ~ standlrtt" in lines[1]
    assert len(lines) == 2 and "lemma_helpers" not in "".join(lines[1:])    # no frame of the package


@pytest.mark.kernel
def test_in_a_kernel_a_failed_fit_is_short_and_its_names_are_explained_later():
    import nbformat
    from nbclient import NotebookClient

    cells = ["import lemma_helpers as lh\nexam = lh.load_dataset('exam')",
             "m1 = lh.fit('normexam ~ standlrtt + (1 | school)', data=exam)\nvpc = m1.vpc()",
             "m1 = lh.check_exercise('P5.6.m1', m1, data=exam)",
             "print(never_defined)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120).execute()
    errors = [[o for o in c.outputs if o.output_type == "error"] for c in nb.cells]
    fit, = errors[1]
    text = ANSI.sub("", "\n".join(fit.traceback))
    assert fit.ename == "LemmaError" and text.startswith("LemmaError: Column 'standlrtt'")
    assert "line 1 of this cell" in text and "did not make m1, vpc" in text
    assert "site-packages" not in text and "lemma_helpers/" not in text and len(text.splitlines()) <= 5
    later, = errors[2]
    assert later.ename == "NameError"
    assert ANSI.sub("", later.traceback[0]).startswith("NameError: m1 does not exist yet: the cell that makes it "
                                                       "stopped with an error (Column 'standlrtt'")
    other, = errors[3]                                     # any other NameError looks as usual
    assert other.ename == "NameError" and "Traceback" in ANSI.sub("", "\n".join(other.traceback))
