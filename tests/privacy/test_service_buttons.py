"""Service-level buttons: a small table of prefixes answered before the engine."""

from __future__ import annotations

from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived
from storage.memory import MemoryStorage
from tests.privacy.conftest import ANNA, T0, make_harness


async def test_a_registered_prefix_is_answered_before_the_engine() -> None:
    harness = make_harness(MemoryStorage())
    seen: list[tuple[PersonId, str, str]] = []

    async def handler(person: PersonId, event: ButtonPressed, language: str) -> None:
        seen.append((person, event.value, language))

    harness.service.button_handlers["appointment"] = handler
    await harness.service.handle(ANNA, CommandReceived("start", "", T0))
    version = await _version(harness)
    await harness.service.handle(ANNA, ButtonPressed("appointment=move:3", T0), language_hint="en")
    assert seen == [(ANNA, "appointment=move:3", "en")]
    assert await _version(harness) == version  # the engine never saw it


async def test_a_failing_handler_leaves_the_person_a_next_step() -> None:
    harness = make_harness(MemoryStorage())

    async def broken(person: PersonId, event: ButtonPressed, language: str) -> None:
        raise RuntimeError("boom")

    harness.service.button_handlers["appointment"] = broken
    await harness.service.handle(ANNA, ButtonPressed("appointment=x", T0))
    assert harness.channel.texts(ANNA) == ["channel.error"]


async def test_the_way_back_after_the_crisis_response_is_one_of_them() -> None:
    harness = make_harness(MemoryStorage())
    # Without the safety net plugged in, the service itself brings the question back.
    assert "safety" not in harness.service.button_handlers
    assert harness.service.button_handler("safety") is not None
    assert "privacy" in harness.service.button_handlers
    await harness.service.handle(ANNA, CommandReceived("start", "", T0))
    await harness.service.handle(ANNA, ButtonPressed("safety=continue", T0))
    assert harness.channel.texts(ANNA)[-1] == "hello.mood.ask"


async def _version(harness) -> int:  # type: ignore[no-untyped-def]
    async with harness.storage.transaction() as tx:
        session = await tx.sessions.get(ANNA)
    assert session is not None
    return int(session.version)


async def test_privacy_commands_are_service_operations_the_engine_never_sees() -> None:
    harness = make_harness(MemoryStorage())
    registry = harness.service.registry
    assert {"privacy", "mijngegevens", "wis"} <= set(registry.commands)
    await harness.service.handle(ANNA, CommandReceived("start", "", T0))
    version = await _version(harness)
    for name in ("privacy", "mijngegevens", "wis"):
        await harness.service.handle(ANNA, CommandReceived(name, "", T0))
    assert await _version(harness) == version  # the session is untouched
    assert harness.channel.texts(ANNA)[-1] == "privacy.erase.ask"


async def test_privacy_before_any_conversation_ends_with_the_welcome() -> None:
    harness = make_harness(MemoryStorage())
    await harness.service.handle(ANNA, CommandReceived("privacy", "", T0))
    assert harness.channel.texts(ANNA)[0] == "privacy.full"
    assert harness.channel.texts(ANNA)[-1] == "hello.mood.ask"


async def test_wis_before_any_conversation_keeps_nothing_until_asked() -> None:
    harness = make_harness(MemoryStorage())
    await harness.service.handle(ANNA, CommandReceived("wis", "", T0))
    assert harness.channel.texts(ANNA) == ["privacy.erase.ask"]
    async with harness.storage.transaction() as tx:
        assert await tx.sessions.get(ANNA) is None  # asking to erase stores nothing
    await harness.service.handle(ANNA, ButtonPressed("privacy=erase:no", T0))
    assert harness.channel.texts(ANNA)[-2:] == ["privacy.erase.kept", "hello.mood.ask"]
