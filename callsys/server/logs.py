"""Structured logs for the server: one JSON object per line on stderr (journald, Docker, Loki…).

Every record carries ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``; fields passed with
``log.info("…", extra={"event": "session_open", "agent": "sara"})`` are added as they are.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = ["JsonFormatter", "configure_json_logging"]

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_json_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Replace the root handlers with one JSON-lines handler (the server's only log format)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # The WebSocket library logs every refused handshake at INFO; ours say it better.
    logging.getLogger("callsys.server.ws").setLevel(max(level, logging.WARNING))
    # One line per CRM request is noise at INFO; failures reach us through the outbox's own log.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
