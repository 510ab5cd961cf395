"""Businesses, services, staff and clients: rows ↔ domain objects.

A business's services and staff are read on every booking and availability request and change rarely,
so each process keeps them in memory (`CatalogCache`) under the business's `catalog_version`. The
version comes with the business row, which a request reads anyway; database triggers bump it on every
change to services, staff, their links and time off (migration 0008), when a staff calendar is
connected or disconnected (0019), when the webhook endpoint changes (0020) and when the business row
itself changes (0021), so a change committed anywhere is seen by the next request on every worker, at the
cost of no extra round trip.

A booking goes one step further on PostgreSQL: it may take the business row itself from memory
(`business_by_slug(remembered=True)`), because its claim statement checks the version and stores nothing
if it moved (storage/claims.py). A unit that took it so and stores no such claim checks the version with
one read before its answer stands (`confirm`, called by the unit of work), so nothing is ever decided on
a business that was not current at some moment of the unit.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, RowMapping, bindparam, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.bookings import Client
from slotguard.domain.calendars import CalendarKind
from slotguard.domain.catalog import BookingRules, Business, Resource, Service, StaffMember, WorkingHours
from slotguard.domain.errors import TransientStorageFailure
from slotguard.domain.intervals import Interval
from slotguard.storage.schema import (
    businesses,
    clients,
    resources,
    service_resources,
    services,
    staff,
    staff_calendars,
    staff_services,
    time_off,
    webhook_endpoints,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Catalog:
    """A business's services and staff as of one catalog version, in the order the queries give them."""

    version: int
    services: dict[UUID, Service]
    staff: tuple[StaffMember, ...]
    webhook_url: str | None = None  # where the business's booking events go (migration 0020)
    staff_by_id: dict[UUID, StaffMember] = field(init=False)  # a booking names one of fifty, say

    def __post_init__(self) -> None:
        object.__setattr__(self, "staff_by_id", {member.id: member for member in self.staff})


class CatalogCache:
    """Per process and database: the latest catalog read of the most recently used businesses, and the
    business rows that booking requests may take from memory (`CatalogStore.business_by_slug`)."""

    def __init__(self, max_businesses: int = 512) -> None:
        self._max = max_businesses
        self._entries: OrderedDict[UUID, _Catalog] = OrderedDict()
        self._businesses: OrderedDict[str, tuple[Business, int]] = OrderedDict()

    def business(self, slug: str) -> tuple[Business, int] | None:
        """The business kept under `slug`, with the catalog version it was read at."""
        return self._businesses.get(slug)

    def keep_business(self, business: Business, version: int) -> None:
        _keep_newest(self._businesses, business.slug, (business, version), version, lambda kept: kept[1], self._max)

    def forget_business(self, slug: str) -> None:
        self._businesses.pop(slug, None)

    def get(self, business_id: UUID, version: int) -> _Catalog | None:
        entry = self._entries.get(business_id)
        if entry is None or entry.version != version:
            return None
        self._entries.move_to_end(business_id)
        return entry

    def put(self, business_id: UUID, catalog: _Catalog) -> None:
        _keep_newest(self._entries, business_id, catalog, catalog.version, lambda kept: kept.version, self._max)


def _keep_newest(
    entries: OrderedDict[Any, T], key: Any, entry: T, version: int, version_of: Callable[[T], int], most: int
) -> None:
    """Keep `entry` (read at `version`) under `key` as the most recently used, unless a newer one is there:
    a slower reader must not replace a newer copy. The least recently used beyond `most` are dropped."""
    current = entries.get(key)
    if current is not None and version_of(current) > version:
        return
    entries[key] = entry
    entries.move_to_end(key)
    while len(entries) > most:
        entries.popitem(last=False)


_caches: WeakKeyDictionary[Engine, CatalogCache] = WeakKeyDictionary()


def catalog_cache(conn: AsyncConnection) -> CatalogCache:
    """The cache of the engine (so of the database and process) that `conn` belongs to."""
    return _caches.setdefault(conn.sync_engine, CatalogCache())


class CatalogStore:
    """One transaction's access to the catalog.

    Services and staff come from the process's cache when the version this transaction read for the
    business matches it. A transaction that changed the catalog neither uses nor fills the cache: what
    it reads may never be committed.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._cache = catalog_cache(conn)
        self._versions: dict[UUID, int] = {}  # catalog versions this transaction has read
        self._wrote = False
        # Businesses this unit took from memory whose version no statement has checked yet.
        self._unconfirmed: dict[UUID, tuple[Business, int]] = {}
        # On SQLite a read costs no round trip: memory would save nothing there.
        self._remembers = conn.dialect.name == "postgresql"

    def _changed(self) -> None:
        self._wrote = True

    async def add_business(self, business: Business, api_key_hash: str) -> None:
        self._changed()
        await self._conn.execute(
            businesses.insert().values(
                id=business.id,
                slug=business.slug,
                name=business.name,
                api_key_hash=api_key_hash,
                **_rules_columns(business.rules),
            )
        )

    async def update_business(self, business: Business) -> None:
        self._changed()
        await self._conn.execute(
            update(businesses)
            .where(businesses.c.id == business.id)
            .values(name=business.name, **_rules_columns(business.rules))
        )

    async def set_api_key_hash(self, business_id: UUID, api_key_hash: str) -> None:
        statement = update(businesses).where(businesses.c.id == business_id).values(api_key_hash=api_key_hash)
        await self._conn.execute(statement)

    async def business_by_slug(self, slug: str, *, remembered: bool = False) -> Business | None:
        """The business named `slug`. `remembered`: the caller's claim checks the catalog version (the
        claim statement refuses to store anything if it moved), so on PostgreSQL the business may come
        from the process's memory, which spares a booking one of its two round trips. A unit that took
        it from memory and stores no claim has its version checked at its commit or its end
        (`confirm`); if it moved, the unit fails as transient and is run again on a fresh read.
        """
        if remembered and self._remembers and not self._wrote and (kept := self._cache.business(slug)):
            business, version = kept
            self._versions[business.id] = version
            self._unconfirmed[business.id] = kept
            return business
        row = (await self._conn.execute(_BUSINESS_BY_SLUG, {"slug": slug})).first()
        if row is None:
            return None
        self._versions[row.id] = row.catalog_version
        business = _business(row._mapping)
        if remembered and self._remembers:
            self._cache.keep_business(business, row.catalog_version)
        return business

    def unconfirmed_version(self, business_id: UUID) -> int | None:
        """The catalog version that a claim for `business_id` must find stored: the one the business was
        taken from memory at (None when it was read in this unit, or its version checked already)."""
        kept = self._unconfirmed.get(business_id)
        return kept[1] if kept else None

    def confirmed(self, business_id: UUID, *, current: bool) -> None:
        """What a statement found of a version taken from memory: if it moved, the memory is dropped and
        the unit fails as transient, to be run again on a fresh read."""
        kept = self._unconfirmed.pop(business_id, None)
        if kept is not None and not current:
            self._cache.forget_business(kept[0].slug)
            raise TransientStorageFailure(f"business {kept[0].slug} changed since this process read it")

    async def confirm(self) -> None:
        """Check the versions of the businesses taken from memory that no claim has checked."""
        for business_id, (_, version) in list(self._unconfirmed.items()):
            stored = await self._conn.scalar(_CATALOG_VERSION, {"business_id": business_id})
            self.confirmed(business_id, current=stored == version)

    async def business_by_id(self, business_id: UUID) -> Business | None:
        row = (await self._conn.execute(select(businesses).where(businesses.c.id == business_id))).first()
        if row is None:
            return None
        self._versions[row.id] = row.catalog_version
        return _business(row._mapping)

    async def business_id_by_key_hash(self, api_key_hash: str) -> UUID | None:
        query = select(businesses.c.id).where(businesses.c.api_key_hash == api_key_hash)
        return await self._conn.scalar(query)

    async def api_key_hash(self, business_id: UUID) -> str | None:
        return await self._conn.scalar(select(businesses.c.api_key_hash).where(businesses.c.id == business_id))

    async def add_service(self, service: Service) -> None:
        self._changed()
        values = {f: getattr(service, f) for f in _SERVICE_FIELDS}
        await self._conn.execute(services.insert().values(**values))
        await self._link_resources(service)

    async def service(self, business_id: UUID, service_id: UUID) -> Service | None:
        catalog = await self._catalog(business_id)
        if catalog is not None:
            return catalog.services.get(service_id)
        query = select(services).where(services.c.id == service_id, services.c.business_id == business_id)
        row = (await self._conn.execute(query)).first()
        return (await self._with_resources([_service(row._mapping)]))[0] if row else None

    async def services(self, business_id: UUID) -> list[Service]:
        catalog = await self._catalog(business_id)
        if catalog is not None:
            return list(catalog.services.values())
        return await self._services(business_id)

    async def _services(self, business_id: UUID, *, include_retired: bool = False) -> list[Service]:
        query = select(services).where(services.c.business_id == business_id).order_by(services.c.created_at)
        if not include_retired:
            query = query.where(services.c.retired_at.is_(None))
        return await self._with_resources([_service(row._mapping) for row in await self._conn.execute(query)])

    async def _with_resources(self, found: list[Service]) -> list[Service]:
        """The services with the set of resources each needs one of (migration `claims`)."""
        if not found:
            return found
        links = select(service_resources).where(service_resources.c.service_id.in_([s.id for s in found]))
        needs: dict[UUID, set[UUID]] = defaultdict(set)
        for row in await self._conn.execute(links):
            needs[row.service_id].add(row.resource_id)
        return [replace(s, resource_ids=frozenset(needs[s.id])) if s.id in needs else s for s in found]

    async def _link_resources(self, service: Service) -> None:
        await self._conn.execute(delete(service_resources).where(service_resources.c.service_id == service.id))
        if service.resource_ids:
            rows = [{"service_id": service.id, "resource_id": r} for r in sorted(service.resource_ids)]
            await self._conn.execute(service_resources.insert(), rows)

    async def add_resource(self, resource: Resource) -> None:
        now = datetime.now(UTC)
        await self._conn.execute(resources.insert().values(**_resource_row(resource), created_at=now))

    async def resources(self, business_id: UUID) -> list[Resource]:
        query = select(resources).where(resources.c.business_id == business_id).order_by(resources.c.created_at)
        return [Resource(row.id, row.business_id, row.name) for row in await self._conn.execute(query)]

    async def listed_services(self, business_id: UUID, *, include_retired: bool) -> list[Service]:
        """The owner's list, read past the cache (which holds only what is bookable)."""
        return await self._services(business_id, include_retired=include_retired)

    async def update_service(self, service: Service) -> None:
        self._changed()
        values = {f: getattr(service, f) for f in _SERVICE_FIELDS if f not in ("id", "business_id")}
        await self._conn.execute(
            update(services)
            .where(services.c.id == service.id, services.c.business_id == service.business_id)
            .values(**values)
        )
        await self._link_resources(service)
        await self._link_resources(service)

    async def retire_service(self, business_id: UUID, service_id: UUID, at: datetime) -> bool:
        """Stop offering a service; False if it is unknown or already retired."""
        self._changed()
        return await self._retire(services, business_id, service_id, at)

    async def retire_staff(self, business_id: UUID, staff_id: UUID, at: datetime) -> bool:
        """Stop offering a staff member's time; False if unknown or already retired."""
        self._changed()
        return await self._retire(staff, business_id, staff_id, at)

    async def _retire(self, table: Any, business_id: UUID, row_id: UUID, at: datetime) -> bool:
        result = await self._conn.execute(
            update(table)
            .where(table.c.id == row_id, table.c.business_id == business_id, table.c.retired_at.is_(None))
            .values(retired_at=at)
        )
        return bool(result.rowcount == 1)

    async def add_staff(self, member: StaffMember) -> None:
        self._changed()
        await self._conn.execute(
            staff.insert().values(
                id=member.id,
                business_id=member.business_id,
                name=member.name,
                email=member.email,
                online_booking_enabled=member.online_booking_enabled,
                working_hours=member.working_hours.to_raw(),
            )
        )
        await self._add_links(member)

    async def update_staff(self, member: StaffMember) -> None:
        """Store a staff member's changed details; their services and time off are replaced as a whole."""
        self._changed()
        await self._conn.execute(
            update(staff)
            .where(staff.c.id == member.id, staff.c.business_id == member.business_id)
            .values(
                name=member.name,
                email=member.email,
                online_booking_enabled=member.online_booking_enabled,
                working_hours=member.working_hours.to_raw(),
            )
        )
        await self._conn.execute(delete(staff_services).where(staff_services.c.staff_id == member.id))
        await self._conn.execute(delete(time_off).where(time_off.c.staff_id == member.id))
        await self._add_links(member)

    async def _add_links(self, member: StaffMember) -> None:
        if member.service_ids:
            rows = [{"staff_id": member.id, "service_id": sid} for sid in member.service_ids]
            await self._conn.execute(staff_services.insert(), rows)
        if member.time_off:
            off_rows = [{"staff_id": member.id, "start_at": o.start_at, "end_at": o.end_at} for o in member.time_off]
            await self._conn.execute(time_off.insert(), off_rows)

    async def listed_staff(
        self, business_id: UUID, *, include_retired: bool, staff_id: UUID | None = None
    ) -> list[StaffMember]:
        """The owner's list, read past the cache (which holds only who is bookable)."""
        return await self._staff(business_id, staff_id=staff_id, include_retired=include_retired)

    async def staff(
        self, business_id: UUID, *, service_id: UUID | None = None, staff_id: UUID | None = None
    ) -> list[StaffMember]:
        """Staff of a business, optionally only those offering `service_id` or only `staff_id`."""
        catalog = await self._catalog(business_id)
        if catalog is not None:
            named = catalog.staff if staff_id is None else [catalog.staff_by_id.get(staff_id)]
            return [m for m in named if m is not None and (service_id is None or m.offers(service_id))]
        return await self._staff(business_id, service_id=service_id, staff_id=staff_id)

    async def webhook_url(self, business_id: UUID) -> str | None:
        """The URL of the business's webhook endpoint, None if it has none."""
        catalog = await self._catalog(business_id)
        if catalog is not None:
            return catalog.webhook_url
        url: str | None = await self._conn.scalar(_WEBHOOK_URL, {"business_id": business_id})
        return url

    async def _staff(
        self,
        business_id: UUID,
        *,
        service_id: UUID | None = None,
        staff_id: UUID | None = None,
        include_retired: bool = False,
    ) -> list[StaffMember]:
        query = (
            select(staff, staff_calendars.c.kind.label("calendar_kind"))
            .outerjoin(staff_calendars, staff_calendars.c.staff_id == staff.c.id)
            .where(staff.c.business_id == business_id)
            .order_by(staff.c.created_at, staff.c.id)
        )
        if not include_retired:
            query = query.where(staff.c.retired_at.is_(None))
        if staff_id is not None:
            query = query.where(staff.c.id == staff_id)
        if service_id is not None:
            offering = select(staff_services.c.staff_id).where(staff_services.c.service_id == service_id)
            query = query.where(staff.c.id.in_(offering))
        rows = list(await self._conn.execute(query))
        ids = [row.id for row in rows]
        service_ids, offs = await self._links(ids)
        return [_staff(row._mapping, service_ids[row.id], offs[row.id]) for row in rows]

    async def _catalog(self, business_id: UUID) -> _Catalog | None:
        """The business's services and staff from the cache, read into it if stale; None after a write."""
        if self._wrote:
            return None
        version = self._versions.get(business_id)
        if version is None:
            version = await self._conn.scalar(
                select(businesses.c.catalog_version).where(businesses.c.id == business_id)
            )
            if version is None:
                return None  # no such business: nothing to cache
            self._versions[business_id] = version
        catalog = self._cache.get(business_id, version)
        if catalog is None:
            # Read after the version: on PostgreSQL a later statement may see a newer commit, so the
            # copy is never older than the version it is filed under.
            found = await self._services(business_id)
            members = await self._staff(business_id)
            webhook_url = await self._conn.scalar(_WEBHOOK_URL, {"business_id": business_id})
            catalog = _Catalog(version, {s.id: s for s in found}, tuple(members), webhook_url)
            self._cache.put(business_id, catalog)
        return catalog

    async def _links(self, staff_ids: Sequence[UUID]) -> tuple[dict[UUID, set[UUID]], dict[UUID, list[Interval]]]:
        service_ids: dict[UUID, set[UUID]] = defaultdict(set)
        offs: dict[UUID, list[Interval]] = defaultdict(list)
        if not staff_ids:
            return service_ids, offs
        links = select(staff_services).where(staff_services.c.staff_id.in_(staff_ids))
        for row in await self._conn.execute(links):
            service_ids[row.staff_id].add(row.service_id)
        off_rows = select(time_off).where(time_off.c.staff_id.in_(staff_ids)).order_by(time_off.c.start_at)
        for row in await self._conn.execute(off_rows):
            offs[row.staff_id].append(Interval(row.start_at, row.end_at))
        return service_ids, offs

    async def upsert_client(self, business_id: UUID, client: Client) -> UUID:
        """The business's client with exactly these details, added if there is none. Stored details are
        never changed: a booking keeps the name and phone it was made with, and an anonymous request with
        someone else's email cannot rewrite theirs."""
        return await found_or_added_client(self._conn, business_id, client, datetime.now(UTC))

    async def clients_matching(self, business_id: UUID, text: str, limit: int) -> list[Client]:
        return await _clients_matching(self._conn, business_id, text, limit)


async def found_or_added_client(conn: AsyncConnection, business_id: UUID, client: Client, now: datetime) -> UUID:
    """The business's client with exactly these details, added (as of `now`) if there is none."""
    values = client_row(business_id, client, now)
    if conn.dialect.name == "postgresql":  # one round trip: the read and the insert in one statement
        found: UUID = await conn.scalar(_SAME_OR_ADDED_CLIENT, values)
        return found
    same: UUID | None = await conn.scalar(_SAME_CLIENT, values)
    if same is not None:
        return same
    await conn.execute(_ADD_CLIENT, values)
    added: UUID = values["id"]
    return added


def client_row(business_id: UUID, client: Client, now: datetime) -> dict[str, Any]:
    """The `clients` row of a new client with these details (CLIENT_FIELDS): emails are kept lower-case."""
    return {
        "id": uuid4(),
        "business_id": business_id,
        "email": client.email.lower(),
        "first_name": client.first_name,
        "last_name": client.last_name,
        "phone": client.phone,
        "created_at": now,
    }


async def _clients_matching(conn: AsyncConnection, business_id: UUID, text: str, limit: int) -> list[Client]:
    """A business's clients whose email or name starts with `text` (case-insensitive), erased ones left out."""
    typed = text.lower().replace("\\", "").replace("%", "").replace("_", "")  # wildcards are no search
    if not typed:
        return []
    prefix = typed + "%"
    query = (
        select(clients)
        .where(
            clients.c.business_id == business_id,
            clients.c.erased_at.is_(None),
            or_(
                func.lower(clients.c.email).like(prefix),
                func.lower(clients.c.first_name).like(prefix),
                func.lower(clients.c.last_name).like(prefix),
            ),
        )
        .order_by(clients.c.last_name, clients.c.first_name, clients.c.email)
        .limit(limit)
    )
    return [Client(r.first_name, r.last_name, r.email, r.phone) for r in await conn.execute(query)]


# Built once: every booking sends them, and building statements cost more Python time than the round trip.
CLIENT_FIELDS = ("id", "business_id", "email", "first_name", "last_name", "phone", "created_at")
_ADD_CLIENT = clients.insert().values({name: bindparam(name) for name in CLIENT_FIELDS})


def same_client(prefix: str = "") -> Any:
    """The client with exactly the details given as parameters named `prefix` + each of CLIENT_FIELDS."""
    return (
        select(clients.c.id)
        .where(
            *(
                clients.c[name] == bindparam(prefix + name, type_=clients.c[name].type)
                for name in ("business_id", "email", "first_name", "last_name")
            ),
            clients.c.phone.is_not_distinct_from(bindparam(prefix + "phone", type_=clients.c.phone.type)),
            clients.c.erased_at.is_(None),
        )
        .limit(1)
    )


_SAME_CLIENT = same_client()
# PostgreSQL: the same read, and the insert only if it found nothing (its rows are not visible to the read).
_SAME_OR_ADDED_CLIENT = text(
    """
    WITH same AS (
        SELECT id FROM clients
        WHERE business_id = :business_id AND email = :email AND first_name = :first_name
          AND last_name = :last_name AND phone IS NOT DISTINCT FROM :phone AND erased_at IS NULL
        LIMIT 1
    ), added AS (
        INSERT INTO clients (id, business_id, email, first_name, last_name, phone, created_at)
        SELECT :id, :business_id, :email, :first_name, :last_name, :phone, :created_at
        WHERE NOT EXISTS (SELECT FROM same)
        RETURNING id
    )
    SELECT id FROM same UNION ALL SELECT id FROM added
    """
).bindparams(*(bindparam(name, type_=clients.c[name].type) for name in CLIENT_FIELDS))
_WEBHOOK_URL = select(webhook_endpoints.c.url).where(webhook_endpoints.c.business_id == bindparam("business_id"))
_BUSINESS_BY_SLUG = select(businesses).where(businesses.c.slug == bindparam("slug"))
_CATALOG_VERSION = select(businesses.c.catalog_version).where(businesses.c.id == bindparam("business_id"))


_SERVICE_FIELDS = (
    "id",
    "business_id",
    "name",
    "duration_minutes",
    "price_cents",
    "currency",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "retired_at",
)


def _rules_columns(rules: BookingRules) -> dict[str, Any]:
    return {
        "timezone": rules.timezone,
        "slot_interval_minutes": rules.slot_interval_minutes,
        "min_notice_minutes": rules.min_notice_minutes,
        "horizon_days": rules.horizon_days,
        "hold_ttl_seconds": rules.hold_ttl_seconds,
        "rate_limit": rules.rate_limit,
        "max_active_holds": rules.max_active_holds,
        "cors_origins": list(rules.cors_origins) or None,
        "language": rules.language,
        "change_notice_minutes": rules.change_notice_minutes,
        "reminder_minutes_before": list(rules.reminder_minutes_before),
        "waitlist_offer_minutes": rules.waitlist_offer_minutes,
        "repeat_bookings": rules.repeat_bookings,
    }


def _after_booking_rules(row: RowMapping) -> dict[str, Any]:
    """The settings of migration 0010; a NULL (a business made before it) keeps the default."""
    reminders = row["reminder_minutes_before"]  # [] is "no reminders", NULL the default
    stored = {
        "language": row["language"],
        "change_notice_minutes": row["change_notice_minutes"],
        "reminder_minutes_before": None if reminders is None else tuple(reminders),
        "waitlist_offer_minutes": row["waitlist_offer_minutes"],
        "repeat_bookings": row["repeat_bookings"],
    }
    return {name: value for name, value in stored.items() if value is not None}


def _business(row: RowMapping) -> Business:
    rules = BookingRules(
        timezone=row["timezone"],
        slot_interval_minutes=row["slot_interval_minutes"],
        min_notice_minutes=row["min_notice_minutes"],
        horizon_days=row["horizon_days"],
        hold_ttl_seconds=row["hold_ttl_seconds"],
        rate_limit=row["rate_limit"],
        max_active_holds=row["max_active_holds"],
        cors_origins=tuple(row["cors_origins"] or ()),
        **_after_booking_rules(row),
    )
    return Business(id=row["id"], slug=row["slug"], name=row["name"], rules=rules)


def _service(row: RowMapping) -> Service:
    return Service(**{f: row[f] for f in _SERVICE_FIELDS})


def _staff(row: RowMapping, service_ids: set[UUID], offs: list[Interval]) -> StaffMember:
    return StaffMember(
        id=row["id"],
        business_id=row["business_id"],
        name=row["name"],
        email=row["email"],
        online_booking_enabled=row["online_booking_enabled"],
        service_ids=frozenset(service_ids),
        working_hours=WorkingHours.parse(row["working_hours"]),
        time_off=tuple(offs),
        retired_at=row["retired_at"],
        writes_to_calendar=row["calendar_kind"] == CalendarKind.CALDAV.value,
    )


def _resource_row(resource: Resource) -> dict[str, Any]:
    return {"id": resource.id, "business_id": resource.business_id, "name": resource.name}
