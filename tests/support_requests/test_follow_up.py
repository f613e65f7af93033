"""The follow-up of completed requests: when it is queued (once), its signed link, the answer taken once, erasure,
and the email through a real SMTP server. Every store test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select, text

from support_requests.errors import InvalidTransitionError, RequestValidationError
from support_requests.follow_up import (
    LINK_EXPIRY,
    FollowUpLinkError,
    FollowUpLinks,
    FollowUpPolicy,
    derive_link_key,
    follow_up_email,
    queue_follow_up,
)
from support_requests.follow_up_answers import MAX_COMMENT_CHARS, FollowUpAnswers, LinkState, validate_answer
from support_requests.model import ERASED_MARKER
from support_requests.outbox import CANCELLED, PENDING
from support_requests.store import RequestStore
from support_requests.tables import FollowUpRow, RequestRow
from support_requests.worker import OutboxWorker
from tests.support_requests.helpers import FakeClock
from tests.support_requests.servers import SmtpServer

LINKS = FollowUpLinks(derive_link_key(b"a-session-key-for-the-tests-only="))
PUBLIC_URL = "https://navigator.example.org"
COMPANY_EMAIL = "Anna.Berg@acme-bio.example.org"


def policy(**changes) -> FollowUpPolicy:
    return FollowUpPolicy(**{"links": LINKS, "public_url": PUBLIC_URL, **changes})


@pytest.fixture
def store(open_store: Callable[..., RequestStore]) -> RequestStore:
    """A store that follows up completed requests at once."""
    return open_store(follow_up=policy())


@pytest.fixture
def answers(store: RequestStore, clock: FakeClock) -> FollowUpAnswers:
    return FollowUpAnswers(store.engine, LINKS, clock=clock)


def complete(store: RequestStore, reference: str, *, via_connected: bool = False) -> None:
    store.set_status(reference, "in_progress", actor="eva")
    if via_connected:
        store.set_status(reference, "connected", actor="eva")
    store.set_status(reference, "closed", actor="eva")


NOTIFIED = {"vecura@facility.example.org", "advisors@example.org"}
"""The mailboxes that creation notifications go to: any other email is a follow-up to a company."""


def follow_up_rows(store: RequestStore):
    return [r for r in store.outbox.records() if r.kind == "email" and _recipient(store, r.id) not in NOTIFIED]


def _recipient(store: RequestStore, outbox_id: int) -> str:
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT recipient FROM outbox WHERE id = :id"), {"id": outbox_id}).scalar_one()


def payload(store: RequestStore, outbox_id: int) -> dict:
    with store.engine.connect() as connection:
        return json.loads(connection.execute(text("SELECT payload FROM outbox WHERE id = :id"),
                                             {"id": outbox_id}).scalar_one())


def token_of(store: RequestStore, reference: str) -> str:
    """The token in the follow-up email of ``reference``."""
    (record,) = [r for r in follow_up_rows(store) if r.reference == reference]
    found = re.search(r"https://navigator\.example\.org/follow-up/(\S+)", payload(store, record.id)["body"])
    assert found, "the email has no link"
    return found.group(1)


def follow_up_count(store: RequestStore) -> int:
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT COUNT(*) FROM follow_ups")).scalar_one()


# -- when a follow-up is queued --------------------------------------------------------------------------------


@pytest.mark.parametrize("via_connected", [False, True])
def test_completing_a_request_queues_one_follow_up_email_to_the_company(store: RequestStore, draft, clock: FakeClock,
                                                                       via_connected: bool) -> None:
    reference = store.create(draft(), "form-1").reference
    complete(store, reference, via_connected=via_connected)
    (record,) = follow_up_rows(store)
    assert (record.reference, record.status, record.next_attempt_at) == (reference, PENDING, clock.now)
    email = payload(store, record.id)
    assert reference in email["subject"] and "Anna Berg" in email["body"]
    signed = LINKS.verify(token_of(store, reference))
    assert signed.expires_at == clock.now.replace(microsecond=0) + LINK_EXPIRY
    with store.engine.connect() as connection:
        row = connection.execute(select(FollowUpRow)).one()
    assert (row.public_id, row.answered_at, row.score, row.comment) == (signed.public_id, None, None, None)


@pytest.mark.parametrize("steps", [["closed"], ["withdrawn"], ["assigned", "closed"], ["in_progress", "withdrawn"]])
def test_requests_closed_without_being_worked_on_get_no_follow_up(store: RequestStore, draft, steps) -> None:
    reference = store.create(draft(), "form-1").reference
    for status in steps:
        store.set_status(reference, status, actor="eva")
    assert follow_up_rows(store) == [] and follow_up_count(store) == 0


def test_without_a_policy_nothing_is_queued(open_store, draft) -> None:
    store = open_store()
    reference = store.create(draft(), "form-1").reference
    complete(store, reference)
    assert follow_up_rows(store) == [] and follow_up_count(store) == 0


def test_the_email_waits_for_the_delay(open_store, draft, clock: FakeClock) -> None:
    store = open_store(follow_up=policy(delay=dt.timedelta(days=3)))
    reference = store.create(draft(), "form-1").reference
    complete(store, reference)
    (record,) = follow_up_rows(store)
    assert record.next_attempt_at == clock.now + dt.timedelta(days=3)
    assert LINKS.verify(token_of(store, reference)).expires_at == (
        clock.now + dt.timedelta(days=3) + LINK_EXPIRY).replace(microsecond=0)


def test_a_request_is_followed_up_once_however_often_it_is_completed(store: RequestStore, draft,
                                                                     clock: FakeClock) -> None:
    reference = store.create(draft(), "form-1").reference
    complete(store, reference)
    with pytest.raises(InvalidTransitionError):  # a retried completion is refused, and queues nothing
        store.set_status(reference, "closed", actor="eva")
    # Were a request ever reopened and completed again, the follow-up is not queued a second time.
    with store._sessions.begin() as session:
        row = session.scalars(select(RequestRow).where(RequestRow.reference == reference)).one()
        assert queue_follow_up(session, row, store.follow_up, clock.advance(days=2)) is False
    assert len(follow_up_rows(store)) == 1 and follow_up_count(store) == 1


def test_completing_concurrently_queues_one_follow_up(open_store, draft) -> None:
    stores = [open_store(follow_up=policy()) for _ in range(4)]
    reference = stores[0].create(draft(), "form-1").reference
    stores[0].set_status(reference, "in_progress", actor="eva")
    outcomes: list[str] = []

    def close(store: RequestStore) -> None:
        try:
            store.set_status(reference, "closed", actor="eva")
            outcomes.append("closed")
        except InvalidTransitionError:
            outcomes.append("refused")

    threads = [threading.Thread(target=close, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["closed", "refused", "refused", "refused"]
    assert len(follow_up_rows(stores[0])) == 1 and follow_up_count(stores[0]) == 1


def test_an_erased_request_is_not_followed_up(store: RequestStore, draft) -> None:
    reference = store.create(draft(), "form-1").reference
    store.set_status(reference, "in_progress", actor="eva")
    store.erase(reference=reference)
    store.set_status(reference, "closed", actor="eva")
    assert follow_up_count(store) == 0


def test_the_email_is_a_template_with_the_link() -> None:
    expires = dt.datetime(2027, 1, 31, 23, 30, tzinfo=dt.timezone.utc)  # 1 February in Stockholm
    email = follow_up_email("SLT-2026-0007", "Anna Berg", "anna@example.org", "https://x.example/follow-up/t",
                            expires)
    assert (email.kind, email.recipient) == ("email", "anna@example.org")
    assert email.payload["subject"] == "Did this help? Your support request SLT-2026-0007"
    assert "https://x.example/follow-up/t" in email.payload["body"] and "2027-02-01" in email.payload["body"]
    assert "$" not in email.payload["body"]
    with pytest.raises(ValueError, match="no template in 'sv'"):
        follow_up_email("SLT-2026-0007", "Anna Berg", "anna@example.org", "https://x.example/f/t", expires, "sv")


def test_a_policy_checks_its_values() -> None:
    with pytest.raises(ValueError, match="public URL"):
        policy(public_url="navigator.example.org")
    with pytest.raises(ValueError, match="delay"):
        policy(delay=dt.timedelta(days=31))
    with pytest.raises(ValueError, match="template"):
        policy(language="sv")
    assert policy(public_url="https://n.example/").link("abc") == "https://n.example/follow-up/abc"


# -- the link ----------------------------------------------------------------------------------------------------


def test_links_round_trip_and_refuse_any_change() -> None:
    expires = dt.datetime(2027, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
    token = LINKS.sign("A" * 22, expires)
    assert LINKS.verify(token).public_id == "A" * 22 and LINKS.verify(token).expires_at == expires
    public_id, stamp, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    later = str(int(stamp) + 86400 * 365)
    for bad in [f"{public_id}.{stamp}.{flipped}", f"{public_id}.{later}.{signature}",
                f"{'B' * 22}.{stamp}.{signature}", token + "x", token[:-1], "", "x" * 500, None, 42,
                FollowUpLinks(derive_link_key(b"another-key")).sign("A" * 22, expires)]:
        with pytest.raises(FollowUpLinkError):
            LINKS.verify(bad)
    assert derive_link_key(b"k") != b"k" and len(derive_link_key(b"k")) == 32


# -- the answer --------------------------------------------------------------------------------------------------


def test_an_answer_is_taken_once(store: RequestStore, answers: FollowUpAnswers, draft, clock: FakeClock) -> None:
    reference = store.create(draft(), "form-1").reference
    complete(store, reference)
    token = token_of(store, reference)
    assert answers.look_up(token).state is LinkState.OPEN
    clock.advance(days=2)
    first = answers.answer(token, "4", "Very helpful.\r\nThe <script>alert(1)</script> team answered fast.")
    assert (first.state, first.answered, first.reference) == (LinkState.ANSWERED, True, reference)
    second = answers.answer(token, 1, "Changed my mind")
    assert (second.state, second.answered) == (LinkState.ANSWERED, False)
    with store.engine.connect() as connection:
        row = connection.execute(select(FollowUpRow)).one()
    assert (row.score, row.answered_at) == (4, clock.now)
    assert row.comment == "Very helpful.\nThe <script>alert(1)</script> team answered fast."
    assert answers.look_up(token).state is LinkState.ANSWERED


def test_concurrent_answers_store_one(store: RequestStore, draft, clock: FakeClock) -> None:
    reference = store.create(draft(), "form-1").reference
    complete(store, reference)
    token = token_of(store, reference)
    results = []
    barrier = threading.Barrier(4)

    def answer(score: int) -> None:
        barrier.wait()
        results.append(FollowUpAnswers(store.engine, LINKS, clock=clock).answer(token, score))

    threads = [threading.Thread(target=answer, args=(score,)) for score in (2, 3, 4, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [result for result in results if result.answered]
    assert len(winners) == 1 and all(r.state is LinkState.ANSWERED for r in results)


def test_a_link_expires_after_sixty_days(store: RequestStore, answers: FollowUpAnswers, draft,
                                         clock: FakeClock) -> None:
    reference = store.create(draft(), "form-1").reference
    complete(store, reference)
    token = token_of(store, reference)
    clock.advance(days=59, hours=23)
    assert answers.look_up(token).state is LinkState.OPEN
    clock.advance(hours=1)
    assert answers.look_up(token).state is LinkState.EXPIRED
    late = answers.answer(token, 5)
    assert (late.state, late.answered) == (LinkState.EXPIRED, False)
    with store.engine.connect() as connection:
        assert connection.execute(select(FollowUpRow.score)).scalar_one() is None


def test_a_tampered_or_foreign_link_changes_nothing(store: RequestStore, answers: FollowUpAnswers, draft) -> None:
    reference = store.create(draft(), "form-1").reference
    complete(store, reference)
    token = token_of(store, reference)
    public_id, stamp, _ = token.split(".")
    foreign = FollowUpLinks(derive_link_key(b"another")).sign(public_id, LINKS.verify(token).expires_at)
    unknown = LINKS.sign("Z" * 22, LINKS.verify(token).expires_at)  # signed, but no such follow-up
    for bad in (token[:-2] + "xx", foreign, unknown, f"{public_id}.{int(stamp) + 1}.{token.split('.')[2]}"):
        with pytest.raises(FollowUpLinkError):
            answers.answer(bad, 5, "forged")
        with pytest.raises(FollowUpLinkError):
            answers.look_up(bad)
    with store.engine.connect() as connection:
        assert connection.execute(select(FollowUpRow.answered_at)).scalar_one() is None


@pytest.mark.parametrize("score, comment, field", [
    ("0", None, "score"), ("6", None, "score"), ("", None, "score"), ("x", None, "score"), (True, None, "score"),
    ("4.5", None, "score"), (None, None, "score"), ("3", "x" * (MAX_COMMENT_CHARS + 1), "comment"),
    ("3", "bell \x07", "comment"), ("3", 12, "comment")])
def test_answers_that_cannot_be_taken_store_nothing(store: RequestStore, answers: FollowUpAnswers, draft, score,
                                                    comment, field) -> None:
    reference = store.create(draft(), "form-1").reference
    complete(store, reference)
    token = token_of(store, reference)
    with pytest.raises(RequestValidationError) as refused:
        answers.answer(token, score, comment)
    assert refused.value.field == field
    assert answers.look_up(token).state is LinkState.OPEN


def test_validate_answer_normalises() -> None:
    assert validate_answer(" 5 ", "  ") == (5, None)
    assert validate_answer(1, None) == (1, None)
    assert validate_answer("2", "a\r\nb\rc") == (2, "a\nb\nc")
    assert validate_answer("3", "é" * MAX_COMMENT_CHARS) == (3, "é" * MAX_COMMENT_CHARS)


# -- erasure -----------------------------------------------------------------------------------------------------


def test_erasure_blanks_the_comment_and_keeps_the_score(store: RequestStore, answers: FollowUpAnswers, draft,
                                                        clock: FakeClock) -> None:
    first = store.create(draft(), "form-1").reference
    second = store.create(draft(company_name="Other AB", email="other@example.org"), "form-2").reference
    for reference in (first, second):
        complete(store, reference)
    answers.answer(token_of(store, first), 5, "Anna here: thanks to Eva Ek!")
    answers.answer(token_of(store, second), 2, "Kept")
    store.erase(email=COMPANY_EMAIL)
    with store.engine.connect() as connection:
        rows = {r.request_id: (r.score, r.comment) for r in connection.execute(select(FollowUpRow))}
    assert sorted(rows.values()) == [(2, "Kept"), (5, ERASED_MARKER)]


def test_erasure_cancels_an_unsent_follow_up_and_closes_its_link(open_store, draft, clock: FakeClock) -> None:
    store = open_store(follow_up=policy(delay=dt.timedelta(days=7)))
    reference = store.create(draft(), "form-1").reference
    complete(store, reference)
    token = token_of(store, reference)
    store.erase(reference=reference)
    (record,) = [r for r in store.outbox.records() if r.next_attempt_at > clock.now]
    assert record.status == CANCELLED and payload(store, record.id) == {}
    answers = FollowUpAnswers(store.engine, LINKS, clock=clock)
    assert answers.look_up(token).state is LinkState.EXPIRED
    assert answers.answer(token, 5, "after erasure").answered is False


def test_retention_blanks_the_comment_too(store: RequestStore, answers: FollowUpAnswers, draft,
                                          clock: FakeClock) -> None:
    reference = store.create(draft(), "form-1").reference
    complete(store, reference)
    answers.answer(token_of(store, reference), 3, "personal words")
    clock.advance(days=31)
    assert store.purge(30) == 1
    with store.engine.connect() as connection:
        assert connection.execute(select(FollowUpRow.score, FollowUpRow.comment)).one() == (3, ERASED_MARKER)


# -- delivery ------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_follow_up_arrives_by_smtp_with_a_working_link(store: RequestStore, answers: FollowUpAnswers,
                                                                 draft, clock: FakeClock) -> None:
    from support_requests.mailer import SmtpMailer, SmtpSettings

    reference = store.create(draft(), "form-1").reference
    server = SmtpServer().start()
    try:
        worker = OutboxWorker(store.outbox, [SmtpMailer(SmtpSettings(host="127.0.0.1", port=server.port,
                                                                      sender="navigator@example.org", timeout=5))],
                              clock=clock)
        assert (await worker.run_until_idle()).sent == 2  # the creation emails
        complete(store, reference)
        assert (await worker.run_until_idle()).sent == 3  # the worker's stats count from its start
        assert (await worker.run_until_idle()).sent == 3  # once
        (message,) = [m for m in server.handler.messages if m["To"] == COMPANY_EMAIL]
    finally:
        server.stop()
    body = message.get_payload(decode=True).decode()
    token = re.search(r"/follow-up/(\S+)", body).group(1)
    assert answers.answer(token, 5).answered is True
