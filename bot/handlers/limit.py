"""The per-user check limit, as photos and face tests meet it.

Past the limit every photo is marked as seen and not checked (a 👀 reaction, which costs no
message; where Telegram refuses it, a short line at most every few seconds), and the first one
gets a notice that says how many photos are checked in what time and how long to wait.
"""

from __future__ import annotations

import logging
import math

from telegram import Message, User
from telegram.constants import ReactionEmoji
from telegram.error import TelegramError

from bot.i18n import Texts
from bot.services import Services

log = logging.getLogger(__name__)
SEEN = ReactionEmoji.EYES


def duration(t: Texts, seconds: float) -> str:
    """A wait or a window in words: whole seconds under a minute, else whole minutes (up)."""
    if seconds < 60:
        return t("count.seconds", count=max(1, math.ceil(seconds)))
    return t("count.minutes", count=math.ceil(seconds / 60))


def per(t: Texts, seconds: float) -> str:
    """ "a minute", "every 2 minutes", "every 30 seconds"."""
    if seconds < 60:
        return t("count.per_seconds", count=max(1, math.ceil(seconds)))
    return t("count.per_minutes", count=math.ceil(seconds / 60))


async def refused(svc: Services, user: User, t: Texts, message: Message) -> bool:
    """Count one check; True when over the limit (the photo is marked and, once, explained)."""
    verdict = await svc.limiter.hit(svc.user_key(user))  # one count for every replica
    if verdict.allowed:
        return False
    marked = await _mark_seen(message)
    wait = duration(t, verdict.retry_after_s)
    if verdict.notify:
        svc.may_say_not_checked(user)  # the notice is this photo's line
        limit = svc.limiter
        text = t("rate_limited", photos=t("count.photos", count=limit.limit),
                 window=per(t, limit.window_s), wait=wait)  # fmt: skip
        await message.reply_html(f"{text}\n{t('emergency.footer')}", do_quote=True)
    elif not marked and svc.may_say_not_checked(user):
        await message.reply_html(t("rate_limited.short", wait=wait), do_quote=True)
    return True


async def _mark_seen(message: Message) -> bool:
    try:
        await message.set_reaction(SEEN)
    except TelegramError as exc:
        log.info("could not mark a photo past the limit: %s", type(exc).__name__)
        return False
    return True
