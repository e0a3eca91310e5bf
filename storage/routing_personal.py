"""The :class:`storage.ports.PersonalData` part of the routing tables (cases, offers, relay).

Rules of this module (those of :mod:`storage.personal` apply): written against the ports only;
registered on ``storage.personal_data_parts`` by ``bot/coach/wiring.py``.

* Export: every case of the person with its card answers, offers (which coach, when) and the
  messages, decrypted.
* Erase: the cases with their offers and messages.
* Retention: a closed case is deleted ``RetentionPolicy.closed_months`` after it closed; the
  anonymous trace of an erased case (``erased_cases``) as long after its erasure.
* Withdrawing the consent for sensitive domains removes those ratings and help wishes from the
  card answers of every case (:func:`flows.routing.card.card_answers` with consent "no").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.ids import PersonId
from flows.intake.domains import CONSENT_DOMAINS, consent_key
from flows.routing.card import card_answers
from flows.session import JsonValue
from storage.personal import iso
from storage.ports import RetentionPolicy, Transaction


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


@dataclass(frozen=True)
class CasePart:
    name: str = "cases"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        found: list[JsonValue] = []
        for case in await tx.cases.all_of(person):
            offers: list[JsonValue] = [
                {
                    "coach": o.coach,
                    "status": o.status,
                    "sent_at": iso(o.sent_at),
                    "deadline_at": iso(o.deadline_at),
                    "answered_at": _iso(o.answered_at),
                }
                for o in await tx.cases.offers_of(case.id)
            ]
            messages: list[JsonValue] = [
                {"direction": m.direction, "text": m.text, "at": iso(m.at)}
                for m in await tx.cases.messages_of(case.id)
            ]
            found.append(
                {
                    "case": case.id,
                    "partnership": case.partnership,
                    "municipality_nis": case.municipality_nis,
                    "language": case.language,
                    "status": case.status,
                    "coach": case.coach,
                    "outcome": case.outcome,
                    "intake": case.intake,
                    "created_at": iso(case.created_at),
                    "accepted_at": _iso(case.accepted_at),
                    "closed_at": _iso(case.closed_at),
                    "reopened": case.reopened,
                    "escalated_at": _iso(case.escalated_at),
                    "fallback_at": _iso(case.fallback_at),
                    "offers": offers,
                    "messages": messages,
                }
            )
        return found

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx.cases.erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        before = policy.closed_before(now)
        return await tx.cases.purge_closed(before) + await tx.cases.purge_erased(before)

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        if category not in CONSENT_DOMAINS:
            return 0
        dropped = 0
        for case in await tx.cases.all_of(person):
            kept = card_answers({**case.intake, consent_key(category): "no"})
            if kept != case.intake:
                dropped += len(case.intake) - len(kept) + 1
                await tx.cases.set_intake(case.id, kept)
        return dropped
