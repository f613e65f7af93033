"""Request references: ``SLT-YYYY-NNNN``, sequential per year, unique and never reused.

A reference is allocated by an atomic upsert of the year's counter row
(``INSERT ... ON CONFLICT (year) DO UPDATE SET last_number = last_number + 1
RETURNING last_number``) in the same transaction that stores the request. The
counter row stays locked until that transaction ends, so concurrent creators
queue on it; if the transaction rolls back, so does the increment, and the
committed counter only ever grows: no number is handed out twice.
"""

from __future__ import annotations

import re

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from support_requests.tables import ReferenceCounterRow

PREFIX = "SLT"
REFERENCE_PATTERN = re.compile(r"^SLT-(\d{4})-(\d{4,})$")


def format_reference(year: int, number: int) -> str:
    """``SLT-2026-0042`` for year 2026, number 42 (numbers past 9999 simply get more digits)."""
    return f"{PREFIX}-{year:04d}-{number:04d}"


def parse_reference(text: str) -> str | None:
    """The reference in canonical form (upper case, no surrounding space), or None if ``text`` is not one."""
    if not isinstance(text, str):
        return None
    candidate = text.strip().upper()
    return candidate if REFERENCE_PATTERN.match(candidate) else None


def allocate_number(session: Session, year: int) -> int:
    """The next number of ``year``, reserved in the session's transaction (1 for the year's first request).

    Raises:
        NotImplementedError: for a database other than SQLite or PostgreSQL.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        insert = postgresql.insert
    elif dialect == "sqlite":
        insert = sqlite.insert
    else:  # pragma: no cover - the store supports only these two
        raise NotImplementedError(f"reference allocation is not implemented for {dialect}")
    table = ReferenceCounterRow.__table__
    statement = (
        insert(table)
        .values(year=year, last_number=1)
        .on_conflict_do_update(index_elements=[table.c.year], set_={"last_number": table.c.last_number + 1})
        .returning(table.c.last_number)
    )
    return int(session.execute(statement).scalar_one())


def allocate_reference(session: Session, year: int) -> str:
    """The next reference of ``year``, such as ``SLT-2026-0001``; see :func:`allocate_number`."""
    return format_reference(year, allocate_number(session, year))
