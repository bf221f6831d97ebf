"""lemma_helpers: the helper package of lemma-course.

Load the course data, fit two-level models, test them, plot them and check
quiz answers. Everything a learner needs is listed in ``__all__``.
"""
from ._validation import LemmaError, LemmaWarning
from .datasets import codebook, list_datasets, load_dataset
from .models import MultilevelResult, fit
from .inference import OLSResult, TestResult, design_effect, fit_ols, lr_test, wald_test

__version__ = "0.1.0"

__all__ = [
    "LemmaError", "LemmaWarning",
    "list_datasets", "load_dataset", "codebook",
    "fit", "MultilevelResult",
    "fit_ols", "lr_test", "wald_test", "design_effect", "OLSResult", "TestResult",
]
