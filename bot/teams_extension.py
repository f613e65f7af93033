"""The search-based messaging extension: an advisor types a need in Teams' compose box (in any chat or meeting)
and drops a matching catalogue entry into the conversation as a card.

Teams sends an ``invoke`` activity named ``composeExtension/query`` whose ``value`` holds the command's
parameters; the answer must be the HTTP response to that very request (Teams waits about 5 seconds). The
matches come from the Navigator service's JSON API, ``GET {navigator_url}/api/search?q=…`` with a reader
token, and the contact of each match from ``GET {navigator_url}/api/entries/{contact id}``.

Pure: no Rasa or Sanic import.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import aiohttp
import teams_cards

INVOKE_NAME = "composeExtension/query"
COMMAND_ID = "searchCatalogue"
PARAMETER_NAME = "need"
MAX_RESULTS = 5
MAX_QUERY_CHARS = 500


class CatalogueUnavailable(Exception):
    """The Navigator service did not answer the search."""


def query_text(value: object) -> str:
    """The need typed into the extension: the first non-blank string parameter other than ``initialRun``
    (``""`` when the extension was just opened)."""
    parameters = value.get("parameters") if isinstance(value, Mapping) else None
    for parameter in parameters if isinstance(parameters, list) else []:
        if isinstance(parameter, Mapping) and parameter.get("name") != "initialRun":
            text = parameter.get("value")
            if isinstance(text, str) and text.strip():
                return text.strip()[:MAX_QUERY_CHARS]
    return ""


def result_response(hits: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The invoke's answer: a list of results, each an Adaptive Card of the hit with a thumbnail preview."""
    return {"composeExtension": {"type": "result", "attachmentLayout": "list", "attachments": [
        {**teams_cards.attachment(teams_cards.hit_card({**hit, "rank": None})), "preview": teams_cards.hit_preview(hit)}
        for hit in hits]}}


class CatalogueSearch:
    """The Navigator service's catalogue search over its JSON API.

    Args:
        navigator_url: the service's base URL (``http://127.0.0.1:PORT``).
        token: a bearer token with the ``reader`` role.
    """

    def __init__(self, navigator_url: str, token: str, *, timeout: float = 4.0):
        self.navigator_url = navigator_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout,
                                                  headers={"Authorization": f"Bearer {self._token}"})
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            async with self._client().get(f"{self.navigator_url}{path}", params=params) as response:
                if response.status == 404:
                    return None
                response.raise_for_status()
                return await response.json()
        except (TimeoutError, aiohttp.ClientError, ValueError) as error:
            raise CatalogueUnavailable(f"the catalogue search failed ({type(error).__name__})") from error

    async def search(self, text: str, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
        """The best matches for ``text``, best first, each a hit (``Hit.to_dict``) whose ``contact`` is replaced
        by the contact's details (name, role, organisation, email) when the entry names one.

        Raises:
            CatalogueUnavailable: the service did not answer.
        """
        body = await self._get("/api/search", {"q": text, "limit": str(limit)})
        return await self.with_contacts([h for h in (body or {}).get("hits", []) if isinstance(h, dict)])

    async def with_contacts(self, hits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """``hits`` with each ``contact`` given as an entry id replaced by that entry's name, role, organisation
        and email (``None`` when the entry is not found); other contacts are kept as they are.

        Raises:
            CatalogueUnavailable: the service did not answer.
        """
        contact_ids = sorted({h["contact"] for h in hits if isinstance(h.get("contact"), str)})
        details = await asyncio.gather(*(self._get(f"/api/entries/{quote(cid, safe='')}") for cid in contact_ids))
        contacts = {cid: _contact_details(entry) for cid, entry in zip(contact_ids, details, strict=True)}
        return [{**hit, "contact": contacts.get(hit["contact"]) if isinstance(hit.get("contact"), str)
                 else hit.get("contact")} for hit in hits]


def _contact_details(entry: object) -> dict[str, Any] | None:
    if not isinstance(entry, Mapping):
        return None
    return {key: entry.get(key) for key in ("name", "role", "organisation", "email")}
