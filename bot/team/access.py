"""Who may do what in the team dashboard: roles, permissions, and every route with its own.

Rules of this module:

* Every route of ``/team`` is declared once in :data:`ROUTES` with one permission; the app adds
  exactly these routes (``tests/team/test_routes.py`` fails for a route without one).
* A role grants a fixed set of permissions (:data:`ROLE_PERMISSIONS`). A signed-in account
  without the permission gets 404, the same answer as for a case outside its scope: the
  dashboard never says that something exists elsewhere.
* Permissions say which kind of page; *which* cases and coaches is the data layer's scope
  (:class:`storage.team_sql.TeamScope`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from storage.team import TeamRole

Permission = Literal[
    "public",  # no account needed (login, the style sheet)
    "signed_in",  # any account
    "cases.read",
    "cases.act",  # accept, note, close, reopen, appointments
    "cases.assign",  # offer a case to a named coach
    "coaches.manage",
    "stats.read",
    "audit.read",
    "accounts.manage",
    "referrals.manage",  # the partnership's referral links and their QR posters
    "invites.create",  # a coach's personal invitation for one young person
]

ROLE_PERMISSIONS: dict[TeamRole, frozenset[Permission]] = {
    "coach": frozenset({"signed_in", "cases.read", "cases.act", "invites.create"}),
    "coordinator": frozenset(
        {
            "signed_in",
            "cases.read",
            "cases.act",
            "cases.assign",
            "coaches.manage",
            "stats.read",
            "audit.read",
            "referrals.manage",
            "invites.create",
        }
    ),
    "admin": frozenset({"signed_in", "accounts.manage", "audit.read"}),
}


def allowed(role: TeamRole, permission: Permission) -> bool:
    return permission == "public" or permission in ROLE_PERMISSIONS[role]


@dataclass(frozen=True)
class RouteSpec:
    method: Literal["GET", "POST"]
    path: str
    view: str  # the name of the handler in bot.team.views
    permission: Permission


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("GET", "/team/static/team.css", "stylesheet", "public"),
    RouteSpec("GET", "/team/login", "login_form", "public"),
    RouteSpec("POST", "/team/login", "login", "public"),
    RouteSpec("POST", "/team/logout", "logout", "signed_in"),
    RouteSpec("GET", "/team", "home", "signed_in"),
    RouteSpec("GET", "/team/sessions", "sessions", "signed_in"),
    RouteSpec("POST", "/team/sessions/end", "end_sessions", "signed_in"),
    RouteSpec("GET", "/team/queue", "queue", "cases.read"),
    RouteSpec("GET", "/team/cases/{case}", "case_page", "cases.read"),
    RouteSpec("GET", "/team/cases/{case}/profile.svg", "profile_chart", "cases.read"),
    RouteSpec("GET", "/team/cases/{case}/overdracht.pdf", "handover_pdf", "cases.read"),
    RouteSpec("POST", "/team/cases/{case}/accept", "accept", "cases.act"),
    RouteSpec("POST", "/team/cases/{case}/assign", "assign", "cases.assign"),
    RouteSpec("POST", "/team/cases/{case}/close", "close", "cases.act"),
    RouteSpec("POST", "/team/cases/{case}/reopen", "reopen", "cases.act"),
    RouteSpec("POST", "/team/cases/{case}/notes", "add_note", "cases.act"),
    RouteSpec("POST", "/team/cases/{case}/appointments", "propose", "cases.act"),
    RouteSpec(
        "POST",
        "/team/cases/{case}/appointments/{appointment}/attendance",
        "attendance",
        "cases.act",
    ),
    RouteSpec("GET", "/team/meeting", "meeting", "cases.read"),
    RouteSpec("GET", "/team/invite", "invite_form", "invites.create"),
    RouteSpec("POST", "/team/invite", "invite_create", "invites.create"),
    RouteSpec("GET", "/team/referrals", "referrals", "referrals.manage"),
    RouteSpec("POST", "/team/referrals", "referral_create", "referrals.manage"),
    RouteSpec("GET", "/team/referrals/{code}.png", "referral_png", "referrals.manage"),
    RouteSpec("GET", "/team/referrals/{code}.svg", "referral_svg", "referrals.manage"),
    RouteSpec("GET", "/team/coaches", "coaches", "coaches.manage"),
    RouteSpec("POST", "/team/coaches/{coach}/invite", "coach_invite", "coaches.manage"),
    RouteSpec("POST", "/team/coaches/{coach}/deactivate", "coach_deactivate", "coaches.manage"),
    RouteSpec("POST", "/team/coaches/{coach}/reactivate", "coach_reactivate", "coaches.manage"),
    RouteSpec("POST", "/team/coaches/{coach}/absence", "coach_absence", "coaches.manage"),
    RouteSpec("GET", "/team/stats", "stats", "stats.read"),
    RouteSpec("GET", "/team/stats/{chart}.svg", "stats_chart", "stats.read"),
    RouteSpec("GET", "/team/export.csv", "export_csv", "stats.read"),
    RouteSpec("GET", "/team/audit", "audit", "audit.read"),
    RouteSpec("GET", "/team/admin", "admin", "accounts.manage"),
    RouteSpec("POST", "/team/admin/users/{user}/disable", "user_disable", "accounts.manage"),
)
