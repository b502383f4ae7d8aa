"""Fault injection end to end: the real Application, Screener and result log against the fake
Bot API, with the network and the database failing on purpose.

Promise under test: every photo gets exactly one message back (its result, or the apology that
asks to try again), and every screening lands in the database exactly once, through the spool
when the database is down.

Photos here have no face (decode and detector only, the cheap path): a rejection is a screening
too, with its row; what is tested is delivery, not the model.
"""

from __future__ import annotations

import io
import itertools
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.app import RESEND_DELAYS_S
from bot.i18n import Texts
from db.engine import engine_for
from db.log import ResultLog
from db.settings import DbSettings
from db.store import SCREENINGS
from tests.support.bot_harness import TOKEN, RunningBot, bot_env, bot_process, kinds
from tests.support.db_backends import FAST, Gate, PostgresSchema
from tests.support.fake_bot_api import Call, FakeBotApi, FakeUser, Fault
from tests.support.onnx_fixtures import build_tiny_classifier

EN = Texts("en")
# PTB's default read timeout for Bot API calls is 5 s: a hang longer than that is a timeout.
PTB_READ_TIMEOUT_S = 5.0
_users = itertools.count(50_000)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_classifier(tmp_path_factory.mktemp("proof") / "c.onnx", bias={"normal": 6})


@pytest.fixture(scope="module")
def photo() -> bytes:
    ramp = np.linspace(60, 200, 320, dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(np.repeat(np.tile(ramp, (240, 1))[:, :, None], 3, axis=2)).save(out, "JPEG")
    return out.getvalue()


class Rig:
    def __init__(self, api: FakeBotApi, bot: RunningBot) -> None:
        self.api, self.bot = api, bot

    @property
    def results(self) -> ResultLog:
        return self.bot.services.results

    def send(self, photo: bytes, count: int) -> list[tuple[FakeUser, int]]:
        """`count` photos, each from a new user (so each chat should get one message)."""
        users = [FakeUser(next(_users)) for _ in range(count)]
        return [(user, self.api.send_photo(user, photo)) for user in users]

    def answers(self, sent: list[tuple[FakeUser, int]], timeout: float = 30.0) -> list[Call]:
        """The one answer each chat got (beside a first contact's "whom is it for?" question);
        fails on none, or on a second one."""
        chats = {user.id for user, _ in sent}

        def all_answered(calls: list[Call]) -> bool:
            # A result is followed by a first contact's question (whom is it for?); an apology
            # or a failed download by nothing. The last message is out before a test goes on
            # to inject faults that it could otherwise meet.
            last = (EN("error.apology"), EN("error.download"))
            done = {c.chat_id for c in calls if c.method == "sendMessage"
                    and (_asks_whom(c) or any(text in c.text for text in last))}  # fmt: skip
            return chats <= done

        self.api.wait_for(all_answered, timeout, f"answers to {len(sent)} photos")
        # A round trip through the same queue: anything else for these chats has come by now.
        self.api.command(FakeUser(next(_users)), "/help")
        out = []
        for user, message_id in sent:
            got = [c for c in self.api.calls("sendMessage", user.id) if not _asks_whom(c)]
            assert len(got) == 1, [c.text[:40] for c in got]
            assert got[0].reply_to == message_id or EN("error.apology") in got[0].text
            out.append(got[0])
        return out

    def rows(self, sent: list[tuple[FakeUser, int]]) -> list[str]:
        """Ids of the screenings of these users (the results flushed first)."""
        assert self.results.flush(30)
        pseudonyms = [self.bot.services.pseudonyms.of(user.id) for user, _ in sent]
        query = select(SCREENINGS.c.id).where(SCREENINGS.c.pseudonym.in_(pseudonyms))
        with self.results.engine.connect() as connection:
            return list(connection.execute(query).scalars())


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, classifier: Path) -> Iterator[Rig]:
    data = tmp_path_factory.mktemp("proof-faults") / "data"
    with FakeBotApi(TOKEN) as api:
        env = bot_env(api, data, classifier, PALSY_RATE_LIMIT_PHOTOS="1000")
        with RunningBot(env) as bot:
            yield Rig(api, bot)


def _asks_whom(call: Call) -> bool:
    return any(kind.startswith("who:") for kind in kinds(call))


def _is_result(call: Call) -> bool:
    return call.reply_to is not None and EN("reject.no_face") in call.text


# --- the Bot API misbehaves -------------------------------------------------------------------


def test_429_on_the_reply_is_waited_out_and_the_result_delivered(rig: Rig, photo: bytes) -> None:
    rig.api.inject("sendMessage", Fault.too_many(retry_after=1))
    sent = rig.send(photo, 1)
    (answer,) = rig.answers(sent)
    assert _is_result(answer)  # PTB's rate limiter retried after retry_after
    assert ("sendMessage", Fault.too_many(1)) in rig.api.faults_served
    assert len(rig.rows(sent)) == 1


@pytest.mark.parametrize(
    "fault",
    [Fault.server_error(502), Fault.server_error(500), Fault.reset()],
    ids=["502", "500", "reset"],
)
def test_transient_fault_on_the_reply_is_sent_again(rig: Rig, photo: bytes, fault: Fault) -> None:
    rig.api.inject("sendMessage", fault)
    sent = rig.send(photo, 1)
    (answer,) = rig.answers(sent)
    assert _is_result(answer)
    assert rig.api.faults_left() == 0
    assert len(rig.rows(sent)) == 1


def test_reply_failing_every_time_becomes_one_apology_that_survives_a_fault_too(
    rig: Rig, photo: bytes
) -> None:
    # The reply fails on all three tries; the apology meets one more fault and is sent again.
    attempts = 1 + len(RESEND_DELAYS_S)
    rig.api.inject("sendMessage", *[Fault.server_error()] * (attempts + 1))
    sent = rig.send(photo, 1)
    (answer,) = rig.answers(sent)
    assert EN("error.apology") in answer.text
    assert rig.api.faults_left() == 0
    assert len(rig.rows(sent)) == 1  # screened and logged before the reply failed


def test_reply_that_times_out_becomes_one_apology(rig: Rig, photo: bytes) -> None:
    rig.api.inject("sendMessage", Fault.hang(PTB_READ_TIMEOUT_S + 1))
    sent = rig.send(photo, 1)
    (answer,) = rig.answers(sent, timeout=PTB_READ_TIMEOUT_S + 20)
    assert EN("error.apology") in answer.text
    assert len(rig.rows(sent)) == 1


def test_slow_api_still_gets_the_result_once(rig: Rig, photo: bytes) -> None:
    rig.api.inject("sendMessage", Fault.slow(1.0))
    rig.api.inject("getFile", Fault.slow(0.5))
    rig.api.inject("file", Fault.slow(0.5))
    sent = rig.send(photo, 1)
    (answer,) = rig.answers(sent)
    assert _is_result(answer)
    assert rig.api.latency(sent[0][1]) >= 2.0  # type: ignore[operator]
    assert len(rig.rows(sent)) == 1


def test_getfile_failing_once_is_asked_again(rig: Rig, photo: bytes) -> None:
    rig.api.inject("getFile", Fault.server_error(502))
    sent = rig.send(photo, 1)
    (answer,) = rig.answers(sent)
    assert _is_result(answer)
    assert len(rig.rows(sent)) == 1


@pytest.mark.parametrize(
    "fault", [Fault.reset(), Fault.server_error()], ids=["download-reset", "download-502"]
)
def test_failed_download_is_one_message_under_the_photo_and_no_screening(
    rig: Rig, photo: bytes, fault: Fault
) -> None:
    rig.api.inject("file", fault)
    sent = rig.send(photo, 1)
    (answer,) = rig.answers(sent)
    assert EN("error.download") in answer.text and answer.reply_to == sent[0][1]
    assert rig.rows(sent) == []  # nothing was screened, so nothing to log


def test_typing_indicator_failing_does_not_matter(rig: Rig, photo: bytes) -> None:
    rig.api.inject("sendChatAction", Fault.server_error(), Fault.reset())
    sent = rig.send(photo, 2)
    assert all(_is_result(a) for a in rig.answers(sent))
    assert len(rig.rows(sent)) == 2


def test_polling_through_5xx_reset_and_429_loses_no_update(rig: Rig, photo: bytes) -> None:
    rig.api.inject(
        "getUpdates", Fault.server_error(502), Fault.reset(), Fault.too_many(retry_after=1)
    )
    sent = rig.send(photo, 6)
    answers = rig.answers(sent, timeout=60)
    assert all(_is_result(a) for a in answers)
    assert [m for m, _ in rig.api.faults_served[-3:]] == ["getUpdates"] * 3
    assert len(set(rig.rows(sent))) == 6


def test_a_burst_of_mixed_faults_still_one_answer_and_one_row_each(rig: Rig, photo: bytes) -> None:
    rig.api.inject("sendMessage", Fault.server_error(), Fault.too_many(1), Fault.reset())
    rig.api.inject("getFile", Fault.slow(0.3), Fault.server_error(503), Fault.reset())
    rig.api.inject("file", Fault.server_error())
    sent = rig.send(photo, 12)
    answers = rig.answers(sent, timeout=60)
    apologies = sum(EN("error.apology") in a.text for a in answers)
    assert apologies == 0  # every fault but the download's was retried or waited out
    assert sum(EN("error.download") in a.text for a in answers) == 1
    rows = rig.rows(sent)
    assert len(rows) == len(set(rows)) == 12 - 1


# --- the database goes away mid-run -----------------------------------------------------------


class Outage:
    """A database that can be taken down and brought back while the bot runs."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind, self.tmp = kind, tmp
        self._schema: PostgresSchema | None = None
        self._gate: Gate | None = None
        self._locker: sqlite3.Connection | None = None

    def env(self) -> dict[str, str]:
        if self.kind == "sqlite":
            return {}
        self._schema = PostgresSchema()
        url = self._schema.__enter__()
        self._gate = Gate(url.host or "127.0.0.1", url.port or 5432)
        self._gate.open()
        gated = url.set(host="127.0.0.1", port=self._gate.port)
        return {"DATABASE_URL": gated.render_as_string(hide_password=False)}

    def result_log(self, settings: DbSettings) -> ResultLog:
        # A short busy timeout, so a locked SQLite file fails fast instead of waiting 5 s; the
        # data directory made as the bot makes it.
        engine = engine_for(settings, busy_timeout_s=0.05)
        return ResultLog(settings, engine=engine, **FAST)

    def down(self, database: Path) -> None:
        if self._gate is not None:
            self._gate.shut()
            return
        # SQLite: another connection holds the write lock, as a stuck writer or backup would.
        self._locker = sqlite3.connect(database, timeout=1, isolation_level=None)
        self._locker.execute("BEGIN EXCLUSIVE")

    def up(self) -> None:
        if self._gate is not None:
            self._gate.open()
        if self._locker is not None:
            self._locker.execute("COMMIT")
            self._locker.close()

    def close(self) -> None:
        if self._gate is not None:
            self._gate.close()
        if self._schema is not None:
            self._schema.__exit__(None, None, None)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_database_down_mid_run_loses_and_duplicates_nothing(
    tmp_path: Path, classifier: Path, photo: bytes, kind: str
) -> None:
    outage = Outage(kind, tmp_path)
    try:
        with FakeBotApi(TOKEN) as api:
            env = bot_env(api, tmp_path / "data", classifier, **outage.env())
            with RunningBot(env, result_log=outage.result_log) as bot:
                rig = Rig(api, bot)
                before = rig.send(photo, 3)
                rig.answers(before)
                assert len(rig.rows(before)) == 3
                outage.down(tmp_path / "data" / "palsy.sqlite3")
                during = rig.send(photo, 6)
                assert all(_is_result(a) for a in rig.answers(during))  # replies do not wait
                assert rig.results.drain(30)  # durable: in the spool, the database refused
                assert rig.results.spool.has_ops()
                assert not rig.results.flush(0.3)
                outage.up()
                rows = rig.rows(before + during)  # flush: replays the spool
                assert len(rows) == len(set(rows)) == 9
                assert not rig.results.spool.has_ops()
                with rig.results.engine.connect() as connection:
                    total = connection.execute(select(func.count()).select_from(SCREENINGS))
                    assert total.scalar_one() == 9
    finally:
        outage.close()


# --- the bot restarts with updates still queued -----------------------------------------------


def test_restart_mid_queue_answers_each_photo_once(
    tmp_path: Path, classifier: Path, photo: bytes
) -> None:
    """Stop the bot (as a deploy does) while it is answering photos; more photos queue at
    Telegram while no bot runs; a new process on the same data directory takes over.
    One answer and one row per photo."""
    data = tmp_path / "data"
    with FakeBotApi(TOKEN) as api:
        env = bot_env(api, data, classifier, PALSY_RATE_LIMIT_PHOTOS="1000")
        first = RunningBot(env).start()
        api.inject("sendMessage", *[Fault.slow(0.5)] * 3)  # replies in flight at the stop
        in_flight = Rig(api, first).send(photo, 8)
        api.wait_for(lambda _: api.faults_served, what="the first slow reply")
        first.stop()
        queued = Rig(api, first).send(photo, 8)  # no bot polling: they wait at "Telegram"
        second = RunningBot(env).start()
        try:
            rig = Rig(api, second)
            sent = in_flight + queued
            answers = rig.answers(sent, timeout=60)
            assert all(_is_result(a) for a in answers)
            rows = rig.rows(sent)
            assert len(rows) == len(set(rows)) == len(sent)
        finally:
            second.stop()


def test_sigterm_mid_queue_then_a_new_process_answers_each_photo_once(
    tmp_path: Path, classifier: Path, photo: bytes
) -> None:
    """The same with the real `palsy-bot` process stopped by SIGTERM (docker stop, systemd).
    (SIGKILL is another matter: PTB confirms updates to Telegram when it fetches them, so a
    killed process loses the photos it was working on.)"""
    data = tmp_path / "data"
    with FakeBotApi(TOKEN) as api:
        rig = Rig(api, None)  # type: ignore[arg-type]
        first = bot_process(api, data, classifier, tmp_path)
        try:
            api.wait_for(lambda calls: [c for c in calls if c.method == "setMyCommands"], 60)
            api.inject("sendMessage", *[Fault.slow(0.5)] * 3)
            in_flight = rig.send(photo, 10)
            api.wait_for(lambda _: api.faults_served, what="the first slow reply")
        finally:
            first.send_signal(signal.SIGTERM)
            assert first.wait(60) == 0
        queued = rig.send(photo, 6)
        second = bot_process(api, data, classifier, tmp_path)
        try:
            rig.answers(in_flight + queued, timeout=60)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(60) == 0
    with sqlite3.connect(data / "palsy.sqlite3") as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM screenings")]
    assert len(ids) == len(set(ids)) == len(in_flight) + len(queued)
