"""Counts per week, and the geometry of the SVG line chart and sparklines that show them.

Nothing here makes markup: the functions compute numbers and point lists, and the template
``insights/_chart.html`` draws them (so every label passes through Jinja2's escaping). Weeks are ISO weeks,
Monday to Sunday, in UTC.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9")
"""Line colours for the groups (Okabe-Ito: tell-apart for colour-blind readers); the total is drawn in black."""
TOTAL_COLOUR = "#222222"


def week_starts(now: dt.datetime, weeks: int) -> list[dt.date]:
    """The Mondays of the last ``weeks`` weeks, oldest first; the last one starts the week holding ``now``.

    Raises:
        ValueError: for a naive ``now`` or fewer than one week.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be time-zone-aware")
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    today = now.astimezone(dt.timezone.utc).date()
    this_monday = today - dt.timedelta(days=today.weekday())
    return [this_monday - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def period_start(starts: Sequence[dt.date]) -> dt.datetime:
    """Midnight UTC of the first week: the start of the period the chart covers."""
    return dt.datetime.combine(starts[0], dt.time(), tzinfo=dt.timezone.utc)


def weekly_counts(times: Iterable[dt.datetime], starts: Sequence[dt.date]) -> list[int]:
    """How many of ``times`` fall in each week beginning at ``starts`` (times before the first week or after
    the last one are not counted).

    Args:
        times: time-zone-aware moments, in any order.
        starts: Mondays, oldest first, one week apart (from :func:`week_starts`).

    Returns:
        One count per week, in the order of ``starts``.
    """
    counts = [0] * len(starts)
    if not starts:
        return counts
    end = starts[-1] + dt.timedelta(weeks=1)
    for moment in times:
        day = moment.astimezone(dt.timezone.utc).date()
        if starts[0] <= day < end:
            counts[bisect_right(starts, day) - 1] += 1
    return counts


@dataclass(frozen=True)
class Point:
    """One week's value of a series, where it is drawn."""

    x: float
    y: float
    value: int
    week: dt.date


@dataclass(frozen=True)
class Series:
    """One line of the chart.

    Attributes:
        name: what the line counts (a group's label, or the total).
        colour: its stroke colour.
        points: one per week, oldest first.
        total: True for the line of all needs (drawn thicker).
    """

    name: str
    colour: str
    points: tuple[Point, ...]
    total: bool = False

    @property
    def polyline(self) -> str:
        """The points as an SVG ``points`` attribute."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Tick:
    """A labelled position on an axis."""

    position: float
    label: str


@dataclass(frozen=True)
class LineChart:
    """Everything the template needs to draw a weekly line chart.

    Attributes:
        width, height: the SVG's view box.
        left, right, top, bottom: the plot area's edges inside it.
        series: the lines, the total first.
        y_ticks: horizontal grid lines with their counts.
        x_ticks: week labels (every week when few, else every other or fourth).
        weeks: the Mondays, oldest first.
        maximum: the count at the top of the scale.
    """

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    series: tuple[Series, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    weeks: tuple[dt.date, ...]
    maximum: int


def nice_maximum(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``value`` (and at least 1)."""
    if value <= 1:
        return 1
    magnitude = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def line_chart(starts: Sequence[dt.date], total: Sequence[int], groups: Sequence[tuple[str, Sequence[int]]], *,
               width: int = 720, height: int = 260) -> LineChart:
    """The weekly chart of the total and of some groups.

    Args:
        starts: the Mondays, oldest first.
        total: the count of all needs per week.
        groups: (label, counts per week) of each group to draw, in the order to draw them; the first six
            get a colour each, the rest are left out.
        width, height: the view box.

    Raises:
        ValueError: when a series does not have one count per week.
    """
    series_values = [("total", list(total))] + [(name, list(values)) for name, values in groups[:len(PALETTE)]]
    for name, values in series_values:
        if len(values) != len(starts):
            raise ValueError(f"series {name!r} has {len(values)} counts for {len(starts)} weeks")
    left, right, top, bottom = 44.0, width - 28.0, 16.0, height - 36.0
    maximum = nice_maximum(max((max(v, default=0) for _, v in series_values), default=0))
    step = (right - left) / max(len(starts) - 1, 1)

    def x(i: int) -> float:
        return left + step * i if len(starts) > 1 else (left + right) / 2

    def y(value: int) -> float:
        return bottom - (bottom - top) * value / maximum

    series = tuple(
        Series(name=name, colour=TOTAL_COLOUR if i == 0 else PALETTE[i - 1], total=i == 0,
               points=tuple(Point(x(w), y(v), v, starts[w]) for w, v in enumerate(values)))
        for i, (name, values) in enumerate(series_values))
    y_ticks = tuple(Tick(y(v), str(v)) for v in _tick_values(maximum))
    every = 1 if len(starts) <= 13 else 2 if len(starts) <= 26 else 4
    x_ticks = tuple(Tick(x(i), f"{d:%d %b}") for i, d in enumerate(starts) if (len(starts) - 1 - i) % every == 0)
    return LineChart(width=width, height=height, left=left, right=right, top=top, bottom=bottom, series=series,
                     y_ticks=y_ticks, x_ticks=x_ticks, weeks=tuple(starts), maximum=maximum)


def _tick_values(maximum: int) -> list[int]:
    if maximum <= 5:
        return list(range(0, maximum + 1))
    return [maximum * i // 4 for i in range(5)] if maximum % 4 == 0 else [0, maximum // 2, maximum]


@dataclass(frozen=True)
class Sparkline:
    """A small line of weekly counts for one group's row.

    Attributes:
        width, height: the view box.
        points: the SVG ``points`` attribute.
        maximum: the largest count (the top of the line's scale).
        values: the counts, oldest week first.
    """

    width: int
    height: int
    points: str
    maximum: int
    values: tuple[int, ...]


def sparkline(values: Sequence[int], *, width: int = 120, height: int = 28) -> Sparkline:
    """A sparkline of ``values`` scaled to its own maximum (a flat line at the bottom when all are 0)."""
    maximum = max(values, default=0)
    pad = 2.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    scale = (height - 2 * pad) / maximum if maximum else 0.0
    points = " ".join(f"{pad + step * i:.1f},{height - pad - v * scale:.1f}" for i, v in enumerate(values))
    return Sparkline(width=width, height=height, points=points, maximum=maximum, values=tuple(values))
