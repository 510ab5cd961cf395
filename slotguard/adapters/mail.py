"""Email over SMTP (`SLOTGUARD_SMTP_URL=smtp://host:port`), sent from a thread so the loop stays free."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from slotguard.domain.messages import OutgoingMessage

SMTP_TIMEOUT_SECONDS = 20


class SmtpMailer:
    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"unsupported SMTP URL {url!r}: use smtp://host:port")
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (465 if self._tls else 25)
        self._login = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        self._sender = sender

    async def send(self, message: OutgoingMessage) -> None:
        await asyncio.to_thread(self._send, _email(message, self._sender))

    def _send(self, email: EmailMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if self._tls else smtplib.SMTP
        with smtp_class(self._host, self._port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if self._login:
                smtp.login(*self._login)
            smtp.send_message(email)


def _email(message: OutgoingMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = formatdate(localtime=False)
    email.set_content(message.body)
    return email
