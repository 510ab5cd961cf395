"""The `slotguard` command: serve, migrate, cleanup, business create, demo."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from slotguard.config import Settings
from slotguard.domain.catalog import BookingRules
from slotguard.services.catalog import check_timezone, create_business
from slotguard.services.demo import Demo, ensure_demo
from slotguard.services.idempotency import purge_expired_keys
from slotguard.services.ports import UnitOfWork
from slotguard.storage.engine import create_database
from slotguard.storage.migrations import upgrade
from slotguard.storage.unit_of_work import SqlUnitOfWork

app = typer.Typer(help="slotguard: a booking engine that never sells a slot twice.", no_args_is_help=True)
business_app = typer.Typer(help="Manage businesses without HTTP.", no_args_is_help=True)
app.add_typer(business_app, name="business")
console = Console()
T = TypeVar("T")


def _with_storage(settings: Settings, use: Callable[..., Awaitable[T]]) -> T:
    async def run() -> T:
        database = create_database(settings.database_url, pool_size=2)

        def uows(*, write: bool) -> UnitOfWork:
            return SqlUnitOfWork(database, write=write)

        try:
            return await use(uows)
        finally:
            await database.dispose()

    return asyncio.run(run())


@app.command()
def migrate() -> None:
    """Apply database migrations (also done by `serve` on start)."""
    settings = Settings()
    upgrade(settings.database_url)
    console.print(f"[green]schema up to date[/] at {settings.database_url}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    demo: Annotated[bool, typer.Option(help="Create (or refresh) the demo salon and print its URLs.")] = False,
) -> None:
    """Run the HTTP API (migrations are applied first)."""
    settings = Settings()
    upgrade(settings.database_url)
    if demo:
        _print_demo(_with_storage(settings, ensure_demo), f"http://{host}:{port}")
    uvicorn.run(
        "slotguard.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


@app.command()
def cleanup() -> None:
    """Delete Idempotency-Keys older than 24 hours (run it from cron, e.g. hourly)."""
    settings = Settings()
    purged = _with_storage(settings, lambda uows: purge_expired_keys(uows, lambda: datetime.now(UTC)))
    console.print(f"purged {purged} expired idempotency keys")


@app.command("demo")
def demo_command(
    url: Annotated[str, typer.Option(help="Where the server is reachable.")] = "http://127.0.0.1:8000",
) -> None:
    """Create (or refresh) the demo salon and print its ids, API key and URLs."""
    settings = Settings()
    upgrade(settings.database_url)
    _print_demo(_with_storage(settings, ensure_demo), url)


@business_app.command("create")
def business_create(
    slug: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    timezone: Annotated[str, typer.Option()],
) -> None:
    """Create a business and print its API key (shown once)."""
    settings = Settings()
    upgrade(settings.database_url)
    check_timezone(timezone)
    created = _with_storage(settings, lambda uows: create_business(uows, slug, name, BookingRules(timezone=timezone)))
    console.print(f"business [bold]{created.business.slug}[/] id {created.business.id}")
    console.print(f"API key (shown once, store it now): [bold yellow]{created.api_key}[/]")


def _print_demo(demo: Demo, base_url: str) -> None:
    slug = demo.business.slug
    table = Table(title=f"{demo.business.name} ({slug})", show_header=False)
    table.add_row("booking widget", f"{base_url}/book/{slug}")
    table.add_row("owner calendar", f"{base_url}/owner/{slug}")
    table.add_row("API docs", f"{base_url}/docs")
    table.add_row("owner API key", demo.api_key)
    for service in demo.services:
        table.add_row(f"service {service.name}", str(service.id))
    for member in demo.staff:
        table.add_row(f"staff {member.name}", str(member.id))
    console.print(table)
