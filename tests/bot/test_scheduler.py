"""The reminder tick over memory storage with an injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.delivery import delivery_is_background
from bot.scheduler import ReminderTick
from bot.service import OutgoingMessage
from flows.ids import PersonId, ReminderKey
from flows.inputs import TextReceived
from storage.memory import MemoryStorage
from storage.ports import ReminderRecord
from tests.bot.test_service import ANNA, make_service

# A Tuesday, 10:00 in Brussels (09:00 UTC).
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def pending(storage: MemoryStorage, person: PersonId):  # type: ignore[no-untyped-def]
    async with storage.transaction() as tx:
        return await tx.reminders.pending(person)


async def test_a_due_nudge_is_sent_once() -> None:
    service, channel, clock, storage = make_service()
    clock.set(T0)
    await service.handle(ANNA, TextReceived("hoi", T0))
    tick = ReminderTick(storage, service, clock, worker="w1")
    assert await tick.run_once() == 0
    clock.advance(timedelta(hours=24))
    before = len(channel.sent)
    assert await tick.run_once() == 1
    assert channel.texts(ANNA)[before].startswith("engine.nudge")
    # Claimed and sent: the next tick has nothing for this reminder.
    sent_after = len(channel.sent)
    assert await tick.run_once() == 0
    assert len(channel.sent) == sent_after


async def test_a_reminder_due_at_night_waits_until_eight() -> None:
    service, channel, clock, storage = make_service()
    evening = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)  # 22:30 in Brussels
    clock.set(evening)
    await service.handle(ANNA, TextReceived("hoi", evening))
    clock.advance(timedelta(hours=24))
    before = len(channel.sent)
    tick = ReminderTick(storage, service, clock, worker="w1")
    assert await tick.run_once() == 0
    assert len(channel.sent) == before
    [waiting] = await pending(storage, ANNA)
    assert waiting.due_at == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 08:00 Brussels
    clock.set(waiting.due_at)
    assert await tick.run_once() == 1


async def test_an_overdue_reminder_is_sent_after_a_restart() -> None:
    _service, _channel, clock, storage = make_service()
    clock.set(T0)
    await _service.handle(ANNA, TextReceived("hoi", T0))
    # The service was down for three days; a new process (new tick, same database) starts.
    clock.advance(timedelta(days=3, hours=1))
    restarted, channel2, _, _ = make_service(storage)
    restarted.clock = clock
    tick = ReminderTick(storage, restarted, clock, worker="w2")
    assert await tick.run_once() == 1
    assert channel2.texts(ANNA)[0].startswith("engine.nudge")


async def test_a_failing_send_is_released_with_backoff() -> None:
    service, _channel, clock, storage = make_service()
    clock.set(T0)
    await service.handle(ANNA, TextReceived("hoi", T0))
    clock.advance(timedelta(hours=24))

    async def broken(reminder: object) -> bool:
        raise RuntimeError("boom")

    tick = ReminderTick(storage, service, clock, worker="w1", handlers=(broken,))
    assert await tick.run_once() == 0
    [again] = await pending(storage, ANNA)
    assert again.due_at > clock.now()
    assert again.attempts == 1


# --- honest and on time (issue #16) --------------------------------------------------------


async def test_a_process_without_the_channel_leaves_the_reminder_for_one_that_has_it() -> None:
    service, channel, clock, storage = make_service()
    clock.set(T0)
    await service.handle(ANNA, TextReceived("hoi", T0))
    clock.advance(timedelta(hours=24))
    # A second process on the same database that has no web channel (say, Telegram only).
    blind, _, _, _ = make_service(storage)
    blind.clock = clock
    blind.channels = {"tg": channel}
    assert await ReminderTick(storage, blind, clock, worker="blind").run_once() == 0
    [still] = await pending(storage, ANNA)
    assert (still.status, still.attempts) == ("pending", 0)
    before = len(channel.sent)
    assert await ReminderTick(storage, service, clock, worker="w1").run_once() == 1
    assert channel.texts(ANNA)[before].startswith("engine.nudge")


async def test_a_reminder_for_someone_this_process_cannot_reach_is_not_marked_sent() -> None:
    service, _channel, clock, storage = make_service()
    clock.set(T0)
    await service.handle(ANNA, TextReceived("hoi", T0))
    clock.advance(timedelta(hours=24))

    async def alert_a_coach(reminder: object) -> bool:
        # Like the safety escalation: a web person's reminder that reaches a Telegram coach.
        await service.deliver(PersonId("tg:42"), [OutgoingMessage("alert", team=True)])
        return True

    tick = ReminderTick(storage, service, clock, worker="w1", handlers=(alert_a_coach,))
    assert await tick.run_once() == 0
    [back] = await pending(storage, ANNA)
    assert back.attempts == 0 and back.due_at > clock.now()
    # Outside a reminder, a message to an unreachable chat is still only logged.
    await service.deliver(PersonId("tg:42"), [OutgoingMessage("x")])


async def test_a_tick_sends_to_many_people_at_once() -> None:
    service, _channel, clock, storage = make_service()
    people = [PersonId(f"web:p{i}") for i in range(120)]
    async with storage.transaction() as tx:
        for person in people:
            await tx.reminders.schedule(person, ReminderKey("ping"), T0, 0)
    clock.set(T0)
    running = 0
    most = 0
    release = asyncio.Event()

    async def slow_send(reminder: object) -> bool:
        nonlocal running, most
        running += 1
        most = max(most, running)
        if most >= 10:
            release.set()
        # Each send waits until ten run at once: sequential sending would never get there.
        await asyncio.wait_for(release.wait(), timeout=5)
        running -= 1
        return True

    tick = ReminderTick(storage, service, clock, worker="w1", handlers=(slow_send,))
    # More than one batch (50) in one tick.
    assert await tick.run_once() == 120
    assert most >= 10
    async with storage.transaction() as tx:
        for person in people:
            assert await tx.reminders.pending(person) == []


async def test_one_persons_reminders_go_in_due_order_one_at_a_time() -> None:
    service, _channel, clock, storage = make_service()
    async with storage.transaction() as tx:
        for i in range(5):
            await tx.reminders.schedule(ANNA, ReminderKey(f"r{i}"), T0 + timedelta(seconds=i), 0)
    clock.set(T0 + timedelta(minutes=1))
    seen: list[str] = []
    running = 0

    async def send(reminder: ReminderRecord) -> bool:
        nonlocal running
        running += 1
        assert running == 1
        await asyncio.sleep(0)
        seen.append(reminder.key)
        running -= 1
        return True

    tick = ReminderTick(storage, service, clock, worker="w1", handlers=(send,))
    assert await tick.run_once() == 5
    assert seen == [f"r{i}" for i in range(5)]


async def test_stop_lets_the_send_in_flight_finish_and_releases_the_rest() -> None:
    service, _channel, clock, storage = make_service()
    async with storage.transaction() as tx:
        await tx.reminders.schedule(ANNA, ReminderKey("a"), T0, 0)
        await tx.reminders.schedule(ANNA, ReminderKey("b"), T0 + timedelta(seconds=1), 0)
    clock.set(T0 + timedelta(minutes=1))
    started = asyncio.Event()
    finish = asyncio.Event()
    sent: list[str] = []

    async def send(reminder: ReminderRecord) -> bool:
        started.set()
        await finish.wait()
        sent.append(reminder.key)
        return True

    tick = ReminderTick(storage, service, clock, worker="w1", handlers=(send,))
    running = asyncio.create_task(tick.run_once())
    await started.wait()
    stopping = asyncio.create_task(tick.stop(within=0.2))
    await asyncio.sleep(0.05)
    finish.set()
    await stopping
    await asyncio.gather(running, return_exceptions=True)
    # "a" went out; "b" waited behind it and is back to pending for the next process.
    assert sent in (["a"], ["a", "b"])
    async with storage.transaction() as tx:
        rows = await tx.reminders.all_of(ANNA)
    assert not any(r.status == "claimed" for r in rows)
    assert await tick.run_once() == 0  # a stopped tick claims nothing


async def test_reminders_are_sent_as_background_work_and_replies_are_not() -> None:
    service, _channel, clock, storage = make_service()
    async with storage.transaction() as tx:
        await tx.reminders.schedule(ANNA, ReminderKey("r1"), T0, 0)
    clock.set(T0 + timedelta(minutes=1))
    seen: list[bool] = []

    async def send(reminder: ReminderRecord) -> bool:
        seen.append(delivery_is_background())
        return True

    tick = ReminderTick(storage, service, clock, worker="w1", handlers=(send,))
    assert await tick.run_once() == 1
    # The flood limiter lets replies go before background work (bot.telegram.limits).
    assert seen == [True]
    assert not delivery_is_background()


async def test_one_worker_takes_over_at_once_what_a_killed_process_had_claimed() -> None:
    # The full-size chaos test on SQLite: a process killed right after its tick claimed
    # reminders left them claimed until the lease ran out (40 s), so they went out 40-80 s
    # late. SQLite serves one worker: a claim older than this process is a dead one's.
    service, channel, clock, storage = make_service()
    clock.set(T0)
    await service.handle(ANNA, TextReceived("hoi", T0))
    clock.advance(timedelta(hours=24))
    async with storage.transaction() as tx:
        claimed = await tx.reminders.claim_due(clock.now(), worker="killed", limit=10)
    assert claimed
    clock.advance(timedelta(seconds=3))  # the restart

    shared = ReminderTick(storage, service, clock, worker="w2")
    assert await shared.run_once() == 0  # several workers: the lease holds
    alone = ReminderTick(storage, service, clock, worker="w3", single_worker=True)
    before = len(channel.sent)
    assert await alone.run_once() >= 1
    assert channel.texts(ANNA)[before].startswith("engine.nudge")
    async with storage.transaction() as tx:
        now = {r.id: r.status for r in await tx.reminders.all_of(ANNA)}
    assert {now[r.id] for r in claimed} == {"sent"}


async def test_one_worker_leaves_its_own_claims_to_their_lease() -> None:
    service, _channel, clock, storage = make_service()
    clock.set(T0)
    tick = ReminderTick(storage, service, clock, worker="w1", single_worker=True)
    await service.handle(ANNA, TextReceived("hoi", T0))
    clock.advance(timedelta(hours=24))
    async with storage.transaction() as tx:
        # Claimed by this process (after it started): still being sent.
        assert await tx.reminders.claim_due(clock.now(), worker="w1", limit=10)
    clock.advance(timedelta(seconds=5))
    assert await tick.run_once() == 0
