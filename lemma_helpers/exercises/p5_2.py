"""Exercises of practical P5.2 Random intercepts (notebook 09)."""
from . import model_exercise, value_exercise

model_exercise("P5.2.m1", response="score", fixed=["cohort90"], group="schoolid")


@value_exercise("P5.2.red_u", "the reduction in the between-school variance", tol=5e-4, needs=("m0", "m1"),
                hint="a proportion of the null-model variance, between 0 and 1: subtract, then divide by m0's variance")
def _red_u(m0, m1):
    return 1 - m1.level2_cov.iloc[0, 0] / m0.level2_cov.iloc[0, 0]


@value_exercise("P5.2.red_e", "the reduction in the within-school variance", tol=5e-4, needs=("m0", "m1"),
                hint="the same calculation with the level-1 variances (level1_var)")
def _red_e(m0, m1):
    return 1 - m1.level1_var / m0.level1_var


@value_exercise("P5.2.vpc", "the residual VPC", tol=5e-4, needs=("m1",),
                hint="use the two variances of m1, not of m0")
def _vpc(m1):
    return float(m1.vpc())


@value_exercise("P5.2.lr", "the LR statistic", tol=0.01, needs=("m0", "m1"),
                hint="lh.lr_test(smaller model, bigger model)")
def _lr(m0, m1):
    return 2 * (m1.loglik - m0.loglik)


model_exercise("P5.2.m2", response="score", fixed=["cohort90", "female"], group="schoolid")
