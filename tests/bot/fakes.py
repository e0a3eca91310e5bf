"""Test fakes for the service: a recording channel, a channel that hangs (a kill while
sending) and a tiny translator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, cast

from bot.i18n import Catalog, Translator
from bot.service import OutgoingMessage
from flows.ids import PersonId


@dataclass
class RecordingChannel:
    sent: list[tuple[PersonId, OutgoingMessage]] = field(default_factory=list)
    languages: dict[PersonId, str] = field(default_factory=dict)
    fail: bool = False
    # (person, filename, content, caption) of every document sent.
    documents: list[tuple[PersonId, str, bytes, str]] = field(default_factory=list)
    forgotten: list[PersonId] = field(default_factory=list)

    async def deliver(self, person: PersonId, message: OutgoingMessage) -> None:
        if self.fail:
            raise RuntimeError("channel down")
        self.sent.append((person, message))

    async def deliver_document(
        self, person: PersonId, filename: str, content: bytes, caption: str
    ) -> None:
        if self.fail:
            raise RuntimeError("channel down")
        self.documents.append((person, filename, content, caption))

    def forget(self, person: PersonId) -> None:
        self.forgotten.append(person)

    async def language_changed(self, person: PersonId, language: str) -> None:
        self.languages[person] = language

    def texts(self, person: PersonId) -> list[str]:
        return [m.text for p, m in self.sent if p == person]

    def last(self, person: PersonId) -> OutgoingMessage:
        return [m for p, m in self.sent if p == person][-1]


class HangingChannel(RecordingChannel):
    """Every send hangs: the process is killed while it sends (the outbox's tests)."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = asyncio.Event()

    async def deliver(self, person: PersonId, message: OutgoingMessage) -> None:
        self.sending.set()
        await asyncio.Event().wait()


async def killed_at_first_send(
    channels: Mapping[str, Any], act: Awaitable[object], channel: str = "tg"
) -> None:
    """Run ``act`` until its first send on ``channel``, then cancel it, as a kill would: what
    it committed stays, what it had still to send is in the outbox for the next start."""
    hangs = HangingChannel()
    # The service's channels are a dict it reads on every send: swapping one is the kill's setup.
    cast(MutableMapping[str, Any], channels)[channel] = hangs
    task = asyncio.ensure_future(act)
    await asyncio.wait_for(hangs.sending.wait(), timeout=10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def id_translator(
    languages: tuple[str, ...] = ("nl", "en", "ar"), entries: Mapping[str, str] | None = None
) -> Translator:
    """A translator whose texts are the message ids (plus any ``entries``), so tests can
    assert on ids without depending on the wording in the catalogs."""
    catalogs = {lang: Catalog(lang, dict(entries or {}), frozenset()) for lang in languages}
    return Translator(catalogs)
