"""The printed layouts of a fitted model (model/display.py)."""
import lemma_helpers as lh


def test_equation_keeps_three_significant_digits_for_small_coefficients(small):
    # A coefficient such as 0.00265 must not print as 0.003: the variance
    # function written in the equation has to reproduce the fitted values.
    from lemma_helpers.model.display import _fmt_sig
    assert _fmt_sig(0.0026543) == "0.00265"
    assert _fmt_sig(0.7796) == "0.780"
    assert _fmt_sig(-0.01781) == "-0.0178"
    assert _fmt_sig(12.3456) == "12.346"
    assert _fmt_sig(1.15e-5) == "1.15e-05"
    m = lh.fit("y ~ x + (1 | g)", data=small, level1="~ 1 + x")
    tex = m.equation()
    cov = m.level1_cov.iloc[1, 0]
    assert f"2 \\times {_fmt_sig(cov)}" in tex
