"""Every state of the intake crossed with every way to ask for help: the crisis response first.

States: every step of the intake flow (each step id of ``flows/intake/flow.py``, the session put
at that step), the language picker and the resume question the engine interrupts with, a paused
session (after ``/stop``), a finished one (where the coach relay takes over) and no session at
all (before consent). Triggers: a crisis phrase, ``/hulp``, the persistent help button, a photo
with a crisis caption, an edited Telegram message (the Telegram front door hands an edit to the
service as media with the new text as caption).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.service import OutgoingMessage
from flows.engine import LANGUAGE_STEP, RESUME_STEP
from flows.ids import StepId
from flows.inputs import CommandReceived, Input, MediaReceived, TextReceived
from flows.session import Session
from tests.safety_net.conftest import (
    CRISIS,
    WORKING,
    YOUNG,
    BrokenStorage,
    Rig,
    intake,
    make_rig,
)

Trigger = Callable[[Rig], Awaitable[None]]


def _send(event: Input) -> Trigger:
    async def trigger(rig: Rig) -> None:
        await rig.service.handle(YOUNG, event, language_hint="nl")

    return trigger


async def _help_button(rig: Rig) -> None:
    await rig.service.crisis_help(YOUNG, language_hint="nl")


TRIGGERS: dict[str, Trigger] = {
    "phrase": _send(TextReceived(CRISIS, WORKING)),
    "hulp": _send(CommandReceived("hulp", "", WORKING)),
    "button": _help_button,
    "caption": _send(MediaReceived("photo", WORKING, caption="ik wil dood")),
    # What bot.telegram.app.TelegramFrontDoor._on_edit hands the service for an edit.
    "edited": _send(MediaReceived("other", WORKING, caption="ik wil er niet meer zijn")),
    # Typed help words in the six languages (flows/safety/help_words.py): never an answer.
    "typed help": _send(TextReceived("help", WORKING)),
    "typed hulp": _send(TextReceived("Hulp!", WORKING)),
    "typed sos": _send(TextReceived("SOS", WORKING)),
    "typed au secours": _send(TextReceived("au secours", WORKING)),
    "typed yardım": _send(TextReceived("yardım", WORKING)),
    "typed допоможіть": _send(TextReceived("допоможіть", WORKING)),
    "typed مساعدة": _send(TextReceived("مساعدة", WORKING)),
}
# Triggers that carry text: the text must never become an answer.
TEXT_TRIGGERS = {"phrase", "caption", "edited", *(k for k in TRIGGERS if k.startswith("typed"))}


def _states() -> dict[str, Session | None]:
    flow = intake()
    base = Session(
        person=YOUNG,
        flow=flow.id,
        step=flow.first,
        language="nl",
        started_at=WORKING - timedelta(hours=1),
        updated_at=WORKING - timedelta(minutes=1),
        version=4,
        answers={"own_words": "ik zoek werk", "age": 23},
        history=(StepId("welcome"), StepId("words")),
    )
    states: dict[str, Session | None] = {"no session": None}
    for step in flow.steps:
        states[f"step {step}"] = replace(base, step=step)
    states["language picker"] = replace(base, step=LANGUAGE_STEP, interrupted=StepId("age"))
    states["resume question"] = replace(base, step=RESUME_STEP, interrupted=StepId("age"))
    states["paused after /stop"] = replace(base, step=StepId("age"), status="paused")
    states["done (coach relay)"] = replace(base, step=None, status="done")
    return states


STATES = _states()


def test_every_intake_step_is_in_the_matrix() -> None:
    flow = intake()
    covered = {s.step for s in STATES.values() if s is not None}
    assert set(flow.steps) <= covered
    # The walk found the whole flow, not just a few steps.
    assert len(flow.steps) > 20


async def _put(rig: Rig, session: Session | None) -> None:
    if session is None:
        return
    async with rig.storage.transaction() as tx:
        await tx.sessions.save(session, expected_version=None)


def _is_crisis_response(message: OutgoingMessage) -> bool:
    return message.crisis and "1813" in message.text and "112" in message.text


@pytest.mark.parametrize("trigger", list(TRIGGERS))
@pytest.mark.parametrize("state", list(STATES))
async def test_the_crisis_response_comes_first(state: str, trigger: str) -> None:
    rig = make_rig()
    await _put(rig, STATES[state])
    await TRIGGERS[trigger](rig)
    sent = rig.to(YOUNG)
    assert sent, "nothing was sent"
    assert _is_crisis_response(sent[0]), sent[0].text
    async with rig.storage.transaction() as tx:
        after = await tx.sessions.get(YOUNG)
    before = STATES[state]
    if trigger in TEXT_TRIGGERS:
        # The flagged text is not an answer and changes nothing in the conversation.
        assert after == before
    if before is not None and after is not None:
        assert dict(after.answers) == dict(before.answers)
    stored = repr(after) + repr(await rig.events())
    assert "zitten" not in stored and "dood" not in stored and "niet meer zijn" not in stored


@pytest.mark.parametrize("trigger", list(TRIGGERS))
async def test_the_crisis_reply_goes_out_when_storage_fails_on_every_call(trigger: str) -> None:
    rig = make_rig(storage=BrokenStorage())
    await TRIGGERS[trigger](rig)
    sent = rig.to(YOUNG)
    assert sent and _is_crisis_response(sent[0])


async def test_a_flag_in_the_coach_relay_is_screened_before_the_relay_sees_it() -> None:
    rig = make_rig()
    await _put(rig, STATES["done (coach relay)"])
    relayed: list[Input] = []

    async def relay(session: Session, event: Input) -> list[OutgoingMessage] | None:
        relayed.append(event)
        return []

    rig.service.after_flow.append(relay)
    await rig.service.handle(YOUNG, TextReceived(CRISIS, WORKING))
    assert relayed == []
    assert _is_crisis_response(rig.to(YOUNG)[0])
    # A plain message still reaches the relay.
    await rig.service.handle(YOUNG, TextReceived("dank je", WORKING))
    assert len(relayed) == 1


async def test_a_crisis_phrase_after_a_command_is_screened_too() -> None:
    rig = make_rig()
    await _put(rig, STATES["step age"])
    await rig.service.handle(YOUNG, CommandReceived("stop", "ik wil dood", WORKING))
    sent = rig.to(YOUNG)
    assert _is_crisis_response(sent[0])
    async with rig.storage.transaction() as tx:
        session = await tx.sessions.get(YOUNG)
    assert session is not None and session.status == "active"
