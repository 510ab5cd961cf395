"""The outgoing-request guard's client against real servers on loopback: the name is kept for the server
while the checked address is the one connected to, and replies over the size limit are cut off."""

from __future__ import annotations

import pytest

from slotguard.adapters.outbound import OutboundGuard, OutboundPolicy, OutboundRefused, ResponseTooLarge
from tests.services.http_receiver import http_receiver
from tests.services.internal_service import internal_service


async def test_the_checked_address_is_connected_to_and_the_server_still_sees_the_name() -> None:
    guard = OutboundGuard(OutboundPolicy(allow_http=True, allow_private=True))
    with http_receiver() as receiver:
        url = receiver.url.replace("127.0.0.1", "localhost")
        async with guard.client() as client:
            reply = await client.post(f"{url}/in", content=b"{}")
    assert reply.status_code == 200
    (received,) = receiver.requests
    assert received.headers["Host"] == url.split("/")[2]


async def test_a_reply_over_the_size_limit_is_cut_off() -> None:
    guard = OutboundGuard(OutboundPolicy(allow_http=True, allow_private=True, max_response_bytes=1000))
    with http_receiver() as receiver:
        receiver.reply_body = b"x" * 5000
        async with guard.client() as client:
            with pytest.raises(ResponseTooLarge):
                await client.post(receiver.url, content=b"{}")


@pytest.mark.parametrize(
    "policy", [OutboundPolicy(), OutboundPolicy(allow_http=True), OutboundPolicy(allow_private=True)]
)
async def test_each_permission_alone_does_not_reach_loopback_over_http(policy: OutboundPolicy) -> None:
    with internal_service() as service:
        async with OutboundGuard(policy).client() as client:
            with pytest.raises(OutboundRefused):
                await client.get(f"http://localhost:{service.port}/")
    assert service.connections == 0
