"""A business's own abuse limits, read for the middleware that enforces them."""

from __future__ import annotations

from slotguard.services.ports import UnitOfWorkFactory


async def cors_origins_setting(uows: UnitOfWorkFactory, slug: str) -> tuple[str, ...]:
    """The origins the business lets browsers call its public routes from (none if it does not exist)."""
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
    return business.rules.cors_origins if business is not None else ()


async def rate_limit_setting(uows: UnitOfWorkFactory, slug: str) -> str | None:
    """The business's `rateLimit`, or None when it has none (or does not exist): the server's applies."""
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
    return business.rules.rate_limit if business is not None else None
