"""Which status changes are allowed. The table is the whole rule; the store only consults it.

    new          -> assigned, in_progress, withdrawn, closed
    assigned     -> in_progress, withdrawn, closed
    in_progress  -> connected, closed, withdrawn
    connected    -> closed
    closed, withdrawn: terminal

Assigning an advisor to a new request also moves it to assigned.
"""

from __future__ import annotations

from collections.abc import Mapping

from support_requests.errors import InvalidTransitionError
from support_requests.model import RequestStatus

S = RequestStatus

TRANSITIONS: Mapping[RequestStatus, frozenset[RequestStatus]] = {
    S.NEW: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.WITHDRAWN, S.CLOSED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.WITHDRAWN, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.CONNECTED, S.CLOSED, S.WITHDRAWN}),
    S.CONNECTED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}


def allowed_next(status: RequestStatus) -> tuple[RequestStatus, ...]:
    """The statuses a request in ``status`` may move to, in declaration order (empty for terminal ones)."""
    return tuple(s for s in RequestStatus if s in TRANSITIONS[status])


def check_transition(reference: str, current: RequestStatus, wanted: RequestStatus) -> None:
    """Accept the move or raise.

    Raises:
        InvalidTransitionError: naming the allowed next statuses.
    """
    if wanted in TRANSITIONS[current]:
        return
    nexts = allowed_next(current)
    hint = (f"from '{current.value}' it can go to: " + ", ".join(s.value for s in nexts)) if nexts \
        else f"'{current.value}' is final"
    raise InvalidTransitionError(reference, current.value, wanted.value, hint)


def status_after_assignment(reference: str, current: RequestStatus) -> RequestStatus:
    """The status a request has after an advisor is assigned: new becomes assigned, others stay.

    Raises:
        InvalidTransitionError: for a closed or withdrawn request, which nobody can take on.
    """
    if current.is_terminal:
        raise InvalidTransitionError(reference, current.value, "assigned",
                                     f"a {current.value} request cannot be assigned")
    return S.ASSIGNED if current is S.NEW else current
