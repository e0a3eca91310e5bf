"""The reminder tick over memory storage with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.scheduler import ReminderTick
from flows.ids import PersonId
from flows.inputs import TextReceived
from storage.memory import MemoryStorage
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
