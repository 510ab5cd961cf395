"""The business's webhook endpoint is part of its catalog, which each process keeps in memory under
`businesses.catalog_version`: adding, changing or removing the endpoint bumps that version (as 0008's
triggers do for services and staff, 0019's for staff calendars), so a booking learns where its event
goes without reading the endpoint's row.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_BUMP = "UPDATE businesses SET catalog_version = catalog_version + 1 WHERE id = {row}.business_id;"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION webhook_endpoints_bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN {_BUMP.format(row="OLD")} ELSE {_BUMP.format(row="NEW")} END IF;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER webhook_endpoints_bump_catalog_version AFTER INSERT OR UPDATE OR DELETE"
            " ON webhook_endpoints FOR EACH ROW EXECUTE FUNCTION webhook_endpoints_bump_catalog_version()"
        )
        return
    for event, row in (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD")):
        op.execute(
            f"CREATE TRIGGER webhook_endpoints_bump_catalog_version_{event} AFTER {event.upper()}"
            f" ON webhook_endpoints BEGIN {_BUMP.format(row=row)} END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER webhook_endpoints_bump_catalog_version ON webhook_endpoints")
        op.execute("DROP FUNCTION webhook_endpoints_bump_catalog_version()")
        return
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER webhook_endpoints_bump_catalog_version_{event}")
