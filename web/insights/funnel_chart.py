"""The geometry of the SVG funnel chart: one horizontal bar per step, as long as the conversations that reached
it, so the drop from one bar to the next is where companies leave.

As in :mod:`web.insights.chart`, nothing here makes markup: ``insights/_funnel_chart.html`` draws these numbers,
so every label passes through Jinja2's escaping. The steps: :mod:`support_requests.funnel`.
"""

from __future__ import annotations

from dataclasses import dataclass

from support_requests.funnel import STEPS, FunnelWeek

BAR_COLOUR = "#0072B2"


@dataclass(frozen=True)
class FunnelBar:
    """One step: its label, count, the bar's place and length, and its share of the conversations and of the
    step before (whole per cent, rounded down; None when the base is zero)."""

    key: str
    label: str
    value: int
    y: float
    width: float
    of_conversations: int | None
    of_previous: int | None


@dataclass(frozen=True)
class FunnelChart:
    """Everything the template needs: the view box, the bars' left edge, height and longest length."""

    width: int
    height: int
    left: float
    bar_height: float
    longest: float
    bars: tuple[FunnelBar, ...]


def _share(part: int, whole: int) -> int | None:
    return part * 100 // whole if whole else None


def funnel_chart(total: FunnelWeek, *, width: int = 720, bar_height: float = 26.0, gap: float = 10.0) -> FunnelChart:
    """The bars of ``total``'s steps, scaled to the largest count (an empty funnel has bars of length 0)."""
    left, right_margin, top = 190.0, 150.0, 8.0
    longest = width - left - right_margin
    counts = total.counts()
    largest = max(counts) or 1
    bars = []
    for index, ((key, label), value) in enumerate(zip(STEPS, counts)):
        bars.append(FunnelBar(key=key, label=label, value=value, y=top + index * (bar_height + gap),
                              width=longest * value / largest, of_conversations=_share(value, counts[0]),
                              of_previous=_share(value, counts[index - 1]) if index else None))
    height = int(top * 2 + len(STEPS) * (bar_height + gap) - gap)
    return FunnelChart(width=width, height=height, left=left, bar_height=bar_height, longest=longest,
                       bars=tuple(bars))
