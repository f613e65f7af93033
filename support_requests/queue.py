"""The advisors' queue of requests, one page at a time: filtered, counted and cut in the database.

The console's queue shows 50 requests of possibly tens of thousands. :class:`RequestQueue` counts the matching
requests, reads the advisors found among them and loads only the requests of the page asked for, so a page costs
the same whatever the history's size. The order is the queue's: newest first, ties by reference (descending).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, func, select

from support_requests.database import session_factory, translate_database_errors
from support_requests.model import RequestStatus, SupportRequest
from support_requests.rows import to_model
from support_requests.tables import RequestRow


@dataclass(frozen=True)
class QueueQuery:
    """Which requests the queue shows.

    Attributes:
        statuses: only requests in one of these statuses; None: any.
        assignee: only this advisor's requests; None: any advisor or none (see ``unassigned``).
        unassigned: only the requests nobody is assigned to (``assignee`` is then ignored).
        created_from: the first creation time included (UTC), or None.
        created_before: the first creation time excluded (UTC), or None.
    """

    statuses: Collection[RequestStatus] | None = None
    assignee: str | None = None
    unassigned: bool = False
    created_from: dt.datetime | None = None
    created_before: dt.datetime | None = None

    def scope(self) -> Select[Any]:
        """The matching requests' ids, without the advisor filter (the queue offers the advisors of this scope)."""
        query = select(RequestRow.id)
        if self.statuses is not None:
            query = query.where(RequestRow.status.in_([RequestStatus(s) for s in self.statuses]))
        if self.created_from is not None:
            query = query.where(RequestRow.created_at >= self.created_from)
        if self.created_before is not None:
            query = query.where(RequestRow.created_at < self.created_before)
        return query

    def matching(self) -> Select[Any]:
        """The matching requests' ids, with the advisor filter."""
        query = self.scope()
        if self.unassigned:
            return query.where(RequestRow.assignee.is_(None))
        if self.assignee is not None:
            return query.where(RequestRow.assignee == self.assignee)
        return query


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue.

    Attributes:
        requests: the page's requests, newest first.
        total: how many requests match the query in all.
        page: the page shown (from 1; a page past the end shows the last one).
        pages: how many pages there are (at least 1).
        assignees: the advisors of the requests matching the query without its advisor filter, sorted.
    """

    requests: tuple[SupportRequest, ...]
    total: int
    page: int
    pages: int
    assignees: tuple[str, ...]


class RequestQueue:
    """Reads the queue from the request database.

    Args:
        engine: the request database (``RequestStore.engine``), migrated.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = session_factory(engine)

    def page(self, query: QueueQuery, page: int, page_size: int) -> QueuePage:
        """The ``page``-th page (from 1) of ``page_size`` requests matching ``query``, newest first; a page past
        the end gives the last page. One transaction: a count, the advisors, and the page's requests.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        with translate_database_errors(self.engine), self._sessions.begin() as session:
            total = int(session.scalar(select(func.count()).select_from(query.matching().subquery())) or 0)
            assignees = session.scalars(
                select(RequestRow.assignee).distinct()
                .where(RequestRow.id.in_(query.scope()), RequestRow.assignee.is_not(None))).all()
            pages = max(1, -(-total // page_size))
            shown = min(max(page, 1), pages)
            rows = session.scalars(self._newest(query).limit(page_size).offset((shown - 1) * page_size)).all()
            return QueuePage(requests=tuple(to_model(row) for row in rows), total=total, page=shown, pages=pages,
                             assignees=tuple(sorted(assignees)))

    def all(self, query: QueueQuery) -> list[SupportRequest]:
        """Every request matching ``query``, newest first (for the queue's CSV export).

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        with translate_database_errors(self.engine), self._sessions.begin() as session:
            return [to_model(row) for row in session.scalars(self._newest(query))]

    @staticmethod
    def _newest(query: QueueQuery) -> Select[Any]:
        return (select(RequestRow).where(RequestRow.id.in_(query.matching()))
                .order_by(RequestRow.created_at.desc(), RequestRow.reference.desc()))
