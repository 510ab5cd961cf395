"""Refusing a request without a write transaction when this process has just seen its unit taken.

In a burst for one staff time, the winner commits and the first racers' claims conflict; every racer
that was already on its way by then is refused at once, instead of opening a transaction only to
conflict. Such a refusal is linearizable: the unit was seen taken (the winner's commit, or a claim
that met a committed booking) at a moment inside the refused request's own lifetime. A request that
began after the sighting is never refused by it, so a cancel is seen by everyone who asks after it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable

MAX_SIGHTINGS = 10_000

_seen: OrderedDict[Hashable, float] = OrderedDict()


def moment() -> float:
    return time.monotonic()


def saw_taken(unit: Hashable, at: float) -> None:
    """`unit` was taken at `at` (a `moment()` no later than the observation)."""
    if _seen.get(unit, at) > at:
        return
    _seen[unit] = at
    _seen.move_to_end(unit)
    while len(_seen) > MAX_SIGHTINGS:
        _seen.popitem(last=False)


def seen_taken_since(unit: Hashable, began: float) -> bool:
    """Whether `unit` was seen taken after `began`, the moment the asking request began."""
    at = _seen.get(unit)
    return at is not None and at > began
