"""Two replicas lose nothing and duplicate nothing: two real `palsy-bot` processes in webhook
mode on one PostgreSQL database, behind a loopback dispatcher that spreads one user's updates
across both (tests.support.replicas), against the fake Bot API.

Scenarios, in order (they share the two replicas, each with its own users): a face test that
hops replicas; a step taken twice and a test finished twice at once (double sends); an onset
answer that reaches a replica before its photo's row (held by a replica cut off from the
database), and /forget while that replica still holds a person's rows; a burst past the
shared rate limit; a replica killed in the middle of a face test. The last test stops the
survivor the way `docker stop` does and audits the whole run: one reply per photo, exactly one
final reply per face test, rows = photos answered, nothing left of the forgotten person, the
limit held, no traceback in either log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL, Engine

from bot.i18n import Texts
from db.engine import make_engine
from db.pseudonym import Pseudonymizer
from db.store import EXAMS, PENDING_ONSETS, SCREENINGS
from model.pipeline import Analyser
from tests.support.bot_harness import PEPPER, TOKEN, button
from tests.support.db_backends import Gate, PostgresSchema
from tests.support.exam_photos import exam_photos
from tests.support.fake_bot_api import Call, FakeBotApi, FakeUser
from tests.support.onnx_fixtures import build_tiny_classifier
from tests.support.replicas import Dispatcher, Replica

pytestmark = pytest.mark.postgres

LIMIT, WINDOW_S = 3, 3600  # checks per person: small, so that a burst meets it
T = Texts("en", emergency="112", ambulance="108", retention_days=180, max_mb=20)
PEOPLE = Pseudonymizer(PEPPER.encode())
FINAL = T("exam.title") + "\n"  # the final face-test reply's line (the intro goes on in it)
NOTICE = T("rate_limited", photos="", window="", wait="")[:30]  # the rate-limit notice
V = TypeVar("V")


@dataclass
class Pair:
    api: FakeBotApi
    a: Replica
    b: Replica
    gate: Gate  # replica a's road to the database
    dispatcher: Dispatcher
    engine: Engine
    photos: dict[str, bytes]
    # What each test expects the database to hold in the end, per person.
    rows: dict[int, int] = field(default_factory=dict)
    _users: Iterator[int] = field(default_factory=lambda: iter(range(91_000, 92_000)))

    def user(self) -> FakeUser:
        return FakeUser(next(self._users))

    def sent(self, user: FakeUser) -> list[Call]:
        return [c for c in self.api.calls(chat_id=user.id)
                if c.method in ("sendMessage", "sendPhoto") and c.error is None]  # fmt: skip

    def wait(self, user: FakeUser, count: int, what: str = "") -> list[Call]:
        """The first `count` messages the bot sent this user (waits for them)."""

        def enough(_: list[Call]) -> list[Call] | None:
            got = self.sent(user)
            return got[:count] if len(got) >= count else None

        return self.api.wait_for(enough, 30, what or f"{count} messages to {user.id}")

    def reply(self, message_id: int) -> Call:
        return self.api.wait_reply(message_id, 30)

    def screenings(self, user: FakeUser) -> list[dict[str, Any]]:
        query = select(SCREENINGS).where(SCREENINGS.c.pseudonym == PEOPLE.of(user.id))
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def exams(self, user: FakeUser) -> list[dict[str, Any]]:
        query = select(EXAMS).where(EXAMS.c.pseudonym == PEOPLE.of(user.id))
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]


def eventually(check: Callable[[], V], what: str, timeout: float = 30.0) -> V:
    """Poll the database until `check()` is truthy: another process writes it, and there is no
    signal to wait on across processes but the data itself."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def written(pair: Pair, user: FakeUser, count: int) -> list[dict[str, Any]]:
    """This person's rows, once there are `count` (a replica's writer thread writes them)."""

    def check() -> list[dict[str, Any]] | None:
        rows = pair.screenings(user)
        return rows if len(rows) == count else None

    return eventually(check, f"{count} rows of {user.id}")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, london_dir: Path) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("replicas")
    # Every single photo is a finding (the tiny classifier's bias): each asks the onset question.
    classifier = build_tiny_classifier(root / "moderate.onnx", bias={"moderate_mouth": 6.0})
    photos = exam_photos(london_dir, Analyser())
    with PostgresSchema() as url, FakeBotApi(TOKEN) as api:
        gate = Gate(url.host or "127.0.0.1", url.port or 5432)
        gate.open()
        limits = {"PALSY_RATE_LIMIT_PHOTOS": str(LIMIT), "PALSY_RATE_LIMIT_WINDOW_S": str(WINDOW_S)}
        a = Replica("a", api, root, classifier, DATABASE_URL=_render(_through(url, gate)),
                    **limits)  # fmt: skip
        b = Replica("b", api, root, classifier, DATABASE_URL=_render(url), **limits)
        engine = make_engine(url)
        dispatcher = Dispatcher(api, [a, b]).start()
        try:
            a.wait_listening()
            b.wait_listening()
            yield Pair(api, a, b, gate, dispatcher, engine, photos)
        finally:
            dispatcher.stop()
            for replica in (a, b):
                replica.close()
            engine.dispose()
            gate.close()


def _through(url: URL, gate: Gate) -> URL:
    return url.set(host="127.0.0.1", port=gate.port)


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def finals(pair: Pair, user: FakeUser) -> list[Call]:
    return [c for c in pair.sent(user) if c.method == "sendMessage" and FINAL in c.text]


def is_step(call: Call, step: str) -> bool:
    return call.method == "sendPhoto" and T(f"exam.step.{step}") in call.text


def prompt(pair: Pair, user: FakeUser, step: str) -> Call:
    """The face test's prompt for `step` (a drawing and its words), once the bot sent it."""
    return pair.api.wait_for(
        lambda _: next((c for c in pair.sent(user) if is_step(c, step)), None),
        30,
        f"the {step} step's prompt to {user.id}",
    )


def final_and_question(pair: Pair, user: FakeUser) -> tuple[Call, Call]:
    """The face test's final reply and the onset question after it."""

    def both(_: list[Call]) -> tuple[Call, Call] | None:
        sent = pair.sent(user)
        at = next((i for i, c in enumerate(sent) if FINAL in c.text), None)
        asked = [c for c in sent[at or 0 :] if c.text == T("onset.question")]
        return (sent[at], asked[0]) if at is not None and asked else None

    return pair.api.wait_for(both, 30, f"the final reply to {user.id}")


# --- face tests that hop replicas -------------------------------------------------------------


def test_a_face_test_hops_replicas_and_ends_with_one_reply(pair: Pair) -> None:
    api, user = pair.api, pair.user()
    api.send_text(user, "/check")
    prompt(pair, user, "rest")
    api.send_photo(user, pair.photos["rest"])
    prompt(pair, user, "smile")
    api.send_photo(user, pair.photos["smile"])
    brows = prompt(pair, user, "brows")
    api.press_button(user, brows, button(brows, "exam:skip"))  # rest and smile decide
    final_and_question(pair, user)
    assert pair.dispatcher.went_to(user.id) == ["a", "b", "a", "b"]  # every step hopped
    [exam] = pair.exams(user)
    assert exam["status"] == "ok"
    assert sorted(r["exam_id"] for r in pair.screenings(user)) == [exam["id"]] * 2
    pair.rows[user.id] = 2
    EXAMINED.append(user)


EXAMINED: list[FakeUser] = []  # each must end with exactly one final reply (the audit)


def begun(pair: Pair, user: FakeUser) -> None:
    """/check and the resting photo, on replica a, until the smile step's prompt."""
    with pair.dispatcher.pinned(user.id, 0):
        pair.api.send_text(user, "/check")
        prompt(pair, user, "rest")
        pair.api.send_photo(user, pair.photos["rest"])
        prompt(pair, user, "smile")


def test_a_step_taken_twice_and_a_test_finished_twice_at_once(pair: Pair) -> None:
    """Double sends: the smile photo twice at once, one to each replica, then the brow photo
    twice at once. Each replica reads the test's step, then screens its photo (a while) and
    tries to move the test on by compare-and-set: one takes the step (the next prompt) or ends
    the test (the one final reply); the other answers its photo alone (or, if the step had
    already moved on, as a retake of the next). One reply per photo, never two final replies."""
    api, user = pair.api, pair.user()
    begun(pair, user)

    def twice(photo: str) -> list[int]:
        sent = [api.send_photo(user, pair.photos[photo]) for _ in range(2)]

        def answered(_: list[Call]) -> bool:
            return any(c.reply_to in sent for c in pair.sent(user))

        api.wait_for(answered, 30, f"an answer to one of the two {photo} photos")
        assert sorted(pair.dispatcher.went_to(user.id)[-2:]) == ["a", "b"]
        return sent

    smiles = twice("smile")
    prompt(pair, user, "brows")
    brows = twice("brows_both")
    final_and_question(pair, user)
    for pair_of_photos in (smiles, brows):
        replies = [c for c in pair.sent(user) if c.reply_to in pair_of_photos]
        assert len(replies) == 1 and FINAL not in replies[0].text
    assert len(finals(pair, user)) == 1
    [exam] = pair.exams(user)
    # The three steps (written with the exam), and the two other photos on their own (queued).
    rows = written(pair, user, 5)
    assert sorted(r["exam_id"] or "" for r in rows) == ["", "", *[exam["id"]] * 3]
    pair.rows[user.id] = 5
    EXAMINED.append(user)


# --- a replica cut off from the database holds rows -------------------------------------------


def test_rows_held_by_a_replica_cut_off_from_the_database(pair: Pair) -> None:
    """Replica a cannot reach the database: it answers, and keeps the rows in its spool. An
    onset answer to one of them reaches replica b before the row (b keeps it pending); another
    person uses /forget on b while a holds their rows. When a is back and writes what it
    held, the answer is applied and the forgotten rows are dropped."""
    api = pair.api
    racer, leaver = pair.user(), pair.user()
    pair.gate.shut()
    spool = pair.a.data / "spool.jsonl"
    try:
        with pair.dispatcher.pinned(racer.id, 0), pair.dispatcher.pinned(leaver.id, 0):
            photo = api.send_photo(racer, pair.photos["rest"])
            assert T("tier.urgent") in pair.reply(photo).text
            gone = [api.send_photo(leaver, pair.photos["rest"]) for _ in range(2)]
            for message in gone:
                pair.reply(message)
            question = pair.wait(racer, 2)[1]
        # Replica a retries, then spools them: on its disk, not in the database.
        eventually(lambda: spool.is_file() and len(spool.read_text().splitlines()) == 3,
                   "replica a's spool to hold the three rows")  # fmt: skip
        assert pair.screenings(racer) == [] and pair.screenings(leaver) == []
        with pair.dispatcher.pinned(racer.id, 1), pair.dispatcher.pinned(leaver.id, 1):
            api.press_button(racer, question, button(question, "onset:y"))
            edit = api.wait_for(lambda calls: [c for c in calls if c.chat_id == racer.id
                                               and c.method == "editMessageText"])[0]  # fmt: skip
            assert edit.text.startswith(T("emergency.first"))  # answered before the row exists
            ask = api.command(leaver, "/forget", 30)
            api.press_button(leaver, ask, button(ask, "forget:yes"))
            api.wait_for(lambda calls: [c for c in calls if c.chat_id == leaver.id
                                        and c.text == T("forget.done", count=0)])  # fmt: skip
        waiting = select(PENDING_ONSETS.c.id)
        eventually(lambda: _scalars(pair.engine, waiting), "replica b to keep the answer")
    finally:
        pair.gate.open()
    # Replica a reads the database for its next message, and writes its spool first.
    with pair.dispatcher.pinned(racer.id, 0), pair.dispatcher.pinned(leaver.id, 0):
        for user in (racer, leaver):
            assert pair.api.command(user, "hello", 30).text.startswith(T("hint.send_photo"))
    [row] = pair.screenings(racer)
    assert (row["tier"], row["sudden_onset"]) == ("emergency", True)
    assert pair.screenings(leaver) == [] and _scalars(pair.engine, waiting) == []
    assert not spool.read_text()
    pair.rows[racer.id], pair.rows[leaver.id] = 1, 0


def _scalars(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


# --- the rate limit is one for both -----------------------------------------------------------


def test_a_burst_past_the_limit_is_held_across_replicas(pair: Pair) -> None:
    api, user = pair.api, pair.user()
    burst = [api.send_photo(user, pair.photos["rest"]) for _ in range(4 * LIMIT)]

    def told(calls: list[Call]) -> bool:
        mine = [c for c in calls if c.chat_id == user.id and c.reply_to in burst]
        return len(mine) >= LIMIT + 1 and any(c.text.startswith(NOTICE) for c in mine)

    api.wait_for(told, 60, "the allowed photos' answers and the notice")
    assert set(pair.dispatcher.went_to(user.id)) == {"a", "b"}
    # Written by whichever replica answered them (before the next test kills one); the final
    # audit, once every update was handled, holds the counts exactly.
    written(pair, user, LIMIT)
    pair.rows[user.id] = LIMIT
    BURSTS.append((user, burst))


BURSTS: list[tuple[FakeUser, list[int]]] = []


# --- a replica dies in the middle of a face test ----------------------------------------------


def test_a_replica_killed_mid_exam_leaves_the_other_to_finish_it(pair: Pair) -> None:
    api, user = pair.api, pair.user()
    begun(pair, user)  # the step is stored before a sends its prompt
    pair.a.kill()
    api.send_photo(user, pair.photos["smile"])  # to a first: down, so b takes it
    brows = prompt(pair, user, "brows")
    api.press_button(user, brows, button(brows, "exam:skip"))
    final_and_question(pair, user)
    assert len(finals(pair, user)) == 1
    assert pair.dispatcher.went_to(user.id)[-2:] == ["b", "b"]
    [exam] = pair.exams(user)
    assert exam["status"] == "ok" and len(pair.screenings(user)) == 2
    pair.rows[user.id] = 2
    EXAMINED.append(user)


# --- the whole run ----------------------------------------------------------------------------


def test_the_whole_run_lost_and_duplicated_nothing(pair: Pair) -> None:
    assert pair.b.stop() == 0  # SIGTERM: every update handled, every row written
    pair.dispatcher.stop()
    replies = [c for c in pair.api.calls("sendMessage") if c.reply_to is not None]
    per_photo: dict[int, int] = {}
    for call in replies:
        per_photo[call.reply_to or 0] = per_photo.get(call.reply_to or 0, 0) + 1
    assert max(per_photo.values()) == 1, "a photo was answered twice"
    for user, burst in BURSTS:
        answered = [c for c in replies if c.reply_to in burst]
        results = [c for c in answered if not c.text.startswith(NOTICE)]
        assert len(results) == LIMIT and len(answered) == LIMIT + 1  # the limit held
        pair.rows[user.id] = LIMIT
    for user in EXAMINED:
        assert len(finals(pair, user)) == 1, user.id  # exactly one final reply per face test
    for user_id, count in pair.rows.items():
        assert len(pair.screenings(FakeUser(user_id))) == count, user_id
    for replica in (pair.a, pair.b):
        log = replica.log()
        assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
    assert T("error.apology") not in "".join(c.text for c in pair.api.calls("sendMessage"))
