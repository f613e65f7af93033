"""What the creation notifications say: two short plain-text emails and a JSON document for a CRM webhook.

The texts hold personal data on purpose (advisors need it to follow up); they
are stored in the outbox and sent, never logged. The routed contact's email
leaves out the company's contact details: the advisor brokers the contact.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from support_requests.model import SupportRequest
from support_requests.projection import WEBHOOK_FIELDS, request_record

EMAIL = "email"
WEBHOOK = "webhook"
WEBHOOK_EVENT = "support_request.created"

CONTACT_SUBJECT = string.Template("New support request $reference: $company")
CONTACT_BODY = string.Template("""\
Hello,

A company has asked Navigator for help, and the request is routed to you ($routed_contact).

Reference: $reference
Company: $company
Chosen entries: $entries

Need:
$summary

An innovation advisor will follow up with you and the company shortly.

Navigator
""")

ADVISORS_SUBJECT = string.Template("New support request $reference: $company (to $routed_contact)")
ADVISORS_BODY = string.Template("""\
A new support request is waiting for an advisor.

Reference: $reference
Company: $company
Contact: $contact_person, $email$phone$org_number
Channel: $channel
Routed to: $routed_contact
Chosen entries: $entries

Need:
$summary

Follow it up with: navigator requests show $reference
""")


@dataclass(frozen=True)
class Notification:
    """One notification to put in the outbox: ``kind`` is ``email`` or ``webhook``; ``payload`` is JSON-ready."""

    kind: str
    recipient: str
    payload: dict[str, Any]


def _fields(request: SupportRequest) -> dict[str, str]:
    return {
        "reference": request.reference,
        "company": request.company_name,
        "routed_contact": request.routed_contact,
        "entries": ", ".join(request.entry_ids) or "none chosen",
        "summary": request.need_summary,
        "contact_person": request.contact_person,
        "email": request.email or "",
        "phone": f", phone {request.phone}" if request.phone else "",
        "org_number": f", org. no. {request.org_number}" if request.org_number else "",
        "channel": request.channel,
    }


def contact_email(request: SupportRequest, recipient: str) -> Notification:
    """The email to the routed contact's mailbox: reference, company, entries, need, and that an advisor follows up."""
    values = _fields(request)
    return Notification(EMAIL, recipient, {"subject": CONTACT_SUBJECT.substitute(values),
                                           "body": CONTACT_BODY.substitute(values)})


def advisors_email(request: SupportRequest, recipient: str) -> Notification:
    """The email to the advisors' mailbox: everything needed to follow up, including the contact details."""
    values = _fields(request)
    return Notification(EMAIL, recipient, {"subject": ADVISORS_SUBJECT.substitute(values),
                                           "body": ADVISORS_BODY.substitute(values)})


def webhook_document(request: SupportRequest, url: str) -> Notification:
    """The JSON document a CRM receives: the event and the request's :data:`~support_requests.projection.WEBHOOK_FIELDS`
    (the sender adds ``delivery_id`` when posting)."""
    record = request_record(request)
    return Notification(WEBHOOK, url, {"event": WEBHOOK_EVENT, **{name: record[name] for name in WEBHOOK_FIELDS}})


def creation_notifications(request: SupportRequest, contact_mailbox: str, advisors_mailbox: str,
                           webhook_url: str | None) -> list[Notification]:
    """The notifications a new request sends: contact email, advisors' email, and the webhook when configured."""
    notifications = [contact_email(request, contact_mailbox), advisors_email(request, advisors_mailbox)]
    if webhook_url:
        notifications.append(webhook_document(request, webhook_url))
    return notifications
