"""A support request as the outside world sees it: one projection, from which every outward form is cut.

:func:`request_record` is the one place that turns a :class:`~support_requests.model.SupportRequest` into
plain values. The JSON API (``web/api``), the webhook document a CRM receives
(:func:`support_requests.notifications.webhook_document`) and the CSV export (:func:`csv_row`) each take the
fields they publish from it, so a field means the same and is written the same in all three.

The fields:

- ``reference``: ``SLT-YYYY-NNNN``, unique and never reused.
- ``status``: ``new``, ``assigned``, ``in_progress``, ``connected``, ``closed`` or ``withdrawn``.
- ``created_at``, ``updated_at``, ``closed_at``, ``erased_at``: ISO 8601 in UTC with a ``Z``; the last two
  ``None`` until the request is closed (or withdrawn) or its personal data is erased.
- ``channel``: where the request was made: ``web`` (the assistant), ``console``, ``api``.
- ``company_name``, ``contact_person``, ``email``, ``phone``, ``org_number``, ``need_summary``: what the
  company gave (personal data; after erasure the texts read ``[erased]`` and the rest is ``None``).
- ``entry_ids``: the chosen catalogue entries, in the order chosen.
- ``routed_contact``: the catalogue id of the contact the request was routed to.
- ``assignee``: the advisor following it up, or ``None``.
- ``erased``: whether its personal data has been erased.
- ``conversation_id``: the assistant's conversation it came from, or ``None``.
- ``consent``: ``{"given_at", "notice_version"}``: when the company agreed to the privacy notice, and which.
- ``notes``: internal notes ``{"number", "at", "author", "text"}``, oldest first.
- ``history``: every change ``{"at", "actor", "field", "from", "to"}``, oldest first.
"""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any, TextIO

from support_requests.model import SupportRequest

SUMMARY_FIELDS = ("reference", "status", "created_at", "updated_at", "channel", "company_name", "contact_person",
                  "email", "entry_ids", "routed_contact", "assignee", "erased")
"""What a list of requests shows of each (the API's ``RequestSummary``)."""

WEBHOOK_FIELDS = ("reference", "created_at", "status", "channel", "company_name", "contact_person", "email", "phone",
                  "org_number", "need_summary", "entry_ids", "routed_contact")
"""What the webhook document of a new request carries."""

CSV_COLUMNS = ("reference", "created_at", "status", "channel", "company_name", "contact_person", "email", "phone",
               "org_number", "entry_ids", "routed_contact", "assignee", "closed_at", "erased_at", "need_summary")
"""The columns of the CSV export, in order."""


def iso_time(value: dt.datetime | None) -> str | None:
    """``value`` as ISO 8601 in UTC with a ``Z`` (``None`` stays ``None``)."""
    return None if value is None else value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def request_record(request: SupportRequest) -> dict[str, Any]:
    """Every published field of ``request`` as JSON-ready values (see the module's list for their meaning)."""
    return {
        "reference": request.reference,
        "status": request.status.value,
        "created_at": iso_time(request.created_at),
        "updated_at": iso_time(request.updated_at),
        "channel": request.channel,
        "company_name": request.company_name,
        "contact_person": request.contact_person,
        "email": request.email,
        "entry_ids": list(request.entry_ids),
        "routed_contact": request.routed_contact,
        "assignee": request.assignee,
        "erased": request.is_erased,
        "phone": request.phone,
        "org_number": request.org_number,
        "need_summary": request.need_summary,
        "conversation_id": request.conversation_id,
        "consent": {"given_at": iso_time(request.consent.given_at), "notice_version": request.consent.notice_version},
        "closed_at": iso_time(request.closed_at),
        "erased_at": iso_time(request.erased_at),
        "notes": [{"number": n.number, "at": iso_time(n.at), "author": n.author, "text": n.text}
                  for n in request.notes],
        "history": [{"at": iso_time(h.at), "actor": h.actor, "field": h.field, "from": h.old_value,
                     "to": h.new_value} for h in request.history],
    }


def request_summary(request: SupportRequest) -> dict[str, Any]:
    """The :data:`SUMMARY_FIELDS` of ``request``."""
    record = request_record(request)
    return {name: record[name] for name in SUMMARY_FIELDS}


def csv_row(request: SupportRequest) -> dict[str, str]:
    """One request as a CSV row: the :data:`CSV_COLUMNS` as text made spreadsheet-safe (lists joined by spaces,
    ``None`` as an empty cell)."""
    record = request_record(request)
    return {name: spreadsheet_safe(_cell(record[name])) for name in CSV_COLUMNS}


def write_csv(out: TextIO, rows: list[dict[str, str]]) -> None:
    """Write a header of :data:`CSV_COLUMNS` and ``rows`` (from :func:`csv_row`) to ``out``."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)


def spreadsheet_safe(value: str) -> str:
    """Text a spreadsheet will not run as a formula (a leading = + - @ gets a quote in front)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)
