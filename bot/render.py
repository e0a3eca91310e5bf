"""The one place that turns message ids into channel messages.

Rules:

* Pure: message ids (:class:`flows.text.Msg`, :class:`flows.text.Verbatim`) and buttons with
  message-id labels (:class:`flows.effects.Button`) go in, an :class:`OutgoingMessage` comes
  out, in one language, right to left where the language is, tagged with that language so a
  channel adds its own parts (the help button) in the same one.
* Every message is made here (tested: ``tests/test_architecture.py``), through one of the
  :class:`Renderer`'s entry points:

  - :meth:`Renderer.message` / :meth:`Renderer.effect`: a young person's messages: the engine's
    :class:`flows.effects.SendMessage`, the question asked again, the service's own texts and
    the features'; a channel may word some texts its own way (a translator variant, see
    ``ConversationService.translator_for``), so the renderer is made per translator.
  - :meth:`Renderer.crisis`: the crisis response composed by :mod:`flows.safety.response`, in
    the language it is asked for (the chosen one; the pipeline's screen stage decides which),
    marked ``crisis`` so channels never pace it or hold it for quiet hours. Pure and without
    I/O, so the screen stage sends it before storage is touched. :meth:`Renderer.paragraphs`
    lays out the safety net's follow-ups the same way.
  - :meth:`Renderer.team`: messages for the team (a coach's chat, the safety chat): Dutch,
    marked ``team`` so channels add nothing meant for young people. Coach texts and cards are
    worded by their writer (``bot/coach/card.py`` ``CardWriter``: ``say``, ``team``) and made
    here; an assembled card comes in as one :class:`~flows.text.Verbatim` part.

  Not rendering: the outbox restores a message it stored (:mod:`bot.outbox`), and the web chat
  makes the download link of a document it was handed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from bot.i18n import Translator
from flows.effects import Button, Part, SendMessage
from flows.safety.response import CrisisResponse

TEAM_LANGUAGE = "nl"
"""Coaches and the safety chat read Dutch."""
Keyboard = tuple[tuple[tuple[str, str], ...], ...]
"""Rendered buttons: rows of (label, value)."""
Buttons = Sequence[Sequence[Button | tuple[str, str]]]
"""Buttons to render: a label that is a message id is rendered, a (label, value) pair made
elsewhere (a label that is data, such as a date) passes as it is."""


AttachmentKind = Literal["handover"]
"""Stored documents a message can carry (:class:`Attachment`): the warm handover's PDF."""
ATTACHMENT_KINDS: tuple[AttachmentKind, ...] = get_args(AttachmentKind)


@dataclass(frozen=True)
class Attachment:
    """A stored document a message carries, named by its kind and row id, never by its
    content: whoever sends the message (the sender its outbox row names, ``via``) loads the
    document when it sends, so the outbox holds an id, not a file."""

    kind: AttachmentKind
    id: int


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
    # A stored document that goes with the text (the text is its caption): only a sender that
    # loads it sends such a message (:mod:`bot.outbox`).
    attachment: Attachment | None = None


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

    def paragraphs(
        self,
        blocks: Sequence[Sequence[Part]],
        language: str,
        buttons: Buttons = (),
        *,
        crisis: bool = False,
    ) -> OutgoingMessage:
        """One message of short paragraphs: each block's parts one per line, an empty line
        between blocks (empty blocks are left out)."""
        text = "\n\n".join(
            "\n".join(self.text(part, language) for part in block) for block in blocks if block
        )
        return OutgoingMessage(
            text,
            self.buttons(buttons, language),
            rtl=self.translator.is_rtl(language),
            crisis=crisis,
            language=language,
        )

    def crisis(self, response: CrisisResponse, language: str) -> OutgoingMessage:
        """The crisis response (composed purely by :func:`flows.safety.response.crisis_response`)
        as one ``crisis`` message: the intro; the lines for the situation and "in danger now";
        the day-and-night lines under their heading; the category's lines; the chats open now;
        the next step. No I/O: the screen stage sends it before storage is touched."""
        danger = (response.danger_now,) if response.danger_now is not None else ()
        blocks: list[Sequence[Part]] = [
            (response.intro,),
            (*response.first, *danger),
            (response.heading, *response.day_and_night),
            response.for_category,
            response.chats,
            (response.next_step,),
        ]
        return self.paragraphs(blocks, language, response.buttons, crisis=True)

    def team(
        self,
        parts: Sequence[Part],
        buttons: Buttons = (),
        *,
        separator: str = "\n",
        crisis: bool = False,
        attachment: Attachment | None = None,
    ) -> OutgoingMessage:
        """A message for the team (a coach's chat, the safety chat): Dutch, marked ``team``, so
        channels add nothing meant for young people (the help button). A card assembled by its
        writer comes in as one :class:`~flows.text.Verbatim` part. With ``attachment`` the text
        is the caption of that stored document (a handover's PDF for VDAB)."""
        return OutgoingMessage(
            separator.join(self.text(part, TEAM_LANGUAGE) for part in parts),
            self.buttons(buttons, TEAM_LANGUAGE),
            crisis=crisis,
            team=True,
            language=TEAM_LANGUAGE,
            attachment=attachment,
        )
