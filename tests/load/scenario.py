"""What a company says to the assistant in the load runs, and what each turn must be answered with.

A conversation takes 14 turns of six kinds: a greeting, a search, a refinement of the results, the details of
one result (its button), the support-request form (8 turns, ending with the stored request's reference) and a
status check of that request (2 turns). Each turn names the domain responses its first reply may come from
(bot/domain.yml, read through :class:`tests.e2e.conftest.ResponseNames`), so that a wrong answer, the apology
of an unavailable service or an empty reply counts as an error, not as a fast turn.

Nothing here imports Locust: the locustfile drives these turns, and the unit tests check the checks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.e2e.conftest import ResponseNames

KINDS = ("greeting", "search", "refine", "details", "form", "status")

NEEDS = (
    "We need GMP manufacturing of a lentiviral vector for a phase 1 trial",
    "cryo-EM structure of our membrane protein",
    "flow cytometry sorting of immune cells",
    "single cell RNA sequencing of tumour biopsies",
    "proteomics and mass spectrometry of plasma samples",
    "preclinical MRI and PET imaging of mice",
)

Replies = list[dict[str, Any]]


class WrongAnswer(AssertionError):
    """A turn answered with nothing, with an apology, or with something that does not belong to the turn."""


@dataclass(frozen=True)
class Turn:
    """One message and the responses its first reply may come from; ``needs`` lists what the reply must hold
    besides (custom payloads as ``custom:TYPE``)."""

    kind: str
    text: str
    first: frozenset[str]
    needs: frozenset[str] = frozenset()

    def check(self, names: ResponseNames, replies: Replies) -> list[str]:
        """The names of ``replies``; raises :class:`WrongAnswer` when they are not this turn's answer."""
        if not isinstance(replies, list):
            raise WrongAnswer(f"{self.kind}: not a list of replies: {str(replies)[:80]}")
        if not replies:
            raise WrongAnswer(f"{self.kind}: an empty reply")
        named = [names.of(reply) for reply in replies]
        if named[0] not in self.first:
            raise WrongAnswer(f"{self.kind}: answered with {named[0]}, expected one of {sorted(self.first)}")
        missing = self.needs - set(named)
        if missing:
            raise WrongAnswer(f"{self.kind}: the reply lacks {sorted(missing)}")
        return named


@dataclass(frozen=True)
class Later:
    """A turn that depends on the previous turn's replies (a button's payload, a reference)."""

    kind: str
    build: Callable[[Replies], Turn]


def _turn(kind: str, text: str, *first: str, needs: tuple[str, ...] = ()) -> Turn:
    return Turn(kind, text, frozenset(first), frozenset(needs))


def greeting() -> Turn:
    return _turn("greeting", "hello", "utter_greet")


def search(need: str) -> Turn:
    return _turn("search", need, "utter_results_intro", needs=("custom:search_results",))


def details_button(replies: Replies) -> str:
    """The payload of the first result's details button in a search reply."""
    for reply in replies:
        for button in reply.get("buttons", []):
            if str(button.get("payload", "")).startswith("/ask_details"):
                return button["payload"]
    raise WrongAnswer("search: the results have no details button")


def reference_of(replies: Replies) -> str:
    """The reference of the support request that a confirmation reply announces."""
    for reply in replies:
        custom = reply.get("custom") or {}
        if custom.get("type") == "support_request" and custom.get("reference"):
            return str(custom["reference"])
    raise WrongAnswer("form: the confirmation carries no reference")


def conversation(number: int) -> Iterator[Turn | Later]:
    """The turns of conversation ``number``; those that depend on the previous answer (the details button, the
    reference) come as :class:`Later`."""
    email = f"load-{number}@example.org"
    yield greeting()
    yield search(NEEDS[number % len(NEEDS)])
    yield Later("details", lambda replies: _turn("details", details_button(replies), "utter_details",
                                                 "utter_programme_details"))
    yield _turn("refine", "show more", "utter_results_intro", "utter_results_intro_filtered", "utter_no_more_results")
    yield _turn("form", "I want to open a support request", "utter_ask_company_name")
    yield _turn("form", f"Load Test {number} AB", "utter_ask_contact_person")
    yield _turn("form", "Alex Doe", "utter_ask_email")
    yield _turn("form", email, "utter_ask_phone")
    yield _turn("form", "skip", "utter_ask_org_number")
    yield _turn("form", "556677-8899", "utter_ask_consent")
    yield _turn("form", "yes", "utter_ask_confirmation")
    yield _turn("form", "confirm", "utter_request_created", needs=("custom:support_request",))
    yield Later("status", lambda replies: _turn(
        "status", f"what is the status of my request {reference_of(replies)}?", "utter_ask_status_email"))
    yield _turn("status", email, "utter_request_status_new")


def kinds_per_conversation() -> dict[str, int]:
    """How many turns of each kind one conversation takes."""
    counts = dict.fromkeys(KINDS, 0)
    for step in conversation(0):
        counts[step.kind] += 1
    return counts


def numbers() -> Iterator[int]:
    """Conversation numbers, unique within one process."""
    return itertools.count(1)
