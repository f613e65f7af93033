"""Several Rasa servers and Navigator services behind HAProxy: ``navigator cluster`` (``make cluster``).

The topology (docs/deploy.md):

- HAProxy's public frontends: the Rasa servers (chat channels, socket.io, REST) at ``rasa_port`` and the
  Navigator services (website, console, API) at ``service_port``; an internal frontend at ``actions_port``,
  bound to 127.0.0.1, through which each Rasa server's action relay (bot/action_relay.py) reaches the services.
- N Rasa servers sharing PostgreSQL as their tracker store and Redis as their lock store (bot/lock_store.py).
- M Navigator services sharing the PostgreSQL request database.

HAProxy checks every backend (services: ``GET /health``; Rasa: ``GET /webhooks/rest/``) and skips one that does
not answer. A request whose connection to a backend failed (so nothing was sent) goes to another backend; one
that was sent is never sent again by HAProxy, since an action may have stored something: when a service dies
with a call in flight, the relay apologises instead, and the support-request submit is idempotent anyway (its
key is the conversation and the time of the confirming message). socket.io connections stick to one Rasa server
by the client's address (``balance source``): Engine.IO's long-polling transport sends each connection's
requests separately and they must reach the server that holds the connection. When that server dies, the widget
reconnects to another, which reads the conversation from the shared tracker store. HAProxy tells the Rasa servers
the client's address in ``X-Forwarded-For``, which they believe from HAProxy only (127.0.0.1 is added to
``NAVIGATOR_TRUSTED_PROXIES``): their input guard limits the messages per client address, in Redis.

Every process is a child of one :class:`~navigator.supervisor.Supervisor`: a child that stops is started again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from navigator.launcher import (
    RASA,
    LaunchError,
    _stop,
    _wait_healthy,
    browser_url,
    free_port,
    supervise_until_stopped,
    write_rasa_config,
)
from navigator.settings import PROJECT_ROOT, Settings
from navigator.supervisor import Child, Supervisor

HAPROXY_CANDIDATES = ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")
RASA_HEALTH_PATH = "/webhooks/rest/"
SERVICE_HEALTH_PATH = "/health"
RUN_DIR = PROJECT_ROOT / "var" / "cluster"
# The compute threads of the services' embedding model (torch) and of the Rasa servers' TensorFlow.
CLUSTER_THREAD_SETTINGS = ("NAVIGATOR_TORCH_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS",
                           "TF_INTER_OP_PARALLELISM_THREADS")
HAPROXY_ADDRESS = "127.0.0.1"
"""Where the Rasa servers see HAProxy's connections come from (the backends are on this machine's loopback)."""


class ClusterError(LaunchError, ValueError):
    """The cluster cannot start: wrong settings, or a missing program; the message says what to do."""


RELAY_PATH = "/webhooks/navigator_actions/"
"""The Rasa servers' action relay (bot/action_relay.py), for their own calls only."""

ACTION_PATHS = ("/webhook", "/actions")
"""The Navigator services' action protocol (rasa-sdk's), for the Rasa servers only."""


@dataclass(frozen=True)
class Backend:
    """One server behind HAProxy: its name in haproxy.cfg and its address."""

    name: str
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"


@dataclass(frozen=True)
class ClusterLayout:
    """Where each part listens.

    Attributes:
        host: the interface of HAProxy's public frontends.
        rasa_port: the public Rasa address (chat channels and socket.io), through HAProxy.
        service_port: the public Navigator address (website, console, API), through HAProxy.
        actions_port: HAProxy's internal frontend on 127.0.0.1 through which the Rasa servers call the actions.
        rasa_servers: the Rasa servers.
        services: the Navigator services.
    """

    host: str
    rasa_port: int
    service_port: int
    actions_port: int
    rasa_servers: tuple[Backend, ...]
    services: tuple[Backend, ...]

    @classmethod
    def numbered(cls, rasa_servers: int = 2, services: int = 2, *, host: str = "127.0.0.1", rasa_port: int = 5005,
                 service_port: int = 5055, actions_port: int = 5056, first_backend_port: int = 5100) -> ClusterLayout:
        """Backends on 127.0.0.1 at consecutive ports from ``first_backend_port``: Rasa servers first."""
        _check_counts(rasa_servers, services)
        rasa = tuple(Backend(f"rasa{i + 1}", "127.0.0.1", first_backend_port + i) for i in range(rasa_servers))
        service = tuple(Backend(f"service{i + 1}", "127.0.0.1", first_backend_port + rasa_servers + i)
                        for i in range(services))
        return cls(host, rasa_port, service_port, actions_port, rasa, service)

    @classmethod
    def on_free_ports(cls, rasa_servers: int = 2, services: int = 2) -> ClusterLayout:
        """Everything on 127.0.0.1 at ports that were free a moment ago (tests)."""
        _check_counts(rasa_servers, services)
        rasa = tuple(Backend(f"rasa{i + 1}", "127.0.0.1", free_port()) for i in range(rasa_servers))
        service = tuple(Backend(f"service{i + 1}", "127.0.0.1", free_port()) for i in range(services))
        return cls("127.0.0.1", free_port(), free_port(), free_port(), rasa, service)

    @property
    def actions_url(self) -> str:
        """The Navigator services as the Rasa servers' relays reach them (HAProxy's internal frontend)."""
        return f"http://127.0.0.1:{self.actions_port}"


def _check_counts(rasa_servers: int, services: int) -> None:
    if rasa_servers < 1 or services < 1:
        raise ClusterError(f"a cluster needs at least one Rasa server and one Navigator service "
                           f"(got {rasa_servers} and {services})")


def check_cluster_settings(settings: Settings) -> None:
    """Refuse settings that several processes cannot share.

    Raises:
        ClusterError: a database is SQLite (each process would have its own file, or wait on its lock), or
            NAVIGATOR_REDIS_URL is not set (the Rasa servers keep their conversations' locks there).
    """
    problems = []
    for variable, url in (("NAVIGATOR_DATABASE_URL", settings.database_url),
                          ("NAVIGATOR_TRACKER_DB_URL", settings.tracker_db_url)):
        if not url.startswith("postgresql"):
            problems.append(f"{variable} must name a PostgreSQL database (postgresql+psycopg://USER:PASSWORD@HOST/DB)"
                            f", not '{url.split(':', 1)[0]}': the replicas share it")
    if not settings.redis_url:
        problems.append("NAVIGATOR_REDIS_URL must name a Redis server (redis://HOST:6379/0): the Rasa servers keep "
                        "each conversation's lock there")
    if problems:
        raise ClusterError("a cluster needs shared databases: " + "; ".join(problems) + " (see docs/deploy.md)")


def find_haproxy() -> Path:
    """The HAProxy program.

    Raises:
        ClusterError: when it is not installed.
    """
    found = shutil.which("haproxy")
    for candidate in ([found] if found else []) + list(HAPROXY_CANDIDATES):
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    raise ClusterError("HAProxy is not installed: run scripts/install-haproxy (make cluster does it first)")


def haproxy_config(layout: ClusterLayout, *, admin_socket: Path | None = None) -> str:
    """The text of haproxy.cfg for ``layout``: see the module's description for what each part does."""

    def servers(backends: Sequence[Backend], path: str) -> list[str]:
        return ([f"    option httpchk GET {path}", "    http-check expect status 200"]
                + [f"    server {b.name} {b.address} check" for b in backends])

    admin = [f"    stats socket {admin_socket} mode 600 level admin"] if admin_socket else []
    lines = [
        "# Written by navigator cluster (navigator/cluster.py); changes are overwritten at the next start.",
        "global",
        "    log stdout format raw local0 info",
        "    maxconn 4096",
        *admin,
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option dontlognull",
        "    timeout connect 2s",
        "    timeout client 120s",
        "    timeout server 120s",
        "    timeout tunnel 1h",  # socket.io's websockets stay open
        "    timeout check 5s",
        # Only a request whose connection failed is tried again (nothing was sent), each time on another server:
        # an action call, a chat message or a form post that reached a server is never sent twice.
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure",
        # A server is marked down after 2 failed checks a second apart, and up again after 2 good ones.
        "    default-server inter 1s fall 2 rise 2",
        "",
        "frontend rasa",
        f"    bind {_bind(layout.host, layout.rasa_port)}",
        # The client's address for the Rasa servers' rate limits (they believe it from HAProxy only).
        "    option forwardfor",
        # The action relay answers only the run's secret; from outside it is not reachable at all.
        f"    http-request deny deny_status 403 if {{ path_beg {RELAY_PATH} }}",
        "    use_backend rasa_socketio if { path_beg /socket.io/ }",
        "    default_backend rasa",
        "",
        "frontend navigator",
        f"    bind {_bind(layout.host, layout.service_port)}",
        # The action protocol is for the Rasa servers, through the internal frontend below, not for the public.
        f"    http-request deny deny_status 403 if {{ path {' '.join(ACTION_PATHS)} }}",
        "    default_backend navigator",
        "",
        "# The Rasa servers' action relays reach the services here; never exposed beyond this machine.",
        "frontend actions",
        f"    bind 127.0.0.1:{layout.actions_port}",
        "    default_backend navigator",
        "",
        "backend rasa",
        "    balance roundrobin",
        *servers(layout.rasa_servers, RASA_HEALTH_PATH),
        "",
        "# Engine.IO long-polling sends one connection's requests separately: they must reach the same server.",
        "backend rasa_socketio",
        "    balance source",
        "    hash-type consistent",
        *servers(layout.rasa_servers, RASA_HEALTH_PATH),
        "",
        "backend navigator",
        "    balance roundrobin",
        *servers(layout.services, SERVICE_HEALTH_PATH),
        "",
    ]
    return "\n".join(lines)


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class Cluster:
    """A running cluster: its layout, its processes' supervisor, and where its files and logs are."""

    layout: ClusterLayout
    supervisor: Supervisor
    run_dir: Path

    @property
    def rasa_url(self) -> str:
        """The Rasa servers through HAProxy."""
        return f"http://{_bind(_local(self.layout.host), self.layout.rasa_port)}"

    @property
    def service_url(self) -> str:
        """The Navigator services through HAProxy."""
        return f"http://{_bind(_local(self.layout.host), self.layout.service_port)}"

    @property
    def rest_webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def child(self, name: str) -> Child:
        """The supervised process called ``name`` (``rasa1``, ``service2``, ``haproxy``)."""
        for child in self.supervisor.children:
            if child.name == name:
                return child
        raise KeyError(name)


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


@contextlib.contextmanager
def running_cluster(settings: Settings, *, model: Path, layout: ClusterLayout, run_dir: Path = RUN_DIR,
                    timeout: float = 600.0, say: Callable[[str], None] | None = None) -> Iterator[Cluster]:
    """Start HAProxy, the services and the Rasa servers; yield once every one answers its health check; stop them
    all afterwards.

    The first Rasa server starts with the services; the others once it answers, so that only one of them creates
    the tracker store's table in a new database. ``say`` receives the supervisor's restart notes (default:
    standard error).

    Raises:
        ClusterError: wrong settings or HAProxy missing.
        LaunchError: a process stopped or did not become healthy within ``timeout`` seconds.
    """
    check_cluster_settings(settings)
    haproxy = find_haproxy()
    if not model.exists():
        raise ClusterError(f"no trained Rasa model at {model}; run 'make model' (or 'make cluster', which trains it)")
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_dir / "haproxy.cfg"
    config.write_text(haproxy_config(layout, admin_socket=run_dir / "haproxy.sock"), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "RASA_TELEMETRY_ENABLED": "false"}
    env.setdefault("NAVIGATOR_RASA_PUBLIC_URL", browser_url(layout.host, layout.rasa_port))
    # Several processes share the host's cores: one compute thread each, unless set (docs/benchmarks.md measures
    # searches per second both ways).
    for variable in CLUSTER_THREAD_SETTINGS:
        env.setdefault(variable, "1")
    children = [Child("haproxy", [str(haproxy), "-db", "-f", str(config)], cwd=run_dir, log=run_dir / "haproxy.log",
                      env=env)]
    for service in layout.services:
        children.append(Child(service.name, [sys.executable, "-m", "navigator.cli", "serve", "--host", service.host,
                                             "--port", str(service.port)],
                              cwd=PROJECT_ROOT, log=run_dir / f"{service.name}.log", env=env))
    behind_haproxy = with_haproxy_trusted(settings)
    for server in layout.rasa_servers:
        endpoints, credentials = write_rasa_config(behind_haproxy, run_dir / server.name, rasa_port=server.port,
                                                   service_url=layout.actions_url)
        command = [str(RASA), "run", "--model", str(model), "--endpoints", str(endpoints),
                   "--credentials", str(credentials), "--interface", server.host, "--port", str(server.port),
                   "--cors", "*"]
        if settings.rasa_api_token:
            command += ["--enable-api", "--auth-token", settings.rasa_api_token]
        children.append(Child(server.name, command, cwd=PROJECT_ROOT / "bot", log=run_dir / f"{server.name}.log",
                              env=env))
    supervisor = Supervisor(children, say=say or (lambda line: print(line, file=sys.stderr, flush=True)))
    by_name = {child.name: child for child in children}
    health = {**{b.name: b.url + SERVICE_HEALTH_PATH for b in layout.services},
              **{b.name: b.url + RASA_HEALTH_PATH for b in layout.rasa_servers}}
    first_rasa, *other_rasa = layout.rasa_servers
    try:
        for child in children:
            if child.name not in {b.name for b in other_rasa}:
                child.start()
        if by_name["haproxy"].process.poll() is None:
            time.sleep(0.3)
        if by_name["haproxy"].exited():
            raise LaunchError(f"HAProxy stopped while starting; see {by_name['haproxy'].log}")
        _healthy(by_name[first_rasa.name], health[first_rasa.name], timeout)
        for server in other_rasa:
            by_name[server.name].start()
        for name, url in health.items():
            _healthy(by_name[name], url, timeout)
        yield Cluster(layout, supervisor, run_dir)
    finally:
        for process in reversed(supervisor.processes()):
            _stop(process)


def with_haproxy_trusted(settings: Settings) -> Settings:
    """The settings with HAProxy's address among the trusted proxies, so that the Rasa servers read the client's
    address from the ``X-Forwarded-For`` it adds."""
    if HAPROXY_ADDRESS in settings.trusted_proxies or f"{HAPROXY_ADDRESS}/32" in settings.trusted_proxies:
        return settings
    return replace(settings, trusted_proxies=(*settings.trusted_proxies, f"{HAPROXY_ADDRESS}/32"))


def _healthy(child: Child, url: str, timeout: float) -> None:
    _wait_healthy(url, child.process, child.name, child.log, timeout)


def run_cluster_forever(settings: Settings, *, model: Path, layout: ClusterLayout) -> int:
    """``make cluster``: start everything, print the addresses, and wait for Ctrl-C; a stopped process is started
    again (a bounded number of times)."""
    try:
        check_cluster_settings(settings)
    except ClusterError as exc:
        print(f"navigator: {exc}", file=sys.stderr)
        return 1
    print(f"starting HAProxy, {len(layout.services)} Navigator services and {len(layout.rasa_servers)} Rasa servers "
          f"(the first start takes a few minutes) ...", flush=True)
    try:
        with running_cluster(settings, model=model, layout=layout) as cluster:
            website = browser_url(layout.host, layout.service_port)
            rasa = browser_url(layout.host, layout.rasa_port)
            backends = "\n".join(f"    {b.name}: {b.url}" for b in layout.rasa_servers + layout.services)
            print(f"Navigator is running as a cluster.\n"
                  f"  Website with the chat widget: {website}/\n"
                  f"  Advisors' console: {website}/console/\n"
                  f"  Rasa REST channel: {rasa}/webhooks/rest/webhook\n"
                  f"  Rasa socket.io channel: {rasa}/socket.io\n"
                  f"  Actions (internal, for the Rasa servers): {layout.actions_url}/webhook\n"
                  f"  Backends (HAProxy checks each every second):\n{backends}\n"
                  f"  HAProxy configuration and logs: {cluster.run_dir}\nPress Ctrl-C to stop.", flush=True)
            return supervise_until_stopped(cluster.supervisor)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    except LaunchError as exc:
        print(f"navigator: {exc}", file=sys.stderr)
        return 1
