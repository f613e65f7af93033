"""The database tables, as SQLAlchemy 2 typed declarative models.

These classes stay inside the package: the store converts rows to the plain
values of :mod:`support_requests.model` before returning them. The schema is
created and changed only by the migrations in :mod:`support_requests.migrations`;
``tests/support_requests/test_migrations.py`` checks that both agree.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from support_requests.model import RequestStatus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A point in time, always UTC and time-zone-aware in Python, whatever the database keeps.

    SQLite has no time-zone type: values are stored as naive UTC text, which
    also sorts and compares correctly there.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


STATUS_TYPE = Enum(RequestStatus, name="request_status", native_enum=False, create_constraint=True, length=20,
                   values_callable=lambda statuses: [s.value for s in statuses], validate_strings=True)


class RequestRow(Base):
    __tablename__ = "support_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the caller's key
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(255), index=True)
    company_name: Mapped[str] = mapped_column(String(200))
    contact_person: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)  # case-folded, for look-ups
    phone: Mapped[str | None] = mapped_column(String(40))
    org_number: Mapped[str | None] = mapped_column(String(11))
    need_summary: Mapped[str] = mapped_column(Text)
    routed_contact: Mapped[str] = mapped_column(String(100))
    consent_given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    consent_notice_version: Mapped[str] = mapped_column(String(50))
    status: Mapped[RequestStatus] = mapped_column(STATUS_TYPE, index=True)
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)

    entries: Mapped[list[EntryRow]] = relationship(
        order_by="EntryRow.position", cascade="all, delete-orphan", lazy="selectin")
    notes: Mapped[list[NoteRow]] = relationship(
        order_by="NoteRow.number", cascade="all, delete-orphan", lazy="selectin")
    history: Mapped[list[HistoryRow]] = relationship(
        order_by="HistoryRow.id", cascade="all, delete-orphan", lazy="selectin")


class EntryRow(Base):
    """One chosen catalogue entry of a request; kept after erasure for statistics."""

    __tablename__ = "request_entries"

    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(100), index=True)


class NoteRow(Base):
    __tablename__ = "request_notes"
    __table_args__ = (UniqueConstraint("request_id", "number", name="uq_request_notes_request_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


class HistoryRow(Base):
    __tablename__ = "request_history"
    # The outcome figures find the moments requests entered a status (support_requests/outcomes.py).
    __table_args__ = (Index("ix_request_history_field_new_value_at", "field", "new_value", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))


class CompanyRow(Base):
    """A company that asked for support (:mod:`support_requests.companies`).

    ``name`` and ``org_number`` are personal data (a sole trader's); once every request of the company is
    erased they are erased too (``erased_at``), and the row stays so that the company still counts.
    ``merged_into_id`` points at the company this one was merged into; its requests and keys moved there.
    """

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_number: Mapped[str | None] = mapped_column(String(11))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    merged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    merged_by: Mapped[str | None] = mapped_column(String(200))


class CompanyKeyRow(Base):
    """One identity of a company: ``org:<10 digits>`` or ``name:<normalised name>``; deleted on erasure."""

    __tablename__ = "company_keys"

    key: Mapped[str] = mapped_column(String(220), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)


class ReferenceCounterRow(Base):
    """The last reference number handed out in a year; updated in the transaction that stores the request."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class OutboxRow(Base):
    """A notification waiting for (or done with) delivery; written in the transaction that creates its request.

    ``status`` is pending, sent, failed or cancelled (its request was erased first).
    ``claim_token`` and ``lease_until`` mark a row a worker is delivering; when the
    lease runs out (the worker died) another worker may claim it.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # email or webhook
    recipient: Mapped[str] = mapped_column(String(2000))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class FollowUpRow(Base):
    """The follow-up of a completed request (:mod:`support_requests.follow_up`): at most one per request, whose
    email asks the company "Did this help?" behind a signed, single-use link.

    ``public_id`` is the random id the link carries; the link's signature and ``expires_at`` decide whether it
    still works. ``score`` (1 to 5), ``comment`` and ``answered_at`` are set once, by the company's answer.
    ``comment`` is personal data: erasing the request's personal data blanks it and keeps the score.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), unique=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when the request was completed
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when the email goes out
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)


class AdvisorRow(Base):
    """An account of the advisors' console; ``password_hash`` is an argon2 hash, never the password."""

    __tablename__ = "advisors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # advisor or admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)  # in a row, since the last success
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_signin_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApiTokenRow(Base):
    """A machine client's bearer token; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # reader or advisor
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class UnmetNeedRow(Base):
    """A need the catalogue answered poorly: weak matches, or the company said none fit.

    ``conversation_key`` is the SHA-256 of the conversation id, so a company's erasure can find its rows
    without the table holding the id itself.
    """

    __tablename__ = "unmet_needs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    need: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(16))  # weak or none_fit
    best_score: Mapped[float | None] = mapped_column(Float)
    best_entry_id: Mapped[str | None] = mapped_column(String(100))
    conversation_key: Mapped[str | None] = mapped_column(String(64), index=True)


class ScheduledRunRow(Base):
    """When a periodic job (such as retention) last started, so that one replica of the service runs it per
    period, whatever the number of replicas."""

    __tablename__ = "scheduled_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class StatusCheckFailureRow(Base):
    """A status check whose reference and email matched no request, counted for a while against guessing.

    No email address is kept: the reference asked about, the SHA-256 of the conversation id and the time. Rows
    older than the guard's window are deleted (:mod:`support_requests.status_guard`).
    """

    __tablename__ = "status_check_failures"
    __table_args__ = (Index("ix_status_check_failures_reference_at", "reference", "failed_at"),
                      Index("ix_status_check_failures_conversation_at", "conversation_key", "failed_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64))  # upper case, as asked; it need not exist
    conversation_key: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the conversation id
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
