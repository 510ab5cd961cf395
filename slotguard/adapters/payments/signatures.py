"""Stripe's webhook signature scheme: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">`."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping

from slotguard.domain.errors import InvalidSignature

TOLERANCE_SECONDS = 300  # Stripe's default: an older signature counts as a replay


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
    header = _header(headers, "stripe-signature")
    if not header:
        raise InvalidSignature("no Stripe-Signature header")
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in parts if key.strip() == "t"]
    signatures = [value for key, value in parts if key.strip() == "v1"]
    if len(timestamps) != 1 or not re.fullmatch(r"[0-9]{1,12}", timestamps[0].strip()) or not signatures:
        raise InvalidSignature("malformed Stripe-Signature header")
    timestamp = int(timestamps[0])
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected.encode(), candidate.strip().encode()) for candidate in signatures):
        raise InvalidSignature("signature does not match")
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        raise InvalidSignature("signature too old")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
