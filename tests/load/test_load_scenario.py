"""The load runs' conversation and its checks, Locust's figures as the runner reads them, and one short Locust
run against the running assistant (the long runs are ``make bench``'s)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from navigator.settings import PROJECT_ROOT
from tests.domain_responses import english_texts
from tests.e2e.conftest import ResponseNames
from tests.load import scenario
from tests.load.run import (
    LOCUSTFILE,
    KindFigures,
    PhaseResult,
    ProcessFigures,
    read_locust_csv,
    summary,
)

NAMES = ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")


@pytest.fixture(scope="module")
def domain_texts() -> dict[str, str]:
    return english_texts()


def test_a_conversation_has_every_kind_of_turn_and_fourteen_turns() -> None:
    counts = scenario.kinds_per_conversation()
    assert set(counts) == set(scenario.KINDS) and all(counts.values())
    assert sum(counts.values()) == 14 and counts["form"] == 8


def test_the_expected_answer_passes(domain_texts: dict[str, str]) -> None:
    replies = [{"text": domain_texts["utter_greet"]}, {"text": domain_texts["utter_privacy_notice"]}]
    assert scenario.greeting().check(NAMES, replies) == ["utter_greet", "utter_privacy_notice"]


@pytest.mark.parametrize(("replies", "error"), [([], "an empty reply"), (None, "not a list"),
                                               ({"text": "hello"}, "not a list")], ids=["empty", "null", "object"])
def test_an_empty_or_malformed_reply_is_an_error(replies, error: str) -> None:
    with pytest.raises(scenario.WrongAnswer, match=error):
        scenario.greeting().check(NAMES, replies)


def test_the_apology_of_an_unreachable_service_is_an_error(domain_texts: dict[str, str]) -> None:
    apology = domain_texts["utter_service_unavailable"].replace("{advisors_email}", "advisors@example.org")
    with pytest.raises(scenario.WrongAnswer, match="utter_service_unavailable"):
        scenario.search("cryo-EM").check(NAMES, [{"text": apology}])


def test_a_search_answer_without_its_results_is_an_error(domain_texts: dict[str, str]) -> None:
    intro = [{"text": domain_texts["utter_results_intro"]}]
    with pytest.raises(scenario.WrongAnswer, match="custom:search_results"):
        scenario.search("cryo-EM").check(NAMES, intro)
    assert scenario.search("cryo-EM").check(NAMES, intro + [{"custom": {"type": "search_results"}}])[-1] == \
        "custom:search_results"


def test_later_turns_read_the_button_and_the_reference_or_fail() -> None:
    later = [step for step in scenario.conversation(7) if isinstance(step, scenario.Later)]
    details, status = later
    button = [{"buttons": [{"payload": "/more"}, {"payload": '/ask_details{"entry_id":"x"}'}]}]
    assert details.build(button).text == '/ask_details{"entry_id":"x"}'
    assert "SLT-2026-0042" in status.build([{"custom": {"type": "support_request", "reference": "SLT-2026-0042"}}]).text
    with pytest.raises(scenario.WrongAnswer):
        details.build([{"buttons": [{"payload": "/more"}]}])
    with pytest.raises(scenario.WrongAnswer):
        status.build([{"custom": {"type": "search_results"}}])


def _write_locust_csv(prefix: Path, rows: list[dict[str, str]], failures: list[dict[str, str]]) -> None:
    columns = ["Type", "Name", "Request Count", "Failure Count", "50%", "95%", "Requests/s"]
    with open(f"{prefix}_stats.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows(rows)
    with open(f"{prefix}_failures.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, ["Method", "Name", "Error", "Occurrences"])
        writer.writeheader()
        writer.writerows(failures)


def test_locust_figures_are_read_per_kind_with_their_failures(tmp_path: Path) -> None:
    _write_locust_csv(tmp_path / "x", [
        {"Type": "POST", "Name": "greeting", "Request Count": "10", "Failure Count": "0", "50%": "70", "95%": "90",
         "Requests/s": "5.5"},
        {"Type": "", "Name": "Aggregated", "Request Count": "12", "Failure Count": "2", "50%": "71", "95%": "300",
         "Requests/s": "6.0"},
    ], [{"Method": "POST", "Name": "search", "Error": "WrongAnswer: search: an empty reply", "Occurrences": "2"}])
    kinds, total, failures = read_locust_csv(tmp_path / "x")
    assert kinds == {"greeting": KindFigures(10, 0, 70.0, 90.0, 5.5)}
    assert total == KindFigures(12, 2, 71.0, 300.0, 6.0)
    assert failures == ["2 x search: WrongAnswer: search: an empty reply"]


def test_the_summary_gives_the_goals_ratios_and_the_cost_of_a_turn() -> None:
    def result(target: str, phase: str, per_second: float, cpu: float) -> PhaseResult:
        figures = KindFigures(int(per_second * 100), 0, 50, 100, per_second)
        return PhaseResult(target, phase, 10, 100.0, {}, figures,
                           {"rasa": ProcessFigures(cpu, 500), "locust": ProcessFigures(90, 80)})

    lines = summary([result("cluster-1", "greeting", 10, 150), result("cluster-1", "search", 8.5, 150),
                     result("cluster-1", "conversations", 4, 100), result("cluster-2", "conversations", 5, 120)])
    assert "cluster-1: search throughput / greeting throughput = 0.85 (goal: at least 0.8)" in lines
    # 100 % of a core for 100 s over 400 turns: 250 ms a turn; 4 cores carry 16 turns/s. Locust's CPU is not
    # the server's.
    assert any(line.startswith("cluster-1: 17.1 conversations/min, server CPU 250 ms per turn; at that cost a "
                               "4-core host carries 16 turns/s") for line in lines)
    assert ("cluster: 2 Rasa servers (10 users, conversations) / 1 Rasa server (10 users, conversations), turns per "
            "second = 1.25 (p95 100 ms with 1, 100 ms with 2)") in lines


@pytest.mark.integration
@pytest.mark.e2e
def test_locust_holds_whole_conversations_against_the_assistant_without_errors(stack, tmp_path: Path) -> None:
    running, _ = stack
    prefix = tmp_path / "smoke"
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
               "--users", "3", "--spawn-rate", "3", "--run-time", "15s", "--stop-timeout", "60",
               "--host", running.rasa_url, "--csv", str(prefix), "Company"]
    finished = subprocess.run(command, check=False, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180,
                              env={**os.environ, "NAVIGATOR_LOAD_THINK": "0,0"})
    kinds, total, failures = read_locust_csv(prefix)
    assert failures == [] and total.failures == 0, finished.stderr[-3000:]
    assert set(kinds) == set(scenario.KINDS), kinds  # at least one whole conversation
    assert kinds["form"].requests >= 8 and kinds["status"].requests >= 2
    assert finished.returncode == 0
