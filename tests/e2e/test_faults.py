"""Faults of the single-process run: the Navigator service stops in the middle of a conversation.

The user gets an apology that names the advisors' address, never an empty reply (the relay in the Rasa server,
bot/action_relay.py); the launcher's supervisor starts the service again; and the support-request form goes on
where it was. The test restores the shared stack before it ends, so that the tests after it find it whole.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from navigator.launcher import Stack
from support_requests.store import RequestStore
from tests.e2e.conftest import Conversation

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

RESTART_TIMEOUT = 900.0


def service_child(stack: Stack):
    [child] = [c for c in stack.supervisor.children if c.name == "the Navigator service"]
    return child


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def restart_service(stack: Stack) -> None:
    """Let the supervisor notice the stop and start the service again, as ``navigator run`` does every second."""
    deadline = time.monotonic() + RESTART_TIMEOUT
    while time.monotonic() < deadline:
        stack.supervisor.check()
        if not service_child(stack).exited() and healthy(stack.service_url):
            return
        time.sleep(1)
    raise AssertionError(f"the Navigator service did not come back within {RESTART_TIMEOUT:.0f} s")


def test_the_relay_refuses_calls_without_the_runs_secret(stack) -> None:
    running, _ = stack
    call = urllib.request.Request(f"{running.rasa_url}/webhooks/navigator_actions/webhook",
                                  data=json.dumps({"next_action": "action_search", "tracker": {}}).encode(),
                                  headers={"Content-Type": "application/json", "X-Navigator-Relay": "guess"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(call, timeout=30)
    assert refused.value.code == 403


def test_a_stopped_service_gets_an_apology_and_the_form_goes_on_after_its_restart(chat: Conversation,
                                                                                     stack) -> None:
    running, settings = stack
    assert chat.say("I want to open a support request") == ["utter_ask_company_name"]
    service = service_child(running)
    service.process.kill()
    service.process.wait(timeout=30)
    try:
        for _ in range(2):  # every turn of the outage is answered
            replies = chat.say("Acme Bio AB")
            # The apology, then the form asks again for the answer it could not check.
            assert replies == ["utter_service_unavailable", "utter_ask_company_name"], replies
            apology = chat.texts()[replies.index("utter_service_unavailable")]
            assert settings.advisors_email in apology
    finally:
        restart_service(running)
    assert running.supervisor.restarts >= 1
    # The form is where it was: the company name is asked again, and the request is stored once.
    assert chat.say("Acme Bio AB") == ["utter_ask_contact_person"]
    for answer in ("Alex Doe", "alex@acme-bio.se", "skip", "skip", "We need GMP manufacturing of a viral vector"):
        chat.say(answer)
    assert chat.say("yes") == ["utter_ask_confirmation"]
    assert chat.say("confirm") == ["utter_request_created", "custom:support_request"]
    with RequestStore.from_url(settings.database_url) as store:
        assert len([r for r in store.list() if r.conversation_id == chat.sender]) == 1
