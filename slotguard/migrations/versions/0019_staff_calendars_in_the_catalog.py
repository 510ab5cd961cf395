"""Whether a staff member's bookings are written into their own calendar is part of the business's catalog,
which each process keeps in memory under `businesses.catalog_version`: connecting or disconnecting a
calendar bumps that version (as 0008's triggers do for services and staff), so a booking learns it
without reading the calendar's row. A sync (an UPDATE of the row, every minute) leaves it alone.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_BUMP = "UPDATE businesses SET catalog_version = catalog_version + 1 WHERE id = {row}.business_id;"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION staff_calendars_bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN {_BUMP.format(row="OLD")} ELSE {_BUMP.format(row="NEW")} END IF;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER staff_calendars_bump_catalog_version AFTER INSERT OR DELETE ON staff_calendars"
            " FOR EACH ROW EXECUTE FUNCTION staff_calendars_bump_catalog_version()"
        )
        return
    for event, row in (("insert", "NEW"), ("delete", "OLD")):
        op.execute(
            f"CREATE TRIGGER staff_calendars_bump_catalog_version_{event} AFTER {event.upper()} ON staff_calendars"
            f" BEGIN {_BUMP.format(row=row)} END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER staff_calendars_bump_catalog_version ON staff_calendars")
        op.execute("DROP FUNCTION staff_calendars_bump_catalog_version()")
        return
    for event in ("insert", "delete"):
        op.execute(f"DROP TRIGGER staff_calendars_bump_catalog_version_{event}")
