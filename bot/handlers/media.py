"""Photos, image files and every other message.

A photo or an image file goes the photo's way (bot.photo_flow). Nothing else is silent: every
other message gets the emergency line, words of distress (in a message or a caption) the full
emergency reply first (model.decision.followup, model.decision.distress), and during a face test
a reminder of its step.
"""

from __future__ import annotations

from telegram import Document, Update

from bot import photo_flow, replies
from bot.choices import follow_up
from bot.context import Context
from bot.parts import message_of, user_of
from bot.photo_flow import Photo
from model import IMAGE_EXTENSIONS
from model.words import Texts


def is_image_document(doc: Document) -> bool:
    if (doc.mime_type or "").startswith("image/"):
        return True
    return (doc.file_name or "").lower().endswith(IMAGE_EXTENSIONS)


async def photo(update: Update, context: Context) -> None:
    largest = message_of(update).photo[-1]  # Telegram lists sizes smallest first
    await photo_flow.handle(update, context, Photo(largest.file_id, largest.file_size, "photo"))


async def document(update: Update, context: Context) -> None:
    doc = message_of(update).document
    if doc is None or not is_image_document(doc):
        await not_a_photo(update, context, key="hint.not_image_file")
        return
    await photo_flow.handle(update, context, Photo(doc.file_id, doc.file_size, "document"))


async def not_a_photo(update: Update, context: Context, key: str = "hint.send_photo") -> None:
    """Text, voice, a video note, a sticker, another file: the emergency line always; words of
    distress the full emergency reply (and nothing that could delay it)."""
    svc, user, message = context.services, user_of(update), message_of(update)
    t = await svc.user_texts(user)
    if await replies.distress(svc, t, message):
        await follow_up(svc, user, t, context.bot, message.chat_id)
        return
    current = await svc.exams.current(user)
    if current.expired:
        await message.reply_text(t("exam.expired"))
    if current.test is not None:  # in the middle of the face test: a reminder of the step
        await replies.remind(t, message, current.test)
        return

    async def hint(t: Texts) -> None:
        await message.reply_text(f"{t(key)}\n{t('emergency.footer')}")

    await hint(t)
    svc.remember_answer(message.chat_id, hint)
    await follow_up(svc, user, t, context.bot, message.chat_id)
