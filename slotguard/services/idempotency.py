"""Idempotency-Key bookkeeping: claim a key before a write runs, store its reply after, purge old keys."""

from __future__ import annotations

from dataclasses import dataclass

from slotguard.domain.errors import IdempotencyInProgress, IdempotencyKeyReused, TransientStorageFailure
from slotguard.domain.idempotency import KEY_LIFETIME, StoredRequest, Verdict, judge
from slotguard.services.ports import Clock, UnitOfWorkFactory
from slotguard.services.retry import with_retries

RETRY_IN_PROGRESS_AFTER_SECONDS = 1


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    scope: str  # the business slug, or "-" for routes outside any business
    client: str  # a digest of the bearer token, or the client's address
    key: str
    request_hash: str

    @property
    def id(self) -> tuple[str, str, str]:
        return self.scope, self.client, self.key


async def claim_key(uows: UnitOfWorkFactory, clock: Clock, request: KeyedRequest) -> StoredRequest | None:
    """None when this request now owns the key and must run; the stored reply when it already ran.

    Raises IdempotencyInProgress while the first request runs, IdempotencyKeyReused for another request.
    """

    async def attempt(_number: int) -> StoredRequest | None:
        async with uows(write=True) as uow:
            now = clock()
            if await uow.idempotency.claim(*request.id, request.request_hash, now):
                await uow.commit()
                return None
            stored = await uow.idempotency.get(*request.id)
            if stored is None:  # released between our INSERT and SELECT: try again
                raise TransientStorageFailure("idempotency claim vanished")
            verdict = judge(stored, request.request_hash, now)
            if verdict is Verdict.REPLAY:
                return stored
            if verdict is Verdict.REUSED:
                raise IdempotencyKeyReused()
            if verdict is Verdict.IN_PROGRESS:
                raise IdempotencyInProgress(RETRY_IN_PROGRESS_AFTER_SECONDS)
            if not await uow.idempotency.retake(*request.id, request.request_hash, stored, now):
                raise TransientStorageFailure("idempotency claim retaken concurrently")
            await uow.commit()
            return None

    return await with_retries(attempt)


async def store_reply(uows: UnitOfWorkFactory, request: KeyedRequest, status_code: int, body: str) -> None:
    async def attempt(_number: int) -> None:
        async with uows(write=True) as uow:
            await uow.idempotency.answer(*request.id, status_code, body)
            await uow.commit()

    await with_retries(attempt)


async def release_key(uows: UnitOfWorkFactory, request: KeyedRequest) -> None:
    """Forget the claim of a request that wrote nothing (it failed), so that a retry runs it again."""

    async def attempt(_number: int) -> None:
        async with uows(write=True) as uow:
            await uow.idempotency.release(*request.id)
            await uow.commit()

    await with_retries(attempt)


async def purge_expired_keys(uows: UnitOfWorkFactory, clock: Clock) -> int:
    async def attempt(_number: int) -> int:
        async with uows(write=True) as uow:
            purged = await uow.idempotency.delete_created_before(clock() - KEY_LIFETIME)
            await uow.commit()
            return purged

    return await with_retries(attempt)
