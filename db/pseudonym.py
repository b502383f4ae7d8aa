"""Keyed pseudonyms for Telegram users: HMAC-SHA256 of the user id under a secret pepper, and
the checks that keep the pepper from changing unnoticed.

This is pseudonymisation, not anonymisation: whoever holds the pepper can recompute the
pseudonym of any known Telegram id. Anonymous mode stores no user link at all.

The database keeps the pepper's fingerprint (an HMAC of a fixed text, which says nothing about
the pepper itself). A bot or `palsy-db` whose pepper has another fingerprint refuses to start:
rows would otherwise split across two pseudonyms and /forget would miss some. Only the bot's
first start against a database without a fingerprint may create a pepper; `palsy-db` never does.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from db.settings import ConfigError, DbSettings
from db.store import StoreUnavailable

log = logging.getLogger(__name__)

PSEUDONYM_LENGTH = 64  # hex digits of SHA-256
_MIN_PEPPER_BYTES = 16
_FINGERPRINT_TEXT = b"palsy-screen/pepper-fingerprint/v1"
FINGERPRINT_HEX = 32


class PepperMismatch(StoreUnavailable):
    """The pepper here is not the one the database was used with (or is missing). `str()` is
    one line that says how to fix it. A StoreUnavailable: nothing is written meanwhile."""


def fingerprint(pepper: bytes) -> str:
    """What the database keeps to recognise its pepper: an HMAC of a fixed text under it."""
    return hmac.new(pepper, _FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]


def derive_key(pepper: bytes, purpose: str) -> bytes:
    """A key for `purpose` (e.g. signing buttons) that reveals nothing about the pepper or the
    pseudonyms."""
    return hmac.new(pepper, b"palsy-screen/key/" + purpose.encode(), hashlib.sha256).digest()


def mismatch(stored: str, ours: str | None, where: str) -> PepperMismatch:
    """The one line for a pepper (fingerprint `ours`; None: no pepper) that does not match the
    database at `where`."""
    fix = (
        "set PALSY_PEPPER (or PALSY_PEPPER_FILE) to the pepper from your backup, or point "
        "DATABASE_URL / PALSY_DATA_DIR at the database this pepper belongs to"
    )
    if ours is None:
        return PepperMismatch(
            f"no pepper here, but the database at {where} was used with one (fingerprint "
            f"{stored[:8]}); {fix}; a new pepper would split every person's records in two"
        )
    return PepperMismatch(
        f"the pepper here (fingerprint {ours[:8]}) is not the one the database "
        f"at {where} was used with (fingerprint {stored[:8]}); {fix}"
    )


def load_pepper(settings: DbSettings) -> bytes | None:
    """PALSY_PEPPER, else PALSY_PEPPER_FILE, else `<data dir>/pepper` if it exists; None when
    none is there. Never creates one (see `create_pepper`)."""
    if settings.pepper is not None:
        return settings.pepper.encode()
    if settings.pepper_file is not None:
        return _read_pepper("PALSY_PEPPER_FILE", settings.pepper_file)
    path = settings.default_pepper_path
    if not path.exists():
        return None
    return _read_pepper("PALSY_DATA_DIR", path)


def create_pepper(settings: DbSettings) -> bytes:
    """A new pepper in `<data dir>/pepper` (mode 0600); the one there if another process made
    it first. Only for a database that has never had one (the bot's first start)."""
    path = settings.default_pepper_path
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: two replicas starting together must not overwrite each other's pepper.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_pepper("PALSY_DATA_DIR", path)
    except OSError as exc:
        raise ConfigError("PALSY_DATA_DIR", f"cannot create pepper file {path}: {exc}") from None
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32) + "\n")
        file.flush()
        os.fsync(file.fileno())
    log.warning(
        "created a new pseudonym pepper in %s (mode 0600); keep it secret and back it up apart "
        "from the database: without it, /forget cannot find earlier records",
        path,
    )
    return _read_pepper("PALSY_DATA_DIR", path)


def require_pepper(settings: DbSettings) -> bytes:
    """The pepper, or ConfigError saying where it was looked for (never creates one)."""
    pepper = load_pepper(settings)
    if pepper is None:
        raise ConfigError(
            "PALSY_PEPPER",
            f"no pepper: set PALSY_PEPPER or PALSY_PEPPER_FILE, or put the bot's pepper file at "
            f"{settings.default_pepper_path} (the bot creates it on its first start)",
        )
    return pepper


def _read_pepper(setting: str, path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        pepper = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(setting, f"cannot read pepper file {path}: {exc.strerror}") from None
    if len(pepper) < _MIN_PEPPER_BYTES:
        raise ConfigError(setting, f"pepper file {path} holds under {_MIN_PEPPER_BYTES} bytes")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("pepper file %s is readable by other users; chmod 600 it", path)
    return pepper


@dataclass(frozen=True)
class Pseudonymizer:
    # None: anonymous mode, no user link is ever stored.
    pepper: bytes | None = field(repr=False)

    @classmethod
    def from_settings(cls, settings: DbSettings) -> Pseudonymizer:
        """Anonymous, or the pepper that is there (ConfigError when there is none)."""
        return cls(None if settings.anonymous else require_pepper(settings))

    @property
    def anonymous(self) -> bool:
        return self.pepper is None

    @property
    def fingerprint(self) -> str | None:
        return None if self.pepper is None else fingerprint(self.pepper)

    def of(self, telegram_id: int) -> str | None:
        """The user's pseudonym (64 hex digits), or None in anonymous mode."""
        if self.pepper is None:
            return None
        message = b"palsy-screen/telegram-user/" + str(int(telegram_id)).encode()
        return hmac.new(self.pepper, message, hashlib.sha256).hexdigest()
