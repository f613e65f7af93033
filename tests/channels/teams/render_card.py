"""Render the Teams channel's answer to a search as an image: docs/images/teams-search-answer.png.

The answer is made by the channel's own code (bot/teams_activity.py and teams_cards.py) from a real search of the
catalogue (``navigator search --json``) with each hit's contact looked up in the catalogue, as the channel does
through the API. The cards are drawn by Microsoft's Adaptive Cards renderer for the web (the npm package
``adaptivecards``, fetched with ``npm pack`` into a temporary folder unless ``--adaptivecards DIST`` names its
``dist`` folder) in Debian's Chromium, headless, through Playwright, in a page laid out like a Teams chat.

    .venv/bin/python -m tests.channels.teams.render_card [--out docs/images/teams-search-answer.png]
"""

from __future__ import annotations

import argparse
import html
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
for path in (ROOT, ROOT / "bot"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import teams_activity  # noqa: E402
from index.catalogue import load_catalogue  # noqa: E402
from navigator.settings import Settings  # noqa: E402

NEED = "GMP manufacturing of a viral vector for a phase 1 trial"
CHROMIUM = "/usr/bin/chromium"

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; background: #f5f5f5; font-family: "Segoe UI", "DejaVu Sans", sans-serif; }}
.chat {{ width: 1000px; padding: 20px 28px; }}
.who {{ font-size: 12px; color: #616161; margin: 14px 0 4px 44px; }}
.row {{ display: flex; gap: 10px; align-items: flex-start; }}
.avatar {{ width: 32px; height: 32px; border-radius: 50%; background: #1F5F8B; color: #fff; font-weight: 700;
          display: flex; align-items: center; justify-content: center; flex: none; }}
.user {{ justify-content: flex-end; }}
.bubble {{ background: #fff; border-radius: 6px; padding: 8px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.12);
          white-space: pre-wrap; font-size: 14px; max-width: 760px; }}
.user .bubble {{ background: #e8ebfa; }}
.carousel {{ display: flex; gap: 10px; }}
.card {{ width: 300px; background: #fff; border-radius: 6px; box-shadow: 0 1px 2px rgba(0,0,0,.12);
        overflow: hidden; flex: none; }}
.card.wide {{ width: 520px; }}
.ac-pushButton {{ border: 1px solid #d1d1d1; background: #fff; border-radius: 4px; padding: 5px 10px;
                 font-size: 13px; font-family: inherit; cursor: pointer; }}
</style><script>{script}</script></head><body><div class="chat">{chat}</div><script>
const host = new AdaptiveCards.HostConfig({{fontFamily: "'Segoe UI', 'DejaVu Sans', sans-serif",
  spacing: {{small: 4, default: 8, medium: 12, large: 16, extraLarge: 20, padding: 12}},
  actions: {{maxActions: 6, buttonSpacing: 8, actionsOrientation: "horizontal", actionAlignment: "left"}}}});
document.querySelectorAll("[data-card]").forEach((slot) => {{
  const card = new AdaptiveCards.AdaptiveCard();
  card.hostConfig = host;
  card.parse(JSON.parse(slot.dataset.card));
  slot.appendChild(card.render());
}});
</script></body></html>"""


def search_turn() -> list[dict[str, Any]]:
    """The messages the bot sends for ``NEED``, as Rasa collects them, with the hits' contacts looked up."""
    found = subprocess.run([sys.executable, "-m", "navigator.cli", "search", "--top", "3", "--json", NEED],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    hits = json.loads(found.stdout)
    entries = load_catalogue(Settings.from_env().knowledge_dir).by_id()
    for hit in hits:
        expert = entries.get(hit["contact"]) if isinstance(hit.get("contact"), str) else None
        hit["contact"] = None if expert is None else {"name": expert.name, "role": expert.role,
                                                      "organisation": expert.organisation, "email": expert.email}
    messages: list[dict[str, Any]] = [{"text": f'Here is what matches "{NEED}" best:'}]
    for hit in hits:
        messages.append({"text": f"{hit['rank']}. {hit['name']}, {hit['organisation']} ({hit['site_label']}). "
                                 f"{hit['reason']}",
                         "buttons": [{"title": "Details", "payload": f'/ask_details{{"position": "{hit["rank"]}"}}'},
                                     {"title": "Contact", "payload": f'/ask_contact{{"position": "{hit["rank"]}"}}'}]})
    messages.append({"text": "Would you like more options, or shall I open a support request so that an "
                             "innovation advisor follows up?",
                     "buttons": [{"title": "Show more", "payload": "/show_more"},
                                 {"title": "None of these fit", "payload": "/none_fit"},
                                 {"title": "Open a support request", "payload": "/request_support"}]})
    messages.append({"custom": {"type": "search_results", "need": NEED, "filters": {}, "hits": hits}})
    return messages


def chat_html(activities: list[dict[str, Any]]) -> str:
    parts = ['<div class="row user"><div class="bubble">' + html.escape(f"We need {NEED}") + "</div></div>",
             '<div class="who">Navigator</div>']
    for activity in activities:
        cards = [a["content"] for a in activity.get("attachments") or []]
        if activity.get("text"):
            inner = '<div class="bubble">' + html.escape(activity["text"]) + "</div>"
        elif activity.get("attachmentLayout") == "carousel":
            inner = '<div class="carousel">' + "".join(
                f'<div class="card" data-card="{html.escape(json.dumps(c))}"></div>' for c in cards) + "</div>"
        else:
            inner = "".join(f'<div class="card wide" data-card="{html.escape(json.dumps(c))}"></div>' for c in cards)
        parts.append(f'<div class="row" style="margin-bottom:8px"><div class="avatar">N</div>{inner}</div>')
    return "\n".join(parts)


def adaptivecards_script(dist: Path | None, work: Path) -> str:
    if dist is None:
        subprocess.run(["npm", "pack", "--silent", "adaptivecards@3"], cwd=work, check=True, capture_output=True)
        with tarfile.open(next(work.glob("adaptivecards-*.tgz"))) as archive:
            archive.extractall(work, filter="data")
        dist = work / "package" / "dist"
    return (dist / "adaptivecards.min.js").read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "teams-search-answer.png")
    parser.add_argument("--adaptivecards", type=Path, help="the dist folder of the npm package adaptivecards")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    activities = teams_activity.turn_activities(search_turn())
    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "teams.html"
        script = adaptivecards_script(args.adaptivecards, Path(folder)).replace("</script", "<\\/script")
        page_file.write_text(PAGE.format(script=script, chat=chat_html(activities)), encoding="utf-8")
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1060, "height": 400}, device_scale_factor=1)
            page.goto(page_file.as_uri())
            page.wait_for_selector(".ac-adaptiveCard")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.locator(".chat").screenshot(path=str(args.out))
            browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
