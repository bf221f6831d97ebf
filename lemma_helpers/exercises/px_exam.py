"""Exercises of practical P5.6 Practice on new data: the Exam data (notebook 13)."""
from .. import answers as A
from . import model_exercise, value_exercise

_m0 = model_exercise("P5.6.m0", response="normexam", fixed=[], group="school")


_vpc = value_exercise("P5.6.vpc", "the VPC", tol=5e-4, needs=("m0",), answer=A.vpc,
                      hint="the school variance divided by the sum of the school and pupil variances")


_m1 = model_exercise("P5.6.m1", response="normexam", fixed=["standlrt"], group="school")


_red_u = value_exercise(
    "P5.6.red_u", "the reduction in the between-school variance", tol=5e-4, needs=("m0", "m1"),
    answer=A.reduction_level2,
    hint="a proportion between 0 and 1: subtract the new variance from the old one, then divide by the old one")


_m2 = model_exercise("P5.6.m2", response="normexam", fixed=["standlrt"], random=["standlrt"], group="school")


_lr_slope = value_exercise("P5.6.lr_slope", "the LR statistic", tol=0.01, needs=("m1", "m2"), answer=A.lr,
                           hint="twice the difference: 2 x (log-likelihood of the bigger model - that of the smaller one)")


@value_exercise("P5.6.v_school", "the between-school variances", tol=5e-4, needs=("m2",),
                hint="the middle term is 2 x covariance x standlrt, and the last one uses standlrt squared")
def _v_school(m2):
    return m2.level2_variance(standlrt=[-2, -1, 0, 1, 2])


_M3 = {"response": "normexam", "fixed": ["standlrt", "female", "schgend"], "random": ["standlrt"],
       "group": "school"}
_m3 = model_exercise("P5.6.m3", **_M3)
_m4 = model_exercise("P5.6.m4", level1="~ 0 + C(female)", **_M3)
