"""/check, /cancel and the face test's buttons: the offer's "closer check" and the brow step's
"skip". The test itself is bot.exams; its photos go the photo's way (bot.photo_flow)."""

from __future__ import annotations

from telegram import Bot, Message, Update, User

from bot import replies
from bot.callbacks import ExamGo, ExamSkip
from bot.context import Context
from bot.limit import refused
from bot.parts import changed, message_of, query_of, user_of
from bot.services import Services
from db.store import StoreUnavailable
from model.words import Texts


async def _begin(svc: Services, user: User, t: Texts, message: Message, bot: Bot) -> None:
    """A new test from the resting photo (a running one is cancelled). Counts one check."""
    if await refused(svc, user, t, message):
        return
    try:
        test = await svc.exams.begin(user)
    except StoreUnavailable:
        await message.chat.send_message(t("exam.unavailable"))
        return
    await replies.step(bot, message.chat_id, svc, t, test, intro="exam.intro")


async def check(update: Update, context: Context) -> None:
    """/check: the face test from the start."""
    svc, user = context.services, user_of(update)
    t = await svc.user_texts(user)
    async with svc.locks.hold(user.id):
        await _begin(svc, user, t, message_of(update), context.bot)


async def cancel(update: Update, context: Context) -> None:
    """/cancel: stop the face test (logged as cancelled, with the steps it had)."""
    svc, user, message = context.services, user_of(update), message_of(update)
    t = await svc.user_texts(user)
    async with svc.locks.hold(user.id):
        current = await svc.exams.current(user)
        if current.expired:
            await message.reply_text(t("exam.expired"))
        if current.test is None:
            await message.chat.send_message(t("exam.nothing"))
            return
        await svc.exams.cancel(current.test)
    await message.chat.send_message(t("exam.cancelled"))


async def button(update: Update, context: Context, press: ExamGo | ExamSkip) -> None:
    """The offer's "closer check" (that photo becomes the resting step) and the brow step's
    "skip" (the result from rest and smile)."""
    query = query_of(update)
    await query.answer()
    svc, user = context.services, query.from_user
    if not isinstance(query.message, Message):
        return
    message = query.message
    t = await svc.user_texts(user)
    async with svc.locks.hold(user.id):
        try:
            live = await svc.exams.pressed(user, press.exam_id)
        except StoreUnavailable:
            await message.chat.send_message(t("exam.unavailable"))
            return
        await changed(query.edit_message_reply_markup(None))
        if isinstance(press, ExamGo):
            moved = await svc.exams.accept(live) if live is not None else None
            if moved is not None:
                await replies.step(context.bot, message.chat_id, svc, t, moved, "exam.intro_more")
                return
            # An old button, or the offer expired: the whole test, resting photo first.
            await _begin(svc, user, t, message, context.bot)
            return
        finish = svc.exams.skip(live, t.language) if live is not None else None
        if finish is not None and await svc.journal.finished(finish.state, finish.record):
            await replies.finished(svc, context.bot, user.id, message.chat_id, t, finish)
            return
        # An old button: its test ended (a tap that silently did nothing confuses).
        await message.reply_text(t("exam.ended"))
