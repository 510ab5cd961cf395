"""The owner changing what the business offers: services and staff read, changed and retired.

Every change is audited with actor `owner`, in the change's own transaction. No change here touches a
booking: hours, time off, durations and retirement decide what can be booked from now on, and every
existing booking keeps its time, staff member and status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from slotguard.domain.catalog import Business, Service, StaffMember
from slotguard.domain.errors import NotFound
from slotguard.services.catalog import check_services_exist
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.resources import check_resources_exist
from slotguard.services.retry import with_retries

OWNER = "owner"

T = TypeVar("T")


async def services_of(uows: UnitOfWorkFactory, business: Business, *, include_retired: bool) -> list[Service]:
    async with uows(write=False) as uow:
        return await uow.catalog.listed_services(business.id, include_retired=include_retired)


async def service_of(uows: UnitOfWorkFactory, business: Business, service_id: UUID) -> Service:
    async with uows(write=False) as uow:
        return await _service(uow, business, service_id)


async def staff_of(uows: UnitOfWorkFactory, business: Business, *, include_retired: bool) -> list[StaffMember]:
    async with uows(write=False) as uow:
        return await uow.catalog.listed_staff(business.id, include_retired=include_retired)


async def staff_member_of(uows: UnitOfWorkFactory, business: Business, staff_id: UUID) -> StaffMember:
    async with uows(write=False) as uow:
        return await _staff_member(uow, business, staff_id)


async def change_service(
    uows: UnitOfWorkFactory, clock: Clock, business: Business, service_id: UUID, change: Callable[[Service], Service]
) -> Service:
    """Apply `change` to the service as stored now; raises what `change` raises, changing nothing."""

    async def apply(uow: UnitOfWork, now: datetime) -> Service:
        current = await _service(uow, business, service_id)
        updated = change(current)
        await check_resources_exist(uow, business.id, updated.resource_ids)
        await uow.catalog.update_service(updated)
        await _audit(
            uow, business, "service_changed", now, serviceId=str(service_id), fields=_changed(current, updated)
        )
        return updated

    return await _in_write_transaction(uows, clock, apply)


async def change_staff(
    uows: UnitOfWorkFactory,
    clock: Clock,
    business: Business,
    staff_id: UUID,
    change: Callable[[StaffMember], StaffMember],
) -> StaffMember:
    """Apply `change` to the staff member as stored now (services must exist); bookings stay as they are."""

    async def apply(uow: UnitOfWork, now: datetime) -> StaffMember:
        current = await _staff_member(uow, business, staff_id)
        updated = change(current)
        await check_services_exist(uow, business.id, updated.service_ids - current.service_ids)
        await uow.catalog.update_staff(updated)
        await _audit(uow, business, "staff_changed", now, staffId=str(staff_id), fields=_changed(current, updated))
        return updated

    return await _in_write_transaction(uows, clock, apply)


async def retire_service(uows: UnitOfWorkFactory, clock: Clock, business: Business, service_id: UUID) -> None:
    async def apply(uow: UnitOfWork, now: datetime) -> None:
        await _service(uow, business, service_id)  # 404 for an unknown one; retiring twice is no change
        if await uow.catalog.retire_service(business.id, service_id, now):
            await _audit(uow, business, "service_retired", now, serviceId=str(service_id))

    await _in_write_transaction(uows, clock, apply)


async def retire_staff(uows: UnitOfWorkFactory, clock: Clock, business: Business, staff_id: UUID) -> None:
    async def apply(uow: UnitOfWork, now: datetime) -> None:
        await _staff_member(uow, business, staff_id)
        if await uow.catalog.retire_staff(business.id, staff_id, now):
            await _audit(uow, business, "staff_retired", now, staffId=str(staff_id))

    await _in_write_transaction(uows, clock, apply)


async def _service(uow: UnitOfWork, business: Business, service_id: UUID) -> Service:
    found = [s for s in await uow.catalog.listed_services(business.id, include_retired=True) if s.id == service_id]
    if not found:
        raise NotFound("service")
    return found[0]


async def _staff_member(uow: UnitOfWork, business: Business, staff_id: UUID) -> StaffMember:
    found = await uow.catalog.listed_staff(business.id, include_retired=True, staff_id=staff_id)
    if not found:
        raise NotFound("staff member")
    return found[0]


def _changed(before: Any, after: Any) -> list[str]:
    return [name for name in before.__slots__ if getattr(before, name) != getattr(after, name)]


async def _audit(uow: UnitOfWork, business: Business, action: str, now: datetime, **details: Any) -> None:
    await uow.audit.record_change(business.id, action, OWNER, details, now)


async def _in_write_transaction(
    uows: UnitOfWorkFactory, clock: Clock, apply: Callable[[UnitOfWork, datetime], Awaitable[T]]
) -> T:
    async def attempt(_number: int) -> T:
        async with uows(write=True) as uow:
            result: T = await apply(uow, clock())
            await uow.commit()
            return result

    return await with_retries(attempt)
