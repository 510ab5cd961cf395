"""Tables, as SQLAlchemy Core. Alembic migrations (alembic/versions) create them; this module is the
map the stores query through.

Two guarantees live in the database itself, so that a bug in Python cannot double-book:
- no overlap: every staff member's and resource's time that a booking (or an external busy time) keeps
  is a row of `claims`; on PostgreSQL the exclusion constraint `claims_no_overlap` (btree_gist) over the
  unit and the buffered block of active claims, on SQLite the triggers `claims_no_overlap_*` do the same
  (the claims migration says how claims follow their booking's status);
- no oversell: `slots.remaining` carries `CHECK (remaining >= 0)` and every seat write is a
  conditional decrement.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python; TIMESTAMPTZ on PostgreSQL, naive-UTC text on SQLite (sorts correctly)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database layer")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _created_at() -> Column[Any]:
    return Column("created_at", UtcDateTime, nullable=False, default=lambda: datetime.now(UTC))


BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

businesses = Table(
    "businesses",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("slot_interval_minutes", Integer, nullable=False),
    Column("min_notice_minutes", Integer, nullable=False),
    Column("horizon_days", Integer, nullable=False),
    Column("hold_ttl_seconds", Integer, nullable=False),
    Column("api_key_hash", String(64), nullable=False, unique=True),
    _created_at(),
    # The business's own abuse limits; NULL means the server's defaults (migration 0007).
    Column("rate_limit", String(20)),
    Column("max_active_holds", Integer),
    Column("cors_origins", JSON),
    # After the booking (migration 0010); NULL means the default of each.
    Column("language", String(8)),
    Column("change_notice_minutes", Integer),
    Column("reminder_minutes_before", JSON),
    Column("waitlist_offer_minutes", Integer),
    Column("repeat_bookings", Boolean),  # migration 0016; NULL means no
    # Bumped by triggers on every change to the business's services, staff, their links and time off
    # (migration 0008): the key of each process's in-memory copy of them (storage/catalog.py).
    Column("catalog_version", BigInteger, nullable=False, server_default="0"),
)

services = Table(
    "services",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("buffer_before_minutes", Integer, nullable=False),
    Column("buffer_after_minutes", Integer, nullable=False),
    _created_at(),
    Column("retired_at", UtcDateTime),  # migration 0011: no longer offered; its bookings stay
)

staff = Table(
    "staff",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("email", String(254)),
    Column("online_booking_enabled", Boolean, nullable=False),
    Column("working_hours", JSON, nullable=False),
    _created_at(),
    Column("retired_at", UtcDateTime),  # migration 0011: no longer bookable; their bookings stay
)

staff_services = Table(
    "staff_services",
    metadata,
    Column("staff_id", Uuid, ForeignKey("staff.id"), primary_key=True),
    Column("service_id", Uuid, ForeignKey("services.id"), primary_key=True),
)

time_off = Table(
    "time_off",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("staff_id", Uuid, ForeignKey("staff.id"), nullable=False, index=True),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
)

clients = Table(
    "clients",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("phone", String(40)),
    _created_at(),
    # Set when the client's personal data was erased (migration 0007); the row stays for the bookings.
    Column("erased_at", UtcDateTime),
    # Not unique: one row per set of details an email was booked with (migration 0012).
    Index(None, "business_id", "email"),
)

slots = Table(
    "slots",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False),
    Column("service_id", Uuid, ForeignKey("services.id"), nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("remaining", Integer, nullable=False),
    _created_at(),
    CheckConstraint("remaining >= 0", name="remaining_not_negative"),
    CheckConstraint("remaining <= capacity", name="remaining_within_capacity"),
    CheckConstraint("capacity >= 1", name="capacity_positive"),
    Index(None, "business_id", "start_at"),
    # Migration 0011: a cancelled slot keeps its row (and bookings); of the others, the database
    # refuses a second slot of a service at the same start, however many schedules ask for one.
    Column("cancelled_at", UtcDateTime),
    Index(
        "uq_slots_service_id_start_at",
        "service_id",
        "start_at",
        unique=True,
        postgresql_where=text("cancelled_at IS NULL"),
        sqlite_where=text("cancelled_at IS NULL"),
    ),
)

# The rules that generated a season of slots (migration 0011), kept so the owner can see them.
slot_schedules = Table(
    "slot_schedules",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False, index=True),
    Column("service_id", Uuid, ForeignKey("services.id"), nullable=False),
    Column("rule", JSON, nullable=False),
    Column("created", Integer, nullable=False),
    _created_at(),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(20), nullable=False),
    Column("service_id", Uuid, ForeignKey("services.id"), nullable=False),
    Column("staff_id", Uuid, ForeignKey("staff.id")),
    Column("slot_id", Uuid, ForeignKey("slots.id")),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("block_start_at", UtcDateTime, nullable=False),
    Column("block_end_at", UtcDateTime, nullable=False),
    Column("guests", Integer, nullable=False),
    Column("client_id", Uuid, ForeignKey("clients.id")),
    Column("expires_at", UtcDateTime),
    Column("manage_token_hash", String(64), unique=True),
    Column("notes", Text),
    _created_at(),
    Column("updated_at", UtcDateTime, nullable=False, default=lambda: datetime.now(UTC)),
    CheckConstraint("guests >= 1", name="guests_positive"),
    CheckConstraint("block_start_at < block_end_at", name="block_not_empty"),
    # The overlap check looks up one staff member's blocks by start, bounded by MAX_BLOCK_MINUTES.
    Index(None, "staff_id", "block_start_at"),
    Index(None, "business_id", "start_at"),
    Index(None, "slot_id", "status"),
    # A hash of the address that placed a hold, for the cap on active holds (migration 0007).
    Column("holder", String(64)),
    Index(None, "business_id", "holder"),
    # The claims migration: the resource the booking took beside its staff member, and its repeat series.
    Column("resource_id", Uuid),
    Column("series_id", Uuid),
)

# -- claims and resources (the claims migration) ------------------------------------------------------------

# One row per unit of time kept from everyone else: a booking's staff time, its resource time, or (with no
# booking) an external calendar's busy time. `status` and `expires_at` follow the booking's own (database
# triggers), and an active row is one whose status blocks: the constraint judges those.
claims = Table(
    "claims",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False),
    Column(
        "booking_id",
        Uuid,
        # Deferred: one statement inserts a booking's claims before (or without) the booking itself.
        ForeignKey("bookings.id", ondelete="CASCADE", deferrable=True, initially="DEFERRED"),
        index=True,
    ),
    Column("kind", String(16), nullable=False),  # "staff" or "resource"
    Column("unit_id", Uuid, nullable=False),  # the staff member's or the resource's id
    Column("block_start_at", UtcDateTime, nullable=False),
    Column("block_end_at", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("expires_at", UtcDateTime),
    CheckConstraint("block_start_at < block_end_at", name="block_not_empty"),
    # The overlap check looks up one unit's blocks by start, bounded by MAX_BLOCK_MINUTES.
    Index(None, "unit_id", "block_start_at"),
)

resources = Table(
    "resources",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    _created_at(),
)

# The set of resources a service needs one of.
service_resources = Table(
    "service_resources",
    metadata,
    Column("service_id", Uuid, ForeignKey("services.id"), primary_key=True),
    Column("resource_id", Uuid, ForeignKey("resources.id"), primary_key=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False),
    Column("booking_id", Uuid),
    Column("action", String(40), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20)),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("details", JSON, nullable=False),
    Index(None, "business_id", "booking_id"),
    Index(None, "business_id", "id"),  # migration 0011: a business's newest entries first
)

# -- payments and notifications (migration 0003) -----------------------------------------------------

# One row per provider event ever applied: the primary key is what makes a webhook take effect once,
# even when two deliveries of the same event race each other.
payment_events = Table(
    "payment_events",
    metadata,
    Column("provider", String(20), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("event_type", String(80), nullable=False),
    Column("booking_id", Uuid),
    Column("outcome", String(40), nullable=False),
    _created_at(),
)

# Secrets generated on first start and shared by every server process (e.g. the webhook secret).
instance_secrets = Table(
    "instance_secrets",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("value", String(255), nullable=False),
    _created_at(),
)

# Messages written in the transaction of the booking change they announce; a worker sends them.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False),
    Column("booking_id", Uuid),
    Column("kind", String(40), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("last_error", Text),
    _created_at(),
    Column("status_code", Integer),  # migration 0006: the HTTP status of the last attempt
    Index(None, "status", "next_attempt_at"),
    Index(None, "business_id", "created_at"),
)

# A write request's Idempotency-Key and, once answered, its reply. The primary key is the claim: the
# first INSERT wins, a concurrent one conflicts. `status_code` NULL means the first is still running.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(120), primary_key=True),
    Column("client", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer),
    Column("response_body", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "created_at"),
)

# -- outgoing webhooks (migration 0006) ----------------------------------------------------------------

# One endpoint per business. The secret is kept in clear because every delivery is signed with it.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("business_id", Uuid, ForeignKey("businesses.id"), primary_key=True),
    Column("url", String(254), nullable=False),
    Column("secret", String(100), nullable=False),
    _created_at(),
    Column("updated_at", UtcDateTime, nullable=False),
)


# -- after the booking (migration 0010) ----------------------------------------------------------------

# One row per reminder sent (or skipped): its key is the claim, so two hosts never send the same one, and
# a booking moved to another start gets the reminders of its new time.
reminders = Table(
    "reminders",
    metadata,
    Column("booking_id", Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True),
    Column("minutes_before", Integer, primary_key=True),
    Column("start_at", UtcDateTime, primary_key=True),
    Column("outcome", String(10), nullable=False),  # sent | skipped
    _created_at(),
)

# Manage links beyond the one given at booking (each reminder carries one): the hash opens the booking.
manage_links = Table(
    "manage_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("booking_id", Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
    _created_at(),
)

waitlist_entries = Table(
    "waitlist_entries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False),
    Column("slot_id", Uuid, ForeignKey("slots.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("guests", Integer, nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(40)),
    Column("language", String(8), nullable=False),
    Column("status", String(10), nullable=False),  # waiting | offered | booked | lapsed | removed
    Column("hold_id", Uuid),  # the held booking that keeps the offered seats
    Column("offer_token", String(64)),
    Column("offer_expires_at", UtcDateTime),
    Column("booking_id", Uuid),
    _created_at(),
    UniqueConstraint("slot_id", "position", name="uq_waitlist_entries_slot_id_position"),
    UniqueConstraint("offer_token", name="uq_waitlist_entries_offer_token"),
    Index("ix_waitlist_entries_status_slot_id", "status", "slot_id"),
)

# -- external calendars (migration 0013) ---------------------------------------------------------------

# One connected calendar per staff member. The password is stored for the next sync and never read out
# by anything but the calendar adapter (not returned, logged or audited). `due_at` is when the next sync
# is wanted, pushed ahead while a worker holds it (storage/leases.py).
staff_calendars = Table(
    "staff_calendars",
    metadata,
    Column("staff_id", Uuid, ForeignKey("staff.id"), primary_key=True),
    Column("business_id", Uuid, ForeignKey("businesses.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("username", String(254)),
    Column("password", Text),  # sealed (adapters/sealing.py) when the server has a secret key
    Column("status", String(10), nullable=False),
    Column("error", Text),
    Column("last_synced_at", UtcDateTime),
    Column("busy_count", Integer, nullable=False),
    Column("etag", String(255)),
    Column("ctag", String(255)),
    Column("sync_token", String(1000)),
    Column("expanded_until", UtcDateTime),
    Column("failures", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False, index=True),
    _created_at(),
)

# The busy times of each object of a CalDAV calendar that keeps sync-tokens, as last read (JSON: a list of
# [uid, start, end] in ISO UTC): a sync that reads only the changed objects recomputes the staff member's
# busy times from these. The busy times themselves are claims (storage/calendars.py).
calendar_objects = Table(
    "calendar_objects",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("staff_id", Uuid, ForeignKey("staff.id"), nullable=False, index=True),
    Column("href", String(2000), nullable=False),
    Column("busy", Text, nullable=False),
)
