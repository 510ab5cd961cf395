"""Log lines for machines (one JSON object per line) or for people (text), with the request id of the
request being served on every line written while serving it.

Lines carry ids (request, booking, business slug), never a customer's name, email or phone.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, Literal

LogFormat = Literal["json", "text"]

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# What every LogRecord has; anything else on a record was passed with `extra=` and is a field of the line
# (except uvicorn's copy of its message with terminal colours).
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
}


def fields(record: logging.LogRecord) -> dict[str, Any]:
    extra = {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}
    current = request_id.get()
    if current is not None:
        extra.setdefault("request_id", current)
    return extra


# Built once: `json.dumps` with any option builds a new encoder for every line.
_ENCODER = json.JSONEncoder(default=str)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "time": at.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,  # which worker, when there are several
        }
        line.update(fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = " ".join(f"{key}={value}" for key, value in fields(record).items())
        if not extra:
            return text
        head, newline, rest = text.partition("\n")  # keep a traceback below the line it belongs to
        return f"{head} {extra}{newline}{rest}"


def record_only_what_lines_show() -> None:
    """Every request writes an access line, and by default each log record also looks up the file, line and
    function that logged it (walking the stack) and its thread's and process's names, which no line here
    shows: about a tenth of a booking's CPU. The logging HOWTO's "Optimization" section turns them off so."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False


def format_for(stream: IO[str]) -> LogFormat:
    """Text for a person at a terminal; JSON for a file, a pipe or a log collector."""
    return "text" if stream.isatty() else "json"


def logging_config(log_format: LogFormat) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn's `log_config`: applied in every worker process."""
    formatter = {"json": JsonFormatter, "text": TextFormatter}[log_format]
    handler = {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stderr": handler},
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": {
            "slotguard": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "uvicorn": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            # One line per request comes from slotguard.access; uvicorn's own would repeat it.
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
