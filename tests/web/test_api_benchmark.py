"""``navigator bench-api``: its statistics and report (the run itself needs the real index; see docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from navigator import cli
from navigator.api_benchmark import NEEDS, LoadStats, format_report, load_stats


def test_load_stats_gives_percentiles_and_throughput() -> None:
    latencies = [number / 1000 for number in range(1, 101)]  # 1 ms .. 100 ms
    stats = load_stats(20, latencies, elapsed=2.0)
    assert stats == LoadStats(clients=20, requests=100, p50_ms=pytest.approx(50.5), p95_ms=pytest.approx(95.0),
                              per_second=50.0)


def test_load_stats_refuses_an_empty_measurement() -> None:
    with pytest.raises(ValueError, match="at least one latency"):
        load_stats(1, [], 1.0)


def test_the_report_is_a_markdown_table() -> None:
    report = format_report([LoadStats(1, 100, 41.2, 60.7, 23.4), LoadStats(20, 400, 310.0, 520.4, 55.56)])
    assert report.splitlines() == [
        "| clients | requests | p50 (ms) | p95 (ms) | requests/s |",
        "|---|---|---|---|---|",
        "| 1 | 100 | 41 | 61 | 23.4 |",
        "| 20 | 400 | 310 | 520 | 55.6 |",
    ]


def test_the_needs_are_varied_and_use_only_valid_filters() -> None:
    assert len({need for need, _ in NEEDS}) == len(NEEDS) >= 12
    for _, filters in NEEDS:
        assert set(filters) <= {"type", "site"}


@pytest.mark.parametrize("args", [["--clients", "0"], ["--sequential", "2"], ["--per-client", "0"]])
def test_bad_arguments_exit_2_without_starting_anything(capsys, args: list[str]) -> None:
    assert cli.main(["bench-api", *args]) == 2
    assert "at least" in capsys.readouterr().err
