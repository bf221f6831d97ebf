"""Pictures of multilevel models: axes-level plots for the course notebooks.

Every function draws on one matplotlib Axes (the current one when ``ax`` is
None), labels the axes from column and term names, leaves the title to the
notebook and returns the Axes. Nothing happens at import: call
:func:`set_theme` in a notebook's set-up cell for the course look.

The colours are fixed hex codes from seaborn's colour-blind palette, so a
figure looks the same with or without the theme.

The modules of this package:

``theme``
    the palette (``BLUE``, ``ORANGE``, ..., ``MAIN``, ``HIGHLIGHT``) and :func:`set_theme`;
    it imports nothing heavy, so the explorations take their colours from it.
``ranked``
    ranked intervals: :func:`plot_caterpillar`, :func:`plot_group_means`.
``lines``
    against an explanatory variable: :func:`plot_group_lines`, :func:`plot_variance_function`.
``residuals``
    :func:`plot_residual_pairs`, :func:`plot_residual_qq`.
``teaching``
    teaching figures: :func:`plot_single_level_residuals`,
    :func:`plot_two_level_decomposition`, :func:`plot_se_comparison`.
``_stats``
    the numbers each plot draws, computed without matplotlib.
``_common``
    the checks shared by the plots.

The plots are imported when first used (PEP 562), as in ``lemma_helpers``
itself: importing this package, or ``lemma_helpers.plotting.theme``, does not
import matplotlib.
"""
from __future__ import annotations

from importlib import import_module as _import_module
from typing import TYPE_CHECKING

from .theme import BLUE, DARK, GREEN, GREY, HIGHLIGHT, MAIN, ORANGE, VERMILLION, set_theme

if TYPE_CHECKING:   # for readers and type checkers; at run time __getattr__ imports them
    from ._common import MANY_GROUPS
    from ._stats import RUG_MAX
    from .lines import plot_group_lines, plot_variance_function
    from .ranked import plot_caterpillar, plot_group_means
    from .residuals import plot_residual_pairs, plot_residual_qq
    from .teaching import plot_se_comparison, plot_single_level_residuals, plot_two_level_decomposition

__all__ = [
    "set_theme", "plot_caterpillar", "plot_group_lines", "plot_variance_function",
    "plot_residual_pairs", "plot_residual_qq", "plot_group_means",
    "plot_single_level_residuals", "plot_two_level_decomposition", "plot_se_comparison",
]

# name -> the module that defines it, imported on first use
_LAZY = {
    **dict.fromkeys(["plot_caterpillar", "plot_group_means"], "ranked"),
    **dict.fromkeys(["plot_group_lines", "plot_variance_function"], "lines"),
    **dict.fromkeys(["plot_residual_pairs", "plot_residual_qq"], "residuals"),
    **dict.fromkeys(["plot_single_level_residuals", "plot_two_level_decomposition", "plot_se_comparison"],
                    "teaching"),
    "MANY_GROUPS": "_common",
    "RUG_MAX": "_stats",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
