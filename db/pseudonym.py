"""Keyed pseudonyms for Telegram users: HMAC-SHA256 of the user id under a secret pepper.

This is pseudonymisation, not anonymisation: whoever holds the pepper can recompute the
pseudonym of any known Telegram id. Anonymous mode stores no user link at all.
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

log = logging.getLogger(__name__)

PSEUDONYM_LENGTH = 64  # hex digits of SHA-256
_MIN_PEPPER_BYTES = 16


def load_pepper(settings: DbSettings) -> bytes:
    """PALSY_PEPPER, else PALSY_PEPPER_FILE, else `<data dir>/pepper` (created 0600 once)."""
    if settings.pepper is not None:
        return settings.pepper.encode()
    if settings.pepper_file is not None:
        return _read_pepper("PALSY_PEPPER_FILE", settings.pepper_file)
    path = settings.default_pepper_path
    if not path.exists():
        _create_pepper(path)
    return _read_pepper("PALSY_DATA_DIR", path)


def _create_pepper(path: Path) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: two replicas starting together must not overwrite each other's pepper.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise ConfigError("PALSY_DATA_DIR", f"cannot create pepper file {path}: {exc}") from None
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32) + "\n")
        file.flush()
        os.fsync(file.fileno())
    log.warning(
        "created a new pseudonym pepper in %s (mode 0600); keep it secret and back it up: "
        "without it, /forget cannot find earlier records",
        path,
    )


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
        return cls(None if settings.anonymous else load_pepper(settings))

    @property
    def anonymous(self) -> bool:
        return self.pepper is None

    def of(self, telegram_id: int) -> str | None:
        """The user's pseudonym (64 hex digits), or None in anonymous mode."""
        if self.pepper is None:
            return None
        message = b"palsy-screen/telegram-user/" + str(int(telegram_id)).encode()
        return hmac.new(self.pepper, message, hashlib.sha256).hexdigest()
