"""Logs name references, never the company's personal data, even at DEBUG and with SQL logging on."""

from __future__ import annotations

import logging

import pytest

from support_requests.errors import RequestValidationError
from support_requests.model import Recipients
from support_requests.worker import OutboxWorker, RetryPolicy
from tests.support_requests.helpers import FakeClock, free_port
from tests.support_requests.servers import SmtpServer, WebhookReceiver

EMAIL = "Karin.Lind@secret-company.example.org"
PHONE = "+46 70 987 65 43"
ORG_NUMBER = "212000-0142"
PERSONAL = [EMAIL, EMAIL.lower(), "karin.lind", PHONE, "70 987 65 43", ORG_NUMBER, "2120000142", "Karin Lind",
            "Hemliga Bolaget AB", "confidential antibody programme"]
TEST_SERVER_LOGGERS = ("mail.log", "aiohttp.access", "aiohttp.server", "aiohttp.web")  # the receivers', not ours


def leaked(records: list[logging.LogRecord]) -> list[str]:
    found = []
    for record in records:
        if record.name.startswith(TEST_SERVER_LOGGERS):
            continue
        text = record.getMessage() + (record.exc_text or "")
        found += [f"{record.name}: {value}" for value in PERSONAL if value.lower() in text.lower()]
    return found


@pytest.mark.asyncio
async def test_a_full_cycle_logs_no_personal_data(open_store, draft, clock: FakeClock,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    from support_requests.mailer import SmtpMailer, SmtpSettings
    from support_requests.webhook import WebhookSender

    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)  # even with SQL and row logging asked for
    port = free_port()
    try:
        async with WebhookReceiver("secret") as crm:
            store = open_store(recipients=Recipients(webhook_url=crm.url))
            personal = draft(company_name="Hemliga Bolaget AB", contact_person="Karin Lind", email=EMAIL,
                             phone=PHONE, org_number=ORG_NUMBER, conversation_id="conv-karin",
                             need_summary="A confidential antibody programme needs cryo-EM.")
            reference = store.create(personal, "form-1").reference
            store.create(personal, "form-1")  # a retry
            with pytest.raises(RequestValidationError):
                store.create(draft(email="Karin.Lind@@secret-company.example.org"), "form-2")
            with pytest.raises(RequestValidationError):
                store.create(draft(phone=PHONE + "x"), "form-3")
            with pytest.raises(RequestValidationError):
                store.create(draft(org_number="212000-0143"), "form-4")
            store.assign(reference, "Eva Ek", actor="lead")
            store.set_status(reference, "in_progress", actor="Eva Ek", note=f"Called {PHONE}")
            store.add_note(reference, "Eva Ek", f"Email {EMAIL}, org {ORG_NUMBER}")
            assert store.find_for_company(reference, EMAIL) is not None
            assert store.find_for_company(reference, "wrong@example.org") is None
            mail = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, timeout=5))
            async with WebhookSender("secret") as hook:
                worker = OutboxWorker(store.outbox, [mail, hook], clock=clock,
                                      policy=RetryPolicy(base_seconds=1, max_attempts=2))
                await worker.run_until_idle()  # SMTP is down: failures are logged
                server = SmtpServer(port).start()
                try:
                    clock.advance(seconds=2)
                    await worker.run_until_idle()
                finally:
                    server.stop()
            assert store.outbox.counts() == {"sent": 3}
            store.set_status(reference, "connected", actor="Eva Ek")
            store.set_status(reference, "closed", actor="Eva Ek")
            report = store.erase(email=EMAIL.upper())
            assert report.references == (reference,)
            store.purge(retention_days=0)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.NOTSET)
    ours = [r for r in caplog.records if r.name.startswith("support_requests")]
    assert any(reference in r.getMessage() for r in ours)  # it did log, by reference
    assert any("not delivered" in r.getMessage() for r in ours)
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)  # SQL logging really was on
    assert leaked(caplog.records) == []
