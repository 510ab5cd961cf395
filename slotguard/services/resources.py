"""Resources: rooms, chairs, lifts, boats that a service needs one of, beside its staff member."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID, uuid4

from slotguard.domain.catalog import Business, Resource
from slotguard.domain.errors import NotFound
from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries


async def add_resource(uows: UnitOfWorkFactory, business: Business, name: str) -> Resource:
    resource = Resource(uuid4(), business.id, name)

    async def attempt(_number: int) -> Resource:
        async with uows(write=True) as uow:
            await uow.catalog.add_resource(resource)
            await uow.commit()
            return resource

    return await with_retries(attempt)


async def resources_of(uows: UnitOfWorkFactory, business: Business) -> list[Resource]:
    async with uows(write=False) as uow:
        return await uow.catalog.resources(business.id)


async def check_resources_exist(uow: UnitOfWork, business_id: UUID, resource_ids: Iterable[UUID]) -> None:
    """NotFound naming the resources that are not this business's."""
    known = {r.id for r in await uow.catalog.resources(business_id)}
    unknown = sorted(str(rid) for rid in set(resource_ids) - known)
    if unknown:
        raise NotFound(f"resource {', '.join(unknown)}")
