"""The outbox delivery worker (asyncio): claim due notifications, deliver them, record the result.

Delivery is at least once, and exactly once unless a worker dies between the
receiver's acceptance and the database recording it; receivers can drop such a
duplicate by its Message-ID / ``Idempotency-Key``, which every retry repeats.
:meth:`OutboxWorker.stop` finishes the notification in hand before returning,
so a planned restart sends nothing twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from support_requests.errors import DeliveryError, StoreUnavailableError
from support_requests.model import utc_now
from support_requests.notifications import EMAIL, WEBHOOK
from support_requests.outbox import Outbox, OutboxMessage

log = logging.getLogger(__name__)

KINDS = frozenset({EMAIL, WEBHOOK})


class Deliverer(Protocol):
    """Delivers one kind of notification (``kind`` is ``email`` or ``webhook``)."""

    kind: str

    async def deliver(self, message: OutboxMessage) -> None:
        """Deliver ``message``; raise :class:`DeliveryError` (or its permanent subclass) when it did not go out."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off: attempt *n* failed -> wait ``min(cap, base * 2**(n-1))`` seconds.

    Attributes:
        base_seconds: the wait after the first failure.
        cap_seconds: the longest wait.
        max_attempts: after this many failed attempts the notification is marked failed.
    """

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if self.base_seconds < 0 or self.cap_seconds < self.base_seconds or self.max_attempts < 1:
            raise ValueError("RetryPolicy needs 0 <= base_seconds <= cap_seconds and max_attempts >= 1")

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after ``attempts`` failed attempts (1 for the first failure)."""
        exponent = min(max(attempts - 1, 0), 60)  # keeps 2**n finite
        return dt.timedelta(seconds=min(self.cap_seconds, self.base_seconds * 2 ** exponent))


@dataclass
class WorkerStats:
    """What a worker has done since it was made: notifications sent, put back for retry, failed for good."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


class OutboxWorker:
    """Delivers the outbox of one database with the given deliverers.

    Kinds with no deliverer (email when no SMTP host is configured) are left
    pending, and a warning says so once.

    Args:
        outbox: the database's outbox (``RequestStore.outbox``).
        deliverers: e.g. an :class:`~support_requests.mailer.SmtpMailer` and a
            :class:`~support_requests.webhook.WebhookSender`.
        batch_size: rows claimed at a time.
        lease: how long a claim lasts; a row whose worker died is retried after it. Keep it well above
            the deliverers' timeouts: a batch is cut short once it has used half the lease.
        poll_interval: seconds :meth:`run` waits when nothing is due.
        clock: returns the current UTC time (tests pass a fake clock).
    """

    def __init__(self, outbox: Outbox, deliverers: Iterable[Deliverer], *, policy: RetryPolicy | None = None,
                 batch_size: int = 10, lease: dt.timedelta = dt.timedelta(minutes=10), poll_interval: float = 5.0,
                 clock: Callable[[], dt.datetime] = utc_now):
        self.outbox = outbox
        self.deliverers = {d.kind: d for d in deliverers}
        self.policy = policy or RetryPolicy()
        self.batch_size = batch_size
        self.lease = lease
        self.poll_interval = poll_interval
        self.clock = clock
        self.stats = WorkerStats()
        self._stopping = asyncio.Event()
        self._warned: set[str] = set()

    def stop(self) -> None:
        """Ask :meth:`run` to end after the notification in hand; unstarted claims of the batch are handed back."""
        self._stopping.set()

    async def aclose(self) -> None:
        """Close the deliverers that hold connections (the webhook's HTTP session)."""
        for deliverer in self.deliverers.values():
            close = getattr(deliverer, "close", None)
            if close is not None:
                await close()

    async def run_once(self) -> int:
        """Claim one batch of due notifications and deliver them.

        Returns:
            How many notifications were claimed (0 means nothing was due).
        """
        await self._warn_about_disabled_kinds()
        claimed_at = self.clock()
        messages, abandoned = await asyncio.to_thread(
            self.outbox.claim, sorted(self.deliverers), self.batch_size, self.lease, claimed_at,
            self.policy.max_attempts)
        for record in abandoned:
            self.stats.failed += 1
            log.error("notification %s (%s) for %s failed for good: its worker stopped during its last attempt",
                      record.id, record.kind, record.reference)
        for index, message in enumerate(messages):
            # Hand back what is left when stopping, or when a slow batch has used half the lease: past the
            # lease another worker could take the same rows.
            if self._stopping.is_set() or self.clock() - claimed_at > self.lease / 2:
                for unstarted in messages[index:]:
                    await asyncio.to_thread(self.outbox.release, unstarted)
                break
            await self._deliver(message)
        return len(messages) + len(abandoned)

    async def run_until_idle(self, max_batches: int | None = None) -> WorkerStats:
        """Deliver until nothing is due now (notifications waiting for a retry later are left), or stopped.

        Returns:
            The worker's cumulative stats.
        """
        batches = 0
        while not self._stopping.is_set() and (max_batches is None or batches < max_batches):
            if await self.run_once() == 0:
                break
            batches += 1
        return self.stats

    async def run(self) -> None:
        """Deliver until :meth:`stop` is called, polling every ``poll_interval`` seconds when idle.

        A database that cannot be reached is logged and tried again at the next poll.
        """
        while not self._stopping.is_set():
            try:
                claimed = await self.run_once()
            except StoreUnavailableError as error:
                log.warning("outbox worker cannot reach the database, trying again: %s", error)
                claimed = 0
            if claimed == 0:
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_interval)
                except TimeoutError:
                    pass

    async def _deliver(self, message: OutboxMessage) -> None:
        try:
            await self.deliverers[message.kind].deliver(message)
        except DeliveryError as error:
            await self._record_failure(message, error)
            return
        if await asyncio.to_thread(self.outbox.mark_sent, message, self.clock()):
            self.stats.sent += 1
            log.info("sent notification %s (%s) for %s", message.id, message.kind, message.reference)
        else:
            log.warning("notification %s (%s) for %s went out after its claim expired; another worker may send "
                        "it again (receivers de-duplicate on %s)", message.id, message.kind, message.reference,
                        message.delivery_id)

    async def _record_failure(self, message: OutboxMessage, error: DeliveryError) -> None:
        if error.permanent or message.attempts >= self.policy.max_attempts:
            await asyncio.to_thread(self.outbox.mark_failed, message, error.detail)
            self.stats.failed += 1
            log.error("notification %s (%s) for %s failed for good after %d attempt(s): %s",
                      message.id, message.kind, message.reference, message.attempts, error.detail)
            return
        delay = self.policy.delay(message.attempts)
        await asyncio.to_thread(self.outbox.reschedule, message, error.detail, self.clock() + delay)
        self.stats.retried += 1
        log.warning("notification %s (%s) for %s not delivered (attempt %d: %s); retrying in %d s",
                    message.id, message.kind, message.reference, message.attempts, error.detail,
                    delay.total_seconds())

    async def _warn_about_disabled_kinds(self) -> None:
        if not KINDS - set(self.deliverers) - self._warned:
            return
        pending = await asyncio.to_thread(self.outbox.pending_kinds)
        for kind in sorted(pending - set(self.deliverers) - self._warned):
            self._warned.add(kind)
            log.warning("%s delivery is not configured: %s notifications stay pending until it is", kind, kind)
