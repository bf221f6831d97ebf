"""Text, HTML and LaTeX layouts of fitted models, as in a published table."""
from __future__ import annotations

import html
import re

import numpy as np


def _fmt(x, digits=3):
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    ax = abs(x)
    if ax != 0 and (ax < 10 ** -(digits) or ax >= 1e6):
        return f"{x:.{digits}g}"
    return f"{x:.{digits}f}" if ax < 100 else f"{x:.{max(digits - 1, 1)}f}"


def _fmt_sig(x, digits=3):
    """Like _fmt, but a number below 1 in size keeps `digits` significant digits.

    0.00265 prints as 0.00265, not 0.003: an equation's small coefficients keep
    enough digits to reproduce the variance function from them.
    """
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    ax = abs(x)
    if ax == 0 or ax >= 1 or ax < 1e-4:
        return _fmt(x, digits)
    decimals = digits - 1 - int(np.floor(np.log10(ax)))
    return f"{x:.{decimals}f}"


def _header(m):
    kind = "REML" if m.reml else "ML"
    lines = [f"Two-level linear model fitted by {kind}: {m.formula}"]
    if m.level1:
        lines.append(f"Level-1 variance function: {m.level1}")
    if m.reference:
        lines.append("Reference categories: " + ", ".join(f"{k} = {v}" for k, v in m.reference.items()))
    lines.append(f"{m.n_obs:,} observations in {m.n_groups:,} groups ({m.group})")
    return lines


def _footer(m):
    crit = "-2 log-likelihood" if not m.reml else "-2 REML log-likelihood"
    return [f"{crit}: {m.deviance:,.2f}    AIC: {m.aic:,.2f}    BIC: {m.bic:,.2f}"] + [
        f"Note: {n}" for n in m.notes]


def result_text(m) -> str:
    fx = m.fixed
    rd = m.random
    width = max([len(t) for t in fx.index] + [len(t) for t in rd.index.get_level_values(1)] + [12])
    out = _header(m) + ["", "Fixed part" + " " * (width - 10) + "   estimate   std_err        z   p_value"]
    for t, r in fx.iterrows():
        out.append(f"{t:<{width}} {_fmt(r.estimate, 4):>10} {_fmt(r.std_err, 4):>9} {r.z:8.2f} {_pval(r.p_value):>9}")
    out += ["", "Random part" + " " * (width - 11) + "   estimate   std_err"]
    last = None
    for (level, name), r in rd.iterrows():
        if level != last:
            out.append(f"  {level}")
            last = level
        out.append(f"{name:<{width}} {_fmt(r.estimate, 4):>10} {_fmt(r.std_err, 4):>9}")
    return "\n".join(out + [""] + _footer(m))


def _pval(p):
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def result_html(m) -> str:
    esc = html.escape
    rows = []
    rows.append("<tr><th style='text-align:left'>Fixed part</th><th>estimate</th><th>std. error</th><th>z</th><th>p</th></tr>")
    for t, r in m.fixed.iterrows():
        rows.append(f"<tr><td style='text-align:left'>{esc(t)}</td><td>{_fmt(r.estimate, 4)}</td>"
                    f"<td>{_fmt(r.std_err, 4)}</td><td>{r.z:.2f}</td><td>{_pval(r.p_value)}</td></tr>")
    rows.append("<tr><th style='text-align:left'>Random part</th><th>estimate</th><th>std. error</th><th></th><th></th></tr>")
    last = None
    for (level, name), r in m.random.iterrows():
        if level != last:
            rows.append(f"<tr><td style='text-align:left'><i>{esc(level)}</i></td><td></td><td></td><td></td><td></td></tr>")
            last = level
        rows.append(f"<tr><td style='text-align:left'>&nbsp;&nbsp;{esc(name)}</td><td>{_fmt(r.estimate, 4)}</td>"
                    f"<td>{_fmt(r.std_err, 4)}</td><td></td><td></td></tr>")
    head = "<br>".join(esc(x) for x in _header(m))
    foot = "<br>".join(esc(x) for x in _footer(m))
    return (f"<div><p style='margin-bottom:4px'>{head}</p>"
            f"<table style='border-collapse:collapse'>{''.join(rows)}</table>"
            f"<p style='margin-top:4px'>{foot}</p></div>")


class Equation(str):
    """A LaTeX equation that a notebook renders as mathematics."""

    def _repr_latex_(self) -> str:
        return f"$$\n{self}\n$$"


def _tex_name(name: str) -> str:
    name = re.sub(r"^C\(([^,)]+).*\)\[T\.(.+)\]$", r"\1_{\2}", name)
    name = re.sub(r"^([A-Za-z_]+)\[T\.(.+)\]$", r"\1_{\2}", name)
    name = name.replace("_", r"\_").replace("\\_{", "_{") if "_{" in name else name.replace("_", r"\_")
    return r"\mathrm{" + name + "}"


def equation_latex(m, digits: int = 3) -> str:
    fx = m.fixed
    y = _tex_name(m.design.response)
    parts = []
    for k, (t, r) in enumerate(fx.iterrows()):
        est = r.estimate if k == 0 else abs(r.estimate)
        coef = f"{_fmt_sig(est, digits)}\\,({_fmt_sig(r.std_err, digits)})"
        term = "" if t == "Intercept" else r"\," + _tex_name(t) + "_{ij}"
        sign = "" if k == 0 else (" - " if r.estimate < 0 else " + ")
        parts.append(f"{sign}{coef}{term}")
    rnd = []
    for k, t in enumerate(m.random_terms):
        rnd.append(f"u_{{{k}j}}" + ("" if t == "Intercept" else r"\," + _tex_name(t) + "_{ij}"))
    lines = [y + r"_{ij} &= " + "".join(parts) + " + " + " + ".join(rnd) + r" + e_{ij}"]
    D = m.level2_cov.to_numpy()
    q = len(m.random_terms)
    us = r"\\".join(f"u_{{{k}j}}" for k in range(q))
    rows = []
    for i in range(q):
        rows.append(" & ".join(_fmt_sig(D[i, j], digits) if j <= i else "" for j in range(q)))
    lines.append(r"\begin{pmatrix}" + us + r"\end{pmatrix} &\sim N\left(0,\ \begin{pmatrix}" +
                 r"\\".join(rows) + r"\end{pmatrix}\right)")
    if m.level1 is None:
        lines.append(f"e_{{ij}} &\\sim N(0,\\ {_fmt_sig(m.level1_var, digits)})")
    else:
        om = m.level1_cov.to_numpy()
        names = m.design.level1_names
        terms = []
        for i in range(len(names)):
            for j in range(i + 1):
                if om[i, j] == 0:
                    continue
                factors = [_tex_name(names[k]) + "_{ij}" for k in (j, i) if names[k] != "Intercept"]
                if i == j and factors:
                    factors = [factors[0] + "^2"]
                coef = _fmt_sig(om[i, j], digits) if i == j else f"2 \\times {_fmt_sig(om[i, j], digits)}"
                terms.append(coef + "".join(r"\," + f for f in factors))
        lines.append(r"\operatorname{var}(e_{ij}) &= " + " + ".join(terms).replace("+ -", "- "))
    lines.append(r"-2\log L &= " + f"{m.deviance:,.2f}".replace(",", "{,}") + f"\\quad (n = {m.n_obs:,},\\ J = {m.n_groups})".replace(",", "{,}"))
    tex = r"\begin{aligned}" + r"\\ ".join(lines) + r"\end{aligned}"
    # 1.15e-05 -> 1.15 \times 10^{-5}
    return re.sub(r"(\d)e([+-])0*(\d+)",
                  lambda mt: rf"{mt.group(1)} \times 10^{{{'-' if mt.group(2) == '-' else ''}{mt.group(3)}}}", tex)
