"""The outbox and its worker with fake deliverers: claims, leases, back-off, give-up, stop and restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest

from support_requests.errors import DeliveryError, PermanentDeliveryError
from support_requests.outbox import OutboxMessage
from support_requests.store import RequestStore
from support_requests.worker import OutboxWorker, RetryPolicy
from tests.support_requests.helpers import FakeClock


class FakeDeliverer:
    """Records what it delivers; fails the first ``failures`` calls (for good when ``permanent``)."""

    def __init__(self, kind: str = "email", failures: int = 0, permanent: bool = False, on_deliver=None):
        self.kind = kind
        self.failures = failures
        self.permanent = permanent
        self.on_deliver = on_deliver
        self.delivered: list[OutboxMessage] = []
        self.calls = 0

    async def deliver(self, message: OutboxMessage) -> None:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise (PermanentDeliveryError if self.permanent else DeliveryError)("FakeDown 421")
        self.delivered.append(message)
        if self.on_deliver:
            self.on_deliver(message)


def create(store: RequestStore, draft, n: int) -> list[str]:
    return [store.create(draft(company_name=f"Company {i}"), f"form-{i}").reference for i in range(n)]


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (60, 100),
                                                   (1000, 100)])
def test_back_off_doubles_up_to_the_cap(attempts: int, seconds: float) -> None:
    assert RetryPolicy(base_seconds=10, cap_seconds=100).delay(attempts) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("options", [{"base_seconds": -1}, {"base_seconds": 10, "cap_seconds": 5},
                                     {"max_attempts": 0}])
def test_retry_policy_refuses_nonsense(options: dict) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**options)


@pytest.mark.asyncio
async def test_worker_delivers_everything_once(store: RequestStore, draft, clock: FakeClock) -> None:
    references = create(store, draft, 3)
    mail = FakeDeliverer()
    worker = OutboxWorker(store.outbox, [mail], clock=clock, batch_size=4)
    stats = await worker.run_until_idle()
    assert stats.sent == 6 and stats.retried == 0
    assert sorted(m.reference for m in mail.delivered) == sorted(references * 2)
    assert len({m.id for m in mail.delivered}) == 6
    assert {r.status for r in store.outbox.records()} == {"sent"}
    assert all(r.sent_at == clock.now and r.attempts == 1 for r in store.outbox.records())
    assert await worker.run_once() == 0 and len(mail.delivered) == 6


@pytest.mark.asyncio
async def test_delivery_id_is_stable_and_derived_from_the_row(store: RequestStore, draft, clock: FakeClock) -> None:
    create(store, draft, 1)
    mail = FakeDeliverer(failures=1)
    worker = OutboxWorker(store.outbox, [mail], clock=clock, policy=RetryPolicy(base_seconds=1, cap_seconds=1))
    await worker.run_until_idle()
    clock.advance(seconds=2)
    await worker.run_until_idle()
    ids = {m.id: m.delivery_id for m in mail.delivered}
    assert ids == {record.id: f"navigator-outbox-{record.id}" for record in store.outbox.records()}


@pytest.mark.asyncio
async def test_failures_back_off_then_give_up(store: RequestStore, draft, clock: FakeClock,
                                              caplog: pytest.LogCaptureFixture) -> None:
    reference = store.create(draft(), "form-1").reference
    mail = FakeDeliverer(failures=100)
    worker = OutboxWorker(store.outbox, [mail], clock=clock,
                          policy=RetryPolicy(base_seconds=10, cap_seconds=25, max_attempts=4))
    start = clock.now
    waits = []
    with caplog.at_level(logging.WARNING, logger="support_requests"):
        for _ in range(4):
            await worker.run_until_idle()
            pending = [r for r in store.outbox.records() if r.status == "pending"]
            if not pending:
                break
            waits.append((pending[0].next_attempt_at - clock.now).total_seconds())
            clock.advance(seconds=waits[-1] - 1)
            assert await worker.run_once() == 0  # not due yet
            clock.advance(seconds=1)
    assert waits == [10, 20, 25]
    records = store.outbox.records()
    assert [(r.status, r.attempts, r.last_error) for r in records] == [("failed", 4, "FakeDown 421")] * 2
    assert clock.now - start == dt.timedelta(seconds=55)
    assert worker.stats.failed == 2 and mail.delivered == []
    give_ups = [r for r in caplog.records if "failed for good" in r.getMessage()]
    assert len(give_ups) == 2 and all(reference in r.getMessage() for r in give_ups)
    assert all(r.levelno == logging.ERROR for r in give_ups)


@pytest.mark.asyncio
async def test_a_permanent_refusal_is_not_retried(store: RequestStore, draft, clock: FakeClock) -> None:
    create(store, draft, 1)
    mail = FakeDeliverer(failures=1, permanent=True)
    worker = OutboxWorker(store.outbox, [mail], clock=clock, batch_size=1)
    await worker.run_until_idle()
    assert [(r.status, r.attempts) for r in store.outbox.records()] == [("failed", 1), ("sent", 1)]
    assert mail.calls == 2


@pytest.mark.asyncio
async def test_a_crashed_workers_claims_are_retried_after_the_lease(store: RequestStore, draft,
                                                                   clock: FakeClock) -> None:
    create(store, draft, 2)
    lease = dt.timedelta(minutes=5)
    crashed, _ = store.outbox.claim(["email"], 2, lease, clock.now, max_attempts=8)  # then the worker dies
    mail = FakeDeliverer()
    worker = OutboxWorker(store.outbox, [mail], clock=clock, lease=lease)
    await worker.run_until_idle()
    assert {m.id for m in mail.delivered} == {r.id for r in store.outbox.records()} - {m.id for m in crashed}
    clock.advance(minutes=5)
    await worker.run_until_idle()
    assert sorted(m.id for m in mail.delivered) == [r.id for r in store.outbox.records()]
    assert {(r.status, r.attempts) for r in store.outbox.records() if r.id in {m.id for m in crashed}} == {("sent", 2)}
    assert store.outbox.mark_sent(crashed[0], clock.now) is False  # the dead worker's claim no longer counts


@pytest.mark.asyncio
async def test_a_row_whose_worker_died_on_the_last_attempt_is_failed(store: RequestStore, draft,
                                                                     clock: FakeClock) -> None:
    create(store, draft, 1)
    store.outbox.claim(["email"], 1, dt.timedelta(seconds=30), clock.now, max_attempts=1)
    clock.advance(seconds=31)
    mail = FakeDeliverer()
    worker = OutboxWorker(store.outbox, [mail], clock=clock, policy=RetryPolicy(max_attempts=1))
    await worker.run_until_idle()
    assert [r.status for r in store.outbox.records()] == ["failed", "sent"]
    assert len(mail.delivered) == 1


@pytest.mark.asyncio
async def test_stop_finishes_the_message_in_hand_and_hands_back_the_rest(store: RequestStore, draft,
                                                                         clock: FakeClock) -> None:
    create(store, draft, 2)
    worker: OutboxWorker | None = None
    first = FakeDeliverer(on_deliver=lambda message: worker.stop())
    worker = OutboxWorker(store.outbox, [first], clock=clock, batch_size=4)
    await worker.run()  # returns after the first delivery
    assert len(first.delivered) == 1
    records = store.outbox.records()
    assert [(r.status, r.attempts) for r in records] == [("sent", 1)] + [("pending", 0)] * 3
    second = FakeDeliverer()
    await OutboxWorker(store.outbox, [second], clock=clock).run_until_idle()
    assert sorted(m.id for m in first.delivered + second.delivered) == [r.id for r in records]


@pytest.mark.asyncio
async def test_two_workers_at_once_deliver_each_message_once(open_store, draft, clock: FakeClock) -> None:
    stores = [open_store(), open_store()]
    create(stores[0], draft, 10)
    delivered: list[int] = []

    class Slow(FakeDeliverer):
        async def deliver(self, message: OutboxMessage) -> None:
            await asyncio.sleep(0.005)
            delivered.append(message.id)

    workers = [OutboxWorker(s.outbox, [Slow()], clock=clock, batch_size=3) for s in stores]
    await asyncio.gather(*(w.run_until_idle() for w in workers))
    assert sorted(delivered) == [r.id for r in stores[0].outbox.records()]
    assert sum(w.stats.sent for w in workers) == 20


@pytest.mark.asyncio
async def test_kinds_without_a_deliverer_stay_pending_with_one_warning(open_store, draft, clock: FakeClock,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    from support_requests.model import Recipients

    store = open_store(recipients=Recipients(webhook_url="https://crm.example.org/hook"))
    create(store, draft, 2)
    hooks = FakeDeliverer(kind="webhook")
    worker = OutboxWorker(store.outbox, [hooks], clock=clock)
    with caplog.at_level(logging.WARNING, logger="support_requests"):
        await worker.run_until_idle()
        await worker.run_until_idle()
    assert len(hooks.delivered) == 2
    assert store.outbox.counts() == {"pending": 4, "sent": 2}
    warnings = [r for r in caplog.records if "not configured" in r.getMessage()]
    assert len(warnings) == 1 and "email" in warnings[0].getMessage()


@pytest.mark.asyncio
async def test_erased_requests_send_nothing(store: RequestStore, draft, clock: FakeClock) -> None:
    keep, erase = create(store, draft, 2)
    store.erase(reference=erase)
    mail = FakeDeliverer()
    await OutboxWorker(store.outbox, [mail], clock=clock).run_until_idle()
    assert {m.reference for m in mail.delivered} == {keep}


def test_next_due_and_counts(store: RequestStore, draft, clock: FakeClock) -> None:
    assert store.outbox.next_due(["email"]) is None
    create(store, draft, 1)
    assert store.outbox.next_due(["email"]) == clock.now
    assert store.outbox.counts() == {"pending": 2}


@pytest.mark.asyncio
async def test_a_slow_batch_hands_back_its_rest_before_the_lease_runs_out(store: RequestStore, draft,
                                                                          clock: FakeClock) -> None:
    create(store, draft, 2)
    slow = FakeDeliverer(on_deliver=lambda message: clock.advance(minutes=6))
    worker = OutboxWorker(store.outbox, [slow], clock=clock, batch_size=4, lease=dt.timedelta(minutes=10))
    assert await worker.run_once() == 4
    assert [r.status for r in store.outbox.records()] == ["sent", "pending", "pending", "pending"]
    await worker.run_until_idle()
    assert sorted(m.id for m in slow.delivered) == [r.id for r in store.outbox.records()]
    assert {(r.status, r.attempts) for r in store.outbox.records()} == {("sent", 1)}
