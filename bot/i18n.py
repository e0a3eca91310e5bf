"""Rendering message ids in the person's language.

The catalogs are gettext ``.po`` files in ``locales/<lang>/LC_MESSAGES/`` whose msgid is the
message id (``intake.age.ask``) and whose msgstr is the text with ``{name}`` placeholders. Each
feature keeps its own domain file (``opstap.po`` for the engine and intake, ``safety.po``,
``routing.po``, ``privacy.po``, ``appointments.po``); a language's catalog is their union and a
message id may live in one domain only.
They ship inside the package (``locales`` is a package whose ``.po`` files are package data,
found with :mod:`importlib.resources`), so a built wheel finds them as an editable install does.
They are read with babel at start-up; there is no compile step to forget.
A text that depends on a setting names it as a placeholder (``{retention_days}``); the
translator fills those from the settings (:func:`setting_values`), so no flow or handler passes
them and a changed setting changes every text that mentions it.
A count with a unit is a plural entry (``msgid_plural``, one form per ``Plural-Forms`` case of
the language): a :class:`Msg` with an int ``count`` parameter gets the form for that number
(``msg("count.days", count=21)``: "21 dagen", "21 день"). A missing entry falls
back to Dutch and then to the id itself, so a gap shows up as an odd word, never a crash (the
catalog test keeps gaps from landing).
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

from babel.messages.pofile import read_po

from bot.settings import Settings
from flows.effects import Part
from flows.languages import RTL_LANGUAGES, SOURCE_LANGUAGE
from flows.text import Msg, Param, Verbatim, msg

# Re-exported: the translator speaks of these; the list itself lives in flows/languages.py.
__all__ = ["RTL_LANGUAGES", "SOURCE_LANGUAGE", "Catalog", "Translator", "setting_values"]

DOMAIN = "opstap"
# Installed packages live on the file system (wheels are unpacked), so the folder is a Path.
DEFAULT_LOCALES_DIR = Path(str(files("locales")))


def setting_values(settings: Settings) -> dict[str, Msg]:
    """The placeholders every text may use, from the settings: a count with its unit, in the
    right plural form of each language (``30 dagen``, ``1 dag``, ``21 день``)."""
    return {
        "retention_days": msg("count.days", count=settings.retention_abandoned_days),
        "retention_months": msg("count.months", count=settings.retention_closed_months),
    }


@cache
def _plural_rule(expression: str) -> Callable[[int], int]:
    return gettext.c2py(expression)


@dataclass(frozen=True)
class Catalog:
    language: str
    entries: Mapping[str, str]
    fuzzy: frozenset[str]
    # Ids with plural forms (``msgid_plural``): every form, in the order of the catalog's
    # ``Plural-Forms`` rule; ``entries`` holds the first, so checks that read it see every id.
    plurals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    plural_rule: str = "(n != 1)"

    def plural(self, message_id: str, count: int) -> str | None:
        forms = self.plurals.get(message_id)
        if not forms:
            return None
        index = _plural_rule(self.plural_rule)(count)
        return forms[index] if index < len(forms) and forms[index] else None


def load_catalog(path: Path, language: str) -> Catalog:
    with path.open("rb") as handle:
        po = read_po(handle, locale=language, domain=DOMAIN)
    entries: dict[str, str] = {}
    fuzzy: set[str] = set()
    plurals: dict[str, tuple[str, ...]] = {}
    for message in po:
        if not message.id:
            continue
        if isinstance(message.id, str):
            key = message.id
            entries[key] = message.string if isinstance(message.string, str) else ""
        else:
            key = str(message.id[0])
            forms = tuple(str(form or "") for form in (message.string or ()))
            plurals[key] = forms
            entries[key] = forms[0] if forms else ""
        if message.fuzzy:
            fuzzy.add(key)
    return Catalog(language, entries, frozenset(fuzzy), plurals, po.plural_expr)


def catalog_path(locales_dir: Path, language: str, domain: str = DOMAIN) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{domain}.po"


def catalog_files(locales_dir: Path, language: str) -> list[Path]:
    """Every domain file of one language, ``opstap.po`` first."""
    folder = locales_dir / language / "LC_MESSAGES"
    return sorted(folder.glob("*.po"), key=lambda p: (p.stem != DOMAIN, p.stem))


def load_language(locales_dir: Path, language: str) -> Catalog:
    """The union of a language's domain files; a message id in two domains is an error."""
    entries: dict[str, str] = {}
    fuzzy: set[str] = set()
    plurals: dict[str, tuple[str, ...]] = {}
    rule = Catalog(language, {}, frozenset()).plural_rule
    for path in catalog_files(locales_dir, language):
        part = load_catalog(path, language)
        twice = set(part.entries) & set(entries)
        if twice:
            raise ValueError(f"{path}: message ids also in another domain: {sorted(twice)}")
        entries.update(part.entries)
        fuzzy.update(part.fuzzy)
        plurals.update(part.plurals)
        if path.stem == DOMAIN:
            rule = part.plural_rule
    return Catalog(language, entries, frozenset(fuzzy), plurals, rule)


def available_languages(locales_dir: Path) -> tuple[str, ...]:
    found = sorted(
        p.name for p in locales_dir.iterdir() if p.is_dir() and catalog_files(locales_dir, p.name)
    )
    # Dutch first: it is the source language and the fallback.
    return tuple(sorted(found, key=lambda code: (code != SOURCE_LANGUAGE, code)))


class Translator:
    """Renders :class:`Msg` values; one instance serves every person."""

    def __init__(
        self,
        catalogs: Mapping[str, Catalog],
        settings: Settings | None = None,
        *,
        variant: str | None = None,
    ) -> None:
        self._catalogs = dict(catalogs)
        self._settings = settings
        self._setting_values = setting_values(settings or Settings())
        self._setting_texts: dict[str, dict[str, str]] = {}
        self._variant = variant

    def variant(self, channel: str) -> Translator:
        """The same catalogs where ``<channel>.<id>``, when a catalog has it, replaces ``<id>``:
        a channel's own wording (the web chat does not say that Telegram carries messages)."""
        return Translator(self._catalogs, self._settings, variant=channel)

    @classmethod
    def from_dir(
        cls, locales_dir: Path = DEFAULT_LOCALES_DIR, settings: Settings | None = None
    ) -> Translator:
        return cls(
            {lang: load_language(locales_dir, lang) for lang in available_languages(locales_dir)},
            settings,
        )

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._catalogs)

    def lookup(self, message_id: str, language: str, count: int | None = None) -> str:
        """The text of ``message_id``; with a ``count``, the plural form of the language."""
        candidates = (
            (message_id,)
            if self._variant is None
            else (f"{self._variant}.{message_id}", message_id)
        )
        for lang in (language, SOURCE_LANGUAGE):
            catalog = self._catalogs.get(lang)
            if catalog is not None:
                for candidate in candidates:
                    text = catalog.plural(candidate, count) if count is not None else None
                    text = text or catalog.entries.get(candidate)
                    if text:
                        return text
        return message_id

    def _settings_in(self, language: str) -> dict[str, str]:
        found = self._setting_texts.get(language)
        if found is None:
            found = {
                name: self._render(value, language, {})
                for name, value in self._setting_values.items()
            }
            self._setting_texts[language] = found
        return found

    def render(self, part: Part | Param, language: str) -> str:
        return self._render(part, language, None)

    def _render(self, part: Part | Param, language: str, settings: dict[str, str] | None) -> str:
        if isinstance(part, Verbatim):
            return part.text
        if isinstance(part, Msg):
            count = part.param("count")
            template = self.lookup(part.id, language, count if isinstance(count, int) else None)
            values = dict(self._settings_in(language) if settings is None else settings)
            values.update(
                (name, self._render(value, language, settings)) for name, value in part.params
            )
            try:
                return template.format(**values)
            except (KeyError, IndexError, ValueError):
                # A catalog with a broken placeholder must not take the conversation down.
                return template
        return str(part)

    def render_parts(self, parts: tuple[Part, ...], language: str) -> str:
        return "\n\n".join(self.render(p, language) for p in parts if p is not None)

    @staticmethod
    def is_rtl(language: str) -> bool:
        return language in RTL_LANGUAGES
