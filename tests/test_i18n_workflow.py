"""The translators' workflow (``make i18n``, :mod:`bot.catalogs`).

* The committed templates and catalogs are what ``make i18n`` writes (a round trip changes
  nothing), and every literal ``msg(...)`` id in the code is in a catalog.
* A new id in a Dutch catalog reaches that domain's template and every language of that domain
  only, empty, for the translators; a removed one leaves every language.
* Standard ``pybabel update`` of one domain from its template keeps the catalogs loadable: no id
  of another domain is merged in.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.catalogs import extract_msg_ids, run
from bot.i18n import Translator, load_language
from flows.text import msg

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"


def entries(path: Path, language: str | None = None) -> dict[str, str]:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {m.id: str(m.string or "") for m in catalog if m.id and isinstance(m.id, str)}


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return copy


def test_the_committed_catalogs_are_what_make_i18n_writes() -> None:
    out = io.StringIO()
    status = run(LOCALES, ROOT, check_only=True, out=out)
    assert status == 0, f"run `make i18n` and commit locales/:\n{out.getvalue()}"


def test_every_domain_has_a_template() -> None:
    domains = {p.stem for p in (LOCALES / "nl" / "LC_MESSAGES").glob("*.po")}
    assert domains == {p.stem for p in LOCALES.glob("*.pot")}
    for domain in domains:
        template = entries(LOCALES / f"{domain}.pot")
        assert set(template) == set(entries(LOCALES / "nl" / "LC_MESSAGES" / f"{domain}.po"))
        assert not any(template.values()), f"{domain}.pot holds translations"


def test_a_new_id_reaches_its_domain_in_every_language_and_nothing_else(locales: Path) -> None:
    source = locales / "nl" / "LC_MESSAGES" / "safety.po"
    source.write_text(
        source.read_text(encoding="utf-8") + '\nmsgid "safety.probe"\nmsgstr "Een proef."\n',
        encoding="utf-8",
    )
    assert run(locales, ROOT, out=io.StringIO()) == 0
    assert "safety.probe" in entries(locales / "safety.pot")
    for language in ("en", "fr", "ar", "tr", "uk"):
        assert (
            entries(locales / language / "LC_MESSAGES" / "safety.po", language)["safety.probe"]
            == ""
        )
        assert "safety.probe" not in entries(locales / language / "LC_MESSAGES" / "opstap.po")
        load_language(locales, language)  # one domain per id, still
    # Translated, it renders; a second run changes nothing.
    english = locales / "en" / "LC_MESSAGES" / "safety.po"
    english.write_text(
        english.read_text(encoding="utf-8").replace(
            'msgid "safety.probe"\nmsgstr ""', 'msgid "safety.probe"\nmsgstr "A probe."'
        ),
        encoding="utf-8",
    )
    assert run(locales, ROOT, check_only=True, out=io.StringIO()) == 0
    assert Translator.from_dir(locales).render(msg("safety.probe"), "en") == "A probe."


def test_a_removed_id_leaves_every_language(locales: Path) -> None:
    source = locales / "nl" / "LC_MESSAGES" / "opstap.po"
    before = source.read_text(encoding="utf-8")
    source.write_text(before + '\nmsgid "opstap.probe"\nmsgstr "Een proef."\n', encoding="utf-8")
    assert run(locales, ROOT, out=io.StringIO()) == 0
    assert "opstap.probe" in entries(locales / "ar" / "LC_MESSAGES" / "opstap.po", "ar")
    source.write_text(before, encoding="utf-8")
    assert run(locales, ROOT, out=io.StringIO()) == 0
    for language in ("en", "ar"):
        assert "opstap.probe" not in entries(locales / language / "LC_MESSAGES" / "opstap.po")
    assert "opstap.probe" not in entries(locales / "opstap.pot")
    assert run(locales, ROOT, check_only=True, out=io.StringIO()) == 0


def test_an_id_in_the_code_but_in_no_catalog_is_reported(tmp_path: Path, locales: Path) -> None:
    root = tmp_path / "project"
    (root / "flows").mkdir(parents=True)
    shutil.copy2(ROOT / "babel.cfg", root / "babel.cfg")
    (root / "flows" / "probe.py").write_text(
        'from flows.text import msg\nX = msg("intake.welcome.bot" if 1 else "probe.missing")\n',
        encoding="utf-8",
    )
    out = io.StringIO()
    assert run(locales, root, out=out) == 1
    assert "probe.missing (flows/probe.py)" in out.getvalue()
    assert "intake.welcome.bot" not in out.getvalue()


def test_the_extractor_reads_both_arms_of_a_conditional() -> None:
    code = b'a = msg("x.on" if on else "x.off", n=1)\nb = self.msg("y.id")\nc = other("z.id")\n'
    found = [m for _, _, m, _ in extract_msg_ids(io.BytesIO(code), {"msg": None}, (), {})]
    assert sorted(found) == ["x.off", "x.on", "y.id"]


def test_pybabel_update_of_one_domain_keeps_the_catalogs_loadable(locales: Path) -> None:
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    for domain in ("opstap", "safety"):
        subprocess.run(
            [
                *pybabel,
                "update",
                "--no-fuzzy-matching",
                "-D",
                domain,
                "-i",
                str(locales / f"{domain}.pot"),
                "-d",
                str(locales),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    for language in ("en", "ar", "uk"):
        catalog = load_language(locales, language)  # raises on an id in two domains
        assert catalog.entries["engine.unknown_command"]
        opstap = entries(locales / language / "LC_MESSAGES" / "opstap.po", language)
        assert set(opstap) == set(entries(locales / "opstap.pot"))
    # And make i18n brings the files back to their canonical form.
    assert run(locales, ROOT, out=io.StringIO()) == 0
    assert run(locales, ROOT, check_only=True, out=io.StringIO()) == 0


def test_a_new_language_gets_every_domain_to_translate(locales: Path) -> None:
    shutil.rmtree(locales / "uk")
    assert run(locales, ROOT, out=io.StringIO()) == 0  # uk is in flows/languages.py
    for domain in ("opstap", "safety", "privacy"):
        catalog = entries(locales / "uk" / "LC_MESSAGES" / f"{domain}.po", "uk")
        assert set(catalog) == set(entries(locales / f"{domain}.pot"))
        assert not any(catalog.values())
    text = (locales / "uk" / "LC_MESSAGES" / "opstap.po").read_text(encoding="utf-8")
    assert '"Language: uk\\n"' in text and "Plural-Forms: nplurals=3" in text
    assert run(locales, ROOT, check_only=True, out=io.StringIO()) == 0
