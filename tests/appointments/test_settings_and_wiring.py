"""``OPSTAP_CHECKIN_DAYS``, and the feature's service-level buttons against the flows' steps."""

from __future__ import annotations

import pytest

from bot.conversations import build_flows
from bot.settings import SettingsError, load_settings
from tests.appointments.conftest import AppointmentHarness

PREFIXES = ("appt", "apb", "apc", "followup", "rerate")


def test_checkin_days_default_and_bounds() -> None:
    assert load_settings({}, env_file=None).checkin_days == 5
    assert load_settings({"OPSTAP_CHECKIN_DAYS": "10"}, env_file=None).checkin_days == 10
    for bad in ("0", "61", "vijf"):
        with pytest.raises(SettingsError, match="OPSTAP_CHECKIN_DAYS"):
            load_settings({"OPSTAP_CHECKIN_DAYS": bad}, env_file=None)


def test_button_prefixes_are_the_features_and_no_flow_uses_them_as_a_step() -> None:
    steps = {step for flow in build_flows().values() for step in flow.steps}
    assert not steps & set(PREFIXES)


async def test_install_registers_buttons_parts_and_handlers(h: AppointmentHarness) -> None:
    service = h.base.service
    assert set(PREFIXES) <= set(service.button_handlers)
    names = [part.name for part in h.storage.personal_data_parts]
    assert names[-3:] == ["appointments", "ratings", "reachability"]
    assert len(h.side.handlers) == 2
