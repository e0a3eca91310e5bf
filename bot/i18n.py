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
them and a changed setting changes every text that mentions it. A missing entry falls
back to Dutch and then to the id itself, so a gap shows up as an odd word, never a crash (the
catalog test keeps gaps from landing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from babel.messages.pofile import read_po

from bot.settings import Settings
from flows.effects import Part
from flows.languages import RTL_LANGUAGES, SOURCE_LANGUAGE
from flows.text import Msg, Param, Verbatim

# Re-exported: the translator speaks of these; the list itself lives in flows/languages.py.
__all__ = ["RTL_LANGUAGES", "SOURCE_LANGUAGE", "Catalog", "Translator", "setting_values"]

DOMAIN = "opstap"
# Installed packages live on the file system (wheels are unpacked), so the folder is a Path.
DEFAULT_LOCALES_DIR = Path(str(files("locales")))


def setting_values(settings: Settings) -> dict[str, str]:
    """The placeholders every text may use, from the settings."""
    return {
        "retention_days": str(settings.retention_abandoned_days),
        "retention_months": str(settings.retention_closed_months),
    }


@dataclass(frozen=True)
class Catalog:
    language: str
    entries: Mapping[str, str]
    fuzzy: frozenset[str]


def load_catalog(path: Path, language: str) -> Catalog:
    with path.open("rb") as handle:
        po = read_po(handle, locale=language, domain=DOMAIN)
    entries: dict[str, str] = {}
    fuzzy: set[str] = set()
    for message in po:
        if not message.id or not isinstance(message.id, str):
            continue
        text = message.string if isinstance(message.string, str) else ""
        entries[message.id] = text
        if message.fuzzy:
            fuzzy.add(message.id)
    return Catalog(language, entries, frozenset(fuzzy))


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
    for path in catalog_files(locales_dir, language):
        part = load_catalog(path, language)
        twice = set(part.entries) & set(entries)
        if twice:
            raise ValueError(f"{path}: message ids also in another domain: {sorted(twice)}")
        entries.update(part.entries)
        fuzzy.update(part.fuzzy)
    return Catalog(language, entries, frozenset(fuzzy))


def available_languages(locales_dir: Path) -> tuple[str, ...]:
    found = sorted(
        p.name for p in locales_dir.iterdir() if p.is_dir() and catalog_files(locales_dir, p.name)
    )
    # Dutch first: it is the source language and the fallback.
    return tuple(sorted(found, key=lambda code: (code != SOURCE_LANGUAGE, code)))


class Translator:
    """Renders :class:`Msg` values; one instance serves every person."""

    def __init__(self, catalogs: Mapping[str, Catalog], settings: Settings | None = None) -> None:
        self._catalogs = dict(catalogs)
        self._setting_values = setting_values(settings or Settings())

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

    def lookup(self, message_id: str, language: str) -> str:
        for lang in (language, SOURCE_LANGUAGE):
            catalog = self._catalogs.get(lang)
            if catalog is not None:
                text = catalog.entries.get(message_id)
                if text:
                    return text
        return message_id

    def render(self, part: Part | Param, language: str) -> str:
        if isinstance(part, Verbatim):
            return part.text
        if isinstance(part, Msg):
            template = self.lookup(part.id, language)
            values = dict(self._setting_values)
            values.update((name, self.render(value, language)) for name, value in part.params)
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
