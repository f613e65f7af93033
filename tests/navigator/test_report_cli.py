"""``navigator report``: the XLSX and the zip of CSV files are opened and their figures checked against the
database (a brute-force count in SQL beside the known answers of the seeded history), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from navigator import cli
from support_requests.follow_up import FollowUpLinks, FollowUpPolicy, derive_link_key
from support_requests.response_times import NO_ENTRY
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock
from tests.support_requests.outcome_history import seed_history
from tests.support_requests.satisfaction_history import XSS_COMMENT, answers_in_sql, seed_answers

SHEETS = ["about", "indicators", "over_time", "forms_of_support", "sites", "facilities", "requests_by_status",
          "response_times", "satisfaction"]


@pytest.fixture
def seeded_db(request_db_url: str, sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NAVIGATOR_DATABASE_URL", request_db_url)
    monkeypatch.setenv("NAVIGATOR_KNOWLEDGE_DIR", str(sample_dir))
    monkeypatch.setenv("NAVIGATOR_LAB_SPACE_ENTRIES", "flow-biomedicum")
    monkeypatch.chdir(tmp_path)
    for name in ("NAVIGATOR_REACHED_STATUS", "NAVIGATOR_REACHED_INTAKES", "NAVIGATOR_PROGRAMME_START",
                 "NAVIGATOR_REACHED_TARGET"):
        monkeypatch.delenv(name, raising=False)
    clock = FakeClock()
    with RequestStore.from_url(request_db_url, clock=clock) as store:
        seed_history(store, clock)
    return request_db_url


def aware(value) -> dt.datetime:
    """A time as read back: SQLite gives naive UTC text, PostgreSQL an aware time."""
    value = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def reached_in_sql(url: str, start: dt.datetime, end: dt.datetime) -> int:
    """The reference count: companies with a request that entered in_progress or connected in [start, end), or
    an intake opened then, straight from the tables."""
    engine = RequestStore.from_url(url).engine
    try:
        with engine.connect() as connection:
            statuses = connection.execute(text(
                "SELECT r.company_id, h.at FROM request_history h JOIN support_requests r ON r.id = h.request_id "
                "WHERE h.field = 'status' AND h.new_value IN ('in_progress', 'connected')")).all()
            intakes = connection.execute(text(
                "SELECT company_id, created_at FROM support_requests WHERE channel = 'console'")).all()
    finally:
        engine.dispose()

    return len({company for company, when in statuses + intakes if start <= aware(when) < end})


def first_response_hours_in_sql(url: str, start: dt.datetime, end: dt.datetime) -> list[float]:
    """The reference: for each company's request (not an intake) received in [start, end), the hours to the
    earliest assignment, note or status change after its creation, straight from the tables."""
    engine = RequestStore.from_url(url).engine
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT r.id, r.created_at, h.at FROM support_requests r JOIN request_history h "
                "ON h.request_id = r.id WHERE r.channel <> 'console' AND (h.field IN ('assignee', 'note') "
                "OR (h.field = 'status' AND h.old_value IS NOT NULL))")).all()
    finally:
        engine.dispose()

    first: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for request_id, created, when in rows:
        created, when = aware(created), aware(when)
        if start <= created < end and (request_id not in first or when < first[request_id][1]):
            first[request_id] = (created, when)
    return [(when - created).total_seconds() / 3600 for created, when in first.values()]


def sheet_rows(workbook, name: str) -> list[tuple]:
    return [tuple(row) for row in workbook[name].iter_rows(values_only=True)]


def test_the_xlsx_holds_the_figures_of_the_database(seeded_db: str, tmp_path: Path, capsys) -> None:
    code = cli.main(["report", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "xlsx"])
    out, err = capsys.readouterr()
    assert code == 0, err
    path = tmp_path / "outcomes-2026-01-01-to-2026-12-31.xlsx"
    assert path.name in out and "4 companies reached" in out
    workbook = load_workbook(path)
    assert workbook.sheetnames == SHEETS
    indicators = {row[0]: row[2] for row in sheet_rows(workbook, "indicators")[1:]}
    stockholm_2026 = (dt.datetime(2025, 12, 31, 23, tzinfo=dt.timezone.utc),
                      dt.datetime(2026, 12, 31, 23, tzinfo=dt.timezone.utc))
    assert indicators["Companies reached"] == reached_in_sql(seeded_db, *stockholm_2026) == 4
    assert (indicators["New companies"], indicators["Target"], indicators["Requests received"]) == (4, 200, 6)
    hours = first_response_hours_in_sql(seeded_db, *stockholm_2026)
    assert indicators["Median days to first response"] == round(statistics.median(hours) / 24, 2) == 0.92
    assert indicators["90th percentile days to first response"] == round(
        statistics.quantiles(hours, n=10, method="inclusive")[8] / 24, 2) == 1.6
    assert indicators["Satisfaction (1-5)"] is None and indicators["Satisfaction answers"] == 0
    assert workbook["indicators"]["C7"].number_format == "0.00"  # days, where the counts above are whole
    responses = sheet_rows(workbook, "response_times")
    assert responses[1][:4] == ("All requests", None, 5, 5)
    assert workbook["indicators"]["A1"].font.bold and workbook["indicators"].freeze_panes == "A2"
    over_time = sheet_rows(workbook, "over_time")
    assert over_time[0] == ("Month", "Companies reached", "Reached for the first time", "Reached since the start")
    assert over_time[1] == (dt.datetime(2026, 1, 1), 2, 2, 2)  # a date cell, read back as a datetime
    assert workbook["over_time"]["A2"].number_format == "yyyy-mm-dd"
    assert [row[3] for row in over_time[1:]] == [2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4]
    forms = {row[1]: (row[2], row[3]) for row in sheet_rows(workbook, "forms_of_support")[1:]}
    assert forms == {"facility_referral": (2, 2), "advisor_intake": (1, 1), "programme_advice": (1, 1),
                     "lab_space": (1, 1), "other": (1, 1)}
    sites = {row[1]: row[2] for row in sheet_rows(workbook, "sites")[1:]}
    assert sites == {"flemingsberg": 2, "hagastaden": 1, "elsewhere": 1, "unknown": 1}
    facilities = sheet_rows(workbook, "facilities")
    assert facilities[1] == ("Vecura", "vecura-gmp", "facility", "Flemingsberg", "Karolinska University Hospital",
                             2, 2)
    statuses = dict(sheet_rows(workbook, "requests_by_status")[1:])
    assert statuses == {"new": 1, "assigned": 1, "in_progress": 2, "connected": 0, "closed": 1, "withdrawn": 1}
    about = dict(sheet_rows(workbook, "about")[1:])
    assert about["From"] == "2026-01-01" and about["To"] == "2026-12-31"
    assert "Europe/Stockholm" in about["Period"] and "in progress" in about["Reached"]


def test_the_csv_zip_holds_the_same_tables(seeded_db: str, tmp_path: Path, capsys) -> None:
    target = tmp_path / "report.zip"
    assert cli.main(["report", "--from", "2026-03-23", "--to", "2026-04-05", "--format", "csv", "--by", "week",
                     "--output", str(target)]) == 0
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == [f"{name}.csv" for name in SHEETS]
        over_time = list(csv.reader(io.StringIO(archive.read("over_time.csv").decode("utf-8"))))
        indicators = list(csv.reader(io.StringIO(archive.read("indicators.csv").decode("utf-8"))))
    assert over_time == [["Week (Monday)", "Companies reached", "Reached for the first time",
                          "Reached since the start"], ["2026-03-23", "0", "0", "2"], ["2026-03-30", "1", "1", "3"]]
    assert indicators[1][:3] == ["Companies reached", "RCO01", "1"]
    start = dt.datetime(2026, 3, 22, 23, tzinfo=dt.timezone.utc)  # Monday 23 March, 00:00 in Stockholm (UTC+1)
    end = dt.datetime(2026, 4, 5, 22, tzinfo=dt.timezone.utc)  # Monday 6 April, 00:00 in Stockholm (UTC+2)
    assert reached_in_sql(seeded_db, start, end) == 1


def test_the_definition_comes_from_the_settings(seeded_db: str, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NAVIGATOR_REACHED_STATUS", "assigned")
    monkeypatch.setenv("NAVIGATOR_REACHED_TARGET", "50")
    assert cli.main(["report", "--from", "2026-01-01", "--to", "2026-12-31", "--output", "r.xlsx"]) == 0
    workbook = load_workbook(tmp_path / "r.xlsx")
    indicators = {row[0]: row[2] for row in sheet_rows(workbook, "indicators")[1:]}
    assert (indicators["Companies reached"], indicators["Target"]) == (5, 50)


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-02-01", "--to", "2026-01-01"], "ends before it starts"),
    (["--from", "yesterday", "--to", "2026-01-01"], "from must be a date"),
])
def test_a_period_that_cannot_be_used_is_one_line(seeded_db: str, tmp_path: Path, capsys, args, message) -> None:
    assert cli.main(["report", *args]) == 2
    out, err = capsys.readouterr()
    assert message in err and err.count("\n") == 1 and out == ""
    assert not list(tmp_path.glob("outcomes-*"))


@pytest.fixture
def answered_db(seeded_db: str) -> str:
    """The seeded history plus the follow-up answers of tests/support_requests/satisfaction_history.py."""
    clock = FakeClock()
    policy = FollowUpPolicy(links=FollowUpLinks(derive_link_key(b"report-tests")), public_url="https://n.example.org")
    with RequestStore.from_url(seeded_db, clock=clock, follow_up=policy) as store:
        seed_answers(store, clock)
    return seeded_db


def test_satisfaction_in_the_workbook_and_the_csv_files_matches_the_database(answered_db: str, tmp_path: Path,
                                                                             capsys) -> None:
    assert cli.main(["report", "--from", "2026-01-01", "--to", "2026-12-31", "--output", "r.xlsx"]) == 0
    assert cli.main(["report", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "csv",
                     "--output", "r.zip"]) == 0
    workbook = load_workbook(tmp_path / "r.xlsx")
    with zipfile.ZipFile(tmp_path / "r.zip") as archive:
        csv_sheets = {name: list(csv.reader(io.StringIO(archive.read(f"{name}.csv").decode("utf-8"))))
                      for name in ("indicators", "satisfaction")}
    stockholm_2026 = (dt.datetime(2025, 12, 31, 23, tzinfo=dt.timezone.utc),
                      dt.datetime(2026, 12, 31, 23, tzinfo=dt.timezone.utc))
    engine = RequestStore.from_url(answered_db).engine
    try:
        expected = answers_in_sql(engine, *stockholm_2026)
    finally:
        engine.dispose()
    overall = expected["all"]
    answers = sum(overall)
    mean = round(sum(score * n for score, n in zip(range(1, 6), overall)) / answers, 2)
    satisfied = round((overall[3] + overall[4]) * 100 / answers, 2)

    indicators = {row[0]: row[2] for row in sheet_rows(workbook, "indicators")[1:]}
    assert (indicators["Satisfaction answers"], indicators["Satisfaction (1-5)"], indicators["Satisfied (4-5), %"]) \
        == (answers, mean, satisfied) == (5, 3.0, 40.0)
    assert indicators["Follow-ups sent"] == 5
    csv_indicators = {row[0]: row[2] for row in csv_sheets["indicators"][1:]}
    assert (csv_indicators["Satisfaction answers"], csv_indicators["Satisfaction (1-5)"]) == ("5", "3.0")

    sheet = sheet_rows(workbook, "satisfaction")
    assert sheet[0] == ("Entry", "Entry id", "Answers", "Mean (1-5)", "Answered 1", "Answered 2", "Answered 3",
                        "Answered 4", "Answered 5", "Satisfied (4-5), %")
    assert sheet[1] == ("All answers", None, 5, 3.0, 1, 1, 1, 1, 1, 40.0)
    by_key = {row[1] or NO_ENTRY: row[4:9] for row in sheet[2:]}
    assert by_key == {key: counts for key, counts in expected.items() if key != "all"}
    assert {row[0] for row in sheet[2:]} == {"Vecura", "Almi innovation loans", "Biomedicum flow cytometry",
                                          "No entry chosen"}
    assert [row[4:9] for row in csv_sheets["satisfaction"][1:]] == [
        [str(n) for n in row[4:9]] for row in sheet[1:]]
    # The companies' comments are personal data: no sheet and no CSV file holds them.
    texts = [str(cell) for name in workbook.sheetnames for row in sheet_rows(workbook, name) for cell in row]
    assert not any(part in text for text in texts for part in (XSS_COMMENT, "Nobody called"))
