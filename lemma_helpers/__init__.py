"""lemma_helpers: the helper package of lemma-course.

Load the course data, fit two-level models, test them, plot them and check
quiz answers. Everything a learner needs is listed in ``__all__``.

The modules that need scipy, statsmodels or matplotlib (fitting, tests,
plots, explorations) are imported when one of their names is first used
(PEP 562), so ``import lemma_helpers`` is quick: a graded notebook that only
answers questions never pays for them.
"""
from importlib import import_module as _import_module

from ._validation import LemmaError, LemmaWarning
from .datasets import codebook, list_datasets, load_dataset, register_dataset
from .quiz import check, list_questions, quiz, reveal, start_assignment
from ._bank import add_question_bank
from .state import reset_session, session, solved

__version__ = "0.1.0"

from ._tracebacks import install as _install_tracebacks

_install_tracebacks()    # inside IPython: a NameError about a variable a failed cell did not make says so

# name -> the module that defines it, imported on first use
_LAZY = {
    **dict.fromkeys(["fit", "MultilevelResult"], "model"),
    **dict.fromkeys(["plot_caterpillar", "plot_group_lines", "plot_group_means", "plot_residual_pairs",
                     "plot_residual_qq", "plot_se_comparison", "plot_single_level_residuals",
                     "plot_two_level_decomposition", "plot_variance_function", "set_theme"], "plotting"),
    **dict.fromkeys(["OLSResult", "TestResult", "design_effect", "fit_ols", "lr_test", "wald_test"], "inference"),
    **dict.fromkeys(["check_model", "check_value", "is_blank", "ready"], "practice"),
    "check_exercise": "exercises",
    **dict.fromkeys(["explore_level1_variance", "explore_random_slopes", "explore_refit", "explore_shrinkage",
                     "explore_vpc"], "explore"),
}

__all__ = [
    "LemmaError", "LemmaWarning",
    "list_datasets", "load_dataset", "codebook", "register_dataset",
    "fit", "MultilevelResult",
    "quiz", "check", "reveal", "list_questions", "start_assignment", "add_question_bank", "session", "reset_session",
    "set_theme", "plot_group_means", "plot_single_level_residuals", "plot_two_level_decomposition",
    "plot_caterpillar", "plot_group_lines", "plot_variance_function", "plot_residual_pairs",
    "plot_residual_qq", "plot_se_comparison",
    "fit_ols", "lr_test", "wald_test", "design_effect", "OLSResult", "TestResult",
    "check_model", "check_value", "is_blank", "ready", "check_exercise", "solved",
    "explore_shrinkage", "explore_vpc", "explore_random_slopes", "explore_level1_variance",
    "explore_refit",
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lemma_helpers' has no attribute {name!r}")
    value = getattr(_import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
