"""The per-user check limit, as photos and face tests meet it."""

from __future__ import annotations

from telegram import Message, User

from bot.i18n import Texts
from bot.services import Services


async def refused(svc: Services, user: User, t: Texts, message: Message) -> bool:
    """Count one check; True when over the limit (said once per window, then quiet)."""
    verdict = await svc.limiter.hit(svc.user_key(user))
    if verdict.allowed:
        return False
    if verdict.notify:
        text = t("rate_limited", seconds=verdict.retry_after_whole_s)
        await message.reply_html(f"{text}\n{t('emergency.footer')}", do_quote=True)
    return True
