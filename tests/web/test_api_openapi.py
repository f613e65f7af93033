"""The OpenAPI document: its structure, that it lists exactly the routes registered under /api/, and that real
answers match its schemas (checked by a small JSON Schema subset written here; nothing is installed)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.api_fixtures import ApiWorld, api, new_request_body  # noqa: F401  (fixture)
from web.api.openapi import load_openapi

DOCUMENT = load_openapi().data
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PUBLIC = {("/api/openapi.json", "get"), ("/api/openapi.yaml", "get")}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, item in DOCUMENT["paths"].items()
            for method, operation in item.items() if method in METHODS]


def resolve(node: Any) -> Any:
    """Follow a local ``$ref`` (``#/components/...``)."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = DOCUMENT
        assert node["$ref"].startswith("#/"), node["$ref"]
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """What in ``value`` breaks ``schema`` (type, enum, required, properties, additionalProperties, items,
    allOf, oneOf, minimum, maximum): the subset this document uses."""
    schema = resolve(schema)
    found: list[str] = []
    for part in schema.get("allOf", []):
        found += problems(value, part, where)
    if "oneOf" in schema:
        matching = [part for part in schema["oneOf"] if not problems(value, part, where)]
        if len(matching) != 1:
            found.append(f"{where}: matches {len(matching)} of oneOf")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any((t == "integer" and isinstance(value, int) and not isinstance(value, bool))
                 or (t == "number" and isinstance(value, (int, float)) and not isinstance(value, bool))
                 or (t in _TYPES and isinstance(value, _TYPES[t]) and not (t != "boolean" and isinstance(value, bool)))
                 for t in types)
        if not ok:
            return found + [f"{where}: {value!r} is not {types}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{where}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{where}: missing {name}")
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                found += problems(item, properties[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: unexpected {name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += problems(item, schema["items"], f"{where}[{index}]")
    return found


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    response = resolve(DOCUMENT["paths"][path][method]["responses"][str(status)])
    return response["content"]["application/json"]["schema"]


# -- structure ------------------------------------------------------------------------------------------------


def test_the_document_has_the_required_structure() -> None:
    assert re.fullmatch(r"3\.1\.\d+", DOCUMENT["openapi"])
    assert DOCUMENT["info"]["title"] and DOCUMENT["info"]["version"]
    assert DOCUMENT["components"]["securitySchemes"]["bearerToken"] == {
        **DOCUMENT["components"]["securitySchemes"]["bearerToken"], "type": "http", "scheme": "bearer"}
    assert DOCUMENT["security"] == [{"bearerToken": []}]
    ids = [operation["operationId"] for _, _, operation in operations()]
    assert len(ids) == len(set(ids)) == 9


def test_every_reference_resolves() -> None:
    for ref in refs(DOCUMENT):
        resolve({"$ref": ref})


@pytest.mark.parametrize(("path", "method", "operation"), operations(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_operation_documents_its_answers_and_parameters(path: str, method: str, operation: dict) -> None:
    assert operation["summary"] and operation["responses"]
    statuses = set(operation["responses"])
    assert statuses & {"200", "201"}
    if (path, method) in PUBLIC:
        assert operation["security"] == []
        return
    assert {"400", "401", "403", "405"} <= statuses, f"{method} {path} lacks error answers"
    if "{" in path:
        assert "404" in statuses
        declared = {resolve(p)["name"] for p in DOCUMENT["paths"][path].get("parameters", [])
                    + operation.get("parameters", []) if resolve(p)["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path))
    if method in ("post", "patch"):
        assert {"413", "415", "422"} <= statuses and operation["requestBody"]["required"]
    for status, answer in operation["responses"].items():
        if status.startswith("4"):
            assert resolve(answer)["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


async def test_the_document_lists_exactly_the_routes_registered_under_api(api: ApiWorld) -> None:
    registered = {(route.resource.canonical, route.method.lower()) for route in api.client.app.router.routes()
                  if route.resource is not None and route.resource.canonical.startswith("/api/")
                  and route.method != "HEAD"}
    documented = {(path, method) for path, method, _ in operations()}
    assert registered == documented


# -- real answers match the schemas ---------------------------------------------------------------------------


async def test_catalogue_answers_match_their_schemas(api: ApiWorld) -> None:
    headers = api.auth(api.reader)
    for url, path in [("/api/search?q=cell+sorting&limit=50", "/api/search"),
                      ("/api/search?q=business+desk&type=expert", "/api/search"),
                      ("/api/search?q=loans&keyword", None),
                      ("/api/entries", "/api/entries"),
                      ("/api/entries/vecura-gmp", "/api/entries/{entry_id}"),
                      ("/api/entries/contact-desk", "/api/entries/{entry_id}"),
                      ("/api/entries/almi-loans", "/api/entries/{entry_id}")]:
        response = await api.client.get(url, headers=headers)
        body = await response.json()
        if path is None:  # an error answer
            assert problems(body, {"$ref": "#/components/schemas/Error"}) == []
            continue
        assert response.status == 200 and problems(body, response_schema(path, "get", 200)) == [], url


async def test_request_answers_match_their_schemas(api: ApiWorld) -> None:
    headers = {**api.auth(api.advisor), "Idempotency-Key": "schema"}
    created = await api.client.post("/api/requests", json=new_request_body(), headers=headers)
    body = await created.json()
    assert problems(body, response_schema("/api/requests", "post", 201)) == []
    reference = body["reference"]
    updated = await api.client.patch(f"/api/requests/{reference}", json={"assignee": "Eva", "note": "Hi."},
                                     headers=headers)
    assert problems(await updated.json(), response_schema("/api/requests/{reference}", "patch", 200)) == []
    listed = await api.client.get("/api/requests", headers=headers)
    assert problems(await listed.json(), response_schema("/api/requests", "get", 200)) == []
    api.store.erase(reference=reference)
    erased = await api.client.get(f"/api/requests/{reference}", headers=headers)
    assert problems(await erased.json(), response_schema("/api/requests/{reference}", "get", 200)) == []
    invalid = await api.client.post("/api/requests", json=new_request_body(email="x"), headers={
        **headers, "Idempotency-Key": "other"})
    assert invalid.status == 422 and problems(await invalid.json(), response_schema("/api/requests", "post", 422)) == []


def test_the_schema_checker_finds_problems() -> None:
    hit = {"$ref": "#/components/schemas/Hit"}
    assert problems({"rank": 1}, hit)  # required members missing
    assert problems("text", hit) == ["$: 'text' is not ['object']"]
    assert problems({"type": "lab"}, {"$ref": "#/components/schemas/EntrySummary"})
    assert problems({"status": "done"}, {"$ref": "#/components/schemas/RequestUpdate"}) == [
        "$.status: 'done' not in ['new', 'assigned', 'in_progress', 'connected', 'closed', 'withdrawn']"]


def test_the_documents_patterns_and_lengths_are_the_ones_the_code_checks() -> None:
    from navigator.settings import Settings
    from support_requests import validation
    from web.api import params, request_views

    schemas = DOCUMENT["components"]["schemas"]
    new_request = schemas["NewRequest"]["properties"]
    search = {p["name"]: p for p in DOCUMENT["paths"]["/api/search"]["get"]["parameters"] if "name" in p}
    [key] = DOCUMENT["paths"]["/api/requests"]["post"]["parameters"]
    assert (schemas["Line"]["pattern"], schemas["Text"]["pattern"]) == (params.LINE, params.TEXT)
    assert search["q"]["schema"]["pattern"] == params.NOT_BLANK
    assert search["q"]["schema"]["maxLength"] == Settings().max_query_chars
    assert (key["schema"]["pattern"], key["schema"]["maxLength"]) == (params.IDEMPOTENCY_KEY,
                                                                      request_views.MAX_IDEMPOTENCY_KEY_CHARS)
    assert (new_request["email"]["pattern"], new_request["email"]["not"]["pattern"]) == (params.EMAIL,
                                                                               params.EMAIL_REFUSED)
    assert (new_request["phone"]["pattern"], new_request["phone"]["maxLength"]) == (params.PHONE,
                                                                                    request_views.MAX_PHONE_CHARS)
    assert new_request["conversation_id"]["pattern"] == params.LINE_OR_BLANK
    listing = {p["name"]: p for p in DOCUMENT["paths"]["/api/requests"]["get"]["parameters"] if "name" in p}
    assert listing["assignee"]["schema"]["pattern"] == params.LINE_OR_BLANK
    assert listing["assignee"]["schema"]["maxLength"] == validation.MAX_NAME_CHARS
    assert new_request["conversation_id"]["maxLength"] == validation.MAX_CONVERSATION_ID_CHARS
    assert new_request["company_name"]["maxLength"] == new_request["contact_person"]["maxLength"] == \
        validation.MAX_NAME_CHARS == schemas["RequestUpdate"]["properties"]["assignee"]["maxLength"]
    assert new_request["need_summary"]["maxLength"] == validation.MAX_SUMMARY_CHARS
    assert schemas["RequestUpdate"]["properties"]["note"]["maxLength"] == validation.MAX_NOTE_CHARS
    consent = schemas["Consent"]["properties"]
    assert consent["given_at"]["pattern"] == params.CONSENT_YEAR
    assert consent["notice_version"]["maxLength"] == validation.MAX_NOTICE_VERSION_CHARS
    filters = DOCUMENT["components"]["parameters"]
    assert filters["SiteFilter"]["schema"]["items"]["pattern"] == "^({0})(,({0}))*$".format("|".join(params.SITE_NAMES))


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    ("LINE", "Acme Bio AB", True), ("LINE", " \u3000\u00a0", False), ("LINE", "Acme\n", False),
    ("LINE", "\u0085x", True), ("TEXT", "Line one\r\n\tline two", True), ("TEXT", "\n\u2028\n", False),
    ("TEXT", "a\x0b", False), ("LINE_OR_BLANK", "", True), ("LINE_OR_BLANK", "a\tb", False),
    ("PHONE", "", True), ("PHONE", "+46 (8) 123-456", True), ("PHONE", "12345", False), ("PHONE", "46+123456", False),
    ("IDEMPOTENCY_KEY", "3f2c8a9e 42", True), ("IDEMPOTENCY_KEY", "   ", False), ("IDEMPOTENCY_KEY", "clé", False),
])
def test_the_patterns_read_as_described(pattern: str, text: str, matches: bool) -> None:
    from web.api import params

    assert params.matches(getattr(params, pattern), text) is matches
