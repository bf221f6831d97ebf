"""lemma_helpers: the helper package of lemma-course.

Load the course data, fit two-level models, test them, plot them and check
quiz answers. Everything a learner needs is listed in ``__all__``.
"""
from ._validation import LemmaError, LemmaWarning
from .datasets import codebook, list_datasets, load_dataset, register_dataset
from .models import MultilevelResult, fit
from .quiz import check, list_questions, quiz, start_assignment
from ._bank import add_question_bank
from .plotting import (
    plot_caterpillar, plot_group_lines, plot_group_means, plot_residual_pairs, plot_residual_qq,
    plot_se_comparison, plot_single_level_residuals, plot_two_level_decomposition,
    plot_variance_function, set_theme,
)
from .inference import OLSResult, TestResult, design_effect, fit_ols, lr_test, wald_test
from .practice import check_model, check_value, is_blank
from .exercises import check_exercise
from .explore import (
    explore_level1_variance, explore_random_slopes, explore_refit, explore_shrinkage, explore_vpc,
)

__version__ = "0.1.0"

__all__ = [
    "LemmaError", "LemmaWarning",
    "list_datasets", "load_dataset", "codebook", "register_dataset",
    "fit", "MultilevelResult",
    "quiz", "check", "list_questions", "start_assignment", "add_question_bank",
    "set_theme", "plot_group_means", "plot_single_level_residuals", "plot_two_level_decomposition",
    "plot_caterpillar", "plot_group_lines", "plot_variance_function", "plot_residual_pairs",
    "plot_residual_qq", "plot_se_comparison",
    "fit_ols", "lr_test", "wald_test", "design_effect", "OLSResult", "TestResult",
    "check_model", "check_value", "is_blank", "check_exercise",
    "explore_shrinkage", "explore_vpc", "explore_random_slopes", "explore_level1_variance",
    "explore_refit",
]
