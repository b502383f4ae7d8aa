"""Typed access to the parts of an update that a handler's filters guarantee; quiet edits and
quiet answers to button presses."""

from __future__ import annotations

from collections.abc import Awaitable

from telegram import CallbackQuery, Message, Update, User
from telegram.error import BadRequest

from model.words import Texts


class MissingPart(ValueError):
    """An update without the part its handler was registered for (a wiring bug)."""


def message_of(update: Update) -> Message:
    if update.effective_message is None:
        raise MissingPart("message")
    return update.effective_message


def user_of(update: Update) -> User:
    if update.effective_user is None:
        raise MissingPart("user")
    return update.effective_user


def query_of(update: Update) -> CallbackQuery:
    if update.callback_query is None:
        raise MissingPart("callback_query")
    return update.callback_query


def is_not_modified(error: BaseException | None) -> bool:
    """Telegram's 400 for an edit that changes nothing: a repeated tap, not a failure."""
    return isinstance(error, BadRequest) and "message is not modified" in str(error).lower()


async def changed(edit: Awaitable[object]) -> bool:
    """Await an edit of a bot message; False when it already looked like that (a second tap on
    the same button), which is not an error."""
    try:
        await edit
    except BadRequest as exc:
        if is_not_modified(exc):
            return False
        raise
    return True


async def expired(query: CallbackQuery, t: Texts) -> None:
    """The answer to a press that must change nothing (a small note on the person's screen)."""
    await query.answer(t("button.expired"))
