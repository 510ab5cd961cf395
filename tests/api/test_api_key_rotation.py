"""A leaked API key is revoked by rotating it (SPEC §7): the old key and the calendar-feed URLs made from it
stop working at once, over HTTP and from the command line."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from slotguard.cli import app as cli
from slotguard.storage.migrations import upgrade
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import Salon, new_salon
from tests.integration.test_backup_restore import ADMIN_TOKEN as OPERATOR_TOKEN
from tests.integration.test_backup_restore import with_app


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


async def feed_urls(client: httpx.AsyncClient, salon: Salon, api_key: str) -> list[str]:
    reply = await client.get(f"/api/v1/businesses/{salon.slug}/calendar-feeds", headers=bearer(api_key))
    assert reply.status_code == 200, reply.text
    return [feed["url"] for feed in reply.json()["data"]]


async def statuses_of(client: httpx.AsyncClient, urls: list[str]) -> set[int]:
    return {(await client.get(url)).status_code for url in urls}


async def test_a_rotated_key_and_its_feed_urls_are_refused_at_once(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    business = f"/api/v1/businesses/{salon.slug}"
    old_feeds = await feed_urls(client, salon, salon.api_key)
    assert await statuses_of(client, old_feeds) == {200}

    rotated = await client.post(f"{business}/api-key", headers=salon.owner)
    assert rotated.status_code == 201, rotated.text
    new_key = rotated.json()["data"]["apiKey"]
    assert new_key != salon.api_key

    refused = await client.get(f"{business}/calendar-feeds", headers=salon.owner)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "UNAUTHORIZED")
    assert (await client.post(f"{business}/api-key", headers=salon.owner)).status_code == 401
    assert await statuses_of(client, old_feeds) == {404}
    new_feeds = await feed_urls(client, salon, new_key)
    assert await statuses_of(client, new_feeds) == {200}
    assert (await client.post(f"{business}/api-key")).status_code == 401


def test_the_operator_rotates_a_key_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    salon = with_app(url, lambda http: new_salon(http, OPERATOR_TOKEN))

    rotated = CliRunner().invoke(cli, ["business", "rotate-key", salon.slug], env={"SLOTGUARD_DATABASE_URL": url})
    unknown = CliRunner().invoke(cli, ["business", "rotate-key", "no-such-shop"], env={"SLOTGUARD_DATABASE_URL": url})

    assert rotated.exit_code == 0, rotated.output
    new_key = rotated.output.split(": ")[-1].split()[0]

    async def statuses(http: httpx.AsyncClient) -> tuple[int, int]:
        path = f"/api/v1/businesses/{salon.slug}/calendar-feeds"
        return (await http.get(path, headers=salon.owner)).status_code, (
            await http.get(path, headers=bearer(new_key))
        ).status_code

    assert with_app(url, statuses) == (401, 200)
    assert unknown.exit_code == 1 and "no business" in unknown.output
