"""Customers read their messages in the business's language, with dates written the way that language
writes them, received by a real SMTP server; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message

import pytest

from slotguard.adapters.mail import SmtpMailer
from slotguard.domain import wording
from slotguard.domain.bookings import Client
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import PageLinks
from slotguard.services.booking import book_appointment, cancel_booking
from slotguard.services.catalog import update_business
from slotguard.services.notifications import drain_all
from slotguard.services.ports import UnitOfWorkFactory
from slotguard.services.slots import SeatRequest, add_slot, book_seats
from slotguard.services.waitlists import join_waitlist, make_offers
from tests.services.mail_inbox import Inbox
from tests.services.payments_support import clock, new_shop, request

# Drains the whole outbox: on the module's own database, not every message other tests queued.
pytestmark = pytest.mark.own_database

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


async def test_a_waitlist_offer_is_written_in_the_language_its_entry_joined_in(
    uows: UnitOfWorkFactory, smtp: tuple[Inbox, str]
) -> None:
    inbox, url = smtp
    shop = await new_shop(uows)
    slot = await add_slot(uows, clock, shop.business, shop.service.id, Interval(START, START + timedelta(hours=1)), 1)
    taken = await book_seats(uows, clock, shop.business.slug, SeatRequest(slot.id, request(shop, START, n=1).client, 1))
    waiting = Client("Léa", "Martin", f"lea@{shop.business.slug}.example.com", "+33 6 12 34 56 78")
    await join_waitlist(uows, clock, shop.business.slug, slot.id, 1, waiting, "fr")
    await cancel_booking(uows, clock, manage_token=taken.manage_token, actor="customer")
    await make_offers(uows, clock, PageLinks("https://tours.example"))
    await drain_all(uows, clock, {"email": SmtpMailer(url, "tours@example.com")})

    (offer,) = [text_of(m) for m in inbox.of(shop) if m["To"].startswith("lea@")]
    assert offer[0] == "Des places se sont libérées pour vous - Paid Tours"
    assert offer[1].splitlines()[0] == "Bonjour Léa,"
    assert f"https://tours.example/book/{shop.business.slug}?offer=" in offer[1] and "&lang=fr" in offer[1]
    async with uows(write=False) as uow:
        texts = await uow.outbox.of_business(shop.business.id, channel="sms")
    assert [(m.recipient, m.kind.value) for m in texts] == [("+33 6 12 34 56 78", "waitlist_offer")]
    assert texts[0].body.startswith("Paid Tours : places libres pour vous le ")


def test_an_email_s_day_is_the_business_s_local_day_whatever_the_time_of_day() -> None:
    late = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # already the 29th in Berlin
    assert wording.day(late, "Europe/Berlin", "de") == "29. März 2026"
    assert wording.day(late, "UTC", "en") == "March 28, 2026"
    assert wording.day(late - timedelta(hours=12), "Europe/Berlin", "de") == "28. März 2026"
