"""The unmet-demand report: the period's needs grouped and counted per week, with bounded work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from support_requests.store import RequestStore
from tests.fakes import HashingEmbedder
from tests.support_requests.helpers import FakeClock
from support_requests.demand import DemandError, DemandLog, UnmetReason
from web.insights.report import CHART_GROUPS, DemandInsights, DemandQuery, NeedVectors

NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.timezone.utc)  # Wednesday of the week starting 23 Nov


class Entries:
    def __init__(self, known: set[str]):
        self.known = known

    def __call__(self, entry_id: str):
        return type("Entry", (), {"id": entry_id, "name": entry_id.title()})() if entry_id in self.known else None


@pytest.fixture
def world(tmp_path: Path):
    clock = FakeClock(NOW)
    store = RequestStore.from_url(f"sqlite:///{tmp_path / 'requests.db'}", clock=clock)
    demand = DemandLog(store.engine, clock=clock)
    embedder = HashingEmbedder()
    insights = DemandInsights(demand, embedder, entry=Entries({"flow-biomedicum"}), clock=clock)
    yield clock, demand, embedder, insights
    store.close()


def add_at(demand: DemandLog, clock: FakeClock, when: dt.datetime, text: str, reason: str = "weak",
           entry: str | None = None) -> None:
    saved = clock.now
    clock.now = when
    demand.add(text, reason, best_entry_id=entry, best_score=0.2 if entry else None)
    clock.now = saved


def test_the_report_groups_the_period_and_counts_weeks(world) -> None:
    clock, demand, _, insights = world
    this_week, last_week = NOW - dt.timedelta(days=1), NOW - dt.timedelta(days=8)
    add_at(demand, clock, NOW - dt.timedelta(weeks=20), "zebrafish toxicity screening")  # outside 12 weeks
    add_at(demand, clock, last_week, "zebrafish toxicity screening", entry="flow-biomedicum")
    add_at(demand, clock, this_week, "toxicity screening in zebrafish", reason="none_fit", entry="flow-biomedicum")
    add_at(demand, clock, this_week, "zebrafish screening for toxicity")
    add_at(demand, clock, this_week, "cleanroom space to rent", entry="gone-entry")
    report = insights.report(DemandQuery())
    assert (report.total, report.grouped, report.group_count) == (4, 4, 2)
    assert report.since == dt.datetime(2026, 9, 7, tzinfo=dt.timezone.utc) and len(report.weeks) == 12
    assert report.weekly_total[-2:] == (1, 3) and sum(report.weekly_total) == 4
    zebrafish, cleanroom = report.groups
    assert zebrafish.group.count == 3 and zebrafish.weekly[-2:] == (1, 2)
    assert (zebrafish.group.weak, zebrafish.group.none_fit) == (2, 1)
    assert zebrafish.closest_entry.id == "flow-biomedicum"
    assert cleanroom.closest_entry is None and cleanroom.group.closest_entry_id == "gone-entry"
    assert zebrafish.sparkline.values == zebrafish.weekly
    assert [s.name for s in report.chart.series] == ["total", zebrafish.group.label, cleanroom.group.label]
    assert zebrafish.colour == report.chart.series[1].colour and cleanroom.colour == report.chart.series[2].colour


def test_the_reason_filter_and_a_longer_period(world) -> None:
    clock, demand, _, insights = world
    add_at(demand, clock, NOW - dt.timedelta(weeks=20), "zebrafish toxicity screening")
    add_at(demand, clock, NOW - dt.timedelta(days=1), "cleanroom space to rent", reason="none_fit")
    assert insights.report(DemandQuery(weeks=26)).total == 2
    only = insights.report(DemandQuery(weeks=26, reason=UnmetReason.NONE_FIT))
    assert only.total == 1 and only.groups[0].group.label == "cleanroom space to rent"


def test_an_empty_report(world) -> None:
    *_, insights = world
    report = insights.report()
    assert (report.total, report.groups, report.weekly_total) == (0, (), (0,) * 12)
    assert len(report.chart.series) == 1


def test_the_work_is_bounded_and_only_the_largest_groups_are_charted(world) -> None:
    clock, demand, embedder, insights = world
    insights.max_grouped = 5
    words = ["zebrafish", "cleanroom", "biobank", "organoid", "proteomics", "imaging", "sequencing", "pigs"]
    for i, word in enumerate(words):
        add_at(demand, clock, NOW - dt.timedelta(hours=i + 1), word)
    report = insights.report()
    assert (report.total, report.grouped) == (8, 5)
    assert len(embedder.encoded) == 5
    assert sum(r.group.count for r in report.groups) == 5
    assert [r.colour is not None for r in report.groups] == [True] * CHART_GROUPS
    assert [r.group.label for r in report.groups] == words[:5]  # one need each: the latest first


def test_each_need_is_embedded_once(world) -> None:
    clock, demand, embedder, insights = world
    add_at(demand, clock, NOW - dt.timedelta(hours=2), "zebrafish toxicity screening")
    add_at(demand, clock, NOW - dt.timedelta(hours=1), "zebrafish toxicity screening")  # same words, no conversation
    insights.report()
    assert embedder.encoded == ["zebrafish toxicity screening"]
    add_at(demand, clock, NOW - dt.timedelta(minutes=5), "cleanroom space to rent")
    first = insights.report()
    assert embedder.encoded == ["zebrafish toxicity screening", "cleanroom space to rent"]
    assert insights.report() == first  # deterministic


def test_need_vectors_forget_what_is_no_longer_asked_for() -> None:
    from support_requests.demand import UnmetNeed

    vectors = NeedVectors(HashingEmbedder(), capacity=2)
    needs = [UnmetNeed(i, NOW, f"need {i}", UnmetReason.WEAK, None, None) for i in range(4)]
    assert vectors.vectors(needs[:3]).shape == (3, 256)
    vectors.vectors(needs[3:])
    assert set(vectors._vectors) == {3}
    assert vectors.vectors([]).shape == (0, 256)


@pytest.mark.parametrize(("params", "expected"), [
    ({}, DemandQuery(12, None)),
    ({"period": "4", "reason": "weak"}, DemandQuery(4, UnmetReason.WEAK)),
    ({"period": " 52 ", "reason": "NONE_FIT"}, DemandQuery(52, UnmetReason.NONE_FIT)),
    ({"period": "", "reason": "all"}, DemandQuery(12, None)),
])
def test_query_parsing(params, expected) -> None:
    assert DemandQuery.parse(params) == expected


@pytest.mark.parametrize(("params", "message"), [
    ({"period": "13"}, "period must be one of 4, 12, 26, 52 weeks"),
    ({"period": "-4"}, "period"),
    ({"period": "abc"}, "period"),
    ({"reason": "other"}, "reason must be all, weak or none_fit"),
])
def test_query_parsing_refuses_what_the_page_does_not_offer(params, message) -> None:
    with pytest.raises(DemandError, match=message):
        DemandQuery.parse(params)
