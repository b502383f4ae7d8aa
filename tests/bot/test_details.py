"""How sure, and the "Details" button (issue 21), through the real bot and the fake Bot API, in
English and Hindi: every graded answer says how sure it is, an emergency and a rejection do not;
Details lists the seven classes' calibrated percentages and the sizes in millimetres from the
result log, so it still works after the bot restarts, and only for the person whose check it is.

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.callbacks import Details
from db.store import SCREENINGS
from model.decision.grader import DEFAULT_GRADER
from model.labels import NORMAL, PAPER_CLASSES
from model.measures.asymmetry import MM_PER_IPD
from model.words import LANGUAGES, Texts
from tests.support.bot_harness import BUTTONS, TOKEN, RunningBot, bot_env, button, kinds
from tests.support.bot_rigs import Rig
from tests.support.fake_bot_api import Call, FakeBotApi, FakeUser
from tests.support.onnx_fixtures import build_tiny_classifier

PERCENT = re.compile(r": (&lt;1|&gt;99|\d{1,2})%$", re.M)  # as sent: Telegram HTML


def sure_line(t: Texts) -> re.Pattern[str]:
    """The "how sure" line of any band and number, in `t`'s language."""
    bands = "|".join(re.escape(t(f"sure.{b}")) for b in ("very_sure", "fairly_sure", "not_sure"))
    line = re.escape(t("sure.line", how="HOW", n="N"))
    return re.compile(line.replace("HOW", f"({bands})").replace("N", r"([0-9])"))


class Shipped:
    """The shipped grader deciding from the measures, restartable on one data folder."""

    def __init__(self, root: Path) -> None:
        self.classifier = build_tiny_classifier(root / "tiny.onnx", bias={})
        self.data = root / "data"
        self.api: FakeBotApi | None = None
        self.bot: RunningBot | None = None

    def start(self) -> tuple[FakeBotApi, RunningBot]:
        self.api = FakeBotApi(TOKEN).start()
        env = bot_env(self.api, self.data, self.classifier, PALSY_GRADER_PATH=str(DEFAULT_GRADER))
        self.bot = RunningBot(env).start()
        return self.api, self.bot

    def stop(self) -> None:
        if self.bot is not None:
            self.bot.stop()
        if self.api is not None:
            self.api.stop()
        self.api = self.bot = None


@pytest.fixture
def shipped(tmp_path: Path) -> Iterator[Shipped]:
    made = Shipped(tmp_path)
    yield made
    made.stop()


def _sent_to(api: FakeBotApi, user: FakeUser) -> list[Call]:
    return [c for c in api.calls("sendMessage", user.id) if c.error is None]


def _alerts(api: FakeBotApi) -> list[str]:
    return [str(c.params.get("text", "")) for c in api.calls("answerCallbackQuery")]


@pytest.mark.data
@pytest.mark.parametrize("language", LANGUAGES)
def test_details_after_a_restart_from_the_log_and_only_for_their_owner(
    shipped: Shipped, face_jpeg: bytes, language: str
) -> None:
    api, bot = shipped.start()
    t = bot.services.texts(language)
    user, stranger = FakeUser(4242, language_code=language), FakeUser(4343)
    reply = api.wait_reply(api.send_photo(user, face_jpeg))
    said = sure_line(t).search(reply.text)
    assert said, reply.text
    data = button(reply, "details:")
    record_id = kinds(reply)[-1].split(":", 1)[1]
    assert bot.services.results.flush(10)
    with bot.services.results.engine.connect() as connection:
        columns = (SCREENINGS.c.probabilities, SCREENINGS.c.asymmetry, SCREENINGS.c.confidence,
                   SCREENINGS.c.grader_version)  # fmt: skip
        row = connection.execute(select(*columns).where(SCREENINGS.c.id == record_id)).one()
    shipped.stop()

    # A new process: nothing of the answer is in memory, the button and the log have it all.
    api, bot = shipped.start()
    api.press_button(user, reply, data)
    [shown] = api.wait_for(lambda _: _sent_to(api, user)[:1], what="the details")
    assert shown.reply_to == reply.result["message_id"]  # under the answer it explains
    assert shown.text.startswith(t("details.title")) and t("disclaimer") in shown.text
    names = [t(f"details.class.{c}") for c in (NORMAL, *PAPER_CLASSES)]
    listed = [line.split(": ")[0] for line in shown.text.splitlines() if PERCENT.search(line)]
    assert sorted(listed) == sorted(names)  # the seven classes, each once, with a percentage
    probabilities = dict(row[0])
    best = max(probabilities, key=probabilities.get)
    assert listed[0] == t(f"details.class.{best}")  # most likely first
    # The number told is the calibrated probability the log keeps, rounded to tenths.
    assert int(said.group(2)) == min(9, round(row[2] * 10)) and row[3]
    for measure in ("mouth", "brow", "eye"):
        size = abs(row[1][measure]) * MM_PER_IPD
        assert t(f"details.{measure}", size=f"{size:.0f}") in shown.text

    # Someone else pressing a correctly signed button for this check sees nothing of it.
    api.press_button(stranger, reply, BUTTONS.data(stranger.id, Details(record_id)))
    api.wait_for(lambda _: bot.services.texts("en")("button.expired") in _alerts(api))
    # A check the log does not hold (not written yet, or erased): a short note, no message.
    api.press_button(user, reply, BUTTONS.data(user.id, Details(str(uuid.uuid4()))))
    api.wait_for(lambda _: t("details.missing") in _alerts(api))
    assert len(_sent_to(api, user)) == 1 and not _sent_to(api, stranger)


@pytest.mark.parametrize("language", LANGUAGES)
def test_how_sure_in_graded_answers_and_never_with_an_emergency_or_a_rejection(
    rigs: dict[str, Rig], face_jpeg: bytes, no_face_jpeg: bytes, language: str
) -> None:
    for kind in ("healthy", "mild", "moderate", "unclear", "severe"):
        rig = rigs[kind]
        t = rig.texts(language)
        reply = rig.api.wait_reply(rig.api.send_photo(rig.user(language), face_jpeg))
        said = sure_line(t).search(reply.text)
        shown = [k.split(":")[0] for k in kinds(reply)]
        if kind == "severe":  # an emergency: nothing that could weigh against the call
            assert said is None and "details" not in shown
            continue
        assert said and "details" in shown, kind
        if kind == "unclear":
            assert said.group(1) == t("sure.not_sure")
    rig = rigs["healthy"]
    t = rig.texts(language)
    refused = rig.api.wait_reply(rig.api.send_photo(rig.user(language), no_face_jpeg))
    assert refused.text.startswith(t("reject.title"))
    assert sure_line(t).search(refused.text) is None and not kinds(refused)
