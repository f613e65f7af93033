"""Companies as records: the tables ``companies`` and ``company_keys``, every request linked to its company, and
an index for the outcome figures. Existing requests are linked here (backfill), by the rules new requests follow
(support_requests/companies.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from support_requests.companies import name_key, org_key

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ERASED = "[erased]"

# The tables as this revision knows them (never the current models, which later revisions may change).
_requests = sa.table("support_requests", sa.column("id", sa.Integer), sa.column("company_name", sa.String),
                     sa.column("org_number", sa.String), sa.column("created_at", sa.DateTime(timezone=True)),
                     sa.column("erased_at", sa.DateTime(timezone=True)), sa.column("company_id", sa.Integer))
_companies = sa.table("companies", sa.column("id", sa.Integer), sa.column("name", sa.String),
                      sa.column("org_number", sa.String), sa.column("created_at", sa.DateTime(timezone=True)),
                      sa.column("erased_at", sa.DateTime(timezone=True)))
_keys = sa.table("company_keys", sa.column("key", sa.String), sa.column("company_id", sa.Integer))


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("org_number", sa.String(11), nullable=True),
        _time("created_at"),
        _time("erased_at", nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        _time("merged_at", nullable=True),
        sa.Column("merged_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_companies"),
        sa.ForeignKeyConstraint(["merged_into_id"], ["companies.id"], name="fk_companies_merged_into_id_companies"),
    )
    op.create_index("ix_companies_merged_into_id", "companies", ["merged_into_id"])
    op.create_table(
        "company_keys",
        sa.Column("key", sa.String(220), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_company_keys"),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name="fk_company_keys_company_id_companies",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_company_keys_company_id", "company_keys", ["company_id"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but it can add a column that carries one. (Alembic's batch
        # mode would copy the table instead, and dropping the old one would cascade to the requests' rows.)
        op.execute("ALTER TABLE support_requests ADD COLUMN company_id INTEGER "
                   "CONSTRAINT fk_support_requests_company_id_companies REFERENCES companies (id)")
    else:
        op.add_column("support_requests", sa.Column("company_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_support_requests_company_id_companies", "support_requests", "companies",
                              ["company_id"], ["id"])
    op.create_index("ix_support_requests_company_id", "support_requests", ["company_id"])
    op.create_index("ix_request_history_field_new_value_at", "request_history", ["field", "new_value", "at"])
    _link_existing_requests()


def _link_existing_requests() -> None:
    """Give every stored request its company, oldest request first, as :func:`link_company` would have."""
    connection = op.get_bind()
    by_key: dict[str, int] = {}
    numbers: dict[int, str | None] = {}
    links: list[dict[str, int]] = []

    def create(name: str, org_number: str | None, created_at, erased_at, keys: list[str]) -> int:
        company_id = connection.execute(
            _companies.insert().values(name=name, org_number=org_number, created_at=created_at,
                                       erased_at=erased_at).returning(_companies.c.id)).scalar_one()
        numbers[company_id] = org_number
        for key in keys:
            connection.execute(_keys.insert().values(key=key, company_id=company_id))
            by_key[key] = company_id
        return company_id

    rows = connection.execute(sa.select(_requests.c.id, _requests.c.company_name, _requests.c.org_number,
                                        _requests.c.created_at, _requests.c.erased_at).order_by(_requests.c.id))
    for row in rows.all():
        if row.erased_at is not None:  # nothing left to recognise it by: a company of its own, already erased
            company_id = create(ERASED, None, row.created_at, row.erased_at, [])
        else:
            named = name_key(row.company_name)
            company_id = None
            if row.org_number:
                numbered = org_key(row.org_number)
                company_id = by_key.get(numbered)
                if company_id is None and named in by_key and numbers[by_key[named]] is None:
                    company_id = by_key[named]
                    numbers[company_id] = row.org_number
                    connection.execute(_companies.update().where(_companies.c.id == company_id)
                                       .values(org_number=row.org_number))
                    connection.execute(_keys.insert().values(key=numbered, company_id=company_id))
                    by_key[numbered] = company_id
                if company_id is None:
                    company_id = create(row.company_name, row.org_number, row.created_at, None,
                                        [numbered] + ([named] if named and named not in by_key else []))
                elif named and named not in by_key:
                    connection.execute(_keys.insert().values(key=named, company_id=company_id))
                    by_key[named] = company_id
            elif named in by_key:
                company_id = by_key[named]
            else:
                company_id = create(row.company_name, None, row.created_at, None, [named] if named else [])
        links.append({"request_id": row.id, "company": company_id})
    if links:
        connection.execute(_requests.update().where(_requests.c.id == sa.bindparam("request_id"))
                           .values(company_id=sa.bindparam("company")), links)


def downgrade() -> None:
    op.drop_index("ix_request_history_field_new_value_at", table_name="request_history")
    op.drop_index("ix_support_requests_company_id", table_name="support_requests")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE support_requests DROP COLUMN company_id")
    else:
        op.drop_constraint("fk_support_requests_company_id_companies", "support_requests", type_="foreignkey")
        op.drop_column("support_requests", "company_id")
    op.drop_table("company_keys")
    op.drop_table("companies")
