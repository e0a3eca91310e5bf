"""Appointments, reminders and follow-ups: never lost, never doubled, never at night.

Rules of this package:

* The decisions are pure (:mod:`flows.appointments`, :mod:`flows.booking`,
  :mod:`flows.followups`); this package loads, decides, saves and then sends. A state change
  and the reminder rows it plans are written in one transaction; messages go out after the
  commit, so a crash never sends a message for a state that was not saved.
* Reminders are rows keyed by ids only (``appt:<id>:r<revision>:...``,
  ``followup.<case>....``); APScheduler only ticks. The tick (:mod:`bot.scheduler`) applies
  quiet hours and the safety net's hold; the handlers here check that a due row still applies
  (:func:`flows.appointments.reminder_is_current`), so a reminder of an appointment that moved
  or was cancelled is never sent, and one that fell due while the service was down is sent when
  it comes back, unless the appointment has started.
* Buttons: young people press ``appt=<id>:pick:<n>|other|come|cannot``, ``followup=<case>:...``
  and ``rerate=<id>:<domain>:<value>``; coaches press ``apb=...`` (a proposal being made, the
  whole draft in the button: :mod:`flows.booking`) and ``apc=<id>:...`` (attendance, cancel).
  All are service-level buttons (:attr:`bot.service.ConversationService.button_handlers`);
  state changes are compare-and-set, so two clicks never both win.
* Lock-screen wording: the first line of anything automatic names neither the service nor a
  problem ("Je hebt morgen om 14:00 een afspraak."). Young people read plain Dutch B1 or their
  own language (``appt.*`` in ``locales/*/LC_MESSAGES/appointments.po``); coaches read concise
  Dutch (``coach.appt.*``). Dates are babel dates in ``OPSTAP_TIMEZONE``.
* Logs hold appointment, case, coach and person ids, never text, names or places.
"""
