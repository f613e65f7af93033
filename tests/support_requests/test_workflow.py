"""The status table: every pair of statuses, allowed or refused."""

from __future__ import annotations

import itertools

import pytest

from support_requests.errors import InvalidTransitionError
from support_requests.model import RequestStatus as S
from support_requests.workflow import allowed_next, check_transition, status_after_assignment

ALLOWED = {
    (S.NEW, S.ASSIGNED), (S.NEW, S.IN_PROGRESS), (S.NEW, S.WITHDRAWN), (S.NEW, S.CLOSED),
    (S.ASSIGNED, S.IN_PROGRESS), (S.ASSIGNED, S.WITHDRAWN), (S.ASSIGNED, S.CLOSED),
    (S.IN_PROGRESS, S.CONNECTED), (S.IN_PROGRESS, S.CLOSED), (S.IN_PROGRESS, S.WITHDRAWN),
    (S.CONNECTED, S.CLOSED),
}


@pytest.mark.parametrize(("current", "wanted"), list(itertools.product(S, S)))
def test_every_pair_follows_the_table(current: S, wanted: S) -> None:
    if (current, wanted) in ALLOWED:
        check_transition("SLT-2026-0001", current, wanted)
    else:
        with pytest.raises(InvalidTransitionError) as error:
            check_transition("SLT-2026-0001", current, wanted)
        assert error.value.current == current.value and error.value.wanted == wanted.value
        assert "SLT-2026-0001" in str(error.value)


@pytest.mark.parametrize("terminal", [S.CLOSED, S.WITHDRAWN])
def test_terminal_statuses_say_they_are_final(terminal: S) -> None:
    assert allowed_next(terminal) == () and terminal.is_terminal
    with pytest.raises(InvalidTransitionError, match="final"):
        check_transition("SLT-2026-0001", terminal, S.NEW)


def test_error_lists_the_allowed_moves() -> None:
    with pytest.raises(InvalidTransitionError, match="connected, closed, withdrawn"):
        check_transition("SLT-2026-0001", S.IN_PROGRESS, S.NEW)


@pytest.mark.parametrize(("current", "after"), [(S.NEW, S.ASSIGNED), (S.ASSIGNED, S.ASSIGNED),
                                                (S.IN_PROGRESS, S.IN_PROGRESS), (S.CONNECTED, S.CONNECTED)])
def test_assignment_moves_only_new_requests(current: S, after: S) -> None:
    assert status_after_assignment("SLT-2026-0001", current) is after


@pytest.mark.parametrize("terminal", [S.CLOSED, S.WITHDRAWN])
def test_closed_requests_cannot_be_assigned(terminal: S) -> None:
    with pytest.raises(InvalidTransitionError, match="cannot be assigned"):
        status_after_assignment("SLT-2026-0001", terminal)


@pytest.mark.parametrize(("text", "status"), [("new", S.NEW), ("In-Progress", S.IN_PROGRESS),
                                              (" in progress ", S.IN_PROGRESS), ("WITHDRAWN", S.WITHDRAWN)])
def test_status_parse(text: str, status: S) -> None:
    assert S.parse(text) is status


def test_status_parse_names_the_accepted_values() -> None:
    with pytest.raises(ValueError, match="new, assigned, in_progress, connected, closed, withdrawn"):
        S.parse("done")
