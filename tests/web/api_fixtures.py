"""Fixtures of the JSON API tests: the service on the sample catalogue with a scratch database and tokens.

Test modules import the fixtures they use by name (``from tests.web.api_fixtures import api``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography.fernet import Fernet

from index.catalogue import load_catalogue
from navigator.runtime import Runtime
from navigator.service import create_app
from navigator.wiring import open_services
from navigator.settings import Settings
from support_requests.store import RequestStore
from support_requests.tokens import TokenStore


@dataclass
class ApiWorld:
    """A running service and what the tests need to talk to it."""

    client: TestClient
    store: RequestStore
    tokens: TokenStore
    reader: str
    advisor: str
    revoked: str

    def auth(self, token: str) -> dict[str, str]:
        """The Authorization header for ``token``."""
        return {"Authorization": f"Bearer {token}"}


def api_settings(tmp_path: Path, database_url: str | None = None) -> Settings:
    """Settings with scratch databases and a fresh session key below ``tmp_path`` (nothing is written to ``var/``);
    the request database is ``database_url`` when given."""
    return Settings.from_env({"NAVIGATOR_DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'requests.db'}",
                              "NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
                              "NAVIGATOR_SESSION_SECRET": Fernet.generate_key().decode(),
                              "NAVIGATOR_SESSION_KEY_FILE": str(tmp_path / "session.key")})


@pytest.fixture
async def api(aiohttp_client, tmp_path, sample_dir, sample_engine, embedder, processor, request_db_url) -> ApiWorld:
    """The service with tokens; each test runs on SQLite and on PostgreSQL (``request_db_url``)."""
    settings = api_settings(tmp_path, request_db_url)
    runtime = Runtime(settings, load_catalogue(sample_dir), embedder, processor, sample_engine, None)
    services = open_services(settings, runtime=runtime, store=RequestStore.from_url(settings.database_url))
    store, tokens = services.store, services.tokens
    reader, advisor, revoked = (tokens.create("crm-reader", "reader"), tokens.create("crm-advisor", "advisor"),
                                tokens.create("old-client", "advisor"))
    tokens.revoke("old-client")
    client = await aiohttp_client(create_app(settings, services=services))
    yield ApiWorld(client, store, tokens, reader, advisor, revoked)
    services.close()


def new_request_body(**overrides: Any) -> dict[str, Any]:
    """A valid body for ``POST /api/requests``; ``overrides`` replace fields (``None`` values stay as null)."""
    body: dict[str, Any] = {
        "company_name": "Acme Bio AB",
        "contact_person": "Anna Berg",
        "email": "anna.berg@acme.example",
        "phone": "+46 8 123 456 78",
        "need_summary": "GMP manufacturing of an AAV vector for a phase 1 trial.",
        "entry_ids": ["vecura-gmp"],
        "consent": {"given_at": (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)).isoformat(),
                    "notice_version": "2026-11"},
    }
    body.update(overrides)
    return body
