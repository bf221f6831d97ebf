"""Exercises of practical P5.3 Random slopes (notebook 10)."""
from .. import answers as A
from . import model_exercise, value_exercise

COHORTS = [-6, -4, -2, 0, 6, 8]
CLASSES = ["managerial", "intermediate", "working", "unclassified"]

_m2 = model_exercise("P5.3.m2", response="score", fixed=["cohort90"], random=["cohort90"], group="schoolid")


_lr_slope = value_exercise("P5.3.lr_slope", "the LR statistic", tol=0.01, needs=("m1", "m2"), answer=A.lr,
                           hint="twice the difference: 2 x (log-likelihood of the bigger model - that of the smaller one)")


@value_exercise("P5.3.df_slope", "the degrees of freedom", tol=0.5, needs=("m1", "m2"),
                hint="count the new parameters in the level-2 covariance matrix")
def _df_slope(m1, m2):
    return _n_cov(m2) - _n_cov(m1)


def _n_cov(m):
    """Number of distinct parameters in the level-2 covariance matrix."""
    q = m.level2_cov.shape[0]
    return q * (q + 1) // 2


@value_exercise("P5.3.v_cohort", "the between-school variances", tol=0.01, needs=("m2",),
                hint="the covariance term is 2 x covariance x cohort90")
def _v_cohort(m2):
    return m2.level2_variance(cohort90=COHORTS)


_m3 = model_exercise("P5.3.m3", response="score", fixed=["cohort90", "female"], random=["cohort90"],
               group="schoolid")
_m4 = model_exercise("P5.3.m4", response="score", fixed=["cohort90", "female"], random=["cohort90", "female"],
               group="schoolid")
_m5 = model_exercise("P5.3.m5", response="score", fixed=["cohort90", "female", "sclass"],
               random=["cohort90", "sclass"], group="schoolid", reference={"sclass": "working"})


@value_exercise("P5.3.v_class", "the between-school variances by class", tol=0.01, needs=("m5",),
                hint="set cohort90=0 and give the four class names")
def _v_class(m5):
    d = m5.level2_cov
    out = []
    for c in CLASSES:
        if c == "working":       # the reference class: the intercept variance
            out.append(d.loc["Intercept", "Intercept"])
        else:
            t = f"sclass[T.{c}]"
            out.append(d.loc["Intercept", "Intercept"] + 2 * d.loc["Intercept", t] + d.loc[t, t])
    return out
