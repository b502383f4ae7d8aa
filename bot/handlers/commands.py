"""/start, /help, /privacy, /language and /forget, with their buttons."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.ext import ContextTypes

from bot.callbacks import (
    FORGET_ALL,
    FORGET_NOTHING,
    FORGET_RESULTS,
    FROM_MENU,
    FROM_START,
    FROM_WHO,
    Forget,
    Language,
)
from bot.config import LANGUAGES
from bot.handlers import first_contact
from bot.handlers.choices import language_buttons, language_name
from bot.handlers.parts import changed, message_of, query_of, user_of
from bot.i18n import Texts
from bot.services import Services, services
from db.store import StoreUnavailable


async def _texts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Texts:
    return await services(context).user_texts(update.effective_user)


def _privacy_key(context: ContextTypes.DEFAULT_TYPE) -> str:
    return "privacy.anonymous" if services(context).pseudonyms.anonymous else "privacy"


def start_text(t: Texts) -> str:
    """One phone screen: what the bot does, the emergency number, the photo tips, the links,
    the not-validated notice (the first message a person reads)."""
    parts = [t("start.intro"), t("emergency.footer"), t("tips"), t("start.links")]
    return "\n\n".join([*parts, t("not_validated")])


def help_text(t: Texts) -> str:
    return "\n\n".join([t("help"), t("tips"), t("not_validated")])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, user, message = services(context), user_of(update), message_of(update)
    t = await svc.user_texts(user)
    markup = language_buttons(svc.buttons, user.id, FROM_START)
    await message.reply_html(start_text(t), reply_markup=markup)
    await svc.first_contact(user)  # the languages are under /start: not offered again
    if svc.asks_who(user):
        text, markup = first_contact.question(svc, user.id, t, ask_who=True, offer_language=False)
        await message.reply_html(text, reply_markup=markup, do_quote=False)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    await message_of(update).reply_html(help_text(t))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    await message_of(update).reply_html(t(_privacy_key(context)))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    t = await _texts(update, context)
    markup = language_buttons(services(context).buttons, user_of(update).id, FROM_MENU)
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
    """The language is stored, the buttons' message follows it, and the last answer is said
    again in it (a first answer in a language the person cannot read is no answer)."""
    query = query_of(update)
    await query.answer()
    # A catalog removed since the button was sent: nothing to switch to.
    if press.code not in LANGUAGES or not isinstance(query.message, Message):
        return
    code, where = press.code, press.where
    svc, user, chat_id = services(context), query.from_user, query.message.chat.id
    await _store_language(svc, user, code)
    t = svc.texts(code, svc.who(user))
    again = svc.last_answer(chat_id)
    done = t("language.again") if again else t("language.set")
    if where == FROM_START:
        await changed(query.edit_message_text(start_text(t), parse_mode="HTML"))
        return
    # A second tap finds its edit already made and says nothing more.
    if where == FROM_MENU:
        if not await changed(query.edit_message_text(done, parse_mode="HTML")):
            return
    else:
        if where == FROM_WHO and svc.who(user) is None:  # the question stays, in the new language
            text, markup = first_contact.question(
                svc, user.id, t, ask_who=True, offer_language=False
            )
            edit = query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
        else:  # under a reply: the reply stays as it is, its buttons go
            edit = query.edit_message_reply_markup(None)
        if not await changed(edit):
            return
        await context.bot.send_message(chat_id, done, parse_mode="HTML")
    for resend in again:
        await resend(t)


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
    lines = [t("forget.done", count=count)]
    if kept is not None:
        lines.append(t("forget.kept", language=language_name(kept)))
    elif press.choice == FORGET_ALL:
        lines.append(t("forget.language_gone"))
    await changed(query.edit_message_text(" ".join(lines), parse_mode="HTML"))
