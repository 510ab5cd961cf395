"""Claims: one table for every unit of time kept from everyone else, and resources that bookings take.

Until now a booking's staff time was judged on its own row (`bookings_no_overlap`). A booking may now
keep several times at once (its staff member's and a resource's), and an external calendar's busy time
keeps a staff member's time without any booking; all of them must be judged by the same rule. So each
is a row of `claims` (unit, buffered block, status), and the no-overlap rule moves there:
- PostgreSQL: `claims_no_overlap`, an exclusion constraint over (unit_id, tstzrange(block)) for rows whose
  status blocks. A booking's claims are inserted with `ON CONFLICT DO NOTHING` (storage/claims.py).
- SQLite: triggers `claims_no_overlap_insert|update` refuse the same rows; the booking path already
  checks under the write lock (BEGIN IMMEDIATE), so they are the backstop.
A booking's claims follow its status, expiry and block: the trigger `claims_follow_booking` copies them on
every UPDATE of the booking, so a cancel, an expiry or a reschedule frees or moves its claims in the same
statement, whichever code path makes it. A claim with no booking (`booking_id` NULL) is its owner's to
change. Existing bookings with a staff member get their claims here.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_BLOCKING = "status IN ('held', 'pending_payment', 'confirmed')"
_FOLLOWED = "status, expires_at, block_start_at, block_end_at"
_FOLLOW = (
    "UPDATE claims SET status = NEW.status, expires_at = NEW.expires_at,"
    " block_start_at = NEW.block_start_at, block_end_at = NEW.block_end_at WHERE booking_id = NEW.id;"
)
# Resources are part of a business's catalog: a change bumps its version as 0008's triggers do.
_BUSINESS_OF = {
    "resources": "{row}.business_id",
    "service_resources": "(SELECT business_id FROM services WHERE id = {row}.service_id)",
}


def upgrade() -> None:
    _tables()
    # Plain ADD COLUMN: rebuilding bookings on SQLite (batch mode) would drop its triggers.
    op.add_column("bookings", sa.Column("resource_id", sa.Uuid(), nullable=True))
    op.add_column("bookings", sa.Column("series_id", sa.Uuid(), nullable=True))
    op.create_index("ix_bookings_series_id", "bookings", ["series_id"])
    op.execute(
        "INSERT INTO claims (business_id, booking_id, kind, unit_id, block_start_at, block_end_at, status, expires_at)"
        " SELECT business_id, id, 'staff', staff_id, block_start_at, block_end_at, status, expires_at"
        " FROM bookings WHERE staff_id IS NOT NULL"
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_rules()
    else:
        _sqlite_rules()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER claims_follow_booking ON bookings")
        op.execute("DROP FUNCTION claims_follow_booking()")
        for table in _BUSINESS_OF:
            op.execute(f"DROP TRIGGER {table}_bump_catalog_version ON {table}")
            op.execute(f"DROP FUNCTION {table}_bump_catalog_version()")
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist ("
            " staff_id WITH =, tstzrange(block_start_at, block_end_at, '[)') WITH &&"
            f") WHERE (staff_id IS NOT NULL AND {_BLOCKING})"
        )
    else:
        for name in ("claims_follow_booking", "claims_no_overlap_insert", "claims_no_overlap_update"):
            op.execute(f"DROP TRIGGER {name}")
        for table in _BUSINESS_OF:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_bump_catalog_version_{event}")
        for event in ("INSERT", "UPDATE"):
            op.execute(_sqlite_bookings_guard(event))
    op.drop_index("ix_bookings_series_id", "bookings")
    op.drop_column("bookings", "series_id")
    op.drop_column("bookings", "resource_id")
    op.drop_table("service_resources")
    op.drop_table("resources")
    op.drop_table("claims")


def _tables() -> None:
    op.create_table(
        "claims",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("business_id", sa.Uuid(), sa.ForeignKey("businesses.id"), nullable=False),
        sa.Column(
            "booking_id",
            sa.Uuid(),
            sa.ForeignKey("bookings.id", ondelete="CASCADE", deferrable=True, initially="DEFERRED"),
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("block_start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("block_end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("block_start_at < block_end_at", name="ck_claims_block_not_empty"),
    )
    op.create_index("ix_claims_booking_id", "claims", ["booking_id"])
    op.create_index("ix_claims_unit_id_block_start_at", "claims", ["unit_id", "block_start_at"])
    op.create_table(
        "resources",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("business_id", sa.Uuid(), sa.ForeignKey("businesses.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_resources_business_id", "resources", ["business_id"])
    op.create_table(
        "service_resources",
        sa.Column("service_id", sa.Uuid(), sa.ForeignKey("services.id"), primary_key=True),
        sa.Column("resource_id", sa.Uuid(), sa.ForeignKey("resources.id"), primary_key=True),
    )


def _postgresql_rules() -> None:
    op.execute(
        "ALTER TABLE claims ADD CONSTRAINT claims_no_overlap EXCLUDE USING gist ("
        " unit_id WITH =, tstzrange(block_start_at, block_end_at, '[)') WITH &&"
        f") WHERE ({_BLOCKING})"
    )
    op.execute("ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap")
    op.execute(
        "CREATE FUNCTION claims_follow_booking() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {_FOLLOW} RETURN NULL; END $$"
    )
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _FOLLOWED.split(", "))
    op.execute(
        "CREATE TRIGGER claims_follow_booking AFTER UPDATE ON bookings"
        f" FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION claims_follow_booking()"
    )
    for table, business_of in _BUSINESS_OF.items():
        op.execute(
            f"""
            CREATE FUNCTION {table}_bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN {_bump(business_of.format(row="OLD"))} END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN {_bump(business_of.format(row="NEW"))} END IF;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_bump_catalog_version AFTER INSERT OR UPDATE OR DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {table}_bump_catalog_version()"
        )


def _sqlite_rules() -> None:
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER bookings_no_overlap_{event}")
        op.execute(
            f"""
            CREATE TRIGGER claims_no_overlap_{event} BEFORE {event.upper()} ON claims
            WHEN NEW.{_BLOCKING}
            BEGIN
                SELECT RAISE(ABORT, 'claims_no_overlap: time already taken')
                WHERE EXISTS (
                    SELECT 1 FROM claims AS other
                    WHERE other.unit_id = NEW.unit_id AND other.id IS NOT NEW.id
                      AND other.{_BLOCKING}
                      AND other.block_start_at < NEW.block_end_at
                      AND other.block_end_at > NEW.block_start_at
                      -- blocks last at most a day: bound the index scan, not the whole history
                      AND other.block_start_at > datetime(NEW.block_start_at, '-1 day')
                );
            END
            """
        )
    op.execute(f"CREATE TRIGGER claims_follow_booking AFTER UPDATE OF {_FOLLOWED} ON bookings BEGIN {_FOLLOW} END")
    rows = {"insert": ("NEW",), "update": ("OLD", "NEW"), "delete": ("OLD",)}
    for table, business_of in _BUSINESS_OF.items():
        for event, names in rows.items():
            bumps = " ".join(_bump(business_of.format(row=name)) for name in names)
            op.execute(
                f"CREATE TRIGGER {table}_bump_catalog_version_{event} AFTER {event.upper()} ON {table}"
                f" BEGIN {bumps} END"
            )


def _bump(business: str) -> str:
    return f"UPDATE businesses SET catalog_version = catalog_version + 1 WHERE id = {business};"


def _sqlite_bookings_guard(event: str) -> str:
    return f"""
        CREATE TRIGGER bookings_no_overlap_{event.lower()} BEFORE {event} ON bookings
        WHEN NEW.staff_id IS NOT NULL AND NEW.{_BLOCKING}
        BEGIN
            SELECT RAISE(ABORT, 'bookings_no_overlap: staff time already taken')
            WHERE EXISTS (
                SELECT 1 FROM bookings AS other
                WHERE other.staff_id = NEW.staff_id AND other.id != NEW.id
                  AND other.{_BLOCKING}
                  AND other.block_start_at < NEW.block_end_at
                  AND other.block_end_at > NEW.block_start_at
                  AND other.block_start_at > datetime(NEW.block_start_at, '-1 day')
            );
        END
        """
