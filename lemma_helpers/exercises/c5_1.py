"""Exercises of concept section C5.1 (notebook 02_comparing_groups): the variance components model."""
from . import value_exercise


@value_exercise("C5.1.country_mean", "the model's estimate of France's mean hedonism", tol=5e-4, needs=("m0",),
                hint="add France's shrunken country effect (the 'effect' column of m0.group_effects()) "
                     "to the estimated overall mean (the intercept)")
def _country_mean(m0):
    return float(m0.fixed.loc["Intercept", "estimate"] + m0.group_effects().loc["France", "effect"])
