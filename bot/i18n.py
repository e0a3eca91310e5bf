"""Rendering message ids in the person's language.

The catalogs are gettext ``.po`` files in ``locales/<lang>/LC_MESSAGES/`` whose msgid is the
message id (``intake.age.ask``) and whose msgstr is the text with ``{name}`` placeholders. Each
feature keeps its own domain file (``opstap.po`` for the engine and intake, ``safety.po``,
``routing.po``, ``privacy.po``, ``appointments.po``); a language's catalog is their union and a
message id may live in one domain only.
They are read with babel at start-up; there is no compile step to forget. A missing entry falls
back to Dutch and then to the id itself, so a gap shows up as an odd word, never a crash (the
catalog test keeps gaps from landing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from flows.effects import Part
from flows.text import Msg, Param, Verbatim

DOMAIN = "opstap"
SOURCE_LANGUAGE = "nl"
RTL_LANGUAGES = frozenset({"ar"})
DEFAULT_LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


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

    def __init__(self, catalogs: Mapping[str, Catalog], *, variant: str | None = None) -> None:
        self._catalogs = dict(catalogs)
        self._variant = variant

    def variant(self, channel: str) -> Translator:
        """The same catalogs where ``<channel>.<id>``, when a catalog has it, replaces ``<id>``:
        a channel's own wording (the web chat does not say that Telegram carries messages)."""
        return Translator(self._catalogs, variant=channel)

    @classmethod
    def from_dir(cls, locales_dir: Path = DEFAULT_LOCALES_DIR) -> Translator:
        return cls(
            {lang: load_language(locales_dir, lang) for lang in available_languages(locales_dir)}
        )

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._catalogs)

    def lookup(self, message_id: str, language: str) -> str:
        candidates = (message_id,) if self._variant is None else (
            f"{self._variant}.{message_id}", message_id
        )
        for lang in (language, SOURCE_LANGUAGE):
            catalog = self._catalogs.get(lang)
            if catalog is not None:
                for candidate in candidates:
                    text = catalog.entries.get(candidate)
                    if text:
                        return text
        return message_id

    def render(self, part: Part | Param, language: str) -> str:
        if isinstance(part, Verbatim):
            return part.text
        if isinstance(part, Msg):
            template = self.lookup(part.id, language)
            values = {name: self.render(value, language) for name, value in part.params}
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
