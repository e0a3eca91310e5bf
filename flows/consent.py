"""Consent categories: what depends on each consent, so that withdrawing it stops at once.

Rules of this module:

* Pure, like all of :mod:`flows`. :data:`CATEGORIES` is the one place that says, per category,
  which answers, steps and reminders exist only because the person said yes. ``bot/privacy.py``
  uses it to withdraw a consent from ``/privacy``; the flow that asks for the consent
  (:mod:`flows.intake`) does the same on a "no" with the same keys.
* A category is a :class:`flows.inputs.ConsentScope`: the session changes through the engine
  (:class:`flows.inputs.ConsentChanged`), which drops the dependent answers and sets the flow's
  own consent answer to ``"no"``, so the flow goes on as after a "no" (it skips the category's
  questions); giving sets ``"yes"``.
* Health, addiction and justice are asked, recorded and withdrawn separately. The one consent
  for all three that came before (``sensitive_domains``) stays known, so its records can still
  be shown and withdrawn.
* A reminder that exists only because of a consent has a key starting with one of the
  category's ``reminder_prefixes`` (by convention ``"<category>."``); withdrawing cancels it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flows.inputs import ConsentScope
from flows.intake.domains import (
    CONSENT_CATEGORIES,
    CONSENT_DOMAINS,
    LEGACY_CONSENT,
    consent_key,
)
from flows.intake.flow import consent_question, domain_step, help_key, help_step, rating_key
from flows.text import Msg, msg


@dataclass(frozen=True)
class ConsentCategory(ConsentScope):
    """A consent category: what it covers in the session (:class:`ConsentScope`: the answer,
    dependent answers, values and steps), plus what ``bot/privacy.py`` needs around it."""

    # Also names the texts on /privacy: ``privacy.category.<id>`` and ``....<id>.about``.
    id: str
    # The flow's own question for this consent: its rendered text is hashed into the record.
    asked_with: tuple[Msg, ...]
    reminder_prefixes: tuple[str, ...]
    # Shown on /privacy only to someone who has a record of it (the one consent for all
    # sensitive domains that came before one per category).
    legacy: bool = False


def _category(
    category: str, asked_with: tuple[Msg, ...], *, legacy: bool = False
) -> ConsentCategory:
    domains = CONSENT_DOMAINS[category]
    return ConsentCategory(
        id=category,
        asked_with=asked_with,
        answer=consent_key(category),
        dependent_answers=frozenset(k for d in domains for k in (rating_key(d), help_key(d))),
        dependent_values={"domains": frozenset(domains), "more_domains": frozenset(domains)},
        dependent_steps=frozenset(s for d in domains for s in (domain_step(d), help_step(d))),
        reminder_prefixes=(f"{category}.",),
        legacy=legacy,
    )


SENSITIVE_DOMAINS = _category(
    LEGACY_CONSENT, (msg("intake.consent.ask"), msg("intake.consent.why")), legacy=True
)

CATEGORIES: Mapping[str, ConsentCategory] = {
    **{c: _category(c, consent_question(c)) for c in CONSENT_CATEGORIES},
    SENSITIVE_DOMAINS.id: SENSITIVE_DOMAINS,
}
