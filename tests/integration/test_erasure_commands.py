"""`slotguard erase-client` and `slotguard cleanup --erase-after-days` from the command line."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from slotguard.cli import app as cli
from slotguard.storage.migrations import upgrade
from tests.e2e.salon import Salon, booking_body, calendar, local_time, new_salon
from tests.integration.test_backup_restore import ADMIN_TOKEN, with_app


def test_erase_client_erases_one_client_and_says_so_when_there_is_none(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'erase.db'}"
    upgrade(url)

    async def booked(http: httpx.AsyncClient) -> Salon:
        salon = await new_salon(http, ADMIN_TOKEN)
        reply = await http.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(3, 9), n=7))
        assert reply.status_code == 201, reply.text
        return salon

    salon = with_app(url, booked)
    env = {"SLOTGUARD_DATABASE_URL": url}
    command = ["erase-client", "--business", salon.slug, "--email", "racer7@example.com"]

    erased = CliRunner().invoke(cli, command, env=env)
    again = CliRunner().invoke(cli, command, env=env)
    purge = CliRunner().invoke(cli, ["cleanup", "--erase-after-days", "30"], env=env)

    assert erased.exit_code == 0, erased.output
    assert again.exit_code == 1 and "client" in again.output
    assert purge.exit_code == 0 and "more than 30 days ago" in " ".join(purge.output.split())
    rows = with_app(url, lambda http: calendar(http, salon))
    assert [row["status"] for row in rows] == ["confirmed"]
    assert rows[0]["client"]["email"].startswith("erased-")
