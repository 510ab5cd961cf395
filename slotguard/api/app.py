"""The composition root: settings in, a wired FastAPI app out."""

from __future__ import annotations

import functools
import gc
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

import slotguard
from slotguard.adapters.calendars import RemoteCalendars
from slotguard.adapters.mail import SmtpMailer
from slotguard.adapters.outbound import OutboundGuard, OutboundPolicy
from slotguard.adapters.payments.local import LocalPaymentProvider
from slotguard.adapters.payments.stripe import StripePaymentProvider
from slotguard.adapters.rate_limits import InProcessBuckets
from slotguard.adapters.sealing import PasswordSeal
from slotguard.adapters.sms import TwilioSms
from slotguard.adapters.webhooks import HttpWebhookPoster
from slotguard.api import errors
from slotguard.api.cors import BusinessCors
from slotguard.api.deps import Container
from slotguard.api.headers import SecurityHeaders
from slotguard.api.idempotency import IdempotentWrites
from slotguard.api.limits import BodySizeLimit, NoNulCharacters
from slotguard.api.logs import record_only_what_lines_show
from slotguard.api.metrics import Metrics
from slotguard.api.overload import LoadShedding
from slotguard.api.rate_limits import Buckets, BucketsByLimit, PublicRateLimit
from slotguard.api.routers import (
    api_keys,
    desk,
    feeds,
    live,
    operator,
    ops,
    owner,
    owner_slots,
    pages,
    payments,
    public,
    resources,
    setup,
    slots,
    staff_calendars,
    waitlists,
    webhook_endpoints,
)
from slotguard.api.telemetry import REQUEST_ID_HEADER, RequestTelemetry
from slotguard.config import Settings
from slotguard.domain.errors import TransientStorageFailure
from slotguard.domain.messages import PageLinks
from slotguard.domain.rate_limits import RateLimit
from slotguard.services.calendar_writes import CalendarEvents
from slotguard.services.calendars import POLL_SECONDS, StaffCalendars
from slotguard.services.fast_path import NO_FAST_PATH, FastPath
from slotguard.services.limits import cors_origins_setting, rate_limit_setting
from slotguard.services.notifications import outbox_job
from slotguard.services.outgoing_webhooks import SignedWebhooks
from slotguard.services.periodic import PeriodicJob, PeriodicJobs
from slotguard.services.ports import Clock, PaymentProvider, Sender, UnitOfWork, UnitOfWorkFactory
from slotguard.services.reminders import send_due_reminders
from slotguard.services.retry import retry_observer, with_retries
from slotguard.services.shortcuts import Shortcuts
from slotguard.services.waitlists import make_offers
from slotguard.storage.dialects import is_transient
from slotguard.storage.engine import Database, create_database
from slotguard.storage.migrations import applied_revisions, head_revisions
from slotguard.storage.payments import ensure_instance_secret
from slotguard.storage.unit_of_work import SqlUnitOfWork

# Several seconds of jittered backoff before a worker gives up starting.
STARTUP_ATTEMPTS = 30
FIRST_GENERATION_THRESHOLD = 10_000  # see _collect_garbage_as_a_server


def system_clock() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    record_only_what_lines_show()
    database: Database = create_database(
        settings.database_url, pool_size=settings.pool_size, max_wait_seconds=settings.max_queue_wait_seconds
    )
    metrics = Metrics(pool_capacity=database.pool_capacity)
    database.watch_pool(metrics.pool_changed)
    database.queue.observer = metrics

    limit = RateLimit.parse(settings.rate_limit)
    buckets = BucketsByLimit(lambda any_limit: _buckets(any_limit, settings.redis_url))

    def uows(*, write: bool) -> UnitOfWork:
        return SqlUnitOfWork(database, write=write)

    replica = (
        create_database(settings.read_database_url, pool_size=settings.pool_size)
        if settings.read_database_url
        else None
    )

    def read_uows(*, write: bool) -> UnitOfWork:
        """Reads from the replica; anything that writes goes to the primary."""
        return SqlUnitOfWork(replica, write=False) if replica is not None and not write else uows(write=write)

    fast_path = _fast_path(settings.redis_url)
    guard = outbound_guard(settings)
    calendars = calendars_of(settings, uows, clock, guard)
    shortcuts = Shortcuts.for_server(fast_path)
    container = Container(
        settings=settings,
        uows=uows,
        clock=clock,
        url_guard=guard,
        shortcuts=shortcuts,
        calendars=calendars,
        read_uows=read_uows if replica is not None else None,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        metrics.forget_dead_workers()
        container.payments.update(await payment_providers(settings, database))
        retry_observer.set(metrics)  # the outbox worker's retries count too
        periodic = PeriodicJobs(
            [*_periodic_jobs(settings, uows, clock, guard, calendars), *_after_sale_jobs(settings, uows, clock)]
        )
        periodic.start()
        _collect_garbage_as_a_server()
        metrics.worker_started()
        yield
        await periodic.stop()
        await buckets.close()
        await fast_path.close()
        await database.dispose()
        if replica is not None:
            await replica.dispose()
        metrics.close()

    async def schema_revisions() -> tuple[frozenset[str], frozenset[str]]:
        return await applied_revisions(database), head_revisions()

    app = FastAPI(
        title="slotguard",
        version=slotguard.__version__,
        description="A booking engine whose first promise is that a slot can never be sold twice.",
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.database = database
    app.state.metrics = metrics
    app.state.schema_revisions = schema_revisions
    errors.install(app)
    # Routes are matched in order, one path pattern after another: the public booking routes, which
    # take the bursts, come first. Their order does not change which route a request reaches: paths of
    # different routers overlap only where a manage token would be a word such as `slots`.
    modules = (
        public,
        slots,
        payments,
        ops,
        operator,
        owner,
        resources,
        desk,
        owner_slots,
        setup,
        live,
        feeds,
        pages,
        webhook_endpoints,
        api_keys,
        staff_calendars,
    )
    routers = [module.router for module in modules] + [waitlists.public_router, waitlists.owner_router]
    for router in routers:
        app.include_router(router)
    app.mount("/web", pages.static_files, name="web")
    # Added last = outermost: telemetry, headers, CORS, rate limit, body limit, then idempotency reads the body.
    admin_token = settings.admin_token.get_secret_value() if settings.admin_token else None
    app.add_middleware(
        IdempotentWrites, uows=uows, clock=clock, test_hooks=settings.test_hooks, admin_token=admin_token
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        body_idle_seconds=settings.body_idle_seconds,
        body_total_seconds=settings.body_total_seconds,
    )
    app.add_middleware(NoNulCharacters)
    setting_of = functools.partial(rate_limit_setting, uows)
    app.add_middleware(PublicRateLimit, buckets=buckets, default=limit, setting_of=setting_of)
    app.add_middleware(
        LoadShedding,
        longest_wait=database.queue.longest_wait_seconds,
        limit_seconds=settings.shed_after_wait_seconds,
        on_shed=metrics.refused_at_door,
    )
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    app.add_middleware(
        BusinessCors,
        server_origins=origins,
        origins_of=functools.partial(cors_origins_setting, uows),
        allow_methods=["GET", "POST", "PATCH"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", REQUEST_ID_HEADER],
        expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        max_age=600,
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestTelemetry, metrics=metrics, routes=[route for r in routers for route in r.routes])
    return app


def _collect_garbage_as_a_server() -> None:
    """Leave the objects made at start-up (modules, routes, schemas: about 200,000) out of garbage collection,
    and collect less often.

    The objects made at start-up live as long as the process, yet each full collection went through all of
    them again: 60-80 ms in which the worker answered nobody, every few thousand requests.

    A booking allocates thousands of objects that die with its request, freed at once by reference counting.
    With Python's first threshold (700 objects allocated and not yet freed) the collector ran several times
    within each request, scanning the request's live objects each time and moving them up a generation to be
    scanned again. At 10,000 it runs once in several requests, when most of them are gone: 13-40 µs of
    collection a booking before, under 2 µs after (a warm worker, 3,000 bookings, timed with `gc.callbacks`). Cyclic
    garbage (an exception with its traceback) waits longer to be freed: a few MiB at most.

    Once per process (tests make many apps).
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
        gc.set_threshold(FIRST_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


async def payment_providers(settings: Settings, database: Database) -> dict[str, PaymentProvider]:
    """The local provider only when chosen (it confirms without payment: demos and tests), Stripe when
    it is configured."""
    secret = await webhook_secret(settings, database)
    providers: dict[str, PaymentProvider] = {}
    if settings.payment_provider == "local":
        providers["local"] = LocalPaymentProvider(secret, settings.public_url)
    if settings.stripe_api_key is not None:
        providers["stripe"] = StripePaymentProvider(settings.stripe_api_key.get_secret_value(), secret)
    return providers


async def webhook_secret(settings: Settings, database: Database) -> str:
    """SLOTGUARD_WEBHOOK_SECRET, or one generated on first start and stored so all workers share it."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    generated = f"whsec_{secrets.token_urlsafe(32)}"

    # Retried like any write: a worker restarting while the database drops connections (a failover)
    # must not fail its start-up, which would stop the whole server.
    async def attempt(_number: int) -> str:
        try:
            async with database.engine.begin() as conn:
                return await ensure_instance_secret(conn, "webhook_secret", generated)
        except Exception as failure:
            if is_transient(failure):
                raise TransientStorageFailure(str(failure)) from failure
            raise

    return await with_retries(attempt, attempts=STARTUP_ATTEMPTS)


def outbound_guard(settings: Settings) -> OutboundGuard:
    """The one outgoing-request guard (SPEC §10.1) that every URL chosen by an owner goes through."""
    policy = OutboundPolicy(allow_http=settings.outbound_allow_http, allow_private=settings.outbound_allow_private)
    return OutboundGuard(policy)


def calendars_of(settings: Settings, uows: UnitOfWorkFactory, clock: Clock, guard: OutboundGuard) -> StaffCalendars:
    """Staff members' own calendars, read and written through the outgoing-request guard."""
    every = timedelta(seconds=settings.calendar_sync_seconds)
    return StaffCalendars(uows, clock, RemoteCalendars(guard.policy), guard, every, PasswordSeal(settings.secret_key))


def _periodic_jobs(
    settings: Settings, uows: UnitOfWorkFactory, clock: Clock, guard: OutboundGuard, calendars: StaffCalendars
) -> list[PeriodicJob]:
    """What every host runs in the background; each job claims its work in the database (SPEC §10)."""
    jobs = []
    if settings.outbox_worker:
        jobs.append(outbox_job(uows, clock, outbox_senders(settings, uows, guard, clock)))
        idle_seconds = min(POLL_SECONDS, settings.calendar_sync_seconds)
        jobs.append(PeriodicJob("calendar sync", calendars.sync_due, idle_seconds=idle_seconds))
    return jobs


def _after_sale_jobs(settings: Settings, uows: UnitOfWorkFactory, clock: Clock) -> list[PeriodicJob]:
    """Reminders (and waitlist offers) on every worker of every host: each piece is claimed in the database."""
    links = PageLinks(settings.public_url)
    jobs = []
    if settings.reminder_seconds > 0:
        work = functools.partial(send_due_reminders, uows, clock, links)
        jobs.append(PeriodicJob("reminders", work, idle_seconds=settings.reminder_seconds))
    if settings.waitlist_offer_seconds > 0:
        offers = functools.partial(make_offers, uows, clock, links)
        jobs.append(PeriodicJob("waitlist offers", offers, idle_seconds=settings.waitlist_offer_seconds))
    return jobs


def outbox_senders(
    settings: Settings, uows: UnitOfWorkFactory, guard: OutboundGuard | None = None, clock: Clock = system_clock
) -> dict[str, Sender]:
    """Webhooks and calendar events always (through the outgoing-request guard); email and SMS when
    configured (otherwise they wait in the outbox, visible)."""
    guard = guard or outbound_guard(settings)
    webhooks = HttpWebhookPoster(guard)
    senders: dict[str, Sender] = {
        "webhook": SignedWebhooks(uows, webhooks),
        "calendar": CalendarEvents(uows, clock, RemoteCalendars(guard.policy), PasswordSeal(settings.secret_key)),
    }
    if settings.smtp_url:
        senders["email"] = SmtpMailer(settings.smtp_url, settings.smtp_from)
    twilio = (settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from)
    if twilio[0] and twilio[1] and twilio[2]:
        sid, token, sender = twilio[0], twilio[1].get_secret_value(), twilio[2]
        senders["sms"] = TwilioSms(sid, token, sender, settings.twilio_base_url)
    return senders


def _fast_path(redis_url: str | None) -> FastPath:
    if redis_url is None:
        return NO_FAST_PATH
    from slotguard.adapters.redis_fast_path import RedisFastPath  # redis is an optional extra

    return RedisFastPath(redis_url)


def _buckets(limit: RateLimit, redis_url: str | None) -> Buckets:
    if redis_url is None:
        return InProcessBuckets(limit)
    from slotguard.adapters.redis_rate_limits import RedisBuckets  # redis is an optional extra

    return RedisBuckets(limit, redis_url)
