"""Security headers on every reply: no MIME sniffing, no referrer leaks, pages not framed elsewhere, and a
Content-Security-Policy that lets a page load only this server's own files (a route may set its own: the
widget is framed by customers' sites, the owner console is stricter, the API docs need their CDN)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
}
# FastAPI's /docs (Swagger UI) and /redoc pages: an inline start-up script and their files from jsDelivr.
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# As ASGI carries them (lower-case names, bytes), for the raw header list of every reply.
_RAW = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()]
_DOCS_RAW = [(b"content-security-policy", DOCS_CSP.encode("latin-1")), *_RAW]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        defaults = _DOCS_RAW if scope["path"] in DOCS_PATHS else _RAW

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name for name, _ in headers}
                for name, value in defaults:  # each unless the reply (or an earlier default) set it
                    if name not in present:
                        headers.append((name, value))
                        present.add(name)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
