"""Fixtures of the service tests beyond the shared ones: a real SMTP server (`smtp`)."""

from tests.services.mail_inbox import smtp

__all__ = ["smtp"]
