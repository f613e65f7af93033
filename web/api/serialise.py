"""The JSON shapes of the API: hits, catalogue entries and support requests.

The shapes are described in ``web/api/openapi.yaml`` (schemas ``Hit``, ``EntrySummary``, ``Entry``,
``RequestSummary``, ``SupportRequest``); ``tests/web/test_api_openapi.py`` checks answers against them.
Times are ISO 8601 in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from index.catalogue import Entry
from index.engine import Hit
from index.routing import contact_for
from support_requests.model import SupportRequest
from support_requests.projection import request_record, request_summary

Lookup = Callable[[str], Entry | None]


def hit_json(hit: Hit) -> dict[str, Any]:
    """One search hit: :meth:`index.engine.Hit.to_dict`, the one shape a hit has everywhere."""
    return hit.to_dict()


def contact_details_json(expert: Entry | None) -> dict[str, Any] | None:
    """The contact an entry routes to: the expert entry's id, name, role, organisation and email (None: none)."""
    if expert is None:
        return None
    return {"id": expert.id, "name": expert.name, "role": expert.role, "organisation": expert.organisation,
            "email": expert.email}


def entry_summary_json(entry: Entry) -> dict[str, Any]:
    """An entry in a list: what identifies it and where it is (:meth:`index.catalogue.Entry.identity`)."""
    return entry.identity()


def entry_json(entry: Entry, lookup: Lookup) -> dict[str, Any]:
    """Every field of an entry (not the catalogue file it came from), with its routed contact resolved.

    Returns:
        The record's fields as in the catalogue, plus ``site_label`` and ``contact_details``: the expert
        entry's id, name, role, organisation and email, or None when the entry names no contact.
    """
    data = entry.to_dict()
    data.pop("source", None)
    data["site_label"] = entry.site.label
    data["contact_details"] = contact_details_json(contact_for(entry, lookup))
    return data


def request_summary_json(request: SupportRequest) -> dict[str, Any]:
    """A support request in a list: status, company, contact and routing, without notes and history."""
    return request_summary(request)


def request_json(request: SupportRequest) -> dict[str, Any]:
    """Everything about a support request, including internal notes and the history of changes."""
    return request_record(request)
