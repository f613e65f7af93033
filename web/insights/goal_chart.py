"""The geometry of the SVG chart of companies reached over time against the target.

As in :mod:`web.insights.chart`, nothing here makes markup: the template ``insights/_goal_chart.html`` draws
the numbers computed here, so every label passes through Jinja2's escaping. Months and weeks are Stockholm's
(:mod:`support_requests.outcomes`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from support_requests.outcome_report import TimelinePoint
from support_requests.outcomes import Granularity
from web.insights.chart import Tick, nice_maximum

LINE_COLOUR = "#0072B2"
TARGET_COLOUR = "#D55E00"


@dataclass(frozen=True)
class GoalPoint:
    """One month or week: where its cumulative count is drawn, and its label."""

    x: float
    y: float
    value: int
    start: dt.date
    label: str


@dataclass(frozen=True)
class GoalChart:
    """Everything the template needs to draw the cumulative line and the target.

    Attributes:
        width, height: the SVG's view box.
        left, right, top, bottom: the plot area's edges inside it.
        points: companies reached since the start, at the end of each month or week, oldest first.
        target, target_y: the goal and the height of its dashed line.
        y_ticks, x_ticks: axis labels.
        unit: ``month`` or ``week``.
    """

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    points: tuple[GoalPoint, ...]
    target: int
    target_y: float
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    unit: str

    @property
    def polyline(self) -> str:
        """The points as an SVG ``points`` attribute."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def period_label(start: dt.date, granularity: Granularity) -> str:
    """``Jan 2026`` for a month, ``week of 30 Mar 2026`` for a week."""
    return f"{start:%b %Y}" if granularity is Granularity.MONTH else f"week of {start:%d %b %Y}"


def goal_chart(timeline: Sequence[TimelinePoint], target: int, granularity: Granularity = Granularity.MONTH, *,
               width: int = 720, height: int = 260) -> GoalChart:
    """The chart of ``timeline``'s cumulative counts, scaled so that the target line fits.

    Raises:
        ValueError: for an empty timeline or a target under 1.
    """
    if not timeline:
        raise ValueError("the timeline has no month or week")
    if target < 1:
        raise ValueError("the target must be at least 1")
    left, right, top, bottom = 48.0, width - 28.0, 16.0, height - 36.0
    maximum = nice_maximum(max(target, max(p.cumulative for p in timeline)))
    step = (right - left) / max(len(timeline) - 1, 1)

    def x(i: int) -> float:
        return left + step * i if len(timeline) > 1 else (left + right) / 2

    def y(value: int) -> float:
        return bottom - (bottom - top) * value / maximum

    points = tuple(GoalPoint(x(i), y(p.cumulative), p.cumulative, p.start, period_label(p.start, granularity))
                   for i, p in enumerate(timeline))
    y_ticks = tuple(Tick(y(v), str(v)) for v in (0, maximum // 4, maximum // 2, maximum * 3 // 4, maximum))
    every = 1 if len(timeline) <= 13 else 2 if len(timeline) <= 26 else 4
    short = "%b %y" if granularity is Granularity.MONTH else "%d %b"
    x_ticks = tuple(Tick(x(i), f"{p.start:{short}}") for i, p in enumerate(timeline)
                    if (len(timeline) - 1 - i) % every == 0)
    return GoalChart(width=width, height=height, left=left, right=right, top=top, bottom=bottom, points=points,
                     target=target, target_y=y(target), y_ticks=tuple(dict.fromkeys(y_ticks)), x_ticks=x_ticks,
                     unit=granularity.value)
