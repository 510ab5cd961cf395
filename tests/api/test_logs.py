"""Log lines: the request id of the request being served on every line, fields from `extra=`."""

from __future__ import annotations

import json
import logging
import sys

from slotguard.api import logs


def record(message: str, *, exc_info: bool = False, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord(
        "slotguard.test", logging.WARNING, __file__, 1, message, (), sys.exc_info() if exc_info else None
    )
    made.__dict__.update(extra)
    return made


def test_a_json_line_has_the_fields_given_and_the_current_request_id() -> None:
    token = logs.request_id.set("req-1")
    try:
        line = json.loads(logs.JsonFormatter().format(record("booked", booking_id="b-1", status=201)))
    finally:
        logs.request_id.reset(token)

    assert line["message"] == "booked"
    assert line["level"] == "warning"
    assert line["logger"] == "slotguard.test"
    assert (line["booking_id"], line["status"], line["request_id"]) == ("b-1", 201, "req-1")
    assert line["time"].endswith("Z")


def test_a_line_outside_any_request_has_no_request_id_and_keeps_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        line = json.loads(logs.JsonFormatter().format(record("failed", exc_info=True)))
        text = logs.TextFormatter().format(record("failed", exc_info=True, booking_id="b-2"))

    assert "request_id" not in line
    assert "ValueError: boom" in line["exception"]
    first, *rest = text.splitlines()
    assert first.endswith("WARNING slotguard.test: failed booking_id=b-2")
    assert rest[-1] == "ValueError: boom"


def test_uvicorns_coloured_copy_of_a_message_is_left_out() -> None:
    line = json.loads(logs.JsonFormatter().format(record("Started", color_message="\x1b[1mStarted\x1b[0m")))

    assert "color_message" not in line
