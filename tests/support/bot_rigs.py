"""Running bots of several kinds on the fake Bot API, shared by the bot's end-to-end and
conversation tests (their fixtures are in tests/bot/conftest.py), and the small waits those
tests share.

A kind is a tiny classifier's bias (which finding single photos get, through a grader that
passes the classifier through) and the settings that differ from a deployment's defaults.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.i18n import Texts
from db.store import SCREENINGS
from model.decision.grader import DEFAULT_GRADER
from tests.support.bot_harness import TOKEN, RunningBot, bot_env, kinds
from tests.support.fake_bot_api import Call, FakeBotApi, FakeUser
from tests.support.onnx_fixtures import build_passthrough_grader, build_tiny_classifier

BIASES = {
    "healthy": {"normal": 6.0},
    "severe": {"severe_mouth": 6.0},
    "moderate": {"moderate_mouth": 6.0},
    "anonymous": {"normal": 6.0},
    "hindi_ngo": {"normal": 6.0},
    "burst": {"normal": 6.0},
    # Top class mild_mouth at p ~0.4 (bias 1.4 over six zeros), P(palsy) ~0.9: a finding only
    # for a grader whose own finding threshold is under 0.9.
    "low_threshold": {"mild_mouth": 1.4},
    "mild": {"mild_mouth": 6.0},
    "unclear": {},  # P(palsy) = 6/7: between the test grader's two thresholds
    "shipped": {},  # the shipped grader decides from the measures; the classifier has no weight
    "limited": {"normal": 6.0},
}
EXTRA_ENV = {
    "anonymous": {"PALSY_ANONYMOUS": "1"},
    "shipped": {"PALSY_GRADER_PATH": str(DEFAULT_GRADER)},
    # A window far longer than any test: exactly which photos pass is then fixed.
    "limited": {"PALSY_RATE_LIMIT_PHOTOS": "2", "PALSY_RATE_LIMIT_WINDOW_S": "600"},
    "hindi_ngo": {"PALSY_DEFAULT_LANGUAGE": "hi"},
    # The production limit (5 a minute) scaled down so a burst runs in seconds.
    "burst": {"PALSY_RATE_LIMIT_PHOTOS": "2", "PALSY_RATE_LIMIT_WINDOW_S": "2"},
}
FINDING_AT = {"low_threshold": 0.5}


class Rig:
    """One fake Bot API and one running bot on it."""

    def __init__(self, root: Path, kind: str) -> None:
        classifier = build_tiny_classifier(root / f"{kind}.onnx", bias=BIASES[kind])
        self.api = FakeBotApi(TOKEN).start()
        extra = dict(EXTRA_ENV.get(kind, {}))
        if kind in FINDING_AT:
            grader = root / f"{kind}.low.grader.json"
            build_passthrough_grader(grader, finding_at=FINDING_AT[kind])
            extra["PALSY_GRADER_PATH"] = str(grader)
        env = bot_env(self.api, root / f"data-{kind}", classifier, **extra)
        self.bot = RunningBot(env).start()
        self.services = self.bot.services
        self._next_user = 1000

    def user(self, language_code: str | None = "en") -> FakeUser:
        self._next_user += 1
        return FakeUser(self._next_user, language_code=language_code)

    def texts(self, language: str = "en") -> Texts:
        return self.services.texts(language)

    def rows(self, user: FakeUser, table=SCREENINGS) -> list[dict]:  # type: ignore[no-untyped-def]
        assert self.services.results.flush(10)
        pseudonym = self.services.pseudonyms.of(user.id)
        with self.services.results.engine.connect() as connection:
            query = select(table).where(table.c.pseudonym == pseudonym)
            return [dict(row._mapping) for row in connection.execute(query)]

    def close(self) -> None:
        self.bot.stop()
        self.api.stop()


def said(api: FakeBotApi, user: FakeUser, text: str) -> None:
    """Wait until the bot sent `text` to this user (the rigs are shared: another test's user
    may have been sent the same text already)."""
    api.wait_for(lambda calls: [c for c in calls if c.chat_id == user.id and c.text == text])


def asked_whom(api: FakeBotApi, user: FakeUser) -> Call:
    """The first-contact question that follows a first reply (whom the check is for, and the
    languages): waited for, so that a command sent next is not answered in a race with it."""
    return api.wait_for(
        lambda calls: next((c for c in calls if c.chat_id == user.id and any(
            kind.startswith("who:") for kind in kinds(c)
        )), None), what="the first-contact question",
    )  # fmt: skip


def edits(api: FakeBotApi, user: FakeUser, count: int = 1) -> list[Call]:
    """The first `count` edits of the bot's messages in `user`'s chat (refused ones too)."""

    def enough(calls: list[Call]) -> list[Call] | None:
        got = [c for c in calls if c.method.startswith("editMessage") and c.chat_id == user.id]
        return got[:count] if len(got) >= count else None

    return api.wait_for(enough, what=f"{count} edits in chat {user.id}")


def apologies(api: FakeBotApi, user: FakeUser, t: Texts) -> list[Call]:
    return [c for c in api.calls("sendMessage", user.id) if t("error.apology") in c.text]


def ask_onset(rig: Rig, face: bytes, language: str = "en") -> tuple[Texts, FakeUser, Call, Call]:
    """A new user sends a photo with a finding: (texts, user, the result, the onset question)."""
    t, user = rig.texts(language), rig.user(language)
    reply = rig.api.wait_reply(rig.api.send_photo(user, face))
    return t, user, reply, rig.api.wait_messages(user.id, 2)[1]
