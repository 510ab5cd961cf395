"""The outgoing-request guard (SPEC §10.1): every URL the server fetches or posts to for an owner.

An owner chooses these URLs (a webhook endpoint, a calendar feed). Unguarded, they would point the server
at whatever it can reach and the owner cannot: Redis on loopback, the cloud's metadata service, hosts on
the private network (server-side request forgery). So:

- `https` only, unless the operator allows plain `http` (`SLOTGUARD_OUTBOUND_ALLOW_HTTP`);
- the host is resolved when the request is made, and every address it resolves to must be public: no
  loopback, private, shared (100.64/10), link-local, multicast, unspecified or reserved address, unless the
  operator allows private targets (`SLOTGUARD_OUTBOUND_ALLOW_PRIVATE`: self-hosting on a private network,
  tests on loopback). Metadata services (their names, 169.254/16, fd00:ec2::254), multicast and unspecified
  addresses are refused even then. Addresses written in odd forms (`2130706433`, `0x7f.1`) and IPv4 inside
  IPv6 (`::ffff:127.0.0.1`, NAT64, 6to4) are checked as the IPv4 address they mean;
- the connection goes to the address that was checked: the URL is rewritten to it, while the `Host` header
  and the TLS server name (and so the certificate check) keep the name. A DNS answer that changes between
  the check and the connection (DNS rebinding) cannot switch the target;
- redirects are not followed; timeouts are short; a reply body over `max_response_bytes` is cut off.

Use, with one `OutboundGuard` built from the settings in the composition root:

    await guard.check_url(url)             # when an owner sets a URL: ValidationFailed (422) if refused
    async with guard.client() as client:   # when it is used: an httpx.AsyncClient behind the guard
        reply = await client.get(url)      # OutboundRefused (an httpx.TransportError) if refused
        body = await reply.aread()         # ResponseTooLarge past the limit

Failures carry fixed reasons (`failure_reason`), never the target's reply, so a refused or failed request
tells the owner nothing about what answered.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from slotguard.domain.errors import ValidationFailed

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# A set-time check should not hold up the owner's request for long; the send-time check is the one that counts.
CHECK_RESOLVE_SECONDS = 2.0


class OutboundRefused(httpx.TransportError):
    """The guard refused the request before anything was sent; the message is a fixed reason."""


class ResponseTooLarge(httpx.TransportError):
    """The reply body went over the guard's size limit; what arrived is dropped."""


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    allow_http: bool = False
    allow_private: bool = False
    connect_timeout_seconds: float = 3.0
    timeout_seconds: float = 5.0
    max_response_bytes: int = 1024 * 1024


def refusal(address: IpAddress, policy: OutboundPolicy) -> str | None:
    """Why the guard will not connect to `address`, or None when it may."""
    address = _embedded_ipv4(address) or address
    if address in METADATA_ADDRESSES or address.is_link_local:
        return "the address is link-local or a cloud metadata service"
    if address.is_multicast or address.is_unspecified:
        return "the address is multicast or unspecified"
    if not address.is_global and not policy.allow_private:
        return "the address is loopback, private or reserved"
    return None


def _embedded_ipv4(address: IpAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour or (address.teredo[1] if address.teredo else None)


def _scheme_refusal(url: httpx.URL, policy: OutboundPolicy) -> str | None:
    if url.scheme == "https" or (url.scheme == "http" and policy.allow_http):
        return None
    return "only https URLs are allowed" if url.scheme == "http" else "only http(s) URLs are allowed"


def _name_refusal(host: str) -> str | None:
    if not host:
        return "the URL has no host"
    if host.rstrip(".").lower() in METADATA_NAMES:
        return "the address is link-local or a cloud metadata service"
    return None


def _literal_address(host: str) -> IpAddress | None:
    """The address an IP-literal host means, including the forms inet_aton accepts (`2130706433`)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


async def resolve(host: str, port: int) -> list[IpAddress]:
    literal = _literal_address(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks each request's scheme and resolved addresses, then connects to the checked address."""

    def __init__(self, policy: OutboundPolicy, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        reason = _scheme_refusal(url, self._policy) or _name_refusal(url.host)
        if reason is not None:
            raise OutboundRefused(reason, request=request)
        address = await self._checked_address(request)
        if _literal_address(url.host) is None:  # keep the name for TLS: SNI and the certificate check
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        request.url = url.copy_with(host=str(address))  # the Host header was set from the name already
        response = await self._inner.handle_async_request(request)
        response.stream = _LimitedStream(response.stream, self._policy.max_response_bytes, request)
        return response

    async def _checked_address(self, request: httpx.Request) -> IpAddress:
        try:
            addresses = await resolve(request.url.host, _port(request.url))
        except (OSError, UnicodeError) as failure:
            raise httpx.ConnectError("the host name could not be resolved", request=request) from failure
        for address in addresses:  # every answer must pass: a mixed answer is a rebinding attempt
            reason = refusal(address, self._policy)
            if reason is not None:
                raise OutboundRefused(reason, request=request)
        return addresses[0]

    async def aclose(self) -> None:
        await self._inner.aclose()


class _LimitedStream(httpx.AsyncByteStream):
    def __init__(self, inner: Any, max_bytes: int, request: httpx.Request) -> None:
        self._inner = inner
        self._max_bytes = max_bytes
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        async for chunk in self._inner:
            received += len(chunk)
            if received > self._max_bytes:
                raise ResponseTooLarge("the reply is larger than allowed", request=self._request)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def failure_reason(failure: Exception) -> str:
    """A fixed description of a failed outgoing request: never the target's reply or an OS error text."""
    if isinstance(failure, OutboundRefused | ResponseTooLarge):
        return f"refused: {failure}"
    if isinstance(failure, httpx.TimeoutException):
        return "timed out"
    if isinstance(failure, httpx.ConnectError):
        return "could not connect"
    return "the request failed"


class OutboundGuard:
    """One per server, built from the settings: the set-time check and the clients that enforce it."""

    def __init__(self, policy: OutboundPolicy, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self._transport = transport  # below the guard; injectable for tests

    def client(self, **options: Any) -> httpx.AsyncClient:
        timeout = httpx.Timeout(self.policy.timeout_seconds, connect=self.policy.connect_timeout_seconds)
        transport = GuardedTransport(self.policy, self._transport)
        return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, **options)

    async def check_url(self, url: str, field: str = "url") -> None:
        """When an owner sets a URL: 422 VALIDATION_ERROR if the guard would refuse it.

        A name that does not resolve now is accepted (it is checked again on every request)."""
        reason = await self.url_refusal(url)
        if reason is not None:
            raise ValidationFailed(f"This URL is not allowed: {reason}", [{"field": field, "message": reason}])

    async def url_refusal(self, url: str) -> str | None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            return "the URL is not valid"
        reason = _scheme_refusal(parsed, self.policy) or _name_refusal(parsed.host)
        if reason is not None:
            return reason
        try:
            async with asyncio.timeout(CHECK_RESOLVE_SECONDS):
                addresses = await resolve(parsed.host, _port(parsed))
        except (OSError, UnicodeError, TimeoutError):
            return None
        return next((r for r in (refusal(a, self.policy) for a in addresses) if r is not None), None)
