"""Companies as records of their own: who a request is for, so that a company asking twice is one company reached.

A company is identified by its Swedish organisation number, or, when a request gives none, by its normalised name
(:func:`normalise_company_name`: case, accents, punctuation and the legal form such as ``AB`` ignored). Each
identity is a row of ``company_keys`` pointing at the company (``org:5560360793``, ``name:acme biologics``), so a
company keeps every name and number it was known by, and a manual merge (:meth:`CompanyStore.merge`) moves the
keys and requests of one company to another.

Linking happens in the transaction that stores a request (:func:`link_company`), so a request never exists
without its company. Erasing a request's personal data erases its company's too once none of the company's
requests holds personal data (:func:`erase_companies`): the name becomes ``[erased]``, the organisation number
and the keys are deleted, and the company row and its links stay, so the anonymous counts do not change. An
erased company can no longer be recognised: a later request of that company counts as a new company.

Conversations: a request keeps the assistant's conversation id, so a company's conversations are those of its
requests (:meth:`CompanyStore.requests`). Conversations in which a company typed contact details without
confirming and consenting are not linked: nothing of theirs is stored in the request database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, or_, select, update
from sqlalchemy.orm import Session

from support_requests.database import session_factory, translate_database_errors
from support_requests.errors import SupportRequestError
from support_requests.model import ERASED_MARKER, RequestStatus, utc_now
from support_requests.tables import CompanyKeyRow, CompanyRow, RequestRow
from support_requests.validation import validate_actor

ORG_KEY_PREFIX = "org:"
NAME_KEY_PREFIX = "name:"
MAX_KEY_CHARS = 220

# Legal forms dropped from the end (or start) of a name before it is compared: "Acme Biologics AB" and
# "ACME Biologics Aktiebolag (publ)" are one company. Swedish forms first, then common foreign ones.
_LEGAL_FORMS = ("aktiebolag", "ab", "a b", "publ", "hb", "handelsbolag", "kb", "kommanditbolag", "ek for",
                "ekonomisk forening", "enskild firma", "ef", "ideell forening", "stiftelse", "ltd", "limited",
                "inc", "incorporated", "llc", "gmbh", "ag", "bv", "b v", "nv", "oy", "oyj", "as", "asa", "aps",
                "a s", "sa", "sas", "srl", "plc", "co", "corp", "corporation")
_LEGAL_FORM = re.compile(r"(?:^|\s)(?:" + "|".join(re.escape(f) for f in sorted(_LEGAL_FORMS, key=len,
                                                                                   reverse=True)) + r")$")
_NON_WORD = re.compile(r"[^\w]+")


class CompanyError(SupportRequestError):
    """A change to companies was refused; the message says why (it names company ids, never names)."""


class CompanyNotFoundError(CompanyError, LookupError):
    """No company has the given id."""

    def __init__(self, company_id: object):
        self.company_id = company_id
        super().__init__(f"no company with id {company_id}")


@dataclass(frozen=True)
class Company:
    """One company.

    Attributes:
        id: its number, stable and never reused.
        name: the name of its first request (``[erased]`` once erased).
        org_number: its Swedish organisation number (``NNNNNN-NNNN``), or None when none was given (or erased).
        created_at: when its first request was stored (UTC).
        erased_at: when its personal data was erased, or None.
        merged_into: the company it was merged into, or None; a merged company has no requests of its own.
        request_count: how many requests are linked to it.
    """

    id: int
    name: str
    org_number: str | None
    created_at: dt.datetime
    erased_at: dt.datetime | None
    merged_into: int | None
    request_count: int = 0

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


@dataclass(frozen=True)
class CompanyRequest:
    """A request of a company, as the company's page lists it.

    Attributes:
        channel: ``console`` for an advisor's intake, otherwise the assistant's channel (``web``, ``rest``, ...).
        conversation_id: the assistant's conversation, or None (an intake, or erased).
    """

    reference: str
    created_at: dt.datetime
    channel: str
    status: RequestStatus
    conversation_id: str | None
    erased: bool

    @property
    def is_intake(self) -> bool:
        """True for a request an advisor opened in the console on the company's behalf."""
        return self.channel == "console"


def normalise_company_name(name: str) -> str:
    """The form in which company names are compared: accents and case folded, punctuation dropped, and legal
    forms (``AB``, ``Aktiebolag``, ``(publ)``, ``Ltd``, ...) removed from the end.

    Returns:
        Words separated by single spaces, such as ``acme biologics`` for ``ACME Biologics AB (publ)``; ``""`` when
        nothing is left (a name made only of a legal form keeps it: ``AB`` gives ``ab``).
    """
    decomposed = unicodedata.normalize("NFKD", name or "")
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = " ".join(_NON_WORD.sub(" ", folded).replace("_", " ").split())
    stripped = words
    while True:
        shorter = _LEGAL_FORM.sub("", stripped).strip()
        if shorter == stripped or not shorter:
            break
        stripped = shorter
    return stripped or words


def org_key(org_number: str) -> str:
    """The key of an organisation number (as stored, ``NNNNNN-NNNN``): ``org:NNNNNNNNNN``."""
    return ORG_KEY_PREFIX + re.sub(r"\D", "", org_number)


def name_key(name: str) -> str | None:
    """The key of a company name, or None for a name with nothing to compare (or already erased)."""
    if not name or name == ERASED_MARKER:
        return None
    normalised = normalise_company_name(name)
    return (NAME_KEY_PREFIX + normalised)[:MAX_KEY_CHARS] if normalised else None


def link_company(session: Session, row: RequestRow, now: dt.datetime) -> CompanyRow:
    """Find or create the company of a new request ``row`` and link the request to it, in the session's
    transaction.

    The organisation number decides when the request has one: its company, else a company known only by the
    same name (and no number), which then takes the number, else a new company. Without a number, the company
    known by the same normalised name, else a new one. A request whose name was erased gets a company of its own.

    Returns:
        The company row (flushed, so it has its id).
    """
    company = _find_or_create(session, row.company_name, row.org_number, now)
    row.company_id = company.id
    return company


def _find_or_create(session: Session, name: str, org_number: str | None, now: dt.datetime) -> CompanyRow:
    by_name = name_key(name)
    if org_number:
        by_org = org_key(org_number)
        company = _company_by_key(session, by_org)
        if company is None and by_name is not None:
            named = _company_by_key(session, by_name)
            if named is not None and named.org_number is None and named.erased_at is None:
                named.org_number = org_number
                _add_key(session, by_org, named.id)
                company = named
        name_free = by_name is not None and _company_by_key(session, by_name) is None
        if company is None:  # a name already taken stays with the company that had it first
            company = _new_company(session, name, org_number, now, [by_org] + ([by_name] if name_free else []))
        elif name_free:
            _add_key(session, by_name, company.id)  # another name it is known by
        return company
    if by_name is not None:
        company = _company_by_key(session, by_name)
        if company is not None:
            return company
    return _new_company(session, name, None, now, [by_name] if by_name else [])


def _company_by_key(session: Session, key: str) -> CompanyRow | None:
    return session.scalars(select(CompanyRow).join(CompanyKeyRow, CompanyKeyRow.company_id == CompanyRow.id)
                           .where(CompanyKeyRow.key == key)).one_or_none()


def _new_company(session: Session, name: str, org_number: str | None, now: dt.datetime,
                 keys: list[str]) -> CompanyRow:
    company = CompanyRow(name=name, org_number=org_number, created_at=now)
    session.add(company)
    session.flush()
    for key in keys:
        _add_key(session, key, company.id)
    return company


def _add_key(session: Session, key: str, company_id: int) -> None:
    """Add a key. When a concurrent transaction took it first (PostgreSQL), the flush fails and the store runs
    the whole submission again (:meth:`RequestStore.submit`), which then finds the company that transaction made."""
    session.add(CompanyKeyRow(key=key, company_id=company_id))
    session.flush()


def erase_companies(session: Session, company_ids: Iterable[int | None], now: dt.datetime) -> list[int]:
    """Erase the personal data of those of ``company_ids`` none of whose requests holds personal data any more
    (and of the companies merged into them): the name becomes ``[erased]``, the number and the keys go.

    Returns:
        The ids of the companies erased now, sorted.
    """
    wanted = sorted({c for c in company_ids if c is not None})
    if not wanted:
        return []
    still_personal = set(session.scalars(
        select(RequestRow.company_id).where(RequestRow.company_id.in_(wanted), RequestRow.erased_at.is_(None))))
    erase = [c for c in wanted if c not in still_personal]
    if not erase:
        return []
    merged = list(session.scalars(select(CompanyRow.id).where(CompanyRow.merged_into_id.in_(erase))))
    targets = sorted(set(erase) | set(merged))
    session.execute(delete(CompanyKeyRow).where(CompanyKeyRow.company_id.in_(targets)))
    session.execute(update(CompanyRow).where(CompanyRow.id.in_(targets), CompanyRow.erased_at.is_(None))
                    .values(name=ERASED_MARKER, org_number=None, erased_at=now))
    return erase


class CompanyStore:
    """The companies in the request database: list, look up, merge.

    Args:
        engine: the request database (``RequestStore.engine``), already migrated.
        clock: returns the current UTC time.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utc_now):
        self.engine = engine
        self.clock = clock
        self._sessions = session_factory(engine)

    def list(self, search: str = "", *, limit: int = 50, offset: int = 0) -> tuple[list[Company], int]:
        """Companies not merged into another, by name (ties by id), with their request counts.

        Args:
            search: only companies whose name contains it (case-insensitive), or whose organisation number
                starts with its digits; empty: all.
            limit, offset: the page.

        Returns:
            The page of companies and how many match in all.
        """
        query = select(CompanyRow).where(CompanyRow.merged_into_id.is_(None))
        text = " ".join((search or "").split())[:200]
        if text:
            digits = re.sub(r"\D", "", text)
            conditions = [func.lower(CompanyRow.name).contains(text.lower(), autoescape=True)]
            if len(digits) >= 4:
                conditions.append(func.replace(CompanyRow.org_number, "-", "").startswith(digits, autoescape=True))
            query = query.where(or_(*conditions))
        counts = (select(RequestRow.company_id, func.count().label("n")).group_by(RequestRow.company_id)
                  .subquery())
        with self._transaction() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.execute(
                select(CompanyRow, func.coalesce(counts.c.n, 0))
                .join(counts, counts.c.company_id == CompanyRow.id, isouter=True)
                .where(CompanyRow.id.in_(select(query.subquery().c.id)))
                .order_by(func.lower(CompanyRow.name), CompanyRow.id).limit(limit).offset(offset)).all()
            return [_to_company(row, count) for row, count in rows], int(total)

    def get(self, company_id: int) -> Company:
        """The company with ``company_id`` (merged ones too: see ``merged_into``).

        Raises:
            CompanyNotFoundError: when there is none.
        """
        with self._transaction() as session:
            row = self._find(session, company_id)
            count = session.scalar(select(func.count()).where(RequestRow.company_id == row.id)) or 0
            return _to_company(row, int(count))

    def company_of(self, reference: str) -> int | None:
        """The id of the company a request is linked to, or None for an unknown reference."""
        with self._transaction() as session:
            return session.scalar(select(RequestRow.company_id).where(RequestRow.reference == reference.strip()))

    def requests(self, company_id: int) -> list[CompanyRequest]:
        """The company's requests, oldest first: the assistant's and the advisors' intakes (``is_intake``), with
        the conversations they came from."""
        query = (select(RequestRow.reference, RequestRow.created_at, RequestRow.channel, RequestRow.status,
                        RequestRow.conversation_id, RequestRow.erased_at)
                 .where(RequestRow.company_id == company_id).order_by(RequestRow.created_at, RequestRow.id))
        with self._transaction() as session:
            return [CompanyRequest(reference=r.reference, created_at=_aware(r.created_at), channel=r.channel,
                                   status=RequestStatus(r.status), conversation_id=r.conversation_id,
                                   erased=r.erased_at is not None) for r in session.execute(query)]

    def merge(self, source_id: int, target_id: int, actor: str) -> Company:
        """Merge company ``source_id`` into ``target_id``: its requests and the names and number it is known by
        move to the target, which is from then on one company; the source stays as a record pointing at it.

        Raises:
            CompanyNotFoundError: for an unknown id.
            CompanyError: for merging a company into itself, a company already merged, or two companies with
                different organisation numbers (two legal entities).
        """
        actor = validate_actor(actor)
        if source_id == target_id:
            raise CompanyError("a company cannot be merged into itself")
        now = self.clock()
        with self._transaction() as session:
            rows = {row.id: row for row in session.scalars(
                select(CompanyRow).where(CompanyRow.id.in_([source_id, target_id])).with_for_update())}
            for wanted in (source_id, target_id):
                if wanted not in rows:
                    raise CompanyNotFoundError(wanted)
            source, target = rows[source_id], rows[target_id]
            for row in (source, target):
                if row.merged_into_id is not None:
                    raise CompanyError(f"company {row.id} was already merged into company {row.merged_into_id}")
            if source.org_number and target.org_number and source.org_number != target.org_number:
                raise CompanyError(f"companies {source.id} and {target.id} have different organisation numbers: "
                                   "they are different legal entities")
            if source.org_number and not target.org_number:
                target.org_number = source.org_number
            session.execute(update(CompanyKeyRow).where(CompanyKeyRow.company_id == source.id)
                            .values(company_id=target.id))
            session.execute(update(RequestRow).where(RequestRow.company_id == source.id)
                            .values(company_id=target.id))
            session.execute(update(CompanyRow).where(CompanyRow.merged_into_id == source.id)
                            .values(merged_into_id=target.id))
            source.merged_into_id = target.id
            source.merged_at = now
            source.merged_by = actor
            if target.erased_at is None and source.erased_at is None:
                target.created_at = min(target.created_at, source.created_at)
            session.flush()
            count = session.scalar(select(func.count()).where(RequestRow.company_id == target.id)) or 0
            return _to_company(target, int(count))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Session]:
        with translate_database_errors(self.engine), self._sessions.begin() as session:
            yield session

    @staticmethod
    def _find(session: Session, company_id: int) -> CompanyRow:
        if isinstance(company_id, bool) or not isinstance(company_id, int):
            raise CompanyNotFoundError(company_id)
        row = session.get(CompanyRow, company_id)
        if row is None:
            raise CompanyNotFoundError(company_id)
        return row


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _to_company(row: CompanyRow, count: int = 0) -> Company:
    return Company(id=row.id, name=row.name, org_number=row.org_number, created_at=_aware(row.created_at),
                   erased_at=_aware(row.erased_at) if row.erased_at else None, merged_into=row.merged_into_id,
                   request_count=count)

