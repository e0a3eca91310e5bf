"""The :class:`storage.ports.PersonalData` parts of the core tables.

Rules of this module:

* Written against the ports only, so the same parts serve SQL and memory storage.
  :func:`core_parts` is what every storage starts with; a feature that adds a table with
  personal data appends its own part to ``storage.personal_data_parts`` (in ``bot/runtime.py``)
  and lists its columns in ``docs/data-inventory.yaml``.
* Exports are JSON values: datetimes as ISO 8601 UTC strings, everything decrypted (it is the
  person's own data, sent only to their own private chat).
* A part's ``withdraw`` drops what depends on a consent category in its own table. The session
  answers are withdrawn by ``bot/privacy.py`` under the person's lock (it needs the flow), and
  dependent reminders are cancelled there too, so the core parts have nothing to drop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.ids import PersonId
from flows.session import JsonValue
from storage.ports import PersonalData, RetentionPolicy, Transaction


def iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass(frozen=True)
class SessionPart:
    name: str = "session"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        session = await tx.sessions.get(person)
        if session is None:
            return None
        return {
            "flow": session.flow,
            "step": session.step,
            "status": session.status,
            "language": session.language,
            "version": session.version,
            "started_at": iso(session.started_at),
            "updated_at": iso(session.updated_at),
            "answers": dict(session.answers),
            "history": list(session.history),
            "return_to": session.return_to,
            "interrupted": session.interrupted,
            "nudges": session.nudges,
        }

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        if await tx.sessions.get(person) is None:
            return 0
        await tx.sessions.delete(person)
        return 1

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        # A finished intake is kept like a closed case; an unfinished one is abandoned sooner.
        return await tx.sessions.purge(
            unfinished_before=policy.abandoned_before(now),
            finished_before=policy.closed_before(now),
        )

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        return 0


@dataclass(frozen=True)
class ReminderPart:
    name: str = "reminders"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        return [
            {
                "key": r.key,
                "due_at": iso(r.due_at),
                "status": r.status,
                "attempts": r.attempts,
                "session_version": r.session_version,
            }
            for r in await tx.reminders.all_of(person)
        ]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx.reminders.erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        return await tx.reminders.purge_finished(now - policy.finished_reminders)

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        return 0


@dataclass(frozen=True)
class ConsentPart:
    name: str = "consents"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        return [
            {
                "category": c.category,
                "given": c.given,
                "notice_version": c.notice_version,
                "text_hash": c.text_hash,
                "at": iso(c.at),
            }
            for c in await tx.consents.history(person)
        ]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx.consents.erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        return await tx.consents.purge(policy.closed_before(now))

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        # The withdrawal itself is a new record; earlier records stay as proof.
        return 0


@dataclass(frozen=True)
class DataAccessPart:
    name: str = "data_access"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        return [
            {
                "partnership": a.partnership,
                "coach": a.coach,
                "action": a.action,
                "at": iso(a.at),
            }
            for a in await tx.privacy.accesses(person)
        ]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx.privacy.erase_accesses(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        return await tx.privacy.purge_accesses(policy.closed_before(now))

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        return 0


def core_parts() -> list[PersonalData]:
    """A fresh registry with the parts of the core tables (each storage owns its list)."""
    from storage.help_keyboard import HelpKeyboardPart
    from storage.inbox import DeliveryPart

    return [
        SessionPart(),
        ReminderPart(),
        ConsentPart(),
        DataAccessPart(),
        DeliveryPart(),
        HelpKeyboardPart(),
    ]
