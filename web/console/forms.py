"""Reading the console's query strings and forms into checked values. No aiohttp: plain mappings in, values out.

Every reader raises :class:`FormError` naming the field and what is accepted; the views turn it into a 400
page or JSON error, so bad input never reaches the engine or the store.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from index.catalogue import EntryType, Site
from support_requests.model import RequestStatus
from support_requests.validation import ENTRY_ID_PATTERN, MAX_ENTRY_IDS, MAX_SUMMARY_CHARS

DEFAULT_TOP = 10
MAX_TOP = 25
PAGE_SIZE = 50
UNASSIGNED = "-"
"""The assignee filter value meaning "nobody is assigned"."""
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_CONVERSATION_CHARS = 255


class MultiMapping(Protocol):
    """A query string or posted form: one value per name, or all of them."""

    def get(self, key: str, default: object = None) -> object: ...

    def getall(self, key: str, default: object = ...) -> list[object]: ...


class FormError(ValueError):
    """A query-string or form value cannot be used; ``field`` names it, the message says what is accepted."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class SearchParams:
    """A live intake search.

    Attributes:
        query: the advisor's notes, as typed.
        types: entry types to keep (empty: all).
        sites: sites to keep (empty: all).
        top: how many matches to return.
    """

    query: str
    types: frozenset[EntryType]
    sites: frozenset[Site]
    top: int


@dataclass(frozen=True)
class QueueFilters:
    """The request queue's filters; dates are whole UTC days, both ends included.

    Attributes:
        status: only requests in this status, or None for all.
        assignee: only this advisor's requests; :data:`UNASSIGNED` for requests nobody has; None for all.
        created_from: the first day of creation to include, or None.
        created_to: the last day of creation to include, or None.
        page: the page of the queue to show, from 1.
        waiting: only the requests waiting too long (new or assigned after more than the threshold of working
            days).
    """

    status: RequestStatus | None = None
    assignee: str | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    page: int = 1
    waiting: bool = False

    @property
    def created_from_time(self) -> dt.datetime | None:
        """The inclusive lower bound on creation time for the store (start of the day, UTC)."""
        return _day_start(self.created_from) if self.created_from else None

    @property
    def created_to_time(self) -> dt.datetime | None:
        """The exclusive upper bound on creation time for the store (start of the next day, UTC)."""
        return _day_start(self.created_to + dt.timedelta(days=1)) if self.created_to else None

    def query_string(self, *, page: int | None = None) -> str:
        """These filters as a query string (without ``?``), for links to other pages and the CSV export.

        Args:
            page: the page to link to; None leaves the page out.
        """
        pairs = [("status", self.status.value if self.status else ""), ("assignee", self.assignee or ""),
                 ("created_from", self.created_from.isoformat() if self.created_from else ""),
                 ("created_to", self.created_to.isoformat() if self.created_to else ""),
                 ("waiting", "1" if self.waiting else "")]
        if page is not None and page > 1:
            pairs.append(("page", str(page)))
        return urlencode([(name, value) for name, value in pairs if value])


@dataclass(frozen=True)
class NewRequestPrefill:
    """What the intake search hands to the new-request page.

    Attributes:
        entry_ids: the matches ticked "add to request", in order.
        need: the advisor's notes, as the need summary to start from.
        conversation_id: the assistant's conversation the request continues, or None.
    """

    entry_ids: tuple[str, ...]
    need: str
    conversation_id: str | None


def parse_search_params(query: Mapping[str, str] | MultiMapping, max_query_chars: int) -> SearchParams:
    """Read ``q``, ``type`` and ``site`` (each filter may repeat or hold comma-separated values) and ``top``.

    Args:
        query: the request's query string.
        max_query_chars: the longest query accepted (``settings.max_query_chars``).

    Returns:
        The checked search.

    Raises:
        FormError: for an empty or over-long ``q``, an unknown type or site, or ``top`` out of 1..25.
    """
    text = _one(query, "q")
    if not text.strip():
        raise FormError("q", "type the company's need to search")
    if len(text) > max_query_chars:
        raise FormError("q", f"the notes are too long to search: at most {max_query_chars} characters, "
                             f"got {len(text)}")
    types = frozenset(_enum_values(query, "type", EntryType))
    sites: set[Site] = set()
    for value in _listed(query, "site"):
        try:
            sites.add(Site.parse(value))
        except ValueError:
            raise FormError("site", "unknown site; use one of: flemingsberg, hagastaden (or solna), elsewhere") \
                from None
    top = _int(_one(query, "top"), "top", default=DEFAULT_TOP, minimum=1, maximum=MAX_TOP)
    return SearchParams(query=text, types=types, sites=frozenset(sites), top=top)


def parse_queue_filters(query: Mapping[str, str] | MultiMapping) -> QueueFilters:
    """Read ``status``, ``assignee``, ``created_from``, ``created_to`` (YYYY-MM-DD), ``waiting`` (``1``: only the
    requests waiting too long) and ``page``; empty means "any".

    Raises:
        FormError: for an unknown status, a malformed date, ``created_from`` after ``created_to``, or a bad page.
    """
    status_text = _one(query, "status").strip()
    status = None
    if status_text:
        try:
            status = RequestStatus.parse(status_text)
        except ValueError as error:
            raise FormError("status", str(error)) from None
    assignee = _one(query, "assignee").strip() or None
    if assignee is not None and len(assignee) > 200:
        raise FormError("assignee", "at most 200 characters")
    created_from = _date(_one(query, "created_from"), "created_from")
    created_to = _date(_one(query, "created_to"), "created_to")
    if created_from and created_to and created_from > created_to:
        raise FormError("created_to", "the last day comes before the first day")
    page = _int(_one(query, "page"), "page", default=1, minimum=1, maximum=100_000)
    waiting = _one(query, "waiting").strip()
    if waiting not in ("", "0", "1"):
        raise FormError("waiting", "1 for the requests waiting too long, or empty")
    return QueueFilters(status=status, assignee=assignee, created_from=created_from, created_to=created_to,
                        page=page, waiting=waiting == "1")


def parse_prefill(query: Mapping[str, str] | MultiMapping) -> NewRequestPrefill:
    """Read ``entries`` (comma-separated ids), ``need`` and ``conversation`` given to the new-request page.

    Raises:
        FormError: for malformed or too many entry ids, or an over-long conversation id.
    """
    ids = parse_entry_ids(_listed(query, "entries"))
    need = _one(query, "need")[:MAX_SUMMARY_CHARS]
    conversation = _one(query, "conversation").strip()
    if len(conversation) > MAX_CONVERSATION_CHARS or any(ord(char) < 32 for char in conversation):
        raise FormError("conversation", f"a conversation id is one line of at most {MAX_CONVERSATION_CHARS} "
                                        "characters")
    return NewRequestPrefill(entry_ids=ids, need=need, conversation_id=conversation or None)


def parse_entry_ids(values: Sequence[str]) -> tuple[str, ...]:
    """Catalogue entry ids, duplicates dropped, first first.

    Raises:
        FormError: for more than 20 ids or one that is not an entry id such as ``vecura-gmp``.
    """
    ids = tuple(dict.fromkeys(value.strip() for value in values if value.strip()))
    if len(ids) > MAX_ENTRY_IDS:
        raise FormError("entries", f"choose at most {MAX_ENTRY_IDS} entries")
    for entry_id in ids:
        if len(entry_id) > 100 or not ENTRY_ID_PATTERN.match(entry_id):
            raise FormError("entries", "entries are catalogue ids such as 'vecura-gmp'")
    return ids


def check_nonce(value: object) -> str:
    """The new-request form's one-time nonce (it makes the request's idempotency key).

    Raises:
        FormError: when it is missing or malformed (the form did not come from the console).
    """
    if not isinstance(value, str) or not NONCE_PATTERN.match(value):
        raise FormError("form", "this form is incomplete; open a new request form and fill it in again")
    return value


def _one(query: Mapping[str, str] | MultiMapping, name: str) -> str:
    value = query.get(name, "")
    return value if isinstance(value, str) else ""


def _listed(query: Mapping[str, str] | MultiMapping, name: str) -> list[str]:
    """Every value of ``name``, each split at commas, blanks dropped."""
    raw = query.getall(name, []) if hasattr(query, "getall") else [query.get(name, "")]
    return [part.strip() for value in raw if isinstance(value, str) for part in value.split(",") if part.strip()]


def _enum_values(query: Mapping[str, str] | MultiMapping, name: str, kind: type[EntryType]) -> list[EntryType]:
    found = []
    for value in _listed(query, name):
        try:
            found.append(kind(value.lower()))
        except ValueError:
            accepted = ", ".join(member.value for member in kind)
            raise FormError(name, f"unknown {name} '{value[:40]}'; use one of: {accepted}") from None
    return found


def _int(text: str, name: str, *, default: int, minimum: int, maximum: int) -> int:
    if not text.strip():
        return default
    try:
        number = int(text.strip())
    except ValueError:
        raise FormError(name, "must be a whole number") from None
    if not minimum <= number <= maximum:
        raise FormError(name, f"must be between {minimum} and {maximum}")
    return number


def _date(text: str, name: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise FormError(name, "must be a date such as 2026-11-30") from None


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
