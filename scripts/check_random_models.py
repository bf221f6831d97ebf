"""Fit random two-level models and compare each optimum with L-BFGS (a maintainers' check).

    python scripts/check_random_models.py [FIRST LAST]      (seeds FIRST..LAST-1; default 0 300)

Each seed simulates data (5-59 groups of 1-14 rows; x scaled by 0.1, 1 or 10; random intercept,
slope and z-slope standard deviations from {0, 0.1, 0.5, 1}; a level-1 variance that doubles with a
0/1 variable b) and fits ``y ~ x + z + (random part | g)`` with 1, 2 or 3 random terms, by ML or REML,
with no level-1 function, ``~ 0 + C(b)`` or ``~ 1 + x``. The deviance ``lh.fit`` reaches is compared
with the lower of two L-BFGS runs on the same profiled deviance (from the identity and from near
``lh.fit``'s optimum). Prints every model where ``lh.fit`` ends more than 1e-6 higher or does not
report convergence ("bad"), and every converged model that took more than 60 evaluations ("slow").

Known: ``~ 1 + x`` on these data (whose level-1 variance does not depend on x) can reach a variance of
0 at a data point, where the likelihood has no maximum; those fits are "bad" for every optimiser and
the printed result says why. Not a test: it takes a few minutes for 300 seeds.
"""
from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
from scipy import optimize

import lemma_helpers as lh
from lemma_helpers.model.derivatives import deviance_and_gradient


def simulate(seed: int):
    rng = np.random.default_rng(seed)
    G = int(rng.integers(5, 60))
    g = np.repeat(np.arange(G), rng.integers(1, 15, G))
    n = g.size
    x = rng.normal(size=n) * rng.choice([0.1, 1, 10])
    z, b = rng.normal(size=n), (rng.random(n) > 0.5).astype(float)
    sd = rng.choice([0, 0.1, 0.5, 1.0], 3)
    y = (1 + 0.5 * x + rng.normal(0, sd[0], G)[g] + rng.normal(0, sd[1], G)[g] * x
         + rng.normal(0, sd[2], G)[g] * z + rng.normal(size=n) * (1 + b))
    q = int(rng.integers(1, 4))
    reml = bool(rng.random() < 0.3)
    level1 = [None, None, "~ 0 + C(b)", "~ 1 + x"][rng.integers(0, 4)]
    formula = f"y ~ x + z + ({['1', '1 + x', '1 + x + z'][q - 1]} | g)"
    return pd.DataFrame({"y": y, "x": x, "z": z, "b": b, "g": g}), formula, q, reml, level1


def check(seed: int):
    """(kind, text) for a bad or slow model, None for a good one."""
    data, formula, q, reml, level1 = simulate(seed)
    try:
        m = lh.fit(formula, data=data, reml=reml, level1=level1)
    except lh.LemmaError:
        return None
    st, spec = m._std[0], m._spec
    identity = np.r_[np.where(np.equal(*np.tril_indices(q)), 1.0, 0.0), np.zeros(len(m._opt.phi_free))]
    best = np.inf
    for start in (identity, np.r_[m._opt.theta, m._opt.phi_free] * 1.3 + 0.05):
        res = optimize.minimize(lambda t: deviance_and_gradient(st, t, reml, spec), start, jac=True,
                                method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 20000,
                                                            "maxfun": 40000})
        best = min(best, res.fun)
    text = (f"seed {seed}: {formula} reml={reml} level1={level1} rows={m.n_obs} groups={m.n_groups} "
            f"evaluations={m._opt.n_evals} gap={m._opt.deviance - best:.2g} ({m._opt.message})")
    if m._opt.deviance > best + 1e-6 or not m.converged:
        return "bad", text
    if m._opt.n_evals > 60:
        return "slow", text
    return None


def main(argv: list) -> int:
    first, last = (int(argv[0]), int(argv[1])) if len(argv) >= 2 else (0, 300)
    counts = {"bad": 0, "slow": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the fits' own warnings (boundary estimates)
        for seed in range(first, last):
            found = check(seed)
            if found:
                counts[found[0]] += 1
                print(found[0], found[1], flush=True)
    print(f"{last - first} seeds: {counts['bad']} bad, {counts['slow']} slow")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
