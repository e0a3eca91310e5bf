"""A team-dashboard harness: the runtime as ``opstap run`` builds it (SQLite file, encryption on,
a frozen clock, no Telegram: young people are web-chat persons), an HTTP client per browser,
and helpers to make coaches, cases and accounts.

Two partnerships: Boest! Your Future (Leuven, "A") and another one from the directory ("B").
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient as _TestClient
from aiohttp.test_utils import TestServer

from bot.clock import FrozenClock
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, load_settings
from bot.team.app import TEAM_KEY, TeamDeps
from bot.team.auth import hash_password
from flows.ids import CaseId, CoachId, PartnershipId, PersonId
from flows.routing.card import card_answers
from flows.session import JsonValue
from storage.crypto import Keyring
from storage.migrate import upgrade
from storage.routing_port import CaseRecord, CoachRecord, CoachRole
from storage.team import TeamRole
from storage.team_sql import TeamUser
from tests.routing2.conftest import intake_answers, local

# The dashboard's test client (aiohttp types it by request and application).
TestClient = _TestClient[web.Request, web.Application]

PASSWORD = "correct horse battery staple"
A = PartnershipId("boest-your-future")
T0 = local(2026, 11, 24, 10)  # Tuesday 10:00 in Brussels
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


def other_partnership(deps: TeamDeps) -> PartnershipId:
    return next(PartnershipId(p.id) for p in deps.directory.partnerships if p.id != A)


@dataclass
class Team:
    runtime: Runtime
    clock: FrozenClock
    settings: Settings
    server: TestServer
    clients: list[TestClient]
    secrets: dict[str, str]

    @property
    def deps(self) -> TeamDeps:
        return self.runtime.http[TEAM_KEY]

    @property
    def b(self) -> PartnershipId:
        return other_partnership(self.deps)

    async def client(self) -> TestClient:
        client = _TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        return client

    async def coach(
        self,
        coach_id: str,
        partnership: PartnershipId = A,
        *,
        role: CoachRole = "coach",
        capacity: int = 8,
        person: str | None = None,
    ) -> CoachRecord:
        coach = CoachRecord(
            id=CoachId(coach_id),
            partnership=partnership,
            first_name=coach_id.capitalize(),
            organisation="JAC",
            domains=("work", "money"),
            languages=("nl",),
            capacity=capacity,
            role=role,
            hours=None,
            active=True,
            person=None if person is None else PersonId(person),
            current_case=None,
            last_assigned_at=None,
            created_at=self.clock.now(),
        )
        async with self.runtime.service.storage.transaction() as tx:
            await tx.coaches.add(coach)
        return coach

    async def case(
        self,
        person: str,
        partnership: PartnershipId = A,
        *,
        offer: bool = True,
        **changes: JsonValue,
    ) -> CaseRecord:
        """A submitted intake's case, offered to the best coach like the handoff does."""
        intake = card_answers(intake_answers(**changes))
        intake["place_label"] = "Kessel-Lo (Leuven)"
        handoff = self.deps.handoff
        async with self.runtime.service.storage.transaction() as tx:
            case = await tx.cases.create(
                PersonId(person), partnership, "24062", "nl", intake, self.clock.now()
            )
            if offer:
                await handoff.plan(tx, case, self.clock.now())
            fresh = await tx.cases.get(case.id)
        assert fresh is not None
        return fresh

    async def get_case(self, case_id: CaseId) -> CaseRecord:
        async with self.runtime.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
        assert case is not None
        return case

    async def user(
        self,
        email: str,
        role: TeamRole,
        partnership: PartnershipId | None = A,
        coach: CoachId | None = None,
    ) -> TeamUser:
        secret = pyotp.random_base32()
        self.secrets[email] = secret
        async with self.deps.store.transaction() as t:
            user = await t.team.add_user(
                email=email,
                name=email.split("@")[0].capitalize(),
                role=role,
                partnership=partnership if role != "admin" else None,
                coach=coach,
                password_hash=hash_password(PASSWORD),
                totp_secret=secret,
                now=self.clock.now(),
            )
        return user

    def code(self, email: str) -> str:
        return pyotp.TOTP(self.secrets[email]).at(self.clock.now())

    async def login(
        self, client: TestClient, email: str, *, password: str = PASSWORD, code: str | None = None
    ) -> ClientResponse:
        page = await client.get("/team/login")
        token = _LOGIN_CSRF.search(await page.text())
        assert token is not None
        response = await client.post(
            "/team/login",
            data={
                "login_csrf": token.group(1),
                "email": email,
                "password": password,
                "code": code if code is not None else self.code(email),
            },
            allow_redirects=False,
        )
        # A TOTP code works once: the next login in this test uses the next time step.
        self.clock.advance(timedelta(seconds=30))
        return response

    async def signed_in(self, email: str) -> TestClient:
        client = await self.client()
        response = await self.login(client, email)
        assert response.status == 303, await response.text()
        return client

    async def csrf(self, client: TestClient, page: str = "/team/queue") -> str:
        response = await client.get(page)
        found = _CSRF.search(await response.text())
        assert found is not None, f"no CSRF token on {page}"
        return found.group(1)

    async def post(
        self,
        client: TestClient,
        path: str,
        data: dict[str, str] | None = None,
        *,
        page: str = "/team/queue",
    ) -> ClientResponse:
        form = {"csrf": await self.csrf(client, page), **(data or {})}
        return await client.post(path, data=form, allow_redirects=False)

    async def young_messages(self, person: str) -> list[str]:
        # What the web chat's transcript holds for the young person (the bot's side).
        page = await self.runtime.web_channel.read(PersonId(person), 0, mark_seen=False)
        return [str(e.body.get("text")) for e in page.entries if e.side == "bot"]


def team_settings(tmp_path: Path, **extra: str) -> Settings:
    return load_settings(
        {
            "OPSTAP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}",
            "OPSTAP_SECRET_KEY": Keyring.generate("k1"),
            "OPSTAP_BOT_USERNAME": "opstap_test_bot",
            **extra,
        },
        env_file=None,
    )


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating takes seconds)."""
    import asyncio

    folder = tmp_path_factory.mktemp("team-template")
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{folder / 'opstap.db'}"))
    return folder / "opstap.db"


@pytest.fixture
def team_env() -> dict[str, str]:
    """Extra settings of the ``team`` runtime; a test overrides it with
    ``@pytest.mark.parametrize("team_env", [{...}])``."""
    return {}


@pytest.fixture
async def team(tmp_path: Path, migrated_db: Path, team_env: dict[str, str]) -> AsyncIterator[Team]:
    shutil.copy(migrated_db, tmp_path / "opstap.db")
    settings = team_settings(tmp_path, **team_env)
    clock = FrozenClock(T0)
    runtime = await build_runtime(settings, clock=clock)
    server = TestServer(runtime.http)
    await server.start_server()
    harness = Team(runtime, clock, settings, server, [], {})
    try:
        yield harness
    finally:
        for client in harness.clients:
            await client.close()
        await server.close()
        await runtime.service.storage.close()
