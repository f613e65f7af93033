"""Checks and normalisation at the store's boundary.

Every function either returns the normalised value or raises
:class:`~support_requests.errors.RequestValidationError` naming the field. Error
messages never repeat the rejected value: it may be personal data, and errors
end up in logs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email

from support_requests.errors import RequestValidationError
from support_requests.model import Consent, RequestDraft

MAX_NAME_CHARS = 200
MAX_SUMMARY_CHARS = 5000
MAX_NOTE_CHARS = 5000
MAX_ENTRY_IDS = 20
MAX_ENTRY_ID_CHARS = 100
MAX_CONVERSATION_ID_CHARS = 255
MAX_IDEMPOTENCY_KEY_CHARS = 255
MAX_NOTICE_VERSION_CHARS = 50
CONSENT_CLOCK_SKEW = dt.timedelta(minutes=10)

ENTRY_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CHANNEL_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_ORG_NUMBER = re.compile(r"^(?:16)?(\d{6})-?(\d{4})$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-]+$")
_SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_MULTI_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_email(text: str, field: str = "email") -> str:
    """An email address checked for syntax only (no DNS or network look-up), with its domain lower-cased.

    Returns:
        The normalised address, such as ``Anna.Berg@example.org`` for ``Anna.Berg@Example.ORG``.

    Raises:
        RequestValidationError: for anything that is not one syntactically valid address.
    """
    if not isinstance(text, str) or not text.strip():
        raise RequestValidationError(field, "an email address is required")
    if len(text) > 320:
        raise RequestValidationError(field, "is too long to be an email address")
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise RequestValidationError(field, "is not a valid email address (like name@company.se)") from None


def email_key(address: str) -> str:
    """The form an address is compared in: case-insensitive, as people expect of email addresses."""
    return address.strip().casefold()


def luhn_valid(digits: str) -> bool:
    """True when the last digit of ``digits`` is the Luhn (mod 10) check digit of the others."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_org_number(text: str, field: str = "org_number") -> str:
    """A Swedish organisation number: 10 digits (``NNNNNN-NNNN``, hyphen optional) or 12 with the prefix ``16``.

    Returns:
        The number as ``NNNNNN-NNNN``.

    Raises:
        RequestValidationError: for another shape or a wrong Luhn check digit.
    """
    if not isinstance(text, str):
        raise RequestValidationError(field, "must be text such as 556677-8899")
    match = _ORG_NUMBER.match(text.strip())
    if not match:
        raise RequestValidationError(
            field, "must be 10 digits as NNNNNN-NNNN (or 12 digits starting with 16)")
    digits = match.group(1) + match.group(2)
    if not luhn_valid(digits):
        raise RequestValidationError(field, "has a wrong check digit; please check the number")
    return f"{match.group(1)}-{match.group(2)}"


def validate_phone(text: str, field: str = "phone") -> str:
    """A phone number of 6 to 20 digits, written with digits, spaces, ``-``, parentheses and a leading ``+``.

    Returns:
        The number with surrounding space removed and inner runs of spaces collapsed.

    Raises:
        RequestValidationError: for other characters or too few or too many digits.
    """
    if not isinstance(text, str):
        raise RequestValidationError(field, "must be text such as +46 8 123 456 78")
    value = " ".join(text.split())
    if len(value) > 40 or not _PHONE_CHARS.match(value):
        raise RequestValidationError(field, "may hold only digits, spaces, '-', parentheses and a leading '+'")
    digits = sum(c.isdigit() for c in value)
    if not 6 <= digits <= 20:
        raise RequestValidationError(field, "must have between 6 and 20 digits")
    return value


def validate_text(field: str, text: object, max_chars: int, *, multi_line: bool = False,
                  required: bool = True) -> str:
    """Free text: stripped, non-empty (when required), at most ``max_chars`` characters, no control characters.

    Single-line text (names) may not hold line breaks either: it ends up in email subjects.

    Returns:
        The stripped text ("" only when not required).

    Raises:
        RequestValidationError: naming ``field``.
    """
    if text is None and not required:
        return ""
    if not isinstance(text, str):
        raise RequestValidationError(field, "must be text")
    if len(text) > max_chars * 2 + 1000:  # refuse huge input before doing any work on it
        raise RequestValidationError(field, f"is too long: at most {max_chars} characters")
    value = text.strip()
    if required and not value:
        raise RequestValidationError(field, "is required")
    if len(value) > max_chars:
        raise RequestValidationError(field, f"is too long: {len(value)} characters, at most {max_chars}")
    forbidden = _MULTI_LINE_FORBIDDEN if multi_line else _SINGLE_LINE_FORBIDDEN
    if forbidden.search(value):
        what = "control characters" if multi_line else "line breaks or control characters"
        raise RequestValidationError(field, f"may not contain {what}")
    return value


def validate_entry_id(text: object, field: str = "entry_ids") -> str:
    """A catalogue entry id such as ``vecura-gmp`` (lower-case letters and digits joined by single hyphens).

    Raises:
        RequestValidationError: for anything else.
    """
    if not isinstance(text, str) or len(text) > MAX_ENTRY_ID_CHARS or not ENTRY_ID_PATTERN.match(text):
        raise RequestValidationError(field, "must be catalogue entry ids like 'vecura-gmp'")
    return text


def validate_entry_ids(ids: Iterable[str] | None) -> tuple[str, ...]:
    """The chosen entries: at most 20 valid ids, duplicates dropped, first choice first.

    Raises:
        RequestValidationError: for a bare string, too many ids or a malformed one.
    """
    if ids is None:
        return ()
    if isinstance(ids, (str, bytes)):
        raise RequestValidationError("entry_ids", "must be a list of entry ids, not one string")
    values = list(ids)
    if len(values) > MAX_ENTRY_IDS:
        raise RequestValidationError("entry_ids", f"at most {MAX_ENTRY_IDS} entries, got {len(values)}")
    return tuple(dict.fromkeys(validate_entry_id(v) for v in values))


def validate_channel(text: object) -> str:
    """A channel name such as ``web``, ``rest``, ``teams``, ``slack`` or ``console``, lower-cased.

    Raises:
        RequestValidationError: for anything but a short lower-case word.
    """
    if not isinstance(text, str) or not CHANNEL_PATTERN.match(text.strip().lower()):
        raise RequestValidationError("channel", "must be a short channel name such as 'web' or 'slack'")
    return text.strip().lower()


def validate_consent(consent: object, now: dt.datetime) -> Consent:
    """Consent with a time-zone-aware time (returned in UTC), not in the future, and a privacy-notice version.

    Raises:
        RequestValidationError: field ``consent`` when consent is missing or malformed.
    """
    if not isinstance(consent, Consent):
        raise RequestValidationError("consent", "the company's consent (time and privacy-notice version) is required "
                                                "before anything is stored")
    if not isinstance(consent.given_at, dt.datetime) or consent.given_at.utcoffset() is None:
        raise RequestValidationError("consent", "given_at must be a time-zone-aware datetime")
    given_at = consent.given_at.astimezone(dt.timezone.utc)
    if given_at > now + CONSENT_CLOCK_SKEW:
        raise RequestValidationError("consent", "given_at lies in the future")
    version = validate_text("consent", consent.notice_version, MAX_NOTICE_VERSION_CHARS)
    return Consent(given_at=given_at, notice_version=version)


def validate_actor(text: object, field: str = "actor") -> str:
    """The name of whoever makes a change (an advisor, ``console``); at most 200 characters on one line."""
    return validate_text(field, text, MAX_NAME_CHARS)


def idempotency_digest(key: object) -> str:
    """The SHA-256 hex digest under which an idempotency key is stored.

    Hashing lets callers build keys from anything (a conversation id, a form id)
    without that value being stored or needing erasure.

    Raises:
        RequestValidationError: for an empty or over-long key.
    """
    value = validate_text("idempotency_key", key, MAX_IDEMPOTENCY_KEY_CHARS)
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def validate_draft(draft: RequestDraft, now: dt.datetime) -> RequestDraft:
    """Every field of a draft checked and normalised; consent is checked first, so without it nothing else is read.

    Returns:
        A new draft with stripped text, the normalised email, phone and organisation
        number (or None), deduplicated entry ids and consent in UTC.

    Raises:
        RequestValidationError: for the first field that cannot be accepted.
    """
    if not isinstance(draft, RequestDraft):
        raise RequestValidationError("draft", "must be a RequestDraft")
    consent = validate_consent(draft.consent, now)
    conversation = validate_text("conversation_id", draft.conversation_id, MAX_CONVERSATION_ID_CHARS,
                                 required=False)
    phone = draft.phone.strip() if isinstance(draft.phone, str) else draft.phone
    org_number = draft.org_number.strip() if isinstance(draft.org_number, str) else draft.org_number
    return dataclasses.replace(
        draft,
        consent=consent,
        company_name=validate_text("company_name", draft.company_name, MAX_NAME_CHARS),
        contact_person=validate_text("contact_person", draft.contact_person, MAX_NAME_CHARS),
        email=normalise_email(draft.email),
        need_summary=validate_text("need_summary", draft.need_summary, MAX_SUMMARY_CHARS, multi_line=True),
        entry_ids=validate_entry_ids(draft.entry_ids),
        routed_contact=validate_entry_id(draft.routed_contact, "routed_contact"),
        routed_contact_email=normalise_email(draft.routed_contact_email, "routed_contact_email"),
        channel=validate_channel(draft.channel),
        conversation_id=conversation or None,
        phone=validate_phone(phone) if phone else None,
        org_number=validate_org_number(org_number) if org_number else None,
    )
