"""Opstap's pure conversation core.

Rules of this package (checked by ``tests/test_architecture.py``):

* No I/O. Nothing here opens files or sockets, reads the clock or the environment, or logs.
  Time arrives as an argument (``Input.at``); data files are opened by ``bot/`` and handed in
  already parsed.
* No imports of ``telegram``, ``aiohttp``, ``sqlalchemy``/``sqlmodel``, ``apscheduler``,
  ``babel``, ``bot`` or ``storage``.
* Inputs are facts (:mod:`flows.inputs`), outputs are effects (:mod:`flows.effects`). Text is
  referred to by message id (:class:`flows.text.Msg`); translation happens in ``bot/``.
* Everything crossing the boundary is a frozen dataclass. An illegal transition raises
  :class:`flows.engine.IllegalTransition` and changes nothing.
"""
