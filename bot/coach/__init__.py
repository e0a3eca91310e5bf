"""The coach side: handing a submitted intake to a coach, the coach desk in Telegram, the relay.

Rules of this package:

* :mod:`bot.coach.handoff` runs after "Verstuur": the place, the case, the coach
  (:mod:`flows.routing.assign`), the card, the deadline reminder (ids only, key
  ``handoff.<case>.offer.<offer>``), and an honest "you hear from us by ..." for the young person.
  The reminder tick escalates: next coach, then the coordinator.
* :mod:`bot.coach.desk` answers coach chats (``tg:<chat id>`` bound by an invite deep link);
  the inbound pipeline lets it claim every input first (``Pipeline.routers``).
* :mod:`bot.coach.relay` carries messages between coach and young person, kept with the case
  and encrypted at rest. A young person never sees the coach's Telegram identity, only the first
  name the coach was invited with.
* Coaches get concise Dutch (``coach.*`` in ``locales/*/LC_MESSAGES/routing.po``); young people
  get plain Dutch B1 or their own language (``routing.*``).
* Every state change happens in one transaction; messages go out after the commit. Logs hold
  ids (case, offer, coach, person) and counts, never text or names.
"""
