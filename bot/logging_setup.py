"""Logging for palsy-bot: one stream handler whose filter removes the bot token from every line."""

from __future__ import annotations

import logging
import sys
from typing import TextIO
from urllib.parse import quote

REDACTED = "<token>"

# httpx logs every request URL at INFO, and Bot API URLs contain the token.
_QUIET_LOGGERS = ("httpx", "httpcore", "alembic.runtime.plugins")


class RedactFilter(logging.Filter):
    """Replaces secrets (as written and percent-encoded) in the formatted message and traceback."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        forms = {s for secret in secrets if secret for s in (secret, quote(secret, safe=""))}
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted(forms, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def setup_logging(level: str, secrets: list[str], stream: TextIO | None = None) -> logging.Handler:
    """Route all logging through one redacting handler on the root logger; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # PTB's DEBUG lines dump whole updates and messages (names, ids, text): personal data.
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))
    return handler
