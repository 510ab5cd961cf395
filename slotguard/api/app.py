"""The composition root: settings in, a wired FastAPI app out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI

import slotguard
from slotguard.api import errors
from slotguard.api.deps import Container
from slotguard.api.limits import BodySizeLimit
from slotguard.api.routers import feeds, live, operator, ops, owner, pages, public
from slotguard.config import Settings
from slotguard.services.ports import Clock, UnitOfWork
from slotguard.storage.engine import Database, create_database
from slotguard.storage.unit_of_work import SqlUnitOfWork


def system_clock() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    database: Database = create_database(settings.database_url, pool_size=settings.pool_size)

    def uows(*, write: bool) -> UnitOfWork:
        return SqlUnitOfWork(database, write=write)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await database.dispose()

    app = FastAPI(
        title="slotguard",
        version=slotguard.__version__,
        description="A booking engine whose first promise is that a slot can never be sold twice.",
        lifespan=lifespan,
    )
    app.state.container = Container(settings=settings, uows=uows, clock=clock)
    app.state.database = database
    errors.install(app)
    for module in (ops, operator, owner, live, feeds, public, pages):
        app.include_router(module.router)
    app.mount("/web", pages.static_files, name="web")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
