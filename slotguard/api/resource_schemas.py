"""Request and reply shapes of the resource routes (SPEC §9)."""

from __future__ import annotations

from uuid import UUID

from slotguard.api.schemas import In, Name, Out


class ResourceIn(In):
    name: Name


class ResourceOut(Out):
    id: UUID
    name: str
