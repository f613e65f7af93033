"""Memory and CPU of the Rasa server and the Navigator service, for the containers' resource requests.

Starts ``navigator run``'s two processes (:func:`navigator.launcher.running`) on SQLite in a temporary folder,
sends conversations over Rasa's REST channel, and prints each process's resident memory (its whole process tree,
from /proc) after start-up and after the turns, and the CPU seconds each process spent per turn of each kind.

    .venv/bin/python deploy/measure_resources.py [--turns 20]

docs/deploy.md ("Sizing") has the figures of one run and deploy/kubernetes/ the requests derived from them.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import urllib.request
from pathlib import Path

from navigator.launcher import free_port, running
from navigator.settings import PROJECT_ROOT, Settings

MODEL = PROJECT_ROOT / "var" / "models" / "navigator.tar.gz"
TURNS = {"greeting": "hello", "search": "we need flow cytometry for a cell therapy project in Flemingsberg"}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid``'s process tree, in MiB."""
    pages = 0
    for member in tree(pid):
        try:
            pages += int(Path(f"/proc/{member}/statm").read_text().split()[1])
        except (OSError, IndexError):
            pass
    return pages * PAGE_BYTES / 2**20


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid``'s process tree so far, in seconds."""
    ticks = 0
    for member in tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return ticks / CLOCK_TICKS


def say(webhook: str, sender: str, text: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(webhook, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=20, help="turns of each kind (each in a new conversation)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        rasa_port, service_port = free_port(), free_port()
        settings = Settings.from_env({"NAVIGATOR_DATABASE_URL": f"sqlite:///{data / 'requests.db'}",
                                      "NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{data / 'tracker.db'}",
                                      "NAVIGATOR_SESSION_KEY_FILE": str(data / "session.key"),
                                      "NAVIGATOR_INDEX_DIR": os.environ.get("NAVIGATOR_INDEX_DIR",
                                                                            str(PROJECT_ROOT / "var" / "index"))})
        os.environ.update({"NAVIGATOR_DATABASE_URL": settings.database_url,
                           "NAVIGATOR_TRACKER_DB_URL": settings.tracker_db_url,
                           "NAVIGATOR_SESSION_KEY_FILE": str(settings.session_key_file),
                           "NAVIGATOR_INDEX_DIR": str(settings.index_dir)})
        started = time.monotonic()
        with running(settings, model=MODEL, rasa_port=rasa_port, service_port=service_port, run_dir=data / "run",
                     timeout=900) as stack:
            service, rasa = (p.pid for p in stack.processes)
            print(f"both healthy after {time.monotonic() - started:.0f} s")
            print(f"after start-up: rasa {rss_mib(rasa):.0f} MiB, service {rss_mib(service):.0f} MiB")
            say(stack.rest_webhook, "warm-up", "hello")
            for kind, text in TURNS.items():
                before = {name: cpu_seconds(pid) for name, pid in (("rasa", rasa), ("service", service))}
                wall = time.monotonic()
                for turn in range(args.turns):
                    reply = say(stack.rest_webhook, f"{kind}-{turn}", text)
                    if not reply:
                        raise SystemExit(f"an empty reply to {text!r}")
                    shown = [m.get("custom", {}).get("type") or (m.get("text") or "")[:40] for m in reply]
                if kind == "search" and not any(m.get("custom", {}).get("type") == "search_results" for m in reply):
                    raise SystemExit(f"no search results for {text!r}: {shown}")
                wall = (time.monotonic() - wall) / args.turns
                per_turn = {name: (cpu_seconds(pid) - before[name]) / args.turns
                            for name, pid in (("rasa", rasa), ("service", service))}
                print(f"{kind}: {wall * 1000:.0f} ms per turn; CPU per turn: rasa {per_turn['rasa'] * 1000:.0f} ms, "
                      f"service {per_turn['service'] * 1000:.0f} ms")
            print(f"after {2 * args.turns + 1} turns: rasa {rss_mib(rasa):.0f} MiB, "
                  f"service {rss_mib(service):.0f} MiB")


if __name__ == "__main__":
    main()
