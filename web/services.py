"""What the web faces share: their settings and the objects built once at start-up, under typed app keys.

The application factory (:func:`navigator.service.create_app`) builds one :class:`Services` (or takes one a
test built) and one :class:`WebSettings`; the pages, the API and the action endpoint only read them.
Nothing in ``web/`` builds a store or opens a database itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from rasa_sdk.executor import ActionExecutor

from actions.status import StatusCheckCounts
from index.engine import SearchEngine
from support_requests.accounts import AccountStore
from support_requests.companies import CompanyStore
from support_requests.conversations import TrackerReader
from support_requests.follow_up_answers import FollowUpAnswers
from support_requests.funnel import FunnelReporter
from support_requests.outcome_report import OutcomeReporter
from support_requests.store import RequestStore
from support_requests.tokens import TokenStore
from web.insights.report import DemandInsights


@dataclass(frozen=True)
class WebSettings:
    """The settings the web faces read (the app factory takes them from ``navigator.settings.Settings``).

    Attributes:
        advisors_email: the advisors' shared mailbox (requests that no entry routes go there).
        privacy_notice_version: the notice companies consent to.
        max_query_chars: the longest search the console accepts.
        rasa_public_url: the Rasa server as browsers reach it (the chat widget connects there).
        session_key: the Fernet key that encrypts the advisors' session cookies.
        cookie_secure: send the session cookie over HTTPS only.
        session_max_age_minutes: how long an advisor stays signed in.
    """

    advisors_email: str
    privacy_notice_version: str
    max_query_chars: int
    rasa_public_url: str
    session_key: bytes = field(repr=False)
    cookie_secure: bool = True
    session_max_age_minutes: int = 480


@dataclass
class Services:
    """Built once, at start-up, in one place.

    Attributes:
        engine: the search engine (with its model and index).
        store: the support-request store.
        executor: Rasa's action executor with every action registered.
        accounts: the advisors' accounts.
        tokens: the API's bearer tokens.
        tracker: reads the assistant's conversations from Rasa's tracker store.
        demand: the unmet-demand report.
        status_checks: how the assistant's status checks ended, counted for ``/metrics``.
        companies: the companies the requests are linked to.
        outcomes: companies reached against the target, and the funder's report.
        funnel: where companies drop off, from a conversation to a completed request.
        follow_ups: the companies' answers to the follow-up of a completed request, through their links.
    """

    engine: SearchEngine
    store: RequestStore
    executor: ActionExecutor
    accounts: AccountStore
    tokens: TokenStore
    tracker: TrackerReader
    demand: DemandInsights
    status_checks: StatusCheckCounts
    companies: CompanyStore
    outcomes: OutcomeReporter
    funnel: FunnelReporter
    follow_ups: FollowUpAnswers

    def close(self) -> None:
        """Close the database connections of the tracker reader and the request store."""
        self.tracker.close()
        self.store.close()


SETTINGS_KEY = web.AppKey("web_settings", WebSettings)
SERVICES_KEY = web.AppKey("services", Services)
