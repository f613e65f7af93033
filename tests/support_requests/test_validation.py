"""Boundary checks: each field is normalised or refused with an error naming it (and never echoing the value)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from support_requests.errors import RequestValidationError
from support_requests.model import Consent
from support_requests.validation import (
    idempotency_digest,
    luhn_valid,
    normalise_email,
    validate_draft,
    validate_entry_ids,
    validate_org_number,
    validate_phone,
)
from tests.support_requests.helpers import START, make_draft


@pytest.mark.parametrize(("given", "expected"), [
    ("anna@example.org", "anna@example.org"),
    ("  Anna.Berg@Example.ORG ", "Anna.Berg@example.org"),
    ("a+tag@sub.example.se", "a+tag@sub.example.se"),
    ("åsa@företag.se", "åsa@företag.se"),
])
def test_email_is_normalised(given: str, expected: str) -> None:
    assert normalise_email(given) == expected


@pytest.mark.parametrize("given", ["", "   ", "anna", "anna@", "@example.org", "anna@example", "a b@example.org",
                                   "anna@@example.org", "anna@example..org", "a@b.c" + "d" * 320, None, 42])
def test_bad_email_is_refused_naming_the_field(given) -> None:
    with pytest.raises(RequestValidationError) as error:
        normalise_email(given)
    assert error.value.field == "email"
    if isinstance(given, str) and given.strip():
        assert given.strip() not in str(error.value)


def test_email_check_makes_no_network_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert normalise_email("someone@no-such-domain-anywhere.example") == "someone@no-such-domain-anywhere.example"


@pytest.mark.parametrize(("given", "expected"), [
    ("556036-0793", "556036-0793"),
    ("5560360793", "556036-0793"),
    (" 202100-5489 ", "202100-5489"),
    ("16556036-0793", "556036-0793"),
    ("165560360793", "556036-0793"),
    ("212000-0142", "212000-0142"),
])
def test_org_number_is_normalised(given: str, expected: str) -> None:
    assert validate_org_number(given) == expected


@pytest.mark.parametrize(("given", "reason"), [
    ("556036-0794", "check digit"),       # Luhn fails
    ("1234567890", "check digit"),
    ("55603-60793", "10 digits"),          # hyphen in the wrong place
    ("556036 0793", "10 digits"),
    ("556036079", "10 digits"),            # 9 digits
    ("19556036-0793", "10 digits"),        # 12 digits need the prefix 16
    ("20556036-0793", "10 digits"),
    ("ABCDEF-GHIJ", "10 digits"),
    ("", "10 digits"),
])
def test_bad_org_number_is_refused(given: str, reason: str) -> None:
    with pytest.raises(RequestValidationError, match=reason) as error:
        validate_org_number(given)
    assert error.value.field == "org_number"


@pytest.mark.parametrize(("digits", "valid"), [("5560360793", True), ("5560360794", False), ("0", True),
                                               ("18", True), ("79927398713", True), ("79927398710", False)])
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(("given", "expected"), [
    ("+46 8 123 456 78", "+46 8 123 456 78"),
    ("08-123 45  678", "08-123 45 678"),
    ("(08) 123456", "(08) 123456"),
    ("123456", "123456"),
    ("+" + "1" * 20, "+" + "1" * 20),
])
def test_phone_is_accepted(given: str, expected: str) -> None:
    assert validate_phone(given) == expected


@pytest.mark.parametrize(("given", "reason"), [
    ("12345", "between 6 and 20"),
    ("1" * 21, "between 6 and 20"),
    ("+46 8 123 abc", "only digits"),
    ("46+8123456", "only digits"),        # + only at the start
    ("08/123456", "only digits"),
    ("070 123 45 67 ext. 5", "only digits"),
])
def test_bad_phone_is_refused(given: str, reason: str) -> None:
    with pytest.raises(RequestValidationError, match=reason) as error:
        validate_phone(given)
    assert error.value.field == "phone"


def test_entry_ids_keep_order_and_drop_duplicates() -> None:
    assert validate_entry_ids(["b-1", "a", "b-1"]) == ("b-1", "a")
    assert validate_entry_ids([]) == ()


@pytest.mark.parametrize("ids", [["Vecura-GMP"], ["vecura--gmp"], ["-vecura"], ["vecura gmp"], [""], ["a" * 101],
                                 [f"e{i}" for i in range(21)], "vecura-gmp", [None]])
def test_bad_entry_ids_are_refused(ids) -> None:
    with pytest.raises(RequestValidationError) as error:
        validate_entry_ids(ids)
    assert error.value.field == "entry_ids"


def test_twenty_entry_ids_are_accepted() -> None:
    assert len(validate_entry_ids([f"e{i}" for i in range(20)])) == 20


def test_valid_draft_is_normalised() -> None:
    clean = validate_draft(make_draft(company_name="  Acme AB ", email="X@Example.ORG", org_number="5560360793",
                                      channel="Slack", entry_ids=("a", "a"), phone="  ", conversation_id=" "),
                           now=START)
    assert clean.company_name == "Acme AB" and clean.email == "X@example.org"
    assert clean.org_number == "556036-0793" and clean.channel == "slack"
    assert clean.entry_ids == ("a",) and clean.phone is None and clean.conversation_id is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"company_name": ""}, "company_name"),
    ({"company_name": "   "}, "company_name"),
    ({"company_name": "x" * 201}, "company_name"),
    ({"company_name": "Acme\nBcc: someone"}, "company_name"),
    ({"contact_person": ""}, "contact_person"),
    ({"contact_person": "y" * 201}, "contact_person"),
    ({"need_summary": ""}, "need_summary"),
    ({"need_summary": "z" * 5001}, "need_summary"),
    ({"need_summary": "z" * 1_000_000}, "need_summary"),
    ({"need_summary": "nul\x00byte"}, "need_summary"),
    ({"email": "nope"}, "email"),
    ({"routed_contact_email": "nope"}, "routed_contact_email"),
    ({"routed_contact": "Contact Vecura"}, "routed_contact"),
    ({"channel": "web chat!"}, "channel"),
    ({"phone": "12"}, "phone"),
    ({"org_number": "556036-0794"}, "org_number"),
    ({"entry_ids": ["BAD"]}, "entry_ids"),
    ({"conversation_id": "c" * 256}, "conversation_id"),
    ({"consent": None}, "consent"),
    ({"consent": Consent(given_at=dt.datetime(2020, 11, 25, 9, 0), notice_version="2026-11")}, "consent"),
    ({"consent": Consent(given_at=START + dt.timedelta(hours=1), notice_version="2026-11")}, "consent"),
    ({"consent": Consent(given_at=START, notice_version="")}, "consent"),
])
def test_bad_draft_names_the_field(changes: dict, field: str) -> None:
    with pytest.raises(RequestValidationError) as error:
        validate_draft(make_draft(**changes), now=START)
    assert error.value.field == field
    assert str(error.value).startswith(f"{field}: ")


def test_limits_are_inclusive() -> None:
    clean = validate_draft(make_draft(company_name="x" * 200, contact_person="y" * 200, need_summary="z" * 5000,
                                      phone="1" * 20), now=START)
    assert len(clean.need_summary) == 5000


def test_multi_line_summary_is_kept() -> None:
    clean = validate_draft(make_draft(need_summary="Line one.\n\tLine two.\r\n"), now=START)
    assert clean.need_summary == "Line one.\n\tLine two."


def test_consent_time_is_stored_in_utc() -> None:
    stockholm = dt.timezone(dt.timedelta(hours=1))
    clean = validate_draft(make_draft(consent=Consent(dt.datetime(2026, 11, 25, 9, 30, tzinfo=stockholm), "v1")),
                           now=START)
    assert clean.consent.given_at == dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.timezone.utc)
    assert clean.consent.given_at.tzinfo == dt.timezone.utc


def test_error_messages_never_repeat_personal_values() -> None:
    secret = "private-value-123@@"
    for changes in ({"email": secret}, {"phone": secret}, {"org_number": secret}):
        with pytest.raises(RequestValidationError) as error:
            validate_draft(make_draft(**changes), now=START)
        assert secret not in str(error.value)


def test_idempotency_key_is_hashed() -> None:
    digest = idempotency_digest("conversation-42:form-1")
    assert len(digest) == 64 and "conversation" not in digest
    assert digest == idempotency_digest("conversation-42:form-1")
    with pytest.raises(RequestValidationError, match="idempotency_key"):
        idempotency_digest("")
    with pytest.raises(RequestValidationError, match="idempotency_key"):
        idempotency_digest("k" * 256)


def test_draft_is_a_frozen_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_draft().email = "x@example.org"  # type: ignore[misc]
