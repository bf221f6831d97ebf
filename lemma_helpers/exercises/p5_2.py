"""Exercises of practical P5.2 Random intercepts (notebook 09)."""
from .. import answers as A
from . import model_exercise, value_exercise

_m1 = model_exercise("P5.2.m1", response="score", fixed=["cohort90"], group="schoolid")

_red_u = value_exercise(
    "P5.2.red_u", "the reduction in the between-school variance", tol=5e-4, needs=("m0", "m1"),
    answer=A.reduction_level2,
    hint="a proportion of the null-model variance, between 0 and 1: subtract, then divide by m0's variance")

_red_e = value_exercise("P5.2.red_e", "the reduction in the within-school variance", tol=5e-4, needs=("m0", "m1"),
                        answer=A.reduction_level1,
                        hint="the same calculation with the level-1 variances (level1_var)")

_vpc = value_exercise("P5.2.vpc", "the residual VPC", tol=5e-4, needs=("m1",), answer=A.vpc,
                      hint="use the two variances of m1, not of m0")

_lr = value_exercise("P5.2.lr", "the LR statistic", tol=0.01, needs=("m0", "m1"), answer=A.lr,
                     hint="lh.lr_test(smaller model, bigger model)")

_m2 = model_exercise("P5.2.m2", response="score", fixed=["cohort90", "female"], group="schoolid")
