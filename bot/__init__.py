"""Opstap's composition root: settings, the service, channels, the coach side, the scheduler.

Rules: only :mod:`bot.settings` reads the environment; only :mod:`bot.telegram` imports
``telegram``; everything here talks to the database through the ports in :mod:`storage.ports`.
"""
