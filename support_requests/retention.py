"""Retention and erasure across the stores: requests, the unmet-needs log and the assistant's conversations.

The request store erases its own rows (:meth:`RequestStore.erase`, :meth:`RequestStore.erase_expired`); what
those requests' conversations left elsewhere is erased here, so every face (the command line, the service's
periodic run) erases the same things.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from support_requests.conversations import erase_tracker_events, tracker_has_events
from support_requests.demand import DemandLog
from support_requests.model import ErasureReport
from support_requests.store import RequestStore


def erase_conversations(request_db: Engine, tracker_db_url: str | URL, conversation_ids: Sequence[str]) -> int:
    """Delete the conversations' events from the assistant's tracker store, and the unmet needs they noted.

    Args:
        request_db: the request database, which holds the unmet-needs log.
        tracker_db_url: Rasa's SQL tracker store.
        conversation_ids: Rasa sender ids.

    Returns:
        How many tracker events were deleted; 0 when the tracker store holds none yet.
    """
    if not conversation_ids:
        return 0
    DemandLog(request_db).erase_conversations(conversation_ids)
    if not tracker_has_events(tracker_db_url):
        return 0
    return erase_tracker_events(tracker_db_url, conversation_ids)


def purge_expired(store: RequestStore, tracker_db_url: str | URL, retention_days: int) -> tuple[ErasureReport, int]:
    """Erase requests closed longer than ``retention_days`` and their conversations; delete the unmet needs
    noted that long ago or longer.

    Returns:
        What was erased, and how many tracker events were deleted.
    """
    report = store.erase_expired(retention_days)
    DemandLog(store.engine, clock=store.clock).purge(retention_days)
    return report, erase_conversations(store.engine, tracker_db_url, report.conversation_ids)
