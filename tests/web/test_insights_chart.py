"""Counts per week and the geometry of the weekly chart and the sparklines."""

from __future__ import annotations

import datetime as dt

import pytest

from web.insights.chart import (PALETTE, TOTAL_COLOUR, line_chart, nice_maximum, period_start, sparkline,
                                week_starts, weekly_counts)

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday


def test_week_starts_are_the_mondays_up_to_this_week() -> None:
    starts = week_starts(NOW, 12)
    assert len(starts) == 12 and starts[-1] == dt.date(2026, 11, 23)
    assert all(d.weekday() == 0 for d in starts)
    assert starts[0] == dt.date(2026, 9, 7)
    assert period_start(starts) == dt.datetime(2026, 9, 7, tzinfo=UTC)
    # a moment given in another time zone counts in UTC
    late_sunday_utc = dt.datetime(2026, 11, 23, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert week_starts(late_sunday_utc, 1) == [dt.date(2026, 11, 16)]


@pytest.mark.parametrize(("now", "weeks", "message"), [(dt.datetime(2026, 11, 25), 12, "time-zone-aware"),
                                                        (NOW, 0, "at least 1")])
def test_week_starts_refuse_bad_input(now, weeks, message) -> None:
    with pytest.raises(ValueError, match=message):
        week_starts(now, weeks)


def test_weekly_counts_put_each_moment_in_its_week() -> None:
    starts = week_starts(NOW, 3)  # 9 Nov, 16 Nov, 23 Nov
    times = [
        dt.datetime(2026, 11, 8, 23, 59, tzinfo=UTC),  # before the period
        dt.datetime(2026, 11, 9, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 15, 23, 59, tzinfo=UTC),
        dt.datetime(2026, 11, 16, 0, 0, tzinfo=UTC),
        NOW,
        dt.datetime(2026, 11, 30, 0, 0, tzinfo=UTC),  # after the period
    ]
    assert weekly_counts(times, starts) == [2, 1, 1]
    assert weekly_counts([], starts) == [0, 0, 0]


def test_nice_maximum() -> None:
    assert [nice_maximum(v) for v in (0, 1, 2, 3, 6, 10, 11, 48, 51, 999)] == [1, 1, 2, 5, 10, 10, 20, 50, 100, 1000]


def test_line_chart_geometry() -> None:
    starts = week_starts(NOW, 4)
    chart = line_chart(starts, [0, 4, 2, 8], [("zebrafish", [0, 2, 1, 5]), ("organoids", [0, 1, 0, 3])],
                       width=400, height=200)
    total, first, second = chart.series
    assert (total.total, total.colour, first.colour, second.colour) == (True, TOTAL_COLOUR, PALETTE[0], PALETTE[1])
    assert chart.maximum == 10
    assert [p.x for p in total.points] == pytest.approx([chart.left + i * (chart.right - chart.left) / 3
                                                          for i in range(4)])
    assert total.points[0].y == chart.bottom and total.points[3].y == pytest.approx(
        chart.bottom - (chart.bottom - chart.top) * 0.8)
    assert [p.value for p in first.points] == [0, 2, 1, 5] and [p.week for p in first.points] == starts
    assert total.polyline.split()[0] == f"{chart.left:.1f},{chart.bottom:.1f}"
    assert [t.label for t in chart.y_ticks] == ["0", "5", "10"]
    assert [t.label for t in chart.x_ticks] == [f"{d:%d %b}" for d in starts]


def test_line_chart_of_nothing_and_of_many_weeks() -> None:
    starts = week_starts(NOW, 52)
    chart = line_chart(starts, [0] * 52, [])
    assert len(chart.series) == 1 and chart.maximum == 1
    assert len(chart.x_ticks) == 13 and chart.x_ticks[-1].label == f"{starts[-1]:%d %b}"
    one = line_chart(week_starts(NOW, 1), [3], [])
    assert one.series[0].points[0].x == (one.left + one.right) / 2


def test_line_chart_draws_at_most_six_groups_and_checks_lengths() -> None:
    starts = week_starts(NOW, 2)
    chart = line_chart(starts, [1, 1], [(f"g{i}", [1, 0]) for i in range(9)])
    assert len(chart.series) == 1 + len(PALETTE)
    with pytest.raises(ValueError, match="3 counts for 2 weeks"):
        line_chart(starts, [1, 2, 3], [])


def test_sparkline() -> None:
    line = sparkline([0, 2, 1, 4], width=100, height=20)
    points = [tuple(map(float, p.split(","))) for p in line.points.split()]
    assert points[0] == (2.0, 18.0) and points[-1] == (98.0, 2.0)
    assert (line.maximum, line.values) == (4, (0, 2, 1, 4))
    flat = sparkline([0, 0, 0])
    assert {p.split(",")[1] for p in flat.points.split()} == {f"{flat.height - 2:.1f}"}
