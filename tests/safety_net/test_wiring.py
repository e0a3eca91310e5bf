"""The runtime wires the safety net: screener, responder, alerts, the tick, the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.inbound import Inbound
from bot.pipeline import SAFETY_BUTTONS
from bot.runtime import build_runtime
from bot.safety.alerts import ESCALATE
from bot.safety.responder import HelpLineResponder
from bot.settings import SettingsError, load_settings
from flows.ids import PersonId
from flows.inputs import ButtonPressed, TextReceived
from storage.safety import SafetyEventPart
from tests.routing2.conftest import make_harness
from tests.safety_net.conftest import WORKING


def test_the_safety_settings_are_read_and_checked() -> None:
    settings = load_settings(
        {"OPSTAP_SAFETY_CHAT_ID": "-1001234567890", "OPSTAP_SAFETY_ACK_MINUTES": "10"},
        env_file=None,
    )
    assert settings.safety_chat_id == -1001234567890
    assert settings.safety_ack_minutes == 10
    defaults = load_settings({}, env_file=None)
    assert defaults.safety_chat_id is None and defaults.safety_ack_minutes == 15
    with pytest.raises(SettingsError, match="OPSTAP_SAFETY_CHAT_ID"):
        load_settings({"OPSTAP_SAFETY_CHAT_ID": "@team"}, env_file=None)
    with pytest.raises(SettingsError, match="OPSTAP_SAFETY_ACK_MINUTES"):
        load_settings({"OPSTAP_SAFETY_ACK_MINUTES": "0"}, env_file=None)


async def test_the_runtime_screens_responds_and_holds_reminders(tmp_path: Path) -> None:
    settings = load_settings(
        {"OPSTAP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"}, env_file=None
    )
    runtime = await build_runtime(settings)
    try:
        service = runtime.service
        assert service.screener is not None and service.screener.screen("ik wil dood").flagged
        assert isinstance(service.crisis, HelpLineResponder)
        assert service.crisis.alerts is not None
        assert SAFETY_BUTTONS in service.button_handlers
        assert runtime.tick.holds
        assert any(isinstance(p, SafetyEventPart) for p in service.storage.personal_data_parts)
    finally:
        await runtime.service.storage.close()


async def test_the_coach_desk_lets_the_safety_buttons_through() -> None:
    """A coach's chat belongs to the desk, except the team's ``safety=`` buttons: those go on to
    the safety net's button handler."""
    h = make_harness()
    coach = await h.add_coach("Lotte", chat=2002)
    me = PersonId("tg:2002")
    async with h.storage.transaction() as tx:
        claims = h.side.desk.claims
        assert not await claims(tx, Inbound(me, ButtonPressed("safety=3:ack", WORKING)))
        assert await claims(tx, Inbound(me, ButtonPressed("case=3:accept", WORKING)))
        assert await claims(tx, Inbound(me, TextReceived("safety=3:ack", WORKING)))
    assert coach is not None
    assert ESCALATE.startswith("safety.")
