"""What one server process keeps across requests to spare the database work, built once in `create_app`
and passed down to the booking use cases. None of it decides anything: the database judges every claim."""

from __future__ import annotations

from dataclasses import dataclass, field

from slotguard.services.availability import SharedSearches
from slotguard.services.fast_path import NO_FAST_PATH, FastPath
from slotguard.services.sightings import Sightings


@dataclass(frozen=True, slots=True)
class Shortcuts:
    """The fast path (optional, Redis), refusals in a burst (`Sightings`), and alternatives shared by the
    losers asking at the same moment (`SharedSearches`). The default keeps nothing: every request asks
    the database, as a command-line tool or a test without a server wants."""

    fast: FastPath = NO_FAST_PATH
    sightings: Sightings = field(default_factory=lambda: Sightings(capacity=0))
    searches: SharedSearches = field(default_factory=lambda: SharedSearches(shared=False))

    @classmethod
    def for_server(cls, fast: FastPath = NO_FAST_PATH) -> Shortcuts:
        return cls(fast, Sightings(), SharedSearches())


NO_SHORTCUTS = Shortcuts()
