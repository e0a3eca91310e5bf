"""The dashboard's teamwork pages (issue #15): referral links with their QR posters, a coach's
personal invitation for one young person, and the case discussion of the team's meeting.

Rules of this module (those of :mod:`bot.team.views` apply; its handlers are listed there):

* A coordinator makes and lists the links of their own partnership only: the partnership is
  the account's, never a form field, and a poster of another partnership's link is a 404 (the
  link is read and compared with the account's partnership before anything is drawn). A link
  is made as ``opstap referral create`` makes it (:mod:`bot.referral.codes`,
  :mod:`bot.referral.poster`): the same code, deep link, web link and QR poster.
* A personal invitation (:func:`bot.referral.feature.add_personal_invite`, as ``/uitnodigen``)
  is the signed-in account's coach's, valid 14 days, used once; its link is shown once, on the
  answer to the POST (``no-store``), and only its hash is stored.
* The case discussion lists the open cases in scope (the data layer's, as the queue), a page
  at a time, each with its life-domain profile (intake and latest rating) as a compact chart
  (``<meter>``, no script, no inline style) beside the numbers. The card privacy of the case
  page applies: a first name only where the case page shows the name (the case's coach and
  the coordinators, after acceptance); sensitive domains are on the card only with consent
  (:func:`flows.routing.card.card_answers`), so the profile shows what the card may show.
* Every creation, every poster download and every view of the case discussion writes an
  audit row.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from bot.referral.codes import new_link_code, telegram_link, web_link
from bot.referral.feature import INVITE_VALID as PERSONAL_INVITE_VALID
from bot.referral.feature import add_personal_invite
from bot.referral.poster import png_bytes, svg_text
from bot.team import views
from bot.team.app import TeamDeps, address, render, user_of
from bot.team.stats import intake_scores, latest_scores
from flows.routing.card import rated_domains
from flows.text import Verbatim, msg
from storage.appointments_port import RatingRecord
from storage.referral import referrals_of
from storage.referral_port import CODE, MAX_SOURCE, ReferralLink
from storage.routing_port import CaseRecord

MESSAGES = {
    "link_made": "De link en de QR-code zijn klaar.",
    "bad_source": f"Geef de partner of de plek van de affiche een naam (1 tot {MAX_SOURCE} tekens),"
    " nooit de naam van een persoon.",
    "bad_days": "Geldig: laat leeg, of kies 1 tot 3650 dagen.",
    "no_bot": "De link lukte niet: de naam van de bot is niet bekend. Vraag het aan de beheerder.",
    "no_coach": "Je account is niet aan een actieve coach gekoppeld. Vraag het aan de beheerder.",
}
MAX_DAYS = 3650
MEETING_PAGE = 25


def _message(request: web.Request) -> str | None:
    return MESSAGES.get(request.query.get("m", ""))


def _caption(deps: TeamDeps, name: str) -> str:
    translator = deps.handoff.service.translator
    return translator.render(msg("referral.poster.caption", partnership=Verbatim(name)), "nl")


async def _username(deps: TeamDeps) -> str | None:
    try:
        return await deps.bot_username()
    except Exception:
        return None


# --- referral links and posters ---------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    link: ReferralLink
    telegram: str | None
    web: str | None
    created: str
    until: str
    valid: bool


async def referrals(request: web.Request) -> web.StreamResponse:
    deps = views.deps_of(request)
    user = user_of(request)
    now = deps.clock.now()
    links: list[ReferralLink] = []
    if user.partnership is not None:
        async with deps.store.transaction() as t:
            links = await referrals_of(t.core).links(user.partnership)
    username = await _username(deps) if links else None
    rows = [
        LinkRow(
            link=link,
            telegram=telegram_link(username, link.code) if username else None,
            web=web_link(deps.public_url, link.code) if deps.public_url else None,
            created=views._day(deps, link.created_at),
            until=views._day(deps, link.expires_at) if link.expires_at else "-",
            valid=link.valid_at(now),
        )
        for link in reversed(links)  # the newest first
    ]
    partnership = deps.directory.partnership(user.partnership or "")
    return render(
        request,
        "referrals.html",
        rows=rows,
        partnership=partnership.name if partnership else user.partnership,
        max_source=MAX_SOURCE,
        max_days=MAX_DAYS,
        message=_message(request),
    )


async def referral_create(request: web.Request) -> web.StreamResponse:
    deps = views.deps_of(request)
    user = user_of(request)
    form = await views._form(request)
    partnership = deps.directory.partnership(user.partnership or "")
    if partnership is None or partnership.role == "fallback":
        raise web.HTTPNotFound()
    source = " ".join(form.get("source", "").split())
    if not 1 <= len(source) <= MAX_SOURCE:
        raise web.HTTPSeeOther("/team/referrals?m=bad_source")
    days_text = form.get("days", "").strip()
    days: int | None = None
    if days_text:
        if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
            raise web.HTTPSeeOther("/team/referrals?m=bad_days")
        days = int(days_text)
    # As the command line: the bot's name must be known before anything is stored.
    if await _username(deps) is None:
        raise web.HTTPSeeOther("/team/referrals?m=no_bot")
    now = deps.clock.now()
    link = ReferralLink(
        code=new_link_code(),
        partnership=partnership.id,
        source=source,
        created_at=now,
        expires_at=now + timedelta(days=days) if days is not None else None,
    )
    async with deps.store.transaction() as t:
        await referrals_of(t.core).add_link(link)
        await t.team.audit(
            at=now,
            user=user,
            action="referral.create",
            address=address(request),
            target=link.code,
        )
    raise web.HTTPSeeOther("/team/referrals?m=link_made")


async def _scoped_link(request: web.Request, suffix: str) -> tuple[ReferralLink, str, str]:
    """The link of the account's partnership named in the path, its deep link and caption."""
    deps = views.deps_of(request)
    user = user_of(request)
    code = request.match_info["code"]
    if CODE.fullmatch(code) is None or user.partnership is None:
        raise web.HTTPNotFound()
    username = await _username(deps)
    if username is None:
        raise web.HTTPNotFound()
    async with deps.store.transaction() as t:
        link = await referrals_of(t.core).link(code)
        if link is None or link.partnership != user.partnership:
            raise web.HTTPNotFound()
        download = request.query.get("download") == "1"
        if download:
            await t.team.audit(
                at=deps.clock.now(),
                user=user,
                action=f"referral.{suffix}",
                address=address(request),
                target=link.code,
            )
    partnership = deps.directory.partnership(link.partnership)
    caption = _caption(deps, partnership.name if partnership else link.partnership)
    return link, telegram_link(username, link.code), caption


def _download(request: web.Request, response: web.Response, name: str) -> web.Response:
    if request.query.get("download") == "1":
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


async def referral_png(request: web.Request) -> web.StreamResponse:
    link, deep_link, caption = await _scoped_link(request, "png")
    buffer = io.BytesIO()
    png_bytes(deep_link, caption).save(buffer, format="PNG", optimize=True)
    response = web.Response(body=buffer.getvalue(), content_type="image/png")
    return _download(request, response, f"{link.code}.png")


async def referral_svg(request: web.Request) -> web.StreamResponse:
    from bot.team.app import SVG_CSP

    link, deep_link, caption = await _scoped_link(request, "svg")
    response = web.Response(
        body=svg_text(deep_link, caption).encode("utf-8"), content_type="image/svg+xml"
    )
    response.headers["Content-Security-Policy"] = SVG_CSP
    return _download(request, response, f"{link.code}.svg")


# --- a coach's personal invitation -----------------------------------------------------------


async def invite_form(request: web.Request) -> web.StreamResponse:
    return render(
        request,
        "invite.html",
        link=None,
        web=None,
        until=None,
        valid_days=PERSONAL_INVITE_VALID.days,
        message=_message(request),
    )


async def invite_create(request: web.Request) -> web.StreamResponse:
    deps = views.deps_of(request)
    user = user_of(request)
    if user.coach is None:
        raise web.HTTPSeeOther("/team/invite?m=no_coach")
    username = await _username(deps)
    if username is None:
        raise web.HTTPSeeOther("/team/invite?m=no_bot")
    now = deps.clock.now()
    async with deps.store.transaction() as t:
        coach = await t.team.coach(user.scope(), user.coach)
        if coach is None or not coach.active:
            raise web.HTTPSeeOther("/team/invite?m=no_coach")
        code, until = await add_personal_invite(t.core, coach, now)
        await t.team.audit(
            at=now, user=user, action="invite.create", address=address(request), target=coach.id
        )
    # Shown once, on this answer only (no-store); only its hash is stored.
    return render(
        request,
        "invite.html",
        link=telegram_link(username, code),
        web=web_link(deps.public_url, code) if deps.public_url else None,
        until=views._local(deps, until),
        valid_days=PERSONAL_INVITE_VALID.days,
    )


# --- the case discussion ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileRow:
    label: str
    start: int | None
    latest: int | None


@dataclass(frozen=True)
class MeetingCase:
    case: CaseRecord
    first_name: str | None
    status: str
    coach_name: str
    place: str
    since: str
    safety: bool
    profile: tuple[ProfileRow, ...]


def _first_name(deps: TeamDeps, case: CaseRecord) -> str:
    name = case.intake.get("name")
    if isinstance(name, str) and name.split():
        return name.split()[0]
    return deps.handoff.writer.young_name(case.intake)


def _profile(deps: TeamDeps, case: CaseRecord, ratings: list[RatingRecord]) -> list[ProfileRow]:
    start = intake_scores(case, ratings)
    latest = latest_scores(ratings)
    domains = [r.domain for r in rated_domains(case.intake)]
    domains += [d for d in start if d not in domains]
    return [ProfileRow(views._domain(deps, d), start.get(d), latest.get(d)) for d in domains]


async def meeting(request: web.Request) -> web.StreamResponse:
    deps = views.deps_of(request)
    user = user_of(request)
    scope = user.scope()
    number = views._page_number(request)
    async with deps.store.transaction() as t:
        page = await t.team.queue(scope, offset=(number - 1) * MEETING_PAGE, limit=MEETING_PAGE)
        ids = tuple(c.id for c, _ in page.rows)
        ratings = await t.team.ratings_by_case(scope, ids)
        coaches = await t.team.coaches(scope)
        await t.team.audit(
            at=deps.clock.now(),
            user=user,
            action="meeting.view",
            address=address(request),
            target=f"p{number}:{len(ids)}",
        )
    pages = max(1, -(-page.paged // MEETING_PAGE))
    if number > pages:
        raise web.HTTPNotFound()
    names = {c.id: c.first_name for c in coaches}
    rows = []
    for case, group in page.rows:
        place = case.intake.get("place_label")
        rows.append(
            MeetingCase(
                case=case,
                first_name=_first_name(deps, case) if views._full_view(user, case) else None,
                status=views.STATUS_LABELS.get(case.status, case.status),
                coach_name=names.get(case.coach, "-") if case.coach else "-",
                place=place if isinstance(place, str) else "-",
                since=views._day(deps, case.created_at),
                safety=group == 0,
                profile=tuple(_profile(deps, case, ratings.get(case.id, []))),
            )
        )
    partnership = deps.directory.partnership(user.partnership or "")
    return render(
        request,
        "meeting.html",
        rows=rows,
        page=number,
        pages=pages,
        total=sum(page.counts.values()),
        partnership=partnership.name if partnership else user.partnership,
    )
