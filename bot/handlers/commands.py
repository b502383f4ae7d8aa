"""/start, /help, /privacy, /language and /forget, with their buttons."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, User
from telegram.ext import ContextTypes

from bot.callbacks import (
    FORGET_ALL,
    FORGET_NOTHING,
    FORGET_RESULTS,
    FROM_MENU,
    FROM_REPLY,
    FROM_START,
    Forget,
    Language,
)
from bot.config import LANGUAGES
from bot.handlers.parts import changed, message_of, query_of, user_of
from bot.i18n import Texts, catalog
from bot.services import Services, services
from db.store import StoreUnavailable

# Language buttons say where they were: the menu (edited to say it is done), /start (shown
# again in the new language) or under another reply (buttons dropped, a new message says so).


async def _texts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Texts:
    return await services(context).user_texts(update.effective_user)


def _privacy_key(context: ContextTypes.DEFAULT_TYPE) -> str:
    return "privacy.anonymous" if services(context).pseudonyms.anonymous else "privacy"


def language_name(code: str) -> str:
    return catalog(code)["language.name"]


def language_buttons(svc: Services, user_id: int, where: str) -> InlineKeyboardMarkup:
    """One button per catalog, each in its own language and script, so any reader finds theirs."""
    buttons = [
        InlineKeyboardButton(
            language_name(code), callback_data=svc.buttons.data(user_id, Language(code, where))
        )
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup([buttons])


def start_text(t: Texts) -> str:
    """One phone screen: what the bot does, the emergency number, the photo tips, the links."""
    return "\n\n".join([t("start.intro"), t("emergency.footer"), t("tips"), t("start.links")])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    markup = language_buttons(services(context), user_of(update).id, FROM_START)
    await message_of(update).reply_html(start_text(t), reply_markup=markup)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    await message_of(update).reply_html("\n\n".join([t("help"), t("tips")]))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    await message_of(update).reply_html(t(_privacy_key(context)))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    markup = language_buttons(services(context), user_of(update).id, FROM_MENU)
    await message_of(update).reply_html(t("language.choose"), reply_markup=markup)


async def _store_language(svc: Services, user: User, code: str | None) -> None:
    """Store (or, with None, keep only in memory) the choice; a database that is down is not
    the user's problem: the choice holds in memory and is stored on their next choice."""
    if code is not None:
        try:
            await asyncio.to_thread(svc.results.set_language, svc.pseudonym(user), code)
        except StoreUnavailable:
            pass
    svc.remember_language(user, code)


async def language_chosen(
    update: Update, context: ContextTypes.DEFAULT_TYPE, press: Language
) -> None:
    query = query_of(update)
    await query.answer()
    code, where = press.code, press.where
    if code not in LANGUAGES:  # a catalog removed since the button was sent
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
    keep_or_not = [(t("forget.yes"), FORGET_RESULTS)]
    if svc.chosen_language(user) is not None:
        keep_or_not.append((t("forget.all"), FORGET_ALL))
    buttons = [
        InlineKeyboardButton(label, callback_data=svc.buttons.data(user.id, Forget(choice)))
        for label, choice in (*keep_or_not, (t("forget.no"), FORGET_NOTHING))
    ]
    await message_of(update).reply_html(
        t("forget.confirm"), reply_markup=InlineKeyboardMarkup([buttons])
    )


async def forget_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE, press: Forget) -> None:
    query = query_of(update)
    svc = services(context)
    user = query.from_user
    t = await svc.user_texts(user)
    await query.answer()
    if press.choice == FORGET_NOTHING:
        await changed(query.edit_message_text(t("forget.cancelled"), parse_mode="HTML"))
        return
    kept = svc.chosen_language(user) if press.choice == FORGET_RESULTS else None
    try:
        count = await asyncio.to_thread(svc.results.forget, svc.pseudonym(user))
    except StoreUnavailable:
        await changed(query.edit_message_text(t("forget.unavailable"), parse_mode="HTML"))
        return
    # The store erases the language with the results; put back the one the person kept.
    await _store_language(svc, user, kept)
    if kept is not None:
        text = t("forget.done_kept", count=count, language=language_name(kept))
    elif press.choice == FORGET_ALL:
        text = t("forget.done_all", count=count)
    else:
        text = t("forget.done", count=count)
    await changed(query.edit_message_text(text, parse_mode="HTML"))
