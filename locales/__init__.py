"""The gettext catalogs (``<lang>/LC_MESSAGES/<domain>.po``) as package data.

A package only so the catalogs ship inside the wheel and are found with
:mod:`importlib.resources` wherever Opstap is installed; there is no code here.
"""
