"""Rasa's check of action answers with a validator made once (bot/action_answer_check.py), in the Rasa
environment: it takes and refuses exactly what Rasa's own check does, with the same message, checks the schema
once however many answers it checks, and is what ``RemoteAction`` uses once installed."""

from __future__ import annotations

import json
import subprocess

import pytest

from navigator.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

ANSWERS = {
    "a search's answer": {
        "events": [{"event": "slot", "name": "results", "value": ["vecura-gmp"], "timestamp": None},
                   {"event": "slot", "name": "need", "value": "GMP", "timestamp": None}],
        "responses": [{"response": "utter_results_intro", "count": 3},
                      {"text": "Vecura", "buttons": [{"title": "Details", "payload": '/ask_details{"position":"1"}'}]},
                      {"custom": {"type": "search_results", "hits": [{"id": "vecura-gmp", "score": 0.9}]}}]},
    "no events, no responses": {},
    "events not a list": {"events": {"event": "slot"}},
    "an unknown event": {"events": [{"event": "teleport", "name": "x"}]},
    "a slot event without its name": {"events": [{"event": "slot", "value": 1}]},
    "responses not a list": {"responses": "utter_greet"},
    "a response that is not an object": {"responses": ["utter_greet"]},
}

DRIVER = r"""
import json, sys
import jsonschema
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
import action_answer_check

answers = json.loads(sys.argv[1])
action = RemoteAction("action_search", None)

def outcome(check, answer):
    try:
        return {"passed": check(answer)}
    except ValidationError as error:
        return {"passed": False, "message": error.message, "path": list(error.absolute_path)}

rasa_own = {name: outcome(action._validate_action_result, a) for name, a in answers.items()}
checks = []
for cls in {jsonschema.validators.validator_for(RemoteAction.action_response_format_spec())}:
    real = cls.check_schema
    def counted(schema, *args, _real=real, **kwargs):
        checks.append(1)
        return _real(schema, *args, **kwargs)
    cls.check_schema = staticmethod(counted)
action_answer_check.install()
ours = {name: outcome(action._validate_action_result, a) for name, a in answers.items()}
ours_again = {name: outcome(action._validate_action_result, a) for name, a in answers.items()}
print(json.dumps({"rasa": rasa_own, "ours": ours, "again": ours_again, "schema_checks": len(checks),
                  "installed": RemoteAction._validate_action_result.__module__ if hasattr(
                      RemoteAction._validate_action_result, "__module__") else ""}))
"""


@pytest.fixture(scope="module")
def results() -> dict:
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON}: run 'make setup'")
    done = subprocess.run([str(RASA_PYTHON), "-c", DRIVER, json.dumps(ANSWERS)], capture_output=True, text=True,
                          cwd=PROJECT_ROOT / "bot", timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_same_answers_pass_and_fail_with_the_same_message(results: dict) -> None:
    assert results["ours"] == results["rasa"]
    passed = {name for name, outcome in results["rasa"].items() if outcome["passed"]}
    assert passed == {"a search's answer", "no events, no responses"}
    for name, outcome in results["ours"].items():
        if not outcome["passed"]:
            assert "Failed to validate Action server response" in outcome["message"], name


def test_the_schema_is_checked_once_for_all_answers(results: dict) -> None:
    assert results["again"] == results["ours"]
    assert results["schema_checks"] == 1  # 14 answers checked; Rasa's own check does it for each
    assert results["installed"] == "action_answer_check"
