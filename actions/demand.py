"""What the search actions need in order to note unmet demand: a small protocol, so that the actions depend
on behaviour, not on the store that keeps the needs (the service passes
:class:`support_requests.recorder.DemandRecorder`; tests pass a fake)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from index.engine import Hit


class NeedRecorder(Protocol):
    """Notes needs the catalogue answered poorly. Neither method raises: a failure is logged and the
    conversation goes on."""

    async def record_weak(self, need: str, hits: Sequence[Hit], conversation_id: str | None) -> bool:
        """Note a need whose best match was weak or that matched nothing; True when it was stored."""

    async def record_none_fit(self, need: str, rejected_entry_id: str | None, conversation_id: str | None) -> bool:
        """Note a need for which the company said none of the results fit; True when it was stored."""
