"""Who is asking for a hold: the client address, hashed, and the cap that applies to it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from slotguard.api.deps import container_of
from slotguard.services.hold_caps import HoldCap
from slotguard.services.secrets import digest


async def _hold_cap(request: Request) -> HoldCap:
    # Holds name no client; the address is what a bot cannot multiply cheaply. Stored only hashed.
    address = request.client.host if request.client else "unknown"
    return HoldCap(holder=digest(f"address:{address}"), limit=container_of(request).settings.max_active_holds)


HoldCapDep = Annotated[HoldCap, Depends(_hold_cap)]
