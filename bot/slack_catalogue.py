"""The Navigator service's catalogue API, as the Slack channel needs it (aiohttp).

- :meth:`NavigatorCatalogue.search`: ``GET {navigator_url}/api/search?q=...`` for the advisors' slash command;
- :meth:`NavigatorCatalogue.entries`: ``GET {navigator_url}/api/entries/{id}`` for the web page and the contact
  (``url``, ``contact_details``) shown with each hit, kept for ``cache_seconds``.

Both send ``Authorization: Bearer {token}`` (an API token of role ``reader``). A failure gives ``None`` (search)
or leaves the entry out (entries), never an exception: the answer is then shown with less, not lost.

No Rasa or Sanic imports.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)

SEARCH_LIMIT = 5
"""How many matches the slash command shows."""


class NavigatorCatalogue:
    """Reads the catalogue through the Navigator service's JSON API.

    Args:
        navigator_url: the service's address, such as ``http://127.0.0.1:5055``.
        token: an API token with the ``reader`` role.
        cache_seconds: how long an entry record is reused.
        timeout: seconds for one request.
        clock: seconds (monotonic); tests pass a fake one.
    """

    def __init__(self, navigator_url: str, token: str, *, cache_seconds: float = 600.0, timeout: float = 5.0,
                 clock: Callable[[], float] = time.monotonic):
        self.navigator_url = navigator_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._cache_seconds = cache_seconds
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def search(self, need: str, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]] | None:
        """The API's hits for ``need``, best first (``Hit.to_dict`` shape); ``None`` when the search failed."""
        answer = await self._get("/api/search", {"q": need, "limit": str(limit)})
        hits = answer.get("hits") if isinstance(answer, dict) else None
        return [hit for hit in hits if isinstance(hit, dict)] if isinstance(hits, list) else None

    async def entries(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The entry records of ``ids`` (``url``, ``contact_details`` ...) by id; ids that failed are left out."""
        wanted = list(dict.fromkeys(str(i) for i in ids if i))
        found = await asyncio.gather(*(self._entry(entry_id) for entry_id in wanted))
        return {entry_id: record for entry_id, record in zip(wanted, found) if record is not None}

    async def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _entry(self, entry_id: str) -> dict[str, Any] | None:
        now = self._clock()
        cached = self._cache.get(entry_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        record = await self._get(f"/api/entries/{quote(entry_id, safe='')}", {})
        if not isinstance(record, dict):
            return None
        self._cache[entry_id] = (now + self._cache_seconds, record)
        return record

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        if not self.navigator_url:
            return None
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.get(self.navigator_url + path, params=params, headers=self._headers) as response:
                if response.status != 200:
                    log.warning("Navigator API %s answered %d", path.split("/")[2], response.status)
                    return None
                return await response.json()
        except (asyncio.TimeoutError, aiohttp.ClientError, ValueError) as error:  # noqa: UP041 (Python 3.10)
            log.warning("Navigator API %s failed: %s", path.split("/")[2], type(error).__name__)
            return None
