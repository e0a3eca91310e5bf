"""The one place that turns message ids into channel messages.

Rules:

* Pure: message ids (:class:`flows.text.Msg`, :class:`flows.text.Verbatim`) and buttons with
  message-id labels (:class:`flows.effects.Button`) go in, an :class:`OutgoingMessage` comes
  out, in one language, right to left where the language is, tagged with that language so a
  channel adds its own parts (the help button) in the same one.
* The engine's :class:`flows.effects.SendMessage`, the question asked again, the service's own
  texts and the features' messages for a young person are all rendered by :class:`Renderer`;
  a channel may word some texts its own way (a translator variant, see
  ``ConversationService.translator_for``), so the renderer is made per translator.
* Messages for the team (Dutch cards, ``bot/coach/card.py``) are rendered by their writer and
  marked ``team``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.i18n import Translator
from flows.effects import Button, Part, SendMessage

Keyboard = tuple[tuple[tuple[str, str], ...], ...]
"""Rendered buttons: rows of (label, value)."""
Buttons = Sequence[Sequence[Button | tuple[str, str]]]
"""Buttons to render: a label that is a message id is rendered, a (label, value) pair made
elsewhere (a label that is data, such as a date) passes as it is."""


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message for one channel: text in the person's language, buttons as
    (label, value) pairs. ``crisis`` messages bypass rate limits and quiet hours."""

    text: str
    buttons: Keyboard = ()
    prompt: bool = False
    rtl: bool = False
    crisis: bool = False
    # A file to fetch, as (url, filename): the web chat's download link for a document.
    download: tuple[str, str] | None = None
    # For the team (a coach's or the safety chat), not a young person: channels add nothing
    # meant for young people, such as the persistent help button.
    team: bool = False
    # The language the text is in (None: not known here); a channel shows what it adds itself,
    # such as the persistent help button and its hint, in the same language.
    language: str | None = None


@dataclass(frozen=True)
class Renderer:
    translator: Translator

    def text(self, part: Part, language: str) -> str:
        return self.translator.render(part, language)

    def buttons(self, rows: Buttons, language: str) -> Keyboard:
        return tuple(tuple(self._button(b, language) for b in row) for row in rows)

    def _button(self, button: Button | tuple[str, str], language: str) -> tuple[str, str]:
        if isinstance(button, Button):
            return self.text(button.label, language), button.value
        return button

    def message(
        self,
        parts: Sequence[Part],
        language: str,
        buttons: Buttons = (),
        *,
        separator: str = "\n\n",
        prompt: bool = False,
        crisis: bool = False,
    ) -> OutgoingMessage:
        """One message for a young person: the parts joined by ``separator``."""
        return OutgoingMessage(
            separator.join(self.text(part, language) for part in parts),
            self.buttons(buttons, language),
            prompt=prompt,
            rtl=self.translator.is_rtl(language),
            crisis=crisis,
            language=language,
        )

    def effect(self, effect: SendMessage, language: str) -> OutgoingMessage:
        """The engine's message (and question) as the channel shows it."""
        return self.message(effect.parts, language, effect.buttons, prompt=effect.prompt)
