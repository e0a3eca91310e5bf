"""The intake flow: welcome, their own words, age, place, life domains, contact, summary.

Rules of this module:

* Pure, like all of :mod:`flows`: the lexicon, the place resolver and the coverage data are
  handed to :func:`build_intake_flow`; nothing here reads a file, a clock or the environment.
* Nothing is stored before "Start": the welcome records no answer and is never nudged. The
  welcome is one short message; the privacy layer is one tap away, the full notice two.
* Every question can be skipped, except those whose buttons already include "no": the check of
  the domains we recognised, the consent questions, the summary, the coverage answer and the
  second place question (which has "zeg ik liever niet").
* Coverage is said right after the place is known: a covered place names its partnership in one
  line; a place without a partnership, outside Flanders or unknown gets the general services of
  its region at once and the choice to send the question to the region's fallback team
  (:class:`Coverage`), or to stop. An unknown place name gets the postcode question once, never
  a loop. A skipped place is asked once more before the summary.
* Ratings follow the young person: the domains they named first, then "Is er nog iets?" with
  the other domains as a short list, or all of them ("Alles overlopen").
* Sensitive domains (:data:`flows.intake.domains.SENSITIVE`) are asked only after explicit
  consent for their category (health, addiction, justice), asked just before the first domain of
  that category; each question says what the coach will see. "Nee" drops that category, also
  from the topics the young person named, and the intake goes on. Every decision is recorded
  with the notice version.
* An age under 18 or over 30, or "stop" at the coverage question, ends with a referral, no
  answers and :class:`flows.effects.Discard`. "18 or 30" are the widest range the directory's
  partnerships serve (:class:`Targets`; 18-30 while all are youth partnerships). Once the
  partnership is known (the place, a referral link, the fallback team), its own range holds:
  outside it the young person hears so honestly, gets the region's general services and can
  give another place or stop (``place_age``). An age they did not give is not checked.
* A referral link (:func:`referral_answers`, recorded by the engine with ``/start``) preselects
  its partnership: the place question offers it as one tap (``referral``), and typing a place
  routes by the place as always.
* Branches that belong to an answer (a low rating's "what would help?", a phone number, a
  place to pick) are ``follow_up`` steps, so they are asked again when the answer is changed
  from the summary, which the young person then returns to.

Step ids, in the order of the median path: ``welcome`` (``welcome_privacy``), ``words``,
``words_confirm`` (``words_pick``), ``age`` (``age_under``, ``age_over``), ``place``
(``place_pick``, ``place_postcode``, ``place_uncovered``, ``place_age``, ``place_end``),
``consent_<category>`` before the first domain of a sensitive category, ``domain_<id>`` and
``help_<id>`` per domain, ``more``, ``contact`` (``contact_phone``, ``moment``,
``contact_email``), ``name``, ``place_again``, ``summary`` (``edit_domains``), ``sent``.

Answer keys: ``own_words``, ``domains`` (ids found in their words), ``more_domains`` (ids they
added at "Is er nog iets?"), ``more`` ("all" when they chose to rate everything), ``age`` (int,
or "under"/"over"), ``place_text``, ``place``, ``place_label``, ``place_status`` ("ok",
"ambiguous", "unknown", "outside_flanders", "withheld"), ``place_region``,
``place_partnership`` (the covering partnership's name), ``place_candidates``,
``place_partners``, ``place_route`` ("partnership", "fallback" or "stop"), ``place_team``
(the fallback team's name), ``referral`` and ``referral_partnership`` (the name and id of the
partnership of the referral link the intake came from; ``place_status`` "referral" when the young
person kept it),
``rating_<id>`` ("1".."5", "dont_know", "rather_not"), ``help_<id>``, ``consent_<category>``
("yes"/"no"), ``contact``, ``contact_phone`` (E.164), ``contact_email``, ``moment``, ``name``.
A skipped question stores :data:`flows.engine.SKIPPED` (or ``DONT_KNOW``/``RATHER_NOT`` when
that is what they typed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from flows.effects import Discard, Effect, Part, RecordConsent, SendMessage, SubmitIntake
from flows.engine import (
    DONT_KNOW,
    RATHER_NOT,
    SKIPPED,
    UNANSWERED,
    Flow,
    Option,
    Parsed,
    Step,
    option,
)
from flows.ids import FlowId, StepId
from flows.intake.contact import ascii_digits, format_phone, normalise_email, normalise_phone
from flows.intake.domains import (
    CONSENT_CATEGORIES,
    CONSENT_DOMAINS,
    DOMAIN_IDS,
    DOMAINS,
    LEGACY_CONSENT,
    Domain,
    DomainId,
    consent_answer,
    consent_key,
    domain,
)
from flows.intake.lexicon import DomainLexicon
from flows.languages import CODES
from flows.replies import number_in_words, rating_in_words
from flows.routing.directory import AgeRange
from flows.session import JsonValue, Session
from flows.text import Msg, Param, Verbatim, msg

INTAKE = FlowId("intake")
LANGUAGES = CODES  # one list for all: flows/languages.py
# One gentle nudge after a day, one more after three days, then silence (quiet hours are the
# scheduler's job).
NUDGES = (timedelta(hours=24), timedelta(hours=72))
# Kept for records and data from before per-category consent (see flows.intake.domains).
CONSENT_CATEGORY = LEGACY_CONSENT
MAX_NAME = 40
SUMMARY_TEXT = 200
# "Ik ben 23" has one number; "18-30" has two and gets the question again.
_NUMBER = re.compile(r"\d+")
# A Belgian postcode on its own: four digits.
_POSTCODE = re.compile(r"^\s*\d{4}\s*$")

S_WELCOME = StepId("welcome")
S_WELCOME_PRIVACY = StepId("welcome_privacy")
S_WORDS = StepId("words")
S_WORDS_CONFIRM = StepId("words_confirm")
S_WORDS_PICK = StepId("words_pick")
S_AGE = StepId("age")
S_AGE_UNDER = StepId("age_under")
S_AGE_OVER = StepId("age_over")
S_PLACE = StepId("place")
S_PLACE_PICK = StepId("place_pick")
S_PLACE_POSTCODE = StepId("place_postcode")
S_PLACE_UNCOVERED = StepId("place_uncovered")
S_PLACE_END = StepId("place_end")
S_PLACE_AGE = StepId("place_age")
S_PLACE_AGAIN = StepId("place_again")
# Resting steps of sessions saved before issue 14 (kept so such a session goes on).
S_LEGACY_CONSENT = StepId("consent")
S_LEGACY_PLACE_OUTSIDE = StepId("place_outside")
S_MORE = StepId("more")
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
    "place_partnership",
    "place_candidates",
    "place_partners",
    "place_route",
    "place_team",
)


@dataclass(frozen=True)
class PlaceCheck:
    """What a place resolver says about the text typed at the place question.

    * ``ok``: ``value`` (an id for routing) and ``label`` (shown on the summary);
      ``partnership`` names the partnership that works there, ``None`` for a blind spot.
    * ``ambiguous``: ``candidates`` as ``(value, label)`` pairs, shown as buttons; each value
      must stay under 36 bytes so the button fits Telegram's callback data. ``partners`` names
      the partnership of a candidate value (absent: a blind spot).
    * ``unknown``: the postcode question follows, once.
    * ``outside_flanders``: ``region`` is ``"brussels"``, ``"wallonia"`` or anything else
      (then a general message) and says where to go instead.
    """

    status: Literal["ok", "ambiguous", "unknown", "outside_flanders"]
    label: str | None = None
    candidates: tuple[tuple[str, str], ...] = ()
    region: str | None = None
    value: str | None = None
    partnership: str | None = None
    partners: tuple[tuple[str, str], ...] = ()


PlaceChecker = Callable[[str], PlaceCheck]


@dataclass(frozen=True)
class RegionHelp:
    """For a place without a partnership: the general services (name, phone) of the region and
    the team that still reads a question from there (``None``: nobody, then only the services
    are offered)."""

    services: tuple[tuple[str, str], ...] = ()
    team: str | None = None


# The youth partnerships' range: the age buttons say "younger than 18" and "older than 30".
YOUTH = AgeRange(18, 30)
# The place question's button that keeps the partnership of the referral link.
REFERRAL = "referral"


@dataclass(frozen=True)
class Targets:
    """Whom each partnership serves, by the partnership's name as the intake shows it
    (``place_partnership``, ``place_team``, ``referral``), from the directory."""

    ages: Mapping[str, AgeRange] = field(default_factory=dict)

    def of(self, name: JsonValue) -> AgeRange | None:
        return self.ages.get(name) if isinstance(name, str) else None

    @property
    def widest(self) -> AgeRange:
        """The range of all partnerships together (:data:`YOUTH` when none is known)."""
        ranges = list(self.ages.values())
        if not ranges:
            return YOUTH
        found = ranges[0]
        for other in ranges[1:]:
            found = found.widen(other)
        return found


def referral_answers(partnership: str, name: str) -> dict[str, JsonValue]:
    """The answers a referral link of ``partnership`` (its id and its name) brings: ``bot/``
    hands them to the engine with ``/start`` (:class:`flows.inputs.LinkFollowed`), and the
    place question offers that partnership (see the module rules)."""
    return {"referral": name, "referral_partnership": partnership}


# Regions of :class:`Coverage`: a Flemish place without a partnership is "flanders"; outside
# Flanders the resolver's region ("brussels", "wallonia", anything else is "other"); a place
# nobody could find, or one they would rather not say, is "unknown".
REGIONS = ("flanders", "brussels", "wallonia", "other", "unknown")


@dataclass(frozen=True)
class Coverage:
    """Per region, what to offer when no partnership works there (from the directory)."""

    regions: Mapping[str, RegionHelp] = field(default_factory=dict)

    def help_for(self, region: str | None) -> RegionHelp:
        key = region if region in REGIONS else "other"
        return self.regions.get(key) or self.regions.get("unknown") or RegionHelp()


def domain_step(domain_id: str) -> StepId:
    return StepId(f"domain_{domain_id}")


def help_step(domain_id: str) -> StepId:
    return StepId(f"help_{domain_id}")


def consent_step(category: str) -> StepId:
    return StepId(f"consent_{category}")


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
CONSENT_LABELS: Mapping[str, Msg] = {
    "health": msg("intake.consent.health.label"),
    "addiction": msg("intake.consent.addiction.label"),
    "justice": msg("intake.consent.justice.label"),
}
_OUTSIDE: Mapping[str, Msg] = {
    "brussels": msg("intake.place.outside.brussels"),
    "wallonia": msg("intake.place.outside.wallonia"),
    "other": msg("intake.place.outside.other"),
    "unknown": msg("intake.place.outside.unknown"),
}
_CONSENT_ASK: Mapping[str, tuple[Msg, Msg]] = {
    "health": (msg("intake.consent.health.ask"), msg("intake.consent.health.see")),
    "addiction": (msg("intake.consent.addiction.ask"), msg("intake.consent.addiction.see")),
    "justice": (msg("intake.consent.justice.ask"), msg("intake.consent.justice.see")),
}
# What the young person sees on the summary for a marker typed instead of an answer.
_MARKERS: Mapping[str, Msg] = {
    SKIPPED: msg("intake.summary.skipped"),
    DONT_KNOW: msg("intake.rating.dont_know"),
    RATHER_NOT: msg("intake.rating.rather_not"),
}


# --- the order of the domain questions ------------------------------------------------------


def _ids(value: JsonValue) -> list[DomainId]:
    return (
        [DomainId(v) for v in value if isinstance(v, str) and v in DOMAIN_IDS]
        if isinstance(value, list)
        else []
    )


def selected_domains(session: Session) -> tuple[DomainId, ...]:
    """The domains the young person named (confirmed suggestions), in canonical order."""
    chosen = set(_ids(session.answer("domains")))
    return tuple(d for d in DOMAIN_IDS if d in chosen)


def _queue(session: Session) -> tuple[DomainId, ...]:
    """The domains to rate: named ones, then those added at "Is er nog iets?", then (after
    "Alles overlopen") the rest; never one whose consent was refused."""
    order: list[DomainId] = list(selected_domains(session))
    order += [d for d in _ids(session.answer("more_domains")) if d not in order]
    if session.answer("more") == "all":
        order += [d for d in DOMAIN_IDS if d not in order]
    return tuple(d for d in order if consent_answer(session.answers, d) != "no")


def domain_order(session: Session) -> tuple[DomainId, ...]:
    """The domains of this session in the order they are (or were) asked; rated domains that
    were added from the summary come last."""
    queued = _queue(session)
    rated = tuple(
        d
        for d in DOMAIN_IDS
        if d not in queued
        and rating_key(d) in session.answers
        and consent_answer(session.answers, d) == "yes"
    )
    return queued + rated


def _open_domains(session: Session) -> tuple[DomainId, ...]:
    """Domains still to be offered at "Is er nog iets?"."""
    asked = set(domain_order(session))
    return tuple(
        d for d in DOMAIN_IDS if d not in asked and consent_answer(session.answers, d) != "no"
    )


def _next_domain(session: Session) -> StepId:
    for candidate in _queue(session):
        if rating_key(candidate) in session.answers:
            continue
        category = domain(candidate).consent
        if category is not None and consent_answer(session.answers, candidate) is None:
            return consent_step(category)
        return domain_step(candidate)
    if session.answer("more") == "all" or not _open_domains(session):
        return S_CONTACT
    return S_MORE


# --- small helpers --------------------------------------------------------------------------


def lines(items: Sequence[Msg]) -> Msg | Verbatim:
    """Several lines as one part (parts are separated by blank lines, lines by one break)."""
    if not items:
        return Verbatim("")
    joined: Msg = items[-1]
    for item in reversed(items[:-1]):
        joined = msg("intake.lines", first=item, rest=joined)
    return joined


def _in_scope(value: JsonValue, ages: AgeRange = YOUTH) -> Literal["under", "over", "ok"]:
    """Whether an age answer fits ``ages``. An age not given fits: it cannot be checked; the
    buttons "younger than 18" and "older than 30" count only where they decide."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < ages.low:
            return "under"
        if ages.high is not None and value > ages.high:
            return "over"
        return "ok"
    if value == "under" and ages.low >= YOUTH.low:
        return "under"
    if (
        value == "over"
        and ages.high is not None
        and YOUTH.high is not None
        and ages.high <= YOUTH.high
    ):
        return "over"
    return "ok"


def _headed_to(session: Session) -> JsonValue:
    """The name of the partnership (or fallback team) the intake goes to, as far as known."""
    route = session.answer("place_route")
    if route == "partnership":
        return session.answer("place_partnership")
    if route == "fallback":
        return session.answer("place_team")
    return None


def _pairs(raw: JsonValue) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(raw, list):
        for pair in raw:
            if isinstance(pair, list) and len(pair) == 2:
                value, label = pair
                if isinstance(value, str) and isinstance(label, str):
                    found.append((value, label))
    return found


def _region(session: Session) -> str:
    """The :data:`REGIONS` key of the session's place."""
    status = session.answer("place_status")
    if status == "ok":
        return "flanders"
    if status == "outside_flanders":
        region = session.answer("place_region")
        return region if region in ("brussels", "wallonia") else "other"
    return "unknown"


# --- the flow -------------------------------------------------------------------------------


def build_intake_flow(
    lexicon: DomainLexicon,
    *,
    notice_version: str,
    place_check: PlaceChecker | None = None,
    coverage: Coverage | None = None,
    say: Callable[[Msg, str], str] | None = None,
    targets: Targets | None = None,
) -> Flow:
    """The intake for these data.

    * ``notice_version``: the privacy notice shown, kept with every consent.
    * ``place_check``: resolves the typed place; without it the text is stored as typed.
    * ``coverage``: per region, the general services and the fallback team.
    * ``say``: how ``bot/`` renders a message, so that a typed button label is recognised.
    * ``targets``: the ages each partnership serves (without it: 18-30 everywhere).

    After "Verstuur" the flow promises no date itself: the handoff knows the partnership and
    its working hours, and tells the young person honestly when they will hear from a coach.
    """
    regions = coverage or Coverage()
    ranges = targets or Targets()
    widest = ranges.widest
    steps: list[Step] = []

    def age_blocked(session: Session) -> AgeRange | None:
        """The range of the partnership the intake goes to, when the age given is outside it."""
        ages = ranges.of(_headed_to(session))
        if ages is None or _in_scope(session.answer("age"), ages) == "ok":
            return None
        return ages

    # 1. Welcome: bot, what it does, emergency numbers; privacy one tap away, all of it two.
    steps += [
        Step(
            id=S_WELCOME,
            prompt=msg("intake.welcome.bot"),
            label=msg("intake.welcome.label"),
            options=(
                option("start", msg("intake.welcome.start")),
                option("privacy", msg("intake.welcome.privacy_button"), next=S_WELCOME_PRIVACY),
            ),
            next=S_WORDS,
            skippable=False,
            back=False,
            record=False,
            nudge=False,
            offer_language=True,
            columns=2,
        ),
        Step(
            id=S_WELCOME_PRIVACY,
            prompt=msg("intake.welcome.privacy"),
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
            columns=2,
        ),
    ]

    # 2. Their own words first.
    def parse_words(text: str, session: Session) -> Parsed:
        # The person's own language and Dutch, whole words only (flows/intake/lexicon.py).
        found = lexicon.match(text, (session.language, "nl"))
        return Parsed(value=text, also={"domains": list(found)})

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

    # 3. Age: a number in digits or words, or a button for "younger than 18" / "older than 30".
    def parse_age(text: str, session: Session) -> Parsed:
        numbers = _NUMBER.findall(ascii_digits(text))
        if not numbers:
            spoken = number_in_words(text, session.language)
            numbers = [str(spoken)] if spoken is not None else []
        if len(numbers) != 1 or not 10 <= int(numbers[0]) <= 99:
            return Parsed(error=msg("intake.age.invalid"))
        return Parsed(value=int(numbers[0]))

    def age_follow_up(session: Session, value: JsonValue) -> StepId | None:
        scope = _in_scope(value, widest)
        if scope == "under":
            return S_AGE_UNDER
        if scope == "over":
            return S_AGE_OVER
        if age_blocked(session) is not None:
            # Changed from the summary: the partnership chosen before does not serve this age.
            return S_PLACE_AGE
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

    # 4. Where they live, and at once who helps there.
    def after_place(session: Session) -> StepId:
        # The second place question comes after the name: from there, on to the summary.
        if S_PLACE_AGAIN in session.history:
            return S_SUMMARY
        return _next_domain(session)

    def parse_place(text: str, _session: Session) -> Parsed:
        cleared: dict[str, JsonValue] = dict.fromkeys(PLACE_KEYS)
        if place_check is None:
            return Parsed(value=text, also=cleared)
        result = place_check(text)
        status: str = result.status
        if status == "ambiguous" and not result.candidates:
            status = "unknown"
        cleared["place_status"] = status
        if status == "ok":
            cleared["place"] = result.value
            cleared["place_label"] = result.label
            cleared["place_partnership"] = result.partnership
            cleared["place_route"] = "partnership" if result.partnership else None
        elif status == "ambiguous":
            cleared["place_candidates"] = [[value, label] for value, label in result.candidates]
            cleared["place_partners"] = [[value, name] for value, name in result.partners]
        elif status == "outside_flanders":
            cleared["place_region"] = result.region
        return Parsed(value=text, also=cleared)

    def covered_line(session: Session) -> tuple[Effect, ...]:
        name, label = session.answer("place_partnership"), session.answer("place_label")
        if age_blocked(session) is not None or not isinstance(name, str):
            return ()
        if session.answer("place_status") == "referral":
            kept = msg("intake.place.referral.kept", partnership=Verbatim(name))
            return (SendMessage((kept,)),)
        if session.answer("place_status") != "ok":
            return ()
        place = Verbatim(label if isinstance(label, str) else "")
        line = msg("intake.place.covered", place=place, partnership=Verbatim(name))
        return (SendMessage((line,)),)

    def place_answered(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        referral = session.answer("referral")
        if value == REFERRAL and isinstance(referral, str):
            kept = session.without_answers(*PLACE_KEYS).with_answers(
                place_status="referral", place_route="partnership", place_partnership=referral
            )
            return kept, covered_line(kept)
        empty = [k for k in PLACE_KEYS if k in session.answers and session.answers[k] is None]
        kept = session.without_answers(*empty)
        return kept, covered_line(kept)

    def place_follow_up(session: Session, _value: JsonValue) -> StepId | None:
        status = session.answer("place_status")
        if age_blocked(session) is not None:
            return S_PLACE_AGE
        if status == "ambiguous":
            return S_PLACE_PICK
        if status == "unknown":
            return S_PLACE_POSTCODE
        if status == "outside_flanders" or (
            status == "ok" and session.answer("place_route") != "partnership"
        ):
            return S_PLACE_UNCOVERED
        return None

    def pick_place_options(session: Session) -> tuple[Option, ...]:
        return tuple(
            option(value, msg("intake.place.candidate", name=Verbatim(label)))
            for value, label in _pairs(session.answer("place_candidates"))
        )

    def place_picked(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        labels = dict(_pairs(session.answer("place_candidates")))
        partners = dict(_pairs(session.answer("place_partners")))
        if not (isinstance(value, str) and value in labels):
            return session, ()
        name = partners.get(value)
        picked = session.with_answers(
            place_label=labels[value],
            place_status="ok",
            place_partnership=name,
            place_route="partnership" if name else None,
        ).without_answers("place_candidates", "place_partners")
        empty = [k for k in ("place_partnership", "place_route") if picked.answers.get(k) is None]
        picked = picked.without_answers(*empty)
        return picked, covered_line(picked)

    def postcode_parse(text: str, session: Session) -> Parsed:
        if not _POSTCODE.match(ascii_digits(text)):
            # Not a postcode: they may have typed their municipality after all.
            return parse_place(text, session)
        return parse_place(ascii_digits(text).strip(), session)

    def postcode_answered(
        session: Session, value: JsonValue, at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if value == "dont_know":
            return session.with_answers(place_status="unknown"), ()
        return place_answered(session, value, at)

    def postcode_follow_up(session: Session, value: JsonValue) -> StepId | None:
        status = session.answer("place_status")
        if value == "dont_know" or status == "unknown":
            # Asked once: an unknown postcode is not asked again, it gets the general help.
            return S_PLACE_UNCOVERED
        return place_follow_up(session, value)

    def uncovered_prompt(session: Session) -> Sequence[Part]:
        region = _region(session)
        label = session.answer("place_label")
        if region == "flanders":
            reason = msg(
                "intake.place.blind_spot", place=Verbatim(label if isinstance(label, str) else "")
            )
        else:
            reason = _OUTSIDE[region]
        found = regions.help_for(region)
        parts: list[Part] = [reason]
        if found.services:
            rows = [
                msg("intake.place.service", name=Verbatim(name), phone=Verbatim(phone))
                for name, phone in found.services
            ]
            parts += [msg("intake.place.services"), lines(rows)]
        if found.team and team_serves(session, found.team):
            parts.append(msg("intake.place.fallback.ask", team=Verbatim(found.team)))
        else:
            parts.append(msg("intake.place.fallback.none"))
        return parts

    def team_serves(session: Session, team: str | None) -> bool:
        ages = ranges.of(team)
        return team is not None and (ages is None or _in_scope(session.answer("age"), ages) == "ok")

    def uncovered_options(session: Session) -> tuple[Option, ...]:
        if team_serves(session, regions.help_for(_region(session)).team):
            return (
                option("fallback", msg("intake.place.fallback.send")),
                option("stop", msg("intake.place.outside.stop")),
            )
        return (option("stop", msg("intake.place.outside.stop")),)

    def uncovered_answered(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if value == "fallback":
            team = regions.help_for(_region(session)).team or ""
            said = SendMessage((msg("intake.place.fallback.sent", team=Verbatim(team)),))
            return session.with_answers(place_team=team), (said,)
        return session, ()

    uncovered = Step(
        id=S_PLACE_UNCOVERED,
        prompt=uncovered_prompt,
        label=msg("intake.place.label"),
        options=uncovered_options,
        store="place_route",
        skippable=False,
        on_answer=uncovered_answered,
        follow_up=lambda _s, v: S_PLACE_END if v == "stop" else None,
        next=after_place,
    )

    def place_prompt(session: Session) -> Sequence[Part]:
        referral = session.answer("referral")
        if isinstance(referral, str):
            return (msg("intake.place.referral.ask", partnership=Verbatim(referral)),)
        return (msg("intake.place.ask"),)

    def place_options(session: Session) -> tuple[Option, ...]:
        if isinstance(session.answer("referral"), str):
            return (option(REFERRAL, msg("intake.place.referral.keep")),)
        return ()

    def age_prompt(session: Session) -> Sequence[Part]:
        ages = age_blocked(session) or widest
        name = Verbatim(str(_headed_to(session) or ""))
        if ages.high is None:
            serves = msg("intake.place.age.from", partnership=name, low=ages.low)
        else:
            serves = msg("intake.place.age.range", partnership=name, low=ages.low, high=ages.high)
        parts: list[Part] = [serves]
        found = regions.help_for("flanders")
        if found.services:
            rows = [
                msg("intake.place.service", name=Verbatim(n), phone=Verbatim(p))
                for n, p in found.services
            ]
            parts += [msg("intake.place.services"), lines(rows)]
        parts.append(msg("intake.place.age.next"))
        return parts

    def age_place_answered(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if value == "stop":
            return session.with_answers(place_route="stop"), ()
        return session, ()

    steps.append(
        Step(
            id=S_PLACE_AGE,
            prompt=age_prompt,
            label=msg("intake.place.label"),
            options=(
                option("place", msg("intake.place.age.other")),
                option("stop", msg("intake.place.outside.stop")),
            ),
            record=False,
            skippable=False,
            on_answer=age_place_answered,
            # A follow-up, so it also holds while the answer is being changed from the summary.
            follow_up=lambda _s, v: S_PLACE if v == "place" else S_PLACE_END,
            next=S_PLACE_END,
        )
    )

    def again_prompt(session: Session) -> Sequence[Part]:
        if isinstance(session.answer("referral"), str):
            return place_prompt(session)
        return (msg("intake.place.again"),)

    def again_options(session: Session) -> tuple[Option, ...]:
        return (*place_options(session), option("rather_not", msg("intake.rating.rather_not")))

    def again_parse(text: str, session: Session) -> Parsed:
        return parse_place(text, session)

    def again_answered(
        session: Session, value: JsonValue, at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if value == "rather_not" and isinstance(session.answer("referral"), str):
            # They came through a partner's link: that partnership, as if they had kept it.
            return place_answered(session, REFERRAL, at)
        if value == "rather_not":
            cleared = session.without_answers(*PLACE_KEYS).with_answers(
                place_text=RATHER_NOT, place_status="withheld", place_route="fallback"
            )
            team = regions.help_for("unknown").team
            if team:
                said = msg("intake.place.fallback.sent", team=Verbatim(team))
                return cleared.with_answers(place_team=team), (SendMessage((said,)),)
            return cleared, ()
        return place_answered(session, value, at)

    def again_follow_up(session: Session, value: JsonValue) -> StepId | None:
        if value == "rather_not" and not isinstance(session.answer("referral"), str):
            return None
        return place_follow_up(session, value)

    steps += [
        Step(
            id=S_PLACE,
            prompt=place_prompt,
            label=msg("intake.place.label"),
            options=place_options,
            text=parse_place,
            store="place_text",
            on_answer=place_answered,
            follow_up=place_follow_up,
            next=after_place,
        ),
        Step(
            id=S_PLACE_PICK,
            prompt=msg("intake.place.pick"),
            label=msg("intake.place.label"),
            options=pick_place_options,
            store="place",
            on_answer=place_picked,
            follow_up=lambda s, _v: (
                S_PLACE_UNCOVERED
                if s.answer("place_route") != "partnership"
                else (S_PLACE_AGE if age_blocked(s) is not None else None)
            ),
            next=after_place,
        ),
        Step(
            id=S_PLACE_POSTCODE,
            prompt=msg("intake.place.postcode"),
            label=msg("intake.place.label"),
            options=(option("dont_know", msg("intake.rating.dont_know")),),
            text=postcode_parse,
            store="place_text",
            skippable=False,
            on_answer=postcode_answered,
            follow_up=postcode_follow_up,
            next=after_place,
        ),
        uncovered,
        # Sessions saved before coverage came at the place question may rest on the old
        # "outside Flanders" question: it now offers the same as ``place_uncovered``.
        replace(uncovered, id=S_LEGACY_PLACE_OUTSIDE),
        Step(
            id=S_PLACE_END,
            prompt=msg("intake.place.end"),
            label=msg("intake.place.label"),
            waits=False,
            next=None,
        ),
        Step(
            id=S_PLACE_AGAIN,
            prompt=again_prompt,
            label=msg("intake.place.label"),
            options=again_options,
            text=again_parse,
            store="place_text",
            skippable=False,
            back=False,
            on_answer=again_answered,
            follow_up=again_follow_up,
            next=S_SUMMARY,
        ),
    ]

    # 5. Life domains: the named ones, consent per category just before its first domain,
    #    then "Is er nog iets?".
    for d in DOMAINS:
        steps += _domain_steps(d)

    def consent_answered(
        category: str,
    ) -> Callable[[Session, JsonValue, datetime], tuple[Session, tuple[Effect, ...]]]:
        dependent = CONSENT_DOMAINS[category]
        keys = tuple(k for d in dependent for k in (rating_key(d), help_key(d)))

        def answered(
            session: Session, value: JsonValue, at: datetime
        ) -> tuple[Session, tuple[Effect, ...]]:
            given = value == "yes"
            record = RecordConsent(category, given, notice_version, at)
            if given:
                return session, (record,)
            # "No" also forgets that their words pointed to a domain of this category.
            kept: dict[str, JsonValue] = {
                key: [d for d in _ids(session.answer(key)) if d not in dependent]
                for key in ("domains", "more_domains")
                if key in session.answers
            }
            return session.without_answers(*keys).with_answers(**kept), (record,)

        return answered

    # Sessions saved before per-category consent may rest on the one consent question for all
    # three categories; it still works for them (new sessions never reach it).
    legacy_keys = tuple(
        k for d in CONSENT_DOMAINS[LEGACY_CONSENT] for k in (rating_key(d), help_key(d))
    )

    def legacy_consent_answered(
        session: Session, value: JsonValue, at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        given = value == "yes"
        record = RecordConsent(LEGACY_CONSENT, given, notice_version, at)
        if given:
            return session, (record,)
        sensitive = CONSENT_DOMAINS[LEGACY_CONSENT]
        kept: dict[str, JsonValue] = {
            key: [d for d in _ids(session.answer(key)) if d not in sensitive]
            for key in ("domains", "more_domains")
            if key in session.answers
        }
        return session.without_answers(*legacy_keys).with_answers(**kept), (record,)

    steps.append(
        Step(
            id=S_LEGACY_CONSENT,
            prompt=lambda _s: (msg("intake.consent.ask"), msg("intake.consent.why")),
            label=CONSENT_LABELS["health"],
            options=(
                option("yes", msg("intake.consent.yes")),
                option("no", msg("intake.consent.no")),
            ),
            store=consent_key(LEGACY_CONSENT),
            skippable=False,
            on_answer=legacy_consent_answered,
            next=_next_domain,
        )
    )

    for category in CONSENT_CATEGORIES:
        steps.append(
            Step(
                id=consent_step(category),
                prompt=_consent_prompt(category),
                label=CONSENT_LABELS[category],
                options=(
                    option("yes", msg("intake.consent.yes")),
                    option("no", msg("intake.consent.no")),
                ),
                store=consent_key(category),
                # "Nee" is the skip: consent must be an explicit yes or no.
                skippable=False,
                on_answer=consent_answered(category),
                next=_next_domain,
            )
        )

    def more_prompt(session: Session) -> Sequence[Part]:
        if domain_order(session):
            return (msg("intake.more.ask"),)
        return (msg("intake.more.ask_first"),)

    def more_options(session: Session) -> tuple[Option, ...]:
        rated = bool(domain_order(session))
        none = option(
            "none", msg("intake.more.none" if rated else "intake.more.nothing"), next=S_CONTACT
        )
        topics = tuple(option(d, domain(d).label) for d in _open_domains(session))
        return (none, *topics, option("all", msg("intake.more.all")))

    def more_answered(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if value == "all":
            return session.with_answers(more="all"), ()
        if isinstance(value, str) and value in DOMAIN_IDS:
            added: list[JsonValue] = [*_ids(session.answer("more_domains")), value]
            return session.with_answers(more_domains=added), ()
        return session, ()

    steps.append(
        Step(
            id=S_MORE,
            prompt=more_prompt,
            label=msg("intake.domains.label"),
            options=more_options,
            columns=(1, 2, 2, 2, 2, 2, 1),
            record=False,
            # "Nee, dat is alles" is the way on; a skip would only ask this again.
            skippable=False,
            on_answer=more_answered,
            next=_next_domain,
        )
    )

    # 6. Contact: the moment only matters for a phone call.
    def contact_answered(
        session: Session, value: JsonValue, _at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        # Keep only the address that belongs to the chosen way: fewer personal data at rest.
        drop = [
            k for k, way in (("contact_phone", "phone"), ("contact_email", "email")) if value != way
        ]
        if value != "phone":
            drop.append("moment")
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

    def after_name(session: Session) -> StepId:
        place = session.answer("place_text")
        missing = place is None or (isinstance(place, str) and place in UNANSWERED)
        if (
            missing
            and S_PLACE_AGAIN not in session.history
            and (session.answer("place_route") is None)
        ):
            return S_PLACE_AGAIN
        return S_SUMMARY

    steps += [
        Step(
            id=S_CONTACT,
            prompt=msg("intake.contact.ask"),
            label=msg("intake.contact.label"),
            options=tuple(option(k, v) for k, v in CONTACTS.items()),
            on_answer=contact_answered,
            follow_up=contact_follow_up,
            next=S_NAME,
        ),
        Step(
            id=S_CONTACT_PHONE,
            prompt=msg("intake.contact.phone.ask"),
            label=msg("intake.contact.phone.label"),
            text=parse_phone,
            follow_up=lambda _s, _v: S_MOMENT,
            next=S_NAME,
        ),
        Step(
            id=S_CONTACT_EMAIL,
            prompt=msg("intake.contact.email.ask"),
            label=msg("intake.contact.email.label"),
            text=parse_email,
            next=S_NAME,
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
            next=after_name,
        ),
    ]

    # 7. Summary, editable; "Verstuur" hands it over.
    def summary_answered(
        session: Session, value: JsonValue, at: datetime
    ) -> tuple[Session, tuple[Effect, ...]]:
        if value == "send":
            return session, (SubmitIntake(at),)
        return session, ()

    def edit(value: str, what: Msg, target: StepId) -> Option:
        return option(value, msg("intake.summary.edit", what=what), next=target, edit=True)

    def summary_options(session: Session) -> tuple[Option, ...]:
        found = [
            option("send", msg("intake.summary.send")),
            edit("edit_words", msg("intake.words.label"), S_WORDS),
            edit("edit_age", msg("intake.age.label"), S_AGE),
            edit("edit_place", msg("intake.place.label"), S_PLACE),
            edit("edit_domains", msg("intake.domains.label"), S_EDIT_DOMAINS),
            edit("edit_contact", msg("intake.contact.label"), S_CONTACT),
        ]
        if session.answer("contact") == "phone":
            found.append(edit("edit_moment", msg("intake.moment.label"), S_MOMENT))
        found.append(edit("edit_name", msg("intake.name.label"), S_NAME))
        return tuple(found)

    def edit_domain_options(session: Session) -> tuple[Option, ...]:
        shown = [
            option(d, domain(d).label)
            for d in DOMAIN_IDS
            if consent_answer(session.answers, d) != "no"
        ]
        for category in CONSENT_CATEGORIES:
            if session.answer(consent_key(category)) in ("yes", "no"):
                shown.append(option(f"consent_{category}", CONSENT_LABELS[category]))
        return tuple(shown)

    def edit_domain_follow_up(session: Session, value: JsonValue) -> StepId | None:
        if isinstance(value, str) and value.startswith("consent_"):
            return StepId(value)
        if isinstance(value, str) and value in DOMAIN_IDS:
            category = domain(value).consent
            if category is not None and consent_answer(session.answers, value) != "yes":
                return consent_step(category)
            return domain_step(value)
        return None

    steps += [
        Step(
            id=S_SUMMARY,
            prompt=summary_parts,
            label=msg("intake.summary.label"),
            options=summary_options,
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
            _in_scope(session.answer("age"), widest) != "ok"
            or session.answer("place_route") == "stop"
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
        say=say,
    )


def consent_question(category: str) -> tuple[Msg, ...]:
    """The parts of the consent question of ``category`` (hashed into the consent record)."""
    return (*_CONSENT_ASK[category], msg("intake.consent.why"))


def _consent_prompt(category: str) -> Callable[[Session], Sequence[Part]]:
    def prompt(_session: Session) -> Sequence[Part]:
        return consent_question(category)

    return prompt


def _domain_steps(d: Domain) -> list[Step]:
    def prompt(session: Session) -> Sequence[Part]:
        named = selected_domains(session)
        parts: list[Part] = []
        if d.id in named and len(named) > 1 and session.return_to is None:
            parts.append(msg("intake.domain.progress", n=named.index(d.id) + 1, total=len(named)))
        parts.append(d.ask)
        return parts

    def options(session: Session) -> tuple[Option, ...]:
        ratings = tuple(option(value, label) for value, label in RATINGS.items())
        if session.return_to is not None or session.answer("more") != "all":
            # "Dat is genoeg" ends the round of all domains; otherwise there is none to end.
            return ratings
        return (*ratings, option("enough", msg("intake.rating.enough"), next=S_CONTACT))

    def parse_rating(text: str, session: Session) -> Parsed:
        clean = ascii_digits(text).strip()
        value = _RATING_SYMBOLS.get(clean, clean)
        if value in ("1", "2", "3", "4", "5"):
            return Parsed(value=value)
        spoken = rating_in_words(text, session.language)
        if spoken is not None:
            return Parsed(value=spoken)
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
            next=_next_domain,
        ),
        Step(
            id=help_step(d.id),
            prompt=msg("intake.help.ask", domain=d.label),
            label=msg("intake.help.label", domain=d.label),
            options=tuple(option(k, v) for k, v in HELPS.items()),
            columns=2,
            text=help_text,
            store=help_key(d.id),
            next=_next_domain,
        ),
    ]


# --- the summary card -----------------------------------------------------------------------


def _answer_text(value: JsonValue, labels: Mapping[str, Msg] | None = None) -> Param:
    if value is None:
        return msg("intake.summary.empty")
    if isinstance(value, str) and value in _MARKERS:
        return _MARKERS[value]
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


def summary_rows(session: Session) -> list[Msg]:
    """The lines of the summary card (also the readable ``/mijngegevens``)."""
    a = session.answer
    rows: list[Msg] = []
    words = a("own_words")
    words_value = msg("intake.words.dont_know") if words == "dont_know" else _answer_text(words)
    rows.append(_line(msg("intake.words.label"), words_value))
    rows.append(_line(msg("intake.age.label"), _answer_text(a("age"))))
    place_label, partnership = a("place_label"), a("place_partnership")
    place: Param = (
        Verbatim(place_label) if isinstance(place_label, str) else _answer_text(a("place_text"))
    )
    if a("place_status") == "referral" and isinstance(partnership, str):
        place = msg("intake.place.referral.label", partnership=Verbatim(partnership))
    rows.append(_line(msg("intake.place.label"), place))
    if a("place_route") == "partnership" and isinstance(partnership, str):
        rows.append(_line(msg("intake.summary.to"), Verbatim(partnership)))
    elif a("place_route") == "fallback" and isinstance(a("place_team"), str):
        rows.append(_line(msg("intake.summary.to"), Verbatim(str(a("place_team")))))

    rated = [d for d in domain_order(session) if rating_key(d) in session.answers]
    if not rated:
        rows.append(_line(msg("intake.domains.label"), msg("intake.summary.empty")))
    for d in rated:
        rating = _answer_text(a(rating_key(d)), RATINGS)
        helped = a(help_key(d))
        if helped is not None and not (isinstance(helped, str) and helped in UNANSWERED):
            helps = _answer_text(helped, HELPS)
            rating = msg("intake.summary.with_help", rating=rating, help=helps)
        rows.append(_line(domain(d).label, rating))
    for category in CONSENT_CATEGORIES:
        consent = a(consent_key(category))
        if consent in ("yes", "no"):
            given = msg("intake.consent.yes") if consent == "yes" else msg("intake.consent.no")
            rows.append(_line(CONSENT_LABELS[category], given))

    way = a("contact")
    contact: Param = _answer_text(way, CONTACTS)
    phone, email = a("contact_phone"), a("contact_email")
    if way == "phone" and isinstance(phone, str) and phone not in UNANSWERED:
        contact = Verbatim(format_phone(phone))
    elif way == "email" and isinstance(email, str) and email not in UNANSWERED:
        contact = Verbatim(email)
    rows.append(_line(msg("intake.contact.label"), contact))
    if way == "phone":
        rows.append(_line(msg("intake.moment.label"), _answer_text(a("moment"), MOMENTS)))
    rows.append(_line(msg("intake.name.label"), _answer_text(a("name"))))
    return rows


def summary_parts(session: Session) -> Sequence[Part]:
    """The card: every answer, who will see it, and what the buttons do."""
    return (
        msg("intake.summary.title"),
        lines(summary_rows(session)),
        msg("intake.summary.who"),
        msg("intake.summary.hint"),
    )
