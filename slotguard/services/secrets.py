"""API keys and manage tokens: random, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets


def new_api_key() -> str:
    return "sg_" + secrets.token_urlsafe(32)


def new_manage_token() -> str:
    return secrets.token_urlsafe(24)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
