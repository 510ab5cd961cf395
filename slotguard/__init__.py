"""slotguard: a booking engine whose first promise is that a slot can never be sold twice."""

__version__ = "0.1.0"
