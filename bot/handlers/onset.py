"""The onset questions after a finding: "did it start suddenly?" (yes / no / not sure), then,
unless it was sudden, "when did you first notice it?". The tier and the sentence that says the
answers back come from the table in `model.decision.onset`; "yes" is answered at once, since a
sudden droop is an emergency whenever it began.

Each button carries the record's id and the answers so far (signed: bot.callbacks), so any
replica can answer it. What is stored never comes from the button: the answer is written to the
row only if the row is the pressing person's, and the new tier is derived from the row's stored
tier (a screening's, or after a face test the exam's) by the same table. An answer that reaches
a replica before the row is written waits for it in the database.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot import render
from bot.callbacks import Onset
from bot.handlers.buttons import expired
from bot.handlers.parts import changed, query_of
from bot.i18n import Texts
from bot.services import Services, services
from db.records import OnsetAnswer
from db.store import StoreUnavailable
from model.decision.onset import FINDING_TIERS, Began, Sudden, asks_when, onset_advice
from model.decision.triage import Tier
from model.result import ScreeningResult


def _buttons(
    svc: Services, user_id: int, t: Texts, choices: list[tuple[str, Onset]]
) -> InlineKeyboardMarkup:
    # One button a row: the labels are short sentences, and wide buttons are easy to hit.
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t(key), callback_data=svc.buttons.data(user_id, press))]
            for key, press in choices
        ]
    )


def question(
    svc: Services, user_id: int, t: Texts, record_id: str, result: ScreeningResult
) -> tuple[str, InlineKeyboardMarkup]:
    """The first question, for a result with a finding (model.decision.onset.asks_onset)."""
    return _question(svc, user_id, t, record_id, result.tier)


def exam_question(
    svc: Services, user_id: int, t: Texts, exam_id: str, tier: Tier
) -> tuple[str, InlineKeyboardMarkup]:
    """The first question after a face test with a finding."""
    return _question(svc, user_id, t, exam_id, tier)


def _question(
    svc: Services, user_id: int, t: Texts, record_id: str, tier: Tier
) -> tuple[str, InlineKeyboardMarkup]:
    choices = [(f"onset.{sudden.value}", Onset(record_id, sudden, None, tier)) for sudden in Sudden]
    return t("onset.question"), _buttons(svc, user_id, t, choices)


def when_question(
    svc: Services, user_id: int, t: Texts, first: Onset
) -> tuple[str, InlineKeyboardMarkup]:
    choices = [(f"onset.{began.value}", replace(first, began=began)) for began in Began]
    return render.onset_when_text(t), _buttons(svc, user_id, t, choices)


def tiers_after(sudden: Sudden, began: Began | None) -> dict[str, str]:
    """What the answers make of each finding's tier: the database applies it to the row's own
    stored tier (any other tier stays as it is)."""
    return {tier.value: onset_advice(tier, sudden, began).tier.value for tier in FINDING_TIERS}


async def onset_answer(update: Update, context: ContextTypes.DEFAULT_TYPE, press: Onset) -> None:
    query = query_of(update)
    svc, user = services(context), query.from_user
    t = await svc.user_texts(user)
    if asks_when(press.sudden) and press.began is None:
        await query.answer()
        text, markup = when_question(svc, user.id, t, press)
        await changed(query.edit_message_text(text, parse_mode="HTML", reply_markup=markup))
        return
    pseudonym = svc.pseudonym(user)
    try:
        owned = await asyncio.to_thread(svc.results.owner_of, press.record_id)
    except StoreUnavailable:
        owned = None  # checked again when the answer is written
    if owned is not None and owned.pseudonym != pseudonym:
        await expired(query, t)  # another person's record: nothing changes
        return
    await query.answer()
    # The row's tier when it can be read; until then the one this person was shown.
    stored = owned.tier if owned is not None else None
    base = Tier(stored) if stored in {tier.value for tier in FINDING_TIERS} else press.shown_tier
    advice = onset_advice(base, press.sudden, press.began)
    if press.sudden is not Sudden.UNSURE:  # the log holds yes/no; "not sure" has no column yet
        answer = OnsetAnswer(press.record_id, pseudonym, press.sudden is Sudden.YES,
                             tiers_after(press.sudden, press.began))  # fmt: skip
        svc.results.record_onset(answer)
    model = svc.screening.model_info()
    text = render.onset_answer_text(t, advice, model)
    if await changed(query.edit_message_text(text, parse_mode="HTML")) and isinstance(
        query.message, Message
    ):
        chat_id = query.message.chat.id

        async def again(t: Texts) -> None:
            text = render.onset_answer_text(t, advice, model)
            await context.bot.send_message(chat_id, text, parse_mode="HTML")

        svc.remember_answer(chat_id, again)
