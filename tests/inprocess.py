"""lemma-grade without kernels, for the tests of the stages around the run.

:func:`in_process` replaces the grader's run stage (the only stage that starts
kernels and sandboxes) by running each notebook's code cells in this process,
in a fresh namespace, with ``lh.check`` recording answers as it does in a
grading kernel. Every other stage (collect, score, write) is the real one, so
a test of rosters, layouts, exports, marking sheets or variants needs no
kernel. The runs of real kernels in sandboxes are tested end to end in
``test_grading.py`` and ``test_grading_hostile.py``.
"""
from __future__ import annotations

import contextlib
import importlib
import hashlib
import io

import pytest
from nbformat.v4 import new_output

from lemma_helpers import state as S
from lemma_helpers.grade import run as R
from lemma_helpers.grade.notebooks import collect_answers, collect_declared, read_submission, written_answers
from lemma_helpers.grade.results import Submission

Q = importlib.import_module("lemma_helpers.quiz")


def _run_cells(nb) -> None:
    """Run the code cells of ``nb`` here, keeping what ``lh.check`` and ``lh.start_assignment`` display."""
    shown: list = []
    namespace: dict = {"__name__": "__main__"}
    state = S.session()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEMMA_CHECK_MODE", "record")
        mp.setattr(Q, "_emit", lambda bundle: shown.append(bundle) or True)
        for field in ("assignment", "mode", "code"):      # a fresh kernel's session (extra banks kept)
            mp.setattr(state, field, None)
        mp.setattr(state, "tries", {})
        mp.setattr(state, "last_wrong", {})
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            shown.clear()
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    exec(compile(cell.source, "<cell>", "exec"), namespace)
                except Exception:        # noqa: BLE001 - as in a kernel, an error does not stop the notebook
                    pass
            cell.outputs = [new_output("display_data", data=dict(b)) for b in shown]


def run_in_process(found, out, settings, data, scratch):
    """A stand-in for :func:`lemma_helpers.grade.run.run`: ``({file id: Submission}, 0)``."""
    results = {}
    for fid, name, blob, problem in found.notebooks:
        sub = Submission(fid, name, hashlib.sha256(blob or b"").hexdigest())
        nb, problem, notes = (None, problem, []) if problem else read_submission(blob)
        sub.notes.extend(notes)
        if problem:
            sub.problem(problem, "not a notebook")
        else:
            _run_cells(nb)
            sub.answers, sub.declared, sub.written = collect_answers(nb, sub.counts), collect_declared(nb), written_answers(nb)
            if not sub.answers:
                sub.problem("no answers recorded (lh.check was never called, or never reached)", "no answers")
        results[fid] = sub
    return results, 0


@contextlib.contextmanager
def in_process():
    """Within this block, ``lemma-grade`` runs notebooks in this process (no kernel, no sandbox)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(R, "run", run_in_process)
        mp.setattr(R, "_sandbox_mode", lambda choice: ("none: in process (tests)", {}, []))
        yield
