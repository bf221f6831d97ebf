"""Exercises of 5.6 (notebook 07, summary): one more step in building a model.

The expected answer is computed from the common sample the check cell passes
(``d=d``: respondents with age, gender and income known), restricted to the
rows where years of education is known too.
"""
from . import value_exercise

_M4 = "hedonism ~ age46 + female + income + income_mean + (1 + age46 | country)"
_M4_EDU = "hedonism ~ age46 + female + income + income_mean + edu12 + (1 + age46 | country)"


@value_exercise("C5.6.edu_lr", "the LR statistic for adding edu12 to M4", tol=0.05, needs=("d",),
                hint="refit M4 on the rows with eduyrs known too, so that both models use the same rows, "
                     "then take .statistic of lh.lr_test(M4 refitted, M4 + edu12)")
def _edu_lr(d):
    from ..inference import lr_test
    from ..model import fit

    de = d.dropna(subset=["age", "female", "income", "eduyrs"]).copy()
    de["age46"] = de["age"] - 46
    de["edu12"] = de["eduyrs"] - 12
    return float(lr_test(fit(_M4, data=de), fit(_M4_EDU, data=de)).statistic)
