"""The model: fit two-level linear models and read their results.

``fit`` (``fit.py``) turns a formula and a DataFrame into a :class:`MultilevelResult`
(``result.py``). The likelihood it maximises is written out for learners in ``likelihood.py``;
``cells.py`` reduces the data to cross-products, ``derivatives.py`` gives the exact gradient and
Hessian, ``optimise.py`` searches, ``design.py`` builds the design matrices and ``display.py``
prints the tables.
"""
from .fit import fit
from .result import MultilevelResult

__all__ = ["fit", "MultilevelResult"]
