"""The handover card a coach gets in Telegram, and the tag that ties coach messages to a case.

Rules of this module:

* Coaches read Dutch: the card is rendered in ``nl`` from ``coach.*`` and the intake's own labels
  (domain names, help wishes, contact ways), whatever the young person's language.
* What the card may show was decided when the case was made (:func:`flows.routing.card.
  card_answers`: sensitive domains only with consent) and by the stage (:func:`flows.routing.
  card.card_view`): an offered coach gets :meth:`CardWriter.card` (domains, language, place,
  urgency, preferred way of contact; no name, phone, e-mail or own words), the coach who accepted
  gets :meth:`CardWriter.details`. A card whose offer is over is edited to
  :meth:`CardWriter.redacted`; after ``/wis`` to :meth:`CardWriter.erased` where it can no longer
  be deleted.
* Every message to a coach about a case starts with ``📁 Dossier #<n>`` (:func:`case_tag`), so a
  reply to any of them finds the case again (:func:`case_in`). A card longer than Telegram's
  4096 characters is split at paragraph, line, then word boundaries into parts that each carry
  the tag and their number; the buttons go under the last part.
* Buttons carry ``case=<n>:accept`` / ``case=<n>:decline`` (well under 64 bytes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.i18n import Translator
from bot.render import Buttons, Renderer
from bot.service import OutgoingMessage
from bot.splitting import MAX_TEXT, split_text
from flows.intake.contact import format_phone
from flows.intake.domains import CONSENT_CATEGORIES, DOMAIN_IDS, consent_key, domain
from flows.intake.flow import CONTACTS, HELPS, MOMENTS
from flows.routing.card import card_view, rated_domains, urgency
from flows.session import JsonValue
from flows.text import Msg, Param, Verbatim, msg
from storage.routing_port import CaseRecord, OfferRecord

COACH_LANGUAGE = "nl"
CASE_BUTTONS = "case"
_TAG = re.compile(r"Dossier #(\d{1,9})\b")
_FACES = {"1": "1😟", "2": "2🙁", "3": "3😐", "4": "4🙂", "5": "5😄"}
# Per consent category and whether it was given: what the card says about it.
_CONSENT_LINES = {
    ("health", True): "coach.card.consent.health.yes",
    ("health", False): "coach.card.consent.health.no",
    ("addiction", True): "coach.card.consent.addiction.yes",
    ("addiction", False): "coach.card.consent.addiction.no",
    ("justice", True): "coach.card.consent.justice.yes",
    ("justice", False): "coach.card.consent.justice.no",
}
# Room for the part header ("📁 Dossier #123456 (2/3)") above a chunk.
_HEADER_ROOM = 48


def case_tag(case_id: str) -> str:
    return f"📁 Dossier #{case_id}"


def case_in(text: str | None) -> str | None:
    """The case a message is about: its ``Dossier #n``. ``None`` when it names none, or
    several (a list of cases): a reply to it must not be guessed onto one young person."""
    found = set(_TAG.findall(text or ""))
    return found.pop() if len(found) == 1 else None


def case_button(case_id: str, action: str) -> str:
    return f"{CASE_BUTTONS}={case_id}:{action}"


class CardWriter:
    """Writes coach texts in Dutch; every message goes out through :meth:`Renderer.team`
    (``bot/render.py``, the one place that makes an :class:`OutgoingMessage`)."""

    def __init__(self, translator: Translator) -> None:
        self.translator = translator
        self.renderer = Renderer(translator)

    def text(self, message_id: str, **params: Param) -> str:
        return self.translator.render(msg(message_id, **params), COACH_LANGUAGE)

    def say(self, message_id: str, **params: Param) -> OutgoingMessage:
        """One coach text as a team message."""
        return self.renderer.team([msg(message_id, **params)])

    def team(self, text: str, buttons: Buttons = ()) -> OutgoingMessage:
        """Text this writer assembled (a card, a list) as a team message."""
        return self.renderer.team([Verbatim(text)], buttons)

    def label(self, message: Msg) -> str:
        return self.translator.render(message, COACH_LANGUAGE)

    def domain(self, domain_id: str) -> str:
        return self.label(msg(f"intake.domain.{domain_id}.label"))

    def young_name(self, intake: Mapping[str, JsonValue]) -> str:
        name = intake.get("name")
        return name if isinstance(name, str) and name.strip() else self.text("coach.card.nameless")

    # --- the card -------------------------------------------------------------------------

    def card(self, case: CaseRecord, offer: OfferRecord, deadline: str) -> list[OutgoingMessage]:
        """The card of an offer: only what a coach needs to decide."""
        intake = card_view(case.intake, "offer")
        paragraphs = [
            self.text(self._title(offer), case=case.id),
            self.text(f"coach.card.urgency.{urgency(intake)}"),
            self._topics(intake),
            self._ratings(intake),
            self._where(intake, case.language),
            self._consent(intake),
            self.text("coach.card.hidden"),
            self._why(offer.reasons),
            self.text("coach.card.deadline", when=Verbatim(deadline)),
        ]
        body = "\n\n".join(p for p in paragraphs if p)
        buttons = (
            (
                (self.text("coach.card.accept"), case_button(case.id, "accept")),
                (self.text("coach.card.decline"), case_button(case.id, "decline")),
            ),
        )
        return split_card(body, case.id, buttons, self.renderer)

    def details(self, case: CaseRecord) -> list[OutgoingMessage]:
        """Everything the coach of the case may see, once they accepted it."""
        intake = card_view(case.intake, "accepted")
        paragraphs = [
            self.text("coach.card.title.details", case=case.id),
            self._who(intake),
            self.text(f"coach.card.urgency.{urgency(intake)}"),
            self._words(intake),
            self._ratings(intake),
            self._help(intake),
            self._contact(intake, case.language),
            self._consent(intake),
        ]
        body = "\n\n".join(p for p in paragraphs if p)
        return split_card(body, case.id, (), self.renderer)

    def redacted(self, case_id: str) -> str:
        """A card whose offer is over: the number stays, the details go."""
        return self.text("coach.card.redacted", case=case_id)

    def erased(self, case_id: str) -> str:
        """A message about a case erased on the young person's request."""
        return self.text("coach.card.erased", case=case_id)

    def _topics(self, intake: Mapping[str, JsonValue]) -> str:
        named = intake.get("domains")
        if not isinstance(named, list) or not named:
            return ""
        names = ", ".join(self.domain(str(d)) for d in named)
        return self.text("coach.card.topics", domains=Verbatim(names))

    def _where(self, intake: Mapping[str, JsonValue], language: str) -> str:
        place = intake.get("place_label")
        way = intake.get("contact")
        how = (
            self.label(CONTACTS[way])
            if isinstance(way, str) and way in CONTACTS
            else (self.text("coach.card.unknown"))
        )
        return self.text(
            "coach.card.where",
            place=Verbatim(place if isinstance(place, str) else self.text("coach.card.unknown")),
            language=Verbatim(self.text(f"coach.language.{language}")),
            how=Verbatim(how),
        )

    def _title(self, offer: OfferRecord) -> str:
        if offer.reasons.get("decided_by") == "escalation":
            return "coach.card.title.escalation"
        return "coach.card.title"

    def _who(self, intake: Mapping[str, JsonValue]) -> str:
        age = intake.get("age")
        age_text = (
            self.text("coach.card.age", age=age)
            if isinstance(age, int)
            else self.text("coach.card.unknown")
        )
        place = intake.get("place_label")
        place_text = place if isinstance(place, str) else self.text("coach.card.unknown")
        return self.text(
            "coach.card.who",
            name=Verbatim(self.young_name(intake)),
            age=Verbatim(age_text),
            place=Verbatim(place_text),
        )

    def _words(self, intake: Mapping[str, JsonValue]) -> str:
        words = intake.get("own_words")
        if not isinstance(words, str) or words == "dont_know":
            return self.text("coach.card.words.none")
        return self.text("coach.card.words", text=Verbatim(words))

    def _ratings(self, intake: Mapping[str, JsonValue]) -> str:
        rated = rated_domains(intake)
        if not rated:
            return self.text("coach.card.ratings.none")
        items = []
        for item in rated:
            score = _FACES.get(item.rating) or self.text(f"coach.rating.{item.rating}")
            # The young person's own words for the domain, and the ZRM 2017 domain(s) it
            # belongs to: a self-rating, not the coach's ZRM score.
            zrm = "/".join(domain(item.domain).zrm) if item.domain in DOMAIN_IDS else ""
            label = f"{self.domain(item.domain)} (ZRM: {zrm})" if zrm else self.domain(item.domain)
            items.append(f"{label} {score}")
        return self.text("coach.card.ratings", line=Verbatim(" · ".join(items)))

    def _help(self, intake: Mapping[str, JsonValue]) -> str:
        lines = []
        for item in rated_domains(intake):
            if item.help is None:
                continue
            wish = self.label(HELPS[item.help]) if item.help in HELPS else item.help
            lines.append(
                self.text(
                    "coach.card.help",
                    domain=Verbatim(self.domain(item.domain)),
                    help=Verbatim(wish),
                )
            )
        return "\n".join(lines)

    def _contact(self, intake: Mapping[str, JsonValue], language: str) -> str:
        way = intake.get("contact")
        how = (
            self.label(CONTACTS[way])
            if isinstance(way, str) and way in CONTACTS
            else (self.text("coach.card.unknown"))
        )
        phone, email = intake.get("contact_phone"), intake.get("contact_email")
        if way == "phone" and isinstance(phone, str):
            how = f"{how}: {format_phone(phone)}"
        elif way == "email" and isinstance(email, str):
            how = f"{how}: {email}"
        moment = intake.get("moment")
        when = (
            self.label(MOMENTS[moment])
            if isinstance(moment, str) and moment in MOMENTS
            else (self.text("coach.card.unknown"))
        )
        return self.text(
            "coach.card.contact",
            how=Verbatim(how),
            moment=Verbatim(when),
            language=Verbatim(self.text(f"coach.language.{language}")),
        )

    def _consent(self, intake: Mapping[str, JsonValue]) -> str:
        asked = {c: intake.get(consent_key(c)) for c in CONSENT_CATEGORIES}
        if any(v in ("yes", "no") for v in asked.values()):
            return "\n".join(
                self.text(_CONSENT_LINES[(c, v == "yes")])
                for c, v in asked.items()
                if v in ("yes", "no")
            )
        consent = intake.get("consent_sensitive")
        if consent == "yes":
            return self.text("coach.card.consent.yes")
        if consent == "no":
            return self.text("coach.card.consent.no")
        return self.text("coach.card.consent.none")

    def _why(self, reasons: Mapping[str, JsonValue]) -> str:
        decided = reasons.get("decided_by")
        parts = [self.text(f"coach.why.by.{decided}")] if isinstance(decided, str) else []
        expertise = reasons.get("expertise")
        if isinstance(expertise, list) and expertise:
            names = ", ".join(self.domain(str(d)) for d in expertise)
            parts.append(self.text("coach.why.expertise", domains=Verbatim(names)))
        language = reasons.get("language")
        if isinstance(language, str) and language != COACH_LANGUAGE:
            parts.append(
                self.text(
                    "coach.why.language", language=Verbatim(self.text(f"coach.language.{language}"))
                )
            )
        load, capacity = reasons.get("load"), reasons.get("capacity")
        if isinstance(load, int) and isinstance(capacity, int) and decided != "escalation":
            parts.append(self.text("coach.why.load", load=load, capacity=capacity))
        return self.text("coach.card.why", reasons=Verbatim(" · ".join(parts)))


def split_card(
    body: str,
    case_id: str,
    buttons: tuple[tuple[tuple[str, str], ...], ...],
    renderer: Renderer,
    limit: int = MAX_TEXT,
) -> list[OutgoingMessage]:
    """``body`` as team messages of at most ``limit`` characters, each tagged with the case."""
    if len(body) <= limit:
        return [renderer.team([Verbatim(body)], buttons)]
    chunks = split_text(body, limit - _HEADER_ROOM)
    total = len(chunks)
    messages = []
    for index, chunk in enumerate(chunks, start=1):
        if index == 1:
            # The first part starts with the card's title, which carries the tag already.
            text = f"{chunk}\n\n({index}/{total})"
        else:
            text = f"{case_tag(case_id)} ({index}/{total})\n\n{chunk}"
        messages.append(renderer.team([Verbatim(text)], buttons if index == total else ()))
    return messages
