"""One photo (or image file), from its update to its reply, in one straight line:

    arrive -> admit -> screen -> record -> reply

- arrive: words of distress in the caption are answered first (nothing may delay them); then
  the person's lock (their updates one at a time in this process);
- admit: the face test the person is in, if any (bot.exams; one left too long ends here, and
  the person is told), and the rate limit, which counts a test's photos as one check; a photo
  past it is marked as seen and goes no further. What the photo is, is decided here, once: a
  single check, or the next step of that test;
- screen: the file fetched (or refused as too big: getFile would refuse it) and screened off
  the event loop (bot.screening), with what a face test keeps of it;
- record: a single check is logged (bot.journal) and may leave the closer check's offer; a step
  goes to the test (bot.exams.take) and a finished test is logged with its steps. A step the
  test no longer waits for (another replica took it or ended the test) is logged and answered
  as a single check: the one way back, and the database's compare-and-set decides it;
- reply: what the outcome means, in words (bot.replies), then, after a single check, the
  first-contact question (bot.choices).

Albums: Telegram delivers each photo of an album as its own update; each is screened and
answered under its own photo, and the onset question is asked once per album.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from telegram import Bot, Message, Update, User
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot import replies
from bot.choices import follow_up
from bot.context import Context
from bot.exams import Finish, Next, Retake, Taken
from bot.limit import refused
from bot.parts import message_of, user_of
from bot.screening import rejected, to_record
from bot.services import Services
from db.records import ExamState, ScreeningRecord
from model import Reason, ScreeningResult, StepMeasures
from model.decision.followup import offers_closer_check
from model.words import Texts

log = logging.getLogger(__name__)

TYPING_EVERY_S = 4.5  # Telegram shows a chat action for about 5 s
DOWNLOAD_TIMEOUT_S = 60.0  # slow networks: a 20 MB file at 3 Mbit/s


@dataclass(frozen=True)
class Photo:
    """What arrived: the file to fetch, its size if Telegram said, how it came (logged)."""

    file_id: str
    size: int | None
    kind: str  # "photo" or "document"


@dataclass(frozen=True)
class Admitted:
    """A photo within the limit: the face test it is the next step of, or None (a single
    check)."""

    test: ExamState | None


@dataclass(frozen=True)
class Screened:
    result: ScreeningResult
    step: StepMeasures | None  # what a face test keeps of the photo (None: no face measured)
    record: ScreeningRecord


@dataclass(frozen=True)
class Single:
    """A single check, logged; `offer`: the closer check's test id, when it is offered."""

    screened: Screened
    offer: str | None


Outcome = Single | Taken


async def handle(update: Update, context: Context, photo: Photo) -> None:
    svc, message, user = context.services, message_of(update), user_of(update)
    language = await svc.language(user)
    t = svc.texts(language, svc.who(user))
    await replies.distress(svc, t, message)  # arrive
    async with svc.locks.hold(user.id):
        admitted = await admit(svc, user, t, message)
        if admitted is None:
            return
        screened = await screen(svc, context.bot, user, message, t, photo)
        if screened is None:
            return
        outcome = await record(svc, user, admitted, screened, t.language)
        await reply(svc, context.bot, user, message, t, outcome)


async def admit(svc: Services, user: User, t: Texts, message: Message) -> Admitted | None:
    """The face test this photo belongs to, and the rate limit; None past the limit (the
    photo is marked, and the person told once)."""
    current = await svc.exams.current(user)
    if current.expired:
        await message.reply_text(t("exam.expired"))
    if not current.free and await refused(svc, user, t, message):
        return None
    return Admitted(current.test)


async def screen(
    svc: Services, bot: Bot, user: User, message: Message, t: Texts, photo: Photo
) -> Screened | None:
    """The photo's screening and its log record; None when the download failed (the person
    was asked, under their photo, to send it again)."""
    step: StepMeasures | None = None
    if photo.size is not None and photo.size > svc.settings.max_download_bytes:
        result = rejected(Reason.TOO_MANY_BYTES)
    else:
        async with typing(bot, message.chat_id):
            data = await download(bot, photo.file_id, message, t)
            if data is None:
                return None
            result, step = await svc.screening.screen_step(data)
    record = to_record(result, record_id=str(uuid.uuid4()), pseudonym=svc.pseudonym(user),
                       input_kind=photo.kind, locale=t.language)  # fmt: skip
    return Screened(result, step, record)


async def record(
    svc: Services, user: User, admitted: Admitted, screened: Screened, language: str
) -> Outcome:
    """What the photo did, written where it belongs (bot.journal)."""
    if admitted.test is not None:
        result, step, row = screened.result, screened.step, screened.record
        taken = await svc.exams.take(admitted.test, result, step, row, language)
        if isinstance(taken, Retake):
            svc.journal.screening(row)
            return taken
        if isinstance(taken, Next):  # its row waits in the test's state, logged with the test
            return taken
        if isinstance(taken, Finish) and await svc.journal.finished(taken.state, taken.record):
            return taken
        # The test moved on elsewhere meanwhile: this photo is a single check.
    svc.journal.screening(screened.record)
    result, offer = screened.result, None
    unclear = result.reason is Reason.LOW_CONFIDENCE
    if screened.step is not None and offers_closer_check(result.tier, unclear):
        offer = await svc.exams.offer(user, screened.record, screened.step)
    return Single(screened, offer)


async def reply(
    svc: Services, bot: Bot, user: User, message: Message, t: Texts, outcome: Outcome
) -> None:
    if isinstance(outcome, Single):
        screened = outcome.screened
        await replies.answer(svc, user, message, t, screened.result, screened.record.id,
                             outcome.offer)  # fmt: skip
        await follow_up(svc, user, t, bot, message.chat_id)
    elif isinstance(outcome, Retake):
        await replies.retake(t, message, outcome)
    elif isinstance(outcome, Next):
        await replies.next_step(svc, bot, t, message, outcome)
    else:
        await replies.finished(svc, bot, user.id, message.chat_id, t, outcome)


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" until the block ends; a failed chat action is not worth an error."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY_S)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()


async def download(bot: Bot, file_id: str, message: Message, t: Texts) -> bytes | None:
    """The file's bytes, or None after telling the person, under their photo, to send it
    again."""
    try:
        file = await bot.get_file(file_id)
        return bytes(await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT_S))
    except TelegramError as exc:
        log.warning("download failed: %s", type(exc).__name__)
        log.debug("download failure", exc_info=exc)  # the traceback only when asked for
    await message.reply_text(f"{t('error.download')}\n{t('emergency.footer')}")
    return None
