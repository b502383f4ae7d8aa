"""The messages that carry a result or a face-test step, as sent: the words come from
model.words.render, the buttons are signed (bot.callbacks). Each message that answers is
remembered, so that a newly chosen language says it again.

Replies quote the person's message (Defaults in bot.app: do_quote, HTML); a message that is not
an answer to one of theirs (the onset question, the face test's steps and result) is sent to
the chat.

To add a line to a photo's answer: model.words.render.result_text. To add a button under it:
`answer_buttons` (and a Payload kind in bot.callbacks, routed in bot.app.BUTTONS).
"""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from telegram.error import TelegramError

from bot.callbacks import Details, ExamGo, ExamSkip, Onset
from bot.examples import example_png
from bot.exams import Finish, Next, Retake
from bot.services import Resend, Services
from db.records import ExamState
from model import ScreeningResult, Tier
from model.decision.distress import mentions_distress
from model.decision.followup import Alert, message_alert, partial_exam_alert
from model.decision.onset import Sudden, asks_onset
from model.words import Texts, distress_phrases, render

log = logging.getLogger(__name__)


# --- words of distress, the only reply that comes before anything else -------------------------


async def distress(svc: Services, t: Texts, message: Message) -> bool:
    """Words of distress in the message or its caption: the full emergency reply, at once."""
    said = mentions_distress(message.text or message.caption, distress_phrases())
    if message_alert(said) is not Alert.FULL:
        return False

    async def reply(t: Texts) -> None:
        await message.reply_text(render.distress_text(t))

    await reply(t)
    svc.remember_answer(message.chat_id, reply)
    return True


# --- a single photo --------------------------------------------------------------------------


def answer_buttons(
    svc: Services, user: User, t: Texts, result: ScreeningResult, record_id: str,
    offer: str | None,
) -> list[list[InlineKeyboardButton]]:  # fmt: skip
    """The rows under a photo's answer: the closer check when it is offered (`offer`: its test
    id), and "Details" when the photo was graded. An emergency answer carries neither: nothing
    may stand between the person and the call (model.decision.followup offers no test there)."""
    rows = []
    if offer is not None:
        data = svc.buttons.data(user.id, ExamGo(offer))
        rows.append([InlineKeyboardButton(t("exam.offer"), callback_data=data)])
    if result.confidence is not None and result.tier is not Tier.EMERGENCY:
        data = svc.buttons.data(user.id, Details(record_id))
        rows.append([InlineKeyboardButton(t("details.button"), callback_data=data)])
    return rows


async def answer(
    svc: Services,
    user: User,
    message: Message,
    t: Texts,
    result: ScreeningResult,
    record_id: str,
    offer: str | None,
) -> None:
    """A photo's answer under it, then, after a finding, the onset question (once per album)."""

    async def reply(t: Texts) -> None:
        rows = answer_buttons(svc, user, t, result, record_id, offer)
        text = render.result_text(t, result, closer=offer is not None)
        await message.reply_text(text, reply_markup=InlineKeyboardMarkup(rows) if rows else None)

    async def ask(t: Texts) -> None:
        text, markup = onset_question(svc, user.id, t, record_id, result.tier)
        await message.chat.send_message(text, reply_markup=markup)

    said: list[Resend] = [reply]
    if asks_onset(result.tier) and await svc.first_in_album(user, message.media_group_id):
        said.append(ask)
    for say in said:
        await say(t)
    svc.remember_answer(message.chat_id, *said)


# --- the onset questions ---------------------------------------------------------------------


def onset_buttons(
    svc: Services, user_id: int, t: Texts, choices: list[tuple[str, Onset]]
) -> InlineKeyboardMarkup:
    # One button a row: the labels are short sentences, and wide buttons are easy to hit.
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t(key), callback_data=svc.buttons.data(user_id, press))]
            for key, press in choices
        ]
    )


def onset_question(
    svc: Services, user_id: int, t: Texts, record_id: str, tier: Tier
) -> tuple[str, InlineKeyboardMarkup]:
    """ "Did it start suddenly?" about a screening or a face test (`record_id`: either)."""
    choices = [(f"onset.{sudden.value}", Onset(record_id, sudden, None, tier)) for sudden in Sudden]
    return t("onset.question"), onset_buttons(svc, user_id, t, choices)


# --- the face test ---------------------------------------------------------------------------


async def send_picture(
    bot: Bot, chat_id: int, svc: Services, picture: str, caption: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:  # fmt: skip
    """A drawing with its words; uploaded once per process, then sent by Telegram's file id.
    If the picture cannot be sent, the words alone still say what to do."""
    try:
        photo = svc.example_ids.get(picture) or example_png(picture)
        sent = await bot.send_photo(chat_id, photo, caption=caption, reply_markup=markup)
        if sent.photo:
            svc.example_ids[picture] = sent.photo[-1].file_id
    except TelegramError as exc:
        log.warning("example picture not sent: %s", type(exc).__name__)
        await bot.send_message(chat_id, caption, reply_markup=markup)


async def step(
    bot: Bot, chat_id: int, svc: Services, t: Texts, test: ExamState, intro: str | None = None
) -> None:
    """One line of what to do, under a drawing of the face to make; the brow step can be
    skipped. A new test first shows how to hold the phone; the first step of a test says what it
    does and keeps the emergency line in sight (a test must never stand between a person and
    the number). The step is the chat's last answer: a new language says it again."""
    name = test.waiting

    async def say(t: Texts) -> None:
        lines = [t(f"exam.step.{name}")]
        if intro == "exam.intro":
            hold = "\n\n".join([t(intro), t("emergency.footer")])
            await send_picture(bot, chat_id, svc, "hold", hold)
        elif intro:
            lines = [t(intro), *lines, "", t("emergency.footer")]
        markup = None
        if name == "brows":
            data = svc.buttons.data(chat_id, ExamSkip(test.exam_id))  # a private chat's id
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(t("exam.skip"), callback_data=data)]]
            )
        await send_picture(bot, chat_id, svc, name, "\n".join(lines), markup)

    await say(t)
    svc.remember_answer(chat_id, say)


async def retake(t: Texts, message: Message, taken: Retake) -> None:
    """A photo not usable for its step: why, and only that step again."""
    text = "\n\n".join([render.rejection(t, taken.reason), t(f"exam.step.{taken.step}")])
    await message.reply_text(text)


async def next_step(svc: Services, bot: Bot, t: Texts, message: Message, taken: Next) -> None:
    """A step taken: an emergency said at once, never held back for the rest of the test (the
    person may stop before the end: model.decision.followup.partial_exam_alert), then the next
    step."""
    exam = taken.exam
    alert = partial_exam_alert(taken.step, taken.result.tier, exam.pattern if exam else None)
    if alert is Alert.FULL:
        await message.reply_text(render.result_text(t, taken.result))
    elif alert is Alert.LINE:
        await message.reply_text(t("emergency.footer"))
    await step(bot, message.chat_id, svc, t, taken.state)


async def finished(
    svc: Services, bot: Bot, user_id: int, chat_id: int, t: Texts, f: Finish
) -> None:
    """The one reply to a finished test (sent only where bot.journal.finished ended it), then,
    after a finding, the onset question."""
    model = svc.screening.model_info()

    async def reply(t: Texts) -> None:
        await bot.send_message(chat_id, render.exam_text(t, f.exam, model))

    async def ask(t: Texts) -> None:
        question, markup = onset_question(svc, user_id, t, f.state.exam_id, f.exam.tier)
        await bot.send_message(chat_id, question, reply_markup=markup)

    said: list[Resend] = [reply, ask] if asks_onset(f.exam.tier) else [reply]
    for say in said:
        await say(t)
    svc.remember_answer(chat_id, *said)


async def remind(t: Texts, message: Message, test: ExamState) -> None:
    """Text or a sticker in the middle of the test: what the step wants, how to stop, and the
    emergency line (as every reply to a message that is not a photo)."""
    lines = [t("exam.reminder"), t(f"exam.step.{test.waiting}"), "", t("emergency.footer")]
    await message.reply_text("\n".join(lines))
