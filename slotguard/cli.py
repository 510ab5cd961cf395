"""The `slotguard` command: serve, migrate, cleanup, business create, demo, stress, verify."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from slotguard.api.logs import LogFormat

if TYPE_CHECKING:
    from slotguard import stress
    from slotguard.config import Settings
    from slotguard.services.demo import Demo
    from slotguard.services.ports import UnitOfWork

# Each command imports what it needs inside its function: the database, web, stress and verify libraries
# take most of a second to import, and every start (`--help`, a cron job, each server) would pay for all.
# Help as Click writes it: Typer's Rich panels cut long option names short (`--fault-termin…`) in 80 columns.
app = typer.Typer(
    help="slotguard: a booking engine that never sells a slot twice.", no_args_is_help=True, rich_markup_mode=None
)
business_app = typer.Typer(help="Manage businesses without HTTP.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(business_app, name="business")
outbox_app = typer.Typer(help="Notifications waiting to be sent.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(outbox_app, name="outbox")
console = Console()
T = TypeVar("T")
# Uvicorn's bound on a graceful stop: requests still running after it are cancelled.
SHUTDOWN_TIMEOUT_SECONDS = 10
# Above the idle timeouts of common load balancers (60 s) and as nginx's default: uvicorn's own 5 s lets a
# proxy, or a client that opened its connections ahead, reuse a connection just as the server closes it.
KEEP_ALIVE_SECONDS = 75


def _with_storage(settings: Settings, use: Callable[..., Awaitable[T]]) -> T:
    import asyncio

    from slotguard.storage.engine import create_database
    from slotguard.storage.unit_of_work import SqlUnitOfWork

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
    from slotguard.config import Settings
    from slotguard.storage.migrations import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    console.print(f"[green]schema up to date[/] at {settings.database_url}")


def _warn_about_unsafe_settings(settings: Settings) -> None:
    if settings.payment_provider == "local":
        console.print(
            "[bold red]WARNING: SLOTGUARD_PAYMENT_PROVIDER=local: checkouts are confirmed WITHOUT ANY PAYMENT. "
            "For demos and tests only; use stripe (or leave it unset) in production.[/]"
        )
    if settings.payment_provider is None:
        console.print("[yellow]no payment provider is configured[/]: paid checkouts answer 502")
    if settings.rate_limit.strip().lower() == "off":
        console.print("[yellow]SLOTGUARD_RATE_LIMIT=off[/]: the public routes are not rate limited")
    if settings.secret_key is None:
        console.print("[yellow]no SLOTGUARD_SECRET_KEY is set[/]: CalDAV passwords are stored unencrypted")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    demo: Annotated[bool, typer.Option(help="Create (or refresh) the demo salon and print its URLs.")] = False,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            envvar="SLOTGUARD_LOG_FORMAT",
            help="json: one object per line; text: for people. Default: text on a terminal, else json.",
        ),
    ] = None,
    shutdown_timeout: Annotated[
        int, typer.Option(min=1, help="On SIGTERM, seconds to let requests in flight finish.")
    ] = SHUTDOWN_TIMEOUT_SECONDS,
    keep_alive: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="SLOTGUARD_KEEP_ALIVE_SECONDS",
            help="Seconds an idle keep-alive connection stays open. Keep it above the idle timeout of any load "
            "balancer in front, or it will reuse connections just as they close (intermittent 502s).",
        ),
    ] = KEEP_ALIVE_SECONDS,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            envvar="SLOTGUARD_FORWARDED_ALLOW_IPS",
            help="Proxies trusted to tell the client's address in X-Forwarded-For (comma-separated IPs or "
            "networks, or *). Rate limits and hold caps count per client address.",
        ),
    ] = "127.0.0.1",
    socket_per_worker: Annotated[
        bool | None,
        typer.Option(
            "--socket-per-worker/--shared-socket",
            envvar="SLOTGUARD_SOCKET_PER_WORKER",
            help="With several workers: a listening socket each, so that connections opened together are spread "
            "over them, or one shared socket. Default: a socket each where the kernel hands a dying worker's "
            "waiting connections to the others (net.ipv4.tcp_migrate_req = 1), else shared.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the HTTP API (migrations are applied first)."""
    import sys

    import uvicorn

    from slotguard.api.logs import format_for, logging_config
    from slotguard.config import Settings
    from slotguard.listening import own_sockets
    from slotguard.storage.migrations import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    if demo and settings.payment_provider is None:
        os.environ["SLOTGUARD_PAYMENT_PROVIDER"] = "local"  # read again by every worker's create_app
        settings = Settings()
    _warn_about_unsafe_settings(settings)
    if demo:
        from slotguard.services.demo import ensure_demo

        _print_demo(_with_storage(settings, ensure_demo), f"http://{host}:{port}")
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "access_log": False,
        "log_config": logging_config(log_format or format_for(sys.stderr)),
        "timeout_graceful_shutdown": shutdown_timeout,
        "timeout_keep_alive": keep_alive,
        "forwarded_allow_ips": forwarded_allow_ips,
    }
    with _metrics_shared_by(workers):
        if own_sockets(socket_per_worker, workers):
            _run_workers_on_own_sockets(uvicorn.Config("slotguard.api.app:create_app", **options))
        else:
            if workers > 1:
                console.print(
                    "[yellow]the workers share one listening socket[/]: connections opened together may all land "
                    "on one worker (see --socket-per-worker)"
                )
            uvicorn.run("slotguard.api.app:create_app", **options)


def _run_workers_on_own_sockets(config: Any) -> None:
    """uvicorn's supervisor, with a listening socket per worker (slotguard/listening.py)."""
    import logging

    from uvicorn.supervisors import Multiprocess

    from slotguard.listening import reserved

    log = logging.getLogger("uvicorn.error")
    try:
        address = reserved(config.host, config.port)
    except OSError as exc:  # as uvicorn answers a port in use
        log.error(exc)
        raise typer.Exit(3) from exc
    with address:
        log.info(
            "Uvicorn running on http://%s:%d, a listening socket per worker", config.host, address.getsockname()[1]
        )
        Multiprocess(config, sockets=[address]).run()


@contextlib.contextmanager
def _metrics_shared_by(workers: int) -> Iterator[None]:
    """With several workers, let them count into one place (a fresh temporary folder, unless the operator
    named one), so that a scrape answered by any of them shows the sums of all of them."""
    import shutil
    import tempfile

    from slotguard.api.metrics import MULTIPROCESS_DIR_VARIABLE

    if workers == 1 or os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        yield
        return
    folder = tempfile.mkdtemp(prefix="slotguard-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = folder  # inherited by the worker processes
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIR_VARIABLE]
        shutil.rmtree(folder, ignore_errors=True)


@app.command()
def cleanup(
    erase_after_days: Annotated[
        int | None, typer.Option(min=1, help="Also erase personal data of bookings that ended this many days ago.")
    ] = None,
) -> None:
    """Expire lapsed holds and checkouts (giving back their seats) and delete Idempotency-Keys older
    than 24 hours. Run it from cron, e.g. every few minutes; correctness never waits for it."""
    from slotguard.api.app import system_clock  # not at the top: `serve`'s supervisor does without the app
    from slotguard.config import Settings
    from slotguard.services.erasure import erase_ended_before
    from slotguard.services.idempotency import purge_expired_keys
    from slotguard.services.seats import expire_bookings

    settings = Settings()
    expired = _with_storage(settings, lambda uows: expire_bookings(uows, system_clock))
    purged = _with_storage(settings, lambda uows: purge_expired_keys(uows, system_clock))
    console.print(f"expired {expired} lapsed holds and checkouts; purged {purged} expired idempotency keys")
    if erase_after_days is not None:
        erased = _with_storage(settings, lambda uows: erase_ended_before(uows, system_clock, erase_after_days))
        console.print(
            f"erased personal data of {erased.clients} client(s) and the notes of {erased.bookings} booking(s) "
            f"that ended more than {erase_after_days} days ago"
        )


@app.command("erase-client")
def erase_client_command(
    business: Annotated[str, typer.Option(help="The business's slug.")],
    email: Annotated[str, typer.Option(help="The client's email.")],
) -> None:
    """Erase a client's name, email, phone and booking notes; their bookings and audit rows stay."""
    from slotguard.api.app import system_clock  # not at the top: `serve`'s supervisor does without the app
    from slotguard.config import Settings
    from slotguard.domain.errors import NotFound
    from slotguard.services.erasure import erase_client

    settings = Settings()
    try:
        _with_storage(settings, lambda uows: erase_client(uows, system_clock, business, email))
    except NotFound as missing:
        console.print(f"[red]{missing}[/]")
        raise typer.Exit(1) from missing
    console.print(f"erased the personal data of one client of {business}")


@app.command()
def backup(path: Annotated[Path, typer.Argument(help="New file to write the copy to.")]) -> None:
    """Copy the SQLite database to PATH, consistently, while the server keeps running."""
    from slotguard.config import Settings
    from slotguard.storage import backups

    try:
        backups.back_up(Settings().database_url, path)
    except backups.BackupRefused as refusal:
        console.print(f"[red]{refusal}[/]")
        raise typer.Exit(1) from refusal
    console.print(f"[green]backed up[/] to {path}")


@app.command()
def restore(path: Annotated[Path, typer.Argument(help="A file written by `slotguard backup`.")]) -> None:
    """Replace the SQLite database's contents with the backup at PATH. Stop the server first."""
    from slotguard.config import Settings
    from slotguard.storage import backups
    from slotguard.storage.migrations import upgrade

    settings = Settings()
    try:
        backups.restore(path, settings.database_url)
    except backups.BackupRefused as refusal:
        console.print(f"[red]{refusal}[/]")
        raise typer.Exit(1) from refusal
    upgrade(settings.database_url)  # a backup from an older version is brought up to date
    console.print(f"[green]restored[/] {path} into {settings.database_url}")


@app.command("demo")
def demo_command(
    url: Annotated[str, typer.Option(help="Where the server is reachable.")] = "http://127.0.0.1:8000",
) -> None:
    """Create (or refresh) the demo salon and print its ids, API key and URLs."""
    from slotguard.config import Settings
    from slotguard.services.demo import ensure_demo
    from slotguard.storage.migrations import upgrade

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
    from slotguard.config import Settings
    from slotguard.domain.catalog import BookingRules
    from slotguard.services.catalog import check_timezone, create_business
    from slotguard.storage.migrations import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    check_timezone(timezone)
    created = _with_storage(settings, lambda uows: create_business(uows, slug, name, BookingRules(timezone=timezone)))
    console.print(f"business [bold]{created.business.slug}[/] id {created.business.id}")
    console.print(f"API key (shown once, store it now): [bold yellow]{created.api_key}[/]")


@business_app.command("rotate-key")
def business_rotate_key(slug: Annotated[str, typer.Argument(help="The business's slug.")]) -> None:
    """Replace the business's API key and print the new one (shown once). The old key, and every
    calendar-feed URL made from it, stop working at once."""
    from slotguard.config import Settings
    from slotguard.domain.errors import NotFound
    from slotguard.services.catalog import rotate_api_key_of
    from slotguard.storage.migrations import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    try:
        api_key = _with_storage(settings, lambda uows: rotate_api_key_of(uows, slug))
    except NotFound:
        console.print(f"[red]no business {slug!r}[/]")
        raise typer.Exit(1) from None
    console.print(f"new API key of {slug} (shown once, store it now): [bold yellow]{api_key}[/]")
    console.print("the old key and the calendar-feed URLs made from it no longer work")


@outbox_app.command("drain")
def outbox_drain() -> None:
    """Send every due message in the outbox (webhooks; email and SMS when configured), then exit."""
    from slotguard.api.app import outbox_senders, system_clock  # not at the top: see `cleanup`
    from slotguard.config import Settings
    from slotguard.services.notifications import drain_all

    settings = Settings()
    if not settings.smtp_url:
        console.print("[yellow]SLOTGUARD_SMTP_URL is not set[/]: emails stay in the outbox")
    sent = _with_storage(settings, lambda uows: drain_all(uows, system_clock, outbox_senders(settings, uows)))
    console.print(f"sent {sent} message(s)")


def _print_demo(demo: Demo, base_url: str) -> None:
    """One line per link or key: a table cell would break a long URL inside it, and a link split over two
    lines can be neither clicked nor copied whole (soft wrap: the terminal may fold the line, Rich never
    breaks it)."""
    from rich.markup import escape
    from rich.text import Text

    slug = demo.business.slug
    rows = [("booking widget", f"{base_url}/book/{slug}")]
    for service in demo.slot_services:
        slots = [s for s in demo.slots if s.service_id == service.id]
        capacity = max((s.capacity for s in slots), default=0)
        label = f"{service.name}: {len(slots)} slots of {capacity} seat{'s' if capacity != 1 else ''}"
        rows.append((label, f"{base_url}/book/{slug}?service={service.id}"))
    rows += [("owner calendar", f"{base_url}/owner/{slug}"), ("API docs", f"{base_url}/docs")]
    rows.append(("owner API key", demo.api_key))
    rows += [(f"service {service.name}", str(service.id)) for service in demo.services]
    rows += [(f"staff {member.name}", str(member.id)) for member in demo.staff]
    console.print(f"[bold]{escape(demo.business.name)} ({slug})[/]")
    for label, value in rows:
        console.print(f"  {escape(label)}:", Text(value, style="cyan"), soft_wrap=True)


@app.command("stress")
def stress_command(
    url: Annotated[str, typer.Option(envvar="API_URL", help="Base URL of the server.")] = "http://127.0.0.1:8000",
    concurrency: Annotated[
        int, typer.Option(envvar="CONCURRENT_REQUESTS", min=2, max=1000, help="Simultaneous attempts per unit.")
    ] = 100,
    iterations: Annotated[int, typer.Option(envvar="TEST_ITERATIONS", min=1, max=1000, help="Rounds.")] = 1,
    kind: Annotated[
        str, typer.Option(help="appointment (one staff time), slot (a one-seat slot) or seats (parties, C seats).")
    ] = "appointment",
    capacity: Annotated[int, typer.Option(min=1, max=1000, help="Seats of each raced slot (--kind seats).")] = 10,
    guests: Annotated[int, typer.Option(min=1, max=100, help="Party size of each racer (--kind seats).")] = 2,
    admin_token: Annotated[
        str | None, typer.Option(envvar="SLOTGUARD_ADMIN_TOKEN", help="Operator token: create a fixture business.")
    ] = None,
    slug: Annotated[str | None, typer.Option(help="Existing business to race on (instead of a fixture).")] = None,
    service_id: Annotated[str | None, typer.Option(help="Its service.")] = None,
    staff_id: Annotated[str | None, typer.Option(help="Its staff member (--kind appointment).")] = None,
    api_key: Annotated[str | None, typer.Option(help="Its owner API key: reads the stored state back.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Race CONCURRENCY booking attempts at one free unit, ITERATIONS times; exit 1 unless each had the right
    number of winners and the stored state holds exactly them. Slot kinds create their slots (owner API)."""
    import json

    from slotguard import stress

    if kind not in stress.KINDS:
        raise typer.BadParameter(f"--kind is one of {', '.join(stress.KINDS)}")
    if kind == "slot":
        capacity, guests = 1, 1
    elif kind == "seats" and guests > capacity:
        raise typer.BadParameter("--guests must not exceed --capacity")
    plan = stress.StressPlan(
        url.rstrip("/"), concurrency, iterations, admin_token,
        _stress_target(kind, slug, service_id, staff_id, api_key, admin_token),
        kind=kind, capacity=capacity, guests=guests if kind == "seats" else 1,
    )  # fmt: skip
    report = _run_stress(plan)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        _print_stress(report, plan)
    raise typer.Exit(0 if report.ok else 1)


def _stress_target(
    kind: str, slug: str | None, service_id: str | None, staff_id: str | None, api_key: str | None, admin: str | None
) -> stress.Target | None:
    """An existing business to race on, or None for a fixture made with the operator token."""
    from slotguard import stress

    needs_staff = kind == "appointment"
    if slug or service_id or staff_id or api_key:
        if not (slug and service_id and api_key and (staff_id or not needs_staff)):
            staff = "--staff-id, " if needs_staff else ""
            raise typer.BadParameter(f"--slug, --service-id, {staff}and --api-key go together")
        return stress.Target(slug, service_id, staff_id if needs_staff else None, api_key)
    if not admin:
        raise typer.BadParameter("give --admin-token (fixture business) or --slug/--service-id/--staff-id/--api-key")
    return None


def _run_stress(plan: stress.StressPlan) -> stress.Report:
    import asyncio

    from slotguard import stress
    from slotguard.progress import ProgressReport

    description = f"stress: {plan.concurrency} racers x {plan.iterations} iterations ({plan.kind})"
    with ProgressReport(Console(stderr=True), description, plan.iterations) as progress:
        done = 0

        def finished(_iteration: stress.Iteration) -> None:
            nonlocal done
            done += 1
            progress.advanced_to(done)

        return asyncio.run(stress.run(plan, finished))


def _print_stress(report: stress.Report, plan: stress.StressPlan) -> None:
    from rich.table import Table

    if report.setup_error:
        console.print(f"[red]could not run:[/] {report.setup_error}")
    counts, latency = report.counts(), report.latency_ms()
    unit = {"appointment": "one time", "slot": "a one-seat slot"}.get(
        plan.kind, f"{plan.capacity} seats, parties of {plan.guests}"
    )
    table = Table(
        title=f"{plan.concurrency} simultaneous attempts at {unit} x {len(report.iterations)} iterations at {plan.url}"
    )
    table.add_column("")
    table.add_column("", justify="right")
    table.add_row("Total Requests", str(counts["total"]))
    table.add_row("[green]Successful (201)[/]", str(counts["successful"]))
    table.add_row("[yellow]Conflicts (409)[/]", str(counts["conflicts"]))
    table.add_row("[red]Errors (other)[/]", str(counts["errors"]))
    for name, value in latency.items():
        table.add_row(f"latency {name}", f"{value:.1f} ms")
    stored = sum(len(i.stored_ids) for i in report.iterations)
    expected = sum(i.expected_winners for i in report.iterations)
    table.add_row("stored bookings (owner API)", f"{stored} (expected {expected})")
    if plan.kind != "appointment":
        left = sum(i.remaining or 0 for i in report.iterations)
        table.add_row("seats left (owner API)", f"{left} (expected {len(report.iterations) * plan.seats_left()})")
    console.print(table)
    for n, iteration in enumerate(report.iterations):
        for violation in iteration.violations:
            console.print(f"[red]iteration {n} ({iteration.unit.start_time}):[/] {violation}")
    console.print("[bold green]PASS[/]: nothing sold twice" if report.ok else "[bold red]FAIL[/]")


@app.command("verify")
def verify_command(
    admin_token: Annotated[
        str, typer.Option(envvar="SLOTGUARD_ADMIN_TOKEN", help="Operator token (fixture business).")
    ],
    url: Annotated[str, typer.Option(envvar="API_URL", help="Base URL of the server.")] = "http://127.0.0.1:8000",
    operations: Annotated[int, typer.Option(min=1, max=1_000_000, help="Operations in all.")] = 2000,
    clients: Annotated[int, typer.Option(min=1, max=500, help="Concurrent clients.")] = 8,
    seed: Annotated[int | None, typer.Option(help="Random seed, to replay a run's choices.")] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="The server's database: webhook secret, stored seat counters, clean-up job, faults."),
    ] = None,
    webhook_secret: Annotated[
        str | None, typer.Option(envvar="SLOTGUARD_WEBHOOK_SECRET", help="Signs webhooks (else from the database).")
    ] = None,
    hold_ttl_seconds: Annotated[
        int, typer.Option(min=1, max=600, help="Hold and checkout lifetime of the fixture business.")
    ] = 2,
    fault_terminate_connections: Annotated[
        bool, typer.Option(help="Keep terminating the server's database connections (PostgreSQL).")
    ] = False,
    fault_kill_workers: Annotated[
        bool, typer.Option(help="SIGKILL a worker of --server-pid every --kill-interval; its supervisor restarts it.")
    ] = False,
    server_pid: Annotated[int | None, typer.Option(help="The `slotguard serve --workers N` process (N >= 2).")] = None,
    kill_interval: Annotated[float, typer.Option(min=0.1, help="Seconds between worker kills.")] = 3.0,
    terminate_interval: Annotated[float, typer.Option(min=0.01, help="Seconds between terminations.")] = 0.25,
    fault_restart_database: Annotated[
        str | None,
        typer.Option(
            help="Restart the database every --restart-interval with this shell command, e.g. "
            "'pg_ctlcluster 15 main restart' or 'docker restart db'; then wait until it accepts connections."
        ),
    ] = None,
    restart_interval: Annotated[float, typer.Option(min=0.1, help="Seconds between database restarts.")] = 10.0,
    fault_failover_database: Annotated[
        str | None,
        typer.Option(
            help="Fail the database over to its standby every --failover-interval with this shell command, e.g. "
            "'pg_autoctl perform failover'; then wait until --database-url (all hosts, "
            "target_session_attrs=read-write) reaches a writable primary."
        ),
    ] = None,
    failover_interval: Annotated[float, typer.Option(min=0.1, help="Seconds between failovers.")] = 20.0,
    min_database_faults: Annotated[
        int,
        typer.Option(
            min=0, help="Go on past --operations until this many database restarts and failovers have finished."
        ),
    ] = 0,
    outside_kills: Annotated[
        bool,
        typer.Option(
            help="Server processes are killed and started again by something else during the run (one host "
            "behind a load balancer): requests left without reply, or a load balancer's 502/504, are undecided."
        ),
    ] = False,
    log: Annotated[str | None, typer.Option(help="Write every request and reply here (JSON lines).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """A random mix of bookings, holds, seats, checkouts, webhooks, cancels and reschedules, optionally under
    faults; judged against the stored state before and after clean-up. Exit 1 on any broken invariant."""
    import asyncio
    import json

    from slotguard import stress, verify
    from slotguard.progress import ProgressReport

    postgres = (database_url or "").startswith(("postgresql:", "postgres:"))
    needing_postgres = {
        "terminate-connections": fault_terminate_connections,
        "restart-database": fault_restart_database,
        "failover-database": fault_failover_database,
    }
    for name, wanted in needing_postgres.items():
        if wanted and not postgres:
            raise typer.BadParameter(f"--fault-{name} needs --database-url postgresql://…")
    if fault_kill_workers and server_pid is None:
        raise typer.BadParameter("--fault-kill-workers needs --server-pid")
    faults = verify.FaultPlan(
        database_url, fault_terminate_connections, terminate_interval, server_pid, fault_kill_workers, kill_interval,
        fault_restart_database, restart_interval, fault_failover_database, failover_interval, outside_kills,
        min_database_faults,
    )  # fmt: skip
    plan = verify.VerifyPlan(
        url.rstrip("/"), admin_token, operations, clients, seed=seed, database_url=database_url,
        webhook_secret=webhook_secret, hold_ttl_seconds=hold_ttl_seconds, faults=faults,
    )  # fmt: skip
    try:
        with ProgressReport(Console(stderr=True), f"verify: {operations} operations", operations) as progress:
            report = asyncio.run(verify.run(plan, progress))
    except (stress.StressSetupError, OSError) as exc:
        console.print(f"[red]could not run:[/] {exc}")
        raise typer.Exit(2) from exc
    if log:
        with open(log, "w") as out:
            out.write(verify.log_lines(report.log, report.fault_events) + "\n")
    summary = report.as_json()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        console.print(summary)
        console.print("[bold green]PASS[/]" if report.ok else "[bold red]FAIL[/]")
    raise typer.Exit(0 if report.ok else 1)
