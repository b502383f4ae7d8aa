"""The FAST face test in the chat: a still face, a big smile, raised eyebrows (or skipped), then
one reply with each side's movement, the pattern and what to do.

Nothing of a photo is kept: after each step the exam state in the database
(db.records.ExamState) holds the finished steps' measures (model.decision.exam.StepMeasures) and
their screenings, so the exam survives a restart and any replica can go on with it. A single
photo's result offers the closer check: its measures wait as an "offer" and become the resting
step when the button is tapped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import render
from bot.callbacks import ExamGo, ExamSkip
from bot.examples import example_png
from bot.handlers import onset
from bot.handlers.limit import refused
from bot.handlers.parts import changed, message_of, query_of, user_of
from bot.i18n import Texts
from bot.services import Services, services
from db.records import ExamRecord, ExamState, ExamStep, ScreeningRecord
from db.store import StoreUnavailable, expired_record
from model.decision.exam import ExamResult, Step, StepMeasures, examine_steps
from model.decision.followup import Alert, partial_exam_alert
from model.decision.onset import asks_onset
from model.result import ScreeningResult

log = logging.getLogger(__name__)

NEXT = {"rest": "smile", "smile": "brows"}
# Photos of one exam count as one check: its steps and two retakes; past that each photo
# counts again (else /cancel and /check again would make one check many screens).
MAX_FREE_PHOTOS = 5


# --- state in the database ------------------------------------------------------------------


async def _load(svc: Services, user: User) -> ExamState | None:
    return await asyncio.to_thread(svc.results.exam_state, svc.user_key(user))


async def _save(svc: Services, state: ExamState, expect: str | None = None) -> bool:
    """Compare-and-set (db.store.Store.put_exam_state): False when another replica or
    message got there first."""
    return await asyncio.to_thread(svc.results.put_exam_state, state, expect)


async def _end(svc: Services, state: ExamState, record: ExamRecord | None) -> bool:
    """End an exam nobody finished (expired, cancelled); False if it was ended elsewhere."""
    try:
        return await asyncio.to_thread(svc.results.end_exam, state, record)
    except StoreUnavailable as exc:  # the state expires later; the person has their answer
        log.warning("exam end not stored: %s", exc)
        return False


async def active(svc: Services, user: User, t: Texts, message: Message) -> ExamState | None:
    """The exam this person is in the middle of, or None. One left for EXAM_TTL ends here,
    saying so; a database that is down means no exam (a photo is then a single check)."""
    try:
        state = await _load(svc, user)
    except StoreUnavailable:
        return None
    if state is None:
        return None
    now = svc.clock()
    if state.expired(now):
        ended = await _end(svc, state, expired_record(state, now))
        if ended and state.waiting != "offer":
            await message.reply_html(t("exam.expired"), do_quote=True)
        return None
    return None if state.waiting == "offer" else state


async def offer(
    svc: Services, user: User, record: ScreeningRecord, step: StepMeasures
) -> str | None:
    """Keep a single photo's measures as a possible resting step; the (signed) data of the
    button that uses them (None when the database is down, or a test began meanwhile on
    another replica: the photo's answer stands alone)."""
    now = svc.clock()
    state = ExamState(key=svc.user_key(user), pseudonym=svc.pseudonym(user), waiting="offer",
                      steps={"rest": ExamStep(record, step.to_dict())},
                      started_at=now, updated_at=now)  # fmt: skip
    try:
        if not await _save(svc, state):
            return None
    except StoreUnavailable:
        return None
    return svc.buttons.data(user.id, ExamGo(state.exam_id))


def closer_button(t: Texts, payload: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(t("exam.offer"), callback_data=payload)


# --- the steps --------------------------------------------------------------------------------


async def send_picture(
    bot: Bot, chat_id: int, svc: Services, picture: str, caption: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:  # fmt: skip
    """A drawing with its words; uploaded once per process, then sent by Telegram's file id.
    If the picture cannot be sent, the words alone still say what to do."""
    try:
        photo = svc.example_ids.get(picture) or example_png(picture)
        sent = await bot.send_photo(chat_id, photo, caption=caption, parse_mode="HTML",
                                    reply_markup=markup)  # fmt: skip
        if sent.photo:
            svc.example_ids[picture] = sent.photo[-1].file_id
    except TelegramError as exc:
        log.warning("example picture not sent: %s", type(exc).__name__)
        await bot.send_message(chat_id, caption, parse_mode="HTML", reply_markup=markup)


async def send_step(
    bot: Bot, chat_id: int, svc: Services, t: Texts, state: ExamState, intro: str | None = None
) -> None:
    """One line of what to do, under a drawing of the face to make; the brow step can be
    skipped. A new test first shows how to hold the phone; the first step of a test says what it
    does and keeps the emergency line in sight (a test must never stand between a person and
    the number). The step is the chat's last answer: a new language says it again."""
    step = state.waiting

    async def say(t: Texts) -> None:
        lines = [t(f"exam.step.{step}")]
        if intro == "exam.intro":
            hold = "\n\n".join([t(intro), t("emergency.footer")])
            await send_picture(bot, chat_id, svc, "hold", hold)
        elif intro:
            lines = [t(intro), *lines, "", t("emergency.footer")]
        markup = None
        if step == "brows":
            data = svc.buttons.data(chat_id, ExamSkip(state.exam_id))  # a private chat's id
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(t("exam.skip"), callback_data=data)]]
            )
        await send_picture(bot, chat_id, svc, step, "\n".join(lines), markup)

    await say(t)
    svc.remember_answer(chat_id, say)


async def _begin(svc: Services, user: User, t: Texts, message: Message, bot: Bot) -> None:
    """A new exam from the resting photo (a running one is cancelled). Counts one check."""
    if await refused(svc, user, t, message):
        return
    now = svc.clock()
    try:
        old = await _load(svc, user)
        if old is not None:
            status = "expired" if old.expired(now) else "cancelled"
            await _end(svc, old, expired_record(old, now, status))
        state = ExamState(key=svc.user_key(user), pseudonym=svc.pseudonym(user),
                          waiting="rest", started_at=now, updated_at=now)  # fmt: skip
        if not await _save(svc, state):
            # Another replica started one this moment (a second /check): go on with that one.
            current = await _load(svc, user)
            if current is None or current.waiting == "offer":
                raise StoreUnavailable("the face test keeps changing")
            state = current
    except StoreUnavailable:
        await message.reply_html(t("exam.unavailable"))
        return
    await send_step(bot, message.chat_id, svc, t, state, intro="exam.intro")


async def check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/check: the face test from the start."""
    svc, user = services(context), user_of(update)
    t = await svc.user_texts(user)
    async with svc.user_lock(user):
        await _begin(svc, user, t, message_of(update), context.bot)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: stop the face test (logged as cancelled, with the steps it had)."""
    svc, user, message = services(context), user_of(update), message_of(update)
    t = await svc.user_texts(user)
    async with svc.user_lock(user):
        state = await active(svc, user, t, message)
        if state is None:
            await message.reply_html(t("exam.nothing"))
            return
        await _end(svc, state, expired_record(state, svc.clock(), "cancelled"))
    await message.reply_html(t("exam.cancelled"))


async def remind(svc: Services, state: ExamState, t: Texts, message: Message) -> None:
    """Text or a sticker in the middle of the test: what the step wants, how to stop, and the
    emergency line (as every reply to a message that is not a photo)."""
    lines = [t("exam.reminder"), t(f"exam.step.{state.waiting}"), "", t("emergency.footer")]
    await message.reply_html("\n".join(lines), do_quote=True)


async def button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, press: ExamGo | ExamSkip
) -> None:
    """The offer's "closer check" (that photo becomes the resting step) and the brow step's
    "skip" (the result from rest and smile)."""
    query = query_of(update)
    await query.answer()
    svc, user = services(context), query.from_user
    if not isinstance(query.message, Message):
        return
    message = query.message
    t = await svc.user_texts(user)
    async with svc.user_lock(user):
        try:
            state = await _load(svc, user)
        except StoreUnavailable:
            await message.reply_html(t("exam.unavailable"))
            return
        now = svc.clock()
        await changed(query.edit_message_reply_markup(None))
        live = state if state is not None and _live(state, press.exam_id, now) else None
        if isinstance(press, ExamGo):
            if live is not None and live.waiting == "offer":
                moved = replace(live, waiting="smile", started_at=now, updated_at=now)
                if await _save(svc, moved, expect="offer"):
                    await send_step(context.bot, message.chat_id, svc, t, moved, "exam.intro_more")
                    return
            # An old button, or the offer expired: the whole test, resting photo first.
            await _begin(svc, user, t, message, context.bot)
        elif (
            live is None
            or live.waiting != "brows"
            or not await _finish(
                svc, t, user, message, live, _examine(svc, live.steps), context.bot
            )
        ):
            # An old button: its test ended (a tap that silently did nothing confuses).
            await message.reply_html(t("exam.ended"), do_quote=True)


def _examine(svc: Services, steps: dict[str, ExamStep]) -> ExamResult:
    return examine_steps(svc.screening.screener.exam_params, _measures(steps))


def _live(state: ExamState, exam_id: str, now: datetime) -> bool:
    """The stored state is the exam the button was for, and has not expired."""
    return state.exam_id == exam_id and not state.expired(now)


def _measures(steps: dict[str, ExamStep]) -> dict[str, StepMeasures]:
    return {name: StepMeasures.from_dict(step.measures) for name, step in steps.items()}


async def took(
    svc: Services,
    t: Texts,
    user: User,
    message: Message,
    state: ExamState,
    taken: tuple[ScreeningResult, StepMeasures | None, ScreeningRecord],
    bot: Bot,
) -> bool:
    """A photo for the step the exam waits for: retake that step, go on, or finish. False when
    the exam moved on meanwhile (another replica took a photo for this step, or finished it):
    the caller answers the photo as a single one."""
    result, step, record = taken
    name = state.waiting
    now = svc.clock()
    moved = replace(state, taken=state.taken + 1, updated_at=now)
    reason = result.reason
    if step is not None:
        steps = {**state.steps, name: ExamStep(record, step.to_dict())}
        exam = None
        if name != "rest":
            exam = _examine(svc, steps)
            reason = exam.reason if exam.status == "rejected" else None
        if exam is not None and exam.status == "ok" and name == "brows":
            return await _finish(svc, t, user, message, replace(moved, steps=steps), exam, bot)
        if exam is None or exam.status == "ok":
            moved = replace(moved, waiting=NEXT[name], steps=steps)
            if not await _save(svc, moved, expect=name):
                return False
            await _urgent_now(t, message, cast(Step, name), result, exam)
            await send_step(bot, message.chat_id, svc, t, moved)
            return True
    # Not usable for this step: only this step again, with its tip. The photo is logged as
    # any refused photo is.
    if not await _save(svc, moved, expect=name):
        return False
    svc.results.submit(record)
    text = "\n\n".join([render.rejection(t, reason), t(f"exam.step.{name}")])
    await message.reply_html(text, do_quote=True)
    return True


async def _urgent_now(
    t: Texts, message: Message, step: Step, result: ScreeningResult, exam: ExamResult | None
) -> None:
    """An emergency is said at once, never held back for the rest of the test (the person may
    stop before the end): model.decision.followup.partial_exam_alert says how."""
    alert = partial_exam_alert(step, result.tier, exam.pattern if exam else None)
    if alert is Alert.FULL:
        await message.reply_html(render.result_text(t, result), do_quote=True)
    elif alert is Alert.LINE:
        await message.reply_html(t("emergency.footer"), do_quote=True)


def _movement(exam: ExamResult) -> dict[str, Any]:
    out: dict[str, Any] = {"smile_ratio": exam.smile_ratio and round(exam.smile_ratio, 3)}
    for side, moved in (("left", exam.left), ("right", exam.right)):
        if moved is not None:
            out |= {f"{side}_{k}": v for k, v in moved.to_dict().items()}
    return out


async def _finish(
    svc: Services,
    t: Texts,
    user: User,
    message: Message,
    state: ExamState,
    exam: ExamResult,
    bot: Bot,
) -> bool:
    """The exam row with its steps, the one combined reply, then the onset question. False,
    and nothing sent, when the exam was ended elsewhere (that replica sends the reply)."""
    record = ExamRecord(id=state.exam_id, status="ok", started_at=state.started_at,
                        created_at=svc.clock(), pseudonym=state.pseudonym, tier=exam.tier.value,
                        pattern=exam.pattern, weak_side=exam.weak_side, movement=_movement(exam),
                        locale=t.language, exam_version=exam.exam_version)  # fmt: skip
    try:  # first: the reply's onset answer updates this row
        if not await asyncio.to_thread(svc.results.end_exam, state, record):
            return False
    except StoreUnavailable:  # written with its steps when the database is back
        svc.results.submit_exam_end(state, record)
    model = svc.screening.model_info()

    async def reply(t: Texts) -> None:
        await bot.send_message(message.chat_id, render.exam_text(t, exam, model), "HTML")

    async def ask(t: Texts) -> None:
        question, markup = onset.exam_question(svc, user.id, t, state.exam_id, exam.tier)
        await bot.send_message(message.chat_id, question, parse_mode="HTML", reply_markup=markup)

    said = [reply, ask] if asks_onset(exam.tier) else [reply]
    for say in said:
        await say(t)
    svc.remember_answer(message.chat_id, *said)
    return True
