"""Renders docs/images/slack-search-answer.png: the Block Kit the Slack channel posts for a search, as a picture.

The turn is the one the assistant sends for :data:`NEED` (the domain's responses filled with the real engine's
hits on the shipped catalogue, and the entries' records as the Navigator API gives them); the channel's own
renderer (bot/slack_blocks.py) makes the Block Kit JSON, and a small HTML imitation of Slack's message view is
screenshot with Debian's Chromium (Playwright), as the browser tests do. Slack itself is not involved: the
picture shows the JSON's content and layout, not Slack's exact look.

Run it with ``.venv/bin/python -m tests.channels.slack.render_example`` (it loads the embedding model and the
index). It also writes the JSON to ``var/artifacts/slack-search-answer.json``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import yaml

from actions.presenting import hit_variables, hits_payload
from navigator.runtime import open_runtime
from navigator.settings import PROJECT_ROOT, Settings
from tests.channels.slack import payloads  # noqa: F401  (puts bot/ on sys.path)
from tests.domain_responses import english
from web.api.serialise import entry_json

NEED = "We need GMP manufacturing of a viral vector for a phase 1 trial"
IMAGE = PROJECT_ROOT / "docs" / "images" / "slack-search-answer.png"
JSON_COPY = PROJECT_ROOT / "var" / "artifacts" / "slack-search-answer.json"
CHROMIUM = Path("/usr/bin/chromium")


def _response(domain: dict[str, Any], response: str, **variables: str) -> dict[str, Any]:
    template = english(domain["responses"][response])
    message: dict[str, Any] = {"text": template["text"].format(**variables)}
    if template.get("buttons"):
        message["buttons"] = [{"title": b["title"], "payload": b["payload"].format(**variables)}
                              for b in template["buttons"]]
    return message


def search_answer() -> list[dict[str, Any]]:
    """The Block Kit bodies the channel posts for :data:`NEED`."""
    from slack_blocks import render_turn  # bot/, put on the path by payloads

    domain = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    engine = open_runtime(Settings.from_env()).engine
    hits = engine.search(NEED, top=3)
    messages = [_response(domain, "utter_results_intro", need=NEED)]
    messages += [_response(domain, "utter_hit", **hit_variables(hit, rank)) for rank, hit in enumerate(hits, 1)]
    options = _response(domain, "utter_results_options")
    options["custom"] = hits_payload(NEED, hits, {"sites": [], "types": []})
    messages.append(options)
    details = {hit.entry.id: entry_json(hit.entry, engine.entry) for hit in hits}
    return render_turn(messages, details)


def _mrkdwn(text: str) -> str:
    """Slack mrkdwn (already escaped for &, <, >) as HTML: links, bold, quotes and line breaks."""
    def anchor(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        return f'<a href="{html.escape(target)}">{label or html.escape(target)}</a>'

    lines = []
    for line in text.split("\n"):
        line = re.sub(r"<([^<>]+)>", anchor, line)
        line = re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", line)
        quote = line.startswith("> ")
        lines.append(f'<div class="quote">{line[2:]}</div>' if quote else f"<div>{line}</div>")
    return "".join(lines)


def page(bodies: list[dict[str, Any]]) -> str:
    """A Slack-like HTML view of the bodies."""
    parts = []
    for body in bodies:
        for block in body["blocks"]:
            if block["type"] == "section":
                parts.append(f'<div class="section">{_mrkdwn(block["text"]["text"])}</div>')
            elif block["type"] == "actions":
                buttons = "".join(f'<span class="button">{html.escape(e["text"]["text"])}</span>'
                                  for e in block["elements"])
                parts.append(f'<div class="actions">{buttons}</div>')
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font: 15px/1.47 -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: #1d1c1d; margin: 0;
       background: #fff; }}
.message {{ display: flex; padding: 16px 20px; width: 760px; }}
.avatar {{ width: 36px; height: 36px; border-radius: 6px; background: #1d4e89; color: #fff; font-weight: bold;
          display: flex; align-items: center; justify-content: center; margin-right: 10px; flex: none; }}
.name {{ font-weight: 900; }} .app {{ font-size: 10px; background: #e8e8e8; color: #616061; padding: 1px 3px;
       border-radius: 2px; margin-left: 4px; }} .time {{ color: #616061; font-size: 12px; margin-left: 6px; }}
.section {{ margin: 4px 0 6px; }} a {{ color: #1264a3; text-decoration: none; }}
.quote {{ border-left: 4px solid #ddd; padding-left: 10px; color: #1d1c1d; }}
.actions {{ margin: 6px 0 12px; }}
.button {{ display: inline-block; border: 1px solid #bbb; border-radius: 4px; padding: 3px 12px; margin-right: 8px;
          font-weight: 700; font-size: 13px; }}
</style></head><body><div class="message"><div class="avatar">N</div><div>
<div><span class="name">Navigator</span><span class="app">APP</span><span class="time">10:42</span></div>
{''.join(parts)}</div></div></body></html>"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    bodies = search_answer()
    JSON_COPY.parent.mkdir(parents=True, exist_ok=True)
    JSON_COPY.write_text(json.dumps(bodies, ensure_ascii=False, indent=2), encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        view = browser.new_page(viewport={"width": 800, "height": 600}, device_scale_factor=1)
        view.set_content(page(bodies))
        view.locator(".message").screenshot(path=str(IMAGE))
        browser.close()
    print(f"wrote {IMAGE.relative_to(PROJECT_ROOT)} and {JSON_COPY.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
