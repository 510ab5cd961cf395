"""Every reply carries a Content-Security-Policy: pages load only this server's files (a script injected
into a page could not load or send anything elsewhere); the widget may be framed by customers' sites; the
API docs get exactly the CDN they load from."""

from __future__ import annotations

import httpx

from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import new_salon


def policy(reply: httpx.Response) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in reply.headers["content-security-policy"].split(";"))
    return {name: value for name, value in directives}


async def test_pages_and_replies_load_only_this_servers_files(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    for path in (f"/api/v1/public/{salon.slug}", "/checkout/result?status=paid", "/web/style.css", "/openapi.json"):
        csp = policy(await client.get(path))
        assert csp["default-src"] == "'self'", path
        assert csp["frame-ancestors"] == "'none'", path

    widget = policy(await client.get(f"/book/{salon.slug}"))
    assert (widget["default-src"], widget["frame-ancestors"]) == ("'self'", "*")
    assert "script-src" not in widget, "scripts only from this server"

    docs = policy(await client.get("/docs"))
    assert docs["default-src"] == "'self'"
    assert "https://cdn.jsdelivr.net" in docs["script-src"]
