"""The translators' workflow: ``make i18n`` (``python -m bot.catalogs``).

Rules of this module:

* Message ids are keys (``intake.age.ask``), not Dutch sentences, and many are chosen in code
  (``f"coach.outcome.{o}"``, ids in YAML data), so no extractor can find them all. The Dutch
  catalogs are the **registry of ids**: ``locales/nl/LC_MESSAGES/<domain>.po`` holds every id of
  a domain with its source text. A new text is added there first, in the feature's domain.
* ``make i18n`` then, per domain: (1) extracts the ``msg("...")`` ids from the code with babel
  (``babel.cfg``) and fails on one that no Dutch catalog holds; (2) writes the template
  ``locales/<domain>.pot`` from the registry (the Dutch text as a translator's note, the files
  that name the id literally); (3) updates every other language's ``<domain>.po`` from its own
  template only (new ids empty, removed ids dropped), so ``pybabel update`` never merges ids of
  one domain into another; (4) checks that every catalog compiles and that the union loads
  (an id in two domains is an error).
* Output is canonical (the Dutch catalog's order, no line numbers, unwrapped, the header kept
  as written), so running it twice changes nothing: ``make i18n && git diff --exit-code
  locales/`` is clean.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.util import TextWrapper

from bot.i18n import DEFAULT_LOCALES_DIR, SOURCE_LANGUAGE, load_language
from flows.languages import CODES

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = ("msg",)
SOURCE_NOTE = f"{SOURCE_LANGUAGE}:"
_NOTE_WRAP = TextWrapper(
    width=76,
    initial_indent=f"{SOURCE_NOTE} ",
    subsequent_indent=f"{SOURCE_NOTE} ",
    break_long_words=False,
)
# How `pybabel update` wraps the comments above a header; the same here, so both agree.
_HEADER_WRAP = TextWrapper(width=76, subsequent_indent="# ", break_long_words=False)
_HEADER_FIELDS = (
    "Project-Id-Version: opstap 0.1.0",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
)


# --- extraction: a babel extraction method (babel.cfg names it) ------------------------------


def extract_msg_ids(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, str, list[str]]]:
    """The literal first argument of every ``msg(...)`` call, both arms of ``a if c else b``.

    babel's own Python extractor glues the two strings of a conditional into one id; this one
    reads the syntax tree instead.
    """
    names = set(keywords) or set(KEYWORDS)
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name not in names:
            continue
        for literal in _literals(node.args[0]):
            yield node.lineno, name, literal, []


def _literals(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)


def extracted_ids(root: Path = ROOT) -> dict[str, set[str]]:
    """Every literal ``msg`` id in the code, with the files that name it (babel.cfg)."""
    with (root / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    found: dict[str, set[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        root, method_map, options_map, keywords={k: None for k in KEYWORDS}
    ):
        if isinstance(message, str) and message:
            found.setdefault(message, set()).add(filename)
    return found


# --- catalogs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoFile:
    """A catalog and the comment lines above its header."""

    catalog: Catalog
    comments: tuple[str, ...]


def read_file(path: Path, language: str | None) -> PoFile:
    comments: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith(("#,", "#:", "#.", "#|")):
            comments.append(line)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return PoFile(catalog, tuple(comments))


def header(domain: str, catalog: Catalog, comments: Sequence[str], *, template: bool) -> str:
    """The canonical header: the comments (wrapped as ``pybabel update`` wraps them) and a
    fixed set of fields, so neither babel's tools nor an editor leave extra fields behind."""
    if not comments:
        what = "template" if template else str(catalog.locale)
        comments = [f"# Opstap messages, domain {domain}: {what}."]
    lines: list[str] = []
    for comment in comments:
        lines += _HEADER_WRAP.wrap(comment)
    fields = [_HEADER_FIELDS[0]]
    if not template:
        fields.append(f"Language: {catalog.locale}")
    fields += _HEADER_FIELDS[1:]
    if not template:
        fields.append(f"Plural-Forms: {catalog.plural_forms}")
    lines += ['msgid ""', 'msgstr ""']
    lines += [f'"{field}\\n"' for field in fields]
    return "\n".join(lines)


def render(catalog: Catalog, top: str, *, template: bool = False) -> str:
    """The canonical text of a catalog: the header ``top``, then the entries in order."""
    body = io.BytesIO()
    clean = Catalog(locale=catalog.locale, domain=catalog.domain)
    # The file's own Plural-Forms, not babel's table (they differ for fr): same form count.
    clean.mime_headers = catalog.mime_headers
    for message in catalog:
        if not message.id:
            continue
        empty: str | tuple[str, ...] = (
            tuple("" for _ in message.string or ()) if isinstance(message.id, tuple) else ""
        )
        clean.add(
            message.id,
            empty if template else message.string,
            locations=sorted(message.locations) if template else (),
            flags=message.flags,
            # The Dutch source text is a note in the template only, not in every catalog.
            auto_comments=[
                c for c in message.auto_comments if template or not c.startswith(SOURCE_NOTE)
            ],
            user_comments=message.user_comments,
        )
    write_po(
        body,
        clean,
        width=0,
        omit_header=True,
        sort_output=False,
        ignore_obsolete=True,
        include_lineno=False,
        no_location=not template,
    )
    entries = body.getvalue().decode("utf-8").strip("\n")
    return f"{top}\n\n{entries}\n" if entries else f"{top}\n"


def message_key(message: Message) -> str | None:
    """The id of an entry; a plural entry's is its ``msgid`` (``msgid_plural`` repeats it)."""
    if not message.id:
        return None
    return message.id if isinstance(message.id, str) else str(message.id[0])


def template_for(domain: str, source: Catalog, code_ids: Mapping[str, set[str]]) -> Catalog:
    """The domain's ``.pot``: the registry's ids, the Dutch text as a note for translators."""
    pot = Catalog(domain=domain)
    for message in source:
        key = message_key(message)
        if key is None:
            continue
        # A plural entry shows its Dutch forms side by side: "{count} dag | {count} dagen".
        dutch = (
            message.string
            if isinstance(message.string, str)
            else " | ".join(str(form) for form in message.string or ())
        )
        notes = [c for c in message.auto_comments if not c.startswith(SOURCE_NOTE)]
        for line in dutch.splitlines() or [""]:
            # Wrapped here, every piece marked, so babel's own wrapping leaves them alone.
            notes += _NOTE_WRAP.wrap(line) or [SOURCE_NOTE]
        pot.add(
            message.id,
            ("", "") if isinstance(message.id, tuple) else "",
            locations=[(name, 0) for name in sorted(code_ids.get(key, ()))],
            auto_comments=notes,
        )
    return pot


def updated(current: Catalog, template: Catalog) -> Catalog:
    """``pybabel update`` of one domain: its template's ids only; no fuzzy guesses."""
    current.update(
        template, no_fuzzy_matching=True, update_header_comment=False, update_creation_date=False
    )
    for message in current:
        # A new plural entry comes with the template's two forms; give it the language's count.
        forms = message.string
        if isinstance(message.id, tuple) and isinstance(forms, tuple | list):
            missing = current.num_plurals - len(forms)
            if missing > 0:
                message.string = (*forms, *([""] * missing))
    return current


def compile_problems(catalog: Catalog, path: Path) -> list[str]:
    problems = [
        f"{path}: {message.id}: {error}" for message, errors in catalog.check() for error in errors
    ]
    try:
        write_mo(io.BytesIO(), catalog)
    except Exception as error:  # a catalog that cannot compile: report it, check the rest
        problems.append(f"{path}: does not compile: {error}")
    return problems


# --- the workflow -----------------------------------------------------------------------------


def domains(locales: Path) -> list[str]:
    return sorted(p.stem for p in (locales / SOURCE_LANGUAGE / "LC_MESSAGES").glob("*.po"))


def languages(locales: Path) -> list[str]:
    """The languages of flows/languages.py (a new one gets its catalogs) and any folder."""
    found = {p.name for p in locales.iterdir() if (p / "LC_MESSAGES").is_dir()}
    return sorted(found | set(CODES))


def run(
    locales: Path = DEFAULT_LOCALES_DIR,
    root: Path = ROOT,
    *,
    check_only: bool = False,
    out: IO[str] = sys.stdout,
) -> int:
    """Extract, write templates, update, check. Returns the exit status."""
    problems: list[str] = []
    changed: list[Path] = []

    def write(path: Path, text: str) -> None:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed.append(path)
            if not check_only:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")

    code_ids = extracted_ids(root)
    registry: dict[str, str] = {}
    for domain in domains(locales):
        source_path = locales / SOURCE_LANGUAGE / "LC_MESSAGES" / f"{domain}.po"
        source = read_file(source_path, SOURCE_LANGUAGE)
        for message in source.catalog:
            key = message_key(message)
            if key is not None:
                if key in registry:
                    problems.append(f"{key}: in the domains {registry[key]} and {domain}")
                registry[key] = domain
        write(
            source_path,
            render(source.catalog, header(domain, source.catalog, source.comments, template=False)),
        )
        pot = template_for(domain, source.catalog, code_ids)
        pot_path = locales / f"{domain}.pot"
        pot_comments = read_file(pot_path, None).comments if pot_path.exists() else ()
        write(
            pot_path, render(pot, header(domain, pot, pot_comments, template=True), template=True)
        )
        for language in languages(locales):
            if language == SOURCE_LANGUAGE:
                continue
            path = locales / language / "LC_MESSAGES" / f"{domain}.po"
            current = (
                read_file(path, language)
                if path.exists()
                else PoFile(Catalog(locale=language, domain=domain), ())
            )
            catalog = updated(current.catalog, pot)
            write(path, render(catalog, header(domain, catalog, current.comments, template=False)))
            problems += compile_problems(catalog, path)
            missing = sum(1 for m in catalog if m.id and not m.string)
            if missing:
                print(f"{path}: {missing} to translate", file=out)

    for message_id, files in sorted(code_ids.items()):
        if message_id not in registry:
            where = ", ".join(sorted(files))
            problems.append(
                f"{message_id} ({where}): in no catalog; add it with its Dutch text to"
                f" {locales / SOURCE_LANGUAGE / 'LC_MESSAGES'}/<domain>.po"
            )
    if not check_only:
        for language in languages(locales):
            try:
                load_language(locales, language)
            except ValueError as error:
                problems.append(str(error))

    for path in changed:
        print(f"{'out of date' if check_only else 'updated'}: {path}", file=out)
    for problem in problems:
        print(f"problem: {problem}", file=out)
    if problems or (check_only and changed):
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.catalogs", description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 when a template or catalog is out of date",
    )
    parser.add_argument("--locales", type=Path, default=DEFAULT_LOCALES_DIR)
    args = parser.parse_args(argv)
    return run(args.locales, check_only=args.check)


if __name__ == "__main__":
    raise SystemExit(main())
