"""Features as plugins (bot/plugins.py): a feature written as one module (example_feature.py)
is registered through the registry and its button, command, effect hook (with the value passed
from the transaction to after the commit), reminder handler and job are used; a prefix or a
command claimed twice is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.plugins import DuplicateRegistration
from bot.scheduler import ReminderTick
from flows.ids import PersonId, ReminderKey
from flows.inputs import ButtonPressed, CommandReceived
from tests.bot.test_service import ANNA, T0, make_service
from tests.plugins.example_feature import Wave


async def test_a_feature_module_plugs_in_through_the_registry() -> None:
    made = make_service()
    service, channel, clock, storage = made
    wave = Wave(service)
    service.add(wave)
    assert service.registry.features == ["wave"]

    await service.handle(ANNA, CommandReceived("start", "", T0))
    # The hello flow's greeting and first question: the hook ran in the transaction, once
    # per message, and its value (the saved version) reached the after-commit phase.
    async with storage.transaction() as tx:
        saved = await tx.sessions.get(PersonId(ANNA))
    assert saved is not None
    assert wave.seen == [f"after commit {saved.version}"] * 2

    await service.handle(ANNA, ButtonPressed("wave=hi", T0))
    await service.handle(ANNA, CommandReceived("zwaai", "", T0))
    assert "button wave=hi" in wave.seen and "command zwaai" in wave.seen
    assert channel.texts(ANNA)[-2:] == ["👋", "👋👋"]

    # Its reminders reach it through the tick.
    async with storage.transaction() as tx:
        await tx.reminders.schedule(
            PersonId(ANNA), ReminderKey("wave.later"), T0 + timedelta(minutes=1), 0
        )
    tick = ReminderTick(
        storage,
        service,
        clock,
        handlers=tuple(service.registry.reminder_handlers),
        quiet_start=0,
        quiet_end=0,
    )
    clock.set(T0 + timedelta(minutes=2))
    await tick.run_once()
    assert "reminder wave.later" in wave.seen
    # Its job is there for the runtime's scheduler.
    assert [job.name for job in service.registry.jobs] == ["wave-daily"]
    await service.registry.jobs[0].run()
    assert wave.seen[-1] == "daily"
    # Its page, with its declared permission, is what the runtime adds to the app.
    [route] = service.registry.routes
    assert (route.feature, route.method, route.path, route.permission) == (
        "wave",
        "GET",
        "/wave",
        "public",
    )
    app = web.Application()
    service.registry.mount(app)
    assert wave.seen[-1] == "http set-up"
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/wave")
        assert response.status == 200 and await response.text() == "👋"


async def test_a_button_prefix_or_command_belongs_to_one_feature() -> None:
    service = make_service()[0]
    service.add(Wave(service))

    class Copy(Wave):
        pass

    with pytest.raises(DuplicateRegistration, match="wave"):
        service.add(Copy(service, name="copy"))
    with pytest.raises(DuplicateRegistration):
        service.add(Wave(service))
