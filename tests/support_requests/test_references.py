"""Reference format and allocation."""

from __future__ import annotations

import pytest

from support_requests.references import allocate_number, format_reference, parse_reference


@pytest.mark.parametrize(("year", "number", "text"), [(2026, 1, "SLT-2026-0001"), (2026, 42, "SLT-2026-0042"),
                                                      (2027, 9999, "SLT-2027-9999"), (2027, 10000, "SLT-2027-10000")])
def test_format(year: int, number: int, text: str) -> None:
    assert format_reference(year, number) == text
    assert parse_reference(text) == text


@pytest.mark.parametrize(("given", "parsed"), [(" slt-2026-0001 ", "SLT-2026-0001"), ("SLT-2026-001", None),
                                               ("SLT-26-0001", None), ("ABC-2026-0001", None), ("", None),
                                               ("SLT-2026-0001x", None), (None, None)])
def test_parse(given, parsed) -> None:
    assert parse_reference(given) == parsed


def test_allocation_counts_per_year(store) -> None:
    with store._sessions.begin() as session:
        numbers = [allocate_number(session, 2026) for _ in range(3)] + [allocate_number(session, 2030)]
    assert numbers == [1, 2, 3, 1]


def test_a_rolled_back_allocation_is_not_used(store) -> None:
    session = store._sessions()
    session.begin()
    assert allocate_number(session, 2026) == 1
    session.rollback()
    session.close()
    with store._sessions.begin() as session:
        assert allocate_number(session, 2026) == 1
