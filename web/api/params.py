"""Reading what a client sends: query parameters and JSON bodies, checked at the boundary.

Every function returns a clean value or raises :class:`~web.api.errors.ApiError` with a message that
names the parameter and says what is accepted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from index.catalogue import EntryType, Site
from web.api.errors import ApiError

MAX_BODY_BYTES = 64 * 1024
JSON_TYPES = ("application/json",)


def check_known(query: MultiMapping[str], accepted: Iterable[str]) -> None:
    """Refuse parameters the endpoint does not know (a typo would otherwise be silently ignored).

    Raises:
        ApiError: 400 naming the first unknown parameter and the accepted ones.
    """
    names = tuple(accepted)
    for key in query:
        if key not in names:
            raise ApiError(400, f"unknown parameter '{shown(key)}'; accepted: {', '.join(names)}")


def single(query: MultiMapping[str], name: str) -> str | None:
    """The value of a parameter given at most once, or None when absent.

    Raises:
        ApiError: 400 when it is given more than once.
    """
    values = query.getall(name, [])
    if len(values) > 1:
        raise ApiError(400, f"{name} may be given only once")
    return values[0] if values else None


def integer(query: MultiMapping[str], name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    """A whole-number parameter within bounds, or ``default`` when absent.

    Raises:
        ApiError: 400 for something else, naming the bounds.
    """
    text = single(query, name)
    if text is None:
        return default
    bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
    try:
        value = int(text.strip())
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number {bounds}") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise ApiError(400, f"{name} must be a whole number {bounds}, got {value}")
    return value


def entry_types(query: MultiMapping[str]) -> frozenset[EntryType]:
    """The ``type`` filter: repeatable, or comma-separated; empty for no filter.

    Raises:
        ApiError: 400 for an unknown type, listing the allowed ones.
    """
    found = set()
    for value in _listed(query, "type"):
        try:
            found.add(EntryType(value.lower()))
        except ValueError:
            allowed = ", ".join(t.value for t in EntryType)
            raise ApiError(400, f"unknown type '{shown(value)}'; use one of: {allowed}") from None
    return frozenset(found)


def sites(query: MultiMapping[str]) -> frozenset[Site]:
    """The ``site`` filter: repeatable, or comma-separated; ``solna`` and ``huddinge`` are accepted aliases.

    Raises:
        ApiError: 400 for an unknown site, listing the allowed ones.
    """
    found = set()
    for value in _listed(query, "site"):
        try:
            found.add(Site.parse(value))
        except ValueError:
            allowed = ", ".join(s.value for s in Site)
            raise ApiError(400, f"unknown site '{shown(value)}'; use one of: {allowed} "
                                "(solna and huddinge are accepted too)") from None
    return frozenset(found)


def point_in_time(query: MultiMapping[str], name: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """An ISO 8601 date (``2026-11-30``) or date and time with a UTC offset (``2026-11-30T12:00:00+01:00``).

    A date alone means midnight UTC at its start, or with ``end_of_day`` at its end (so that an upper
    bound of a date includes that whole day).

    Raises:
        ApiError: 400 for anything else.
    """
    text = single(query, name)
    if text is None or not text.strip():
        return None
    text = text.strip()
    example = "an ISO date such as 2026-11-30, or a date and time with offset such as 2026-11-30T09:00:00+01:00"
    if len(text) == 10:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ApiError(400, f"{name} must be {example}") from None
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
        return start + dt.timedelta(days=1) if end_of_day else start
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"{name} must be {example}") from None
    if moment.utcoffset() is None:
        raise ApiError(400, f"{name} needs a UTC offset (such as Z or +01:00) when it has a time")
    return moment.astimezone(dt.timezone.utc)


async def read_json_object(request: web.Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request's body as a JSON object, read only up to ``limit`` bytes.

    Raises:
        ApiError: 415 when the body is not declared as JSON, 413 when it is larger than ``limit``,
            400 when it is not valid UTF-8 JSON or not an object.
    """
    if request.content_type not in JSON_TYPES:
        raise ApiError(415, "send the body as JSON with 'Content-Type: application/json'")
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"the body is too large: at most {limit // 1024} KiB")
    body = bytearray()
    while True:
        chunk = await request.content.read(limit + 1 - len(body))
        if not chunk:
            break
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"the body is too large: at most {limit // 1024} KiB")
    if not body.strip():
        raise ApiError(400, "the body is empty; send a JSON object")
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(400, f"the body is not valid JSON{where}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "the body must be a JSON object")
    return value


def _listed(query: MultiMapping[str], name: str) -> list[str]:
    return [part.strip() for value in query.getall(name, []) for part in value.split(",") if part.strip()]


def shown(text: str, limit: int = 60) -> str:
    """A value from the client, shortened and without control characters, for an error message."""
    cleaned = "".join(c for c in text if c.isprintable())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
