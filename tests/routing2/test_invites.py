"""Coach invites: a one-time deep link, valid 7 days, stored as a hash only."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from bot.coach.invites import (
    INVITE_VALID,
    invite_again,
    invite_link,
    invite_new_coach,
    looks_like_invite,
    new_token,
    token_hash,
)
from bot.inbound import Inbound
from flows.ids import CoachId, PartnershipId, PersonId
from flows.inputs import CommandReceived, TextReceived
from storage.migrate import upgrade
from storage.sql import open_storage
from tests.routing2.conftest import BOEST, Harness, make_harness

PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def invite(h: Harness, name: str = "Lotte") -> str:
    _, token = await invite_new_coach(
        h.storage,
        partnership=BOEST,
        first_name=name,
        organisation="JAC Leuven",
        domains=("work",),
        languages=("nl", "ar"),
        capacity=6,
        role="coach",
        hours=None,
        now=h.clock.now(),
    )
    return token


async def opens(h: Harness, chat: int, token: str) -> bool:
    start = CommandReceived("start", token, h.clock.now())
    return await h.side.desk.route(Inbound(PersonId(f"tg:{chat}"), start))


def test_the_link_is_a_telegram_deep_link_without_personal_data() -> None:
    token = new_token()
    assert PAYLOAD.fullmatch(token) and looks_like_invite(token)
    link = invite_link("@opstap_bot", token)
    assert link == f"https://t.me/opstap_bot?start={token}"
    assert new_token() != token
    assert not looks_like_invite("hello") and not looks_like_invite("c_short")


async def test_opening_the_link_binds_the_chat_once(harness: Harness) -> None:
    h = harness
    token = await invite(h)
    assert await opens(h, 5001, token)
    welcome = h.texts(PersonId("tg:5001"))
    assert welcome[0] == (
        "Welkom, Lotte! Deze chat is nu je coachkanaal bij Boest! Your Future. Nieuwe vragen"
        " komen hier binnen als kaart."
    )
    async with h.storage.transaction() as tx:
        [coach] = await tx.coaches.of_partnership(BOEST)
    assert coach.person == "tg:5001" and coach.languages == ("nl", "ar")
    # One time only: the same link from another chat does nothing.
    assert await opens(h, 5002, token)
    assert h.texts(PersonId("tg:5002")) == [
        "Deze link werkt niet (meer). Vraag je coördinator om een nieuwe link."
    ]
    # The bound chat is the coach desk now; other chats are left to the conversation.
    assert await h.side.desk.route(Inbound(PersonId("tg:5001"), TextReceived("hoi", h.clock.now())))
    assert not await h.side.desk.route(
        Inbound(PersonId("tg:4242"), TextReceived("hoi", h.clock.now()))
    )


async def test_a_link_is_valid_for_seven_days() -> None:
    h = make_harness()
    token = await invite(h)
    h.clock.advance(INVITE_VALID - timedelta(seconds=1))
    assert await opens(h, 5001, token)
    assert h.texts(PersonId("tg:5001"))[0].startswith("Welkom, Lotte!")
    h2 = make_harness()
    late = await invite(h2)
    h2.clock.advance(INVITE_VALID)
    assert await opens(h2, 5001, late)
    assert h2.texts(PersonId("tg:5001"))[0].startswith("Deze link werkt niet")


async def test_a_chat_belongs_to_one_coach(harness: Harness) -> None:
    h = harness
    assert await opens(h, 5001, await invite(h, "Lotte"))
    second = await invite(h, "Yusuf")
    assert await opens(h, 5001, second)
    assert h.texts(PersonId("tg:5001"))[-1] == (
        "Deze chat is al gekoppeld aan een ander coachprofiel."
    )
    # The refused link was not used up: Yusuf can still open it in his own chat.
    assert await opens(h, 5002, second)
    assert h.texts(PersonId("tg:5002"))[0].startswith("Welkom, Yusuf!")


async def test_a_new_link_moves_the_coach_to_a_new_phone(harness: Harness) -> None:
    h = harness
    assert await opens(h, 5001, await invite(h))
    async with h.storage.transaction() as tx:
        [coach] = await tx.coaches.of_partnership(BOEST)
    again = await invite_again(h.storage, coach.id, h.clock.now())
    assert again is not None
    assert await opens(h, 5003, again)
    assert (await h.coach(coach.id)).person == "tg:5003"
    assert await invite_again(h.storage, CoachId("nobody"), h.clock.now()) is None


async def test_only_the_hash_is_stored(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    storage = await open_storage(url)
    try:
        h = make_harness(storage)
        token = await invite(h)
        async with storage.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT * FROM coach_invites"))).all()
            values: list[str] = []
            for table in ("coaches", "coach_invites"):
                for row in (await conn.execute(text(f"SELECT * FROM {table}"))).all():
                    values.extend(str(value) for value in row)
        everything = " ".join(values)
        assert [row.token_hash for row in rows] == [token_hash(token)]
        assert token not in everything and token[2:] not in everything
        assert await opens(h, 5001, token)
        assert (await h.coach(rows[0].coach_id)).person == "tg:5001"
    finally:
        await storage.close()


async def test_demo_coaches_of_the_directory_are_not_created(harness: Harness) -> None:
    async with harness.storage.transaction() as tx:
        assert await tx.coaches.all() == []
        assert await tx.coaches.of_partnership(PartnershipId("teamwork-halle-asse")) == []
