"""Exercises of practical P5.1 Comparing schools (notebook 08)."""
from .. import answers as A
from . import model_exercise, value_exercise


@value_exercise("P5.1.sizes", "the number of students in each school", tol=0.5, needs=("df",),
                hint="group the rows by schoolid (observed=True) and take the size() of each group")
def _sizes(df):
    return df.groupby("schoolid", observed=True).size().to_numpy()


_m0 = model_exercise("P5.1.m0", response="score", group="schoolid")

_vpc = value_exercise("P5.1.vpc", "the VPC", tol=5e-4, needs=("m0",), answer=A.vpc,
                      hint="divide the between-school variance by the sum of both variances")

_lr = value_exercise("P5.1.lr", "the LR statistic", tol=0.01, needs=("ols", "m0"), answer=A.lr,
                     hint="twice the difference: 2 x (two-level log-likelihood - single-level log-likelihood)")


@value_exercise("P5.1.n_above", "the number of schools above average", tol=0.5, needs=("m0",),
                hint="a school is above average when the lower end of its interval is above 0")
def _n_above(m0):
    return int((m0.group_effects()["ci_lower"] > 0).sum())


@value_exercise("P5.1.n_below", "the number of schools below average", tol=0.5, needs=("m0",),
                hint="a school is below average when the upper end of its interval is below 0")
def _n_below(m0):
    return int((m0.group_effects()["ci_upper"] < 0).sum())
