"""/forget and /language while the database is down: a kind message, never the apology."""

from __future__ import annotations

from pathlib import Path

from tests.proof.test_proof_faults import Outage
from tests.support.bot_harness import TOKEN, RunningBot, bot_env, button
from tests.support.fake_bot_api import FakeBotApi, FakeUser
from tests.support.onnx_fixtures import build_tiny_classifier


def test_forget_and_language_during_an_outage(tmp_path: Path) -> None:
    classifier = build_tiny_classifier(tmp_path / "c.onnx", bias={"normal": 6.0})
    outage = Outage("sqlite", tmp_path)
    user = FakeUser(4242, language_code="en")
    with FakeBotApi(TOKEN) as api:
        env = bot_env(api, tmp_path / "data", classifier)
        with RunningBot(env, result_log=outage.result_log) as bot:
            t = bot.services.texts("en")
            outage.down(tmp_path / "data" / "palsy.sqlite3")
            try:
                ask = api.command(user, "/forget")
                api.press_button(user, ask, button(ask, "forget:yes"))
                api.wait_for(
                    lambda calls: [c for c in calls if c.text == t("forget.unavailable")],
                    timeout=30,
                )
                menu = api.command(user, "/language")
                api.press_button(user, menu, button(menu, "lang:hi"))
                hi = bot.services.texts("hi")
                api.wait_for(lambda calls: [c for c in calls if c.text == hi("language.set")])
                assert not [c for c in api.calls("sendMessage") if c.text == t("error.apology")]
            finally:
                outage.up()
                outage.close()
