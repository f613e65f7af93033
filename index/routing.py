"""Where a support request goes: the one routing policy of the assistant, the console and the API.

A request goes to the contact of the first chosen entry that has a contact with a mailbox (an expert entry
is its own contact; another entry names its expert in ``contact``). With none, it goes to the programme's
advisors' desk, :data:`FALLBACK_CONTACT`, at the desk's mailbox when the catalogue lists one, else at the
advisors' own mailbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from index.catalogue import Entry, EntryType

FALLBACK_CONTACT = "contact-slt-advisors"
"""The catalogue id of the advisors' desk, which takes every request no chosen entry can route."""

Lookup = Callable[[str], Entry | None]
"""Finds a catalogue entry by id (``SearchEngine.entry``); ``None`` for an unknown id."""


@dataclass(frozen=True)
class Route:
    """Where a request goes.

    Attributes:
        contact_id: the catalogue id of the expert entry (or :data:`FALLBACK_CONTACT`).
        email: the mailbox that is notified.
    """

    contact_id: str
    email: str


def contact_id(entry: Entry) -> str | None:
    """The id of the expert entry requests about ``entry`` go to: its own for an expert, else its ``contact``
    (``None`` when it names none)."""
    if entry.type is EntryType.EXPERT:
        return entry.id
    return entry.contact or None


def contact_for(entry: Entry, lookup: Lookup) -> Entry | None:
    """The expert entry to route ``entry`` to (see :func:`contact_id`); ``None`` when it names none, or names
    an id the catalogue does not hold."""
    if entry.type is EntryType.EXPERT:
        return entry
    named = contact_id(entry)
    return lookup(named) if named else None


def route_request(entry_ids: Iterable[str], lookup: Lookup, advisors_email: str) -> Route:
    """The contact and mailbox of a new request about ``entry_ids`` (the company's choice, best first).

    Args:
        entry_ids: chosen catalogue ids; unknown ids are passed over.
        lookup: finds an entry by id.
        advisors_email: the advisors' mailbox, used when the desk's entry has no email.

    Returns:
        The first chosen entry's contact that has an email; else the advisors' desk.
    """
    for entry_id in entry_ids:
        entry = lookup(entry_id)
        contact = contact_for(entry, lookup) if entry is not None else None
        if contact is not None and contact.email:
            return Route(contact.id, contact.email)
    desk = lookup(FALLBACK_CONTACT)
    return Route(FALLBACK_CONTACT, desk.email if desk is not None and desk.email else advisors_email)
