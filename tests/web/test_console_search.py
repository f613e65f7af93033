"""Intake search: the page, the live JSON search with its filters and errors, and the entry pages."""

from __future__ import annotations

import pytest

from tests.web.conftest import ConsoleWorld
from web.console.search_views import safe_link


async def search(world: ConsoleWorld, **params: str | list[tuple[str, str]]):
    response = await world.client.get("/console/search.json", params=params)
    return response.status, await response.json()


async def test_the_intake_page_has_the_notes_the_filters_and_the_script(signed_in: ConsoleWorld) -> None:
    response = await signed_in.client.get("/console/")
    html = await response.text()
    assert response.status == 200
    assert 'id="notes"' in html and 'maxlength="4000"' in html
    for value in ("facility", "expert", "programme"):
        assert f'name="type" value="{value}"' in html
    for value in ("flemingsberg", "hagastaden", "elsewhere"):
        assert f'name="site" value="{value}"' in html
    assert '<script src="/static/console/console.js?v=' in html and 'id="open-request"' in html
    assert 'data-searching="Searching…"' in html  # the script's wording lives in the template


async def test_notes_with_two_needs_get_matches_for_each(signed_in: ConsoleWorld) -> None:
    status, body = await search(signed_in, q="They need cryo electron microscopy of a membrane protein, and later "
                                             "they'll need GMP manufacturing of viral vectors")
    assert status == 200 and len(body["parts"]) == 2
    cryo, gmp = body["parts"]
    assert cryo["hits"][0]["id"] == "cryo-em-solna" and gmp["hits"][0]["id"] == "vecura-gmp"
    assert "GMP" in gmp["topic"] and gmp["need"] in body["query"]
    assert [hit["id"] for hit in body["hits"]] == [hit["id"] for part in body["parts"] for hit in part["hits"]]


async def test_notes_with_one_need_are_one_part(signed_in: ConsoleWorld) -> None:
    status, body = await search(signed_in, q="GMP manufacturing of viral vectors")
    assert status == 200 and len(body["parts"]) == 1 and body["parts"][0]["hits"] == body["hits"]


async def test_live_search_returns_ranked_matches_with_explanations(signed_in: ConsoleWorld) -> None:
    status, body = await search(signed_in, q="GMP manufacturing of viral vectors")
    assert status == 200 and body["query"] == "GMP manufacturing of viral vectors"
    best = body["hits"][0]
    assert best["id"] == "vecura-gmp" and best["name"] == "Vecura" and best["site"] == "flemingsberg" and best["site_label"] == "Flemingsberg"
    assert best["score"] == 1.0 and "GMP" in best["terms"] and "viral vectors" in best["reason"]
    assert best["entry_url"] == "/console/entries/vecura-gmp"
    assert best["contact"] == "contact-desk"
    assert best["contact_details"] == {"id": "contact-desk", "name": "Contact Desk", "role": "Business developer",
                                       "organisation": best["contact_details"]["organisation"],
                                       "email": "contact-desk@example.org"}
    scores = [hit["score"] for hit in body["hits"]]
    assert scores == sorted(scores, reverse=True) and len(body["hits"]) <= 10


async def test_the_same_notes_give_the_same_answer(signed_in: ConsoleWorld) -> None:
    assert await search(signed_in, q="cell sorting") == await search(signed_in, q="cell sorting")


async def test_the_type_filter(signed_in: ConsoleWorld) -> None:
    status, body = await search(signed_in, q="loans for small companies", type="programme")
    assert status == 200 and [hit["id"] for hit in body["hits"]] == ["almi-loans"]


async def test_the_site_filter_accepts_names_people_use(signed_in: ConsoleWorld) -> None:
    status, body = await search(signed_in, q="flow cytometry cell sorting", site="solna")
    assert status == 200 and body["hits"] and {hit["site_label"] for hit in body["hits"]} == {"Hagastaden/Solna"}
    assert body["hits"][0]["id"] == "flow-biomedicum"


async def test_filters_may_repeat_and_combine(signed_in: ConsoleWorld) -> None:
    response = await signed_in.client.get("/console/search.json", params=[
        ("q", "flow cytometry"), ("type", "facility"), ("site", "flemingsberg"), ("site", "hagastaden")])
    body = await response.json()
    assert response.status == 200
    assert {hit["id"] for hit in body["hits"]} >= {"flow-flemingsberg", "flow-biomedicum"}
    assert {hit["type"] for hit in body["hits"]} == {"facility"}
    assert "Elsewhere in Sweden" not in {hit["site_label"] for hit in body["hits"]}


async def test_top_limits_the_matches(signed_in: ConsoleWorld) -> None:
    status, body = await search(signed_in, q="cells", top="2")
    assert status == 200 and len(body["hits"]) == 2


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"q": ""}, "q", "type the company's need"),
    ({"q": "   \n "}, "q", "type the company's need"),
    ({}, "q", "type the company's need"),
    ({"q": "x" * 4001}, "q", "at most 4000 characters"),
    ({"q": "<b></b>"}, "q", ""),
    ({"q": "cells", "type": "laboratory"}, "type", "use one of: facility, expert, programme"),
    ({"q": "cells", "site": "uppsala"}, "site", "unknown site"),
    ({"q": "cells", "top": "0"}, "top", "between 1 and 25"),
    ({"q": "cells", "top": "many"}, "top", "whole number"),
])
async def test_bad_input_gets_400_with_a_message(signed_in: ConsoleWorld, params, field: str, words: str) -> None:
    status, body = await search(signed_in, **params)
    assert status == 400 and body["field"] == field and body["error"]
    assert words in body["error"]


async def test_console_searches_are_counted_in_the_metrics(signed_in: ConsoleWorld) -> None:
    await search(signed_in, q="GMP viral vectors")
    text = await (await signed_in.client.get("/metrics")).text()
    assert 'navigator_searches_total{outcome="hits",source="console"} 1.0' in text


async def test_an_entry_page_shows_the_entry_and_its_contact(signed_in: ConsoleWorld) -> None:
    response = await signed_in.client.get("/console/entries/vecura-gmp")
    html = await response.text()
    assert response.status == 200
    for text in ("Vecura", "Karolinska University Hospital", "GMP manufacturing", "technology transfer",
                 "Access conditions", "Ask the contact.", "Contact Desk", "Business developer",
                 'href="mailto:contact-desk@example.org"', 'href="https://example.org/unit"',
                 'href="/console/requests/new?entries=vecura-gmp"'):
        assert text in html, text


async def test_an_expert_is_its_own_contact(signed_in: ConsoleWorld) -> None:
    html = await (await signed_in.client.get("/console/entries/contact-desk")).text()
    assert "contact-desk@example.org" in html and "The contact&#39;s entry" not in html


async def test_an_unknown_entry_gets_404(signed_in: ConsoleWorld) -> None:
    response = await signed_in.client.get("/console/entries/no-such-entry")
    assert response.status == 404 and "no-such-entry" in await response.text()


@pytest.mark.parametrize(("url", "link"), [
    ("https://example.org/x", "https://example.org/x"),
    ("http://example.org", "http://example.org"),
    ("javascript:alert(1)", None),
    ("ftp://example.org", None),
    ("", None),
    ("https://example.org/a b", None),
])
def test_only_http_addresses_become_links(url: str, link: str | None) -> None:
    assert safe_link(url) == link
