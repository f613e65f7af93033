"""The follow-up of a completed request: one short email asking the company "Did this help?", behind a signed,
single-use link that needs no account.

A request is **completed** when it enters ``closed`` from ``in_progress`` or ``connected``: an advisor worked with
the company and then closed the request (the funnel's "request completed", :mod:`support_requests.funnel`). A
request closed or withdrawn before anyone worked on it (spam, a duplicate, a company that changed its mind) is not
completed and gets no follow-up.

The company **consented** when the request still carries the consent it was stored with (``consent_given_at``
and the privacy notice's version): the company agreed to Navigator storing its contact details *to follow up
this request*, and one follow-up email about the outcome is part of that follow-up. A request whose personal
data was erased (on request, or by retention) has no address and no consent left, and gets none.

:func:`queue_follow_up` is called by the store in the transaction that completes the request: it writes the
request's one ``follow_ups`` row and the email's outbox row together (due after :attr:`FollowUpPolicy.delay`),
and does nothing when the request already has a follow-up, so a request is followed up once, however often it
is completed. The link is ``<public URL>/follow-up/<token>``; the token carries the follow-up's random id and
its expiry, signed with HMAC-SHA256 under a key derived from the service's session key
(:func:`derive_link_key`), so a link cannot be forged, altered or extended. The answer is taken once
(:mod:`support_requests.follow_up_answers`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass, field
from importlib import resources

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from support_requests.errors import SupportRequestError
from support_requests.model import ERASED_MARKER, RequestStatus
from support_requests.notifications import EMAIL, Notification
from support_requests.outbox import enqueue
from support_requests.outcomes import local_day
from support_requests.tables import FollowUpRow, RequestRow

FOLLOW_UP_PATH = "/follow-up/"
"""Where the public page lives in the service; the link is the public URL, this path and the token."""

LINK_EXPIRY = dt.timedelta(days=60)
"""How long a link works, from the moment its email is due."""

MAX_DELAY = dt.timedelta(days=30)
"""The longest wait between the completion and the email (``NAVIGATOR_FOLLOW_UP_DELAY_DAYS``)."""

COMPLETED_FROM = frozenset({RequestStatus.IN_PROGRESS, RequestStatus.CONNECTED})
"""A request entering closed from one of these is completed."""

LANGUAGES = ("en",)
"""The languages the email has a template for (``support_requests/mail/follow_up.<language>.txt``)."""

_LINK_KEY_CONTEXT = b"navigator follow-up link, version 1"
_TOKEN = re.compile(r"([A-Za-z0-9_-]{22})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")


class FollowUpError(SupportRequestError):
    """Base class of the follow-up's errors."""


class FollowUpLinkError(FollowUpError, ValueError):
    """A follow-up link was not made by this service: malformed, altered, or signed with another key."""

    def __init__(self) -> None:
        super().__init__("the follow-up link is not valid")


def derive_link_key(secret: bytes) -> bytes:
    """The key that signs follow-up links, derived from the service's secret (its session key), so that the links
    and the session cookies never share a key and rotating the secret also retires the links.

    Args:
        secret: the service's session key.

    Returns:
        32 bytes.
    """
    if not secret:
        raise ValueError("the secret that follow-up links are derived from is empty")
    return hmac.new(secret, _LINK_KEY_CONTEXT, hashlib.sha256).digest()


@dataclass(frozen=True)
class SignedLink:
    """What a valid token says: the follow-up's random id and when the link stops working (UTC)."""

    public_id: str
    expires_at: dt.datetime

    def expired(self, now: dt.datetime) -> bool:
        """True from ``expires_at`` on."""
        return now >= self.expires_at


@dataclass(frozen=True)
class FollowUpLinks:
    """Signs and checks follow-up tokens (``<public id>.<expiry, Unix seconds>.<HMAC-SHA256, base64url>``).

    Args:
        key: from :func:`derive_link_key`.
    """

    key: bytes = field(repr=False)

    def sign(self, public_id: str, expires_at: dt.datetime) -> str:
        """The token for a follow-up: its id and expiry, and their signature.

        Raises:
            ValueError: for an id that is not 22 url-safe characters.
        """
        if not re.fullmatch(r"[A-Za-z0-9_-]{22}", public_id):
            raise ValueError("a follow-up's public id is 22 url-safe characters")
        expires = str(int(expires_at.timestamp()))
        return f"{public_id}.{expires}.{self._signature(public_id, expires)}"

    def verify(self, token: object) -> SignedLink:
        """What ``token`` says, if this service signed it (expired or not: the caller decides that).

        Raises:
            FollowUpLinkError: for a malformed token or a wrong signature.
        """
        found = _TOKEN.fullmatch(token) if isinstance(token, str) and len(token) <= 100 else None
        if found is None:
            raise FollowUpLinkError()
        public_id, expires, signature = found.groups()
        if not hmac.compare_digest(signature, self._signature(public_id, expires)):
            raise FollowUpLinkError()
        return SignedLink(public_id, dt.datetime.fromtimestamp(int(expires), dt.timezone.utc))

    def _signature(self, public_id: str, expires: str) -> str:
        digest = hmac.new(self.key, f"{public_id}.{expires}".encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class FollowUpPolicy:
    """Whether and how completed requests are followed up.

    Args:
        links: signs the links.
        public_url: the service as the companies' browsers reach it (``NAVIGATOR_PUBLIC_URL``), without a
            trailing ``/``.
        delay: how long after the completion the email goes out (0: at once).
        expiry: how long a link works after its email is due.
        language: the email's language, one of :data:`LANGUAGES`.
    """

    links: FollowUpLinks
    public_url: str
    delay: dt.timedelta = dt.timedelta(0)
    expiry: dt.timedelta = LINK_EXPIRY
    language: str = "en"

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^\s/]+", self.public_url):
            raise ValueError("the follow-up's public URL must be an http:// or https:// URL")
        if not dt.timedelta(0) <= self.delay <= MAX_DELAY:
            raise ValueError(f"the follow-up's delay must be from 0 to {MAX_DELAY.days} days")
        if self.expiry <= dt.timedelta(0):
            raise ValueError("a follow-up link must work for some time")
        if self.language not in LANGUAGES:
            raise ValueError(f"the follow-up email has no template in '{self.language}'")

    def link(self, token: str) -> str:
        """The address the email links to."""
        return f"{self.public_url.rstrip('/')}{FOLLOW_UP_PATH}{token}"


def is_completion(previous: RequestStatus, wanted: RequestStatus) -> bool:
    """True when moving from ``previous`` to ``wanted`` completes a request (closed after being worked on)."""
    return wanted is RequestStatus.CLOSED and previous in COMPLETED_FROM


def has_consent(row: RequestRow) -> bool:
    """True when the request still holds the company's consent and an address to write to (not erased)."""
    return row.erased_at is None and bool(row.email) and row.consent_given_at is not None


def follow_up_email(reference: str, contact_person: str, recipient: str, link: str, expires_at: dt.datetime,
                    language: str = "en") -> Notification:
    """The follow-up email, from the template ``support_requests/mail/follow_up.<language>.txt`` (its first line
    is ``Subject: ...``, then a blank line and the body; ``$reference``, ``$contact_person``, ``$link`` and
    ``$expires``, the link's last day in Stockholm, are filled in).

    Returns:
        An ``email`` notification for the outbox.
    """
    subject, body = _template(language)
    values = {"reference": reference, "contact_person": contact_person, "link": link,
              "expires": local_day(expires_at).isoformat()}
    return Notification(EMAIL, recipient, {"subject": subject.substitute(values), "body": body.substitute(values)})


def _template(language: str) -> tuple[string.Template, string.Template]:
    if language not in LANGUAGES:
        raise ValueError(f"the follow-up email has no template in '{language}'")
    text = resources.files("support_requests").joinpath("mail", f"follow_up.{language}.txt").read_text("utf-8")
    first, _, body = text.partition("\n\n")
    if not first.startswith("Subject: "):
        raise ValueError(f"the follow-up template in '{language}' must start with a Subject: line")
    return string.Template(first.removeprefix("Subject: ").strip()), string.Template(body)


def queue_follow_up(session: Session, row: RequestRow, policy: FollowUpPolicy, now: dt.datetime) -> bool:
    """Write the request's follow-up and its email to the outbox, in the session's transaction, unless the
    request already has one or no consent.

    Call it when the request is completed (:func:`is_completion`); the row must be locked by the caller.

    Returns:
        True when a follow-up was queued.
    """
    if not has_consent(row):
        return False
    if session.scalar(select(FollowUpRow.id).where(FollowUpRow.request_id == row.id)) is not None:
        return False
    due = now + policy.delay
    expires = due + policy.expiry
    public_id = secrets.token_urlsafe(16)
    session.add(FollowUpRow(request_id=row.id, public_id=public_id, created_at=now, due_at=due, expires_at=expires))
    link = policy.link(policy.links.sign(public_id, expires))
    enqueue(session, row.id, [follow_up_email(row.reference, row.contact_person, row.email or "", link, expires,
                                              policy.language)], now, due=due)
    return True


def erase_comments(session: Session, request_ids: list[int]) -> None:
    """Blank the companies' comments on these requests' follow-ups (they are personal data), keeping the scores,
    which say nothing about a person (used by erasure)."""
    if not request_ids:
        return
    table = FollowUpRow.__table__.c
    session.execute(update(FollowUpRow.__table__)
                    .where(table.request_id.in_(request_ids), table.comment.is_not(None))
                    .values(comment=ERASED_MARKER))
