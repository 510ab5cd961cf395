"""The business's own row is part of its catalog version: any change to it (its rules, name, limits, key)
bumps `catalog_version`, as 0008, 0019 and 0020 do for its services, staff, calendars and webhook endpoint.
So a process may keep the whole business in memory under that version, and a booking's claim statement,
which checks the version, knows that what decided it is what is stored (storage/catalog.py).

An update that sets the version itself (the other tables' triggers do) is left as it is, so each change
counts once. Any other update of the row bumps it, even one that changes no value: the businesses' rows
change only by their owners' hands, and a spare bump costs one re-read of the catalog.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION businesses_bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.catalog_version := OLD.catalog_version + 1;
                RETURN NEW;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER businesses_bump_catalog_version BEFORE UPDATE ON businesses FOR EACH ROW"
            " WHEN (NEW.catalog_version = OLD.catalog_version)"
            " EXECUTE FUNCTION businesses_bump_catalog_version()"
        )
        return
    # SQLite does not fire a trigger from its own statement (recursive_triggers is off), and the WHEN
    # leaves the inner update alone anyway.
    op.execute(
        "CREATE TRIGGER businesses_bump_catalog_version AFTER UPDATE ON businesses"
        " WHEN NEW.catalog_version = OLD.catalog_version"
        " BEGIN UPDATE businesses SET catalog_version = catalog_version + 1 WHERE id = NEW.id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER businesses_bump_catalog_version ON businesses")
        op.execute("DROP FUNCTION businesses_bump_catalog_version()")
        return
    op.execute("DROP TRIGGER businesses_bump_catalog_version")
