"""The golden intake scenarios, end to end through the two real channels.

Every scenario of :data:`tests.flows.SCENARIOS` is run twice: once on the pure engine (the
expected side, with the intake flow the runtime itself builds, place check included) and once
through a real in-process runtime (``bot.runtime.build_runtime``) with a :class:`FrozenClock`
that moves exactly as the scripted run's clock does: in Telegram through the fake Bot API, and
in the web chat through its HTTP API. For every action the texts the channel delivered must be
the texts of the engine's ``SendMessage`` effects, rendered in the session's language, in
order; the last question's buttons must be the engine's.

``wait`` moves the clock; ``restart`` stops the runtime and builds a new one on the same
SQLite file and clock; ``fire`` moves the clock to the reminder's due time and ticks by hand.

Two places where the runtime adds to the engine by design: ``/hulp`` is answered by the
service before the engine runs, with the help lines only (the engine's transcript has the
crisis help and the question again; the response's own "continue" button brings the question
back), so the expected side there is the help-line response; and after the intake is
submitted the coach handoff follows up, so there the engine's messages must come first.
Telegram's help hint (the message carrying the reply keyboard) is not part of the engine's
output and is left out. After a tap, the next question may take the pressed message's place
(one edit instead of an edit and a new message): that edited message counts as delivered. A
press on a button Telegram has already taken away (stale buttons, a
question asked again by a nudge) is made by hand, as the fake only presses buttons that are
there; the front door's attempt to take the buttons off that message again is what Telegram
would answer 400 to, and is allowed for that message only.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.clock import FrozenClock
from bot.conversations import build_flows
from bot.privacy import COMMANDS as SERVICE_COMMANDS
from bot.runtime import Runtime, build_runtime
from bot.safety.helplines import load_helplines
from bot.safety.responder import HelpLineResponder
from bot.service import HELP_COMMANDS
from bot.settings import Settings, load_settings
from bot.telegram.channel import RLM
from bot.telegram.limits import FloodLimiter
from flows.effects import SendCrisisHelp, SendMessage, SubmitIntake
from flows.ids import FlowId
from flows.intake.flow import INTAKE
from flows.text import msg
from tests.e2e.process import free_port
from tests.fakes.bot_api import FakeBotApi, SentMessage, _CallbackQuery
from tests.flows import SCENARIOS, STEP_SECONDS, T0, Action, Run, translator

pytestmark = pytest.mark.e2e

CHAT = 1001  # the engine's person is tg:1001
COOKIE = "opstap_web"
# How long a step waits for the engine's count of replies. It returns as soon as they are
# there; the bound only matters on a loaded machine, where the first replies of a worker (its
# first start of the service) took more than 5 s in CI (happy_path and median_path, first in
# line, got nothing to tap).
WAIT = 20.0

Delivered = tuple[str, list[list[str]], bool]  # text, button values, right to left


# --- the expected side ----------------------------------------------------------------------


Shown = list[tuple[str, list[list[str]]]]  # text, button values


@dataclass
class Expected:
    """Per action: the engine's messages, the session's language, what else the runtime adds."""

    steps: list[Shown] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    # True where the intake was submitted, or a service command (``/privacy``) was given: the
    # handoff or the privacy feature (not the engine) follows up after the engine's messages
    # (none for a service command), so those must come first and theirs may follow.
    submitted: list[bool] = field(default_factory=list)
    # True where only the service answers (a service command): wait for its first message.
    requested: list[bool] = field(default_factory=list)
    reminders: list[Any] = field(default_factory=list)


def crisis_response(language: str, now: datetime) -> Shown:
    """What ``/hulp`` gets in every channel: the service answers it before the engine runs,
    with the help lines only (its own "continue" button brings the question back)."""
    responder = HelpLineResponder(translator(), load_helplines())
    return [
        (m.text, [[value for _, value in row] for row in m.buttons if row])
        for m in responder.messages(None, now, language)
    ]


def expected(actions: Sequence[Action], *, web: bool = False) -> Expected:
    # The web chat words a few texts its own way (no Telegram): web.<id> in web.po.
    tr = translator().variant("web") if web else translator()
    scripted = Run(build_flows(tr)[FlowId(INTAKE)], tr)
    out = Expected()
    for action in actions:
        transition = scripted.act(action)
        language = scripted.session.language if scripted.session is not None else "nl"
        messages: Shown = []
        requested = action[0] == "cmd" and action[1] in SERVICE_COMMANDS
        submitted = requested
        if transition is not None:
            language = transition.session.language
            effects = transition.effects
            submitted = any(isinstance(e, SubmitIntake) for e in effects)
            if action[0] == "cmd" and action[1] in HELP_COMMANDS:
                assert any(isinstance(e, SendCrisisHelp) for e in effects), action
                messages = crisis_response(language, scripted.clock)
            else:
                for effect in effects:
                    if isinstance(effect, SendMessage):
                        values = [[b.value for b in row] for row in effect.buttons]
                        messages.append((tr.render_parts(effect.parts, language), values))
        out.steps.append(messages)
        out.languages.append(language)
        out.submitted.append(submitted)
        out.requested.append(requested)
    out.reminders = list(scripted.reminders)
    return out


# --- the runtime ----------------------------------------------------------------------------


class Harness:
    """A runtime that can be restarted on the same database file and clock."""

    def __init__(self, settings: Settings, clock: FrozenClock) -> None:
        self.settings, self.clock = settings, clock
        self.runtime: Runtime | None = None

    async def start(self) -> Runtime:
        self.settings = self.settings.model_copy(update={"http_port": free_port()})
        self.runtime = await build_runtime(self.settings, clock=self.clock)
        await self.runtime.start()
        return self.runtime

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def tick(self) -> None:
        assert self.runtime is not None
        await self.runtime.tick.run_once()


async def make_harness(tmp_path: Path, migrated: Path, extra: dict[str, str]) -> Harness:
    """A started runtime on a copy of the session's migrated SQLite file (``migrated``)."""
    shutil.copyfile(migrated, tmp_path / "opstap.db")
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    settings = load_settings(
        {
            "OPSTAP_DATABASE_URL": url,
            "OPSTAP_HTTP_PORT": str(free_port()),
            # The test ticks by hand after moving the clock.
            "OPSTAP_TICK_SECONDS": "3600",
            **extra,
        },
        env_file=None,
    )
    harness = Harness(settings, FrozenClock(T0))
    await harness.start()
    return harness


class Driver:
    """One channel: each method performs an action and returns what the channel delivered
    (``want`` is how many messages the engine sent, so a channel knows how long to wait)."""

    language = "nl"
    harness: Harness

    async def start(self, language: str, want: int) -> list[Delivered]:
        raise NotImplementedError

    async def tap(self, value: str, want: int) -> list[Delivered]:
        raise NotImplementedError

    async def text(self, text: str, want: int) -> list[Delivered]:
        raise NotImplementedError

    async def cmd(self, name: str, want: int) -> list[Delivered]:
        raise NotImplementedError

    async def media(self, kind: str, want: int) -> list[Delivered]:
        raise NotImplementedError

    async def fire(self, want: int) -> list[Delivered]:
        raise NotImplementedError

    async def restart(self) -> None:
        raise NotImplementedError


class TelegramDriver(Driver):
    def __init__(self, fake: FakeBotApi, harness: Harness) -> None:
        self.fake, self.harness = fake, harness
        tr = translator()
        self.hints = {tr.render(msg("safety.button.hint"), lang) for lang in tr.languages}
        # Where each button value was last shown: a press on a retired button goes there.
        self.shown: dict[str, int] = {}
        self.problems: list[str] = []
        self.last_text = 0

    def _is_hint(self, message: SentMessage) -> bool:
        keyboard = bool(message.reply_markup and message.reply_markup.get("keyboard"))
        return keyboard and message.text.replace(RLM, "") in self.hints

    def _new(self, before: int, pressed: SentMessage | None = None) -> list[SentMessage]:
        new = [m for m in self.fake.messages(CHAT)[before:] if not self._is_hint(m)]
        if pressed is not None:
            # The next question may come in place of the pressed one (one edit, Telegram's
            # convention); only the choice appended to the old text is not a reply.
            now = self.fake.messages(CHAT)[pressed.index]
            if now.edits > pressed.edits and not now.text.startswith(pressed.text):
                new.insert(0, now)
        return new

    async def _collect(
        self, before: int, want: int, pressed: SentMessage | None = None
    ) -> list[Delivered]:
        if want:
            # Until the engine's count has arrived (fewer: the comparison below says which).
            with contextlib.suppress(AssertionError):
                await self.fake.wait_for_message(
                    CHAT,
                    after=min(before, pressed.index if pressed is not None else before),
                    predicate=lambda _: len(self._new(before, pressed)) >= want,
                    timeout=WAIT,
                )
        # Then a quiet moment, so that anything more than the engine's shows up too.
        await self.fake.wait_idle(0.1)
        out: list[Delivered] = []
        for message in self._new(before, pressed):
            values = [[d for _, d in row if d is not None] for row in message.buttons()]
            values = [row for row in values if row]
            for row in values:
                for value in row:
                    self.shown[value] = message.message_id
            # Right to left: the mark starts every line.
            marked = all(line.startswith(RLM) for line in message.text.split("\n") if line)
            out.append((message.text, values, marked))
        return out

    async def start(self, language: str, want: int) -> list[Delivered]:
        self.language = language
        return await self.cmd("start", want)

    async def cmd(self, name: str, want: int) -> list[Delivered]:
        before = len(self.fake.messages(CHAT))
        self.fake.user_sends_command(CHAT, f"/{name}", language_code=self.language)
        return await self._collect(before, want)

    async def text(self, text: str, want: int) -> list[Delivered]:
        before = len(self.fake.messages(CHAT))
        sent = self.fake.user_sends_text(CHAT, text, language_code=self.language)
        self.last_text = int(sent["message"]["message_id"])
        return await self._collect(before, want)

    async def tap(self, value: str, want: int) -> list[Delivered]:
        before = len(self.fake.messages(CHAT))
        live = [
            m
            for m in self.fake.messages(CHAT)
            if value in [d for row in m.buttons() for _, d in row]
        ]
        if live:
            self.fake.user_presses_button(
                CHAT, live[-1].message_id, value, language_code=self.language
            )
            return await self._collect(before, want, pressed=live[-1])
        # A retired (stale) button, or one never shown: the press a client with an old
        # screen would send. The fake only presses buttons that are there, so by hand.
        message_id = self.shown.get(value) or self.fake.messages(CHAT)[-1].message_id
        message = self.fake._bot_message_for_user(CHAT, message_id)
        query_id = str(next(self.fake._callback_ids))
        payload = {
            "id": query_id,
            "from": self.fake._user(CHAT, "Test", self.language, None, None),
            "message": self.fake._message_json(message),
            "chat_instance": str(7_919_000_000 + CHAT),
            "data": value,
        }
        self.fake._callback_queries[query_id] = _CallbackQuery(payload)
        self.fake._push_update("callback_query", payload)
        found = await self._collect(before, want)
        # Taking the buttons off the pressed message changes nothing here (it has none
        # left): Telegram answers 400, which the front door expects and ignores. Only a
        # press the fake cannot make leads there; any other violation stays.
        for violation in self.fake.take_violations("editMessageReplyMarkup"):
            if violation.params.get("message_id") != message_id:
                self.problems.append(f"{value}: {violation}")
        return found

    async def media(self, kind: str, want: int) -> list[Delivered]:
        before = len(self.fake.messages(CHAT))
        senders = {
            "sticker": self.fake.user_sends_sticker,
            "photo": self.fake.user_sends_photo,
            "voice": self.fake.user_sends_voice,
            "location": self.fake.user_sends_location,
        }
        if kind == "edited":
            self.fake.user_edits_message(CHAT, self.last_text, "aangepast")
            return await self._collect(before, want)
        senders[kind](CHAT, language_code=self.language)
        return await self._collect(before, want)

    async def fire(self, want: int) -> list[Delivered]:
        before = len(self.fake.messages(CHAT))
        await self.harness.tick()
        return await self._collect(before, want)

    async def restart(self) -> None:
        await self.fake.wait_idle(0.1)
        await self.harness.restart()


class WebDriver(Driver):
    def __init__(self, http: aiohttp.ClientSession, harness: Harness) -> None:
        self.http, self.harness = http, harness
        self.token: str | None = None
        self.last = 0

    def _url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.harness.settings.http_port}{path}"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept-Language": self.language}
        if self.token is not None:
            headers["Cookie"] = f"{COOKIE}={self.token}"
        return headers

    def _found(self, body: dict[str, Any]) -> list[Delivered]:
        self.last = max(self.last, int(body["last"]))
        return [
            (m["text"], [[b["value"] for b in row] for row in m["buttons"] if row], m["rtl"])
            for m in body["messages"]
            if m["side"] == "bot"
        ]

    async def _poll(self) -> list[Delivered]:
        async with self.http.get(
            self._url("/api/messages"), params={"after": str(self.last)}, headers=self._headers()
        ) as response:
            assert response.status == 200, await response.text()
            return self._found(await response.json())

    async def _post(self, payload: dict[str, Any]) -> list[Delivered]:
        async with self.http.post(
            self._url("/api/input"), json={**payload, "after": self.last}, headers=self._headers()
        ) as response:
            assert response.status == 200, await response.text()
            if COOKIE in response.cookies:
                self.token = response.cookies[COOKIE].value
            found = self._found(await response.json())
        return found + await self._poll()

    async def start(self, language: str, want: int) -> list[Delivered]:
        self.language = language
        return await self._post({"kind": "open"})

    async def tap(self, value: str, want: int) -> list[Delivered]:
        return await self._post({"kind": "button", "value": value})

    async def text(self, text: str, want: int) -> list[Delivered]:
        return await self._post({"kind": "text", "text": text})

    async def cmd(self, name: str, want: int) -> list[Delivered]:
        return await self._post({"kind": "text", "text": f"/{name}"})

    async def fire(self, want: int) -> list[Delivered]:
        await self.harness.tick()
        return await self._poll()

    async def restart(self) -> None:
        await self.harness.restart()
        # The transcript is in the database: the page goes on from the last id it saw.


# --- the test -------------------------------------------------------------------------------


WEB_SKIPS = {
    "media_and_odd_text": "the web chat has no media input (POST /api/input takes open, text,"
    " button and help only)",
    "edited_message": "the web chat cannot edit a sent message",
}


@pytest.fixture(params=["telegram", "web"])
async def driver(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    migrated_sqlite: Path,
) -> AsyncIterator[Driver]:
    """The channel under test, on a runtime of its own."""
    channel = request.param
    name = request.node.callspec.params["name"]
    if channel == "web" and name in WEB_SKIPS:
        pytest.skip(WEB_SKIPS[name])
    if channel == "web":
        harness = await make_harness(tmp_path, migrated_sqlite, {})
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
                yield WebDriver(http, harness)
        finally:
            await harness.stop()
        return
    # One message per second per chat is the limiter's own business (tested in
    # tests/bot/test_telegram_limits.py); at that pace these scenarios take minutes.
    monkeypatch.setattr(
        "bot.telegram.app.FloodLimiter",
        lambda **options: FloodLimiter(per_chat_per_second=1000, **options),
    )
    async with FakeBotApi() as fake:
        harness = await make_harness(tmp_path, migrated_sqlite, {"TELEGRAM_API_URL": fake.api_root})
        await harness.stop()
        # The fake's token is shorter than a real one; the settings check is not under test.
        harness.settings = harness.settings.model_copy(update={"telegram_token": fake.token})
        await harness.start()
        try:
            yield TelegramDriver(fake, harness)
        finally:
            await harness.stop()
    violations = fake.finish()
    if violations:
        pytest.fail(fake.format_violations(), pytrace=False)


def _plain(delivered: list[Delivered]) -> list[str]:
    return [text.replace(RLM, "") for text, _, _ in delivered]


async def drive(driver: Driver, harness: Harness, actions: Sequence[Action]) -> list[str]:
    want = expected(actions, web=isinstance(driver, WebDriver))
    clock = harness.clock
    problems: list[str] = []
    last_expected: list[list[str]] | None = None
    last_actual: list[list[str]] | None = None
    for index, action in enumerate(actions):
        kind = action[0]
        engine = want.steps[index]
        # A service command is answered by the service, not the engine: wait
        # for that answer too, so it cannot spill into the next input's window.
        count = max(len(engine), 1 if want.requested[index] else 0)
        got: list[Delivered] = []
        if kind == "wait":
            clock.advance(action[1])
            continue
        if kind == "restart":
            await driver.restart()
            continue
        if kind == "start":
            clock.set(T0)
            got = await driver.start(action[1], count)
        elif kind == "fire":
            due = want.reminders[action[1]].at
            clock.set(max(clock.now(), due))
            got = await driver.fire(count)
        else:
            clock.advance(timedelta(seconds=STEP_SECONDS))
            if kind == "tap":
                got = await driver.tap(action[1], count)
            elif kind == "text":
                got = await driver.text(action[1], count)
            elif kind == "cmd":
                got = await driver.cmd(action[1], count)
            elif kind == "media":
                got = await driver.media(action[1], count)
            else:
                raise ValueError(f"unknown action {action!r}")
        texts = [text for text, _ in engine]
        actual = _plain(got)
        if want.submitted[index] and actual[: len(texts)] == texts:
            actual = actual[: len(texts)]  # the handoff's follow-up comes after
        if actual != texts:
            problems.append(
                f"#{index} {action!r}:\n  engine:  {texts!r}\n  channel: {_plain(got)!r}"
            )
        if want.languages[index] == "ar":
            for text, _, rtl in got:
                if not rtl:
                    problems.append(f"#{index} {action!r}: not right to left: {text[:40]!r}")
        for _, values in engine:
            if values:
                last_expected = values
        for _, values, _ in got:
            if values:
                last_actual = values
    if last_expected != last_actual:
        problems.append(f"last buttons: engine {last_expected!r}, channel {last_actual!r}")
    return problems


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_golden_scenario_in_channel(name: str, driver: Driver) -> None:
    assert isinstance(driver, TelegramDriver | WebDriver)
    problems = await drive(driver, driver.harness, SCENARIOS[name])
    channel = "the web chat"
    if isinstance(driver, TelegramDriver):
        channel = "Telegram"
        await driver.fake.wait_idle(0.1)
        problems += driver.problems
    assert not problems, f"{name} in {channel}:\n" + "\n".join(problems)
