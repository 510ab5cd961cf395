"""Customers read their messages in the business's language, with dates written the way that language
writes them, received by a real SMTP server; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message

import pytest

from slotguard.adapters.mail import SmtpMailer
from slotguard.domain import wording
from slotguard.services.booking import book_appointment, cancel_booking
from slotguard.services.catalog import update_business
from slotguard.services.notifications import drain_all
from slotguard.services.ports import UnitOfWorkFactory
from tests.services.mail_inbox import Inbox
from tests.services.payments_support import clock, new_shop, request

# 10:00 UTC on a Tuesday in summer: 12:00 in Berlin.
START = datetime(2027, 7, 13, 10, 0, tzinfo=UTC)

EXPECTED = {
    "en": ("Your booking is confirmed - Paid Tours", "Hello Pat,", "Tuesday, July 13, 2027", "12:00"),
    "de": ("Ihre Buchung ist bestätigt - Paid Tours", "Hallo Pat,", "Dienstag, 13. Juli 2027", "12:00"),
    "fr": ("Votre réservation est confirmée - Paid Tours", "Bonjour Pat,", "mardi 13 juillet 2027", "12:00"),
    "es": ("Su reserva está confirmada - Paid Tours", "Hola, Pat:", "martes, 13 de julio de 2027", "12:00"),
}


def text_of(message: Message) -> tuple[str, str]:
    subject = str(make_header(decode_header(message["Subject"])))
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return subject, payload.decode(message.get_content_charset() or "utf-8")


@pytest.mark.parametrize("language", wording.LANGUAGES)
async def test_confirmation_and_cancellation_arrive_in_the_business_language(
    uows: UnitOfWorkFactory, smtp: tuple[Inbox, str], language: str
) -> None:
    inbox, url = smtp
    shop = await new_shop(uows)
    shop.business = await update_business(
        uows, shop.business, {"language": language, "timezone": "Europe/Berlin", "horizon_days": 730}
    )
    booked = await book_appointment(uows, clock, shop.business.slug, request(shop, START))
    await cancel_booking(uows, clock, business_id=shop.business.id, booking_id=booked.booking.id, actor="owner")
    await drain_all(uows, clock, {"email": SmtpMailer(url, "tours@example.com")})

    confirmation, cancellation = (text_of(m) for m in inbox.of(shop))
    subject, greeting, date, time = EXPECTED[language]
    assert confirmation[0] == subject
    assert confirmation[1].splitlines()[0] == greeting
    assert f"{date}" in confirmation[1] and time in confirmation[1] and "(Europe/Berlin)" in confirmation[1]
    assert cancellation[0] == wording.say(language, "subject.cancellation") + " - Paid Tours"
    assert date in cancellation[1]


def test_the_page_language_is_asked_then_the_browser_then_the_business() -> None:
    assert wording.choose_language("fr", "de-DE,de;q=0.9", "es") == "fr"
    assert wording.choose_language(None, "it-IT, de;q=0.8, en;q=0.9", "es") == "en"
    assert wording.choose_language("xx", "it", "es") == "es"
    assert wording.choose_language(None, None, None) == "en"


def test_every_language_has_every_sentence_with_the_same_placeholders() -> None:
    english = wording.SENTENCES["en"]
    for language in wording.LANGUAGES:
        sentences = wording.SENTENCES[language]
        assert sentences.keys() == english.keys(), language
        for key, sentence in sentences.items():
            assert _fields(sentence) == _fields(english[key]), (language, key)


def _fields(sentence: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(sentence) if name}
