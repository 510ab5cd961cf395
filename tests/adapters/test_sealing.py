"""Calendar passwords sealed with a key kept outside the database: opened only with that key."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from slotguard.adapters.sealing import PasswordSeal
from slotguard.domain.calendars import CalendarUnreadable

KEY = SecretStr("one-long-random-string-kept-outside-the-database")


def test_a_sealed_password_is_not_the_password_and_opens_with_the_key() -> None:
    sealed = PasswordSeal(KEY).seal("s3cret-pass")
    assert sealed is not None and sealed.startswith("fernet:") and "s3cret-pass" not in sealed
    assert PasswordSeal(KEY).open(sealed) == "s3cret-pass"
    assert PasswordSeal(KEY).seal("s3cret-pass") != sealed, "sealed afresh each time"


def test_another_key_no_key_or_an_altered_token_is_refused_in_plain_words() -> None:
    sealed = PasswordSeal(KEY).seal("s3cret-pass")
    assert sealed is not None
    with pytest.raises(CalendarUnreadable, match="cannot be opened with this server's SLOTGUARD_SECRET_KEY"):
        PasswordSeal(SecretStr("another-key")).open(sealed)
    with pytest.raises(CalendarUnreadable, match="no SLOTGUARD_SECRET_KEY"):
        PasswordSeal(None).open(sealed)
    with pytest.raises(CalendarUnreadable, match="cannot be opened"):
        PasswordSeal(KEY).open(sealed[:-4] + "AAAA")


def test_without_a_key_passwords_are_kept_as_given_and_those_stored_so_still_open_with_one() -> None:
    assert PasswordSeal(None).seal("s3cret-pass") == "s3cret-pass"
    assert PasswordSeal(KEY).open("s3cret-pass") == "s3cret-pass", "stored before the key was set"
    assert PasswordSeal(KEY).seal(None) is None and PasswordSeal(KEY).open(None) is None
