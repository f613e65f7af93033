"""Bearer tokens for machine clients of the JSON API, kept in the ``api_tokens`` table.

A token is shown once, when it is created; the database keeps only its SHA-256, so a copy of the
database does not give anyone access. Two roles exist: ``reader`` may search and read the catalogue,
``advisor`` may also read, create and update support requests.

The store is synchronous (SQLAlchemy); the web views call it in a worker thread.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support_requests.database import session_factory, translate_database_errors
from support_requests.model import utc_now
from support_requests.tables import ApiTokenRow

TOKEN_PREFIX = "nav_"
MAX_TOKEN_CHARS = 200  # anything longer is refused before hashing
MAX_NAME_CHARS = 120
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
TOUCH_INTERVAL = dt.timedelta(minutes=1)


class TokenRole(str, enum.Enum):
    """What a token may do. ``advisor`` includes everything ``reader`` may do."""

    READER = "reader"
    ADVISOR = "advisor"

    @classmethod
    def parse(cls, text: str | TokenRole) -> TokenRole:
        """The role named ``text`` (case and surrounding space ignored).

        Raises:
            TokenInputError: naming the accepted roles.
        """
        if isinstance(text, TokenRole):
            return text
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            raise TokenInputError(f"unknown role '{text}'; use one of: "
                                  + ", ".join(r.value for r in cls)) from None

    def includes(self, needed: TokenRole) -> bool:
        """True when a token with this role may do what ``needed`` may."""
        return _RANK[self] >= _RANK[needed]


_RANK = {TokenRole.READER: 0, TokenRole.ADVISOR: 1}


class TokenError(Exception):
    """Base class of the errors the token store raises on purpose."""


class TokenInputError(TokenError, ValueError):
    """A token name or role cannot be used, a name is taken, or no token has the name given."""


@dataclass(frozen=True)
class TokenInfo:
    """What is known about a token (never the token itself).

    Attributes:
        name: the client's name, unique, such as ``crm-sync``.
        role: what the token may do.
        created_at: when it was created (UTC).
        revoked_at: when it was revoked (UTC), or None while it is valid.
        last_used_at: when it last authenticated a request (UTC, updated at most once a minute), or None.
    """

    name: str
    role: TokenRole
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        """True while the token has not been revoked."""
        return self.revoked_at is None

    @property
    def actor(self) -> str:
        """How changes made with this token are recorded in a request's history: ``token:<name>``."""
        return f"token:{self.name}"


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def validate_name(name: object) -> str:
    """A token name: 1 to 120 letters, digits, ``.``, ``_`` or ``-``, starting with a letter or digit.

    Returns:
        The name with surrounding space removed.

    Raises:
        TokenInputError: saying what is accepted.
    """
    value = name.strip() if isinstance(name, str) else ""
    if not value or len(value) > MAX_NAME_CHARS or not NAME_PATTERN.match(value):
        raise TokenInputError(f"a token name is 1 to {MAX_NAME_CHARS} letters, digits, '.', '_' or '-', "
                              "starting with a letter or digit (such as crm-sync)")
    return value


class TokenStore:
    """API tokens in the request database.

    Args:
        engine: the SQLAlchemy engine of the (migrated) request database, such as ``RequestStore.engine``.
        clock: returns the current UTC time (tests pass a fake clock).
        touch_interval: ``last_used_at`` is written at most this often per token.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utc_now,
                 touch_interval: dt.timedelta = TOUCH_INTERVAL):
        self.engine = engine
        self.clock = clock
        self.touch_interval = touch_interval
        self._sessions = session_factory(engine)

    def create(self, name: str, role: TokenRole | str) -> str:
        """Create a token for the client ``name``.

        Args:
            name: a unique name (see :func:`validate_name`); a revoked token keeps its name.
            role: ``reader`` or ``advisor``.

        Returns:
            The token in plain text (``nav_`` and 43 url-safe characters). It is not stored and
            cannot be shown again.

        Raises:
            TokenInputError: for a malformed name, an unknown role or a name already in use.
            StoreUnavailableError: when the database cannot be used.
        """
        name = validate_name(name)
        role = TokenRole.parse(role)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        taken = TokenInputError(f"a token named '{name}' already exists; choose another name "
                                "(revoked tokens keep their names)")
        try:
            with self._transaction() as session:
                if session.scalar(select(ApiTokenRow.id).where(ApiTokenRow.name == name)) is not None:
                    raise taken
                session.add(ApiTokenRow(name=name, token_hash=token_digest(token), role=role.value,
                                        created_at=self.clock()))
        except IntegrityError:  # a concurrent create with the same name committed first
            raise taken from None
        return token

    def verify(self, token: str | None) -> TokenInfo | None:
        """The token's details when it is valid, else None (unknown, malformed or revoked).

        Records the time of use, at most once per ``touch_interval``.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_CHARS:
            return None
        digest = token_digest(token)
        with self._transaction() as session:
            row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest)).one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            now = self.clock()
            if row.last_used_at is None or now - row.last_used_at >= self.touch_interval:
                row.last_used_at = now
            return _info(row)

    def revoke(self, name: str) -> TokenInfo:
        """Revoke the token called ``name``; it fails verification from now on. Revoking twice changes nothing.

        Returns:
            The token's details, with the time it was (first) revoked.

        Raises:
            TokenInputError: when no token has that name.
            StoreUnavailableError: when the database cannot be used.
        """
        name = validate_name(name)
        with self._transaction() as session:
            row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.name == name)).one_or_none()
            if row is None:
                raise TokenInputError(f"no token named '{name}'; 'navigator tokens list' shows them")
            if row.revoked_at is None:
                row.revoked_at = self.clock()
            return _info(row)

    def list(self) -> list[TokenInfo]:
        """Every token, valid and revoked, sorted by name.

        Raises:
            StoreUnavailableError: when the database cannot be used.
        """
        with self._transaction() as session:
            return [_info(row) for row in session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.name))]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Session]:
        with translate_database_errors(self.engine), self._sessions.begin() as session:
            yield session


def _info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(name=row.name, role=TokenRole(row.role), created_at=row.created_at,
                     revoked_at=row.revoked_at, last_used_at=row.last_used_at)
