"""Starting the whole assistant: the Navigator service (.venv) and the Rasa server (.venv-rasa).

Writes Rasa's endpoint and channel configuration from the settings, starts both processes, waits until both
answer their health checks, and stops both when either stops or on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from navigator.channels import channel_credentials, channels_api_token
from navigator.settings import PROJECT_ROOT, Settings
from navigator.supervisor import Child, ChildGaveUp, Supervisor

RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
RELAY_NAME = "navigator_actions"  # bot/action_relay.py's channel name: its route is /webhooks/navigator_actions/
RELAY_SECRET_HEADER = "X-Navigator-Relay"


class LaunchError(RuntimeError):
    """A process did not start or did not become healthy; the message says which and where its log is."""


@dataclass(frozen=True)
class Stack:
    """Addresses of a running assistant, and the supervisor of its processes."""

    rasa_url: str
    service_url: str
    run_dir: Path
    supervisor: Supervisor | None = None

    @property
    def processes(self) -> tuple[subprocess.Popen, ...]:
        """The current processes: the Navigator service's and the Rasa server's."""
        return self.supervisor.processes() if self.supervisor else ()

    def stopped(self) -> bool:
        """True when either process has exited (and has not been started again)."""
        return any(p.poll() is not None for p in self.processes)

    @property
    def rest_webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_rasa_config(settings: Settings, run_dir: Path, service_port: int | None = None, rasa_port: int | None = None,
                      *, service_url: str | None = None) -> tuple[Path, Path]:
    """Rasa's endpoints.yml and credentials.yml for this run (with Slack and Teams when their settings are present),
    readable by their owner only (they hold secrets). Returns their paths.

    Args:
        service_port: the Navigator service on this machine (``http://127.0.0.1:PORT``), or
        service_url: the Navigator service's base address, such as a load balancer in front of several services
            (``navigator cluster``); exactly one of the two.
        rasa_port: the port of the Rasa server these files are for (its action relay is there).
    """
    if (service_port is None) == (service_url is None) or rasa_port is None:
        raise ValueError("write_rasa_config needs rasa_port and either service_port or service_url")
    service = service_url.rstrip("/") if service_url else f"http://127.0.0.1:{service_port}"
    run_dir.mkdir(parents=True, exist_ok=True)
    relay_secret = secrets.token_urlsafe(32)
    endpoints = {
        # Rasa calls the actions through the relay in its own server (bot/action_relay.py), which apologises when
        # the Navigator service cannot be reached. Selective domain: the domain goes only to the actions that
        # need it, not with every call.
        "action_endpoint": {"url": f"http://127.0.0.1:{rasa_port}/webhooks/{RELAY_NAME}/webhook",
                            "headers": {RELAY_SECRET_HEADER: relay_secret}, "enable_selective_domain": True},
        "tracker_store": tracker_store_config(settings.tracker_db_url),
    }
    if settings.redis_url:
        # Several Rasa servers share the conversations' locks there (bot/lock_store.py: Rasa's own Redis lock
        # store can let two servers run one conversation's messages at once).
        endpoints["lock_store"] = lock_store_config(settings.redis_url)
    credentials = {
        # Rasa's REST channel, telling the input guard each message's client address (bot/rest_channel.py).
        "rest_channel.RestInput": None,
        # Rasa's socket.io channel with an output the website widget can show (bot/webchat_channel.py).
        "webchat_channel.WebchatInput": {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
                                         "session_persistence": True},
        # The relay also carries the run-wide limits of the input guard in front of every channel.
        "action_relay.ActionRelayInput": {"service_url": f"{service}/webhook",
                                          "secret": relay_secret, "advisors_email": settings.advisors_email,
                                          "input_guard": input_guard_config(settings)},
    }
    if settings.slack_enabled or settings.teams_enabled:
        token = channels_api_token(settings, settings.session_key_file.parent / "channels.token")
        credentials.update(channel_credentials(settings, service, token))
    endpoints_path, credentials_path = run_dir / "endpoints.yml", run_dir / "credentials.yml"
    for path, content in ((endpoints_path, endpoints), (credentials_path, credentials)):
        _write_private(path, yaml.safe_dump(content))
    return endpoints_path, credentials_path


def input_guard_config(settings: Settings) -> dict[str, object]:
    """The input guard's limits (bot/input_guard.py ``GuardSettings.from_credentials``): message size, rate limits
    per sender and per client address (in Redis when one is configured, so that every Rasa server shares them),
    the proxies whose ``X-Forwarded-For`` is believed, and how long a dropped message's answer is held back."""
    return {"max_message_chars": settings.max_message_chars,
            "sender_rate": settings.sender_rate.as_credentials() if settings.sender_rate else None,
            "address_rate": settings.address_rate.as_credentials() if settings.address_rate else None,
            "trusted_proxies": list(settings.trusted_proxies), "redis_url": settings.redis_url,
            "drop_hold_seconds": settings.drop_hold_seconds}


def lock_store_config(url: str) -> dict[str, object]:
    """Rasa's lock store settings for the Redis at ``url`` (``redis://[:PASSWORD@]HOST:PORT/DB``)."""
    from urllib.parse import urlsplit

    parsed = urlsplit(url)
    config: dict[str, object] = {"type": "lock_store.AtomicRedisLockStore", "url": parsed.hostname or "localhost",
                                 "port": parsed.port or 6379, "db": int(parsed.path.strip("/") or 0),
                                 "use_ssl": parsed.scheme == "rediss"}
    if parsed.username:
        config["username"] = parsed.username
    if parsed.password:
        config["password"] = parsed.password
    return config


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable and writable by its owner only."""
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
        out.write(text)


def tracker_store_config(url: str) -> dict[str, object]:
    """Rasa's SQL tracker store settings from a SQLAlchemy-style URL (``sqlite:///path`` or ``postgresql://…``)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    if dialect == "sqlite":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return {"type": "SQL", "dialect": "sqlite", "db": parsed.database}
    config: dict[str, object] = {"type": "SQL", "dialect": dialect, "url": parsed.host, "db": parsed.database}
    if parsed.port:
        config["port"] = parsed.port
    if parsed.username:
        config["username"] = parsed.username
    if parsed.password:
        config["password"] = parsed.password
    return config


def _wait_healthy(url: str, process: subprocess.Popen, name: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LaunchError(f"{name} stopped while starting (exit {process.returncode}); see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise LaunchError(f"{name} did not answer {url} within {timeout:.0f} s; see {log}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running(settings: Settings, *, model: Path, rasa_port: int, service_port: int, run_dir: Path,
            host: str = "127.0.0.1", timeout: float = 180.0, quiet: bool = False) -> Iterator[Stack]:
    """Start both processes, yield their addresses once both are healthy, and stop both afterwards.

    Raises:
        LaunchError: a process stopped or did not become healthy in time.
    """
    if not model.exists():
        raise LaunchError(f"no trained Rasa model at {model}; run 'make model' (or 'make run', which trains it)")
    endpoints, credentials = write_rasa_config(settings, run_dir, service_port, rasa_port)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    # The website widget connects to Rasa from the browser; without a configured public address, this one.
    env.setdefault("NAVIGATOR_RASA_PUBLIC_URL", f"http://localhost:{rasa_port}")
    service = Child("the Navigator service", [sys.executable, "-m", "navigator.cli", "serve", "--host", host,
                                              "--port", str(service_port)],
                    cwd=PROJECT_ROOT, log=run_dir / "service.log", env=env)
    rasa_command = [str(RASA), "run", "--model", str(model), "--endpoints", str(endpoints),
                    "--credentials", str(credentials), "--interface", host, "--port", str(rasa_port), "--cors", "*"]
    if settings.rasa_api_token:
        rasa_command += ["--enable-api", "--auth-token", settings.rasa_api_token]
    rasa = Child("the Rasa server", rasa_command, cwd=PROJECT_ROOT / "bot", log=run_dir / "rasa.log", env=env)
    supervisor = Supervisor([service, rasa], say=lambda line: print(line, file=sys.stderr, flush=True))
    try:
        for child in (service, rasa):
            child.start()
        _wait_healthy(f"http://{host}:{service_port}/health", service.process, service.name, service.log, timeout)
        _wait_healthy(f"http://{host}:{rasa_port}/webhooks/rest/", rasa.process, rasa.name, rasa.log, timeout)
        yield Stack(f"http://{host}:{rasa_port}", f"http://{host}:{service_port}", run_dir, supervisor)
    finally:
        for process in reversed(supervisor.processes()):
            _stop(process)


def browser_url(host: str, port: int) -> str:
    """The address a browser on this machine opens for a server on ``host``: ``localhost`` for a loopback or
    wildcard interface (browsers treat http://localhost as secure, so the console's Secure cookie works)."""
    if host in ("127.0.0.1", "0.0.0.0", "::", "::1", "localhost"):
        return f"http://localhost:{port}"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def supervise_until_stopped(supervisor: Supervisor) -> int:
    """Start stopped processes again (a bounded number of times) until Ctrl-C or SIGTERM, or until one stops too
    often. Returns the exit status: 0 when asked to stop, 1 when a process was given up on."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while True:
            supervisor.check()
            time.sleep(1)
    except ChildGaveUp as exc:
        print(f"navigator: {exc}; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0


def run_forever(settings: Settings, *, model: Path, rasa_port: int, service_port: int, host: str) -> int:
    """``make run``: start everything, print the addresses, and wait for Ctrl-C or for a process to stop."""
    run_dir = PROJECT_ROOT / "var" / "run"
    print("starting the Navigator service and the Rasa server (the first start takes a minute) ...", flush=True)
    try:
        with running(settings, model=model, rasa_port=rasa_port, service_port=service_port, run_dir=run_dir,
                     host=host) as stack:
            website = browser_url(host, service_port)
            print(f"Navigator is running.\n  Website with the chat widget: {website}/\n"
                  f"  Advisors' console: {website}/console/\n"
                  f"  Rasa REST channel: {stack.rest_webhook}\n"
                  f"  Rasa socket.io channel: {stack.rasa_url}/socket.io\n"
                  f"  Navigator service: {stack.service_url}/health\n"
                  f"  Logs: {run_dir}\nPress Ctrl-C to stop.", flush=True)
            return supervise_until_stopped(stack.supervisor)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    except LaunchError as exc:
        print(f"navigator: {exc}", file=sys.stderr)
        return 1
