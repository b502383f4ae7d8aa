"""End to end: the real Application, Screener (tiny ONNX classifier) and SQLite result log,
against the fake Bot API on 127.0.0.1.

"Drooping" faces are real London faces screened by a tiny classifier whose bias forces a
palsy class (severe_mouth, or moderate_mouth for the onset button): the bot's behaviour for a
finding is what is tested here, not the model.
"""

from __future__ import annotations

import io
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from bot.i18n import Texts
from db.log import ResultLog
from db.records import ScreeningRecord
from db.settings import DbSettings
from db.store import SCREENINGS, USER_PREFS
from tests.bot_harness import TOKEN, RunningBot, bot_env
from tests.fake_bot_api import Call, FakeBotApi, FakeUser
from tests.onnx_fixtures import build_tiny_classifier

BIASES = {
    "healthy": {"normal": 6.0},
    "severe": {"severe_mouth": 6.0},
    "moderate": {"moderate_mouth": 6.0},
    "anonymous": {"normal": 6.0},
}
EXTRA_ENV = {"anonymous": {"PALSY_ANONYMOUS": "1"}}


class Rig:
    """One fake Bot API and one running bot on it."""

    def __init__(self, root: Path, kind: str) -> None:
        classifier = build_tiny_classifier(root / f"{kind}.onnx", bias=BIASES[kind])
        self.api = FakeBotApi(TOKEN).start()
        env = bot_env(self.api, root / f"data-{kind}", classifier, **EXTRA_ENV.get(kind, {}))
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


@pytest.fixture(scope="module")
def rigs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rig]]:
    root = tmp_path_factory.mktemp("bot-e2e")
    made: dict[str, Rig] = {}

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, kind: str) -> Rig:
            made[kind] = Rig(root, kind)
            return made[kind]

    yield Lazy()
    for rig in made.values():
        rig.close()


@pytest.fixture(scope="module")
def healthy(rigs: dict[str, Rig]) -> Rig:
    return rigs["healthy"]


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture(scope="module")
def no_face_jpeg() -> bytes:
    ramp = np.linspace(60, 200, 640, dtype=np.uint8)
    pixels = np.repeat(np.tile(ramp, (480, 1))[:, :, None], 3, axis=2)
    return jpeg(Image.fromarray(pixels))


@pytest.fixture(scope="module")
def face_jpeg(london_neutral: list[Path]) -> bytes:
    return london_neutral[0].read_bytes()


@pytest.fixture(scope="module")
def two_faces_jpeg(london_neutral: list[Path]) -> bytes:
    faces = [Image.open(p).convert("RGB").resize((600, 600)) for p in london_neutral[:2]]
    canvas = Image.new("RGB", (1200, 600))
    canvas.paste(faces[0], (0, 0))
    canvas.paste(faces[1], (600, 0))
    return jpeg(canvas)


def button(call: Call, prefix: str) -> str:
    return next(data for _, data in call.buttons() if data.startswith(prefix))


# --- results ----------------------------------------------------------------------------------


def test_healthy_face_gets_no_signs_with_bars_notice_and_disclaimer(
    healthy: Rig, face_jpeg: bytes
) -> None:
    api, t, user = healthy.api, healthy.texts(), healthy.user()
    msg = api.send_photo(user, face_jpeg)
    reply = api.wait_reply(msg)
    assert reply.text.startswith(t("result.no_signs"))
    assert reply.text.count("<code>") == 7  # all classes, as bars
    assert t("not_validated") in reply.text and t("disclaimer") in reply.text
    assert not reply.buttons()  # no onset question after NO_SIGNS
    # The largest size was screened (the thumbnail is not even an image), with "typing…".
    assert any(c.params["action"] == "typing" for c in api.calls("sendChatAction", user.id))
    (row,) = healthy.rows(user)
    assert (row["status"], row["label"], row["tier"], row["input_kind"]) == (
        "ok",
        "normal",
        "no_signs",
        "photo",
    )
    assert str(user.id) not in str(row)  # pseudonym only


def test_drooping_face_is_an_emergency_number_first_then_befast(
    rigs: dict[str, Rig], face_jpeg: bytes
) -> None:
    rig = rigs["severe"]
    api, t, user = rig.api, rig.texts(), rig.user()
    msg = api.send_photo(user, face_jpeg)
    reply = api.wait_reply(msg)
    assert reply.text.startswith(t("emergency.first"))
    assert reply.text.index("BE-FAST") < reply.text.index(t("region.mouth"))
    assert t("severity.severe") in reply.text
    question = api.wait_messages(user.id, 2)[1]
    assert question.text == t("onset.question")
    assert [label for label, _ in question.buttons()] == [t("onset.yes"), t("onset.no")]


def test_onset_yes_escalates_to_emergency_and_is_logged(
    rigs: dict[str, Rig], face_jpeg: bytes
) -> None:
    rig = rigs["moderate"]
    api, t, user = rig.api, rig.texts(), rig.user()
    reply = api.wait_reply(api.send_photo(user, face_jpeg))
    assert "doctor today" in reply.text and not reply.text.startswith(t("emergency.first"))
    question = api.wait_messages(user.id, 2)[1]
    api.press_button(user, question, button(question, "onset:y"))
    edit = api.wait_for(lambda calls: [c for c in calls if c.method == "editMessageText"])[0]
    assert edit.text.startswith(t("emergency.first")) and "BE-FAST" in edit.text
    assert api.calls("answerCallbackQuery")
    (row,) = rig.rows(user)
    assert (row["tier"], row["sudden_onset"]) == ("emergency", True)


def test_document_image_is_screened_at_full_quality(healthy: Rig, face_jpeg: bytes) -> None:
    api, t, user = healthy.api, healthy.texts(), healthy.user()
    reply = api.wait_reply(api.send_document(user, face_jpeg, file_name="selfie.jpg"))
    assert reply.text.startswith(t("result.no_signs"))
    (row,) = healthy.rows(user)
    assert row["input_kind"] == "document"


# --- rejections and hints ---------------------------------------------------------------------


def test_no_face_gets_its_tip_and_the_emergency_line(healthy: Rig, no_face_jpeg: bytes) -> None:
    api, t, user = healthy.api, healthy.texts(), healthy.user()
    reply = api.wait_reply(api.send_photo(user, no_face_jpeg, width=640, height=480))
    assert t("reject.no_face") in reply.text and t("emergency.footer") in reply.text
    (row,) = healthy.rows(user)
    assert (row["status"], row["reject_reason"]) == ("rejected", "no_face")


def test_two_faces_are_refused(healthy: Rig, two_faces_jpeg: bytes) -> None:
    api, t, user = healthy.api, healthy.texts(), healthy.user()
    reply = api.wait_reply(api.send_photo(user, two_faces_jpeg, width=1200, height=600))
    assert t("reject.multiple_faces") in reply.text


def test_non_image_file_and_other_messages_get_a_hint_without_download(healthy: Rig) -> None:
    api, t, user = healthy.api, healthy.texts(), healthy.user()
    before = len(api.calls("getFile"))
    pdf = api.send_document(
        user, b"%PDF-1.4 ...", file_name="report.pdf", mime_type="application/pdf"
    )
    assert api.wait_reply(pdf).text == t("hint.not_image_file")
    sticker = {"file_id": "s1", "file_unique_id": "us1", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False}  # fmt: skip
    for content in ({"sticker": sticker}, {"text": "hello doctor"}):
        assert api.wait_reply(api.send_message(user, **content)).text == t("hint.send_photo")
    assert len(api.calls("getFile")) == before


def test_image_files_synthetic_corrupt_and_oversized(healthy: Rig, no_face_jpeg: bytes) -> None:
    api, t, user = healthy.api, healthy.texts(), healthy.user()
    named = api.send_document(user, no_face_jpeg, file_name="scan.JPG", mime_type=None)
    assert t("reject.no_face") in api.wait_reply(named).text  # recognised by its name alone
    assert [r["input_kind"] for r in healthy.rows(user)] == ["document"]
    broken = api.send_document(user, b"\xff\xd8\xff\xe0 not really a jpeg", file_name="a.jpg")
    assert t("reject.title") in api.wait_reply(broken).text
    before = len(api.calls("getFile"))
    huge = api.send_document(user, b"x", file_name="big.jpg", file_size=21 * 1024 * 1024)
    assert t("reject.too_many_bytes") in api.wait_reply(huge).text
    assert len(api.calls("getFile")) == before  # checked before downloading


def test_album_photos_are_each_answered(healthy: Rig, no_face_jpeg: bytes) -> None:
    api, user = healthy.api, healthy.user()
    ids = [api.send_photo(user, no_face_jpeg, media_group_id="album1") for _ in range(2)]
    assert all(api.wait_reply(i) for i in ids)


# --- limits, commands, languages --------------------------------------------------------------


def test_rate_limit_answers_once_politely(healthy: Rig, no_face_jpeg: bytes) -> None:
    api, t, user = healthy.api, healthy.texts(), healthy.user()
    limit = healthy.services.settings.rate_limit_photos
    for _ in range(limit + 2):
        api.send_photo(user, no_face_jpeg)
    messages = api.wait_messages(user.id, limit + 1)
    limited = [m for m in messages if m.text.startswith(t("rate_limited", seconds=0)[:30])]
    assert len(limited) == 1
    # A round trip through the same queue, then count: the last photo got no second notice.
    assert api.command(user, "/help")
    sent = [c for c in api.calls("sendMessage", user.id) if c.text.startswith(limited[0].text[:30])]
    assert len(sent) == 1
    other = healthy.user()
    assert t("reject.no_face") in api.wait_reply(api.send_photo(other, no_face_jpeg)).text


def test_forget_asks_then_deletes_and_says_how_many(healthy: Rig, no_face_jpeg: bytes) -> None:
    api, t, user = healthy.api, healthy.texts(), healthy.user()
    for _ in range(2):
        api.wait_reply(api.send_photo(user, no_face_jpeg))
    assert len(healthy.rows(user)) == 2
    ask = api.command(user, "/forget")
    assert ask.text == t("forget.confirm")
    api.press_button(user, ask, button(ask, "forget:no"))
    api.wait_for(lambda calls: [c for c in calls if c.text == t("forget.cancelled")])
    assert len(healthy.rows(user)) == 2
    ask = api.command(user, "/forget")
    api.press_button(user, ask, button(ask, "forget:yes"))
    done = t("forget.done", count=2)
    api.wait_for(
        lambda calls: [c for c in calls if c.method == "editMessageText" and c.text == done]
    )
    assert healthy.rows(user) == []


def test_hindi_user_then_chooses_english(healthy: Rig, no_face_jpeg: bytes) -> None:
    api, user = healthy.api, healthy.user(language_code="hi")
    hi, en = healthy.texts("hi"), healthy.texts("en")
    start = api.command(user, "/start")
    assert start.text.startswith(hi("start.intro")) and hi("tips") in start.text
    assert hi("reject.no_face") in api.wait_reply(api.send_photo(user, no_face_jpeg)).text
    menu = api.command(user, "/language")
    assert [label for label, _ in menu.buttons()] == ["English", "हिंदी"]
    api.press_button(user, menu, "lang:en")
    api.wait_for(lambda calls: [c for c in calls if c.text == en("language.set")])
    assert [row["language"] for row in healthy.rows(user, USER_PREFS)] == ["en"]
    assert en("reject.no_face") in api.wait_reply(api.send_photo(user, no_face_jpeg)).text


def test_commands_are_registered_per_language_and_start_explains(healthy: Rig) -> None:
    api, t = healthy.api, healthy.texts()
    languages = {c.params.get("language_code") for c in api.calls("setMyCommands")}
    assert languages == {None, "en", "hi"}
    assert healthy.services.heartbeat.is_file()  # what `palsy-bot --alive` checks
    start = api.command(healthy.user(), "/start")
    for key in ("start.intro", "privacy", "tips"):
        assert t(key) in start.text
    assert "not</b> diagnose" in start.text and "/forget" in start.text


def test_failure_inside_a_handler_gets_an_apology(healthy: Rig) -> None:
    api, t, user = healthy.api, healthy.texts(), healthy.user()
    size = {"file_id": "no-such-file", "file_unique_id": "x", "width": 9, "height": 9}
    api.send_message(user, photo=[size])
    apology = api.wait_for(
        lambda calls: [c for c in calls if c.chat_id == user.id and t("error.apology") in c.text]
    )
    assert t("emergency.footer") in apology[0].text


def test_anonymous_mode_links_nothing_and_says_so(
    rigs: dict[str, Rig], no_face_jpeg: bytes
) -> None:
    rig = rigs["anonymous"]
    api, t, user = rig.api, rig.texts(), rig.user()
    assert api.command(user, "/privacy").text == t("privacy.anonymous")
    api.wait_reply(api.send_photo(user, no_face_jpeg))
    assert api.command(user, "/forget").text == t("forget.anonymous")
    assert rig.services.results.flush(10)
    with rig.services.results.engine.connect() as connection:
        pseudonyms = connection.execute(select(SCREENINGS.c.pseudonym)).scalars().all()
    assert pseudonyms == [None]


# --- webhook mode -----------------------------------------------------------------------------


def test_webhook_mode_checks_the_secret_and_answers(tmp_path: Path) -> None:
    classifier = build_tiny_classifier(tmp_path / "c.onnx")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeBotApi(TOKEN) as api:
        env = bot_env(
            api,
            tmp_path / "data",
            classifier,
            PALSY_WEBHOOK_URL="https://bot.example.org/telegram/hook",
            PALSY_WEBHOOK_SECRET="s3cret",
            PALSY_WEBHOOK_LISTEN="127.0.0.1",
            PALSY_WEBHOOK_PORT=str(port),
        )
        with RunningBot(env):
            (hook,) = api.wait_for(lambda calls: [c for c in calls if c.method == "setWebhook"])
            assert hook.params["url"] == "https://bot.example.org/telegram/hook"
            assert hook.params["secret_token"] == "s3cret"
            _wait_listening(port)  # PTB registers the webhook just before it starts serving
            user = FakeUser(5)
            update = api.make_update(user, text="hi there")
            url = f"http://127.0.0.1:{port}/telegram/hook"
            assert _post(url, update, secret="wrong") == 403
            assert _post(url, update, secret="s3cret") == 200
            reply = api.wait_reply(update["message"]["message_id"])
            assert reply.text == Texts("en")("hint.send_photo")


def _wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)  # readiness probe of a server starting in another thread


def _post(url: str, update: dict, secret: str) -> int:  # type: ignore[type-arg]
    request = urllib.request.Request(
        url,
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_rows_past_retention_are_purged_at_start(tmp_path: Path) -> None:
    classifier = build_tiny_classifier(tmp_path / "c.onnx")
    with FakeBotApi(TOKEN) as api:
        env = bot_env(api, tmp_path / "data", classifier, PALSY_RETENTION_DAYS="30")
        settings = DbSettings.from_env(env)
        old, recent = (datetime.now(UTC) - timedelta(days=d) for d in (31, 29))
        with ResultLog(settings) as results:
            for created_at in (old, recent):
                row = {"status": "ok", "tier": "no_signs", "input_kind": "photo"}
                results.submit(ScreeningRecord(**row, created_at=created_at))
            assert results.flush(10)
        with RunningBot(env) as bot:
            with bot.services.results.engine.connect() as connection:
                ages = connection.execute(select(SCREENINGS.c.created_at)).scalars().all()
    assert [a.date() for a in ages] == [recent.date()]
