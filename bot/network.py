"""Bot API failures in words, for one-line log messages (never a URL: it holds the token), and
how long to wait before trying again."""

from __future__ import annotations

import errno
import logging
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
from telegram.error import Conflict, TelegramError, TimedOut

log = logging.getLogger(__name__)


def api_origin(base_url: str) -> str:
    """`https://api.telegram.org` from the base URL: what to name in a log line."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def describe(exc: BaseException) -> str:
    """Why a request to the Bot API failed, in words (never the exception's URL or a trace)."""
    for cause in _chain(exc):
        if isinstance(cause, socket.gaierror):
            return "name not resolved"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ssl.SSLError):
            return "secure connection (TLS) failed"
        if isinstance(cause, TimedOut | TimeoutError | httpx.TimeoutException):
            return "no answer in time"
        if isinstance(cause, ConnectionResetError | httpx.RemoteProtocolError):
            return "connection dropped"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
    if isinstance(exc, Conflict):
        return "another process is polling with this token"
    if isinstance(exc, TelegramError) and exc.__cause__ is None:
        return f"it answered {exc.message!r}"
    return type(exc).__name__


BACKOFF_CAP_S = 30.0


def backoff_s(failures: int) -> float:
    """Seconds to wait after the `failures`-th failure in a row: 1, 2, 4 ... BACKOFF_CAP_S."""
    return min(BACKOFF_CAP_S, 2.0 ** max(0, failures - 1))


def unreachable(origin: str, exc: BaseException, failures: int) -> float:
    """Say, in one line, that the Bot API is out of reach and when it is tried again; the
    traceback only at DEBUG. Returns the wait."""
    delay = backoff_s(failures)
    log.warning(
        "cannot reach the Bot API at %s: %s; retrying in %g s", origin, describe(exc), delay
    )
    log.debug("the failed request", exc_info=exc)
    return delay
