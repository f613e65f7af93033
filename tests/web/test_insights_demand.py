"""The log of unmet needs: storing, reading, retention and erasure, and the recorder the actions use.

The log's tests run on SQLite and on PostgreSQL (marked ``integration``): ``request_db_url`` in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from support_requests.retention import erase_conversations, purge_expired
from navigator.settings import Settings
from support_requests.errors import StoreUnavailableError
from support_requests.store import RequestStore
from support_requests.tables import UnmetNeedRow
from tests.support_requests.helpers import FakeClock, make_draft
from support_requests.demand import MAX_NEED_CHARS, DemandError, DemandLog, UnmetReason, conversation_key
from support_requests.recorder import DemandRecorder


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(request_db_url: str, clock: FakeClock):
    store = RequestStore.from_url(request_db_url, clock=clock)
    yield store
    store.close()


@pytest.fixture
def demand(store: RequestStore, clock: FakeClock) -> DemandLog:
    return DemandLog(store.engine, clock=clock)


def stored_rows(store: RequestStore) -> list[UnmetNeedRow]:
    with store.engine.connect() as connection:
        return list(connection.execute(select(UnmetNeedRow.__table__).order_by(UnmetNeedRow.id)))


def test_a_need_is_stored_with_its_reason_score_entry_and_hashed_conversation(demand, store, clock) -> None:
    need = demand.add("  Organoid   screening\nfor liver toxicity ", "weak", best_score=0.21,
                      best_entry_id="flow-flemingsberg", conversation_id="conv-42")
    assert need.need == "Organoid screening for liver toxicity" and need.reason is UnmetReason.WEAK
    assert (need.best_score, need.best_entry_id, need.created_at) == (0.21, "flow-flemingsberg", clock.now)
    [row] = stored_rows(store)
    assert row.conversation_key == hashlib.sha256(b"conv-42").hexdigest() == conversation_key("conv-42")
    assert "conv-42" not in repr(tuple(row))


def test_a_long_need_is_cut(demand) -> None:
    assert len(demand.add("a" * 5000, UnmetReason.NONE_FIT).need) == MAX_NEED_CHARS


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"need": "   ", "reason": "weak"}, "need is empty"),
    ({"need": "x", "reason": "boring"}, "reason must be"),
    ({"need": "x", "reason": "weak", "best_score": float("nan")}, "best_score"),
    ({"need": "x", "reason": "weak", "best_score": "0.3"}, "best_score"),
])
def test_bad_values_are_refused_and_nothing_is_stored(demand, store, kwargs, message) -> None:
    with pytest.raises(DemandError, match=message):
        demand.add(**kwargs)
    assert stored_rows(store) == []


def test_one_conversation_notes_the_same_need_once_and_none_fit_wins(demand, store) -> None:
    first = demand.add("biobank samples of lung tumours", "weak", best_score=0.2, best_entry_id="closed-lab",
                       conversation_id="conv-1")
    again = demand.add("biobank samples of lung tumours", "weak", conversation_id="conv-1")
    stronger = demand.add("biobank samples of lung tumours", "none_fit", best_entry_id="x",
                          conversation_id="conv-1")
    weaker = demand.add("biobank samples of lung tumours", "weak", conversation_id="conv-1")
    assert first.id == again.id == stronger.id == weaker.id
    assert (stronger.reason, stronger.best_entry_id, weaker.reason) == (UnmetReason.NONE_FIT, "closed-lab",
                                                                        UnmetReason.NONE_FIT)
    other_conversation = demand.add("biobank samples of lung tumours", "weak", conversation_id="conv-2")
    without_conversation = demand.add("biobank samples of lung tumours", "weak")
    assert len({first.id, other_conversation.id, without_conversation.id}) == 3
    assert len(stored_rows(store)) == 3


def test_needs_are_read_newest_first_with_filters(demand, clock) -> None:
    old = demand.add("old need", "weak")
    clock.advance(days=10)
    middle = demand.add("middle need", "none_fit")
    clock.advance(days=10)
    new = demand.add("new need", "weak")
    assert [n.id for n in demand.needs()] == [new.id, middle.id, old.id]
    assert [n.id for n in demand.needs(limit=2)] == [new.id, middle.id]
    assert [n.id for n in demand.needs(since=clock.now - dt.timedelta(days=10))] == [new.id, middle.id]
    assert [n.id for n in demand.needs(reasons=["none_fit"])] == [middle.id]
    assert demand.count(reasons=[UnmetReason.WEAK]) == 2
    assert demand.times(since=middle.created_at) == [middle.created_at, new.created_at]
    assert all(n.created_at.tzinfo is not None for n in demand.needs())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"limit": 0}, "limit"), ({"since": dt.datetime(2026, 1, 1)}, "time-zone-aware"),
    ({"reasons": ["other"]}, "reason must be")])
def test_bad_reading_arguments_are_refused(demand, kwargs, message) -> None:
    with pytest.raises(DemandError, match=message):
        demand.needs(**kwargs)


def test_purge_deletes_needs_older_than_the_retention(demand, clock) -> None:
    old = demand.add("old need", "weak")
    clock.advance(days=100)
    recent = demand.add("recent need", "weak")
    assert demand.purge(100, now=old.created_at + dt.timedelta(days=100, seconds=-1)) == 0
    assert demand.purge(100) == 1
    assert [n.id for n in demand.needs()] == [recent.id]
    with pytest.raises(DemandError, match="retention_days"):
        demand.purge(-1)


def test_erase_conversations_deletes_only_their_needs(demand) -> None:
    demand.add("need one", "weak", conversation_id="conv-1")
    demand.add("need two", "none_fit", conversation_id="conv-1")
    kept = demand.add("need three", "weak", conversation_id="conv-2")
    anonymous = demand.add("need four", "weak")
    assert demand.erase_conversations(["conv-1", "conv-unknown"]) == 2
    assert demand.erase_conversations([]) == 0
    assert sorted(n.id for n in demand.needs()) == [kept.id, anonymous.id]


def settings_for(tmp_path: Path, request_db_url: str, **env: str) -> Settings:
    return Settings.from_env({"NAVIGATOR_DATABASE_URL": request_db_url,
                              "NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}", **env})


def test_the_retention_run_also_deletes_old_unmet_needs(tmp_path, request_db_url, store, demand, clock) -> None:
    settings = settings_for(tmp_path, request_db_url, NAVIGATOR_RETENTION_DAYS="30")
    old = demand.add("old need", "weak", conversation_id="conv-1")
    reference = store.create(make_draft(clock), "form-1").reference
    store.set_status(reference, "closed", actor="eva")
    clock.advance(days=31)
    recent = demand.add("recent need", "none_fit")
    assert [n.id for n in demand.needs()] == [recent.id, old.id]  # both stored, so the purge has one to delete
    report, deleted = purge_expired(store, settings.tracker_db_url, settings.retention_days)
    assert report.references == (reference,) and deleted == 0
    assert [n.id for n in demand.needs()] == [recent.id]
    assert old.id not in [n.id for n in demand.needs()]


def test_erasing_a_conversation_deletes_its_unmet_needs(tmp_path, request_db_url, store, demand) -> None:
    settings = settings_for(tmp_path, request_db_url)
    erased = demand.add("need of the erased company", "weak", conversation_id="conv-0001")
    kept = demand.add("need of another company", "weak", conversation_id="conv-0002")
    assert sorted(n.id for n in demand.needs()) == sorted([erased.id, kept.id])
    assert erase_conversations(store.engine, settings.tracker_db_url, ["conv-0001"]) == 0  # no tracker store yet
    assert [n.id for n in demand.needs()] == [kept.id]
    assert erase_conversations(store.engine, settings.tracker_db_url, ["conv-0002"]) == 0
    assert demand.needs() == []


def test_erasing_requests_by_email_erases_their_conversations_needs(tmp_path, request_db_url, store, demand,
                                                                   clock) -> None:
    settings = settings_for(tmp_path, request_db_url)
    store.create(make_draft(clock, conversation_id="conv-0001"), "form-1")
    need = demand.add("need of the erased company", "none_fit", conversation_id="conv-0001")
    assert [n.id for n in demand.needs()] == [need.id]
    report = store.erase(email="Anna.Berg@acme-bio.example.org")
    assert "conv-0001" in report.conversation_ids
    erase_conversations(store.engine, settings.tracker_db_url, report.conversation_ids)
    assert demand.needs() == []


# -- the recorder -------------------------------------------------------------------------------------------


class Hit:
    """The two things the recorder reads from a search hit."""

    def __init__(self, entry_id: str, similarity: float | None):
        self.entry = type("Entry", (), {"id": entry_id})()
        self.similarity = similarity


async def test_the_recorder_notes_weak_and_none_fit_needs(demand) -> None:
    recorder = DemandRecorder(demand)
    assert await recorder.record_weak("organoids for liver toxicity", [Hit("flow-biomedicum", 0.18)], "conv-1")
    assert await recorder.record_weak("quantum bakery", [], "conv-2")
    assert await recorder.record_none_fit("cell sorting of bacteria", "flow-flemingsberg", "conv-3")
    noted = {n.need: n for n in demand.needs()}
    assert (noted["organoids for liver toxicity"].best_entry_id, noted["organoids for liver toxicity"].best_score,
            noted["organoids for liver toxicity"].reason) == ("flow-biomedicum", 0.18, UnmetReason.WEAK)
    assert (noted["quantum bakery"].best_entry_id, noted["quantum bakery"].best_score) == (None, None)
    assert (noted["cell sorting of bacteria"].reason, noted["cell sorting of bacteria"].best_entry_id) == (
        UnmetReason.NONE_FIT, "flow-flemingsberg")


async def test_a_database_error_is_a_warning_without_personal_data(demand, store, caplog) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE unmet_needs"))
    recorder = DemandRecorder(demand)
    with caplog.at_level(logging.WARNING, logger="support_requests.recorder"):
        assert await recorder.record_weak("Anna at Acme needs organoids", [], "conv-secret") is False
    assert "could not note an unmet need (weak)" in caplog.text
    assert "Anna" not in caplog.text and "conv-secret" not in caplog.text


async def test_an_unreachable_database_is_a_warning(tmp_path, caplog) -> None:
    from support_requests.database import open_engine

    engine = open_engine(f"sqlite:///{tmp_path}")  # a folder, not a database file
    recorder = DemandRecorder(DemandLog(engine))
    with caplog.at_level(logging.WARNING, logger="support_requests.recorder"):
        assert await recorder.record_none_fit("a need", None, "conv-1") is False
    assert StoreUnavailableError.__name__ in caplog.text
    engine.dispose()


async def test_a_slow_write_does_not_hold_the_conversation(demand, caplog) -> None:
    release = threading.Event()

    class SlowLog(DemandLog):
        def add(self, *args, **kwargs):
            release.wait(5)
            return super().add(*args, **kwargs)

    recorder = DemandRecorder(SlowLog(demand.engine, clock=demand.clock), wait_seconds=0.05)
    with caplog.at_level(logging.WARNING, logger="support_requests.recorder"):
        assert await recorder.record_weak("slow need", [], "conv-1") is False
    assert "takes longer" in caplog.text
    release.set()
    for _ in range(100):  # the write still finishes in its thread
        if demand.count():
            break
        await asyncio.sleep(0.02)
    assert [n.need for n in demand.needs()] == ["slow need"]
