"""Typed access to the parts of an update that a handler's filters guarantee."""

from __future__ import annotations

from telegram import CallbackQuery, Message, Update, User


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
