"""The advisors' console accounts: creating them, checking a sign-in, and the lock-out after repeated failures.

Passwords are hashed with argon2id (:class:`argon2.PasswordHasher`); only the hash is stored. A sign-in
that fails for any reason (unknown username, wrong password, disabled or locked account) raises the same
:class:`SignInRefusedError` with the same message, and takes about the same time: an unknown username is
checked against a dummy hash, so timing does not reveal which usernames exist.

Lock-out: after ``max_failures`` failed sign-ins in a row an account is locked for ``lockout``; while it is
locked even the right password is refused. The count is kept until a successful sign-in (or an
administrator's unlock), so once a lock runs out the next failure locks the account again at once: an
attacker gets one guess per lock-out period, an advisor who remembers the password gets in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support_requests.database import session_factory, translate_database_errors
from support_requests.model import utc_now
from support_requests.tables import AdvisorRow

log = logging.getLogger(__name__)

ROLES = ("advisor", "admin")
USERNAME_PATTERN = re.compile(r"^[a-z0-9._-]{3,64}$")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # hashing an arbitrarily long password would be a cheap way to load the server
MAX_DISPLAY_NAME_CHARS = 200
SIGNIN_REFUSED_MESSAGE = "The username or password is not right, or the account is locked for a while."


class AccountError(Exception):
    """Base class of the errors raised on purpose by :class:`AccountStore`; messages are safe to show."""


class AccountValidationError(AccountError, ValueError):
    """A value given for an account cannot be accepted; ``field`` names it. The value itself is not repeated."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}")


class AccountNotFoundError(AccountError, LookupError):
    """No account has the given username."""

    def __init__(self, username: str):
        self.username = username
        super().__init__(f"no advisor account '{username}'")


class DuplicateAccountError(AccountError):
    """An account with that username exists already."""

    def __init__(self, username: str):
        self.username = username
        super().__init__(f"an advisor account '{username}' exists already")


class SignInRefusedError(AccountError):
    """A sign-in was refused. The message is the same whatever the cause; ``cause`` is for the log only.

    ``cause`` is one of ``unknown``, ``wrong_password``, ``locked``, ``disabled``.
    """

    def __init__(self, cause: str):
        self.cause = cause
        super().__init__(SIGNIN_REFUSED_MESSAGE)


@dataclass(frozen=True)
class Advisor:
    """A console user as the pages see them.

    Attributes:
        username: the sign-in name (3-64 characters of ``a-z 0-9 . _ -``); recorded as the actor of changes.
        display_name: the full name shown in the console.
        role: ``advisor`` or ``admin``.
        active: False once the account has been disabled (it can no longer sign in).
    """

    username: str
    display_name: str
    role: str
    active: bool

    @property
    def is_admin(self) -> bool:
        """True for administrators."""
        return self.role == "admin"


@dataclass(frozen=True)
class AccountState:
    """An account with its sign-in state, for administrators and for checking sessions.

    Attributes:
        advisor: the account.
        failed_signins: failed sign-ins in a row since the last success.
        locked_until: until when sign-ins are refused (UTC), or None; may lie in the past.
        created_at: when the account was created (UTC).
        last_signin_at: the last successful sign-in (UTC), or None.
        session_stamp: changes whenever the password changes; a session carrying another stamp is stale.
    """

    advisor: Advisor
    failed_signins: int
    locked_until: dt.datetime | None
    created_at: dt.datetime
    last_signin_at: dt.datetime | None
    session_stamp: str

    def is_locked(self, now: dt.datetime) -> bool:
        """True when sign-ins are refused at ``now`` because of failed attempts."""
        return self.locked_until is not None and self.locked_until > now


class AccountStore:
    """Advisor accounts in the request database (table ``advisors``).

    Args:
        engine: the SQLAlchemy engine of the request database, already migrated (``RequestStore.engine``).
        clock: returns the current UTC time (tests pass a fake clock).
        hasher: the password hasher; tests pass one with cheap parameters. A stored hash made with other
            parameters is rehashed with these at the next successful sign-in.
        max_failures: failed sign-ins in a row that lock an account.
        lockout: how long a locked account stays locked.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utc_now,
                 hasher: PasswordHasher | None = None, max_failures: int = 5,
                 lockout: dt.timedelta = dt.timedelta(minutes=15)):
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        if lockout <= dt.timedelta(0):
            raise ValueError("lockout must be a positive duration")
        self.engine = engine
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.max_failures = max_failures
        self.lockout = lockout
        self._sessions = session_factory(engine)
        self._dummy_hash: str | None = None

    # -- administration -------------------------------------------------------------------------------------

    def add(self, username: str, display_name: str, password: str, role: str = "advisor") -> Advisor:
        """Create an active account.

        Args:
            username: 3-64 characters of lower-case letters, digits, ``.``, ``_`` and ``-``.
            display_name: the full name shown in the console (1-200 characters).
            password: at least 12 characters.
            role: ``advisor`` or ``admin``.

        Returns:
            The new account.

        Raises:
            AccountValidationError: naming the first unacceptable value; nothing is stored.
            DuplicateAccountError: when the username is taken.
        """
        username = validate_username(username)
        display_name = validate_display_name(display_name)
        role = validate_role(role)
        password_hash = self.hasher.hash(validate_password(password))
        now = self.clock()
        try:
            with self._transaction() as session:
                if self._row(session, username) is not None:
                    raise DuplicateAccountError(username)
                session.add(AdvisorRow(username=username, display_name=display_name, password_hash=password_hash,
                                       role=role, active=True, failed_signins=0, locked_until=None,
                                       created_at=now, last_signin_at=None))
        except IntegrityError:  # created concurrently between the check and the insert
            raise DuplicateAccountError(username) from None
        log.info("advisor account %s created (%s)", username, role)
        return Advisor(username, display_name, role, True)

    def get(self, username: str) -> AccountState:
        """The account ``username`` with its sign-in state.

        Raises:
            AccountNotFoundError: when there is no such account.
        """
        with self._transaction() as session:
            return _state(self._existing(session, username))

    def find(self, username: str) -> AccountState | None:
        """Like :meth:`get`, but None when there is no such account (or the name is not a valid username)."""
        if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
            return None
        with self._transaction() as session:
            row = self._row(session, username)
            return _state(row) if row is not None else None

    def list(self) -> list[AccountState]:
        """Every account, sorted by username."""
        with self._transaction() as session:
            rows = session.scalars(select(AdvisorRow).order_by(AdvisorRow.username)).all()
            return [_state(row) for row in rows]

    def disable(self, username: str) -> Advisor:
        """Stop ``username`` from signing in; their open sessions stop working at their next page.

        Returns:
            The account, now inactive.

        Raises:
            AccountNotFoundError: when there is no such account.
        """
        with self._transaction() as session:
            row = self._existing(session, username)
            row.active = False
            advisor = _advisor(row)
        log.info("advisor account %s disabled", advisor.username)
        return advisor

    def enable(self, username: str) -> Advisor:
        """Let a disabled account sign in again.

        Raises:
            AccountNotFoundError: when there is no such account.
        """
        with self._transaction() as session:
            row = self._existing(session, username)
            row.active = True
            advisor = _advisor(row)
        log.info("advisor account %s enabled", advisor.username)
        return advisor

    def unlock(self, username: str) -> Advisor:
        """Lift a lock-out and forget the failed sign-ins.

        Raises:
            AccountNotFoundError: when there is no such account.
        """
        with self._transaction() as session:
            row = self._existing(session, username)
            row.failed_signins = 0
            row.locked_until = None
            advisor = _advisor(row)
        log.info("advisor account %s unlocked", advisor.username)
        return advisor

    def set_password(self, username: str, password: str) -> Advisor:
        """Replace the password; this also lifts a lock-out and ends the account's existing sessions.

        Raises:
            AccountValidationError: when the password is too short or too long; nothing changes.
            AccountNotFoundError: when there is no such account.
        """
        password_hash = self.hasher.hash(validate_password(password))
        with self._transaction() as session:
            row = self._existing(session, username)
            row.password_hash = password_hash
            row.failed_signins = 0
            row.locked_until = None
            advisor = _advisor(row)
        log.info("advisor account %s: password changed", advisor.username)
        return advisor

    # -- signing in -----------------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> AccountState:
        """Check a sign-in and record its outcome (a failure counts towards the lock-out).

        Args:
            username: as typed; surrounding spaces are ignored and it is compared in lower case.
            password: as typed.

        Returns:
            The account, with ``last_signin_at`` now.

        Raises:
            SignInRefusedError: for an unknown username, a wrong password, a disabled or a locked account,
                always with the same message.
        """
        name = username.strip().lower() if isinstance(username, str) else ""
        password = password if isinstance(password, str) else ""
        found = self._load(name) if len(password) <= MAX_PASSWORD_CHARS else None
        if found is None:
            self._verify(self._dummy(), password[:MAX_PASSWORD_CHARS])  # the same work as for a real account
            log.info("sign-in refused: unknown username")
            raise SignInRefusedError("unknown")
        state, stored_hash = found
        matches = self._verify(stored_hash, password)
        now = self.clock()
        if not state.advisor.active:
            log.info("sign-in refused for %s: account disabled", name)
            raise SignInRefusedError("disabled")
        if state.is_locked(now):
            log.info("sign-in refused for %s: account locked", name)
            raise SignInRefusedError("locked")
        if not matches:
            self._record_failure(name, now)
            raise SignInRefusedError("wrong_password")
        with self._transaction() as session:
            row = self._existing(session, name)
            row.failed_signins = 0
            row.locked_until = None
            row.last_signin_at = now
            if row.password_hash == stored_hash and self._needs_rehash(stored_hash):
                row.password_hash = self.hasher.hash(password)
                log.info("advisor account %s: password rehashed with current parameters", name)
            signed_in = _state(row)
        log.info("advisor %s signed in", name)
        return signed_in

    def _load(self, username: str) -> tuple[AccountState, str] | None:
        """The account and its stored hash, or None for an unknown (or impossible) username."""
        if not USERNAME_PATTERN.match(username):
            return None
        with self._transaction() as session:
            row = self._row(session, username)
            return (_state(row), row.password_hash) if row is not None else None

    def _record_failure(self, username: str, now: dt.datetime) -> None:
        with self._transaction() as session:
            row = self._existing(session, username, lock=True)
            row.failed_signins += 1
            if row.failed_signins >= self.max_failures:
                row.locked_until = now + self.lockout
                log.warning("advisor account %s locked until %s after %d failed sign-ins",
                            username, row.locked_until.isoformat(timespec="seconds"), row.failed_signins)
            else:
                log.info("sign-in refused for %s: wrong password (%d in a row)", username, row.failed_signins)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError):
            log.error("a stored password hash cannot be read; that account cannot sign in until its password is set")
            return False

    def _needs_rehash(self, password_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash("not a password: used to spend the same time on unknown names")
        return self._dummy_hash

    # -- helpers --------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Session]:
        with translate_database_errors(self.engine), self._sessions.begin() as session:
            yield session

    @staticmethod
    def _row(session: Session, username: str, *, lock: bool = False) -> AdvisorRow | None:
        query = select(AdvisorRow).where(AdvisorRow.username == username)
        if lock:
            query = query.with_for_update()
        return session.scalars(query).one_or_none()

    def _existing(self, session: Session, username: str, *, lock: bool = False) -> AdvisorRow:
        if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
            raise AccountNotFoundError(username if isinstance(username, str) and len(username) <= 64 else "(invalid)")
        row = self._row(session, username, lock=lock)
        if row is None:
            raise AccountNotFoundError(username)
        return row


def validate_username(username: str) -> str:
    """The username, checked.

    Raises:
        AccountValidationError: unless it is 3-64 characters of ``a-z 0-9 . _ -``.
    """
    if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
        raise AccountValidationError("username", "use 3 to 64 characters: lower-case letters a-z, digits, '.', '_' "
                                                 "or '-'")
    return username


def validate_display_name(display_name: str) -> str:
    """The display name with surrounding spaces removed.

    Raises:
        AccountValidationError: when it is empty, longer than 200 characters or holds control characters.
    """
    name = display_name.strip() if isinstance(display_name, str) else ""
    if not name:
        raise AccountValidationError("display name", "give the advisor's full name")
    if len(name) > MAX_DISPLAY_NAME_CHARS:
        raise AccountValidationError("display name", f"use at most {MAX_DISPLAY_NAME_CHARS} characters")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise AccountValidationError("display name", "must not hold control characters")
    return name


def validate_role(role: str) -> str:
    """The role, checked.

    Raises:
        AccountValidationError: unless it is ``advisor`` or ``admin``.
    """
    if role not in ROLES:
        raise AccountValidationError("role", "use advisor or admin")
    return role


def validate_password(password: str) -> str:
    """The password, unchanged when acceptable.

    Raises:
        AccountValidationError: when it is shorter than 12 or longer than 1024 characters.
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise AccountValidationError("password", f"use at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountValidationError("password", f"use at most {MAX_PASSWORD_CHARS} characters")
    return password


def _advisor(row: AdvisorRow) -> Advisor:
    return Advisor(username=row.username, display_name=row.display_name, role=row.role, active=bool(row.active))


def _state(row: AdvisorRow) -> AccountState:
    stamp = hashlib.sha256(f"navigator-session:{row.password_hash}".encode()).hexdigest()[:24]
    return AccountState(advisor=_advisor(row), failed_signins=row.failed_signins, locked_until=row.locked_until,
                        created_at=row.created_at, last_signin_at=row.last_signin_at, session_stamp=stamp)
