"""Settings from SLOTGUARD_* environment variables (or a .env file). Built once, passed down."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLOTGUARD_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./slotguard.db"
    # A replica for what a customer may see a little late (availability, public slot listings); every
    # decision to take time or seats is made on `database_url`.
    read_database_url: str | None = None
    admin_token: SecretStr | None = None
    redis_url: str | None = None
    # None: a priced checkout answers 502 and takes nothing. `local` confirms without any payment: only
    # for demos and tests (`serve --demo` sets it when it is not set).
    payment_provider: Literal["local", "stripe"] | None = None
    webhook_secret: SecretStr | None = None
    stripe_api_key: SecretStr | None = None
    # Where customers reach this server (checkout pages and return URLs); relative URLs when empty.
    public_url: str = ""
    smtp_url: str | None = None
    smtp_from: str = "slotguard@localhost"
    outbox_worker: bool = True
    # How often each worker looks for reminders due (0: never, e.g. a host that only serves reads).
    reminder_seconds: float = 30.0
    # How soon after seats free up a waitlist offer is made (each worker looks this often; 0: never).
    waitlist_offer_seconds: float = 10.0
    # SMS confirmations through Twilio: off unless all three are set. The base URL is for test doubles.
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    # Per client address per business on the public routes: "60/minute", "5/second", or "off".
    rate_limit: str = "120/minute"
    # Active holds one client address may have per business at once; 0 means no cap.
    max_active_holds: int = 5
    # Origins allowed to call the API from a browser (the sites that embed the widget), comma-separated.
    cors_origins: str = ""
    pool_size: int = 10
    # Requests wait for a database connection in arrival order, at most this long (then 503)...
    max_queue_wait_seconds: float = 45.0
    # ...and while the request at the head of the line has waited longer than this, newcomers are answered
    # 503 with Retry-After at once, before they do any work.
    shed_after_wait_seconds: float = 20.0
    max_body_bytes: int = 64 * 1024
    # A request body that stops arriving is answered 408: no part of it for this long, or not all of it
    # within the total (a client trickling bytes would otherwise hold a connection for ever).
    body_idle_seconds: Annotated[float, Field(gt=0)] = 10.0
    body_total_seconds: Annotated[float, Field(gt=0)] = 30.0
    # The outgoing-request guard (webhooks, calendars): plain http, and private or loopback targets,
    # only when the operator allows them (self-hosting on a private network; tests on loopback).
    outbound_allow_http: bool = False
    outbound_allow_private: bool = False
    # How often each connected staff calendar is read again (SPEC §8).
    calendar_sync_seconds: int = 60
    # The key calendar passwords are encrypted with in the database (any long random string; keep it
    # outside the database and its backups). Unset: they are stored as given, and `serve` warns.
    secret_key: SecretStr | None = None
    # Test-only switches (e.g. to prove a race is real); never set in production.
    test_hooks: bool = False
