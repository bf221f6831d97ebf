"""Exercises of C5.3 (notebook 04, random slope models): a random slope for education.

The expected answers are computed from the ESS hedonism data the check cell
passes (``ess=ess``), with the models the exercise asks for.
"""
from . import value_exercise


def _education_models(ess):
    from ..model import fit

    de = ess.dropna(subset=["age", "eduyrs"]).copy()
    de["age46"] = de["age"] - 46
    de["edu12"] = de["eduyrs"] - 12
    ri = fit("hedonism ~ age46 + edu12 + (1 | country)", data=de)
    rs = fit("hedonism ~ age46 + edu12 + (1 + edu12 | country)", data=de)
    return ri, rs


@value_exercise("C5.3.edu_slope_lr", "the LR statistic for the random slope of edu12", tol=0.05, needs=("ess",),
                hint="fit both models on the same rows (age and eduyrs known) and take .statistic "
                     "of lh.lr_test(random intercept model, random slope model)")
def _edu_slope_lr(ess):
    from ..inference import lr_test

    ri, rs = _education_models(ess)
    return float(lr_test(ri, rs).statistic)


@value_exercise("C5.3.var_at_18", "the between-country variance at 18 years of education", tol=5e-4,
                needs=("ess",),
                hint="18 years of education is edu12 = 6; evaluate the random slope model's level-2 "
                     "variance function there (m.level2_variance or m.vpc)")
def _var_at_18(ess):
    _, rs = _education_models(ess)
    return float(rs.level2_variance(edu12=6)[0])
