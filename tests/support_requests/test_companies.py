"""Companies: one record per company however often it asks, linked in the request's transaction, merged by hand,
erased with its requests while the counts stay; and the migration that links the requests stored before."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from support_requests.companies import (
    CompanyError,
    CompanyNotFoundError,
    CompanyStore,
    name_key,
    normalise_company_name,
    org_key,
)
from support_requests.migrations import alembic_config, head_revision, upgrade_database
from support_requests.model import ERASED_MARKER
from support_requests.store import RequestStore
from support_requests.tables import CompanyKeyRow, CompanyRow


@pytest.fixture
def companies(store: RequestStore) -> CompanyStore:
    return CompanyStore(store.engine, clock=store.clock)


@pytest.mark.parametrize(("name", "normalised"), [
    ("Acme Biologics AB", "acme biologics"),
    ("ACME Biologics Aktiebolag (publ)", "acme biologics"),
    ("  acme   biologics ab  ", "acme biologics"),
    ("Acme-Biologics A.B.", "acme biologics"),
    ("Åkerlund & Rausing Läkemedel AB", "akerlund rausing lakemedel"),
    ("Nordic Cells Ltd.", "nordic cells"),
    ("AB", "ab"),  # a name that is only a legal form keeps it
])
def test_names_are_compared_without_case_accents_punctuation_or_legal_form(name: str, normalised: str) -> None:
    assert normalise_company_name(name) == normalised


def test_keys() -> None:
    assert org_key("556036-0793") == "org:5560360793"
    assert name_key("Acme Biologics AB") == "name:acme biologics"
    assert name_key(ERASED_MARKER) is None and name_key("") is None


def test_the_same_organisation_number_is_one_company(store: RequestStore, draft, companies: CompanyStore) -> None:
    first = store.create(draft(), "form-1")
    second = store.create(draft(company_name="Acme Bio (the Solna office)", email="other@acme.example.org"),
                          "form-2")
    assert first.company_id is not None and first.company_id == second.company_id
    company = companies.get(first.company_id)
    assert (company.name, company.org_number, company.request_count) == ("Acme Biologics AB", "556036-0793", 2)
    assert company.created_at == first.created_at


def test_without_a_number_the_normalised_name_decides(store: RequestStore, draft, companies: CompanyStore) -> None:
    first = store.create(draft(org_number=None), "form-1")
    second = store.create(draft(org_number=None, company_name="ACME BIOLOGICS aktiebolag"), "form-2")
    other = store.create(draft(org_number=None, company_name="Acme Diagnostics AB"), "form-3")
    assert first.company_id == second.company_id != other.company_id
    # The number given later is adopted by the company known by that name only.
    third = store.create(draft(org_number="556036-0793"), "form-4")
    assert third.company_id == first.company_id
    assert companies.get(first.company_id).org_number == "556036-0793"
    # ... and from then on the number alone finds it, whatever the name.
    fourth = store.create(draft(company_name="Something Else Entirely", org_number="5560360793"), "form-5")
    assert fourth.company_id == first.company_id


def test_a_known_name_with_another_number_is_another_company(store: RequestStore, draft) -> None:
    first = store.create(draft(), "form-1")
    second = store.create(draft(org_number="556677-8899"), "form-2")
    assert first.company_id != second.company_id
    # Without a number, the name goes to the company that first had it.
    assert store.create(draft(org_number=None), "form-3").company_id == first.company_id


def test_a_company_lists_its_requests_intakes_and_conversations(store: RequestStore, draft,
                                                                companies: CompanyStore, clock) -> None:
    chat = store.create(draft(conversation_id="conv-a"), "form-1")
    clock.advance(days=1)
    intake = store.create(draft(channel="console", conversation_id=None), "form-2")
    listed = companies.requests(chat.company_id)
    assert [(r.reference, r.is_intake, r.conversation_id) for r in listed] == [
        (chat.reference, False, "conv-a"), (intake.reference, True, None)]
    assert companies.company_of(intake.reference) == chat.company_id


def test_merging_moves_requests_and_identities(store: RequestStore, draft, companies: CompanyStore) -> None:
    numbered = store.create(draft(), "form-1")
    named = store.create(draft(company_name="Acme Bio", org_number=None), "form-2")
    assert numbered.company_id != named.company_id
    merged = companies.merge(named.company_id, numbered.company_id, actor="eva")
    assert merged.id == numbered.company_id and merged.request_count == 2
    source = companies.get(named.company_id)
    assert source.merged_into == numbered.company_id and source.request_count == 0
    assert store.get(named.reference).company_id == numbered.company_id
    # The merged company's name now finds the company it was merged into.
    assert store.create(draft(company_name="ACME BIO", org_number=None), "form-3").company_id == numbered.company_id
    page, total = companies.list()
    assert [c.id for c in page] == [numbered.company_id] and total == 1


def test_merging_is_refused_where_it_cannot_be_right(store: RequestStore, draft, companies: CompanyStore) -> None:
    a = store.create(draft(), "form-1").company_id
    b = store.create(draft(company_name="Beta AB", org_number="556677-8899"), "form-2").company_id
    c = store.create(draft(company_name="Gamma AB", org_number=None), "form-3").company_id
    with pytest.raises(CompanyError, match="different organisation numbers"):
        companies.merge(a, b, actor="eva")
    with pytest.raises(CompanyError, match="itself"):
        companies.merge(a, a, actor="eva")
    with pytest.raises(CompanyNotFoundError):
        companies.merge(a, 9999, actor="eva")
    companies.merge(c, a, actor="eva")
    with pytest.raises(CompanyError, match="already merged"):
        companies.merge(c, b, actor="eva")
    # The number of the company merged in is adopted when the target has none.
    d = store.create(draft(company_name="Delta AB", org_number=None), "form-4").company_id
    assert companies.merge(b, d, actor="eva").org_number == "556677-8899"


def test_erasing_every_request_erases_the_company_and_keeps_the_link(store: RequestStore, draft,
                                                                      companies: CompanyStore) -> None:
    first = store.create(draft(), "form-1")
    second = store.create(draft(email="someone@acme-bio.example.org"), "form-2")
    store.erase(reference=first.reference)
    assert not companies.get(first.company_id).is_erased  # the second request still holds personal data
    store.erase(email="someone@acme-bio.example.org")
    company = companies.get(first.company_id)
    assert company.is_erased and company.name == ERASED_MARKER and company.org_number is None
    assert company.request_count == 2
    assert store.get(second.reference).company_id == first.company_id
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(CompanyKeyRow)).scalar_one() == 0
    # Nothing is left to recognise it by: asking again is a new company.
    again = store.create(draft(), "form-3")
    assert again.company_id != first.company_id


def test_retention_erases_companies_too(store: RequestStore, draft, companies: CompanyStore, clock) -> None:
    request = store.create(draft(), "form-1")
    store.set_status(request.reference, "withdrawn", actor="eva")
    clock.advance(days=31)
    store.erase_expired(30)
    assert companies.get(request.company_id).is_erased


def test_listing_searches_names_and_numbers(store: RequestStore, draft, companies: CompanyStore) -> None:
    store.create(draft(), "form-1")
    store.create(draft(company_name="Beta 100% AB", org_number="556677-8899"), "form-2")
    store.create(draft(company_name="Gamma AB", org_number=None), "form-3")
    page, total = companies.list()
    assert [c.name for c in page] == ["Acme Biologics AB", "Beta 100% AB", "Gamma AB"] and total == 3
    assert [c.name for c in companies.list("beta")[0]] == ["Beta 100% AB"]
    assert [c.name for c in companies.list("100%")[0]] == ["Beta 100% AB"]  # % is a character, not a wildcard
    assert [c.name for c in companies.list("5566778")[0]] == ["Beta 100% AB"]
    assert [c.name for c in companies.list("", limit=1, offset=1)[0]] == ["Beta 100% AB"]
    assert companies.list("nothing like it") == ([], 0)


def test_the_migration_links_the_requests_stored_before(store: RequestStore, draft, database_url: str) -> None:
    from alembic import command

    acme = store.create(draft(org_number=None), "form-1")
    acme_again = store.create(draft(company_name="ACME Biologics aktiebolag", org_number="556036-0793"), "form-2")
    beta = store.create(draft(company_name="Beta AB", org_number="556677-8899"), "form-3")
    beta_renamed = store.create(draft(company_name="Beta Therapeutics", org_number="5566778899"), "form-4")
    gone = store.create(draft(company_name="Gone AB", org_number=None, email="gone@example.org"), "form-5")
    gone_too = store.create(draft(company_name="Gone AB", org_number=None, email="gone@example.org"), "form-6")
    store.erase(email="gone@example.org")
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0004")
    assert "companies" not in _tables(store)
    assert upgrade_database(database_url) == head_revision()
    linked = {r.reference: r.company_id for r in store.list()}
    assert linked[acme.reference] == linked[acme_again.reference]
    assert linked[beta.reference] == linked[beta_renamed.reference] != linked[acme.reference]
    # Erased requests have nothing to be recognised by: each is a company of its own, already erased.
    assert linked[gone.reference] != linked[gone_too.reference]
    companies = CompanyStore(store.engine)
    assert companies.get(linked[acme.reference]).org_number == "556036-0793"
    assert companies.get(linked[gone.reference]).is_erased
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(CompanyRow)).scalar_one() == 4
    # New requests find the companies the migration made.
    assert store.create(draft(company_name="Beta AB", org_number=None), "form-7").company_id == linked[beta.reference]


def _tables(store: RequestStore) -> set[str]:
    return set(inspect(store.engine).get_table_names())
