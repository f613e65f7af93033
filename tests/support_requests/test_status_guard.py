"""The limit on failed status checks: per conversation and per reference, shared by replicas, ending by itself."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import inspect, select

from support_requests.errors import RequestValidationError, StoreUnavailableError
from support_requests.model import SupportRequest
from support_requests.status_guard import Lockout, StatusCheckGuard
from support_requests.store import RequestStore
from support_requests.tables import StatusCheckFailureRow
from tests.support_requests.helpers import FakeClock

LIMIT = 5
EMAIL = "Anna.Berg@acme-bio.example.org"  # make_draft's address


class Lookups:
    """The store's own look-up, counting how often the guard let it run."""

    def __init__(self, store: RequestStore):
        self.store = store
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, reference: str, email: str) -> Callable[[], SupportRequest | None]:
        def lookup() -> SupportRequest | None:
            with self._lock:
                self.calls += 1
            return self.store.find_for_company(reference, email)
        return lookup


@pytest.fixture
def guard(store: RequestStore, clock: FakeClock) -> StatusCheckGuard:
    return StatusCheckGuard(store.engine, clock=clock)


@pytest.fixture
def reference(store: RequestStore, draft) -> str:
    return store.create(draft(), "form-1").reference


@pytest.fixture
def lookups(store: RequestStore) -> Lookups:
    return Lookups(store)


def wrong_guesses(guard: StatusCheckGuard, lookups: Lookups, count: int, *, reference: Callable[[int], str],
                  conversation: Callable[[int], str]) -> list[Lockout | None]:
    """``count`` checks with a wrong email; what refused each (None: it was looked up and failed)."""
    outcomes = []
    for n in range(count):
        result = guard.check(reference(n), conversation(n), lookups(reference(n), f"guess{n}@example.org"))
        assert result.found is None
        outcomes.append(result.lockout)
    return outcomes


@pytest.mark.parametrize("failures", [4, 5, 6])
def test_a_conversation_gets_five_failed_checks_an_hour(guard, lookups, reference, failures) -> None:
    outcomes = wrong_guesses(guard, lookups, failures, reference=lambda n: f"SLT-2026-{100 + n:04d}",
                             conversation=lambda n: "conv-a")
    assert outcomes == [None] * min(failures, LIMIT) + [Lockout.CONVERSATION] * (failures - LIMIT)
    assert lookups.calls == min(failures, LIMIT)  # a refused check looks nothing up
    assert guard.failures(conversation_id="conv-a") == min(failures, LIMIT)
    right = guard.check(reference, "conv-a", lookups(reference, EMAIL))
    if failures < LIMIT:
        assert right.found is not None and right.found.reference == reference and right.lockout is None
    else:
        assert right.found is None and right.lockout is Lockout.CONVERSATION
    # Another conversation is not affected.
    assert guard.check(reference, "conv-b", lookups(reference, EMAIL)).found is not None


@pytest.mark.parametrize("failures", [4, 5, 6])
def test_a_reference_gets_five_failed_checks_an_hour_from_any_conversation(guard, lookups, reference,
                                                                           failures) -> None:
    outcomes = wrong_guesses(guard, lookups, failures, reference=lambda n: reference,
                             conversation=lambda n: f"conv-{n}")
    assert outcomes == [None] * min(failures, LIMIT) + [Lockout.REFERENCE] * (failures - LIMIT)
    assert lookups.calls == min(failures, LIMIT)
    assert guard.failures(reference=reference.lower()) == min(failures, LIMIT)
    right = guard.check(reference, "the-company", lookups(reference, EMAIL))
    if failures < LIMIT:
        assert right.found is not None and right.found.reference == reference
    else:
        assert right.found is None and right.lockout is Lockout.REFERENCE
    # Another reference is not affected.
    assert guard.check("SLT-2026-0777", "the-company", lookups("SLT-2026-0777", EMAIL)).failed


def test_the_lock_out_ends_an_hour_after_the_failures(guard, lookups, reference, clock) -> None:
    wrong_guesses(guard, lookups, LIMIT, reference=lambda n: reference, conversation=lambda n: "conv-a")
    clock.advance(minutes=59)
    refused = guard.check(reference, "conv-a", lookups(reference, EMAIL))
    assert refused.lockout is Lockout.CONVERSATION and lookups.calls == LIMIT
    assert guard.lockout(reference, "conv-a") is Lockout.CONVERSATION
    assert guard.lockout(reference, "conv-b") is Lockout.REFERENCE
    clock.advance(minutes=2)
    assert guard.lockout(reference, "conv-a") is None
    told = guard.check(reference, "conv-a", lookups(reference, EMAIL))
    assert told.found is not None and told.found.reference == reference


def test_the_window_slides_one_failure_at_a_time(guard, lookups, reference, clock) -> None:
    for _ in range(LIMIT):  # one failure every ten minutes
        assert guard.check(reference, "conv-a", lookups(reference, "x@example.org")).failed
        clock.advance(minutes=10)
    assert guard.check(reference, "conv-a", lookups(reference, "x@example.org")).lockout is Lockout.CONVERSATION
    clock.advance(minutes=11)  # 61 minutes after the first failure, 21 after the last
    assert guard.check(reference, "conv-a", lookups(reference, "x@example.org")).failed
    assert guard.check(reference, "conv-a", lookups(reference, EMAIL)).lockout is Lockout.CONVERSATION


def test_a_match_and_a_failing_lookup_are_not_counted(guard, lookups, reference) -> None:
    for _ in range(LIMIT + 2):
        assert guard.check(reference, "conv-a", lookups(reference, EMAIL)).found is not None

    def outage() -> None:
        raise StoreUnavailableError("the request database cannot be used")

    for _ in range(LIMIT + 2):
        with pytest.raises(StoreUnavailableError):
            guard.check(reference, "conv-a", outage)
    assert guard.failures(conversation_id="conv-a") == 0 and guard.failures(reference=reference) == 0


def test_replicas_share_the_counts(open_store, clock, draft) -> None:
    first, second = open_store(), open_store()  # two processes' stores on one database
    reference = first.create(draft(), "form-1").reference
    guards = [StatusCheckGuard(first.engine, clock=clock), StatusCheckGuard(second.engine, clock=clock)]
    lookups = [Lookups(first), Lookups(second)]
    for n in range(LIMIT):
        replica = n % 2
        assert guards[replica].check(reference, f"conv-{n}", lookups[replica](reference, "x@example.org")).failed
    for replica in (0, 1):
        refused = guards[replica].check(reference, "the-company", lookups[replica](reference, EMAIL))
        assert refused.lockout is Lockout.REFERENCE
    assert lookups[0].calls + lookups[1].calls == LIMIT


def test_concurrent_guesses_at_one_reference_get_exactly_the_limit(open_store, clock, draft) -> None:
    stores = [open_store(), open_store()]
    reference = stores[0].create(draft(), "form-1").reference
    guards = [StatusCheckGuard(store.engine, clock=clock) for store in stores]
    lookups = [Lookups(store) for store in stores]
    start = threading.Barrier(12)
    outcomes: list[Lockout | None] = []
    errors: list[BaseException] = []

    def guess(n: int) -> None:
        try:
            start.wait()
            result = guards[n % 2].check(reference, f"conv-{n}", lookups[n % 2](reference, f"g{n}@example.org"))
            outcomes.append(result.lockout)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert outcomes.count(None) == LIMIT and outcomes.count(Lockout.REFERENCE) == 12 - LIMIT
    assert lookups[0].calls + lookups[1].calls == LIMIT


def test_rows_hold_no_email_nor_conversation_id_and_old_ones_are_pruned(guard, lookups, store, reference,
                                                                        clock) -> None:
    assert guard.check(reference, "conv-secret", lookups(reference, "guess@example.org")).failed
    columns = {c["name"] for c in inspect(store.engine).get_columns("status_check_failures")}
    assert columns == {"id", "reference", "conversation_key", "failed_at"}
    with store.engine.connect() as connection:
        rows = connection.execute(select(StatusCheckFailureRow.__table__)).all()
    assert len(rows) == 1
    assert rows[0].reference == reference and rows[0].conversation_key != "conv-secret"
    assert len(rows[0].conversation_key) == 64 and "guess" not in repr(rows[0])
    clock.advance(minutes=61)
    assert guard.check("SLT-2026-0999", "conv-other", lookups("SLT-2026-0999", "x@example.org")).failed
    with store.engine.connect() as connection:
        left = connection.execute(select(StatusCheckFailureRow.reference)).scalars().all()
    assert left == ["SLT-2026-0999"]  # the hour-old row went when the new one was written


def test_limits_are_configurable(store, lookups, reference, clock) -> None:
    guard = StatusCheckGuard(store.engine, clock=clock, max_failures=2, window=dt.timedelta(minutes=10))
    assert wrong_guesses(guard, lookups, 3, reference=lambda n: reference, conversation=lambda n: "conv-a") == [
        None, None, Lockout.CONVERSATION]
    clock.advance(minutes=10)
    assert guard.check(reference, "conv-a", lookups(reference, EMAIL)).found is not None


@pytest.mark.parametrize(("reference", "conversation"), [("", "conv-a"), ("SLT-2026-0001", ""),
                                                         ("  ", "conv-a"), ("SLT-2026-0001", None)])
def test_empty_reference_or_conversation_is_refused(guard, reference, conversation) -> None:
    with pytest.raises(RequestValidationError):
        guard.check(reference, conversation, lambda: None)


@pytest.mark.parametrize("options", [{"max_failures": 0}, {"max_failures": True}, {"window": dt.timedelta(0)}])
def test_limits_must_make_sense(store, options) -> None:
    with pytest.raises(ValueError):
        StatusCheckGuard(store.engine, **options)
