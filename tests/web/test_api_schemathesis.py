"""The API keeps its published contract: schemathesis runs every operation of ``web/api/openapi.yaml`` against the
service, with an advisor token and all its checks, and finds no failure and no server error.

The service is the one the other API tests use (sample catalogue, hashing embedder, scratch SQLite database), on a
local port of the test's own event loop; schemathesis's engine (the same one ``st run`` drives: examples, coverage,
fuzzing and stateful phases) runs in a worker thread and calls it over HTTP. The run is bounded (``MAX_EXAMPLES``
per operation) and seeded and deterministic, so it sends the same requests every time. It takes about a minute of a
real server, so it is in the ``integration`` tier that ``make test`` runs, not in ``make test-unit`` (under
libfaketime, which the unit tier is also checked with, its worker thread never returned; the cause is not known).

A few rules of the API depend on data or on the clock and cannot be written as JSON Schema. The document names them
with ``format`` (and says them in words); here those formats get strategies that draw valid values, so that a
request the document allows is one the service must accept:

- ``catalogue-entry-id`` and ``contact-entry-id``: ids of the catalogue's entries and of its expert entries;
- ``se-organisation-number``: organisation numbers with a correct check digit;
- ``date-time``: moments in the past (consent may not lie in the future; RFC 3339 with offsets from -23:59 to +23:59).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import Status, events, from_schema
from schemathesis.specs.openapi.formats import unregister_string_format

from index.catalogue import EntryType, load_catalogue
from support_requests.validation import luhn_valid
from tests.web.api_fixtures import ApiWorld, api  # noqa: F401  (fixture)
from web.api.openapi import load_openapi

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 20
"""Test cases per operation and phase; the whole run stays well under a minute on two cores."""

SEED = 20261201

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def organisation_numbers() -> st.SearchStrategy[str]:
    """Swedish organisation numbers with a correct Luhn check digit, in the shapes the document allows."""

    def with_check_digit(first_nine: int) -> str:
        digits = f"{first_nine:09d}"
        check = next(d for d in "0123456789" if luhn_valid(digits + d))
        return digits + check

    def shaped(number: str, hyphen: bool, century: bool) -> str:
        text = f"{number[:6]}-{number[6:]}" if hyphen else number
        return f"16{text}" if century else text

    return st.builds(shaped, st.integers(0, 10**9 - 1).map(with_check_digit), st.booleans(), st.booleans())


def past_moments(now: dt.datetime) -> st.SearchStrategy[str]:
    """RFC 3339 date-times from 2000 to a day ago, with offsets and fractions of a second."""

    def render(moment: dt.datetime, minutes: int, fraction: str) -> str:
        local = moment.replace(tzinfo=dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(minutes=minutes)))
        sign, size = "+" if minutes > 0 else "-", abs(minutes)
        offset = "Z" if minutes == 0 else f"{sign}{size // 60:02d}:{size % 60:02d}"
        return f"{local:%Y-%m-%dT%H:%M:%S}{fraction}{offset}"

    return st.builds(render,
                     st.datetimes(min_value=dt.datetime(2000, 1, 2), max_value=now.replace(tzinfo=None)
                                  - dt.timedelta(days=1)),
                     st.integers(-(24 * 60 - 1), 24 * 60 - 1),
                     st.sampled_from(["", ".5", ".123456"]))


@pytest.fixture
def formats(sample_dir: Path) -> Iterator[None]:
    """Strategies for the formats that stand for rules a schema cannot state (see the module's docstring)."""
    entries = load_catalogue(sample_dir).entries
    strategies = {
        "catalogue-entry-id": st.sampled_from(sorted(entry.id for entry in entries)),
        "contact-entry-id": st.sampled_from(sorted(entry.id for entry in entries if entry.type is EntryType.EXPERT)),
        "se-organisation-number": organisation_numbers(),
        "date-time": past_moments(dt.datetime.now(dt.timezone.utc)),
    }
    for name, strategy in strategies.items():
        schemathesis.openapi.format(name, strategy)
    yield
    for name in strategies:
        unregister_string_format(name)


@dataclass
class Outcome:
    """What a schemathesis run found."""

    operations: set[str] = field(default_factory=set)
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_schemathesis(base_url: str, token: str) -> Outcome:
    """Run every phase and every check over every operation of the document, and collect what went wrong."""
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "base-url": base_url,
        "headers": {"Authorization": f"Bearer {token}"},
        "workers": 1,
        "checks": {"enabled": True},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    })
    config.projects.override.checks.update(included_check_names=["all"])
    schema = schemathesis.openapi.from_dict(load_openapi().data, config=config)
    outcome = Outcome()
    for event in from_schema(schema).execute():
        if isinstance(event, events.NonFatalError | events.FatalError):
            outcome.errors.append(f"{getattr(event, 'label', '')}: {getattr(event, 'value', event)!r}")
        elif isinstance(event, events.ScenarioFinished) and event.status is not Status.SKIP:
            record(event.recorder, outcome)
        elif isinstance(event, events.EngineFinished):
            outcome.failures += [f"after the run: {failure.title}: {failure.message}" for failure in event.failures]
    return outcome


def record(recorder, outcome: Outcome) -> None:
    for node in recorder.cases.values():
        outcome.operations.add(node.value.operation.label)
    outcome.cases += len(recorder.cases)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.status is Status.FAILURE and check.failure_info is not None:
                failure = check.failure_info.failure
                outcome.failures.append(f"{recorder.label}: {check.name}: {failure.title}: {failure.message}\n"
                                        f"    {check.failure_info.code_sample}")
    for interaction in recorder.interactions.values():
        if interaction.response is not None and interaction.response.status_code >= 500:
            outcome.server_errors.append(f"{interaction.request.method} {interaction.request.uri}: "
                                         f"{interaction.response.status_code}")


def documented_operations() -> set[str]:
    paths = load_openapi().data["paths"]
    return {f"{method.upper()} {path}" for path, item in paths.items() for method in item if method in METHODS}


async def test_every_operation_keeps_the_documented_contract(api: ApiWorld, formats: None) -> None:
    base_url = str(api.client.make_url("/")).rstrip("/")
    outcome = await asyncio.to_thread(run_schemathesis, base_url, api.advisor)
    assert outcome.errors == []
    assert outcome.server_errors == []
    assert outcome.failures == [], "\n".join(outcome.failures)
    assert outcome.operations == documented_operations()
    assert outcome.cases >= 10 * len(outcome.operations)  # every operation got more than a token look
