"""The console pages /console/flagged, /console/flagged/{id} and /console/demand, through the test client."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.support_requests.helpers import make_draft
from tests.web.conftest import ConsoleWorld, assert_sign_in_required
from tests.web.test_insights_conversations import T0, RasaTracker
from support_requests.demand import DemandLog
from web.insights.views import new_request_link, transcript_path

PAGES = ["/console/flagged", "/console/flagged/conv-a", "/console/demand", "/console/demand?period=4"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)", re.IGNORECASE)


def tracker_of(world: ConsoleWorld) -> RasaTracker:
    return RasaTracker(Path(world.settings.tracker_db_url.removeprefix("sqlite:///")))


def assert_safe(html: str) -> None:
    """No injected markup, and nothing the Content-Security-Policy would block."""
    assert "<script>alert" not in html
    assert not INLINE_SCRIPT.search(html)
    assert " style=" not in html and " on" + "click=" not in html


@pytest.mark.parametrize("path", PAGES)
async def test_anonymous_visitors_are_sent_to_sign_in(console: ConsoleWorld, path: str) -> None:
    await assert_sign_in_required(console, path)


async def test_the_flagged_list_shows_conversations_and_their_requests(signed_in: ConsoleWorld) -> None:
    tracker = tracker_of(signed_in)
    tracker.user("conv-a", "We need <script>alert(1)</script> GMP vectors", T0)
    tracker.slot("conv-a", "need", "GMP vectors & <b>more</b>", T0 + 1)
    tracker.flag("conv-a", T0 + 2)
    tracker.user("conv-b", "a person please", T0 + 10)
    tracker.flag("conv-b", T0 + 11)
    tracker.user("conv-c", "not flagged", T0 + 20)
    tracker.close()
    reference = signed_in.store.create(make_draft(signed_in.store.clock, conversation_id="conv-b"), "form-1").reference
    response = await signed_in.client.get("/console/flagged")
    assert response.status == 200
    html = await response.text()
    assert_safe(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.index('href="/console/flagged/conv-b"') < html.index('href="/console/flagged/conv-a"')
    assert "not flagged" not in html
    assert f'href="/console/requests/{reference}"' in html
    link = new_request_link("conv-a", "GMP vectors & <b>more</b>")
    assert link.replace("&", "&amp;") in html  # conv-a has no request yet: a link to open one
    assert "2025-11-25 09:00" in html  # the flag's time, UTC


async def test_the_flagged_list_without_a_tracker_store_is_a_note(signed_in: ConsoleWorld) -> None:
    response = await signed_in.client.get("/console/flagged")
    assert response.status == 200
    assert "does not exist yet" in await response.text()
    assert not Path(signed_in.settings.tracker_db_url.removeprefix("sqlite:///")).exists()


async def test_the_flagged_list_when_nothing_is_flagged(signed_in: ConsoleWorld) -> None:
    tracker = tracker_of(signed_in)
    tracker.user("conv-c", "flow cytometry", T0)
    tracker.close()
    html = await (await signed_in.client.get("/console/flagged")).text()
    assert "No conversation has been flagged" in html


async def test_a_transcript_shows_the_messages_and_opens_a_request(signed_in: ConsoleWorld) -> None:
    tracker = tracker_of(signed_in)
    tracker.user("conv-a", "We need <script>alert(1)</script> cell sorting", T0)
    tracker.slot("conv-a", "need", "cell sorting of <i>bacteria</i>", T0 + 1)
    tracker.slot("conv-a", "last_hits", ["flow-flemingsberg", "flow-biomedicum"], T0 + 1)
    tracker.bot("conv-a", "Here is what matches", T0 + 2)
    tracker.bot("conv-a", None, T0 + 3, buttons=["Show more", "<img src=x>"])
    tracker.user("conv-a", "can I talk to a person?", T0 + 4)
    tracker.flag("conv-a", T0 + 5)
    tracker.close()
    response = await signed_in.client.get("/console/flagged/conv-a")
    assert response.status == 200
    html = await response.text()
    assert_safe(html)
    assert "<img src=x>" not in html and "&lt;img src=x&gt;" in html
    order = ["We need &lt;script&gt;", "Here is what matches", "Show more", "can I talk to a person?",
             "the conversation was flagged"]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    link = re.search(r'href="(/console/requests/new\?[^"]+)"', html).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert query == {"conversation": ["conv-a"], "need": ["cell sorting of <i>bacteria</i>"],
                     "entries": ["flow-flemingsberg,flow-biomedicum"]}
    form = await signed_in.client.get(link)
    assert form.status == 200  # the console's new-request form accepts what the link carries
    assert "cell sorting of &lt;i&gt;bacteria&lt;/i&gt;" in await form.text()


async def test_an_unknown_conversation_is_a_404_page(signed_in: ConsoleWorld) -> None:
    tracker = tracker_of(signed_in)
    tracker.flag("conv-a", T0)
    tracker.close()
    response = await signed_in.client.get("/console/flagged/" + quote("<script>alert(1)</script>", safe=""))
    assert response.status == 404
    html = await response.text()
    assert_safe(html)
    assert "Conversation not found" in html


async def test_a_conversation_id_with_awkward_characters(signed_in: ConsoleWorld) -> None:
    tracker = tracker_of(signed_in)
    tracker.user("web/conv 1?x=ü", "a person please", T0)
    tracker.flag("web/conv 1?x=ü", T0 + 1)
    tracker.close()
    path = transcript_path("web/conv 1?x=ü")
    assert path == "/console/flagged/web%2Fconv%201%3Fx%3D%C3%BC"
    assert path in await (await signed_in.client.get("/console/flagged")).text()
    response = await signed_in.client.get(path)
    assert response.status == 200 and "a person please" in await response.text()


def add_needs(world: ConsoleWorld, *needs: tuple[str, str, str | None], days_ago: float = 1) -> DemandLog:
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)
    demand = DemandLog(world.store.engine, clock=lambda: now)
    for text, reason, entry in needs:
        demand.add(text, reason, best_entry_id=entry, best_score=0.2 if entry else None)
    return demand


async def test_the_demand_page_shows_the_chart_and_the_groups(signed_in: ConsoleWorld) -> None:
    add_needs(signed_in,
              ("zebrafish toxicity screening <script>alert(1)</script>", "weak", "flow-biomedicum"),
              ("zebrafish screening for toxicity", "none_fit", "flow-biomedicum"),
              ("toxicity screening in zebrafish", "weak", None),
              ("cleanroom space to rent", "none_fit", None))
    response = await signed_in.client.get("/console/demand")
    assert response.status == 200
    html = await response.text()
    assert_safe(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert re.search(r"4 unmet needs in the last 12 weeks.*in 2 groups", html, re.S)
    assert html.count('<svg class="demand-chart"') == 1 and html.count('<svg class="sparkline"') == 2
    assert html.count("<polyline") == 3 + 2  # total and two groups in the chart, and two sparklines
    groups = html[html.index('id="groups-heading"'):]
    assert groups.index("zebrafish") < groups.index("cleanroom space to rent")
    assert '<a href="/console/entries/flow-biomedicum">Biomedicum flow cytometry</a>' in html
    assert "2 weak" in html and "1 none fit" in html
    assert '<option value="12" selected>' in html and '<option value="all" selected>' in html


async def test_the_demand_page_filters_by_reason_and_period(signed_in: ConsoleWorld) -> None:
    add_needs(signed_in, ("cleanroom space to rent", "none_fit", None), ("biobank of lung tumours", "weak", None))
    add_needs(signed_in, ("proteomics of old samples", "weak", None), days_ago=60)
    html = await (await signed_in.client.get("/console/demand?reason=none_fit")).text()
    assert "cleanroom space to rent" in html and "biobank of lung tumours" not in html
    assert '<option value="none_fit" selected>' in html
    html = await (await signed_in.client.get("/console/demand?period=4")).text()
    assert "biobank of lung tumours" in html and "proteomics of old samples" not in html
    html = await (await signed_in.client.get("/console/demand?period=12")).text()
    assert "proteomics of old samples" in html


async def test_an_empty_demand_page(signed_in: ConsoleWorld) -> None:
    response = await signed_in.client.get("/console/demand")
    assert response.status == 200
    html = await response.text()
    assert "No unmet need was noted in the last 12 weeks" in html
    assert html.count("<polyline") == 1


@pytest.mark.parametrize(("query", "message"), [("period=13", "period must be one of 4, 12, 26, 52 weeks"),
                                                 ("reason=%3Cscript%3E", "reason must be all, weak or none_fit")])
async def test_bad_filters_are_a_400_with_the_reason(signed_in: ConsoleWorld, query: str, message: str) -> None:
    add_needs(signed_in, ("cleanroom space to rent", "none_fit", None))
    response = await signed_in.client.get(f"/console/demand?{query}")
    assert response.status == 400
    html = await response.text()
    assert_safe(html)
    assert message in html and "demand-chart" not in html and "<form" in html
    assert add_needs(signed_in).count() == 1  # nothing lost


async def test_a_need_noted_by_the_assistant_reaches_the_page(signed_in: ConsoleWorld) -> None:
    call = {"next_action": "action_none_fit", "sender_id": "conv-web", "version": "3.6.21",
            "domain": {"slots": {}, "responses": {}, "forms": {}},
            "tracker": {"sender_id": "conv-web", "slots": {"need": "organoid toxicity screening",
                                                           "last_hits": ["flow-biomedicum"],
                                                           "shown_ids": ["flow-biomedicum"]},
                        "latest_message": {"text": "none of these", "intent": {"name": "none_fit"}, "entities": []},
                        "events": [], "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen"}}
    response = await signed_in.client.post("/webhook", json=call)
    assert response.status == 200
    html = await (await signed_in.client.get("/console/demand?reason=none_fit")).text()
    assert "organoid toxicity screening" in html and "Biomedicum flow cytometry" in html
