"""Rasa's check of an action server's answer, with its schema checked once instead of at every action call.

Rasa 3.6 checks every answer of the action server against its response schema with ``jsonschema.validate``,
which first checks the schema itself against the JSON Schema meta-schema and builds a new validator, at every
call. The schema (the events of every kind Rasa knows) is large, so on a search turn that work was about a tenth
of the Rasa server's CPU time (sampled with py-spy under load; docs/benchmarks.md, "Load").

:func:`install` gives ``RemoteAction`` the same check with one validator made, and its schema checked, once: the
same answers pass, and a wrong one raises the same ``jsonschema.ValidationError`` with Rasa's own explanation
appended. Installed by the action relay (bot/action_relay.py), which every run configures.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def answer_validator() -> Any:
    """The validator of Rasa's action answer schema, its schema checked against the meta-schema once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def check_answer(result: dict[str, Any]) -> bool:
    """What ``RemoteAction._validate_action_result`` does: True, or the best-matching ``ValidationError`` with
    Rasa's explanation."""
    error = best_match(answer_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (". Failed to validate Action server response from API, make sure your response from the "
                      f"Action endpoint is valid. For more information about the format visit "
                      f"{DOCS_BASE_URL}/custom-actions")
    raise error


def install() -> None:
    """Make every ``RemoteAction`` check answers with :func:`check_answer` (idempotent)."""
    RemoteAction._validate_action_result = lambda self, result: check_answer(result)  # type: ignore[method-assign]


__all__ = ["ValidationError", "answer_validator", "check_answer", "install"]
