"""A newcomer adds a feature by writing one module (ARCHITECTURE.md, "How to add a feature").

The feature below is the whole module a newcomer would write: one object with a ``name`` and
``register(registry)``, a command and a button, its texts rendered by the service's renderer.
Nothing else is wired: it is added to the service as the runtime adds its list, and driven
through the real pipeline behind the real Telegram front door (python-telegram-bot against the
fake Bot API), on the in-memory storage. It gets the pipeline's guarantees without a line of
its own: the button is answered at once, and a crisis phrase after its command gets the crisis
reply, not the feature.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clock import SystemClock
from bot.plugins import Registry
from bot.safety.helplines import load_helplines
from bot.safety.lexicon import load_screener
from bot.safety.responder import HelpLineResponder
from bot.service import ConversationService
from bot.telegram.app import TelegramFrontDoor
from flows.effects import Button
from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived
from flows.text import msg
from storage.memory import MemoryStorage
from tests.bot.fakes import id_translator
from tests.bot.test_pipeline import TAPS, tap_flow
from tests.fakes.bot_api import FakeBotApi, SentMessage

CHAT = 6262

# --- the newcomer's module ---------------------------------------------------------------------


@dataclass
class Thanks:
    """``/bedankt``: the bot says thanks back, with a button to hear it once more."""

    service: ConversationService
    name: str = "thanks"
    heard: list[str] = field(default_factory=list)

    def register(self, registry: Registry) -> None:
        registry.command("bedankt", self.on_command)
        registry.button("thanks", self.on_button)

    async def on_command(self, person: PersonId, event: CommandReceived, language: str) -> None:
        self.heard.append(f"/{event.name}")
        again = ((Button(msg("thanks.again"), "thanks=again"),),)
        said = self.service.renderer_for(person).message([msg("thanks.said")], language, again)
        await self.service.deliver(person, [said])

    async def on_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        self.heard.append(event.value)
        said = self.service.renderer_for(person).message([msg("thanks.said")], language)
        await self.service.deliver(person, [said])


# --- the test ----------------------------------------------------------------------------------


def inline(message: SentMessage) -> bool:
    return bool(message.reply_markup and message.reply_markup.get("inline_keyboard"))


async def test_a_feature_of_one_module_runs_through_the_real_pipeline(
    fake_bot_api: FakeBotApi,
) -> None:
    fake = fake_bot_api
    translator = id_translator(("nl",), {"thanks.said": "Graag gedaan!", "thanks.again": "Nog"})
    storage = MemoryStorage()
    service = ConversationService(
        storage=storage,
        flows={TAPS: tap_flow(2)},
        entry=TAPS,
        channels={},
        translator=translator,
        clock=SystemClock(),
        screener=load_screener(),
        crisis=HelpLineResponder(translator, load_helplines()),
    )
    thanks = Thanks(service)
    service.add(thanks)  # what bot/runtime.py does for every feature in its list
    front = TelegramFrontDoor(
        token=fake.token, api_url=fake.api_root, service=service, clock=SystemClock()
    )
    service.channels = {"tg": front.channel}
    await front.start()
    try:
        fake.user_sends_command(CHAT, "/bedankt")
        asked = await fake.wait_for_message(CHAT, predicate=inline, timeout=10)
        assert asked.plain_text == "Graag gedaan!"
        assert asked.buttons() == [[("Nog", "thanks=again")]]

        fake.user_presses_button(CHAT, asked.message_id, "thanks=again")
        await fake.wait_idle(0.5, timeout=10)
        assert fake.unanswered_callback_queries() == []
        assert thanks.heard == ["/bedankt", "thanks=again"]
        texts = [m.plain_text for m in fake.messages(CHAT)]
        assert texts.count("Graag gedaan!") == 2

        # Safety first, for the feature's command too: the crisis reply, not the feature.
        fake.user_sends_command(CHAT, "/bedankt ik wil niet meer leven")
        helped = await fake.wait_for_message(
            CHAT, predicate=lambda m: m.plain_text.startswith("safety.intro"), timeout=10
        )
        await fake.wait_idle(0.5, timeout=10)
        assert thanks.heard == ["/bedankt", "thanks=again"]
        after = [m.plain_text for m in fake.messages(CHAT)][len(texts) :]
        assert helped.plain_text in after and "Graag gedaan!" not in after
        # The engine never saw the feature's inputs: no conversation was started.
        async with storage.transaction() as tx:
            assert await tx.sessions.get(PersonId(f"tg:{CHAT}")) is None
    finally:
        await front.stop()
        await storage.close()
