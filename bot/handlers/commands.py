"""/start, /help, /privacy, /language and /forget, with their confirmation buttons."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.config import LANGUAGES
from bot.handlers.parts import message_of, query_of, user_of
from bot.i18n import Texts, catalog
from bot.services import services
from db.store import StoreUnavailable

LANGUAGE_PREFIX = "lang:"
FORGET_PREFIX = "forget:"
FORGET_YES = FORGET_PREFIX + "yes"
FORGET_NO = FORGET_PREFIX + "no"


async def _texts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Texts:
    return await services(context).user_texts(update.effective_user)


def _privacy_key(context: ContextTypes.DEFAULT_TYPE) -> str:
    return "privacy.anonymous" if services(context).pseudonyms.anonymous else "privacy"


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    privacy_text = t(_privacy_key(context))
    text = "\n\n".join([t("start.intro"), privacy_text, t("tips"), t("emergency.footer")])
    await message_of(update).reply_html(text)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    await message_of(update).reply_html("\n\n".join([t("help"), t("tips")]))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    await message_of(update).reply_html(t(_privacy_key(context)))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    # Each language is offered in its own words, so it is readable whatever is set now.
    buttons = [
        InlineKeyboardButton(catalog(code)["language.name"], callback_data=LANGUAGE_PREFIX + code)
        for code in LANGUAGES
    ]
    await message_of(update).reply_html(
        t("language.choose"), reply_markup=InlineKeyboardMarkup([buttons])
    )


async def language_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = query_of(update)
    code = (query.data or "").removeprefix(LANGUAGE_PREFIX)
    if code not in LANGUAGES:
        await query.answer()
        return
    svc = services(context)
    try:
        await asyncio.to_thread(svc.results.set_language, svc.pseudonym(query.from_user), code)
    except StoreUnavailable:
        pass  # the choice still holds in memory; it is stored on the user's next choice
    svc.remember_language(query.from_user, code)
    await query.answer()
    await query.edit_message_text(svc.texts(code)("language.set"), parse_mode="HTML")


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    svc = services(context)
    if svc.pseudonym(user_of(update)) is None:
        await message_of(update).reply_html(t("forget.anonymous"))
        return
    buttons = [
        InlineKeyboardButton(t("forget.yes"), callback_data=FORGET_YES),
        InlineKeyboardButton(t("forget.no"), callback_data=FORGET_NO),
    ]
    await message_of(update).reply_html(
        t("forget.confirm"), reply_markup=InlineKeyboardMarkup([buttons])
    )


async def forget_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = query_of(update)
    svc = services(context)
    t = await _texts(update, context)
    await query.answer()
    if query.data != FORGET_YES:
        await query.edit_message_text(t("forget.cancelled"), parse_mode="HTML")
        return
    pseudonym = svc.pseudonym(query.from_user)
    try:
        count = await asyncio.to_thread(svc.results.forget, pseudonym)
    except StoreUnavailable:
        await query.edit_message_text(t("forget.unavailable"), parse_mode="HTML")
        return
    # The stored language went too; keep answering in this one until Telegram's code says else.
    svc.remember_language(query.from_user, None)
    await query.edit_message_text(t("forget.done", count=count), parse_mode="HTML")
