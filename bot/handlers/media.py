"""Photos and image documents: rate limit, size check, download, screen, reply, log.

Albums: Telegram delivers each photo of an album as its own update (same media_group_id).
Each one is screened and answered on its own, as a reply to that photo, so every answer sits
under the picture it is about; the per-user rate limit counts each photo. The onset question is
asked once per album, after the first photo with a finding.

During a face test (bot.handlers.exam) a photo is that test's next step; its photos count
as one check. Otherwise a photo's answer offers the face test, with that photo as its first step.

Nothing is silent: a photo past the rate limit is covered by one notice that says for how long
photos will not be checked; a download that fails is answered under its photo.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from telegram import Bot, Document, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import render
from bot.callbacks import FROM_REPLY
from bot.handlers import exam, onset
from bot.handlers.commands import language_buttons
from bot.handlers.limit import refused
from bot.handlers.parts import message_of, user_of
from bot.i18n import Texts
from bot.screening import rejected, to_record
from bot.services import Services, services
from db.records import ScreeningRecord
from model.decision.exam import StepMeasures
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
    svc = services(context)
    user = user_of(update)
    t = await svc.user_texts(user)
    state = await exam.active(svc, user, t, message_of(update))
    if state is not None:  # in the middle of the face test: a reminder of the step
        await exam.remind(svc, state, t, message_of(update))
        return
    await message_of(update).reply_html(
        t(key), do_quote=True, reply_markup=await _first_contact_buttons(svc, user)
    )


async def _first_contact_buttons(svc: Services, user: User) -> InlineKeyboardMarkup | None:
    """The first reply to someone who has not chosen a language offers every language."""
    return language_buttons(svc, user.id, FROM_REPLY) if await svc.first_contact(user) else None


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
    t = svc.texts(language)

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
            if await exam.took(svc, t, message, state, (result, step, record), context.bot):
                return
            # The test moved on elsewhere meanwhile: this photo is answered on its own.
        svc.results.submit(record)  # never blocks: a worker thread writes
        closer = None
        if result.status == "ok" and step is not None:
            closer = await exam.offer(svc, user, record, step)
    markup = await _first_contact_buttons(svc, user)
    if closer is not None:  # the closer check first, the language offer under it
        rows = [[closer], *(markup.inline_keyboard if markup else ())]
        markup = InlineKeyboardMarkup(rows)
    await message.reply_html(render.result_text(t, result), do_quote=True, reply_markup=markup)
    if render.asks_onset(result) and await svc.first_in_album(user, message.media_group_id):
        text, question = onset.question(svc, user.id, t, record.id, result)
        await message.reply_html(text, reply_markup=question, do_quote=False)


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
