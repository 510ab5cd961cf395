"""Real units of work with hooks, for faults no database can be asked to produce on cue: a lost reply,
a request held up at the door."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory


class HookedUnits:
    """A unit-of-work factory over `uows`; subclasses override `before` and `entered`."""

    def __init__(self, uows: UnitOfWorkFactory) -> None:
        self.uows = uows

    async def before(self, write: bool) -> None:
        """Runs before a unit is entered (before it has a connection)."""

    def entered(self, uow: UnitOfWork) -> None:
        """Runs once a unit is entered; may replace its methods."""

    def __call__(self, *, write: bool) -> Any:
        return _Hooked(self, self.uows(write=write), write)


class _Hooked:
    def __init__(self, hooks: HookedUnits, inner: Any, write: bool) -> None:
        self.hooks, self.inner, self.write = hooks, inner, write

    async def __aenter__(self) -> UnitOfWork:
        await self.hooks.before(self.write)
        uow: UnitOfWork = await self.inner.__aenter__()
        self.hooks.entered(uow)
        return uow

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.inner.__aexit__(kind, exc, tb)
