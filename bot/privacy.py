"""Privacy in the chat: ``/privacy``, ``/mijngegevens``, ``/wis`` and the consent records.

Rules:

* Every consent given, refused or withdrawn is a new row in ``consents`` with the notice
  version and the sha256 of the text the person saw, rendered in their language: the flow's
  own question for a :class:`flows.effects.RecordConsent`, the category text for a ``/privacy``
  button. Rows are never changed; the newest per category holds.
* ``/privacy``, ``/mijngegevens``, ``/wis`` and the ``privacy=`` buttons are plain service
  operations: commands and buttons this feature registers (:mod:`bot.plugins`), answered
  before the engine; the engine never sees them.
* Withdrawing is as easy as giving: ``/privacy`` shows every category with one button. A
  withdrawal takes effect at once, in one transaction: the session changes through the engine
  (:class:`flows.inputs.ConsentChanged`: the dependent answers leave it, see
  :mod:`flows.consent`; when the open question is one that needs the consent, the flow moves
  on as after a skip, so it is not asked again), dependent reminders are cancelled and every
  :class:`storage.ports.PersonalData` part drops what depends on the category. Nothing here
  edits a session.
* ``/mijngegevens`` sends, in the person's language, the summary card of their answers as text
  (what they told, where it goes, their consents, who received or viewed it, what else is
  kept), the same summary as a PDF (:mod:`bot.export_pdf`) and a JSON file with everything
  every part holds for machines, to the person's own chat only (Telegram handlers accept
  private chats only; the web chat is private by its cookie).
* ``/wis`` asks first. Then every part erases the person in one transaction (the ``delivery``
  part also the unsent outbox rows about them for anyone else: ``outbox.about``), an anonymous
  monthly count is the only trace, the channel forgets what it holds and the coach is told
  through :class:`CoachNotifier` (provided by the routing feature). Then the storage is
  scrubbed (``Storage.scrub``): no copy stays in SQLite's WAL or free pages, nor in
  PostgreSQL's dead rows.
* Confirmations of a change (a consent given or withdrawn, the erasure) are written to the
  outbox in the change's transaction (:mod:`bot.outbox`). The erasure's is neutral, written
  after every part erased, and its row is deleted right after the send, before the scrub. The
  export's summary and files are sent directly (nothing changed, nothing to lose).
* Logs hold counts and kinds only. An erasure is logged without the person id.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.conversations import NOTICE_VERSION
from bot.export_pdf import summary_pdf
from bot.i18n import SOURCE_LANGUAGE
from bot.logs import describe
from bot.pipeline import Routed
from bot.plugins import Registry
from bot.service import ConversationService, OutgoingMessage
from flows.consent import CATEGORIES, ConsentCategory
from flows.effects import Button, Effect, RecordConsent
from flows.engine import SKIPPED
from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived, ConsentChanged
from flows.intake.flow import INTAKE, summary_rows
from flows.session import JsonValue, Session
from flows.text import Msg, Param, Verbatim, msg
from storage.personal import iso
from storage.ports import ConsentRecord, Transaction, VersionConflict

log = logging.getLogger(__name__)

BUTTONS = "privacy"
EXPORT_FORMAT = "opstap-export/1"
ERASURE_METRIC = "privacy.erasures"
EXPORT_METRIC = "privacy.exports"

AfterErasure = Callable[[], Awaitable[None]]
# The commands of this feature (bot/commands.py lists them for the Telegram menu).
SHOW_PRIVACY, EXPORT, ERASE = "privacy", "mijngegevens", "wis"
COMMANDS = (SHOW_PRIVACY, EXPORT, ERASE)


class CoachNotifier(Protocol):
    """Tells the coach that a case was erased at the young person's request (routing)."""

    async def case_erased(self, tx: Transaction, person: PersonId) -> AfterErasure | None:
        """Called inside the erasure transaction before any part erases, so the case and its
        coach can still be looked up. Return what tells the coach after the commit (network
        I/O belongs there, not here), or ``None``. Keep nothing of the person."""
        ...


class SilentCoachNotifier:
    """The default until the routing feature provides a real one: nobody to tell."""

    async def case_erased(self, tx: Transaction, person: PersonId) -> AfterErasure | None:
        return None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def button(action: str) -> str:
    return f"{BUTTONS}={action}"


@dataclass
class PrivacyDesk:
    """The privacy feature (:mod:`bot.plugins`): consent records, ``/privacy``,
    ``/mijngegevens``, ``/wis`` and the ``privacy=`` buttons."""

    service: ConversationService
    notifier: CoachNotifier = field(default_factory=SilentCoachNotifier)
    categories: Mapping[str, ConsentCategory] = field(default_factory=lambda: dict(CATEGORIES))
    notice_version: str = NOTICE_VERSION
    timezone: str = "Europe/Brussels"

    name: str = "privacy"

    def register(self, registry: Registry) -> None:
        registry.on_effect(RecordConsent, in_transaction=self.record_consent)
        registry.button(BUTTONS, self.on_button)
        for name in COMMANDS:
            registry.command(name, self.on_command)

    def install(self) -> None:
        """Plug the privacy feature into its service."""
        self.service.add(self)

    # --- rendering ------------------------------------------------------------------------

    def _render(self, message: Msg, language: str) -> str:
        return self.service.translator.render(message, language)

    def _message(
        self,
        parts: list[Msg],
        language: str,
        buttons: tuple[tuple[Button, ...], ...] = (),
        *,
        prompt: bool = False,
    ) -> OutgoingMessage:
        # One line per part (bot/render.py renders; the summary card reads as a list).
        renderer = self.service.renderer
        return renderer.message(parts, language, buttons, separator="\n", prompt=prompt)

    def _date(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%d-%m-%Y")

    def _month(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m")

    def _label(self, category: str) -> Msg:
        return msg(f"privacy.category.{category}")

    def _about(self, category: str) -> Msg:
        return msg(f"privacy.category.{category}.about")

    def _asked_text(self, category: ConsentCategory | None, language: str) -> str:
        if category is None:
            # A category this module does not know: still recorded, with the hash of nothing,
            # so the gap shows in the records instead of the consent being lost.
            return ""
        return "\n\n".join(self._render(part, language) for part in category.asked_with)

    # --- consent records ------------------------------------------------------------------

    async def record_consent(
        self, tx: Transaction, session: Session, effect: Effect, now: datetime
    ) -> None:
        """Effect hook for :class:`RecordConsent` (inside the engine's transaction)."""
        if not isinstance(effect, RecordConsent):
            return
        category = self.categories.get(effect.category)
        if category is None:
            log.warning("consent for an unknown category=%s", effect.category)
        shown = self._asked_text(category, session.language)
        await tx.consents.record(
            ConsentRecord(
                person=session.person,
                category=effect.category,
                given=effect.given,
                notice_version=effect.notice_version,
                text_hash=text_hash(shown),
                at=effect.at,
            )
        )
        if not effect.given and category is not None:
            # A "no" after an earlier "yes" (changed from the summary) is a withdrawal too.
            await self._withdraw_elsewhere(tx, session.person, category)

    async def _withdraw_elsewhere(
        self, tx: Transaction, person: PersonId, category: ConsentCategory
    ) -> None:
        for prefix in category.reminder_prefixes:
            await tx.reminders.cancel(person, prefix)
        for part in self.service.storage.personal_data_parts:
            await part.withdraw(tx, person, category.id)

    # --- /privacy -------------------------------------------------------------------------

    async def on_command(self, person: PersonId, event: CommandReceived, hint: str) -> None:
        """``/privacy``, ``/mijngegevens``, ``/wis`` (registered commands, before the engine)."""
        if event.name == SHOW_PRIVACY:
            await self.show_privacy(person, hint)
        elif event.name == EXPORT:
            await self.export_data(person, hint)
        else:
            await self.ask_erase(person, hint)

    async def _prompt_again(self, person: PersonId, session: Session | None, hint: str) -> None:
        """After a side trip: the open question again; someone without a conversation yet
        gets the welcome (as ``/start``), so nobody is left without a next step."""
        service = self.service
        if session is None:
            start = CommandReceived("start", "", service.clock.now())
            await service.handle(person, start, language_hint=hint)
            return
        await service.deliver(person, service.prompt_again(session))

    async def show_privacy(self, person: PersonId, hint: str) -> None:
        async with self.service.storage.transaction() as tx:
            session = await tx.sessions.get(person)
            current = await tx.consents.current(person)
        language = session.language if session is not None else self.service.language_for(hint)
        # In the person's channel's own words (the web chat does not speak of Telegram).
        notice = self.service.renderer_for(person).message([msg("privacy.full")], language)
        await self.service.deliver(person, [notice, self._overview(current, language)])
        await self._prompt_again(person, session, language)

    def _overview(self, current: Mapping[str, ConsentRecord], language: str) -> OutgoingMessage:
        parts: list[Msg] = [msg("privacy.consents.title")]
        rows: list[tuple[Button, ...]] = []
        for category_id, category in self.categories.items():
            record = current.get(category_id)
            if category.legacy and record is None:
                # The one consent for all sensitive domains from before: only for those who
                # gave or refused it, so they can still withdraw or see it.
                continue
            state: Msg
            if record is None:
                state = msg("privacy.consent.state.none")
            elif record.given:
                state = msg("privacy.consent.state.given", date=self._date(record.at))
            else:
                state = msg("privacy.consent.state.refused", date=self._date(record.at))
            label = self._label(category_id)
            parts.append(msg("privacy.consent.line", category=label, state=state))
            parts.append(self._about(category_id))
            if record is not None and record.given:
                action = msg("privacy.button.withdraw", category=label)
                value = button(f"withdraw:{category_id}")
            else:
                action = msg("privacy.button.give", category=label)
                value = button(f"give:{category_id}")
            rows.append((Button(action, value),))
        rows.append((Button(msg("privacy.button.export"), button("export")),))
        rows.append((Button(msg("privacy.button.erase"), button("erase")),))
        return self._message(parts, language, tuple(rows))

    # --- buttons --------------------------------------------------------------------------

    async def on_button(self, person: PersonId, event: ButtonPressed, hint: str) -> None:
        action, _, argument = event.value.partition("=")[2].partition(":")
        if action == "export":
            await self.export_data(person, hint)
        elif action == "erase" and argument == "":
            await self.ask_erase(person, hint)
        elif action == "erase" and argument == "yes":
            await self.erase(person, event.at, hint)
        elif action == "erase" and argument == "no":
            await self._say_and_prompt(person, msg("privacy.erase.kept"), hint, welcome=True)
        elif action in ("withdraw", "give") and argument in self.categories:
            await self.change_consent(
                person, self.categories[argument], action == "give", event.at, hint
            )
        else:
            # A button from an older version of the privacy screen.
            await self._say_and_prompt(person, msg("engine.stale_button"), hint)

    async def _session(self, person: PersonId) -> Session | None:
        async with self.service.storage.transaction() as tx:
            return await tx.sessions.get(person)

    async def _say_and_prompt(
        self, person: PersonId, said: Msg, hint: str, *, welcome: bool = False
    ) -> None:
        """``said``, then the open question; with ``welcome``, someone without a conversation
        gets the welcome after it."""
        session = await self._session(person)
        language = session.language if session is not None else self.service.language_for(hint)
        await self.service.deliver(person, [self._message([said], language)])
        if session is not None or welcome:
            await self._prompt_again(person, session, language)

    async def change_consent(
        self,
        person: PersonId,
        category: ConsentCategory,
        given: bool,
        at: datetime,
        hint: str,
    ) -> None:
        """Give or withdraw ``category`` from the ``/privacy`` buttons; effective at once. The
        session follows through the engine (:class:`ConsentChanged`) in the same transaction
        as the record; its messages (the question again, or the next one) are staged in the
        outbox with it (:mod:`bot.outbox`) and come after ours."""
        service = self.service
        async with service.person_lock(person):
            routed, told, staged = await self._change_consent_once(
                person, category, given, at, hint
            )
            if routed is None:
                await service.relay.deliver(person, [told], staged)
            else:
                follow = await service.finish(routed)
                await service.relay.deliver(person, [told, *follow], (*staged, *routed.staged_ids))
        log.info("consent changed person=%s category=%s", person, category.id)

    async def _change_consent_once(
        self, person: PersonId, category: ConsentCategory, given: bool, at: datetime, hint: str
    ) -> tuple[Routed | None, OutgoingMessage, tuple[int, ...]]:
        """One try of the change; the confirmation is written to the outbox with it, before
        the engine's messages (rows are sent oldest first)."""
        service = self.service
        for _attempt in range(3):
            try:
                async with service.storage.transaction() as tx:
                    session = await tx.sessions.get(person)
                    language = (
                        session.language if session is not None else service.language_for(hint)
                    )
                    shown = self._render(self._about(category.id), language)
                    await tx.consents.record(
                        ConsentRecord(
                            person, category.id, given, self.notice_version, text_hash(shown), at
                        )
                    )
                    said = msg(
                        "privacy.consent.given" if given else "privacy.consent.withdrawn",
                        category=self._label(category.id),
                    )
                    told = self._message([said], language)
                    staged = await service.relay.stage(tx, person, [told])
                    routed = None
                    if session is not None:
                        change = ConsentChanged(category, given, at)
                        done = await service.step(tx, person, change, language, after_flow=False)
                        assert isinstance(done, Routed)  # after_flow=False: the engine ran
                        routed = await service.stage(tx, done)
                    if not given:
                        await self._withdraw_elsewhere(tx, person, category)
                    return routed, told, staged
            except VersionConflict:
                continue
        raise RuntimeError("consent change kept conflicting")

    # --- /mijngegevens --------------------------------------------------------------------

    async def export_data(self, person: PersonId, hint: str) -> None:
        storage = self.service.storage
        now = self.service.clock.now()
        data: dict[str, JsonValue] = {}
        async with storage.transaction() as tx:
            session = await tx.sessions.get(person)
            for part in storage.personal_data_parts:
                data[part.name] = await part.export(tx, person)
            current = await tx.consents.current(person)
            await tx.privacy.add_count(self._month(now), EXPORT_METRIC)
        document: dict[str, JsonValue] = {
            "format": EXPORT_FORMAT,
            "exported_at": iso(now),
            "person": person,
            "notice_version": self.notice_version,
            "data": data,
        }
        content = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        language = session.language if session is not None else self.service.language_for(hint)
        stem = f"opstap-mijn-gegevens-{now.astimezone(ZoneInfo(self.timezone)):%Y-%m-%d}"
        lines = self._summary(data, current, session)
        summary = self._message(lines, language)
        await self.service.deliver(person, [summary])
        rendered = [self._render(line, language) for line in lines]
        pdf = summary_pdf(
            rendered[0],
            [row for text in rendered[1:] for row in text.split("\n")],
            rtl=self.service.translator.is_rtl(language),
            no_font_note=self._render(msg("privacy.export.pdf_note"), language),
        )
        pdf_caption = self._render(msg("privacy.export.pdf_caption"), language)
        await self.service.deliver_document(person, f"{stem}.pdf", pdf, pdf_caption)
        caption = self._render(msg("privacy.export.caption"), language)
        await self.service.deliver_document(person, f"{stem}.json", content, caption)
        log.info(
            "export sent person=%s parts=%d bytes=%d pdf=%d",
            person,
            len(data),
            len(content),
            len(pdf),
        )
        await self._prompt_again(person, session, language)

    def _summary(
        self,
        data: Mapping[str, JsonValue],
        current: Mapping[str, ConsentRecord],
        session: Session | None = None,
    ) -> list[Msg]:
        lines: list[Msg] = [msg("privacy.export.title")]
        if session is not None and session.flow == INTAKE and session.history:
            # Their answers as they saw them on the summary card, in their language.
            lines.append(msg("intake.summary.title"))
            lines.extend(summary_rows(session))
        else:
            stored = data.get("session")
            answers = stored.get("answers") if isinstance(stored, dict) else None
            count = (
                sum(1 for v in answers.values() if v != SKIPPED) if isinstance(answers, dict) else 0
            )
            lines.append(msg("privacy.export.answers", count=count))
        for category_id, record in current.items():
            state_id = (
                "privacy.consent.state.given" if record.given else ("privacy.consent.state.refused")
            )
            state = msg(state_id, date=self._date(record.at))
            lines.append(
                msg("privacy.consent.line", category=self._label(category_id), state=state)
            )
        reminders = data.get("reminders")
        pending = (
            sum(1 for r in reminders if isinstance(r, dict) and r.get("status") == "pending")
            if isinstance(reminders, list)
            else 0
        )
        lines.append(msg("privacy.export.reminders", count=pending))
        lines.extend(self._access_lines(data.get("data_access")))
        for name, value in data.items():
            if name in ("session", "reminders", "consents", "data_access"):
                continue
            size = len(value) if isinstance(value, list | dict) else int(value is not None)
            if size:
                lines.append(msg("privacy.export.other", part=self._part_label(name), count=size))
        lines.append(msg("privacy.export.file"))
        return lines

    def _part_label(self, name: str) -> Msg | Verbatim:
        # A feature names its part in its own catalog (``privacy.part.<name>``), so a new part
        # reads well here without a change to this module; without one, the name is shown.
        label = f"privacy.part.{name}"
        if self.service.translator.lookup(label, SOURCE_LANGUAGE) != label:
            return msg(label)
        return Verbatim(name)

    def _access_lines(self, accesses: JsonValue) -> list[Msg]:
        if not isinstance(accesses, list) or not accesses:
            return [msg("privacy.export.access.none")]
        lines: list[Msg] = []
        for entry in accesses:
            if not isinstance(entry, dict):
                continue
            when = entry.get("at")
            date = self._date(datetime.fromisoformat(when)) if isinstance(when, str) else ""
            params: dict[str, Param] = {
                "partnership": str(entry.get("partnership") or ""),
                "date": date,
            }
            if entry.get("action") == "viewed":
                params["coach"] = str(entry.get("coach") or "")
                lines.append(msg("privacy.export.access.viewed", **params))
            else:
                lines.append(msg("privacy.export.access.received", **params))
        return lines

    # --- /wis -----------------------------------------------------------------------------

    async def ask_erase(self, person: PersonId, hint: str) -> None:
        session = await self._session(person)
        language = session.language if session is not None else self.service.language_for(hint)
        buttons = (
            (Button(msg("privacy.erase.yes"), button("erase:yes")),),
            (Button(msg("privacy.erase.no"), button("erase:no")),),
        )
        asked = self._message([msg("privacy.erase.ask")], language, buttons, prompt=True)
        await self.service.deliver(person, [asked])

    async def erase(self, person: PersonId, at: datetime, hint: str) -> None:
        """Erase everything of ``person`` in one transaction, then tell them and their coach."""
        service = self.service
        storage = service.storage
        async with service.person_lock(person):
            async with storage.transaction() as tx:
                session = await tx.sessions.get(person)
                language = session.language if session is not None else service.language_for(hint)
                after = await self.notifier.case_erased(tx, person)
                rows = 0
                for part in storage.personal_data_parts:
                    rows += await part.erase(tx, person)
                await tx.privacy.add_count(self._month(at), ERASURE_METRIC)
                # After every part erased: the neutral confirmation (no answer, no name) is
                # the only row of the person, so a crash after the commit cannot lose it.
                done = self._message([msg("privacy.erase.done")], language)
                staged = await service.relay.stage(tx, person, [done])
            service.forget(person)
        # Deliberately without the person id: the log must not remember whom it erased.
        log.info("personal data erased rows=%d", rows)
        unsent: Exception | None = None
        try:
            await self._confirm_erased(person, done, staged)
        except Exception as error:
            # Raised after the scrub and the coach's message, which do not wait for it.
            unsent = error
        try:
            # No copy in the WAL, free pages or dead rows (storage.scrub); the daily
            # retention run tries again when this one could not.
            await storage.scrub()
        except Exception as error:
            log.error("scrub after erasure failed error=%s", describe(error))
        if after is not None:
            try:
                await after()
            except Exception as error:
                log.error("telling the coach about an erasure failed error=%s", describe(error))
        if unsent is not None:
            raise unsent

    async def _confirm_erased(
        self, person: PersonId, done: OutgoingMessage, staged: tuple[int, ...]
    ) -> None:
        """Send the erasure's confirmation from the outbox and delete its row at once (not with
        the relay's batch), before the scrub: after an erasure no row holds the chat id, and no
        copy of it stays in the WAL or dead rows. A failed send is not retried (the erasure
        wins; the error goes up, after the scrub). Only a crash before this leaves the row: the next
        start's sweep sends it and deletes it at once, the daily retention run scrubs."""
        service = self.service
        if not service.relay.can_send(person):
            # Another process has the channel: the row is its to send (and delete).
            await service.relay.deliver(person, [done], staged)
            return
        try:
            await service.relay.deliver(person, [done], staged)
        except Exception:
            await self._remove_now(staged)
            raise
        # Not on a cancellation (a stop while sending): then the row waits for the next start.
        await self._remove_now(staged)

    async def _remove_now(self, staged: tuple[int, ...]) -> None:
        try:
            async with self.service.storage.transaction() as tx:
                await tx.outbox.remove(staged)
        except Exception as error:
            # Left to the relay's batch (it was marked sent) and the daily scrub.
            log.error("erasure confirmation row not deleted error=%s", describe(error))
