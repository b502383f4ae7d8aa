"""/start, /help, /privacy, /language and /forget, with their buttons."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, User
from telegram.ext import ContextTypes

from bot.config import LANGUAGES
from bot.handlers.parts import changed, message_of, query_of, user_of
from bot.i18n import Texts, catalog
from bot.services import Services, services
from db.store import StoreUnavailable

# lang:<code>:<where the buttons were>: the menu (edited to say it is done), /start (shown
# again in the new language) or under another reply (buttons dropped, a new message says so).
LANGUAGE_PREFIX = "lang:"
FROM_MENU, FROM_START, FROM_REPLY = "m", "s", "r"
FORGET_PREFIX = "forget:"
FORGET_YES = FORGET_PREFIX + "yes"  # results only; a chosen language stays
FORGET_ALL = FORGET_PREFIX + "all"  # results and the language choice
FORGET_NO = FORGET_PREFIX + "no"


async def _texts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Texts:
    return await services(context).user_texts(update.effective_user)


def _privacy_key(context: ContextTypes.DEFAULT_TYPE) -> str:
    return "privacy.anonymous" if services(context).pseudonyms.anonymous else "privacy"


def language_name(code: str) -> str:
    return catalog(code)["language.name"]


def language_buttons(where: str) -> InlineKeyboardMarkup:
    """One button per catalog, each in its own language and script, so any reader finds theirs."""
    buttons = [
        InlineKeyboardButton(language_name(code), callback_data=f"{LANGUAGE_PREFIX}{code}:{where}")
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup([buttons])


def start_text(t: Texts) -> str:
    """One phone screen: what the bot does, the emergency number, the photo tips, the links."""
    return "\n\n".join([t("start.intro"), t("emergency.footer"), t("tips"), t("start.links")])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    await message_of(update).reply_html(start_text(t), reply_markup=language_buttons(FROM_START))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    await message_of(update).reply_html("\n\n".join([t("help"), t("tips")]))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    await message_of(update).reply_html(t(_privacy_key(context)))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    await message_of(update).reply_html(
        t("language.choose"), reply_markup=language_buttons(FROM_MENU)
    )


async def _store_language(svc: Services, user: User, code: str | None) -> None:
    """Store (or, with None, keep only in memory) the choice; a database that is down is not
    the user's problem: the choice holds in memory and is stored on their next choice."""
    if code is not None:
        try:
            await asyncio.to_thread(svc.results.set_language, svc.pseudonym(user), code)
        except StoreUnavailable:
            pass
    svc.remember_language(user, code)


async def language_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = query_of(update)
    await query.answer()
    code, _, where = (query.data or "").removeprefix(LANGUAGE_PREFIX).partition(":")
    if code not in LANGUAGES:
        return
    svc = services(context)
    await _store_language(svc, query.from_user, code)
    t = svc.texts(code)
    if where == FROM_START:
        await changed(query.edit_message_text(start_text(t), parse_mode="HTML"))
    elif where == FROM_REPLY:
        # The reply above stays as it is; a second tap finds the buttons gone and says nothing.
        if await changed(query.edit_message_reply_markup(None)) and query.message is not None:
            await context.bot.send_message(query.message.chat.id, t("language.set"), "HTML")
    else:
        await changed(query.edit_message_text(t("language.set"), parse_mode="HTML"))


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user = user_of(update)
    t = await svc.user_texts(user)
    if svc.pseudonym(user) is None:
        await message_of(update).reply_html(t("forget.anonymous"))
        return
    keep_or_not = [(t("forget.yes"), FORGET_YES)]
    if svc.chosen_language(user) is not None:
        keep_or_not.append((t("forget.all"), FORGET_ALL))
    buttons = [
        InlineKeyboardButton(label, callback_data=data)
        for label, data in (*keep_or_not, (t("forget.no"), FORGET_NO))
    ]
    await message_of(update).reply_html(
        t("forget.confirm"), reply_markup=InlineKeyboardMarkup([buttons])
    )


async def forget_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = query_of(update)
    svc = services(context)
    user = query.from_user
    t = await svc.user_texts(user)
    await query.answer()
    if query.data not in (FORGET_YES, FORGET_ALL):
        await changed(query.edit_message_text(t("forget.cancelled"), parse_mode="HTML"))
        return
    kept = svc.chosen_language(user) if query.data == FORGET_YES else None
    try:
        count = await asyncio.to_thread(svc.results.forget, svc.pseudonym(user))
    except StoreUnavailable:
        await changed(query.edit_message_text(t("forget.unavailable"), parse_mode="HTML"))
        return
    # The store erases the language with the results; put back the one the person kept.
    await _store_language(svc, user, kept)
    if kept is not None:
        text = t("forget.done_kept", count=count, language=language_name(kept))
    elif query.data == FORGET_ALL:
        text = t("forget.done_all", count=count)
    else:
        text = t("forget.done", count=count)
    await changed(query.edit_message_text(text, parse_mode="HTML"))
