"""Periodic jobs run once per period across all replicas of the service.

Every replica wakes up now and then and asks the ledger whether the job is due; the ledger says yes to exactly
one of them per period. The claim is one conditional ``UPDATE`` (or the first ``INSERT``) in the request
database: on PostgreSQL a second replica's update waits for the first one's row lock and then finds the row no
longer due; on SQLite writes are serialised anyway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from support_requests.database import translate_database_errors
from support_requests.model import utc_now
from support_requests.tables import ScheduledRunRow


class RunLedger:
    """When each periodic job last started, shared by every process using the same request database.

    Args:
        engine: the engine of the (migrated) request database, such as ``RequestStore.engine``.
        clock: the current UTC time (tests pass a fake clock).
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utc_now):
        self.engine = engine
        self.clock = clock

    def claim(self, job: str, period: dt.timedelta) -> bool:
        """Claim this period's run of ``job``.

        Returns:
            True for the one caller that finds the job's last start at least ``period`` ago (or none yet), which
            is then recorded as now; False for every other caller until a period has passed.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        table = ScheduledRunRow.__table__
        now = self.clock()
        with translate_database_errors(self.engine):
            with self.engine.begin() as connection:
                due = connection.execute(update(table).where(table.c.job == job,
                                                             table.c.last_started_at <= now - period)
                                         .values(last_started_at=now))
                if due.rowcount == 1:
                    return True
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(table).values(job=job, last_started_at=now))
                return True
            except IntegrityError:  # the job has run (or another replica has just claimed it)
                return False
