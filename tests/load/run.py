"""``python -m tests.load.run`` (part of ``make bench``): Locust against ``make run`` and against ``make cluster``
with 1 and with 2 Rasa servers, one after the other in one run, and a Markdown report of what each carried.

Each target starts on free ports with data of its own: ``make run``'s default (one Rasa server, one Navigator
service, SQLite), and the cluster (HAProxy, 2 Navigator services, PostgreSQL and Redis, here throwaway servers
from Debian's programs as the tests use). Against each, three phases:

1. ``greeting``: ``--saturation-users`` users send greetings with no pause, each opening a new conversation;
2. ``search``: the same with searches;
3. ``conversations``: ``--users`` companies hold whole conversations (tests/load/scenario.py) with think times;
4. with 2 Rasa servers, ``conversations x1.6``: 1.6 times as many companies, to compare with 1 server's phase 3.

A warm-up of whole conversations, not measured, comes first. The per-address rate limit is off (every simulated
company sends from this machine); the per-sender limit stays on.

For every phase: Locust's count, p50, p95 and throughput per kind of turn, its errors, and every process's CPU
(percent of one core, averaged over the phase) and peak memory, read with psutil, Locust's own included.
The figures go to standard output and, as JSON, to ``--out``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Self

import psutil
import pytest
from sqlalchemy import MetaData

from navigator.cluster import ClusterLayout, running_cluster
from navigator.launcher import free_port, running
from navigator.settings import PROJECT_ROOT, Settings
from support_requests.database import open_engine
from support_requests.store import RequestStore
from tests.load.scenario import kinds_per_conversation
from tests.servers import throwaway_postgres, throwaway_redis
from tests.support_requests.helpers import events_table

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
MODEL = PROJECT_ROOT / "var" / "models" / "navigator.tar.gz"
START_TIMEOUT = 900.0

# The cluster with 2 Rasa servers also holds SCALE times the conversations: the goal is 1.6 times those of 1 server
# at the same p95.
SCALE = 1.6
SCALED = "conversations x1.6"

# What finds a target's processes: a name for the report and the pids to follow (with their children).
Processes = Callable[[], Mapping[str, int]]


@dataclass(frozen=True)
class Phase:
    name: str
    user_class: str
    users: int
    seconds: int
    think: str = "0,0"


@dataclass
class KindFigures:
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    per_second: float


@dataclass
class ProcessFigures:
    cpu_percent: float
    peak_rss_mb: float


@dataclass
class PhaseResult:
    target: str
    phase: str
    users: int
    seconds: float
    kinds: dict[str, KindFigures]
    total: KindFigures
    processes: dict[str, ProcessFigures]
    failures: list[str] = field(default_factory=list)

    @property
    def server_cpu_seconds(self) -> float:
        """CPU time of everything but the load generator, over the phase."""
        return sum(p.cpu_percent for name, p in self.processes.items()
                   if name not in ("locust", "other")) / 100 * self.seconds


class ProcessWatch:
    """CPU time and peak resident memory of a set of processes (each with its descendants) over a span."""

    def __init__(self, pids: Mapping[str, int], interval: float = 0.5):
        self.roots = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.interval = interval
        self.peak: dict[str, float] = dict.fromkeys(self.roots, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _tree(self, name: str) -> list[psutil.Process]:
        root = self.roots[name]
        try:
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _cpu(self, name: str) -> float:
        total = 0.0
        for process in self._tree(name):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def _rss(self, name: str) -> float:
        total = 0
        for process in self._tree(name):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += process.memory_info().rss
        return total / 2**20

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            for name in self.roots:
                self.peak[name] = max(self.peak[name], self._rss(name))

    @staticmethod
    def _busy() -> float:
        """CPU seconds the whole machine has spent on anything but idling."""
        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def __enter__(self) -> Self:
        self._started = time.monotonic()
        self._busy_before = self._busy()
        self._cpu_before = {name: self._cpu(name) for name in self.roots}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.monotonic() - self._started
        self._cpu_after = {name: self._cpu(name) for name in self.roots}
        self.machine_percent = 100 * (self._busy() - self._busy_before) / self.elapsed
        self._stop.set()
        self._thread.join()
        for name in self.roots:
            self.peak[name] = max(self.peak[name], self._rss(name))

    def figures(self) -> dict[str, ProcessFigures]:
        return {name: ProcessFigures(100 * (self._cpu_after[name] - self._cpu_before[name]) / self.elapsed,
                                     self.peak[name]) for name in self.roots}


def _kind_figures(row: Mapping[str, str]) -> KindFigures:
    return KindFigures(int(row["Request Count"]), int(row["Failure Count"]), float(row["50%"] or 0),
                       float(row["95%"] or 0), float(row["Requests/s"] or 0))


def read_locust_csv(prefix: Path) -> tuple[dict[str, KindFigures], KindFigures, list[str]]:
    """Locust's ``--csv`` files: figures per request name, the aggregate, and the failures as text."""
    kinds, total = {}, None
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as stats:
        for row in csv.DictReader(stats):
            if row["Name"] == "Aggregated":
                total = _kind_figures(row)
            else:
                kinds[row["Name"]] = _kind_figures(row)
    failures = []
    with open(f"{prefix}_failures.csv", newline="", encoding="utf-8") as listed:
        for row in csv.DictReader(listed):
            failures.append(f"{row['Occurrences']} x {row['Name']}: {row['Error']}")
    if total is None:
        raise ValueError(f"{prefix}_stats.csv has no Aggregated row")
    return kinds, total, failures


def run_phase(target: str, host: str, phase: Phase, processes: Processes, out: Path) -> PhaseResult:
    """One Locust run, headless, while the target's processes are watched."""
    prefix = out / f"{target}-{phase.name}"
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
               "--users", str(phase.users), "--spawn-rate", str(max(1, phase.users // 2)),
               "--run-time", f"{phase.seconds}s", "--stop-timeout", "60", "--host", host,
               "--csv", str(prefix), "--loglevel", "WARNING", phase.user_class]
    env = {**os.environ, "NAVIGATOR_LOAD_THINK": phase.think}
    before = _reaped_cpu()
    with open(f"{prefix}.log", "wb") as log:
        locust = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, env=env)
        with ProcessWatch({**processes(), "locust": locust.pid}) as watch:
            locust.wait(timeout=phase.seconds + 180)
    figures = watch.figures()
    # Locust has exited when the watch reads it last: its CPU time is the reaped children's.
    figures["locust"].cpu_percent = 100 * (_reaped_cpu() - before) / watch.elapsed
    # Whatever else ran on the machine meanwhile (the benchmark's own process, the system, other work).
    figures["other"] = ProcessFigures(max(0.0, watch.machine_percent - sum(f.cpu_percent for f in figures.values())),
                                      0.0)
    kinds, total, failures = read_locust_csv(prefix)
    return PhaseResult(target, phase.name, phase.users, watch.elapsed, kinds, total, figures, failures)


def _reaped_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- the targets ------------------------------------------------------------------------------------------------


def _one_address(settings: Settings) -> Settings:
    """Every simulated company sends from this machine's address: the per-address limit is off, the per-sender
    limit stays as configured (a company pausing 1 to 3 s between turns stays within the default)."""
    return replace(settings, address_rate=None)


@contextlib.contextmanager
def single_target(settings: Settings, folder: Path, *, one_address: bool = True) -> Iterator[tuple[str, Processes]]:
    """``make run``: one Rasa server and one Navigator service on SQLite; with ``one_address``, the per-address
    limit off (every simulated company sends from this machine's one address)."""
    environment = {"NAVIGATOR_DATABASE_URL": f"sqlite:///{folder / 'requests.db'}",
                   "NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{folder / 'tracker.db'}",
                   "NAVIGATOR_SESSION_KEY_FILE": str(folder / "session.key")}
    isolated = replace(_one_address(settings) if one_address else settings,
                       database_url=environment["NAVIGATOR_DATABASE_URL"],
                       tracker_db_url=environment["NAVIGATOR_TRACKER_DB_URL"])
    with _environment(environment), running(isolated, model=MODEL, rasa_port=free_port(), service_port=free_port(),
                                            run_dir=folder / "run", timeout=START_TIMEOUT) as stack:
        service, rasa = stack.supervisor.children
        yield stack.rasa_url, lambda: {"rasa": rasa.process.pid, "service": service.process.pid}


def _listener(port: int) -> int:
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
            return connection.pid
    raise LookupError(f"no process listens on port {port}")


@contextlib.contextmanager
def cluster_target(settings: Settings, folder: Path, rasa_servers: int) -> Iterator[tuple[str, Processes]]:
    """``make cluster``: HAProxy, ``rasa_servers`` Rasa servers and 2 services on a new PostgreSQL and Redis."""
    with throwaway_postgres() as postgres, throwaway_redis() as redis_url:
        requests_url, tracker_url = postgres.create_database(), postgres.create_database()
        RequestStore.from_url(requests_url).close()
        metadata = MetaData()
        events_table(metadata)
        engine = open_engine(tracker_url)
        metadata.create_all(engine)
        engine.dispose()
        layout = ClusterLayout.on_free_ports(rasa_servers=rasa_servers, services=2)
        environment = {"NAVIGATOR_DATABASE_URL": requests_url, "NAVIGATOR_TRACKER_DB_URL": tracker_url,
                       "NAVIGATOR_REDIS_URL": redis_url, "NAVIGATOR_SESSION_KEY_FILE": str(folder / "session.key")}
        clustered = replace(_one_address(settings), database_url=requests_url, tracker_db_url=tracker_url,
                            redis_url=redis_url)
        with _environment(environment), running_cluster(clustered, model=MODEL, layout=layout, run_dir=folder / "run",
                                                        timeout=START_TIMEOUT, say=lambda line: None) as cluster:
            postgres_pid = _listener(int(postgres.url.rsplit(":", 1)[1].split("/")[0]))
            redis_pid = _listener(int(redis_url.rsplit(":", 1)[1].split("/")[0]))

            def processes() -> dict[str, int]:
                pids = {child.name: child.process.pid for child in cluster.supervisor.children}
                return {**pids, "postgresql": postgres_pid, "redis": redis_pid}

            yield cluster.rasa_url, processes


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """The variables set for the block, as the test stacks set theirs (pytest's MonkeyPatch)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        yield


# -- the report -------------------------------------------------------------------------------------------------


def report(results: list[PhaseResult]) -> str:
    """Markdown tables: each phase's turns by kind, then each process's CPU and memory, then the ratios."""
    lines = ["| target | phase | users | kind | turns | errors | p50 (ms) | p95 (ms) | turns/s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        rows = sorted(result.kinds.items()) + [("all", result.total)]
        for kind, figures in rows:
            lines.append(f"| {result.target} | {result.phase} | {result.users} | {kind} | {figures.requests} | "
                         f"{figures.failures} | {figures.p50_ms:.0f} | {figures.p95_ms:.0f} | "
                         f"{figures.per_second:.2f} |")
    lines += ["", "| target | phase | process | CPU (% of a core) | peak memory (MiB) |", "|---|---|---|---|---|"]
    for result in results:
        for name, figures in result.processes.items():
            lines.append(f"| {result.target} | {result.phase} | {name} | {figures.cpu_percent:.0f} | "
                         f"{figures.peak_rss_mb:.0f} |")
    lines += ["", *summary(results)]
    for result in results:
        for failure in result.failures:
            lines.append(f"error in {result.target}/{result.phase}: {failure}")
    return "\n".join(lines)


def summary(results: list[PhaseResult]) -> list[str]:
    """The goals' ratios and the CPU cost of a turn, per target."""
    by = {(r.target, r.phase): r for r in results}
    per_conversation = sum(kinds_per_conversation().values())
    lines = []
    for target in dict.fromkeys(r.target for r in results):
        greeting, search, talk = by.get((target, "greeting")), by.get((target, "search")), by.get(
            (target, "conversations"))
        if greeting and search and greeting.total.per_second:
            lines.append(f"{target}: search throughput / greeting throughput = "
                         f"{search.total.per_second / greeting.total.per_second:.2f} (goal: at least 0.8)")
        if talk and talk.total.requests:
            cost = talk.server_cpu_seconds / talk.total.requests
            lines.append(f"{target}: {talk.total.per_second * 60 / per_conversation:.1f} conversations/min, "
                         f"server CPU {cost * 1000:.0f} ms per turn; at that cost a 4-core host carries "
                         f"{4 / cost:.0f} turns/s ({4 / cost * 60 / per_conversation:.0f} conversations/min), "
                         f"an 8-core host {8 / cost:.0f} turns/s ({8 / cost * 60 / per_conversation:.0f}/min)")
    one = by.get(("cluster-1", "conversations"))
    for phase in ("greeting", "search", "conversations", SCALED):
        two = by.get(("cluster-2", phase))
        base = one if phase == SCALED else by.get(("cluster-1", phase))
        if base and two and base.total.per_second:
            lines.append(f"cluster: 2 Rasa servers ({two.users} users, {phase}) / 1 Rasa server ({base.users} users, "
                         f"{base.phase}), turns per second = {two.total.per_second / base.total.per_second:.2f} "
                         f"(p95 {base.total.p95_ms:.0f} ms with 1, {two.total.p95_ms:.0f} ms with 2)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="run,cluster-1,cluster-2",
                        help="comma-separated: run, cluster-1, cluster-2")
    parser.add_argument("--users", type=int, default=40, help="companies holding conversations at once")
    parser.add_argument("--think", default="1,3", help="seconds between a company's turns: MIN,MAX")
    parser.add_argument("--seconds", type=int, default=120, help="length of the conversation phase")
    parser.add_argument("--saturation-users", type=int, default=20)
    parser.add_argument("--saturation-seconds", type=int, default=40)
    parser.add_argument("--warm-up-seconds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "bench" / "load.json")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    phases = [Phase("greeting", "Greeter", args.saturation_users, args.saturation_seconds),
              Phase("search", "Searcher", args.saturation_users, args.saturation_seconds),
              Phase("conversations", "Company", args.users, args.seconds, args.think)]
    results: list[PhaseResult] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for target in args.targets.split(","):
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            started = time.monotonic()
            if target == "run":
                starting = single_target(settings, folder)
            elif target in ("cluster-1", "cluster-2"):
                starting = cluster_target(settings, folder, rasa_servers=int(target[-1]))
            else:
                parser.error(f"unknown target {target}")
            with starting as (url, processes):
                print(f"{target}: started in {time.monotonic() - started:.0f} s at {url}", flush=True)
                # Whole conversations first, not measured: the first turns of a new server load what they use.
                run_phase(target, url, Phase("warm-up", "Company", 2, args.warm_up_seconds), processes, folder)
                more = [Phase(SCALED, "Company", round(args.users * SCALE), args.seconds, args.think)]
                for phase in phases + (more if target == "cluster-2" else []):
                    results.append(run_phase(target, url, phase, processes, folder))
                    last = results[-1]
                    print(f"{target}/{phase.name}: {last.total.requests} turns, {last.total.failures} errors, "
                          f"p95 {last.total.p95_ms:.0f} ms, {last.total.per_second:.2f}/s", flush=True)
        args.out.write_text(json.dumps([asdict(r) for r in results], indent=2), encoding="utf-8")
    print(report(results))
    return 1 if any(r.total.failures for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
