"""bot/render.py: the one place that turns message ids and buttons into a channel message."""

from __future__ import annotations

from bot.i18n import Translator
from bot.render import Renderer
from flows.effects import Button, SendMessage
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
