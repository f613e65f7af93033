"""Reading what a client sends: query parameters and JSON bodies, checked at the boundary.

Every function returns a clean value or raises :class:`~web.api.errors.ApiError` with a message that
names the parameter and says what is accepted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from index.catalogue import EntryType, Site
from web.api.errors import ApiError

MAX_BODY_BYTES = 64 * 1024
JSON_TYPES = ("application/json",)

# The patterns below are written again, character for character, in web/api/openapi.yaml: JSON Schema reads them as
# ECMA-262 regular expressions and Python as ``re``, and they use only what both read alike (a test compares them).
# Values are matched whole (``re.fullmatch``), as JSON Schema's anchored patterns match them.

BLANK = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""The characters ``str.strip()`` removes (``str.isspace``), spelled out so that both readings agree."""

NOT_BLANK = rf"[^{BLANK}]"
"""Found in text that holds more than white space (``q``; a search, not anchored)."""

_SHOWN = r"[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"  # neither blank nor control
_IN_LINE = r"[^\x00-\x1f\x7f]"
_IN_TEXT = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"

LINE = rf"^{_IN_LINE}*{_SHOWN}{_IN_LINE}*$"
"""One line of text that is not blank, without control characters (names, the assignee, the notice version)."""

LINE_OR_BLANK = rf"^{_IN_LINE}*$"
"""One line of text, possibly empty (``conversation_id``)."""

TEXT = rf"^{_IN_TEXT}*{_SHOWN}{_IN_TEXT}*$"
"""Text that is not blank, on one line or several (tabs and line breaks allowed, no other control characters)."""

IDEMPOTENCY_KEY = r"^[ -~]*[!-~][ -~]*$"
"""Printable ASCII with at least one character that is not a space (the ``Idempotency-Key`` header)."""

PHONE = r"^(|\+?[ ()-]*([0-9][ ()-]*){6,20})$"
"""Empty (no phone), or 6 to 20 digits with spaces, ``-`` and parentheses, and a leading ``+``."""

ORG_NUMBER = r"^(|(16)?[0-9]{6}-?[0-9]{4})$"
"""Empty (none), or a Swedish organisation number: ``NNNNNN-NNNN`` (hyphen optional), or 12 digits from ``16``."""

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*"
_SPECIAL_USE = "|".join("".join(f"[{c.upper()}{c}]" for c in name)
                        for name in ("arpa", "invalid", "local", "localhost", "onion", "test"))
EMAIL = rf"^{_ATOM}(\.{_ATOM})*@({_LABEL}\.)+[A-Za-z]+$"
"""An ASCII address (``format: email``) email-validator accepts: a dot-atom, then a domain of labels (letters, digits
and single hyphens) under a top-level domain of letters; with :data:`EMAIL_REFUSED`, what the document says."""

EMAIL_REFUSED = rf"^[^@]{{65}}|[.@]({_SPECIAL_USE})$"
"""Found in an address with more than 64 characters before the ``@`` or under a special-use domain (``.test``,
``.local``, ...) where no mailbox can exist (the document's ``not``; a search, not anchored)."""


def is_email(text: object) -> bool:
    """True for an address the document's ``email`` schema allows (and email-validator accepts)."""
    return isinstance(text, str) and matches(EMAIL, text) and re.search(EMAIL_REFUSED, text) is None


CONSENT_YEAR = r"^2[0-9]{3}-"
"""Consent is given from the year 2000 on (a search: the start of a date-time)."""

DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
"""An RFC 3339 full-date (``format: date``); whether the day exists is checked when it is read."""

DATE_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
                       r"([Zz]|[+-][0-9]{2}:[0-9]{2})?")
"""An RFC 3339 date-time (``format: date-time``) when the offset group matched; without it, one that lacks it."""

INTEGER = re.compile(r"-?[0-9]+")

_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def matches(pattern: str, text: str) -> bool:
    """True when ``pattern`` (anchored with ``^`` and ``$``, as in the document) matches all of ``text``."""
    return re.fullmatch(pattern, text) is not None


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
    if not INTEGER.fullmatch(text):
        raise ApiError(400, f"{name} must be a whole number {bounds}")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        raise ApiError(400, f"{name} must be a whole number {bounds}, got {value}")
    return value


def entry_types(query: MultiMapping[str]) -> frozenset[EntryType]:
    """The ``type`` filter: repeatable, or comma-separated; empty for no filter.

    Raises:
        ApiError: 400 for a value that is not one of the types (exactly as written, lower case), listing them.
    """
    allowed = {t.value: t for t in EntryType}
    return frozenset(allowed[value] for value in _listed(query, "type", allowed))


SITE_NAMES = {"flemingsberg": Site.FLEMINGSBERG, "hagastaden": Site.HAGASTADEN, "elsewhere": Site.ELSEWHERE,
              "solna": Site.HAGASTADEN, "huddinge": Site.FLEMINGSBERG}
"""The values of the ``site`` filter: the sites, and ``solna`` and ``huddinge`` for the two campuses."""


def sites(query: MultiMapping[str]) -> frozenset[Site]:
    """The ``site`` filter: repeatable, or comma-separated; ``solna`` and ``huddinge`` are accepted aliases.

    Raises:
        ApiError: 400 for a value that is not one of the sites or aliases (lower case), listing them.
    """
    return frozenset(SITE_NAMES[value] for value in _listed(query, "site", SITE_NAMES,
                                                            " (solna and huddinge are accepted too)"))


def enum_value(query: MultiMapping[str], name: str, allowed: Iterable[str]) -> str | None:
    """A parameter that must be one of ``allowed`` exactly, or None when absent.

    Raises:
        ApiError: 400 for any other value, the empty one included, listing the allowed ones.
    """
    values = tuple(allowed)
    text = single(query, name)
    if text is not None and text not in values:
        raise ApiError(400, f"{name}: unknown {name} '{shown(text)}'; use one of: {', '.join(values)}")
    return text


def point_in_time(query: MultiMapping[str], name: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """An RFC 3339 date (``2026-11-30``) or date and time with a UTC offset (``2026-11-30T12:00:00+01:00``).

    A date alone means midnight UTC at its start, or with ``end_of_day`` at its end (so that an upper
    bound of a date includes that whole day). Moments beyond what Python represents in UTC (the first
    hours of year 1, the last of year 9999) are taken as the earliest or latest representable one.

    Raises:
        ApiError: 400 for anything else, the empty value included.
    """
    text = single(query, name)
    if text is None:
        return None
    example = "an ISO date such as 2026-11-30, or a date and time with offset such as 2026-11-30T09:00:00+01:00"
    if matches(DATE, text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ApiError(400, f"{name} must be {example}") from None
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
        if not end_of_day:
            return start
        return start + dt.timedelta(days=1) if day < dt.date.max else dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    match = DATE_TIME.fullmatch(text)
    if match and match.group(6) is None:
        raise ApiError(400, f"{name} needs a UTC offset (such as Z or +01:00) when it has a time")
    moment = date_time(text)
    if moment is None:
        raise ApiError(400, f"{name} must be {example}")
    return in_utc(moment)


def date_time(text: str) -> dt.datetime | None:
    """The moment an RFC 3339 date-time with offset names (``T`` and ``Z`` in either case, leap second ``60``
    read as ``59``, fractions beyond microseconds cut), or None when ``text`` is not one."""
    match = DATE_TIME.fullmatch(text)
    if match is None or match.group(6) is None:
        return None
    day, hour, minute, second, fraction, offset = match.groups()
    fraction = (fraction or "")[:7]
    offset = "+00:00" if offset in ("Z", "z") else offset
    second = "59" if second == "60" else second
    try:
        return dt.datetime.fromisoformat(f"{day}T{hour}:{minute}:{second}{fraction}{offset}")
    except ValueError:
        return None


def in_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC, or the earliest or latest moment Python represents when UTC lies beyond them."""
    try:
        return moment.astimezone(dt.timezone.utc)
    except OverflowError:
        edge = dt.datetime.min if moment.year == dt.MINYEAR else dt.datetime.max
        return edge.replace(tzinfo=dt.timezone.utc)


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


def body_text(body: dict[str, Any], name: str, max_chars: int, *, pattern: str = LINE,
              required: bool = True) -> str | None:
    """A text member of a body, checked as sent: ``pattern`` (one of :data:`LINE`, :data:`LINE_OR_BLANK`,
    :data:`TEXT`) and at most ``max_chars`` characters. The store strips and checks it again.

    Returns:
        The text, or None when the member is absent or null and not ``required``.

    Raises:
        ApiError: 422 naming the member when it is missing, null or blank (and required), not text, too long, or
            holds control characters (line breaks too, unless ``pattern`` is :data:`TEXT`).
    """
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(422, f"{name}: is required", field=name)
        return None
    if not isinstance(value, str):
        raise ApiError(422, f"{name}: must be text", field=name)
    if len(value) > max_chars:
        raise ApiError(422, f"{name}: is too long: {len(value)} characters, at most {max_chars}", field=name)
    if matches(pattern, value):
        return value
    if (_TEXT_FORBIDDEN if pattern == TEXT else _LINE_FORBIDDEN).search(value):
        what = "control characters" if pattern == TEXT else "line breaks or control characters"
        raise ApiError(422, f"{name}: may not contain {what}", field=name)
    raise ApiError(422, f"{name}: is required", field=name)


def _listed(query: MultiMapping[str], name: str, allowed: Iterable[str], note: str = "") -> list[str]:
    """The values of a repeatable, comma-separated parameter, each one of ``allowed`` exactly.

    Raises:
        ApiError: 400 for any other value, an empty one included (``type=`` or ``type=facility,``).
    """
    names = tuple(allowed)
    found = [part for value in query.getall(name, []) for part in value.split(",")]
    for part in found:
        if part not in names:
            raise ApiError(400, f"unknown {name} '{shown(part)}'; use one of: "
                                f"{', '.join(n for n in names if n not in ('solna', 'huddinge'))}{note}")
    return found


def shown(text: str, limit: int = 60) -> str:
    """A value from the client, shortened and without control characters, for an error message."""
    cleaned = "".join(c for c in text if c.isprintable())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
