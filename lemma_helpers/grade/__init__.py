"""``lemma-grade``: the instructor's grader, a product of its own beside the learner's library.

It builds on the learner's library (the question bank, the scoring rules of
``lh.check``, the datasets, the answer functions) and is never imported by
it. Its modules, in the order a grading run uses them:

============================  ==========================================================
:mod:`.cli`                   the command line: grading, ``template``, ``merge``, ``codes``, ``key``
:mod:`.run`                   a grading run as stages: collect -> run -> score -> write
:mod:`.assignment`            assignment files: questions, points, keys, variants
:mod:`.codes`                 per-student variant codes and the secret they come from
:mod:`.roster`                the class list (as Moodle and Canvas export it) and whose each notebook is
:mod:`.layouts`               the layouts of a folder of submissions (flat, folders, Moodle, Canvas, zip)
:mod:`.notebooks`             reading submitted bytes; what an executed notebook recorded
:mod:`.execute`               running notebooks, ``jobs`` at a time, and reading their outputs back
:mod:`.sandbox`               the bubblewrap sandbox each notebook runs in
:mod:`.runner`                the script that runs inside the sandbox
:mod:`.marks`                 scoring each notebook once; a student's notebooks combined
:mod:`.results`               the plain data passed between stages; the journal
:mod:`.write`, :mod:`.report` the gradebook, feedback files and summary
:mod:`.roundtrip`             the files of the round trip to the platforms, written at the end of a run
:mod:`.exports`               platform files (Moodle, Canvas) and feedback zips
:mod:`.marking`               the marking sheet of written answers (kept over re-runs) and ``merge``
:mod:`.record`                what a run leaves for ``merge`` (``grading_record.json``)
:mod:`.analysis`              item analysis: facility, discrimination, common wrong answers
:mod:`.text`                  text and file names made safe
============================  ==========================================================
"""
from .cli import main
from .execute import Limits
from .notebooks import collect_answers, load_submission, read_submission
from .results import Submission
from .run import grade
from .runner import kernel_argv

__all__ = ["main", "grade", "Limits", "Submission", "load_submission", "read_submission", "collect_answers",
           "kernel_argv"]
