"""Photos and image documents: rate limit, size check, download, screen, reply, log.

Albums: Telegram delivers each photo of an album as its own update (same media_group_id).
Each one is screened and answered on its own, as a reply to that photo, so every answer sits
under the picture it is about; the per-user rate limit counts each photo. The onset question is
asked once per album, after the first photo with a finding.

During a face test (bot.handlers.exam) a photo is that test's next step; its photos count
as one check (if the test moved on meanwhile on another replica, the photo is answered on its
own). Otherwise a photo's answer offers the face test, with that photo as its first step.

Nothing is silent: a photo past the rate limit is marked as seen and not checked, and one notice
says for how long; a download that fails is answered under its photo. Every other message gets
the emergency line, and words of distress (in a message or a photo's caption) the full emergency
reply first (model.decision.followup, model.decision.distress).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from telegram import Bot, Document, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import render
from bot.handlers import exam, first_contact, onset
from bot.handlers.limit import refused
from bot.handlers.parts import message_of, user_of
from bot.i18n import Texts, distress_phrases
from bot.screening import rejected, to_record
from bot.services import Resend, Services, services
from db.records import ScreeningRecord
from model.decision.distress import mentions_distress
from model.decision.exam import StepMeasures
from model.decision.followup import Alert, message_alert, offers_closer_check
from model.decision.onset import asks_onset
from model.face.decode import IMAGE_EXTENSIONS
from model.reasons import Reason
from model.result import ScreeningResult

log = logging.getLogger(__name__)

TYPING_EVERY_S = 4.5  # Telegram shows a chat action for about 5 s
DOWNLOAD_TIMEOUT_S = 60.0  # slow networks: a 20 MB file at 3 Mbit/s


def is_image_document(doc: Document) -> bool:
    if (doc.mime_type or "").startswith("image/"):
        return True
    return (doc.file_name or "").lower().endswith(IMAGE_EXTENSIONS)


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


async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = message_of(update)
    largest = message.photo[-1]  # Telegram lists sizes smallest first
    await _screen_file(update, context, largest.file_id, largest.file_size, "photo")


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    doc = message_of(update).document
    if doc is None or not is_image_document(doc):
        await not_a_photo(update, context, key="hint.not_image_file")
        return
    await _screen_file(update, context, doc.file_id, doc.file_size, "document")


async def not_a_photo(
    update: Update, context: ContextTypes.DEFAULT_TYPE, key: str = "hint.send_photo"
) -> None:
    """Text, voice, a video note, a sticker, another file: the emergency line always; words of
    distress the full emergency reply (and nothing that could delay it)."""
    svc, user, message = services(context), user_of(update), message_of(update)
    t = await svc.user_texts(user)
    if await distress(svc, t, message):
        await first_contact.follow_up(svc, user, t, context.bot, message.chat_id)
        return
    state = await exam.active(svc, user, t, message)
    if state is not None:  # in the middle of the face test: a reminder of the step
        await exam.remind(svc, state, t, message)
        return

    async def hint(t: Texts) -> None:
        await message.reply_html(f"{t(key)}\n{t('emergency.footer')}", do_quote=True)

    await hint(t)
    svc.remember_answer(message.chat_id, hint)
    await first_contact.follow_up(svc, user, t, context.bot, message.chat_id)


async def distress(svc: Services, t: Texts, message: Message) -> bool:
    """Words of distress in the message or its caption: the full emergency reply, at once."""
    said = mentions_distress(message.text or message.caption, distress_phrases())
    if message_alert(said) is not Alert.FULL:
        return False

    async def reply(t: Texts) -> None:
        await message.reply_html(render.distress_text(t), do_quote=True)

    await reply(t)
    svc.remember_answer(message.chat_id, reply)
    return True


async def _screen_file(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    file_id: str,
    file_size: int | None,
    kind: str,
) -> None:
    svc = services(context)
    message = message_of(update)
    user = user_of(update)
    language = await svc.language(user)
    t = svc.texts(language, svc.who(user))
    await distress(svc, t, message)  # before anything that could make it wait

    async with svc.user_lock(user):
        state = await exam.active(svc, user, t, message)
        free = state is not None and state.taken < exam.MAX_FREE_PHOTOS
        if not free and await refused(svc, user, t, message):
            return
        step: StepMeasures | None = None
        if file_size is not None and file_size > svc.settings.max_download_bytes:
            result = rejected(Reason.TOO_MANY_BYTES)  # getFile would refuse it anyway
        else:
            async with typing(context.bot, message.chat_id):
                data = await _download(context.bot, file_id, message, t)
                if data is None:
                    return
                result, step = await svc.screening.screen_step(data)
        record = _record(svc, result, update, kind, language)
        if state is not None:
            taken = (result, step, record)
            if await exam.took(svc, t, user, message, state, taken, context.bot):
                return
            # The test moved on elsewhere meanwhile: this photo is answered on its own.
        svc.results.submit(record)  # never blocks: a worker thread writes
        closer = None
        unclear = result.reason is Reason.LOW_CONFIDENCE
        if step is not None and offers_closer_check(result.tier, unclear):
            closer = await exam.offer(svc, user, record, step)

    async def answer(t: Texts) -> None:
        markup = InlineKeyboardMarkup([[exam.closer_button(t, closer)]]) if closer else None
        text = render.result_text(t, result, closer=closer is not None)
        await message.reply_html(text, do_quote=True, reply_markup=markup)

    async def ask(t: Texts) -> None:
        text, question = onset.question(svc, user.id, t, record.id, result)
        await message.reply_html(text, reply_markup=question, do_quote=False)

    said: list[Resend] = [answer]
    if asks_onset(result.tier) and await svc.first_in_album(user, message.media_group_id):
        said.append(ask)
    for say in said:
        await say(t)
    svc.remember_answer(message.chat_id, *said)
    await first_contact.follow_up(svc, user, t, context.bot, message.chat_id)


async def _download(bot: Bot, file_id: str, message: Message, t: Texts) -> bytes | None:
    """The file's bytes, or None after telling the user, under their photo, to send it again."""
    try:
        file = await bot.get_file(file_id)
        return bytes(await file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT_S))
    except TelegramError as exc:
        log.warning("download failed: %s", type(exc).__name__)
        log.debug("download failure", exc_info=exc)  # the traceback only when asked for
    await message.reply_html(f"{t('error.download')}\n{t('emergency.footer')}", do_quote=True)
    return None


def _record(
    svc: Services, result: ScreeningResult, update: Update, kind: str, language: str
) -> ScreeningRecord:
    return to_record(
        result,
        record_id=str(uuid.uuid4()),
        pseudonym=svc.pseudonym(user_of(update)),
        input_kind=kind,
        locale=language,
    )
