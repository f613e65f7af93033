"""``/metrics``: request counts by route (not raw URL), latencies, search scores, one registry per application."""

from __future__ import annotations

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from index.engine import SearchEngine
from tests.web.api_fixtures import ApiWorld, api  # noqa: F401  (fixture)
from web import metrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return samples(await response.text())


def count(found, method: str, route: str, status: str) -> float:
    return found.get(("navigator_http_requests_total", (("method", method), ("route", route), ("status", status))), 0)


async def test_requests_are_counted_by_route_and_status(api: ApiWorld) -> None:
    reader = api.auth(api.reader)
    for entry_id in ("vecura-gmp", "cryo-em-solna", "nope"):
        await api.client.get(f"/api/entries/{entry_id}", headers=reader)
    await api.client.get("/api/entries")
    await api.client.get("/api/no-such-thing")
    await api.client.get("/health")
    found = await scrape(api.client)
    assert count(found, "GET", "/api/entries/{entry_id}", "200") == 2
    assert count(found, "GET", "/api/entries/{entry_id}", "404") == 1
    assert count(found, "GET", "/api/entries", "401") == 1
    assert count(found, "GET", "unmatched", "404") == 1
    assert count(found, "GET", "/health", "200") == 1
    assert not any("vecura-gmp" in str(key) for key in found)  # ids never become labels
    duration = ("navigator_http_request_duration_seconds_count", (("route", "/api/entries/{entry_id}"),))
    assert found[duration] == 3
    assert found[("navigator_http_request_duration_seconds_sum", (("route", "/api/entries/{entry_id}"),))] > 0


async def test_searches_record_their_best_score_and_results(api: ApiWorld) -> None:
    reader = api.auth(api.reader)
    await api.client.get("/api/search?q=GMP+manufacturing+of+viral+vectors&limit=3", headers=reader)
    await api.client.get("/api/search?q=cell+sorting&type=programme&site=hagastaden", headers=reader)  # nothing
    found = await scrape(api.client)
    assert found[("navigator_search_top_score_count", (("source", "api"),))] == 1
    assert found[("navigator_search_top_score_sum", (("source", "api"),))] == 1.0  # ranked first by both
    assert found[("navigator_search_top_score_bucket", (("le", "0.9"), ("source", "api")))] == 0
    assert found[("navigator_search_top_score_bucket", (("le", "1.0"), ("source", "api")))] == 1
    assert found[("navigator_search_results_total", (("source", "api"),))] == 3
    assert found[("navigator_searches_total", (("outcome", "hits"), ("source", "api")))] == 1
    assert found[("navigator_searches_total", (("outcome", "empty"), ("source", "api")))] == 1


async def test_metrics_need_no_token_and_include_the_process(api: ApiWorld) -> None:
    found = await scrape(api.client)  # no Authorization header
    assert found[("process_resident_memory_bytes", ())] > 0
    assert any(name == "python_info" for name, _ in found)


async def test_every_application_has_its_own_registry(aiohttp_client) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    clients = []
    for _ in range(2):
        app = web.Application()
        metrics.setup(app)
        app.router.add_get("/items/{item_id}", hello)
        clients.append(await aiohttp_client(app))
    for _ in range(3):
        await clients[0].get("/items/1")
    await clients[1].get("/items/2")
    assert count(await scrape(clients[0]), "GET", "/items/{item_id}", "200") == 3
    assert count(await scrape(clients[1]), "GET", "/items/{item_id}", "200") == 1


async def test_failures_and_http_errors_are_counted_with_their_status(aiohttp_client) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    async def gone(request: web.Request) -> web.Response:
        raise web.HTTPGone()

    app = web.Application()
    metrics.setup(app)
    app.router.add_get("/broken", broken)
    app.router.add_get("/gone", gone)
    client = await aiohttp_client(app)
    assert (await client.get("/broken")).status == 500
    assert (await client.get("/gone")).status == 410
    assert (await client.post("/gone")).status == 405
    found = await scrape(client)
    assert count(found, "GET", "/broken", "500") == 1
    assert count(found, "GET", "/gone", "410") == 1
    assert count(found, "POST", "unmatched", "405") == 1


def test_observe_search_for_other_parts(sample_engine: SearchEngine) -> None:
    app = web.Application()
    metrics.setup(app)
    hits = sample_engine.search("flow cytometry cell sorting", top=2)
    metrics.observe_search(app, "console", hits)
    metrics.observe_search(app, "console", [])
    registry = app[metrics.METRICS_KEY].registry
    assert registry.get_sample_value("navigator_search_top_score_count", {"source": "console"}) == 1
    assert registry.get_sample_value("navigator_search_top_score_sum", {"source": "console"}) == hits[0].score
    assert registry.get_sample_value("navigator_search_results_total", {"source": "console"}) == 2
    assert registry.get_sample_value("navigator_searches_total", {"source": "console", "outcome": "empty"}) == 1
    with pytest.raises(ValueError, match="unknown search source 'web'; use one of: api, console, chat"):
        metrics.observe_search(app, "web", hits)
    metrics.observe_search(web.Application(), "api", hits)  # an application without metrics records nothing


def status_call(sender: str, reference: str, email: str) -> dict:
    """Rasa's call of the status action once the status form has the reference and the email."""
    return {"next_action": "action_check_request_status", "sender_id": sender, "version": "3.6.21",
            "tracker": {"sender_id": sender, "slots": {"reference": reference, "status_email": email},
                        "latest_message": {"text": email, "intent": {"name": "inform"}, "entities": []},
                        "events": [], "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "status_check_form"}}


def status_samples(found) -> dict[str, float]:
    return {"failures": found[("navigator_status_check_failures_total", ())],
            "conversation": found[("navigator_status_check_lockouts_total", (("limit", "conversation"),))],
            "reference": found[("navigator_status_check_lockouts_total", (("limit", "reference"),))]}


async def test_failed_status_checks_and_lockouts_are_counted_without_personal_data(api: ApiWorld) -> None:
    assert status_samples(await scrape(api.client)) == {"failures": 0, "conversation": 0, "reference": 0}
    answers = []
    for n in range(6):  # one conversation guessing six references
        response = await api.client.post("/webhook", json=status_call("guesser-7", f"SLT-2026-{500 + n:04d}",
                                                                       "victim@acme.example"))
        answers.append((await response.json())["responses"][0]["response"])
    for n in range(6):  # six conversations guessing one reference
        await api.client.post("/webhook", json=status_call(f"guesser-{n}", "SLT-2026-0900", "victim@acme.example"))
    assert answers == ["utter_request_status_unknown"] * 5 + ["utter_status_check_locked"]
    response = await api.client.get("/metrics")
    found = samples(await response.text())
    assert status_samples(found) == {"failures": 10, "conversation": 1, "reference": 1}
    exposition = await (await api.client.get("/metrics")).text()
    for private in ("victim", "guesser", "SLT-2026"):
        assert private not in exposition


async def test_an_application_without_services_reports_no_status_checks(aiohttp_client) -> None:
    app = web.Application()
    metrics.setup(app)
    assert status_samples(await scrape(await aiohttp_client(app))) == {"failures": 0, "conversation": 0,
                                                                      "reference": 0}
