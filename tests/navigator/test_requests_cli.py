"""``navigator requests ...`` on a SQLite file: output, and one-line errors that change nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from navigator import cli
from support_requests.store import RequestStore
from tests.support_requests.helpers import make_draft


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'requests.db'}"
    monkeypatch.setenv("NAVIGATOR_DATABASE_URL", url)
    for name in ("NAVIGATOR_SMTP_HOST", "NAVIGATOR_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NAVIGATOR_TRACKER_DB_URL", f"sqlite:///{tmp_path / 'no-tracker-yet.db'}")
    return url


@pytest.fixture
def seeded(db: str) -> list[str]:
    with RequestStore.from_url(db) as store:
        first = store.create(make_draft(store.clock), "form-1").reference
        second = store.create(make_draft(store.clock, company_name="=HYPERLINK(\"x\")", email="b@beta.example.org",
                                         conversation_id="conv-b", phone=None, org_number=None), "form-2").reference
    return [first, second]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["requests", *args])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(url: str):
    with RequestStore.from_url(url) as store:
        return store.list(), store.outbox.records()


def test_list_and_filter(seeded: list[str], capsys) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == seeded
    assert "Acme Biologics AB" in out and "[unassigned]" in out
    run(capsys, "assign", seeded[1], "Eva Ek", "--by", "lead")
    code, out, _ = run(capsys, "list", "--status", "assigned")
    assert code == 0 and out.split()[0] == seeded[1] and "[Eva Ek]" in out
    assert run(capsys, "list", "--status", "closed")[1] == "no support requests\n"


def test_show_prints_details_history_and_notifications(db: str, seeded: list[str], capsys) -> None:
    run(capsys, "set-status", seeded[0], "in_progress", "--note", "Called them.", "--by", "Eva Ek")
    code, out, _ = run(capsys, "show", seeded[0].lower())
    assert code == 0
    with RequestStore.from_url(db) as store:
        noted_at = store.get(seeded[0]).notes[0].at  # stamped by the store's clock when the command ran
    for expected in (f"{seeded[0]}  (in_progress)", "Anna Berg <Anna.Berg@acme-bio.example.org>",
                     "556036-0793", "routed to: contact-vecura", "vecura-gmp, flow-cytometry-flemingsberg",
                     f"1. {noted_at:%Y-%m-%d %H:%M} Eva Ek: Called them.", "Eva Ek: status: new -> in_progress",
                     "company (web): status: new", "email: pending after 0 attempt(s)"):
        assert expected in out


def test_set_status_assign_and_note(seeded: list[str], capsys) -> None:
    out = run(capsys, "assign", seeded[0], "Eva Ek", "--by", "lead")[1]
    assert out == f"{seeded[0]} is assigned to Eva Ek (assigned)\n"
    out = run(capsys, "set-status", seeded[0], "in-progress", "--by", "Eva Ek")[1]
    assert out == f"{seeded[0]} is now in_progress\n"
    assert run(capsys, "note", seeded[0], "Sent the quote.", "--by", "Eva Ek")[1] == f"{seeded[0]}: note 1 added\n"


@pytest.mark.parametrize("args", [
    ("show", "SLT-2026-0404"),
    ("set-status", "SLT-2026-0001", "connected", "--by", "eva"),               # invalid transition
    ("set-status", "SLT-2026-0404", "closed", "--by", "eva"),
    ("set-status", "SLT-2026-0001", "in_progress", "--note", "x" * 1_000_000, "--by", "eva"),
    ("note", "SLT-2026-0001", "x" * 1_000_000, "--by", "eva"),
    ("note", "SLT-2026-0001", "   ", "--by", "eva"),
    ("assign", "SLT-2026-0001", "", "--by", "eva"),
    ("erase", "--email", "not-an-address"),
    ("erase", "--reference", "SLT-2026-0404"),
    ("purge", "--retention-days", "-5"),
])
def test_bad_input_is_one_line_on_stderr_and_changes_nothing(seeded: list[str], db: str, capsys, args) -> None:
    before = snapshot(db)
    code, out, err = run(capsys, *args)
    assert code == 1 and out == ""
    assert err.startswith("navigator: ") and err.count("\n") == 1 and len(err) < 300
    assert "Traceback" not in err
    assert snapshot(db) == before


def test_invalid_transition_message_names_the_way_forward(seeded: list[str], capsys) -> None:
    _, _, err = run(capsys, "set-status", seeded[0], "connected", "--by", "eva")
    assert err == (f"navigator: {seeded[0]} cannot go from 'new' to 'connected'; "
                   "from 'new' it can go to: assigned, in_progress, closed, withdrawn\n")


def test_unknown_status_is_a_usage_error(seeded: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(capsys, "set-status", seeded[0], "done")
    assert exit_.value.code == 2
    assert "unknown status 'done'" in capsys.readouterr().err


def test_export_csv_neutralises_formulas(seeded: list[str], tmp_path: Path, capsys) -> None:
    target = tmp_path / "export.csv"
    code, out, _ = run(capsys, "export", "--csv", str(target))
    assert code == 0 and out == f"exported 2 request(s) to {target}\n"
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert [r["reference"] for r in rows] == seeded
    assert rows[0]["email"] == "Anna.Berg@acme-bio.example.org"
    assert rows[0]["entry_ids"] == "vecura-gmp flow-cytometry-flemingsberg"
    assert rows[0]["phone"] == "'+46 8 123 456 78"
    assert rows[1]["company_name"] == "'=HYPERLINK(\"x\")"
    code, out, _ = run(capsys, "export", "--csv", "-", "--status", "new")
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 2


def test_export_to_an_unwritable_place_fails_cleanly(seeded: list[str], tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "export", "--csv", str(tmp_path / "missing" / "dir" / "x.csv"))
    assert code == 1 and err.startswith("navigator: cannot write") and err.count("\n") == 1


def test_erase_by_email_reports_conversations(seeded: list[str], capsys) -> None:
    code, out, _ = run(capsys, "erase", "--email", "ANNA.BERG@acme-bio.example.org")
    assert code == 0
    assert f"erased the personal data of 1 request(s): {seeded[0]}" in out
    assert "conv-0001" in out and "tracker store holds no conversations" in out
    assert run(capsys, "erase", "--reference", seeded[0])[1].startswith("nothing to erase")


def test_erase_deletes_tracker_events_when_configured(seeded: list[str], tmp_path: Path, monkeypatch, capsys) -> None:
    from sqlalchemy import create_engine, text

    tracker = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(tracker)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                                "action_name VARCHAR(255), data TEXT)"))
        connection.execute(text("INSERT INTO events (sender_id, type_name) VALUES ('conv-b', 'user'), "
                                "('conv-b', 'bot'), ('conv-other', 'user')"))
    monkeypatch.setenv("NAVIGATOR_TRACKER_DB_URL", tracker)
    code, out, _ = run(capsys, "erase", "--reference", seeded[1])
    assert code == 0 and "deleted 2 tracker event(s) of 1 conversation(s)" in out
    with engine.connect() as connection:
        assert connection.execute(text("SELECT sender_id FROM events")).scalars().all() == ["conv-other"]
    engine.dispose()


def test_purge(seeded: list[str], capsys) -> None:
    run(capsys, "set-status", seeded[0], "closed", "--by", "eva")
    code, out, _ = run(capsys, "purge")
    assert code == 0 and out.startswith("erased the personal data of 0 request(s) closed more than 365 day(s) ago")
    code, out, _ = run(capsys, "purge", "--retention-days", "0")
    assert code == 0 and f"1 request(s) closed more than 0 day(s) ago: {seeded[0]}" in out


def test_deliver_once_sends_the_pending_emails(seeded: list[str], db: str, monkeypatch, capsys) -> None:
    from tests.support_requests.helpers import free_port
    from tests.support_requests.servers import SmtpServer

    server = SmtpServer(free_port()).start()
    monkeypatch.setenv("NAVIGATOR_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NAVIGATOR_SMTP_PORT", str(server.port))
    try:
        code, out, _ = run(capsys, "deliver", "--once")
    finally:
        server.stop()
    assert code == 0 and "sent 4, to retry 0, failed 0" in out and "outbox: 4 sent" in out
    assert len(server.handler.messages) == 4


def test_deliver_without_smtp_leaves_emails_pending(seeded: list[str], capsys) -> None:
    code, out, err = run(capsys, "deliver", "--once")
    assert code == 0 and "outbox: 4 pending" in out and "NAVIGATOR_SMTP_HOST is not set" in err


def test_unreachable_database_is_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("NAVIGATOR_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    code, _, err = run(capsys, "list")
    assert code == 1 and err.startswith("navigator: the request database") and err.count("\n") == 1
