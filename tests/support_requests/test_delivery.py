"""Real deliveries: SMTP to a local aiosmtpd server, webhooks to a local aiohttp server, with failures injected."""

from __future__ import annotations

import asyncio
import json

import pytest

from support_requests.mailer import SmtpMailer, SmtpSettings
from support_requests.model import Recipients
from support_requests.store import RequestStore
from support_requests.webhook import WebhookSender, sign_body, verify_signature
from support_requests.worker import OutboxWorker, RetryPolicy
from tests.support_requests.helpers import FakeClock
from tests.support_requests.servers import RecordingSmtpHandler, SmtpServer, WebhookReceiver, refusing_port

SECRET = "shared-secret-for-tests"


def mailer(port: int, **options) -> SmtpMailer:
    return SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, sender="navigator@navigator.example.org",
                                   timeout=5, **options))


def create_requests(store: RequestStore, draft, n: int) -> list[str]:
    return [store.create(draft(company_name=f"Company {i}", conversation_id=f"conv-{i}"), f"form-{i}").reference
            for i in range(n)]


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.mark.asyncio
async def test_emails_arrive_with_the_promised_content(store: RequestStore, draft, clock: FakeClock, smtp) -> None:
    reference = store.create(draft(), "form-1").reference
    worker = OutboxWorker(store.outbox, [mailer(smtp.port)], clock=clock)
    assert (await worker.run_until_idle()).sent == 2
    by_recipient = {m["To"]: m for m in smtp.handler.messages}
    assert set(by_recipient) == {"vecura@facility.example.org", "advisors@example.org"}
    contact, advisors = by_recipient["vecura@facility.example.org"], by_recipient["advisors@example.org"]
    for message in (contact, advisors):
        body = message.get_payload(decode=True).decode()
        assert reference in message["Subject"] and "Acme Biologics AB" in message["Subject"]
        assert "GMP production of an AAV vector" in body and "vecura-gmp, flow-cytometry-flemingsberg" in body
        assert message["From"] == "navigator@navigator.example.org"
        assert message["X-Navigator-Reference"] == reference
    contact_body = contact.get_payload(decode=True).decode()
    assert "advisor will follow up" in contact_body
    assert "Anna.Berg@acme-bio.example.org" in advisors.get_payload(decode=True).decode()
    ids = {r.id for r in store.outbox.records()}
    assert {m["Message-ID"] for m in smtp.handler.messages} == {
        f"<navigator-outbox-{i}@navigator.example.org>" for i in ids}


@pytest.mark.asyncio
async def test_smtp_down_while_requests_arrive_then_each_email_exactly_once(store: RequestStore, draft,
                                                                           clock: FakeClock) -> None:
    with refusing_port() as held:  # nothing listens here yet, and no other process can take the port
        port = held.getsockname()[1]
        references = create_requests(store, draft, 20)
        assert len(store.list()) == 20  # the requests exist although no email could go out
        worker = OutboxWorker(store.outbox, [mailer(port)], clock=clock, batch_size=7,
                              policy=RetryPolicy(base_seconds=30, cap_seconds=300, max_attempts=5))
        down = await worker.run_until_idle()
        assert (down.sent, down.retried) == (0, 40)
        assert store.outbox.counts() == {"pending": 40}
        server = SmtpServer(sock=held).start()  # the server comes up on that very port
        try:
            clock.advance(seconds=31)
            stats = await worker.run_until_idle()
            assert stats.sent == 40
            clock.advance(hours=1)
            assert (await OutboxWorker(store.outbox, [mailer(port)], clock=clock).run_until_idle()).sent == 0
        finally:
            server.stop()
    assert server.port == port
    counts = server.handler.count_by("X-Navigator-Delivery")
    assert len(counts) == 40 and set(counts.values()) == {1}
    assert sorted(server.handler.count_by("X-Navigator-Reference").items()) == [(r, 2) for r in references]
    assert store.outbox.counts() == {"sent": 40}
    assert {r.attempts for r in store.outbox.records()} == {2}


@pytest.mark.asyncio
async def test_worker_restarted_midway_sends_each_email_exactly_once(store: RequestStore, draft, clock: FakeClock,
                                                                    smtp) -> None:
    create_requests(store, draft, 20)

    class StopAfterTen(SmtpMailer):
        sent = 0

        async def deliver(self, message) -> None:
            await super().deliver(message)
            self.sent += 1
            if self.sent == 10:
                first.stop()  # as a deployment would, in the middle of a batch

    first = OutboxWorker(store.outbox, [StopAfterTen(mailer(smtp.port).settings)], clock=clock, batch_size=4,
                         poll_interval=0.01)
    await asyncio.wait_for(first.run(), timeout=60)
    assert len(smtp.handler.messages) == 10 and first.stats.sent == 10
    assert store.outbox.counts() == {"pending": 30, "sent": 10}
    assert all(r.attempts == 0 for r in store.outbox.records() if r.status == "pending")  # handed back unused
    second = OutboxWorker(store.outbox, [mailer(smtp.port)], clock=clock, batch_size=4)
    await second.run_until_idle()
    counts = smtp.handler.count_by("X-Navigator-Delivery")
    assert len(counts) == 40 and set(counts.values()) == {1}
    assert first.stats.sent + second.stats.sent == 40
    assert store.outbox.counts() == {"sent": 40}


@pytest.mark.asyncio
async def test_a_refused_mailbox_fails_for_good_and_the_others_go_out(store: RequestStore, draft,
                                                                     clock: FakeClock) -> None:
    server = SmtpServer(handler=RecordingSmtpHandler(refuse={"vecura@facility.example.org"})).start()
    try:
        reference = store.create(draft(), "form-1").reference
        worker = OutboxWorker(store.outbox, [mailer(server.port)], clock=clock)
        stats = await worker.run_until_idle()
    finally:
        server.stop()
    assert (stats.sent, stats.failed, stats.retried) == (1, 1, 0)
    failed = [r for r in store.outbox.records(reference) if r.status == "failed"]
    assert len(failed) == 1 and failed[0].last_error == "SMTPRecipientsRefused 550"


@pytest.mark.asyncio
async def test_smtp_login(store: RequestStore, draft, clock: FakeClock) -> None:
    from aiosmtpd.smtp import AuthResult

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    server = SmtpServer(authenticator=authenticator, auth_require_tls=False).start()
    try:
        store.create(draft(), "form-1")
        good = await OutboxWorker(store.outbox, [mailer(server.port, user="nav", password="s3cret")],
                                  clock=clock).run_until_idle()
    finally:
        server.stop()
    assert good.sent == 2 and logins[0] == (b"nav", b"s3cret")


@pytest.mark.asyncio
async def test_webhook_posts_signed_json_and_retries_with_the_same_body(open_store, draft, clock: FakeClock) -> None:
    async with WebhookReceiver(SECRET, statuses=[503]) as crm:
        store = open_store(recipients=Recipients(webhook_url=crm.url))
        reference = store.create(draft(), "form-1").reference
        sender = WebhookSender(SECRET, timeout=5)
        worker = OutboxWorker(store.outbox, [sender], clock=clock, policy=RetryPolicy(base_seconds=5))
        first = await worker.run_until_idle()
        clock.advance(seconds=5)
        second = await worker.run_until_idle()
        await worker.aclose()
    assert (first.retried, second.sent) == (1, 1)
    assert len(crm.received) == 2
    (body1, headers1, signed1), (body2, headers2, signed2) = crm.received
    assert signed1 and signed2 and body1 == body2
    assert headers1["X-Navigator-Signature"] == sign_body(SECRET, body1)
    assert headers1["Idempotency-Key"] == headers2["Idempotency-Key"] == json.loads(body1)["delivery_id"]
    document = json.loads(body1)
    assert document["event"] == "support_request.created" and document["reference"] == reference
    assert document["email"] == "Anna.Berg@acme-bio.example.org"
    assert document["entry_ids"] == ["vecura-gmp", "flow-cytometry-flemingsberg"]
    webhook_rows = [r for r in store.outbox.records() if r.kind == "webhook"]
    assert document["delivery_id"] == f"navigator-outbox-{webhook_rows[0].id}"
    assert [(r.status, r.attempts) for r in webhook_rows] == [("sent", 2)]


@pytest.mark.asyncio
async def test_webhook_client_errors_are_final(open_store, draft, clock: FakeClock) -> None:
    async with WebhookReceiver(SECRET, statuses=[400]) as crm:
        store = open_store(recipients=Recipients(webhook_url=crm.url))
        store.create(draft(), "form-1")
        async with WebhookSender(SECRET, timeout=5) as sender:
            stats = await OutboxWorker(store.outbox, [sender], clock=clock).run_until_idle()
    assert stats.failed == 1 and [r.last_error for r in store.outbox.records() if r.kind == "webhook"] == ["HTTP 400"]


@pytest.mark.asyncio
async def test_webhook_receiver_down_is_retried(open_store, draft, clock: FakeClock) -> None:
    with refusing_port() as held:
        store = open_store(recipients=Recipients(webhook_url=f"http://127.0.0.1:{held.getsockname()[1]}/hook"))
        store.create(draft(), "form-1")
        async with WebhookSender(SECRET, timeout=5) as sender:
            stats = await OutboxWorker(store.outbox, [sender], clock=clock).run_until_idle()
    assert stats.retried == 1
    assert [r.status for r in store.outbox.records() if r.kind == "webhook"] == ["pending"]


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    import hashlib
    import hmac

    body = b'{"reference":"SLT-2026-0001"}'
    expected = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert sign_body("k", body) == expected
    assert verify_signature("k", body, expected)
    assert not verify_signature("k", body + b" ", expected) and not verify_signature("other", body, expected)
    assert not verify_signature("k", body, None)


def test_webhook_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookSender("")
