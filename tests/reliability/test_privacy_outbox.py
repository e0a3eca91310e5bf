"""The privacy buttons' messages go through the outbox (issue #16, deliverable 2): a consent
change's confirmation and the erasure's confirmation are written in the transaction of the
change, so a kill between the commit and the send delays them, never loses them; and after an
erasure no outbox row holds the person (the confirmation's row is deleted as soon as it went).
"""

from __future__ import annotations

from pathlib import Path

from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived, TextReceived
from storage.memory import MemoryStorage
from storage.ports import Storage
from tests.bot.fakes import killed_at_first_send
from tests.privacy.conftest import ANNA, CANARY, T0, Harness, make_harness, sqlite_storage


async def killed_while_sending(harness: Harness, press: str) -> None:
    await killed_at_first_send(
        harness.service.channels, harness.service.handle(ANNA, ButtonPressed(press, T0))
    )


async def restart(storage: Storage) -> Harness:
    again = make_harness(storage)
    await again.service.relay.sweep(everything=True)
    return again


async def consented(harness: Harness) -> None:
    for event in (
        CommandReceived("start", "", T0),
        ButtonPressed("mood=bad", T0),
        ButtonPressed("consent=yes", T0),
        ButtonPressed("domain_mental=2", T0),
    ):
        await harness.service.handle(ANNA, event)
    await harness.service.relay.flush()  # what went out so far is marked sent


async def rows_of(storage: Storage, person: PersonId) -> int:
    async with storage.transaction() as tx:
        return len(await tx.outbox.of(person))


async def test_a_kill_after_withdrawing_still_confirms_it_before_the_next_question() -> None:
    storage = MemoryStorage()
    first = make_harness(storage)
    await consented(first)
    await killed_while_sending(first, "privacy=withdraw:sensitive_domains")
    async with storage.transaction() as tx:
        session = await tx.sessions.get(ANNA)
    assert session is not None and "rating_mental" not in session.answers  # committed

    again = await restart(storage)
    assert again.channel.texts(ANNA) == ["privacy.consent.withdrawn", "hello.name.ask"]


async def test_withdrawing_without_a_kill_sends_the_confirmation_once() -> None:
    storage = MemoryStorage()
    calm = make_harness(storage)
    await consented(calm)
    await calm.service.handle(ANNA, ButtonPressed("privacy=withdraw:sensitive_domains", T0))
    assert calm.channel.texts(ANNA)[-2:] == ["privacy.consent.withdrawn", "hello.name.ask"]
    await calm.service.relay.flush()
    assert await rows_of(storage, ANNA) == 0
    assert (await restart(storage)).channel.texts(ANNA) == []


async def test_a_kill_after_the_erasure_still_confirms_it_and_leaves_no_row(
    tmp_path: Path,
) -> None:
    storage = await sqlite_storage(tmp_path / "opstap.db")
    try:
        first = make_harness(storage)
        await consented(first)
        await first.service.handle(ANNA, TextReceived(CANARY, T0))
        await first.service.relay.flush()
        await killed_while_sending(first, "privacy=erase:yes")
        async with storage.transaction() as tx:
            assert await tx.sessions.get(ANNA) is None  # erased before the kill
        # Only the neutral confirmation waits, nothing of what Anna told.
        async with storage.transaction() as tx:
            left = await tx.outbox.of(ANNA)
        assert [row.body["text"] for row in left] == ["privacy.erase.done"]

        again = await restart(storage)
        assert again.channel.texts(ANNA) == ["privacy.erase.done"]
        # The sweep deletes a sent leftover at once: the chat id is in no outbox row.
        assert await rows_of(storage, ANNA) == 0
    finally:
        await storage.close()


async def test_the_erasure_confirmation_row_is_gone_before_the_scrub() -> None:
    storage = MemoryStorage()
    harness = make_harness(storage)
    await consented(harness)
    rows_at_scrub: list[int] = []
    scrub = storage.scrub

    async def scrub_and_count() -> None:
        rows_at_scrub.append(await rows_of(storage, ANNA))
        await scrub()

    storage.scrub = scrub_and_count  # type: ignore[method-assign]
    await harness.service.handle(ANNA, ButtonPressed("privacy=erase:yes", T0))
    assert harness.channel.texts(ANNA)[-1] == "privacy.erase.done"
    assert harness.channel.texts(ANNA).count("privacy.erase.done") == 1
    assert rows_at_scrub == [0]
    assert (await restart(storage)).channel.texts(ANNA) == []
