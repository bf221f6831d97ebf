"""The course's colours and plot theme.

The colours are fixed hex codes from seaborn's colour-blind palette, so a
figure looks the same with or without the theme. This module imports nothing
heavy (seaborn only inside :func:`set_theme`): the explorations take their
colours from here without loading the plots.
"""
from __future__ import annotations

__all__ = ["BLUE", "ORANGE", "GREEN", "VERMILLION", "GREY", "DARK", "MAIN", "HIGHLIGHT", "set_theme"]

# seaborn "colorblind" palette
BLUE, ORANGE, GREEN, VERMILLION, GREY = "#0173B2", "#DE8F05", "#029E73", "#D55E00", "#949494"
DARK = "#333333"
MAIN, HIGHLIGHT = BLUE, VERMILLION


def set_theme(*, context: str = "notebook", font_scale: float = 1.0) -> None:
    """Set the course's plot theme: seaborn whitegrid, colour-blind palette, notebook-width figures.

    Call it once in a notebook's set-up cell. It changes matplotlib's global
    settings (``rcParams``), which importing ``lemma_helpers`` never does.

    Parameters
    ----------
    context : {'notebook', 'paper', 'talk', 'poster'}
        seaborn's scaling of fonts and lines.
    font_scale : float
        Extra scaling of the fonts.
    """
    import seaborn as sns

    sns.set_theme(context=context, style="whitegrid", palette="colorblind", font_scale=font_scale,
                  rc={"figure.figsize": (7.0, 4.3), "figure.dpi": 100, "savefig.dpi": 150,
                      "savefig.bbox": "tight", "axes.spines.top": False,
                      "axes.spines.right": False, "legend.frameon": False})
