"""Text messages through Twilio's REST API (`SLOTGUARD_TWILIO_ACCOUNT_SID`, `_AUTH_TOKEN`, `_FROM`).

One form-encoded POST per message to `/2010-04-01/Accounts/{sid}/Messages.json` with basic auth; Twilio
answers 201 with the queued message. The base URL is configurable so a local server can stand in.
"""

from __future__ import annotations

import httpx

from slotguard.domain.messages import DeliveryFailed, OutgoingMessage

TWILIO_API = "https://api.twilio.com"
TIMEOUT_SECONDS = 15
MAX_ERROR_CHARS = 300


class TwilioSms:
    def __init__(self, account_sid: str, auth_token: str, from_number: str, base_url: str = TWILIO_API) -> None:
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._from = from_number

    async def send(self, message: OutgoingMessage) -> int:
        form = {"To": message.recipient, "From": self._from, "Body": message.body}
        async with httpx.AsyncClient(auth=self._auth, timeout=TIMEOUT_SECONDS) as client:
            try:
                reply = await client.post(self._url, data=form)
            except httpx.HTTPError as failure:
                raise DeliveryFailed(f"{type(failure).__name__}: {failure}") from failure
        if not reply.is_success:
            # 400 is Twilio refusing this message (e.g. an invalid number): sending it again cannot help.
            permanent = reply.status_code == 400
            raise DeliveryFailed(
                f"HTTP {reply.status_code}: {reply.text[:MAX_ERROR_CHARS]}",
                status_code=reply.status_code,
                permanent=permanent,
            )
        return reply.status_code
