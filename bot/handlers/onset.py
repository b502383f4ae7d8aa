"""The onset questions after a finding: "did it start suddenly?" (yes / no / not sure), then,
unless it was sudden, "when did you first notice it?". The tier and the sentence that says the
answers back come from the table in `model.decision.onset`; "yes" is answered at once, since a
sudden droop is an emergency whenever it began.

Each button carries everything needed (screening id, the screener's label, the first answer), so
any replica can answer it without shared memory. After a face test the id is the exam's and
the label is `exam-<tier>`: the exam's own tier, which the answer can only raise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot import render
from bot.handlers.parts import changed, query_of
from bot.i18n import Texts
from bot.services import services
from model.decision.onset import Began, OnsetAdvice, Sudden, asks_when, onset_advice
from model.decision.triage import Tier, triage
from model.labels import parse_label
from model.result import ScreeningResult

PREFIX = "onset:"
_SUDDEN = {Sudden.YES: "y", Sudden.NO: "n", Sudden.UNSURE: "u"}
_BEGAN = {Began.HOURS: "h", Began.DAYS: "d", Began.LONGER: "l"}
_NOT_YET = "-"
EXAM_LABEL = "exam-"
MAX_DATA_BYTES = 64  # Telegram's limit for callback_data


@dataclass(frozen=True)
class OnsetAnswer:
    sudden: Sudden
    began: Began | None
    record_id: str
    label: str

    def advice(self) -> OnsetAdvice:
        """Once answered: from the screener's label's tier, or from a face test's tier."""
        if self.label.startswith(EXAM_LABEL):
            base = Tier(self.label.removeprefix(EXAM_LABEL))
        else:
            base = triage(self.label)
        return onset_advice(base, self.sudden, self.began)

    def data(self) -> str:
        """`onset:<y|n|u>:<h|d|l|->:<id hex>:<label>`, at most 64 bytes."""
        began = _BEGAN[self.began] if self.began else _NOT_YET
        hex_id = uuid.UUID(self.record_id).hex
        return f"{PREFIX}{_SUDDEN[self.sudden]}:{began}:{hex_id}:{self.label}"


def parse_onset(data: str) -> OnsetAnswer | None:
    """The answer a button carries; None for anything that is not one (a finding's, with
    answers the table holds)."""
    try:
        sudden, began, hex_id, label = data.removeprefix(PREFIX).split(":")
        if label.startswith(EXAM_LABEL):
            Tier(label.removeprefix(EXAM_LABEL))
        else:
            parse_label(label)
        answer = OnsetAnswer(
            sudden={v: k for k, v in _SUDDEN.items()}[sudden],
            began=None if began == _NOT_YET else {v: k for k, v in _BEGAN.items()}[began],
            record_id=str(uuid.UUID(hex=hex_id)),
            label=label,
        )
        if answer.began is not None or not asks_when(answer.sudden):
            answer.advice()  # raises ValueError for a result that asks nothing
        return answer
    except (ValueError, KeyError):
        return None


def _buttons(t: Texts, choices: list[tuple[str, OnsetAnswer]]) -> InlineKeyboardMarkup:
    # One button a row: the labels are short sentences, and wide buttons are easy to hit.
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(key), callback_data=a.data())] for key, a in choices]
    )


def question(t: Texts, record_id: str, result: ScreeningResult) -> tuple[str, InlineKeyboardMarkup]:
    """The first question, for a result with a finding (model.decision.onset.asks_onset)."""
    return _question(t, record_id, result.label or "")


def exam_question(t: Texts, exam_id: str, tier: Tier) -> tuple[str, InlineKeyboardMarkup]:
    """The first question after a face test with a finding."""
    return _question(t, exam_id, f"{EXAM_LABEL}{tier.value}")


def _question(t: Texts, record_id: str, label: str) -> tuple[str, InlineKeyboardMarkup]:
    choices = [
        (f"onset.{sudden.value}", OnsetAnswer(sudden, None, record_id, label)) for sudden in Sudden
    ]
    return t("onset.question"), _buttons(t, choices)


def when_question(t: Texts, first: OnsetAnswer) -> tuple[str, InlineKeyboardMarkup]:
    choices = [(f"onset.{began.value}", replace(first, began=began)) for began in Began]
    return render.onset_when_text(t), _buttons(t, choices)


async def onset_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = query_of(update)
    await query.answer()
    answer = parse_onset(query.data or "")
    if answer is None:
        return
    svc = services(context)
    t = await svc.user_texts(update.effective_user)
    if asks_when(answer.sudden) and answer.began is None:
        text, markup = when_question(t, answer)
        await changed(query.edit_message_text(text, parse_mode="HTML", reply_markup=markup))
        return
    advice = answer.advice()
    if answer.sudden is not Sudden.UNSURE:  # the log holds yes/no; "not sure" has no column yet
        svc.results.record_onset(answer.record_id, answer.sudden is Sudden.YES, advice.tier.value)
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
