"""The reply of the owner's API-key rotation (SPEC §7)."""

from __future__ import annotations

from slotguard.api.schemas import Out


class ApiKeyOut(Out):
    # Shown in this reply only: only its hash is stored.
    api_key: str
