"""The shipped catalogue and labelled needs: complete, consistent and covering what the programme promises."""

from __future__ import annotations

import yaml

from index.catalogue import EntryType, Site, load_catalogue
from navigator.evaluation import load_queries
from tests.conftest import PROJECT_ROOT

CATALOGUE = load_catalogue(PROJECT_ROOT / "knowledge")  # raises, failing collection, if anything is invalid


def test_the_catalogue_holds_enough_of_each_type() -> None:
    counts = CATALOGUE.count_by_type()
    assert len(CATALOGUE) >= 150
    assert counts[EntryType.FACILITY] >= 90 and counts[EntryType.EXPERT] >= 30 and counts[EntryType.PROGRAMME] >= 25


def test_every_entry_was_verified_and_contacts_are_marked_samples() -> None:
    for entry in CATALOGUE.entries:
        assert entry.last_verified is not None, entry.id
        if entry.type is EntryType.EXPERT:
            assert entry.email.endswith("@example.org") and entry.sample_contact, entry.id


def test_every_entry_has_a_swedish_summary_of_its_own() -> None:
    for entry in CATALOGUE.entries:
        assert entry.summary_sv and entry.summary_sv != entry.summary, entry.id
        assert entry.name_sv != entry.name, entry.id  # a Swedish name only where it differs


def test_both_sites_are_covered() -> None:
    sites = {e.site for e in CATALOGUE.entries if e.type is EntryType.FACILITY}
    assert {Site.FLEMINGSBERG, Site.HAGASTADEN} <= sites


def test_labelled_needs_cover_every_type_and_keep_a_test_split() -> None:
    queries = load_queries(PROJECT_ROOT / "tests" / "eval" / "queries.yaml", known_ids=CATALOGUE.by_id())
    assert len(queries) >= 150
    test_share = sum(q.split == "test" for q in queries) / len(queries)
    assert 0.15 <= test_share <= 0.25
    by_id = CATALOGUE.by_id()
    assert {by_id[i].type for q in queries for i in q.expected} == set(EntryType)
    raw = yaml.safe_load((PROJECT_ROOT / "tests" / "eval" / "queries.yaml").read_text(encoding="utf-8"))
    assert len({q["id"] for q in raw["queries"]}) == len(raw["queries"])
