"""The six ``web.po`` catalogs: the page's labels and the web's own wording.

* every label the page shows (``bot/web/app.py`` ``LABELS``) and the name of the transcript's
  personal-data part exist in all six languages; nothing in ``web.po`` is unused;
* ``web.<id>`` replaces ``<id>`` on the web with the same placeholders;
* on the web, no text a young person can get mentions Telegram, in any language.
"""

from __future__ import annotations

import pytest

from bot.i18n import Translator, load_language
from bot.web.app import LABELS
from storage.web_transcript import WebTranscriptPart
from tests.catalog_checks import (
    LANGUAGES,
    LOCALES,
    domain_catalog,
    header_problems,
    missing_in_some_language,
    placeholder_differences,
    placeholders,
    unused,
)

DOMAIN = "web"
# Texts only coaches and the Telegram menu show: not the web chat's young people.
NOT_FOR_WEB = ("coach.", "command.")


def overrides() -> set[str]:
    return {
        i for i in domain_catalog(DOMAIN, "nl") if i.startswith("web.") and i not in LABELS.values()
    }


def used_ids() -> set[str]:
    labels = {i for i in LABELS.values() if i in domain_catalog(DOMAIN, "nl")}
    return labels | overrides() | {f"privacy.part.{WebTranscriptPart.name}"}


def test_every_label_is_in_every_language() -> None:
    translator = Translator.from_dir()
    for language in LANGUAGES:
        for name, message_id in LABELS.items():
            text = translator.lookup(message_id, language)
            assert text != message_id, (language, name)
            if language != "nl":
                assert text != translator.lookup(message_id, "nl") or name == "input", (
                    language,
                    name,
                )
    assert missing_in_some_language(DOMAIN, used_ids()) == {}


def test_no_unused_entries_and_overrides_replace_real_texts() -> None:
    assert unused(DOMAIN, used_ids()) == []
    dutch = load_language(LOCALES, "nl").entries
    for override in overrides():
        original = override.removeprefix("web.")
        assert original in dutch, override
        assert placeholders(dutch[override]) == placeholders(dutch[original]), override


@pytest.mark.parametrize("language", LANGUAGES)
def test_ids_placeholders_and_headers_match(language: str) -> None:
    assert placeholder_differences(DOMAIN, language) == []
    assert header_problems(DOMAIN, language) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_web_never_says_telegram(language: str) -> None:
    web = Translator.from_dir().variant("web")
    ids = load_language(LOCALES, language).entries
    said = sorted(
        i
        for i in ids
        if not i.startswith(NOT_FOR_WEB) and "telegram" in web.lookup(i, language).lower()
    )
    assert said == []
    # ... while Telegram keeps its own wording.
    plain = Translator.from_dir()
    assert "Telegram" in plain.lookup("privacy.full", language)
