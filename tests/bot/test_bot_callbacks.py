"""Button data (bot.callbacks): every kind round-trips within Telegram's 64 bytes, and anything
not made by this bot's key for this person is refused."""

from __future__ import annotations

import itertools
import uuid
from typing import ClassVar

import pytest

from bot import callbacks
from bot.callbacks import MAX_BYTES, Buttons, Payload
from bot.i18n import Who
from model.decision.onset import Began, Sudden
from model.decision.triage import Tier

KEY = Buttons.from_pepper(b"test-pepper-0123456789abcdef")
USER, OTHER = 918273645, 918273646
# The largest Telegram user ids are 52-bit; ids are not in the data, only in its tag.
BIG_USER = 2**52 - 1


def every_payload() -> list[Payload]:
    record = str(uuid.uuid4())
    onsets = [
        callbacks.Onset(record, sudden, began, tier)
        for sudden, began, tier in itertools.product(
            Sudden, [None, *Began], (Tier.EMERGENCY, Tier.URGENT, Tier.SOON)
        )
    ]
    return [
        *onsets,
        callbacks.ExamGo(record),
        callbacks.ExamSkip(record),
        *[callbacks.Language(code, where) for code in ("en", "hi") for where in "msrw"],
        *[callbacks.WhoFor(who) for who in Who],
        *[callbacks.Forget(choice) for choice in ("yes", "all", "no")],
    ]


@pytest.mark.parametrize("user", [USER, BIG_USER])
def test_every_button_round_trips_within_64_bytes(user: int) -> None:
    for payload in every_payload():
        data = KEY.data(user, payload)
        assert len(data.encode()) <= MAX_BYTES, data
        assert KEY.parse(user, data) == payload


def test_forged_changed_foreign_and_stale_data_is_refused() -> None:
    record = str(uuid.uuid4())
    data = KEY.data(USER, callbacks.Onset(record, Sudden.NO, None, Tier.SOON))
    assert KEY.parse(OTHER, data) is None  # another person's button
    assert Buttons.from_pepper(b"another-pepper-0123456789").parse(USER, data) is None
    for i, char in enumerate(data):  # any one character changed
        for other in {"A", "-", ":", "0"} - {char}:
            assert KEY.parse(USER, data[:i] + other + data[i + 1 :]) is None, (i, other)
    body = data.rsplit(":", 1)[0]
    for made_up in (
        f"onset:y:-:{uuid.UUID(record).hex}:exam-emergency",  # the old, unsigned format
        body,  # no tag
        body.replace(":n:", ":y:") + ":" + data.rsplit(":", 1)[1],  # a changed answer
        "",
        ":",
        "o:" * 40,
    ):
        assert KEY.parse(USER, made_up) is None, made_up


def test_a_valid_tag_over_fields_that_do_not_parse_is_refused() -> None:
    """The tag proves who made the data; each kind still reads only what it would write (a
    leaked key, or a bug of ours, cannot make a handler act on nonsense)."""
    for body in ("o:x:y:-:e", "o:AAAAAAAAAAAAAAAAAAAAAA:y:-:z", "l:en:q", "f:maybe", "eg:short",
                 "zz:unknown-kind", "f:yes:extra", "w:everyone"):  # fmt: skip
        assert KEY.parse(USER, f"{body}:{KEY._tag(USER, body)}") is None, body
    with pytest.raises(TypeError, match="taken"):

        class Again(Payload):  # a second kind of button may not reuse a kind's name
            KIND: ClassVar[str] = "o"


def test_data_over_64_bytes_is_refused_when_made() -> None:
    with pytest.raises(ValueError, match="64"):
        KEY.data(USER, callbacks.Language("x" * 60, "m"))
