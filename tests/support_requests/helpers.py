"""Helpers shared by the support-request tests (and the ``navigator requests`` CLI tests)."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

from support_requests.model import Consent, RequestDraft

START = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)


class FakeClock:
    """A clock that moves only when told to; calling it gives the current (UTC) time."""

    def __init__(self, start: dt.datetime = START):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def make_draft(clock: Callable[[], dt.datetime] | None = None, **changes) -> RequestDraft:
    """A valid draft (with consent given a minute ago); ``changes`` override fields."""
    now = clock() if clock else START
    values = dict(
        company_name="Acme Biologics AB",
        contact_person="Anna Berg",
        email="Anna.Berg@acme-bio.example.org",
        need_summary="GMP production of an AAV vector for a phase I trial.",
        entry_ids=["vecura-gmp", "flow-cytometry-flemingsberg"],
        routed_contact="contact-vecura",
        routed_contact_email="vecura@facility.example.org",
        channel="web",
        conversation_id="conv-0001",
        consent=Consent(given_at=now - dt.timedelta(minutes=1), notice_version="2026-11"),
        phone="+46 8 123 456 78",
        org_number="556036-0793",
    )
    values.update(changes)
    return RequestDraft(**values)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def events_table(metadata: MetaData) -> Table:
    """The shape of Rasa's SQL tracker store table."""
    return Table("events", metadata,
                 Column("id", Integer, primary_key=True),
                 Column("sender_id", String(255), nullable=False, index=True),
                 Column("type_name", String(255), nullable=False),
                 Column("timestamp", Float),
                 Column("intent_name", String(255)),
                 Column("action_name", String(255)),
                 Column("data", Text))
