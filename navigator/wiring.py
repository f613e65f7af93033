"""Building the service's parts from the settings: the web's settings and :class:`~web.services.Services`,
in one place (the stores themselves: :mod:`navigator.stores`). The service and the tests build through here.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from rasa_sdk.executor import ActionExecutor

from actions.handoff import HandoffNotifier
from actions.registry import build_actions
from actions.status import StatusCheckCounts
from navigator.runtime import Runtime, open_runtime
from navigator.session_key import session_key
from navigator.settings import Settings
from navigator.stores import follow_up_links, open_account_store, open_request_store, open_status_guard
from support_requests.companies import CompanyStore
from support_requests.conversations import TrackerReader
from support_requests.demand import DemandLog
from support_requests.follow_up_answers import FollowUpAnswers
from support_requests.funnel import FunnelReporter
from support_requests.outcome_report import OutcomeReporter
from support_requests.recorder import DemandRecorder
from support_requests.slack_notice import post_handoff_notice
from support_requests.store import RequestStore
from support_requests.tokens import TokenStore
from web.insights.report import DemandInsights
from web.services import Services, WebSettings


def web_settings(settings: Settings) -> WebSettings:
    """What the web faces read, from the settings (the session key is read, or created once).

    Raises:
        SettingsError: when the session key cannot be read or created.
    """
    return WebSettings(advisors_email=settings.advisors_email, privacy_notice_version=settings.privacy_notice_version,
                       max_query_chars=settings.max_query_chars, rasa_public_url=settings.rasa_public_url,
                       session_key=session_key(settings), cookie_secure=settings.cookie_secure,
                       session_max_age_minutes=settings.session_max_age_minutes)


def build_executor(runtime: Runtime, store: RequestStore, settings: Settings,
                   demand: DemandRecorder | None = None, status_counts: StatusCheckCounts | None = None
                   ) -> ActionExecutor:
    """Rasa's action executor with every action registered; ``demand`` notes unmet needs (none: not noted),
    ``status_counts`` counts how status checks end (none: not counted)."""
    executor = ActionExecutor()
    for action in build_actions(runtime.engine, store, advisors_email=settings.advisors_email,
                                privacy_notice_version=settings.privacy_notice_version, demand=demand,
                                handoff_notifier=slack_handoff_notifier(settings),
                                status_guard=open_status_guard(settings, store), status_counts=status_counts):
        executor.register_action(action)
    return executor


def slack_handoff_notifier(settings: Settings) -> HandoffNotifier | None:
    """Announces requests for an advisor in ``NAVIGATOR_SLACK_ADVISORS_CHANNEL``, when Slack and that channel are
    configured (None otherwise)."""
    if not (settings.slack_enabled and settings.slack_advisors_channel):
        return None

    async def announce(conversation_id: str) -> bool:
        return await post_handoff_notice(settings.slack_api_url, settings.slack_bot_token,
                                         settings.slack_advisors_channel, conversation_id=conversation_id,
                                         console_url=settings.public_url)

    return announce


def open_services(settings: Settings, *, runtime: Runtime | None = None, store: RequestStore | None = None,
                  password_hasher: PasswordHasher | None = None) -> Services:
    """Everything the service's faces use, built once: blocking (it loads the model), so call it in a thread.

    Args:
        settings: the settings.
        runtime: the loaded engine (tests pass one on a sample catalogue); loaded from the settings otherwise.
        store: the request store (tests pass one); opened, and migrated, from the settings otherwise.
        password_hasher: argon2 parameters for the accounts (tests pass cheap ones).

    Returns:
        The services; :meth:`Services.close` closes the tracker reader and the store.
    """
    runtime = runtime or open_runtime(settings)
    store = store or open_request_store(settings)
    demand_log = DemandLog(store.engine, clock=store.clock)
    status_checks = StatusCheckCounts()
    tracker = TrackerReader(settings.tracker_db_url)
    return Services(
        engine=runtime.engine,
        store=store,
        executor=build_executor(runtime, store, settings, DemandRecorder(demand_log), status_checks),
        accounts=open_account_store(settings, store, password_hasher),
        tokens=TokenStore(store.engine),
        tracker=tracker,
        demand=DemandInsights(demand_log, runtime.embedder, entry=runtime.engine.entry, clock=store.clock),
        status_checks=status_checks,
        # The store's clock is read at each call: a test that moves it moves these too.
        companies=CompanyStore(store.engine, clock=lambda: store.clock()),
        outcomes=OutcomeReporter(store.engine, settings.reached_definition, entry=runtime.engine.entry,
                                 clock=lambda: store.clock(), waiting_working_days=settings.waiting_working_days),
        funnel=FunnelReporter(store.engine, tracker),
        # Links are checked even while no follow-ups are sent, so the emails already sent keep working.
        follow_ups=FollowUpAnswers(store.engine, follow_up_links(settings), clock=lambda: store.clock()),
    )
