"""The six gettext catalogs (locales/<lang>/LC_MESSAGES/opstap.po and safety.po) against the code.

Fails when a message id used anywhere is missing, empty or fuzzy in any language, when a
message's placeholders differ between languages, when a catalog holds an entry nothing uses
(stale), when a translation is a copy of the Dutch text, or when a header is incomplete.

Used ids are collected in two ways, so neither a dead branch nor a computed id slips through:

* statically: every ``msg("...")`` call in ``flows/`` (string constants, also inside a
  conditional expression); an f-string id must be listed in :data:`F_STRING_IDS`;
* dynamically: every id shown while running the golden scenarios (buttons and nested
  parameters included).
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.commands import COMMANDS
from bot.i18n import Catalog, catalog_path, load_catalog, setting_values
from bot.safety.helplines import load_helplines
from bot.safety.responder import message_ids as safety_message_ids
from bot.settings import Settings
from flows.languages import CODES
from tests.flows import SCENARIOS, messages, run

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANGUAGES = CODES
# Domain files checked here: the engine and intake, and the safety net (its ids come from
# bot.safety.responder.message_ids, which also covers the ids its YAML data names).
DOMAINS = ("opstap", "safety")

# Ids built with an f-string in flows/, and every value they can take.
F_STRING_IDS: dict[str, tuple[str, ...]] = {
    "language.{code}": tuple(f"language.{code}" for code in LANGUAGES),
    # The languages a help line speaks (flows/safety/response.py: speaks()).
    "safety.speaks.{count}": tuple(f"safety.speaks.{n}" for n in range(1, 5)),
    "safety.lang.{code}": ("safety.lang.nl", "safety.lang.fr", "safety.lang.en", "safety.lang.de"),
}

# Ids the service and channels in bot/ use (not in flows/).
SERVICE_IDS = frozenset(
    {
        "safety.button",
        "channel.unsupported",
        "channel.error",
        "channel.rate_limited",
        # Flood control per person (bot/flood.py).
        "channel.flood",
        "privacy.short",
        "privacy.full",
        "privacy.more_button",
        # Counts with their unit, in each language's plural forms (bot/i18n.py).
        "count.days",
        "count.months",
        # The outbox's part in /mijngegevens (storage/inbox.py, named by bot/privacy.py).
        "privacy.part.delivery",
        # Telegram's help button in /mijngegevens (storage/help_keyboard.py).
        "privacy.part.help_keyboard",
        # The web chat page (bot/web/app.py).
        "web.placeholder",
        "web.send",
        # The Telegram commands menu (bot/telegram/app.py), one description per command.
        *(f"command.{name}" for name in COMMANDS),
    }
)

# Entries kept although nothing uses them yet (say why next to each).
STALE_ALLOWED: frozenset[str] = frozenset()

# Entries that are rightly the same in every language: names of languages in their own
# language, multilingual pickers, templates that are only placeholders and symbols, and the
# "Start" button (the welcome text refers to it by that name in every language).
SAME_AS_DUTCH = frozenset(
    {
        *F_STRING_IDS["language.{code}"],
        "engine.language.ask",
        "engine.language.button",
        "intake.lines",
        "intake.confirm.item",
        "intake.pick.on",
        "intake.pick.off",
        "intake.place.candidate",
        "intake.place.service",
        "intake.summary.edit",
        "intake.summary.line",
        "intake.welcome.start",
        "intake.contact.label",
        "safety.phone",
        # Only placeholders and commas: "{l1}, {l2}".
        *(f"safety.speaks.{n}" for n in range(1, 5)),
    }
)


def _constants(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)


def _f_string_pattern(node: ast.JoinedStr) -> str:
    out = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            out.append(str(value.value))
        elif isinstance(value, ast.FormattedValue):
            out.append("{" + ast.unparse(value.value) + "}")
    return "".join(out)


def static_ids() -> tuple[set[str], set[str]]:
    """(ids, f-string patterns) of every ``msg(...)`` call under flows/."""
    found: set[str] = set()
    patterns: set[str] = set()
    for path in sorted((ROOT / "flows").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name != "msg":
                continue
            first = node.args[0]
            if isinstance(first, ast.JoinedStr):
                patterns.add(_f_string_pattern(first))
            else:
                found.update(_constants(first))
    return found, patterns


def dynamic_ids() -> set[str]:
    found: set[str] = set()
    for actions in SCENARIOS.values():
        found.update(m.id for m in messages(run(actions).effects))
    return found


def used_ids() -> set[str]:
    found, patterns = static_ids()
    for pattern in patterns:
        found.update(F_STRING_IDS.get(pattern, ()))
    return found | dynamic_ids() | SERVICE_IDS | safety_message_ids(load_helplines())


def _merged(language: str) -> Catalog:
    parts = [load_catalog(catalog_path(LOCALES, language, domain), language) for domain in DOMAINS]
    return Catalog(
        language,
        {k: v for part in parts for k, v in part.entries.items()},
        frozenset().union(*(part.fuzzy for part in parts)),
    )


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return {lang: _merged(lang) for lang in LANGUAGES}


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_every_f_string_id_is_enumerated() -> None:
    _, patterns = static_ids()
    assert patterns <= set(F_STRING_IDS), f"list the values of {patterns - set(F_STRING_IDS)}"


def test_running_the_scenarios_finds_no_id_the_static_walk_missed() -> None:
    found, patterns = static_ids()
    for pattern in patterns:
        found.update(F_STRING_IDS.get(pattern, ()))
    assert dynamic_ids() - found == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_used_id_is_translated(language: str, catalogs: dict[str, Catalog]) -> None:
    catalog = catalogs[language]
    missing = sorted(i for i in used_ids() if i not in catalog.entries)
    empty = sorted(i for i in used_ids() if i in catalog.entries and not catalog.entries[i].strip())
    fuzzy = sorted(i for i in used_ids() if i in catalog.fuzzy)
    assert (missing, empty, fuzzy) == ([], [], []), language


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_stale_entries(language: str, catalogs: dict[str, Catalog]) -> None:
    stale = set(catalogs[language].entries) - used_ids() - STALE_ALLOWED
    assert sorted(stale) == []


def test_placeholders_are_the_same_in_every_language(catalogs: dict[str, Catalog]) -> None:
    source = catalogs["nl"].entries
    differ = [
        (lang, message_id)
        for lang in LANGUAGES
        for message_id, text in catalogs[lang].entries.items()
        if message_id in source and placeholders(text) != placeholders(source[message_id])
    ]
    assert differ == []


def test_placeholders_match_the_params_the_code_passes(catalogs: dict[str, Catalog]) -> None:
    # Every rendered message in the scenarios must find each of its placeholders in its params
    # or among the values the translator takes from the settings.
    source = catalogs["nl"].entries
    from_settings = set(setting_values(Settings()))
    wrong = set()
    for actions in SCENARIOS.values():
        for message in messages(run(actions).effects):
            given = {name for name, _ in message.params} | from_settings
            if not placeholders(source.get(message.id, "")) <= given:
                wrong.add(message.id)
    assert sorted(wrong) == []


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "nl"])
def test_translations_are_not_copies_of_dutch(language: str, catalogs: dict[str, Catalog]) -> None:
    source = catalogs["nl"].entries
    copies = sorted(
        message_id
        for message_id, text in catalogs[language].entries.items()
        if text == source.get(message_id) and message_id not in SAME_AS_DUTCH
    )
    assert copies == []


def test_arabic_and_ukrainian_are_written_in_their_scripts(catalogs: dict[str, Catalog]) -> None:
    arabic = re.compile(r"[\u0600-\u06FF]")
    cyrillic = re.compile(r"[\u0400-\u04FF]")
    for message_id in ("intake.words.ask", "intake.consent.ask", "privacy.full"):
        assert arabic.search(catalogs["ar"].entries[message_id])
        assert cyrillic.search(catalogs["uk"].entries[message_id])


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_headers_declare_language_plurals_and_utf8(language: str, domain: str) -> None:
    text = catalog_path(LOCALES, language, domain).read_text(encoding="utf-8")
    header = text.split("\n\n", 1)[0]
    assert f'"Language: {language}\\n"' in header
    assert '"Plural-Forms: nplurals=' in header
    assert '"Content-Type: text/plain; charset=utf-8\\n"' in header
