"""The company's answer to a follow-up: look a link up, and take its answer once.

The link's token is the only authority (the company has no account, and the page is reached from an email): a
token that this service did not sign is refused before the database is asked, an expired one is refused, and an
answer is stored only by a conditional update of a follow-up not yet answered, so two submissions of one link,
even at the same moment, store one answer. A follow-up whose request was erased meanwhile takes no answer (its
company asked for its data to be removed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from support_requests.database import session_factory, translate_database_errors
from support_requests.errors import RequestValidationError
from support_requests.follow_up import FollowUpLinkError, FollowUpLinks
from support_requests.model import utc_now
from support_requests.tables import FollowUpRow, RequestRow
from support_requests.validation import validate_text

MAX_COMMENT_CHARS = 2000
"""The longest comment a company may write."""

SCORES = (1, 2, 3, 4, 5)
"""The answers to "Did this help?": 1 not at all, 5 very much."""


class LinkState(str, enum.Enum):
    """Where a valid link stands."""

    OPEN = "open"  # waiting for the answer
    ANSWERED = "answered"  # answered already: it cannot be used again
    EXPIRED = "expired"  # past its expiry, or its request's personal data was erased


@dataclass(frozen=True)
class FollowUpLink:
    """A follow-up as its link shows it.

    Attributes:
        reference: the request followed up.
        state: open, answered or expired.
        expires_at: when the link stops working (UTC).
        answered: True when this call stored the answer (:meth:`FollowUpAnswers.answer`).
    """

    reference: str
    state: LinkState
    expires_at: dt.datetime
    answered: bool = False


def validate_answer(score: object, comment: object) -> tuple[int, str | None]:
    """The score (a whole number from 1 to 5, as given by a form) and the comment (optional, at most
    :data:`MAX_COMMENT_CHARS` characters, line breaks allowed, control characters not).

    Returns:
        The score, and the stripped comment with ``\\n`` line breaks, or None when empty.

    Raises:
        RequestValidationError: naming ``score`` or ``comment``.
    """
    text = score.strip() if isinstance(score, str) else score
    if isinstance(text, str) and text.isdigit() and len(text) == 1:
        text = int(text)
    if isinstance(text, bool) or text not in SCORES:
        raise RequestValidationError("score", "choose one answer from 1 to 5")
    if comment is None:
        return int(text), None
    if not isinstance(comment, str):
        raise RequestValidationError("comment", "must be text")
    cleaned = validate_text("comment", comment.replace("\r\n", "\n").replace("\r", "\n"), MAX_COMMENT_CHARS,
                            multi_line=True, required=False)
    return int(text), cleaned or None


@dataclass(frozen=True)
class _Request:
    reference: str
    erased_at: dt.datetime | None


class FollowUpAnswers:
    """The follow-ups in one database, as the companies' links reach them.

    Args:
        engine: the request database, migrated.
        links: checks the links' signatures (the same key that signed them).
        clock: the current UTC time.
    """

    def __init__(self, engine: Engine, links: FollowUpLinks, *, clock: Callable[[], dt.datetime] = utc_now):
        self.engine = engine
        self.links = links
        self.clock = clock
        self._sessions = session_factory(engine)

    def look_up(self, token: object) -> FollowUpLink:
        """Where the follow-up behind ``token`` stands.

        Raises:
            FollowUpLinkError: for a token this service did not sign, or whose follow-up does not exist.
            StoreUnavailableError: when the database cannot be used.
        """
        signed = self.links.verify(token)
        with self._transaction() as session:
            row, request = self._find(session, signed.public_id)
            return FollowUpLink(reference=request.reference, expires_at=row.expires_at,
                                state=self._state(row, request, self.clock()))

    def answer(self, token: object, score: object, comment: object = None) -> FollowUpLink:
        """Store the company's answer, once.

        Args:
            token: the link's token.
            score: 1 to 5 (an int, or its digit as text, as a form sends it).
            comment: optional free text.

        Returns:
            The follow-up, with ``answered`` True when this call stored the answer; otherwise its state says why
            not (answered already, or expired), and nothing changed.

        Raises:
            FollowUpLinkError: for a token this service did not sign (checked first: nothing else is read).
            RequestValidationError: for a score or comment that cannot be taken; nothing is stored.
            StoreUnavailableError: when the database cannot be used.
        """
        signed = self.links.verify(token)
        score_value, text = validate_answer(score, comment)
        now = self.clock()
        with self._transaction() as session:
            row, request = self._find(session, signed.public_id)
            state = self._state(row, request, now)
            link = FollowUpLink(reference=request.reference, expires_at=row.expires_at, state=state)
            if state is not LinkState.OPEN:
                return link
            table = FollowUpRow.__table__.c
            stored = session.execute(update(FollowUpRow.__table__)
                                     .where(table.id == row.id, table.answered_at.is_(None))
                                     .values(answered_at=now, score=score_value, comment=text)).rowcount == 1
        if not stored:  # another submission of the same link won
            return FollowUpLink(reference=link.reference, expires_at=link.expires_at, state=LinkState.ANSWERED)
        return FollowUpLink(reference=link.reference, expires_at=link.expires_at, state=LinkState.ANSWERED,
                            answered=True)

    @staticmethod
    def _state(row: FollowUpRow, request: _Request, now: dt.datetime) -> LinkState:
        if row.answered_at is not None:
            return LinkState.ANSWERED
        if now >= row.expires_at or request.erased_at is not None:
            return LinkState.EXPIRED
        return LinkState.OPEN

    @staticmethod
    def _find(session: Session, public_id: str) -> tuple[FollowUpRow, _Request]:
        found = session.execute(select(FollowUpRow, RequestRow.reference, RequestRow.erased_at)
                                .join(RequestRow, RequestRow.id == FollowUpRow.request_id)
                                .where(FollowUpRow.public_id == public_id)).one_or_none()
        if found is None:  # signed by this service, but not (or no longer) in this database
            raise FollowUpLinkError()
        return found[0], _Request(found[1], found[2])

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Session]:
        with translate_database_errors(self.engine), self._sessions.begin() as session:
            yield session
