"""Per request: a request id (taken from `X-Request-ID` or made up, and sent back), one log line, and the
request, latency and booking-outcome metrics.

Pure ASGI and outermost of the app's middleware, so that replies made before routing (413, 429, an
idempotent replay) are counted and logged too. Routes are named by their template
(`/api/v1/public/{slug}/book`), never by their path: paths carry manage tokens, and a metric label per
path would grow without bound.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slotguard.api import logs
from slotguard.api.errors import unexpected_error
from slotguard.api.limits import CLIENT_WENT_AWAY
from slotguard.api.metrics import Metrics, booking_outcome
from slotguard.services.retry import retry_observer

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_NAME = REQUEST_ID_HEADER.lower().encode("latin-1")
_REPLAYED = (b"idempotent-replayed", b"true")  # what IdempotentWrites marks a stored reply with
_ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")
# Routes that make a booking or a hold (counted by outcome), and those that change one (their replies
# name the booking, which the log line then carries).
_BOOKING_ROUTE_ENDINGS = ("/book", "/holds", "/checkout")
_CHANGE_ROUTE_ENDINGS = ("/cancel", "/reschedule")
# The reply of a client that went away before it was answered (nginx's number for it).
CLIENT_CLOSED_REQUEST = 499
MAX_INSPECTED_BODY_BYTES = 64 * 1024

access_log = logging.getLogger("slotguard.access")


class RequestTelemetry:
    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        # The labelled series of each (method, route, status), looked up once: prometheus-client checks
        # and joins the labels on every lookup.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(scope, _request_id(scope), self.routes)
        request_token = logs.request_id.set(exchange.request_id)
        observer_token = retry_observer.set(self.metrics)
        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, exchange.wrap(send))
        except asyncio.CancelledError:
            exchange.status = exchange.status or CLIENT_CLOSED_REQUEST
            raise
        except Exception as exc:
            if exchange.status is not None:
                raise  # the reply had begun: nothing better can be sent now
            # Answered here rather than by Starlette's outer error middleware, so that the reply
            # carries its request id like any other.
            response = await unexpected_error(Request(scope), exc)
            await response(scope, receive, exchange.wrap(send))
        finally:
            self.metrics.in_progress.dec()
            self._record(exchange)
            retry_observer.reset(observer_token)
            logs.request_id.reset(request_token)

    def _record(self, exchange: _Exchange) -> None:
        status = exchange.status or (CLIENT_CLOSED_REQUEST if exchange.scope.get(CLIENT_WENT_AWAY) else 500)
        duration = (exchange.answered or time.perf_counter()) - exchange.started
        method, route = exchange.scope["method"], exchange.route()
        series = self._series.get((method, route, status))
        if series is None:
            requests, latency = self.metrics.requests, self.metrics.latency
            series = self._series[method, route, status] = (
                requests.labels(method, route, str(status)),
                latency.labels(method, route),
            )
        series[0].inc()
        series[1].observe(duration)
        if exchange.is_booking_route() and not exchange.replayed:
            outcome = booking_outcome(status, exchange.error_code())
            if outcome is not None:
                self.metrics.bookings.labels(outcome).inc()
        fields: dict[str, Any] = {"method": method, "route": route, "status": status}
        fields |= {"duration_ms": round(duration * 1000, 1), **exchange.ids()}
        level = logging.WARNING if status >= 500 else logging.INFO
        access_log.log(level, "%s %s %d", method, route, status, extra=fields)


class _Exchange:
    """One request and what is known of its reply."""

    def __init__(self, scope: Scope, request_id: str, routes: Sequence[BaseRoute]) -> None:
        self.scope = scope
        self.request_id = request_id
        self.routes = routes
        self.started = time.perf_counter()
        self.answered: float | None = None  # when the reply's last part was handed to the server
        self.status: int | None = None
        self.replayed = False
        self._body: bytearray | None = None
        self._route: str | None = None
        self._parsed: dict[str, Any] | None = None

    def wrap(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                # On the raw list: this runs for every reply, and header objects decode every name they read.
                headers = [header for header in message.get("headers", ()) if header[0] != _REQUEST_ID_NAME]
                headers.append((_REQUEST_ID_NAME, self.request_id.encode("latin-1")))
                message["headers"] = headers
                self.replayed = _REPLAYED in headers
                if self._names_a_booking() and (200 <= self.status < 300 or self.status == 409):
                    self._body = bytearray()
            elif message["type"] == "http.response.body" and self._body is not None:
                chunk = message.get("body", b"")
                if len(self._body) + len(chunk) <= MAX_INSPECTED_BODY_BYTES:
                    self._body += chunk
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                # Before it is written: the time logged is never longer than the client waited.
                self.answered = time.perf_counter()
            await send(message)

        return sending

    def route(self) -> str:
        if self._route is None:
            self._route = _route_template(self.scope, self.routes)
        return self._route

    def is_booking_route(self) -> bool:
        return self.scope["method"] == "POST" and self.route().endswith(_BOOKING_ROUTE_ENDINGS)

    def _names_a_booking(self) -> bool:
        return self.is_booking_route() or (
            self.scope["method"] == "POST" and self.route().endswith(_CHANGE_ROUTE_ENDINGS)
        )

    def error_code(self) -> str | None:
        error = self._reply().get("error")
        return error.get("code") if isinstance(error, dict) else None

    def ids(self) -> dict[str, str]:
        """Ids worth a log line: the request's, the business slug, the booking the request made or named."""
        ids = {"request_id": self.request_id}
        path_params = self.scope.get("path_params") or {}
        if "slug" in path_params:
            ids["business"] = str(path_params["slug"])
        data = self._reply().get("data")
        booking_id = path_params.get("booking_id")
        if isinstance(data, dict):
            booking_id = data.get("bookingId") or data.get("id") or data.get("holdId") or booking_id
        if booking_id is not None:
            ids["booking_id"] = str(booking_id)
        if self.replayed:
            ids["replayed"] = "true"
        return ids

    def _reply(self) -> dict[str, Any]:
        """The JSON reply of a route that makes or changes a booking (for its ids and error code); else {}."""
        if self._parsed is None:
            try:
                reply = json.loads(self._body) if self._body else {}
            except ValueError:
                reply = {}
            self._parsed = reply if isinstance(reply, dict) else {}
        return self._parsed


def _request_id(scope: Scope) -> str:
    headers: list[tuple[bytes, bytes]] = scope["headers"]  # as the ASGI spec gives them
    for name, value in headers:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _ACCEPTED_REQUEST_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def _route_template(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The template of the route that serves (or would serve) this request; "unmatched" for none.

    A request answered before routing (413, 429, an idempotent replay) is matched against `routes`, the
    API's routes as their routers declared them.
    """
    route = scope.get("route")
    if route is None:
        partial = None
        for candidate in routes:
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                route = candidate
                break
            if match is Match.PARTIAL and partial is None:
                partial = candidate  # the path exists but not for this method (405)
        route = route or partial
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
