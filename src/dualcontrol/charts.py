"""Static charts as PNG files (matplotlib, Agg backend): waterfall, fan, lines.

Each function takes plain arrays and labels, writes one PNG and returns its path, so
any command can reuse it. No fonts or assets are fetched from the network.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

logger = logging.getLogger(__name__)

#: Colours for increases, decreases and totals in a waterfall.
UP, DOWN, TOTAL = "#c0392b", "#27ae60", "#34495e"


def waterfall(path: str | Path, *, start_label: str, start: float, steps: Sequence[str],
              values: Sequence[float], end_label: str, title: str = "",
              unit: str = "") -> Path:
    """Write a waterfall chart: a start bar, one floating bar per step, an end bar.

    Parameters
    ----------
    path : str or Path
        PNG file to write.
    start_label, end_label : str
        Labels of the first and last bars (e.g. "2015", "2020").
    start : float
        Level of the first bar [unit].
    steps, values : sequence
        Label and signed change of each step [unit]; the end bar is start + sum.
    title, unit : str
        Chart title and axis unit.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    values = np.asarray(values, dtype=float)
    ends = start + np.cumsum(values)
    bottoms = np.concatenate([[start], ends[:-1]])
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * (len(steps) + 2)), 4.5))
    labels = [start_label, *steps, end_label]
    ax.bar(0, start, color=TOTAL)
    for i, (b, v) in enumerate(zip(bottoms, values, strict=True), start=1):
        ax.bar(i, v, bottom=b, color=UP if v >= 0 else DOWN)
        ax.annotate(f"{v:+,.4g}", (i, b + v if v >= 0 else b), ha="center",
                    va="bottom", fontsize=8)
    end = start + float(values.sum())
    ax.bar(len(labels) - 1, end, color=TOTAL)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    ax.set_ylabel(unit)
    ax.set_title(title)
    ax.axhline(0, color="black", linewidth=0.5)
    return _write(fig, path)


def effect_bars(path: str | Path, *, labels: Sequence[str], values: Sequence[float],
                title: str = "", unit: str = "", reference: float = 0.0) -> Path:
    """Write a horizontal bar chart of effects around ``reference`` (1 for indices).

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    values = np.asarray(values, dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(labels) + 1.5))
    colours = [UP if v >= reference else DOWN for v in values]
    ax.barh(list(labels), values - reference, left=reference, color=colours)
    ax.axvline(reference, color="black", linewidth=0.6)
    ax.set_xlabel(unit)
    ax.set_title(title)
    return _write(fig, path)


def fan(path: str | Path, *, years: Sequence[int],
        panels: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
        quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
        title: str = "", markers: Mapping[str, float] | None = None) -> Path:
    """Write fan charts: one panel per series, quantile bands of Monte Carlo draws.

    Parameters
    ----------
    path : str or Path
        PNG file to write.
    years : sequence of int
        Years on the x axis [year].
    panels : mapping
        Panel title (with unit) -> (draws of shape (n_draws, n_years) or None,
        deterministic path of shape (n_years,)).
    quantiles : sequence of float
        Symmetric quantiles; bands are drawn between pairs, the median as a line.
    title : str
        Figure title.
    markers : mapping, optional
        Vertical lines, label -> year (e.g. "peak commitment": 2030).

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    x = np.asarray(years)
    qs = sorted(quantiles)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2),
                             squeeze=False)
    for ax, (name, (draws, central)) in zip(axes[0], panels.items(), strict=True):
        if draws is not None and len(draws):
            q = np.quantile(draws, qs, axis=0)
            n = len(qs)
            for lo in range(n // 2):
                alpha = 0.2 + 0.25 * lo
                ax.fill_between(x, q[lo], q[n - 1 - lo], color="#2980b9", alpha=alpha,
                                linewidth=0,
                                label=f"{qs[lo]:.0%}-{qs[n - 1 - lo]:.0%}")
            if n % 2:
                ax.plot(x, q[n // 2], color="#1f618d", linewidth=1, label="median")
        if central is not None:
            ax.plot(x, central, color="black", linewidth=1.5, linestyle="--",
                    label="central")
        for label, year in (markers or {}).items():
            ax.axvline(year, color="#7f8c8d", linewidth=0.8, linestyle=":")
            ax.annotate(label, (year, ax.get_ylim()[1]), fontsize=7, ha="right",
                        va="top", rotation=90)
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(title)
    return _write(fig, path)


def lines(path: str | Path, *, x: Sequence[float], series: Mapping[str, Sequence[float]],
          title: str = "", ylabel: str = "") -> Path:
    """Write a line chart of named series over ``x``.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, ys in series.items():
        ax.plot(list(x), list(ys), label=name)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return _write(fig, path)


def wedges(path: str | Path, *, years: Sequence[int], baseline: Sequence[float],
           wedges: Mapping[str, Sequence[float]], title: str = "", unit: str = "") -> Path:
    """Write a wedge chart: a path without measures and the wedges cut from it.

    Parameters
    ----------
    years : sequence of int
        The years [year].
    baseline : sequence of float
        The path without measures [unit].
    wedges : mapping
        Each wedge's saving per year [unit], stacked downwards from ``baseline``; the
        bottom edge of the last is the path with every measure.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    x = np.asarray(years)
    top = np.asarray(baseline, dtype=float)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ax.plot(x, top, color=TOTAL, label="without measures")
    for name, values in wedges.items():
        bottom = top - np.asarray(values, dtype=float)
        ax.fill_between(x, bottom, top, alpha=0.6, label=name)
        top = bottom
    ax.plot(x, top, color="black", linestyle="--", label="with measures")
    ax.set_title(title)
    ax.set_ylabel(unit)
    ax.legend(fontsize=8)
    return _write(fig, path)


def _write(fig: plt.Figure, path: Path) -> Path:
    """Lay out, save (PNG at 120 dpi unless the suffix says otherwise) and close ``fig``."""
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    logger.info("wrote %s", path)
    return path
