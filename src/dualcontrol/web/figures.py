"""Plotly figures of the pages, as HTML fragments drawn by the locally served bundle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

#: Colours of the barometer (also used by the tile map's CSS).
RATING_COLOURS: dict[str, str] = {"red": "#d7301f", "yellow": "#f2b701", "green": "#2e9e44",
                                  "no_data": "#9e9e9e"}
_CONFIG = {"displaylogo": False, "responsive": True}


def to_html(fig: go.Figure, *, div_id: str) -> str:
    """Return the figure as a ``<div>`` and script using the page's Plotly bundle."""
    fig.update_layout(margin={"l": 50, "r": 20, "t": 40, "b": 40}, height=320,
                      font={"family": "sans-serif"}, template="plotly_white")
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config=_CONFIG)


def lines(frame: pd.DataFrame, *, x: str, series: Mapping[str, str], title: str,
          y_title: str, div_id: str, group: str | None = None) -> str:
    """Return a line chart of columns ``series`` (column -> label) against ``x``."""
    fig = go.Figure()
    if group is not None:
        (column, label), = series.items()
        for name, part in frame.groupby(group, sort=True):
            fig.add_trace(go.Scatter(x=part[x], y=part[column], mode="lines+markers",
                                     name=str(name)))
    else:
        for column, label in series.items():
            fig.add_trace(go.Scatter(x=frame[x], y=frame[column], mode="lines+markers",
                                     name=label))
    fig.update_layout(title=title, yaxis_title=y_title, xaxis={"type": "category"})
    return to_html(fig, div_id=div_id)


def bars(labels: Sequence[str], values: Sequence[float], *, title: str, y_title: str,
         div_id: str) -> str:
    """Return a bar chart."""
    fig = go.Figure(go.Bar(x=list(labels), y=list(values)))
    fig.update_layout(title=title, yaxis_title=y_title)
    return to_html(fig, div_id=div_id)


def pie(labels: Sequence[str], values: Sequence[float], *, title: str, div_id: str) -> str:
    """Return a donut chart of shares."""
    fig = go.Figure(go.Pie(labels=list(labels), values=list(values), hole=0.45,
                           sort=False))
    fig.update_layout(title=title)
    return to_html(fig, div_id=div_id)


def waterfall(labels: Sequence[str], values: Sequence[float], *, start_label: str,
              start: float, end_label: str, title: str, y_title: str, div_id: str) -> str:
    """Return a waterfall from ``start`` through the effects ``values`` to the end."""
    fig = go.Figure(go.Waterfall(
        x=[start_label, *labels, end_label],
        y=[start, *values, 0.0],
        measure=["absolute", *["relative"] * len(values), "total"]))
    fig.update_layout(title=title, yaxis_title=y_title, showlegend=False)
    return to_html(fig, div_id=div_id)


def fan(years: Sequence[int], bands: Mapping[str, tuple[Sequence[float], Sequence[float]]],
        median: Sequence[float], *, title: str, y_title: str, div_id: str,
        peak_year: int | None = None, median_label: str = "median",
        peak_label: str = "peak") -> str:
    """Return a fan chart: shaded bands (label -> (low, high)) around the median."""
    fig = go.Figure()
    for label, (low, high) in bands.items():
        fig.add_trace(go.Scatter(x=list(years), y=list(high), mode="lines",
                                 line={"width": 0}, showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=list(years), y=list(low), mode="lines", fill="tonexty",
                                 line={"width": 0}, name=label,
                                 fillcolor="rgba(31,119,180,0.2)"))
    fig.add_trace(go.Scatter(x=list(years), y=list(median), mode="lines", name=median_label,
                             line={"color": "#1f77b4"}))
    if peak_year is not None:
        fig.add_vline(x=peak_year, line_dash="dash", annotation_text=f"{peak_label} {peak_year}")
    fig.update_layout(title=title, yaxis_title=y_title)
    return to_html(fig, div_id=div_id)


def distribution(values: Sequence[float], *, lines_at: Mapping[str, float], title: str,
                 x_title: str, div_id: str, y_title: str = "units") -> str:
    """Return a histogram of unit consumption with vertical reference lines."""
    fig = go.Figure(go.Histogram(x=list(values), nbinsx=20, name="units"))
    colours = ["#2e9e44", "#d7301f", "#555555"]
    for (label, value), colour in zip(lines_at.items(), colours * 3, strict=False):
        if value == value:  # skip NaN
            fig.add_vline(x=value, line_color=colour, line_dash="dash",
                          annotation_text=label)
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title,
                      showlegend=False)
    return to_html(fig, div_id=div_id)
