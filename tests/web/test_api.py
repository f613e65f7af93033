"""The JSON API: authentication, the catalogue endpoints, and JSON errors for whatever a client gets wrong."""

from __future__ import annotations

import pytest
from aiohttp import web

from index.errors import QueryError
from support_requests.errors import RequestNotFoundError, RequestValidationError, StoreUnavailableError
from tests.web.api_fixtures import ApiWorld, api  # noqa: F401  (fixture)
from web.api.errors import from_domain_error
from web.api.middleware import api_middleware

CATALOGUE = ["/api/search?q=flow+cytometry", "/api/entries", "/api/entries/vecura-gmp"]
REQUESTS = ["/api/requests", "/api/requests/SLT-2026-0001"]


async def error_of(response) -> str:
    assert response.content_type == "application/json", await response.text()
    body = await response.json()
    assert set(body) <= {"error", "field"} and body["error"]
    return body["error"]


# -- authentication -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CATALOGUE + REQUESTS)
async def test_no_token_is_401_with_a_bearer_challenge(api: ApiWorld, path: str) -> None:
    response = await api.client.get(path)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer <token>" in await error_of(response)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "nav_abc"])
async def test_a_malformed_authorization_header_is_401(api: ApiWorld, header: str) -> None:
    response = await api.client.get("/api/entries", headers={"Authorization": header})
    assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer <token>" in await error_of(response)


@pytest.mark.parametrize("path", CATALOGUE + REQUESTS)
async def test_unknown_and_revoked_tokens_are_401(api: ApiWorld, path: str) -> None:
    for token in ("nav_not-a-real-token", api.revoked):
        response = await api.client.get(path, headers=api.auth(token))
        assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "unknown or has been revoked" in await error_of(response)


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/requests"), ("POST", "/api/requests"),
                                              ("GET", "/api/requests/SLT-2026-0001"),
                                              ("PATCH", "/api/requests/SLT-2026-0001")])
async def test_a_reader_token_may_not_touch_requests(api: ApiWorld, method: str, path: str) -> None:
    response = await api.client.request(method, path, headers=api.auth(api.reader), json={"status": "closed"})
    assert response.status == 403
    assert await error_of(response) == ("this endpoint needs a token with the advisor role; "
                                        "this token has the reader role")


async def test_the_scheme_name_is_case_insensitive(api: ApiWorld) -> None:
    response = await api.client.get("/api/entries", headers={"Authorization": f"bearer {api.reader}"})
    assert response.status == 200


async def test_an_advisor_token_may_read_the_catalogue(api: ApiWorld) -> None:
    for path in CATALOGUE:
        assert (await api.client.get(path, headers=api.auth(api.advisor))).status == 200


async def test_a_token_revoked_while_in_use_stops_working_at_once(api: ApiWorld) -> None:
    assert (await api.client.get("/api/entries", headers=api.auth(api.reader))).status == 200
    api.tokens.revoke("crm-reader")
    assert (await api.client.get("/api/entries", headers=api.auth(api.reader))).status == 401


async def test_the_openapi_document_needs_no_token(api: ApiWorld) -> None:
    as_json = await api.client.get("/api/openapi.json")
    assert as_json.status == 200 and (await as_json.json())["openapi"].startswith("3.1")
    as_yaml = await api.client.get("/api/openapi.yaml")
    assert as_yaml.status == 200 and as_yaml.content_type == "application/yaml"
    assert (await as_yaml.text()).startswith("openapi: 3.1")


# -- search ---------------------------------------------------------------------------------------------------


async def test_search_ranks_entries_with_reasons_and_contacts(api: ApiWorld) -> None:
    response = await api.client.get("/api/search", params={"q": "GMP manufacturing of viral vectors"},
                                    headers=api.auth(api.reader))
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["query"] == "GMP manufacturing of viral vectors"
    assert body["filters"] == {"types": [], "sites": []} and body["count"] == len(body["hits"]) == 7
    best = body["hits"][0]
    assert best["id"] == "vecura-gmp" and best["rank"] == 1 and best["contact"] == "contact-desk"
    assert (best["name"], best["type"], best["site"], best["site_label"]) == ("Vecura", "facility", "flemingsberg",
                                                                              "Flemingsberg")
    assert best["organisation"] == "Karolinska University Hospital"
    assert 0 < best["score"] <= 1 and "GMP" in best["terms"] and "viral vectors" in best["reason"]
    scores = [hit["score"] for hit in body["hits"]]
    assert scores == sorted(scores, reverse=True)


async def test_search_filters_and_limit(api: ApiWorld) -> None:
    response = await api.client.get("/api/search?q=flow+cytometry+cell+sorting&site=solna&type=facility&limit=1",
                                    headers=api.auth(api.reader))
    body = await response.json()
    assert response.status == 200 and body["filters"] == {"types": ["facility"], "sites": ["hagastaden"]}
    assert [hit["id"] for hit in body["hits"]] == ["flow-biomedicum"]
    several = await api.client.get("/api/search?q=cells&type=facility,programme&type=expert&limit=50",
                                   headers=api.auth(api.reader))
    assert (await several.json())["filters"]["types"] == ["expert", "facility", "programme"]


async def test_search_is_deterministic(api: ApiWorld) -> None:
    answers = [await (await api.client.get("/api/search?q=cell+sorting", headers=api.auth(api.reader))).json()
               for _ in range(2)]
    assert answers[0] == answers[1]


async def test_an_expert_hit_is_its_own_contact(api: ApiWorld) -> None:
    response = await api.client.get("/api/search?q=business+desk&type=expert", headers=api.auth(api.reader))
    [hit] = (await response.json())["hits"]
    assert hit["id"] == hit["contact"] == "contact-desk"


@pytest.mark.parametrize(("query", "message"), [
    ("", "q is required"),
    ("?q=", "q is required"),
    ("?q=%20%20", "q is required"),
    ("?q=x&q=y", "q may be given only once"),
    ("?q=cells&type=lab", "unknown type 'lab'; use one of: facility, expert, programme"),
    ("?q=cells&site=uppsala", "unknown site 'uppsala'; use one of: flemingsberg, hagastaden, elsewhere"),
    ("?q=cells&limit=0", "limit must be a whole number between 1 and 50, got 0"),
    ("?q=cells&limit=51", "limit must be a whole number between 1 and 50, got 51"),
    ("?q=cells&limit=ten", "limit must be a whole number between 1 and 50"),
    ("?q=cells&top=3", "unknown parameter 'top'; accepted: q, type, site, limit"),
    ("?q=%E3%80%80%C2%A0", "q is required"),  # an ideographic and a no-break space: blank too
    ("?q=cells&type=", "unknown type ''; use one of: facility, expert, programme"),
    ("?q=cells&type=facility,", "unknown type ''"),
    ("?q=cells&type=facility,%20expert", "unknown type ' expert'"),
    ("?q=cells&type=Facility", "unknown type 'Facility'"),
    ("?q=cells&site=Solna", "unknown site 'Solna'"),
    ("?q=cells&site=other", "unknown site 'other'"),
    ("?q=cells&limit=%2B5", "limit must be a whole number between 1 and 50"),
    ("?q=cells&limit=1_0", "limit must be a whole number between 1 and 50"),
    ("?q=cells&limit=%205", "limit must be a whole number between 1 and 50"),
])
async def test_search_bad_input_is_400_with_a_clear_message(api: ApiWorld, query: str, message: str) -> None:
    response = await api.client.get(f"/api/search{query}", headers=api.auth(api.reader))
    assert response.status == 400 and message in await error_of(response)


@pytest.mark.parametrize("query", ["%3Cb%3E%3C/b%3E", "%3F%21", "%01"])
async def test_a_need_with_nothing_to_search_for_gets_no_hits(api: ApiWorld, query: str) -> None:
    response = await api.client.get(f"/api/search?q={query}", headers=api.auth(api.reader))
    body = await response.json()
    assert response.status == 200 and (body["count"], body["hits"]) == (0, [])


async def test_aliases_and_commas_in_filters_are_accepted(api: ApiWorld) -> None:
    response = await api.client.get("/api/entries?site=solna,huddinge&type=facility,expert",
                                    headers=api.auth(api.reader))
    entries = (await response.json())["entries"]
    assert response.status == 200 and entries
    assert {entry["site"] for entry in entries} == {"hagastaden", "flemingsberg"}


async def test_an_over_long_need_is_400_naming_the_limit(api: ApiWorld) -> None:
    response = await api.client.get("/api/search", params={"q": "cells " * 700}, headers=api.auth(api.reader))
    assert response.status == 400 and "at most 4000" in await error_of(response)


# -- entries --------------------------------------------------------------------------------------------------


async def test_entries_are_listed_by_id_with_filters(api: ApiWorld) -> None:
    body = await (await api.client.get("/api/entries", headers=api.auth(api.reader))).json()
    ids = [entry["id"] for entry in body["entries"]]
    assert body["count"] == 7 and ids == sorted(ids)
    assert body["entries"][0] == {"id": "almi-loans", "name": "Almi innovation loans", "type": "programme",
                                  "organisation": "Almi", "site": "elsewhere", "site_label": "Elsewhere in Sweden"}
    filtered = await (await api.client.get("/api/entries?type=facility&site=flemingsberg",
                                           headers=api.auth(api.reader))).json()
    assert [e["id"] for e in filtered["entries"]] == ["closed-lab", "flow-flemingsberg", "vecura-gmp"]


async def test_an_entry_has_every_field_and_its_contact(api: ApiWorld) -> None:
    body = await (await api.client.get("/api/entries/vecura-gmp", headers=api.auth(api.reader))).json()
    assert body["id"] == "vecura-gmp" and body["services"] == ["GMP manufacturing", "technology transfer"]
    assert body["keywords"] == ["cellterapi", "genterapi"] and body["last_verified"] == "2026-11-20"
    assert body["contact"] == "contact-desk" and "source" not in body
    assert body["contact_details"] == {"id": "contact-desk", "name": "Contact Desk", "role": "Business developer",
                                       "organisation": "Karolinska Institutet", "email": "contact-desk@example.org"}


@pytest.mark.parametrize("path", ["/api/entries/no-such-entry", "/api/entries/%3Cscript%3E"])
async def test_an_unknown_entry_is_404(api: ApiWorld, path: str) -> None:
    response = await api.client.get(path, headers=api.auth(api.reader))
    assert response.status == 404 and (await error_of(response)).startswith("no catalogue entry with id")


async def test_entries_bad_filter_is_400(api: ApiWorld) -> None:
    response = await api.client.get("/api/entries?type=lab", headers=api.auth(api.reader))
    assert response.status == 400 and "use one of: facility, expert, programme" in await error_of(response)


# -- errors for every path under /api -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/nothing-here", "/api", "/api/entries/vecura-gmp/extra"])
async def test_an_unknown_api_path_is_a_json_404(api: ApiWorld, path: str) -> None:
    response = await api.client.get(path, headers=api.auth(api.reader))
    assert response.status == 404 and "/api/openapi.json" in await error_of(response)


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("POST", "/api/search", "GET, HEAD"),
    ("DELETE", "/api/requests/SLT-2026-0001", "GET, HEAD, PATCH"),
    ("PUT", "/api/requests", "GET, HEAD, POST"),
])
async def test_a_wrong_method_is_a_json_405_with_allow(api: ApiWorld, method: str, path: str, allowed: str) -> None:
    response = await api.client.request(method, path, headers=api.auth(api.advisor))
    assert response.status == 405 and response.headers["Allow"] == allowed
    assert await error_of(response) == f"{method} is not allowed on {path}; allowed: {allowed}"


async def test_paths_outside_the_api_keep_their_own_errors(api: ApiWorld) -> None:
    response = await api.client.get("/no-such-page")
    assert response.status == 404 and response.content_type != "application/json"
    assert (await api.client.get("/health")).status == 200


# -- errors the views do not raise themselves -------------------------------------------------------------------


@pytest.mark.parametrize(("error", "status", "message"), [
    (StoreUnavailableError("the request database sqlite:///x cannot be used: locked"), 503, "try again later"),
    (RequestNotFoundError("SLT-2026-0009"), 404, "no support request with reference 'SLT-2026-0009'"),
    (RequestValidationError("email", "is not a valid email address"), 422, "email: is not a valid email address"),
    (QueryError("the query has nothing to search"), 400, "q: the query has nothing to search"),
])
def test_domain_errors_map_to_statuses(error: Exception, status: int, message: str) -> None:
    mapped = from_domain_error(error)
    assert mapped is not None and mapped.status == status and message in mapped.message
    assert from_domain_error(RuntimeError("a bug")) is None


async def test_a_fault_in_a_view_is_a_logged_json_500(aiohttp_client, caplog) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    async def outside(request: web.Request) -> web.Response:
        raise RuntimeError("not ours")

    app = web.Application()
    app.middlewares.append(api_middleware)
    app.router.add_get("/api/boom", boom)
    app.router.add_get("/elsewhere", outside)
    client = await aiohttp_client(app)
    response = await client.get("/api/boom")
    assert response.status == 500 and "the error has been logged" in await error_of(response)
    assert "GET /api/boom failed" in caplog.text and "RuntimeError: a bug" in caplog.text
    outside_response = await client.get("/elsewhere")  # not the API's to answer: aiohttp's own 500
    assert outside_response.status == 500 and outside_response.content_type != "application/json"
