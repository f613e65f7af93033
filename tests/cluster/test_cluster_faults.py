"""Faults of the cluster (navigator/cluster.py): HAProxy, 2 Rasa servers and 2 Navigator services on PostgreSQL and
Redis, started once for this module (tests/cluster/conftest.py).

The tests run in this order, and the later ones need fewer live processes than the earlier ones: the ordering of
one sender's concurrent messages across both Rasa servers; a Navigator service killed during 20 concurrent
conversations; a Rasa server killed in the middle of the support-request form. Each prints its figure.
"""

from __future__ import annotations

import contextlib
import csv
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Self

import pytest
from sqlalchemy import create_engine, text

from navigator.cluster import CLUSTER_THREAD_SETTINGS, Cluster
from navigator.settings import PROJECT_ROOT
from support_requests.store import RequestStore
from tests.cluster.conftest import backend_conversation, conversation
from tests.e2e.conftest import ResponseNames
from tests.support_requests.servers import SmtpServer

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
DRIVER = PROJECT_ROOT / "tests" / "cluster" / "socketio_driver.py"

FORM_ANSWERS = ("Acme Bio AB", "Alex Doe", "alex@acme-bio.se", "skip", "skip",
                "We need GMP manufacturing of a viral vector", "yes", "confirm")
"""The support-request form's answers after "I want to open a support request", in the order it asks."""


def stored_requests(database_url: str, sender: str) -> int:
    with RequestStore.from_url(database_url) as store:
        return len([r for r in store.list() if r.conversation_id == sender])


def tracker_events(tracker_db_url: str, sender: str) -> list[tuple[str, str | None, dict]]:
    """``(type, action name, data)`` of the sender's events in the tracker store, in the order they were stored."""
    engine = create_engine(tracker_db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT type_name, action_name, data FROM events WHERE sender_id = :s "
                                           "ORDER BY id"), {"s": sender}).all()
    finally:
        engine.dispose()
    return [(row[0], row[1], json.loads(row[2])) for row in rows]


def haproxy_command(cluster: Cluster, command: str) -> str:
    """HAProxy's answer to ``command`` on its admin socket."""
    with socket.socket(socket.AF_UNIX) as admin:
        admin.connect(str(cluster.run_dir / "haproxy.sock"))
        admin.sendall(f"{command}\n".encode())
        answer = b""
        while chunk := admin.recv(65536):
            answer += chunk
    return answer.decode()


def haproxy_state(cluster: Cluster, backend: str, server: str) -> str:
    """HAProxy's view of ``server`` in ``backend`` (``UP``, ``DOWN``, ...), from its admin socket."""
    answer = haproxy_command(cluster, f"show servers state {backend}")
    for line in answer.splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[3] == server:
            return {"0": "DOWN", "2": "UP"}.get(fields[5], fields[5])
    raise AssertionError(f"{server} not in {backend}: {answer!r}")


def socketio_holder(cluster: Cluster) -> str:
    """The Rasa server that serves the one socket.io user: the only one to which HAProxy sent socket.io requests."""
    rows = list(csv.DictReader(haproxy_command(cluster, "show stat").lstrip("# ").splitlines()))
    holding = [r["svname"] for r in rows if r["pxname"] == "rasa_socketio"
               and r["svname"] not in ("FRONTEND", "BACKEND") and int(r["stot"] or 0) > 0]
    assert len(holding) == 1, holding
    return holding[0]


class SocketUser:
    """A user of the chat widget's socket.io channel through HAProxy (tests/cluster/socketio_driver.py, run in
    the Rasa environment, which has python-socketio)."""

    def __init__(self, url: str, names: ResponseNames):
        self.names = names
        self.session_id = uuid.uuid4().hex
        self.process = subprocess.Popen([str(RASA_PYTHON), str(DRIVER), url, self.session_id], text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=PROJECT_ROOT)

    def _ask(self, command: dict) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the socket.io driver stopped (exit {self.process.poll()})"
        return json.loads(line)

    def say(self, text: str) -> list[str]:
        return [self.names.of(m) for m in self._ask({"say": text})["replies"]]

    def await_reconnect(self, timeout: float) -> float:
        """Seconds from the lost connection to the confirmed session on a new one."""
        answer = self._ask({"await_reconnect": timeout})
        assert answer["reconnected"], "the socket.io client did not reconnect"
        return answer["seconds"]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def test_haproxy_sees_every_backend_up_and_a_conversation_goes_through_it(cluster, names: ResponseNames) -> None:
    running, _ = cluster
    for backend, servers in (("rasa", running.layout.rasa_servers), ("navigator", running.layout.services)):
        for server in servers:
            deadline = time.monotonic() + 10
            while haproxy_state(running, backend, server.name) != "UP" and time.monotonic() < deadline:
                time.sleep(0.5)
            assert haproxy_state(running, backend, server.name) == "UP"
    chat = conversation(running, names)
    assert chat.say("I want to open a support request") == ["utter_ask_company_name"]
    with urllib.request.urlopen(f"{running.service_url}/health", timeout=30) as answer:
        assert answer.status == 200
    # The action protocol and the relay are for the Rasa servers only: refused at the public frontends.
    for url in (f"{running.service_url}/webhook", f"{running.service_url}/actions",
                f"{running.rasa_url}/webhooks/navigator_actions/webhook"):
        call = urllib.request.Request(url, data=b'{"next_action": "action_search"}',
                                      headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(call, timeout=30)
        assert refused.value.code == 403, url


def test_each_rasa_server_and_service_computes_on_one_thread(cluster) -> None:
    running, _ = cluster
    for name in [b.name for b in running.layout.rasa_servers + running.layout.services]:
        env = running.child(name).env
        assert [env[v] for v in CLUSTER_THREAD_SETTINGS] == ["1"] * len(CLUSTER_THREAD_SETTINGS), name
        with open(f"/proc/{running.child(name).process.pid}/environ", "rb") as seen:
            assert b"NAVIGATOR_TORCH_THREADS=1\0" in seen.read(), name


def test_one_senders_concurrent_messages_on_both_rasa_servers_are_handled_one_at_a_time(cluster,
                                                                                      names: ResponseNames) -> None:
    running, settings = cluster
    sender = f"order-{uuid.uuid4().hex[:10]}"
    servers = running.layout.rasa_servers
    messages = [f"hello {i}" for i in range(50)]

    def send(i: int) -> list[str]:
        # Alternately to each Rasa server directly, so that both handle this conversation at the same time.
        return backend_conversation(servers[i % len(servers)].url, names, sender).say(messages[i])

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        replies = list(pool.map(send, range(50)))
    elapsed = time.monotonic() - started
    print(f"ordering: 50 concurrent messages of one sender on {len(servers)} Rasa servers in {elapsed:.1f} s")
    assert all(replies), "a message got an empty reply"

    events = tracker_events(settings.tracker_db_url, sender)
    users = [data["text"] for kind, _, data in events if kind == "user"]
    assert sorted(users) == sorted(messages), "each message is in the tracker exactly once"
    # Each user event is followed by its own bot turn: actions (and the bot's utterances) up to action_listen,
    # before the next user event.
    turn_open = False
    for kind, action, _ in events:
        if kind == "user":
            assert not turn_open, "a message was taken in before the previous one's turn ended"
            turn_open, answered = True, False
        elif kind == "bot" and turn_open:
            answered = True
        elif kind == "action" and action == "action_listen" and turn_open:
            assert answered, "a turn ended without a bot reply"
            turn_open = False
    assert not turn_open


def test_a_service_killed_during_20_conversations_leaves_no_empty_reply_and_stores_each_request_once(
        cluster, names: ResponseNames) -> None:
    running, settings = cluster
    chats = [conversation(running, names, f"svc-{i:02d}-{uuid.uuid4().hex[:8]}") for i in range(20)]
    started_all = threading.Barrier(len(chats) + 1)
    empty, apologies, created = [], [], []

    def converse(chat) -> None:
        first = chat.say("I want to open a support request")
        started_all.wait(timeout=300)
        if not first:
            empty.append((chat.sender, "start"))
        for answer in FORM_ANSWERS:
            for _ in range(5):  # the form asks again for an answer it could not check
                replies = chat.say(answer)
                if not replies:
                    empty.append((chat.sender, answer))
                if "utter_service_unavailable" not in replies:
                    break
                apologies.append((chat.sender, answer))
        if "utter_request_created" in replies:  # the answer to "confirm"
            created.append(chat.sender)

    threads = [threading.Thread(target=converse, args=(chat,)) for chat in chats]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    started_all.wait(timeout=300)
    victim = running.child(running.layout.services[0].name)
    time.sleep(0.5)  # the conversations' next turns are under way
    victim.process.kill()
    killed_at = time.monotonic()
    for thread in threads:
        thread.join(timeout=600)
    elapsed = time.monotonic() - started
    deadline = time.monotonic() + 10
    while haproxy_state(running, "navigator", victim.name) != "DOWN" and time.monotonic() < deadline:
        time.sleep(0.2)
    print(f"service killed {killed_at - started:.1f} s into 20 conversations; all done in {elapsed:.1f} s; "
          f"empty replies {len(empty)}; apologies {len(apologies)}; requests created {len(created)}")
    assert not empty, empty
    assert haproxy_state(running, "navigator", victim.name) == "DOWN"
    counts = {chat.sender: stored_requests(settings.database_url, chat.sender) for chat in chats}
    assert all(count == 1 for count in counts.values()), counts
    assert len(created) == len(chats)


def test_a_rasa_server_killed_in_the_middle_of_the_form_the_other_one_continues_it(cluster,
                                                                                  names: ResponseNames) -> None:
    """A REST user and a socket.io (widget) user are both inside the form when the Rasa server that holds the
    socket.io connection dies: the REST user's next message, through HAProxy, is answered by the other server;
    the widget reconnects there and its session goes on; each form continues where it was."""
    running, settings = cluster
    chat = conversation(running, names)
    assert chat.say("I want to open a support request") == ["utter_ask_company_name"]
    assert chat.say("Acme Bio AB") == ["utter_ask_contact_person"]
    web = SocketUser(running.rasa_url, names)
    try:
        assert web.say("I want to open a support request") == ["utter_ask_company_name"]
        victim = running.child(socketio_holder(running))
        victim.process.kill()
        victim.process.wait(timeout=30)
        started = time.monotonic()
        assert chat.say("Alex Doe") == ["utter_ask_email"]
        first_turn = time.monotonic() - started
        reconnected = web.await_reconnect(60)
        assert web.say("Acme Bio AB") == ["utter_ask_contact_person"]
    finally:
        web.close()
    for answer in FORM_ANSWERS[2:-1]:
        assert chat.say(answer), f"no reply to {answer!r}"
    assert chat.say("confirm") == ["utter_request_created", "custom:support_request"]
    print(f"Rasa server {victim.name} killed in the form: the next REST message answered by the other in "
          f"{first_turn:.2f} s; the widget's socket.io session resumed there {reconnected:.2f} s after the loss")
    assert stored_requests(settings.database_url, chat.sender) == 1
    assert stored_requests(settings.database_url, web.session_id) == 0  # its form was left half-way


def test_mail_down_then_up_with_two_workers_sends_each_notification_once(cluster, smtp_socket) -> None:
    """The mail server was down while the requests above were made; both services' outbox workers (the one killed
    above is started again) deliver each notification exactly once when it comes up."""
    running, settings = cluster
    for service in running.layout.services:
        child = running.child(service.name)
        if child.exited():
            child.start()
    with RequestStore.from_url(settings.database_url) as store:
        expected = {record.id for record in store.outbox.records()}
    assert len(expected) >= 2 * 21, "the requests of the tests above have their notifications waiting"
    for service in running.layout.services:
        deadline = time.monotonic() + 300
        while haproxy_state(running, "navigator", service.name) != "UP" and time.monotonic() < deadline:
            time.sleep(0.5)
    server = SmtpServer(sock=smtp_socket).start()
    started = time.monotonic()
    try:
        deadline = started + 180  # a failed delivery is tried again after 30 s
        while len(server.handler.count_by("X-Navigator-Delivery")) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.5)
        delivered = time.monotonic() - started
        time.sleep(6)  # a worker's next poll (every 5 s) would send a duplicate now
        deliveries = server.handler.count_by("X-Navigator-Delivery")
    finally:
        server.stop()
    print(f"mail server up: {len(deliveries)} notifications of {len(expected)} delivered in {delivered:.1f} s by "
          f"{len(running.layout.services)} workers; most copies of one: {max(deliveries.values(), default=0)}")
    assert set(deliveries) == {f"navigator-outbox-{i}" for i in expected}
    assert set(deliveries.values()) == {1}
    with RequestStore.from_url(settings.database_url) as store:
        assert store.outbox.counts() == {"sent": len(expected)}


class Chatter:
    """Users talking to the cluster in threads until stopped, each turn's time and reply names recorded."""

    def __init__(self, cluster: Cluster, names: ResponseNames, users: int, script: Sequence[str]):
        self.chats = [conversation(cluster, names, f"load-{i}-{uuid.uuid4().hex[:8]}") for i in range(users)]
        self.script = script
        self.turns: list[tuple[str, float, float, tuple[str, ...]]] = []  # sender, sent, answered, reply names
        self.references: dict[str, set[str]] = {chat.sender: set() for chat in self.chats}  # announced to the user
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._talk, args=(chat,)) for chat in self.chats]

    def _talk(self, chat) -> None:
        step = 0
        while not self._stop.is_set():
            text = self.script[step % len(self.script)]
            sent = time.monotonic()
            try:
                replies = chat.say(text)
            except OSError as error:  # an HTTP error or a refused connection: not an answer either
                self.errors.append(f"{chat.sender} {text!r}: {error}")
                replies = []
            self.turns.append((chat.sender, sent, time.monotonic(), tuple(replies)))
            if "custom:support_request" in replies:
                self.references[chat.sender].add(chat.custom("support_request")["reference"])
            if replies and UNAVAILABLE not in replies:
                step += 1
            time.sleep(0.2)

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=300)

    def empty(self) -> list[tuple]:
        return [turn for turn in self.turns if not turn[3]]

    def apologies(self) -> list[tuple]:
        return [turn for turn in self.turns if UNAVAILABLE in turn[3]]

    def last_failure(self) -> float:
        """When the last turn that was not answered normally was answered (0 when none)."""
        return max((turn[2] for turn in self.turns if not turn[3] or UNAVAILABLE in turn[3]), default=0.0)


UNAVAILABLE = "utter_service_unavailable"


def test_a_redis_restart_loses_no_turn_and_leaves_no_conversation_stuck(cluster, cluster_redis,
                                                                      names: ResponseNames) -> None:
    running, _ = cluster
    with Chatter(running, names, users=5, script=["hello", "what can you do?"]) as load:
        time.sleep(3)
        away = cluster_redis.restart(down_seconds=2)
        back = time.monotonic()
        time.sleep(8)
    after = [turn for turn in load.turns if turn[1] > back + 5]
    recovered = max(load.last_failure() - back, 0.0)
    print(f"Redis away {away:.1f} s (restarted empty) under 5 users: {len(load.turns)} turns, "
          f"{len(load.apologies())} apologies, {len(load.empty())} empty replies, errors {len(load.errors)}; "
          f"normal answers again {recovered:.1f} s after it came back")
    assert not load.errors, load.errors[:3]
    assert not load.empty(), load.empty()[:3]
    assert {turn[0] for turn in after} == {chat.sender for chat in load.chats}, "every conversation goes on"
    assert all(turn[3] and UNAVAILABLE not in turn[3] for turn in after), after


def test_a_postgresql_restart_gets_try_again_answers_and_stores_nothing_twice(cluster, cluster_postgres,
                                                                            names: ResponseNames) -> None:
    running, settings = cluster
    script = ["I want to open a support request", *FORM_ANSWERS]
    with Chatter(running, names, users=4, script=script) as load:
        time.sleep(3)
        away = cluster_postgres.restart(down_seconds=3)
        back = time.monotonic()
        deadline = back + 120
        # Until every conversation has gone through the whole form at least once after the restart.
        while time.monotonic() < deadline and not all(
                any(t[0] == chat.sender and t[1] > back and "utter_request_created" in t[3] for t in load.turns)
                for chat in load.chats):
            time.sleep(0.5)
    during = [turn for turn in load.turns if turn[1] < back and turn[2] > back - away]
    recovered = max(load.last_failure() - back, 0.0)
    # A "confirm" sent again after its turn got the apology is the same request: announced again with its
    # reference, not stored again.
    confirmed = {chat.sender: sum("utter_request_created" in t[3] for t in load.turns if t[0] == chat.sender)
                 for chat in load.chats}
    created = {sender: len(references) for sender, references in load.references.items()}
    stored = {chat.sender: stored_requests(settings.database_url, chat.sender) for chat in load.chats}
    with RequestStore.from_url(settings.database_url) as store:
        stored_references = {chat.sender: {r.reference for r in store.list() if r.conversation_id == chat.sender}
                             for chat in load.chats}
    print(f"PostgreSQL away {away:.1f} s under 4 users in the form: {len(during)} turns during the outage, "
          f"{len(load.apologies())} apologies, {len(load.empty())} empty replies, errors {len(load.errors)}; normal "
          f"answers again {recovered:.1f} s after it came back; confirmations {confirmed}, references announced "
          f"{created}, stored {stored}")
    assert not load.errors, load.errors[:3]
    assert not load.empty(), load.empty()[:3]
    assert load.apologies(), "turns during the outage get the try-again answer"
    assert all(count >= 1 for count in created.values()), "every conversation finishes its form after the restart"
    assert stored == created, "each confirmed request is stored once"
    assert stored_references == load.references, "the references announced are the ones stored"
