"""bot/render.py: the one place that turns message ids and buttons into a channel message."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.render import Renderer
from bot.safety.helplines import load_helplines
from flows.effects import Button, SendMessage
from flows.safety.response import crisis_response
from flows.text import Verbatim, msg


def test_an_engine_message_is_rendered_in_the_persons_language_with_its_buttons() -> None:
    renderer = Renderer(Translator.from_dir())
    effect = SendMessage(
        (msg("engine.use_buttons"), Verbatim("x")),
        ((Button(msg("engine.skip"), "a=_skip"),),),
        prompt=True,
    )
    nl, ar = renderer.effect(effect, "nl"), renderer.effect(effect, "ar")
    assert nl.text.endswith("\n\nx") and nl.buttons[0][0][1] == "a=_skip"
    assert nl.prompt and nl.language == "nl" and not nl.rtl
    assert ar.rtl and ar.language == "ar" and ar.text != nl.text
    assert ar.buttons[0][0][0] != nl.buttons[0][0][0]  # the label is translated too


def test_a_label_made_elsewhere_passes_as_it_is() -> None:
    renderer = Renderer(Translator.from_dir())
    made = renderer.message(
        [msg("engine.skip")], "nl", (((" 12 december", "appt=1"),),), separator="\n"
    )
    assert made.buttons == (((" 12 december", "appt=1"),),)


def test_the_crisis_response_is_one_crisis_message_in_the_language_asked_for() -> None:
    lines = load_helplines()
    translator = Translator.from_dir()
    renderer = Renderer(translator)
    at = datetime(2026, 1, 5, 23, tzinfo=ZoneInfo(lines.timezone))
    response = crisis_response("suicide", at, lines, "ar")
    ar = renderer.crisis(response, "ar")
    assert ar.crisis and ar.rtl and ar.language == "ar" and not ar.team
    # Paragraphs in the composer's order: the intro first, the next step last.
    paragraphs = ar.text.split("\n\n")
    assert paragraphs[0] == translator.render(response.intro, "ar")
    assert paragraphs[-1] == translator.render(response.next_step, "ar")
    assert translator.render(response.heading, "ar") in ar.text
    labels = [label for row in ar.buttons for label, _ in row]
    assert labels == [translator.render(b.label, "ar") for row in response.buttons for b in row]
    nl = renderer.crisis(crisis_response("suicide", at, lines, "nl"), "nl")
    assert nl.text != ar.text and not nl.rtl


def test_team_messages_are_dutch_and_marked_for_the_team() -> None:
    renderer = Renderer(Translator.from_dir())
    card = renderer.team(
        [msg("coach.help"), Verbatim("📁 Dossier #3")],
        ((("ok", "case=3:x"),),),
    )
    assert card.team and card.language == "nl" and not card.rtl and not card.crisis
    assert card.text.endswith("\n📁 Dossier #3")
    assert card.buttons == ((("ok", "case=3:x"),),)
    alert = renderer.team([msg("safety.alert.not_yours")], crisis=True)
    assert alert.team and alert.crisis
