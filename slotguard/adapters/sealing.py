"""Calendar passwords sealed at rest with a key kept outside the database (`SLOTGUARD_SECRET_KEY`).

Fernet (AES-128-CBC with an HMAC-SHA256, from the `cryptography` package): a stolen database or backup
holds the CalDAV passwords only as tokens no one can open without the key, and a token altered in the
database is refused rather than used. The key is derived from the setting with SHA-256, so any long random
string will do. A sealed value is stored as `fernet:<token>`; a value without that prefix was stored
before a key was set (or while none is) and is used as it is.

Without a key, passwords are stored as given and `serve` warns when it starts; once a key is set, each
password stored before it is sealed by its calendar's next successful sync (services/calendars.py).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from slotguard.domain.calendars import CalendarUnreadable

PREFIX = "fernet:"


class PasswordSeal:
    def __init__(self, secret_key: SecretStr | None) -> None:
        key = secret_key.get_secret_value() if secret_key is not None else ""
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())) if key else None

    @property
    def seals(self) -> bool:
        return self._fernet is not None

    def seal(self, password: str | None) -> str | None:
        """What to store for `password`: sealed when there is a key."""
        if password is None or self._fernet is None:
            return password
        return PREFIX + self._fernet.encrypt(password.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        """The password from what was stored; `CalendarUnreadable` with a plain reason when this server's
        key cannot open it (no key, another key, or a token altered in the database)."""
        if stored is None or not stored.startswith(PREFIX):
            return stored
        if self._fernet is None:
            raise CalendarUnreadable("the stored password is encrypted and this server has no SLOTGUARD_SECRET_KEY")
        try:
            return self._fernet.decrypt(stored.removeprefix(PREFIX).encode()).decode()
        except InvalidToken as exc:
            reason = "the stored password cannot be opened with this server's SLOTGUARD_SECRET_KEY"
            raise CalendarUnreadable(f"{reason}: connect the calendar again") from exc
