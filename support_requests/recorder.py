"""Noting unmet needs from the assistant's actions, without ever breaking or stalling a conversation.

The actions call :class:`DemandRecorder` (through their ``NeedRecorder`` protocol); it writes to the
:class:`~support_requests.demand.DemandLog` in a
worker thread (a database write must not block the event loop that serves every conversation), waits a
short while for it, and goes on regardless. A database error is logged as a warning that names the
reason and the error type only, never the need or the conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from support_requests.errors import SupportRequestError
from support_requests.demand import DemandError, DemandLog, UnmetReason

if TYPE_CHECKING:
    from index.engine import Hit

log = logging.getLogger(__name__)

DEFAULT_WAIT_SECONDS = 2.0


class DemandRecorder:
    """What the search actions use to note unmet needs.

    Args:
        demand_log: where needs are written.
        wait_seconds: how long an action waits for the write; a slower write finishes in its thread
            while the conversation goes on.
    """

    def __init__(self, demand_log: DemandLog, *, wait_seconds: float = DEFAULT_WAIT_SECONDS):
        self.demand_log = demand_log
        self.wait_seconds = wait_seconds

    async def record_weak(self, need: str, hits: Sequence[Hit], conversation_id: str | None) -> bool:
        """Note a need whose best match was weak (or that matched nothing).

        Args:
            need: the need as searched.
            hits: the search's hits, best first (may be empty).
            conversation_id: the conversation's id (only its hash is stored).

        Returns:
            True when the need was stored in time, False when it was not (the reason is logged).
        """
        best = hits[0] if hits else None
        return await self._record(need, UnmetReason.WEAK, conversation_id,
                                  best_score=best.similarity if best else None,
                                  best_entry_id=best.entry.id if best else None)

    async def record_none_fit(self, need: str, rejected_entry_id: str | None, conversation_id: str | None) -> bool:
        """Note a need for which the company said none of the results fit.

        Args:
            need: the need the results were for.
            rejected_entry_id: the first result the company rejected, if known.
            conversation_id: the conversation's id (only its hash is stored).

        Returns:
            True when the need was stored in time, False when it was not (the reason is logged).
        """
        return await self._record(need, UnmetReason.NONE_FIT, conversation_id, best_score=None,
                                  best_entry_id=rejected_entry_id)

    async def _record(self, need: str, reason: UnmetReason, conversation_id: str | None, *,
                      best_score: float | None, best_entry_id: str | None) -> bool:
        write = partial(self._write, need, reason, best_score=best_score, best_entry_id=best_entry_id,
                        conversation_id=conversation_id)
        pending = asyncio.get_running_loop().run_in_executor(None, write)
        try:
            # shield: when the wait runs out the write still finishes (or logs its failure) in its thread.
            return await asyncio.wait_for(asyncio.shield(pending), self.wait_seconds)
        except TimeoutError:
            log.warning("noting an unmet need (%s) takes longer than %.1f s; the conversation goes on",
                        reason.value, self.wait_seconds)
            return False

    def _write(self, need: str, reason: UnmetReason, *, best_score: float | None, best_entry_id: str | None,
               conversation_id: str | None) -> bool:
        try:
            self.demand_log.add(need, reason, best_score=best_score, best_entry_id=best_entry_id,
                                conversation_id=conversation_id)
        except (SQLAlchemyError, SupportRequestError, DemandError) as exc:
            log.warning("could not note an unmet need (%s): %s", reason.value, type(exc).__name__)
            return False
        return True
