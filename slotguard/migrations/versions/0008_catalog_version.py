"""A catalog version per business, bumped by the database on every change to its services and staff.

Each server process keeps a business's services and staff in memory and checks this number, read with
the business row a request needs anyway, before using them. Triggers (not the application) bump it, so
that every write counts, whichever process or tool makes it: a change committed by one worker is seen by
the next request on every worker. A later migration that rebuilds one of these tables on SQLite (batch
mode copies the table) must create its triggers again.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Table -> how a row of it names its business.
_BUSINESS_OF = {
    "services": "{row}.business_id",
    "staff": "{row}.business_id",
    "staff_services": "(SELECT business_id FROM staff WHERE id = {row}.staff_id)",
    "time_off": "(SELECT business_id FROM staff WHERE id = {row}.staff_id)",
}


def upgrade() -> None:
    with op.batch_alter_table("businesses") as batch_op:
        batch_op.add_column(sa.Column("catalog_version", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _BUSINESS_OF:
            op.execute(f"DROP TRIGGER {table}_bump_catalog_version ON {table}")
            op.execute(f"DROP FUNCTION {table}_bump_catalog_version()")
    else:
        for table in _BUSINESS_OF:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_bump_catalog_version_{event}")
    with op.batch_alter_table("businesses") as batch_op:
        batch_op.drop_column("catalog_version")


def _bump(business: str) -> str:
    return f"UPDATE businesses SET catalog_version = catalog_version + 1 WHERE id = {business};"


def _postgresql_triggers() -> None:
    for table, business_of in _BUSINESS_OF.items():
        op.execute(
            f"""
            CREATE FUNCTION {table}_bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    {_bump(business_of.format(row="OLD"))}
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    {_bump(business_of.format(row="NEW"))}
                END IF;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_bump_catalog_version AFTER INSERT OR UPDATE OR DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {table}_bump_catalog_version()"
        )


def _sqlite_triggers() -> None:
    rows = {"insert": ("NEW",), "update": ("OLD", "NEW"), "delete": ("OLD",)}
    for table, business_of in _BUSINESS_OF.items():
        for event, names in rows.items():
            bumps = " ".join(_bump(business_of.format(row=name)) for name in names)
            op.execute(
                f"CREATE TRIGGER {table}_bump_catalog_version_{event} AFTER {event.upper()} ON {table}"
                f" BEGIN {bumps} END"
            )
