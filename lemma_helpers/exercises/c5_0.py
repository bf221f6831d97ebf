"""Exercises of the start notebook (00_start) and of section 5.0 (notebook 01_why_multilevel)."""
from . import value_exercise


@value_exercise("start.exam_largest", "the number of pupils in the largest Exam school", tol=0.5,
                needs=("exam",), hint="count the rows of each school with groupby(...).size(), then take the largest")
def _exam_largest(exam):
    return int(exam.groupby("school", observed=True).size().max())


@value_exercise("C5.0.n_eff", "the effective sample size", tol=0.5,
                hint="first the design effect 1 + (n - 1) x rho with n = 25 pupils per school, then divide "
                     "the 1,000 pupils by it")
def _n_eff():
    return 40 * 25 / (1 + (25 - 1) * 0.15)
