"""Exercises of practical P5.5 (complex level-1 variation)."""
import numpy as np

from .. import answers as A
from . import model_exercise, value_exercise

_FULL = {"response": "score", "fixed": ["cohort90", "female", "sclass", "schtype", "schurban", "schdenom"],
         "random": ["cohort90"], "group": "schoolid", "reference": {"sclass": "working"}}

_m_l1 = model_exercise("P5.5.m_l1", level1="~ 1 + cohort90", **_FULL)
_m_sex = model_exercise("P5.5.m_sex", level1="~ 0 + C(female)", **_FULL)


_lr_stat = value_exercise("P5.5.lr_stat", "the LR statistic", tol=0.01, needs=("m_full", "m_l1"), answer=A.lr,
                          hint="lh.lr_test(smaller model, bigger model)")


@value_exercise("P5.5.v1", "the level-1 variances", tol=0.01, needs=("m_l1",),
                hint="the middle term is 2 x covariance x cohort90")
def _v1(m_l1):
    return np.asarray(m_l1.level1_variance(cohort90=[-6, -4, -2, 0, 6, 8]), dtype=float)
