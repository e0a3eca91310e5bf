"""The intake flow: welcome, their own words, age, place, life domains, contact, summary.

Rules of this module:

* Pure, like all of :mod:`flows`: the lexicon and the place resolver are handed to
  :func:`build_intake_flow`; nothing here reads a file, a clock or the environment.
* Nothing is stored before "Start": the welcome records no answer and is never nudged.
* Every question can be skipped, except the three whose buttons already include "no": the
  check of the domains we recognised, the consent question and the summary.
* Sensitive domains (:data:`flows.intake.domains.SENSITIVE`) are asked only after explicit
  consent, asked just before the first of them; "Nee" drops them, also from the topics the young
  person named, and the intake goes on. The consent is recorded with the notice version either
  way.
* An age under 18 or over 30, or "stop" after hearing the place is outside Flanders, ends with
  a referral, no answers and :class:`flows.effects.Discard`.
* Branches that belong to an answer (a low rating's "what would help?", a phone number, a
  place to pick) are ``follow_up`` steps, so they are asked again when the answer is changed
  from the summary, which the young person then returns to.

Step ids, in the order of the median path: ``welcome``, ``words``, ``words_confirm``
(``words_pick``), ``age`` (``age_under``, ``age_over``), ``place`` (``place_pick``,
``place_outside``, ``place_end``), ``domains_intro``, ``domain_<id>`` and ``help_<id>`` per
domain with ``consent`` before the first sensitive one, ``contact`` (``contact_phone``,
``contact_email``), ``moment``, ``name``, ``summary`` (``edit_domains``), ``sent``.

Answer keys: ``own_words``, ``domains`` (list of domain ids), ``age`` (int, or "under"/"over"),
``place_text``, ``place``, ``place_label``, ``place_status``, ``place_region``,
``place_candidates``, ``place_outside``, ``rating_<id>`` ("1".."5", "dont_know", "rather_not"),
``help_<id>``, ``consent_sensitive`` ("yes"/"no"), ``contact``, ``contact_phone`` (E.164),
``contact_email``, ``moment``, ``name``. A skipped question stores
:data:`flows.engine.SKIPPED`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from flows.effects import Discard, Effect, Part, RecordConsent, SubmitIntake
from flows.engine import SKIPPED, Flow, Option, Parsed, Step, option
from flows.ids import FlowId, StepId
from flows.intake.contact import ascii_digits, format_phone, normalise_email, normalise_phone
from flows.intake.domains import DOMAIN_IDS, DOMAINS, SENSITIVE, Domain, DomainId, domain
from flows.intake.lexicon import DomainLexicon
from flows.languages import CODES
from flows.session import JsonValue, Session
from flows.text import Msg, Param, Verbatim, msg

INTAKE = FlowId("intake")
LANGUAGES = CODES  # one list for all: flows/languages.py
# One gentle nudge after a day, one more after three days, then silence (quiet hours are the
# scheduler's job).
NUDGES = (timedelta(hours=24), timedelta(hours=72))
CONSENT_CATEGORY = "sensitive_domains"
MAX_NAME = 40
SUMMARY_TEXT = 200
# "Ik ben 23" has one number; "18-30" has two and gets the question again.
_NUMBER = re.compile(r"\d+")

S_WELCOME = StepId("welcome")
S_WORDS = StepId("words")
S_WORDS_CONFIRM = StepId("words_confirm")
S_WORDS_PICK = StepId("words_pick")
S_AGE = StepId("age")
S_AGE_UNDER = StepId("age_under")
S_AGE_OVER = StepId("age_over")
S_PLACE = StepId("place")
S_PLACE_PICK = StepId("place_pick")
S_PLACE_OUTSIDE = StepId("place_outside")
S_PLACE_END = StepId("place_end")
S_DOMAINS_INTRO = StepId("domains_intro")
S_CONSENT = StepId("consent")
S_CONTACT = StepId("contact")
S_CONTACT_PHONE = StepId("contact_phone")
S_CONTACT_EMAIL = StepId("contact_email")
S_MOMENT = StepId("moment")
S_NAME = StepId("name")
S_SUMMARY = StepId("summary")
S_EDIT_DOMAINS = StepId("edit_domains")
S_SENT = StepId("sent")

PLACE_KEYS = (
    "place",
    "place_label",
    "place_status",
    "place_region",
    "place_candidates",
    "place_outside",
)


@dataclass(frozen=True)
class PlaceCheck:
    """What a place resolver says about the text typed at the place question.

    * ``ok``: ``value`` (an id for routing) and ``label`` (shown on the summary).
    * ``ambiguous``: ``candidates`` as ``(value, label)`` pairs, shown as buttons; each value
      must stay under 36 bytes so the button fits Telegram's callback data.
    * ``unknown``: the question is asked again with an example.
    * ``outside_flanders``: ``region`` is ``"brussels"``, ``"wallonia"`` or anything else
      (then a general message) and says where to go instead.
    """

    status: Literal["ok", "ambiguous", "unknown", "outside_flanders"]
    label: str | None = None
    candidates: tuple[tuple[str, str], ...] = ()
    region: str | None = None
    value: str | None = None


PlaceChecker = Callable[[str], PlaceCheck]


def domain_step(domain_id: str) -> StepId:
    return StepId(f"domain_{domain_id}")


def help_step(domain_id: str) -> StepId:
    return StepId(f"help_{domain_id}")


def rating_key(domain_id: str) -> str:
    return f"rating_{domain_id}"


def help_key(domain_id: str) -> str:
    return f"help_{domain_id}"


# --- labels of stored values ----------------------------------------------------------------

RATINGS: Mapping[str, Msg] = {
    "1": msg("intake.rating.1"),
    "2": msg("intake.rating.2"),
    "3": msg("intake.rating.3"),
    "4": msg("intake.rating.4"),
    "5": msg("intake.rating.5"),
    "dont_know": msg("intake.rating.dont_know"),
    "rather_not": msg("intake.rating.rather_not"),
}
LOW_RATINGS = frozenset({"1", "2"})
# Typed instead of tapped: a digit or the emoji of the scale.
_RATING_SYMBOLS = {"😟": "1", "🙁": "2", "😐": "3", "🙂": "4", "😄": "5"}

HELPS: Mapping[str, Msg] = {
    "info": msg("intake.help.info"),
    "guide": msg("intake.help.guide"),
    "papers": msg("intake.help.papers"),
    "talk": msg("intake.help.talk"),
}
CONTACTS: Mapping[str, Msg] = {
    "chat": msg("intake.contact.chat"),
    "phone": msg("intake.contact.phone"),
    "email": msg("intake.contact.email"),
}
MOMENTS: Mapping[str, Msg] = {
    "morning": msg("intake.moment.morning"),
    "afternoon": msg("intake.moment.afternoon"),
    "evening": msg("intake.moment.evening"),
    "any": msg("intake.moment.any"),
}


# --- the order of the domain questions ------------------------------------------------------


def selected_domains(session: Session) -> tuple[DomainId, ...]:
    """The domains the young person named (confirmed suggestions), in canonical order."""
    raw = session.answer("domains")
    chosen = set(raw) if isinstance(raw, list) else set()
    return tuple(d for d in DOMAIN_IDS if d in chosen)


def _full_order(session: Session) -> tuple[DomainId, ...]:
    chosen = selected_domains(session)
    return chosen + tuple(d for d in DOMAIN_IDS if d not in chosen)


def domain_order(session: Session) -> tuple[DomainId, ...]:
    """The domains asked in this session: named ones first, sensitive ones only with consent."""
    refused = session.answer("consent_sensitive") == "no"
    return tuple(d for d in _full_order(session) if not (refused and d in SENSITIVE))


def _next_domain(session: Session, after: DomainId | None) -> StepId:
    full = _full_order(session)
    begin = full.index(after) + 1 if after in full else 0
    consent = session.answer("consent_sensitive")
    for candidate in full[begin:]:
        if candidate in SENSITIVE:
            if consent == "no":
                continue
            if consent != "yes":
                return S_CONSENT
        return domain_step(candidate)
    return S_CONTACT


def _last_domain(session: Session) -> DomainId | None:
    for step_id in reversed(session.history):
        head, _, tail = step_id.partition("_")
        if head in ("domain", "help") and tail in DOMAIN_IDS:
            return DomainId(tail)
    return None


# --- small helpers --------------------------------------------------------------------------


def lines(items: Sequence[Msg]) -> Msg | Verbatim:
    """Several lines as one part (parts are separated by blank lines, lines by one break)."""
    if not items:
        return Verbatim("")
    joined: Msg = items[-1]
    for item in reversed(items[:-1]):
        joined = msg("intake.lines", first=item, rest=joined)
    return joined


def _drop_empty(keys: tuple[str, ...]) -> Callable[[Session], Session]:
    def drop(session: Session) -> Session:
        empty = [k for k in keys if k in session.answers and session.answers[k] is None]
        return session.without_answers(*empty)

    return drop


def _no_effects(session: Session) -> tuple[Session, tuple[Effect, ...]]:
    return session, ()


def _in_scope(value: JsonValue) -> Literal["under", "over", "ok"]:
    if value == "under" or (isinstance(value, int) and value < 18):
        return "under"
    if value == "over" or (isinstance(value, int) and value > 30):
        return "over"
    return "ok"


# --- the flow -------------------------------------------------------------------------------


def build_intake_flow(
    lexicon: DomainLexicon,
    *,
    notice_version: str,
    place_check: PlaceChecker | None = None,
) -> Flow:
    """The intake for these data.

    * ``notice_version``: the privacy notice shown, kept with every consent.
    * ``place_check``: resolves the typed place; without it the text is stored as typed.

    After "Verstuur" the flow promises no date itself: the handoff knows the partnership and
    its working hours, and tells the young person honestly when they will hear from a coach.
    """

    steps: list[Step] = []

    # 1. Welcome: bot, what it does, the short privacy layer; the full notice one tap away.
    steps.append(
        Step(
            id=S_WELCOME,
            prompt=lambda _s: (
                msg("intake.welcome.bot"),
                msg("intake.welcome.what"),
                msg("intake.welcome.privacy"),
            ),
            label=msg("intake.welcome.label"),
            options=(
                option("start", msg("intake.welcome.start")),
                option("more", msg("privacy.more_button"), stays=True, info=msg("privacy.full")),
            ),
            next=S_WORDS,
            skippable=False,
            back=False,
            record=False,
            nudge=False,
            offer_language=True,
            columns=2,
        )
    )

    # 3. Their own words first.
    def parse_words(text: str, _session: Session) -> Parsed:
        return Parsed(value=text, also={"domains": list(lexicon.match(text))})

    def words_answered(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if value == "dont_know":
            return session.with_answers(domains=[]), ()
        return session, ()

    def words_follow_up(session: Session, value: JsonValue) -> StepId | None:
        if value != "dont_know" and selected_domains(session):
            return S_WORDS_CONFIRM
        return None

    steps.append(
        Step(
            id=S_WORDS,
            prompt=msg("intake.words.ask"),
            label=msg("intake.words.label"),
            options=(option("dont_know", msg("intake.words.dont_know")),),
            text=parse_words,
            store="own_words",
            on_answer=words_answered,
            follow_up=words_follow_up,
            next=S_AGE,
            # Back from here would be the welcome screen, which has nothing to change.
            back=False,
        )
    )

    def confirm_prompt(session: Session) -> Sequence[Part]:
        items = [
            msg("intake.confirm.item", domain=domain(d).label) for d in selected_domains(session)
        ]
        return (msg("intake.confirm.ask"), lines(items), msg("intake.confirm.check"))

    def confirm_answered(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if value == "no":
            return session.with_answers(domains=[]), ()
        return session, ()

    steps.append(
        Step(
            id=S_WORDS_CONFIRM,
            prompt=confirm_prompt,
            label=msg("intake.confirm.label"),
            options=(
                option("yes", msg("intake.confirm.yes")),
                option("change", msg("intake.confirm.change")),
                option("no", msg("intake.confirm.no")),
            ),
            record=False,
            skippable=False,
            on_answer=confirm_answered,
            follow_up=lambda _s, v: S_WORDS_PICK if v == "change" else None,
            next=S_AGE,
            columns=3,
        )
    )

    def pick_options(session: Session) -> tuple[Option, ...]:
        chosen = selected_domains(session)
        toggles = tuple(
            option(
                d.id,
                msg("intake.pick.on" if d.id in chosen else "intake.pick.off", domain=d.label),
                stays=True,
            )
            for d in DOMAINS
        )
        return (*toggles, option("done", msg("intake.pick.done")))

    def pick_toggled(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if not isinstance(value, str) or value not in DOMAIN_IDS:
            return session, ()
        chosen = set(selected_domains(session)) ^ {DomainId(value)}
        return session.with_answers(domains=[d for d in DOMAIN_IDS if d in chosen]), ()

    steps.append(
        Step(
            id=S_WORDS_PICK,
            prompt=msg("intake.pick.ask"),
            label=msg("intake.confirm.label"),
            options=pick_options,
            record=False,
            skippable=False,
            on_answer=pick_toggled,
            next=S_AGE,
            columns=2,
        )
    )

    # 4. Age: a typed number, or a button for "younger than 18" / "older than 30".
    def parse_age(text: str, _session: Session) -> Parsed:
        numbers = _NUMBER.findall(ascii_digits(text))
        if len(numbers) != 1 or not 10 <= int(numbers[0]) <= 99:
            return Parsed(error=msg("intake.age.invalid"))
        return Parsed(value=int(numbers[0]))

    def age_follow_up(_session: Session, value: JsonValue) -> StepId | None:
        scope = _in_scope(value)
        if scope == "under":
            return S_AGE_UNDER
        if scope == "over":
            return S_AGE_OVER
        return None

    steps += [
        Step(
            id=S_AGE,
            prompt=msg("intake.age.ask"),
            label=msg("intake.age.label"),
            options=(
                option("under", msg("intake.age.under_button")),
                option("over", msg("intake.age.over_button")),
            ),
            columns=2,
            text=parse_age,
            follow_up=age_follow_up,
            next=S_PLACE,
        ),
        Step(
            id=S_AGE_UNDER,
            prompt=msg("intake.age.under"),
            label=msg("intake.age.label"),
            waits=False,
            next=None,
        ),
        Step(
            id=S_AGE_OVER,
            prompt=msg("intake.age.over"),
            label=msg("intake.age.label"),
            waits=False,
            next=None,
        ),
    ]

    # 5. Where they live.
    drop_empty_place = _drop_empty(PLACE_KEYS)

    def parse_place(text: str, _session: Session) -> Parsed:
        cleared: dict[str, JsonValue] = dict.fromkeys(PLACE_KEYS)
        if place_check is None:
            return Parsed(value=text, also=cleared)
        result = place_check(text)
        if result.status == "unknown" or (
            result.status == "ambiguous" and not result.candidates
        ):
            return Parsed(error=msg("intake.place.unknown"))
        cleared["place_status"] = result.status
        if result.status == "ok":
            cleared["place"] = result.value
            cleared["place_label"] = result.label
        elif result.status == "ambiguous":
            cleared["place_candidates"] = [[value, label] for value, label in result.candidates]
        else:
            cleared["place_region"] = result.region
        return Parsed(value=text, also=cleared)

    def place_answered(
        session: Session, _value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        return drop_empty_place(session), ()

    def place_follow_up(session: Session, _value: JsonValue) -> StepId | None:
        status = session.answer("place_status")
        if status == "ambiguous":
            return S_PLACE_PICK
        if status == "outside_flanders":
            return S_PLACE_OUTSIDE
        return None

    def candidates(session: Session) -> list[tuple[str, str]]:
        raw = session.answer("place_candidates")
        found: list[tuple[str, str]] = []
        if isinstance(raw, list):
            for pair in raw:
                if isinstance(pair, list) and len(pair) == 2:
                    value, label = pair
                    if isinstance(value, str) and isinstance(label, str):
                        found.append((value, label))
        return found

    def pick_place_options(session: Session) -> tuple[Option, ...]:
        return tuple(
            option(value, msg("intake.place.candidate", name=Verbatim(label)))
            for value, label in candidates(session)
        )

    def place_picked(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        labels = dict(candidates(session))
        if isinstance(value, str) and value in labels:
            return session.with_answers(place_label=labels[value], place_status="ok"), ()
        return session, ()

    def outside_prompt(session: Session) -> Sequence[Part]:
        region = session.answer("place_region")
        if region == "brussels":
            return (msg("intake.place.outside.brussels"), msg("intake.place.outside.ask"))
        if region == "wallonia":
            return (msg("intake.place.outside.wallonia"), msg("intake.place.outside.ask"))
        return (msg("intake.place.outside.other"), msg("intake.place.outside.ask"))

    steps += [
        Step(
            id=S_PLACE,
            prompt=msg("intake.place.ask"),
            label=msg("intake.place.label"),
            text=parse_place,
            store="place_text",
            on_answer=place_answered,
            follow_up=place_follow_up,
            next=S_DOMAINS_INTRO,
        ),
        Step(
            id=S_PLACE_PICK,
            prompt=msg("intake.place.pick"),
            label=msg("intake.place.label"),
            options=pick_place_options,
            store="place",
            on_answer=place_picked,
            next=S_DOMAINS_INTRO,
        ),
        Step(
            id=S_PLACE_OUTSIDE,
            prompt=outside_prompt,
            label=msg("intake.place.label"),
            options=(
                option("continue", msg("intake.place.outside.continue")),
                option("stop", msg("intake.place.outside.stop")),
            ),
            store="place_outside",
            follow_up=lambda _s, v: S_PLACE_END if v == "stop" else None,
            next=S_DOMAINS_INTRO,
        ),
        Step(
            id=S_PLACE_END,
            prompt=msg("intake.place.end"),
            label=msg("intake.place.label"),
            waits=False,
            next=None,
        ),
    ]

    # 6. Life domains, named ones first; 7. consent just before the first sensitive one.
    steps.append(
        Step(
            id=S_DOMAINS_INTRO,
            prompt=msg("intake.domains.intro"),
            label=msg("intake.domains.label"),
            waits=False,
            next=lambda s: _next_domain(s, None),
        )
    )
    for d in DOMAINS:
        steps += _domain_steps(d)

    sensitive_keys = tuple(k for d in SENSITIVE for k in (rating_key(d), help_key(d)))

    def consent_answered(
        session: Session, value: JsonValue, at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        given = value == "yes"
        record = RecordConsent(CONSENT_CATEGORY, given, notice_version, at)
        if given:
            return session, (record,)
        # "No" also forgets that their words pointed to a sensitive domain.
        kept: list[JsonValue] = [d for d in selected_domains(session) if d not in SENSITIVE]
        return session.without_answers(*sensitive_keys).with_answers(domains=kept), (record,)

    steps.append(
        Step(
            id=S_CONSENT,
            prompt=lambda _s: (msg("intake.consent.ask"), msg("intake.consent.why")),
            label=msg("intake.consent.label"),
            options=(
                option("yes", msg("intake.consent.yes")),
                option("no", msg("intake.consent.no")),
            ),
            store="consent_sensitive",
            # "Nee" is the skip: consent must be an explicit yes or no.
            skippable=False,
            on_answer=consent_answered,
            next=lambda s: _next_domain(s, _last_domain(s)),
        )
    )

    # 8. Contact.
    def contact_answered(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        # Keep only the address that belongs to the chosen way: fewer personal data at rest.
        drop = [k for k, way in (("contact_phone", "phone"), ("contact_email", "email"))
                if value != way]
        return session.without_answers(*drop), ()

    def contact_follow_up(_session: Session, value: JsonValue) -> StepId | None:
        return {"phone": S_CONTACT_PHONE, "email": S_CONTACT_EMAIL}.get(str(value))

    def parse_phone(text: str, _session: Session) -> Parsed:
        number = normalise_phone(text)
        if number is None:
            return Parsed(error=msg("intake.contact.phone.invalid"))
        return Parsed(value=number)

    def parse_email(text: str, _session: Session) -> Parsed:
        address = normalise_email(text)
        if address is None:
            return Parsed(error=msg("intake.contact.email.invalid"))
        return Parsed(value=address)

    def parse_name(text: str, _session: Session) -> Parsed:
        if len(text) > MAX_NAME:
            return Parsed(error=msg("intake.name.too_long", limit=MAX_NAME))
        return Parsed(value=text)

    steps += [
        Step(
            id=S_CONTACT,
            prompt=msg("intake.contact.ask"),
            label=msg("intake.contact.label"),
            options=tuple(option(k, v) for k, v in CONTACTS.items()),
            on_answer=contact_answered,
            follow_up=contact_follow_up,
            next=S_MOMENT,
        ),
        Step(
            id=S_CONTACT_PHONE,
            prompt=msg("intake.contact.phone.ask"),
            label=msg("intake.contact.phone.label"),
            text=parse_phone,
            next=S_MOMENT,
        ),
        Step(
            id=S_CONTACT_EMAIL,
            prompt=msg("intake.contact.email.ask"),
            label=msg("intake.contact.email.label"),
            text=parse_email,
            next=S_MOMENT,
        ),
        Step(
            id=S_MOMENT,
            prompt=msg("intake.moment.ask"),
            label=msg("intake.moment.label"),
            options=tuple(option(k, v) for k, v in MOMENTS.items()),
            columns=2,
            next=S_NAME,
        ),
        Step(
            id=S_NAME,
            prompt=msg("intake.name.ask"),
            label=msg("intake.name.label"),
            text=parse_name,
            next=S_SUMMARY,
        ),
    ]

    # 9. Summary, editable; "Verstuur" hands it over.
    def summary_answered(
        session: Session, value: JsonValue, at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if value == "send":
            return session, (SubmitIntake(at),)
        return session, ()

    def edit(value: str, what: Msg, target: StepId) -> Option:
        return option(value, msg("intake.summary.edit", what=what), next=target, edit=True)

    def edit_domain_options(session: Session) -> tuple[Option, ...]:
        consent = session.answer("consent_sensitive")
        shown = tuple(
            option(d, domain(d).label)
            for d in domain_order(session)
            if d not in SENSITIVE or consent == "yes"
        )
        if consent in ("yes", "no"):
            return (*shown, option("consent", msg("intake.consent.label")))
        return shown

    def edit_domain_follow_up(_session: Session, value: JsonValue) -> StepId | None:
        if value == "consent":
            return S_CONSENT
        if isinstance(value, str) and value in DOMAIN_IDS:
            return domain_step(value)
        return None

    steps += [
        Step(
            id=S_SUMMARY,
            prompt=summary_parts,
            label=msg("intake.summary.label"),
            options=(
                option("send", msg("intake.summary.send")),
                edit("edit_words", msg("intake.words.label"), S_WORDS),
                edit("edit_age", msg("intake.age.label"), S_AGE),
                edit("edit_place", msg("intake.place.label"), S_PLACE),
                edit("edit_domains", msg("intake.domains.label"), S_EDIT_DOMAINS),
                edit("edit_contact", msg("intake.contact.label"), S_CONTACT),
                edit("edit_moment", msg("intake.moment.label"), S_MOMENT),
                edit("edit_name", msg("intake.name.label"), S_NAME),
            ),
            columns=(1, 2),
            record=False,
            skippable=False,
            on_answer=summary_answered,
            next=S_SENT,
        ),
        Step(
            id=S_EDIT_DOMAINS,
            prompt=msg("intake.edit.ask"),
            label=msg("intake.domains.label"),
            options=edit_domain_options,
            columns=2,
            record=False,
            follow_up=edit_domain_follow_up,
            next=S_SUMMARY,
        ),
        Step(
            id=S_SENT,
            prompt=msg("intake.sent"),
            label=msg("intake.summary.label"),
            waits=False,
            next=None,
        ),
    ]

    def finish(session: Session, _at: datetime) -> tuple[Session, tuple[Effect, ...]]:
        out_of_scope = (
            _in_scope(session.answer("age")) != "ok"
            or session.answer("place_outside") == "stop"
        )
        if out_of_scope:
            # Keep nothing: the referral was the whole answer.
            return Session(
                person=session.person,
                flow=session.flow,
                step=None,
                language=session.language,
                started_at=session.started_at,
                updated_at=session.updated_at,
                status="done",
                version=session.version,
            ), (Discard(),)
        return session, ()

    return Flow(
        id=INTAKE,
        first=S_WELCOME,
        steps={s.id: s for s in steps},
        languages=LANGUAGES,
        on_finish=finish,
        nudges=NUDGES,
        pause_message=msg("intake.paused"),
    )


def _domain_steps(d: Domain) -> list[Step]:
    def prompt(session: Session) -> Sequence[Part]:
        order = domain_order(session)
        parts: list[Part] = []
        if d.id in order and session.return_to is None:
            parts.append(msg("intake.domain.progress", n=order.index(d.id) + 1, total=len(order)))
        parts.append(d.ask)
        return parts

    def options(session: Session) -> tuple[Option, ...]:
        ratings = tuple(option(value, label) for value, label in RATINGS.items())
        if session.return_to is not None:
            # While changing one answer from the summary, "enough" has no round to end.
            return ratings
        return (*ratings, option("enough", msg("intake.rating.enough"), next=S_CONTACT))

    def parse_rating(text: str, _session: Session) -> Parsed:
        clean = ascii_digits(text).strip()
        value = _RATING_SYMBOLS.get(clean, clean)
        if value in ("1", "2", "3", "4", "5"):
            return Parsed(value=value)
        return Parsed(error=msg("intake.rating.invalid"))

    def answered(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if value == "enough":
            # "Dat is genoeg" ends the round; it is not a rating of this domain.
            return session.without_answers(rating_key(d.id)), ()
        if value not in LOW_RATINGS:
            # A better rating makes an earlier "what would help" answer out of date.
            return session.without_answers(help_key(d.id)), ()
        return session, ()

    def help_text(text: str, _session: Session) -> Parsed:
        return Parsed(value=text)

    return [
        Step(
            id=domain_step(d.id),
            prompt=prompt,
            label=d.label,
            options=options,
            columns=(1, 1, 1, 1, 1, 2, 1),
            text=parse_rating,
            symbols=True,
            store=rating_key(d.id),
            on_answer=answered,
            follow_up=lambda _s, v: help_step(d.id) if v in LOW_RATINGS else None,
            next=lambda s: _next_domain(s, d.id),
        ),
        Step(
            id=help_step(d.id),
            prompt=msg("intake.help.ask", domain=d.label),
            label=msg("intake.help.label", domain=d.label),
            options=tuple(option(k, v) for k, v in HELPS.items()),
            columns=2,
            text=help_text,
            store=help_key(d.id),
            next=lambda s: _next_domain(s, d.id),
        ),
    ]


# --- the summary card -----------------------------------------------------------------------


def _answer_text(value: JsonValue, labels: Mapping[str, Msg] | None = None) -> Param:
    if value is None:
        return msg("intake.summary.empty")
    if value == SKIPPED:
        return msg("intake.summary.skipped")
    if labels is not None and isinstance(value, str) and value in labels:
        return labels[value]
    text = str(value)
    # The card must fit one Telegram message (4096 characters) even with eleven long answers;
    # the coach receives the full text, the card only has to remind the young person.
    if len(text) > SUMMARY_TEXT:
        text = text[: SUMMARY_TEXT - 1].rstrip() + "…"
    return Verbatim(text)


def _line(label: Msg, value: Param) -> Msg:
    return msg("intake.summary.line", label=label, value=value)


def summary_parts(session: Session) -> Sequence[Part]:
    """The card: every answer, who will see it, and what the buttons do."""
    a = session.answer
    rows: list[Msg] = []
    words = a("own_words")
    words_value = (
        msg("intake.words.dont_know") if words == "dont_know" else _answer_text(words)
    )
    rows.append(_line(msg("intake.words.label"), words_value))
    rows.append(_line(msg("intake.age.label"), _answer_text(a("age"))))
    place_label = a("place_label")
    place = Verbatim(place_label) if isinstance(place_label, str) else _answer_text(
        a("place_text")
    )
    rows.append(_line(msg("intake.place.label"), place))

    rated = [d for d in domain_order(session) if rating_key(d) in session.answers]
    if not rated:
        rows.append(_line(msg("intake.domains.label"), msg("intake.summary.empty")))
    for d in rated:
        rating = _answer_text(a(rating_key(d)), RATINGS)
        helped = a(help_key(d))
        if helped is not None and helped != SKIPPED:
            helps = _answer_text(helped, HELPS)
            rating = msg("intake.summary.with_help", rating=rating, help=helps)
        rows.append(_line(domain(d).label, rating))
    consent = a("consent_sensitive")
    if consent in ("yes", "no"):
        given = msg("intake.consent.yes") if consent == "yes" else msg("intake.consent.no")
        rows.append(_line(msg("intake.consent.label"), given))

    way = a("contact")
    contact: Param = _answer_text(way, CONTACTS)
    phone, email = a("contact_phone"), a("contact_email")
    if way == "phone" and isinstance(phone, str) and phone != SKIPPED:
        contact = Verbatim(format_phone(phone))
    elif way == "email" and isinstance(email, str) and email != SKIPPED:
        contact = Verbatim(email)
    rows.append(_line(msg("intake.contact.label"), contact))
    rows.append(_line(msg("intake.moment.label"), _answer_text(a("moment"), MOMENTS)))
    rows.append(_line(msg("intake.name.label"), _answer_text(a("name"))))
    return (
        msg("intake.summary.title"),
        lines(rows),
        msg("intake.summary.who"),
        msg("intake.summary.hint"),
    )
