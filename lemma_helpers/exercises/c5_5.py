"""Exercises of C5.5 (notebook 06, complex level-1 variation): a level-1 variance function of education.

The expected answers are computed from the ESS hedonism data the check cell
passes (``ess=ess``), on the rows with age and years of education known.
"""
from . import value_exercise


def _education_variance_models(ess):
    from ..model import fit

    de = ess.dropna(subset=["age", "eduyrs"]).copy()
    de["age46"] = de["age"] - 46
    de["edu12"] = de["eduyrs"] - 12
    const = fit("hedonism ~ age46 + edu12 + (1 | country)", data=de)
    func = fit("hedonism ~ age46 + edu12 + (1 | country)", data=de, level1="~ 1 + edu12")
    return const, func


@value_exercise("C5.5.edu_lr", "the LR statistic for the level-1 variance function of edu12", tol=0.05,
                needs=("ess",),
                hint="fit the constant-variance model and the one with level1=\"~ 1 + edu12\" on the same rows, "
                     "and take .statistic of lh.lr_test(constant, function)")
def _edu_lr(ess):
    from ..inference import lr_test

    const, func = _education_variance_models(ess)
    return float(lr_test(const, func).statistic)


@value_exercise("C5.5.l1_var_at_8", "the level-1 variance at 8 years of education", tol=5e-4, needs=("ess",),
                hint="8 years of education is edu12 = -4; evaluate the level-1 variance function there "
                     "(m.level1_variance or m.vpc)")
def _l1_var_at_8(ess):
    _, func = _education_variance_models(ess)
    return float(func.level1_variance(edu12=-4)[0])
