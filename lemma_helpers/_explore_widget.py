"""The widget behind the explorations (``lemma_helpers.explore``): sliders above a redrawn picture.

:class:`Exploration` holds the sliders, draws one matplotlib panel per view
with the Agg renderer and shows it as a PNG in an ``ipywidgets.Image``, so it
needs no interactive matplotlib backend; ``.static()`` draws the same views for
a few slider settings side by side. The small helpers below build sliders with
sensible ranges from a fitted value and write notes on the panels.
"""
from __future__ import annotations

import io
from typing import Callable, Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._validation import LemmaError
from .plotting.theme import DARK

Drawer = Callable[[object, dict], dict]   # (Axes, slider values) -> numbers drawn


# ---- the widget --------------------------------------------------------------------------
class Exploration(widgets.VBox):
    """Sliders above a picture that is redrawn from formulas whenever a slider moves.

    Attributes
    ----------
    sliders : dict
        The slider widgets by name; ``values`` gives their current values.
    figure : matplotlib.figure.Figure
        The picture last drawn (one panel per view).
    numbers : dict
        The numbers the picture shows (e.g. ``k_j`` of each simulated group).
    """

    def __init__(self, name: str, sliders: dict, drawers: Sequence[Drawer], settings: Sequence[dict],
                 label: Callable[[dict], str]):
        super().__init__()
        self.name = name
        self.sliders = dict(sliders)
        self._drawers = list(drawers)
        self._settings = [dict(s) for s in settings]
        self._label = label
        self.numbers: dict = {}
        self.figure = Figure(figsize=(4.7 * len(self._drawers), 3.9), dpi=80, layout="constrained")
        FigureCanvasAgg(self.figure)
        self.image = widgets.Image(format="png")
        for s in self.sliders.values():
            s.style = {"description_width": "16em"}
            s.layout = widgets.Layout(width="36em")
            s.observe(self._on_change, names="value")
        self.children = [widgets.VBox(list(self.sliders.values())), self.image]
        self.update()

    @property
    def values(self) -> dict:
        """Current slider values by name."""
        return {k: s.value for k, s in self.sliders.items()}

    def set(self, **values) -> None:
        """Move sliders, as a reader would (the picture is redrawn once).

        A value outside a slider's range is clipped to the range, as the slider itself does.
        """
        unknown = sorted(set(values) - set(self.sliders))
        if unknown:
            raise LemmaError(f"{self.name} has no slider {unknown[0]!r}; its sliders are: "
                             f"{', '.join(self.sliders)}.")
        with self.hold_trait_notifications():
            for k, v in values.items():
                s = self.sliders[k]
                s.unobserve(self._on_change, names="value")
                s.value = min(max(v, s.min), s.max)
                s.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, change) -> None:
        self.update()

    def _draw(self, axes, values: dict) -> dict:
        numbers = {}
        for ax, drawer in zip(axes, self._drawers):
            numbers.update(drawer(ax, values))
        return numbers

    def update(self) -> None:
        """Redraw the picture for the current slider values."""
        axes = self.figure.axes
        if not axes:
            axes = list(self.figure.subplots(1, len(self._drawers), squeeze=False)[0])
        for ax in axes:
            ax.cla()
        self.numbers = self._draw(axes, self.values)
        self.image.value = _png(self.figure)
        # the layout is computed once, on the first drawing; later drawings reuse it (faster)
        self.figure.set_layout_engine("none")

    def static(self, settings: Sequence[dict] | None = None):
        """Small multiples: the same pictures for a few slider settings, one row per setting.

        Parameters
        ----------
        settings : list of dict, optional
            Slider values for each row (values not given keep the current
            ones); by default three or four settings chosen to show the relation.

        Returns
        -------
        matplotlib.figure.Figure
            One row per setting, headed by its slider values, with the views side by side as
            under the sliders (so "the left panel" means the same in both); drawn with pyplot so
            that the notebook shows it (end the cell with ``plt.show()``).
        """
        import matplotlib.pyplot as plt

        settings = self._settings if settings is None else [dict(s) for s in settings]
        rows, cols = len(settings), len(self._drawers)
        fig = plt.figure(figsize=(4.7 * cols, 3.6 * rows), layout="constrained")
        rows_of = fig.subfigures(rows, 1, squeeze=False)[:, 0]
        axes = np.array([sub.subplots(1, cols, squeeze=False)[0] for sub in rows_of])
        for sub, row, setting in zip(rows_of, axes, settings):
            values = {**self.values, **{k: _clip(self.sliders[k], v) for k, v in setting.items()}}
            self._draw(row, {**values, "_static": True})
            sub.suptitle(self._label(values), fontsize=11, fontweight="bold", x=0.01, ha="left")
        for col in axes.T:   # one scale per view, so that the rows compare at a glance
            for get, put in ((lambda a: a.get_xlim(), lambda a, v: a.set_xlim(v)),
                             (lambda a: a.get_ylim(), lambda a, v: a.set_ylim(v))):
                lims = np.array([get(a) for a in col])
                flip = lims[0, 0] > lims[0, 1]
                lo, hi = lims.min(), lims.max()
                for a in col:
                    put(a, (hi, lo) if flip else (lo, hi))
        for row in axes[1:]:   # each legend once, in the first row
            for a in row:
                if a.get_legend() is not None:
                    a.get_legend().remove()
        return fig

    def __repr__(self) -> str:
        shown = ", ".join(f"{k} = {_fmt(v)}" for k, v in self.values.items())
        return f"<{self.name}: {shown}; move the sliders in JupyterLab>"


def _png(fig: Figure) -> bytes:
    """The figure as PNG bytes: one Agg drawing, fast compression (the widget redraws often)."""
    from PIL import Image

    fig.canvas.draw()
    buf = io.BytesIO()
    Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).save(buf, format="png", compress_level=1)
    return buf.getvalue()


def _clip(slider, v):
    return min(max(v, slider.min), slider.max)


def _fmt(v) -> str:
    return f"{v:,d}" if isinstance(v, (int, np.integer)) else f"{v:.3g}"


def _step(hi: float) -> float:
    return float(10 ** np.floor(np.log10(hi / 1000)))


def _nice(v: float) -> float:
    """A round upper end for a slider starting at v (about 4 v)."""
    top = 4 * abs(v) if v else 1.0
    e = 10 ** np.floor(np.log10(top))
    return float(np.ceil(top / e) * e)


def _float_slider(desc: str, start: float, lo: float, hi: float, step: float | None = None,
                  continuous: bool = True) -> widgets.FloatSlider:
    step = step or _step(hi - lo)
    start = float(np.clip(round(round(start / step) * step, 12), lo, hi))
    return widgets.FloatSlider(value=start, min=lo, max=hi, step=step, description=desc,
                               readout_format=".3g", continuous_update=continuous)


def _variance_slider(desc: str, start: float, *, positive: bool = False, reach: float = 0.0) -> widgets.FloatSlider:
    """A slider for a variance starting at ``start``, up to about 4 times it (and at least to ``reach``)."""
    hi = _nice(max(start, reach / 4))
    step = _step(hi)
    return _float_slider(desc, start, step if positive else 0.0, hi, step)


def _note(ax, text: str, color: str = DARK) -> None:
    """What a panel shows in numbers, written above it (never over the curves)."""
    ax.text(0.0, 1.03, text, transform=ax.transAxes, fontsize=9, va="bottom", ha="left", color=color,
            linespacing=1.3)


def _intervals(ax, est, lo, hi, pos, colour, marker, label, gid) -> None:
    """Estimates with intervals from ``lo`` to ``hi`` as two plain lines (quicker than errorbar); an
    end that is infinite is drawn to the edge of the axis."""
    hi = np.where(np.isfinite(hi), hi, ax.get_xlim()[1] if ax.has_data() else np.nanmax(est) * 10)
    xs = np.column_stack([lo, hi, np.full_like(lo, np.nan)]).ravel()
    ys = np.column_stack([pos, pos, np.full_like(lo, np.nan)]).ravel()
    ax.plot(xs, ys, color=colour, lw=1.5, gid=None if gid is None else gid + "_interval")
    ax.plot(est, pos, marker, color=colour, label=label, gid=gid)


def _variances(m, func: str):
    if m is None:
        return None
    if not (hasattr(m, "level2_cov") and hasattr(m, "design")):
        raise TypeError(f"{func} starts from a model fitted with lh.fit(...), got {type(m).__name__}.")
    return m
