"""The dashboard's pages and form handlers (Dutch: the team works in Dutch).

Rules of this module:

* A handler runs behind :func:`bot.team.app._guard` (session, CSRF, permission) and reads cases
  and coaches only through the scoped queries of :class:`storage.team_sql.SqlTeam`: anything
  they do not return is a 404, whether it exists or not.
* Every view of a case, every export and every change writes an audit row in the transaction
  that read or changed it (changes made by a coach-side operation: right after it).
* A form answers with a redirect (303) to a page that says what happened by a fixed code
  (``?m=accepted``); nothing typed is echoed in a URL.
* Before a case is accepted, a coach who is not its coach sees what they need to decide
  (domains, language, municipality, urgency, contact channel), not the name, phone or the
  young person's own words; after acceptance the case's coach and the coordinators see the
  whole card and the conversation.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.coach.invites import INVITE_VALID, invite_again, invite_link
from bot.team import charts
from bot.team.actions import TeamActions
from bot.team.app import (
    RAW,
    TEAM_KEY,
    TeamDeps,
    address,
    clear_session_cookie,
    login_token_ok,
    new_login_token,
    render,
    set_login_cookie,
    set_session_cookie,
    user_of,
)
from bot.team.auth import LoggedIn, session_hash
from bot.team.stats import (
    Stats,
    compute,
    export_rows,
    intake_scores,
    latest_scores,
    plotted,
    publish,
    week_bounds,
)
from flows.appointments import Appointment, AppointmentId
from flows.ids import CaseId, CoachId
from flows.intake.domains import DOMAIN_IDS
from flows.routing.card import rated_domains, urgency
from flows.routing.directory import Partnership
from storage.appointments_port import RatingRecord
from storage.case_team_port import CASE_TEAM_KEY
from storage.handovers_port import HANDOVERS_KEY, HandoverRecord
from storage.referral import referrals_of
from storage.routing_port import CASE_OUTCOMES, CaseRecord, CoachRecord, OfferRecord
from storage.team_sql import TeamScope, TeamTransaction, TeamUser

log = logging.getLogger(__name__)

MESSAGES = {
    "accepted": "Je hebt dit dossier opgenomen.",
    "assigned": "Het dossier is nu van de gekozen coach.",
    "closed": "Het dossier is afgesloten.",
    "reopened": "Het dossier is heropend.",
    "noted": "Je notitie is bewaard.",
    "proposed": "Het voorstel is naar de jongere gestuurd.",
    "attendance": "Bewaard.",
    "refused": "Dat lukte niet: het dossier of de afspraak is intussen veranderd.",
    "empty": "Je notitie is leeg.",
    "too_long": "Je notitie is te lang (maximaal 4000 tekens).",
    "bad_input": "Kijk de velden na: er ontbreekt iets of het klopt niet.",
    "no_coach": "Je account is niet aan een coach gekoppeld. Vraag het aan de beheerder.",
    "deactivated": "De coach krijgt geen nieuwe dossiers meer.",
    "reactivated": "De coach krijgt weer dossiers.",
    "absence": "De afwezigheid is bewaard.",
    "disabled": "Het account is uitgeschakeld.",
    "ended": "De sessie is beëindigd.",
    "ended_all": "Je andere sessies zijn beëindigd.",
    "confirm": "Dat lukte niet: je wachtwoord klopt niet. Na te veel pogingen moet je 15 minuten"
    " wachten.",
}
NOTE_MAX = 4000
STATUS_LABELS = {
    "waiting": "wacht op een coach",
    "offered": "aangeboden",
    "escalated": "teamwachtrij",
    "open": "lopend",
    "closed": "afgesloten",
}
ATTENDANCE = {"came": "Gekomen", "missed": "Niet gekomen", "moved": "Verzet", "cancel": "Annuleren"}
APPOINTMENT_LABELS = {
    "proposed": "voorgesteld",
    "booked": "vastgelegd",
    "cancelled": "geannuleerd",
    "attended": "gekomen",
    "missed": "niet gekomen",
    "rescheduled": "verzet",
}


def deps_of(request: web.Request) -> TeamDeps:
    return request.app[TEAM_KEY]


def _tz(deps: TeamDeps) -> ZoneInfo:
    return ZoneInfo(deps.timezone)


def _local(deps: TeamDeps, moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(_tz(deps)).strftime("%d-%m-%Y %H:%M")


def _day(deps: TeamDeps, moment: datetime) -> str:
    return moment.astimezone(_tz(deps)).strftime("%d-%m-%Y")


def _actions(deps: TeamDeps) -> TeamActions:
    return TeamActions(deps.handoff, deps.relay, deps.booking)


def _label(deps: TeamDeps, message_id: str) -> str:
    return deps.handoff.writer.text(message_id)


def _domain(deps: TeamDeps, domain: str) -> str:
    return deps.handoff.writer.domain(domain)


def _case_id(request: web.Request) -> CaseId:
    value = request.match_info["case"]
    if not value.isdigit() or len(value) > 12:
        raise web.HTTPNotFound()
    return CaseId(value)


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _back(case_id: str, code: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/team/cases/{case_id}?m={code}")


def _message(request: web.Request) -> str | None:
    return MESSAGES.get(request.query.get("m", ""))


# --- login ----------------------------------------------------------------------------------


async def stylesheet(request: web.Request) -> web.StreamResponse:
    body = files("bot.team").joinpath("static/team.css").read_text(encoding="utf-8")
    response = web.Response(text=body, content_type="text/css", charset="utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    return _login_page(request, None)


def _login_page(request: web.Request, problem: str | None, status: int = 200) -> web.Response:
    token = new_login_token()
    page = render(request, "login.html", http_status=status, problem=problem, login_csrf=token)
    set_login_cookie(request, page, token)
    return page


async def login(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    if not login_token_ok(request, form.get("login_csrf")):
        return _login_page(request, "Dit formulier is verlopen. Probeer opnieuw.", 403)
    deps = deps_of(request)
    result = await deps.auth.login(
        form.get("email", ""),
        form.get("password", "")[:256],
        form.get("code", ""),
        address(request),
    )
    if not isinstance(result, LoggedIn):
        return _login_page(
            request,
            "Aanmelden lukte niet. Kijk je e-mailadres, wachtwoord en code na. Na te veel"
            " pogingen moet je 15 minuten wachten.",
            401,
        )
    response = web.HTTPSeeOther("/team")
    set_session_cookie(request, response, result.raw_session)
    response.del_cookie(deps.login_cookie, path="/")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    raw = request[RAW]
    await deps.auth.logout(raw, user_of(request), address(request))
    response = web.HTTPSeeOther("/team/login")
    clear_session_cookie(request, response)
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    user = user_of(request)
    raise web.HTTPSeeOther("/team/admin" if user.role == "admin" else "/team/queue")


# --- one's own sessions (ASVS 7.5.2) --------------------------------------------------------

SESSION_HANDLE = 16  # hex characters of the session's hash that name it in the form


async def sessions(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    current = session_hash(request[RAW])
    async with deps.store.transaction() as t:
        found = await t.team.sessions_of(user.id)
    rows = [
        {
            "handle": s.id_hash[:SESSION_HANDLE],
            "current": s.id_hash == current,
            "started": _local(deps, s.created_at),
            "seen": _local(deps, s.last_seen_at),
            "address": s.address,
        }
        for s in found
    ]
    return render(request, "sessions.html", rows=rows, message=_message(request))


async def end_sessions(request: web.Request) -> web.StreamResponse:
    """End one other session, or all others, after the password was given again."""
    deps = deps_of(request)
    user = user_of(request)
    form = await _form(request)
    which = form.get("session", "")
    if not await deps.auth.confirm(user, form.get("password", "")[:256], address(request)):
        raise web.HTTPSeeOther("/team/sessions?m=confirm")
    current = session_hash(request[RAW])
    async with deps.store.transaction() as t:
        if which == "others":
            ended = await t.team.end_sessions_of_except(user.id, current)
        else:
            own = [
                s.id_hash
                for s in await t.team.sessions_of(user.id)
                if len(which) == SESSION_HANDLE and s.id_hash[:SESSION_HANDLE] == which
            ]
            if len(own) != 1 or own[0] == current:
                raise web.HTTPSeeOther("/team/sessions?m=bad_input")
            await t.team.end_session(own[0])
            ended = 1
        await t.team.audit(
            at=deps.clock.now(),
            user=user,
            action="session.end",
            address=address(request),
            target=f"{which}:{ended}",
        )
    raise web.HTTPSeeOther("/team/sessions?m=" + ("ended_all" if which == "others" else "ended"))


# --- the queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    case: CaseRecord
    group: int  # 0 safety, 1 unclaimed or escalated, 2 the rest
    safety: bool
    escalated: bool
    coach_name: str
    offered_to: str
    deadline: str
    domains: str
    place: str
    status: str
    created: str


def _escalated(case: CaseRecord, offers: list[OfferRecord]) -> bool:
    return (
        case.status == "escalated"
        or case.escalated_at is not None
        or len(offers) > 1
        or any(o.reasons.get("decided_by") == "escalation" for o in offers)
    )


QUEUE_PAGE = 50
"""Cases per page of the queue: open safety events come on every page, all of them; then
unclaimed and escalated cases, then the rest, 50 at a time (a phone scrolls through 50)."""


def _page_number(request: web.Request) -> int:
    value = request.query.get("p", "1")
    if not value.isdigit() or len(value) > 6 or int(value) < 1:
        raise web.HTTPNotFound()
    return int(value)


async def queue(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    scope = user.scope()
    number = _page_number(request)
    async with deps.store.transaction() as t:
        page = await t.team.queue(scope, offset=(number - 1) * QUEUE_PAGE, limit=QUEUE_PAGE)
        coaches = await t.team.coaches(scope)
        loads = await t.core.cases.loads(tuple(c.id for c in coaches))
        offers = await t.team.offers_by_case(
            scope, include_closed=False, only=tuple(c.id for c, _ in page.rows)
        )
        erased = await t.team.erased_cases(scope) if number == 1 else []
    pages = max(1, -(-page.paged // QUEUE_PAGE))
    if number > pages:
        raise web.HTTPNotFound()
    names = {c.id: c.first_name for c in coaches}
    rows = []
    for case, group in page.rows:
        case_offers = offers.get(case.id, [])
        open_offer = next((o for o in reversed(case_offers) if o.status == "open"), None)
        listed = case.intake.get("domains")
        domains = (
            ", ".join(_domain(deps, d) for d in listed if isinstance(d, str))
            if isinstance(listed, list)
            else ""
        )
        place = case.intake.get("place_label")
        rows.append(
            QueueRow(
                case=case,
                group=group,
                safety=group == 0,
                escalated=_escalated(case, case_offers),
                coach_name=names.get(case.coach, "-") if case.coach else "-",
                offered_to=names.get(open_offer.coach, "?") if open_offer else "-",
                deadline=_local(deps, open_offer.deadline_at) if open_offer else "-",
                domains=domains,
                place=place if isinstance(place, str) else "-",
                status=STATUS_LABELS.get(case.status, case.status),
                created=_local(deps, case.created_at),
            )
        )
    team = [
        {
            "coach": c,
            "load": loads.get(c.id, 0),
            "absent": c.is_absent(deps.clock.now()),
            "absent_until": _local(deps, c.absent_until),
        }
        for c in coaches
        if user.role == "coordinator" or c.id == user.coach
    ]
    return render(
        request,
        "queue.html",
        rows=rows,
        team=team,
        counts=[page.counts.get(g, 0) for g in (0, 1, 2)],
        page=number,
        pages=pages,
        erased=[(e, _day(deps, e.erased_at)) for e in erased],
        message=_message(request),
    )


# --- a case ---------------------------------------------------------------------------------


async def _scoped_case(t: TeamTransaction, scope: TeamScope, case_id: CaseId) -> CaseRecord:
    case = await t.team.case(scope, case_id)
    if case is None:
        raise web.HTTPNotFound()
    return case


async def _in_case_team(t: TeamTransaction, user: TeamUser, case: CaseRecord) -> bool:
    """A colleague in the case team (the young person said yes) sees the whole case and
    leaves notes for the team; acting on the case stays with its coach and the coordinator."""
    return user.coach is not None and any(
        m.coach == user.coach and m.status == "active"
        for m in await t.core[CASE_TEAM_KEY].of_case(case.id)
    )


def _full_view(user: TeamUser, case: CaseRecord) -> bool:
    if case.status not in ("open", "closed"):
        return user.role == "coordinator"
    return user.role == "coordinator" or (user.coach is not None and case.coach == user.coach)


def _summary(deps: TeamDeps, case: CaseRecord) -> list[tuple[str, str]]:
    """What a coach may see before accepting."""
    intake = case.intake
    listed = intake.get("domains")
    domains = (
        ", ".join(_domain(deps, d) for d in listed if isinstance(d, str))
        if isinstance(listed, list)
        else "-"
    )
    place = intake.get("place_label")
    contact = intake.get("contact")
    return [
        ("Domeinen", domains or "-"),
        ("Taal", _label(deps, f"coach.language.{case.language}")),
        ("Gemeente", place if isinstance(place, str) else "-"),
        ("Urgentie", _label(deps, f"coach.card.urgency.{urgency(intake)}")),
        ("Contact via", str(contact) if isinstance(contact, str) else "-"),
    ]


def _card_text(deps: TeamDeps, case: CaseRecord, offers: list[OfferRecord]) -> str:
    offer = (
        offers[-1]
        if offers
        else OfferRecord(
            0, case.id, CoachId("-"), "accepted", {}, case.created_at, case.created_at, None
        )
    )
    parts = deps.handoff.writer.card(case, offer, _local(deps, offer.deadline_at))
    return "\n\n".join(m.text for m in parts)


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    when: str
    kind: str
    text: str


async def case_page(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    scope = user.scope()
    case_id = _case_id(request)
    async with deps.store.transaction() as t:
        found = await t.team.case(scope, case_id)
        if found is None:
            erased = await t.team.erased_case(scope, case_id)
            if erased is None:
                raise web.HTTPNotFound()
            await t.team.audit(
                at=deps.clock.now(),
                user=user,
                action="case.view",
                address=address(request),
                case=erased.case,
                partnership=erased.partnership,
            )
            return render(
                request, "erased.html", case_id=erased.case, erased_on=_day(deps, erased.erased_at)
            )
        case = found
        offers = await t.core.cases.offers_of(case.id)
        messages = await t.core.cases.messages_of(case.id)
        appointments = await t.core.appointments.of_case(case.id)
        events = await t.core.safety.of(case.person)
        notes = await t.team.notes(scope, case.id)
        coaches = await t.team.coaches(scope)
        ratings = await t.core.ratings.of_case(case.id)
        handover = await t.core[HANDOVERS_KEY].latest_of_case(case.id)
        member = await _in_case_team(t, user, case)
        await t.team.audit(
            at=deps.clock.now(),
            user=user,
            action="case.view",
            address=address(request),
            case=case.id,
            partnership=case.partnership,
        )
    full = _full_view(user, case) or member
    names = {c.id: c.first_name for c in coaches}
    timeline = _timeline(deps, case, offers, messages if full else [], appointments, events, names)
    profile = _profile_rows(deps, case, ratings)
    actor = user.coach
    mine = actor is not None and case.coach == actor
    open_offer = next((o for o in offers if o.status == "open"), None)
    # A coach takes their own offer, or a case from the team queue (waiting or escalated).
    can_accept = actor is not None and (
        case.status in ("waiting", "escalated")
        or (case.status == "offered" and open_offer is not None and open_offer.coach == actor)
    )
    partnership = deps.directory.partnership(case.partnership)
    offices = [
        (str(i), f"{o.name}, {o.street}")
        for i, o in enumerate(partnership.offices if partnership else ())
    ]
    tomorrow = (deps.clock.now().astimezone(_tz(deps)) + timedelta(days=1)).date()
    return render(
        request,
        "case.html",
        case=case,
        full=full,
        summary=_summary(deps, case),
        card=_card_text(deps, case, offers) if full else None,
        name=deps.handoff.writer.young_name(case.intake) if full else None,
        status=STATUS_LABELS.get(case.status, case.status),
        coach_name=names.get(case.coach, "-") if case.coach else "-",
        timeline=timeline,
        notes=[(n, _local(deps, n.at)) for n in notes] if full else [],
        profile=profile,
        can_accept=can_accept,
        mine=mine,
        can_act=full and case.status == "open" and (mine or user.role == "coordinator"),
        coaches=[c for c in coaches if c.active],
        outcomes=[(o, _label(deps, f"coach.outcome.{o}")) for o in CASE_OUTCOMES],
        appointments=[
            (
                a,
                APPOINTMENT_LABELS.get(a.status, a.status),
                _local(deps, a.slot.starts_at)
                if a.slot
                else ", ".join(_local(deps, s.starts_at) for s in a.options),
            )
            for a in appointments
        ]
        if full
        else [],
        attendance=ATTENDANCE,
        handover=_handover_view(deps, handover, partnership) if full else None,
        offices=offices,
        day=tomorrow.isoformat(),
        message=_message(request),
        has_booking=deps.booking is not None,
    )


def _timeline(
    deps: TeamDeps,
    case: CaseRecord,
    offers: list[OfferRecord],
    messages: list[Any],
    appointments: list[Appointment],
    events: list[Any],
    names: dict[CoachId, str],
) -> list[TimelineItem]:
    items: list[tuple[datetime, str, str]] = [(case.created_at, "intake", "Intake ontvangen")]
    for offer in offers:
        who = names.get(offer.coach, offer.coach)
        items.append((offer.sent_at, "offer", f"Aangeboden aan {who}"))
        if offer.answered_at is not None:
            word = {
                "accepted": "opgenomen door",
                "declined": "geweigerd door",
                "expired": "verlopen bij",
            }.get(offer.status, offer.status)
            items.append((offer.answered_at, "offer", f"Aanbod {word} {who}"))
    for message in messages:
        who = "Jongere" if message.direction == "to_coach" else "Coach"
        items.append((message.at, "message", f"{who}: {message.text}"))
    for appointment in appointments:
        when = (
            appointment.slot.starts_at
            if appointment.slot
            else (appointment.options[0].starts_at if appointment.options else case.created_at)
        )
        items.append(
            (when, "appointment", f"Afspraak ({APPOINTMENT_LABELS.get(appointment.status, '')})")
        )
    for event in events:
        items.append((event.opened_at, "safety", "Veiligheidsmelding"))
        if event.escalated_at is not None:
            items.append((event.escalated_at, "safety", "Veiligheidsmelding naar coördinator"))
        if event.closed_at is not None:
            items.append((event.closed_at, "safety", "Veiligheidsmelding afgesloten"))
    if case.escalated_at is not None:
        items.append((case.escalated_at, "escalation", "Naar de teamwachtrij"))
    if case.fallback_at is not None:
        items.append(
            (case.fallback_at, "escalation", "Algemene dienst van de regio aan de jongere gegeven")
        )
    if case.closed_at is not None:
        items.append((case.closed_at, "case", "Dossier afgesloten"))
    items.sort(key=lambda i: i[0])
    return [TimelineItem(at, _local(deps, at), kind, text) for at, kind, text in items]


def _profile_rows(
    deps: TeamDeps, case: CaseRecord, ratings: list[RatingRecord]
) -> list[tuple[str, str, int | None, int | None]]:
    start = intake_scores(case, ratings)
    latest = latest_scores(ratings)
    domains = [r.domain for r in rated_domains(case.intake)]
    domains += [d for d in start if d not in domains]
    return [(d, _domain(deps, d), start.get(d), latest.get(d)) for d in domains]


HANDOVER_LABELS = {
    "proposed": "wacht op het antwoord van de jongere",
    "changes": "de jongere vroeg een wijziging",
    "agreed": "akkoord van de jongere",
}


def _handover_view(
    deps: TeamDeps, handover: HandoverRecord | None, partnership: Partnership | None
) -> dict[str, str | bool] | None:
    """The latest warm handover to VDAB (issue #15): where it stands and, when it waits on
    this page, whom the coordinator sends the PDF to."""
    if handover is None:
        return None
    vdab = partnership.vdab if partnership is not None else None
    return {
        "status": HANDOVER_LABELS.get(handover.status, handover.status),
        "pdf": handover.pdf is not None,
        "by_telegram": handover.delivery == "telegram",
        # Sent by Telegram, but VDAB's chat never took it: to pass on another way.
        "not_arrived": handover.delivery == "telegram_failed",
        "contact": handover.contact or "-",
        "email": (vdab.email or "-") if vdab is not None else "-",
        "sent_at": _local(deps, handover.delivered_at),
    }


async def handover_pdf(request: web.Request) -> web.StreamResponse:
    """The agreed handover's PDF, for the coordinator (or the case's coach) to send to VDAB."""
    deps = deps_of(request)
    user = user_of(request)
    async with deps.store.transaction() as t:
        case = await _scoped_case(t, user.scope(), _case_id(request))
        if not _full_view(user, case):
            raise web.HTTPNotFound()
        handover = await t.core[HANDOVERS_KEY].latest_of_case(case.id)
        if handover is None or handover.pdf is None:
            # Nothing agreed yet: back to the case page, which says where it stands.
            raise web.HTTPSeeOther(f"/team/cases/{case.id}")
        await t.team.audit(
            at=deps.clock.now(),
            user=user,
            action="handover.download",
            address=address(request),
            case=case.id,
            partnership=case.partnership,
        )
    return web.Response(
        body=handover.pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="overdracht-{case.id}.pdf"'},
    )


async def profile_chart(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    async with deps.store.transaction() as t:
        case = await _scoped_case(t, user.scope(), _case_id(request))
        ratings = await t.core.ratings.of_case(case.id)
    rows = _profile_rows(deps, case, ratings)
    svg = charts.bars(
        "Levensdomeinen: intake en laatste meting (1-5)",
        [label for _, label, _, _ in rows],
        [("Intake", [s for _, _, s, _ in rows]), ("Laatste", [n for _, _, _, n in rows])],
        maximum=5,
        horizontal=True,
    )
    return _svg(svg)


def _svg(svg: bytes) -> web.Response:
    from bot.team.app import SVG_CSP

    response = web.Response(body=svg, content_type="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    return response


# --- case actions ---------------------------------------------------------------------------


async def _acting_coach(t: TeamTransaction, user: TeamUser, case: CaseRecord) -> CoachRecord | None:
    """A coach acts as themselves; a coordinator as the case's coach."""
    if user.role == "coordinator" and case.coach is not None:
        return await t.core.coaches.get(case.coach)
    if user.coach is None:
        return None
    coach = await t.core.coaches.get(user.coach)
    return coach if coach is not None and coach.partnership == case.partnership else None


async def _audit_change(
    deps: TeamDeps, request: web.Request, action: str, case: CaseRecord, target: str | None = None
) -> None:
    async with deps.store.transaction() as t:
        await t.team.audit(
            at=deps.clock.now(),
            user=user_of(request),
            action=action,
            address=address(request),
            case=case.id,
            target=target,
            partnership=case.partnership,
        )


async def accept(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    async with deps.store.transaction() as t:
        case = await _scoped_case(t, user.scope(), _case_id(request))
        me = await t.core.coaches.get(user.coach) if user.coach else None
    if me is None or me.partnership != case.partnership:
        raise _back(case.id, "no_coach")
    result = await _actions(deps).accept(me, case.id)
    await _audit_change(deps, request, "case.accept", case, f"{me.id}:{result}")
    raise _back(case.id, "accepted" if result == "ok" else "refused")


async def assign(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    form = await _form(request)
    async with deps.store.transaction() as t:
        case = await _scoped_case(t, user.scope(), _case_id(request))
        target = await t.team.coach(user.scope(), CoachId(form.get("coach", "")))
    if target is None:
        raise _back(case.id, "bad_input")
    result = await _actions(deps).assign(case, target)
    await _audit_change(deps, request, "case.assign", case, f"{target.id}:{result}")
    raise _back(case.id, "assigned" if result == "ok" else "refused")


async def close(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    form = await _form(request)
    async with deps.store.transaction() as t:
        case = await _scoped_case(t, user.scope(), _case_id(request))
    outcome = form.get("outcome", "")
    if user.role != "coordinator" and case.coach != user.coach:
        raise _back(case.id, "refused")
    if outcome not in CASE_OUTCOMES:
        raise _back(case.id, "bad_input")
    result = await _actions(deps).close(case.id, outcome)
    await _audit_change(deps, request, "case.close", case, f"{outcome}:{result}")
    raise _back(case.id, "closed" if result == "ok" else "refused")


async def reopen(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    async with deps.store.transaction() as t:
        case = await _scoped_case(t, user.scope(), _case_id(request))
    if user.role != "coordinator" and case.coach != user.coach:
        raise _back(case.id, "refused")
    result = await _actions(deps).reopen(case)
    await _audit_change(deps, request, "case.reopen", case, result)
    raise _back(case.id, "reopened" if result == "ok" else "refused")


async def add_note(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    form = await _form(request)
    text = form.get("text", "").strip()
    async with deps.store.transaction() as t:
        case = await _scoped_case(t, user.scope(), _case_id(request))
        if not (_full_view(user, case) or await _in_case_team(t, user, case)):
            raise _back(case.id, "refused")
        if not text:
            raise _back(case.id, "empty")
        if len(text) > NOTE_MAX:
            raise _back(case.id, "too_long")
        now = deps.clock.now()
        await t.team.add_note(case.id, user, text, now)
        await t.team.audit(
            at=now,
            user=user,
            action="case.note",
            address=address(request),
            case=case.id,
            partnership=case.partnership,
        )
    raise _back(case.id, "noted")


def _option(form: dict[str, str], index: int) -> tuple[date, time, str] | None:
    day, at, place = (
        form.get(f"day{index}", ""),
        form.get(f"time{index}", ""),
        form.get(f"place{index}", ""),
    )
    if not day and not at:
        return None
    try:
        parsed_day = date.fromisoformat(day)
        parsed_time = time.fromisoformat(at).replace(second=0, microsecond=0)
    except ValueError as error:
        raise ValueError("bad option") from error
    if place not in ("t", "v") and not (place.isdigit() and len(place) == 1):
        raise ValueError("bad place")
    return parsed_day, parsed_time, place


async def propose(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    form = await _form(request)
    async with deps.store.transaction() as t:
        case = await _scoped_case(t, user.scope(), _case_id(request))
        coach = await _acting_coach(t, user, case)
    if coach is None:
        raise _back(case.id, "no_coach")
    try:
        options = [o for i in (1, 2, 3) if (o := _option(form, i)) is not None]
    except ValueError:
        raise _back(case.id, "bad_input") from None
    if not options:
        raise _back(case.id, "bad_input")
    result = await _actions(deps).propose(coach, case, options)
    await _audit_change(deps, request, "appointment.propose", case, result)
    raise _back(case.id, "proposed" if result == "ok" else "refused")


async def attendance(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    form = await _form(request)
    number = request.match_info["appointment"]
    if not number.isdigit() or len(number) > 12:
        raise web.HTTPNotFound()
    async with deps.store.transaction() as t:
        case = await _scoped_case(t, user.scope(), _case_id(request))
        coach = await _acting_coach(t, user, case)
        appointment = await t.core.appointments.get(AppointmentId(int(number)))
    if appointment is None or appointment.case != case.id:
        raise web.HTTPNotFound()
    if coach is None:
        raise _back(case.id, "no_coach")
    action = form.get("action", "")
    result = await _actions(deps).attendance(coach, case, appointment.id, action)
    await _audit_change(deps, request, "appointment.attendance", case, f"{action}:{result}")
    raise _back(case.id, "attendance" if result == "ok" else "refused")


# --- coaches --------------------------------------------------------------------------------


async def coaches(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    async with deps.store.transaction() as t:
        found = await t.team.coaches(user.scope())
        loads = await t.core.cases.loads(tuple(c.id for c in found))
    rows = _coach_rows(deps, found, loads)
    return render(
        request,
        "coaches.html",
        rows=rows,
        message=_message(request),
        link=None,
        link_for=None,
        valid_days=INVITE_VALID.days,
    )


def _coach_rows(
    deps: TeamDeps, found: list[CoachRecord], loads: dict[CoachId, int]
) -> list[dict[str, object]]:
    """The coaches page's rows: each coach with their load and absence."""
    now = deps.clock.now()
    return [
        {
            "coach": c,
            "load": loads.get(c.id, 0),
            "absent": c.is_absent(now),
            "absent_until": _local(deps, c.absent_until),
        }
        for c in found
    ]


async def _scoped_coach(t: TeamTransaction, user: TeamUser, request: web.Request) -> CoachRecord:
    coach = await t.team.coach(user.scope(), CoachId(request.match_info["coach"]))
    if coach is None:
        raise web.HTTPNotFound()
    return coach


async def _coach_change(request: web.Request, action: str, change: Any) -> CoachRecord:
    deps = deps_of(request)
    user = user_of(request)
    async with deps.store.transaction() as t:
        coach = await _scoped_coach(t, user, request)
        await change(t, coach)
        await t.team.audit(
            at=deps.clock.now(), user=user, action=action, address=address(request), target=coach.id
        )
    return coach


async def coach_invite(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    async with deps.store.transaction() as t:
        coach = await _scoped_coach(t, user, request)
    try:
        username = await deps.bot_username()
    except Exception:
        raise web.HTTPSeeOther("/team/coaches?m=bad_input") from None
    token = await invite_again(deps.handoff.service.storage, coach.id, deps.clock.now())
    if token is None:
        raise web.HTTPNotFound()
    async with deps.store.transaction() as t:
        await t.team.audit(
            at=deps.clock.now(),
            user=user,
            action="coach.invite",
            address=address(request),
            target=coach.id,
        )
        found = await t.team.coaches(user.scope())
        loads = await t.core.cases.loads(tuple(c.id for c in found))
    rows = _coach_rows(deps, found, loads)
    # Shown once, on this page only (no-store); only its hash is stored.
    return render(
        request,
        "coaches.html",
        rows=rows,
        message=None,
        link=invite_link(username, token),
        link_for=coach,
        valid_days=INVITE_VALID.days,
    )


async def coach_deactivate(request: web.Request) -> web.StreamResponse:
    async def change(t: TeamTransaction, coach: CoachRecord) -> None:
        await t.core.coaches.set_active(coach.id, False)

    coach = await _coach_change(request, "coach.deactivate", change)
    # Open offers end at once and their cases move on (the coach side's rule).
    await deps_of(request).handoff.coach_gone(coach.id)
    raise web.HTTPSeeOther("/team/coaches?m=deactivated")


async def coach_reactivate(request: web.Request) -> web.StreamResponse:
    async def change(t: TeamTransaction, coach: CoachRecord) -> None:
        await t.core.coaches.set_active(coach.id, True)

    await _coach_change(request, "coach.reactivate", change)
    raise web.HTTPSeeOther("/team/coaches?m=reactivated")


async def coach_absence(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    form = await _form(request)
    text = form.get("until", "").strip()
    until: datetime | None = None
    if text:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise web.HTTPSeeOther("/team/coaches?m=bad_input") from None
        # Absent up to and including that day: back the next morning.
        until = datetime.combine(day + timedelta(days=1), time(0), tzinfo=_tz(deps)).astimezone(UTC)
        if until <= deps.clock.now():
            raise web.HTTPSeeOther("/team/coaches?m=bad_input")

    async def change(t: TeamTransaction, coach: CoachRecord) -> None:
        await t.core.coaches.set_absent(coach.id, until)

    coach = await _coach_change(request, "coach.absence", change)
    if until is not None:
        await deps.handoff.coach_gone(coach.id)
    raise web.HTTPSeeOther("/team/coaches?m=absence")


# --- statistics and export ------------------------------------------------------------------


STATS_WEEKS = 12


async def _stats(deps: TeamDeps, user: TeamUser) -> Stats:
    """The scope's statistics from SQL aggregates: cases are decrypted only when new or changed
    (the domain counts) or when they have a later rating (progress)."""
    scope = user.scope()
    now = deps.clock.now()
    if scope.role == "coordinator" and scope.partnership is not None:
        try:
            async with deps.store.transaction() as t:
                await t.team.count_domains(scope.partnership, frozenset(DOMAIN_IDS))
        except IntegrityError:
            # Another request counted the same cases at the same moment: its counts stand.
            log.info("domain counts raced user=%s", user.id)
    async with deps.store.transaction() as t:
        facts = await t.team.stats_facts(scope, week_bounds(now, _tz(deps), STATS_WEEKS))
        cases, ratings = await t.team.progress_inputs(scope)
        blind = await t.team.blind_spots(scope)
        sources = (
            await referrals_of(t.core).source_counts(partnership=scope.partnership)
            if scope.role == "coordinator" and scope.partnership is not None
            else []
        )
    return compute(facts, cases, ratings, blind, now, _tz(deps), STATS_WEEKS, sources)


def _place_name(deps: TeamDeps, nis: str) -> str:
    """ "Tienen (24107)", and the partnerships that cover part of it."""
    from bot.routing.gazetteer import load_gazetteer

    municipality = load_gazetteer().municipality(nis)
    name = f"{municipality.name_nl} ({nis})" if municipality is not None else nis
    covering = [p.name for p, _ in deps.directory.coverage(nis)]
    return name + (f", deels: {', '.join(covering)}" if covering else "")


async def stats(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    report = publish(await _stats(deps, user), deps.report_min_count)
    partnership = deps.directory.partnership(user.partnership or "")
    return render(
        request,
        "stats.html",
        stats=report,
        partnership=partnership.name if partnership else user.partnership,
        domains=[(_domain(deps, d), n) for d, n in report.domains],
        outcomes=[(_label(deps, f"coach.outcome.{o}"), n) for o, n in report.outcomes],
        progress=[(_domain(deps, p.domain), p) for p in report.progress],
        blind=[(_place_name(deps, nis), n) for nis, n in report.blind_spots],
    )


async def stats_chart(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    found = await _stats(deps, user_of(request))
    least = deps.report_min_count
    report = publish(found, least)
    name = request.match_info["chart"]
    # A bar the table shows as "<5" is not drawn (its height would tell the count).
    if name == "intakes":
        svg = charts.bars(
            "Intakes per week",
            [w for w, _ in found.intakes_per_week],
            [("Intakes", [plotted(n, least) for _, n in found.intakes_per_week])],
        )
    elif name == "domains":
        svg = charts.bars(
            "Levensdomeinen",
            [_domain(deps, d) for d, _ in found.domains],
            [("Dossiers", [plotted(n, least) for _, n in found.domains])],
            horizontal=True,
        )
    elif name == "outcomes":
        svg = charts.bars(
            "Uitkomsten",
            [_label(deps, f"coach.outcome.{o}") for o, _ in found.outcomes],
            [("Dossiers", [plotted(n, least) for _, n in found.outcomes])],
        )
    elif name == "progress":
        svg = charts.bars(
            "Vooruitgang (gemiddelde 1-5)",
            [_domain(deps, p.domain) for p in report.progress],
            [
                ("Intake", [p.intake_mean for p in report.progress]),
                ("Laatste", [p.latest_mean for p in report.progress]),
            ],
            maximum=5,
            horizontal=True,
        )
    else:
        raise web.HTTPNotFound()
    return _svg(svg)


async def export_csv(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    report = publish(await _stats(deps, user), deps.report_min_count)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(("partnership", "metric", "key", "value"))
    writer.writerows(export_rows(user.partnership or "-", report))
    async with deps.store.transaction() as t:
        await t.team.audit(
            at=deps.clock.now(), user=user, action="export.csv", address=address(request)
        )
    day = deps.clock.now().astimezone(_tz(deps)).strftime("%Y-%m-%d")
    return web.Response(
        text=buffer.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="opstap-{user.partnership or "team"}-{day}.csv"'
            )
        },
    )


# --- audit and admin ------------------------------------------------------------------------


async def audit(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    user = user_of(request)
    async with deps.store.transaction() as t:
        rows = await t.team.audit_rows(user.scope())
    return render(request, "audit.html", rows=[(r, _local(deps, r.at)) for r in rows])


async def admin(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    async with deps.store.transaction() as t:
        users = await t.team.users()
    partnerships = [
        {"id": p.id, "name": p.name, "municipalities": len(p.area), "offices": len(p.offices)}
        for p in sorted(deps.directory.partnerships, key=lambda p: p.name)
    ]
    return render(
        request,
        "admin.html",
        users=[(u, _local(deps, u.last_login_at)) for u in users],
        partnerships=partnerships,
        message=_message(request),
    )


async def user_disable(request: web.Request) -> web.StreamResponse:
    deps = deps_of(request)
    number = request.match_info["user"]
    if not number.isdigit() or len(number) > 12:
        raise web.HTTPNotFound()
    async with deps.store.transaction() as t:
        target = await t.team.user(int(number))
        if target is None:
            raise web.HTTPNotFound()
        await t.team.set_user_active(target.id, False)
        await t.team.audit(
            at=deps.clock.now(),
            user=user_of(request),
            action="user.disable",
            address=address(request),
            target=str(target.id),
        )
    raise web.HTTPSeeOther("/team/admin?m=disabled")


# --- teamwork (issue #15): referral links, personal invitations, the case discussion --------
# The handlers live in bot.team.teamwork; the routes name them here, beside all the others.

from bot.team.teamwork import (  # noqa: E402, F401
    invite_create,
    invite_form,
    meeting,
    referral_create,
    referral_png,
    referral_svg,
    referrals,
)
