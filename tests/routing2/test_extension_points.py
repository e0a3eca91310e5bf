"""Two general extension points of the registry (bot/plugins.py) the coach side uses."""

from __future__ import annotations

from bot.service import ConversationService, OutgoingMessage
from flows.effects import CancelReminders, Effect
from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived, Input, TextReceived
from flows.session import Session
from tests.bot.test_service import ANNA, T0, make_service


async def finish_hello(service: ConversationService) -> None:
    await service.handle(ANNA, CommandReceived("start", "", T0))
    await service.handle(ANNA, ButtonPressed("mood=good", T0))
    await service.handle(ANNA, TextReceived("Anna", T0))


async def test_after_flow_hooks_see_input_only_after_the_flow_is_done() -> None:
    made = make_service()
    service, channel = made[0], made[1]
    seen: list[tuple[str | None, str]] = []

    async def passes(session: Session, event: Input) -> list[OutgoingMessage] | None:
        seen.append((session.step, type(event).__name__))
        return None

    async def answers(session: Session, event: Input) -> list[OutgoingMessage] | None:
        if isinstance(event, TextReceived) and event.text == "voor de coach":
            return [OutgoingMessage("doorgegeven")]
        return None

    service.after_flow.extend([passes, answers])
    await service.handle(ANNA, TextReceived("hoi", T0))  # a new session: not done
    assert seen == []
    await finish_hello(service)
    assert seen == []  # every input answered a question of the running flow
    await service.handle(ANNA, TextReceived("voor de coach", T0))
    assert channel.texts(ANNA)[-1] == "doorgegeven"
    assert seen == [(None, "TextReceived")]
    # Not taken by any hook: the engine answers as before ("done").
    await service.handle(ANNA, TextReceived("iets anders", T0))
    assert channel.texts(ANNA)[-1] == "engine.done"
    # Commands always go to the engine.
    await service.handle(ANNA, CommandReceived("opnieuw", "", T0))
    assert len(seen) == 2


async def test_after_commit_hook_messages_follow_the_flows_own() -> None:
    made = make_service()
    service, channel = made[0], made[1]
    calls: list[str] = []

    async def on_discard(
        session: Session, effect: Effect, value: None, now: object
    ) -> list[OutgoingMessage]:
        calls.append(session.person)
        return [OutgoingMessage("daarna")]

    service.registry.on_effect(CancelReminders, after_commit=on_discard)
    await finish_hello(service)
    # The last input finished the flow: its thanks first, then the hook's message.
    assert channel.texts(ANNA)[-2:] == ["hello.thanks", "daarna"]
    assert calls == [PersonId(ANNA)]
