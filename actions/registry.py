"""All of the assistant's actions, built with what they need."""

from __future__ import annotations


from rasa_sdk import Action

from actions.conversation_language import LanguageDetector, shared_detector
from actions.demand import NeedRecorder
from actions.details import ActionShowContact, ActionShowDetails
from actions.handoff import ActionFlagForAdvisor, HandoffNotifier
from actions.language import ActionChooseLanguage
from actions.search import (ActionNoneFit, ActionRestrictSite, ActionSearchCatalogue, ActionShowFunding,
                            ActionShowMore, SearchPolicy)
from actions.status import ActionCheckRequestStatus, StatusCheckCounts, ValidateStatusCheckForm
from actions.support_form import (ActionAnswerInForm, ActionAskConfirmation, ActionDropSupportRequest,
                                  ActionPrepareSupportRequest, ActionSubmitSupportRequest,
                                  ValidateSupportRequestForm)
from index.engine import SearchEngine
from support_requests.status_guard import StatusCheckGuard
from support_requests.store import RequestStore


def build_actions(engine: SearchEngine, store: RequestStore, *, advisors_email: str, privacy_notice_version: str,
                  policy: SearchPolicy = SearchPolicy(), demand: NeedRecorder | None = None,
                  handoff_notifier: HandoffNotifier | None = None, status_guard: StatusCheckGuard | None = None,
                  status_counts: StatusCheckCounts | None = None,
                  language_detector: LanguageDetector | None = None) -> list[Action]:
    """One instance of every custom action, sharing the engine and the store.

    ``demand``, when given, notes unmet needs (weak matches, "none of these fit") for the console;
    ``handoff_notifier``, when given, announces a request for an advisor (in the advisors' Slack channel);
    ``status_guard`` limits failed status checks (default: 5 per conversation and per reference per hour, in the
    store's database, on the store's clock); ``status_counts``, when given, counts how status checks end.
    """
    status_guard = status_guard or StatusCheckGuard(store.engine, clock=store.clock)
    return [
        ActionChooseLanguage(language_detector or shared_detector()),
        ActionSearchCatalogue(engine, policy, demand),
        ActionShowMore(engine, policy),
        ActionNoneFit(engine, policy, demand),
        ActionRestrictSite(engine, policy),
        ActionShowFunding(engine, policy),
        ActionShowDetails(engine),
        ActionShowContact(engine),
        ActionFlagForAdvisor(handoff_notifier),
        ActionPrepareSupportRequest(),
        ValidateSupportRequestForm(),
        ActionAskConfirmation(engine),
        ActionAnswerInForm(),
        ActionSubmitSupportRequest(engine, store, advisors_email, privacy_notice_version),
        ActionDropSupportRequest(),
        ValidateStatusCheckForm(),
        ActionCheckRequestStatus(store, status_guard, advisors_email, status_counts),
    ]
