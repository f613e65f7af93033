"""The unmet-demand report: the needs of a period, grouped by meaning, with their counts per week.

:class:`DemandInsights` reads the :class:`~support_requests.demand.DemandLog`, embeds the needs with the
engine's model (each need once: vectors are kept in memory by need id), groups them
(:func:`~web.insights.clusters.group_needs`) and counts them per week (:mod:`web.insights.chart`). The work is
bounded: at most :data:`MAX_GROUPED` of the period's latest needs are grouped. It blocks (database, model):
call it from a worker thread.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from index.catalogue import Entry
from index.embedding import Embedder
from support_requests.model import utc_now
from web.insights.chart import (LineChart, Sparkline, line_chart, period_start, sparkline, week_starts,
                                weekly_counts)
from web.insights.clusters import DEFAULT_MAX_DISTANCE, NeedGroup, group_needs
from support_requests.demand import DemandError, DemandLog, UnmetNeed, UnmetReason

PERIOD_WEEKS = (4, 12, 26, 52)
"""The periods the page offers, in weeks (the current week counts as one)."""
DEFAULT_PERIOD_WEEKS = 12
MAX_GROUPED = 2000
"""At most this many of the period's latest needs are grouped."""
CHART_GROUPS = 5
"""How many of the largest groups get a line of their own in the chart."""
MAX_GROUPS_SHOWN = 50


@dataclass(frozen=True)
class DemandQuery:
    """What the demand page asks for.

    Attributes:
        weeks: the period, one of :data:`PERIOD_WEEKS`.
        reason: only needs noted for this reason; ``None`` for all.
    """

    weeks: int = DEFAULT_PERIOD_WEEKS
    reason: UnmetReason | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> DemandQuery:
        """The query of a page's parameters ``period`` (weeks) and ``reason`` (``all``, ``weak``, ``none_fit``);
        a missing or empty parameter takes its default.

        Raises:
            DemandError: naming the parameter that has a value the page does not offer.
        """
        period = (params.get("period") or "").strip()
        weeks = DEFAULT_PERIOD_WEEKS
        if period:
            if not period.isdigit() or int(period) not in PERIOD_WEEKS:
                raise DemandError("period must be one of " + ", ".join(map(str, PERIOD_WEEKS)) + " weeks")
            weeks = int(period)
        reason_text = (params.get("reason") or "").strip().lower()
        if reason_text in ("", "all"):
            return cls(weeks=weeks, reason=None)
        try:
            reason = UnmetReason.parse(reason_text)
        except DemandError:
            raise DemandError("reason must be all, weak or none_fit") from None
        return cls(weeks=weeks, reason=reason)


@dataclass(frozen=True)
class GroupRow:
    """One group as the page shows it.

    Attributes:
        group: the needs and their summary.
        weekly: its counts per week of the period, oldest first.
        sparkline: those counts drawn small.
        colour: its line colour in the chart, or ``None`` when it has no line there.
        closest_entry: the catalogue entry closest to its needs (``None`` when none was recorded or the
            entry left the catalogue).
    """

    group: NeedGroup
    weekly: tuple[int, ...]
    sparkline: Sparkline
    colour: str | None
    closest_entry: Entry | None


@dataclass(frozen=True)
class DemandReport:
    """The demand page's data.

    Attributes:
        query: what was asked.
        generated_at: when the report was made (UTC).
        since: the start of the period (midnight UTC on a Monday).
        weeks: the Mondays of the period, oldest first.
        total: how many needs were noted in the period (with the reason asked for).
        grouped: how many of them (the latest) were grouped; less than ``total`` only past :data:`MAX_GROUPED`.
        weekly_total: all needs per week.
        groups: the groups, largest first (at most :data:`MAX_GROUPS_SHOWN`).
        group_count: how many groups there were in all.
        chart: the weekly chart of the total and the largest groups.
    """

    query: DemandQuery
    generated_at: dt.datetime
    since: dt.datetime
    weeks: tuple[dt.date, ...]
    total: int
    grouped: int
    weekly_total: tuple[int, ...]
    groups: tuple[GroupRow, ...]
    group_count: int
    chart: LineChart


class NeedVectors:
    """The embeddings of needs, computed once per need and kept in memory (thread-safe).

    Args:
        embedder: the engine's model.
        capacity: how many vectors to keep; past it, those not asked for last are dropped.
    """

    def __init__(self, embedder: Embedder, *, capacity: int = 4 * MAX_GROUPED):
        self.embedder = embedder
        self.capacity = capacity
        self._vectors: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def vectors(self, needs: list[UnmetNeed]) -> np.ndarray:
        """One normalised float32 vector per need, in the order given; shape ``(len(needs), dimension)``."""
        with self._lock:
            missing = [n for n in needs if n.id not in self._vectors]
            if missing:
                texts = sorted({n.need for n in missing})
                encoded = np.asarray(self.embedder.encode_queries(texts), dtype=np.float32)
                by_text = dict(zip(texts, encoded))
                for need in missing:
                    self._vectors[need.id] = by_text[need.need]
            result = (np.stack([self._vectors[n.id] for n in needs]) if needs
                      else np.zeros((0, self.embedder.dimension), dtype=np.float32))
            if len(self._vectors) > self.capacity:
                wanted = {n.id for n in needs}
                self._vectors = {k: v for k, v in self._vectors.items() if k in wanted}
            return result


class DemandInsights:
    """Makes the unmet-demand report.

    Args:
        demand_log: where the needs are.
        embedder: the engine's model (the same one that searched the needs).
        entry: looks up a catalogue entry by id (``SearchEngine.entry``).
        clock: the current UTC time.
        max_grouped: at most this many of the period's latest needs are grouped.
        max_distance: see :func:`~web.insights.clusters.group_needs`.
    """

    def __init__(self, demand_log: DemandLog, embedder: Embedder, *, entry: Callable[[str], Entry | None],
                 clock: Callable[[], dt.datetime] = utc_now, max_grouped: int = MAX_GROUPED,
                 max_distance: float = DEFAULT_MAX_DISTANCE):
        self.demand_log = demand_log
        self.vectors = NeedVectors(embedder, capacity=4 * max_grouped)
        self.entry = entry
        self.clock = clock
        self.max_grouped = max_grouped
        self.max_distance = max_distance

    def report(self, query: DemandQuery = DemandQuery()) -> DemandReport:
        """The report for ``query`` as of now. Blocks on the database and the model.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        now = self.clock()
        starts = week_starts(now, query.weeks)
        since = period_start(starts)
        reasons = (query.reason,) if query.reason else ()
        times = self.demand_log.times(since=since, reasons=reasons)
        needs = self.demand_log.needs(since=since, reasons=reasons, limit=self.max_grouped)
        groups = group_needs(needs, self.vectors.vectors(needs), max_distance=self.max_distance)
        weekly_total = weekly_counts(times, starts)
        rows: list[GroupRow] = []
        for group in groups[:MAX_GROUPS_SHOWN]:
            weekly = weekly_counts((n.created_at for n in group.needs), starts)
            entry = self.entry(group.closest_entry_id) if group.closest_entry_id else None
            rows.append(GroupRow(group=group, weekly=tuple(weekly), sparkline=sparkline(weekly), colour=None,
                                 closest_entry=entry))
        chart = line_chart(starts, weekly_total, [(row.group.label, row.weekly) for row in rows[:CHART_GROUPS]])
        colours = {i: series.colour for i, series in enumerate(chart.series[1:])}
        rows = [GroupRow(group=row.group, weekly=row.weekly, sparkline=row.sparkline, colour=colours.get(i),
                         closest_entry=row.closest_entry) for i, row in enumerate(rows)]
        return DemandReport(query=query, generated_at=now, since=since, weeks=tuple(starts), total=len(times),
                            grouped=len(needs), weekly_total=tuple(weekly_total), groups=tuple(rows),
                            group_count=len(groups), chart=chart)
