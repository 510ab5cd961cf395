"""`slotguard backup` / `restore`: a copy of a live SQLite database holds its bookings; PostgreSQL is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
from pydantic import SecretStr
from typer.testing import CliRunner

from slotguard.api.app import create_app
from slotguard.cli import app as cli
from slotguard.config import Settings
from slotguard.storage.migrations import upgrade
from tests.e2e.salon import Salon, booking_body, calendar, local_time, new_salon

ADMIN_TOKEN = "backup-test-admin"
T = TypeVar("T")


def with_app(database_url: str, use: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    async def run() -> T:
        app = create_app(Settings(database_url=database_url, admin_token=SecretStr(ADMIN_TOKEN)))
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://slotguard.test") as http:
                return await use(http)
        finally:
            await app.state.database.dispose()

    return asyncio.run(run())


def test_a_backup_of_a_live_database_restores_its_bookings(tmp_path: Path) -> None:
    live_url, restored_url = f"sqlite:///{tmp_path / 'live.db'}", f"sqlite:///{tmp_path / 'restored.db'}"
    upgrade(live_url)
    runner = CliRunner()

    async def book_then_back_up(http: httpx.AsyncClient) -> tuple[Salon, list[str]]:
        salon = await new_salon(http, ADMIN_TOKEN)
        ids = []
        for n in range(3):
            body = booking_body(salon, local_time(3, 9 + n), n=n)
            reply = await http.post(f"/api/v1/public/{salon.slug}/book", json=body)
            assert reply.status_code == 201, reply.text
            ids.append(reply.json()["data"]["id"])
        # The server's connections stay open (and one more booking goes in) while the copy is taken.
        backing_up = asyncio.to_thread(runner.invoke, cli, ["backup", str(tmp_path / "copy.db")], env=_env(live_url))
        late = http.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(4, 9), n=9))
        result, _ = await asyncio.gather(backing_up, late)
        assert result.exit_code == 0, result.output
        return salon, ids

    salon, ids = with_app(live_url, book_then_back_up)
    restored = runner.invoke(cli, ["restore", str(tmp_path / "copy.db")], env=_env(restored_url))
    assert restored.exit_code == 0, restored.output

    stored = with_app(restored_url, lambda http: calendar(http, salon))
    assert set(ids) <= {row["id"] for row in stored}
    assert {row["client"]["email"] for row in stored if row["id"] in ids} == {f"racer{n}@example.com" for n in range(3)}


def test_backup_refuses_postgresql_and_points_to_pg_dump(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "x.db")], env=_env("postgresql://postgres@127.0.0.1/x"))
    assert result.exit_code == 1
    assert "pg_dump" in " ".join(result.output.split())
    assert not (tmp_path / "x.db").exists()


def test_restore_refuses_a_file_that_is_not_a_slotguard_database(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database")
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "notes.txt")], env=_env(f"sqlite:///{tmp_path / 'db'}"))
    assert result.exit_code == 1
    assert "not a slotguard database" in " ".join(result.output.split())


def _env(database_url: str) -> dict[str, str]:
    return {"SLOTGUARD_DATABASE_URL": database_url}
