"""Idempotency keys in the database: claim once, replay the answer, purge after their lifetime."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from slotguard.domain.errors import IdempotencyInProgress, IdempotencyKeyReused
from slotguard.domain.idempotency import KEY_LIFETIME
from slotguard.services.idempotency import KeyedRequest, claim_key, purge_expired_keys, release_key, store_reply
from slotguard.services.ports import UnitOfWorkFactory


def keyed(request_hash: str = "h", key: str | None = None) -> KeyedRequest:
    return KeyedRequest("salon", "ip:127.0.0.1", key or str(uuid.uuid4()), request_hash)


async def test_first_claim_runs_twin_waits_answer_replays(uows: UnitOfWorkFactory) -> None:
    now = datetime.now(UTC)
    request = keyed()
    assert await claim_key(uows, lambda: now, request) is None
    with pytest.raises(IdempotencyInProgress):
        await claim_key(uows, lambda: now, request)
    await store_reply(uows, request, 201, '{"success": true}')
    stored = await claim_key(uows, lambda: now, request)
    assert stored is not None and (stored.status_code, stored.response_body) == (201, '{"success": true}')
    with pytest.raises(IdempotencyKeyReused):
        await claim_key(uows, lambda: now, keyed("other", request.key))


async def test_released_key_runs_again(uows: UnitOfWorkFactory) -> None:
    now = datetime.now(UTC)
    request = keyed()
    assert await claim_key(uows, lambda: now, request) is None
    await release_key(uows, request)
    assert await claim_key(uows, lambda: now, request) is None


async def test_purge_removes_keys_past_their_lifetime(uows: UnitOfWorkFactory) -> None:
    then = datetime.now(UTC) - KEY_LIFETIME * 10
    request = keyed()
    assert await claim_key(uows, lambda: then, request) is None
    assert await purge_expired_keys(uows, lambda: then + KEY_LIFETIME * 2) >= 1
    assert await claim_key(uows, lambda: then, request) is None
