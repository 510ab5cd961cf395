"""Staff members' own calendars over the network: iCalendar feeds (HTTP GET) and CalDAV collections
(RFC 4791), read into busy times and, for CalDAV, written with one event per booking.

Every request goes through the outgoing-request guard (SPEC §10.1) with this module's own limits: a whole
read must finish within `READ_SECONDS` and a reply stay under `MAX_CALENDAR_BYTES`, so a feed that is huge,
slow or not iCalendar ends in `CalendarUnreadable` with a plain reason, never in a hung worker.

Incremental where the server allows: a feed is fetched with `If-None-Match` (its last `ETag`); a CalDAV
collection's `getctag` and `sync-token` are asked first, an unchanged calendar is not downloaded again,
and a changed one that keeps sync-tokens (RFC 6578) is asked only for the objects changed since the last
read (`sync-collection`). A token the server no longer accepts, or a server without tokens, means the
whole calendar is read again (`calendar-query` over the window), as it is when the last whole read no
longer covers the window (`CalendarVersion.reads_in`).

A small client on httpx rather than the `caldav` package: that package is synchronous (it would need a
thread per request) and would bypass the guard's transport; the four requests needed here are short.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from xml.etree import ElementTree
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import httpx

from slotguard.adapters.icalendar_files import busy_times, event_text
from slotguard.adapters.outbound import OutboundGuard, OutboundPolicy, failure_reason
from slotguard.domain.calendars import (
    BusyTime,
    CalendarAccess,
    CalendarEvent,
    CalendarKind,
    CalendarUnreadable,
    CalendarVersion,
    FetchedCalendar,
)
from slotguard.domain.intervals import Interval

MAX_CALENDAR_BYTES = 20 * 1024 * 1024
READ_SECONDS = 30.0
ICS_TYPES = ("text/calendar", "application/ics", "text/plain", "application/octet-stream")
DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
CALSERVER = "{http://calendarserver.org/ns/}"

_STATE_BODY = """<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">
  <d:prop><d:resourcetype/><cs:getctag/><d:sync-token/></d:prop>
</d:propfind>"""

_CHANGES_BODY = """<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:sync-token>{token}</d:sync-token>
  <d:sync-level>1</d:sync-level>
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
</d:sync-collection>"""

_QUERY_BODY = """<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
  <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">
    <c:time-range start="{start}" end="{end}"/>
  </c:comp-filter></c:comp-filter></c:filter>
</c:calendar-query>"""


class RemoteCalendars:
    """Reads busy times from, and writes bookings into, calendars on other servers."""

    def __init__(
        self, policy: OutboundPolicy, *, max_bytes: int = MAX_CALENDAR_BYTES, read_seconds: float = READ_SECONDS
    ) -> None:
        """`policy`: the server's outgoing-request policy; calendars get their own size and time limits."""
        self._guard = OutboundGuard(replace(policy, max_response_bytes=max_bytes, timeout_seconds=10.0))
        self._read_seconds = read_seconds

    async def read(
        self, access: CalendarAccess, window: Interval, zone: ZoneInfo, known: CalendarVersion
    ) -> FetchedCalendar:
        """The busy times of `access` within `window`, or `busy=None` if the server says nothing changed."""
        async with self._session(access) as client:
            if access.kind is CalendarKind.ICS:
                return await _read_feed(client, access.url, window, zone, known)
            return await _read_collection(client, access.url, window, zone, known)

    async def put_event(self, access: CalendarAccess, event: CalendarEvent) -> None:
        """Create or replace one booking's event in a CalDAV collection."""
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        async with self._session(access) as client:
            reply = await client.put(_event_url(access.url, event.uid), content=event_text(event), headers=headers)
        _expect(reply, "saving the booking's event")

    async def delete_event(self, access: CalendarAccess, uid: str) -> None:
        """Remove one booking's event from a CalDAV collection (already gone counts as removed)."""
        async with self._session(access) as client:
            reply = await client.delete(_event_url(access.url, uid))
        if reply.status_code != 404:
            _expect(reply, "removing the booking's event")

    @asynccontextmanager
    async def _session(self, access: CalendarAccess) -> AsyncIterator[httpx.AsyncClient]:
        """A guarded client signed in to `access`, whose whole use must end within `read_seconds`."""
        try:
            async with asyncio.timeout(self._read_seconds), self._guard.client(auth=_auth(access)) as client:
                yield client
        except TimeoutError as exc:
            reason = f"the calendar server did not answer within {self._read_seconds:g} seconds"
            raise CalendarUnreadable(reason) from exc
        except httpx.HTTPError as exc:
            raise CalendarUnreadable(f"the calendar could not be fetched: {failure_reason(exc)}") from exc


async def _read_feed(
    client: httpx.AsyncClient, url: str, window: Interval, zone: ZoneInfo, known: CalendarVersion
) -> FetchedCalendar:
    headers = {"If-None-Match": known.etag} if known.etag and known.reads_in(window) else {}
    reply = await client.get(url, headers=headers)
    if reply.status_code == 304:
        return FetchedCalendar(None, known)
    _expect(reply, "fetching the feed")
    content_type = reply.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in ICS_TYPES:
        raise CalendarUnreadable(f"the URL returned {content_type}, not an iCalendar feed (text/calendar)")
    busy = await _parsed_apart(reply.content, window, zone)
    return FetchedCalendar.of_feed(busy, CalendarVersion(etag=reply.headers.get("etag"), expanded_until=window.end_at))


async def _read_collection(
    client: httpx.AsyncClient, url: str, window: Interval, zone: ZoneInfo, known: CalendarVersion
) -> FetchedCalendar:
    state = await _collection_state(client, url)
    if known.reads_in(window):
        if (state.sync_token or state.ctag) and (state.sync_token, state.ctag) == (known.sync_token, known.ctag):
            return FetchedCalendar(None, known)
        if state.sync_token and known.sync_token:
            changes = await _changes_since(client, url, known, window, zone)
            if changes is not None:
                return replace(changes, version=replace(changes.version, ctag=state.ctag))
    body = _QUERY_BODY.format(start=_caldav_time(window.start_at), end=_caldav_time(window.end_at))
    reply = await client.request("REPORT", url, content=body, headers=_xml_headers(depth="1"))
    _expect(reply, "reading the calendar's events")
    objects = await _parsed_objects(_changed_objects(_multistatus(reply)), window, zone)
    version = replace(state, expanded_until=window.end_at)
    return FetchedCalendar(objects, version)


async def _changes_since(
    client: httpx.AsyncClient, url: str, known: CalendarVersion, window: Interval, zone: ZoneInfo
) -> FetchedCalendar | None:
    """The objects changed and removed since `known.sync_token`; None if the server no longer accepts it."""
    body = _CHANGES_BODY.format(token=escape(known.sync_token or ""))
    reply = await client.request("REPORT", url, content=body, headers=_xml_headers(depth="0"))
    if reply.status_code != 401 and not 200 <= reply.status_code < 300:
        # RFC 6578 §3.2: a token the server forgot is refused (403 valid-sync-token; some servers say 400,
        # 409 or 412): read everything again, which fails with the plain reason if the trouble is elsewhere.
        return None
    _expect(reply, "reading what changed in the calendar")
    tree = _multistatus(reply)
    token = tree.findtext(f"{DAV}sync-token")
    removed = frozenset(
        response.findtext(f"{DAV}href") or ""
        for response in tree.iter(f"{DAV}response")
        if " 404 " in (response.findtext(f"{DAV}status") or "")
    )
    objects = await _parsed_objects(_changed_objects(tree), window, zone)
    version = replace(known, sync_token=token or None)
    return FetchedCalendar(objects, version, whole=False, removed=removed)


def _changed_objects(tree: ElementTree.Element) -> dict[str, str]:
    """Each calendar object of a multistatus answer that carries its data, by href."""
    found: dict[str, str] = {}
    for response in tree.iter(f"{DAV}response"):
        data = response.findtext(f".//{CALDAV}calendar-data")
        if data is not None and data.strip():
            found[response.findtext(f"{DAV}href") or ""] = data.strip()
    return found


async def _parsed_objects(objects: dict[str, str], window: Interval, zone: ZoneInfo) -> dict[str, list[BusyTime]]:
    """`busy_times` of each object, in a thread (see `_parsed_apart`)."""
    if not objects:
        return {}
    return await asyncio.to_thread(
        lambda: {href: busy_times(text.encode(), window, zone) for href, text in objects.items()}
    )


async def _parsed_apart(data: bytes, window: Interval, zone: ZoneInfo) -> list[BusyTime]:
    """`busy_times` in a thread: parsing and expanding a big calendar takes seconds of CPU (about 0.8 ms
    an event), which must not stall the requests this worker's event loop serves meanwhile."""
    if not data.strip():
        return []
    return await asyncio.to_thread(busy_times, data, window, zone)


async def _collection_state(client: httpx.AsyncClient, url: str) -> CalendarVersion:
    """The collection's `getctag` and `sync-token` (None where the server keeps none); refuses a URL that
    is no calendar."""
    reply = await client.request("PROPFIND", url, content=_STATE_BODY, headers=_xml_headers(depth="0"))
    _expect(reply, "opening the calendar")
    tree = _multistatus(reply)
    if tree.find(f".//{DAV}resourcetype/{CALDAV}calendar") is None:
        raise CalendarUnreadable("the URL is not a CalDAV calendar collection (use the calendar's own URL)")
    ctag = tree.findtext(f".//{CALSERVER}getctag")
    token = tree.findtext(f".//{DAV}sync-token")
    return CalendarVersion(ctag=ctag or None, sync_token=token or None)


def _auth(access: CalendarAccess) -> httpx.BasicAuth | None:
    return httpx.BasicAuth(access.username or "", access.password) if access.password is not None else None


def _multistatus(reply: httpx.Response) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(reply.content)
    except ElementTree.ParseError as exc:
        raise CalendarUnreadable("the CalDAV server's answer is not XML") from exc


def _expect(reply: httpx.Response, doing: str) -> None:
    if reply.status_code in (401, 403):
        raise CalendarUnreadable(f"the server refused the username or password (HTTP {reply.status_code}) {doing}")
    if reply.status_code == 404:
        raise CalendarUnreadable(f"nothing was found at this URL (HTTP 404) {doing}")
    if not 200 <= reply.status_code < 300:
        raise CalendarUnreadable(f"the server answered HTTP {reply.status_code} {doing}")


def _xml_headers(depth: str) -> dict[str, str]:
    return {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"}


def _event_url(collection: str, uid: str) -> str:
    return collection.rstrip("/") + "/" + uid.replace("@", "-at-") + ".ics"


def _caldav_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
