"""What routes depend on, as Annotated aliases: the container's parts and the authenticated business.

Every dependency is `async def`, even those that never wait: FastAPI runs a plain `def` dependency in
its thread pool: a thread hop per dependency per request.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Request

from slotguard.config import Settings
from slotguard.domain.catalog import Business
from slotguard.domain.errors import NotFound, PaymentProviderError, Unauthorized
from slotguard.services.calendars import StaffCalendars
from slotguard.services.catalog import owned_business
from slotguard.services.fast_path import FastPath
from slotguard.services.ports import Clock, PaymentProvider, UnitOfWorkFactory, UrlGuard
from slotguard.services.shortcuts import Shortcuts


@dataclass(frozen=True)
class Container:
    settings: Settings
    uows: UnitOfWorkFactory
    clock: Clock
    url_guard: UrlGuard  # the outgoing-request guard's set-time check
    # Built once per app: the fast path, refusals in a burst, shared searches for alternatives.
    shortcuts: Shortcuts = field(default_factory=Shortcuts)
    calendars: StaffCalendars | None = None
    # Read units of work on the replica (SLOTGUARD_READ_DATABASE_URL); None: reads go to the primary.
    read_uows: UnitOfWorkFactory | None = None
    # Filled at start-up, once the shared webhook secret is read from the database.
    payments: dict[str, PaymentProvider] = field(default_factory=dict)

    @property
    def fast_path(self) -> FastPath:
        return self.shortcuts.fast

    def payment_provider(self, name: str | None = None) -> PaymentProvider:
        """The provider `name` (a webhook's), or the server's for a new checkout: with none configured a
        checkout is refused (502) before anything is taken."""
        wanted = name or self.settings.payment_provider
        if wanted is None:
            raise PaymentProviderError("no payment provider is configured")
        provider = self.payments.get(wanted)
        if provider is None:
            raise NotFound(f"payment provider {wanted!r}")
        return provider


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


async def _container(request: Request) -> Container:
    return container_of(request)


# FastAPI solves each dependency, and each of its own, again on every request (several microseconds
# each): the routes that take bursts (booking, holds) take the whole container in one, and the parts
# below read it from the request themselves rather than through ContainerDep.
ContainerDep = Annotated[Container, Depends(_container)]


async def _uows(request: Request) -> UnitOfWorkFactory:
    return container_of(request).uows


async def _read_uows(request: Request) -> UnitOfWorkFactory:
    container = container_of(request)
    return container.read_uows or container.uows


async def _clock(request: Request) -> Clock:
    return container_of(request).clock


async def _fast_path(request: Request) -> FastPath:
    return container_of(request).shortcuts.fast


async def _shortcuts(request: Request) -> Shortcuts:
    return container_of(request).shortcuts


async def _url_guard(request: Request) -> UrlGuard:
    return container_of(request).url_guard


async def _calendars(request: Request) -> StaffCalendars:
    container = container_of(request)
    assert container.calendars is not None, "create_app builds the staff calendars"
    return container.calendars


UowsDep = Annotated[UnitOfWorkFactory, Depends(_uows)]
# Reads a customer may see a little late (availability, listings): from the replica when there is one. Never
# for a decision to take time or seats: those run in the use cases' write units of work, on the primary.
ReadUowsDep = Annotated[UnitOfWorkFactory, Depends(_read_uows)]
CalendarsDep = Annotated[StaffCalendars, Depends(_calendars)]
UrlGuardDep = Annotated[UrlGuard, Depends(_url_guard)]
ClockDep = Annotated[Clock, Depends(_clock)]
FastPathDep = Annotated[FastPath, Depends(_fast_path)]
ShortcutsDep = Annotated[Shortcuts, Depends(_shortcuts)]


async def bearer(authorization: Annotated[str | None, Header()] = None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


BearerDep = Annotated[str | None, Depends(bearer)]


async def _owner_business(slug: str, uows: UowsDep, token: BearerDep) -> Business:
    return await owned_business(uows, slug, token)


OwnerBusiness = Annotated[Business, Depends(_owner_business)]


async def _admin(container: ContainerDep, token: BearerDep) -> None:
    expected = container.settings.admin_token
    if expected is None:
        raise NotFound("route (set SLOTGUARD_ADMIN_TOKEN to enable it)")
    if token is None or not hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
        raise Unauthorized()


AdminToken = Depends(_admin)
