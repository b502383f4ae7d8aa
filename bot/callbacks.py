"""Button data: one format for every inline button, defined, signed and parsed here.

Telegram does not promise that a button press carries data one of our buttons had: a modified
client can send anything. So every button's `callback_data` is

    <kind>:<field>:...:<tag>

where the tag is an HMAC-SHA256, cut to TAG_BYTES and base64url-encoded, of the Telegram user
id the button was sent to and of everything before it, under a key derived from the pepper
(db.pseudonym.derive_key). A press parses only if the tag matches the person pressing: data
made up, changed, copied from another person's chat, or made under another pepper is refused
(`parse` returns None), and the press gets a quiet "this button has expired" and changes
nothing. The tag proves where the data came from, not that it is still true: each handler
checks what it writes against the database (a record belongs to the person pressing; the tier
comes from the stored result).

A new kind of button is one `Payload` subclass: its KIND (unique, short) and its fields, each
a string of [A-Za-z0-9_-]; `fields()` writes them and `of()` reads them back, raising
ValueError for anything it would not have written. All of it must fit Telegram's 64 bytes
(checked when the data is made).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import ClassVar, Self, TypeVar

from model import Tier
from model.decision.onset import Began, Sudden
from model.words import Who

MAX_BYTES = 64  # Telegram's limit for callback_data
TAG_BYTES = 8  # 64 bits: a guess costs a request each, and a wrong one changes nothing
SEPARATOR = ":"
KEY_PURPOSE = "callback-data/v1"

_KINDS: dict[str, type[Payload]] = {}
E = TypeVar("E")


class Payload:
    """What a button means. Subclasses are frozen dataclasses with a unique KIND."""

    KIND: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "KIND" not in cls.__dict__:
            return  # a base of other kinds (ExamButton), no kind of its own
        if cls.KIND in _KINDS:
            raise TypeError(f"button kind {cls.KIND!r} is taken by {_KINDS[cls.KIND].__name__}")
        _KINDS[cls.KIND] = cls

    def fields(self) -> tuple[str, ...]:
        raise NotImplementedError

    @classmethod
    def of(cls, fields: list[str]) -> Self:
        raise NotImplementedError


# --- field codecs -----------------------------------------------------------------------------


def id_field(value: str) -> str:
    """A UUID in 22 characters (its 16 bytes, base64url without padding)."""
    return base64.urlsafe_b64encode(uuid.UUID(value).bytes).decode().rstrip("=")


def id_of(field: str) -> str:
    if len(field) != 22:
        raise ValueError("not an id")
    return str(uuid.UUID(bytes=base64.urlsafe_b64decode(field + "==")))


def _code(codes: dict[E, str], field: str) -> E:
    """The value whose one-letter code is `field`."""
    for value, code in codes.items():
        if code == field:
            return value
    raise ValueError(f"unknown code {field!r}")


_SUDDEN = {Sudden.YES: "y", Sudden.NO: "n", Sudden.UNSURE: "u"}
_BEGAN = {Began.HOURS: "h", Began.DAYS: "d", Began.LONGER: "l"}
_TIER = {Tier.EMERGENCY: "e", Tier.URGENT: "u", Tier.SOON: "s"}  # tiers that ask about onset
_NONE = "-"


# --- the buttons ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Onset(Payload):
    """An answer to "did it start suddenly?" (and, unless yes, "when?") about a screening or
    a face test (`record_id`: either). `shown_tier` is the tier the person was shown: used only
    to word the reply while the row is not yet readable; what is stored comes from the row."""

    KIND: ClassVar[str] = "o"
    record_id: str
    sudden: Sudden
    began: Began | None
    shown_tier: Tier

    def fields(self) -> tuple[str, ...]:
        began = _BEGAN[self.began] if self.began else _NONE
        return (id_field(self.record_id), _SUDDEN[self.sudden], began, _TIER[self.shown_tier])

    @classmethod
    def of(cls, fields: list[str]) -> Self:
        record, sudden, began, tier = fields
        return cls(
            id_of(record),
            _code(_SUDDEN, sudden),
            None if began == _NONE else _code(_BEGAN, began),
            _code(_TIER, tier),
        )


@dataclass(frozen=True)
class Details(Payload):
    """Show the details of a checked photo (its screening id): read from the result log, so any
    replica, and a bot restarted since, can answer it."""

    KIND: ClassVar[str] = "d"
    record_id: str

    def fields(self) -> tuple[str, ...]:
        return (id_field(self.record_id),)

    @classmethod
    def of(cls, fields: list[str]) -> Self:
        (record,) = fields
        return cls(id_of(record))


@dataclass(frozen=True)
class ExamButton(Payload):
    """A button about one face test (its exam id)."""

    exam_id: str

    def fields(self) -> tuple[str, ...]:
        return (id_field(self.exam_id),)

    @classmethod
    def of(cls, fields: list[str]) -> Self:
        (exam,) = fields
        return cls(id_of(exam))


@dataclass(frozen=True)
class ExamGo(ExamButton):
    """Take the closer check offered under a single photo's answer (that photo's exam id)."""

    KIND: ClassVar[str] = "eg"


@dataclass(frozen=True)
class ExamSkip(ExamButton):
    """Skip the raised-brows step of this face test."""

    KIND: ClassVar[str] = "es"


# Where language buttons were: the /language menu, /start, under another reply, or on the
# "who is it for?" question (bot.handlers.choices).
FROM_MENU, FROM_START, FROM_REPLY, FROM_WHO = "m", "s", "r", "w"


@dataclass(frozen=True)
class Language(Payload):
    """Choose a language (a catalog's code)."""

    KIND: ClassVar[str] = "l"
    code: str
    where: str

    def fields(self) -> tuple[str, ...]:
        return (self.code, self.where)

    @classmethod
    def of(cls, fields: list[str]) -> Self:
        code, where = fields
        if where not in (FROM_MENU, FROM_START, FROM_REPLY, FROM_WHO) or not code.isalpha():
            raise ValueError("not a language button")
        return cls(code, where)


@dataclass(frozen=True)
class WhoFor(Payload):
    """Whom the checks are for: the sender, or someone else."""

    KIND: ClassVar[str] = "w"
    who: Who

    def fields(self) -> tuple[str, ...]:
        return (self.who.value,)

    @classmethod
    def of(cls, fields: list[str]) -> Self:
        (who,) = fields
        return cls(Who(who))


FORGET_RESULTS, FORGET_ALL, FORGET_NOTHING = "yes", "all", "no"


@dataclass(frozen=True)
class Forget(Payload):
    """/forget's answer: results only, results and the language, or nothing."""

    KIND: ClassVar[str] = "f"
    choice: str

    def fields(self) -> tuple[str, ...]:
        return (self.choice,)

    @classmethod
    def of(cls, fields: list[str]) -> Self:
        (choice,) = fields
        if choice not in (FORGET_RESULTS, FORGET_ALL, FORGET_NOTHING):
            raise ValueError("not a forget button")
        return cls(choice)


# --- signing ----------------------------------------------------------------------------------


class Buttons:
    """Makes and reads signed button data under one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_pepper(cls, pepper: bytes) -> Buttons:
        from db.pseudonym import derive_key

        return cls(derive_key(pepper, KEY_PURPOSE))

    def data(self, user_id: int, payload: Payload) -> str:
        """The callback_data of a button for `user_id` (ValueError if over 64 bytes)."""
        body = SEPARATOR.join((payload.KIND, *payload.fields()))
        data = f"{body}{SEPARATOR}{self._tag(user_id, body)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"button data of {len(data.encode())} bytes > {MAX_BYTES}")
        return data

    def parse(self, user_id: int, data: str) -> Payload | None:
        """The payload, or None for data that is not ours, not this person's, or not valid."""
        body, _, tag = data.rpartition(SEPARATOR)
        if not body or not hmac.compare_digest(tag, self._tag(user_id, body)):
            return None
        kind, *fields = body.split(SEPARATOR)
        payload_type = _KINDS.get(kind)
        if payload_type is None:
            return None
        try:
            return payload_type.of(fields)
        except (ValueError, TypeError):  # a field we would not have written (or too few)
            return None

    def _tag(self, user_id: int, body: str) -> str:
        message = f"{int(user_id)}{SEPARATOR}{body}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:TAG_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
