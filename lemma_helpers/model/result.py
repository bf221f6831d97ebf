"""The result of ``lh.fit``: a :class:`MultilevelResult` that reads like a published table.

Its tables are computed when first asked for: the fixed part from the GLS estimates
(``likelihood.py``), the random part's standard errors from the exact Hessian
(``derivatives.py``), group effects, predictions and variance functions.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
# normal and t distribution functions from scipy.special (what scipy.stats computes them with):
# importing scipy.stats would add half a second to the first fit of every notebook
from scipy.special import ndtr, ndtri, stdtr, stdtrit

from .._validation import LemmaError, check_dataframe, unknown_name
from .blas import one_blas_thread, with_one_blas_thread
from .derivatives import variance_derivatives
from .design import rebuild, sample_fingerprint
from .display import Equation, equation_latex, result_html, result_text
from .likelihood import gls, group_effects, level1_weights, pieces

__all__ = ["MultilevelResult"]

_TESTS = ("z", "satterthwaite", "between-within")


def _pairs(names: list):
    """Names and (row, col) of the elements of a covariance matrix, variances first in each row."""
    out = []
    for i in range(len(names)):
        for j in range(i + 1):
            out.append((i, j, f"var({names[i]})" if i == j else f"cov({names[j]}, {names[i]})"))
    return out



def _variables(info) -> list:
    """The data columns a patsy design uses (e.g. 'age' in 'I(age - 46)')."""
    import ast

    names = []
    for factor in info.factor_infos:
        tree = ast.parse(factor.name())
        called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and id(node) not in called and node.id not in ("np", "Treatment", "Sum"):
                if node.id not in names:
                    names.append(node.id)
    return names


class MultilevelResult:
    """A fitted two-level model. Immutable; tables are computed when first asked for.

    Attributes
    ----------
    loglik, deviance, aic, bic : float
        Log-likelihood (REML criterion for REML fits), -2 log-likelihood, AIC, BIC.
    n_obs, n_groups : int
    fixed : DataFrame
        ``estimate, std_err, z, p_value, ci_lower, ci_upper`` per fixed term.
    level2_cov : DataFrame
        Covariance matrix of the random effects.
    level1_var : float
        Level-1 variance (models without ``level1=``).
    level1_cov : DataFrame
        Coefficients of the level-1 variance function (models with ``level1=``).
    """

    def __init__(self, *, design, stats, std, T, phi, spec, reml, formula, level1, reference, optimum,
                 data=None):
        d = self.__dict__
        # _data: the DataFrame given to lh.fit (a reference, not a copy), so that plots need not ask
        # for it again; plotting checks that its fitted rows are unchanged before using it.
        d.update(design=design, _stats=stats, _std=std, _T=T, _phi=phi, _spec=spec, reml=reml,
                 formula=formula, level1=level1, reference=reference, _opt=optimum, _data=data)
        beta, cov, sigma2, pc, dev = gls(stats, T, phi, reml)
        d.update(_beta=beta, _cov_beta=cov, _sigma2=float(sigma2), _pieces=pc, deviance=float(dev))

    def __setattr__(self, name, value):
        raise AttributeError("A fitted model is read-only: fit a new model to change it.")

    # ---- basic facts ---------------------------------------------------------
    @property
    def loglik(self) -> float:
        return -self.deviance / 2

    @property
    def n_obs(self) -> int:
        return int(self.design.y.shape[0])

    @property
    def n_groups(self) -> int:
        return len(self.design.group_names)

    @property
    def n_dropped(self) -> int:
        return int(self.design.n_dropped)

    @property
    def n_params(self) -> int:
        """Number of estimated parameters (fixed effects plus variance parameters)."""
        return len(self._beta) + len(self._var_names)

    @property
    def aic(self) -> float:
        return self.deviance + 2 * self.n_params

    @property
    def bic(self) -> float:
        return self.deviance + np.log(self.n_obs) * self.n_params

    @property
    def converged(self) -> bool:
        return bool(self._opt.converged)

    @property
    def group(self) -> str:
        return self.design.group

    @property
    def fixed_terms(self) -> list:
        return list(self.design.fixed_names)

    @property
    def random_terms(self) -> list:
        return list(self.design.random_names)

    # ---- variance parameters -------------------------------------------------
    @functools.cached_property
    def _D(self) -> np.ndarray:
        return self._sigma2 * self._T

    @functools.cached_property
    def _Omega(self):
        if self._phi is None:
            return None
        m = len(self.design.level1_names)
        full = np.zeros((m, m))
        iu = np.triu_indices(m)
        full[iu] = self._sigma2 * self._phi
        return full + np.triu(full, 1).T

    @property
    def level2_cov(self) -> pd.DataFrame:
        names = self.random_terms
        return pd.DataFrame(self._D, index=names, columns=names)

    @property
    def level1_var(self) -> float:
        if self._phi is not None:
            raise LemmaError(
                "This model has a level-1 variance function (level1=...), so there is no single "
                "level-1 variance: use m.level1_cov for its coefficients or "
                "m.level1_variance(x=...) for its value at chosen x.")
        return self._sigma2

    @property
    def level1_cov(self) -> pd.DataFrame:
        if self._Omega is None:
            return pd.DataFrame([[self._sigma2]], index=["Intercept"], columns=["Intercept"])
        names = self.design.level1_names
        return pd.DataFrame(self._Omega, index=names, columns=names)

    @functools.cached_property
    def _var_names(self) -> list:
        names = [("level 2", n) for *_, n in _pairs(self.random_terms)]
        if self._spec is None:
            names.append(("level 1", "var(residual)"))
        else:
            pairs = {(j, i): n for i, j, n in _pairs(self.design.level1_names)}
            iu = np.triu_indices(len(self.design.level1_names))
            names += [("level 1", pairs[(iu[0][k], iu[1][k])]) for k in self._spec.free]
        return names

    def _var_vector_std(self):
        """Variance parameters on the rescaled variables (where the Hessian is well scaled)."""
        std_stats, N, Mx, Mz, ysd, s1 = self._std
        D_s = Mz @ self._D @ Mz.T / ysd ** 2
        vec = [D_s[i, j] for i, j, _ in _pairs(self.random_terms)]
        if self._spec is None:
            vec.append(self._sigma2 / ysd ** 2)
        else:
            iu = np.triu_indices(len(s1))
            om = self._sigma2 * self._phi * s1[iu[0]] * s1[iu[1]] / ysd ** 2
            vec += list(om[self._spec.free])
        return np.array(vec)

    def _unpack_std(self, vec):
        q = len(self.random_terms)
        D = np.zeros((q, q))
        pairs = _pairs(self.random_terms)
        for (i, j, _), v in zip(pairs, vec):
            D[i, j] = D[j, i] = v
        rest = np.asarray(vec[len(pairs):])
        if self._spec is None:
            return D, rest, 0
        om = np.zeros(self._spec.m * (self._spec.m + 1) // 2)
        om[self._spec.free] = rest
        return D, om, self._spec.scale_index

    def _std_to_orig(self, vec):
        std_stats, N, Mx, Mz, ysd, s1 = self._std
        D_s, om, _ = self._unpack_std(vec)
        Mz_inv = np.linalg.inv(Mz)
        D = Mz_inv @ D_s @ Mz_inv.T * ysd ** 2
        out = [D[i, j] for i, j, _ in _pairs(self.random_terms)]
        if self._spec is None:
            out.append(om[0] * ysd ** 2)
        else:
            iu = np.triu_indices(len(s1))
            out += list((om / (s1[iu[0]] * s1[iu[1]]) * ysd ** 2)[self._spec.free])
        return np.array(out)

    @functools.cached_property
    def _var_hessian(self):
        """Hessian of the deviance in the rescaled variance parameters (exact; see the engine)."""
        x0 = self._var_vector_std()
        D, om, _ = self._unpack_std(x0)
        free = [0] if self._spec is None else list(self._spec.free)
        with one_blas_thread():
            out = variance_derivatives(self._std[0], D, om, free, self.reml)
        return np.full((len(x0), len(x0)), np.nan) if out is None else out[2]

    @functools.cached_property
    def _var_cov_std(self):
        H = self._var_hessian
        try:
            cov = 2 * np.linalg.inv(H)
        except np.linalg.LinAlgError:
            return np.full_like(H, np.nan)
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
            return np.full_like(H, np.nan)
        return cov

    @functools.cached_property
    def random(self) -> pd.DataFrame:
        """The random part: one row per variance parameter with estimate and std_err.

        Standard errors come from the observed information (the curvature of the
        log-likelihood at its maximum); they are NaN at a boundary (a variance of 0).
        """
        x0 = self._var_vector_std()
        m = len(x0)
        J = np.empty((m, m))
        base = self._std_to_orig(np.zeros(m))
        for k in range(m):
            e = np.zeros(m); e[k] = 1.0
            J[:, k] = self._std_to_orig(e) - base
        cov = J @ self._var_cov_std @ J.T
        est = self._std_to_orig(x0)
        idx = pd.MultiIndex.from_tuples(self._var_names, names=["level", "parameter"])
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        return pd.DataFrame({"estimate": est, "std_err": se}, index=idx)

    # ---- fixed part ----------------------------------------------------------
    @functools.cached_property
    def fixed(self) -> pd.DataFrame:
        """Fixed part with z tests (as MLwiN reports them) and 95% confidence intervals."""
        return self.fixed_effects("z")

    def fixed_effects(self, test: str = "z", *, alpha: float = 0.05) -> pd.DataFrame:
        """Fixed-effect table with a choice of test.

        Parameters
        ----------
        test : {'z', 'satterthwaite', 'between-within'}
            ``'z'`` compares estimate/std_err with the standard normal (MLwiN,
            large samples). The others use a t distribution with small-sample
            degrees of freedom: Satterthwaite's approximation (as lmerTest) or
            the between-within rule (level-2 terms get groups - #level-2 terms df).
            With few groups (20 countries) the t tests are the honest choice for
            level-2 variables.
        """
        if test not in _TESTS:
            raise unknown_name("test", test, _TESTS)
        est = self._beta
        se = np.sqrt(np.diag(self._cov_beta))
        stat = est / se
        out = pd.DataFrame({"estimate": est, "std_err": se}, index=pd.Index(self.fixed_terms, name="term"))
        if test == "z":
            crit = ndtri(1 - alpha / 2)
            out["z"] = stat
            out["p_value"] = 2 * ndtr(-np.abs(stat))
        else:
            df = self._satterthwaite_df() if test == "satterthwaite" else self._between_within_df()
            crit = stdtrit(df, 1 - alpha / 2)
            out["df"] = df
            out["t"] = stat
            out["p_value"] = 2 * stdtr(df, -np.abs(stat))
        out["ci_lower"] = est - crit * se
        out["ci_upper"] = est + crit * se
        return out

    def _between_within_df(self) -> np.ndarray:
        X, g = self.design.X, self.design.groups
        between = np.array([
            np.allclose(pd.Series(X[:, j]).groupby(g).transform(lambda s: s.max() - s.min()), 0)
            for j in range(X.shape[1])])
        n_between = between.sum()
        n_within = (~between).sum()
        return np.where(between, self.n_groups - n_between, self.n_obs - self.n_groups - n_within).astype(float)

    def _cov_beta_std(self, vec):
        D, om, k = self._unpack_std(vec)
        std_stats = self._std[0]
        sigma2 = om[k]
        phi = None if std_stats.Q is None else om / sigma2
        pc = pieces(std_stats, D / sigma2, phi)
        p = std_stats.p
        return sigma2 * np.linalg.inv(pc.M[:p, :p])

    @with_one_blas_thread
    def _satterthwaite_df(self) -> np.ndarray:
        std_stats, N, Mx, Mz, ysd, s1 = self._std
        x0 = self._var_vector_std()
        A = self._var_cov_std
        Cinv = np.linalg.inv(Mx)  # beta = ysd * Mx^-1 beta_s
        m = len(x0)
        grads = np.empty((m, len(self._beta)))
        for k in range(m):
            h = 1e-5 * max(abs(x0[k]), 1e-3)
            e = np.zeros(m); e[k] = h
            diff = (self._cov_beta_std(x0 + e) - self._cov_beta_std(x0 - e)) / (2 * h)
            grads[k] = np.diag(Cinv @ diff @ Cinv.T) * ysd ** 2
        var = np.diag(self._cov_beta)
        denom = np.einsum("kj,kl,lj->j", grads, A, grads)
        return 2 * var ** 2 / denom

    # ---- group effects and prediction ----------------------------------------
    @functools.cached_property
    def _group_effects_arrays(self):
        u, cond = group_effects(self._stats, self._T, self._sigma2, self._beta, self._pieces)
        A = self._pieces.A
        shrink = 1 - np.diagonal(np.linalg.inv(A), axis1=1, axis2=2)
        n = np.bincount(self.design.groups, minlength=self.n_groups)
        return u, cond, shrink, n

    def group_effects(self, term: str | None = None, *, alpha: float = 0.05) -> pd.DataFrame:
        """Estimated group effects (shrunken residuals), one row per group.

        With one random term, or with ``term=`` naming one, the columns are
        ``n, effect, se, ci_lower, ci_upper, shrinkage, rank``: ``se`` is the
        comparative standard error (lme4's conditional SD), ``shrinkage`` the
        factor k_j that pulls the raw group mean residual towards zero
        (``s2_u / (s2_u + s2_e / n_j)`` in a random-intercept model) and
        ``rank`` runs from 1 (lowest) to the number of groups. With several
        random terms and ``term=None``, the columns are ``n`` and, for each
        term, the effect and its ``<term>_se``.

        Notes
        -----
        The effects are the conditional modes E(u_j | y) at the estimates, and
        ``se`` is the square root of the diagonal of s2_e (I + T Z_j'Z_j)^-1 T.
        """
        u, cond, shrink, n = self._group_effects_arrays
        terms = self.random_terms
        index = pd.Index(self.design.group_names, name=self.group)
        if term is None and len(terms) > 1:
            out = pd.DataFrame({"n": n}, index=index)
            for k, t in enumerate(terms):
                out[t] = u[:, k]
                out[f"{t}_se"] = np.sqrt(cond[:, k, k])
            return out
        if term is None:
            term = terms[0]
        if term not in terms:
            raise unknown_name("random term", term, terms)
        k = terms.index(term)
        se = np.sqrt(cond[:, k, k])
        crit = ndtri(1 - alpha / 2)
        out = pd.DataFrame({"n": n, "effect": u[:, k], "se": se,
                            "ci_lower": u[:, k] - crit * se, "ci_upper": u[:, k] + crit * se,
                            "shrinkage": shrink[:, k]}, index=index)
        out["rank"] = out["effect"].rank(method="first").astype(int)
        return out

    def predict(self, data: pd.DataFrame | None = None) -> pd.DataFrame:
        """Predictions from the fixed part alone and with each group's effects added.

        Returns a DataFrame aligned with ``data`` (the rows used in the fit when
        omitted) with columns ``fixed`` (x'beta) and ``group_specific``
        (x'beta + z'u_j; equal to ``fixed`` for a group not seen in the fit).
        """
        d = self.design
        if data is None:
            X, Z, groups, index = d.X, d.Z, d.groups, d.index
        else:
            check_dataframe(data)
            data = self._with_references(data)
            # rows with a missing value in a model variable get NaN predictions
            X, keep_x = rebuild(d.fixed_info, data, drop_missing=True)
            Z, keep_z = rebuild(d.random_info, data, drop_missing=True)
            keep = keep_x.intersection(keep_z, sort=False)
            X = pd.DataFrame(X, index=keep_x).loc[keep].to_numpy()
            Z = pd.DataFrame(Z, index=keep_z).loc[keep].to_numpy()
            lookup = {g: i for i, g in enumerate(d.group_names)}
            groups = (np.array([lookup.get(g, -1) for g in data.loc[keep, d.group]]) if d.group in data
                      else np.full(len(keep), -1))
            index = keep
        fixed = X @ self._beta
        u = self._group_effects_arrays[0]
        known = groups >= 0
        extra = np.zeros(len(fixed))
        extra[known] = np.einsum("ij,ij->i", Z[known], u[groups[known]])
        out = pd.DataFrame({"fixed": fixed, "group_specific": fixed + extra}, index=index)
        return out if data is None else out.reindex(data.index)

    def _with_references(self, data):
        """New data with the categorical columns coded as in the fit (same levels, same reference)."""
        if not self.reference:
            return data
        data = data.copy()
        for col in self.reference:
            if col not in data:
                continue
            for factor, info in self.design.fixed_info.factor_infos.items():
                if info.type == "categorical" and factor.name() == col:
                    data[col] = pd.Categorical(data[col], categories=list(info.categories))
        return data

    # ---- variance functions --------------------------------------------------
    def _values_frame(self, values: dict) -> pd.DataFrame:
        if not values:
            return pd.DataFrame(index=[0])
        arrays = {k: np.atleast_1d(np.asarray(v)) for k, v in values.items()}
        n = max(len(a) for a in arrays.values())
        return pd.DataFrame({k: np.resize(a, n) for k, a in arrays.items()})

    def _design_at(self, info, frame, what):
        if not info.term_names or info.term_names == ["Intercept"]:
            return np.ones((len(frame), 1))
        try:
            return rebuild(info, frame)
        except LemmaError:
            needed = ", ".join(f"{v}=..." for v in _variables(info))
            raise LemmaError(
                f"To evaluate the {what} give a value for each variable in it: e.g. m.vpc({needed}). "
                f"You gave: {', '.join(frame.columns) or 'nothing'}."
            ) from None

    def level2_variance(self, **values) -> np.ndarray:
        """Between-group variance z' D z at given values of the random-part variables."""
        frame = self._values_frame(values)
        Z = self._design_at(self.design.random_info, frame, "level-2 variance")
        return np.einsum("ij,jk,ik->i", Z, self._D, Z)

    def level1_variance(self, **values) -> np.ndarray:
        """Level-1 variance z1' Omega z1 at given values (constant without ``level1=``)."""
        frame = self._values_frame(values)
        if self._Omega is None:
            return np.full(len(frame), self._sigma2)
        Z1 = self._design_at(self.design.level1_info, frame, "level-1 variance")
        return np.einsum("ij,jk,ik->i", Z1, self._Omega, Z1)

    def vpc(self, **values) -> Any:
        """Variance partition coefficient: level-2 variance / total variance.

        With no arguments in a model whose variances do not depend on x, a
        float. Otherwise give values of the variables in the random part (and
        the level-1 function), e.g. ``m.vpc(age46=[-28, 0, 40])``; the result is
        a DataFrame with those values and ``level2_var``, ``level1_var``, ``vpc``.
        """
        varies = len(self.random_terms) > 1 or self.random_terms != ["Intercept"] or self._Omega is not None
        if not values and not varies:
            l2 = self._D[0, 0]
            return float(l2 / (l2 + self._sigma2))
        if not values:
            raise LemmaError(
                "In this model the variances depend on explanatory variables, so the VPC does too. "
                "Say where to evaluate it, e.g. m.vpc(" + ", ".join(
                    f"{t}=[...]" for t in self.random_terms if t != "Intercept") + ").")
        frame = self._values_frame(values)
        l2 = self.level2_variance(**values)
        l1 = self.level1_variance(**values)
        out = frame.copy()
        out["level2_var"], out["level1_var"], out["vpc"] = l2, l1, l2 / (l2 + l1)
        return out

    # ---- presentation --------------------------------------------------------
    @property
    def notes(self) -> list:
        """Plain-words notes about the fit (dropped rows, boundary estimates, convergence)."""
        out = []
        if self.n_dropped:
            out.append(f"{self.n_dropped:,} rows with a missing value were dropped; "
                       f"{self.n_obs:,} rows were used.")
        diag = np.diag(self._D)
        for t, v in zip(self.random_terms, diag):
            if v <= 1e-8 * max(self._sigma2, 1e-300):
                out.append(f"The variance of the random term {t!r} is estimated as 0 (a boundary "
                           "estimate): the data show no variation of it between groups. Consider "
                           "removing that random term.")
        if len(diag) > 1 and np.linalg.matrix_rank(self._T, tol=1e-6 * np.abs(self._T).max()) < len(diag):
            out.append("The level-2 covariance matrix is singular (a boundary estimate): "
                       + ("the two random effects are perfectly correlated (+1 or -1)" if len(diag) == 2 else
                          "one random effect is an exact combination of the others")
                       + ". The model is more complex than the data support. Consider a simpler random part.")
        if self._phi is not None:
            level1 = level1_weights(self._stats, self._phi) * self._sigma2      # each cell's level-1 variance
            ratio = float(level1.min() / np.average(level1, weights=self._stats.n))
            if ratio < 1e-4:
                out.append(
                    f"The level-1 variance function comes close to 0 for some rows (its smallest value is "
                    f"{ratio:.1g} of its average). Where a variance can shrink to 0 at a data point the "
                    "likelihood grows without limit, so it has no maximum and these estimates mean nothing. "
                    "Use a simpler level-1 function: for example a variance for each category of a "
                    "variable with '~ 0 + C(variable)', or none.")
        if not self.converged:
            out.append("The optimiser did not report convergence: " + self._opt.message)
        return out

    def to_frame(self) -> pd.DataFrame:
        """All estimates in one long table: part, term, estimate, std_err."""
        fx = self.fixed[["estimate", "std_err"]].reset_index().rename(columns={"term": "term"})
        fx.insert(0, "part", "fixed")
        rd = self.random.reset_index().rename(columns={"parameter": "term"})
        rd["part"] = "random " + rd.pop("level")
        return pd.concat([fx, rd[["part", "term", "estimate", "std_err"]]], ignore_index=True)

    def equation(self, digits: int = 3) -> Equation:
        """The fitted model written out in LaTeX, in the style of MLwiN's equations window."""
        return Equation(equation_latex(self, digits))

    @functools.cached_property
    def sample_id(self) -> str:
        """A fingerprint of the rows and response used, so LR tests can check the samples agree."""
        return sample_fingerprint(self.design.index, self.design.y)

    def __repr__(self) -> str:
        return result_text(self)

    def _repr_html_(self) -> str:
        return result_html(self)
