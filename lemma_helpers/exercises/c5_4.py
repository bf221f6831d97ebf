"""Exercises of C5.4 (notebook 05, level-2 explanatory variables): education in context.

The expected answers are computed from the ESS hedonism data the check cell
passes (``ess=ess``): the rows with years of education known, the country mean
of ``eduyrs`` over those rows and the within-country deviation from it.
"""
from . import value_exercise


def _education_in_context(ess):
    from ..inference import fit_ols
    from ..model import fit

    de = ess.dropna(subset=["eduyrs"]).copy()
    de["edu_mean"] = de.groupby("country", observed=True)["eduyrs"].transform("mean")
    de["edu_cwc"] = de["eduyrs"] - de["edu_mean"]
    ml = fit("hedonism ~ edu_cwc + edu_mean + (1 | country)", data=de)
    ols = fit_ols("hedonism ~ edu_cwc + edu_mean", data=de)
    return ml, ols


@value_exercise("C5.4.edu_contextual", "the contextual effect of education", tol=5e-4, needs=("ess",),
                hint="with group-mean-centred education the coefficient of edu_cwc is the within effect "
                     "and that of edu_mean the between effect; the contextual effect is between minus within")
def _edu_contextual(ess):
    ml, _ = _education_in_context(ess)
    b = ml.fixed["estimate"]
    return float(b["edu_mean"] - b["edu_cwc"])


@value_exercise("C5.4.edu_mean_se", "the multilevel standard error of edu_mean", tol=5e-4, needs=("ess",),
                hint="read the std_err column of the multilevel model's fixed part (m.fixed), not the OLS one")
def _edu_mean_se(ess):
    ml, _ = _education_in_context(ess)
    return float(ml.fixed.loc["edu_mean", "std_err"])
