"""Tests and single-level comparisons: likelihood ratio and Wald tests, OLS, design effects."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._validation import LemmaError, check_dataframe, check_formula_first
from .model import MultilevelResult
from .model.blas import with_one_blas_thread

__all__ = ["lr_test", "wald_test", "fit_ols", "design_effect", "OLSResult", "TestResult"]


@dataclass(frozen=True)
class TestResult:
    """The outcome of a test: statistic, degrees of freedom, p-value and how it was computed."""

    statistic: float
    df: float
    p_value: float
    method: str
    note: str = ""

    def __repr__(self) -> str:
        text = f"{self.method}: statistic = {self.statistic:.2f} on {self.df:g} df, {_p(self.p_value)}"
        return text + (f"\n{self.note}" if self.note else "")

    def _repr_html_(self) -> str:
        import html
        return "<p>" + html.escape(repr(self)).replace("\n", "<br>") + "</p>"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"statistic": self.statistic, "df": self.df,
                              "p_value": self.p_value, "method": self.method}])


def _p(p: float) -> str:
    """'p = ...' for a test result; a p-value too small for a float to hold prints as 'p < 1e-300'."""
    if p < 1e-300:                 # chi2.sf underflows to 0 (or a denormal) for huge statistics
        return "p < 1e-300"
    return f"p = {p:.3g}" if p >= 1e-4 else f"p = {p:.2e}"


@dataclass(frozen=True)
class OLSResult:
    """A single-level regression fitted by ordinary least squares (statsmodels)."""

    formula: str
    fixed: pd.DataFrame = field(repr=False)
    loglik: float
    n_obs: int
    n_params: int
    sigma2: float
    cov_type: str
    sample_id: str = field(repr=False)
    n_dropped: int = 0

    @property
    def deviance(self) -> float:
        return -2 * self.loglik

    @property
    def aic(self) -> float:
        return self.deviance + 2 * self.n_params

    reml = False

    def __repr__(self) -> str:
        lines = [f"Single-level regression (OLS, {self.cov_type} standard errors): {self.formula}",
                 f"{self.n_obs:,} observations", "", self.fixed.round(4).to_string(), "",
                 f"Residual variance: {self.sigma2:.4f}    -2 log-likelihood: {self.deviance:,.2f}"]
        return "\n".join(lines)


@with_one_blas_thread
def fit_ols(formula: str, data: pd.DataFrame, *, cluster: str | None = None) -> OLSResult:
    """Fit a single-level linear regression by OLS, ignoring (or correcting for) clustering.

    Parameters
    ----------
    formula : str
        A patsy formula without a random part, e.g. ``'hedonism ~ age'``.
    cluster : str, optional
        A grouping column: cluster-robust standard errors (a marginal-model
        correction for clustering) instead of the naive ones.

    Notes
    -----
    The log-likelihood is the maximum-likelihood one (residual variance RSS/n),
    so it can be compared with :func:`lh.fit` ML fits in :func:`lr_test`.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> ols = lh.fit_ols("normexam ~ 1", data=lh.load_dataset("exam"))
    >>> round(ols.deviance, 2)
    11509.37
    """
    import statsmodels.formula.api as smf

    check_formula_first(formula, data, "lh.fit_ols")
    check_dataframe(data)
    if "|" in formula:
        raise LemmaError(f"{formula!r} has a random part; fit it with lh.fit(). lh.fit_ols fits single-level models.")
    from .model.design import _dmatrix, sample_fingerprint

    y_df, X_df = _dmatrix(formula, data, lhs=True)
    rows = y_df.index.intersection(X_df.index, sort=False)
    if cluster is not None:
        from ._validation import check_columns
        check_columns(data, [cluster])
        rows = rows[data.loc[rows, cluster].notna().to_numpy()]
    sub = data.loc[data.index.isin(rows)]
    model = smf.ols(formula, data=sub, eval_env=0)
    if cluster is None:
        res = model.fit(method="qr")
        cov_type = "naive"
    else:
        groups = pd.factorize(sub[cluster])[0]
        res = model.fit(method="qr", cov_type="cluster", cov_kwds={"groups": groups})
        cov_type = f"cluster-robust by {cluster}"
    ci = res.conf_int()
    fixed = pd.DataFrame({"estimate": res.params, "std_err": res.bse, "z": res.tvalues,
                          "p_value": res.pvalues, "ci_lower": ci[0], "ci_upper": ci[1]})
    fixed.index.name = "term"
    return OLSResult(formula=formula, fixed=fixed, loglik=float(res.llf), n_obs=int(res.nobs),
                     n_params=int(len(res.params)) + 1, sigma2=float(res.ssr / res.nobs),
                     cov_type=cov_type, sample_id=sample_fingerprint(sub.index, model.endog),
                     n_dropped=len(data) - len(sub))


def _random_set(m) -> set:
    return set(m.random_terms) if isinstance(m, MultilevelResult) else set()


def lr_test(small, big, *, boundary: str | bool = "auto") -> TestResult:
    """Likelihood ratio test of a model against a larger model that contains it.

    Parameters
    ----------
    small, big : fitted models
        From :func:`lh.fit` or :func:`lh.fit_ols`, on the same rows.
    boundary : {'auto', True, False}
        A test of a variance sits on the boundary of the parameter space (a
        variance cannot be negative), so the plain chi-square p-value is too
        large. With ``'auto'`` the 50:50 mixture of chi-squares is used when
        ``big`` adds exactly one random term to ``small`` and nothing else.

    Notes
    -----
    LR = 2 (log L_big - log L_small), compared with chi-square on df = the
    number of extra parameters. Adding a random term to a random part with q
    terms adds q + 1 parameters (a variance and q covariances); the boundary
    p-value is 0.5 P(chi2_q > LR) + 0.5 P(chi2_{q+1} > LR).

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> exam = lh.load_dataset("exam")
    >>> ols = lh.fit_ols("normexam ~ 1", data=exam)
    >>> m = lh.fit("normexam ~ 1 + (1 | school)", data=exam)
    >>> round(lh.lr_test(ols, m).statistic, 2)
    498.72
    """
    for name, m in (("small", small), ("big", big)):
        if not isinstance(m, (MultilevelResult, OLSResult)):
            raise TypeError(f"{name} must be a fitted model from lh.fit or lh.fit_ols, got {type(m).__name__}.")
    if small.n_obs != big.n_obs or small.sample_id != big.sample_id:
        raise LemmaError(
            f"The two models were fitted on different rows ({small.n_obs:,} and {big.n_obs:,} "
            "observations), so their likelihoods cannot be compared. This usually happens when "
            "the larger model uses a variable with missing values. Fit both models on the same "
            "rows, e.g. data.dropna(subset=[...the variables of the larger model...]).")
    if small.reml != big.reml:
        raise LemmaError("One model is a REML fit and the other an ML fit; refit both the same way (reml=False).")
    if big.reml or small.reml:
        fs = list(getattr(small, "fixed_terms", small.fixed.index))
        fb = list(getattr(big, "fixed_terms", big.fixed.index))
        if fs != fb:
            raise LemmaError(
                "REML likelihoods of models with different fixed parts are not comparable (REML "
                "removes the fixed part before estimating). Refit both with reml=False (ML) to "
                "test fixed effects.")
    df = big.n_params - small.n_params
    if df <= 0:
        if df == 0:
            raise LemmaError(
                f"Both models have {big.n_params} parameters, so there is nothing to test: lh.lr_test(small, big) "
                "compares a model with a bigger one that contains it (one more term, say).")
        raise LemmaError(
            f"The simpler model goes first: lh.lr_test(small, big). The second model you passed has "
            f"{big.n_params} parameters and the first has {small.n_params}, so swap them.")
    stat = max(2 * (big.loglik - small.loglik), 0.0)
    q_small = len(_random_set(small))
    adds_one = (_random_set(small) <= _random_set(big) and len(_random_set(big)) == q_small + 1
                and df == q_small + 1
                and list(getattr(small, "fixed_terms", small.fixed.index)) ==
                list(getattr(big, "fixed_terms", big.fixed.index)))
    use_boundary = adds_one if boundary == "auto" else bool(boundary)
    if use_boundary:
        lo = sps.chi2.sf(stat, df - 1) if df > 1 else float(stat <= 0)
        p = 0.5 * lo + 0.5 * sps.chi2.sf(stat, df)
        method = f"Likelihood ratio test, boundary-corrected (50:50 mixture of chi2({df - 1}) and chi2({df}))"
        note = ("A variance cannot be negative, so the test sits on the boundary of what the "
                "parameters can be and the usual chi-square p-value is too large; this p-value uses "
                "the mixture instead" + (" (for 1 df: half the usual p-value)." if df == 1 else "."))
    else:
        p = sps.chi2.sf(stat, df)
        method = f"Likelihood ratio test (chi-square, {df} df)"
        note = ""
    return TestResult(statistic=float(stat), df=float(df), p_value=float(p), method=method, note=note)


def wald_test(m, terms: list | str, *, test: str = "z") -> TestResult:
    """Wald test that one or several fixed effects are all zero.

    Parameters
    ----------
    m : MultilevelResult or OLSResult
    terms : str or list of str
        Fixed-part term names (as in ``m.fixed.index``), e.g. all the dummies of
        one categorical variable. A prefix such as ``'sclass'`` selects every
        term that starts with it.

    Notes
    -----
    W = b' V^-1 b for the estimates b and their covariance V, compared with
    chi-square on as many df as terms.
    """
    names = list(m.fixed.index)
    if isinstance(terms, str):
        chosen = [t for t in names if t == terms] or [t for t in names if t.startswith(terms)]
    else:
        chosen = list(terms)
    if not chosen:
        from ._validation import unknown_name
        raise unknown_name("fixed term", terms, names)
    missing = [t for t in chosen if t not in names]
    if missing:
        from ._validation import unknown_name
        raise unknown_name("fixed term", missing[0], names)
    idx = [names.index(t) for t in chosen]
    if isinstance(m, MultilevelResult):
        cov = m._cov_beta[np.ix_(idx, idx)]
    else:
        raise LemmaError("wald_test needs a model fitted with lh.fit.")
    b = m.fixed["estimate"].to_numpy()[idx]
    stat = float(b @ np.linalg.solve(cov, b))
    p = float(sps.chi2.sf(stat, len(idx)))
    return TestResult(statistic=stat, df=float(len(idx)), p_value=p,
                      method=f"Wald test of {', '.join(chosen)} = 0 (chi-square, {len(idx)} df)")


def design_effect(n: float, rho: float) -> float:
    """Design effect 1 + (n - 1) rho: how much clustering inflates the variance of a mean.

    ``n`` is the (average) group size and ``rho`` the intra-class correlation
    (the VPC). The standard error is inflated by the square root of this.

    Examples
    --------
    >>> round(design_effect(1826, 0.0921), 1)
    169.1
    """
    if n < 1:
        raise LemmaError(f"The group size n must be at least 1, got {n}.")
    if not 0 <= rho <= 1:
        raise LemmaError(f"rho is a correlation between 0 and 1 here (the VPC), got {rho}.")
    return 1 + (n - 1) * rho
