"""The warm handover to VDAB: a summary the young person agrees to, then a PDF for VDAB.

Rules of this module:

* The coach prepares it in Telegram: ``/overdracht N`` with one line per part below it (a life
  domain and what was achieved there, ``Doelen``, ``Stappen``, ``Contact``); without text the
  desk shows an example. Only the case's own coach, only for an open case. A line that names
  none of these is refused and quoted back to the coach, never guessed.
* The young person reads it in the chat first (Telegram or the web chat), in their language
  (the headings and domain names are translated; the coach's words are theirs), with buttons:
  agree (``ovd=<id>:yes``) or ask for changes (``ovd=<id>:change``). Nothing goes to VDAB
  before "yes". The answer is a compare-and-set: a second press changes nothing, and only the
  newest version of a case's handover can be agreed to. Changes: what the young person types
  next goes to the coach through the relay, and the coach sends a new ``/overdracht``.
* After "yes" the summary is rendered as a PDF (Dutch, for VDAB; :func:`bot.export_pdf.
  summary_pdf`, DejaVu Sans) and recorded with the case (``handovers``, encrypted), in the
  answer's transaction. It goes to the partnership's VDAB jongerenconsulent from the directory
  (``vdab``): by Telegram when the directory has their chat, otherwise it waits on the
  dashboard's case page for the coordinator. The coach is told which; the young person is told
  who will contact them.
* What a change causes is written to the outbox in its transaction (:mod:`bot.outbox`) and
  sent after the commit: the proposal and the coach's "asked", the answer's messages, and the
  PDF for VDAB as a row that names the handover by id (``OutgoingMessage.attachment``; never
  the file): :meth:`HandoverDesk.send_document` (the sender ``via`` :data:`HANDOVER_VIA`)
  loads it from ``handovers`` when it sends, and sends nothing when the handover was erased.
  A PDF that VDAB's chat refuses (an error, or a chat that blocked the bot) is tried again by
  the outbox; when the outbox gives it up (:meth:`HandoverDesk.undelivered`, registered with
  ``Registry.undelivered``), in that same transaction the handover is marked
  ``telegram_failed`` (the case page says it did not arrive) and the coach who made it is told
  in Dutch that the PDF is on the case page, to pass on another way.
* Logs hold case, coach and handover ids only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.coach.desk import CaseMoment
from bot.coach.files import FileChats
from bot.coach.handoff import COACH_VIA, Handoff, Outbox
from bot.delivery import NoChannel
from bot.export_pdf import summary_pdf
from bot.outbox import Staged
from bot.render import Attachment
from bot.service import OutgoingMessage
from flows.effects import Button
from flows.ids import CaseId, PersonId
from flows.inputs import ButtonPressed, CommandReceived
from flows.intake.domains import DOMAIN_IDS
from flows.session import JsonValue
from flows.text import Verbatim, msg
from storage.handovers_port import HANDOVERS_KEY, HandoverDelivery, HandoverRecord
from storage.ports import Transaction
from storage.routing_port import CaseRecord, CoachRecord

log = logging.getLogger(__name__)

HANDOVER_BUTTONS = "ovd"
# Outbox rows of a handover's PDF for VDAB are sent by :meth:`HandoverDesk.send_document`.
HANDOVER_VIA = "handover"


class DocumentRefused(RuntimeError):
    """VDAB's chat did not take the PDF (it blocked the bot): the outbox tries again."""


COMMAND = "overdracht"
MAX_PART = 600
_LINE = re.compile(r"^\s*([^:]{2,40}):\s*(.+?)\s*$")
_GOALS = frozenset({"doelen", "doel", "eigen doelen"})
_STEPS = frozenset({"stappen", "volgende stappen", "afspraken", "next steps"})
_CONTACT = frozenset({"contact", "contactvoorkeur"})
_GENERAL = frozenset({"bereikt", "algemeen"})
# The coach's names of the parts of a handover (a missing one is named).
_PARTS = {
    "achieved": "coach.handover.part.achieved",
    "goals": "coach.handover.part.goals",
    "steps": "coach.handover.part.steps",
    "contact": "coach.handover.part.contact",
}
# Words of a domain's Dutch label a coach may start a line with ("Werk", "School", "Geld").
_MIN_WORD = 4


@dataclass(frozen=True)
class Draft:
    """What the coach wrote, sorted into the parts of a handover."""

    achieved: tuple[tuple[str | None, str], ...]
    goals: str | None
    steps: str | None
    contact: str | None

    def missing(self) -> tuple[str, ...]:
        parts = []
        if not self.achieved:
            parts.append("achieved")
        for name in ("goals", "steps", "contact"):
            if getattr(self, name) is None:
                parts.append(name)
        return tuple(parts)

    def as_json(self) -> dict[str, JsonValue]:
        return {
            "achieved": [{"domain": d, "text": t} for d, t in self.achieved],
            "goals": self.goals,
            "steps": self.steps,
            "contact": self.contact,
        }


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass
class HandoverDesk:
    """The handover: the coach desk's ``/overdracht`` (a :class:`bot.coach.desk.DeskExtension`)
    and the young person's ``ovd=`` buttons (a service button handler)."""

    handoff: Handoff

    def __post_init__(self) -> None:
        # The PDF for VDAB waits in the outbox by id; this loads and sends it.
        self.handoff.service.relay.senders[HANDOVER_VIA] = self.send_document

    # --- texts ----------------------------------------------------------------------------

    def _domain_words(self) -> dict[str, str]:
        words: dict[str, str] = {}
        writer = self.handoff.writer
        for domain in DOMAIN_IDS:
            label = _norm(writer.domain(domain))
            words[label] = domain
            for word in re.findall(r"\w+", label):
                if len(word) >= _MIN_WORD:
                    words.setdefault(word, domain)
        return words

    def parse(self, text: str) -> Draft | str:
        """The coach's lines as a :class:`Draft`, or the first line that fits no part."""
        words = self._domain_words()
        achieved: list[tuple[str | None, str]] = []
        goals = steps = contact = None
        for raw in text.splitlines():
            if not raw.strip():
                continue
            found = _LINE.match(raw)
            if found is None:
                return raw.strip()
            label, value = _norm(found.group(1)), found.group(2)[:MAX_PART]
            if label in _GOALS:
                goals = value if goals is None else f"{goals} {value}"
            elif label in _STEPS:
                steps = value if steps is None else f"{steps} {value}"
            elif label in _CONTACT:
                contact = value if contact is None else f"{contact} {value}"
            elif label in _GENERAL:
                achieved.append((None, value))
            elif label in words:
                achieved.append((words[label], value))
            else:
                return raw.strip()
        return Draft(tuple(achieved), goals, steps, contact)

    def lines(self, summary: dict[str, JsonValue], language: str) -> list[str]:
        """The summary as lines in ``language`` (headings translated, the coach's words as
        written); the same lines make the PDF in Dutch."""
        render = self.handoff.service.translator.render
        out = [render(msg("handover.achieved"), language)]
        achieved = summary.get("achieved")
        for item in achieved if isinstance(achieved, list) else []:
            if not isinstance(item, dict):
                continue
            domain, text = item.get("domain"), item.get("text")
            label = (
                render(msg(f"intake.domain.{domain}.label"), language)
                if isinstance(domain, str) and domain in DOMAIN_IDS
                else render(msg("handover.achieved.general"), language)
            )
            out.append(f"• {label}: {text}")
        for key, heading in (
            ("goals", "handover.goals"),
            ("steps", "handover.steps"),
            ("contact", "handover.contact"),
        ):
            value = summary.get(key)
            out += ["", render(msg(heading), language), f"{value}"]
        return out

    # --- the coach: /overdracht -----------------------------------------------------------

    @property
    def commands(self) -> frozenset[str]:
        return frozenset({COMMAND})

    async def command(self, coach: CoachRecord, command: CommandReceived) -> Outbox | Staged:
        me = coach.person
        if me is None:
            return []
        writer = self.handoff.writer
        number, _, text = command.args.strip().partition("\n")
        number, _, first = number.strip().partition(" ")
        text = f"{first}\n{text}".strip()
        if not number.isdigit() or not text:
            return [(me, writer.say("coach.handover.how"))]
        case_id = CaseId(number)
        async with self.handoff.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
        if case is None or case.coach != coach.id:
            return [(me, writer.say("coach.case.unknown", case=case_id))]
        if case.status != "open":
            return [(me, writer.say("coach.case.closed", case=case_id))]
        name = Verbatim(writer.young_name(case.intake))
        draft = self.parse(text)
        if isinstance(draft, str):
            line = Verbatim(draft[:80])
            return [
                (
                    me,
                    writer.say("coach.handover.unknown_line", case=case.id, line=line),
                )
            ]
        missing = draft.missing()
        if missing:
            parts = ", ".join(writer.text(_PARTS[m]) for m in missing)
            text_id = "coach.handover.missing"
            return [(me, writer.say(text_id, case=case.id, parts=Verbatim(parts)))]
        now = self.handoff.service.clock.now()
        summary = draft.as_json()
        async with self.handoff.service.storage.transaction() as tx:
            handover_id = await tx[HANDOVERS_KEY].add(case.id, case.person, coach.id, summary, now)
            if coach.current_case != case.id:
                await tx.coaches.set_current_case(coach.id, case.id)
            staged = await self.handoff.service.relay.stage_for(
                tx,
                [
                    (case.person, self._proposal(handover_id, summary, case.language, coach)),
                    (me, writer.say("coach.handover.asked", case=case.id, name=name)),
                ],
                via=COACH_VIA,
                about=case.person,
            )
        log.info("handover proposed case=%s coach=%s handover=%s", case.id, coach.id, handover_id)
        return staged

    def _proposal(
        self, handover_id: int, summary: dict[str, JsonValue], language: str, coach: CoachRecord
    ) -> OutgoingMessage:
        who = Verbatim(coach.first_name)
        # The summary's lines are made already (shared with the PDF); the rest is rendered here.
        body = Verbatim("\n".join(self.lines(summary, language)))
        parts = (msg("handover.intro", coach=who), body, msg("handover.question", coach=who))
        buttons = (
            (Button(msg("handover.button.yes"), f"{HANDOVER_BUTTONS}={handover_id}:yes"),),
            (Button(msg("handover.button.change"), f"{HANDOVER_BUTTONS}={handover_id}:change"),),
        )
        return self.handoff.service.renderer.message(parts, language, buttons)

    async def after(
        self, coach: CoachRecord, case_id: CaseId, moment: CaseMoment, outbox: Outbox
    ) -> Outbox:
        return outbox

    # --- the young person: agree or ask for changes ---------------------------------------

    async def on_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        """The ``ovd=<id>:yes|change`` buttons (a :data:`bot.plugins.ButtonHandler`)."""
        _, _, rest = event.value.partition("=")
        number, _, answer = rest.partition(":")
        if not number.isdigit() or answer not in ("yes", "change"):
            return
        service = self.handoff.service
        now = service.clock.now()
        async with service.person_lock(person):
            async with service.storage.transaction() as tx:
                handover = await tx[HANDOVERS_KEY].get(int(number))
                case = None if handover is None else await tx.cases.get(handover.case_id)
                coach = (
                    None if case is None or case.coach is None else await tx.coaches.get(case.coach)
                )
                if handover is None or case is None or handover.person != person:
                    return
                language = case.language
                latest = await tx[HANDOVERS_KEY].latest_of_case(case.id)
                # Only the newest version can be agreed to: an older one's buttons are stale.
                newest = latest is not None and latest.id == handover.id
                answered = newest and await tx[HANDOVERS_KEY].answer(
                    handover.id, "agreed" if answer == "yes" else "changes", now
                )
                if not newest:
                    await tx[HANDOVERS_KEY].answer(handover.id, "changes", now)
                outbox: Outbox = (
                    []
                    if answered
                    else [(person, self.handoff.say(language, msg("handover.stale")))]
                )
                # What the answer causes is written with it: the PDF recorded, the document
                # for VDAB (by id), the young person's and the coach's messages.
                staged: list[Staged] = []
                if answered and coach is not None:
                    if answer == "yes":
                        staged = await self._deliver(tx, handover, case, coach, now)
                    else:
                        changes = self._changes(case, coach)
                        staged = [
                            await service.relay.stage_for(
                                tx, changes, via=COACH_VIA, about=case.person
                            )
                        ]
            if answered and coach is not None:
                log.info(
                    "handover answered case=%s handover=%s answer=%s", case.id, handover.id, answer
                )
        await self.handoff.send(outbox)
        for written in staged:
            await self.handoff.send(written)

    def _changes(self, case: CaseRecord, coach: CoachRecord) -> Outbox:
        writer = self.handoff.writer
        name = Verbatim(writer.young_name(case.intake))
        young = self.handoff.say(
            case.language, msg("handover.change", coach=Verbatim(coach.first_name))
        )
        out: Outbox = [(case.person, young)]
        if coach.person is not None:
            note = writer.text("coach.handover.changes", case=case.id, name=name)
            out.append((coach.person, writer.team(note)))
        return out

    def render_pdf(
        self, handover: HandoverRecord, case: CaseRecord, coach: CoachRecord, agreed: datetime
    ) -> bytes:
        """The handover as a PDF in Dutch (VDAB's language)."""
        writer = self.handoff.writer
        partnership = self.handoff.directory.partnership(case.partnership)
        local = agreed.astimezone(ZoneInfo(self.handoff.timezone))
        lines = [
            writer.text("coach.handover.pdf.young", name=Verbatim(writer.young_name(case.intake))),
            writer.text(
                "coach.handover.pdf.coach",
                coach=Verbatim(coach.first_name),
                organisation=Verbatim(coach.organisation or "-"),
                partnership=Verbatim(partnership.name if partnership else case.partnership),
            ),
            writer.text("coach.handover.pdf.agreed", date=Verbatim(local.strftime("%d/%m/%Y"))),
            "",
            *self.lines(handover.summary, "nl"),
        ]
        return summary_pdf(
            writer.text("coach.handover.pdf.title"),
            lines,
            rtl=False,
            no_font_note=writer.text("coach.handover.pdf.no_font"),
        )

    async def _deliver(
        self,
        tx: Transaction,
        handover: HandoverRecord,
        case: CaseRecord,
        coach: CoachRecord,
        now: datetime,
    ) -> list[Staged]:
        """In the transaction of the young person's "yes": the PDF recorded with the handover,
        the document for VDAB's chat (named by the handover's id: :meth:`send_document` loads
        it when it sends) and the messages to the young person and the coach, written to the
        outbox; returned in the order they go out (the document first)."""
        writer = self.handoff.writer
        name = Verbatim(writer.young_name(case.intake))
        pdf = self.render_pdf(handover, case, coach, now)
        partnership = self.handoff.directory.partnership(case.partnership)
        vdab = partnership.vdab if partnership is not None else None
        delivery: HandoverDelivery = "dashboard"
        relay = self.handoff.service.relay
        staged: list[Staged] = []
        if vdab is not None and vdab.telegram_chat is not None:
            delivery = "telegram"
            caption = msg(
                "coach.handover.for_vdab",
                partnership=Verbatim(partnership.name if partnership else case.partnership),
                name=name,
            )
            document = self.handoff.service.renderer.team(
                [caption], attachment=Attachment("handover", handover.id)
            )
            vdab_chat = PersonId(f"tg:{vdab.telegram_chat}")
            staged.append(
                await relay.stage_for(
                    tx, [(vdab_chat, document)], via=HANDOVER_VIA, about=case.person
                )
            )
        contact = vdab.name if vdab is not None else "VDAB"
        await tx[HANDOVERS_KEY].delivered(handover.id, pdf, contact, delivery, now)
        await tx.privacy.add_count(self.handoff.month(now), f"handovers.{delivery}")
        log.info("handover delivered case=%s handover=%s by=%s", case.id, handover.id, delivery)
        if vdab is None:
            young = msg("handover.agreed.unknown", coach=Verbatim(coach.first_name))
            note = writer.text("coach.handover.no_contact", case=case.id, name=name)
        else:
            young = msg("handover.agreed", contact=Verbatim(vdab.name))
            text_id = (
                "coach.handover.sent_telegram"
                if delivery == "telegram"
                else "coach.handover.on_dashboard"
            )
            note = writer.text(text_id, case=case.id, name=name, contact=Verbatim(vdab.name))
        out: Outbox = [(case.person, self.handoff.say(case.language, young))]
        if coach.person is not None:
            out.append((coach.person, writer.team(note)))
        staged.append(await relay.stage_for(tx, out, via=COACH_VIA, about=case.person))
        return staged

    async def send_document(self, person: PersonId, message: OutgoingMessage) -> None:
        """An outbox row of a handover's PDF for VDAB (``Relay.senders``): the PDF is loaded
        from the handover the row names (erased with the case: then nothing is sent); the
        row's text is its caption. Raises when it did not go (the row waits for the sweep)."""
        attachment = message.attachment
        if attachment is None or attachment.kind != "handover":
            raise LookupError("not a handover document")
        async with self.handoff.service.storage.transaction() as tx:
            handover = await tx[HANDOVERS_KEY].get(attachment.id)
        if handover is None or handover.pdf is None:
            log.info("handover document gone handover=%s", attachment.id)
            return
        chats = self.handoff.chats
        if not isinstance(chats, FileChats):
            raise NoChannel(person.split(":", 1)[0])
        if not await chats.deliver_file(person, "document", handover.pdf, message.text):
            # The chat blocked the bot: not sent, so the row is tried again and, when the
            # outbox gives it up, :meth:`undelivered` says so.
            raise DocumentRefused(f"handover={attachment.id}")
        log.info("handover document sent case=%s handover=%s", handover.case_id, handover.id)

    async def undelivered(
        self, tx: Transaction, person: PersonId, message: OutgoingMessage
    ) -> Staged | None:
        """The outbox gave up the PDF for VDAB (a :data:`bot.plugins.Undelivered` hook, in the
        transaction that drops the row): the handover is marked ``telegram_failed`` and the
        coach who made it is told that the PDF is on the case page. Nothing when the handover
        was erased or marked already."""
        attachment = message.attachment
        if attachment is None or attachment.kind != "handover":
            return None
        handovers = tx[HANDOVERS_KEY]
        handover = await handovers.get(attachment.id)
        if handover is None or not await handovers.undelivered(handover.id):
            return None
        now = self.handoff.service.clock.now()
        await tx.privacy.add_count(self.handoff.month(now), "handovers.telegram_failed")
        log.warning(
            "handover document not delivered case=%s handover=%s", handover.case_id, handover.id
        )
        case = await tx.cases.get(handover.case_id)
        coach = await tx.coaches.get(handover.coach)
        if case is None or coach is None or coach.person is None:
            return None
        writer = self.handoff.writer
        note = writer.text(
            "coach.handover.not_arrived",
            case=case.id,
            name=Verbatim(writer.young_name(case.intake)),
            contact=Verbatim(handover.contact or "VDAB"),
        )
        return await self.handoff.service.relay.stage_for(
            tx, [(coach.person, writer.team(note))], via=COACH_VIA, about=case.person
        )
