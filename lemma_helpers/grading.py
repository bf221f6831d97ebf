"""``lemma-grade``'s entry point (``lemma_helpers.grading:main``); the grader is :mod:`lemma_helpers.grade`."""
import sys

from .grade import Limits, Submission, collect_answers, grade, kernel_argv, load_submission, main, read_submission

__all__ = ["main", "grade", "Limits", "Submission", "load_submission", "read_submission", "collect_answers",
           "kernel_argv"]

if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
