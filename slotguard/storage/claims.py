"""Claims of time: how a set of bookings and all the staff and resource times they keep are stored at
once, or not at all.

The design (schema: table `claims`, created by the claims migration):
- One row per unit of time kept from everyone else: `kind` ("staff" or "resource"), `unit_id` (that staff
  member's or resource's id; ids never collide), the buffered block, and `status`/`expires_at`, which a
  database trigger keeps equal to the booking's own on every UPDATE of it (so a cancel, an expiry or a
  reschedule frees or moves its claims in the same statement, whatever code makes it).
- A claim without a booking (`booking_id` NULL) is a busy time of a staff member's own calendar (`kind`
  "busy", storage/calendars.py), held to the same rule: stored with status `confirmed`, it blocks like a
  booking, so a booking and a sync racing for the same time end with exactly one of them. The part of a
  busy time over time already claimed when it arrived is stored `flagged`: outside the rule (a booking
  made first cannot be refused after the fact), shown to the owner, and still refusing new claims (read
  by the claim, not judged by the constraint: it only exists over a claim the constraint already keeps).
- The rule itself: on PostgreSQL the exclusion constraint `claims_no_overlap` over (unit_id,
  tstzrange(block)) of rows whose status blocks; on SQLite triggers refuse the same rows.
- Taking: on PostgreSQL one statement inserts every claim with `ON CONFLICT DO NOTHING` (racers wait
  for the winner's commit and then see the conflict, where a plain INSERT deadlocks) and, in the same
  statement, the bookings only if every claim went in and no flagged busy time meets them; the claims
  that went in are returned, so the taken ones are known. On SQLite the caller's transaction holds the
  write lock (BEGIN IMMEDIATE), so one read finds the taken units and, if there are none, the rows are
  inserted.
- A row whose hold lapsed but was not yet marked expired still blocks in the database; the caller
  expires such rows (`lapsed_on`) and tries once more.
- Every block is at most MAX_BLOCK_MINUTES long (a longer busy time is stored in pieces), so a lookup of
  the claims meeting a time scans the index on (unit_id, block_start_at) from that far back only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.bookings import BLOCKING_STATUSES, EXPIRING_STATUSES, Booking, Client
from slotguard.domain.catalog import MAX_BLOCK_MINUTES
from slotguard.domain.claims import Claim, Records, Seats, StaffTime, TimeUnit, Unit, time_units_of
from slotguard.domain.intervals import Interval
from slotguard.storage.audit import AuditStore, audit_rows
from slotguard.storage.catalog import CLIENT_FIELDS, client_row, found_or_added_client, same_client
from slotguard.storage.outbox import QUEUED_COLUMNS, OutboxStore, outbox_row
from slotguard.storage.precompiled import execute_precompiled
from slotguard.storage.schema import audit_log, bookings, businesses, claims, clients, outbox, slots
from slotguard.storage.transactions import FINAL

# A claim's kind for a busy time of a staff member's own calendar (its unit is the staff member's time),
# and the status of the part of one that arrived over time already claimed.
BUSY = "busy"
FLAGGED = "flagged"
BLOCKING = [s.value for s in BLOCKING_STATUSES]
_REFUSING = [*BLOCKING, FLAGGED]  # what a new claim may not meet
_EXPIRING = [s.value for s in EXPIRING_STATUSES]
_CLAIM_COLUMNS = (
    "business_id",
    "booking_id",
    "kind",
    "unit_id",
    "block_start_at",
    "block_end_at",
    "status",
    "expires_at",
)
_BOOKING_COLUMNS = tuple(c.name for c in bookings.c if c.name != "holder")
_AUDIT_COLUMNS = tuple(c.name for c in audit_log.c if c.name != "id")  # the id is the log's sequence


async def insert_claimed(
    conn: AsyncConnection,
    claim: Claim,
    rows: list[dict[str, Any]],
    records: Records | None = None,
    *,
    final: bool = False,
    version: int | None = None,
) -> Claimed:
    """Insert the claim's booking `rows` and the claims of all their times, all or nothing, and with them
    the `records` (audit entries and messages) and the bookings' client (found, or added), only if the
    bookings are stored.

    `final`: nothing is written after the claim in its unit of work, so on PostgreSQL a claim of one time
    (stored whole or not at all by its one statement) may commit by itself (storage/transactions.py).

    `version` (PostgreSQL): the business's catalog version that decided the claim; if the stored one
    differs, nothing is stored and `current` is False.

    A claim with `seats` takes them too (a slot's seat booking keeps no time), in the same statement.
    """
    units = claim.time_units
    kept = [row for booking in claim.bookings for row in claim_rows(booking)]
    client = _new_client(claim)
    if conn.dialect.name != "postgresql":
        taken: list[Unit] = list(await taken_units(conn, units))
        if not taken and claim.seats and not await seats_taken(conn, claim.seats):
            taken = [claim.seats]
        if not taken:
            if client is not None:
                client_id = await found_or_added_client(conn, claim.bookings[0].business_id, client, _now(claim))
                rows = [row | {"client_id": client_id} for row in rows]
            await conn.execute(bookings.insert(), rows)
            if kept:
                await conn.execute(claims.insert(), kept)
            await _write(conn, records)
        return Claimed(taken)
    staff = [unit for unit in units if isinstance(unit, StaffTime)]
    statement, params = _statement_of(claim, rows, records, kept, staff, client, version)
    alone = {FINAL: final and (len(kept) == 1 or (not kept and claim.seats is not None))}
    outcome, *_ = result = await execute_precompiled(conn, statement, params, alone)
    if outcome.booked:
        return Claimed([])
    if not outcome.current:  # the business changed: nothing went in (every part is conditional on it)
        return Claimed(list(units), current=False)
    if not kept:  # a slot's seats, or nothing to take
        return Claimed([claim.seats] if claim.seats else [])
    stored = {(r.unit_id, r.block_start_at) for r in result if r.unit_id is not None}
    if stored:  # claims went in, the bookings did not: take them out again, or they would block the next try
        await conn.execute(delete(claims).where(claims.c.booking_id.in_([b.id for b in claim.bookings])))
    taken = [unit for unit in units if (unit.unit_id, unit.block.start_at) not in stored]
    return Claimed(taken or await taken_by_flagged(conn, staff) or list(units))


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a claim found: the units taken by another active claim ([] when everything was stored), and
    whether the business's catalog version was the one given (nothing is stored when it was not)."""

    taken: Sequence[Unit]
    current: bool = True


def claim_statement(
    claim: Claim, rows: list[dict[str, Any]], records: Records | None = None, version: int | None = None
) -> tuple[Any, dict[str, Any]]:
    """PostgreSQL: the one statement that stores `claim` with its booking `rows` and `records` (as
    insert_claimed sends it), and its parameters. The benchmark's floor sends it without the service layer."""
    kept = [row for booking in claim.bookings for row in claim_rows(booking)]
    staff = [unit for unit in claim.time_units if isinstance(unit, StaffTime)]
    return _statement_of(claim, rows, records, kept, staff, _new_client(claim), version)


def _statement_of(
    claim: Claim,
    rows: list[dict[str, Any]],
    records: Records | None,
    kept: list[dict[str, Any]],
    staff: list[StaffTime],
    client: Client | None,
    version: int | None = None,
) -> tuple[Any, dict[str, Any]]:
    audited = audit_rows(records.events, records.at) if records else []
    queued = [outbox_row(m, records.at) for m in records.messages] if records else []
    params = {f"c{i}_{k}": v for i, row in enumerate(kept) for k, v in row.items()} | _overlap_params(staff)
    params |= {f"b{i}_{k}": row.get(k) for i, row in enumerate(rows) for k in _BOOKING_COLUMNS}
    params |= {f"a{i}_{k}": v for i, row in enumerate(audited) for k, v in row.items()}
    params |= {f"o{i}_{k}": v for i, row in enumerate(queued) for k, v in row.items()}
    if client is not None:
        params |= {f"k_{k}": v for k, v in client_row(claim.bookings[0].business_id, client, _now(claim)).items()}
    if claim.seats:
        params |= {"s_slot_id": claim.seats.slot_id, "s_guests": claim.seats.guests}
    if version is not None:
        params |= {"v_business_id": claim.bookings[0].business_id, "v_version": version}
    shape = (len(rows), len(kept), len(staff), len(audited), len(queued), client is not None, claim.seats is not None)
    return _claim_statement(*shape, with_version=version is not None), params


def _new_client(claim: Claim) -> Client | None:
    """The client of a claim whose bookings name one not yet stored (client_id None): it is found or added
    with the bookings. Every booking of a claim is one client's."""
    first = claim.bookings[0]
    if first.client is None or first.client_id is not None:
        return None
    assert all(b.client == first.client and b.client_id is None for b in claim.bookings), "one client a claim"
    return first.client


def _now(claim: Claim) -> datetime:
    return claim.bookings[0].created_at


async def _write(conn: AsyncConnection, records: Records | None) -> None:
    """The records of bookings just stored, in their transaction (where the claim's statement did not)."""
    if records:
        await AuditStore(conn).record(list(records.events), records.at)
        await OutboxStore(conn).add(list(records.messages), records.at)


async def taken_units(
    conn: AsyncConnection, units: Sequence[TimeUnit], other_than: UUID | None = None
) -> list[TimeUnit]:
    """Those of `units` that meet an active claim (not one of booking `other_than`'s) or a flagged busy time."""
    if not units:
        return []
    params = _overlap_params(units) | {"other_than": other_than}
    return _met(units, await conn.execute(_taken_statement(len(units)), params))


async def taken_by_flagged(conn: AsyncConnection, units: Sequence[TimeUnit]) -> list[TimeUnit]:
    """Those of the staff times in `units` that a flagged busy time meets (the rule does not judge those)."""
    staff = [u for u in units if isinstance(u, StaffTime)]
    if not staff:
        return []
    return _met(staff, await conn.execute(_flagged_statement(len(staff)), _overlap_params(staff)))


def _met(units: Sequence[TimeUnit], rows: Any) -> list[TimeUnit]:
    found = [(row.unit_id, Interval(row.block_start_at, row.block_end_at)) for row in rows]
    return [u for u in units if any(uid == u.unit_id and block.overlaps(u.block) for uid, block in found)]


def lapsed_on(conn: AsyncConnection, units: Sequence[TimeUnit], now: datetime) -> tuple[Any, dict[str, Any]]:
    """A query of the bookings whose lapsed claims (a hold or checkout past its expiry, still marked
    as blocking) meet `units`, and its parameters."""
    return _lapsed_statement(len(units), conn.dialect.name), _overlap_params(units) | {"now": now}


async def busy_blocks(
    conn: AsyncConnection, unit_ids: Sequence[UUID], window: Interval, now: datetime
) -> dict[UUID, list[Interval]]:
    params = {
        "unit_ids": list(unit_ids),
        "now": now,
        "window_start": window.start_at,
        "window_end": window.end_at,
        "earliest": window.start_at - timedelta(minutes=MAX_BLOCK_MINUTES),
    }
    busy: dict[UUID, list[Interval]] = {}
    for row in await conn.execute(_BUSY_BLOCKS, params):  # active claims and calendars' busy times
        busy.setdefault(row.unit_id, []).append(Interval(row.block_start_at, row.block_end_at))
    return busy


def _kind(unit: TimeUnit) -> str:
    return "staff" if isinstance(unit, StaffTime) else "resource"


def claim_rows(booking: Booking) -> list[dict[str, Any]]:
    """The rows of `claims` that keep the booking's times."""
    return [
        {
            "business_id": booking.business_id,
            "booking_id": booking.id,
            "kind": _kind(unit),
            "unit_id": unit.unit_id,
            "block_start_at": unit.block.start_at,
            "block_end_at": unit.block.end_at,
            "status": booking.status.value,
            "expires_at": booking.expires_at,
        }
        for unit in time_units_of(booking)
    ]


def _overlap_params(units: Sequence[TimeUnit]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, unit in enumerate(units):
        params[f"u{i}_id"] = unit.unit_id
        params[f"u{i}_start"] = unit.block.start_at
        params[f"u{i}_end"] = unit.block.end_at
        # Blocks are never longer than this, so the index on (unit_id, block_start_at) bounds the scan.
        params[f"u{i}_earliest"] = unit.block.start_at - timedelta(minutes=MAX_BLOCK_MINUTES)
    return params


@cache
def _overlapping(count: int, source: Any = claims) -> ColumnElement[bool]:
    """Claims (of `source`: the table or an alias of it) that meet any of `count` units given as
    parameters (`_overlap_params`)."""
    return or_(
        *(
            and_(
                source.c.unit_id == bindparam(f"u{i}_id", type_=claims.c.unit_id.type),
                source.c.block_start_at < bindparam(f"u{i}_end", type_=claims.c.block_end_at.type),
                source.c.block_end_at > bindparam(f"u{i}_start", type_=claims.c.block_start_at.type),
                source.c.block_start_at > bindparam(f"u{i}_earliest", type_=claims.c.block_start_at.type),
            )
            for i in range(count)
        )
    )


# Statements are built once per shape and cached: building one costs more Python time than sending it.
@cache
def _taken_statement(count: int) -> Any:
    other_than = bindparam("other_than", type_=claims.c.booking_id.type)
    other = or_(claims.c.booking_id.is_(None), other_than.is_(None), claims.c.booking_id != other_than)
    columns = (claims.c.unit_id, claims.c.block_start_at, claims.c.block_end_at)
    return select(*columns).where(_overlapping(count), claims.c.status.in_(_REFUSING), other)


@cache
def _lapsed_statement(count: int, dialect: str) -> Any:
    # On PostgreSQL the database clock judges expiry, so servers with skewed clocks agree.
    now = func.now() if dialect == "postgresql" else bindparam("now", type_=claims.c.expires_at.type)
    lapsed = and_(claims.c.status.in_(_EXPIRING), claims.c.expires_at <= now)
    booking_ids = select(claims.c.booking_id).where(_overlapping(count), lapsed)
    return select(bookings).where(bookings.c.id.in_(booking_ids))


@cache
def _flagged_statement(count: int) -> Any:
    columns = (claims.c.unit_id, claims.c.block_start_at, claims.c.block_end_at)
    return select(*columns).where(_overlapping(count), claims.c.status == FLAGGED)


@cache
def _claim_statement(
    booking_count: int,
    claim_count: int,
    staff_count: int,
    audit_count: int = 0,
    message_count: int = 0,
    with_client: bool = False,
    with_seats: bool = False,
    *,
    with_version: bool = False,
) -> Any:
    """PostgreSQL: insert the claims (ON CONFLICT DO NOTHING), then the bookings only if every claim went
    in and no flagged busy time meets a staff time, with their client (found, or added), audit entries and
    messages, in one statement. `with_version`: all of it only if the business's catalog version is still
    `v_version`.

    The first row says whether the bookings were stored (`booked`) and whether the version was current
    (`current`); the rows name the claims that went in (`unit_id`, `block_start_at`; NULL if none did)."""
    current: Any = _current_catalog() if with_version else true()
    ok: Any = current
    if with_seats:  # a slot's seats: the bookings go in only if the decrement took them (claim_count is 0)
        ok = select(_seats_decrement(current).returning(slots.c.id).cte("seats_taken").c.id).exists()
    claimed: Any = None
    if claim_count:
        claimed = _claimed(claim_count, staff_count, current)
        every_claim_in = select(func.count()).select_from(claimed).scalar_subquery() == claim_count
        if staff_count:
            every_claim_in = and_(every_claim_in, ~_flagged_met(staff_count))
        ok = select(every_claim_in.label("ok")).cte("every_claim_in").select().scalar_subquery()
    chosen = {"client_id": _found_or_added_client(ok)} if with_client else {}
    source = _given_rows(bookings, "b", _BOOKING_COLUMNS, booking_count, "occurrences", chosen).where(ok)
    booked = insert(bookings).from_select(list(_BOOKING_COLUMNS), source).returning(bookings.c.id).cte("booked")
    stored = select(func.count()).select_from(booked).scalar_subquery() > 0
    written = [
        insert(table)
        .from_select(list(columns), _given_rows(table, prefix, columns, count, f"{prefix}_rows").where(stored))
        .cte(f"{table.name}_written")
        for table, prefix, columns, count in (
            (audit_log, "a", _AUDIT_COLUMNS, audit_count),
            (outbox, "o", QUEUED_COLUMNS, message_count),
        )
        if count
    ]
    outcome = select(stored.label("booked"), current.label("current")).cte("outcome")
    # Data-modifying CTEs run whether or not the final SELECT reads them; add_cte renders them.
    if claimed is None:  # a slot's seats: no time to claim
        return select(outcome.c.booked, outcome.c.current).add_cte(*written)
    went_in = outcome.outerjoin(claimed, true())
    columns = (outcome.c.booked, outcome.c.current, claimed.c.unit_id, claimed.c.block_start_at)
    return select(*columns).select_from(went_in).add_cte(*written)


def _current_catalog() -> Any:
    """Whether business `v_business_id`'s catalog version is still `v_version` (storage/catalog.py)."""
    return exists().where(
        businesses.c.id == bindparam("v_business_id", type_=businesses.c.id.type),
        businesses.c.catalog_version == bindparam("v_version", type_=businesses.c.catalog_version.type),
    )


def _found_or_added_client(ok: Any) -> Any:
    """The id of the client with the details given as parameters (CLIENT_FIELDS), added if there is none
    and `ok` holds (the bookings go in): a refused claim stores no one's details."""
    # The parameters are prefixed: an INSERT takes a parameter named as one of its table's columns (`id`)
    # as that column's value.
    same = same_client("k_").cte("same_client")
    details = select(*(bindparam(f"k_{name}", type_=clients.c[name].type) for name in CLIENT_FIELDS))
    added = (
        insert(clients)
        .from_select(list(CLIENT_FIELDS), details.where(~select(same.c.id).exists(), ok))
        .returning(clients.c.id)
        .cte("added_client")
    )
    return func.coalesce(select(same.c.id).scalar_subquery(), select(added.c.id).scalar_subquery())


def _seats_decrement(condition: Any = None) -> Any:
    """Take `s_guests` seats of slot `s_slot_id` if that many are left (and `condition` holds): the
    counter's CHECK (remaining >= 0) guards it too. On PostgreSQL racers queue on the slot's row lock, each
    re-checking once the one before it commits."""
    guests = bindparam("s_guests", type_=slots.c.remaining.type)
    return (
        update(slots)
        .where(
            slots.c.id == bindparam("s_slot_id", type_=slots.c.id.type),
            slots.c.remaining >= guests,
            slots.c.cancelled_at.is_(None),
            *([] if condition is None else [condition]),
        )
        .values(remaining=slots.c.remaining - guests)
    )


async def seats_taken(conn: AsyncConnection, seats: Seats) -> bool:
    """Take the seats if that many are left; False (and nothing changed) otherwise."""
    result = await conn.execute(_seats_decrement(), {"s_slot_id": seats.slot_id, "s_guests": seats.guests})
    return bool(result.rowcount == 1)


def _claimed(claim_count: int, staff_count: int, current: Any) -> Any:
    """The claims given as parameters `c{i}_{column}`, inserted unless they conflict (and only if `current`
    holds); the ones that went in.

    A claim of one staff time is not inserted where a flagged busy time meets it either: then it goes in
    exactly when its booking does, and the statement stores all of it or nothing even in autocommit."""
    source = _given_rows(claims, "c", _CLAIM_COLUMNS, claim_count, "claim_rows").where(current)
    if claim_count == 1 and staff_count == 1:
        source = source.where(~_flagged_met(staff_count))
    return (
        postgresql.insert(claims)
        .from_select(list(_CLAIM_COLUMNS), source)
        .on_conflict_do_nothing()
        .returning(claims.c.unit_id, claims.c.block_start_at)
        .cte("claimed")
    )


def _flagged_met(staff_count: int) -> Any:
    """Whether a flagged busy time meets any of the staff times given as parameters (`_overlap_params`)."""
    flagged = claims.alias("flagged")
    return exists().where(_overlapping(staff_count, flagged), flagged.c.status == FLAGGED)


def _given_rows(
    table: Any, prefix: str, columns: Sequence[str], count: int, name: str, chosen: dict[str, Any] | None = None
) -> Any:
    """A SELECT of `count` rows of `table`'s `columns` given as parameters `{prefix}{i}_{column}` (those in
    `chosen`: that expression instead). Several rows are a UNION ALL of one-row SELECTs, not a VALUES list:
    SQLAlchemy caches the compiled form of the one and compiles the other anew on every execution."""
    chosen = chosen or {}
    if count == 1:
        return select(*(chosen.get(k, bindparam(f"{prefix}0_{k}", type_=table.c[k].type)) for k in columns))
    given = [k for k in columns if k not in chosen]
    rows = union_all(
        *(select(*(bindparam(f"{prefix}{i}_{k}", type_=table.c[k].type).label(k) for k in given)) for i in range(count))
    ).subquery(name)
    return select(*(chosen[k] if k in chosen else rows.c[k] for k in columns))


_BUSY_BLOCKS = select(claims.c.unit_id, claims.c.block_start_at, claims.c.block_end_at).where(
    claims.c.unit_id.in_(bindparam("unit_ids", expanding=True)),
    claims.c.status.in_(_REFUSING),
    or_(claims.c.expires_at.is_(None), claims.c.expires_at > bindparam("now", type_=claims.c.expires_at.type)),
    claims.c.block_start_at < bindparam("window_end", type_=claims.c.block_start_at.type),
    claims.c.block_end_at > bindparam("window_start", type_=claims.c.block_start_at.type),
    claims.c.block_start_at > bindparam("earliest", type_=claims.c.block_start_at.type),
)
