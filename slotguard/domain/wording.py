"""What customers read in their own language: the sentences of emails and texts, whole, with placeholders.

A sentence is translated as a whole (never built from translated pieces), so each language can order its
words as it needs. Dates and times are written by Babel in the language's own style, in the business's
time zone. Error `message`s of the API are not here: they stay English (their codes are the contract).
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format

LANGUAGES = ("en", "de", "fr", "es")
DEFAULT_LANGUAGE = "en"

SENTENCES: dict[str, dict[str, str]] = {
    "en": {
        "subject.confirmation": "Your booking is confirmed",
        "subject.cancellation": "Your booking was cancelled",
        "subject.reschedule": "Your booking was moved",
        "subject.reminder": "Reminder: your booking on {date}",
        "subject.waitlist_offer": "Seats are free for you",
        "subject.waitlist_joined": "You are on the waiting list",
        "subject.of_business": "{subject} - {business}",
        "greeting": "Hello {first_name},",
        "body.confirmation": "Your booking at {business} on {when} is confirmed.",
        "body.cancellation": "Your booking at {business} on {when} was cancelled.",
        "body.reschedule": "Your booking at {business} was moved to {when}.",
        "body.reminder": "This is a reminder of your booking at {business} on {when}.",
        "body.waitlist_offer": "Seats have come free for your party at {business} on {when}. "
        "They are held for you until {until}.",
        "body.waitlist_joined": "You are number {position} on the waiting list for {business} on {when}. "
        "We will write to you if seats free up.",
        "party": "Party size: {guests}.",
        "reference": "Booking reference: {reference}",
        "manage": "To change or cancel it, open: {url}",
        "accept": "To book them, open: {url}",
        "sms.confirmation": "{business}: your booking on {when} is confirmed. Ref {reference}",
        "sms.reminder": "{business}: reminder of your booking on {when}. Manage it: {url}",
        "sms.waitlist_offer": "{business}: seats are free for you on {when} until {until}. Book: {url}",
    },
    "de": {
        "subject.confirmation": "Ihre Buchung ist bestätigt",
        "subject.cancellation": "Ihre Buchung wurde storniert",
        "subject.reschedule": "Ihre Buchung wurde verschoben",
        "subject.reminder": "Erinnerung: Ihre Buchung am {date}",
        "subject.waitlist_offer": "Für Sie sind Plätze frei geworden",
        "subject.waitlist_joined": "Sie stehen auf der Warteliste",
        "subject.of_business": "{subject} - {business}",
        "greeting": "Hallo {first_name},",
        "body.confirmation": "Ihre Buchung bei {business} am {when} ist bestätigt.",
        "body.cancellation": "Ihre Buchung bei {business} am {when} wurde storniert.",
        "body.reschedule": "Ihre Buchung bei {business} wurde auf {when} verschoben.",
        "body.reminder": "Wir erinnern Sie an Ihre Buchung bei {business} am {when}.",
        "body.waitlist_offer": "Bei {business} sind am {when} Plätze für Ihre Gruppe frei geworden. "
        "Sie sind bis {until} für Sie reserviert.",
        "body.waitlist_joined": "Sie sind Nummer {position} auf der Warteliste für {business} am {when}. "
        "Wir schreiben Ihnen, sobald Plätze frei werden.",
        "party": "Personen: {guests}.",
        "reference": "Buchungsnummer: {reference}",
        "manage": "Zum Ändern oder Stornieren öffnen Sie: {url}",
        "accept": "Zum Buchen öffnen Sie: {url}",
        "sms.confirmation": "{business}: Ihre Buchung am {when} ist bestätigt. Nr. {reference}",
        "sms.reminder": "{business}: Erinnerung an Ihre Buchung am {when}. Verwalten: {url}",
        "sms.waitlist_offer": "{business}: Plätze am {when} sind bis {until} für Sie frei. Buchen: {url}",
    },
    "fr": {
        "subject.confirmation": "Votre réservation est confirmée",
        "subject.cancellation": "Votre réservation a été annulée",
        "subject.reschedule": "Votre réservation a été déplacée",
        "subject.reminder": "Rappel : votre réservation du {date}",
        "subject.waitlist_offer": "Des places se sont libérées pour vous",
        "subject.waitlist_joined": "Vous êtes sur la liste d'attente",
        "subject.of_business": "{subject} - {business}",
        "greeting": "Bonjour {first_name},",
        "body.confirmation": "Votre réservation chez {business} le {when} est confirmée.",
        "body.cancellation": "Votre réservation chez {business} le {when} a été annulée.",
        "body.reschedule": "Votre réservation chez {business} a été déplacée au {when}.",
        "body.reminder": "Nous vous rappelons votre réservation chez {business} le {when}.",
        "body.waitlist_offer": "Des places se sont libérées pour votre groupe chez {business} le {when}. "
        "Elles vous sont réservées jusqu'au {until}.",
        "body.waitlist_joined": "Vous êtes numéro {position} sur la liste d'attente de {business} le {when}. "
        "Nous vous écrirons si des places se libèrent.",
        "party": "Nombre de personnes : {guests}.",
        "reference": "Référence de réservation : {reference}",
        "manage": "Pour la modifier ou l'annuler, ouvrez : {url}",
        "accept": "Pour les réserver, ouvrez : {url}",
        "sms.confirmation": "{business} : votre réservation du {when} est confirmée. Réf. {reference}",
        "sms.reminder": "{business} : rappel de votre réservation du {when}. Gérer : {url}",
        "sms.waitlist_offer": "{business} : places libres pour vous le {when} jusqu'au {until}. Réserver : {url}",
    },
    "es": {
        "subject.confirmation": "Su reserva está confirmada",
        "subject.cancellation": "Su reserva ha sido cancelada",
        "subject.reschedule": "Su reserva ha sido cambiada",
        "subject.reminder": "Recordatorio: su reserva del {date}",
        "subject.waitlist_offer": "Hay plazas libres para usted",
        "subject.waitlist_joined": "Está en la lista de espera",
        "subject.of_business": "{subject} - {business}",
        "greeting": "Hola, {first_name}:",
        "body.confirmation": "Su reserva en {business} el {when} está confirmada.",
        "body.cancellation": "Su reserva en {business} el {when} ha sido cancelada.",
        "body.reschedule": "Su reserva en {business} se ha cambiado al {when}.",
        "body.reminder": "Le recordamos su reserva en {business} el {when}.",
        "body.waitlist_offer": "Se han liberado plazas para su grupo en {business} el {when}. "
        "Las guardamos para usted hasta el {until}.",
        "body.waitlist_joined": "Es el número {position} en la lista de espera de {business} el {when}. "
        "Le escribiremos si se liberan plazas.",
        "party": "Personas: {guests}.",
        "reference": "Referencia de la reserva: {reference}",
        "manage": "Para cambiarla o cancelarla, abra: {url}",
        "accept": "Para reservarlas, abra: {url}",
        "sms.confirmation": "{business}: su reserva del {when} está confirmada. Ref. {reference}",
        "sms.reminder": "{business}: recordatorio de su reserva del {when}. Gestionarla: {url}",
        "sms.waitlist_offer": "{business}: plazas libres para usted el {when} hasta el {until}. Reservar: {url}",
    },
}


def supported(language: str | None) -> str | None:
    """The supported language a tag names ("de-AT" → "de"), or None."""
    if not language:
        return None
    primary = language.strip().split("-")[0].split("_")[0].lower()
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first supported language of an Accept-Language header, by its q-values."""
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate((header or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = supported(tag)
        if language and quality > 0:
            ranked.append((-quality, order, language))
    return min(ranked)[2] if ranked else None


def choose_language(asked: str | None, accept_language: str | None, business_language: str | None) -> str:
    """`?lang=` first, then the browser's languages, then the business's own (SPEC §9)."""
    return supported(asked) or from_accept_language(accept_language) or supported(business_language) or DEFAULT_LANGUAGE


def say(language: str, key: str, **values: object) -> str:
    sentences = SENTENCES.get(language, SENTENCES[DEFAULT_LANGUAGE])
    return sentences[key].format(**values)


@functools.lru_cache(maxsize=1024)  # a booking's email and text message say it twice; popular times recur
def when(moment: datetime, timezone: str, language: str) -> str:
    """'Sonntag, 29. März 2026, 12:00 (Europe/Berlin)': the locale's own date, time and their joining."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    locale = _locale(language)
    date_text = format_date(local, "full", locale=locale)
    time_text = format_time(local, "short", tzinfo=zone, locale=locale)
    return _joining(language).replace("{1}", date_text).replace("{0}", time_text) + f" ({timezone})"


def day(moment: datetime, timezone: str, language: str) -> str:
    """'29. März 2026': the local day of `moment`, as the language writes it in full."""
    return _long_date(moment.astimezone(ZoneInfo(timezone)).date(), language)


@functools.lru_cache(maxsize=1024)  # in every booking's email subject; a business's bookings share few days
def _long_date(local: date, language: str) -> str:
    return format_date(local, "long", locale=_locale(language))


# Every booking's confirmation is worded while its request is served. Babel parses a language given as text
# again on each call (several times per date written), so each language is parsed once per process.
@functools.lru_cache(maxsize=64)
def _locale(language: str) -> Locale:
    return Locale.parse(language)


@functools.lru_cache(maxsize=64)
def _joining(language: str) -> str:
    """How the language joins a date ({1}) and a time ({0})."""
    return str(get_datetime_format("full", locale=_locale(language)))
