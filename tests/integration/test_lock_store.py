"""The Redis lock store of several Rasa servers (bot/lock_store.py), run in the Rasa environment against a
throwaway Redis: the messages of one conversation are served one at a time and in the order their tickets were
issued, across processes; a lock left by a server that died expires; and the store recovers when Redis loses
its data or its connections."""

from __future__ import annotations

import json
import subprocess

import pytest

from navigator.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

# Each process is one "Rasa server" with its own store; its messages all belong to one conversation. Inside the
# lock a message does a deliberately slow read-modify-write of a shared counter and logs its ticket, so that two
# messages served at once lose an update or log out of order.
RACE = r"""
import asyncio, json, multiprocessing, sys
from urllib.parse import urlparse
import redis
from rasa.utils.endpoints import EndpointConfig
from lock_store import AtomicRedisLockStore

def server(url, messages, out):
    where = urlparse(url)
    store = AtomicRedisLockStore(EndpointConfig(url=where.hostname, port=where.port, db=3))
    shared = redis.Redis(host=where.hostname, port=where.port, db=4)
    errors = []

    async def message():
        try:
            async with store.lock("conversation-1", lock_lifetime=60, wait_time_in_seconds=0.005) as lock:
                shared.rpush("served", lock.now_serving)
                value = int(shared.get("counter") or 0)
                await asyncio.sleep(0.003)
                shared.set("counter", value + 1)
        except Exception as error:
            errors.append(type(error).__name__)

    async def main():
        await asyncio.wait_for(asyncio.gather(*(message() for _ in range(messages))), 60)

    asyncio.run(main())
    out.put(errors)

if __name__ == "__main__":
    url, processes, messages = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    where = urlparse(url)
    shared = redis.Redis(host=where.hostname, port=where.port, db=4)
    shared.flushdb()
    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=server, args=(url, messages, results)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    errors = sum((results.get(timeout=120) for _ in workers), [])
    for worker in workers:
        worker.join()
    served = [int(v) for v in shared.lrange("served", 0, -1)]
    left = redis.Redis(host=where.hostname, port=where.port, db=3).keys("*")
    print(json.dumps({"counter": int(shared.get("counter") or 0), "served": served, "errors": errors,
                      "keys_left": [k.decode() for k in left]}))
"""

RECOVERY = r"""
import asyncio, json, sys, time
from urllib.parse import urlparse
import redis
from rasa.utils.endpoints import EndpointConfig
from lock_store import AtomicRedisLockStore

where = urlparse(sys.argv[1])
store = AtomicRedisLockStore(EndpointConfig(url=where.hostname, port=where.port, db=5))
admin = redis.Redis(host=where.hostname, port=where.port, db=5)
admin.flushdb()
results = {}

async def turn(conversation, lifetime=60):
    started = time.monotonic()
    async with store.lock(conversation, lock_lifetime=lifetime, wait_time_in_seconds=0.05):
        pass
    return round(time.monotonic() - started, 2)

async def main():
    # A server died holding a ticket of "dead": the next message waits for the ticket's lifetime, not forever.
    store.issue_ticket("dead", lock_lifetime=1)
    results["after_dead_server"] = await turn("dead")
    # Redis lost its data (restarted without persistence) while a ticket was held: later messages are served.
    store.issue_ticket("lost")
    admin.flushdb()
    results["after_lost_data"] = await turn("lost")
    # Redis dropped every connection: the message in flight fails with a LockError; the next one is served.
    admin.client_kill_filter(_type="normal", skipme=True)
    try:
        await turn("dropped")
        results["during_drop"] = "served"
    except Exception as error:
        results["during_drop"] = type(error).__name__
    results["after_drop"] = await turn("dropped")
    results["keys_left"] = [k.decode() for k in admin.keys("*")]
    print(json.dumps(results))

asyncio.run(main())
"""


def run_in_rasa(script: str, *args: str) -> dict[str, object]:
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON}: run 'make setup'")
    done = subprocess.run([str(RASA_PYTHON), "-c", script, *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT / "bot", timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_servers_serve_one_conversations_messages_one_at_a_time_in_ticket_order(redis_url: str) -> None:
    result = run_in_rasa(RACE, redis_url, "2", "25")
    assert result["errors"] == []
    assert result["counter"] == 50  # no two messages were inside the lock at once
    assert result["served"] == list(range(50))  # served in the order of their tickets, each once
    assert result["keys_left"] == []  # the last message deleted the lock


def test_the_lock_recovers_from_a_dead_server_and_from_redis_losing_data_or_connections(redis_url: str) -> None:
    result = run_in_rasa(RECOVERY, redis_url)
    assert 0.9 <= result["after_dead_server"] < 5
    assert result["after_lost_data"] < 1
    assert result["during_drop"] in ("served", "LockError")
    assert result["after_drop"] < 1
    assert result["keys_left"] == []
