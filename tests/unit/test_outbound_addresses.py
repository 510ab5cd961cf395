"""Which addresses the outgoing-request guard connects to, in every spelling an attacker might try."""

from __future__ import annotations

import ipaddress

import pytest

from slotguard.adapters.outbound import OutboundPolicy, refusal

STRICT = OutboundPolicy()
SELF_HOSTED = OutboundPolicy(allow_private=True)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.1", "::1", "10.1.2.3", "172.16.0.9", "192.168.0.1", "100.64.0.1", "fc00::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "240.0.0.1",
    ],
)  # fmt: skip
def test_loopback_private_and_reserved_addresses_need_the_operators_permission(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), STRICT) == "the address is loopback, private or reserved"
    assert refusal(ipaddress.ip_address(address), SELF_HOSTED) is None


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "169.254.0.1", "fe80::1", "fd00:ec2::254", "100.100.100.200", "::ffff:169.254.169.254",
     "0.0.0.0", "::", "224.0.0.1", "ff02::1"],
)  # fmt: skip
def test_metadata_link_local_multicast_and_unspecified_addresses_are_never_reached(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), STRICT) is not None
    assert refusal(ipaddress.ip_address(address), SELF_HOSTED) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700::1111", "::ffff:93.184.215.14"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), STRICT) is None
