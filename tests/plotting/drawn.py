"""What a plot drew, found by ``gid``, for the plotting tests (``from drawn import artists, ...``).

The drawn artists carry a ``gid`` ("estimates", "intervals", "group_lines", ...)
so a test can find them and compare their coordinates with the model's tables.
"""
import numpy as np


def artists(ax, gid):
    """The artists drawn with a given gid (collections, lines and texts)."""
    found = [a for a in [*ax.collections, *ax.lines, *ax.texts] if a.get_gid() == gid]
    assert found, f"nothing drawn with gid={gid!r}"
    return found


def segments(ax, gid):
    """Segments of a LineCollection as an (n, 2, 2) array."""
    return np.array(artists(ax, gid)[0].get_segments())


def offsets(ax, gid="estimates"):
    return np.asarray(artists(ax, gid)[0].get_offsets())
