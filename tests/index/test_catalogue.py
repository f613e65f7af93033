from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from index.catalogue import Entry, EntryType, Site, load_catalogue
from index.errors import CatalogueError
from tests.fakes import SAMPLE, entry, expert, write_catalogue


def problems_of(folder: Path) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(folder)
    return [(p.entry_id, p.field, p.message) for p in caught.value.problems]


def test_valid_catalogue_loads_sorted_with_types_and_sites(sample_dir: Path) -> None:
    catalogue = load_catalogue(sample_dir)
    ids = [e.id for e in catalogue.entries]
    assert ids == sorted(ids)
    assert len(catalogue) == len(SAMPLE)
    vecura = catalogue.by_id()["vecura-gmp"]
    assert vecura.type is EntryType.FACILITY and vecura.site is Site.FLEMINGSBERG
    assert vecura.keywords == ("cellterapi", "genterapi")
    assert catalogue.count_by_type()[EntryType.EXPERT] == 1


@pytest.mark.parametrize(
    "field",
    ["id", "type", "name", "organisation", "site", "summary", "summary_sv", "description", "url", "last_verified",
     "services", "open_to_companies", "access", "contact"],
)
def test_missing_required_field_is_named_with_file_and_entry(tmp_path: Path, field: str) -> None:
    folder = write_catalogue(tmp_path, [entry("unit-a", **{field: None}), expert(serves=["unit-a"])])
    found = problems_of(folder)
    assert any(f == field and "missing" in m for _, f, m in found), found
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(folder)
    assert "catalogue.yaml" in str(caught.value)


def test_an_entry_without_a_swedish_summary_is_refused_by_name(tmp_path: Path) -> None:
    folder = write_catalogue(tmp_path, [entry("unit-a"), expert(serves=["unit-a"], summary_sv="")])
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(folder)
    [problem] = [p for p in caught.value.problems if p.field == "summary_sv"]
    assert problem.entry_id == "contact-desk" and "missing" in problem.message and "Swedish" in problem.message
    assert "entry 'contact-desk'" in str(caught.value)


def test_expert_and_programme_fields_are_required_by_type(tmp_path: Path) -> None:
    folder = write_catalogue(tmp_path, [
        entry("fund", type="programme"),
        expert(serves=["fund"], email=None, role=None),
    ])
    found = {(i, f) for i, f, _ in problems_of(folder)}
    assert {("fund", "eligibility"), ("fund", "how_to_apply"), ("contact-desk", "email"),
            ("contact-desk", "role")} <= found


def test_duplicate_ids_across_files_are_reported(tmp_path: Path) -> None:
    write_catalogue(tmp_path, [entry("unit-a"), expert(serves=["unit-a"])], name="one.yaml")
    write_catalogue(tmp_path, [entry("unit-a")], name="two.yaml")
    found = problems_of(tmp_path)
    assert [(i, f) for i, f, m in found if "duplicate" in m] == [("unit-a", "id")]


def test_contact_must_point_to_an_existing_expert(tmp_path: Path) -> None:
    folder = write_catalogue(tmp_path, [
        entry("unit-a", contact="contact-nobody"),
        entry("unit-b", contact="unit-a"),
        expert(serves=["unit-a", "ghost"]),
    ])
    found = {(i, f): m for i, f, m in problems_of(folder)}
    assert "not in the catalogue" in found[("unit-a", "contact")]
    assert "not an expert" in found[("unit-b", "contact")]
    assert "'ghost'" in found[("contact-desk", "serves")]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"site": "mars"}, "site"),
        ({"type": "robot"}, "type"),
        ({"id": "Bad Id"}, "id"),
        ({"url": "ftp://x"}, "url"),
        ({"last_verified": "last year"}, "last_verified"),
        ({"open_to_companies": "yes"}, "open_to_companies"),
        ({"services": "one string"}, "services"),
        ({"colour": "blue"}, "colour"),
        ({"name": 42}, "name"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, override: dict, field: str) -> None:
    folder = write_catalogue(tmp_path, [entry("unit-a", **override), expert(serves=[])])
    assert field in {f for _, f, _ in problems_of(folder)}


def test_invalid_email_is_an_error(tmp_path: Path) -> None:
    folder = write_catalogue(tmp_path, [entry("unit-a"), expert(serves=["unit-a"], email="not-an-address")])
    assert ("contact-desk", "email") in {(i, f) for i, f, _ in problems_of(folder)}


def test_broken_yaml_and_wrong_shape_are_reported_per_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("entries: [\n  - id: x\n", encoding="utf-8")
    (tmp_path / "shape.yaml").write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(tmp_path)
    files = {Path(p.file).name for p in caught.value.problems}
    assert files == {"broken.yaml", "shape.yaml"}


def test_one_bad_entry_fails_the_whole_catalogue(tmp_path: Path) -> None:
    folder = write_catalogue(tmp_path, SAMPLE + [entry("broken", site=None)])
    with pytest.raises(CatalogueError):
        load_catalogue(folder)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no such file"):
        load_catalogue(tmp_path / "nowhere")


def test_sample_contacts_and_short_descriptions_are_warnings(sample_dir: Path) -> None:
    catalogue = load_catalogue(sample_dir)
    fields = {(w.entry_id, w.field) for w in catalogue.warnings}
    assert ("contact-desk", "email") in fields
    assert ("vecura-gmp", "description") in fields


def test_catalogue_hash_changes_with_content_only(tmp_path: Path) -> None:
    first = load_catalogue(write_catalogue(tmp_path / "a", SAMPLE)).content_hash()
    same = load_catalogue(write_catalogue(tmp_path / "b", SAMPLE, name="other-name.yaml")).content_hash()
    changed_records = [dict(r) for r in SAMPLE]
    changed_records[0]["summary"] = "Something else."
    changed = load_catalogue(write_catalogue(tmp_path / "c", changed_records)).content_hash()
    assert first == same != changed


def test_the_swedish_name_is_optional_and_both_swedish_fields_are_read(tmp_path: Path) -> None:
    folder = write_catalogue(tmp_path, [
        entry("unit-a", name_sv="Enheten för flödescytometri", summary_sv="  Cellsortering och\n analys. "),
        entry("unit-b"),
        expert(serves=["unit-a"]),
    ])
    entries = load_catalogue(folder).by_id()
    assert entries["unit-a"].name_sv == "Enheten för flödescytometri"
    assert entries["unit-a"].summary_sv == "Cellsortering och analys."
    assert entries["unit-b"].name_sv == "" and entries["unit-b"].summary_sv == "Enheten unit-b."
    assert "Enheten för flödescytometri" in entries["unit-a"].searchable_text()
    assert "Cellsortering och analys." in entries["unit-a"].searchable_text()
    again = Entry.from_dict(json.loads(json.dumps(entries["unit-a"].to_dict())))
    assert again == entries["unit-a"]


@pytest.mark.parametrize("field", ["name_sv", "summary_sv"])
def test_swedish_fields_must_be_text(tmp_path: Path, field: str) -> None:
    folder = write_catalogue(tmp_path, [entry("unit-a", **{field: ["a list"]}), expert(serves=["unit-a"])])
    assert ("unit-a", field) in {(i, f) for i, f, _ in problems_of(folder)}


def test_empty_swedish_fields_leave_the_content_hash_as_it_was_before_they_existed(tmp_path: Path) -> None:
    # An index built before the Swedish fields existed stays fresh for the entries that do not fill them in.
    folder = write_catalogue(tmp_path, [entry("unit-a"), expert(serves=["unit-a"])])
    unit = dataclasses.replace(load_catalogue(folder).by_id()["unit-a"], summary_sv="")  # as an older index holds it
    data = unit.to_dict()
    for name in ("source", "name_sv", "summary_sv"):
        data.pop(name)
    assert unit.content_hash() == hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    assert dataclasses.replace(unit, summary_sv="Enheten.").content_hash() != unit.content_hash()
    assert dataclasses.replace(unit, name_sv="Enheten").content_hash() != unit.content_hash()


def test_site_parse_accepts_what_people_type() -> None:
    assert Site.parse("Solna") is Site.HAGASTADEN
    assert Site.parse(" Hagastaden/Solna ") is Site.HAGASTADEN
    assert Site.parse("other") is Site.ELSEWHERE
    with pytest.raises(ValueError, match="flemingsberg"):
        Site.parse("Lund")
