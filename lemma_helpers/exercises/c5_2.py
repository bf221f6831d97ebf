"""Exercises of concept section C5.2 (notebook 03_random_intercepts): random intercept models."""
from . import value_exercise


@value_exercise("C5.2.predict", "the predicted hedonism of a 30-year-old woman in the average country",
                tol=5e-4, needs=("m_sex",),
                hint="in the average country u_j = 0; use the intercept, the age46 coefficient times "
                     "(30 - 46) and the female coefficient times 1")
def _predict(m_sex):
    b = m_sex.fixed["estimate"]
    return float(b["Intercept"] + b["age46"] * (30 - 46) + b["female"])
