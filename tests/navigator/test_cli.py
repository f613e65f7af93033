"""The command line, with the fast fake embedder in place of the model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from navigator import cli, runtime
from tests.fakes import SAMPLE, HashingEmbedder, entry, write_catalogue


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    knowledge = write_catalogue(tmp_path / "knowledge", SAMPLE)
    monkeypatch.setenv("NAVIGATOR_KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setenv("NAVIGATOR_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("NAVIGATOR_EMBEDDING_MODEL", HashingEmbedder().name)
    monkeypatch.setattr(runtime, "load_embedder", lambda settings: HashingEmbedder())
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_reports_counts_and_sample_contacts(configured: Path, capsys) -> None:
    code, out, _ = run(capsys, "knowledge", "validate")
    assert code == 0
    assert "7 entries (5 facilities, 1 expert, 1 programme)" in out
    assert "1 expert entries still carry sample contacts" in out


def test_validate_names_file_entry_and_field(tmp_path: Path, capsys) -> None:
    bad = write_catalogue(tmp_path / "bad", [entry("unit-a", last_verified=None), entry("unit-b", contact="contact-ghost")])
    code, _, err = run(capsys, "knowledge", "validate", str(bad))
    assert code == 1
    assert "entry 'unit-a', field 'last_verified': required field is missing" in err
    assert "field 'contact': points to 'contact-ghost'" in err and "catalogue.yaml" in err
    assert "Traceback" not in err


def test_build_then_up_to_date(configured: Path, capsys) -> None:
    code, out, _ = run(capsys, "index", "build")
    assert code == 0 and "built in full" in out and "7 entries" in out
    code, out, _ = run(capsys, "index", "build")
    assert "up to date" in out
    assert run(capsys, "index", "status")[0] == 0


def test_search_json_has_the_documented_fields(configured: Path, capsys) -> None:
    code, out, _ = run(capsys, "search", "GMP manufacturing", "--top", "2", "--json")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 2 and hits[0]["id"] == "vecura-gmp"
    assert set(hits[0]) >= {"id", "type", "name", "organisation", "site", "site_label", "score", "reason", "terms"}
    assert hits[0]["site_label"] == "Flemingsberg" and hits[0]["reason"]


def test_search_filters_from_the_command_line(configured: Path, capsys) -> None:
    _, out, _ = run(capsys, "search", "flow cytometry", "--site", "solna", "--type", "facility", "--json")
    assert [h["id"] for h in json.loads(out)] == ["flow-biomedicum", "cryo-em-solna"]
    with pytest.raises(SystemExit) as stopped:
        cli.main(["search", "flow", "--site", "mars"])
    assert stopped.value.code == 2 and "unknown site 'mars'" in capsys.readouterr().err


def test_search_human_output(configured: Path, capsys) -> None:
    code, out, _ = run(capsys, "search", "loans")
    assert code == 0 and out.startswith("1. Almi innovation loans (programme)")
    assert "why:" in out


def test_stdin_gives_one_json_line_per_query(configured: Path, capsys, monkeypatch) -> None:
    lines = "GMP manufacturing\n\nflow cytometry sorting\n<b></b>\nflödescytometri\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    code, out, _ = run(capsys, "search", "--top", "3")
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == 4  # the blank line is skipped
    assert results[0][0]["id"] == "vecura-gmp"
    assert results[1][0]["id"].startswith("flow-")
    assert "error" in results[2] and "empty" in results[2]["error"]
    assert results[3][0]["id"] == "flow-flemingsberg"
    assert code == 1  # one query failed


@pytest.mark.parametrize("query", ["", "x" * 100_000])
def test_bad_query_is_one_clear_line(configured: Path, capsys, query: str) -> None:
    code, _, err = run(capsys, "search", query)
    assert code == 1 and err.startswith("navigator: the query") and "Traceback" not in err


def test_stale_index_is_rebuilt_before_searching(configured: Path, capsys) -> None:
    run(capsys, "index", "build")
    records = SAMPLE + [entry("organoid-lab", description="Organoids grown from stem cells.")]
    write_catalogue(configured / "knowledge", records)
    assert run(capsys, "index", "status")[0] == 1
    code, out, err = run(capsys, "search", "organoids stem cells", "--json", "--top", "1")
    assert code == 0 and "rebuilt first" in err
    assert json.loads(out)[0]["id"] == "organoid-lab"


def test_corrupt_index_is_rebuilt_and_status_explains(configured: Path, capsys) -> None:
    run(capsys, "index", "build")
    (configured / "index" / "manifest.json").write_text("garbage", encoding="utf-8")
    code, _, err = run(capsys, "index", "status")
    assert code == 1 and "navigator index build --full" in err
    code, out, _ = run(capsys, "index", "build")
    assert code == 0 and "built in full" in out


def test_invalid_catalogue_stops_build_without_touching_the_index(configured: Path, capsys) -> None:
    run(capsys, "index", "build")
    before = (configured / "index" / "manifest.json").read_text()
    write_catalogue(configured / "knowledge", SAMPLE + [entry("broken", site="moon")])
    code, _, err = run(capsys, "index", "build")
    assert code == 1 and "field 'site'" in err
    assert (configured / "index" / "manifest.json").read_text() == before


def test_eval_prints_all_modes(configured: Path, capsys, tmp_path: Path) -> None:
    queries = tmp_path / "q.yaml"
    queries.write_text("queries:\n  - {id: a, text: GMP vectors, expected: [vecura-gmp], split: test}\n")
    code, out, _ = run(capsys, "eval", "--queries", str(queries))
    assert code == 0
    for mode in ("hybrid", "dense", "keyword"):
        assert f"| test | {mode} | 1 | 1.000" in out
