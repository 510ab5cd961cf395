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
from pathlib import Path

import psycopg
import pytest

from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from slotguard.storage.engine import create_database
from slotguard.storage.migrations import upgrade
from slotguard.storage.unit_of_work import SqlUnitOfWork

POSTGRES_ADMIN_URL = os.environ.get("SLOTGUARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
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


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "slotguard.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database URL, once per engine."""
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
