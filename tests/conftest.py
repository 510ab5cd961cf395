"""Fixtures shared by every layer: one fresh database per engine per test session.

Booking behaviour is tested on SQLite and PostgreSQL alike (`db_url` is parametrised over both). Tests
never clean up: each makes its own business with a unique slug, so they cannot see each other's rows.
PostgreSQL comes from SLOTGUARD_TEST_POSTGRES_URL (default: the local server); if it is unreachable the
tests fail, they never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from slotguard.storage.engine import create_database
from slotguard.storage.migrations import upgrade
from slotguard.storage.unit_of_work import SqlUnitOfWork

POSTGRES_ADMIN_URL = os.environ.get("SLOTGUARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ENGINES = ["sqlite", "postgresql"]


@contextmanager
def migrated_postgresql() -> Iterator[str]:
    """A new PostgreSQL database migrated to the newest schema, dropped afterwards."""
    name = f"slotguard_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the test suite and is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_sqlite(folder: Path) -> str:
    url = f"sqlite:///{folder / 'slotguard.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    with migrated_postgresql() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return migrated_sqlite(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="module")
def own_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A module's own database per engine, for the modules marked `own_database`."""
    with migrated_postgresql() as postgresql:
        yield {"sqlite": migrated_sqlite(tmp_path_factory.mktemp("own")), "postgresql": postgresql}


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database URL, once per engine: the session's, shared with every test, or the module's own
    where the module is marked `own_database`. Those modules drain the whole outbox, and the session's
    database holds every message the e2e servers queued (their outbox worker is off): the first test to drain
    it with a mailer would send them all, which took 11-13 s of the suite."""
    if request.node.get_closest_marker("own_database"):
        own: dict[str, str] = request.getfixturevalue("own_databases")
        return own[request.param]
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def uows(db_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    database = create_database(db_url, pool_size=5)

    def factory(*, write: bool) -> UnitOfWork:
        return SqlUnitOfWork(database, write=write)

    yield factory
    await database.dispose()


def unique_slug(prefix: str = "biz") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
