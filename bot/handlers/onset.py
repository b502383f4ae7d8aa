"""The "did this start suddenly?" buttons: "yes" escalates to EMERGENCY at once and is logged.

The button carries everything needed (screening id, label, confidence), so any replica can
answer it without shared memory.
"""

from __future__ import annotations

import uuid

from telegram import Update
from telegram.ext import ContextTypes

from bot import render
from bot.handlers.parts import query_of
from bot.services import services
from model.labels import parse_label
from model.result import ScreeningResult
from model.triage import triage

PREFIX = "onset:"


def onset_data(sudden: bool, record_id: str, result: ScreeningResult) -> str:
    """`onset:<y|n>:<id hex>:<label>:<percent>`, at most 64 bytes as Telegram requires."""
    percent = int((result.top_probability or 0.0) * 100)  # floor keeps p >= 0.5 at >= 50
    answer = "y" if sudden else "n"
    return f"{PREFIX}{answer}:{uuid.UUID(record_id).hex}:{result.label}:{percent}"


def parse_onset(data: str) -> tuple[bool, str, str, float] | None:
    try:
        answer, hex_id, label, percent = data.removeprefix(PREFIX).split(":")
        parse_label(label)
        return answer == "y", str(uuid.UUID(hex=hex_id)), label, int(percent) / 100
    except ValueError:
        return None


async def onset_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = query_of(update)
    await query.answer()
    parsed = parse_onset(query.data or "")
    if parsed is None:
        return
    sudden, record_id, label, _top = parsed
    tier = triage(label, sudden)
    svc = services(context)
    svc.results.record_onset(record_id, sudden, tier.value)
    t = await svc.user_texts(update.effective_user)
    await query.edit_message_text(render.onset_answer_text(t, sudden), parse_mode="HTML")
