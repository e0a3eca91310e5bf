"""A feature hears when the outbox gives up one of its rows (``Registry.undelivered``): the hook
runs once, in the transaction that drops the row, and what it writes there goes out after the
commit. The outbox itself knows no feature; a ``via`` belongs to one feature."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bot.outbox import CLAIM_LEASE, MAX_ATTEMPTS, Staged
from bot.plugins import DuplicateRegistration, Registry
from bot.service import ConversationService, OutgoingMessage
from flows.ids import PersonId
from flows.text import Verbatim
from storage.ports import Transaction
from tests.bot.test_service import ANNA, BEN, make_service

VIA = "parcel"


@dataclass
class Parcels:
    """A feature whose rows go ``via`` its own sender, which never gets them through."""

    service: ConversationService
    name: str = "parcels"
    tries: int = 0
    gave_up: list[tuple[PersonId, str, int]] = field(default_factory=list)

    def register(self, registry: Registry) -> None:
        self.service.relay.senders[VIA] = self.send
        registry.undelivered(VIA, self.undelivered)

    async def send(self, person: PersonId, message: OutgoingMessage) -> None:
        self.tries += 1
        raise ConnectionError("the parcel service is down")

    async def undelivered(
        self, tx: Transaction, person: PersonId, message: OutgoingMessage
    ) -> Staged | None:
        # In the dropping transaction: the row is gone already.
        self.gave_up.append((person, message.text, len(await tx.outbox.of(person))))
        told = self.service.renderer.team([Verbatim("Je pakje kwam niet aan.")])
        return await self.service.relay.stage_for(tx, [(BEN, told)], about=None)


async def test_the_feature_hears_once_when_the_outbox_gives_up_its_row() -> None:
    service, channel, clock, storage = make_service()
    parcels = Parcels(service)
    service.add(parcels)
    parcel = service.renderer.team([Verbatim("pakje 7")])
    async with storage.transaction() as tx:
        staged = await service.relay.stage_for(tx, [(ANNA, parcel)], via=VIA, about=None)
    await service.relay.send_staged(staged)
    for _ in range(MAX_ATTEMPTS + 3):
        clock.advance(CLAIM_LEASE + timedelta(seconds=1))
        await service.relay.sweep(everything=True)
    assert parcels.tries == 1 + MAX_ATTEMPTS
    assert parcels.gave_up == [(ANNA, "pakje 7", 0)]
    assert channel.texts(BEN) == ["Je pakje kwam niet aan."]
    await service.relay.flush()
    async with storage.transaction() as tx:
        assert await tx.outbox.unsent() == []


async def test_a_via_belongs_to_one_feature() -> None:
    service = make_service()[0]
    service.add(Parcels(service))
    with pytest.raises(DuplicateRegistration, match=VIA):
        service.add(Parcels(service, name="copy"))
