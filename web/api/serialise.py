"""The JSON shapes of the API: hits, catalogue entries and support requests.

The shapes are described in ``web/api/openapi.yaml`` (schemas ``Hit``, ``EntrySummary``, ``Entry``,
``RequestSummary``, ``SupportRequest``); ``tests/web/test_api_openapi.py`` checks answers against them.
Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from index.catalogue import Entry, EntryType
from index.engine import Hit
from support_requests.model import SupportRequest

Lookup = Callable[[str], Entry | None]


def contact_id(entry: Entry) -> str | None:
    """The id of the expert entry requests about ``entry`` go to: itself for an expert, else its ``contact``."""
    if entry.type is EntryType.EXPERT:
        return entry.id
    return entry.contact or None


def hit_json(hit: Hit) -> dict[str, Any]:
    """One search hit.

    ``score`` is the fused rank score in [0, 1] (1: ranked first by both retrievers); ``similarity`` the
    cosine similarity of the need and the entry's best passage; ``reason`` that passage, shortened;
    ``terms`` the need's words the entry shares.
    """
    entry = hit.entry
    return {
        "rank": hit.rank,
        "id": entry.id,
        "name": entry.name,
        "type": entry.type.value,
        "organisation": entry.organisation,
        "site": entry.site.value,
        "site_label": entry.site.label,
        "score": round(hit.score, 4),
        "similarity": None if hit.similarity is None else round(hit.similarity, 4),
        "reason": hit.explanation.passage,
        "terms": list(hit.explanation.terms),
        "contact": contact_id(entry),
    }


def entry_summary_json(entry: Entry) -> dict[str, Any]:
    """An entry in a list: what identifies it and where it is."""
    return {
        "id": entry.id,
        "name": entry.name,
        "type": entry.type.value,
        "organisation": entry.organisation,
        "site": entry.site.value,
        "site_label": entry.site.label,
    }


def entry_json(entry: Entry, lookup: Lookup) -> dict[str, Any]:
    """Every field of an entry (not the catalogue file it came from), with its routed contact resolved.

    Returns:
        The record's fields as in the catalogue, plus ``site_label`` and ``contact_details``: the expert
        entry's id, name, role, organisation and email, or None when the entry names no contact.
    """
    data = entry.to_dict()
    data.pop("source", None)
    data["site_label"] = entry.site.label
    contact = contact_id(entry)
    expert = lookup(contact) if contact else None
    data["contact_details"] = None if expert is None else {
        "id": expert.id, "name": expert.name, "role": expert.role, "organisation": expert.organisation,
        "email": expert.email,
    }
    return data


def request_summary_json(request: SupportRequest) -> dict[str, Any]:
    """A support request in a list: status, company, contact and routing, without notes and history."""
    return {
        "reference": request.reference,
        "status": request.status.value,
        "created_at": _time(request.created_at),
        "updated_at": _time(request.updated_at),
        "channel": request.channel,
        "company_name": request.company_name,
        "contact_person": request.contact_person,
        "email": request.email,
        "entry_ids": list(request.entry_ids),
        "routed_contact": request.routed_contact,
        "assignee": request.assignee,
        "erased": request.is_erased,
    }


def request_json(request: SupportRequest) -> dict[str, Any]:
    """Everything about a support request, including internal notes and the history of changes."""
    data = request_summary_json(request)
    data.update({
        "phone": request.phone,
        "org_number": request.org_number,
        "need_summary": request.need_summary,
        "conversation_id": request.conversation_id,
        "consent": {"given_at": _time(request.consent.given_at), "notice_version": request.consent.notice_version},
        "closed_at": _time(request.closed_at),
        "erased_at": _time(request.erased_at),
        "notes": [{"number": n.number, "at": _time(n.at), "author": n.author, "text": n.text}
                  for n in request.notes],
        "history": [{"at": _time(h.at), "actor": h.actor, "field": h.field, "from": h.old_value,
                     "to": h.new_value} for h in request.history],
    })
    return data


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
