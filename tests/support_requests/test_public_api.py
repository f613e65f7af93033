"""The names the assistant and the advisors' console rely on, and what importing the package costs."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from support_requests.errors import (
    InvalidTransitionError,
    RequestNotFoundError,
    RequestValidationError,
    SupportRequestError,
)
from support_requests.model import Consent, RequestDraft, RequestStatus, SupportRequest
from support_requests.store import RequestStore
from support_requests.validation import normalise_email, validate_org_number, validate_phone

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("method", "parameters"), [
    ("from_url", ["url"]),
    ("create", ["draft", "idempotency_key"]),
    ("get", ["reference"]),
    ("list", ["status", "assignee", "created_from", "created_to"]),
    ("set_status", ["reference", "status", "actor", "note"]),
    ("assign", ["reference", "advisor", "actor"]),
    ("add_note", ["reference", "actor", "text"]),
    ("find_for_company", ["reference", "email"]),
    ("erase", ["email", "reference"]),
    ("purge", ["retention_days", "now"]),
])
def test_store_methods_take_the_agreed_parameters(method: str, parameters: list[str]) -> None:
    names = [p for p in inspect.signature(getattr(RequestStore, method)).parameters if p not in ("self", "cls")]
    assert names[:len(parameters)] == parameters


def test_draft_fields_are_the_agreed_ones() -> None:
    fields = list(inspect.signature(RequestDraft).parameters)
    assert fields == ["company_name", "contact_person", "email", "need_summary", "entry_ids", "routed_contact",
                      "routed_contact_email", "channel", "conversation_id", "consent", "phone", "org_number"]
    assert list(inspect.signature(Consent).parameters) == ["given_at", "notice_version"]


def test_errors_share_one_base() -> None:
    for error in (RequestValidationError, RequestNotFoundError, InvalidTransitionError):
        assert issubclass(error, SupportRequestError)
    assert {s.value for s in RequestStatus} == {"new", "assigned", "in_progress", "connected", "closed", "withdrawn"}
    assert callable(normalise_email) and callable(validate_org_number) and callable(validate_phone)
    assert SupportRequest.__dataclass_params__.frozen


def test_importing_the_package_is_light_and_rasa_free() -> None:
    code = (
        "import sys\n"
        "import support_requests.store, support_requests.worker, support_requests.mailer, support_requests.webhook\n"
        "import support_requests.erasure, support_requests.validation\n"
        "heavy = [m for m in ('alembic', 'aiosmtplib', 'aiohttp', 'psycopg', 'rasa', 'rasa_sdk', 'actions', 'index')\n"
        "         if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_package_sources_never_import_rasa_or_actions() -> None:
    for path in (ROOT / "support_requests").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for forbidden in ("import rasa", "from rasa", "from actions", "import actions"):
            assert forbidden not in text, f"{path} has '{forbidden}'"
