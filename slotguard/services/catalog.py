"""Setting up a business: the business itself, its services and staff, and owner authentication."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from slotguard.domain.catalog import BookingRules, Business, Service, StaffMember
from slotguard.domain.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from slotguard.services.resources import check_resources_exist
from slotguard.services.retry import with_retries
from slotguard.services.secrets import digest, new_api_key


@dataclass(frozen=True, slots=True)
class NewBusiness:
    business: Business
    api_key: str


@functools.cache
def _iana_zones() -> frozenset[str]:
    # The zone files a system has include some that are no place on Earth: `localtime` (the server's own
    # zone, whatever that is), `Factory`, `posixrules`.
    return frozenset(available_timezones()) - {"localtime", "Factory", "posixrules"}


def check_timezone(name: str) -> None:
    try:
        if name not in _iana_zones():
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            "Unknown time zone", [{"field": "timezone", "message": f"{name!r} is not an IANA time zone"}]
        ) from None


async def create_business(uows: UnitOfWorkFactory, slug: str, name: str, rules: BookingRules) -> NewBusiness:
    check_timezone(rules.timezone)
    api_key = new_api_key()
    business = Business(id=uuid4(), slug=slug, name=name, rules=rules)

    async def attempt(_number: int) -> NewBusiness:
        async with uows(write=True) as uow:
            if await uow.catalog.business_by_slug(slug) is not None:
                raise ValidationFailed("Slug already taken", [{"field": "slug", "message": "already taken"}])
            await uow.catalog.add_business(business, digest(api_key))
            await uow.commit()
        return NewBusiness(business, api_key)

    return await with_retries(attempt)


async def owned_business(uows: UnitOfWorkFactory, slug: str, api_key: str | None) -> Business:
    """The business `slug`, if `api_key` is its key: 401 for no or unknown key, 403 for another's."""
    async with uows(write=False) as uow:
        if not api_key:
            raise Unauthorized()
        business = await uow.catalog.business_by_slug(slug)
        key_owner = await uow.catalog.business_id_by_key_hash(digest(api_key))
        if key_owner is None:
            raise Unauthorized()
        if business is None:
            raise NotFound("business")
        if not hmac.compare_digest(key_owner.bytes, business.id.bytes):
            raise Forbidden()
        return business


async def rotate_api_key(uows: UnitOfWorkFactory, business: Business) -> str:
    """Replace the business's API key; the old one stops working at once, and so do the calendar-feed
    URLs made from it (their tokens are keyed by the stored key's hash)."""
    api_key = new_api_key()

    await _in_write_transaction(uows, lambda uow: uow.catalog.set_api_key_hash(business.id, digest(api_key)))
    return api_key


async def rotate_api_key_of(uows: UnitOfWorkFactory, slug: str) -> str:
    """The operator's way to revoke a leaked key (`slotguard business rotate-key SLUG`)."""
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
    if business is None:
        raise NotFound("business")
    return await rotate_api_key(uows, business)


async def update_business(uows: UnitOfWorkFactory, business: Business, changes: dict[str, Any]) -> Business:
    name = changes.pop("name", business.name)
    rules = replace(business.rules, **changes)
    check_timezone(rules.timezone)
    updated = replace(business, name=name, rules=rules)
    fields = sorted(
        ["name"] * (name != business.name) + [k for k, v in changes.items() if getattr(business.rules, k) != v]
    )

    async def change(uow: UnitOfWork) -> None:
        await uow.catalog.update_business(updated)
        if fields:  # audited as the owner's, at the server's time (setting up takes no clock)
            await uow.audit.record_change(
                business.id, "business_changed", "owner", {"fields": fields}, datetime.now(UTC)
            )

    await _in_write_transaction(uows, change)
    return updated


async def add_service(uows: UnitOfWorkFactory, service: Service) -> Service:
    async def change(uow: UnitOfWork) -> None:
        await check_resources_exist(uow, service.business_id, service.resource_ids)
        await uow.catalog.add_service(service)
        await _audit_creation(uow, service.business_id, "service_created", serviceId=str(service.id), name=service.name)

    await _in_write_transaction(uows, change)
    return service


async def add_staff(uows: UnitOfWorkFactory, member: StaffMember) -> StaffMember:
    async def change(uow: UnitOfWork) -> None:
        await check_services_exist(uow, member.business_id, member.service_ids)
        await uow.catalog.add_staff(member)
        await _audit_creation(uow, member.business_id, "staff_created", staffId=str(member.id), name=member.name)

    await _in_write_transaction(uows, change)
    return member


async def _audit_creation(uow: UnitOfWork, business_id: UUID, action: str, **details: str) -> None:
    """Setting up is the owner's change too: audited as the owner's, at the server's time (setup takes no clock)."""
    await uow.audit.record_change(business_id, action, "owner", details, datetime.now(UTC))


async def _in_write_transaction(uows: UnitOfWorkFactory, change: Callable[[UnitOfWork], Awaitable[None]]) -> None:
    """Apply `change` in one committed write transaction, retried as a whole on transient failures."""

    async def attempt(_number: int) -> None:
        async with uows(write=True) as uow:
            await change(uow)
            await uow.commit()

    await with_retries(attempt)


async def check_services_exist(uow: UnitOfWork, business_id: UUID, service_ids: frozenset[UUID]) -> None:
    known = {s.id for s in await uow.catalog.services(business_id)}
    unknown = sorted(str(sid) for sid in service_ids - known)
    if unknown:
        raise NotFound(f"service {', '.join(unknown)}")


async def public_catalog(uows: UnitOfWorkFactory, slug: str) -> tuple[Business, list[Service], list[StaffMember]]:
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
        if business is None:
            raise NotFound("business")
        services = await uow.catalog.services(business.id)
        staff = [m for m in await uow.catalog.staff(business.id) if m.online_booking_enabled]
        return business, services, staff
