"""Database URLs as users write them: one host, several hosts (libpq's and `pg_autoctl show uri`'s form, or
SQLAlchemy's `host=` parameters), a pooler, SQLite; and what asyncpg is asked to connect to for each."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from slotguard.storage.dialects import is_transient
from slotguard.storage.engine import (
    async_url,
    behind_pooler,
    create_database,
    hosts_as_parameters,
    postgres_connect_kwargs,
)

AUTOCTL_URI = "postgres://127.0.0.1:15432,127.0.0.1:15433/slotguard?target_session_attrs=read-write&sslmode=prefer"


def test_the_uri_pg_autoctl_prints_names_both_nodes_and_asks_for_the_writable_one() -> None:
    kwargs = postgres_connect_kwargs(AUTOCTL_URI)

    assert kwargs["host"] == ["127.0.0.1", "127.0.0.1"]
    assert kwargs["port"] == [15432, 15433]
    assert kwargs["database"] == "slotguard"
    assert kwargs["target_session_attrs"] == "read-write"
    assert kwargs["ssl"] == "prefer", "libpq's sslmode, under asyncpg's name"
    assert "sslmode" not in kwargs


def test_several_hosts_become_one_host_parameter_each_with_user_and_password_kept() -> None:
    url = "postgresql://slotguard:s%40cret@db1:5432,db2/slotguard?target_session_attrs=read-write"

    assert hosts_as_parameters(url) == (
        "postgresql://slotguard:s%40cret@/slotguard?host=db1:5432&host=db2:5432&target_session_attrs=read-write"
    )
    kwargs = postgres_connect_kwargs(url)
    assert (kwargs["user"], kwargs["password"]) == ("slotguard", "s@cret")
    assert kwargs["port"] == [5432, 5432], "a host without a port gets PostgreSQL's"


def test_sqlalchemys_own_host_parameters_are_taken_as_they_are() -> None:
    url = "postgresql://slotguard@/slotguard?host=10.0.0.21:5432&host=10.0.0.22:5432&target_session_attrs=read-write"

    assert hosts_as_parameters(url) == url
    kwargs = postgres_connect_kwargs(url)
    assert kwargs["host"] == ["10.0.0.21", "10.0.0.22"] and kwargs["port"] == [5432, 5432]
    assert async_url(url).startswith("postgresql+asyncpg://slotguard@/slotguard?")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/test",
        "sqlite:///./slotguard.db",
        "postgresql://u@/db?host=/var/run/postgresql",
    ],
)
def test_a_url_of_one_host_is_left_alone(url: str) -> None:
    assert hosts_as_parameters(url) == url


def test_several_hosts_through_a_pooler_keep_its_connection_options() -> None:
    url = "postgresql://slotguard@pgb1:6432,pgb2:6432/slotguard?pgbouncer=true"

    assert behind_pooler(url)
    assert "pgbouncer" not in async_url(url) and "prepared_statement_cache_size=0" in async_url(url)
    kwargs = postgres_connect_kwargs(url)
    assert kwargs["statement_cache_size"] == 0 and "server_settings" not in kwargs
    assert "prepared_statement_name_func" not in kwargs, "the engine's option, not asyncpg.connect's"


def test_an_ipv6_host_list_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="IPv6"):
        async_url("postgresql://u@[::1]:5432,[::1]:5433/db")


async def test_finding_no_writable_host_is_a_transient_failure(postgresql_url: str) -> None:
    # Mid-failover a URL of several hosts finds only a standby; here the one host is a primary, and the URL
    # asks for a standby: the same refusal by asyncpg, with no host that matches.
    host = postgresql_url.split("@", 1)[1].split("/", 1)[0]
    url = postgresql_url.replace(host, f"{host},{host}") + "?target_session_attrs=standby"
    database = create_database(url, pool_size=1)
    try:
        with pytest.raises(DBAPIError) as refused:
            async with database.engine.connect():
                pass
    finally:
        await database.dispose()

    assert is_transient(refused.value), "retried, then 503 with Retry-After"
